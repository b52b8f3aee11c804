/* SPDX-License-Identifier: Apache-2.0 */
/* ts_norm.c: ESPnet's TSNormalization and TSInverseNormalization
 * (state_spaces/components.py) on x of shape (B, L, D): a scale per (b, d)
 * from the look-back window l < L - horizon (the mean of |x| over it, or
 * |x| at its last step), y = x / scale, kept on the device; the inverse is
 * y = x * scale. */
#include "clnorm_int.h"

struct clnorm_ts_norm {
    clnorm__norm nl; /* first: the runtime and the kernels (no parameters) */
    size_t d, horizon;
    clnorm_ts_method method;
    clnorm__stats scale; /* the scale in s, (B, 1, D): B * D rows; none yet: 0 */
};

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
    layer->scale.m_name = "the TSNormalization scale (unused half)";
    layer->scale.s_name = "the TSNormalization scale";
    return CLNORM_OK;
}

void clnorm_ts_norm_destroy(clnorm_ts_norm *layer)
{
    if (!layer)
        return;
    clnorm__stats_release(&layer->scale);
    clnorm__norm_free(&layer->nl);
}

/* The checks of forward and inverse: sizes, buffers, the wait list; *rows = B * D. */
static clnorm_status check_call(clnorm_ts_norm *layer, const char *fn, size_t b, size_t l,
                                cl_mem input, size_t input_offset, cl_mem output,
                                size_t output_offset, cl_uint num_wait, const cl_event *wait_list,
                                size_t *rows)
{
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!b || !l)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: B = %zu, L = %zu has a zero", fn, b, l);
    size_t count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, *rows, l, &count));
    return clnorm__layer_check_io(&layer->nl.rt, fn, input, input_offset, output, output_offset,
                                  count, num_wait, wait_list);
}

clnorm_status clnorm_ts_norm_forward(clnorm_ts_norm *layer, size_t b, size_t l, cl_mem input,
                                     size_t input_offset, cl_mem output, size_t output_offset,
                                     cl_uint num_wait, const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
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
    size_t rows;
    RETURN_IF_ERROR(check_call(layer, "ts_norm_forward", b, l, input, input_offset, output,
                               output_offset, num_wait, wait_list, &rows));
    RETURN_IF_ERROR(clnorm__stats_reserve(ctx, &layer->scale, rows));
    clnorm__view v = {b, l, layer->d};
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     layer->method == CLNORM_TS_LAST ? CLNORM_OP_LAST : 0, 0.0, 1);
    a.poff[CLNORM_POFF_KEND] = (cl_uint)(l - layer->horizon);
    a.stat_s = layer->scale.s;
    /* a work-item per vector of columns when the kernels' width divides D */
    size_t width = layer->nl.ks.width, items = layer->d % width ? rows : rows / width;
    RETURN_IF_ERROR(
        clnorm__items_enqueue(&layer->nl, CLNORM_K_WINDOW, items, &a, num_wait, wait_list, NULL));
    layer->scale.rows = rows; /* the buffer holds (will hold) this batch's scale now */
    a.op = CLNORM_FIN_DIVIDE; /* after the window: the layer's last command */
    return clnorm__scale_enqueue(&layer->nl, &a, 0, NULL, event);
}

clnorm_status clnorm_ts_norm_inverse(clnorm_ts_norm *layer, size_t b, size_t l, cl_mem input,
                                     size_t input_offset, cl_mem output, size_t output_offset,
                                     cl_uint num_wait, const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    size_t stat_b = layer->scale.rows / layer->d, rows;
    if (stat_b == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "ts_norm_inverse: no scale yet: run ts_norm_forward (or "
                            "ts_norm_set_scale) first");
    if (b && l && b != stat_b)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "ts_norm_inverse: B = %zu but the scale is for B = %zu (D = %zu)", b,
                            stat_b, layer->d);
    RETURN_IF_ERROR(check_call(layer, "ts_norm_inverse", b, l, input, input_offset, output,
                               output_offset, num_wait, wait_list, &rows));
    clnorm__view v = {b, l, layer->d};
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     CLNORM_FIN_AFFINE | CLNORM_OP_STAT_SCALE, 0.0, 1);
    a.stat_s = layer->scale.s;
    return clnorm__scale_enqueue(&layer->nl, &a, num_wait, wait_list, event);
}

clnorm_status clnorm_ts_norm_read_scale(clnorm_ts_norm *layer, float *scale, size_t count)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    size_t rows = layer->scale.rows;
    if (!scale)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "ts_norm_read_scale: scale is NULL");
    if (rows == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "ts_norm_read_scale: no scale yet: run ts_norm_forward first");
    if (count != rows)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "ts_norm_read_scale: count %zu but the scale holds B*D = %zu*%zu",
                            count, rows / layer->d, layer->d);
    return clnorm__stats_read(ctx, &layer->scale, layer->nl.rt.last, NULL, scale);
}

clnorm_status clnorm_ts_norm_set_scale(clnorm_ts_norm *layer, size_t b, const float *scale)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!scale)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "ts_norm_set_scale: scale is NULL");
    if (!b)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "ts_norm_set_scale: B is 0");
    size_t rows;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, &rows));
    return clnorm__stats_set(ctx, &layer->scale, rows, NULL, scale);
}
