/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_stats.cl: the view every kernel works on, and the one statistics
 * routine: per-lane sums of d = x - pivot and d^2, their moments, and the
 * merge of partials. Includes clnorm_common.cl.
 *
 * Every kernel works on a view [outer][n][inner] of float32; a row is one
 * (o, i) pair, reduced over k in [0, n).
 * - inner == 1 ("contiguous": RevIN BDL, VarianceNorm2d NCHW, LayerNorm):
 *   vectors of VW floats lie along the row; their lanes are summed at the end.
 * - inner > 1 ("strided": RevIN BLD, TransposedLN; rows are columns): a
 *   work-group or work-item owns one outer index and a block of `tiles` x VW
 *   adjacent columns (lane l of a vector is one column), so it reads whole
 *   cache lines of each k.
 * A row block (a row, or an (o, column block)) may be cut into `nparts`
 * chunks of the k axis, one work-group each, for long rows and few blocks.
 *
 * Statistics: sums of d = x - p and d^2 about a pivot p (a value of the row:
 * its first, or its chunk's first) in `acc` precision (clnorm_common.cl).
 * |mean - p| <= sqrt(n) * std, so the shifted sums lose at most log2(n) of
 * their 48-53 bits, and none on offset data. */
#ifndef CLNORM_STATS_CL
#define CLNORM_STATS_CL

#include "clnorm_common.cl"

#ifndef MAXC
#define MAXC 256 /* columns a strided group may own: tiles * VW <= MAXC */
#endif
#ifndef CLNORM_INTERLEAVE
#define CLNORM_INTERLEAVE 0
#endif

/* Every kernel's arguments, in the order of clnorm_abi.h's CLNORM_ARG_*. */
#define KERNEL_ARGS                                                                                \
    __global const float *x, ulong x_off, __global float *y, ulong y_off, ulong outer, ulong n,    \
        ulong inner, uint nparts, uint tiles, uint op, float2 eps, uint nchan,                     \
        __global const float *prm, uint16 poff, __global const int *labels,                        \
        __global float *stat_m, __global float *stat_s, __global acc *partials,                    \
        __global uint *flags

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

CLNORM_INLINE ulong ceil_to(ulong len, ulong parts, ulong quantum)
{
    ulong c = (len + parts - 1) / parts;
    return (c + quantum - 1) / quantum * quantum;
}

CLNORM_INLINE group_t make_group(ulong n, ulong inner, uint nparts, uint tiles)
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

/* Item `lid` of a group over k in [gs, ge). Items own contiguous sub-ranges
 * (CPUs: PoCL runs a group as a loop over its items), or with
 * CLNORM_INTERLEAVE every WG-th vector (GPUs: neighbouring items read
 * neighbouring addresses). */
CLNORM_INLINE item_t make_item(const group_t *g, uint lid)
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

/* A contiguous row of n elements as one item (the CPU variant's rows). */
CLNORM_INLINE item_t whole_row(ulong n)
{
    item_t it = {0, VW, n / VW, n / VW * VW, (uint)(n % VW)};
    return it;
}

/* A vector of the first `tail` elements at p, the other lanes from `fill`. */
CLNORM_INLINE floatV load_tail(__global const float *p, uint tail, floatV fill)
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

CLNORM_INLINE void accv_init(accv_t *s)
{
    s->a1 = (doubleV)(0.0);
    s->a2 = (doubleV)(0.0);
}

CLNORM_INLINE void accv_add(accv_t *s, floatV v, floatV piv)
{
    doubleV d = TO_DOUBLEV(v) - TO_DOUBLEV(piv); /* exact */
    s->a1 += d;
    s->a2 += d * d;
}

CLNORM_INLINE void accv_lanes(const accv_t *s, acc *s1, acc *s2)
{
    STORE_DV(s->a1, s1);
    STORE_DV(s->a2, s2);
}

/* s += t (sums about the same pivot). */
CLNORM_INLINE void accv_merge(accv_t *s, const accv_t *t)
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

CLNORM_INLINE void accv_init(accv_t *s) { s->h1 = s->l1 = s->h2 = s->l2 = FILLV(0.0f); }

CLNORM_INLINE void accv_add(accv_t *s, floatV v, floatV piv)
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
CLNORM_INLINE void accv_merge(accv_t *s, const accv_t *t)
{
    floatV h, e;
    TWO_SUM(floatV, s->h1, t->h1, h, e);
    s->h1 = h;
    s->l1 += e + t->l1;
    TWO_SUM(floatV, s->h2, t->h2, h, e);
    s->h2 = h;
    s->l2 += e + t->l2;
}

CLNORM_INLINE void accv_lanes(const accv_t *s, acc *s1, acc *s2)
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

/* Per-lane sums over a contiguous item's vectors from q. The tail's
 * missing lanes are filled with the pivot: they add exact zeros. */
CLNORM_INLINE void accumulate(__global const float *q, const item_t *it, floatV piv, acc *s1,
                              acc *s2)
{
    accv_t a;
    accv_init(&a);
    for (ulong t = 0; t < it->nvec; ++t)
        accv_add(&a, LOADV(q + it->first + t * it->step), piv);
    if (it->tail)
        accv_add(&a, load_tail(q + it->tail_at, it->tail, piv), piv);
    accv_lanes(&a, s1, s2);
}

/* The lanes of a contiguous row's sums added into lane 0. */
CLNORM_INLINE void lanes_fold(acc *s1, acc *s2)
{
    for (uint l = 1; l < VW; ++l) {
        s1[0] = acc_add(s1[0], s1[l]);
        s2[0] = acc_add(s2[0], s2[l]);
    }
}

/* The most tiles whose sums a work-item keeps in registers: the functions
 * below are specialised for tile counts up to it (arrays of this size are
 * promoted to registers; larger ones stay in memory). */
#define REG_TILES CLNORM_REG_TILES

/* Strided sums: `nt` tiles of VW columns, over `nrows` rows from xg, `step`
 * floats apart, each row read whole (all tiles) in memory order, added into
 * sums[]. `streams` == 2 reads the two halves side by side with sums of their
 * own, merged at the end: a CPU core keeps more reads in flight for two
 * streams than for one. Always inlined, with constant nt <= REG_TILES and
 * streams: the tiles' sums then live in registers. */
CLNORM_ALWAYS_INLINE void strided_sums(__global const float *xg, ulong nrows, ulong step,
                                       const floatV *piv, accv_t *sums, const uint nt,
                                       const uint streams)
{
    accv_t a[REG_TILES], b[REG_TILES];
    floatV p[REG_TILES];
    ulong mid = streams == 2 ? nrows / 2 : 0;
    for (uint t = 0; t < nt; ++t) {
        a[t] = sums[t];
        accv_init(&b[t]);
        p[t] = piv[t];
    }
    for (ulong r = 0; r < mid; ++r) {
        __global const float *xr = xg + r * step, *xs = xr + mid * step;
        for (uint t = 0; t < nt; ++t) {
            accv_add(&a[t], LOADV(xr + t * VW), p[t]);
            accv_add(&b[t], LOADV(xs + t * VW), p[t]);
        }
    }
    for (ulong r = 2 * mid; r < nrows; ++r) /* one stream, or the odd last row */
        for (uint t = 0; t < nt; ++t)
            accv_add(&a[t], LOADV(xg + r * step + t * VW), p[t]);
    for (uint t = 0; t < nt; ++t) {
        if (streams == 2)
            accv_merge(&a[t], &b[t]);
        sums[t] = a[t];
    }
}

/* The same for any number of tiles, the sums in memory (cache). */
CLNORM_INLINE void strided_sums_many(__global const float *xg, ulong nrows, ulong step,
                                     const floatV *piv, accv_t *sums, uint nt, const uint streams)
{
    accv_t more[MAXC / VW];
    ulong mid = streams == 2 ? nrows / 2 : 0;
    for (uint t = 0; t < nt; ++t)
        accv_init(&more[t]);
    for (ulong r = 0; r < mid; ++r) {
        __global const float *xr = xg + r * step, *xs = xr + mid * step;
        for (uint t = 0; t < nt; ++t) {
            accv_add(&sums[t], LOADV(xr + t * VW), piv[t]);
            accv_add(&more[t], LOADV(xs + t * VW), piv[t]);
        }
    }
    for (ulong r = 2 * mid; r < nrows; ++r)
        for (uint t = 0; t < nt; ++t)
            accv_add(&sums[t], LOADV(xg + r * step + t * VW), piv[t]);
    if (streams == 2)
        for (uint t = 0; t < nt; ++t)
            accv_merge(&sums[t], &more[t]);
}

/* strided_sums, specialised for the tile counts that fit in registers. */
CLNORM_INLINE void strided_sums_any(__global const float *xg, ulong nrows, ulong step,
                                    const floatV *piv, accv_t *sums, uint nt, const uint streams)
{
    switch (nt) {
    case 1: strided_sums(xg, nrows, step, piv, sums, 1, streams); break;
    case 2: strided_sums(xg, nrows, step, piv, sums, 2, streams); break;
    case 4: strided_sums(xg, nrows, step, piv, sums, 4, streams); break;
    case 5: strided_sums(xg, nrows, step, piv, sums, 5, streams); break;
    default: strided_sums_many(xg, nrows, step, piv, sums, nt, streams); break;
    }
}

/* (count, pivot, sums) -> (mean, M2) */
CLNORM_INLINE void moments(ulong cnt, float piv, acc s1, acc s2, acc *mean, acc *m2)
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

#endif /* CLNORM_STATS_CL */
