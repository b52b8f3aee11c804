/* SPDX-License-Identifier: Apache-2.0 */
/* revin.c: ESPnet's ReversibleInstanceNorm1dInput and ...Output (RevIN). */
#include <string.h>

#include "clnorm_int.h"

struct clnorm_revin {
    clnorm_context *ctx;
    size_t d;
    unsigned flags;
    clnorm__kernels ks;
    clnorm__scratch scratch;
    clnorm__param_buffer affine; /* weight, bias: only with CLNORM_REVIN_AFFINE */
    cl_mem stat_m, stat_s;       /* ESPnet's m and s, (B, D, 1) */
    size_t stat_capacity;        /* rows the stat buffers hold */
    size_t stat_b;               /* B of the statistics held; 0: none yet */
    cl_event last;               /* the layer's last command: its next one waits for it */
};

/* Widest vector that divides D, for tiles of adjacent columns (BLD). */
static unsigned strided_width(size_t d)
{
    static const unsigned widths[] = {16, 8, 4, 2};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i)
        if (d % widths[i] == 0)
            return widths[i];
    return 1;
}

clnorm_status clnorm_revin_create(clnorm_context *ctx, size_t d, unsigned flags,
                                  clnorm_revin **out)
{
    if (!out)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "revin_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return CLNORM_NULL_ARGUMENT;
    if (!ctx->cl_ctx)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "the context failed to initialise");
    if (d == 0)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "revin_create: d is 0");
    if (d > UINT32_MAX)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "revin_create: d %zu exceeds 2^32-1",
                            d);
    unsigned known = CLNORM_REVIN_TRANSPOSED | CLNORM_REVIN_AFFINE;
    if (flags & ~known)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "revin_create: unknown flags 0x%x",
                            flags & ~known);
    clnorm_revin *layer = clnorm__calloc(1, sizeof *layer);
    if (!layer)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "allocating a revin layer");
    layer->ctx = ctx;
    layer->d = d;
    layer->flags = flags;
    layer->affine.count = d;
    layer->affine.arrays = 2;
    int contiguous = (flags & CLNORM_REVIN_TRANSPOSED) || d == 1;
    unsigned width = contiguous ? ctx->contig_width : strided_width(d);
    clnorm_status st =
        clnorm__scratch_reserve_waits(ctx, &layer->scratch, CLNORM_WAITS_RESERVED);
    if (st == CLNORM_OK)
        st = clnorm__kernels_create(ctx, width, &layer->ks);
    if (st != CLNORM_OK) {
        clnorm__scratch_release(&layer->scratch);
        clnorm__free(layer);
        return st;
    }
    *out = layer;
    return CLNORM_OK;
}

void clnorm_revin_destroy(clnorm_revin *layer)
{
    if (!layer)
        return;
    clnorm__release_event(layer->last);
    clnorm__release_mem(layer->stat_m);
    clnorm__release_mem(layer->stat_s);
    clnorm__params_release(&layer->affine);
    clnorm__scratch_release(&layer->scratch);
    clnorm__kernels_release(&layer->ks);
    clnorm__free(layer);
}

/* The view of (B, L, D) or (B, D, L) as [outer][n][inner] over L. */
static clnorm__view revin_view(const clnorm_revin *layer, size_t b, size_t l)
{
    clnorm__view v;
    if ((layer->flags & CLNORM_REVIN_TRANSPOSED) || layer->d == 1) {
        v.outer = b * layer->d;
        v.n = l;
        v.inner = 1;
    } else {
        v.outer = b;
        v.n = l;
        v.inner = layer->d;
    }
    return v;
}

/* Shared argument checks of forward and inverse. */
static clnorm_status check_call(clnorm_revin *layer, const char *fn,
                                const clnorm_revin_params *params, size_t b, size_t l,
                                cl_mem input, size_t input_offset, cl_mem output,
                                size_t output_offset, cl_uint num_wait,
                                const cl_event *wait_list, size_t *rows)
{
    clnorm_context *ctx = layer->ctx;
    if ((layer->flags & CLNORM_REVIN_AFFINE) && (!params || !params->weight || !params->bias))
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT,
                            "%s: affine mode needs params with weight and bias", fn);
    if (!b || !l)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: B = %zu, L = %zu has a zero", fn, b, l);
    size_t count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, *rows, l, &count));
    RETURN_IF_ERROR(clnorm__check_buffer(ctx, "revin input", input, input_offset, count));
    RETURN_IF_ERROR(clnorm__check_buffer(ctx, "revin output", output, output_offset, count));
    RETURN_IF_ERROR(
        clnorm__check_in_out(ctx, fn, input, input_offset, output, output_offset, count));
    return clnorm__check_wait_list(ctx, num_wait, wait_list);
}

static clnorm_status sync_affine(clnorm_revin *layer, const clnorm_revin_params *params)
{
    if (!(layer->flags & CLNORM_REVIN_AFFINE))
        return CLNORM_OK;
    const float *host[2] = {params->weight, params->bias};
    return clnorm__params_sync(layer->ctx, &layer->affine, host, params->version);
}

static clnorm__launch make_launch(const clnorm_revin *layer, size_t b, size_t l, cl_mem input,
                                  size_t input_offset, cl_mem output, size_t output_offset)
{
    int affine = (layer->flags & CLNORM_REVIN_AFFINE) != 0;
    clnorm__launch la = {revin_view(layer, b, l),
                         1 | (affine ? 2 : 0),
                         input,
                         output,
                         input_offset / sizeof(float),
                         output_offset / sizeof(float),
                         layer->affine.mem[0],
                         layer->affine.mem[1],
                         (cl_uint)layer->d,
                         layer->stat_m,
                         layer->stat_s};
    return la;
}

/* Stat buffers for `rows` rows; new buffers (enqueued readers keep the old). */
static clnorm_status ensure_stats(clnorm_revin *layer, size_t rows)
{
    if (layer->stat_m && layer->stat_capacity >= rows)
        return CLNORM_OK;
    clnorm_context *ctx = layer->ctx;
    cl_mem m = NULL, s = NULL;
    clnorm_status st;
    st = clnorm__buffer_create(ctx, "the RevIN mean", CL_MEM_READ_WRITE, rows * sizeof(float),
                               NULL, &m);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the RevIN std", CL_MEM_READ_WRITE, rows * sizeof(float),
                                   NULL, &s);
    if (st != CLNORM_OK) {
        clnorm__release_mem(m);
        return st;
    }
    clnorm__release_mem(layer->stat_m);
    clnorm__release_mem(layer->stat_s);
    layer->stat_m = m;
    layer->stat_s = s;
    layer->stat_capacity = rows;
    layer->stat_b = 0; /* the old statistics are gone */
    return CLNORM_OK;
}

clnorm_status clnorm_revin_forward(clnorm_revin *layer, const clnorm_revin_params *params,
                                   size_t b, size_t l, cl_mem input, size_t input_offset,
                                   cl_mem output, size_t output_offset, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->ctx;
    size_t rows;
    RETURN_IF_ERROR(check_call(layer, "revin_forward", params, b, l, input, input_offset, output,
                               output_offset, num_wait, wait_list, &rows));
    RETURN_IF_ERROR(sync_affine(layer, params));
    RETURN_IF_ERROR(ensure_stats(layer, rows));
    clnorm__launch la = make_launch(layer, b, l, input, input_offset, output, output_offset);
    cl_event done = NULL;
    RETURN_IF_ERROR(clnorm__enqueue_normalise(ctx, &layer->ks, &layer->scratch, &la, num_wait,
                                              wait_list, layer->last, &done));
    layer->stat_b = b;
    return clnorm__hand_out_event(ctx, &layer->last, done, event);
}

clnorm_status clnorm_revin_inverse(clnorm_revin *layer, const clnorm_revin_params *params,
                                   size_t b, size_t l, cl_mem input, size_t input_offset,
                                   cl_mem output, size_t output_offset, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->ctx;
    if (layer->stat_b == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "revin_inverse: no statistics yet: run revin_forward (or "
                            "revin_set_stats) first");
    if (!b || !l)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "revin_inverse: B = %zu, L = %zu has a zero",
                            b, l);
    if (b != layer->stat_b)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "revin_inverse: B = %zu but the statistics are for B = %zu (D = %zu)",
                            b, layer->stat_b, layer->d);
    size_t rows;
    RETURN_IF_ERROR(check_call(layer, "revin_inverse", params, b, l, input, input_offset, output,
                               output_offset, num_wait, wait_list, &rows));
    RETURN_IF_ERROR(sync_affine(layer, params));
    clnorm__launch la = make_launch(layer, b, l, input, input_offset, output, output_offset);
    cl_event done = NULL;
    RETURN_IF_ERROR(clnorm__enqueue_inverse(ctx, &layer->ks, &layer->scratch, &la, num_wait,
                                            wait_list, layer->last, &done));
    return clnorm__hand_out_event(ctx, &layer->last, done, event);
}

clnorm_status clnorm_revin_read_stats(clnorm_revin *layer, float *mean, float *std, size_t count)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->ctx;
    if (layer->stat_b == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "revin_read_stats: no statistics yet: run revin_forward first");
    size_t rows = layer->stat_b * layer->d;
    if (count != rows)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "revin_read_stats: count %zu but the statistics hold B*D = %zu*%zu",
                            count, layer->stat_b, layer->d);
    clnorm_status st = CLNORM_OK;
    cl_uint nw = layer->last ? 1 : 0;
    const cl_event *w = layer->last ? &layer->last : NULL;
    if (mean)
        CL_CALL(ctx, st, clEnqueueReadBuffer,
                (ctx->queue, layer->stat_m, CL_TRUE, 0, rows * sizeof(float), mean, nw, w, NULL));
    if (st == CLNORM_OK && std)
        CL_CALL(ctx, st, clEnqueueReadBuffer,
                (ctx->queue, layer->stat_s, CL_TRUE, 0, rows * sizeof(float), std, nw, w, NULL));
    return st;
}

clnorm_status clnorm_revin_set_stats(clnorm_revin *layer, size_t b, const float *mean,
                                     const float *std)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->ctx;
    if (!mean || !std)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "revin_set_stats: %s is NULL",
                            !mean ? "mean" : "std");
    if (!b)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "revin_set_stats: B is 0");
    size_t rows, bytes;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, &rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, sizeof(float), &bytes));
    /* New buffers from the host copies: complete on return, and commands
     * already enqueued keep reading the old ones. */
    cl_mem m = NULL, s = NULL;
    clnorm_status st;
    st = clnorm__buffer_create(ctx, "the RevIN mean", CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                               bytes, (void *)mean, &m);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the RevIN std", CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                   bytes, (void *)std, &s);
    if (st != CLNORM_OK) {
        clnorm__release_mem(m);
        return st;
    }
    clnorm__release_mem(layer->stat_m);
    clnorm__release_mem(layer->stat_s);
    layer->stat_m = m;
    layer->stat_s = s;
    layer->stat_capacity = rows;
    layer->stat_b = b;
    return CLNORM_OK;
}

uint64_t clnorm_revin_upload_count(const clnorm_revin *layer)
{
    return layer ? layer->affine.uploads : 0;
}
