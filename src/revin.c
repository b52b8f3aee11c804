/* SPDX-License-Identifier: Apache-2.0 */
/* revin.c: ESPnet's ReversibleInstanceNorm1dInput and ...Output (RevIN),
 * and the forecasting world's RevIN (eps inside the square root, the last
 * value as centre on request, eps^2 in the affine inverse). */
#include <string.h>

#include "clnorm_int.h"

struct clnorm_revin {
    clnorm__norm nl; /* first: the runtime, kernels, affine weight and bias */
    size_t d;
    unsigned flags;
    int forecast; /* the forecasting form, with its eps */
    double eps;
    clnorm__stats stats; /* ESPnet's m and s, (B, D, 1): B * D rows; none yet: 0 */
};

/* The view of (B, L, D) or (B, D, L) as [outer][n][inner] over L. */
static clnorm__view revin_view(size_t d, unsigned flags, size_t b, size_t l)
{
    if ((flags & CLNORM_REVIN_TRANSPOSED) || d == 1) {
        clnorm__view v = {b * d, l, 1};
        return v;
    }
    clnorm__view v = {b, l, d};
    return v;
}

/* Either form: ESPnet's (forecast 0) or the forecasting world's. */
static clnorm_status create(clnorm_context *ctx, const char *fn, size_t d, int forecast, double eps,
                            unsigned flags, clnorm_revin **out)
{
    clnorm_revin *layer;
    const clnorm__create_args args = {.fn = fn,
                                      .dims = {{"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_REVIN_TRANSPOSED | CLNORM_REVIN_AFFINE |
                                               (forecast ? CLNORM_REVIN_SUBTRACT_LAST : 0),
                                      .has_eps = forecast,
                                      .eps = eps};
    size_t counts[2] = {d, d}; /* weight, bias: only with CLNORM_REVIN_AFFINE */
    RETURN_IF_ERROR(clnorm__norm_create(ctx, &args, sizeof *layer, revin_view(d, flags, 1, 1).inner,
                                        (flags & CLNORM_REVIN_AFFINE) ? 2 : 0, counts, out,
                                        (void **)&layer));
    layer->d = d;
    layer->flags = flags;
    layer->forecast = forecast;
    layer->eps = eps;
    layer->stats.m_name = "the RevIN mean";
    layer->stats.s_name = "the RevIN std";
    return CLNORM_OK;
}

clnorm_status clnorm_revin_create(clnorm_context *ctx, size_t d, unsigned flags, clnorm_revin **out)
{
    return create(ctx, "revin_create", d, 0, 0.0, flags, out);
}

clnorm_status clnorm_revin_forecast_create(clnorm_context *ctx, size_t d, double eps,
                                           unsigned flags, clnorm_revin **out)
{
    return create(ctx, "revin_forecast_create", d, 1, eps, flags, out);
}

void clnorm_revin_destroy(clnorm_revin *layer)
{
    if (!layer)
        return;
    clnorm__stats_release(&layer->stats);
    clnorm__norm_free(&layer->nl);
}

/* Shared argument checks of forward and inverse. */
static clnorm_status check_call(clnorm_revin *layer, const char *fn,
                                const clnorm_revin_params *params, size_t b, size_t l, cl_mem input,
                                size_t input_offset, cl_mem output, size_t output_offset,
                                cl_uint num_wait, const cl_event *wait_list, size_t *rows)
{
    clnorm_context *ctx = layer->nl.rt.ctx;
    if ((layer->flags & CLNORM_REVIN_AFFINE) && (!params || !params->weight || !params->bias))
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT,
                            "%s: affine mode needs params with weight and bias", fn);
    if (!b || !l)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: B = %zu, L = %zu has a zero", fn, b, l);
    size_t count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, *rows, l, &count));
    return clnorm__layer_check_io(&layer->nl.rt, fn, input, input_offset, output, output_offset,
                                  count, num_wait, wait_list);
}

/* The launch of a forward (FIN_REVIN) or an inverse (FIN_DENORM): the
 * affine weight and bias uploaded if they changed. */
static clnorm_status make_args(clnorm_revin *layer, const clnorm_revin_params *params, cl_uint fin,
                               double eps, size_t b, size_t l, cl_mem input, size_t input_offset,
                               cl_mem output, size_t output_offset, clnorm__args *a)
{
    clnorm__norm *nl = &layer->nl;
    int affine = (layer->flags & CLNORM_REVIN_AFFINE) != 0;
    if (affine) {
        const float *host[2] = {params->weight, params->bias};
        RETURN_IF_ERROR(clnorm__params_sync(nl->rt.ctx, &nl->params, host, params->version));
    }
    clnorm__args la = {.view = revin_view(layer->d, layer->flags, b, l),
                       .in = input,
                       .out = output,
                       .in_off = input_offset / sizeof(float),
                       .out_off = output_offset / sizeof(float),
                       .op = fin | (affine ? CLNORM_OP_GAMMA | CLNORM_OP_BETA : 0),
                       .eps = eps,
                       .nchan = (cl_uint)layer->d,
                       .stat_m = layer->stats.m,
                       .stat_s = layer->stats.s};
    la.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[0];
    la.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
    *a = la;
    return CLNORM_OK;
}

/* A forward (statistics kept) or an inverse (the kept statistics used). */
static clnorm_status enqueue(clnorm_revin *layer, int inverse, const clnorm_revin_params *params,
                             size_t b, size_t l, cl_mem input, size_t input_offset, cl_mem output,
                             size_t output_offset, cl_uint num_wait, const cl_event *wait_list,
                             cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    const char *fn = inverse ? "revin_inverse" : "revin_forward";
    size_t stat_b = layer->stats.rows / layer->d, rows;
    if (inverse && stat_b == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "revin_inverse: no statistics yet: run revin_forward (or "
                            "revin_set_stats) first");
    if (inverse && b && l && b != stat_b)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "revin_inverse: B = %zu but the statistics are for B = %zu (D = %zu)",
                            b, stat_b, layer->d);
    RETURN_IF_ERROR(check_call(layer, fn, params, b, l, input, input_offset, output, output_offset,
                               num_wait, wait_list, &rows));
    if (!inverse)
        RETURN_IF_ERROR(clnorm__stats_reserve(ctx, &layer->stats, rows));
    /* the inverse: x = (x - bias) / (weight + 1e-10, or eps^2) first in affine mode */
    cl_uint norm_op = layer->forecast
                          ? CLNORM_FIN_STANDARD | CLNORM_OP_STORE |
                                ((layer->flags & CLNORM_REVIN_SUBTRACT_LAST) ? CLNORM_OP_LAST : 0)
                          : CLNORM_FIN_REVIN | CLNORM_OP_STORE;
    double norm_eps = layer->forecast ? layer->eps : 1e-4;
    double inverse_eps = layer->forecast ? layer->eps * layer->eps : 1e-10;
    clnorm__args a;
    RETURN_IF_ERROR(make_args(layer, params, inverse ? CLNORM_FIN_DENORM : norm_op,
                              inverse ? inverse_eps : norm_eps, b, l, input, input_offset, output,
                              output_offset, &a));
    if (inverse)
        return clnorm__scale_enqueue(&layer->nl, &a, num_wait, wait_list, event);
    RETURN_IF_ERROR(clnorm__norm_enqueue(&layer->nl, &a, num_wait, wait_list, event));
    layer->stats.rows = rows;
    return CLNORM_OK;
}

/* clnorm_revin_forward and clnorm_revin_inverse: one enqueue each way. */
#define REVIN_ENTRY(name, inverse)                                                                 \
    clnorm_status clnorm_revin_##name(clnorm_revin *layer, const clnorm_revin_params *params,      \
                                      size_t b, size_t l, cl_mem input, size_t input_offset,       \
                                      cl_mem output, size_t output_offset, cl_uint num_wait,       \
                                      const cl_event *wait_list, cl_event *event)                  \
    {                                                                                              \
        return enqueue(layer, inverse, params, b, l, input, input_offset, output, output_offset,   \
                       num_wait, wait_list, event);                                                \
    }
REVIN_ENTRY(forward, 0)
REVIN_ENTRY(inverse, 1)

clnorm_status clnorm_revin_read_stats(clnorm_revin *layer, float *mean, float *std, size_t count)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    size_t rows = layer->stats.rows;
    if (rows == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS,
                            "revin_read_stats: no statistics yet: run revin_forward first");
    if (count != rows)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "revin_read_stats: count %zu but the statistics hold B*D = %zu*%zu",
                            count, rows / layer->d, layer->d);
    return clnorm__stats_read(ctx, &layer->stats, layer->nl.rt.last, mean, std);
}

clnorm_status clnorm_revin_set_stats(clnorm_revin *layer, size_t b, const float *mean,
                                     const float *std)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!mean || !std)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "revin_set_stats: %s is NULL",
                            !mean ? "mean" : "std");
    if (!b)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "revin_set_stats: B is 0");
    size_t rows;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, &rows));
    return clnorm__stats_set(ctx, &layer->stats, rows, mean, std);
}

uint64_t clnorm_revin_upload_count(const clnorm_revin *layer)
{
    return layer ? layer->nl.params.uploads : 0;
}
