/* SPDX-License-Identifier: Apache-2.0 */
/* op_instance_norm2d.c: torch.nn.InstanceNorm2d, described once (ops.h). */
#include "ops.h"
#include "reference.h"

enum { EPS, AFFINE };
static const op_option options[] = {
    {"eps", OPT_REAL, 1e-5, NULL, "added to the variance (default 1e-5)"},
    {"affine", OPT_FLAG, 0, NULL, "affine=True: weight and bias per channel"},
};

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    if (!c->v[AFFINE])
        return 0;
    return op_scale_shift(out, "weight", "bias", shape[1], "C of -i");
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    return clnorm_instance_norm2d_create(ctx, shape[1], c->v[EPS], c->v[AFFINE] ? CLNORM_AFFINE : 0,
                                         (clnorm_instance_norm2d **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_affine_params p = {k->params[0], k->params[1], k->version};
    return clnorm_instance_norm2d_forward(layer, &p, k->shape[0], k->shape[1], k->shape[2],
                                          k->shape[3], OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_instance_norm2d_destroy(layer); }

/* y = plain * weight[c] + bias[c]. */
static double weights(const op_config *c, const op_data *d, size_t i, double plain, double centred,
                      double s, double *w, double *extra)
{
    (void)c, (void)centred, (void)s, (void)extra;
    return op_channel_affine(d, i / (d->shape[2] * d->shape[3]) % d->shape[1], plain, w);
}

static op_rows rows_of(const op_config *c, const op_data *d)
{
    return (op_rows){d->shape[0] * d->shape[1], d->shape[2] * d->shape[3], 1, c->v[EPS]};
}

OP_STANDARDISED(c->v[AFFINE] ? weights : NULL)

static const op_case bench[] = {
    {"nchw", {{1e-5, 1}, 0}, 4, {10, 64, 32, 32}, 1},
    {"nchw", {{1e-5, 1}, 0}, 4, {16, 64, 128, 128}, 0},
};

/* Plane sizes around vector and work-group boundaries (1: all zeros), both modes. */
static const op_case tests[] = {
    {"nchw", {{1e-5, 0}, 0}, 4, {2, 3, 1, 1}, 0},    {"nchw", {{1e-5, 1}, 0}, 4, {2, 3, 3, 5}, 0},
    {"nchw", {{1e-3, 0}, 0}, 4, {2, 3, 4, 4}, 0},    {"nchw", {{1e-5, 1}, 0}, 4, {2, 3, 17, 1}, 0},
    {"nchw", {{1e-5, 1}, 0}, 4, {2, 3, 17, 241}, 0}, {"nchw", {{1e-5, 0}, 0}, 4, {5, 29, 2, 3}, 0},
};

const op_desc op_instance_norm2d = {
    .name = "InstanceNorm2d",
    .formula = "torch.nn.InstanceNorm2d(C) with instance statistics: per (n, c) plane,\n"
               "y = (x - mean) / sqrt(var_b + eps), var_b the biased variance; with --affine\n"
               "then * weight[c] + bias[c]. IN is (N, C, H, W); weight and bias are (C,).",
    OP_ARRAY(options, options),
    OP_NCHW_DEFAULTS,
};
