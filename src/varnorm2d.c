/* SPDX-License-Identifier: Apache-2.0 */
/* varnorm2d.c: ESPnet's VarianceNorm2d layer. */
#include "clnorm_int.h"

struct clnorm_varnorm2d {
    clnorm_context *ctx;
    size_t num_features;
    clnorm__kernels ks;
    clnorm__scratch scratch;
    clnorm__param_buffer alpha;
    cl_event last; /* the layer's last command: its next one waits for it */
};

clnorm_status clnorm_varnorm2d_create(clnorm_context *ctx, size_t num_features,
                                      clnorm_varnorm2d **out)
{
    if (!out)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "varnorm2d_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return CLNORM_NULL_ARGUMENT;
    if (!ctx->cl_ctx)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "the context failed to initialise");
    if (num_features == 0)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "varnorm2d_create: num_features is 0");
    if (num_features > UINT32_MAX)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "varnorm2d_create: num_features %zu exceeds 2^32-1", num_features);
    clnorm_varnorm2d *layer = clnorm__calloc(1, sizeof *layer);
    if (!layer)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "allocating a varnorm2d layer");
    layer->ctx = ctx;
    layer->num_features = num_features;
    layer->alpha.count = num_features;
    layer->alpha.arrays = 1;
    clnorm_status st =
        clnorm__scratch_reserve_waits(ctx, &layer->scratch, CLNORM_WAITS_RESERVED);
    if (st == CLNORM_OK)
        st = clnorm__kernels_create(ctx, ctx->contig_width, &layer->ks);
    if (st != CLNORM_OK) {
        clnorm__scratch_release(&layer->scratch);
        clnorm__free(layer);
        return st;
    }
    *out = layer;
    return CLNORM_OK;
}

void clnorm_varnorm2d_destroy(clnorm_varnorm2d *layer)
{
    if (!layer)
        return;
    clnorm__release_event(layer->last);
    clnorm__params_release(&layer->alpha);
    clnorm__scratch_release(&layer->scratch);
    clnorm__kernels_release(&layer->ks);
    clnorm__free(layer);
}

clnorm_status clnorm_varnorm2d_forward(clnorm_varnorm2d *layer,
                                       const clnorm_varnorm2d_params *params, size_t n,
                                       size_t c, size_t h, size_t w, cl_mem input,
                                       size_t input_offset, cl_mem output, size_t output_offset,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->ctx;
    if (!params || !params->alpha)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "varnorm2d_forward: %s is NULL",
                            params ? "params->alpha" : "params");
    if (!n || !c || !h || !w)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE,
                            "varnorm2d_forward: shape (%zu, %zu, %zu, %zu) has a zero", n, c, h,
                            w);
    if (c != layer->num_features)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "varnorm2d_forward: C = %zu but the layer has num_features = %zu", c,
                            layer->num_features);
    size_t rows, plane, count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, n, c, &rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, h, w, &plane));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, plane, &count));
    RETURN_IF_ERROR(clnorm__check_buffer(ctx, "varnorm2d input", input, input_offset, count));
    RETURN_IF_ERROR(clnorm__check_buffer(ctx, "varnorm2d output", output, output_offset, count));
    RETURN_IF_ERROR(clnorm__check_in_out(ctx, "varnorm2d_forward", input, input_offset, output,
                                         output_offset, count));
    RETURN_IF_ERROR(clnorm__check_wait_list(ctx, num_wait, wait_list));

    const float *host[1] = {params->alpha};
    RETURN_IF_ERROR(clnorm__params_sync(ctx, &layer->alpha, host, params->version));
    clnorm__launch l = {{rows, plane, 1}, 0, input, output, input_offset / sizeof(float),
                        output_offset / sizeof(float), layer->alpha.mem[0], NULL,
                        (cl_uint)layer->num_features, NULL, NULL};
    cl_event done = NULL;
    RETURN_IF_ERROR(clnorm__enqueue_normalise(ctx, &layer->ks, &layer->scratch, &l, num_wait,
                                              wait_list, layer->last, &done));
    return clnorm__hand_out_event(ctx, &layer->last, done, event);
}

uint64_t clnorm_varnorm2d_upload_count(const clnorm_varnorm2d *layer)
{
    return layer ? layer->alpha.uploads : 0;
}
