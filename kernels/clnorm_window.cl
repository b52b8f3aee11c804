/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_window.cl: the statistic of a window of each row that is not a
 * moment: TSNormalization's scale, the mean of |x| over the first KEND
 * elements of the row (or, with CLNORM_OP_LAST, |x| of the KEND-th alone),
 * stored per row in stat_s for the elementwise pass. The sum of |x| has no
 * cancellation, so a plain sum in `acc` precision is exact to ~48 bits.
 * Includes clnorm_stats.cl. */
#ifndef CLNORM_WINDOW_CL
#define CLNORM_WINDOW_CL

#include "clnorm_stats.cl"

/* One work-item per row (o, i): neighbouring items read neighbouring
 * columns of the (B, L, D) layout. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_window(KERNEL_ARGS)
{
    ulong row = get_global_id(0);
    if (row >= outer * inner)
        return;
    ulong o = row / inner, i = row - o * inner;
    __global const float *xr = x + x_off + o * n * inner + i;
    ulong kend = poff.s9;
    float scale;
    if (op & CLNORM_OP_LAST) {
        scale = kend ? fabs(xr[(kend - 1) * inner]) : NAN;
    } else {
        acc sum = acc_zero();
        for (ulong k = 0; k < kend; ++k)
            sum = acc_add(sum, acc_from_float(fabs(xr[k * inner])));
        scale = acc_to_float(acc_div(sum, acc_from_count(kend)));
    }
    stat_s[row] = scale;
}

#endif /* CLNORM_WINDOW_CL */
