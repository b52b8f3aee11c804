/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_cpu.cl: the normalisation kernels of the CPU variant. PoCL runs a
 * work-group as a loop over its items, so these give one item long runs of
 * memory-order work and use no barrier and no local memory:
 *   norm_rows  contiguous rows (VarianceNorm2d, RevIN BDL, LayerNorm), a run of rows per item
 *              (norm_rows_plain: the same for ops without b or axis weights)
 *   norm_slab  strided rows (RevIN BLD, TransposedLN), a run of (outer, column block) slabs per item
 * Both are software-pipelined: row (slab) r is normalised in the loop that
 * sums row (slab) r + 1, so reads and writes stream together as in a copy.
 * Includes clnorm_apply.cl. */
#ifndef CLNORM_CPU_CL
#define CLNORM_CPU_CL

#include "clnorm_apply.cl"

/* A contiguous row's per-lane sums about `piv` -> its scaling (and its
 * statistics stored, when the op keeps them). */
CLNORM_ALWAYS_INLINE scale1_t row_finish(const op_t *p, ulong row, __global const float *xq,
                                         ulong n, float piv, acc *s1, acc *s2)
{
    lanes_fold(s1, s2);
    acc mean, m2;
    moments(n, piv, s1[0], s2[0], &mean, &m2);
    float last = (p->op & CLNORM_OP_LAST) ? xq[n - 1] : 0.0f;
    return row_scale(p, row, n, mean, m2, last, 1);
}

/* The run of `nparts` units (rows, slabs) work-item get_global_id(0) owns:
 * [*first, *last); 0 when it has none. */
CLNORM_INLINE int item_run(ulong units, uint nparts, ulong *first, ulong *last)
{
    *first = get_global_id(0) * nparts;
    *last = min(units, *first + nparts);
    return *first < units;
}

/* One loop over a row's whole vectors: normalise row xq into yq while
 * summing the next row xn. One copy of the loop per kernel, `form` tested
 * inside it (loop-invariant): copies specialised per form in one kernel
 * measured 25-30% slower on PoCL (the kernel grows). Adding b even when it
 * is 0 costs nothing where memory bounds the loop; rows read from cache
 * feel the tests (norm_rows_plain). */
CLNORM_INLINE void rows_pipe(__global const float *xq, __global float *yq, __global const float *xn,
                             ulong nvec, const scalev_t *s, const axis_t *ax, floatV piv, accv_t *a,
                             const int form)
{
    for (ulong t = 0; t < nvec; ++t) {
        ulong k = t * VW;
        accv_add(a, LOADV(xn + k), piv);
        STORE_GLOBAL(axis_apply(apply_v(LOADV(xq + k), s, form), ax, k, form), yq + k);
    }
}

/* Short contiguous rows, `nparts` consecutive rows per work-item, no
 * barrier. Software-pipelined: one loop normalises row r (read back from
 * cache) while it sums row r + 1 (read from memory), so reads and writes
 * stream together as in a copy, instead of a read-only pass then a
 * write pass per row. `plain` (a constant): the op is CLNORM_OP_IS_PLAIN,
 * its form 0, so the loops test no form. */
CLNORM_ALWAYS_INLINE void rows_run(const op_t *pp, __global const float *x, __global float *y,
                                   ulong outer, ulong n, uint nparts, const int plain)
{
    ulong first, last;
    if (!item_run(outer, nparts, &first, &last))
        return;
    op_t p = *pp;
    axis_t ax = axis_of(&p);
    int form = plain ? 0 : form_of(&p);
    item_t it = whole_row(n);
    __global const float *xq = x + first * n;
    float piv = xq[0];
    acc s1[VW], s2[VW];
    accumulate(xq, &it, FILLV(piv), s1, s2);
    scale1_t sc = row_finish(&p, first, xq, n, piv, s1, s2);
    for (ulong row = first; row < last; ++row) {
        xq = x + row * n;
        __global float *yq = y + row * n;
        scalev_t s = splat(sc);
        axis_t axr = axis_for_row(&p, &ax, row, n, form);
        if (row + 1 == last) {
            apply_item(xq, yq, &it, &s, &axr, form);
            break;
        }
        __global const float *xn = xq + n;
        piv = xn[0];
        floatV vp = FILLV(piv);
        accv_t a;
        accv_init(&a);
        rows_pipe(xq, yq, xn, it.nvec, &s, &axr, vp, &a, form);
        if (it.tail) {
            accv_add(&a, load_tail(xn + it.tail_at, it.tail, vp), vp);
            item_t tail_only = {0, VW, 0, it.tail_at, it.tail};
            apply_item(xq, yq, &tail_only, &s, &axr, form);
        }
        accv_lanes(&a, s1, s2);
        sc = row_finish(&p, row + 1, xn, n, piv, s1, s2);
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_rows(KERNEL_ARGS)
{
    op_t p = OP_OF_ARGS;
    rows_run(&p, x + x_off, y + y_off, outer, n, nparts, 0);
}

/* norm_rows of a plain op in a kernel of its own: a copy of the loops
 * without form tests in norm_rows measured 3-4% faster on VarianceNorm2d
 * 10x64x32x32 (from cache, so bound by the loop's instructions) but made
 * the generic loop slower (LayerNorm 8x128x512: 1.5%). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void norm_rows_plain(KERNEL_ARGS)
{
    op_t p = OP_OF_ARGS;
    rows_run(&p, x + x_off, y + y_off, outer, n, nparts, 1);
}

/* A slab: one outer index o and a block of tiles x VW adjacent columns,
 * all n rows of it (CPU devices, strided views). */
typedef struct {
    __global const float *x; /* (o, k = 0, first column) */
    __global float *y;
    ulong row0; /* statistics index of its first column */
} slab_t;

CLNORM_INLINE slab_t make_slab(ulong sb, __global const float *x, __global float *y, ulong n,
                               ulong inner, uint tiles)
{
    ulong width = (ulong)tiles * VW, blocks = inner / width;
    ulong o = sb / blocks, c0 = (sb % blocks) * width;
    slab_t s = {x + o * n * inner + c0, y + o * n * inner + c0, o * inner + c0};
    return s;
}

/* The pivots of a slab (its first row) and cleared sums. */
CLNORM_INLINE void slab_start(const slab_t *s, uint tiles, floatV *piv, accv_t *sums)
{
    for (uint t = 0; t < tiles; ++t) {
        piv[t] = LOADV(s->x + t * VW);
        accv_init(&sums[t]);
    }
}

/* A slab's sums -> each tile's scaling (and statistics stored). */
CLNORM_INLINE void slab_finalize(const op_t *p, const slab_t *s, const floatV *piv,
                                 const accv_t *sums, ulong n, ulong inner, uint tiles, scalev_t *k)
{
    for (uint t = 0; t < tiles; ++t) {
        acc s1[VW], s2[VW];
        float pv[VW];
        scale1_t cols[VW];
        accv_lanes(&sums[t], s1, s2);
        STOREV(piv[t], pv);
        for (uint q = 0; q < VW; ++q) {
            acc mean, m2;
            moments(n, pv[q], s1[q], s2[q], &mean, &m2);
            float last = (p->op & CLNORM_OP_LAST) ? s->x[(n - 1) * inner + t * VW + q] : 0.0f;
            cols[q] = row_scale(p, s->row0 + t * VW + q, n, mean, m2, last, 1);
        }
        k[t] = gather_tile(cols);
    }
}

/* Normalises slab `cur` while summing slab `next` row by row, tile by
 * tile: the reads of both and the writes stream together, as in a copy.
 * `nt` (the number of tiles) and `form` are constants where the caller can
 * make them (registers). */
CLNORM_ALWAYS_INLINE void slab_pipe(const slab_t *cur, const scalev_t *k, const slab_t *next,
                                    const floatV *pivn, accv_t *sums, ulong n, ulong inner,
                                    const axis_t *ax, const int form, const uint nt,
                                    const int in_registers)
{
    /* Many tiles: a copy of the sums that the compiler knows nothing else
     * points to (summing through `sums` measured 10% slower, 64x1024x256). */
    accv_t regs[REG_TILES], mem[MAXC / VW], *a = in_registers ? regs : mem;
    for (uint t = 0; t < nt; ++t)
        a[t] = sums[t];
    for (ulong r = 0; r < n; ++r) {
        ulong at = r * inner;
        floatV w, v;
        axis_row(ax, r, form, &w, &v);
        for (uint t = 0; t < nt; ++t) {
            accv_add(&a[t], LOADV(next->x + at + t * VW), pivn[t]);
            apply_tile(cur->x + at + t * VW, cur->y + at + t * VW, &k[t], w, v, form);
        }
    }
    for (uint t = 0; t < nt; ++t)
        sums[t] = a[t];
}

/* The parts of `nt` tiles' scalings, each in an array of its own. */
CLNORM_ALWAYS_INLINE void scalings_soa(const scalev_t *k, uint nt, floatV *hi, floatV *lo,
                                       floatV *sc, floatV *bb)
{
    for (uint t = 0; t < nt; ++t) {
        hi[t] = k[t].hi;
        lo[t] = k[t].lo;
        sc[t] = k[t].sc;
        bb[t] = k[t].b;
    }
}

/* slab_pipe for many tiles (their state in memory) without an axis: each
 * part of the scalings in its own array, b added only when the op has one
 * (64x1024x256 measured 0.72 of copy against 0.69 through scalev_t). */
CLNORM_INLINE void slab_pipe_soa(const slab_t *cur, const scalev_t *k, const slab_t *next,
                                 const floatV *pivn, accv_t *sums, ulong n, ulong inner, int bias,
                                 const uint nt)
{
    floatV hi[MAXC / VW], lo[MAXC / VW], sc[MAXC / VW], bb[MAXC / VW];
    accv_t a[MAXC / VW];
    scalings_soa(k, nt, hi, lo, sc, bb);
    for (uint t = 0; t < nt; ++t)
        a[t] = sums[t];
    for (ulong r = 0; r < n; ++r) {
        ulong at = r * inner;
        for (uint t = 0; t < nt; ++t) {
            accv_add(&a[t], LOADV(next->x + at + t * VW), pivn[t]);
            floatV v = ((LOADV(cur->x + at + t * VW) - hi[t]) - lo[t]) * sc[t];
            STORE_GLOBAL(bias ? v + bb[t] : v, cur->y + at + t * VW);
        }
    }
    for (uint t = 0; t < nt; ++t)
        sums[t] = a[t];
}

/* slab_pipe with the tile counts that have a register specialisation, the
 * form a constant in each: b always added (see rows_pipe), the axis only in
 * its own, generic copy (TransposedLN's weights). */
CLNORM_INLINE void slab_pipe_any(const slab_t *cur, const scalev_t *k, const slab_t *next,
                                 const floatV *pivn, accv_t *sums, ulong n, ulong inner,
                                 const axis_t *ax, int form, uint nt)
{
    const int b = FORM_BIAS;
    if (form & FORM_AXIS) {
        slab_pipe(cur, k, next, pivn, sums, n, inner, ax, b | FORM_AXIS, nt, 0);
        return;
    }
    switch (nt) {
    case 1: slab_pipe(cur, k, next, pivn, sums, n, inner, ax, b, 1, 1); break;
    case 2: slab_pipe(cur, k, next, pivn, sums, n, inner, ax, b, 2, 1); break;
    case 4: slab_pipe(cur, k, next, pivn, sums, n, inner, ax, b, 4, 1); break;
    case 5: slab_pipe(cur, k, next, pivn, sums, n, inner, ax, b, 5, 1); break;
    default: slab_pipe_soa(cur, k, next, pivn, sums, n, inner, form & FORM_BIAS, nt); break;
    }
}

/* The last slab of a run, last row first (those rows are still in cache). */
CLNORM_ALWAYS_INLINE void slab_last(const slab_t *cur, const scalev_t *k, ulong n, ulong inner,
                                    const axis_t *ax, const int form, uint nt)
{
    for (ulong r = n; r > 0; --r) {
        ulong at = (r - 1) * inner;
        floatV w, v;
        axis_row(ax, r - 1, form, &w, &v);
        for (uint t = 0; t < nt; ++t)
            apply_tile(cur->x + at + t * VW, cur->y + at + t * VW, &k[t], w, v, form);
    }
}

/* slab_last without an axis for a constant `nt` up to REG_TILES: the
 * scalings' parts in arrays of their own, kept in registers (read through
 * k[] in every row, 8x16000x80's kernel took 5-9% longer; a run-time test
 * of b in the loop lost the gain again, so b is added always, as in
 * rows_pipe). */
CLNORM_ALWAYS_INLINE void slab_last_regs(const slab_t *cur, const scalev_t *k, ulong n, ulong inner,
                                         const uint nt)
{
    floatV hi[REG_TILES], lo[REG_TILES], sc[REG_TILES], bb[REG_TILES];
    scalings_soa(k, nt, hi, lo, sc, bb);
    for (ulong r = n; r > 0; --r) {
        ulong at = (r - 1) * inner;
        for (uint t = 0; t < nt; ++t) {
            floatV v = ((LOADV(cur->x + at + t * VW) - hi[t]) - lo[t]) * sc[t];
            STORE_GLOBAL(v + bb[t], cur->y + at + t * VW);
        }
    }
}

/* A run of `nparts` slabs per work-item (CPU devices, strided views),
 * software-pipelined like norm_rows: slab s + 1 is summed in the loop that
 * normalises slab s; the first slab is only summed (two streams) and the
 * last only normalised, last row first, while those rows are still in
 * cache. No barrier and no local memory: a group is one item. */
/* The last slab of a run (or the only one) normalised: the tile counts of
 * the register specialisations as constants (8x16000x80 measured 13% faster
 * than with a run-time count), b always added (see rows_pipe). */
CLNORM_INLINE void slab_end(const slab_t *cur, const scalev_t *k, ulong n, ulong inner,
                            const axis_t *ax, int form, uint tiles)
{
    if (form & FORM_AXIS)
        slab_last(cur, k, n, inner, ax, FORM_BIAS | FORM_AXIS, tiles);
    else
        switch (tiles) {
        case 1: slab_last_regs(cur, k, n, inner, 1); break;
        case 2: slab_last_regs(cur, k, n, inner, 2); break;
        case 4: slab_last_regs(cur, k, n, inner, 4); break;
        case 5: slab_last_regs(cur, k, n, inner, 5); break;
        default: slab_last(cur, k, n, inner, ax, FORM_BIAS, tiles); break;
        }
}

/* One slab per work-item (nparts == 1): summed as two streams, then
 * normalised last row first. Its own kernel: the pipelined loops of
 * norm_slab, present in the same function, measured 15-20% slower here. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void norm_slab1(KERNEL_ARGS)
{
    ulong first, last;
    if (!item_run(outer * (inner / ((ulong)tiles * VW)), 1, &first, &last))
        return;
    op_t p = OP_OF_ARGS;
    axis_t ax = axis_of(&p);
    floatV piv[MAXC / VW];
    accv_t sums[MAXC / VW];
    scalev_t k[MAXC / VW];
    slab_t cur = make_slab(first, x + x_off, y + y_off, n, inner, tiles);
    slab_start(&cur, tiles, piv, sums);
    strided_sums_any(cur.x, n, inner, piv, sums, tiles, 2);
    slab_finalize(&p, &cur, piv, sums, n, inner, tiles, k);
    slab_end(&cur, k, n, inner, &ax, form_of(&p), tiles);
}

/* A run of `nparts` >= 2 slabs per work-item (CPU devices, strided views),
 * software-pipelined like norm_rows: slab s + 1 is summed in the loop that
 * normalises slab s; the first slab is only summed (two streams) and the
 * last only normalised, last row first, while those rows are still in
 * cache. No barrier and no local memory: a group is one item. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void norm_slab(KERNEL_ARGS)
{
    ulong first, last;
    if (!item_run(outer * (inner / ((ulong)tiles * VW)), nparts, &first, &last))
        return;
    op_t p = OP_OF_ARGS;
    axis_t ax = axis_of(&p);
    int form = form_of(&p);
    __global const float *xv = x + x_off;
    __global float *yv = y + y_off;
    floatV piv[MAXC / VW];
    accv_t sums[MAXC / VW];
    scalev_t k[MAXC / VW];
    slab_t cur = make_slab(first, xv, yv, n, inner, tiles);
    slab_start(&cur, tiles, piv, sums);
    strided_sums_any(cur.x, n, inner, piv, sums, tiles, 2);
    slab_finalize(&p, &cur, piv, sums, n, inner, tiles, k);
    for (ulong sb = first + 1; sb < last; ++sb) {
        slab_t next = make_slab(sb, xv, yv, n, inner, tiles);
        slab_start(&next, tiles, piv, sums);
        slab_pipe_any(&cur, k, &next, piv, sums, n, inner, &ax, form, tiles);
        slab_finalize(&p, &next, piv, sums, n, inner, tiles, k);
        cur = next;
    }
    slab_end(&cur, k, n, inner, &ax, form, tiles);
}

#endif /* CLNORM_CPU_CL */
