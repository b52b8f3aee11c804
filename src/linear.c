/* SPDX-License-Identifier: Apache-2.0 */
/* linear.c: nn.Linear, ESPnet's TransposedLinear and RLinear's Linear over
 * the time axis: the product by CLBlast (blas.c), then the bias added in
 * place by clnorm's linear_bias kernel. One Linear per channel (RLinear's
 * individual) is one strided batched product over the channels on x
 * transposed to (B, D, L), its (B, D, H) result transposed back with the
 * bias (linear_transpose): CLBlast has no product over columns of stride D,
 * and one call per channel of a one-column product ran 10x slower. */
#include "clnorm_int.h"

struct clnorm_linear {
    clnorm__norm nl; /* first: the runtime, the bias kernel, weight and bias */
    clnorm_linear_form form;
    size_t u, v, d; /* in and out features; channels (individual) or 0 */
    cl_mem xt, yt;  /* individual: x as (B, D, L), y as (B, D, H); grown, never shrunk */
    size_t xt_bytes, yt_bytes;
    float *wt; /* the last-axis form: weight^T (U, V), what the device holds */
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
    /* x W^T as x (W^T): CLBlast's kernels for two untransposed operands ran
     * 2-3x faster on small products (its direct GEMM); W^T made at each
     * upload, on the host */
    if (form == CLNORM_LINEAR_LAST && !(layer->wt = clnorm__malloc(counts[0] * sizeof(float)))) {
        clnorm__norm_free(&layer->nl);
        *out = NULL;
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "linear_create: %zu floats for weight^T",
                            counts[0]);
    }
    /* the routine's kernels compiled now, not in the first forward */
    clnorm_status st = clnorm__gemm_prepare(ctx, form == CLNORM_LINEAR_LAST ? 1 : 2);
    if (st != CLNORM_OK) {
        clnorm_linear_destroy(layer);
        *out = NULL;
    }
    return st;
}

void clnorm_linear_destroy(clnorm_linear *layer)
{
    if (!layer)
        return;
    clnorm__release_mem(layer->xt);
    clnorm__release_mem(layer->yt);
    clnorm__free(layer->wt);
    clnorm__norm_free(&layer->nl);
}

uint64_t clnorm_linear_upload_count(const clnorm_linear *layer)
{
    return layer ? layer->nl.params.uploads : 0;
}

/* One Linear per channel, after the caller's wait list (the layer's last
 * command added by the transpose's launch): x (B, L, D) transposed into xt, the product of
 * each channel's rows, xt's (B, L) at stride D L by W_c^T, into yt (B, D,
 * H); then (in clnorm_linear_forward) yt transposed into y with the bias. */
static clnorm_status enqueue_individual(clnorm_linear *layer, size_t batch, cl_mem in,
                                        size_t in_off, cl_uint nw, const cl_event *waits,
                                        cl_event *done)
{
    clnorm__norm *nl = &layer->nl;
    clnorm_context *ctx = nl->rt.ctx;
    size_t u = layer->u, v = layer->v, d = layer->d;
    RETURN_IF_ERROR(clnorm__buffer_reserve(ctx, "the Linear's transposed input",
                                           batch * d * u * sizeof(float), &layer->xt,
                                           &layer->xt_bytes));
    RETURN_IF_ERROR(clnorm__buffer_reserve(ctx, "the Linear's transposed output",
                                           batch * d * v * sizeof(float), &layer->yt,
                                           &layer->yt_bytes));
    clnorm__view to_bdl = {batch, d, u}; /* xt[b][c][l] = x[b][l][c] */
    clnorm__args a = clnorm__args_of(to_bdl, in, in_off * sizeof(float), layer->xt, 0,
                                     CLNORM_FIN_AFFINE, 0.0, 1);
    cl_event transposed = NULL;
    RETURN_IF_ERROR(
        clnorm__items_enqueue(nl, CLNORM_K_TRANSPOSE, batch * d, &a, nw, waits, &transposed));
    clnorm__live(1); /* the reference handed out: ours to release */
    clnorm__gemm g = {
        0, 1,     batch,     v, u,     layer->xt, 0, d * u, u, nl->params.mem, nl->params.offset[0],
        u, v * u, layer->yt, 0, d * v, v,         d};
    clnorm_status st = clnorm__gemm_enqueue(ctx, &g, 1, &transposed, done);
    clnorm__release_event(transposed);
    return st;
}

/* The product of the shared forms, enqueued after `waits` (the caller's
 * and the layer's last); *done covers it all. */
static clnorm_status enqueue_products(clnorm_linear *layer, size_t batch, size_t length, cl_mem in,
                                      size_t in_off, cl_mem out, size_t out_off, cl_uint nw,
                                      const cl_event *waits, cl_event *done)
{
    clnorm_context *ctx = layer->nl.rt.ctx;
    cl_mem w = layer->nl.params.mem;
    size_t w_off = layer->nl.params.offset[0], u = layer->u, v = layer->v;
    if (layer->form == CLNORM_LINEAR_LAST) { /* Y (R, V) = X (R, U) W^T, W^T held */
        clnorm__gemm g = {0, 0,     batch, v, u,   in,      in_off, u, 0,
                          w, w_off, v,     0, out, out_off, v,      0, 1};
        return clnorm__gemm_enqueue(ctx, &g, nw, waits, done);
    }
    /* Y_b (V, L) = W (V, U) X_b (U, L), W shared by the batch */
    clnorm__gemm g = {0,  0,      v,      length,     u,   w,       w_off,  u,          0,
                      in, in_off, length, u * length, out, out_off, length, v * length, batch};
    return clnorm__gemm_enqueue(ctx, &g, nw, waits, done);
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
    if (layer->wt) { /* the last-axis form holds W^T: made when an upload is due */
        if (!nl->params.synced || nl->params.version != params->version)
            for (size_t r = 0; r < layer->v; ++r)
                for (size_t c = 0; c < layer->u; ++c)
                    layer->wt[c * layer->v + r] = params->weight[r * layer->u + c];
        host[0] = layer->wt;
    }
    RETURN_IF_ERROR(clnorm__params_sync(ctx, &nl->params, host, params->version));
    cl_event products = NULL;
    clnorm_status st;
    if (layer->d) {
        st = enqueue_individual(layer, batch, input, input_offset / sizeof(float), num_wait,
                                wait_list, &products);
    } else {
        cl_uint nw;
        const cl_event *waits;
        RETURN_IF_ERROR(clnorm__layer_waits(&nl->rt, num_wait, wait_list, &nw, &waits));
        st = enqueue_products(layer, batch, length, input, input_offset / sizeof(float), output,
                              output_offset / sizeof(float), nw, waits, &products);
    }
    if (st == CLNORM_OK) {
        /* the bias on the output's view [batch][V][length]: in place, or
         * (individual) with yt (B, D, V) transposed into it */
        clnorm__view view = {batch, layer->v, length};
        cl_mem from = layer->d ? layer->yt : output;
        clnorm__args a = clnorm__args_of(view, from, layer->d ? 0 : output_offset, output,
                                         output_offset, CLNORM_FIN_AFFINE | CLNORM_OP_BETA, 0.0, 1);
        a.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
        st = clnorm__items_enqueue(nl, layer->d ? CLNORM_K_TRANSPOSE : CLNORM_K_BIAS,
                                   batch * layer->v, &a, 1, &products, event);
    }
    clnorm__release_event(products);
    return st;
}
