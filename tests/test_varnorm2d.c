/* SPDX-License-Identifier: Apache-2.0 */
/* test_varnorm2d.c: VarianceNorm2d against the double reference (plane sizes
 * around work-group and vector boundaries, every input family, both kernel
 * paths), H*W == 1, and the parameter sync contract. */
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
#include "test_main.h"

/* PyTorch rounds var, sqrt(var + eps), the division and the product by
 * alpha: about 2 ulps of y; twice that. */
#define VN_ULPS 4.0

static size_t check_forward(clnorm_context *ctx, size_t n, size_t c, size_t h, size_t w, family fam)
{
    size_t rows = n * c, plane = h * w, count = rows * plane;
    float *x = malloc(count * 4), *y = malloc(count * 4), *alpha = malloc(c * 4);
    double *ref = malloc(count * 8), *tol = malloc(count * 8);
    assert_true(x && y && alpha && ref && tol);
    fill_family(x, rows, plane, 1, fam);
    for (size_t i = 0; i < c; ++i)
        alpha[i] = (float)(1.0 + 0.02 * rng_normal()); /* ESPnet's init */
    ref_varnorm2d(x, rows, plane, c, alpha, ref);
    tol_relative(ref, count, VN_ULPS, tol);
    cl_mem in = buffer_from(ctx, x, count, 0), out = buffer_poisoned(ctx, count);
    clnorm_varnorm2d *layer;
    assert_int_equal(clnorm_varnorm2d_create(ctx, c, &layer), CLNORM_OK);
    clnorm_varnorm2d_params p = {alpha, 0};
    clnorm_status st =
        clnorm_varnorm2d_forward(layer, &p, n, c, h, w, in, 0, out, 0, 0, NULL, NULL);
    if (st != CLNORM_OK)
        print_error("%s\n", clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    buffer_read(ctx, out, 0, y, count);
    char what[160];
    snprintf(what, sizeof what, "varnorm2d (%zu,%zu,%zu,%zu) %s fp64=%d", n, c, h, w,
             family_name(fam), clnorm_context_uses_fp64(ctx));
    size_t bad = check_close(what, y, ref, tol, count);
    clnorm_varnorm2d_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(x), free(y), free(alpha), free(ref), free(tol);
    return bad;
}

static void planes_and_families(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    /* plane sizes 1, 2, 15, 16, 17, 63, 64, 65, 4097, 100000 as (h, w) */
    static const size_t hw[][2] = {{1, 1}, {1, 2}, {3, 5},  {4, 4},    {17, 1},
                                   {7, 9}, {8, 8}, {5, 13}, {17, 241}, {250, 400}};
    size_t bad = 0;
    for (size_t i = 0; i < sizeof hw / sizeof hw[0]; ++i)
        for (int f = 0; f < FAMILY_COUNT; ++f)
            bad += check_forward(ctx, 2, 3, hw[i][0], hw[i][1], (family)f);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

static void espnet_shapes(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = check_forward(ctx, 10, 64, 32, 32, FAMILY_NORMAL);
    bad += check_forward(ctx, 2, 3, 4, 4, FAMILY_SCALES);
    bad += check_forward(ctx, 4, 16, 32, 32, FAMILY_OFFSET);
    bad += check_forward(ctx, 1, 1, 4096, 4096, FAMILY_OFFSET); /* 2^24: split row */
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

/* Many rows (N*C of 145 and 240), so that a work-item normalises a run of
 * several (CPU variant), with planes that leave vector tails; every family. */
static void many_rows(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    static const size_t shapes[][4] = {{5, 29, 3, 7}, {3, 80, 1, 17}, {2, 120, 16, 16}};
    size_t bad = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i)
        for (int f = 0; f < FAMILY_COUNT; ++f)
            bad += check_forward(ctx, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                                 (family)f);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

/* H*W == 1: var is 0/0, y is NaN everywhere, as in PyTorch. */
static void hw1_is_nan(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    float x[6] = {1, -2, 3, 0, 5e3f, -1e-3f}, y[6], alpha[3] = {1, 1, 1};
    cl_mem in = buffer_from(ctx, x, 6, 0), out = buffer_poisoned(ctx, 6);
    clnorm_varnorm2d *layer;
    assert_int_equal(clnorm_varnorm2d_create(ctx, 3, &layer), CLNORM_OK);
    clnorm_varnorm2d_params p = {alpha, 0};
    assert_int_equal(clnorm_varnorm2d_forward(layer, &p, 2, 3, 1, 1, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, y, 6);
    for (int i = 0; i < 6; ++i)
        assert_true(isnan(y[i]));
    clnorm_varnorm2d_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    clnorm_context_destroy(ctx);
}

/* One forward on fresh data with `alpha`; returns max |y - ref(alpha_ref)| / tol. */
static size_t forward_matches(clnorm_context *ctx, clnorm_varnorm2d *layer,
                              const clnorm_varnorm2d_params *p, const float *alpha_ref)
{
    enum { N = 2, C = 4, H = 5, W = 7, COUNT = N * C * H * W };
    float x[COUNT], y[COUNT];
    double ref[COUNT], tol[COUNT];
    fill_family(x, N * C, H * W, 1, FAMILY_NORMAL);
    ref_varnorm2d(x, N * C, H * W, C, alpha_ref, ref);
    tol_relative(ref, COUNT, VN_ULPS, tol);
    cl_mem in = buffer_from(ctx, x, COUNT, 0), out = buffer_poisoned(ctx, COUNT);
    assert_int_equal(clnorm_varnorm2d_forward(layer, p, N, C, H, W, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, y, COUNT);
    clReleaseMemObject(in), clReleaseMemObject(out);
    return check_close("param sync", y, ref, tol, COUNT);
}

static void parameter_sync(void **state)
{
    (void)state;
    clnorm_context *ctx = test_context(0);
    clnorm_varnorm2d *layer;
    assert_int_equal(clnorm_varnorm2d_create(ctx, 4, &layer), CLNORM_OK);
    assert_int_equal(clnorm_varnorm2d_upload_count(layer), 0);
    float *alpha = malloc(4 * sizeof *alpha);
    float first[4] = {1.0f, 0.5f, -2.0f, 3.0f}, second[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    memcpy(alpha, first, sizeof first);
    clnorm_varnorm2d_params p = {alpha, 7};
    assert_int_equal(forward_matches(ctx, layer, &p, first), 0);
    assert_int_equal(clnorm_varnorm2d_upload_count(layer), 1);
    /* no change, no upload */
    assert_int_equal(forward_matches(ctx, layer, &p, first), 0);
    assert_int_equal(forward_matches(ctx, layer, &p, first), 0);
    assert_int_equal(clnorm_varnorm2d_upload_count(layer), 1);
    /* changed and version bumped: the next forward uses it */
    memcpy(alpha, second, sizeof second);
    p.version++;
    assert_int_equal(forward_matches(ctx, layer, &p, second), 0);
    assert_int_equal(clnorm_varnorm2d_upload_count(layer), 2);
    /* the host copy may change or go away as soon as the call returns */
    clnorm_varnorm2d_params q = {alpha, 9};
    enum { COUNT = 2 * 4 * 5 * 7 };
    float x[COUNT], y[COUNT];
    double ref[COUNT], tol[COUNT];
    fill_family(x, 8, 35, 1, FAMILY_NORMAL);
    ref_varnorm2d(x, 8, 35, 4, second, ref);
    tol_relative(ref, COUNT, VN_ULPS, tol);
    cl_mem in = buffer_from(ctx, x, COUNT, 0), out = buffer_poisoned(ctx, COUNT);
    assert_int_equal(clnorm_varnorm2d_forward(layer, &q, 2, 4, 5, 7, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    memset(alpha, 0xff, 4 * sizeof *alpha); /* NaN */
    free(alpha);
    buffer_read(ctx, out, 0, y, COUNT);
    assert_int_equal(check_close("freed host alpha", y, ref, tol, COUNT), 0);
    assert_int_equal(clnorm_varnorm2d_upload_count(layer), 3);
    clReleaseMemObject(in), clReleaseMemObject(out);
    clnorm_varnorm2d_destroy(layer);
    clnorm_context_destroy(ctx);
}

TEST_MAIN_SEEDED(NULL, NULL, TEST_ALL_VARIANTS(planes_and_families),
                 TEST_ALL_VARIANTS(espnet_shapes), TEST_ALL_VARIANTS(many_rows),
                 TEST_ALL_VARIANTS(hw1_is_nan), cmocka_unit_test(parameter_sync))
