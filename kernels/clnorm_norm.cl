/* clnorm_norm.cl: per-row statistics, normalisation and RevIN's inverse.
 *
 * Every kernel works on a view [outer][n][inner] of float32 and is launched
 * with work-groups of WG items over (row block, chunk) pairs:
 * - inner == 1 ("contiguous": RevIN BDL, VarianceNorm2d NCHW): a row block is
 *   one row; vector lanes lie along the row and are merged per item.
 * - inner > 1 ("strided": RevIN BLD, rows are columns): a row block is one
 *   outer index and a tile of VW adjacent columns (inner % VW == 0); lane l is
 *   column tile * VW + l.
 * Each row block is cut into `nparts` chunks of the n axis, one work-group
 * each; each item of the group owns a contiguous sub-range of its chunk.
 *
 * Kernels (all take KERNEL_ARGS, unused buffers may be NULL):
 *   norm_fused    nparts == 1: statistics, then normalise, in one launch
 *   norm_partial  per-chunk (mean, M2) partials for long rows
 *   norm_apply    merge a row's partials, then normalise the chunk
 *   norm_inverse  RevIN output: y = x * s + m with the stored statistics
 *
 * Modes: 0 VarianceNorm2d (unbiased variance, y = alpha * x / sqrt(var+1e-5)),
 * MODE_REVIN (population std + 1e-4, y = (x - m) / s, statistics stored),
 * MODE_AFFINE (with MODE_REVIN: y = y * weight + bias; inverse undoes it). */

#define MODE_REVIN 1
#define MODE_AFFINE 2

#define KERNEL_ARGS                                                                   \
    __global const float *x, ulong x_off, __global float *y, ulong y_off, ulong outer, \
        ulong n, ulong inner, uint nparts, int mode, uint nchan,                      \
        __global const float *pa, __global const float *pb, __global float *stat_m,   \
        __global float *stat_s, __global acc *partials

/* Where one work-item and its group sit in the view. */
typedef struct {
    int contig;
    uint lanes;    /* rows handled per item: 1 (contiguous) or VW (strided) */
    ulong rb;      /* row block */
    uint part;     /* chunk index within the row block */
    ulong base;    /* element index of (row block, k = 0), before the offset */
    ulong estride; /* elements between k and k + 1 */
    ulong row0;    /* statistics index of lane 0 */
    ulong per_g;   /* chunk length (the last chunk may be shorter) */
    ulong gs, ge;  /* the group's k range */
    ulong is, ie;  /* the item's k range */
} view_t;

inline ulong ceil_to(ulong len, ulong parts, ulong quantum)
{
    ulong c = (len + parts - 1) / parts;
    return (c + quantum - 1) / quantum * quantum;
}

inline view_t make_view(ulong n, ulong inner, uint nparts)
{
    view_t v;
    ulong g = get_group_id(0);
    v.contig = inner == 1;
    v.part = (uint)(g % nparts);
    v.rb = g / nparts;
    ulong quantum = v.contig ? VW : 1;
    if (v.contig) {
        v.lanes = 1;
        v.base = v.rb * n;
        v.estride = 1;
        v.row0 = v.rb;
    } else {
        ulong tiles = inner / VW;
        ulong o = v.rb / tiles, tile = v.rb % tiles;
        v.lanes = VW;
        v.base = o * n * inner + tile * VW;
        v.estride = inner;
        v.row0 = o * inner + tile * VW;
    }
    v.per_g = ceil_to(n, nparts, quantum);
    v.gs = min(n, (ulong)v.part * v.per_g);
    v.ge = min(n, v.gs + v.per_g);
    ulong per_i = ceil_to(v.ge - v.gs, WG, quantum);
    v.is = min(v.ge, v.gs + (ulong)get_local_id(0) * per_i);
    v.ie = min(v.ge, v.is + per_i);
    return v;
}

/* Vector steps and tail of the item's range: contiguous rows load VW
 * consecutive elements per step and may end in a partial vector; strided rows
 * load one row of the tile per step. */
inline void item_steps(const view_t *v, ulong *vstep, ulong *nvec, uint *tail)
{
    ulong count = v->ie - v->is;
    if (v->contig) {
        *vstep = VW;
        *nvec = count / VW;
        *tail = (uint)(count % VW);
    } else {
        *vstep = v->estride;
        *nvec = count;
        *tail = 0;
    }
}

/* A vector of the first `tail` elements at p, the other lanes from `fill`. */
inline floatV load_tail(__global const float *p, uint tail, floatV fill)
{
    float tmp[VW];
    STOREV(fill, tmp);
    for (uint l = 0; l < tail; ++l)
        tmp[l] = p[l];
    return LOADV(tmp);
}

/* Per-lane (count, mean, M2) of the item's range starting at q. */
#if CLNORM_FP64
/* One pass of sums shifted by a per-lane pivot, in double: exact shifts, and
 * double sums carry the float data with 29 spare bits. */
inline void lane_stats(__global const float *q, ulong vstep, ulong nvec, uint tail,
                       ulong *cnt, acc *mean, acc *m2)
{
    floatV tv = tail ? load_tail(q + nvec * vstep, tail, FILLV(0.0f)) : FILLV(0.0f);
    floatV piv = nvec ? LOADV(q) : tv;
    if (tail)
        tv = load_tail(q + nvec * vstep, tail, piv); /* padding lanes: d == 0 */
    doubleV pd = TO_DOUBLEV(piv), s1 = (doubleV)(0.0), s2 = (doubleV)(0.0);
    for (ulong t = 0; t < nvec; ++t) {
        doubleV d = TO_DOUBLEV(LOADV(q + t * vstep)) - pd;
        s1 += d;
        s2 += d * d;
    }
    if (tail) {
        doubleV d = TO_DOUBLEV(tv) - pd;
        s1 += d;
        s2 += d * d;
    }
    double a1[VW], a2[VW];
    float ap[VW];
    STORE_DV(s1, a1);
    STORE_DV(s2, a2);
    STOREV(piv, ap);
    for (uint l = 0; l < VW; ++l) {
        ulong c = nvec + (l < tail ? 1 : 0);
        cnt[l] = c;
        if (c == 0) {
            mean[l] = 0.0;
            m2[l] = 0.0;
            continue;
        }
        double cd = (double)c;
        mean[l] = (double)ap[l] + a1[l] / cd;
        m2[l] = acc_max0(a2[l] - a1[l] * a1[l] / cd);
    }
}
#else
/* No fp64: two passes in float-float. The mean from compensated sums of x,
 * then M2 from exact squares (fma) of x centred on that mean: no pivot, no
 * cancellation, whatever the offset. */
inline void lane_stats(__global const float *q, ulong vstep, ulong nvec, uint tail,
                       ulong *cnt, acc *mean, acc *m2)
{
    floatV h = FILLV(0.0f), lo = FILLV(0.0f), s, e;
    for (ulong t = 0; t < nvec; ++t) {
        floatV v = LOADV(q + t * vstep);
        TWO_SUM(floatV, h, v, s, e);
        h = s;
        lo += e;
    }
    if (tail) {
        floatV v = load_tail(q + nvec * vstep, tail, FILLV(0.0f));
        TWO_SUM(floatV, h, v, s, e);
        h = s;
        lo += e;
    }
    float ah[VW], al[VW], mh[VW], ml[VW];
    STOREV(h, ah);
    STOREV(lo, al);
    for (uint l = 0; l < VW; ++l) {
        ulong c = nvec + (l < tail ? 1 : 0);
        cnt[l] = c;
        mean[l] = c ? acc_div(ff_quick(ah[l], al[l]), acc_from_count(c)) : acc_zero();
        mh[l] = mean[l].x;
        ml[l] = mean[l].y;
    }
    floatV vmh = LOADV(mh), vml = LOADV(ml);
    floatV h2 = FILLV(0.0f), lo2 = FILLV(0.0f);
    for (ulong t = 0; t < nvec; ++t) {
        floatV d = (LOADV(q + t * vstep) - vmh) - vml;
        floatV p = d * d;
        floatV pe = fma(d, d, -p);
        TWO_SUM(floatV, h2, p, s, e);
        h2 = s;
        lo2 += e + pe;
    }
    if (tail) {
        float mk[VW];
        for (uint l = 0; l < VW; ++l)
            mk[l] = l < tail ? 1.0f : 0.0f;
        floatV d = ((load_tail(q + nvec * vstep, tail, vmh) - vmh) - vml) * LOADV(mk);
        floatV p = d * d;
        floatV pe = fma(d, d, -p);
        TWO_SUM(floatV, h2, p, s, e);
        h2 = s;
        lo2 += e + pe;
    }
    STOREV(h2, ah);
    STOREV(lo2, al);
    for (uint l = 0; l < VW; ++l)
        m2[l] = cnt[l] ? ff_quick(ah[l], al[l]) : acc_zero();
}
#endif

/* The item's statistics into local memory (lane-major per item), then a
 * barrier. Contiguous rows merge their lanes first: they are one row. */
inline void item_stats_to_local(const view_t *v, __global const float *x, ulong x_off,
                                __local ulong *l_cnt, __local acc *l_mean, __local acc *l_m2)
{
    ulong vstep, nvec;
    uint tail;
    item_steps(v, &vstep, &nvec, &tail);
    ulong cnt[VW];
    acc mean[VW], m2[VW];
    lane_stats(x + x_off + v->base + v->is * v->estride, vstep, nvec, tail, cnt, mean, m2);
    if (v->contig) {
        ulong c0 = 0;
        acc mean0 = acc_zero(), m20 = acc_zero();
        for (uint l = 0; l < VW; ++l)
            stats_merge(&c0, &mean0, &m20, cnt[l], mean[l], m2[l]);
        cnt[0] = c0;
        mean[0] = mean0;
        m2[0] = m20;
    }
    uint lid = get_local_id(0);
    for (uint l = 0; l < v->lanes; ++l) {
        l_cnt[lid * VW + l] = cnt[l];
        l_mean[lid * VW + l] = mean[l];
        l_m2[lid * VW + l] = m2[l];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Merge lane `l` over the group's items (local memory). */
inline void merge_items(uint l, __local const ulong *l_cnt, __local const acc *l_mean,
                        __local const acc *l_m2, ulong *cnt, acc *mean, acc *m2)
{
    *cnt = 0;
    *mean = acc_zero();
    *m2 = acc_zero();
    for (uint i = 0; i < WG; ++i)
        stats_merge(cnt, mean, m2, l_cnt[i * VW + l], l_mean[i * VW + l], l_m2[i * VW + l]);
}

/* ESPnet's epsilons, exactly: in float-float, the float nearest plus the rest. */
#if CLNORM_FP64
#define REVIN_EPS 1e-4
#define VN_EPS 1e-5
#else
#define REVIN_EPS ((float2)(1e-4f, 2.5262125e-12f))
#define VN_EPS ((float2)(1e-5f, 2.5262125e-13f))
#endif

/* Row statistics -> shift (hi, lo) and scale of y = ((x - hi) - lo) * scale;
 * RevIN also stores ESPnet's m and s. */
inline void finalize_row(ulong cnt, acc mean, acc m2, int mode, ulong row, uint nchan,
                         __global const float *pa, __global float *stat_m,
                         __global float *stat_s, int store, __local float *l_hi,
                         __local float *l_lo, __local float *l_sc, uint l)
{
    if (mode & MODE_REVIN) {
        acc s = acc_add(acc_sqrt(acc_div(m2, acc_from_count(cnt))), REVIN_EPS);
        l_hi[l] = acc_hi(mean);
        l_lo[l] = acc_lo(mean);
        l_sc[l] = acc_to_float(acc_div(acc_from_float(1.0f), s));
        if (store) {
            stat_m[row] = acc_to_float(mean);
            stat_s[row] = acc_to_float(s);
        }
    } else {
        /* cnt == 1 divides 0 by 0: NaN, as torch.var gives. */
        acc var = acc_div(m2, acc_from_count(cnt - 1));
        acc alpha = acc_from_float(pa[row % nchan]);
        l_hi[l] = 0.0f;
        l_lo[l] = 0.0f;
        l_sc[l] = acc_to_float(acc_div(alpha, acc_sqrt(acc_add(var, VN_EPS))));
    }
}

/* Per-lane parameters of the group as vectors. */
inline floatV lanes_vector(const view_t *v, __local const float *vals)
{
    float tmp[VW];
    for (uint l = 0; l < VW; ++l)
        tmp[l] = vals[v->contig ? 0 : l];
    return LOADV(tmp);
}
inline floatV channel_vector(const view_t *v, __global const float *p, uint nchan)
{
    float tmp[VW];
    for (uint l = 0; l < VW; ++l)
        tmp[l] = p[(v->row0 + (v->contig ? 0 : l)) % nchan];
    return LOADV(tmp);
}

/* y = ((x - hi) - lo) * sc [* w + b] over the item's range. */
inline void apply_forward(const view_t *v, __global const float *x, ulong x_off,
                          __global float *y, ulong y_off, floatV hi, floatV lo, floatV sc,
                          int affine, floatV w, floatV b)
{
    ulong vstep, nvec;
    uint tail;
    item_steps(v, &vstep, &nvec, &tail);
    __global const float *xq = x + x_off + v->base + v->is * v->estride;
    __global float *yq = y + y_off + v->base + v->is * v->estride;
    for (ulong t = 0; t < nvec; ++t) {
        floatV r = ((LOADV(xq + t * vstep) - hi) - lo) * sc;
        if (affine)
            r = r * w + b;
        STOREV(r, yq + t * vstep);
    }
    if (tail) { /* contiguous only: every lane holds the row's values */
        float h0[VW], l0[VW], s0[VW], w0[VW], b0[VW];
        STOREV(hi, h0);
        STOREV(lo, l0);
        STOREV(sc, s0);
        STOREV(w, w0);
        STOREV(b, b0);
        for (uint l = 0; l < tail; ++l) {
            float r = ((xq[nvec * vstep + l] - h0[0]) - l0[0]) * s0[0];
            if (affine)
                r = r * w0[0] + b0[0];
            yq[nvec * vstep + l] = r;
        }
    }
}

/* Shared tail of norm_fused and norm_apply: per-lane scale from local memory. */
inline void normalise_group(const view_t *v, KERNEL_ARGS, __local float *l_hi,
                            __local float *l_lo, __local float *l_sc)
{
    int affine = (mode & MODE_AFFINE) != 0;
    floatV w = affine ? channel_vector(v, pa, nchan) : FILLV(1.0f);
    floatV b = affine ? channel_vector(v, pb, nchan) : FILLV(0.0f);
    apply_forward(v, x, x_off, y, y_off, lanes_vector(v, l_hi), lanes_vector(v, l_lo),
                  lanes_vector(v, l_sc), affine, w, b);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_fused(KERNEL_ARGS)
{
    __local ulong l_cnt[WG * VW];
    __local acc l_mean[WG * VW], l_m2[WG * VW];
    __local float l_hi[VW], l_lo[VW], l_sc[VW];
    view_t v = make_view(n, inner, nparts);
    item_stats_to_local(&v, x, x_off, l_cnt, l_mean, l_m2);
    uint lid = get_local_id(0);
    if (lid < v.lanes) {
        ulong cnt;
        acc mean, m2;
        merge_items(lid, l_cnt, l_mean, l_m2, &cnt, &mean, &m2);
        finalize_row(cnt, mean, m2, mode, v.row0 + lid, nchan, pa, stat_m, stat_s, 1, l_hi,
                     l_lo, l_sc, lid);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&v, x, x_off, y, y_off, outer, n, inner, nparts, mode, nchan, pa, pb,
                    stat_m, stat_s, partials, l_hi, l_lo, l_sc);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_partial(KERNEL_ARGS)
{
    __local ulong l_cnt[WG * VW];
    __local acc l_mean[WG * VW], l_m2[WG * VW];
    view_t v = make_view(n, inner, nparts);
    item_stats_to_local(&v, x, x_off, l_cnt, l_mean, l_m2);
    uint lid = get_local_id(0);
    if (lid < v.lanes) {
        ulong cnt;
        acc mean, m2;
        merge_items(lid, l_cnt, l_mean, l_m2, &cnt, &mean, &m2);
        ulong idx = ((v.rb * nparts + v.part) * VW + lid) * 2;
        partials[idx] = mean;
        partials[idx + 1] = m2;
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_apply(KERNEL_ARGS)
{
    __local float l_hi[VW], l_lo[VW], l_sc[VW];
    view_t v = make_view(n, inner, nparts);
    uint lid = get_local_id(0);
    if (lid < v.lanes) {
        ulong cnt = 0;
        acc mean = acc_zero(), m2 = acc_zero();
        for (uint q = 0; q < nparts; ++q) {
            ulong qs = min(n, (ulong)q * v.per_g), qe = min(n, qs + v.per_g);
            ulong idx = ((v.rb * nparts + q) * VW + lid) * 2;
            stats_merge(&cnt, &mean, &m2, qe - qs, partials[idx], partials[idx + 1]);
        }
        finalize_row(cnt, mean, m2, mode, v.row0 + lid, nchan, pa, stat_m, stat_s,
                     v.part == 0, l_hi, l_lo, l_sc, lid);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&v, x, x_off, y, y_off, outer, n, inner, nparts, mode, nchan, pa, pb,
                    stat_m, stat_s, partials, l_hi, l_lo, l_sc);
}

/* RevIN output: y = x * s + m (affine: x = (x - bias) / (weight + 1e-10) first),
 * two roundings as in PyTorch. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_inverse(KERNEL_ARGS)
{
    view_t v = make_view(n, inner, nparts);
    int affine = (mode & MODE_AFFINE) != 0;
    float tm[VW], ts[VW];
    for (uint l = 0; l < VW; ++l) {
        ulong row = v.row0 + (v.contig ? 0 : l);
        tm[l] = stat_m[row];
        ts[l] = stat_s[row];
    }
    floatV m = LOADV(tm), s = LOADV(ts);
    floatV w = affine ? channel_vector(&v, pa, nchan) + 1e-10f : FILLV(1.0f);
    floatV b = affine ? channel_vector(&v, pb, nchan) : FILLV(0.0f);
    ulong vstep, nvec;
    uint tail;
    item_steps(&v, &vstep, &nvec, &tail);
    __global const float *xq = x + x_off + v.base + v.is * v.estride;
    __global float *yq = y + y_off + v.base + v.is * v.estride;
    for (ulong t = 0; t < nvec; ++t) {
        floatV r = LOADV(xq + t * vstep);
        if (affine)
            r = (r - b) / w;
        STOREV(r * s + m, yq + t * vstep);
    }
    for (uint l = 0; l < tail; ++l) { /* contiguous only */
        float r = xq[nvec * vstep + l];
        if (affine)
            r = (r - LANE0(b)) / LANE0(w);
        yq[nvec * vstep + l] = r * ts[0] + tm[0];
    }
}
