/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_window.cl: the statistic of a window of each row that is not a
 * moment: TSNormalization's scale, the mean of |x| over the first KEND
 * elements of the row (or, with CLNORM_OP_LAST, |x| of the KEND-th alone),
 * stored per row in stat_s for the elementwise pass. The sum of |x| has no
 * cancellation: the per-lane sums of the statistics routine (about a pivot
 * of 0) keep it to ~48 bits. Includes clnorm_stats.cl. */
#ifndef CLNORM_WINDOW_CL
#define CLNORM_WINDOW_CL

#include "clnorm_stats.cl"

/* One work-item per VW adjacent rows (columns) of one o when VW divides
 * inner (vector loads of a (B, L, D) layout's rows), else per row. With
 * CLNORM_OP_DIVIDE the item then divides its rows by their scale (x / s,
 * rounded once as PyTorch's division). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_window(KERNEL_ARGS)
{
    ulong item = get_global_id(0), kend = poff.s9;
    stat_s += poff.sc; /* CLNORM_POFF_STAT0 */
    int last = (op & CLNORM_OP_LAST) != 0, divide = (op & CLNORM_OP_DIVIDE) != 0;
    if (inner % VW == 0) {
        ulong vecs = inner / VW, o = item / vecs, c0 = (item - o * vecs) * VW;
        if (o >= outer)
            return;
        __global const float *xr = x + x_off + o * n * inner + c0;
        __global float *out = stat_s + o * inner + c0;
        if (last) {
            STOREV(fabs(LOADV(xr + (kend - 1) * inner)), out);
        } else {
            accv_t a; /* sums of |x| - 0 (and of their squares, unused) */
            accv_init(&a);
            for (ulong k = 0; k < kend; ++k)
                accv_add(&a, fabs(LOADV(xr + k * inner)), FILLV(0.0f));
            acc s1[VW], s2[VW];
            accv_lanes(&a, s1, s2);
            for (uint l = 0; l < VW; ++l)
                out[l] = acc_to_float(acc_div(s1[l], acc_from_count(kend)));
        }
        if (divide) {
            floatV s = LOADV(out);
            __global float *yr = y + y_off + o * n * inner + c0;
            for (ulong k = 0; k < n; ++k)
                STORE_GLOBAL(LOADV(xr + k * inner) / s, yr + k * inner);
        }
        return;
    }
    if (item >= outer * inner)
        return;
    ulong o = item / inner, i = item - o * inner;
    __global const float *xr = x + x_off + o * n * inner + i;
    __global float *yr = y + y_off + o * n * inner + i;
    float scale;
    if (last) {
        scale = fabs(xr[(kend - 1) * inner]);
    } else {
        acc sum = acc_zero();
        for (ulong k = 0; k < kend; ++k)
            sum = acc_add(sum, acc_from_float(fabs(xr[k * inner])));
        scale = acc_to_float(acc_div(sum, acc_from_count(kend)));
    }
    stat_s[item] = scale;
    if (divide)
        for (ulong k = 0; k < n; ++k)
            yr[k * inner] = xr[k * inner] / scale;
}

#endif /* CLNORM_WINDOW_CL */
