/* SPDX-License-Identifier: Apache-2.0 */
/* op_instance_norm2d_plus.c: ESPnet's InstanceNorm2dPlus, described once (ops.h). */
#include "ops.h"

enum { NO_BIAS };
static const op_option options[] = {
    {"no-bias", OPT_FLAG, 0, NULL, "bias=False: no beta (y = gamma * h)"},
};

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    op_param a = {"alpha", PARAM_SCALE, 1, {shape[1]}, "C of -i", NULL};
    op_param g = {"gamma", PARAM_SCALE, 1, {shape[1]}, "C of -i", NULL};
    op_param b = {"beta", PARAM_SHIFT, 1, {shape[1]}, "C of -i", NULL};
    out[0] = a, out[1] = g, out[2] = b;
    return c->v[NO_BIAS] ? 2 : 3;
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    return clnorm_instance_norm2d_plus_create(ctx, shape[1], c->v[NO_BIAS] ? CLNORM_NO_BIAS : 0,
                                              (clnorm_instance_norm2d_plus **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_plus_params p = {k->params[0], k->params[1], k->params[2], k->version};
    return clnorm_instance_norm2d_plus_forward(layer, &p, k->shape[0], k->shape[1], k->shape[2],
                                               k->shape[3], OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_instance_norm2d_plus_destroy(layer); }

static void channel_params(const op_config *c, const op_data *d, size_t n, size_t ch, double *gamma,
                           double *alpha, double *beta)
{
    (void)n;
    *alpha = d->params[0][ch];
    *gamma = d->params[1][ch];
    *beta = c->v[NO_BIAS] ? 0.0 : d->params[2][ch];
}

static void reference(const op_config *c, const op_data *d, double *y, double *const *st)
{
    (void)st;
    op_plus(c, d, channel_params, y, NULL, NULL);
}

static void tolerance(const op_config *c, const op_data *d, const double *y, double *const *st,
                      double *tol, double *const *tol_st)
{
    (void)st, (void)tol_st;
    op_plus(c, d, channel_params, NULL, y, tol);
}

static const op_case bench[] = OP_NCHW_BENCH;

/* Planes around vector and work-group boundaries, one channel, with and without beta;
 * 9 and 40 samples: enough for a run of samples per work-item on CPUs (plus_samples). */
static const op_case tests[] = {
    {"nchw", {{0}, 0}, 4, {2, 3, 4, 4}, 0},    {"nchw", {{1}, 0}, 4, {3, 5, 7, 9}, 0},
    {"nchw", {{0}, 0}, 4, {2, 3, 17, 241}, 0}, {"nchw", {{0}, 0}, 4, {2, 1, 5, 3}, 0},
    {"nchw", {{0}, 0}, 4, {40, 19, 1, 1}, 0},  {"nchw", {{1}, 0}, 4, {9, 5, 9, 11}, 0},
};

const op_desc op_instance_norm2d_plus = {
    .name = "InstanceNorm2dPlus",
    .formula = "ESPnet's InstanceNorm2dPlus(C, bias): mu the mean of each (n, c) plane, m and v\n"
               "the mean and unbiased variance of mu over C, mu' = (mu - m) / sqrt(v + 1e-5);\n"
               "h = (x - mu) / sqrt(var_b + 1e-5) + mu' * alpha[c]; y = gamma[c] * h + beta[c]\n"
               "(--no-bias: gamma * h). IN is (N, C, H, W); C = 1 gives NaN, as PyTorch.",
    OP_ARRAY(options, options),
    OP_NCHW_DEFAULTS,
};
