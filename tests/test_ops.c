/* SPDX-License-Identifier: Apache-2.0 */
/* test_ops.c: every operation of the table (tools/ops) on each of its test
 * cases and every input family, against its float64 reference, on the four
 * context variants (fp64 and float-float, CPU and GPU kernel shapes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "op_check.h"
#include "support.h"
#include "test_main.h"

static void every_op(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = 0;
    for (size_t i = 0; i < op_count; ++i) {
        const op_desc *op = op_table[i];
        for (size_t t = 0; t < op->tests_count; ++t)
            for (int f = 0; f < FAMILY_COUNT; ++f)
                bad += op_check(ctx, op, &op->tests[t].config, op->tests[t].shape,
                                op->tests[t].ndim, (family)f);
    }
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

TEST_MAIN_SEEDED(NULL, NULL, TEST_ALL_VARIANTS(every_op))
