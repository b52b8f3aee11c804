/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_cpu.cl: the normalisation kernels of the CPU variant. PoCL runs a
 * work-group as a loop over its items, so these give one item long runs of
 * memory-order work and use no barrier and no local memory:
 *   norm_rows  contiguous rows (VarianceNorm2d, RevIN BDL), a run of rows per item
 *   norm_slab  strided rows (RevIN BLD), a run of (outer, column block) slabs per item
 * Both are software-pipelined: row (slab) r is normalised in the loop that
 * sums row (slab) r + 1, so reads and writes stream together as in a copy.
 * Built after clnorm_norm.cl, whose view, accumulators and finalisation
 * they use. */

/* A contiguous row's per-lane sums about `piv` -> (hi, lo, sc) of its
 * normalisation (RevIN: its statistics stored too). */
inline void row_finish(acc *s1, acc *s2, float piv, ulong n, int mode, ulong row, uint nchan,
                       __global const float *pa, __global float *stat_m,
                       __global float *stat_s, float *hi, float *lo, float *sc)
{
    for (uint l = 1; l < VW; ++l) {
        s1[0] = acc_add(s1[0], s1[l]);
        s2[0] = acc_add(s2[0], s2[l]);
    }
    acc mean, m2;
    moments(n, piv, s1[0], s2[0], &mean, &m2);
    finalize_row(n, mean, m2, mode, row, nchan, pa, stat_m, stat_s, 1, hi, lo, sc);
}

/* Short contiguous rows, `nparts` consecutive rows per work-item, no
 * barrier. Software-pipelined: one loop normalises row r (read back from
 * cache) while it sums row r + 1 (read from memory), so reads and writes
 * stream together as in a copy, instead of a read-only pass then a
 * write pass per row. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_rows(KERNEL_ARGS)
{
    ulong first = get_global_id(0) * nparts;
    if (first >= outer)
        return;
    ulong last = min(outer, first + nparts);
    item_t it = {0, VW, n / VW, n / VW * VW, (uint)(n % VW)};
    int affine = (mode & MODE_AFFINE) != 0;
    float hi, lo, sc, piv = x[x_off + first * n];
    acc s1[VW], s2[VW];
    accumulate(x + x_off + first * n, &it, FILLV(piv), s1, s2);
    row_finish(s1, s2, piv, n, mode, first, nchan, pa, stat_m, stat_s, &hi, &lo, &sc);
    for (ulong row = first; row < last; ++row) {
        __global const float *xq = x + x_off + row * n;
        __global float *yq = y + y_off + row * n;
        floatV w = affine ? FILLV(pa[row % nchan]) : FILLV(1.0f);
        floatV b = affine ? FILLV(pb[row % nchan]) : FILLV(0.0f);
        floatV vh = FILLV(hi), vl = FILLV(lo), vs = FILLV(sc);
        if (row + 1 == last) {
            apply_item(xq, yq, &it, vh, vl, vs, affine, w, b);
            break;
        }
        __global const float *xn = xq + n;
        piv = xn[0];
        floatV vp = FILLV(piv);
        accv_t a;
        accv_init(&a);
        for (ulong t = 0; t < it.nvec; ++t) {
            accv_add(&a, LOADV(xn + t * VW), vp);
            floatV r = ((LOADV(xq + t * VW) - vh) - vl) * vs;
            if (affine)
                r = r * w + b;
            STORE_GLOBAL(r, yq + t * VW);
        }
        if (it.tail)
            accv_add(&a, load_tail(xn + it.tail_at, it.tail, vp), vp);
        item_t tail_only = {0, VW, 0, it.tail_at, it.tail};
        apply_item(xq, yq, &tail_only, vh, vl, vs, affine, w, b);
        accv_lanes(&a, s1, s2);
        row_finish(s1, s2, piv, n, mode, row + 1, nchan, pa, stat_m, stat_s, &hi, &lo, &sc);
    }
}

/* Per-tile sums over the rows [0, n) of a slab as two streams, the halves read
 * side by side with their own sums, merged at the end: a CPU core keeps
 * more reads in flight for two streams than for one. */
#define SLAB_SUMS(NT)                                                                          \
    inline void slab_sums_##NT(__global const float *xg, ulong n, ulong stride,               \
                               const floatV *piv, accv_t *sums)                               \
    {                                                                                          \
        accv_t a[NT], b[NT];                                                                   \
        floatV p[NT];                                                                          \
        ulong mid = n / 2;                                                                     \
        for (uint t = 0; t < NT; ++t) {                                                        \
            accv_init(&a[t]);                                                                  \
            accv_init(&b[t]);                                                                  \
            p[t] = piv[t];                                                                     \
        }                                                                                      \
        for (ulong r = 0; r < mid; ++r) {                                                      \
            __global const float *xr = xg + r * stride, *xs = xr + mid * stride;              \
            for (uint t = 0; t < NT; ++t) {                                                    \
                accv_add(&a[t], LOADV(xr + t * VW), p[t]);                                     \
                accv_add(&b[t], LOADV(xs + t * VW), p[t]);                                     \
            }                                                                                  \
        }                                                                                      \
        for (ulong r = 2 * mid; r < n; ++r) /* odd n: the last row */                          \
            for (uint t = 0; t < NT; ++t)                                                      \
                accv_add(&a[t], LOADV(xg + r * stride + t * VW), p[t]);                        \
        for (uint t = 0; t < NT; ++t) {                                                        \
            accv_merge(&a[t], &b[t]);                                                          \
            sums[t] = a[t];                                                                    \
        }                                                                                      \
    }
SLAB_SUMS(1)
SLAB_SUMS(2)
SLAB_SUMS(4)
SLAB_SUMS(5)

/* A slab: one outer index o and a block of tiles x VW adjacent columns,
 * all n rows of it (CPU devices, strided views). */
typedef struct {
    __global const float *x; /* (o, k = 0, first column) */
    __global float *y;
    ulong row0; /* statistics index of its first column */
} slab_t;

inline slab_t make_slab(ulong sb, KERNEL_ARGS)
{
    ulong width = (ulong)tiles * VW, blocks = inner / width;
    ulong o = sb / blocks, c0 = (sb % blocks) * width;
    slab_t s = {x + x_off + o * n * inner + c0, y + y_off + o * n * inner + c0, o * inner + c0};
    return s;
}

/* A slab's sums (the pivots are its first row) -> shift, scale and
 * parameters per tile. */
inline void slab_sums(const slab_t *s, KERNEL_ARGS, floatV *piv, accv_t *sums)
{
    accv_t more[MAXC / VW];
    for (uint t = 0; t < tiles; ++t) {
        piv[t] = LOADV(s->x + t * VW);
        accv_init(&sums[t]);
    }
    switch (tiles) {
    case 1: slab_sums_1(s->x, n, inner, piv, sums); break;
    case 2: slab_sums_2(s->x, n, inner, piv, sums); break;
    case 4: slab_sums_4(s->x, n, inner, piv, sums); break;
    case 5: slab_sums_5(s->x, n, inner, piv, sums); break;
    default: { /* the sums in private memory (cache); two streams all the same */
        for (uint t = 0; t < tiles; ++t)
            accv_init(&more[t]);
        ulong mid = n / 2;
        for (ulong r = 0; r < mid; ++r) {
            __global const float *xr = s->x + r * inner, *xs = xr + mid * inner;
            for (uint t = 0; t < tiles; ++t) {
                accv_add(&sums[t], LOADV(xr + t * VW), piv[t]);
                accv_add(&more[t], LOADV(xs + t * VW), piv[t]);
            }
        }
        for (ulong r = 2 * mid; r < n; ++r)
            for (uint t = 0; t < tiles; ++t)
                accv_add(&sums[t], LOADV(s->x + r * inner + t * VW), piv[t]);
        for (uint t = 0; t < tiles; ++t)
            accv_merge(&sums[t], &more[t]);
    }
    }
}

/* Per-tile normalisation of a slab: y = ((x - hi) - lo) * sc [* w + b]. */
typedef struct {
    floatV hi[MAXC / VW], lo[MAXC / VW], sc[MAXC / VW], w[MAXC / VW], b[MAXC / VW];
} slab_scale_t;

inline void slab_finalize(const slab_t *s, const floatV *piv, const accv_t *sums, KERNEL_ARGS,
                          slab_scale_t *k)
{
    int affine = (mode & MODE_AFFINE) != 0;
    for (uint t = 0; t < tiles; ++t) {
        acc s1[VW], s2[VW];
        float p[VW], h[VW], l[VW], c[VW];
        accv_lanes(&sums[t], s1, s2);
        STOREV(piv[t], p);
        for (uint q = 0; q < VW; ++q) {
            acc mean, m2;
            moments(n, p[q], s1[q], s2[q], &mean, &m2);
            finalize_row(n, mean, m2, mode, s->row0 + t * VW + q, nchan, pa, stat_m, stat_s, 1,
                         &h[q], &l[q], &c[q]);
        }
        k->hi[t] = LOADV(h);
        k->lo[t] = LOADV(l);
        k->sc[t] = LOADV(c);
        k->w[t] = affine ? channel_vector(s->row0 + t * VW, pa, nchan) : FILLV(1.0f);
        k->b[t] = affine ? channel_vector(s->row0 + t * VW, pb, nchan) : FILLV(0.0f);
    }
}

inline floatV slab_scaled(const slab_scale_t *k, uint t, floatV v, int affine)
{
    floatV r = ((v - k->hi[t]) - k->lo[t]) * k->sc[t];
    return affine ? r * k->w[t] + k->b[t] : r;
}

/* Normalises slab `cur` while summing slab `next` row by row: the reads of
 * both and the writes stream together, as in a copy. `nt` is the number of
 * tiles, a constant where the caller can make it one (registers). */
__attribute__((always_inline)) inline void
slab_pipe(const slab_t *cur, const slab_scale_t *k, const slab_t *next, const floatV *pivn,
          accv_t *sums, ulong n, ulong inner, int affine, const uint nt)
{
    accv_t a[MAXC / VW];
    for (uint t = 0; t < nt; ++t)
        a[t] = sums[t];
    for (ulong r = 0; r < n; ++r) {
        ulong at = r * inner;
        for (uint t = 0; t < nt; ++t) {
            accv_add(&a[t], LOADV(next->x + at + t * VW), pivn[t]);
            STORE_GLOBAL(slab_scaled(k, t, LOADV(cur->x + at + t * VW), affine),
                         cur->y + at + t * VW);
        }
    }
    for (uint t = 0; t < nt; ++t)
        sums[t] = a[t];
}

/* A run of `nparts` slabs per work-item (CPU devices, strided views),
 * software-pipelined like norm_rows: slab s + 1 is summed in the loop that
 * normalises slab s; the first slab is only summed and the last only
 * normalised, last row first, while those rows are still in cache. No
 * barrier and no local memory: a group is one item. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void norm_slab(KERNEL_ARGS)
{
    ulong blocks = inner / ((ulong)tiles * VW), slabs = outer * blocks;
    ulong first = get_global_id(0) * nparts;
    if (first >= slabs)
        return;
    ulong last = min(slabs, first + nparts);
    int affine = (mode & MODE_AFFINE) != 0;
    floatV piv[MAXC / VW];
    accv_t sums[MAXC / VW];
    slab_scale_t k;
    slab_t cur = make_slab(first, KERNEL_ARG_NAMES);
    slab_sums(&cur, KERNEL_ARG_NAMES, piv, sums);
    slab_finalize(&cur, piv, sums, KERNEL_ARG_NAMES, &k);
    for (ulong sb = first + 1; sb < last; ++sb) {
        slab_t next = make_slab(sb, KERNEL_ARG_NAMES);
        for (uint t = 0; t < tiles; ++t) {
            piv[t] = LOADV(next.x + t * VW);
            accv_init(&sums[t]);
        }
        switch (tiles) {
        case 1: slab_pipe(&cur, &k, &next, piv, sums, n, inner, affine, 1); break;
        case 2: slab_pipe(&cur, &k, &next, piv, sums, n, inner, affine, 2); break;
        case 4: slab_pipe(&cur, &k, &next, piv, sums, n, inner, affine, 4); break;
        case 5: slab_pipe(&cur, &k, &next, piv, sums, n, inner, affine, 5); break;
        default: slab_pipe(&cur, &k, &next, piv, sums, n, inner, affine, tiles); break;
        }
        slab_finalize(&next, piv, sums, KERNEL_ARG_NAMES, &k);
        cur = next;
    }
    for (ulong r = n; r > 0; --r) {
        ulong at = (r - 1) * inner;
        for (uint t = 0; t < tiles; ++t)
            STORE_GLOBAL(slab_scaled(&k, t, LOADV(cur.x + at + t * VW), affine),
                         cur.y + at + t * VW);
    }
}
