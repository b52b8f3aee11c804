/* SPDX-License-Identifier: Apache-2.0 */
/* fault.c: the test-only fault-injection countdown behind fault.h. */
#include "fault.h"

#ifdef CLNORM_FAULT_INJECTION
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long fault_target, fault_calls;
static cl_int fault_error;
static int fault_fired;
static char fault_site[64];
static long live_objects;
/* Calls per site since the last arm, for tests that count (e.g. no
 * clCreateBuffer per forward). */
#define SITE_SLOTS 64
static struct {
    const char *name; /* string literals from the wrapper macros */
    unsigned long calls;
} site_calls[SITE_SLOTS];

static void count_site(const char *site)
{
    for (int i = 0; i < SITE_SLOTS; ++i) {
        if (site_calls[i].name == NULL)
            site_calls[i].name = site;
        if (strcmp(site_calls[i].name, site) == 0) {
            site_calls[i].calls++;
            return;
        }
    }
}

/* A whole process (the tool) armed from its environment:
 * CLNORM_TEST_FAULT="N" or "N:ERR" fails the Nth call with ERR (default
 * CL_OUT_OF_RESOURCES); CLNORM_TEST_FAULT_REPORT names a file that receives
 * "fired SITE CALLS" or "clean CALLS" at exit. */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static const char *report_path;

static void report_at_exit(void)
{
    FILE *f = fopen(report_path, "w");
    if (!f)
        return;
    if (fault_fired)
        fprintf(f, "fired %s %lu\n", fault_site, fault_calls);
    else
        fprintf(f, "clean %lu\n", fault_calls);
    fclose(f);
}

static void arm_from_env(void)
{
    const char *spec = getenv("CLNORM_TEST_FAULT");
    if (!spec || !*spec)
        return;
    char *end;
    unsigned long nth = strtoul(spec, &end, 10);
    long err = *end == ':' ? strtol(end + 1, NULL, 10) : CL_OUT_OF_RESOURCES;
    fault_target = nth;
    fault_error = (cl_int)err;
    report_path = getenv("CLNORM_TEST_FAULT_REPORT");
    if (report_path && *report_path)
        atexit(report_at_exit);
}

int clnorm__fault_hit(const char *site, cl_int *cl_error)
{
    int hit = 0;
    pthread_once(&env_once, arm_from_env);
    pthread_mutex_lock(&fault_lock);
    count_site(site);
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

void clnorm__fault_count(const char *site)
{
    pthread_mutex_lock(&fault_lock);
    count_site(site);
    pthread_mutex_unlock(&fault_lock);
}

void clnorm__live(int delta)
{
    pthread_mutex_lock(&fault_lock);
    live_objects += delta;
    pthread_mutex_unlock(&fault_lock);
}

long clnorm_test_live_objects(void)
{
    pthread_mutex_lock(&fault_lock);
    long n = live_objects;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

void clnorm_test_fault_arm(unsigned long nth, cl_int cl_error)
{
    pthread_mutex_lock(&fault_lock);
    fault_target = nth;
    fault_calls = 0;
    fault_error = cl_error;
    fault_fired = 0;
    fault_site[0] = '\0';
    memset(site_calls, 0, sizeof site_calls);
    pthread_mutex_unlock(&fault_lock);
}

unsigned long clnorm_test_fault_site_calls(const char *site)
{
    unsigned long n = 0;
    pthread_mutex_lock(&fault_lock);
    for (int i = 0; i < SITE_SLOTS && site_calls[i].name; ++i)
        if (strcmp(site_calls[i].name, site) == 0)
            n = site_calls[i].calls;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

unsigned long clnorm_test_fault_calls(void) { return fault_calls; }

int clnorm_test_fault_fired(void) { return fault_fired; }

const char *clnorm_test_fault_site(void) { return fault_site; }
#else
typedef int clnorm__fault_unused; /* ISO C wants a non-empty translation unit */
#endif
