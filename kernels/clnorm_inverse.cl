/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_inverse.cl: RevIN's output layer, y = x * s + m with the statistics
 * a forward stored (elementwise). Built after clnorm_norm.cl, whose view,
 * group and item helpers it uses. */

/* RevIN output: y = x * s + m (affine: x = (x - bias) / (weight + 1e-10)
 * first), two roundings as in PyTorch. nparts == 0 means one item per row. */
inline void inverse_item(__global const float *xq, __global float *yq, const item_t *it,
                         floatV m, floatV s, int affine, floatV w, floatV b)
{
    for (ulong t = 0; t < it->nvec; ++t) {
        floatV r = LOADV(xq + it->first + t * it->step);
        if (affine)
            r = (r - b) / w;
        STORE_GLOBAL(r * s + m, yq + it->first + t * it->step);
    }
    for (uint l = 0; l < it->tail; ++l) { /* contiguous only */
        float r = xq[it->tail_at + l];
        if (affine)
            r = (r - LANE0(b)) / LANE0(w);
        yq[it->tail_at + l] = r * LANE0(s) + LANE0(m);
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_inverse(KERNEL_ARGS)
{
    int affine = (mode & MODE_AFFINE) != 0;
    if (nparts == 0) { /* short contiguous rows: one work-item per row */
        ulong row = get_global_id(0);
        if (row >= outer)
            return;
        item_t it = {0, VW, n / VW, n / VW * VW, (uint)(n % VW)};
        floatV w = affine ? FILLV(pa[row % nchan] + 1e-10f) : FILLV(1.0f);
        floatV b = affine ? FILLV(pb[row % nchan]) : FILLV(0.0f);
        inverse_item(x + x_off + row * n, y + y_off + row * n, &it, FILLV(stat_m[row]),
                     FILLV(stat_s[row]), affine, w, b);
        return;
    }
    group_t g = make_group(n, inner, nparts, tiles);
    item_t it = make_item(&g, get_local_id(0));
    __global const float *xg = x + x_off + g.base;
    __global float *yg = y + y_off + g.base;
    if (g.contig) {
        floatV w = affine ? FILLV(pa[g.row0 % nchan] + 1e-10f) : FILLV(1.0f);
        floatV b = affine ? FILLV(pb[g.row0 % nchan]) : FILLV(0.0f);
        inverse_item(xg, yg, &it, FILLV(stat_m[g.row0]), FILLV(stat_s[g.row0]), affine, w, b);
        return;
    }
    /* Strided: whole rows in memory order; statistics per tile from global
     * memory (a few hundred bytes, cached). */
    uint ntiles = g.cols / VW;
    for (ulong r = 0; r < it.nvec; ++r) {
        ulong at = it.first + r * it.step;
        for (uint t = 0; t < ntiles; ++t) {
            ulong r0 = g.row0 + t * VW;
            floatV v = LOADV(xg + at + t * VW);
            if (affine)
                v = (v - channel_vector(r0, pb, nchan)) /
                    (channel_vector(r0, pa, nchan) + 1e-10f);
            STORE_GLOBAL(v * LOADV(stat_s + r0) + LOADV(stat_m + r0), yg + at + t * VW);
        }
    }
}
