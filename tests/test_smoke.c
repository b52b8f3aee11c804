/* test_smoke.c: temporary smoke test while the suite is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include "support.h"

static void run_revin(unsigned flags, size_t b, size_t l, size_t d, int transposed, family f)
{
    clnorm_context *ctx = test_context(flags);
    size_t count = b * l * d, rows = b * d;
    float *x = malloc(count * 4), *y = malloc(count * 4), *sm = malloc(rows * 4), *ss = malloc(rows * 4);
    double *ry = malloc(count * 8), *rm = malloc(rows * 8), *rs = malloc(rows * 8), *tol = malloc(count * 8);
    size_t outer = transposed ? b * d : b, inner = transposed ? 1 : d;
    fill_family(x, outer, l, inner, f);
    ref_revin(x, outer, l, inner, ry, rm, rs);
    tol_revin_y(ry, rm, rs, outer, l, inner, tol);
    cl_mem in = buffer_from(ctx, x, count, 0), out = buffer_poisoned(ctx, count);
    clnorm_revin *layer;
    assert_int_equal(clnorm_revin_create(ctx, d, transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer), CLNORM_OK);
    clnorm_status st = clnorm_revin_forward(layer, NULL, b, l, in, 0, out, 0, 0, NULL, NULL);
    if (st) print_error("%s\n", clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    buffer_read(ctx, out, 0, y, count);
    char what[128];
    snprintf(what, sizeof what, "revin %s %zux%zux%zu %s fp64=%d", transposed ? "bdl" : "bld", b, l, d, family_name(f), clnorm_context_uses_fp64(ctx));
    size_t bad = check_close(what, y, ry, tol, count);
    assert_int_equal(clnorm_revin_read_stats(layer, sm, ss, rows), CLNORM_OK);
    double *tm = malloc(rows * 8), *ts = malloc(rows * 8);
    tol_relative(rm, rows, 1.0, tm);
    tol_relative(rs, rows, 2.0, ts);
    bad += check_close("mean", sm, rm, tm, rows);
    bad += check_close("std", ss, rs, ts, rows);
    assert_int_equal(bad, 0);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in); clReleaseMemObject(out);
    clnorm_context_destroy(ctx);
    free(x); free(y); free(sm); free(ss); free(ry); free(rm); free(rs); free(tol); free(tm); free(ts);
}

static void smoke(void **state)
{
    (void)state;
    size_t lens[] = {1, 2, 15, 16, 17, 63, 64, 65, 4097, 100000};
    for (int v = 0; v < 2; ++v)
        for (int f = 0; f < FAMILY_COUNT; ++f)
            for (size_t i = 0; i < sizeof lens / sizeof lens[0]; ++i) {
                run_revin(test_context_variants[v], 2, lens[i], 3, 1, (family)f);
                run_revin(test_context_variants[v], 2, lens[i], 8, 0, (family)f);
                run_revin(test_context_variants[v], 1, lens[i], 5, 0, (family)f);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(smoke)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
