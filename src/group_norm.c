/* SPDX-License-Identifier: Apache-2.0 */
/* group_norm.c: torch.nn.GroupNorm(G, C, eps, affine) on (N, C, spatial):
 * each (n, group of C/G channels) standardised over its channels and
 * spatial positions, then weight[c] and bias[c] per channel. Two passes on
 * the norm kernels: the groups' rows standardised into y, then y scaled and
 * shifted in place by channel (the weights run along segments of the
 * group's row, which the one-pass apply does not index). */
#include "clnorm_int.h"

struct clnorm_group_norm {
    clnorm__norm nl; /* first: the runtime, flags, eps, groups and c, kernels, weight and bias */
};

clnorm_status clnorm_group_norm_create(clnorm_context *ctx, size_t groups, size_t c, double eps,
                                       unsigned flags, clnorm_group_norm **out)
{
    const clnorm__create_args args = {.fn = "group_norm_create",
                                      .dims = {{"num_groups", groups}, {"num_channels", c}},
                                      .flags = flags,
                                      .known = CLNORM_NO_AFFINE,
                                      .has_eps = 1,
                                      .eps = eps};
    if (out && groups && c % groups) {
        *out = NULL;
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "group_norm_create: num_channels %zu is not a multiple of "
                            "num_groups %zu",
                            c, groups);
    }
    return clnorm__norm_create_affine(ctx, &args, sizeof(clnorm_group_norm), c,
                                      !(flags & CLNORM_NO_AFFINE), out);
}

CLNORM__NORM_LAYER_COMMON(group_norm)

clnorm_status clnorm_group_norm_forward(clnorm_group_norm *layer,
                                        const clnorm_affine_params *params, size_t n,
                                        size_t spatial, cl_mem input, size_t input_offset,
                                        cl_mem output, size_t output_offset, cl_uint num_wait,
                                        const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm__norm *nl = &layer->nl;
    clnorm_context *ctx = nl->rt.ctx;
    int affine = !(nl->flags & CLNORM_NO_AFFINE);
    size_t groups = nl->dims[0].value, c = nl->dims[1].value;
    if (!n || !spatial)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "group_norm_forward: n = %zu, spatial = %zu", n,
                            spatial);
    size_t count, per_group;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, n, c, &count));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, count, spatial, &count));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, c / groups, spatial, &per_group));
    RETURN_IF_ERROR(clnorm__norm_begin_affine(
        nl, "group_norm_forward", "weight and bias (the layer is affine)", params, input,
        input_offset, output, output_offset, count, num_wait, wait_list));
    clnorm__view rows = {n * groups, per_group, 1};
    /* by channel: segments of `spatial` in each group's row; for two
     * passes, (n, c) rows of the spatial positions, or with none the
     * channels as the columns of one-step rows */
    clnorm__channels ch = {groups, spatial, 0, c, {n * c, spatial, 1}};
    if (spatial == 1)
        ch.view = (clnorm__view){n, 1, c};
    return clnorm__norm_by_channel(nl, rows, nl->eps, affine, &ch, input, input_offset, output,
                                   output_offset, num_wait, wait_list, event);
}
