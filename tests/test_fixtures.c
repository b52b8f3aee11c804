/* test_fixtures.c: the cases computed by the real ESPnet modules
 * (tests/fixtures, from the project's shared fixtures) with the tolerances
 * of tests/fixtures/README.md, on both kernel paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef struct tolerance {
    const char *case_name, *key;
    double tol;
} tolerance;

/* From tests/fixtures/README.md: max(2 x PyTorch float32's error, 1e-6 x max(1, max|y|)). */
static const tolerance tolerances[] = {
    {"varnorm2d_doc_2x3x4x4", "y", 2.55e-06},
    {"varnorm2d_4x16x32x32", "y", 4.57e-06},
    {"varnorm2d_offset_2x4x17x9", "y", 1.04},
    {"varnorm2d_constplane_2x3x5x5", "y", 0.00165},
    {"varnorm2d_hw1_2x2x1x1", "y", 1e-06},
    {"revin_bld_doc_32x10x5", "y", 2.69e-06},
    {"revin_bld_doc_32x10x5", "mean", 1.09e-06},
    {"revin_bld_doc_32x10x5", "std", 1.46e-06},
    {"revin_bdl_doc_5x10x20", "y", 2.93e-06},
    {"revin_bdl_doc_5x10x20", "mean", 1e-06},
    {"revin_bdl_doc_5x10x20", "std", 1.29e-06},
    {"revin_bld_4x1000x8", "y", 4.39e-06},
    {"revin_bld_4x1000x8", "mean", 1e-06},
    {"revin_bld_4x1000x8", "std", 1.04e-06},
    {"revin_bld_offset_3x257x4", "y", 0.0913},
    {"revin_bld_offset_3x257x4", "mean", 0.01},
    {"revin_bld_offset_3x257x4", "std", 1e-06},
    {"revin_bdl_const_2x3x100", "y", 1e-06},
    {"revin_bdl_const_2x3x100", "mean", 8.84e-06},
    {"revin_bdl_const_2x3x100", "std", 1e-06},
    {"revin_bld_L1_2x1x3", "y", 1e-06},
    {"revin_bld_L1_2x1x3", "mean", 2.15e-06},
    {"revin_bld_L1_2x1x3", "std", 1e-06},
    {"revin_output_bld_horizon_4x7x3", "y", 3.63e-06},
};

static double tolerance_of(const char *case_name, const char *key)
{
    for (size_t i = 0; i < sizeof tolerances / sizeof tolerances[0]; ++i)
        if (!strcmp(tolerances[i].case_name, case_name) && !strcmp(tolerances[i].key, key))
            return tolerances[i].tol;
    fail_msg("no tolerance for %s.%s", case_name, key);
    return 0.0;
}

/* max |got - expected| over finite entries <= tol, NaN positions equal. */
static size_t compare(const char *case_name, const char *key, const float *got,
                      const fixture_array *expected)
{
    double tol = tolerance_of(case_name, key);
    assert_non_null(expected->exact);
    double *t = malloc(expected->count * sizeof *t);
    for (size_t i = 0; i < expected->count; ++i)
        t[i] = tol;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", case_name, key);
    size_t bad = check_close(what, got, expected->exact, t, expected->count);
    free(t);
    return bad;
}

static size_t run_varnorm2d(clnorm_context *ctx, const char *name)
{
    fixture_array x, alpha, y;
    fixture_load(name, "x", &x);
    fixture_load(name, "alpha", &alpha);
    fixture_load(name, "y", &y);
    assert_int_equal(x.ndim, 4);
    size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    float *got = malloc(x.count * sizeof *got);
    cl_mem in = buffer_from(ctx, x.data, x.count, 0), out = buffer_poisoned(ctx, x.count);
    clnorm_varnorm2d *layer;
    assert_int_equal(clnorm_varnorm2d_create(ctx, c, &layer), CLNORM_OK);
    clnorm_varnorm2d_params p = {alpha.data, 1};
    assert_int_equal(clnorm_varnorm2d_forward(layer, &p, n, c, h, w, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, got, x.count);
    size_t bad = compare(name, "y", got, &y);
    clnorm_varnorm2d_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(got);
    fixture_free(&x), fixture_free(&alpha), fixture_free(&y);
    return bad;
}

static size_t run_revin(clnorm_context *ctx, const char *name, int transposed)
{
    fixture_array x, y, m, s;
    fixture_load(name, "x", &x);
    fixture_load(name, "y", &y);
    fixture_load(name, "mean", &m);
    fixture_load(name, "std", &s);
    assert_int_equal(x.ndim, 3);
    size_t b = x.shape[0], l = transposed ? x.shape[2] : x.shape[1];
    size_t d = transposed ? x.shape[1] : x.shape[2], rows = b * d;
    float *got = malloc(x.count * sizeof *got), *gm = malloc(rows * 4), *gs = malloc(rows * 4);
    cl_mem in = buffer_from(ctx, x.data, x.count, 0), out = buffer_poisoned(ctx, x.count);
    clnorm_revin *layer;
    assert_int_equal(clnorm_revin_create(ctx, d, transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer),
                     CLNORM_OK);
    assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, got, x.count);
    assert_int_equal(clnorm_revin_read_stats(layer, gm, gs, rows), CLNORM_OK);
    size_t bad = compare(name, "y", got, &y) + compare(name, "mean", gm, &m) +
                 compare(name, "std", gs, &s);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(got), free(gm), free(gs);
    fixture_free(&x), fixture_free(&y), fixture_free(&m), fixture_free(&s);
    return bad;
}

/* Output module with saved statistics: a horizon of L = 7 after an input of L = 11. */
static size_t run_revin_output(clnorm_context *ctx, const char *name)
{
    fixture_array x, y, m, s;
    fixture_load(name, "x", &x);
    fixture_load(name, "y", &y);
    fixture_load(name, "mean", &m);
    fixture_load(name, "std", &s);
    size_t b = x.shape[0], l = x.shape[1], d = x.shape[2];
    float *got = malloc(x.count * sizeof *got);
    cl_mem in = buffer_from(ctx, x.data, x.count, 0), out = buffer_poisoned(ctx, x.count);
    clnorm_revin *layer;
    assert_int_equal(clnorm_revin_create(ctx, d, 0, &layer), CLNORM_OK);
    assert_int_equal(clnorm_revin_set_stats(layer, b, m.data, s.data), CLNORM_OK);
    assert_int_equal(clnorm_revin_inverse(layer, NULL, b, l, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, got, x.count);
    size_t bad = compare(name, "y", got, &y);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(got);
    fixture_free(&x), fixture_free(&y), fixture_free(&m), fixture_free(&s);
    return bad;
}

static void espnet_fixtures(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = 0;
    bad += run_varnorm2d(ctx, "varnorm2d_doc_2x3x4x4");
    bad += run_varnorm2d(ctx, "varnorm2d_4x16x32x32");
    bad += run_varnorm2d(ctx, "varnorm2d_offset_2x4x17x9");
    bad += run_varnorm2d(ctx, "varnorm2d_constplane_2x3x5x5");
    bad += run_varnorm2d(ctx, "varnorm2d_hw1_2x2x1x1");
    bad += run_revin(ctx, "revin_bld_doc_32x10x5", 0);
    bad += run_revin(ctx, "revin_bdl_doc_5x10x20", 1);
    bad += run_revin(ctx, "revin_bld_4x1000x8", 0);
    bad += run_revin(ctx, "revin_bld_offset_3x257x4", 0);
    bad += run_revin(ctx, "revin_bdl_const_2x3x100", 1);
    bad += run_revin(ctx, "revin_bld_L1_2x1x3", 0);
    bad += run_revin_output(ctx, "revin_output_bld_horizon_4x7x3");
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_ALL_VARIANTS(espnet_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
