/* SPDX-License-Identifier: Apache-2.0 */
/* shared_context.h: the cmocka group fixture of the test files whose tests
 * share one context on the default device (test_errors, test_forward_faults,
 * test_op_calls, test_linear). */
#ifndef CLNORM_TEST_SHARED_CONTEXT_H
#define CLNORM_TEST_SHARED_CONTEXT_H

#include "clnorm.h"

extern clnorm_context *ctx; /* the default device, shared by a file's tests */

/* Per file: ctx on the default device; at the end, every OpenCL object the
 * library made or retained must have been released. */
int group_setup(void **state);
int group_teardown(void **state);

#endif
