/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_scale.cl: the elementwise kernel: the apply of clnorm_apply.cl
 * with each row's c, d, a, b from parameters and stored statistics, no
 * reduction (RevIN's inverse, eval-mode batch norm, NoneNorm, a stored
 * scale). Includes clnorm_apply.cl. */
#ifndef CLNORM_SCALE_CL
#define CLNORM_SCALE_CL

#include "clnorm_apply.cl"

/* y = (((x - hi) - lo) / d) * sc + b over q's vectors from first, step
 * apart; a contiguous row's tail elements after them. With d == 1 there is
 * no division (and the result is the apply's, rounding for rounding). */
inline void scale_item(__global const float *xq, __global float *yq, const item_t *it,
                       const scalev_t *s, float d)
{
    floatV vd = FILLV(d);
    for (ulong t = 0; t < it->nvec; ++t) {
        ulong at = it->first + t * it->step;
        floatV r = LOADV(xq + at);
        STORE_GLOBAL(d == 1.0f ? apply_v(r, s) : ((r - s->hi) - s->lo) / vd * s->sc + s->b,
                     yq + at);
    }
    for (uint l = 0; l < it->tail; ++l) { /* contiguous only */
        float r = ((xq[it->tail_at + l] - LANE0(s->hi)) - LANE0(s->lo));
        yq[it->tail_at + l] = (d == 1.0f ? r : r / d) * LANE0(s->sc) + LANE0(s->b);
    }
}

/* nparts == 0: one work-item per contiguous row; else a group per chunk of
 * a row block, as the statistics kernels cut them. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_scale(KERNEL_ARGS)
{
    op_t p = OP_OF_ARGS;
    float d;
    if (nparts == 0) {
        ulong row = get_global_id(0);
        if (row >= outer)
            return;
        item_t it = whole_row(n);
        scalev_t s = splat(row_fixed(&p, row, &d));
        scale_item(x + x_off + row * n, y + y_off + row * n, &it, &s, d);
        return;
    }
    group_t g = make_group(n, inner, nparts, tiles);
    item_t it = make_item(&g, get_local_id(0));
    __global const float *xg = x + x_off + g.base;
    __global float *yg = y + y_off + g.base;
    if (g.contig) {
        scalev_t s = splat(row_fixed(&p, g.row0, &d));
        scale_item(xg, yg, &it, &s, d);
        return;
    }
    /* Strided: whole rows in memory order, each tile with its scaling and
     * its columns' divisors. */
    uint ntiles = g.cols / VW;
    scalev_t s[MAXC / VW];
    floatV vd[MAXC / VW];
    int divide = 0;
    for (uint t = 0; t < ntiles; ++t) {
        scale1_t cols[VW];
        float dv[VW];
        for (uint q = 0; q < VW; ++q) {
            cols[q] = row_fixed(&p, g.row0 + t * VW + q, &dv[q]);
            divide |= dv[q] != 1.0f;
        }
        s[t] = gather_tile(cols);
        vd[t] = LOADV(dv);
    }
    for (ulong r = 0; r < it.nvec; ++r) {
        ulong at = it.first + r * it.step;
        for (uint t = 0; t < ntiles; ++t) {
            floatV v = LOADV(xg + at + t * VW);
            STORE_GLOBAL(divide ? ((v - s[t].hi) - s[t].lo) / vd[t] * s[t].sc + s[t].b
                                : apply_v(v, &s[t]),
                         yg + at + t * VW);
        }
    }
}

#endif /* CLNORM_SCALE_CL */
