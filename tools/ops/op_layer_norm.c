/* SPDX-License-Identifier: Apache-2.0 */
/* op_layer_norm.c: torch.nn.LayerNorm(D) over the last axis, described once (ops.h). */
#include <stdio.h>

#include "ops.h"
#include "reference.h"

enum { EPS, NO_AFFINE };
static const op_option options[] = {
    {"eps", OPT_REAL, 1e-5, NULL, "added to the variance (default 1e-5)"},
    {"no-affine", OPT_FLAG, 0, NULL, "elementwise_affine=False: no weight and bias"},
};

static int check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    (void)c, (void)shape;
    if (ndim < 1) {
        snprintf(err, err_size, "expected an array of rank >= 1 (LayerNorm is over the last axis)");
        return -1;
    }
    return 0;
}

static void view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                 size_t *inner)
{
    (void)c;
    *n = shape[ndim - 1];
    *outer = op_shape_count(shape, ndim) / *n;
    *inner = 1;
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    if (c->v[NO_AFFINE])
        return 0;
    return op_scale_shift(out, "weight", "bias", shape[ndim - 1], "D, the last axis of -i");
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    return clnorm_layer_norm_create(ctx, shape[ndim - 1], c->v[EPS],
                                    c->v[NO_AFFINE] ? CLNORM_NO_AFFINE : 0,
                                    (clnorm_layer_norm **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_affine_params p = {k->params[0], k->params[1], k->version};
    size_t d = k->ndim ? k->shape[k->ndim - 1] : 0;
    return clnorm_layer_norm_forward(layer, &p, d ? op_shape_count(k->shape, k->ndim) / d : 0,
                                     OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_layer_norm_destroy(layer); }

/* y = plain * weight[k] + bias[k] along the row. */
static double weights(const op_config *c, const op_data *d, size_t i, double plain, double centred,
                      double s, double *w, double *extra)
{
    (void)c, (void)centred, (void)s, (void)extra;
    return op_channel_affine(d, i % d->shape[d->ndim - 1], plain, w);
}

static op_rows rows_of(const op_config *c, const op_data *d)
{
    size_t n = d->shape[d->ndim - 1];
    return (op_rows){d->count / n, n, 1, c->v[EPS]};
}

OP_STANDARDISED(c->v[NO_AFFINE] ? NULL : weights)

static const op_case bench[] = {
    {"rows", {{1e-5, 0}, 0}, 3, {8, 128, 512}, 1},
    {"rows", {{1e-5, 0}, 0}, 3, {8, 8192, 1024}, 0},
};

static const op_case tests[] = {
    {"rows", {{1e-5, 0}, 0}, 3, {2, 3, 8}, 0}, {"rows", {{1e-5, 0}, 0}, 2, {5, 17}, 0},
    {"rows", {{1e-6, 1}, 0}, 1, {65}, 0},      {"rows", {{1e-5, 0}, 0}, 3, {3, 2, 4097}, 0},
    {"rows", {{1e-5, 0}, 0}, 2, {145, 33}, 0}, {"rows", {{1e-5, 0}, 0}, 2, {2, 1}, 0},
};

const op_desc op_layer_norm = {
    .name = "LayerNorm",
    .formula = "torch.nn.LayerNorm(D) over the last axis: per row of D elements,\n"
               "y = (x - mean) / sqrt(var_b + eps) * weight + bias, var_b the biased variance.\n"
               "IN has any shape (..., D); reads weight and bias (D,) (default 1 and 0).",
    OP_ARRAY(options, options),
    OP_DEFAULTS,
};
