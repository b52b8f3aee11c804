/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_fp64_rate.cl: the measurement behind CLNORM_ACCUMULATE=auto on a
 * GPU whose queries do not tell its fp64 rate (src/accumulate.c). Two
 * kernels do the same chains of fused multiply-adds, one in float and one in
 * double; the ratio of their times is the device's fp64 rate. Eight
 * independent chains per work-item hide the fma latency, so the loop is
 * bound by the arithmetic units, and the result is stored so that the
 * compiler keeps the loop. A separate program: the library's kernels must
 * build on devices without fp64, this one is only built on devices with it. */

#pragma OPENCL FP_CONTRACT OFF

#define CLNORM_FMA_CHAINS(T, n, seed, out)                                                         \
    do {                                                                                           \
        T a = (T)1.0001f, b = (T)-0.0001f;                                                         \
        T c0 = (seed), c1 = c0 + (T)1, c2 = c0 + (T)2, c3 = c0 + (T)3;                             \
        T c4 = c0 + (T)4, c5 = c0 + (T)5, c6 = c0 + (T)6, c7 = c0 + (T)7;                          \
        for (int i = 0; i < (n); ++i) {                                                            \
            c0 = fma(c0, a, b);                                                                    \
            c1 = fma(c1, a, b);                                                                    \
            c2 = fma(c2, a, b);                                                                    \
            c3 = fma(c3, a, b);                                                                    \
            c4 = fma(c4, a, b);                                                                    \
            c5 = fma(c5, a, b);                                                                    \
            c6 = fma(c6, a, b);                                                                    \
            c7 = fma(c7, a, b);                                                                    \
        }                                                                                          \
        (out) = (float)(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)));                        \
    } while (0)

__kernel void fp32_fma_chains(__global float *out, int n)
{
    float r;
    CLNORM_FMA_CHAINS(float, n, (float)get_global_id(0) * 1e-6f, r);
    out[get_global_id(0)] = r;
}

#if defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
__kernel void fp64_fma_chains(__global float *out, int n)
{
    float r;
    CLNORM_FMA_CHAINS(double, n, (double)get_global_id(0) * 1e-6, r);
    out[get_global_id(0)] = r;
}
#endif
