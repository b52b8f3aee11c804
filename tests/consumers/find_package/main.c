/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: a consumer that leaves CL_TARGET_OPENCL_VERSION to the OpenCL
 * headers (they default to 3.0): its own context and a queue made with
 * clCreateCommandQueueWithProperties, wrapped by clnorm; RevIN on it, checked
 * against a float64 reference. Neither clnorm.h nor clnorm::clnorm may lower
 * the target (a hidden 2.0 declaration would be called as int and crash). */
#include <clnorm.h>
#if CL_TARGET_OPENCL_VERSION < 200
#error "clnorm lowered this program's OpenCL target version"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { B = 3, L = 50, D = 4 };

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "consumer_cmake: %s failed\n", what);                                  \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

int main(void)
{
    int rc = 1;
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx = NULL;
    cl_command_queue queue = NULL;
    cl_mem x = NULL, y = NULL;
    clnorm_context *cn = NULL;
    clnorm_revin *revin = NULL;
    cl_event done_ev = NULL;
    cl_int err;
    static float host[B * L * D], out[B * L * D];
    for (int i = 0; i < B * L * D; ++i)
        host[i] = (float)(100.0 + sin(0.37 * i) * (1 + i % 5));

    CHECK(clGetPlatformIDs(1, &platform, NULL) == CL_SUCCESS, "clGetPlatformIDs");
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) == CL_SUCCESS,
          "clGetDeviceIDs");
    ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err == CL_SUCCESS, "clCreateContext");
    queue = clCreateCommandQueueWithProperties(ctx, device, NULL, &err); /* OpenCL 2.0 */
    CHECK(err == CL_SUCCESS, "clCreateCommandQueueWithProperties");
    x = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof host, host, &err);
    CHECK(err == CL_SUCCESS, "clCreateBuffer x");
    y = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof host, NULL, &err);
    CHECK(err == CL_SUCCESS, "clCreateBuffer y");

    CHECK(clnorm_context_wrap(ctx, device, queue, 0, &cn) == CLNORM_OK, clnorm_errmsg(cn));
    CHECK(clnorm_revin_create(cn, D, 0, &revin) == CLNORM_OK, clnorm_errmsg(cn));
    CHECK(clnorm_revin_forward(revin, NULL, B, L, x, 0, y, 0, 0, NULL, &done_ev) == CLNORM_OK,
          clnorm_errmsg(cn));
    CHECK(clEnqueueReadBuffer(queue, y, CL_TRUE, 0, sizeof out, out, 1, &done_ev, NULL) ==
              CL_SUCCESS,
          "clEnqueueReadBuffer");

    double worst = 0;
    for (int b = 0; b < B; ++b)
        for (int d = 0; d < D; ++d) {
            double m = 0, v = 0;
            for (int l = 0; l < L; ++l)
                m += host[(b * L + l) * D + d];
            m /= L;
            for (int l = 0; l < L; ++l)
                v += pow(host[(b * L + l) * D + d] - m, 2);
            double s = sqrt(v / L) + 1e-4;
            for (int l = 0; l < L; ++l) {
                double e = fabs(out[(b * L + l) * D + d] - (host[(b * L + l) * D + d] - m) / s);
                worst = e > worst || e != e ? e : worst;
            }
        }
    CHECK(worst < 1e-5, "RevIN against the float64 reference");
    printf("consumer_cmake: RevIN (%d, %d, %d) on a CL 3.0 queue, max error %.2g: ok\n", B, L, D,
           worst);
    rc = 0;
done:
    if (done_ev)
        clReleaseEvent(done_ev); /* the caller's, as clnorm.h says */
    clnorm_revin_destroy(revin);
    clnorm_context_destroy(cn);
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
