/* SPDX-License-Identifier: Apache-2.0 */
/* revin.c: ESPnet's ReversibleInstanceNorm1dInput and ...Output (RevIN),
 * and the forecasting world's RevIN (eps inside the square root, the last
 * value as centre on request, eps^2 in the affine inverse). */
#include <string.h>

#include "clnorm_int.h"

struct clnorm_revin {
    clnorm__norm nl; /* first: the runtime, flags, eps, kernels, affine weight and bias, stats */
    size_t d;
    int forecast; /* the forecasting form, with its eps */
};

/* The statistics: ESPnet's m and s, (B, D, 1): B * D rows. */
static const clnorm__stats_names revin_stats = {.m_name = "the RevIN mean",
                                                .s_name = "the RevIN std",
                                                .what = "statistics",
                                                .plural = 1,
                                                .forward = "revin_forward",
                                                .set = "revin_set_stats",
                                                .m_arg = "mean",
                                                .s_arg = "std"};

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
    layer->forecast = forecast;
    layer->nl.stats.names = &revin_stats;
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

CLNORM__NORM_LAYER_COMMON(revin)

/* The launch of a forward (FIN_REVIN) or an inverse (FIN_DENORM): the
 * affine weight and bias uploaded if they changed. */
static clnorm_status make_args(clnorm_revin *layer, const clnorm_revin_params *params, cl_uint fin,
                               double eps, size_t b, size_t l, cl_mem input, size_t input_offset,
                               cl_mem output, size_t output_offset, clnorm__args *a)
{
    clnorm__norm *nl = &layer->nl;
    int affine = (layer->nl.flags & CLNORM_REVIN_AFFINE) != 0;
    if (affine) {
        const float *host[2] = {params->weight, params->bias};
        RETURN_IF_ERROR(clnorm__params_sync(nl->rt.ctx, &nl->params, host, params->version));
    }
    clnorm__args la = {.view = revin_view(layer->d, layer->nl.flags, b, l),
                       .in = input,
                       .out = output,
                       .in_off = input_offset / sizeof(float),
                       .out_off = output_offset / sizeof(float),
                       .op = fin | (affine ? CLNORM_OP_GAMMA | CLNORM_OP_BETA : 0),
                       .eps = eps,
                       .nchan = (cl_uint)layer->d,
                       .stat_m = nl->stats.m,
                       .stat_s = nl->stats.s};
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
    clnorm__stats *stats = &layer->nl.stats;
    const char *fn = inverse ? "revin_inverse" : "revin_forward";
    if (inverse)
        RETURN_IF_ERROR(clnorm__stats_check_batch(ctx, stats, fn, layer->d, b, l));
    if ((layer->nl.flags & CLNORM_REVIN_AFFINE) && (!params || !params->weight || !params->bias))
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT,
                            "%s: affine mode needs params with weight and bias", fn);
    size_t rows;
    RETURN_IF_ERROR(clnorm__layer_check_bld(&layer->nl.rt, fn, b, l, layer->d, input, input_offset,
                                            output, output_offset, num_wait, wait_list, &rows));
    if (!inverse)
        RETURN_IF_ERROR(clnorm__stats_reserve(ctx, stats, rows));
    /* the inverse: x = (x - bias) / (weight + 1e-10, or eps^2) first in affine mode */
    cl_uint norm_op =
        layer->forecast ? CLNORM_FIN_STANDARD | CLNORM_OP_STORE |
                              ((layer->nl.flags & CLNORM_REVIN_SUBTRACT_LAST) ? CLNORM_OP_LAST : 0)
                        : CLNORM_FIN_REVIN | CLNORM_OP_STORE;
    double norm_eps = layer->forecast ? layer->nl.eps : 1e-4;
    double inverse_eps = layer->forecast ? layer->nl.eps * layer->nl.eps : 1e-10;
    clnorm__args a;
    RETURN_IF_ERROR(make_args(layer, params, inverse ? CLNORM_FIN_DENORM : norm_op,
                              inverse ? inverse_eps : norm_eps, b, l, input, input_offset, output,
                              output_offset, &a));
    if (inverse)
        return clnorm__scale_enqueue(&layer->nl, &a, num_wait, wait_list, event);
    RETURN_IF_ERROR(clnorm__norm_enqueue(&layer->nl, &a, num_wait, wait_list, event));
    stats->rows = rows;
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
    return clnorm__stats_read_batch(layer->nl.rt.ctx, &layer->nl.stats, "revin_read_stats",
                                    layer->d, count, layer->nl.rt.last, mean, std);
}

clnorm_status clnorm_revin_set_stats(clnorm_revin *layer, size_t b, const float *mean,
                                     const float *std)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    return clnorm__stats_set_batch(layer->nl.rt.ctx, &layer->nl.stats, "revin_set_stats", layer->d,
                                   b, mean, std);
}
