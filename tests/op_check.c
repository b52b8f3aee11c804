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
    assert_int_equal(op_case_data_make(op, c, shape, ndim, f, &cd), 0);
    size_t count = cd.d.count;
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    float *y = malloc(count * sizeof *y);
    assert_true(ref && tol && y);
    double *sref[OP_MAX_STATS] = {NULL}, *stol[OP_MAX_STATS] = {NULL};
    float *sgot[OP_MAX_STATS] = {NULL};
    for (size_t i = 0; i < cd.nstats_out; ++i) {
        size_t n = cd.stat_count;
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
        snprintf(sw, sizeof sw, "%s: %s", what, op->stats_out[i].name);
        bad += check_close(sw, sgot[i], sref[i], stol[i], cd.stat_count);
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
