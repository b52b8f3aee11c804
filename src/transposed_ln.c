/* SPDX-License-Identifier: Apache-2.0 */
/* transposed_ln.c: ESPnet's TransposedLN over D of (B, D, L): scalar, the
 * mean and biased standard deviation with no epsilon, y = (s_p / s) *
 * (x - m + m_p); not scalar, torch.nn.LayerNorm(D) along the strided axis. */
#include "clnorm_int.h"

struct clnorm_transposed_ln {
    clnorm__norm nl; /* first: the runtime, flags, d, kernels, s and m (or weight and bias) */
};

clnorm_status clnorm_transposed_ln_create(clnorm_context *ctx, size_t d, unsigned flags,
                                          clnorm_transposed_ln **out)
{
    const clnorm__create_args args = {.fn = "transposed_ln_create",
                                      .dims = {{"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_NOT_SCALAR};
    size_t each = (flags & CLNORM_NOT_SCALAR) ? d : 1, counts[2] = {each, each};
    /* L, the inner size, comes with each forward: width 1 until then */
    return clnorm__norm_create(ctx, &args, sizeof(clnorm_transposed_ln), 1, 2, counts, out, NULL);
}

CLNORM__NORM_LAYER_COMMON(transposed_ln)

clnorm_status clnorm_transposed_ln_forward(clnorm_transposed_ln *layer,
                                           const clnorm_affine_params *params, size_t b, size_t l,
                                           cl_mem input, size_t input_offset, cl_mem output,
                                           size_t output_offset, cl_uint num_wait,
                                           const cl_event *wait_list, cl_event *event)
{
    static const char fn[] = "transposed_ln_forward";
    clnorm__norm *nl = layer ? &layer->nl : NULL;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_bdl(nl, fn, b, l, &count));
    int scalar = !(nl->flags & CLNORM_NOT_SCALAR);
    RETURN_IF_ERROR(clnorm__norm_begin_affine(
        nl, fn,
        scalar ? "weight and bias (the module's s and m)" : "weight and bias (ln.weight, ln.bias)",
        params, input, input_offset, output, output_offset, count, num_wait, wait_list));
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, l));
    clnorm__view v = {b, nl->dims[0].value, l}; /* (b, d, l) */
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     scalar ? CLNORM_FIN_TLN | CLNORM_OP_GAMMA | CLNORM_OP_BETA
                                            : CLNORM_FIN_STANDARD | CLNORM_OP_AXIS,
                                     scalar ? 0.0 : 1e-5, 1);
    a.poff[scalar ? CLNORM_POFF_GAMMA : CLNORM_POFF_AXW] = (cl_uint)nl->params.offset[0];
    a.poff[scalar ? CLNORM_POFF_BETA : CLNORM_POFF_AXB] = (cl_uint)nl->params.offset[1];
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}
