/* SPDX-License-Identifier: Apache-2.0 */
/* op_check.c: one numeric check for every operation of the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "op_check.h"
#include "support.h"

const char *op_case_name(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                         family f, clnorm_context *ctx, char *buf, size_t size)
{
    char s[128];
    size_t used =
        (size_t)snprintf(buf, size, "%s %s", op->name, fmt_shape(shape, ndim, s, sizeof s));
    for (size_t i = 0; i < op->options_count && used < size; ++i)
        if (c->v[i] != op->options[i].dflt)
            used +=
                (size_t)snprintf(buf + used, size - used, " --%s=%g", op->options[i].name, c->v[i]);
    if (used < size)
        snprintf(buf + used, size - used, " %s fp64=%d", family_name(f),
                 ctx ? clnorm_context_uses_fp64(ctx) : -1);
    return buf;
}

/* op_check without cmocka's asserts (callable from any thread): a library
 * error or an allocation failure counts as one failure, with a message. */
size_t op_check_quiet(clnorm_context *ctx, const op_desc *op, const op_config *c,
                      const size_t *shape, size_t ndim, family f)
{
    op_case_data cd;
    char what[256];
    op_case_name(op, c, shape, ndim, f, ctx, what, sizeof what);
    if (op_case_data_make(op, c, shape, ndim, f, &cd) != 0) {
        op_case_data_free(&cd);
        print_error("%s: out of memory\n", what);
        return 1;
    }
    size_t count = cd.d.y_count, ns = cd.stat_count ? cd.stat_count : 1, bad = 0;
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    float *y = malloc(count * sizeof *y);
    double *sref[OP_MAX_STATS] = {NULL}, *stol[OP_MAX_STATS] = {NULL};
    float *sgot[OP_MAX_STATS] = {NULL};
    int ok = ref && tol && y;
    for (size_t i = 0; i < cd.nstats_out && ok; ++i) {
        ok = (sref[i] = malloc(ns * sizeof **sref)) && (stol[i] = malloc(ns * sizeof **stol)) &&
             (sgot[i] = malloc(ns * sizeof **sgot));
        if (ok)
            memset(sgot[i], 0xff, ns * sizeof **sgot); /* NaN poison */
    }
    cl_mem in = NULL, out = NULL, labels = NULL;
    void *layer = NULL;
    clnorm_status st = CLNORM_OUT_OF_MEMORY;
    if (ok) {
        op->reference(c, &cd.d, ref, sref);
        op->tolerance(c, &cd.d, ref, sref, tol, stol);
        in = buffer_from(ctx, cd.x, cd.d.count, 0);
        out = buffer_poisoned(ctx, count);
        labels = buffer_from_labels(ctx, cd.labels, shape[0]);
        op_call k = op_case_call(&cd, in, out, labels);
        cl_event done = NULL;
        st = op->create(ctx, c, shape, ndim, &layer);
        if (st == CLNORM_OK && cd.nstats_in)
            st = op->set_stats(c, layer, &k, (const float *const *)cd.stats_in);
        if (st == CLNORM_OK)
            st = op->run(c, layer, &k, &done);
        if (st == CLNORM_OK && (!done || clWaitForEvents(1, &done) != CL_SUCCESS))
            st = CLNORM_OPENCL_ERROR;
        if (done)
            clReleaseEvent(done);
        if (st == CLNORM_OK)
            buffer_read(ctx, out, 0, y, count);
        if (st == CLNORM_OK && cd.nstats_out)
            st = op->get_stats(c, layer, &k, sgot);
    }
    if (st != CLNORM_OK) {
        print_error("%s: %s: %s\n", what, clnorm_status_name(st), clnorm_errmsg(ctx));
        bad = 1;
    } else {
        bad = check_close(what, y, ref, tol, count);
        for (size_t i = 0; i < cd.nstats_out; ++i) {
            char sw[300];
            snprintf(sw, sizeof sw, "%s: %s", what, op->stats_out[i].name);
            bad += check_close(sw, sgot[i], sref[i], stol[i], cd.stat_count);
        }
    }
    if (layer)
        op->destroy(layer);
    buffer_release(in), buffer_release(out), buffer_release(labels);
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        free(sref[i]), free(stol[i]), free(sgot[i]);
    free(ref), free(tol), free(y);
    op_case_data_free(&cd);
    return bad;
}

void op_run_release(clnorm_context *ctx, const op_desc *op, void *layer, cl_event ev)
{
    if (ev)
        clWaitForEvents(1, &ev), clReleaseEvent(ev);
    if (layer)
        op->destroy(layer);
    finish(ctx);
}

size_t op_check(clnorm_context *ctx, const op_desc *op, const op_config *c, const size_t *shape,
                size_t ndim, family f)
{
    return op_check_quiet(ctx, op, c, shape, ndim, f);
}
