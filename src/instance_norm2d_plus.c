/* SPDX-License-Identifier: Apache-2.0 */
/* instance_norm2d_plus.c: ESPnet's InstanceNorm2dPlus(C, bias) (NCSN++'s
 * normalization.py): InstanceNorm2d, plus each channel's mean standardised
 * across the sample's channels times alpha; then gamma and beta. */
#include "clnorm_int.h"

struct clnorm_instance_norm2d_plus {
    clnorm__norm nl; /* first: the runtime, c, kernels, alpha, gamma (and beta), statistics */
    int bias;
};

/* The statistics: the planes' exact means, then their gamma and b. */
static const clnorm__stats_names plus_stats = {
    .m_name = "the InstanceNorm2dPlus channel means",
    .s_name = "the InstanceNorm2dPlus channel means (low parts)"};

clnorm_status clnorm_instance_norm2d_plus_create(clnorm_context *ctx, size_t c, unsigned flags,
                                                 clnorm_instance_norm2d_plus **out)
{
    clnorm_instance_norm2d_plus *layer;
    const clnorm__create_args args = {.fn = "instance_norm2d_plus_create",
                                      .dims = {{"c", c}},
                                      .flags = flags,
                                      .known = CLNORM_NO_BIAS};
    int bias = !(flags & CLNORM_NO_BIAS);
    size_t counts[3] = {c, c, c}; /* alpha, gamma, beta */
    RETURN_IF_ERROR(clnorm__norm_create(ctx, &args, sizeof *layer, 1, bias ? 3 : 2, counts, out,
                                        (void **)&layer));
    layer->bias = bias;
    layer->nl.stats.names = &plus_stats;
    return CLNORM_OK;
}

CLNORM__NORM_LAYER_COMMON(instance_norm2d_plus)

clnorm_status clnorm_instance_norm2d_plus_forward(clnorm_instance_norm2d_plus *layer,
                                                  const clnorm_plus_params *params, size_t n,
                                                  size_t c, size_t h, size_t w, cl_mem input,
                                                  size_t input_offset, cl_mem output,
                                                  size_t output_offset, cl_uint num_wait,
                                                  const cl_event *wait_list, cl_event *event)
{
    static const char fn[] = "instance_norm2d_plus_forward";
    clnorm__norm *nl = layer ? &layer->nl : NULL;
    clnorm__view v;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_nchw(nl, fn, n, c, h, w, &v, &count));
    const float *host[3] = {params ? params->alpha : NULL, params ? params->gamma : NULL,
                            params ? params->beta : NULL};
    RETURN_IF_ERROR(clnorm__norm_begin(nl, fn,
                                       layer->bias ? "alpha, gamma and beta" : "alpha and gamma",
                                       host, params ? params->version : 0, input, input_offset,
                                       output, output_offset, count, num_wait, wait_list));
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     CLNORM_OP_GAMMA | (layer->bias ? CLNORM_OP_BETA : 0), 1e-5, c);
    a.poff[CLNORM_POFF_ALPHA] = (cl_uint)nl->params.offset[0];
    a.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[1];
    a.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[2];
    return clnorm__norm_plus(nl, &a, num_wait, wait_list, event);
}
