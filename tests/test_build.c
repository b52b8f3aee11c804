/* SPDX-License-Identifier: Apache-2.0 */
/* test_build.c: kernel build failures reach the caller with the device's
 * build log; build options that could change the results, and unknown
 * CLNORM_VARIANT values, are refused. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_main.h"

static void build_log_in_error(void **state)
{
    (void)state;
    setenv("CLNORM_BUILD_OPTIONS", "-DCLNORM_TEST_BUILD_ERROR", 1);
    clnorm_context *ctx = test_context(CLNORM_CONTEXT_NO_CACHE);
    clnorm_revin *layer = (clnorm_revin *)&layer; /* must be reset to NULL */
    assert_int_equal(clnorm_revin_create(ctx, 4, 0, &layer), CLNORM_BUILD_FAILED);
    assert_null(layer);
    const char *msg = clnorm_errmsg(ctx);
    assert_non_null(strstr(msg, "CLNORM_BUILD_FAILED"));
    assert_non_null(strstr(msg, "build log"));
    assert_non_null(strstr(msg, "a deliberate build failure")); /* from the device's log */
    clnorm_varnorm2d *vn = NULL;
    assert_int_equal(clnorm_varnorm2d_create(ctx, 3, &vn), CLNORM_BUILD_FAILED);
    assert_null(vn);
    unsigned built = 9, cached = 9;
    clnorm_context_program_counts(ctx, &built, &cached);
    assert_int_equal(built, 0);
    assert_int_equal(cached, 0);
    /* the context stays usable once the options are fixed */
    unsetenv("CLNORM_BUILD_OPTIONS");
    assert_int_equal(clnorm_revin_create(ctx, 4, 0, &layer), CLNORM_OK);
    clnorm_revin_destroy(layer);
    clnorm_context_destroy(ctx);
}

/* CLNORM_BUILD_OPTIONS that could change what the kernels compute are
 * refused when the context is made, naming the option; before, -DVW=1 gave
 * wrong results with CLNORM_OK and -DMAXC=1 crashed. */
static void build_options_refused(void **state)
{
    (void)state;
    const char *bad[] = {"-DVW=1",
                         "-DMAXC=1",
                         "-D VW=1",
                         "-UVW",
                         "-w -DWG=1",
                         "\t-DCLNORM_FP64=0",
                         "-cl-fast-relaxed-math",
                         "-cl-unsafe-math-optimizations",
                         "-cl-finite-math-only",
                         "-cl-mad-enable",
                         "-cl-no-signed-zeros",
                         "-cl-denorms-are-zero",
                         "-cl-single-precision-constant",
                         "-cl-std=CL2.0",
                         "-I/tmp",
                         "-include /tmp/x.h",
                         "-cl-nv-opt-level=x",
                         "-Werror=foo",
                         "-DCLNORM_TEST_BUILD_ERRORS"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        setenv("CLNORM_BUILD_OPTIONS", bad[i], 1);
        clnorm_context *ctx = NULL;
        assert_int_equal(clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &ctx),
                         CLNORM_INVALID_ARGUMENT);
        const char *msg = clnorm_errmsg(ctx);
        assert_non_null(strstr(msg, "CLNORM_BUILD_OPTIONS"));
        assert_non_null(strstr(msg, "refused"));
        clnorm_context_destroy(ctx);
    }
    /* What is allowed still builds, and the results are right. */
    setenv("CLNORM_BUILD_OPTIONS", " -w  -cl-opt-disable -cl-kernel-arg-info ", 1);
    clnorm_context *ctx = test_context(CLNORM_CONTEXT_NO_CACHE);
    enum { B = 2, L = 33, D = 3 };
    float x[B * L * D], y[B * L * D];
    for (size_t i = 0; i < B * L * D; ++i)
        x[i] = (float)(1000.0 + (double)rand() / RAND_MAX);
    cl_mem in = buffer_from(ctx, x, B * L * D, 0), out = buffer_poisoned(ctx, B * L * D);
    clnorm_revin *layer = NULL;
    assert_int_equal(clnorm_revin_create(ctx, D, 0, &layer), CLNORM_OK);
    assert_int_equal(clnorm_revin_forward(layer, NULL, B, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, out, 0, y, B * L * D);
    double ref[B * L * D], tol[B * L * D], m[B * D], s[B * D];
    ref_revin(x, B, L, D, ref, m, s);
    for (size_t i = 0; i < B * L * D; ++i)
        tol[i] = 1e-5;
    assert_int_equal(check_close("revin with allowed build options", y, ref, tol, B * L * D), 0);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    clnorm_context_destroy(ctx);
    unsetenv("CLNORM_BUILD_OPTIONS");
}

/* A CLNORM_VARIANT clnorm does not know is an error, not ignored. */
static void junk_variant_refused(void **state)
{
    (void)state;
    const char *bad[] = {"GPU", "gpu ", "auto", "1", "fast"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        setenv("CLNORM_VARIANT", bad[i], 1);
        clnorm_context *ctx = NULL;
        assert_int_equal(clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &ctx),
                         CLNORM_INVALID_ARGUMENT);
        assert_non_null(strstr(clnorm_errmsg(ctx), "CLNORM_VARIANT"));
        clnorm_context_destroy(ctx);
    }
    const char *good[] = {"gpu", "cpu", ""};
    for (size_t i = 0; i < 3; ++i) {
        setenv("CLNORM_VARIANT", good[i], 1);
        clnorm_context *ctx = test_context(CLNORM_CONTEXT_NO_CACHE);
        clnorm_context_destroy(ctx);
    }
    unsetenv("CLNORM_VARIANT");
}

TEST_MAIN(NULL, NULL, cmocka_unit_test(build_log_in_error), cmocka_unit_test(build_options_refused),
          cmocka_unit_test(junk_variant_refused))
