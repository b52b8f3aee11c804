/* SPDX-License-Identifier: Apache-2.0 */
/* fault.h: test-only fault injection ("fail the Nth call with error E").
 * Compiled in only with CLNORM_FAULT_INJECTION; otherwise every check is a
 * constant 0 that the compiler removes. */
#ifndef CLNORM_FAULT_H
#define CLNORM_FAULT_H

#ifdef CLNORM_FAULT_INJECTION
#include "clnorm.h"
/* Returns non-zero when this call (an OpenCL call or an allocation, named
 * `site`) must fail; for OpenCL calls *cl_error receives the error to fake. */
int clnorm__fault_hit(const char *site, cl_int *cl_error);
/* Count a call that never fails (a release), for live-object accounting. */
void clnorm__fault_count(const char *site);
/* OpenCL objects the library holds a reference to: +1 per successful create
 * or retain of its own, -1 per release. */
void clnorm__live(int delta);

/* Arm the countdown: the `nth` next call fails (1 = the very next), with
 * `cl_error` for OpenCL calls and NULL for allocations. 0 disarms. */
CLNORM_API void clnorm_test_fault_arm(unsigned long nth, cl_int cl_error);
/* Calls counted since the last arm, whether the countdown fired, and the site
 * that failed (static storage, "" when none). */
CLNORM_API unsigned long clnorm_test_fault_calls(void);
CLNORM_API int clnorm_test_fault_fired(void);
CLNORM_API const char *clnorm_test_fault_site(void);
/* Calls of one site (e.g. "clCreateBuffer", "malloc") since the last arm. */
CLNORM_API unsigned long clnorm_test_fault_site_calls(const char *site);
/* References to OpenCL objects (contexts, queues, devices, programs,
 * kernels, buffers, events) the library holds now, over the whole process:
 * 0 once every clnorm object is destroyed, whatever failed on the way.
 * References handed to the caller (events) are the caller's, not counted. */
CLNORM_API long clnorm_test_live_objects(void);
#else
#define clnorm__fault_hit(site, cl_error) 0
#define clnorm__fault_count(site) ((void)0)
#define clnorm__live(delta) ((void)0)
#endif

#endif
