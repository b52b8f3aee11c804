/* SPDX-License-Identifier: Apache-2.0 */
/* test_fixtures.c: the cases computed by the real ESPnet modules
 * (tests/fixtures, from the project's shared fixtures) with the tolerances
 * their index.json gives, on every kernel path and variant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_index.h"
#include "support.h"

static double tolerance_of(const char *case_name, const char *key)
{
    double tol = fixture_tolerance(case_name, key);
    if (!(tol > 0))
        fail_msg("index.json: no tolerance for %s.%s", case_name, key);
    return tol;
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
    size_t bad =
        compare(name, "y", got, &y) + compare(name, "mean", gm, &m) + compare(name, "std", gs, &s);
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
    size_t cases = fixture_case_count();
    for (size_t i = 0; i < cases; ++i) {
        const char *name = fixture_case_name(i);
        /* The name says which module made the case (tests/fixtures/README.md). */
        if (!strncmp(name, "varnorm2d_", 10))
            bad += run_varnorm2d(ctx, name);
        else if (!strncmp(name, "revin_output_", 13))
            bad += run_revin_output(ctx, name);
        else if (!strncmp(name, "revin_bld_", 10) || !strncmp(name, "revin_bdl_", 10))
            bad += run_revin(ctx, name, name[7] == 'd');
        else
            fail_msg("index.json: no runner for case %s", name);
    }
    assert_int_equal(cases, 12);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

static int free_index(void **state)
{
    (void)state;
    fixture_index_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_ALL_VARIANTS(espnet_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, free_index);
}
