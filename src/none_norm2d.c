/* SPDX-License-Identifier: Apache-2.0 */
/* none_norm2d.c: ESPnet's NoneNorm2d, y = x: a copy through the
 * elementwise kernel (or, in place, a marker) that follows the wait list
 * like every other forward. */
#include "clnorm_int.h"

struct clnorm_none_norm2d {
    clnorm__norm nl; /* first: the runtime, the kernels (no parameters) */
};

clnorm_status clnorm_none_norm2d_create(clnorm_context *ctx, unsigned flags,
                                        clnorm_none_norm2d **out)
{
    const clnorm__create_args args = {.fn = "none_norm2d_create", .flags = flags};
    return clnorm__norm_create(ctx, &args, sizeof(clnorm_none_norm2d), 1, 0, NULL, out, NULL);
}

void clnorm_none_norm2d_destroy(clnorm_none_norm2d *layer)
{
    clnorm__norm_free(layer ? &layer->nl : NULL);
}

clnorm_status clnorm_none_norm2d_forward(clnorm_none_norm2d *layer, size_t count, cl_mem input,
                                         size_t input_offset, cl_mem output, size_t output_offset,
                                         cl_uint num_wait, const cl_event *wait_list,
                                         cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm__norm *nl = &layer->nl;
    if (!count)
        return clnorm__fail(nl->rt.ctx, CLNORM_ZERO_SIZE, "none_norm2d_forward: count is 0");
    RETURN_IF_ERROR(clnorm__layer_check_io(&nl->rt, "none_norm2d_forward", input, input_offset,
                                           output, output_offset, count, num_wait, wait_list));
    return clnorm__norm_copy(nl, count, input, input_offset, output, output_offset, num_wait,
                             wait_list, event);
}
