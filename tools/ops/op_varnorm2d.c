/* SPDX-License-Identifier: Apache-2.0 */
/* op_varnorm2d.c: ESPnet's VarianceNorm2d, described once (ops.h). */
#include <stdio.h>

#include "ops.h"
#include "reference.h"

/* PyTorch rounds var, sqrt(var + eps), the division and the product by
 * alpha: about 2 ulps of y; twice that. */
#define VN_ULPS 4.0

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)c, (void)ndim;
    op_param alpha = {"alpha", PARAM_SCALE, 1, {shape[1]}, "C of -i", "alpha"};
    out[0] = alpha;
    return 1;
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)c, (void)ndim;
    return clnorm_varnorm2d_create(ctx, shape[1], (clnorm_varnorm2d **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_varnorm2d_params p = {k->params[0], k->version};
    return clnorm_varnorm2d_forward(layer, &p, k->shape[0], k->shape[1], k->shape[2], k->shape[3],
                                    OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_varnorm2d_destroy(layer); }

static void reference(const op_config *c, const op_data *d, double *y, double *const *st)
{
    (void)c, (void)st;
    ref_varnorm2d(d->x, d->shape[0] * d->shape[1], d->shape[2] * d->shape[3], d->shape[1],
                  d->params[0], y);
}

static void tolerance(const op_config *c, const op_data *d, const double *y, double *const *st,
                      double *tol, double *const *tol_st)
{
    (void)c, (void)st, (void)tol_st;
    tol_relative(y, d->count, VN_ULPS, tol);
}

static const op_case bench[] = {
    {"nchw", {{0}, 0}, 4, {10, 64, 32, 32}, 1},
    {"nchw", {{0}, 0}, 4, {4, 128, 64, 64}, 0},
    {"nchw", {{0}, 0}, 4, {16, 64, 128, 128}, 0},
};

/* Plane sizes around vector and work-group boundaries (1: NaN), many rows. */
static const op_case tests[] = {
    {"nchw", {{0}, 0}, 4, {2, 3, 1, 1}, 0},  {"nchw", {{0}, 0}, 4, {2, 3, 3, 5}, 0},
    {"nchw", {{0}, 0}, 4, {2, 3, 4, 4}, 0},  {"nchw", {{0}, 0}, 4, {2, 3, 17, 1}, 0},
    {"nchw", {{0}, 0}, 4, {2, 3, 5, 13}, 0}, {"nchw", {{0}, 0}, 4, {2, 3, 17, 241}, 0},
    {"nchw", {{0}, 0}, 4, {5, 29, 2, 3}, 0},
};

const op_desc op_varnorm2d = {
    .name = "VarianceNorm2d",
    .alias = "varnorm2d",
    .formula = "ESPnet's VarianceNorm2d: y = alpha[c] * x / sqrt(var + 1e-5), var the unbiased\n"
               "variance of each (n, c) plane. IN is (N, C, H, W); alpha is (C,), default all\n"
               "ones. H*W == 1 gives NaN, as PyTorch does.",
    OP_NCHW_DEFAULTS,
};
