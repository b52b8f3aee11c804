/* SPDX-License-Identifier: Apache-2.0 */
/* launch.c: kernel objects, argument checks, and enqueueing the two
 * primitives (statistics + normalisation, RevIN's inverse) over a view. */
#include <string.h>

#include "clnorm_int.h"

/* Rows shorter than this stay in one work-group (one launch): the row is read
 * twice from cache rather than split over groups. */
#define SPLIT_MIN_ROW 65536
/* Elements per work-group chunk when a long row is split. */
#define SPLIT_MIN_CHUNK 16384
/* Upper bound of chunks per row (each apply group merges them all). */
#define SPLIT_MAX_PARTS 256
/* Elements per work-group for the elementwise inverse. */
#define INVERSE_MIN_CHUNK 4096
/* Contiguous rows up to this length get one work-item each on CPU devices:
 * no barrier, no merge, the row stays in cache between its two passes. */
#define ROWS_PER_ITEM_MAX 16384
/* Most rows (slabs) one work-item normalises in a run (norm_rows' and
 * norm_slab's pipelines). */
#define RUN_MAX 64

enum { ARG_X, ARG_X_OFF, ARG_Y, ARG_Y_OFF, ARG_OUTER, ARG_N, ARG_INNER, ARG_NPARTS, ARG_TILES,
       ARG_MODE, ARG_NCHAN, ARG_PA, ARG_PB, ARG_STAT_M, ARG_STAT_S, ARG_PARTIALS, ARG_COUNT };

clnorm_status clnorm__kernels_create(clnorm_context *ctx, unsigned width, clnorm__kernels *ks)
{
    memset(ks, 0, sizeof *ks);
    ks->width = width;
    cl_program program;
    RETURN_IF_ERROR(clnorm__program_get(ctx, width, &program));
    clnorm_status st = CLNORM_OK;
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i) {
        CL_CREATE(ctx, st, ks->k[i], clCreateKernel, (program, clnorm__kernel_names[i]));
        /* A kernel that uses many registers may not run WG items per group. */
        size_t most = 0;
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clGetKernelWorkGroupInfo,
                    (ks->k[i], ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof most, &most, NULL));
        size_t need = clnorm__kernel_local(ctx, (clnorm__kernel_id)i);
        if (st == CLNORM_OK && most < need)
            st = clnorm__fail(ctx, CLNORM_BUILD_FAILED,
                              "kernel %s runs at most %zu work-items per group on %s; clnorm "
                              "needs %zu",
                              clnorm__kernel_names[i], most, ctx->info.name, need);
    }
    if (st != CLNORM_OK)
        clnorm__kernels_release(ks);
    return st;
}

void clnorm__kernels_release(clnorm__kernels *ks)
{
    for (int i = 0; i < CLNORM_K_COUNT; ++i) {
        clnorm__release_kernel(ks->k[i]);
        ks->k[i] = NULL;
    }
}

clnorm_status clnorm__scratch_reserve_waits(clnorm_context *ctx, clnorm__scratch *s,
                                            size_t count)
{
    if (count <= s->waits_cap)
        return CLNORM_OK;
    cl_event *grown = clnorm__realloc(s->waits, count * sizeof *grown);
    if (!grown)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "growing the event wait list");
    s->waits = grown;
    s->waits_cap = count;
    return CLNORM_OK;
}

void clnorm__scratch_release(clnorm__scratch *s)
{
    clnorm__release_mem(s->partials);
    clnorm__free(s->waits);
    memset(s, 0, sizeof *s);
}

static clnorm_status set_args(clnorm_context *ctx, cl_kernel k, const clnorm__launch *l,
                              cl_uint nparts, cl_uint tiles, cl_mem partials)
{
    cl_ulong x_off = l->in_off, y_off = l->out_off;
    cl_ulong outer = l->view.outer, n = l->view.n, inner = l->view.inner;
    cl_int mode = l->mode;
    cl_uint nchan = l->nchan ? l->nchan : 1;
    struct {
        size_t size;
        const void *value;
    } args[ARG_COUNT] = {
        {sizeof(cl_mem), &l->in},     {sizeof x_off, &x_off},         {sizeof(cl_mem), &l->out},
        {sizeof y_off, &y_off},       {sizeof outer, &outer},         {sizeof n, &n},
        {sizeof inner, &inner},       {sizeof nparts, &nparts},       {sizeof tiles, &tiles},
        {sizeof mode, &mode},         {sizeof nchan, &nchan},         {sizeof(cl_mem), &l->param_a},
        {sizeof(cl_mem), &l->param_b}, {sizeof(cl_mem), &l->stat_m},  {sizeof(cl_mem), &l->stat_s},
        {sizeof(cl_mem), &partials},
    };
    clnorm_status st;
    for (cl_uint i = 0; i < ARG_COUNT; ++i) {
        CL_CALL(ctx, st, clSetKernelArg, (k, i, args[i].size, args[i].value));
        RETURN_IF_ERROR(st);
    }
    return CLNORM_OK;
}

/* Vector tiles one strided work-group owns: the most that divide the
 * columns and fit MAXC, so a group reads whole rows of its block. */
static cl_uint strided_tiles(const clnorm_context *ctx, size_t inner, unsigned width)
{
    size_t vectors = inner / width, best = 1;
    for (size_t t = 1; t <= vectors && t * width <= ctx->max_columns; ++t)
        if (vectors % t == 0)
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

/* Short contiguous rows on a CPU-shaped context: rows, not groups, per work-item. */
static int rows_per_item(const clnorm_context *ctx, const clnorm__view *v)
{
    return !ctx->gpu_variant && v->inner == 1 && v->n <= ROWS_PER_ITEM_MAX;
}

/* The caller's wait list plus `prior`, in the scratch's reusable array. */
static clnorm_status gather_waits(clnorm_context *ctx, clnorm__scratch *s, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event prior, cl_uint *count,
                                  const cl_event **list)
{
    size_t need = (size_t)num_wait + (prior ? 1 : 0);
    if (!prior) {
        *count = num_wait;
        *list = num_wait ? wait_list : NULL;
        return CLNORM_OK;
    }
    if (need > s->waits_cap)
        RETURN_IF_ERROR(clnorm__scratch_reserve_waits(ctx, s, need));
    if (num_wait)
        memcpy(s->waits, wait_list, num_wait * sizeof *wait_list);
    s->waits[num_wait] = prior;
    *count = (cl_uint)need;
    *list = s->waits;
    return CLNORM_OK;
}

static clnorm_status enqueue(clnorm_context *ctx, const clnorm__kernels *ks,
                             clnorm__kernel_id id, size_t groups, cl_uint num_wait,
                             const cl_event *waits, cl_event *done)
{
    size_t local = clnorm__kernel_local(ctx, id);
    size_t global = groups * local;
    clnorm_status st;
    CL_CALL(ctx, st, clEnqueueNDRangeKernel,
            (ctx->queue, ks->k[id], 1, NULL, &global, &local, num_wait, waits, done));
    if (st == CLNORM_OK && done)
        clnorm__fault_count("event created"), clnorm__live(1);
    return st;
}

static clnorm_status ensure_partials(clnorm_context *ctx, clnorm__scratch *s, size_t bytes)
{
    if (s->partials && s->partials_bytes >= bytes)
        return CLNORM_OK;
    cl_mem grown;
    RETURN_IF_ERROR(clnorm__buffer_create(ctx, "the partial statistics of split rows",
                                          CL_MEM_READ_WRITE, bytes, NULL, &grown));
    clnorm__release_mem(s->partials); /* commands still using it keep it alive */
    s->partials = grown;
    s->partials_bytes = bytes;
    return CLNORM_OK;
}

/* Chunks per row: one unless there are too few rows to fill the device and
 * the rows are long enough to share. */
static cl_uint choose_parts(const clnorm_context *ctx, size_t blocks, size_t n)
{
    if (blocks >= ctx->target_groups || n < SPLIT_MIN_ROW)
        return 1;
    size_t parts = (ctx->target_groups + blocks - 1) / blocks;
    if (parts > n / SPLIT_MIN_CHUNK)
        parts = n / SPLIT_MIN_CHUNK;
    if (parts > SPLIT_MAX_PARTS)
        parts = SPLIT_MAX_PARTS;
    return parts < 1 ? 1 : (cl_uint)parts;
}

clnorm_status clnorm__enqueue_normalise(clnorm_context *ctx, clnorm__kernels *ks,
                                        clnorm__scratch *scratch, const clnorm__launch *l,
                                        cl_uint num_wait, const cl_event *wait_list,
                                        cl_event prior, cl_event *done)
{
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(gather_waits(ctx, scratch, num_wait, wait_list, prior, &nw, &waits));
    if (rows_per_item(ctx, &l->view)) {
        /* Runs of rows per item: long enough for the pipeline, while half of
         * target_groups groups of items still share the device. */
        size_t items, run = run_length(l->view.outer, ctx->target_groups * ctx->work_group / 2,
                                       &items);
        size_t groups = (items + ctx->work_group - 1) / ctx->work_group;
        RETURN_IF_ERROR(set_args(ctx, ks->k[CLNORM_K_ROWS], l, (cl_uint)run, 1, NULL));
        return enqueue(ctx, ks, CLNORM_K_ROWS, groups, nw, waits, done);
    }
    cl_uint tiles = l->view.inner == 1 ? 1 : strided_tiles(ctx, l->view.inner, ks->width);
    size_t blocks = row_blocks(&l->view, ks->width, tiles);
    cl_uint parts = choose_parts(ctx, blocks, l->view.n);
    if (parts == 1 && l->view.inner > 1 && !ctx->gpu_variant) {
        /* Runs of slabs per item (norm_slab's pipeline), while
         * 2 x target_groups items still share the device. */
        size_t items, run = run_length(blocks, ctx->target_groups * 2, &items);
        RETURN_IF_ERROR(set_args(ctx, ks->k[CLNORM_K_SLAB], l, (cl_uint)run, tiles, NULL));
        return enqueue(ctx, ks, CLNORM_K_SLAB, items, nw, waits, done);
    }
    if (parts == 1) {
        RETURN_IF_ERROR(set_args(ctx, ks->k[CLNORM_K_FUSED], l, 1, tiles, NULL));
        return enqueue(ctx, ks, CLNORM_K_FUSED, blocks, nw, waits, done);
    }
    /* mean and M2 (8 bytes each) per chunk and column */
    size_t bytes = blocks * parts * ctx->max_columns * 16;
    RETURN_IF_ERROR(ensure_partials(ctx, scratch, bytes));
    cl_event partial_done = NULL;
    clnorm_status st = set_args(ctx, ks->k[CLNORM_K_PARTIAL], l, parts, tiles, scratch->partials);
    if (st == CLNORM_OK)
        st = enqueue(ctx, ks, CLNORM_K_PARTIAL, blocks * parts, nw, waits, &partial_done);
    if (st == CLNORM_OK)
        st = set_args(ctx, ks->k[CLNORM_K_APPLY], l, parts, tiles, scratch->partials);
    if (st == CLNORM_OK)
        st = enqueue(ctx, ks, CLNORM_K_APPLY, blocks * parts, 1, &partial_done, done);
    clnorm__release_event(partial_done);
    return st;
}

clnorm_status clnorm__enqueue_inverse(clnorm_context *ctx, clnorm__kernels *ks,
                                      clnorm__scratch *scratch, const clnorm__launch *l,
                                      cl_uint num_wait, const cl_event *wait_list,
                                      cl_event prior, cl_event *done)
{
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(gather_waits(ctx, scratch, num_wait, wait_list, prior, &nw, &waits));
    if (rows_per_item(ctx, &l->view)) { /* nparts == 0: one work-item per row */
        size_t groups = (l->view.outer + ctx->work_group - 1) / ctx->work_group;
        RETURN_IF_ERROR(set_args(ctx, ks->k[CLNORM_K_INVERSE], l, 0, 1, NULL));
        return enqueue(ctx, ks, CLNORM_K_INVERSE, groups, nw, waits, done);
    }
    cl_uint tiles = l->view.inner == 1 ? 1 : strided_tiles(ctx, l->view.inner, ks->width);
    size_t blocks = row_blocks(&l->view, ks->width, tiles);
    size_t parts = 1;
    if (blocks < ctx->target_groups) {
        parts = (ctx->target_groups + blocks - 1) / blocks;
        size_t by_len = l->view.n / INVERSE_MIN_CHUNK;
        if (parts > by_len)
            parts = by_len ? by_len : 1;
    }
    RETURN_IF_ERROR(set_args(ctx, ks->k[CLNORM_K_INVERSE], l, (cl_uint)parts, tiles, NULL));
    return enqueue(ctx, ks, CLNORM_K_INVERSE, blocks * parts, nw, waits, done);
}

clnorm_status clnorm__kernels_warm_up(clnorm_context *ctx, cl_program program, unsigned width)
{
    /* A tiny strided problem (inner == width, or 2 when width == 1) and a
     * contiguous one, through every kernel, on a private queue. */
    clnorm__kernels ks = {width, {NULL}};
    cl_command_queue q = NULL;
    cl_mem buf = NULL, stats = NULL, partials = NULL;
    clnorm_status st = CLNORM_OK;
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i)
        CL_CREATE(ctx, st, ks.k[i], clCreateKernel, (program, clnorm__kernel_names[i]));
    if (st == CLNORM_OK)
        CL_CREATE(ctx, st, q, clCreateCommandQueue, (ctx->cl_ctx, ctx->device, 0));
    size_t inner = width == 1 ? 1 : width, n = 4;
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up tensor", CL_MEM_READ_WRITE,
                                   n * 16 * sizeof(float), NULL, &buf);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up statistics", CL_MEM_READ_WRITE,
                                   16 * sizeof(float), NULL, &stats);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up partials", CL_MEM_READ_WRITE,
                                   2 * (size_t)ctx->max_columns * 16, NULL, &partials);
    float zero = 0.0f;
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clEnqueueFillBuffer,
                (q, buf, &zero, sizeof zero, 0, n * 16 * sizeof(float), 0, NULL, NULL));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clEnqueueFillBuffer,
                (q, stats, &zero, sizeof zero, 0, 16 * sizeof(float), 0, NULL, NULL));
    clnorm__launch l = {{1, n, inner}, 1, buf, buf, 0, 0, NULL, NULL, 1, stats, stats};
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i) {
        cl_uint parts = (i == CLNORM_K_PARTIAL || i == CLNORM_K_APPLY) ? 2 : 1;
        st = set_args(ctx, ks.k[i], &l, parts, 1, partials);
        size_t local = clnorm__kernel_local(ctx, (clnorm__kernel_id)i), global = local * parts;
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clEnqueueNDRangeKernel,
                    (q, ks.k[i], 1, NULL, &global, &local, 0, NULL, NULL));
    }
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clFinish, (q));
    clnorm__release_mem(partials);
    clnorm__release_mem(stats);
    clnorm__release_mem(buf);
    clnorm__release_queue(q);
    clnorm__kernels_release(&ks);
    return st;
}

clnorm_status clnorm__mul_size(const clnorm_context *ctx, size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return clnorm__fail(ctx, CLNORM_SIZE_OVERFLOW, "%zu * %zu overflows size_t", a, b);
    *out = a * b;
    return CLNORM_OK;
}

clnorm_status clnorm__check_buffer(const clnorm_context *ctx, const char *what, cl_mem buf,
                                   size_t offset, size_t count)
{
    if (!buf)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s buffer is NULL", what);
    if (offset % sizeof(float))
        return clnorm__fail(ctx, CLNORM_MISALIGNED_OFFSET,
                            "%s offset %zu bytes is not a multiple of 4", what, offset);
    size_t bytes = 0;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, count, sizeof(float), &bytes));
    if (bytes > SIZE_MAX - offset)
        return clnorm__fail(ctx, CLNORM_SIZE_OVERFLOW, "%s offset %zu + %zu bytes overflows",
                            what, offset, bytes);
    if (bytes > ctx->info.max_alloc_size)
        return clnorm__fail(ctx, CLNORM_TOO_LARGE,
                            "%s extent %zu bytes exceeds the device's max allocation %llu", what,
                            bytes, (unsigned long long)ctx->info.max_alloc_size);
    size_t size = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clGetMemObjectInfo, (buf, CL_MEM_SIZE, sizeof size, &size, NULL));
    RETURN_IF_ERROR(st);
    if (size < offset + bytes)
        return clnorm__fail(ctx, CLNORM_BUFFER_TOO_SMALL,
                            "%s buffer has %zu bytes; offset %zu + extent %zu needs %zu", what,
                            size, offset, bytes, offset + bytes);
    return CLNORM_OK;
}

/* The buffer a cl_mem's bytes live in, and where: sub-buffers resolve to
 * their parent plus the sub-buffer's origin. */
static clnorm_status mem_root(const clnorm_context *ctx, cl_mem buf, cl_mem *root,
                              size_t *origin)
{
    cl_mem parent = NULL;
    size_t at = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clGetMemObjectInfo,
            (buf, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent, &parent, NULL));
    if (st == CLNORM_OK && parent)
        CL_CALL(ctx, st, clGetMemObjectInfo, (buf, CL_MEM_OFFSET, sizeof at, &at, NULL));
    *root = parent ? parent : buf;
    *origin = at;
    return st;
}

clnorm_status clnorm__check_in_out(const clnorm_context *ctx, const char *fn, cl_mem in,
                                   size_t in_offset, cl_mem out, size_t out_offset, size_t count)
{
    cl_mem in_root, out_root;
    size_t in_at, out_at;
    RETURN_IF_ERROR(mem_root(ctx, in, &in_root, &in_at));
    RETURN_IF_ERROR(mem_root(ctx, out, &out_root, &out_at));
    if (in_root != out_root)
        return CLNORM_OK;
    /* Both extents were checked against their buffers, so these do not overflow. */
    size_t a = in_at + in_offset, b = out_at + out_offset, bytes = count * sizeof(float);
    if (a == b || a + bytes <= b || b + bytes <= a)
        return CLNORM_OK;
    return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                        "%s: input (byte %zu) and output (byte %zu) overlap in one buffer; "
                        "in place needs the same buffer and offset",
                        fn, a, b);
}

clnorm_status clnorm__check_wait_list(const clnorm_context *ctx, cl_uint num_wait,
                                      const cl_event *wait_list)
{
    if (num_wait && !wait_list)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "num_wait is %u but wait_list is NULL",
                            (unsigned)num_wait);
    if (!num_wait && wait_list)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
    for (cl_uint i = 0; i < num_wait; ++i)
        if (!wait_list[i])
            return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "wait_list[%u] is NULL", (unsigned)i);
    return CLNORM_OK;
}

clnorm_status clnorm__hand_out_event(clnorm_context *ctx, cl_event *last, cl_event done,
                                     cl_event *event)
{
    clnorm__release_event(*last);
    *last = done;
    if (!event)
        return CLNORM_OK;
    clnorm_status st;
    CL_CALL(ctx, st, clRetainEvent, (done));
    *event = st == CLNORM_OK ? done : NULL;
    return st;
}
