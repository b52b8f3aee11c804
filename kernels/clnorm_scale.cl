/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_scale.cl: the elementwise kernel: the apply of clnorm_apply.cl
 * with each row's c, d, a, b from parameters and stored statistics, no
 * reduction (RevIN's inverse, eval-mode batch norm, NoneNorm, a stored
 * scale). Includes clnorm_apply.cl. */
#ifndef CLNORM_SCALE_CL
#define CLNORM_SCALE_CL

#include "clnorm_apply.cl"

/* y = (((x - hi) - lo) / d) * sc + b over a contiguous item's vectors,
 * then its tail. `divide` (d != 1) is a constant at each call: the loop has
 * no division when there is none to make. */
CLNORM_ALWAYS_INLINE void scale_item_with(__global const float *xq, __global float *yq,
                                          const item_t *it, const scalev_t *s, float d,
                                          const int divide)
{
    floatV vd = FILLV(d);
    for (ulong t = 0; t < it->nvec; ++t) {
        ulong at = it->first + t * it->step;
        floatV q = (LOADV(xq + at) - s->hi) - s->lo;
        if (divide)
            q = q / vd;
        STORE_GLOBAL(q * s->sc + s->b, yq + at);
    }
    for (uint l = 0; l < it->tail; ++l) { /* contiguous only */
        float q = (xq[it->tail_at + l] - LANE0(s->hi)) - LANE0(s->lo);
        if (divide)
            q = q / d;
        yq[it->tail_at + l] = q * LANE0(s->sc) + LANE0(s->b);
    }
}

CLNORM_INLINE void scale_item(__global const float *xq, __global float *yq, const item_t *it,
                              const scalev_t *s, float d)
{
    if (d != 1.0f)
        scale_item_with(xq, yq, it, s, d, 1);
    else
        scale_item_with(xq, yq, it, s, d, 0);
}

/* Strided: an item's whole rows in memory order, each tile's scaling loaded
 * from local memory (cached) as it goes. `center` (some c != 0) and
 * `divide` (some d != 1) are constants at each call: RevIN's plain inverse
 * is x * s + m and no more. */
CLNORM_INLINE void scale_rows(__global const float *xg, __global float *yg, const item_t *it,
                              uint ntiles, __local const float *l_hi, __local const float *l_lo,
                              __local const float *l_sc, __local const float *l_b,
                              __local const float *l_d, const int center, const int divide)
{
    for (ulong r = 0; r < it->nvec; ++r) {
        ulong at = it->first + r * it->step;
        for (uint t = 0; t < ntiles; ++t) {
            floatV q = LOADV(xg + at + t * VW);
            if (center)
                q = (q - LOADV(l_hi + t * VW)) - LOADV(l_lo + t * VW);
            if (divide)
                q = q / LOADV(l_d + t * VW);
            STORE_GLOBAL(q * LOADV(l_sc + t * VW) + LOADV(l_b + t * VW), yg + at + t * VW);
        }
    }
}

/* Short contiguous rows: one work-item per row, no barrier. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_scale_rows(KERNEL_ARGS)
{
    ulong row = get_global_id(0);
    if (row >= outer)
        return;
    op_t p = OP_OF_ARGS;
    float d;
    item_t it = whole_row(n);
    scalev_t s = splat(row_fixed(&p, row, &d));
    scale_item(x + x_off + row * n, y + y_off + row * n, &it, &s, d);
}

/* Long contiguous rows: a group per chunk of a row, no barrier (each item
 * looks up the row's one scaling). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_scale_chunks(KERNEL_ARGS)
{
    op_t p = OP_OF_ARGS;
    float d;
    group_t g = make_group(n, inner, nparts, tiles);
    item_t it = make_item(&g, get_local_id(0));
    scalev_t s = splat(row_fixed(&p, g.row0, &d));
    scale_item(x + x_off + g.base, y + y_off + g.base, &it, &s, d);
}

/* Strided rows: a group per chunk of a row block, as the statistics kernels
 * cut them, its per-column scalings and divisors made once into local
 * memory. (The contiguous case is norm_scale_chunks: a branch on it after
 * the barrier here crashed PoCL 3.1's 'loops' work-group method.) */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_scale(KERNEL_ARGS)
{
    __local float l_hi[MAXC], l_lo[MAXC], l_sc[MAXC], l_b[MAXC], l_d[MAXC];
    __local int l_kind[WG]; /* each item's columns: 1 some c != 0, 2 some d != 1 */
    op_t p = OP_OF_ARGS;
    float d;
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    int kind = 0;
    for (uint c = lid; c < g.cols; c += WG) {
        scale1_t s = row_fixed(&p, g.row0 + c, &d);
        l_hi[c] = s.hi, l_lo[c] = s.lo, l_sc[c] = s.sc, l_b[c] = s.b, l_d[c] = d;
        kind |= (s.hi != 0.0f || s.lo != 0.0f) | (d != 1.0f ? 2 : 0);
    }
    l_kind[lid] = kind;
    barrier(CLK_LOCAL_MEM_FENCE);
    item_t it = make_item(&g, lid);
    __global const float *xg = x + x_off + g.base;
    __global float *yg = y + y_off + g.base;
    for (uint i = 0; i < WG; ++i)
        kind |= l_kind[i];
    int center = kind & 1, divide = (kind & 2) != 0;
    uint nt = g.cols / VW;
    if (!center && !divide) /* RevIN's plain inverse: x * s + m */
        scale_rows(xg, yg, &it, nt, l_hi, l_lo, l_sc, l_b, l_d, 0, 0);
    else
        scale_rows(xg, yg, &it, nt, l_hi, l_lo, l_sc, l_b, l_d, center, divide);
}

#endif /* CLNORM_SCALE_CL */
