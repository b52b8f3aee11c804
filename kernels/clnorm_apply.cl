/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_apply.cl: the one apply of every normalisation,
 *     y = ((x - c) / d) * a + b   [then * w[k] + v[k] along the reduced axis]
 * and the one place that turns a row's statistics and parameters into its
 * c, a, b (row_scale): the op word of clnorm_abi.h says which formula.
 * (x - c) stays first: folding it into x * a + b' would cancel
 * catastrophically on offset data. c is kept as hi + lo (a float-float
 * value), so that c = mean is exact to ~48 bits. Includes clnorm_stats.cl. */
#ifndef CLNORM_APPLY_CL
#define CLNORM_APPLY_CL

#include "clnorm_stats.cl"

/* The op and its parameters, as the kernel arguments give them. */
typedef struct {
    uint op;
    acc eps;
    uint nchan;
    __global const float *prm;
    uint16 poff;
    __global const int *labels;
    __global float *stat_m, *stat_s;
    __global uint *flags;
} op_t;

CLNORM_INLINE op_t make_op(uint op, float2 eps, uint nchan, __global const float *prm, uint16 poff,
                           __global const int *labels, __global float *stat_m,
                           __global float *stat_s, __global uint *flags)
{
    op_t p;
    p.op = op;
#if CLNORM_FP64
    p.eps = (double)eps.x + (double)eps.y;
#else
    p.eps = eps;
#endif
    p.nchan = nchan ? nchan : 1;
    p.prm = prm;
    p.poff = poff;
    p.labels = labels;
    p.stat_m = stat_m + poff.sc; /* CLNORM_POFF_STAT0 */
    p.stat_s = stat_s + poff.sc;
    p.flags = flags;
    return p;
}

#define OP_OF_ARGS make_op(op, eps, nchan, prm, poff, labels, stat_m, stat_s, flags)

/* Where row `row`'s per-row parameters are in the block: its channel, in
 * its class's row of the table when the op has labels. A label outside
 * [0, nclass) is clamped (never read outside the table) and reported. */
CLNORM_INLINE ulong param_index(const op_t *p, ulong row)
{
    if (!(p->op & (CLNORM_OP_GAMMA | CLNORM_OP_BETA))) /* none to look up: skip the % */
        return 0;
    /* a 32-bit remainder where it suffices: a 64-bit one costs a row of short rows 5% */
    ulong ch = row <= 0xffffffffu ? (ulong)((uint)row % p->nchan) : row % p->nchan;
    if (!(p->op & CLNORM_OP_LABELS))
        return ch;
    int k = p->labels[p->poff.s8 + row / p->nchan];
    uint nclass = p->poff.s7;
    if (k < 0 || (uint)k >= nclass) {
        atomic_or(p->flags, CLNORM_FLAG_LABEL_RANGE);
        k = k < 0 ? 0 : (int)nclass - 1;
    }
    return (ulong)k * p->poff.s4 + ch;
}

CLNORM_INLINE acc param_or(const op_t *p, uint flag, uint off, ulong idx, float dflt)
{
    return acc_from_float((p->op & flag) ? p->prm[off + idx] : dflt);
}

/* One row's scaling: y = ((x - hi) - lo) * sc + b. */
typedef struct {
    float hi, lo, sc, b;
} scale1_t;

CLNORM_INLINE scale1_t scale_of(acc c, acc a, acc b)
{
    scale1_t s = {acc_hi(c), acc_lo(c), acc_to_float(a), acc_to_float(b)};
    return s;
}

/* A row's statistics (cnt elements, mean and M2 about it; `last` its last
 * element) and parameters -> its scaling. Stores the row's centre and
 * spread when the op says so and `store` (one group of a split row does). */
CLNORM_ALWAYS_INLINE scale1_t row_scale(const op_t *p, ulong row, ulong cnt, acc mean, acc m2,
                                        float last, int store)
{
    ulong idx = param_index(p, row);
    acc g = param_or(p, CLNORM_OP_GAMMA, p->poff.s0, idx, 1.0f);
    acc beta = param_or(p, CLNORM_OP_BETA, p->poff.s1, idx, 0.0f);
    acc c = mean, s;
    switch (p->op & CLNORM_FIN_MASK) {
    case CLNORM_FIN_VARNORM: /* cnt == 1 divides 0 by 0: NaN, as torch.var gives */
        c = acc_zero();
        s = acc_sqrt(acc_add(acc_div(m2, acc_from_count(cnt - 1)), p->eps));
        break;
    case CLNORM_FIN_REVIN: s = acc_add(acc_sqrt(acc_div(m2, acc_from_count(cnt))), p->eps); break;
    case CLNORM_FIN_TLN: /* no epsilon: a constant column gives inf or NaN, as PyTorch does */
        c = acc_sub(mean, beta);
        beta = acc_zero();
        s = acc_sqrt(acc_div(m2, acc_from_count(cnt)));
        break;
    default: /* CLNORM_FIN_STANDARD */
        if (p->op & CLNORM_OP_LAST)
            c = acc_from_float(last);
        s = acc_sqrt(acc_add(acc_div(m2, acc_from_count(cnt)), p->eps));
        break;
    }
    if (store && (p->op & CLNORM_OP_STORE)) {
        int exact = (p->op & CLNORM_OP_STORE_CENTRE) != 0;
        p->stat_m[row] = exact ? acc_hi(c) : acc_to_float(c);
        p->stat_s[row] = exact ? acc_lo(c) : acc_to_float(s);
    }
    return scale_of(c, acc_div(g, s), beta);
}

/* The elementwise ops' scaling of a row, from parameters and stored
 * statistics: y = ((x - hi) - lo) / d * sc + b (d == 1: no division). */
CLNORM_INLINE scale1_t row_fixed(const op_t *p, ulong row, float *d)
{
    ulong idx = param_index(p, row);
    acc g = param_or(p, CLNORM_OP_GAMMA, p->poff.s0, idx, 1.0f);
    acc beta = param_or(p, CLNORM_OP_BETA, p->poff.s1, idx, 0.0f);
    *d = 1.0f;
    switch (p->op & CLNORM_FIN_MASK) {
    case CLNORM_FIN_DENORM: /* (x - beta) / (g + eps), then * s + m */
        if (p->op & (CLNORM_OP_GAMMA | CLNORM_OP_BETA))
            *d = acc_to_float(acc_add(g, p->eps));
        return scale_of(beta, acc_from_float(p->stat_s[row]), acc_from_float(p->stat_m[row]));
    case CLNORM_FIN_FIXED: { /* running statistics: by channel, whatever the labels */
        ulong ch = row % p->nchan;
        acc v = acc_from_float(p->prm[p->poff.s3 + ch]);
        return scale_of(acc_from_float(p->prm[p->poff.s2 + ch]),
                        acc_div(g, acc_sqrt(acc_add(v, p->eps))), beta);
    }
    case CLNORM_FIN_COPY: { /* ((x - 0) - 0) * 1 + -0 is x for every x, -0 and NaN too (+0
                               would turn -0 into +0) */
        scale1_t copy = {0.0f, 0.0f, 1.0f, -0.0f};
        return copy;
    }
    case CLNORM_FIN_DIVIDE: /* x / scale, rounded once as PyTorch's division */
        *d = p->stat_s[row];
        return scale_of(acc_zero(), acc_from_float(1.0f), acc_zero());
    default: /* CLNORM_FIN_AFFINE */
        if (p->op & CLNORM_OP_STAT_SCALE)
            g = acc_from_float(p->stat_s[row]);
        return scale_of(acc_zero(), g, beta);
    }
}

/* A scaling as vectors: one row's splat (contiguous), or a tile's VW columns. */
typedef struct {
    floatV hi, lo, sc, b;
} scalev_t;

CLNORM_INLINE scalev_t splat(scale1_t s)
{
    scalev_t v = {FILLV(s.hi), FILLV(s.lo), FILLV(s.sc), FILLV(s.b)};
    return v;
}

/* How an apply is made; a constant at each hot loop's call, so that an op
 * pays only for what it uses: FORM_BIAS adds b, FORM_AXIS then scales by a
 * weight and adds a bias along the reduced axis. */
#define FORM_BIAS 1
#define FORM_AXIS 2
#define FORM_SEG 4    /* with FORM_AXIS: a weight per segment of the row */
#define FORM_PERIOD 8 /* with FORM_AXIS: weights repeating along the row */

CLNORM_INLINE int form_of(const op_t *p)
{
    int biased = (p->op & CLNORM_OP_BETA) || (p->op & CLNORM_FIN_MASK) == CLNORM_FIN_DENORM;
    return (biased ? FORM_BIAS : 0) | ((p->op & CLNORM_OP_AXIS) ? FORM_AXIS : 0) |
           ((p->op & CLNORM_OP_SEG) ? FORM_SEG : 0) |
           ((p->op & CLNORM_OP_PERIOD) ? FORM_PERIOD : 0);
}

CLNORM_ALWAYS_INLINE floatV apply_v(floatV x, const scalev_t *s, const int form)
{
    floatV r = ((x - s->hi) - s->lo) * s->sc;
    return (form & FORM_BIAS) ? r + s->b : r;
}

/* The weights and biases along the reduced axis, or none; with segments,
 * one per `seg` elements, from the row's first (axis_for_row). */
typedef struct {
    int on;
    __global const float *w, *v;
    uint seg;
} axis_t;

CLNORM_INLINE axis_t axis_of(const op_t *p)
{
    axis_t a = {(p->op & CLNORM_OP_AXIS) != 0, p->prm + p->poff.s5, p->prm + p->poff.s6,
                (p->op & (CLNORM_OP_SEG | CLNORM_OP_PERIOD)) ? p->poff.sb : 1u};
    return a;
}

/* The axis of contiguous row `row` of n elements: with segments, its
 * first segment's weight is (row % nchan) * (n / seg). */
CLNORM_INLINE axis_t axis_for_row(const op_t *p, const axis_t *ax, ulong row, ulong n,
                                  const int form)
{
    axis_t a = *ax;
    if (form & FORM_SEG) {
        ulong first = (row % p->nchan) * (n / a.seg);
        a.w += first;
        a.v += first;
    }
    return a;
}

/* The weight index of element k: k, its segment or its place in the period
 * (32-bit: such rows are shorter than 2^32; segments do not straddle a
 * vector, and a vector from a period's place reads on into the array's
 * padding, which repeats the period). */
CLNORM_INLINE ulong axis_index(const axis_t *ax, ulong k, const int form)
{
    if (form & FORM_SEG)
        return (uint)k / ax->seg;
    return (form & FORM_PERIOD) ? (uint)k % ax->seg : k;
}

/* r * w + v at element k of a contiguous row (vectors along k). */
CLNORM_ALWAYS_INLINE floatV axis_apply(floatV r, const axis_t *ax, ulong k, const int form)
{
    if (!(form & FORM_AXIS))
        return r;
    if (form & FORM_SEG) {
        ulong j = axis_index(ax, k, form);
        return r * FILLV(ax->w[j]) + FILLV(ax->v[j]);
    }
    ulong j = axis_index(ax, k, form);
    return r * LOADV(ax->w + j) + LOADV(ax->v + j);
}

/* Contiguous rows: the element at k has its own weight (vectors along k). */
CLNORM_ALWAYS_INLINE floatV apply_at(floatV x, const scalev_t *s, const axis_t *ax, ulong k,
                                     const int form)
{
    return axis_apply(apply_v(x, s, form), ax, k, form);
}

/* y = apply(x) over a contiguous item's vectors (offsets from the row's
 * start, so an offset is also k), last first: the statistics pass just read
 * them in order, so the most recent are the ones still in cache. */
CLNORM_ALWAYS_INLINE void apply_item_with(__global const float *xq, __global float *yq,
                                          const item_t *it, const scalev_t *s, const axis_t *ax,
                                          const int form)
{
    for (uint l = 0; l < it->tail; ++l) {
        ulong k = it->tail_at + l;
        float r = ((xq[k] - LANE0(s->hi)) - LANE0(s->lo)) * LANE0(s->sc);
        if (form & FORM_BIAS)
            r += LANE0(s->b);
        ulong j = axis_index(ax, k, form);
        yq[k] = (form & FORM_AXIS) ? r * ax->w[j] + ax->v[j] : r;
    }
    for (ulong u = it->nvec; u > 0; --u) {
        ulong at = it->first + (u - 1) * it->step;
        STORE_GLOBAL(apply_at(LOADV(xq + at), s, ax, at, form), yq + at);
    }
}

CLNORM_INLINE void apply_item(__global const float *xq, __global float *yq, const item_t *it,
                              const scalev_t *s, const axis_t *ax, int form)
{
    apply_item_with(xq, yq, it, s, ax, form);
}

/* Strided rows: tile t of row k, its columns with their scalings; the axis
 * weight w, v of row k is the same for every column. */
CLNORM_ALWAYS_INLINE void apply_tile(__global const float *x, __global float *y, const scalev_t *s,
                                     floatV w, floatV v, const int form)
{
    floatV r = apply_v(LOADV(x), s, form);
    STORE_GLOBAL((form & FORM_AXIS) ? r * w + v : r, y);
}

/* The axis weight and bias of row k of a strided block (1 and 0 without). */
CLNORM_INLINE void axis_row(const axis_t *ax, ulong k, const int form, floatV *w, floatV *v)
{
    *w = (form & FORM_AXIS) ? FILLV(ax->w[k]) : FILLV(1.0f);
    *v = (form & FORM_AXIS) ? FILLV(ax->v[k]) : FILLV(0.0f);
}

/* The scalings of a strided block's tiles, from per-column scale1_t. */
CLNORM_INLINE scalev_t gather_tile(const scale1_t *cols)
{
    float h[VW], l[VW], c[VW], b[VW];
    for (uint q = 0; q < VW; ++q) {
        h[q] = cols[q].hi;
        l[q] = cols[q].lo;
        c[q] = cols[q].sc;
        b[q] = cols[q].b;
    }
    scalev_t v = {LOADV(h), LOADV(l), LOADV(c), LOADV(b)};
    return v;
}

#endif /* CLNORM_APPLY_CL */
