/* SPDX-License-Identifier: Apache-2.0 */
/* transposed_ln.c: ESPnet's TransposedLN over D of (B, D, L): scalar, the
 * mean and biased standard deviation with no epsilon, y = (s_p / s) *
 * (x - m + m_p); not scalar, torch.nn.LayerNorm(D) along the strided axis. */
#include "clnorm_int.h"

struct clnorm_transposed_ln {
    clnorm__norm nl; /* first: the runtime, flags, kernels, s and m (or weight and bias) */
    size_t d;
};

clnorm_status clnorm_transposed_ln_create(clnorm_context *ctx, size_t d, unsigned flags,
                                          clnorm_transposed_ln **out)
{
    clnorm_transposed_ln *layer;
    const clnorm__create_args args = {.fn = "transposed_ln_create",
                                      .dims = {{"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_NOT_SCALAR};
    size_t each = (flags & CLNORM_NOT_SCALAR) ? d : 1, counts[2] = {each, each};
    /* L, the inner size, comes with each forward: width 1 until then */
    RETURN_IF_ERROR(
        clnorm__norm_create(ctx, &args, sizeof *layer, 1, 2, counts, out, (void **)&layer));
    layer->d = d;
    return CLNORM_OK;
}

CLNORM__NORM_LAYER_COMMON(transposed_ln)

clnorm_status clnorm_transposed_ln_forward(clnorm_transposed_ln *layer,
                                           const clnorm_affine_params *params, size_t b, size_t l,
                                           cl_mem input, size_t input_offset, cl_mem output,
                                           size_t output_offset, cl_uint num_wait,
                                           const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm__norm *nl = &layer->nl;
    clnorm_context *ctx = nl->rt.ctx;
    int scalar = !(nl->flags & CLNORM_NOT_SCALAR);
    size_t count;
    RETURN_IF_ERROR(clnorm__check_bdl(ctx, "transposed_ln_forward", b, layer->d, l, &count));
    const float *host[2] = {params ? params->weight : NULL, params ? params->bias : NULL};
    RETURN_IF_ERROR(clnorm__norm_begin(nl, "transposed_ln_forward",
                                       scalar ? "weight and bias (the module's s and m)"
                                              : "weight and bias (ln.weight, ln.bias)",
                                       host, params ? params->version : 0, input, input_offset,
                                       output, output_offset, count, num_wait, wait_list));
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, l));
    clnorm__view v = {b, layer->d, l};
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     scalar ? CLNORM_FIN_TLN | CLNORM_OP_GAMMA | CLNORM_OP_BETA
                                            : CLNORM_FIN_STANDARD | CLNORM_OP_AXIS,
                                     scalar ? 0.0 : 1e-5, 1);
    a.poff[scalar ? CLNORM_POFF_GAMMA : CLNORM_POFF_AXW] = (cl_uint)nl->params.offset[0];
    a.poff[scalar ? CLNORM_POFF_BETA : CLNORM_POFF_AXB] = (cl_uint)nl->params.offset[1];
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}
