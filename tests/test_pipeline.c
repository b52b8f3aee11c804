/* SPDX-License-Identifier: Apache-2.0 */
/* test_pipeline.c: the embedding contracts: in place, byte offsets (and the
 * bytes around them untouched), out-of-order queues ordered by wait lists
 * only, a caller's context/queue/buffers with the caller's own kernels before
 * and after a layer, and no device allocation per forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "support.h"
#include "test_main.h"

#define POISON (-7.75e30f)

/* RevIN forward of (b, l, d) read back and checked against the reference. */
static size_t check_revin_output(const float *x, const float *y, size_t b, size_t l, size_t d,
                                 int transposed, const char *what)
{
    size_t count = b * l * d, rows = b * d;
    size_t outer = transposed ? rows : b, inner = transposed ? 1 : d;
    double *ry = malloc(count * 8), *tol = malloc(count * 8), *rm = malloc(rows * 8),
           *rs = malloc(rows * 8);
    ref_revin(x, outer, l, inner, ry, rm, rs);
    tol_revin_y(ry, rm, rs, outer, l, inner, tol);
    size_t bad = check_close(what, y, ry, tol, count);
    free(ry), free(tol), free(rm), free(rs);
    return bad;
}

/* RevIN in place: output == input. */
static void revin_in_place(clnorm_context *ctx, size_t b, size_t l, size_t d, int transposed)
{
    size_t count = b * l * d;
    float *x = malloc(count * 4), *y = malloc(count * 4);
    assert_true(x && y);
    fill_family(x, transposed ? b * d : b, l, transposed ? 1 : d, FAMILY_OFFSET);
    cl_mem buf = buffer_from(ctx, x, count, 0);
    clnorm_revin *layer;
    assert_int_equal(clnorm_revin_create(ctx, d, transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer),
                     CLNORM_OK);
    assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, buf, 0, buf, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, buf, 0, y, count);
    assert_int_equal(check_revin_output(x, y, b, l, d, transposed, "revin in place"), 0);
    clnorm_revin_destroy(layer);
    clReleaseMemObject(buf);
    free(x), free(y);
}

/* In place (output == input), for both layers and both RevIN layouts. */
static void in_place(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    revin_in_place(ctx, 3, 70001, 4, 0); /* long rows: the split path too */
    revin_in_place(ctx, 3, 70001, 4, 1);
    revin_in_place(ctx, 40, 301, 64, 0); /* CPU variant: runs of slabs per work-item */
    size_t n = 1, c = 2, hw = 300000, count = n * c * hw;
    float *x = malloc(count * 4), *y = malloc(count * 4), alpha[2] = {0.9f, 1.1f};
    double *ref = malloc(count * 8), *tol = malloc(count * 8);
    fill_family(x, n * c, hw, 1, FAMILY_SCALES);
    ref_varnorm2d(x, n * c, hw, c, alpha, ref);
    tol_relative(ref, count, 4.0, tol);
    cl_mem buf = buffer_from(ctx, x, count, 0);
    clnorm_varnorm2d *vn;
    assert_int_equal(clnorm_varnorm2d_create(ctx, c, &vn), CLNORM_OK);
    clnorm_varnorm2d_params p = {alpha, 0};
    assert_int_equal(clnorm_varnorm2d_forward(vn, &p, n, c, 1, hw, buf, 0, buf, 0, 0, NULL, NULL),
                     CLNORM_OK);
    buffer_read(ctx, buf, 0, y, count);
    assert_int_equal(check_close("varnorm2d in place", y, ref, tol, count), 0);
    clnorm_varnorm2d_destroy(vn);
    clReleaseMemObject(buf);
    free(x), free(y), free(ref), free(tol);
    clnorm_context_destroy(ctx);
}

/* Non-zero byte offsets into larger buffers: results land exactly in
 * [offset, offset + extent) and every other float keeps its poison. */
static void offsets(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    const size_t in_pads[] = {1, 3, 16, 17}, out_pads[] = {5, 0, 7, 64};
    for (size_t t = 0; t < 4; ++t) {
        for (int transposed = 0; transposed < 2; ++transposed) {
            size_t b = 2, l = 333, d = 8, count = b * l * d, tail = 9;
            size_t ip = in_pads[t], op = out_pads[t];
            float *x = malloc(count * 4), *all = malloc((op + count + tail) * 4);
            fill_family(x, transposed ? b * d : b, l, transposed ? 1 : d, FAMILY_NORMAL);
            cl_mem in = buffer_from(ctx, x, count, ip);
            cl_mem out = buffer_poisoned(ctx, op + count + tail);
            clnorm_revin *layer;
            assert_int_equal(
                clnorm_revin_create(ctx, d, transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer),
                CLNORM_OK);
            assert_int_equal(
                clnorm_revin_forward(layer, NULL, b, l, in, ip * 4, out, op * 4, 0, NULL, NULL),
                CLNORM_OK);
            buffer_read(ctx, out, 0, all, op + count + tail);
            for (size_t i = 0; i < op; ++i)
                assert_true(all[i] == POISON);
            for (size_t i = 0; i < tail; ++i)
                assert_true(all[op + count + i] == POISON);
            assert_int_equal(check_revin_output(x, all + op, b, l, d, transposed, "offsets"), 0);
            /* the inverse over the same offsets restores x */
            assert_int_equal(
                clnorm_revin_inverse(layer, NULL, b, l, out, op * 4, out, op * 4, 0, NULL, NULL),
                CLNORM_OK);
            buffer_read(ctx, out, 0, all, op + count + tail);
            for (size_t i = 0; i < count; ++i)
                assert_true(fabsf(all[op + i] - x[i]) <= 1e-5f * (1.0f + fabsf(x[i])));
            assert_true(all[op + count] == POISON);
            clnorm_revin_destroy(layer);
            clReleaseMemObject(in), clReleaseMemObject(out);
            free(x), free(all);
        }
    }
    clnorm_context_destroy(ctx);
}

/* A context wrapping the caller's objects; the queue may be out of order. */
static clnorm_context *wrap_own(cl_command_queue_properties props, cl_context *cctx,
                                cl_command_queue *queue)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    assert_int_equal(clGetPlatformIDs(1, &platform, NULL), CL_SUCCESS);
    assert_int_equal(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL), CL_SUCCESS);
    *cctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    *queue = clCreateCommandQueue(*cctx, device, props, &err);
    assert_int_equal(err, CL_SUCCESS);
    clnorm_context *ctx = NULL;
    assert_int_equal(clnorm_context_wrap(*cctx, device, *queue, 0, &ctx), CLNORM_OK);
    return ctx;
}

/* The caller's own kernels: x *= 2 before the layer, y += 1 after. */
static const char *caller_source =
    "__kernel void twice(__global float *p) { size_t i = get_global_id(0); p[i] *= 2.0f; }\n"
    "__kernel void plus_one(__global float *p) { size_t i = get_global_id(0); p[i] += 1.0f; }\n";

/* Every command ordered by events alone, on an out-of-order queue, with the
 * caller's kernels and non-blocking transfers around the layer. */
static void out_of_order_pipeline(void **state)
{
    (void)state;
    cl_context cctx;
    cl_command_queue q;
    clnorm_context *ctx = wrap_own(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &cctx, &q);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(cctx, 1, &caller_source, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_device_id dev = clnorm_context_device(ctx);
    assert_int_equal(clBuildProgram(prog, 1, &dev, NULL, NULL, NULL), CL_SUCCESS);
    cl_kernel twice = clCreateKernel(prog, "twice", &err),
              plus_one = clCreateKernel(prog, "plus_one", &err);
    assert_int_equal(err, CL_SUCCESS);

    size_t b = 4, l = 5000, d = 16, count = b * l * d;
    float *x = malloc(count * 4), *x2 = malloc(count * 4), *y = malloc(count * 4);
    float *back = malloc(count * 4);
    fill_family(x, b, l, d, FAMILY_SCALES);
    for (size_t i = 0; i < count; ++i)
        x2[i] = 2.0f * x[i];
    cl_mem in = clCreateBuffer(cctx, CL_MEM_READ_WRITE, count * 4, NULL, &err);
    cl_mem mid = clCreateBuffer(cctx, CL_MEM_READ_WRITE, count * 4, NULL, &err);
    cl_mem out = clCreateBuffer(cctx, CL_MEM_READ_WRITE, count * 4, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    clnorm_revin *layer;
    assert_int_equal(clnorm_revin_create(ctx, d, 0, &layer), CLNORM_OK);

    for (int round = 0; round < 3; ++round) {
        cl_event ev[6];
        assert_int_equal(clEnqueueWriteBuffer(q, in, CL_FALSE, 0, count * 4, x, 0, NULL, &ev[0]),
                         CL_SUCCESS);
        assert_int_equal(clSetKernelArg(twice, 0, sizeof in, &in), CL_SUCCESS);
        assert_int_equal(clEnqueueNDRangeKernel(q, twice, 1, NULL, &count, NULL, 1, &ev[0], &ev[1]),
                         CL_SUCCESS);
        assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, in, 0, mid, 0, 1, &ev[1], &ev[2]),
                         CLNORM_OK);
        assert_int_equal(clSetKernelArg(plus_one, 0, sizeof mid, &mid), CL_SUCCESS);
        assert_int_equal(
            clEnqueueNDRangeKernel(q, plus_one, 1, NULL, &count, NULL, 1, &ev[2], &ev[3]),
            CL_SUCCESS);
        /* undo the +1 is not the layer's business: invert the normalised + 1 */
        assert_int_equal(clnorm_revin_inverse(layer, NULL, b, l, mid, 0, out, 0, 1, &ev[3], &ev[4]),
                         CLNORM_OK);
        assert_int_equal(clEnqueueReadBuffer(q, mid, CL_FALSE, 0, count * 4, y, 1, &ev[4], &ev[5]),
                         CL_SUCCESS);
        assert_int_equal(clWaitForEvents(1, &ev[5]), CL_SUCCESS);
        assert_int_equal(clEnqueueReadBuffer(q, out, CL_TRUE, 0, count * 4, back, 1, &ev[4], NULL),
                         CL_SUCCESS);
        for (int i = 0; i < 6; ++i)
            clReleaseEvent(ev[i]);
        /* y = revin(2x) + 1; back = (y) * s + m = 2x + s */
        for (size_t i = 0; i < count; ++i)
            y[i] -= 1.0f;
        assert_int_equal(check_revin_output(x2, y, b, l, d, 0, "out-of-order pipeline"), 0);
        float *sm = malloc(b * d * 4), *ss = malloc(b * d * 4);
        assert_int_equal(clnorm_revin_read_stats(layer, sm, ss, b * d), CLNORM_OK);
        for (size_t i = 0; i < count; ++i) {
            size_t r = (i / (l * d)) * d + i % d;
            float expect = x2[i] + ss[r];
            assert_true(fabsf(back[i] - expect) <= 1e-5f * (fabsf(expect) + ss[r] * 8.0f));
        }
        free(sm), free(ss);
    }
    clnorm_revin_destroy(layer);
    clnorm_context_destroy(ctx);
    /* the caller's objects are intact after the wrapper is gone */
    assert_int_equal(clEnqueueNDRangeKernel(q, plus_one, 1, NULL, &count, NULL, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clFinish(q), CL_SUCCESS);
    clReleaseMemObject(in), clReleaseMemObject(mid), clReleaseMemObject(out);
    clReleaseKernel(twice), clReleaseKernel(plus_one), clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(cctx);
    free(x), free(x2), free(y), free(back);
}

/* After the first forward of a shape: no buffer creation, no allocation. */
static void no_allocation_per_forward(void **state)
{
    (void)state;
    clnorm_context *ctx = test_context(0);
    size_t b = 1, l = 200000, d = 1, count = b * l * d; /* split: partials scratch */
    float *x = malloc(count * 4), alpha[3] = {1, 1, 1};
    fill_family(x, 1, l, 1, FAMILY_NORMAL);
    cl_mem in = buffer_from(ctx, x, count, 0), out = buffer_poisoned(ctx, count);
    clnorm_revin *layer;
    clnorm_varnorm2d *vn;
    assert_int_equal(clnorm_revin_create(ctx, d, CLNORM_REVIN_TRANSPOSED, &layer), CLNORM_OK);
    assert_int_equal(clnorm_varnorm2d_create(ctx, 3, &vn), CLNORM_OK);
    clnorm_varnorm2d_params p = {alpha, 0};
    cl_event wait;
    assert_int_equal(clEnqueueMarkerWithWaitList(clnorm_context_queue(ctx), 0, NULL, &wait),
                     CL_SUCCESS);
    /* warm: scratch, statistics and parameters exist after these */
    assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, in, 0, out, 0, 1, &wait, NULL),
                     CLNORM_OK);
    assert_int_equal(
        clnorm_varnorm2d_forward(vn, &p, 1, 3, 1, l / 3, in, 0, out, 0, 1, &wait, NULL), CLNORM_OK);
    clnorm_test_fault_arm(0, 0); /* reset the per-site counters */
    for (int i = 0; i < 10; ++i) {
        assert_int_equal(clnorm_revin_forward(layer, NULL, b, l, in, 0, out, 0, 1, &wait, NULL),
                         CLNORM_OK);
        assert_int_equal(clnorm_revin_inverse(layer, NULL, b, l, out, 0, out, 0, 1, &wait, NULL),
                         CLNORM_OK);
        assert_int_equal(
            clnorm_varnorm2d_forward(vn, &p, 1, 3, 1, l / 3, in, 0, out, 0, 1, &wait, NULL),
            CLNORM_OK);
    }
    assert_int_equal(clnorm_test_fault_site_calls("clCreateBuffer"), 0);
    assert_int_equal(clnorm_test_fault_site_calls("malloc"), 0);
    assert_int_equal(clnorm_test_fault_site_calls("realloc"), 0);
    assert_int_equal(clnorm_test_fault_site_calls("calloc"), 0);
    assert_int_equal(clnorm_test_fault_site_calls("clFinish"), 0);
    assert_true(clnorm_test_fault_site_calls("clEnqueueNDRangeKernel") ==
                10 * (2 + 1 + 2)); /* split rows: two launches each */
    finish(ctx);
    clReleaseEvent(wait);
    clnorm_revin_destroy(layer);
    clnorm_varnorm2d_destroy(vn);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(x);
    clnorm_context_destroy(ctx);
}

TEST_MAIN_SEEDED(NULL, NULL, TEST_ALL_VARIANTS(in_place), TEST_ALL_VARIANTS(offsets),
                 cmocka_unit_test(out_of_order_pipeline),
                 cmocka_unit_test(no_allocation_per_forward))
