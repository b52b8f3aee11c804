/* SPDX-License-Identifier: Apache-2.0 */
/* op_none_norm2d.c: ESPnet's NoneNorm2d (y = x), described once (ops.h). */
#include "ops.h"

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)c, (void)shape, (void)ndim, (void)out;
    return 0;
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)c, (void)shape, (void)ndim;
    return clnorm_none_norm2d_create(ctx, 0, (clnorm_none_norm2d **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    return clnorm_none_norm2d_forward(layer, op_shape_count(k->shape, k->ndim), OP_CALL_BUFFERS(k),
                                      event);
}

static void destroy(void *layer) { clnorm_none_norm2d_destroy(layer); }

static void reference(const op_config *c, const op_data *d, double *y, double *const *st)
{
    (void)c, (void)st;
    for (size_t i = 0; i < d->count; ++i)
        y[i] = d->x[i];
}

/* A copy: exact. */
static void tolerance(const op_config *c, const op_data *d, const double *y, double *const *st,
                      double *tol, double *const *tol_st)
{
    (void)c, (void)y, (void)st, (void)tol_st;
    for (size_t i = 0; i < d->count; ++i)
        tol[i] = 0.0;
}

static const op_case bench[] = OP_NCHW_BENCH;

static const op_case tests[] = {
    {"nchw", {{0}, 0}, 4, {2, 3, 1, 1}, 0},
    {"nchw", {{0}, 0}, 4, {2, 3, 17, 241}, 0},
};

const op_desc op_none_norm2d = {
    .name = "NoneNorm2d",
    .formula = "ESPnet's NoneNorm2d: y = x. IN is (N, C, H, W).",
    OP_NCHW_DEFAULTS,
};
