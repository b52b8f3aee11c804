/* SPDX-License-Identifier: Apache-2.0 */
/* conditional_norm2d.c: ESPnet's conditional NCHW classes: the per-channel
 * scale and bias of sample n from row labels[n] of an embedding table, on
 * the statistics kernels (variance, instance) or the elementwise one (eval
 * batch norm, none). Out-of-range labels are clamped in the kernels and
 * reported through a flags buffer the layer owns. */
#include "clnorm_int.h"

struct clnorm_conditional_norm2d {
    clnorm__norm nl; /* first: the runtime, c and k, kernels, embed (+ running mean, var),
                        statistics */
    clnorm_conditional_kind kind;
    size_t width; /* floats per row of the table */
    int bias;
    cl_mem flags; /* CLNORM_FLAG_* raised by the kernels */
};

/* InstanceNorm2dPlus's statistics: the planes' means, then their affine. */
static const clnorm__stats_names plus_stats = {
    .m_name = "the ConditionalInstanceNorm2dPlus channel means",
    .s_name = "the ConditionalInstanceNorm2dPlus channel means (low parts)"};

static const char *kind_name(clnorm_conditional_kind kind)
{
    switch (kind) {
    case CLNORM_CONDITIONAL_VARIANCE: return "ConditionalVarianceNorm2d";
    case CLNORM_CONDITIONAL_INSTANCE: return "ConditionalInstanceNorm2d";
    case CLNORM_CONDITIONAL_BATCH: return "ConditionalBatchNorm2d";
    case CLNORM_CONDITIONAL_NONE: return "ConditionalNoneNorm2d";
    case CLNORM_CONDITIONAL_INSTANCE_PLUS: return "ConditionalInstanceNorm2dPlus";
    }
    return NULL;
}

clnorm_status clnorm_conditional_norm2d_create(clnorm_context *ctx, clnorm_conditional_kind kind,
                                               size_t c, size_t k, unsigned flags,
                                               clnorm_conditional_norm2d **out)
{
    if (out)
        *out = NULL;
    if (ctx && !kind_name(kind))
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "conditional_norm2d_create: unknown kind %d", (int)kind);
    clnorm_conditional_norm2d *layer;
    int has_bias = kind != CLNORM_CONDITIONAL_VARIANCE;
    const clnorm__create_args args = {.fn = "conditional_norm2d_create",
                                      .dims = {{"c", c}, {"k", k}},
                                      .flags = flags,
                                      .known = has_bias ? CLNORM_NO_BIAS : 0};
    int bias = has_bias && !(flags & CLNORM_NO_BIAS);
    /* columns per class: gamma (, alpha) (, beta) */
    size_t chunks = (kind == CLNORM_CONDITIONAL_INSTANCE_PLUS ? 2 : 1) + (bias ? 1 : 0);
    size_t width = chunks * c, table = 0;
    if (ctx && c && k && clnorm__mul_size(ctx, k, width, &table) != CLNORM_OK)
        return CLNORM_INVALID_ARGUMENT;
    size_t counts[3] = {table, c, c};
    unsigned arrays = kind == CLNORM_CONDITIONAL_BATCH ? 3 : 1;
    RETURN_IF_ERROR(
        clnorm__norm_create(ctx, &args, sizeof *layer, 1, arrays, counts, out, (void **)&layer));
    layer->kind = kind;
    layer->width = width;
    layer->bias = bias;
    layer->nl.stats.names = &plus_stats;
    cl_uint zero = 0;
    clnorm_status st =
        clnorm__buffer_create(ctx, "the label flags", CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              sizeof zero, &zero, &layer->flags);
    if (st != CLNORM_OK) {
        clnorm__norm_free(&layer->nl);
        *out = NULL;
    }
    return st;
}

void clnorm_conditional_norm2d_destroy(clnorm_conditional_norm2d *layer)
{
    if (!layer)
        return;
    clnorm__release_mem(layer->flags);
    clnorm__norm_free(&layer->nl);
}

uint64_t clnorm_conditional_norm2d_upload_count(const clnorm_conditional_norm2d *layer)
{
    return layer ? layer->nl.params.uploads : 0;
}

clnorm_status clnorm_conditional_norm2d_forward(clnorm_conditional_norm2d *layer,
                                                const clnorm_conditional_params *params,
                                                cl_mem labels, size_t labels_offset, size_t n,
                                                size_t c, size_t h, size_t w, cl_mem input,
                                                size_t input_offset, cl_mem output,
                                                size_t output_offset, cl_uint num_wait,
                                                const cl_event *wait_list, cl_event *event)
{
    static const char fn[] = "conditional_norm2d_forward";
    clnorm__norm *nl = layer ? &layer->nl : NULL;
    clnorm__view v;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_nchw(nl, fn, n, c, h, w, &v, &count));
    clnorm_context *ctx = nl->rt.ctx;
    int batch = layer->kind == CLNORM_CONDITIONAL_BATCH;
    RETURN_IF_ERROR(
        clnorm__check_buffer(ctx, "conditional_norm2d_forward labels", labels, labels_offset, n));
    if (labels_offset / sizeof(cl_int) > UINT32_MAX)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "%s: labels_offset %zu is beyond the 2^32nd label", fn, labels_offset);
    const float *host[3] = {params ? params->embed : NULL, params ? params->running_mean : NULL,
                            params ? params->running_var : NULL};
    RETURN_IF_ERROR(clnorm__norm_begin(nl, fn,
                                       batch ? "embed, running_mean and running_var" : "embed",
                                       host, params ? params->version : 0, input, input_offset,
                                       output, output_offset, count, num_wait, wait_list));
    static const cl_uint fin[] = {
        [CLNORM_CONDITIONAL_VARIANCE] = CLNORM_FIN_VARNORM,
        [CLNORM_CONDITIONAL_INSTANCE] = CLNORM_FIN_STANDARD,
        [CLNORM_CONDITIONAL_BATCH] = CLNORM_FIN_FIXED,
        [CLNORM_CONDITIONAL_NONE] = CLNORM_FIN_AFFINE,
        [CLNORM_CONDITIONAL_INSTANCE_PLUS] = CLNORM_FIN_STANDARD,
    };
    int plus = layer->kind == CLNORM_CONDITIONAL_INSTANCE_PLUS;
    clnorm__args a = clnorm__args_of(v, input, input_offset, output, output_offset,
                                     fin[layer->kind] | CLNORM_OP_GAMMA | CLNORM_OP_LABELS |
                                         (layer->bias ? CLNORM_OP_BETA : 0),
                                     1e-5, c);
    a.labels = labels;
    a.flags = layer->flags;
    size_t table = nl->params.offset[0];
    a.poff[CLNORM_POFF_GAMMA] = (cl_uint)table; /* gamma (, alpha), beta = chunk(3 or 2) */
    a.poff[CLNORM_POFF_ALPHA] = (cl_uint)(table + c);
    a.poff[CLNORM_POFF_BETA] = (cl_uint)(table + (plus ? 2 : 1) * c);
    a.poff[CLNORM_POFF_LD] = (cl_uint)layer->width;
    a.poff[CLNORM_POFF_NCLASS] = (cl_uint)nl->dims[1].value; /* k */
    a.poff[CLNORM_POFF_LABEL0] = (cl_uint)(labels_offset / sizeof(cl_int));
    if (batch) {
        a.poff[CLNORM_POFF_MEAN] = (cl_uint)nl->params.offset[1];
        a.poff[CLNORM_POFF_VAR] = (cl_uint)nl->params.offset[2];
    }
    if (plus)
        return clnorm__norm_plus(nl, &a, num_wait, wait_list, event);
    if (layer->kind == CLNORM_CONDITIONAL_BATCH || layer->kind == CLNORM_CONDITIONAL_NONE)
        return clnorm__scale_enqueue(nl, &a, num_wait, wait_list, event);
    return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
}

clnorm_status clnorm_conditional_norm2d_label_errors(clnorm_conditional_norm2d *layer, int *clamped)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->nl.rt.ctx;
    if (!clamped)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT,
                            "conditional_norm2d_label_errors: clamped "
                            "is NULL");
    cl_event after = layer->nl.rt.last;
    cl_uint got = 0, zero = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clEnqueueReadBuffer,
            (ctx->queue, layer->flags, CL_TRUE, 0, sizeof got, &got, after ? 1 : 0,
             after ? &after : NULL, NULL));
    if (st == CLNORM_OK && got) /* the next forward waits for the queue's order */
        CL_CALL(ctx, st, clEnqueueWriteBuffer,
                (ctx->queue, layer->flags, CL_TRUE, 0, sizeof zero, &zero, 0, NULL, NULL));
    *clamped = st == CLNORM_OK && (got & CLNORM_FLAG_LABEL_RANGE) != 0;
    return st;
}
