/* SPDX-License-Identifier: Apache-2.0 */
/* race_check.c: every operation of the table on its small test cases (at most
 * RACE_MAX_ELEMENTS elements, default 4096; RACE_ONLY=A,B: those classes
 * alone), normal inputs, on the default
 * device, against the float64 reference. tests/check_oclgrind.sh runs it under
 * Oclgrind, whose simulated device (with an H200's limits) then checks every
 * kernel launch for data races, uninitialised values and out-of-bounds
 * accesses; here it only has to run each kernel once on few elements.
 * Prints one line per case; exits 1 when any case fails.
 * RACE_PRIME_BUFFERS=N (RACE_PRIME_BYTES each, default 65536): see
 * prime_buffer_shadows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_check.h"
#include "support.h"
#include "test_main.h"

/* Whether `name` is one of the comma-separated names of `list`. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',')) {
        p += *p == ',';
        if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == '\0'))
            return 1;
    }
    return 0;
}

/* Oclgrind 21.10's uninitialised-value check keeps a released buffer's
 * shadow and hands it to the next buffer that reuses its index (it has no
 * deallocation hook), and gives a new buffer a poisoned shadow only when its
 * index has none. A later, larger buffer then reads as uninitialised past
 * the old one's size, and an old clean shadow hides a new buffer's
 * uninitialised reads. So that the run's buffers start as what they are,
 * uninitialised, `count` buffers of `bytes` are made here, passed to an
 * empty kernel (which gives each a poisoned shadow of its whole size) and
 * released: Oclgrind reuses indices first in, first out, so the run's next
 * buffers, up to `count` less those the context released before, take
 * these. */
static void prime_buffer_shadows(clnorm_context *ctx, size_t count, size_t bytes)
{
    enum { ARGS = 16 };
    const char *src =
        "__kernel void touch(__global float *a0, __global float *a1, __global float *a2,"
        " __global float *a3, __global float *a4, __global float *a5,"
        " __global float *a6, __global float *a7, __global float *a8,"
        " __global float *a9, __global float *a10, __global float *a11,"
        " __global float *a12, __global float *a13, __global float *a14,"
        " __global float *a15) {}";
    cl_context cl = clnorm_context_cl_context(ctx);
    cl_device_id dev = clnorm_context_device(ctx);
    cl_command_queue q = clnorm_context_queue(ctx);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(cl, 1, &src, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clBuildProgram(prog, 1, &dev, "", NULL, NULL), CL_SUCCESS);
    cl_kernel touch = clCreateKernel(prog, "touch", &err);
    assert_int_equal(err, CL_SUCCESS);
    count = (count + ARGS - 1) / ARGS * ARGS;
    cl_mem *m = malloc(count * sizeof *m);
    assert_non_null(m);
    for (size_t made = 0; made < count; made += ARGS) { /* all held: each a new index */
        size_t one = 1;
        for (cl_uint i = 0; i < ARGS; ++i) {
            m[made + i] = clCreateBuffer(cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
            assert_int_equal(err, CL_SUCCESS);
            assert_int_equal(clSetKernelArg(touch, i, sizeof(cl_mem), &m[made + i]), CL_SUCCESS);
        }
        assert_int_equal(clEnqueueNDRangeKernel(q, touch, 1, NULL, &one, &one, 0, NULL, NULL),
                         CL_SUCCESS);
    }
    assert_int_equal(clFinish(q), CL_SUCCESS);
    /* Released last made first: the first ones took indices that the
     * context's set-up had released (whose old shadows a kernel does not
     * replace), and go to the back of the queue. */
    for (size_t i = count; i-- > 0;)
        assert_int_equal(clReleaseMemObject(m[i]), CL_SUCCESS);
    free(m);
    clReleaseKernel(touch);
    clReleaseProgram(prog);
}

/* Rows long enough that a GPU plan splits them (chunks of at least 1024
 * elements: norm_partial, then norm_apply), contiguous and strided, which
 * the tables' small cases do not reach; run whatever the element limit. */
static const struct {
    const char *op;
    op_case c;
} split_cases[] = {
    {"VarianceNorm2d", {"nchw", {{0}, 0}, 4, {1, 1, 64, 64}, 0}},
    {"ReversibleInstanceNorm1dInput", {"bld", {{0, 0}, 0}, 3, {1, 2048, 2}, 0}},
};

/* Case `c` of `op` on normal inputs, its line printed first; 1 if it fails. */
static size_t check_case(clnorm_context *ctx, const op_desc *op, const op_case *c)
{
    char name[160];
    printf("# %s\n",
           op_case_name(op, &c->config, c->shape, c->ndim, FAMILY_NORMAL, ctx, name, sizeof name));
    fflush(stdout);
    return op_check(ctx, op, &c->config, c->shape, c->ndim, FAMILY_NORMAL);
}

static void every_small_case(void **state)
{
    (void)state;
    const char *limit = getenv("RACE_MAX_ELEMENTS");
    size_t max_elements = limit && *limit ? (size_t)strtoull(limit, NULL, 10) : 4096;
    const char *only = getenv("RACE_ONLY"); /* "A,B": those classes, for a closer look */
    clnorm_context *ctx = test_context(0);
    const char *prime = getenv("RACE_PRIME_BUFFERS"), *prime_bytes = getenv("RACE_PRIME_BYTES");
    if (prime && *prime)
        prime_buffer_shadows(ctx, (size_t)strtoull(prime, NULL, 10),
                             prime_bytes && *prime_bytes ? (size_t)strtoull(prime_bytes, NULL, 10)
                                                         : 65536);
    printf("# %s, %s\n", clnorm_context_device_description(ctx),
           clnorm_context_uses_fp64(ctx) ? "fp64" : "float-float");
    size_t bad = 0, cases = 0;
    for (size_t i = 0; i < op_count; ++i) {
        const op_desc *op = op_table[i];
        if (only && *only && !listed(only, op->name))
            continue;
        for (size_t t = 0; t < op->tests_count; ++t) {
            const op_case *c = &op->tests[t];
            if (op_shape_count(c->shape, c->ndim) > max_elements)
                continue;
            bad += check_case(ctx, op, c);
            cases++;
        }
        for (size_t t = 0; t < sizeof split_cases / sizeof split_cases[0]; ++t)
            if (!strcmp(split_cases[t].op, op->name)) {
                bad += check_case(ctx, op, &split_cases[t].c);
                cases++;
            }
    }
    clnorm_context_destroy(ctx);
    printf("# %zu cases, %zu failures\n", cases, bad);
    assert_true(cases > 0);
    assert_int_equal(bad, 0);
}

TEST_MAIN_SEEDED(NULL, NULL, cmocka_unit_test(every_small_case))
