/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: a consumer built with plain cc and `pkg-config --cflags --libs
 * clnorm` (tools/scripts/check_consumers.sh): clnorm picks the device; the program's
 * own OpenCL calls make and read the buffers, so -lOpenCL must come from
 * clnorm.pc. VarianceNorm2d, checked against a float64 reference. */
#define CL_TARGET_OPENCL_VERSION 120
#include <clnorm.h>

#include <math.h>
#include <stdio.h>

enum { N = 2, C = 3, H = 5, W = 7, HW = H * W };

int main(void)
{
    static float host[N * C * HW], out[N * C * HW];
    const float alpha[C] = {1.0f, 0.5f, 2.0f};
    for (int i = 0; i < N * C * HW; ++i)
        host[i] = (float)(3.0 * cos(0.11 * i * i) + (i % 3));
    int rc = 1;
    clnorm_context *cn = NULL;
    clnorm_varnorm2d *vn = NULL;
    cl_mem x = NULL, y = NULL;
    cl_event ev = NULL;
    cl_int err;
    if (clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &cn) != CLNORM_OK ||
        clnorm_varnorm2d_create(cn, C, &vn) != CLNORM_OK) {
        fprintf(stderr, "consumer_pkgconfig: %s\n", clnorm_errmsg(cn));
        goto done;
    }
    x = clCreateBuffer(clnorm_context_cl_context(cn), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                       sizeof host, host, &err);
    if (err == CL_SUCCESS)
        y = clCreateBuffer(clnorm_context_cl_context(cn), CL_MEM_READ_WRITE, sizeof out, NULL,
                           &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "consumer_pkgconfig: clCreateBuffer: %d\n", (int)err);
        goto done;
    }
    clnorm_varnorm2d_params p = {alpha, 1};
    if (clnorm_varnorm2d_forward(vn, &p, N, C, H, W, x, 0, y, 0, 0, NULL, &ev) != CLNORM_OK) {
        fprintf(stderr, "consumer_pkgconfig: %s\n", clnorm_errmsg(cn));
        goto done;
    }
    if (clEnqueueReadBuffer(clnorm_context_queue(cn), y, CL_TRUE, 0, sizeof out, out, 1, &ev,
                            NULL) != CL_SUCCESS)
        goto done;
    double worst = 0;
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
    if (!(worst < 1e-5)) {
        fprintf(stderr, "consumer_pkgconfig: max error %g\n", worst);
        goto done;
    }
    printf("consumer_pkgconfig: VarianceNorm2d (%d, %d, %d, %d), max error %.2g: ok\n", N, C, H, W,
           worst);
    rc = 0;
done:
    if (ev)
        clReleaseEvent(ev);
    if (y)
        clReleaseMemObject(y);
    if (x)
        clReleaseMemObject(x);
    clnorm_varnorm2d_destroy(vn);
    clnorm_context_destroy(cn);
    return rc;
}
