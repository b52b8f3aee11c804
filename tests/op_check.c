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

#include "op_check.h"
#include "support.h"

static float *draw(size_t count, double (*value)(void))
{
    float *p = malloc((count ? count : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < count; ++i)
        p[i] = (float)value();
    return p;
}

static double scale_value(void) { return 1.0 + 0.2 * rng_normal(); }
static double shift_value(void) { return 0.5 * rng_normal(); }
static double positive_value(void) { return 0.5 + 1.5 * rng_uniform(); }
static double any_value(void) { return rng_normal(); }

void op_case_data_make(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                       family f, op_case_data *cd)
{
    memset(cd, 0, sizeof *cd);
    cd->d.ndim = ndim;
    memcpy(cd->d.shape, shape, ndim * sizeof *shape);
    cd->d.count = op_shape_count(shape, ndim);
    size_t outer, n, inner;
    op->view(c, shape, ndim, &outer, &n, &inner);
    cd->x = malloc((cd->d.count ? cd->d.count : 1) * sizeof *cd->x);
    assert_non_null(cd->x);
    fill_family(cd->x, outer, n, inner, f);
    cd->d.x = cd->x;
    cd->nparams = op->params(c, shape, ndim, cd->param);
    for (size_t i = 0; i < cd->nparams; ++i) {
        const op_param *p = &cd->param[i];
        size_t count = op_shape_count(p->shape, p->ndim);
        cd->params[i] = draw(count, p->kind == PARAM_SCALE      ? scale_value
                                    : p->kind == PARAM_VARIANCE ? positive_value
                                                                : shift_value);
        cd->d.params[i] = cd->params[i];
    }
    cd->nstats_in = op->stats(c, shape, ndim, 0, cd->stat_in);
    for (size_t i = 0; i < cd->nstats_in; ++i) {
        const op_stat *s = &cd->stat_in[i];
        cd->stats_in[i] = draw(op_shape_count(s->shape, s->ndim),
                               s->positive ? positive_value : any_value);
        cd->d.stats_in[i] = cd->stats_in[i];
    }
    cd->nstats_out = op->stats(c, shape, ndim, 1, cd->stat_out);
}

void op_case_data_free(op_case_data *cd)
{
    free(cd->x);
    for (size_t i = 0; i < OP_MAX_PARAMS; ++i)
        free(cd->params[i]);
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        free(cd->stats_in[i]);
    free(cd->labels);
    memset(cd, 0, sizeof *cd);
}

op_call op_case_call(const op_case_data *cd, cl_mem in, cl_mem out)
{
    op_call k;
    memset(&k, 0, sizeof k);
    k.ndim = cd->d.ndim;
    memcpy(k.shape, cd->d.shape, sizeof k.shape);
    k.in = in;
    k.out = out;
    for (size_t i = 0; i < cd->nparams; ++i)
        k.params[i] = cd->params[i];
    k.version = 1;
    return k;
}

const char *op_case_name(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                         family f, clnorm_context *ctx, char *buf, size_t size)
{
    char s[128];
    size_t used = (size_t)snprintf(buf, size, "%s %s", op->name,
                                   op_shape_string(shape, ndim, s, sizeof s));
    for (size_t i = 0; i < op->option_count && used < size; ++i)
        if (c->v[i] != op->options[i].dflt)
            used += (size_t)snprintf(buf + used, size - used, " --%s=%g", op->options[i].name,
                                     c->v[i]);
    if (used < size)
        snprintf(buf + used, size - used, " %s fp64=%d", family_name(f),
                 ctx ? clnorm_context_uses_fp64(ctx) : -1);
    return buf;
}

size_t op_check(clnorm_context *ctx, const op_desc *op, const op_config *c, const size_t *shape,
                size_t ndim, family f)
{
    op_case_data cd;
    op_case_data_make(op, c, shape, ndim, f, &cd);
    size_t count = cd.d.count;
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    float *y = malloc(count * sizeof *y);
    assert_true(ref && tol && y);
    double *sref[OP_MAX_STATS] = {NULL}, *stol[OP_MAX_STATS] = {NULL};
    float *sgot[OP_MAX_STATS] = {NULL};
    for (size_t i = 0; i < cd.nstats_out; ++i) {
        size_t n = op_shape_count(cd.stat_out[i].shape, cd.stat_out[i].ndim);
        sref[i] = malloc(n * sizeof **sref);
        stol[i] = malloc(n * sizeof **stol);
        sgot[i] = malloc(n * sizeof **sgot);
        assert_true(sref[i] && stol[i] && sgot[i]);
        memset(sgot[i], 0xff, n * sizeof **sgot); /* NaN poison */
    }
    op->reference(c, &cd.d, ref, sref);
    op->tolerance(c, &cd.d, ref, sref, tol, stol);

    char what[256];
    op_case_name(op, c, shape, ndim, f, ctx, what, sizeof what);
    cl_mem in = buffer_from(ctx, cd.x, count, 0), out = buffer_poisoned(ctx, count);
    void *layer = NULL;
    op_call k = op_case_call(&cd, in, out);
    cl_event done = NULL;
    clnorm_status st = op->create(ctx, c, shape, ndim, &layer);
    if (st == CLNORM_OK && cd.nstats_in)
        st = op->set_stats(c, layer, &k, (const float *const *)cd.stats_in);
    if (st == CLNORM_OK)
        st = op->run(c, layer, &k, &done);
    if (st != CLNORM_OK)
        print_error("%s: %s\n", what, clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    assert_non_null(done);
    assert_int_equal(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    buffer_read(ctx, out, 0, y, count);
    if (cd.nstats_out)
        assert_int_equal(op->get_stats(c, layer, &k, sgot), CLNORM_OK);
    size_t bad = check_close(what, y, ref, tol, count);
    for (size_t i = 0; i < cd.nstats_out; ++i) {
        char sw[300];
        snprintf(sw, sizeof sw, "%s: %s", what, cd.stat_out[i].name);
        bad += check_close(sw, sgot[i], sref[i],
                           stol[i], op_shape_count(cd.stat_out[i].shape, cd.stat_out[i].ndim));
    }
    op->destroy(layer);
    clReleaseMemObject(in);
    clReleaseMemObject(out);
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        free(sref[i]), free(stol[i]), free(sgot[i]);
    free(ref), free(tol), free(y);
    op_case_data_free(&cd);
    return bad;
}
