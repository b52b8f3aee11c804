/* SPDX-License-Identifier: Apache-2.0 */
/* case_run.c: one case of an operation of the table on a context (bench, demo). */
#include "case_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int case_run_open(clnorm_context *ctx, const op_desc *op, const op_case *c, family f, case_run *r)
{
    memset(r, 0, sizeof *r);
    r->op = op;
    r->c = c;
    if (op_case_data_make(op, &c->config, c->shape, c->ndim, f, &r->cd) != 0)
        return cli_error(EXIT_DEVICE, "out of memory for a %s case", op->name);
    int code;
    if ((code = cli_upload(ctx, "the case's input", r->cd.x, r->cd.d.count, &r->in)) != 0 ||
        (code = cli_upload(ctx, "the case's output", NULL, r->cd.d.y_count, &r->out)) != 0)
        return code;
    if (r->cd.labels &&
        (code = cli_upload(ctx, "the case's labels", r->cd.labels, c->shape[0], &r->labels)) != 0)
        return code;
    r->k = op_case_call(&r->cd, r->in, r->out, r->labels);
    clnorm_status st = op->create(ctx, &c->config, c->shape, c->ndim, &r->layer);
    if (st == CLNORM_OK && r->cd.nstats_in)
        st = op->set_stats(&c->config, r->layer, &r->k, (const float *const *)r->cd.stats_in);
    return st == CLNORM_OK ? 0 : cli_library_error(ctx, st, op->name);
}

clnorm_status case_run_once(clnorm_context *ctx, case_run *r)
{
    clnorm_status st = r->op->run(&r->c->config, r->layer, &r->k, NULL);
    if (st == CLNORM_OK && clFinish(clnorm_context_queue(ctx)) != CL_SUCCESS)
        st = CLNORM_OPENCL_ERROR;
    return st;
}

double case_event_ms(cl_event start, cl_event end)
{
    cl_ulong t0 = 0, t1 = 0;
    cl_int err =
        start ? clGetEventProfilingInfo(start, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL)
              : clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    return err == CL_SUCCESS && t1 >= t0 ? (double)(t1 - t0) * 1e-6 : -1.0;
}

clnorm_status case_run_timed(clnorm_context *ctx, case_run *r, double *device_ms)
{
    cl_event before = NULL, done = NULL;
    *device_ms = -1.0;
    clnorm_status st =
        clEnqueueMarkerWithWaitList(clnorm_context_queue(ctx), 0, NULL, &before) == CL_SUCCESS
            ? CLNORM_OK
            : CLNORM_OPENCL_ERROR;
    if (st == CLNORM_OK)
        st = r->op->run(&r->c->config, r->layer, &r->k, &done);
    if (st == CLNORM_OK && clFinish(clnorm_context_queue(ctx)) != CL_SUCCESS)
        st = CLNORM_OPENCL_ERROR;
    if (st == CLNORM_OK)
        *device_ms = case_event_ms(before, done);
    if (before)
        clReleaseEvent(before);
    if (done)
        clReleaseEvent(done);
    return st;
}

int case_run_check(clnorm_context *ctx, case_run *r, double *max_rel_err, double *tol_ratio,
                   size_t *bad)
{
    size_t n = r->cd.d.y_count, ns = r->cd.stat_count;
    float *y = malloc(n * sizeof *y);
    double *ref = malloc(n * sizeof *ref), *tol = malloc(n * sizeof *tol);
    double *sref[OP_MAX_STATS] = {NULL}, *stol[OP_MAX_STATS] = {NULL};
    int code = 0, ok = y && ref && tol;
    for (size_t i = 0; i < r->cd.nstats_out && ok; ++i)
        ok = (sref[i] = malloc((ns ? ns : 1) * 8)) && (stol[i] = malloc((ns ? ns : 1) * 8));
    if (!ok)
        code = cli_error(EXIT_DEVICE, "out of memory");
    if (!code)
        code = cli_download(ctx, r->out, y, n);
    if (!code) {
        r->op->reference(&r->c->config, &r->cd.d, ref, sref);
        r->op->tolerance(&r->c->config, &r->cd.d, ref, sref, tol, stol);
        double scale = 0.0, err = 0.0, worst = 0.0;
        *bad = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!isfinite(ref[i])) { /* NaN or inf: the same, exactly */
                *bad += !(isnan(ref[i]) ? isnan(y[i]) : (double)y[i] == ref[i]);
                continue;
            }
            double e = fabs((double)y[i] - ref[i]);
            scale = fmax(scale, fabs(ref[i]));
            err = fmax(err, e);
            *bad += !(e <= tol[i]);
            if (tol[i] > 0)
                worst = fmax(worst, e / tol[i]);
            else if (e > 0)
                worst = INFINITY;
        }
        *max_rel_err = scale > 0 ? err / scale : err;
        *tol_ratio = worst;
    }
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        free(sref[i]), free(stol[i]);
    free(y), free(ref), free(tol);
    return code;
}

void case_run_close(case_run *r)
{
    if (r->layer)
        r->op->destroy(r->layer);
    cli_release_buffer(r->in);
    cli_release_buffer(r->out);
    cli_release_buffer(r->labels);
    op_case_data_free(&r->cd);
    memset(r, 0, sizeof *r);
}
