/* SPDX-License-Identifier: Apache-2.0 */
/* test_labels.c: the conditional classes' labels on the device: a label
 * outside [0, K) reads the nearest class (never outside the table) and is
 * reported once by clnorm_conditional_norm2d_label_errors; labels at an
 * offset in a larger buffer are read from there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "op_data.h"
#include "support.h"
#include "test_main.h"

static const char *const classes[] = {"ConditionalVarianceNorm2d", "ConditionalInstanceNorm2d",
                                      "ConditionalBatchNorm2d", "ConditionalNoneNorm2d",
                                      "ConditionalInstanceNorm2dPlus"};

/* Run `op` on case data cd with the given labels on the device (at byte
 * `off` of `buf`), compare with the reference on cd's own labels, and
 * return what label_errors reports. */
static int run_and_check(clnorm_context *ctx, const op_desc *op, const op_config *c,
                         op_case_data *cd, cl_mem buf, size_t off, const char *what)
{
    size_t count = cd->d.count;
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    float *y = malloc(count * sizeof *y);
    assert_true(ref && tol && y);
    op->reference(c, &cd->d, ref, NULL);
    op->tolerance(c, &cd->d, ref, NULL, tol, NULL);
    cl_mem in = buffer_from(ctx, cd->x, count, 0), out = buffer_poisoned(ctx, count);
    op_call k = op_case_call(cd, in, out, buf);
    k.labels_off = off;
    void *layer = NULL;
    assert_int_equal(op->create(ctx, c, cd->d.shape, cd->d.ndim, &layer), CLNORM_OK);
    assert_int_equal(op->run(c, layer, &k, NULL), CLNORM_OK);
    int clamped = -1;
    assert_int_equal(clnorm_conditional_norm2d_label_errors(layer, &clamped), CLNORM_OK);
    int again = -1; /* the report is cleared once read */
    assert_int_equal(clnorm_conditional_norm2d_label_errors(layer, &again), CLNORM_OK);
    assert_int_equal(again, 0);
    buffer_read(ctx, out, 0, y, count);
    assert_int_equal(check_close(what, y, ref, tol, count), 0);
    assert_int_equal(clnorm_conditional_norm2d_label_errors(NULL, &again), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_conditional_norm2d_label_errors(layer, NULL), CLNORM_NULL_ARGUMENT);
    op->destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(ref), free(tol), free(y);
    return clamped;
}

static void out_of_range_clamped(void **state)
{
    (void)state;
    clnorm_context *ctx = test_context(0);
    static const size_t shape[4] = {6, 3, 5, 7};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; ++i) {
        const op_desc *op = op_find(classes[i]);
        assert_non_null(op);
        op_config c;
        op_config_default(op, &c);
        size_t k = op_classes(&c);
        op_case_data cd;
        assert_int_equal(op_case_data_make(op, &c, shape, 4, FAMILY_NORMAL, &cd), 0);
        /* on the device: below 0, at the ends, beyond K; the reference reads
         * the clamped classes */
        const int32_t given[6] = {-1, 0, (int32_t)k, (int32_t)k - 1, INT32_MIN, INT32_MAX};
        for (size_t s = 0; s < 6; ++s)
            cd.labels[s] = given[s] < 0 ? 0 : given[s] >= (int32_t)k ? (int32_t)k - 1 : given[s];
        cl_mem bad = buffer_from_labels(ctx, given, 6);
        assert_int_equal(run_and_check(ctx, op, &c, &cd, bad, 0, op->name), 1);
        clReleaseMemObject(bad);
        /* in range, at an offset of 3 labels in a larger buffer: no report */
        int32_t padded[9] = {-5, 99, -5};
        memcpy(padded + 3, cd.labels, 6 * sizeof *padded);
        cl_mem at = buffer_from_labels(ctx, padded, 9);
        assert_int_equal(run_and_check(ctx, op, &c, &cd, at, 3 * sizeof(int32_t), op->name), 0);
        clReleaseMemObject(at);
        op_case_data_free(&cd);
    }
    clnorm_context_destroy(ctx);
}

TEST_MAIN_SEEDED(NULL, NULL, cmocka_unit_test(out_of_range_clamped))
