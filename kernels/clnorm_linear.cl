/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_linear.cl: the Linear layers' epilogue: the bias added to the
 * matrix product CLBlast wrote (y = x + bias, in place). The view
 * [outer][n][inner] is the output's, n its feature axis (V or H): element
 * (o, k, j) gets bias[k], or with nchan > 1 (one Linear per channel, the
 * channel being j) bias[j * n + k]; and the transposes of the per-channel
 * form. Includes clnorm_stats.cl (the argument list). */
#ifndef CLNORM_LINEAR_CL
#define CLNORM_LINEAR_CL

#include "clnorm_stats.cl"

/* One work-item per run of the view's contiguous inner axis: (o, k). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void linear_bias(KERNEL_ARGS)
{
    ulong item = get_global_id(0);
    if (item >= outer * n)
        return;
    ulong k = item % n;
    __global const float *xr = x + x_off + item * inner;
    __global float *yr = y + y_off + item * inner;
    __global const float *b = prm + poff.s1;
    if (nchan > 1) {
        for (ulong j = 0; j < inner; ++j)
            yr[j] = xr[j] + b[j * n + k];
        return;
    }
    float bk = b[k];
    for (ulong j = 0; j < inner; ++j)
        yr[j] = xr[j] + bk;
}

/* The individual form's transposes: y[o][k][j] = x[o][j][k] over the view
 * [outer][n][inner] (y's), plus bias[j * n + k] with CLNORM_OP_BETA (the
 * epilogue: one Linear per channel j). One work-item per (o, k) run of y. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void linear_transpose(KERNEL_ARGS)
{
    ulong item = get_global_id(0);
    if (item >= outer * n)
        return;
    ulong o = item / n, k = item - o * n;
    __global const float *xr = x + x_off + o * inner * n + k;
    __global float *yr = y + y_off + item * inner;
    if (op & CLNORM_OP_BETA) {
        __global const float *b = prm + poff.s1 + k;
        for (ulong j = 0; j < inner; ++j)
            yr[j] = xr[j * n] + b[j * n];
        return;
    }
    for (ulong j = 0; j < inner; ++j)
        yr[j] = xr[j * n];
}

#endif /* CLNORM_LINEAR_CL */
