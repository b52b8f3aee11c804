/* SPDX-License-Identifier: Apache-2.0 */
/* example_embed.c: the README's embedding example as a program that runs:
 * a caller's own context, queue and buffers, RevIN in and out around "the
 * model", everything ordered by events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clnorm.h"

enum { B = 4, L = 96, D = 7, H = L }; /* H: the horizon the model forecasts; here L */

static int run(cl_context ctx, cl_device_id dev, cl_command_queue queue, cl_mem x, cl_mem y,
               cl_event written, cl_event *restored)
{
    cl_event model_done = NULL;
    /* ---- README excerpt starts ---- */
    clnorm_context *cn = NULL;
    if (clnorm_context_wrap(ctx, dev, queue, 0, &cn) != CLNORM_OK) {
        fprintf(stderr, "clnorm: %s\n", clnorm_errmsg(cn)); /* cn may be NULL */
        clnorm_context_destroy(cn);
        return -1;
    }
    clnorm_revin *revin = NULL;
    clnorm_status st = clnorm_revin_create(cn, D, 0, &revin); /* (B, L, D) */

    cl_event normalised = NULL;
    if (st == CLNORM_OK) /* waits for `written`, enqueues, returns: y = (x - m) / s */
        st = clnorm_revin_forward(revin, NULL, B, L, x, 0, y, 0, 1, &written, &normalised);
    /* ... the model runs on y, ordered after `normalised`; here: a marker ... */
    if (st == CLNORM_OK &&
        clEnqueueMarkerWithWaitList(queue, 1, &normalised, &model_done) != CL_SUCCESS)
        st = CLNORM_OPENCL_ERROR;
    if (st == CLNORM_OK) /* ReversibleInstanceNorm1dOutput: y * s + m over a horizon H */
        st = clnorm_revin_inverse(revin, NULL, B, H, y, 0, y, 0, 1, &model_done, restored);
    if (st != CLNORM_OK)
        fprintf(stderr, "clnorm: %s\n", clnorm_errmsg(cn));
    clnorm_revin_destroy(revin);
    clnorm_context_destroy(cn);
    /* ---- README excerpt ends ---- */
    if (normalised)
        clReleaseEvent(normalised);
    if (model_done)
        clReleaseEvent(model_done);
    return st == CLNORM_OK ? 0 : -1;
}

int main(void)
{
    cl_platform_id platform;
    cl_device_id dev;
    cl_int err;
    if (clGetPlatformIDs(1, &platform, NULL) != CL_SUCCESS ||
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &dev, NULL) != CL_SUCCESS)
        return 1;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue queue =
        clCreateCommandQueue(ctx, dev, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    static float host[B * L * D], out[B * L * D];
    for (int i = 0; i < B * L * D; ++i)
        host[i] = (float)(100.0 + 10.0 * sin(i * 0.37) + (i % D));
    cl_mem x = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof host, NULL, &err);
    cl_mem y = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof host, NULL, &err);
    cl_event written, restored = NULL;
    clEnqueueWriteBuffer(queue, x, CL_FALSE, 0, sizeof host, host, 0, NULL, &written);
    int rc = run(ctx, dev, queue, x, y, written, &restored);
    if (rc == 0) {
        /* the layer's work outlives its handles: wait for its event, then read */
        clEnqueueReadBuffer(queue, y, CL_TRUE, 0, sizeof out, out, 1, &restored, NULL);
        /* x comes back: the inverse of the normalised input */
        for (int b = 0; b < B && rc == 0; ++b)
            for (int l = 0; l < H; ++l)
                for (int d = 0; d < D; ++d) {
                    int i = (b * L + l) * D + d, o = (b * H + l) * D + d;
                    if (fabsf(out[o] - host[i]) > 1e-4f * fabsf(host[i]))
                        rc = 1;
                }
        printf("example_embed: %s\n", rc ? "FAILED" : "ok");
    }
    if (restored)
        clReleaseEvent(restored);
    clReleaseEvent(written);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    clReleaseCommandQueue(queue);
    clReleaseContext(ctx);
    return rc;
}
