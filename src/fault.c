/* fault.c: the test-only fault-injection countdown behind fault.h. */
#include "fault.h"

#ifdef CLNORM_FAULT_INJECTION
#include <pthread.h>
#include <string.h>

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long fault_target, fault_calls;
static cl_int fault_error;
static int fault_fired;
static char fault_site[64];

int clnorm__fault_hit(const char *site, cl_int *cl_error)
{
    int hit = 0;
    pthread_mutex_lock(&fault_lock);
    if (fault_target) {
        if (++fault_calls == fault_target) {
            hit = 1;
            fault_fired = 1;
            strncpy(fault_site, site, sizeof fault_site - 1);
            if (cl_error)
                *cl_error = fault_error;
        }
    }
    pthread_mutex_unlock(&fault_lock);
    return hit;
}

void clnorm_test_fault_arm(unsigned long nth, cl_int cl_error)
{
    pthread_mutex_lock(&fault_lock);
    fault_target = nth;
    fault_calls = 0;
    fault_error = cl_error;
    fault_fired = 0;
    fault_site[0] = '\0';
    pthread_mutex_unlock(&fault_lock);
}

unsigned long clnorm_test_fault_calls(void)
{
    return fault_calls;
}

int clnorm_test_fault_fired(void)
{
    return fault_fired;
}

const char *clnorm_test_fault_site(void)
{
    return fault_site;
}
#else
typedef int clnorm__fault_unused; /* ISO C wants a non-empty translation unit */
#endif
