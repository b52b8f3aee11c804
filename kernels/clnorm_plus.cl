/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_plus.cl: InstanceNorm2dPlus's statistic across rows. Per sample,
 * the mean m and unbiased variance v of its C channel means mu, and each
 * channel's affine:
 *   mu' = (mu - m) / sqrt(v + eps), b = gamma * alpha * mu' + beta,
 *   y = (x - mu) / sd * gamma + b.
 * C == 1 has no variance: 0 / 0 gives NaN, as torch.var does.
 *   norm_plus     (any device) after a standardising pass that stored each
 *                 plane's mean exactly (hi in stat_m, lo in stat_s): stores
 *                 stat_s[row] = gamma, stat_m[row] = b for an elementwise pass
 *   plus_samples  (CPU devices, contiguous planes) the whole op, a run of
 *                 samples per work-item: each plane's mean and sd stored exactly
 *                 (rows [0, outer) and [outer, 2 outer) of stat_m and
 *                 stat_s, hi and lo), then y from x; x is read twice and y
 *                 written once (norm_plus's path writes y twice)
 *   plus_moments, the same in two launches, a run of rows per item, for
 *   plus_apply    fewer samples than the device has room for
 * Includes clnorm_cpu.cl (rows_pipe). */
#ifndef CLNORM_PLUS_CL
#define CLNORM_PLUS_CL

#include "clnorm_cpu.cl"

CLNORM_INLINE acc channel_mean(__global const float *stat_m, __global const float *stat_s,
                               ulong row)
{
    return acc_from_hilo(stat_m[row], stat_s[row]);
}

/* The mean m and sqrt(v + eps) of sample smp's channel means. */
CLNORM_INLINE void plus_sample(const op_t *p, ulong smp, acc *m, acc *sd)
{
    ulong c = p->nchan, r0 = smp * c;
    acc sum = acc_zero(), m2 = acc_zero();
    for (ulong k = 0; k < c; ++k)
        sum = acc_add(sum, channel_mean(p->stat_m, p->stat_s, r0 + k));
    *m = acc_div(sum, acc_from_count(c));
    for (ulong k = 0; k < c; ++k) {
        acc d = acc_sub(channel_mean(p->stat_m, p->stat_s, r0 + k), *m);
        m2 = acc_add(m2, acc_mul(d, d));
    }
    *sd = acc_sqrt(acc_add(acc_div(m2, acc_from_count(c - 1)), p->eps));
}

/* Plane `row`'s b = gamma * alpha * (mu - m) / sdp + beta, and its gamma
 * in *g: its sample's m and sdp = sqrt(v + eps) given. */
CLNORM_INLINE acc plane_shift(const op_t *p, ulong row, acc m, acc sdp, acc *g)
{
    ulong idx = param_index(p, row);
    *g = param_or(p, CLNORM_OP_GAMMA, p->poff.s0, idx, 1.0f);
    acc beta = param_or(p, CLNORM_OP_BETA, p->poff.s1, idx, 0.0f);
    acc alpha = acc_from_float(p->prm[p->poff.sa + idx]);
    acc mu1 = acc_div(acc_sub(channel_mean(p->stat_m, p->stat_s, row), m), sdp);
    return acc_add(acc_mul(*g, acc_mul(alpha, mu1)), beta);
}

/* One work-item per sample (outer samples of n = nchan channels). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_plus(KERNEL_ARGS)
{
    ulong smp = get_global_id(0);
    if (smp >= outer)
        return;
    op_t p = OP_OF_ARGS; /* its stat_m, stat_s from CLNORM_POFF_STAT0 */
    acc m, sdp, g;
    plus_sample(&p, smp, &m, &sdp);
    for (ulong row = smp * n; row < (smp + 1) * n; ++row) {
        p.stat_m[row] = acc_to_float(plane_shift(&p, row, m, sdp, &g));
        p.stat_s[row] = acc_to_float(g);
    }
}

/* A plane's per-lane sums about `piv` -> its mean and sd, stored exactly:
 * rows [0, rows) of stat_m/stat_s hold the means, [rows, 2 rows) the sds
 * (hi in stat_m, lo in stat_s). */
CLNORM_INLINE void plane_store(const op_t *p, ulong row, ulong rows, ulong n, float piv, acc *s1,
                               acc *s2)
{
    acc mean, m2;
    lanes_fold(s1, s2);
    moments(n, piv, s1[0], s2[0], &mean, &m2);
    acc sd = acc_sqrt(acc_add(acc_div(m2, acc_from_count(n)), p->eps));
    p->stat_m[row] = acc_hi(mean);
    p->stat_s[row] = acc_lo(mean);
    p->stat_m[rows + row] = acc_hi(sd);
    p->stat_s[rows + row] = acc_lo(sd);
}

/* The means and sds of contiguous planes [first, last) of n elements. */
CLNORM_INLINE void plane_moments(const op_t *p, __global const float *x, ulong n, ulong rows,
                                 ulong first, ulong last)
{
    item_t it = whole_row(n);
    for (ulong row = first; row < last; ++row) {
        __global const float *xq = x + row * n;
        float piv = xq[0];
        acc s1[VW], s2[VW];
        accumulate(xq, &it, FILLV(piv), s1, s2);
        plane_store(p, row, rows, n, piv, s1, s2);
    }
}

/* Plane `row`'s scaling, its sample's m and sqrt(v + eps) given. */
CLNORM_INLINE scalev_t plane_scale(const op_t *p, ulong row, ulong rows, acc m, acc sdp)
{
    acc g, b = plane_shift(p, row, m, sdp, &g);
    acc sd = acc_from_hilo(p->stat_m[rows + row], p->stat_s[rows + row]);
    return splat(scale_of(channel_mean(p->stat_m, p->stat_s, row), acc_div(g, sd), b));
}

/* y from x for planes [first, last) that plane_moments measured, working
 * out the statistic across channels of each sample they belong to. */
CLNORM_INLINE void plane_apply(const op_t *p, __global const float *x, __global float *y, ulong n,
                               ulong rows, ulong first, ulong last)
{
    axis_t none = axis_of(p);
    item_t it = whole_row(n);
    item_t tail_only = {0, VW, 0, it.tail_at, it.tail};
    ulong smp = ~(ulong)0;
    acc m = acc_zero(), sdp = acc_zero();
    for (ulong row = first; row < last; ++row) {
        if (row / p->nchan != smp) {
            smp = row / p->nchan;
            plus_sample(p, smp, &m, &sdp);
        }
        scalev_t s = plane_scale(p, row, rows, m, sdp);
        __global const float *xq = x + row * n;
        __global float *yq = y + row * n;
        /* in memory order, not apply_item's last-first: the plane was read
         * a sample ago, not just now (apply_item: 0.80 of copy against 0.84,
         * 16x64x128x128, 5 alternated rounds) */
        for (ulong t = 0; t < it.nvec; ++t)
            STORE_GLOBAL(apply_v(LOADV(xq + t * VW), &s, FORM_BIAS), yq + t * VW);
        apply_item(xq, yq, &tail_only, &s, &none, FORM_BIAS);
    }
}

/* Sample smp's planes normalised while the next sample's are summed, plane
 * by plane (rows_pipe): reads and writes stream together, as in a copy. */
CLNORM_INLINE void sample_pipe(const op_t *p, __global const float *x, __global float *y, ulong n,
                               ulong rows, ulong smp)
{
    ulong c = p->nchan;
    axis_t none = axis_of(p);
    item_t it = whole_row(n);
    item_t tail_only = {0, VW, 0, it.tail_at, it.tail};
    acc m, sdp;
    plus_sample(p, smp, &m, &sdp);
    for (ulong row = smp * c; row < (smp + 1) * c; ++row) {
        scalev_t s = plane_scale(p, row, rows, m, sdp);
        __global const float *xq = x + row * n, *xn = xq + c * n;
        __global float *yq = y + row * n;
        float piv = xn[0];
        floatV vp = FILLV(piv);
        accv_t a;
        accv_init(&a);
        rows_pipe(xq, yq, xn, it.nvec, &s, &none, vp, &a, FORM_BIAS);
        if (it.tail)
            accv_add(&a, load_tail(xn + it.tail_at, it.tail, vp), vp);
        apply_item(xq, yq, &tail_only, &s, &none, FORM_BIAS);
        acc s1[VW], s2[VW];
        accv_lanes(&a, s1, s2);
        plane_store(p, row + c, rows, n, piv, s1, s2);
    }
}

/* A run of `nparts` planes per item: their means and sds. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void plus_moments(KERNEL_ARGS)
{
    ulong first = get_global_id(0) * nparts;
    op_t p = OP_OF_ARGS;
    plane_moments(&p, x + x_off, n, outer, first, min(outer, first + nparts));
}

/* The same runs, after plus_moments: y. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void plus_apply(KERNEL_ARGS)
{
    ulong first = get_global_id(0) * nparts;
    op_t p = OP_OF_ARGS;
    plane_apply(&p, x + x_off, y + y_off, n, outer, first, min(outer, first + nparts));
}

/* A run of `nparts` samples per work-item, in a group of its own (PoCL
 * gives each group a core), software-pipelined: the first sample's planes
 * summed, each next one summed while the one before is normalised
 * (sample_pipe), the last normalised alone, re-read from cache. The whole
 * op in one launch. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void plus_samples(KERNEL_ARGS)
{
    op_t p = OP_OF_ARGS;
    ulong c = p.nchan, samples = outer / c;
    ulong first = get_global_id(0) * nparts, last = min(samples, first + nparts);
    if (first >= samples)
        return;
    __global const float *xv = x + x_off;
    __global float *yv = y + y_off;
    plane_moments(&p, xv, n, outer, first * c, (first + 1) * c);
    for (ulong smp = first; smp + 1 < last; ++smp)
        sample_pipe(&p, xv, yv, n, outer, smp);
    plane_apply(&p, xv, yv, n, outer, (last - 1) * c, last * c);
}

#endif /* CLNORM_PLUS_CL */
