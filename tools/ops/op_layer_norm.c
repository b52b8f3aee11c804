/* SPDX-License-Identifier: Apache-2.0 */
/* op_layer_norm.c: torch.nn.LayerNorm(D) over the last axis, described once (ops.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
    op_param w = {"weight", PARAM_SCALE, 1, {shape[ndim - 1]}, "D, the last axis of -i", NULL};
    op_param b = {"bias", PARAM_SHIFT, 1, {shape[ndim - 1]}, "D, the last axis of -i", NULL};
    out[0] = w;
    out[1] = b;
    return 2;
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
                                     k->in, k->in_off, k->out, k->out_off, k->num_wait,
                                     k->wait_list, event);
}

static void destroy(void *layer) { clnorm_layer_norm_destroy(layer); }

/* Per row: m = mean, s = sqrt(var_b + eps); y = (x - m) / s * w[k] + b[k].
 * plain (y before the affine step), m and s are kept for the tolerance. */
static void standardise(const op_config *c, const op_data *d, double *y, double *plain, double *m,
                        double *s)
{
    size_t outer, n, inner;
    view(c, d->shape, d->ndim, &outer, &n, &inner);
    ref_standardise(d->x, outer, n, 1, c->v[EPS], plain, m, s);
    for (size_t i = 0; i < d->count; ++i)
        y[i] = c->v[NO_AFFINE] ? plain[i] : plain[i] * d->params[0][i % n] + d->params[1][i % n];
}

static void reference(const op_config *c, const op_data *d, double *y, double *const *st)
{
    (void)st;
    size_t n = d->shape[d->ndim - 1], rows = d->count / n;
    double *plain = malloc(d->count * sizeof *plain), *m = malloc(rows * sizeof *m),
           *s = malloc(rows * sizeof *s);
    standardise(c, d, y, plain, m, s);
    free(plain), free(m), free(s);
}

static void tolerance(const op_config *c, const op_data *d, const double *y, double *const *st,
                      double *tol, double *const *tol_st)
{
    (void)st, (void)tol_st;
    size_t n = d->shape[d->ndim - 1], rows = d->count / n;
    double *yy = malloc(d->count * sizeof *yy), *plain = malloc(d->count * sizeof *plain),
           *m = malloc(rows * sizeof *m), *s = malloc(rows * sizeof *s);
    standardise(c, d, yy, plain, m, s);
    tol_revin_y(plain, m, s, rows, n, 1, tol);
    if (!c->v[NO_AFFINE])
        for (size_t i = 0; i < d->count; ++i)
            tol[i] = tol_affine(tol[i], plain[i], d->params[0][i % n], y[i]);
    free(yy), free(plain), free(m), free(s);
}

static const op_case bench[] = {
    {"rows", {{1e-5, 0}}, 3, {8, 128, 512}, 1},
    {"rows", {{1e-5, 0}}, 3, {8, 8192, 1024}, 0},
};

static const op_case tests[] = {
    {"rows", {{1e-5, 0}}, 3, {2, 3, 8}, 0}, {"rows", {{1e-5, 0}}, 2, {5, 17}, 0},
    {"rows", {{1e-6, 1}}, 1, {65}, 0},      {"rows", {{1e-5, 0}}, 3, {3, 2, 4097}, 0},
    {"rows", {{1e-5, 0}}, 2, {145, 33}, 0}, {"rows", {{1e-5, 0}}, 2, {2, 1}, 0},
};

const op_desc op_layer_norm = {
    .name = "LayerNorm",
    .formula = "torch.nn.LayerNorm(D) over the last axis: per row of D elements,\n"
               "y = (x - mean) / sqrt(var_b + eps) * weight + bias, var_b the biased variance.\n"
               "IN has any shape (..., D); reads weight and bias (D,) (default 1 and 0).",
    OP_ARRAY(options, options),
    OP_DEFAULTS,
};
