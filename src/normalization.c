/* SPDX-License-Identifier: Apache-2.0 */
/* normalization.c: ESPnet's Normalization(D, transposed, _name_)
 * (state_spaces/components.py) on (B, L, D), or (B, D, L) transposed: a
 * LayerNorm over D (TransposedLN when transposed), an instance norm over L,
 * an eval-mode batch norm, a GroupNorm(1, D) or the identity, each as the
 * view and op word of the norm kernels that compute it. */
#include "clnorm_int.h"

struct clnorm_normalization {
    clnorm__norm nl; /* first: the runtime, flags, d, kernels and the kind's parameters */
    clnorm_normalization_kind kind;
};

/* The parameter arrays of each kind, in the order of the params struct:
 * weight, bias, running_mean, running_var (TransposedLN: s, m of one float). */
static unsigned arrays_of(clnorm_normalization_kind kind)
{
    switch (kind) {
    case CLNORM_NORMALIZATION_LAYER:
    case CLNORM_NORMALIZATION_GROUP: return 2;
    case CLNORM_NORMALIZATION_BATCH: return 4;
    default: return 0;
    }
}

clnorm_status clnorm_normalization_create(clnorm_context *ctx, size_t d,
                                          clnorm_normalization_kind kind, unsigned flags,
                                          clnorm_normalization **out)
{
    clnorm_normalization *layer;
    const clnorm__create_args args = {.fn = "normalization_create",
                                      .dims = {{"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_TRANSPOSED};
    if (out && (kind < CLNORM_NORMALIZATION_LAYER || kind > CLNORM_NORMALIZATION_NONE)) {
        *out = NULL;
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "normalization_create: unknown kind %d",
                            (int)kind);
    }
    int tln = kind == CLNORM_NORMALIZATION_LAYER && (flags & CLNORM_TRANSPOSED);
    size_t each = tln ? 1 : d, counts[4] = {each, each, d, d};
    RETURN_IF_ERROR(clnorm__norm_create(ctx, &args, sizeof *layer, 1, arrays_of(kind), counts, out,
                                        (void **)&layer));
    layer->kind = kind;
    return CLNORM_OK;
}

CLNORM__NORM_LAYER_COMMON(normalization)

/* What each kind needs in its params, for the message when one is missing. */
static const char *need_of(clnorm_normalization_kind kind, int transposed)
{
    if (kind == CLNORM_NORMALIZATION_BATCH)
        return "weight, bias, running_mean and running_var (norm.*)";
    if (kind == CLNORM_NORMALIZATION_LAYER && transposed)
        return "weight and bias (the TransposedLN's norm.s and norm.m)";
    return "weight and bias (norm.weight, norm.bias)";
}

clnorm_status clnorm_normalization_forward(clnorm_normalization *layer,
                                           const clnorm_normalization_params *params, size_t b,
                                           size_t l, cl_mem input, size_t input_offset,
                                           cl_mem output, size_t output_offset, cl_uint num_wait,
                                           const cl_event *wait_list, cl_event *event)
{
    clnorm__norm *nl = layer ? &layer->nl : NULL;
    size_t count;
    RETURN_IF_ERROR(clnorm__norm_check_bdl(nl, "normalization_forward", b, l, &count));
    size_t d = nl->dims[0].value;
    int t = (nl->flags & CLNORM_TRANSPOSED) != 0;
    const float *host[4] = {params ? params->weight : NULL, params ? params->bias : NULL,
                            params ? params->running_mean : NULL,
                            params ? params->running_var : NULL};
    RETURN_IF_ERROR(clnorm__norm_begin(nl, "normalization_forward", need_of(layer->kind, t), host,
                                       params ? params->version : 0, input, input_offset, output,
                                       output_offset, count, num_wait, wait_list));
    /* rows over L: (b, d) columns of (B, L, D), or contiguous rows of (B, D, L) */
    clnorm__view over_l = t ? (clnorm__view){b * d, l, 1} : (clnorm__view){b, l, d};
    clnorm__args a;
    switch (layer->kind) {
    case CLNORM_NORMALIZATION_NONE:
        return clnorm__norm_copy(nl, count, input, input_offset, output, output_offset, num_wait,
                                 wait_list, event);
    case CLNORM_NORMALIZATION_GROUP: { /* GroupNorm(1, D): per b over all, then by channel d */
        /* transposed, channel d is the segment of L elements at d * L;
         * else the element k's is k % D */
        clnorm__channels ch = {1, t ? l : 0, t ? 0 : d, d, over_l};
        return clnorm__norm_by_channel(nl, (clnorm__view){b, l * d, 1}, 1e-5, 1, &ch, input,
                                       input_offset, output, output_offset, num_wait, wait_list,
                                       event);
    }
    case CLNORM_NORMALIZATION_BATCH: /* eval mode: running statistics by channel d */
        RETURN_IF_ERROR(clnorm__norm_use_width(nl, over_l.inner));
        a = clnorm__args_of(over_l, input, input_offset, output, output_offset,
                            CLNORM_FIN_FIXED | CLNORM_OP_GAMMA | CLNORM_OP_BETA, 1e-5, d);
        for (int i = 0; i < 4; ++i) /* GAMMA, BETA, MEAN, VAR are 0..3 */
            a.poff[CLNORM_POFF_GAMMA + i] = (cl_uint)nl->params.offset[i];
        return clnorm__scale_enqueue(nl, &a, num_wait, wait_list, event);
    case CLNORM_NORMALIZATION_INSTANCE:
        RETURN_IF_ERROR(clnorm__norm_use_width(nl, over_l.inner));
        a = clnorm__args_of(over_l, input, input_offset, output, output_offset, CLNORM_FIN_STANDARD,
                            1e-5, 1);
        return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
    default:     /* LAYER */
        if (t) { /* TransposedLN(D), scalar: over D for each (b, l), no epsilon */
            RETURN_IF_ERROR(clnorm__norm_use_width(nl, l));
            a = clnorm__args_of((clnorm__view){b, d, l}, input, input_offset, output, output_offset,
                                CLNORM_FIN_TLN | CLNORM_OP_GAMMA | CLNORM_OP_BETA, 0.0, 1);
            a.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[0];
            a.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
        } else { /* nn.LayerNorm(D) over the last axis */
            RETURN_IF_ERROR(clnorm__norm_use_width(nl, 1));
            a = clnorm__args_of((clnorm__view){b * l, d, 1}, input, input_offset, output,
                                output_offset, CLNORM_FIN_STANDARD | CLNORM_OP_AXIS, 1e-5, 1);
            a.poff[CLNORM_POFF_AXW] = (cl_uint)nl->params.offset[0];
            a.poff[CLNORM_POFF_AXB] = (cl_uint)nl->params.offset[1];
        }
        return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
    }
}
