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
#else
#define clnorm__fault_hit(site, cl_error) 0
#define clnorm__fault_count(site) ((void)0)
#endif

#endif
