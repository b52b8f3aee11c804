/* SPDX-License-Identifier: Apache-2.0 */
/* op_ts_norm.c: ESPnet's TSNormalization and TSInverseNormalization
 * (state_spaces/components.py) on (B, L, D), described once each (ops.h).
 * They share the options, the view and the statistic: the scale, (B, 1, D),
 * written by the first, read by the second. */
#include <math.h>
#include <stdio.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { METHOD, HORIZON };
static const char *const methods[] = {"mean", "last", NULL};
static const op_option options[] = {
    {"method", OPT_CHOICE, 0, methods,
     "mean: the mean of |x| over the look-back window; last: |x| at its last step"},
    {"horizon", OPT_COUNT, 0, NULL,
     "H: the window is l < L - H (0 <= H < L; the mean method needs H >= 1)"},
};

/* The forward also needs a window: H < L, and H >= 1 for the mean. */
static int check_window(const op_config *c, const size_t *shape, size_t ndim, char *err,
                        size_t err_size)
{
    if (op_bld_check_shape(c, shape, ndim, err, err_size))
        return -1;
    size_t h = (size_t)c->v[HORIZON];
    if (c->v[METHOD] == 0 && h == 0) {
        snprintf(err, err_size,
                 "--method mean needs --horizon H >= 1 (ESPnet's window x[:, :-0] is empty)");
        return -1;
    }
    if (h >= shape[1]) {
        snprintf(err, err_size, "--horizon %zu leaves no look-back window in L = %zu", h, shape[1]);
        return -1;
    }
    return 0;
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)c, (void)shape, (void)ndim, (void)out;
    return 0;
}

static const op_stat scale_written[] = {{"scale-out", "scale", 1}};
static const op_stat scale_read[] = {{"scale", "scale", 1}};

static clnorm_status norm_create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                                 size_t ndim, void **layer)
{
    (void)ndim;
    return clnorm_ts_norm_create(ctx, shape[2], c->v[METHOD] ? CLNORM_TS_LAST : CLNORM_TS_MEAN,
                                 (size_t)c->v[HORIZON], (clnorm_ts_norm **)layer);
}

/* The inverse uses the scale it is given, whatever made it: any valid window. */
static clnorm_status inverse_create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                                    size_t ndim, void **layer)
{
    (void)c, (void)ndim;
    return clnorm_ts_norm_create(ctx, shape[2], CLNORM_TS_LAST, 0, (clnorm_ts_norm **)layer);
}

static clnorm_status norm_run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    return clnorm_ts_norm_forward(layer, k->shape[0], k->shape[1], OP_CALL_BUFFERS(k), event);
}

static clnorm_status inverse_run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    return clnorm_ts_norm_inverse(layer, k->shape[0], k->shape[1], OP_CALL_BUFFERS(k), event);
}

static clnorm_status get_stats(const op_config *c, void *layer, const op_call *k, float *const *st)
{
    (void)c;
    return clnorm_ts_norm_read_scale(layer, st[0], k->shape[0] * k->shape[2]);
}

static clnorm_status set_stats(const op_config *c, void *layer, const op_call *k,
                               const float *const *st)
{
    (void)c;
    return clnorm_ts_norm_set_scale(layer, k->shape[0], st[0]);
}

static void destroy(void *layer) { clnorm_ts_norm_destroy(layer); }

/* The scale of row (b, d) exactly: the mean of |x| over the window, or |x|
 * at its last step. */
static double window_scale(const op_config *c, const op_data *x, size_t b, size_t d)
{
    size_t l = x->shape[1], dd = x->shape[2], kend = l - (size_t)c->v[HORIZON];
    const float *col = x->x + b * l * dd + d;
    if (c->v[METHOD])
        return fabs((double)col[(kend - 1) * dd]);
    double sum = 0.0;
    for (size_t k = 0; k < kend; ++k)
        sum += fabs((double)col[k * dd]);
    return sum / (double)kend;
}

static void norm_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    size_t l = x->shape[1], dd = x->shape[2];
    for (size_t r = 0; r < x->shape[0] * dd; ++r)
        st[0][r] = window_scale(c, x, r / dd, r % dd);
    for (size_t i = 0; i < x->count; ++i)
        y[i] = x->x[i] / st[0][i / (l * dd) * dd + i % dd];
}

/* PyTorch sums |x| over the window in float32: about log2(window) + 1
 * roundings of the scale's size; the last method's scale is exact. y = x /
 * scale carries the scale's relative error and adds its own rounding. Twice
 * each. */
static void norm_tolerance(const op_config *c, const op_data *x, const double *y, double *const *st,
                           double *tol, double *const *tol_st)
{
    size_t l = x->shape[1], dd = x->shape[2], kend = l - (size_t)c->v[HORIZON];
    double rel = c->v[METHOD] ? 0.0 : (log2((double)kend) + 1.0) * 0x1p-24;
    for (size_t r = 0; r < x->shape[0] * dd; ++r)
        tol_st[0][r] = 2.0 * (fabs(st[0][r]) * rel + ulp_of(st[0][r]));
    for (size_t i = 0; i < x->count; ++i) { /* the scale's float rounding: coarse if subnormal */
        double scale = st[0][i / (l * dd) * dd + i % dd];
        double s_rel = scale > 0.0 ? fabs((double)(float)scale - scale) / scale : 0.0;
        tol[i] = 2.0 * (fabs(y[i]) * (2.0 * rel + s_rel) + ulp_of(y[i]));
    }
}

/* y = x * scale: one rounding, twice. */
static void inverse_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    (void)c, (void)st;
    size_t l = x->shape[1], dd = x->shape[2];
    for (size_t i = 0; i < x->count; ++i)
        y[i] = x->x[i] * (double)x->stats_in[0][i / (l * dd) * dd + i % dd];
}

static void inverse_tolerance(const op_config *c, const op_data *x, const double *y,
                              double *const *st, double *tol, double *const *tol_st)
{
    (void)c, (void)st, (void)tol_st;
    for (size_t i = 0; i < x->count; ++i)
        tol[i] = 2.0 * ulp_of(y[i]);
}

static const op_case norm_bench[] = {
    {"bld", {{0, 96}, 0}, 3, {32, 432, 7}, 1},
    {"bld", {{0, 96}, 0}, 3, {64, 1024, 256}, 0},
};

/* Windows of one step and many, D around vector widths, both methods. */
static const op_case norm_tests[] = {
    {"bld", {{0, 1}, 0}, 3, {2, 2, 5}, 0},
    {"bld", {{0, 4}, 0}, 3, {2, 12, 3}, 0},
    {"bld", {{0, 10}, 0}, 3, {3, 70, 16}, 0},
    {"bld", {{1, 0}, 0}, 3, {2, 1, 5}, 0},
    {"bld", {{1, 5}, 0}, 3, {2, 20, 8}, 0},
    {"bld", {{0, 1}, 0}, 3, {2, 33, 1}, 0},
    {"bld", {{1, 3}, 0}, 3, {4, 300, 48}, 0},
    /* one long sample: on CPUs split rows, so a block's two launches */
    {"bld", {{0, 7}, 0}, 3, {1, 70000, 4}, 0},
    /* samples enough for runs of slabs per work-item (window_slabs' pipeline) */
    {"bld", {{0, 5}, 0}, 3, {40, 30, 8}, 0},
    {"bld", {{1, 2}, 0}, 3, {20, 9, 6}, 0},
};

static const op_case inverse_bench[] = {
    {"bld", {{0}, 0}, 3, {32, 96, 7}, 1},
    {"bld", {{0}, 0}, 3, {64, 1024, 256}, 0},
};

static const op_case inverse_tests[] = {
    {"bld", {{0}, 0}, 3, {2, 4, 3}, 0},
    {"bld", {{1}, 0}, 3, {3, 1, 7}, 0},
    {"bld", {{0}, 0}, 3, {2, 65, 16}, 0},
    {"bld", {{0}, 0}, 3, {2, 17, 1}, 0},
};

/* What the forward and the inverse share, and each one's functions and
 * cases by its prefix (norm_create, norm_run, ...). */
#define TS_FUNCTIONS(prefix)                                                                       \
    OP_ARRAY(options, options), .view = op_3d_view, .params = params, .create = prefix##_create,   \
                                .destroy = destroy, OP_B1D_STATS, OP_PREFIXED(prefix)

const op_desc op_ts_normalization = {
    .name = "TSNormalization",
    .formula = "ESPnet's TSNormalization(method, horizon) on (B, L, D): per (b, d), the scale\n"
               "of the look-back window l < L - H: mean, the mean of |x| over it; last, |x| at\n"
               "l = L - H - 1; y = x / scale (no epsilon: a zero scale gives inf or NaN). S\n"
               "receives the scale as float32 (B, 1, D), for TSInverseNormalization.",
    TS_FUNCTIONS(norm),
    .check_shape = check_window,
    OP_WRITES_STATS(scale_written),
};

const op_desc op_ts_inverse = {
    .name = "TSInverseNormalization",
    .formula = "ESPnet's TSInverseNormalization(method, normalizer) on (B, L, D): y = x * scale,\n"
               "the scale (B, 1, D) of a TSNormalization run (its method and horizon made it;\n"
               "L may differ from that run's).",
    TS_FUNCTIONS(inverse),
    .check_shape = op_bld_check_shape,
    OP_READS_STATS(scale_read),
};
