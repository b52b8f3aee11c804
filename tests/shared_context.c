/* SPDX-License-Identifier: Apache-2.0 */
/* shared_context.c: one context for a file's tests, and the leak check at its
 * end (see shared_context.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fault.h" /* the countdown and the live-object tally (test builds) */
#include "shared_context.h"
#include "support.h"

clnorm_context *ctx;

int group_setup(void **state)
{
    (void)state;
    return (ctx = test_context(0)) == NULL;
}

int group_teardown(void **state)
{
    (void)state;
    clnorm_test_fault_arm(0, 0), clnorm_context_destroy(ctx);
    /* Every OpenCL object the library made or retained, through every
     * injected failure, is released (LeakSanitizer cannot see these). */
    long live = clnorm_test_live_objects();
    if (live != 0) {
        print_error("%ld OpenCL object reference(s) never released\n", live);
        return -1;
    }
    return 0;
}
