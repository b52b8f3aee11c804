/* SPDX-License-Identifier: Apache-2.0 */
/* soak.c: many forwards of every op of the table (tools/ops) in one process;
 * host memory (RSS) and live OpenCL objects must stay flat. Run by
 * tools/scripts/soak.sh, not by ctest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clnorm.h"
#include "fault.h"
#include "op_data.h"

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
    /* Every op of the table on its first test case, each with its layer,
     * data and buffers, made once. */
    op_case_data cd[64];
    void *layer[64] = {NULL};
    op_call k[64];
    size_t nops = op_count < 64 ? op_count : 64;
    for (size_t i = 0; i < nops; ++i) {
        const op_desc *op = op_table[i];
        const op_case *c = &op->tests[0];
        cl_int err;
        if (op_case_data_make(op, &c->config, c->shape, c->ndim, FAMILY_NORMAL, &cd[i]) != 0) {
            fprintf(stderr, "soak: out of memory\n");
            return 1;
        }
        size_t bytes = cd[i].d.count * sizeof(float), y_bytes = cd[i].d.y_count * sizeof(float);
        cl_mem in = clCreateBuffer(clnorm_context_cl_context(ctx),
                                   CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, cd[i].x, &err);
        cl_mem out =
            clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE, y_bytes, NULL, &err);
        cl_mem labels = cd[i].labels
                            ? clCreateBuffer(clnorm_context_cl_context(ctx),
                                             CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                             c->shape[0] * sizeof *cd[i].labels, cd[i].labels, &err)
                            : NULL;
        k[i] = op_case_call(&cd[i], in, out, labels);
        CHECK(op->create(ctx, &c->config, c->shape, c->ndim, &layer[i]));
        if (cd[i].nstats_in)
            CHECK(op->set_stats(&c->config, layer[i], &k[i], (const float *const *)cd[i].stats_in));
    }
    const char *buffers[] = {"clCreateBuffer"},
               *events[] = {"event created"}; /* the references handed out are the caller's */
    const char *kernels[] = {"clCreateKernel"},
               *programs[] = {"clCreateProgramWithSource", "clCreateProgramWithBinary"};
    printf("%10s %10s %8s %8s %8s %8s\n", "rounds", "RSS KiB", "buffers", "events", "kernels",
           "programs");
    for (long r = 1; r <= total; ++r) {
        for (size_t i = 0; i < nops; ++i) {
            cl_event e = NULL;
            const op_desc *op = op_table[i];
            CHECK(op->run(&op->tests[0].config, layer[i], &k[i], r % 2 ? &e : NULL));
            if (e)
                clReleaseEvent(e);
        }
        if (r % 64 == 0)
            clFinish(clnorm_context_queue(ctx));
        if (r % (total / 10 ? total / 10 : 1) == 0 || r == 1) {
            clFinish(clnorm_context_queue(ctx));
            printf("%10ld %10ld %8ld %8ld %8ld %8ld\n", r, rss_kib(),
                   live(buffers, 1, "clReleaseMemObject"), live(events, 1, "clReleaseEvent"),
                   live(kernels, 1, "clReleaseKernel"), live(programs, 2, "clReleaseProgram"));
            fflush(stdout);
        }
    }
    for (size_t i = 0; i < nops; ++i) {
        op_table[i]->destroy(layer[i]);
        clReleaseMemObject(k[i].in);
        clReleaseMemObject(k[i].out);
        if (k[i].labels)
            clReleaseMemObject(k[i].labels);
        op_case_data_free(&cd[i]);
    }
    clnorm_context_destroy(ctx);
    printf("after destroy: buffers %ld events %ld kernels %ld programs %ld\n",
           live(buffers, 1, "clReleaseMemObject"), live(events, 1, "clReleaseEvent"),
           live(kernels, 1, "clReleaseKernel"), live(programs, 2, "clReleaseProgram"));
    return 0;
}
