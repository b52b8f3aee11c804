/* SPDX-License-Identifier: Apache-2.0 */
/* linear.c: nn.Linear, ESPnet's TransposedLinear and RLinear's Linear over
 * the time axis: the product by CLBlast (blas.c), then the bias added in
 * place by clnorm's linear_bias kernel. */
#include "clnorm_int.h"

struct clnorm_linear {
    clnorm__norm nl; /* first: the runtime, the bias kernel, weight and bias */
    clnorm_linear_form form;
    size_t u, v, d; /* in and out features; channels (individual) or 0 */
};

clnorm_status clnorm_linear_create(clnorm_context *ctx, clnorm_linear_form form, size_t in_features,
                                   size_t out_features, size_t channels, unsigned flags,
                                   clnorm_linear **out)
{
    int individual = (flags & CLNORM_LINEAR_INDIVIDUAL) != 0;
    if (out)
        *out = NULL;
    if (ctx && (unsigned)form > CLNORM_LINEAR_TIME)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "linear_create: form %d is not one of "
                            "CLNORM_LINEAR_LAST, _TRANSPOSED, _TIME",
                            (int)form);
    if (ctx && individual && form != CLNORM_LINEAR_TIME)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "linear_create: CLNORM_LINEAR_INDIVIDUAL needs CLNORM_LINEAR_TIME");
    const clnorm__create_args args = {
        .fn = "linear_create",
        .dims = {{"in_features", in_features},
                 {"out_features", out_features},
                 {individual ? "channels" : NULL, individual ? channels : 1}},
        .flags = flags,
        .known = CLNORM_LINEAR_INDIVIDUAL};
    size_t per = individual ? channels : 1, counts[2] = {0, 0};
    clnorm_linear *layer;
    if (ctx && in_features && out_features && per) { /* else the checks below refuse them */
        RETURN_IF_ERROR(clnorm__mul_size(ctx, in_features, out_features, &counts[0]));
        RETURN_IF_ERROR(clnorm__mul_size(ctx, counts[0], per, &counts[0]));
        counts[1] = out_features * per; /* <= counts[0] */
    }
    RETURN_IF_ERROR(
        clnorm__norm_create(ctx, &args, sizeof *layer, 1, 2, counts, out, (void **)&layer));
    layer->form = form;
    layer->u = in_features;
    layer->v = out_features;
    layer->d = individual ? channels : 0;
    /* the routine's kernels compiled now, not in the first forward */
    clnorm_status st = clnorm__gemm_prepare(ctx, form == CLNORM_LINEAR_LAST ? 1 : 2);
    if (st != CLNORM_OK) {
        clnorm__norm_free(&layer->nl);
        *out = NULL;
    }
    return st;
}

CLNORM__NORM_LAYER_COMMON(linear)

/* The products of a forward, enqueued after `waits`; *done covers them all. */
static clnorm_status enqueue_products(clnorm_linear *layer, size_t batch, size_t length, cl_mem in,
                                      size_t in_off, cl_mem out, size_t out_off, cl_uint nw,
                                      const cl_event *waits, cl_event *done)
{
    clnorm_context *ctx = layer->nl.rt.ctx;
    cl_mem w = layer->nl.params.mem;
    size_t w_off = layer->nl.params.offset[0], u = layer->u, v = layer->v;
    if (layer->form == CLNORM_LINEAR_LAST) { /* Y (R, V) = X (R, U) W^T */
        clnorm__gemm g = {0, 1,     batch, v, u,   in,      in_off, u, 0,
                          w, w_off, u,     0, out, out_off, v,      0, 1};
        return clnorm__gemm_enqueue(ctx, &g, nw, waits, done);
    }
    if (!layer->d) { /* Y_b (V, L) = W (V, U) X_b (U, L), W shared by the batch */
        clnorm__gemm g = {0,  0,      v,      length,     u,   w,       w_off,  u,          0,
                          in, in_off, length, u * length, out, out_off, length, v * length, batch};
        return clnorm__gemm_enqueue(ctx, &g, nw, waits, done);
    }
    /* One per channel c: y[b, :, c] = W_c x[b, :, c], columns of stride D,
     * the batch in one call; the first call's barrier holds back the rest. */
    size_t d = layer->d;
    *done = NULL;
    for (size_t c = 0; c < d; ++c) {
        clnorm__gemm g = {0,           0, v,     1,          u, w,     w_off + c * v * u,
                          u,           0, in,    in_off + c, d, u * d, out,
                          out_off + c, d, v * d, batch};
        cl_event e = NULL;
        clnorm_status st = clnorm__gemm_enqueue(ctx, &g, c ? 0 : nw, c ? NULL : waits, &e);
        if (st != CLNORM_OK)
            return st; /* *done, the last marker so far, released by the caller */
        clnorm__release_event(*done);
        *done = e; /* a marker: it covers every command before it */
    }
    return CLNORM_OK;
}

clnorm_status clnorm_linear_forward(clnorm_linear *layer, const clnorm_linear_params *params,
                                    size_t batch, size_t length, cl_mem input, size_t input_offset,
                                    cl_mem output, size_t output_offset, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event)
{
    if (!layer)
        return CLNORM_NULL_ARGUMENT;
    clnorm__norm *nl = &layer->nl;
    clnorm_context *ctx = nl->rt.ctx;
    const char *fn = "linear_forward";
    if (!params || !params->weight || !params->bias)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s: params need weight and bias", fn);
    if (!batch || !length)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: batch = %zu, length = %zu has a zero", fn,
                            batch, length);
    if (layer->form == CLNORM_LINEAR_LAST && length != 1)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "%s: length is %zu; the last-axis form takes 1 (batch = the rows)", fn,
                            length);
    if (layer->d && length != layer->d)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "%s: length (D) = %zu but the layer has one Linear for each of %zu "
                            "channels",
                            fn, length, layer->d);
    size_t rows, in_count, out_count;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, batch, length, &rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, layer->u, &in_count));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, layer->v, &out_count));
    RETURN_IF_ERROR(clnorm__layer_check_product(&nl->rt, fn, input, input_offset, in_count, output,
                                                output_offset, out_count, num_wait, wait_list));
    const float *host[2] = {params->weight, params->bias};
    RETURN_IF_ERROR(clnorm__params_sync(ctx, &nl->params, host, params->version));
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(clnorm__layer_waits(&nl->rt, num_wait, wait_list, &nw, &waits));
    cl_event products = NULL;
    clnorm_status st =
        enqueue_products(layer, batch, length, input, input_offset / sizeof(float), output,
                         output_offset / sizeof(float), nw, waits, &products);
    if (st == CLNORM_OK) {
        /* the bias in place on the output's view [batch][V][length] */
        clnorm__view view = {batch, layer->v, length};
        clnorm__args a = clnorm__args_of(view, output, output_offset, output, output_offset,
                                         CLNORM_FIN_AFFINE | CLNORM_OP_BETA, 0.0, layer->d ? 2 : 1);
        a.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
        st = clnorm__items_enqueue(nl, CLNORM_K_BIAS, batch * layer->v, &a, 1, &products, event);
    }
    clnorm__release_event(products);
    return st;
}
