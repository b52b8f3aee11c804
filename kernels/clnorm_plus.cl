/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_plus.cl: InstanceNorm2dPlus's statistic across rows. Per sample,
 * the mean m and unbiased variance v of its C channel means (each stored
 * exactly, hi in stat_m and lo in stat_s, by the standardising pass), and
 * each channel's affine for the elementwise pass that follows:
 *   mu' = (mu - m) / sqrt(v + eps), b = gamma * alpha * mu' + beta,
 *   stat_s[row] = gamma, stat_m[row] = b   (y = plain * gamma + b).
 * C == 1 has no variance: 0 / 0 gives NaN, as torch.var does. Includes
 * clnorm_apply.cl. */
#ifndef CLNORM_PLUS_CL
#define CLNORM_PLUS_CL

#include "clnorm_apply.cl"

CLNORM_INLINE acc channel_mean(__global const float *stat_m, __global const float *stat_s,
                               ulong row)
{
    return acc_from_hilo(stat_m[row], stat_s[row]);
}

/* One work-item per sample (outer samples of n channels). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_plus(KERNEL_ARGS)
{
    ulong smp = get_global_id(0);
    if (smp >= outer)
        return;
    stat_m += poff.sc; /* CLNORM_POFF_STAT0 */
    stat_s += poff.sc;
    op_t p = OP_OF_ARGS;
    ulong r0 = smp * n;
    acc sum = acc_zero();
    for (ulong k = 0; k < n; ++k)
        sum = acc_add(sum, channel_mean(stat_m, stat_s, r0 + k));
    acc m = acc_div(sum, acc_from_count(n)), m2 = acc_zero();
    for (ulong k = 0; k < n; ++k) {
        acc d = acc_sub(channel_mean(stat_m, stat_s, r0 + k), m);
        m2 = acc_add(m2, acc_mul(d, d));
    }
    acc sd = acc_sqrt(acc_add(acc_div(m2, acc_from_count(n - 1)), p.eps));
    for (ulong k = 0; k < n; ++k) {
        ulong row = r0 + k, idx = param_index(&p, row);
        acc g = param_or(&p, CLNORM_OP_GAMMA, p.poff.s0, idx, 1.0f);
        acc beta = param_or(&p, CLNORM_OP_BETA, p.poff.s1, idx, 0.0f);
        acc alpha = acc_from_float(p.prm[p.poff.sa + idx]);
        acc mu1 = acc_div(acc_sub(channel_mean(stat_m, stat_s, row), m), sd);
        stat_m[row] = acc_to_float(acc_add(acc_mul(g, acc_mul(alpha, mu1)), beta));
        stat_s[row] = acc_to_float(g);
    }
}

#endif /* CLNORM_PLUS_CL */
