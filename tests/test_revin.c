/* SPDX-License-Identifier: Apache-2.0 */
/* test_revin.c: RevIN input and output against the double reference, both
 * layouts, row lengths around work-group and vector boundaries, every input
 * family, the fp64 and float-float kernels, long rows, round trips, affine. */
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

typedef struct revin_case {
    size_t b, l, d;
    int transposed;
    family fam;
} revin_case;

/* Run one forward (and read the statistics) and check every element. */
static size_t check_forward(clnorm_context *ctx, const revin_case *c)
{
    size_t count = c->b * c->l * c->d, rows = c->b * c->d;
    size_t outer = c->transposed ? rows : c->b, inner = c->transposed ? 1 : c->d;
    float *x = malloc(count * sizeof *x), *y = malloc(count * sizeof *y);
    float *sm = malloc(rows * sizeof *sm), *ss = malloc(rows * sizeof *ss);
    double *ry = malloc(count * sizeof *ry), *tol = malloc(count * sizeof *tol);
    double *rm = malloc(rows * sizeof *rm), *rs = malloc(rows * sizeof *rs);
    double *tm = malloc(rows * sizeof *tm), *ts = malloc(rows * sizeof *ts);
    assert_true(x && y && sm && ss && ry && tol && rm && rs && tm && ts);
    fill_family(x, outer, c->l, inner, c->fam);
    ref_revin(x, outer, c->l, inner, ry, rm, rs);
    tol_revin_y(ry, rm, rs, outer, c->l, inner, tol);
    tol_centre(x, outer, c->l, inner, rm, tm);
    tol_relative(rs, rows, 2.0, ts); /* sqrt, then + 1e-4: about 1 ulp, twice */

    cl_mem in = buffer_from(ctx, x, count, 0), out = buffer_poisoned(ctx, count);
    clnorm_revin *layer = NULL;
    assert_int_equal(
        clnorm_revin_create(ctx, c->d, c->transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer),
        CLNORM_OK);
    cl_event done = NULL;
    clnorm_status st = clnorm_revin_forward(layer, NULL, c->b, c->l, in, 0, out, 0, 0, NULL, &done);
    if (st != CLNORM_OK)
        print_error("%s\n", clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    assert_non_null(done);
    assert_int_equal(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    buffer_read(ctx, out, 0, y, count);
    memset(sm, 0xff, rows * sizeof *sm); /* NaN poison */
    memset(ss, 0xff, rows * sizeof *ss);
    assert_int_equal(clnorm_revin_read_stats(layer, sm, ss, rows), CLNORM_OK);

    char what[160];
    snprintf(what, sizeof what, "revin %s B=%zu L=%zu D=%zu %s fp64=%d",
             c->transposed ? "BDL" : "BLD", c->b, c->l, c->d, family_name(c->fam),
             clnorm_context_uses_fp64(ctx));
    size_t bad = check_close(what, y, ry, tol, count);
    bad += check_close("m", sm, rm, tm, rows);
    bad += check_close("s", ss, rs, ts, rows);
    if (c->fam == FAMILY_CONSTANT) /* exactly m == x, s == 1e-4, y == 0 */
        for (size_t r = 0; r < rows; ++r) {
            size_t o = c->transposed ? r : r / c->d, i = c->transposed ? 0 : r % c->d;
            float v = x[o * c->l * inner + i];
            if (sm[r] != v || ss[r] != 1e-4f) {
                print_error("%s: constant row %zu: m %.9g (x %.9g), s %.9g\n", what, r,
                            (double)sm[r], (double)v, (double)ss[r]);
                ++bad;
            }
        }
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in);
    clReleaseMemObject(out);
    free(x), free(y), free(sm), free(ss), free(ry), free(tol), free(rm), free(rs), free(tm),
        free(ts);
    return bad;
}

static const size_t lengths[] = {1, 2, 15, 16, 17, 63, 64, 65, 4097, 100000};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Every L of ls x every D of ds x every family, B batches, on the context
 * variant given as the test state. */
static void sweep(void **state, int transposed, size_t b, const size_t *ls, size_t nl,
                  const size_t *ds, size_t nd)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = 0;
    for (size_t i = 0; i < nl; ++i)
        for (size_t j = 0; j < nd; ++j)
            for (int f = 0; f < FAMILY_COUNT; ++f) {
                revin_case c = {b, ls[i], ds[j], transposed, (family)f};
                bad += check_forward(ctx, &c);
            }
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

/* Every length x family for one (B, D). */
static void lengths_and_families(void **state, int transposed, size_t b, size_t d)
{
    sweep(state, transposed, b, lengths, COUNT_OF(lengths), &d, 1);
}

static void bdl_rows(void **state) { lengths_and_families(state, 1, 2, 3); }
static void bld_d8(void **state) { lengths_and_families(state, 0, 2, 8); } /* 8 lanes */
static void bld_d5(void **state) { lengths_and_families(state, 0, 3, 5); } /* 1 lane */
static void bld_d1(void **state) { lengths_and_families(state, 0, 2, 1); } /* contiguous */
static void bld_d6(void **state) { lengths_and_families(state, 0, 1, 6); } /* 2 lanes */

/* The shapes of ESPnet's documentation and of the benchmark, fewer lengths. */
static void wide_shapes(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    const revin_case cases[] = {
        {32, 10, 5, 0, FAMILY_NORMAL},    {5, 20, 10, 1, FAMILY_NORMAL},
        {4, 1000, 80, 0, FAMILY_SCALES},  {2, 3000, 256, 0, FAMILY_OFFSET},
        {1, 70000, 16, 0, FAMILY_NORMAL}, /* strided rows split over groups */
        {1, 70000, 48, 0, FAMILY_OFFSET}, {3, 1600, 80, 1, FAMILY_SCALES},
    };
    size_t bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        bad += check_forward(ctx, &cases[i]);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

/* One row of 2^24 elements: split over work-groups, merged with Chan. */
static void long_row(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = 0;
    revin_case a = {1, (size_t)1 << 24, 1, 1, FAMILY_OFFSET};
    bad += check_forward(ctx, &a);
    revin_case b = {1, ((size_t)1 << 24) + 3, 1, 0, FAMILY_NORMAL};
    bad += check_forward(ctx, &b);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

/* Output after input: round trip at the same L, and a horizon of another L
 * against the reference with the statistics read back. */
static void round_trip_and_horizon(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    for (int transposed = 0; transposed < 2; ++transposed) {
        size_t b = 3, l = 777, d = 16, h = 29, rows = b * d;
        size_t outer = transposed ? rows : b, inner = transposed ? 1 : d;
        size_t count = b * l * d, hcount = b * h * d;
        float *x = malloc(count * 4), *back = malloc(count * 4), *hx = malloc(hcount * 4);
        float *hy = malloc(hcount * 4), *sm = malloc(rows * 4), *ss = malloc(rows * 4);
        double *ref = malloc(count * 8), *tol = malloc(count * 8), *href = malloc(hcount * 8);
        double *htol = malloc(hcount * 8);
        fill_family(x, outer, l, inner, FAMILY_SCALES);
        fill_family(hx, outer, h, inner, FAMILY_NORMAL);
        cl_mem in = buffer_from(ctx, x, count, 0), mid = buffer_poisoned(ctx, count);
        cl_mem out = buffer_poisoned(ctx, count), hin = buffer_from(ctx, hx, hcount, 0);
        cl_mem hout = buffer_poisoned(ctx, hcount);
        clnorm_revin *layer;
        assert_int_equal(
            clnorm_revin_create(ctx, d, transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer),
            CLNORM_OK);
        assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, in, 0, mid, 0, 0, NULL, NULL),
                         CLNORM_OK);
        assert_int_equal(clnorm_revin_inverse(layer, NULL, b, l, mid, 0, out, 0, 0, NULL, NULL),
                         CLNORM_OK);
        assert_int_equal(clnorm_revin_inverse(layer, NULL, b, h, hin, 0, hout, 0, 0, NULL, NULL),
                         CLNORM_OK);
        buffer_read(ctx, out, 0, back, count);
        buffer_read(ctx, hout, 0, hy, hcount);
        assert_int_equal(clnorm_revin_read_stats(layer, sm, ss, rows), CLNORM_OK);
        /* x back within a few ulps of the row's scale (two roundings each way) */
        for (size_t r = 0; r < rows; ++r)
            for (size_t k = 0; k < l; ++k) {
                size_t o = transposed ? r : r / d, i = transposed ? 0 : r % d;
                size_t idx = (o * l + k) * inner + i;
                ref[idx] = x[idx];
                tol[idx] = 4.0 * ulp_of(fabs((double)x[idx]) + ss[r] * 4.0) + 4.0 * ulp_of(sm[r]);
            }
        size_t bad = check_close("round trip", back, ref, tol, count);
        ref_revin_inverse(hx, outer, h, inner, sm, ss, href);
        /* PyTorch rounds x * s, then the sum: half an ulp of each; twice that */
        for (size_t o = 0; o < outer; ++o)
            for (size_t k = 0; k < h; ++k)
                for (size_t i = 0; i < inner; ++i) {
                    size_t idx = (o * h + k) * inner + i, r = o * inner + i;
                    htol[idx] = ulp_of((double)hx[idx] * ss[r]) + ulp_of(href[idx]);
                }
        bad += check_close("horizon", hy, href, htol, hcount);
        assert_int_equal(bad, 0);
        clnorm_revin_destroy(layer);
        clReleaseMemObject(in), clReleaseMemObject(mid), clReleaseMemObject(out);
        clReleaseMemObject(hin), clReleaseMemObject(hout);
        free(x), free(back), free(hx), free(hy), free(sm), free(ss), free(ref), free(tol),
            free(href), free(htol);
    }
    clnorm_context_destroy(ctx);
}

/* Opt-in affine mode: y * weight + bias, and its inverse; parameters synced
 * only when their version changes. */
/* Affine forward and round trip in either layout: y * weight + bias per
 * channel, and the inverse gives x back. */
static void affine_case(void **state, int transposed, size_t b, size_t l, size_t d)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t rows = b * d, count = b * l * d;
    size_t outer = transposed ? rows : b, inner = transposed ? 1 : d;
    float *x = malloc(count * 4), *y = malloc(count * 4), *back = malloc(count * 4);
    float *weight = malloc(d * 4), *bias = malloc(d * 4);
    double *ry = malloc(count * 8), *tol = malloc(count * 8), *rm = malloc(rows * 8),
           *rs = malloc(rows * 8);
    assert_true(x && y && back && weight && bias && ry && tol && rm && rs);
    for (size_t c = 0; c < d; ++c) { /* either sign, some large, one zero bias */
        weight[c] = (float)((c % 2 ? -0.5 : 1.5) * (1.0 + 0.25 * (double)(c % 5)));
        bias[c] = c % 3 == 0 ? 0.0f : (float)(0.1 * (double)c - 3.0);
    }
    fill_family(x, outer, l, inner, FAMILY_NORMAL);
    ref_revin(x, outer, l, inner, ry, rm, rs);
    for (size_t i = 0; i < count; ++i) {
        size_t ch = transposed ? i / l % d : i % d;
        ry[i] = ry[i] * weight[ch] + bias[ch];
        tol[i] = 4.0 * ulp_of(fabs(ry[i]) + fabs((double)bias[ch]) + fabs((double)weight[ch]));
    }
    cl_mem in = buffer_from(ctx, x, count, 0), out = buffer_poisoned(ctx, count);
    cl_mem rt = buffer_poisoned(ctx, count);
    clnorm_revin *layer;
    assert_int_equal(
        clnorm_revin_create(
            ctx, d, CLNORM_REVIN_AFFINE | (transposed ? CLNORM_REVIN_TRANSPOSED : 0), &layer),
        CLNORM_OK);
    clnorm_revin_params p = {weight, bias, 1};
    assert_int_equal(clnorm_revin_forward(layer, &p, b, l, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    assert_int_equal(clnorm_revin_inverse(layer, &p, b, l, out, 0, rt, 0, 0, NULL, NULL),
                     CLNORM_OK);
    assert_int_equal(clnorm_revin_upload_count(layer), 1); /* same version: one upload */
    buffer_read(ctx, out, 0, y, count);
    buffer_read(ctx, rt, 0, back, count);
    size_t bad = check_close("affine forward", y, ry, tol, count);
    for (size_t i = 0; i < count; ++i) {
        ry[i] = x[i];
        tol[i] = 16.0 * ulp_of(fabs((double)x[i]) + 4.0) * 4.0; /* |1 / weight| <= 2 */
    }
    bad += check_close("affine round trip", back, ry, tol, count);
    assert_int_equal(bad, 0);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out), clReleaseMemObject(rt);
    free(x), free(y), free(back), free(weight), free(bias), free(ry), free(tol), free(rm), free(rs);
    clnorm_context_destroy(ctx);
}

static void affine(void **state) { affine_case(state, 0, 2, 300, 4); }
/* Many rows: runs of rows per work-item, with tails (CPU variant). */
static void affine_bdl_rows(void **state) { affine_case(state, 1, 5, 37, 29); }

/* Many BDL rows (145), so that a work-item normalises a run of several; odd
 * lengths leave tails; every family. */
static void bdl_many_rows(void **state)
{
    static const size_t runs[] = {1, 2, 17, 100, 1000}, d = 29;
    sweep(state, 1, 5, runs, COUNT_OF(runs), &d, 1);
}

/* BLD with enough (batch, column block) slabs that a work-item normalises a
 * run of them (CPU variant), for every tile count: 1, 2, 3 (the generic
 * loop), 4, 5 and 6 vectors of columns, odd and even lengths, every family;
 * and affine. */
static void bld_slab_runs(void **state)
{
    static const size_t ls[] = {37, 40}, widths[] = {16, 32, 48, 64, 80, 96};
    sweep(state, 0, 40, ls, COUNT_OF(ls), widths, COUNT_OF(widths));
}

static void affine_bld_slab_runs(void **state) { affine_case(state, 0, 40, 23, 48); }

TEST_MAIN_SEEDED(NULL, NULL, TEST_ALL_VARIANTS(bdl_rows), TEST_ALL_VARIANTS(bld_d8),
                 TEST_ALL_VARIANTS(bld_d5), TEST_ALL_VARIANTS(bld_d1), TEST_ALL_VARIANTS(bld_d6),
                 TEST_ALL_VARIANTS(wide_shapes), TEST_ALL_VARIANTS(long_row),
                 TEST_ALL_VARIANTS(round_trip_and_horizon), TEST_ALL_VARIANTS(affine),
                 TEST_ALL_VARIANTS(affine_bdl_rows), TEST_ALL_VARIANTS(bdl_many_rows),
                 TEST_ALL_VARIANTS(bld_slab_runs), TEST_ALL_VARIANTS(affine_bld_slab_runs))
