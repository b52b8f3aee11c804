/* SPDX-License-Identifier: Apache-2.0 */
/* op_conditional.c: ESPnet's conditional NCHW classes (ConditionalVariance-,
 * ConditionalInstance-, ConditionalBatch-, ConditionalNoneNorm2d and
 * ConditionalInstanceNorm2dPlus), each described once (ops.h); they share
 * everything but their kind. */
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "reference.h"

enum { NO_BIAS };
static const op_option options[] = {
    {"no-bias", OPT_FLAG, 0, NULL, "bias=False: no beta; embed.weight is (K, C)"},
};

static int has_bias(clnorm_conditional_kind kind, const op_config *c)
{
    return kind != CLNORM_CONDITIONAL_VARIANCE && !c->v[NO_BIAS];
}

static size_t params_of(clnorm_conditional_kind kind, const op_config *c, const size_t *shape,
                        op_param *out)
{
    size_t n = 0, ch = shape[1];
    if (kind == CLNORM_CONDITIONAL_BATCH) {
        op_param m = {"bn.running_mean", PARAM_SHIFT, 1, {ch}, "C of -i", NULL};
        op_param v = {"bn.running_var", PARAM_VARIANCE, 1, {ch}, "C of -i", NULL};
        out[n++] = m, out[n++] = v;
    }
    int bias = has_bias(kind, c), plus = kind == CLNORM_CONDITIONAL_INSTANCE_PLUS;
    static const char *const docs[] = {"(K, C), C of -i", "(K, 2C), C of -i", "(K, 3C), C of -i"};
    size_t chunks = (plus ? 2 : 1) + (bias ? 1 : 0);
    op_param e = {"embed.weight",   PARAM_TABLE, 2, {op_classes(c), chunks * ch},
                  docs[chunks - 1], NULL};
    out[n++] = e;
    return n;
}

static clnorm_status create_of(clnorm_conditional_kind kind, clnorm_context *ctx,
                               const op_config *c, const size_t *shape, void **layer)
{
    return clnorm_conditional_norm2d_create(
        ctx, kind, shape[1], op_classes(c),
        has_bias(kind, c) || kind == CLNORM_CONDITIONAL_VARIANCE ? 0 : CLNORM_NO_BIAS,
        (clnorm_conditional_norm2d **)layer);
}

static clnorm_status run_of(clnorm_conditional_kind kind, void *layer, const op_call *k,
                            cl_event *event)
{
    int batch = kind == CLNORM_CONDITIONAL_BATCH;
    clnorm_conditional_params p = {batch ? k->params[2] : k->params[0], batch ? k->params[0] : NULL,
                                   batch ? k->params[1] : NULL, k->version};
    return clnorm_conditional_norm2d_forward(layer, &p, k->labels, k->labels_off, k->shape[0],
                                             k->shape[1], k->shape[2], k->shape[3],
                                             OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_conditional_norm2d_destroy(layer); }

/* Per element: plain (the normalised x before the class's scale), g and
 * beta of its sample's class; s the divisor for the tolerance. */
static void compute(clnorm_conditional_kind kind, const op_config *c, const op_data *d, double *y,
                    double *plain, double *m, double *s)
{
    size_t ch = d->shape[1], plane = d->shape[2] * d->shape[3], rows = d->shape[0] * ch;
    int batch = kind == CLNORM_CONDITIONAL_BATCH, bias = has_bias(kind, c);
    const float *table = d->params[batch ? 2 : 0];
    size_t width = bias ? 2 * ch : ch;
    if (kind == CLNORM_CONDITIONAL_INSTANCE)
        ref_standardise(d->x, rows, plane, 1, 1e-5, plain, m, s);
    for (size_t r = 0; r < rows; ++r) {
        size_t cc = r % ch;
        const float *row = table + (size_t)d->labels[r / ch] * width;
        double g = row[cc], beta = bias ? row[ch + cc] : 0.0;
        if (kind == CLNORM_CONDITIONAL_VARIANCE) {
            double mu, m2;
            ref_row_moments(d->x, plane, 1, r * plane, &mu, &m2);
            m[r] = 0.0;
            s[r] = sqrt(m2 / (double)(plane - 1) + 1e-5); /* plane == 1: NaN, as torch.var */
        } else if (batch) {
            m[r] = d->params[0][cc];
            s[r] = sqrt((double)d->params[1][cc] + 1e-5);
        } else if (kind == CLNORM_CONDITIONAL_NONE) {
            m[r] = 0.0, s[r] = 1.0;
        }
        for (size_t k = 0; k < plane; ++k) {
            size_t i = r * plane + k;
            if (kind != CLNORM_CONDITIONAL_INSTANCE)
                plain[i] = (d->x[i] - m[r]) / s[r];
            y[i] = g * plain[i] + beta;
        }
    }
}

/* ConditionalInstanceNorm2dPlus: gamma, alpha (, beta) = embed.weight[y[n]].chunk(3 or 2). */
static void plus_params(const op_config *c, const op_data *d, size_t n, size_t ch, double *gamma,
                        double *alpha, double *beta)
{
    size_t cc = d->shape[1], width = (c->v[NO_BIAS] ? 2 : 3) * cc;
    const float *row = d->params[0] + (size_t)d->labels[n] * width;
    *gamma = row[ch];
    *alpha = row[cc + ch];
    *beta = c->v[NO_BIAS] ? 0.0 : row[2 * cc + ch];
}

static void reference_of(clnorm_conditional_kind kind, const op_config *c, const op_data *d,
                         double *y)
{
    if (kind == CLNORM_CONDITIONAL_INSTANCE_PLUS) {
        op_plus(c, d, plus_params, y, NULL, NULL);
        return;
    }
    size_t rows = d->shape[0] * d->shape[1];
    double *plain = malloc(d->count * sizeof *plain), *m = malloc(rows * sizeof *m),
           *s = malloc(rows * sizeof *s);
    compute(kind, c, d, y, plain, m, s);
    free(plain), free(m), free(s);
}

/* PyTorch rounds each step: the standardising error (tol_revin_y: the
 * rounding of the centre, then of the quotient) scaled by g, then the
 * product's and the sum's roundings, twice; ConditionalVarianceNorm2d and
 * ConditionalNoneNorm2d, a product or two of x: 4 ulps of y. */
static void tolerance_of(clnorm_conditional_kind kind, const op_config *c, const op_data *d,
                         const double *y, double *tol)
{
    size_t ch = d->shape[1], plane = d->shape[2] * d->shape[3], rows = d->shape[0] * ch;
    if (kind == CLNORM_CONDITIONAL_VARIANCE) {
        tol_relative(y, d->count, 4.0, tol);
        return;
    }
    if (kind == CLNORM_CONDITIONAL_INSTANCE_PLUS) {
        op_plus(c, d, plus_params, NULL, y, tol);
        return;
    }
    double *yy = malloc(d->count * sizeof *yy), *plain = malloc(d->count * sizeof *plain),
           *m = malloc(rows * sizeof *m), *s = malloc(rows * sizeof *s);
    compute(kind, c, d, yy, plain, m, s);
    int batch = kind == CLNORM_CONDITIONAL_BATCH, bias = has_bias(kind, c);
    const float *table = d->params[batch ? 2 : 0];
    size_t width = bias ? 2 * ch : ch;
    if (kind == CLNORM_CONDITIONAL_NONE)
        for (size_t i = 0; i < d->count; ++i)
            tol[i] = 0.0;
    else
        tol_revin_y(plain, m, s, rows, plane, 1, tol);
    for (size_t i = 0; i < d->count; ++i) {
        size_t r = i / plane;
        double g = table[(size_t)d->labels[r / ch] * width + r % ch];
        tol[i] = tol_affine(tol[i], plain[i], g, y[i]);
    }
    free(yy), free(plain), free(m), free(s);
}

static const op_case bench[] = OP_NCHW_BENCH;

/* Plane sizes around vector and work-group boundaries, with and without bias. */
static const op_case tests[] = {
    {"nchw", {{0}, 0}, 4, {3, 4, 3, 5}, 0},    {"nchw", {{1}, 0}, 4, {2, 3, 4, 4}, 0},
    {"nchw", {{0}, 0}, 4, {2, 3, 17, 241}, 0}, {"nchw", {{0}, 0}, 4, {7, 5, 2, 3}, 0},
    {"nchw", {{1}, 0}, 4, {2, 3, 1, 1}, 0},    {"nchw", {{0}, 0}, 4, {9, 4, 5, 7}, 0},
};

/* The functions that depend on the kind, for one op_desc. */
#define CONDITIONAL_OP(sym, KIND, NAME, FORMULA, OPTIONS)                                          \
    static size_t params_##sym(const op_config *c, const size_t *shape, size_t ndim,               \
                               op_param *out)                                                      \
    {                                                                                              \
        (void)ndim;                                                                                \
        return params_of(KIND, c, shape, out);                                                     \
    }                                                                                              \
    static clnorm_status create_##sym(clnorm_context *ctx, const op_config *c,                     \
                                      const size_t *shape, size_t ndim, void **layer)              \
    {                                                                                              \
        (void)ndim;                                                                                \
        return create_of(KIND, ctx, c, shape, layer);                                              \
    }                                                                                              \
    static clnorm_status run_##sym(const op_config *c, void *layer, const op_call *k,              \
                                   cl_event *event)                                                \
    {                                                                                              \
        (void)c;                                                                                   \
        return run_of(KIND, layer, k, event);                                                      \
    }                                                                                              \
    static void reference_##sym(const op_config *c, const op_data *d, double *y,                   \
                                double *const *st)                                                 \
    {                                                                                              \
        (void)st;                                                                                  \
        reference_of(KIND, c, d, y);                                                               \
    }                                                                                              \
    static void tolerance_##sym(const op_config *c, const op_data *d, const double *y,             \
                                double *const *st, double *tol, double *const *tol_st)             \
    {                                                                                              \
        (void)st, (void)tol_st;                                                                    \
        tolerance_of(KIND, c, d, y, tol);                                                          \
    }                                                                                              \
    const op_desc sym = {.name = NAME,                                                             \
                         .formula = FORMULA,                                                       \
                         .options = OPTIONS ? options : NULL,                                      \
                         .options_count = OPTIONS ? 1 : 0,                                         \
                         .check_shape = op_nchw_check_shape,                                       \
                         .view = op_nchw_view,                                                     \
                         .params = params_##sym,                                                   \
                         .labels = 1,                                                              \
                         .create = create_##sym,                                                   \
                         .run = run_##sym,                                                         \
                         .destroy = destroy,                                                       \
                         .reference = reference_##sym,                                             \
                         .tolerance = tolerance_##sym,                                             \
                         OP_ARRAY(bench, bench),                                                   \
                         OP_ARRAY(tests, tests)};

CONDITIONAL_OP(op_conditional_variance, CLNORM_CONDITIONAL_VARIANCE, "ConditionalVarianceNorm2d",
               "ESPnet's ConditionalVarianceNorm2d(C, K): g = embed.weight[y[n]],\n"
               "y = g[c] * x / sqrt(var_u + 1e-5), var_u the unbiased variance of each (n, c)\n"
               "plane. IN is (N, C, H, W); --labels Y.npy gives y (N,), each in [0, K).",
               0)
CONDITIONAL_OP(op_conditional_instance, CLNORM_CONDITIONAL_INSTANCE, "ConditionalInstanceNorm2d",
               "ESPnet's ConditionalInstanceNorm2d(C, K): h = (x - mean) / sqrt(var_b + 1e-5)\n"
               "per (n, c) plane; gamma, beta = embed.weight[y[n]].chunk(2); y = gamma[c] * h\n"
               "+ beta[c] (--no-bias: gamma * h). IN is (N, C, H, W); --labels Y.npy gives y.",
               1)
CONDITIONAL_OP(op_conditional_batch, CLNORM_CONDITIONAL_BATCH, "ConditionalBatchNorm2d",
               "ESPnet's ConditionalBatchNorm2d(C, K) in eval mode: h = (x - running_mean[c])\n"
               "/ sqrt(running_var[c] + 1e-5); then gamma[c] * h + beta[c] from\n"
               "embed.weight[y[n]]. IN is (N, C, H, W); --labels Y.npy gives y.",
               1)
CONDITIONAL_OP(op_conditional_none, CLNORM_CONDITIONAL_NONE, "ConditionalNoneNorm2d",
               "ESPnet's ConditionalNoneNorm2d(C, K): y = gamma[c] * x + beta[c], gamma and\n"
               "beta from embed.weight[y[n]]. IN is (N, C, H, W); --labels Y.npy gives y.",
               1)
CONDITIONAL_OP(op_conditional_instance_plus, CLNORM_CONDITIONAL_INSTANCE_PLUS,
               "ConditionalInstanceNorm2dPlus",
               "ESPnet's ConditionalInstanceNorm2dPlus(C, K): InstanceNorm2dPlus with gamma,\n"
               "alpha, beta = embed.weight[y[n]].chunk(3) (--no-bias: gamma, alpha = chunk(2),\n"
               "y = gamma * h). IN is (N, C, H, W); --labels Y.npy gives y.",
               1)
