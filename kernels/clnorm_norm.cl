/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_norm.cl: the work-group kernels (the GPU variant, and rows split
 * over groups on any device). Includes clnorm_apply.cl.
 *   norm_fused    one work-group per row block (nparts == 1): one launch
 *   norm_partial  per-chunk (mean, M2) partials of long rows ...
 *   norm_apply    ... merged by every chunk's group, which then normalises
 * A group's items add their sums into local memory (l_s[item * MAXC + col]),
 * the first items turn each column's sums into its scaling, and every item
 * then normalises its share. */
#ifndef CLNORM_NORM_CL
#define CLNORM_NORM_CL

#include "clnorm_apply.cl"

/* The group's sums into local memory; the pivots (each column's first
 * element of the chunk) into pivots[]. */
CLNORM_INLINE void group_sums(const group_t *g, __global const float *xg, uint lid,
                              __local acc *l_s1, __local acc *l_s2, float *pivots)
{
    item_t it = make_item(g, lid);
    if (g->contig) {
        float piv = g->ge > g->gs ? xg[g->gs] : 0.0f;
        pivots[0] = piv;
        acc s1[VW], s2[VW];
        accumulate(xg, &it, FILLV(piv), s1, s2);
        lanes_fold(s1, s2);
        l_s1[lid * MAXC] = s1[0];
        l_s2[lid * MAXC] = s2[0];
        return;
    }
    uint ntiles = g->cols / VW;
    accv_t sums[MAXC / VW];
    floatV piv[MAXC / VW];
    for (uint t = 0; t < ntiles; ++t) {
        piv[t] = g->ge > g->gs ? LOADV(xg + g->gs * g->estride + t * VW) : FILLV(0.0f);
        STOREV(piv[t], pivots + t * VW);
        accv_init(&sums[t]);
    }
    strided_sums_any(xg + it.first, it.nvec, it.step, piv, sums, ntiles, 1);
    for (uint t = 0; t < ntiles; ++t) {
        acc s1[VW], s2[VW];
        accv_lanes(&sums[t], s1, s2);
        for (uint l = 0; l < VW; ++l) {
            l_s1[lid * MAXC + t * VW + l] = s1[l];
            l_s2[lid * MAXC + t * VW + l] = s2[l];
        }
    }
}

/* Column c's sums about its pivot over the group's chunk, from the items'. */
CLNORM_INLINE void group_total(uint c, __local const acc *l_s1, __local const acc *l_s2, acc *s1,
                               acc *s2)
{
    *s1 = acc_zero(), *s2 = acc_zero();
    for (uint i = 0; i < WG; ++i) {
        *s1 = acc_add(*s1, l_s1[i * MAXC + c]);
        *s2 = acc_add(*s2, l_s2[i * MAXC + c]);
    }
}

/* Column c's (mean, M2) over the group's chunk, from the items' sums. */
CLNORM_INLINE void group_moments(const group_t *g, uint c, float piv, __local const acc *l_s1,
                                 __local const acc *l_s2, acc *mean, acc *m2)
{
    acc s1, s2;
    group_total(c, l_s1, l_s2, &s1, &s2);
    moments(g->ge - g->gs, piv, s1, s2, mean, m2);
}

/* The last element of column c of the group's rows, for CLNORM_OP_LAST. */
CLNORM_INLINE float group_last(const op_t *p, const group_t *g, __global const float *xg, uint c,
                               ulong n)
{
    return (p->op & CLNORM_OP_LAST) ? xg[(n - 1) * g->estride + c] : 0.0f;
}

/* A group's per-column scalings, in local memory: one array per part so
 * that a tile's values load as a vector. */
typedef struct {
    __local float *hi, *lo, *sc, *b;
} lscale_t;

CLNORM_INLINE void lscale_put(const lscale_t *l, uint c, scale1_t s)
{
    l->hi[c] = s.hi;
    l->lo[c] = s.lo;
    l->sc[c] = s.sc;
    l->b[c] = s.b;
}

/* A kernel's local arrays of per-column scalings, and `l` over them. */
#define LSCALE_LOCAL(l)                                                                            \
    __local float l##_hi[MAXC], l##_lo[MAXC], l##_sc[MAXC], l##_b[MAXC];                           \
    lscale_t l = {l##_hi, l##_lo, l##_sc, l##_b}

/* Tile t's scaling (contiguous rows: the one column's, splat). */
CLNORM_INLINE scalev_t lscale_get(const lscale_t *l, uint t, int contig)
{
    if (contig) {
        scalev_t v = {FILLV(l->hi[0]), FILLV(l->lo[0]), FILLV(l->sc[0]), FILLV(l->b[0])};
        return v;
    }
    scalev_t v = {LOADV(l->hi + t * VW), LOADV(l->lo + t * VW), LOADV(l->sc + t * VW),
                  LOADV(l->b + t * VW)};
    return v;
}

/* Normalise the item's share of the group from the columns' scalings. */
CLNORM_INLINE void normalise_group(const group_t *g, uint lid, __global const float *xg,
                                   __global float *yg, const op_t *p, const lscale_t *l, ulong n)
{
#if CLNORM_INTERLEAVE
    item_t it = make_item(g, lid);
#else
    item_t it = make_item(g, WG - 1 - lid); /* the last ranges read come first */
#endif
    axis_t ax = axis_of(p);
    int form = form_of(p);
    if (g->contig) {
        scalev_t s = lscale_get(l, 0, 1);
        axis_t axr = axis_for_row(p, &ax, g->row0, n, form);
        apply_item(xg, yg, &it, &s, &axr, form);
        return;
    }
    /* Strided: whole rows, last read first; each tile's scaling from local
     * memory (cached), the axis weight of each row from global. */
    uint ntiles = g->cols / VW;
    for (ulong r = it.nvec; r > 0; --r) {
        ulong at = it.first + (r - 1) * it.step;
        floatV w, v;
        axis_row(&ax, (form & FORM_AXIS) ? at / g->estride : 0, form, &w, &v);
        for (uint t = 0; t < ntiles; ++t) {
            scalev_t s = lscale_get(l, t, 0);
            apply_tile(xg + at + t * VW, yg + at + t * VW, &s, w, v, form);
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_fused(KERNEL_ARGS)
{
    __local acc l_s1[WG * MAXC], l_s2[WG * MAXC];
    LSCALE_LOCAL(l);
    op_t p = OP_OF_ARGS;
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    __global const float *xg = x + x_off + g.base;
    float pivots[MAXC];
    group_sums(&g, xg, lid, l_s1, l_s2, pivots);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = lid; c < g.cols; c += WG) {
        acc mean, m2;
        group_moments(&g, c, pivots[c], l_s1, l_s2, &mean, &m2);
        lscale_put(
            &l, c,
            row_scale(&p, g.row0 + c, g.ge - g.gs, mean, m2, group_last(&p, &g, xg, c, n), 1));
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&g, lid, xg, y + y_off + g.base, &p, &l, n);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_partial(KERNEL_ARGS)
{
    __local acc l_s1[WG * MAXC], l_s2[WG * MAXC];
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    float pivots[MAXC];
    group_sums(&g, x + x_off + g.base, lid, l_s1, l_s2, pivots);
    barrier(CLK_LOCAL_MEM_FENCE);
    /* Each chunk's sum (not its mean) and M2: the merge divides the row's
     * sum once. Chunk means, each rounded on its own, cost float-float a
     * subnormal step or more per chunk when the mean is subnormal (its low
     * part is zero there); the sum is exact: pivot * count + sum(x - pivot). */
    ulong cnt = g.ge - g.gs;
    for (uint c = lid; c < g.cols; c += WG) {
        acc s1, s2, mean, m2;
        group_total(c, l_s1, l_s2, &s1, &s2);
        moments(cnt, pivots[c], s1, s2, &mean, &m2);
        ulong idx = ((g.rb * nparts + g.part) * MAXC + c) * 2;
        partials[idx] =
            cnt ? acc_add(acc_mul(acc_from_float(pivots[c]), acc_from_count(cnt)), s1) : acc_zero();
        partials[idx + 1] = m2;
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_apply(KERNEL_ARGS)
{
    LSCALE_LOCAL(l);
    op_t p = OP_OF_ARGS;
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    __global const float *xg = x + x_off + g.base;
    for (uint c = lid; c < g.cols; c += WG) {
        ulong cnt = 0;
        acc mean = acc_zero(), m2 = acc_zero(), sum = acc_zero();
        for (uint q = 0; q < nparts; ++q) {
            ulong qs = min(n, (ulong)q * g.per_g), qe = min(n, qs + g.per_g);
            ulong idx = ((g.rb * nparts + q) * MAXC + c) * 2;
            acc part = partials[idx];
            acc part_mean = qe > qs ? acc_div(part, acc_from_count(qe - qs)) : acc_zero();
            stats_merge(&cnt, &mean, &m2, qe - qs, part_mean, partials[idx + 1]);
            sum = acc_add(sum, part);
        }
        if (cnt) /* the mean from the row's sum, divided once; M2 from Chan's merge */
            mean = acc_div(sum, acc_from_count(cnt));
        lscale_put(
            &l, c,
            row_scale(&p, g.row0 + c, cnt, mean, m2, group_last(&p, &g, xg, c, n), g.part == 0));
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&g, lid, xg, y + y_off + g.base, &p, &l, n);
}

#endif /* CLNORM_NORM_CL */
