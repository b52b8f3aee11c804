/* SPDX-License-Identifier: Apache-2.0 */
/* test_main.h: a test program's main, in one place. A cmocka program of tests/
 * ends the same way each time (its tests in a list, run as one group with a
 * setup and a teardown), and its main is where it seeds the input generator from
 * the clock or not: here are both, once. Macros only, so that including this
 * links nothing (the .npy and tool tests do not link support.c). */
#ifndef CLNORM_TEST_MAIN_H
#define CLNORM_TEST_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* main(): run `first` (a statement), then the tests (the macro's further
 * arguments, in order) as one group with `setup` and `teardown` (NULL for
 * none; cmocka names the group after the array, "tests"); returns the number of
 * tests that failed. */
#define TEST_MAIN_AFTER(first, setup, teardown, ...)                                               \
    int main(void)                                                                                 \
    {                                                                                              \
        first;                                                                                     \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, setup, teardown);                                     \
    }

/* A program with nothing to do before its tests (not seeded from the clock). */
#define TEST_MAIN(setup, teardown, ...) TEST_MAIN_AFTER((void)0, setup, teardown, __VA_ARGS__)

/* A program of random inputs: seeded from the clock first, the seed printed to
 * replay a failure (test_seed_from_clock, support.h; links support.c). */
#define TEST_MAIN_SEEDED(setup, teardown, ...)                                                     \
    TEST_MAIN_AFTER(test_seed_from_clock(), setup, teardown, __VA_ARGS__)

#endif
