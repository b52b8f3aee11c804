/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_window.cl: the statistic of a window of each row that is not a
 * moment: TSNormalization's scale, the mean of |x| over the first KEND
 * elements of the row (or, with CLNORM_OP_LAST, |x| of the KEND-th alone),
 * stored per row in stat_s, and y = x / scale (rounded once, as PyTorch's
 * division). The sum of |x| has no cancellation: the per-lane sums of the
 * statistics routine (about a pivot of 0) keep it to ~48 bits.
 *   norm_window   an item per row (or VW adjacent rows), the division optional
 *   window_rows   CPU devices, small samples of D = 1 or D the widest VW does not divide:
 *                 a sample per item, divided a vector at a time, one launch
 *   window_slabs  CPU devices: norm_slab's slabs and pipeline, one launch
 * Includes clnorm_cpu.cl. */
#ifndef CLNORM_WINDOW_CL
#define CLNORM_WINDOW_CL

#include "clnorm_cpu.cl"

/* The mean of each lane's |x| over a window of kend rows -> out[0, VW). */
CLNORM_INLINE void window_mean(const accv_t *a, ulong kend, __global float *out)
{
    acc s1[VW], s2[VW];
    accv_lanes(a, s1, s2);
    for (uint l = 0; l < VW; ++l)
        out[l] = acc_to_float(acc_div(s1[l], acc_from_count(kend)));
}

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
            window_mean(&a, kend, out);
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

/* TSNormalization of a small sample per work-item, in the contiguous rows'
 * width whatever D (<= MAXC): the window's column sums in row order, then
 * the whole sample, one contiguous run, divided a vector at a time, each
 * vector's scales read from a periodic copy of the D scales (per[j] is
 * scale[j % D]). For D = 1 and D that the contiguous width does not divide,
 * where the columns' own width is narrower (down to scalar). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void window_rows(KERNEL_ARGS)
{
    ulong o = get_global_id(0), kend = poff.s9; /* CLNORM_POFF_KEND */
    if (o >= outer)
        return;
    uint d = (uint)inner;
    __global const float *xs = x + x_off + o * n * inner;
    __global float *ys = y + y_off + o * n * inner;
    __global float *out = stat_s + poff.sc + o * inner; /* CLNORM_POFF_STAT0 */
    float per[MAXC + VW];
    if (op & CLNORM_OP_LAST) {
        for (uint c = 0; c < d; ++c)
            per[c] = fabs(xs[(kend - 1) * inner + c]);
    } else {
        acc sum[MAXC];
        for (uint c = 0; c < d; ++c)
            sum[c] = acc_zero();
        for (ulong k = 0; k < kend; ++k)
            for (uint c = 0; c < d; ++c)
                sum[c] = acc_add(sum[c], acc_from_float(fabs(xs[k * inner + c])));
        for (uint c = 0; c < d; ++c)
            per[c] = acc_to_float(acc_div(sum[c], acc_from_count(kend)));
    }
    for (uint c = 0; c < d; ++c)
        out[c] = per[c];
    for (uint j = d; j < d + VW; ++j)
        per[j] = per[j - d];
    ulong total = n * inner, nvec = total / VW;
    uint at = 0, step = VW % d; /* the first vector's column: (v * VW) % d */
    for (ulong v = 0; v < nvec; ++v) {
        STORE_GLOBAL(LOADV(xs + v * VW) / LOADV(per + at), ys + v * VW);
        at += step;
        if (at >= d)
            at -= d;
    }
    for (ulong i = nvec * VW; i < total; ++i)
        ys[i] = xs[i] / per[i % d];
}

/* A slab's scales, one vector per tile: the means of |x| over its window
 * (from its sums), or |x| of the window's last row; stored in the
 * statistics as norm_window stores them. */
CLNORM_INLINE void window_scales(const slab_t *sl, const accv_t *sums, ulong kend, ulong inner,
                                 uint nt, int by_last, __global float *stat, floatV *s)
{
    for (uint t = 0; t < nt; ++t) {
        __global float *out = stat + sl->row0 + t * VW;
        if (by_last)
            STOREV(fabs(LOADV(sl->x + (kend - 1) * inner + t * VW)), out);
        else
            window_mean(&sums[t], kend, out);
        s[t] = LOADV(out);
    }
}

/* Sums of |x| over rows [0, kend) of a slab's tiles (a run's first slab). */
CLNORM_INLINE void window_sums(const slab_t *sl, ulong kend, ulong inner, uint nt, accv_t *sums)
{
    for (uint t = 0; t < nt; ++t)
        accv_init(&sums[t]);
    for (ulong r = 0; r < kend; ++r)
        for (uint t = 0; t < nt; ++t)
            accv_add(&sums[t], fabs(LOADV(sl->x + r * inner + t * VW)), FILLV(0.0f));
}

/* Sums of |x| over rows [0, kend) of slab `next` (none when kend is 0)
 * while slab `cur` is divided by its scales, row by row: the reads of
 * both and the writes stream together, as in a copy. */
CLNORM_ALWAYS_INLINE void window_pipe(const slab_t *cur, const floatV *s, const slab_t *next,
                                      accv_t *sums, ulong n, ulong kend, ulong inner, const uint nt)
{
    accv_t a[MAXC / VW];
    floatV sc[MAXC / VW];
    for (uint t = 0; t < nt; ++t) {
        accv_init(&a[t]);
        sc[t] = s[t];
    }
    for (ulong r = 0; r < kend; ++r) {
        ulong at = r * inner;
        for (uint t = 0; t < nt; ++t) {
            accv_add(&a[t], fabs(LOADV(next->x + at + t * VW)), FILLV(0.0f));
            STORE_GLOBAL(LOADV(cur->x + at + t * VW) / sc[t], cur->y + at + t * VW);
        }
    }
    for (ulong r = kend; r < n; ++r) {
        ulong at = r * inner;
        for (uint t = 0; t < nt; ++t)
            STORE_GLOBAL(LOADV(cur->x + at + t * VW) / sc[t], cur->y + at + t * VW);
    }
    for (uint t = 0; t < nt; ++t)
        sums[t] = a[t];
}

/* TSNormalization on CPU devices in one launch: norm_slab's geometry
 * (a slab is a sample and a block of tiles x VW columns, all n rows; a run
 * of `nparts` slabs per one-item group) and its pipeline: slab s + 1's
 * window is summed in the loop that divides slab s, the first slab's
 * window only summed, the last slab divided last row first (those rows
 * are still in cache). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void window_slabs(KERNEL_ARGS)
{
    ulong first, last;
    if (!item_run(outer * (inner / ((ulong)tiles * VW)), nparts, &first, &last))
        return;
    ulong kend = poff.s9; /* CLNORM_POFF_KEND */
    int by_last = (op & CLNORM_OP_LAST) != 0;
    ulong summed = by_last ? 0 : kend; /* the rows whose |x| the scale sums */
    __global const float *xv = x + x_off;
    __global float *yv = y + y_off, *stat = stat_s + poff.sc; /* CLNORM_POFF_STAT0 */
    accv_t sums[MAXC / VW];
    floatV s[MAXC / VW];
    slab_t cur = make_slab(first, xv, yv, n, inner, tiles);
    window_sums(&cur, summed, inner, tiles, sums);
    window_scales(&cur, sums, kend, inner, tiles, by_last, stat, s);
    for (ulong sb = first + 1; sb < last; ++sb) {
        slab_t next = make_slab(sb, xv, yv, n, inner, tiles);
        window_pipe(&cur, s, &next, sums, n, summed, inner, tiles);
        window_scales(&next, sums, kend, inner, tiles, by_last, stat, s);
        cur = next;
    }
    for (ulong r = n; r > 0; --r) {
        ulong at = (r - 1) * inner;
        for (uint t = 0; t < tiles; ++t)
            STORE_GLOBAL(LOADV(cur.x + at + t * VW) / s[t], cur.y + at + t * VW);
    }
}

#endif /* CLNORM_WINDOW_CL */
