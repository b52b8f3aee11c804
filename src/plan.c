/* SPDX-License-Identifier: Apache-2.0 */
/* plan.c: the launch planner: from a device's limits, a view and a vector
 * width to the kernels, groups and runs that cover it. A pure function of
 * its arguments (no OpenCL), so that tests can plan for devices that are
 * not there (tests/test_plan.c). */
#include "clnorm_int.h"

/* CPU variant: rows shorter than this stay in one work-group (one launch):
 * the row is read twice from cache rather than split over groups. */
#define SPLIT_MIN_ROW 65536
/* Elements per work-group chunk when a long row is split. */
#define SPLIT_MIN_CHUNK 16384
/* GPU variant: a device is filled with SPLIT_GPU_FILL work-groups per
 * compute unit (target_groups is twice that): fewer row blocks than that are
 * split, in chunks of at least SPLIT_MIN_CHUNK_GPU along the row (a
 * chunk's partial statistics cost a merge; its re-read hits the L2). */
#define SPLIT_GPU_FILL 4
#define SPLIT_MIN_CHUNK_GPU 1024
/* The elementwise pass's chunks along the row on GPUs: a few rows of a
 * strided block, or a piece of a contiguous row. */
#define SCALE_MIN_CHUNK_GPU 256
/* GPU variant: norm_reg's work-group at most; contiguous rows of up to
 * reg_group * contig_width * CLNORM_REG_VECTORS elements stay in its
 * registers (read once), when there are enough of them to fill the device
 * (else they are split like longer rows). */
#define REG_GROUP_MAX 256
/* Upper bound of chunks per row on a CPU (each apply group merges them all;
 * a GPU takes as many as fill it). */
#define SPLIT_MAX_PARTS 256
/* Elements per work-group for the elementwise pass. */
#define SCALE_MIN_CHUNK 4096
/* Contiguous rows up to this length get one work-item each on CPU devices:
 * no barrier, no merge, the row stays in cache between its two passes. */
#define ROWS_PER_ITEM_MAX 16384
/* Most rows (slabs) one work-item normalises in a run (norm_rows' and
 * norm_slab's pipelines). */
#define RUN_MAX 64

void clnorm__plan_limits(const clnorm__device_info *d, int gpu, clnorm__limits *lim)
{
    lim->gpu_variant = gpu;
    size_t wg = gpu ? 64 : 16;
    unsigned maxc = gpu ? 64 : 256;
    /* local memory: two sums (8 bytes each) per item and column, a scaling
     * (16 bytes) per column */
    while (wg > 1 && (wg > d->max_work_group_size ||
                      (cl_ulong)wg * maxc * 16 + maxc * 16 > d->local_mem_size / 2)) {
        if (maxc > 16)
            maxc /= 2;
        else
            wg /= 2;
    }
    lim->work_group = wg;
    lim->max_columns = maxc;
    unsigned pref = d->preferred_vector_float ? d->preferred_vector_float : 4;
    lim->contig_width = gpu ? 4 : (pref >= 16 ? 16 : 8);
    unsigned cu = d->compute_units ? d->compute_units : 1;
    lim->target_groups = cu * (gpu ? 2 * SPLIT_GPU_FILL : 4);
    lim->compute_units = cu;
    /* norm_reg: the largest power of two up to REG_GROUP_MAX the device
     * runs (its rows then reach 16384 elements); on CPUs it is never
     * planned, and built for the groups the others use. */
    size_t reg = wg;
    while (gpu && reg * 2 <= REG_GROUP_MAX && reg * 2 <= d->max_work_group_size)
        reg *= 2;
    lim->reg_group = reg;
    lim->cache_bytes = d->global_mem_cache_size;
}

size_t clnorm__plan_sample_block(const clnorm__limits *lim, size_t samples, size_t sample_bytes)
{
    /* a block's input and its output, written then re-read, share the
     * cache with everything else: half of it for the two */
    cl_ulong budget = lim->cache_bytes / 4;
    /* CPUs only: what GPUs report as their cache varies (some an L1), and
     * a GPU's plans need the whole tensor to fill the device */
    if (lim->gpu_variant || !budget || !sample_bytes)
        return samples;
    size_t fit = (size_t)(budget / sample_bytes);
    return fit < 1 ? 1 : fit < samples ? fit : samples;
}

unsigned clnorm__plan_width(const clnorm__limits *lim, size_t inner)
{
    static const unsigned widths[] = {16, 8, 4, 2};
    if (inner == 1)
        return lim->contig_width;
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i)
        if (inner % widths[i] == 0)
            return widths[i];
    return 1;
}

/* Vector tiles one strided work-group owns: the most that divide the
 * columns and fit MAXC, so a group reads whole rows of its block. On GPUs
 * only the counts whose sums stay in registers (CLNORM_REG_TILES): the
 * others index a private array at run time in the inner loop, which a GPU
 * keeps in slow memory; more groups of fewer tiles suit it anyway. */
static cl_uint strided_tiles(const clnorm__limits *lim, size_t inner, unsigned width)
{
    size_t vectors = inner / width, best = 1;
    for (size_t t = 1; t <= vectors && t * width <= lim->max_columns; ++t)
        if (vectors % t == 0 && (!lim->gpu_variant || (t <= CLNORM_REG_TILES && t != 3)))
            best = t;
    return (cl_uint)best;
}

/* Row blocks of a view: rows, or (outer, block of tiles * width columns). */
static size_t row_blocks(const clnorm__view *v, unsigned width, cl_uint tiles)
{
    return v->inner == 1 ? v->outer : v->outer * (v->inner / (width * tiles));
}

/* Runs of `units` (rows or slabs) for about `wanted` work-items, at most
 * RUN_MAX long; *items is how many work-items that makes. */
static size_t run_length(size_t units, size_t wanted, size_t *items)
{
    size_t run = (units + wanted - 1) / wanted;
    if (run > RUN_MAX)
        run = RUN_MAX;
    *items = (units + run - 1) / run;
    return run;
}

/* Short contiguous rows on a CPU-shaped device: rows, not groups, per work-item. */
static int rows_per_item(const clnorm__limits *lim, const clnorm__view *v)
{
    return !lim->gpu_variant && v->inner == 1 && v->n <= ROWS_PER_ITEM_MAX;
}

/* Chunks per row: one unless there are too few rows to fill the device and
 * the rows are long enough to share (on a GPU, any row of two chunks). */
static cl_uint choose_parts(const clnorm__limits *lim, size_t blocks, size_t n)
{
    size_t chunk = lim->gpu_variant ? SPLIT_MIN_CHUNK_GPU : SPLIT_MIN_CHUNK;
    size_t enough = lim->gpu_variant ? lim->target_groups / 2 : lim->target_groups;
    if (blocks >= enough || n < (lim->gpu_variant ? 2 * chunk : SPLIT_MIN_ROW))
        return 1;
    size_t parts = (lim->target_groups + blocks - 1) / blocks;
    if (parts > n / chunk)
        parts = n / chunk;
    if (!lim->gpu_variant && parts > SPLIT_MAX_PARTS)
        parts = SPLIT_MAX_PARTS;
    return parts < 1 ? 1 : (cl_uint)parts;
}

static void plan_one(clnorm__plan *p, clnorm__kernel_id k, size_t groups, size_t local,
                     size_t nparts, cl_uint tiles)
{
    p->kernel[0] = k;
    p->kernel[1] = CLNORM_K_COUNT;
    p->groups = groups;
    p->local = local;
    p->nparts = (cl_uint)nparts;
    p->tiles = tiles;
    p->partial_bytes = 0;
}

void clnorm__plan_normalise(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                            clnorm__plan *p)
{
    size_t wg = lim->work_group, items;
    if (rows_per_item(lim, v)) {
        /* Runs of rows per item: long enough for the pipeline, while half of
         * target_groups groups of items still share the device. */
        size_t run = run_length(v->outer, lim->target_groups * wg / 2, &items);
        plan_one(p, CLNORM_K_ROWS, (items + wg - 1) / wg, wg, run, 1);
        return;
    }
    cl_uint tiles = v->inner == 1 ? 1 : strided_tiles(lim, v->inner, width);
    size_t blocks = row_blocks(v, width, tiles);
    cl_uint parts = choose_parts(lim, blocks, v->n);
    if (parts == 1 && lim->gpu_variant && v->inner == 1 &&
        v->n <= lim->reg_group * width * CLNORM_REG_VECTORS) {
        plan_one(p, CLNORM_K_REG, v->outer, lim->reg_group, 1, 1);
        return;
    }
    if (parts == 1 && v->inner > 1 && !lim->gpu_variant) {
        /* Runs of slabs per item (norm_slab's pipeline), while
         * 2 x target_groups items still share the device. */
        size_t run = run_length(blocks, lim->target_groups * 2, &items);
        plan_one(p, run == 1 ? CLNORM_K_SLAB1 : CLNORM_K_SLAB, items, 1, run, tiles);
        return;
    }
    if (parts == 1) {
        plan_one(p, CLNORM_K_FUSED, blocks, wg, 1, tiles);
        return;
    }
    plan_one(p, CLNORM_K_PARTIAL, blocks * parts, wg, parts, tiles);
    p->kernel[1] = CLNORM_K_APPLY;
    p->partial_bytes = blocks * parts * lim->max_columns * 16; /* mean and M2 per chunk, column */
}

int clnorm__plan_plus(const clnorm__limits *lim, const clnorm__view *v, size_t c, clnorm__plan *p)
{
    if (lim->gpu_variant || v->inner != 1)
        return 0;
    size_t samples = v->outer / c, items;
    if (samples >= lim->target_groups) {
        /* one-item groups: a run of samples each, a group per compute unit,
         * where two samples (the one summed, the one normalised) fit a
         * quarter of a unit's share of the cache; else a sample each
         * (16x64x128x128: 0.87 of copy against 0.76 in runs; 10x64x32x32:
         * 0.60 in runs against 0.53) */
        cl_ulong sample_bytes = (cl_ulong)c * v->n * sizeof(float);
        size_t run = 1;
        items = samples;
        if (2 * sample_bytes <= lim->cache_bytes / lim->compute_units / 4)
            run = run_length(samples, lim->compute_units, &items);
        plan_one(p, CLNORM_K_PLUS_SAMPLES, items, 1, run, 1);
        return 1;
    }
    if (!rows_per_item(lim, v))
        return 0;
    size_t wg = lim->work_group;
    size_t run = run_length(v->outer, lim->target_groups * wg / 2, &items);
    plan_one(p, CLNORM_K_PLUS_MOMENTS, (items + wg - 1) / wg, wg, run, 1);
    p->kernel[1] = CLNORM_K_PLUS_APPLY;
    return 1;
}

int clnorm__plan_window_divide(const clnorm__limits *lim, size_t sample_bytes)
{
    /* a 64th of a compute unit's share of the cache: 256 KiB here, where
     * PoCL reports the 32 MiB L3 (each core has 2 MiB of L2) */
    return !lim->gpu_variant && sample_bytes <= lim->cache_bytes / lim->compute_units / 64;
}

int clnorm__plan_window_rows(const clnorm__limits *lim, size_t samples, size_t d,
                             size_t sample_bytes, clnorm__plan *p)
{
    if (!clnorm__plan_window_divide(lim, sample_bytes) || d > lim->max_columns ||
        (d > 1 && clnorm__plan_width(lim, d) >= lim->contig_width))
        return 0;
    plan_one(p, CLNORM_K_WINDOW_ROWS, samples, 1, 1, 1); /* one-item groups, a sample each */
    return 1;
}

int clnorm__plan_window_slabs(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                              clnorm__plan *p)
{
    clnorm__plan_normalise(lim, v, width, p);
    if (p->kernel[0] != CLNORM_K_SLAB && p->kernel[0] != CLNORM_K_SLAB1)
        return 0;
    p->kernel[0] = CLNORM_K_WINDOW_SLABS;
    return 1;
}

void clnorm__plan_scale(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                        clnorm__plan *p)
{
    size_t wg = lim->work_group;
    if (rows_per_item(lim, v)) { /* one work-item per row */
        plan_one(p, CLNORM_K_SCALE_ROWS, (v->outer + wg - 1) / wg, wg, 0, 1);
        return;
    }
    cl_uint tiles = v->inner == 1 ? 1 : strided_tiles(lim, v->inner, width);
    size_t blocks = row_blocks(v, width, tiles), parts = 1;
    if (blocks < lim->target_groups) {
        parts = (lim->target_groups + blocks - 1) / blocks;
        size_t by_len = v->n / (lim->gpu_variant ? SCALE_MIN_CHUNK_GPU : SCALE_MIN_CHUNK);
        if (parts > by_len)
            parts = by_len ? by_len : 1;
    }
    plan_one(p, v->inner == 1 ? CLNORM_K_SCALE_CHUNKS : CLNORM_K_SCALE, blocks * parts, wg, parts,
             tiles);
}

void clnorm__plan_items(const clnorm__limits *lim, size_t items, clnorm__kernel_id kernel,
                        clnorm__plan *p)
{
    size_t wg = lim->work_group;
    plan_one(p, kernel, (items + wg - 1) / wg, wg, 1, 1);
}
