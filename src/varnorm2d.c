/* SPDX-License-Identifier: Apache-2.0 */
/* varnorm2d.c: ESPnet's VarianceNorm2d: per (n, c) plane, the unbiased
 * variance; y = alpha[c] * x / sqrt(var + 1e-5). */
#include "clnorm_int.h"

struct clnorm_varnorm2d {
    clnorm__norm nl; /* first: the runtime, kernels, alpha */
    size_t num_features;
};

clnorm_status clnorm_varnorm2d_create(clnorm_context *ctx, size_t num_features,
                                      clnorm_varnorm2d **out)
{
    clnorm_varnorm2d *layer;
    const clnorm__create_args args = {.fn = "varnorm2d_create",
                                      .dims = {{"num_features", num_features}}};
    RETURN_IF_ERROR(
        clnorm__norm_create(ctx, &args, sizeof *layer, 1, 1, &num_features, out, (void **)&layer));
    layer->num_features = num_features;
    return CLNORM_OK;
}

CLNORM__NORM_LAYER_COMMON(varnorm2d)

clnorm_status clnorm_varnorm2d_forward(clnorm_varnorm2d *layer,
                                       const clnorm_varnorm2d_params *params, size_t n, size_t c,
                                       size_t h, size_t w, cl_mem input, size_t input_offset,
                                       cl_mem output, size_t output_offset, cl_uint num_wait,
                                       const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!params || !params->alpha)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "varnorm2d_forward: %s is NULL",
                            params ? "params->alpha" : "params");
    size_t rows, plane, count;
    RETURN_IF_ERROR(clnorm__check_nchw(ctx, "varnorm2d_forward", n, c, h, w, "num_features",
                                       layer->num_features, &rows, &plane, &count));
    const float *host[1] = {params->alpha};
    RETURN_IF_ERROR(clnorm__norm_begin(&layer->nl, "varnorm2d_forward", "alpha", host,
                                       params->version, input, input_offset, output, output_offset,
                                       count, num_wait, wait_list));
    clnorm__view v = {rows, plane, 1};
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     CLNORM_FIN_VARNORM | CLNORM_OP_GAMMA, 1e-5, c);
    a.poff[CLNORM_POFF_GAMMA] = (cl_uint)layer->nl.params.offset[0];
    return clnorm__norm_enqueue(&layer->nl, &a, num_wait, wait_list, event);
}
