/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_norm.cl: per-row statistics and normalisation: the view, the
 * accumulators and the finalisation every kernel shares, and the work-group
 * kernels (the GPU variant, and split rows on any device).
 *
 * Every kernel works on a view [outer][n][inner] of float32; a row is one
 * (o, i) pair, reduced over k in [0, n).
 * - inner == 1 ("contiguous": RevIN BDL, VarianceNorm2d NCHW): vectors of VW
 *   floats lie along the row; their lanes are summed at the end.
 * - inner > 1 ("strided": RevIN BLD, rows are columns): a work-group owns one
 *   outer index and a block of `tiles` x VW adjacent columns (lane l of a
 *   vector is one column), so it reads whole cache lines of each k.
 * A row block (a row, or an (o, column block)) may be cut into `nparts`
 * chunks of the k axis, one work-group each, for long rows and few blocks.
 *
 * Statistics: sums of d = x - p and d^2 about a pivot p (the chunk's first
 * element of each row) in `acc` precision (see clnorm_common.cl), added
 * within a group and merged across chunks with Chan's formulas. The pivot is
 * a value of the row, so |mean - p| <= sqrt(n) * std: the shifted sums lose
 * at most log2(n) of their 48-53 bits, and none on offset data.
 *
 * Kernels (all take KERNEL_ARGS; unused buffers may be NULL):
 *   norm_fused    one work-group per row block (nparts == 1): one launch
 *   norm_partial  per-chunk (mean, M2) partials of long rows ...
 *   norm_apply    ... merged by every chunk's group, which then normalises
 * The CPU variant's norm_rows and norm_slab are in clnorm_cpu.cl, RevIN's
 * inverse (norm_inverse) in clnorm_inverse.cl; both follow this file.
 * Modes: 0 VarianceNorm2d (unbiased variance, y = alpha * x / sqrt(var+1e-5)),
 * MODE_REVIN (population std + 1e-4, y = (x - m) / s, statistics stored),
 * MODE_AFFINE (with MODE_REVIN: y = y * weight + bias; inverse undoes it).
 *
 * Items of a group own contiguous sub-ranges (CPUs: PoCL runs a group as a
 * loop over its items), or with CLNORM_INTERLEAVE every WG-th vector (GPUs:
 * neighbouring items read neighbouring addresses). */

#define MODE_REVIN 1
#define MODE_AFFINE 2
#ifndef MAXC
#define MAXC 256 /* columns a strided group may own: tiles * VW <= MAXC */
#endif
#ifndef CLNORM_INTERLEAVE
#define CLNORM_INTERLEAVE 0
#endif

#define KERNEL_ARGS                                                                          \
    __global const float *x, ulong x_off, __global float *y, ulong y_off, ulong outer,       \
        ulong n, ulong inner, uint nparts, uint tiles, int mode, uint nchan,                 \
        __global const float *pa, __global const float *pb, __global float *stat_m,          \
        __global float *stat_s, __global acc *partials
#define KERNEL_ARG_NAMES                                                                     \
    x, x_off, y, y_off, outer, n, inner, nparts, tiles, mode, nchan, pa, pb, stat_m, stat_s, \
        partials

/* A work-group's place in the view. */
typedef struct {
    int contig;
    uint cols;     /* rows (columns) the group owns: 1, or tiles * VW */
    ulong rb;      /* row block */
    uint part;     /* chunk of the k axis */
    ulong base;    /* element index of (row block, k = 0, first column) */
    ulong estride; /* elements between k and k + 1 */
    ulong row0;    /* statistics index of the group's first row */
    ulong per_g;   /* chunk length (the last chunk may be shorter) */
    ulong gs, ge;  /* the group's k range */
} group_t;

/* The vectors one item visits, as element offsets from the group's base. */
typedef struct {
    ulong first, step, nvec;
    ulong tail_at;
    uint tail; /* contiguous rows: elements of a last partial vector */
} item_t;

inline ulong ceil_to(ulong len, ulong parts, ulong quantum)
{
    ulong c = (len + parts - 1) / parts;
    return (c + quantum - 1) / quantum * quantum;
}

inline group_t make_group(ulong n, ulong inner, uint nparts, uint tiles)
{
    group_t g;
    ulong id = get_group_id(0);
    g.contig = inner == 1;
    g.part = (uint)(id % nparts);
    g.rb = id / nparts;
    if (g.contig) {
        g.cols = 1;
        g.base = g.rb * n;
        g.estride = 1;
        g.row0 = g.rb;
    } else {
        ulong width = (ulong)tiles * VW, blocks = inner / width;
        ulong o = g.rb / blocks, c0 = (g.rb % blocks) * width;
        g.cols = (uint)width;
        g.base = o * n * inner + c0;
        g.estride = inner;
        g.row0 = o * inner + c0;
    }
    g.per_g = ceil_to(n, nparts, g.contig ? VW : 1);
    g.gs = min(n, (ulong)g.part * g.per_g);
    g.ge = min(n, g.gs + g.per_g);
    return g;
}

/* Item `lid` of a group over k in [gs, ge). */
inline item_t make_item(const group_t *g, uint lid)
{
    item_t it;
    ulong len = g->ge - g->gs, q = g->contig ? VW : 1;
    ulong vstep = g->contig ? VW : g->estride;
    ulong total = len / q; /* whole vectors in the group's range */
    uint tail = (uint)(len % q);
#if CLNORM_INTERLEAVE
    it.first = g->gs * g->estride + (ulong)lid * vstep;
    it.step = WG * vstep;
    it.nvec = total > lid ? (total - lid + WG - 1) / WG : 0;
    it.tail = total % WG == lid ? tail : 0;
    it.tail_at = g->gs * g->estride + total * vstep;
#else
    ulong per = ceil_to(len, WG, q);
    ulong is = min(g->ge, g->gs + (ulong)lid * per), ie = min(g->ge, is + per);
    it.first = is * g->estride;
    it.step = vstep;
    it.nvec = (ie - is) / q;
    it.tail = (uint)((ie - is) % q);
    it.tail_at = it.first + it.nvec * vstep;
    (void)total;
    (void)tail;
#endif
    return it;
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

/* Running per-lane sums of d = x - piv and d^2 (accv_t), updated one vector
 * at a time, then read out lane by lane. */
#if CLNORM_FP64
typedef struct {
    doubleV a1, a2;
} accv_t;

inline void accv_init(accv_t *s)
{
    s->a1 = (doubleV)(0.0);
    s->a2 = (doubleV)(0.0);
}

inline void accv_add(accv_t *s, floatV v, floatV piv)
{
    doubleV d = TO_DOUBLEV(v) - TO_DOUBLEV(piv); /* exact */
    s->a1 += d;
    s->a2 += d * d;
}

inline void accv_lanes(const accv_t *s, acc *s1, acc *s2)
{
    STORE_DV(s->a1, s1);
    STORE_DV(s->a2, s2);
}

/* s += t (sums about the same pivot). */
inline void accv_merge(accv_t *s, const accv_t *t)
{
    s->a1 += t->a1;
    s->a2 += t->a2;
}
#else
/* Without fp64: float-float sums of the exact difference d = dh + dl
 * (two-sum), d^2 through fma: the mean stays correctly rounded. */
typedef struct {
    floatV h1, l1, h2, l2;
} accv_t;

inline void accv_init(accv_t *s)
{
    s->h1 = s->l1 = s->h2 = s->l2 = FILLV(0.0f);
}

inline void accv_add(accv_t *s, floatV v, floatV piv)
{
    floatV dh, dl, t, e;
    TWO_SUM(floatV, v, -piv, dh, dl);
    TWO_SUM(floatV, s->h1, dh, t, e);
    s->h1 = t;
    s->l1 += e + dl;
    floatV p = dh * dh;
    floatV pe = fma(dh, dh, -p) + 2.0f * dh * dl;
    TWO_SUM(floatV, s->h2, p, t, e);
    s->h2 = t;
    s->l2 += e + pe;
}

/* s += t (sums about the same pivot): two-sum of the high parts. */
inline void accv_merge(accv_t *s, const accv_t *t)
{
    floatV h, e;
    TWO_SUM(floatV, s->h1, t->h1, h, e);
    s->h1 = h;
    s->l1 += e + t->l1;
    TWO_SUM(floatV, s->h2, t->h2, h, e);
    s->h2 = h;
    s->l2 += e + t->l2;
}

inline void accv_lanes(const accv_t *s, acc *s1, acc *s2)
{
    float a[VW], b[VW], c[VW], f[VW];
    STOREV(s->h1, a);
    STOREV(s->l1, b);
    STOREV(s->h2, c);
    STOREV(s->l2, f);
    for (uint l = 0; l < VW; ++l) {
        s1[l] = ff_quick(a[l], b[l]);
        s2[l] = ff_quick(c[l], f[l]);
    }
}
#endif

/* Per-lane sums over the item's vectors from q. The tail's missing lanes
 * are filled with the pivot: they add exact zeros. */
inline void accumulate(__global const float *q, const item_t *it, floatV piv, acc *s1, acc *s2)
{
    accv_t a;
    accv_init(&a);
    for (ulong t = 0; t < it->nvec; ++t)
        accv_add(&a, LOADV(q + it->first + t * it->step), piv);
    if (it->tail)
        accv_add(&a, load_tail(q + it->tail_at, it->tail, piv), piv);
    accv_lanes(&a, s1, s2);
}

/* (count, pivot, sums) -> (mean, M2) */
inline void moments(ulong cnt, float piv, acc s1, acc s2, acc *mean, acc *m2)
{
    if (cnt == 0) {
        *mean = acc_zero();
        *m2 = acc_zero();
        return;
    }
    acc c = acc_from_count(cnt);
    *mean = acc_add(acc_from_float(piv), acc_div(s1, c));
    *m2 = acc_max0(acc_sub(s2, acc_div(acc_mul(s1, s1), c)));
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
 * RevIN also stores ESPnet's m and s when `store`. */
inline void finalize_row(ulong cnt, acc mean, acc m2, int mode, ulong row, uint nchan,
                         __global const float *pa, __global float *stat_m,
                         __global float *stat_s, int store, float *hi, float *lo, float *sc)
{
    if (mode & MODE_REVIN) {
        acc s = acc_add(acc_sqrt(acc_div(m2, acc_from_count(cnt))), REVIN_EPS);
        *hi = acc_hi(mean);
        *lo = acc_lo(mean);
        *sc = acc_to_float(acc_div(acc_from_float(1.0f), s));
        if (store) {
            stat_m[row] = acc_to_float(mean);
            stat_s[row] = acc_to_float(s);
        }
    } else {
        /* cnt == 1 divides 0 by 0: NaN, as torch.var gives. */
        acc var = acc_div(m2, acc_from_count(cnt - 1));
        acc alpha = acc_from_float(pa[row % nchan]);
        *hi = 0.0f;
        *lo = 0.0f;
        *sc = acc_to_float(acc_div(alpha, acc_sqrt(acc_add(var, VN_EPS))));
    }
}

/* Parameters of `cols` columns from first_row on, as a vector per tile. */
inline floatV channel_vector(ulong first_row, __global const float *p, uint nchan)
{
    float tmp[VW];
    for (uint l = 0; l < VW; ++l)
        tmp[l] = p[(first_row + l) % nchan];
    return LOADV(tmp);
}

/* y = ((x - hi) - lo) * sc [* w + b] over the item's vectors, last first:
 * the statistics pass just read them in order, so the most recent are the
 * ones still in cache (CPU variant; the order does not matter to a GPU). */
inline void apply_item(__global const float *xq, __global float *yq, const item_t *it,
                       floatV hi, floatV lo, floatV sc, int affine, floatV w, floatV b)
{
    for (uint l = 0; l < it->tail; ++l) { /* contiguous only: every lane holds the row's */
        float r = ((xq[it->tail_at + l] - LANE0(hi)) - LANE0(lo)) * LANE0(sc);
        if (affine)
            r = r * LANE0(w) + LANE0(b);
        yq[it->tail_at + l] = r;
    }
    for (ulong u = it->nvec; u > 0; --u) {
        ulong at = it->first + (u - 1) * it->step;
        floatV r = ((LOADV(xq + at) - hi) - lo) * sc;
        if (affine)
            r = r * w + b;
        STORE_GLOBAL(r, yq + at);
    }
}

/* Sums over the item's rows for a fixed number of tiles: constant loop
 * bounds let the compiler keep every tile's sums in registers. */
#define ROWS_SUMS(NT)                                                                          \
    inline void rows_sums_##NT(__global const float *xg, const item_t *it, const floatV *piv, \
                               accv_t *sums)                                                   \
    {                                                                                          \
        accv_t a[NT];                                                                          \
        floatV p[NT];                                                                          \
        for (uint t = 0; t < NT; ++t) {                                                        \
            a[t] = sums[t];                                                                    \
            p[t] = piv[t];                                                                     \
        }                                                                                      \
        for (ulong r = 0; r < it->nvec; ++r) {                                                 \
            __global const float *xr = xg + it->first + r * it->step;                         \
            for (uint t = 0; t < NT; ++t)                                                      \
                accv_add(&a[t], LOADV(xr + t * VW), p[t]);                                     \
        }                                                                                      \
        for (uint t = 0; t < NT; ++t)                                                          \
            sums[t] = a[t];                                                                    \
    }
ROWS_SUMS(1)
ROWS_SUMS(2)
ROWS_SUMS(4)
ROWS_SUMS(5)


/* The group's sums into local memory: l_s[item * MAXC + column]. */
inline void group_sums(const group_t *g, __global const float *xg, uint lid, __local acc *l_s1,
                       __local acc *l_s2, float *pivots)
{
    item_t it = make_item(g, lid);
    if (g->contig) {
        float piv = g->ge > g->gs ? xg[g->gs] : 0.0f;
        pivots[0] = piv;
        acc s1[VW], s2[VW];
        accumulate(xg, &it, FILLV(piv), s1, s2);
        for (uint l = 1; l < VW; ++l) {
            s1[0] = acc_add(s1[0], s1[l]);
            s2[0] = acc_add(s2[0], s2[l]);
        }
        l_s1[lid * MAXC] = s1[0];
        l_s2[lid * MAXC] = s2[0];
        return;
    }
    /* Strided: each of the item's rows is read once, whole (all tiles), in
     * memory order; the per-tile sums live in a private array. */
    uint ntiles = g->cols / VW;
    accv_t sums[MAXC / VW];
    floatV piv[MAXC / VW];
    for (uint t = 0; t < ntiles; ++t) {
        piv[t] = g->ge > g->gs ? LOADV(xg + g->gs * g->estride + t * VW) : FILLV(0.0f);
        STOREV(piv[t], pivots + t * VW);
        accv_init(&sums[t]);
    }
    switch (ntiles) { /* common widths with the sums in registers */
    case 1: rows_sums_1(xg, &it, piv, sums); break;
    case 2: rows_sums_2(xg, &it, piv, sums); break;
    case 4: rows_sums_4(xg, &it, piv, sums); break;
    case 5: rows_sums_5(xg, &it, piv, sums); break;
    default:
        for (ulong r = 0; r < it.nvec; ++r) {
            __global const float *xr = xg + it.first + r * it.step;
            for (uint t = 0; t < ntiles; ++t)
                accv_add(&sums[t], LOADV(xr + t * VW), piv[t]);
        }
    }
    for (uint t = 0; t < ntiles; ++t) {
        acc s1[VW], s2[VW];
        accv_lanes(&sums[t], s1, s2);
        for (uint l = 0; l < VW; ++l) {
            l_s1[lid * MAXC + t * VW + l] = s1[l];
            l_s2[lid * MAXC + t * VW + l] = s2[l];
        }
    }
}

/* Column c's (mean, M2) over the group's chunk, from the items' sums. */
inline void group_moments(const group_t *g, uint c, float piv, __local const acc *l_s1,
                          __local const acc *l_s2, acc *mean, acc *m2)
{
    acc s1 = acc_zero(), s2 = acc_zero();
    for (uint i = 0; i < WG; ++i) {
        s1 = acc_add(s1, l_s1[i * MAXC + c]);
        s2 = acc_add(s2, l_s2[i * MAXC + c]);
    }
    moments(g->ge - g->gs, piv, s1, s2, mean, m2);
}

/* Normalise the item's share of the group from the per-column scale. */
inline void normalise_group(const group_t *g, uint lid, KERNEL_ARGS, __local const float *l_hi,
                            __local const float *l_lo, __local const float *l_sc)
{
#if CLNORM_INTERLEAVE
    item_t it = make_item(g, lid);
#else
    item_t it = make_item(g, WG - 1 - lid); /* the last ranges read come first */
#endif
    int affine = (mode & MODE_AFFINE) != 0;
    __global const float *xg = x + x_off + g->base;
    __global float *yg = y + y_off + g->base;
    if (g->contig) {
        floatV w = affine ? FILLV(pa[g->row0 % nchan]) : FILLV(1.0f);
        floatV b = affine ? FILLV(pb[g->row0 % nchan]) : FILLV(0.0f);
        apply_item(xg, yg, &it, FILLV(l_hi[0]), FILLV(l_lo[0]), FILLV(l_sc[0]), affine, w, b);
        return;
    }
    /* Strided: whole rows, last read first; per-tile parameters from local
     * memory (affine weights from global, both cached). */
    uint ntiles = g->cols / VW;
    for (ulong r = it.nvec; r > 0; --r) {
        ulong at = it.first + (r - 1) * it.step;
        for (uint t = 0; t < ntiles; ++t) {
            floatV v = ((LOADV(xg + at + t * VW) - LOADV(l_hi + t * VW)) - LOADV(l_lo + t * VW)) *
                       LOADV(l_sc + t * VW);
            if (affine)
                v = v * channel_vector(g->row0 + t * VW, pa, nchan) +
                    channel_vector(g->row0 + t * VW, pb, nchan);
            STORE_GLOBAL(v, yg + at + t * VW);
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_fused(KERNEL_ARGS)
{
    __local acc l_s1[WG * MAXC], l_s2[WG * MAXC];
    __local float l_hi[MAXC], l_lo[MAXC], l_sc[MAXC];
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    float pivots[MAXC];
    group_sums(&g, x + x_off + g.base, lid, l_s1, l_s2, pivots);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = lid; c < g.cols; c += WG) {
        acc mean, m2;
        group_moments(&g, c, pivots[c], l_s1, l_s2, &mean, &m2);
        float hi, lo, sc;
        finalize_row(g.ge - g.gs, mean, m2, mode, g.row0 + c, nchan, pa, stat_m, stat_s, 1,
                     &hi, &lo, &sc);
        l_hi[c] = hi;
        l_lo[c] = lo;
        l_sc[c] = sc;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&g, lid, KERNEL_ARG_NAMES, l_hi, l_lo, l_sc);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_partial(KERNEL_ARGS)
{
    __local acc l_s1[WG * MAXC], l_s2[WG * MAXC];
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    float pivots[MAXC];
    group_sums(&g, x + x_off + g.base, lid, l_s1, l_s2, pivots);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = lid; c < g.cols; c += WG) {
        acc mean, m2;
        group_moments(&g, c, pivots[c], l_s1, l_s2, &mean, &m2);
        ulong idx = ((g.rb * nparts + g.part) * MAXC + c) * 2;
        partials[idx] = mean;
        partials[idx + 1] = m2;
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_apply(KERNEL_ARGS)
{
    __local float l_hi[MAXC], l_lo[MAXC], l_sc[MAXC];
    group_t g = make_group(n, inner, nparts, tiles);
    uint lid = get_local_id(0);
    for (uint c = lid; c < g.cols; c += WG) {
        ulong cnt = 0;
        acc mean = acc_zero(), m2 = acc_zero();
        for (uint q = 0; q < nparts; ++q) {
            ulong qs = min(n, (ulong)q * g.per_g), qe = min(n, qs + g.per_g);
            ulong idx = ((g.rb * nparts + q) * MAXC + c) * 2;
            stats_merge(&cnt, &mean, &m2, qe - qs, partials[idx], partials[idx + 1]);
        }
        float hi, lo, sc;
        finalize_row(cnt, mean, m2, mode, g.row0 + c, nchan, pa, stat_m, stat_s, g.part == 0,
                     &hi, &lo, &sc);
        l_hi[c] = hi;
        l_lo[c] = lo;
        l_sc[c] = sc;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    normalise_group(&g, lid, KERNEL_ARG_NAMES, l_hi, l_lo, l_sc);
}
