/* SPDX-License-Identifier: Apache-2.0 */
/* race_check.c: every operation of the table on its small test cases (at most
 * RACE_MAX_ELEMENTS elements, default 4096; RACE_ONLY=A,B: those classes
 * alone), normal inputs, on the default
 * device, against the float64 reference. tests/check_oclgrind.sh runs it under
 * Oclgrind, whose simulated device (with an H200's limits) then checks every
 * kernel launch for data races, uninitialised values and out-of-bounds
 * accesses; here it only has to run each kernel once on few elements.
 * Prints one line per case; exits 1 when any case fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_check.h"
#include "support.h"

/* Whether `name` is one of the comma-separated names of `list`. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',')) {
        p += *p == ',';
        if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == '\0'))
            return 1;
    }
    return 0;
}

static void every_small_case(void **state)
{
    (void)state;
    const char *limit = getenv("RACE_MAX_ELEMENTS");
    size_t max_elements = limit && *limit ? (size_t)strtoull(limit, NULL, 10) : 4096;
    const char *only = getenv("RACE_ONLY"); /* "A,B": those classes, for a closer look */
    clnorm_context *ctx = test_context(0);
    printf("# %s, %s\n", clnorm_context_device_description(ctx),
           clnorm_context_uses_fp64(ctx) ? "fp64" : "float-float");
    size_t bad = 0, cases = 0;
    for (size_t i = 0; i < op_count; ++i) {
        const op_desc *op = op_table[i];
        if (only && *only && !listed(only, op->name))
            continue;
        for (size_t t = 0; t < op->tests_count; ++t) {
            const op_case *c = &op->tests[t];
            if (op_shape_count(c->shape, c->ndim) > max_elements)
                continue;
            char name[160];
            printf("# %s\n", op_case_name(op, &c->config, c->shape, c->ndim, FAMILY_NORMAL, ctx,
                                          name, sizeof name));
            fflush(stdout);
            bad += op_check(ctx, op, &c->config, c->shape, c->ndim, FAMILY_NORMAL);
            cases++;
        }
    }
    clnorm_context_destroy(ctx);
    printf("# %zu cases, %zu failures\n", cases, bad);
    assert_true(cases > 0);
    assert_int_equal(bad, 0);
}

int main(void)
{
    test_seed_from_clock();
    const struct CMUnitTest tests[] = {cmocka_unit_test(every_small_case)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
