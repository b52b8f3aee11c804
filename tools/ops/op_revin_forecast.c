/* SPDX-License-Identifier: Apache-2.0 */
/* op_revin_forecast.c: the forecasting world's RevIN (RTSF's
 * layers/Invertible.py, PatchTST's layers/RevIN.py), `clnorm RevIN --mode
 * norm` and `--mode denorm`, described once each (ops.h). x is (B, L, D);
 * the statistics, the centre (mean or last value) and stdev, are (B, 1, D). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { MODE, EPS, NO_AFFINE, SUBTRACT_LAST };
static const char *const modes[] = {"norm", "denorm", NULL};
static const op_option options[] = {
    {"mode", OPT_CHOICE, 0, modes,
     "norm (x -> y, statistics kept) or denorm (y back, over a horizon)"},
    {"eps", OPT_REAL, 1e-5, NULL, "epsilon: stdev = sqrt(var + eps); denorm divides by w + eps^2"},
    {"no-affine", OPT_FLAG, 0, NULL, "without affine_weight and affine_bias (affine=False)"},
    {"subtract-last", OPT_FLAG, 0, NULL,
     "centre on the last value x[:, L-1, :] instead of the mean (PatchTST)"},
};

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    if (c->v[NO_AFFINE])
        return 0;
    return op_scale_shift(out, "affine_weight", "affine_bias", shape[ndim - 1], "D of -i");
}

static const op_stat stats_written[] = {{"mean-out", "mean", 0}, {"std-out", "stdev", 1}};
static const op_stat stats_read[] = {{"mean", "mean", 0}, {"std", "stdev", 1}};

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    unsigned flags = (c->v[NO_AFFINE] ? 0 : CLNORM_REVIN_AFFINE) |
                     (c->v[SUBTRACT_LAST] ? CLNORM_REVIN_SUBTRACT_LAST : 0);
    return clnorm_revin_forecast_create(ctx, shape[ndim - 1], c->v[EPS], flags,
                                        (clnorm_revin **)layer);
}

static clnorm_status norm_run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_revin_params p = {k->params[0], k->params[1], k->version};
    return clnorm_revin_forward(layer, &p, k->shape[0], k->shape[1], OP_CALL_BUFFERS(k), event);
}

static clnorm_status denorm_run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_revin_params p = {k->params[0], k->params[1], k->version};
    return clnorm_revin_inverse(layer, &p, k->shape[0], k->shape[1], OP_CALL_BUFFERS(k), event);
}

static clnorm_status get_stats(const op_config *c, void *layer, const op_call *k, float *const *st)
{
    (void)c;
    return clnorm_revin_read_stats(layer, st[0], st[1], k->shape[0] * k->shape[2]);
}

static clnorm_status set_stats(const op_config *c, void *layer, const op_call *k,
                               const float *const *st)
{
    (void)c;
    return clnorm_revin_set_stats(layer, k->shape[0], st[0], st[1]);
}

static void destroy(void *layer) { clnorm_revin_destroy(layer); }

/* The norm's plain (x - c) / stdev, and each row's centre and stdev; NULL
 * when out of memory. */
static double *standardise(const op_config *c, const op_data *x, double *m, double *s)
{
    size_t b = x->shape[0], l = x->shape[1], d = x->shape[2];
    double *plain = malloc((x->count ? x->count : 1) * sizeof *plain);
    if (!plain)
        return NULL;
    ref_standardise(x->x, b, l, d, c->v[EPS], plain, m, s);
    if (c->v[SUBTRACT_LAST])
        for (size_t i = 0; i < x->count; ++i) {
            size_t row = i / (l * d) * d + i % d;
            m[row] = x->x[(i / (l * d) * l + l - 1) * d + i % d];
            plain[i] = (x->x[i] - m[row]) / s[row];
        }
    return plain;
}

static void norm_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    double *plain = standardise(c, x, st[0], st[1]);
    for (size_t i = 0; i < x->count; ++i) {
        size_t ch = i % x->shape[2];
        y[i] = !plain            ? NAN
               : c->v[NO_AFFINE] ? plain[i]
                                 : plain[i] * x->params[0][ch] + x->params[1][ch];
    }
    free(plain);
}

/* tol_revin_y's model (the centre's and stdev's roundings, the output's),
 * then the affine's product and sum (tol_affine); the statistics as
 * ReversibleInstanceNorm1dInput's. */
static void norm_tolerance(const op_config *c, const op_data *x, const double *y, double *const *st,
                           double *tol, double *const *tol_st)
{
    (void)y;
    size_t b = x->shape[0], l = x->shape[1], d = x->shape[2], rows = b * d;
    double *m = malloc(rows * sizeof *m), *s = malloc(rows * sizeof *s);
    double *plain = m && s ? standardise(c, x, m, s) : NULL;
    if (!plain) {
        for (size_t i = 0; i < x->count; ++i)
            tol[i] = NAN;
    } else {
        tol_revin_y(plain, m, s, b, l, d, tol);
        for (size_t i = 0; i < x->count && !c->v[NO_AFFINE]; ++i) {
            size_t ch = i % d;
            tol[i] = tol_affine(tol[i], plain[i], x->params[0][ch], y[i]);
        }
    }
    free(plain), free(m), free(s);
    tol_centre(x->x, b, l, d, st[0], tol_st[0]);
    tol_relative(st[1], rows, 2.0, tol_st[1]);
}

static void denorm_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    (void)st;
    op_denorm(x, 0, !c->v[NO_AFFINE], c->v[EPS] * c->v[EPS], y, NULL);
}

static void denorm_tolerance(const op_config *c, const op_data *x, const double *y,
                             double *const *st, double *tol, double *const *tol_st)
{
    (void)st, (void)tol_st;
    op_denorm(x, 0, !c->v[NO_AFFINE], c->v[EPS] * c->v[EPS], (double *)y, tol);
}

/* The forecasting head's windows (L = 336, 512; horizons 96, 336), and
 * (B, L, D) around vector boundaries. */
static const op_case norm_bench[] = {
    {"bld", {{0, 1e-5}, 0}, 3, {32, 336, 21}, 1},
    {"bld", {{0, 1e-5}, 0}, 3, {64, 512, 321}, 0},
};
static const op_case denorm_bench[] = {
    {"bld", {{1, 1e-5}, 0}, 3, {32, 96, 21}, 1},
    {"bld", {{1, 1e-5}, 0}, 3, {64, 336, 321}, 0},
};
static const op_case norm_tests[] = {
    {"bld", {{0, 1e-5, 0, 0}, 0}, 3, {2, 10, 3}, 0},
    {"bld", {{0, 1e-5, 0, 1}, 0}, 3, {3, 37, 5}, 0},
    {"bld", {{0, 1e-3, 1, 0}, 0}, 3, {2, 65, 8}, 0},
    {"bld", {{0, 1e-5, 1, 1}, 0}, 3, {4, 96, 7}, 0},
    {"bld", {{0, 1e-5, 0, 0}, 0}, 3, {1, 1, 3}, 0},
    {"bld", {{0, 1e-5, 0, 1}, 0}, 3, {2, 5000, 1}, 0},
};
static const op_case denorm_tests[] = {
    {"bld", {{1, 1e-5, 0, 0}, 0}, 3, {2, 24, 3}, 0},
    {"bld", {{1, 1e-5, 1, 0}, 0}, 3, {3, 37, 5}, 0},
    {"bld", {{1, 1e-2, 0, 1}, 0}, 3, {4, 96, 7}, 0},
    {"bld", {{1, 1e-5, 0, 0}, 0}, 3, {1, 1, 8}, 0},
};

#define REVIN_FORECAST_COMMON                                                                      \
    .name = "RevIN", .check_shape = op_bld_check_shape, .view = op_3d_view, .params = params,      \
    .create = create, .destroy = destroy, OP_ARRAY(options, options), OP_B1D_STATS

const op_desc op_revin_norm = {
    REVIN_FORECAST_COMMON,
    .mode = "norm",
    .formula = "The forecasting world's RevIN (RTSF, PatchTST), --mode norm or denorm:\n"
               "--mode norm: per (b, d) over L, centre = mean (or the last value with\n"
               "--subtract-last), stdev = sqrt(population variance + eps), y = (x - centre) /\n"
               "stdev, then y * affine_weight + affine_bias. IN is (B, L, D); OUT has its\n"
               "shape. M and S receive the centre and stdev as float32 (B, 1, D).\n"
               "--mode denorm (clnorm RevIN --mode denorm --help): y back from a forecast of\n"
               "any horizon with --mean M.npy --std S.npy of a norm run.",
    OP_WRITES_STATS(stats_written),
    OP_PREFIXED(norm),
};

const op_desc op_revin_denorm = {
    REVIN_FORECAST_COMMON,
    .mode = "denorm",
    .formula = "The forecasting world's RevIN (RTSF, PatchTST), --mode denorm: x = (x -\n"
               "affine_bias) / (affine_weight + eps^2) (affine), then y = x * stdev + centre\n"
               "with the --mean and --std of a norm run. IN is (B, H, D), H the horizon (any\n"
               "length); M and S are (B, 1, D) with IN's B and D.",
    OP_READS_STATS(stats_read),
    OP_PREFIXED(denorm),
};
