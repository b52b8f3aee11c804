/* SPDX-License-Identifier: Apache-2.0 */
/* test_accumulate.c: the accumulator a context chooses (src/accumulate.c):
 * the flags and CLNORM_ACCUMULATE, their errors, the rule for auto (CPUs,
 * NVIDIA's table, the measured rate of other GPUs, replayed here by making
 * PoCL's device look like a GPU or like one without fp64), the measurement
 * and its cache entry, and the measurement under injected faults. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accumulate.h"
#include "support.h"
#include "test_main.h"

/* A context made with `flags` under CLNORM_ACCUMULATE=`env` (NULL: unset):
 * its status, and uses_fp64 in *fp64 when it was made. */
static clnorm_status create_with(const char *env, unsigned flags, int *fp64, char *msg,
                                 size_t msg_size)
{
    if (env)
        setenv("CLNORM_ACCUMULATE", env, 1);
    else
        unsetenv("CLNORM_ACCUMULATE");
    clnorm_context *c = NULL;
    clnorm_status st = clnorm_context_create(NULL, flags, &c);
    unsetenv("CLNORM_ACCUMULATE");
    *fp64 = st == CLNORM_OK ? clnorm_context_uses_fp64(c) : -1;
    if (msg)
        snprintf(msg, msg_size, "%s", clnorm_errmsg(c));
    clnorm_context_destroy(c);
    return st;
}

static void requests_from_flags_and_environment(void **state)
{
    (void)state;
    int fp64;
    char msg[512];
    /* PoCL's CPU has fp64 with fma, and CPUs run it fast: auto is fp64 */
    assert_int_equal(create_with(NULL, 0, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 1);
    assert_int_equal(create_with("", 0, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 1);
    assert_int_equal(create_with("auto", 0, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 1);
    assert_int_equal(create_with("fp64", 0, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 1);
    assert_int_equal(create_with("float-float", 0, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 0);
    /* a flag wins over the environment */
    assert_int_equal(create_with("float-float", CLNORM_CONTEXT_FP64, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 1);
    assert_int_equal(create_with("fp64", CLNORM_CONTEXT_NO_FP64, &fp64, NULL, 0), CLNORM_OK);
    assert_int_equal(fp64, 0);
    /* what is not understood is refused, never guessed */
    const char *bad[] = {"FP64", "double", "float", "fp32", "auto ", "float_float"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(create_with(bad[i], 0, &fp64, msg, sizeof msg), CLNORM_INVALID_ARGUMENT);
        assert_non_null(strstr(msg, "CLNORM_ACCUMULATE"));
        assert_non_null(strstr(msg, bad[i]));
        assert_non_null(strstr(msg, "float-float"));
    }
    assert_int_equal(
        create_with(NULL, CLNORM_CONTEXT_FP64 | CLNORM_CONTEXT_NO_FP64, &fp64, msg, sizeof msg),
        CLNORM_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "CLNORM_CONTEXT_FP64 and CLNORM_CONTEXT_NO_FP64"));
}

static void nvidia_table(void **state)
{
    (void)state;
    static const struct {
        unsigned major, minor;
        int fast;
    } cases[] = {{6, 0, 1}, {6, 1, 0}, {7, 0, 1},  {7, 5, 0},  {8, 0, 1}, {8, 6, 0},  {8, 7, 0},
                 {8, 9, 0}, {9, 0, 1}, {10, 0, 1}, {12, 0, 0}, {5, 2, 0}, {13, 0, -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        assert_int_equal(clnorm__nvidia_fp64_fast(cases[i].major, cases[i].minor), cases[i].fast);
}

/* The rule replayed on PoCL's context with its device description altered:
 * what a device without fp64, or a GPU of unknown rate, would get. */
static void rule_for_other_devices(void **state)
{
    (void)state;
    clnorm_context *c = test_context(CLNORM_CONTEXT_NO_CACHE);
    clnorm__device_info real = c->info;

    c->info.has_fp64 = 0;
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_AUTO), CLNORM_OK);
    assert_int_equal(c->use_fp64, 0);
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_FLOAT_FLOAT), CLNORM_OK);
    assert_int_equal(c->use_fp64, 0);
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_FP64),
                     CLNORM_INVALID_ARGUMENT);
    assert_non_null(strstr(clnorm_errmsg(c), "no fp64 with fma"));
    assert_non_null(strstr(clnorm_errmsg(c), real.name));

    /* a GPU whose queries do not tell its fp64 rate: measured */
    c->info = real;
    c->info.type = CL_DEVICE_TYPE_GPU;
    double rate = 0;
    int measured = 0;
    assert_int_equal(clnorm__fp64_rate(c, &rate, &measured), CLNORM_OK);
    assert_int_equal(measured, 1); /* the context has no cache */
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_AUTO), CLNORM_OK);
    printf("# fp64 rate of %s: %.3g of float (%s)\n", real.name, rate,
           c->use_fp64 ? "fp64" : "float-float");
    /* the measurement varies between runs: only a clear answer is checked */
    if (rate > 2 * CLNORM_FP64_FAST_RATE)
        assert_int_equal(c->use_fp64, 1);
    else if (rate < CLNORM_FP64_FAST_RATE / 2)
        assert_int_equal(c->use_fp64, 0);
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_FP64), CLNORM_OK);
    assert_int_equal(c->use_fp64, 1);
    assert_int_equal(clnorm__accumulate_choose(c, CLNORM__ACCUMULATE_FLOAT_FLOAT), CLNORM_OK);
    assert_int_equal(c->use_fp64, 0);
    c->info = real;
    clnorm_context_destroy(c);
}

/* The measured rate is plausible, stored in the cache and read back. */
static void rate_measured_once_then_cached(void **state)
{
    (void)state;
    char dir[] = "/tmp/clnorm-accumulate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *saved = getenv("CLNORM_CACHE_DIR");
    char *old = saved ? strdup(saved) : NULL;
    setenv("CLNORM_CACHE_DIR", dir, 1);
    clnorm_context *c = test_context(0);
    double first = 0, again = 0;
    int measured = 0;
    assert_int_equal(clnorm__fp64_rate(c, &first, &measured), CLNORM_OK);
    assert_int_equal(measured, 1);
    /* a CPU runs fp64 at 1/4 to 1 of its float rate (vector lanes) */
    assert_true(first > 0.05 && first <= 4);
    assert_int_equal(clnorm__fp64_rate(c, &again, &measured), CLNORM_OK);
    assert_int_equal(measured, 0);
    assert_true(again > first * (1 - 1e-5) && again < first * (1 + 1e-5));
    clnorm_context_destroy(c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    if (old)
        setenv("CLNORM_CACHE_DIR", old, 1), free(old);
    else
        unsetenv("CLNORM_CACHE_DIR");
}

/* Fail call N = 1, 2, ... of a measurement until it completes: each gives a
 * clean error naming the call, and every object made on the way is released. */
static void measurement_under_faults(void **state)
{
    (void)state;
    clnorm_context *c = test_context(CLNORM_CONTEXT_NO_CACHE);
    long live_before = clnorm_test_live_objects();
    unsigned long n;
    for (n = 1;; ++n) {
        double rate = -1;
        int measured = -1;
        clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
        clnorm_status st = clnorm__fp64_rate(c, &rate, &measured);
        int fired = clnorm_test_fault_fired();
        char site[64];
        snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
        clnorm_test_fault_arm(0, 0);
        assert_int_equal(clnorm_test_live_objects(), live_before);
        if (!fired) {
            assert_int_equal(st, CLNORM_OK);
            assert_int_equal(measured, 1);
            break;
        }
        int alloc = !strcmp(site, "malloc") || !strcmp(site, "calloc");
        assert_int_equal(st, alloc ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR);
        if (!alloc) {
            assert_non_null(strstr(clnorm_errmsg(c), site));
            assert_non_null(strstr(clnorm_errmsg(c), "CL_OUT_OF_RESOURCES"));
        }
    }
    printf("# %lu faults injected into the measurement\n", n - 1);
    assert_true(n > 8);
    clnorm_context_destroy(c);
}

TEST_MAIN(NULL, NULL, cmocka_unit_test(requests_from_flags_and_environment),
          cmocka_unit_test(nvidia_table), cmocka_unit_test(rule_for_other_devices),
          cmocka_unit_test(rate_measured_once_then_cached),
          cmocka_unit_test(measurement_under_faults))
