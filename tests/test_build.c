/* test_build.c: kernel build failures reach the caller with the device's
 * build log, and fast-math options are refused. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

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

static void fast_math_refused(void **state)
{
    (void)state;
    const char *bad[] = {"-cl-fast-relaxed-math", "-cl-unsafe-math-optimizations",
                         "-cl-finite-math-only"};
    for (size_t i = 0; i < 3; ++i) {
        setenv("CLNORM_BUILD_OPTIONS", bad[i], 1);
        clnorm_context *ctx = test_context(CLNORM_CONTEXT_NO_CACHE);
        clnorm_varnorm2d *vn = NULL;
        assert_int_equal(clnorm_varnorm2d_create(ctx, 3, &vn), CLNORM_INVALID_ARGUMENT);
        assert_non_null(strstr(clnorm_errmsg(ctx), "compensated arithmetic"));
        clnorm_context_destroy(ctx);
    }
    unsetenv("CLNORM_BUILD_OPTIONS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_log_in_error),
        cmocka_unit_test(fast_math_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
