/* SPDX-License-Identifier: Apache-2.0 */
/* test_ts_norm.c: TSNormalization's own contract, beyond the sweeps of
 * test_ops: a forward then its inverse gives x back, in place included;
 * the scale read and set from the host; the window's errors (no window,
 * the mean method without a horizon, an inverse before any scale, another
 * B, a short read). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "reference.h"
#include "support.h"
#include "test_main.h"

enum { B = 3, L = 40, D = 8, H = 6 };

/* Forward in place, then the inverse in place: x again, to a rounding of
 * each step; the scale read back is the window's mean |x|. */
static void round_trip_in_place(void **state)
{
    (void)state;
    clnorm_context *ctx = test_context(0);
    float x[B * L * D], y[B * L * D], cur[B * L * D], scale[B * D], again[B * D];
    fill_family(x, B, L, D, FAMILY_SCALES);
    cl_mem buf = buffer_from(ctx, x, B * L * D, 0);
    clnorm_ts_norm *ts = NULL;
    assert_int_equal(clnorm_ts_norm_create(ctx, D, CLNORM_TS_MEAN, H, &ts), CLNORM_OK);
    assert_int_equal(clnorm_ts_norm_forward(ts, B, L, buf, 0, buf, 0, 0, NULL, NULL), CLNORM_OK);
    assert_int_equal(clnorm_ts_norm_read_scale(ts, scale, B * D), CLNORM_OK);
    for (size_t r = 0; r < B * D; ++r) {
        double sum = 0.0;
        for (size_t k = 0; k < L - H; ++k)
            sum += fabs((double)x[r / D * L * D + k * D + r % D]);
        assert_true(fabs(scale[r] - sum / (L - H)) <= ulp_of(sum / (L - H)));
    }
    assert_int_equal(clnorm_ts_norm_inverse(ts, B, L, buf, 0, buf, 0, 0, NULL, NULL), CLNORM_OK);
    buffer_read(ctx, buf, 0, cur, B * L * D);
    for (size_t i = 0; i < B * L * D; ++i)
        assert_true(fabs((double)cur[i] - x[i]) <= 2.0 * ulp_of(x[i]));
    /* a scale set from the host is the one the inverse uses, on a horizon
     * of another length: (B, 2, D), the buffer's first B * 2 * D floats */
    for (size_t r = 0; r < B * D; ++r)
        scale[r] = (float)(r + 1);
    assert_int_equal(clnorm_ts_norm_set_scale(ts, B, scale), CLNORM_OK);
    assert_int_equal(clnorm_ts_norm_read_scale(ts, again, B * D), CLNORM_OK);
    for (size_t r = 0; r < B * D; ++r)
        assert_true(again[r] == scale[r]);
    cl_mem out = buffer_poisoned(ctx, B * 2 * D);
    assert_int_equal(clnorm_ts_norm_inverse(ts, B, 2, buf, 0, out, 0, 0, NULL, NULL), CLNORM_OK);
    buffer_read(ctx, out, 0, y, B * 2 * D);
    for (size_t i = 0; i < B * 2 * D; ++i) {
        double want = (double)cur[i] * scale[i / (2 * D) * D + i % D];
        assert_true(fabs((double)y[i] - want) <= ulp_of(want));
    }
    clnorm_ts_norm_destroy(ts);
    clReleaseMemObject(buf), clReleaseMemObject(out);
    clnorm_context_destroy(ctx);
}

static void errors(void **state)
{
    (void)state;
    clnorm_context *ctx = test_context(0);
    clnorm_ts_norm *ts = (clnorm_ts_norm *)&ts;
    assert_int_equal(clnorm_ts_norm_create(ctx, D, CLNORM_TS_MEAN, 0, &ts),
                     CLNORM_INVALID_ARGUMENT);
    assert_null(ts);
    assert_int_equal(clnorm_ts_norm_create(ctx, D, (clnorm_ts_method)7, 1, &ts),
                     CLNORM_INVALID_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_create(ctx, 0, CLNORM_TS_LAST, 0, &ts), CLNORM_ZERO_SIZE);
    assert_int_equal(clnorm_ts_norm_create(ctx, D, CLNORM_TS_LAST, 0, NULL), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_create(ctx, D, CLNORM_TS_LAST, H, &ts), CLNORM_OK);
    float x[B * L * D], scale[B * D];
    fill_family(x, B, L, D, FAMILY_NORMAL);
    cl_mem in = buffer_from(ctx, x, B * L * D, 0), out = buffer_poisoned(ctx, B * L * D);
    /* nothing to invert or read before a forward */
    assert_int_equal(clnorm_ts_norm_inverse(ts, B, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_NO_STATISTICS);
    assert_int_equal(clnorm_ts_norm_read_scale(ts, scale, B * D), CLNORM_NO_STATISTICS);
    /* L must exceed the horizon */
    assert_int_equal(clnorm_ts_norm_forward(ts, B, H, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_SHAPE_MISMATCH);
    assert_int_equal(clnorm_ts_norm_forward(ts, 0, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_ZERO_SIZE);
    assert_int_equal(clnorm_ts_norm_forward(ts, B, L, in, 0, out, 0, 0, NULL, NULL), CLNORM_OK);
    /* the last method's scale is |x| at l = L - H - 1 exactly */
    assert_int_equal(clnorm_ts_norm_read_scale(ts, scale, B * D), CLNORM_OK);
    for (size_t r = 0; r < B * D; ++r)
        assert_true(scale[r] == fabsf(x[r / D * L * D + (L - H - 1) * D + r % D]));
    assert_int_equal(clnorm_ts_norm_inverse(ts, B - 1, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_SHAPE_MISMATCH);
    assert_int_equal(clnorm_ts_norm_read_scale(ts, scale, B * D - 1), CLNORM_SHAPE_MISMATCH);
    assert_int_equal(clnorm_ts_norm_read_scale(ts, NULL, B * D), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_set_scale(ts, B, NULL), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_set_scale(ts, 0, scale), CLNORM_ZERO_SIZE);
    assert_int_equal(clnorm_ts_norm_forward(NULL, B, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_inverse(NULL, B, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_read_scale(NULL, scale, B * D), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_ts_norm_set_scale(NULL, B, scale), CLNORM_NULL_ARGUMENT);
    clnorm_ts_norm_destroy(ts);
    clnorm_ts_norm_destroy(NULL);
    clReleaseMemObject(in), clReleaseMemObject(out);
    clnorm_context_destroy(ctx);
}

TEST_MAIN_SEEDED(NULL, NULL, cmocka_unit_test(round_trip_in_place), cmocka_unit_test(errors))
