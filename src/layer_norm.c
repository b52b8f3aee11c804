/* SPDX-License-Identifier: Apache-2.0 */
/* layer_norm.c: torch.nn.LayerNorm over the last axis: each row of d
 * contiguous floats standardised (biased variance, eps inside the square
 * root), then weight[k] and bias[k] along the row. */
#include "clnorm_int.h"

struct clnorm_layer_norm {
    clnorm__norm nl; /* first: the runtime, flags, eps, d, kernels, weight and bias */
};

clnorm_status clnorm_layer_norm_create(clnorm_context *ctx, size_t d, double eps, unsigned flags,
                                       clnorm_layer_norm **out)
{
    const clnorm__create_args args = {.fn = "layer_norm_create",
                                      .dims = {{"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_NO_AFFINE,
                                      .has_eps = 1,
                                      .eps = eps};
    return clnorm__norm_create_affine(ctx, &args, sizeof(clnorm_layer_norm), d,
                                      !(flags & CLNORM_NO_AFFINE), out);
}

CLNORM__NORM_LAYER_COMMON(layer_norm)

clnorm_status clnorm_layer_norm_forward(clnorm_layer_norm *layer,
                                        const clnorm_affine_params *params, size_t rows,
                                        cl_mem input, size_t input_offset, cl_mem output,
                                        size_t output_offset, cl_uint num_wait,
                                        const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm__norm *nl = &layer->nl;
    clnorm_context *ctx = nl->rt.ctx;
    int affine = !(nl->flags & CLNORM_NO_AFFINE);
    size_t d = nl->dims[0].value;
    if (!rows)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "layer_norm_forward: rows is 0");
    size_t count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, d, &count));
    RETURN_IF_ERROR(clnorm__norm_begin_affine(
        nl, "layer_norm_forward", "weight and bias (the layer is affine)", params, input,
        input_offset, output, output_offset, count, num_wait, wait_list));
    clnorm__view v = {rows, d, 1};
    clnorm__args a =
        clnorm__args_of(v, input, input_offset, output, output_offset,
                        CLNORM_FIN_STANDARD | (affine ? CLNORM_OP_AXIS : 0), nl->eps, 1);
    a.poff[CLNORM_POFF_AXW] = (cl_uint)nl->params.offset[0];
    a.poff[CLNORM_POFF_AXB] = (cl_uint)nl->params.offset[1];
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}
