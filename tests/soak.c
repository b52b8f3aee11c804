/* SPDX-License-Identifier: Apache-2.0 */
/* soak.c: many forwards of every layer in one process; host memory (RSS) and
 * live OpenCL objects must stay flat. Run by tools/scripts/soak.sh, not by ctest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clnorm.h"
#include "fault.h"

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Objects created (or retained) minus released, from the wrapper's counts. */
static long live(const char *const *made, size_t nmade, const char *released)
{
    long n = 0;
    for (size_t i = 0; i < nmade; ++i)
        n += (long)clnorm_test_fault_site_calls(made[i]);
    return n - (long)clnorm_test_fault_site_calls(released);
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        clnorm_status st_ = (x);                                                                   \
        if (st_ != CLNORM_OK) {                                                                    \
            fprintf(stderr, "soak: %s: %s\n", #x, clnorm_errmsg(ctx));                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 100000;
    clnorm_test_fault_arm(0, 0); /* start the per-site counters */
    clnorm_context *ctx = NULL;
    if (clnorm_context_create(NULL, 0, &ctx) != CLNORM_OK) {
        fprintf(stderr, "soak: %s\n", clnorm_errmsg(ctx));
        return 1;
    }
    cl_int err;
    size_t count = 4 * 256 * 80;
    cl_mem a =
        clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE, count * 4, NULL, &err);
    cl_mem b =
        clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE, count * 4, NULL, &err);
    float *host = malloc(count * 4), alpha[80];
    for (size_t i = 0; i < count; ++i)
        host[i] = (float)((i * 7919) % 1000) * 0.01f;
    for (int i = 0; i < 80; ++i)
        alpha[i] = 1.0f;
    clEnqueueWriteBuffer(clnorm_context_queue(ctx), a, CL_TRUE, 0, count * 4, host, 0, NULL, NULL);
    clnorm_varnorm2d *vn;
    clnorm_revin *bld, *bdl;
    CHECK(clnorm_varnorm2d_create(ctx, 80, &vn));
    CHECK(clnorm_revin_create(ctx, 80, 0, &bld));
    CHECK(clnorm_revin_create(ctx, 80, CLNORM_REVIN_TRANSPOSED, &bdl));
    clnorm_varnorm2d_params p = {alpha, 1};
    const char *buffers[] = {"clCreateBuffer"},
               *events[] = {"event created"}; /* the references handed out are the caller's */
    const char *kernels[] = {"clCreateKernel"},
               *programs[] = {"clCreateProgramWithSource", "clCreateProgramWithBinary"};
    printf("%10s %10s %8s %8s %8s %8s\n", "forwards", "RSS KiB", "buffers", "events", "kernels",
           "programs");
    for (long i = 1; i <= total; ++i) {
        cl_event e = NULL;
        CHECK(clnorm_varnorm2d_forward(vn, &p, 4, 80, 16, 16, a, 0, b, 0, 0, NULL, NULL));
        CHECK(clnorm_revin_forward(bld, NULL, 4, 256, a, 0, b, 0, 0, NULL, &e));
        CHECK(clnorm_revin_inverse(bld, NULL, 4, 256, b, 0, b, 0, 1, &e, NULL));
        clReleaseEvent(e);
        CHECK(clnorm_revin_forward(bdl, NULL, 4, 256, a, 0, b, 0, 0, NULL, NULL));
        CHECK(clnorm_revin_inverse(bdl, NULL, 4, 256, b, 0, b, 0, 0, NULL, NULL));
        if (i % 64 == 0)
            clFinish(clnorm_context_queue(ctx));
        if (i % (total / 10 ? total / 10 : 1) == 0 || i == 1) {
            clFinish(clnorm_context_queue(ctx));
            printf("%10ld %10ld %8ld %8ld %8ld %8ld\n", i, rss_kib(),
                   live(buffers, 1, "clReleaseMemObject"), live(events, 1, "clReleaseEvent"),
                   live(kernels, 1, "clReleaseKernel"), live(programs, 2, "clReleaseProgram"));
            fflush(stdout);
        }
    }
    clnorm_varnorm2d_destroy(vn);
    clnorm_revin_destroy(bld);
    clnorm_revin_destroy(bdl);
    clnorm_context_destroy(ctx);
    printf("after destroy: buffers %ld events %ld kernels %ld programs %ld\n",
           live(buffers, 1, "clReleaseMemObject"), live(events, 1, "clReleaseEvent"),
           live(kernels, 1, "clReleaseKernel"), live(programs, 2, "clReleaseProgram"));
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    free(host);
    return 0;
}
