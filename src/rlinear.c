/* SPDX-License-Identifier: Apache-2.0 */
/* rlinear.c: RLinear (RTSF's models/RLinear.py), a whole model as one call
 * chain on the device: the forecasting RevIN's norm into a scratch buffer,
 * the Linear over time into the output, RevIN's denorm in place there. Each
 * step waits for the one before through its event; nothing waits on the
 * host. */
#include "clnorm_int.h"

struct clnorm_rlinear {
    clnorm__layer rt;  /* first: the context and the chain's last command */
    clnorm_revin *rev; /* NULL with CLNORM_RLINEAR_NO_REV */
    clnorm_linear *linear;
    size_t l, h, d;
    cl_mem scratch; /* RevIN's output, the Linear's input: B * L * D floats */
    size_t scratch_bytes;
};

#define RLINEAR_EPS 1e-5 /* RTSF's RevIN default, which RLinear keeps */

void clnorm_rlinear_destroy(clnorm_rlinear *layer)
{
    if (!layer)
        return;
    clnorm_revin_destroy(layer->rev);
    clnorm_linear_destroy(layer->linear);
    clnorm__release_mem(layer->scratch);
    clnorm__layer_free(layer);
}

clnorm_status clnorm_rlinear_create(clnorm_context *ctx, size_t l, size_t h, size_t d,
                                    unsigned flags, clnorm_rlinear **out)
{
    clnorm_rlinear *layer;
    const clnorm__create_args args = {.fn = "rlinear_create",
                                      .dims = {{"l", l}, {"h", h}, {"d", d}},
                                      .flags = flags,
                                      .known = CLNORM_RLINEAR_INDIVIDUAL | CLNORM_RLINEAR_NO_REV};
    if (ctx && out) {
        *out = NULL;
        RETURN_IF_ERROR(clnorm__check_create_args(ctx, &args));
    }
    RETURN_IF_ERROR(clnorm__layer_new(ctx, "rlinear_create", sizeof *layer, out, (void **)&layer));
    layer->l = l;
    layer->h = h;
    layer->d = d;
    unsigned lf = (flags & CLNORM_RLINEAR_INDIVIDUAL) ? CLNORM_LINEAR_INDIVIDUAL : 0;
    clnorm_status st = clnorm_linear_create(ctx, CLNORM_LINEAR_TIME, l, h, d, lf, &layer->linear);
    if (st == CLNORM_OK && !(flags & CLNORM_RLINEAR_NO_REV))
        st = clnorm_revin_forecast_create(ctx, d, RLINEAR_EPS, CLNORM_REVIN_AFFINE, &layer->rev);
    if (st != CLNORM_OK) {
        clnorm_rlinear_destroy(layer);
        return st;
    }
    *out = layer;
    return CLNORM_OK;
}

clnorm_status clnorm_rlinear_forward(clnorm_rlinear *layer, const clnorm_rlinear_params *params,
                                     size_t b, cl_mem input, size_t input_offset, cl_mem output,
                                     size_t output_offset, cl_uint num_wait,
                                     const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm_context *ctx = layer->rt.ctx;
    const char *fn = "rlinear_forward";
    if (!params || !params->weight || !params->bias ||
        (layer->rev && (!params->affine_weight || !params->affine_bias)))
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s: params need weight and bias%s", fn,
                            layer->rev ? ", affine_weight and affine_bias" : "");
    if (!b)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: B is 0", fn);
    size_t rows, in_count, out_count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, layer->d, &rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, layer->l, &in_count));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, layer->h, &out_count));
    RETURN_IF_ERROR(clnorm__layer_check_product(&layer->rt, fn, input, input_offset, in_count,
                                                output, output_offset, out_count, num_wait,
                                                wait_list));
    clnorm_linear_params lp = {params->weight, params->bias, params->version};
    clnorm_revin_params rp = {params->affine_weight, params->affine_bias, params->version};
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(clnorm__layer_waits(&layer->rt, num_wait, wait_list, &nw, &waits));
    if (!layer->rev) {
        cl_event done = NULL;
        RETURN_IF_ERROR(clnorm_linear_forward(layer->linear, &lp, b, layer->d, input, input_offset,
                                              output, output_offset, nw, waits, &done));
        clnorm__live(1); /* the linear handed out a reference: now the chain's */
        return clnorm__layer_hand_out(&layer->rt, done, event);
    }
    RETURN_IF_ERROR(clnorm__buffer_reserve(ctx, "the RLinear scratch (RevIN's output)",
                                           in_count * sizeof(float), &layer->scratch,
                                           &layer->scratch_bytes));
    cl_event normed = NULL, product = NULL, done = NULL;
    clnorm_status st = clnorm_revin_forward(layer->rev, &rp, b, layer->l, input, input_offset,
                                            layer->scratch, 0, nw, waits, &normed);
    if (st == CLNORM_OK)
        clnorm__live(1);
    if (st == CLNORM_OK)
        st = clnorm_linear_forward(layer->linear, &lp, b, layer->d, layer->scratch, 0, output,
                                   output_offset, 1, &normed, &product);
    if (st == CLNORM_OK)
        clnorm__live(1);
    if (st == CLNORM_OK)
        st = clnorm_revin_inverse(layer->rev, &rp, b, layer->h, output, output_offset, output,
                                  output_offset, 1, &product, &done);
    if (st == CLNORM_OK)
        clnorm__live(1);
    clnorm__release_event(normed);
    clnorm__release_event(product);
    RETURN_IF_ERROR(st);
    return clnorm__layer_hand_out(&layer->rt, done, event);
}

uint64_t clnorm_rlinear_upload_count(const clnorm_rlinear *layer)
{
    return layer ? clnorm_linear_upload_count(layer->linear) + clnorm_revin_upload_count(layer->rev)
                 : 0;
}
