/* SPDX-License-Identifier: Apache-2.0 */
/* ts_norm.c: ESPnet's TSNormalization and TSInverseNormalization
 * (state_spaces/components.py) on x of shape (B, L, D): a scale per (b, d)
 * from the look-back window l < L - horizon (the mean of |x| over it, or
 * |x| at its last step), y = x / scale, kept on the device; the inverse is
 * y = x * scale. */
#include "clnorm_int.h"

struct clnorm_ts_norm {
    clnorm__norm nl; /* first: the runtime, the kernels (no parameters), statistics */
    size_t d, horizon;
    clnorm_ts_method method;
};

/* The statistics: the scale in s, (B, 1, D): B * D rows. */
static const clnorm__stats_names ts_stats = {.m_name = "the TSNormalization scale (unused half)",
                                             .s_name = "the TSNormalization scale",
                                             .what = "scale",
                                             .forward = "ts_norm_forward",
                                             .set = "ts_norm_set_scale",
                                             .s_arg = "scale"};

clnorm_status clnorm_ts_norm_create(clnorm_context *ctx, size_t d, clnorm_ts_method method,
                                    size_t horizon, clnorm_ts_norm **out)
{
    clnorm_ts_norm *layer;
    const clnorm__create_args args = {.fn = "ts_norm_create", .dims = {{"d", d}}};
    if (out && method != CLNORM_TS_MEAN && method != CLNORM_TS_LAST) {
        *out = NULL;
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "ts_norm_create: unknown method %d",
                            (int)method);
    }
    if (out && method == CLNORM_TS_MEAN && horizon == 0) { /* x[:, :-0] is empty in ESPnet */
        *out = NULL;
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "ts_norm_create: the mean method needs a horizon >= 1 (ESPnet's "
                            "window x[:, :-0] is empty)");
    }
    /* (B, L, D): the rows are the D columns, or contiguous when D == 1 */
    RETURN_IF_ERROR(
        clnorm__norm_create(ctx, &args, sizeof *layer, d, 0, NULL, out, (void **)&layer));
    layer->d = d;
    layer->horizon = horizon;
    layer->method = method;
    layer->nl.stats.names = &ts_stats;
    return CLNORM_OK;
}

void clnorm_ts_norm_destroy(clnorm_ts_norm *layer) { clnorm__norm_free(layer ? &layer->nl : NULL); }

/* The forward's look-back window, L - horizon steps: at least one, and
 * fewer than 2^32 (an L of 0 is the shape checks'). */
static clnorm_status check_window(const clnorm_ts_norm *layer, size_t l)
{
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (l && l <= layer->horizon)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "ts_norm_forward: L = %zu leaves no look-back window before the "
                            "horizon %zu (L must exceed it)",
                            l, layer->horizon);
    if (l && l - layer->horizon > UINT32_MAX)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "ts_norm_forward: a look-back window of %zu steps exceeds 2^32-1",
                            l - layer->horizon);
    return CLNORM_OK;
}

/* norm_window's work-items for `samples` samples of D columns: one per
 * vector of columns when the kernels' width divides D, else per column. */
static size_t window_items(size_t samples, size_t d, size_t width)
{
    return d % width ? samples * d : samples * d / width;
}

/* A forward (the scale of the window kept, then x divided by it) or an
 * inverse (x times the kept scale). */
static clnorm_status enqueue(clnorm_ts_norm *layer, int inverse, size_t b, size_t l, cl_mem input,
                             size_t input_offset, cl_mem output, size_t output_offset,
                             cl_uint num_wait, const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    clnorm__stats *scale = &layer->nl.stats;
    const char *fn = inverse ? "ts_norm_inverse" : "ts_norm_forward";
    RETURN_IF_ERROR(inverse ? clnorm__stats_check_batch(ctx, scale, fn, layer->d, b, l)
                            : check_window(layer, l));
    size_t rows;
    RETURN_IF_ERROR(clnorm__layer_check_bld(&layer->nl.rt, fn, b, l, layer->d, input, input_offset,
                                            output, output_offset, num_wait, wait_list, &rows));
    if (!inverse)
        RETURN_IF_ERROR(clnorm__stats_reserve(ctx, scale, rows));
    /* the inverse: x * scale; the forward: the window's scale (op: its last
     * step or its mean), then x / scale */
    cl_uint op = inverse                           ? CLNORM_FIN_AFFINE | CLNORM_OP_STAT_SCALE
                 : layer->method == CLNORM_TS_LAST ? CLNORM_OP_LAST
                                                   : 0;
    size_t d = layer->d, sample_bytes = l * d * sizeof(float);
    clnorm__plan plan;
    int by_rows = !inverse && clnorm__plan_window_rows(&ctx->limits, b, d, sample_bytes, &plan);
    /* the kernels of the columns' width, or of contiguous rows' for window_rows */
    RETURN_IF_ERROR(clnorm__norm_use_width(&layer->nl, by_rows ? 1 : d));
    clnorm__view v = {b, l, d};
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset, op, 0.0, 1);
    a.stat_s = scale->s;
    if (inverse)
        return clnorm__scale_enqueue(&layer->nl, &a, num_wait, wait_list, event);
    a.poff[CLNORM_POFF_KEND] = (cl_uint)(l - layer->horizon);
    scale->rows = rows; /* the buffer holds (will hold) this batch's scale now */
    size_t width = layer->nl.ks.width;
    if (by_rows) /* one launch, a sample per work-item */
        return clnorm__plan_enqueue(&layer->nl, &a, &plan, num_wait, wait_list, event);
    if (clnorm__plan_window_divide(&ctx->limits, sample_bytes)) { /* one launch */
        a.op |= CLNORM_OP_DIVIDE;
        return clnorm__items_enqueue(&layer->nl, CLNORM_K_WINDOW, window_items(b, d, width), &a,
                                     num_wait, wait_list, event);
    }
    if (clnorm__plan_window_slabs(&ctx->limits, &a.view, width, &plan)) /* one launch */
        return clnorm__plan_enqueue(&layer->nl, &a, &plan, num_wait, wait_list, event);
    /* a block of samples at a time, so that the division re-reads x from
     * the cache the window's pass left it in */
    size_t block = clnorm__plan_sample_block(&ctx->limits, b, sample_bytes);
    if (rows > UINT32_MAX)
        block = b; /* the scale's first row stays within its 32 bits */
    for (size_t s0 = 0; s0 < b; s0 += block) {
        size_t nb = b - s0 < block ? b - s0 : block;
        int first = s0 == 0, last = s0 + nb == b;
        clnorm__args w = a;
        w.view.outer = nb;
        w.in_off += s0 * l * d;
        w.out_off += s0 * l * d;
        w.poff[CLNORM_POFF_STAT0] = (cl_uint)(s0 * d);
        RETURN_IF_ERROR(clnorm__items_enqueue(&layer->nl, CLNORM_K_WINDOW,
                                              window_items(nb, d, width), &w, first ? num_wait : 0,
                                              first ? wait_list : NULL, NULL));
        w.op = CLNORM_FIN_DIVIDE; /* after the window: the layer's last command */
        RETURN_IF_ERROR(clnorm__scale_enqueue(&layer->nl, &w, 0, NULL, last ? event : NULL));
    }
    return CLNORM_OK;
}

/* clnorm_ts_norm_forward and clnorm_ts_norm_inverse: one enqueue each way. */
#define TS_NORM_ENTRY(name, inverse)                                                               \
    clnorm_status clnorm_ts_norm_##name(clnorm_ts_norm *layer, size_t b, size_t l, cl_mem input,   \
                                        size_t input_offset, cl_mem output, size_t output_offset,  \
                                        cl_uint num_wait, const cl_event *wait_list,               \
                                        cl_event *event)                                           \
    {                                                                                              \
        return enqueue(layer, inverse, b, l, input, input_offset, output, output_offset, num_wait, \
                       wait_list, event);                                                          \
    }
TS_NORM_ENTRY(forward, 0)
TS_NORM_ENTRY(inverse, 1)

clnorm_status clnorm_ts_norm_read_scale(clnorm_ts_norm *layer, float *scale, size_t count)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!scale)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "ts_norm_read_scale: scale is NULL");
    return clnorm__stats_read_batch(ctx, &layer->nl.stats, "ts_norm_read_scale", layer->d, count,
                                    layer->nl.rt.last, NULL, scale);
}

clnorm_status clnorm_ts_norm_set_scale(clnorm_ts_norm *layer, size_t b, const float *scale)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    return clnorm__stats_set_batch(layer->nl.rt.ctx, &layer->nl.stats, "ts_norm_set_scale",
                                   layer->d, b, NULL, scale);
}
