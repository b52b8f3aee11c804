/* SPDX-License-Identifier: Apache-2.0 */
/* none_norm2d.c: ESPnet's NoneNorm2d, y = x: a copy (or, in place, a
 * marker) that follows the wait list like every other forward. */
#include "clnorm_int.h"

struct clnorm_none_norm2d {
    clnorm__layer rt; /* first: the runtime */
};

clnorm_status clnorm_none_norm2d_create(clnorm_context *ctx, unsigned flags,
                                        clnorm_none_norm2d **out)
{
    clnorm_none_norm2d *layer;
    RETURN_IF_ERROR(
        clnorm__layer_new(ctx, "none_norm2d_create", sizeof *layer, out, (void **)&layer));
    const clnorm__create_args args = {.fn = "none_norm2d_create", .flags = flags};
    clnorm_status st = clnorm__check_create_args(ctx, &args);
    if (st != CLNORM_OK) {
        clnorm__layer_free(layer);
        *out = NULL;
        return st;
    }
    *out = layer;
    return CLNORM_OK;
}

void clnorm_none_norm2d_destroy(clnorm_none_norm2d *layer) { clnorm__layer_free(layer); }

clnorm_status clnorm_none_norm2d_forward(clnorm_none_norm2d *layer, size_t count, cl_mem input,
                                         size_t input_offset, cl_mem output, size_t output_offset,
                                         cl_uint num_wait, const cl_event *wait_list,
                                         cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->rt.ctx;
    if (!count)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "none_norm2d_forward: count is 0");
    RETURN_IF_ERROR(clnorm__layer_check_io(&layer->rt, "none_norm2d_forward", input, input_offset,
                                           output, output_offset, count, num_wait, wait_list));
    return clnorm__copy_enqueue(&layer->rt, count, input, input_offset, output, output_offset,
                                num_wait, wait_list, event);
}
