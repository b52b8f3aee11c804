/* SPDX-License-Identifier: Apache-2.0 */
/* instance_norm2d.c: torch.nn.InstanceNorm2d (instance statistics): each
 * (n, c) plane standardised (biased variance, eps inside the square root),
 * then, with affine=True, weight[c] and bias[c]. */
#include "clnorm_int.h"

struct clnorm_instance_norm2d {
    clnorm__norm nl; /* first: the runtime, flags, eps, c, kernels, weight and bias */
};

clnorm_status clnorm_instance_norm2d_create(clnorm_context *ctx, size_t c, double eps,
                                            unsigned flags, clnorm_instance_norm2d **out)
{
    const clnorm__create_args args = {.fn = "instance_norm2d_create",
                                      .dims = {{"c", c}},
                                      .flags = flags,
                                      .known = CLNORM_AFFINE,
                                      .has_eps = 1,
                                      .eps = eps};
    return clnorm__norm_create_affine(ctx, &args, sizeof(clnorm_instance_norm2d), c,
                                      (flags & CLNORM_AFFINE) != 0, out);
}

CLNORM__NORM_LAYER_COMMON(instance_norm2d)

clnorm_status clnorm_instance_norm2d_forward(clnorm_instance_norm2d *layer,
                                             const clnorm_affine_params *params, size_t n, size_t c,
                                             size_t h, size_t w, cl_mem input, size_t input_offset,
                                             cl_mem output, size_t output_offset, cl_uint num_wait,
                                             const cl_event *wait_list, cl_event *event)
{
    static const char fn[] = "instance_norm2d_forward";
    clnorm__norm *nl = layer ? &layer->nl : NULL;
    clnorm__view v;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_nchw(nl, fn, n, c, h, w, &v, &count));
    RETURN_IF_ERROR(clnorm__norm_begin_affine(nl, fn, "weight and bias (the layer is affine)",
                                              params, input, input_offset, output, output_offset,
                                              count, num_wait, wait_list));
    int affine = (nl->flags & CLNORM_AFFINE) != 0;
    clnorm__args a = clnorm__args_of(
        v, input, input_offset, output, output_offset,
        CLNORM_FIN_STANDARD | (affine ? CLNORM_OP_GAMMA | CLNORM_OP_BETA : 0), nl->eps, c);
    a.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[0];
    a.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}
