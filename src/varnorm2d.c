/* SPDX-License-Identifier: Apache-2.0 */
/* varnorm2d.c: ESPnet's VarianceNorm2d: per (n, c) plane, the unbiased
 * variance; y = alpha[c] * x / sqrt(var + 1e-5). */
#include "clnorm_int.h"

struct clnorm_varnorm2d {
    clnorm__norm nl; /* first: the runtime, num_features, kernels, alpha */
};

clnorm_status clnorm_varnorm2d_create(clnorm_context *ctx, size_t num_features,
                                      clnorm_varnorm2d **out)
{
    const clnorm__create_args args = {.fn = "varnorm2d_create",
                                      .dims = {{"num_features", num_features}}};
    return clnorm__norm_create(ctx, &args, sizeof(clnorm_varnorm2d), 1, 1, &num_features, out,
                               NULL);
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
    clnorm__norm *nl = &layer->nl;
    if (!params || !params->alpha)
        return clnorm__fail(nl->rt.ctx, CLNORM_NULL_ARGUMENT, "varnorm2d_forward: %s is NULL",
                            params ? "params->alpha" : "params");
    clnorm__view v;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_nchw(nl, "varnorm2d_forward", n, c, h, w, &v, &count));
    const float *host[1] = {params->alpha};
    RETURN_IF_ERROR(clnorm__norm_begin(nl, "varnorm2d_forward", "alpha", host, params->version,
                                       input, input_offset, output, output_offset, count, num_wait,
                                       wait_list));
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     CLNORM_FIN_VARNORM | CLNORM_OP_GAMMA, 1e-5, c);
    a.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[0];
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}
