/* SPDX-License-Identifier: Apache-2.0 */
/* consumer.c: a program outside clnorm (tools/scripts/check_consumers.sh),
 * built three ways: with plain cc and `pkg-config --cflags --libs clnorm`
 * (so -lOpenCL must come from clnorm.pc), as an add_subdirectory project,
 * and with CONSUMER_OWN_QUEUE by a find_package(clnorm) project. That one
 * leaves CL_TARGET_OPENCL_VERSION to the OpenCL headers (they default to
 * 3.0) and makes its own context and a queue with the 2.0 call
 * clCreateCommandQueueWithProperties, wrapped by clnorm: neither clnorm.h
 * nor clnorm::clnorm may lower the target (a hidden 2.0 declaration would be
 * called as int and crash). The others let clnorm pick the device. Either
 * way VarianceNorm2d runs on the program's own buffers and is checked
 * against a float64 reference. */
#ifndef CONSUMER_OWN_QUEUE
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <clnorm.h>

#if defined(CONSUMER_OWN_QUEUE) && CL_TARGET_OPENCL_VERSION < 200
#error "clnorm lowered this program's OpenCL target version"
#endif

#include <math.h>
#include <stdio.h>

enum { N = 2, C = 3, H = 5, W = 7, HW = H * W };

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "consumer: %s failed\n", what);                                        \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

int main(void)
{
    static float host[N * C * HW], out[N * C * HW];
    const float alpha[C] = {1.0f, 0.5f, 2.0f};
    for (int i = 0; i < N * C * HW; ++i)
        host[i] = (float)(3.0 * cos(0.11 * i * i) + (i % 3));

    int rc = 1;
    cl_int err = CL_SUCCESS;
    cl_context ctx = NULL;
    cl_command_queue queue = NULL;
    cl_mem x = NULL, y = NULL;
    cl_event ev = NULL;
    clnorm_context *cn = NULL;
    clnorm_varnorm2d *vn = NULL;
#ifdef CONSUMER_OWN_QUEUE
    const char *how = "on its own CL 3.0 queue";
    cl_platform_id platform;
    cl_device_id device;
    CHECK(clGetPlatformIDs(1, &platform, NULL) == CL_SUCCESS, "clGetPlatformIDs");
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) == CL_SUCCESS,
          "clGetDeviceIDs");
    ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err == CL_SUCCESS, "clCreateContext");
    queue = clCreateCommandQueueWithProperties(ctx, device, NULL, &err); /* OpenCL 2.0 */
    CHECK(err == CL_SUCCESS, "clCreateCommandQueueWithProperties");
    CHECK(clnorm_context_wrap(ctx, device, queue, 0, &cn) == CLNORM_OK, clnorm_errmsg(cn));
#else
    const char *how = "on the device clnorm picked";
    CHECK(clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &cn) == CLNORM_OK,
          clnorm_errmsg(cn));
#endif
    CHECK(clnorm_varnorm2d_create(cn, C, &vn) == CLNORM_OK, clnorm_errmsg(cn));
    /* the program's own buffers, on the context clnorm uses */
    x = clCreateBuffer(clnorm_context_cl_context(cn), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                       sizeof host, host, &err);
    CHECK(err == CL_SUCCESS, "clCreateBuffer x");
    y = clCreateBuffer(clnorm_context_cl_context(cn), CL_MEM_READ_WRITE, sizeof out, NULL, &err);
    CHECK(err == CL_SUCCESS, "clCreateBuffer y");

    clnorm_varnorm2d_params p = {alpha, 1};
    CHECK(clnorm_varnorm2d_forward(vn, &p, N, C, H, W, x, 0, y, 0, 0, NULL, &ev) == CLNORM_OK,
          clnorm_errmsg(cn));
    CHECK(clEnqueueReadBuffer(clnorm_context_queue(cn), y, CL_TRUE, 0, sizeof out, out, 1, &ev,
                              NULL) == CL_SUCCESS,
          "clEnqueueReadBuffer");

    double worst = 0; /* alpha[c] * x / sqrt(unbiased var + 1e-5) per (n, c) plane */
    for (int r = 0; r < N * C; ++r) {
        double m = 0, v = 0;
        for (int i = 0; i < HW; ++i)
            m += host[r * HW + i];
        m /= HW;
        for (int i = 0; i < HW; ++i)
            v += pow(host[r * HW + i] - m, 2);
        v /= HW - 1;
        for (int i = 0; i < HW; ++i) {
            double want = alpha[r % C] * host[r * HW + i] / sqrt(v + 1e-5);
            double e = fabs(out[r * HW + i] - want) / fmax(1.0, fabs(want));
            worst = e > worst || e != e ? e : worst;
        }
    }
    CHECK(worst < 1e-5, "VarianceNorm2d against the float64 reference");
    printf("consumer: VarianceNorm2d (%d, %d, %d, %d) %s, max error %.2g: ok\n", N, C, H, W, how,
           worst);
    rc = 0;
done:
    if (ev)
        clReleaseEvent(ev); /* the caller's, as clnorm.h says */
    clnorm_varnorm2d_destroy(vn);
    clnorm_context_destroy(cn); /* a wrapped context and queue stay the program's */
    if (y)
        clReleaseMemObject(y);
    if (x)
        clReleaseMemObject(x);
    if (queue)
        clReleaseCommandQueue(queue);
    if (ctx)
        clReleaseContext(ctx);
    return rc;
}
