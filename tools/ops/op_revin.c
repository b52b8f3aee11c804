/* SPDX-License-Identifier: Apache-2.0 */
/* op_revin.c: ESPnet's ReversibleInstanceNorm1dInput and ...Output (RevIN),
 * described once each (ops.h). They share the layout option, the view and
 * the statistics: m and s, (B, D, 1), written by the input module, read by
 * the output module. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { TRANSPOSED, AFFINE };
static const op_option options[] = {
    {"transposed", OPT_FLAG, 0, NULL, "x is (B, D, L) instead of (B, L, D)"},
    {"affine", OPT_FLAG, 0, NULL,
     "the RevIN paper's affine mode (ESPnet holds norm.weight and norm.bias but does not use "
     "them): y = y * weight + bias on input, x = (x - bias) / (weight + 1e-10) first on output"},
};

/* B, L, D of x's shape. */
static void bld(const op_config *c, const size_t *shape, size_t *b, size_t *l, size_t *d)
{
    int t = c->v[TRANSPOSED] != 0;
    *b = shape[0];
    *l = t ? shape[2] : shape[1];
    *d = t ? shape[1] : shape[2];
}

static int check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    char s[128];
    if (ndim != 3) {
        snprintf(err, err_size, "expected a 3-d %s array, found shape %s",
                 c->v[TRANSPOSED] ? "(B, D, L)" : "(B, L, D)", fmt_shape(shape, ndim, s, sizeof s));
        return -1;
    }
    return 0;
}

static void view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                 size_t *inner)
{
    (void)ndim;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    *outer = c->v[TRANSPOSED] ? b * d : b;
    *n = l;
    *inner = c->v[TRANSPOSED] ? 1 : d;
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    if (!c->v[AFFINE])
        return 0;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    return op_scale_shift(out, "norm.weight", "norm.bias", d, "D of -i");
}

/* m and s, (B, D, 1): written by the input module, read by the output module. */
static const op_stat stats_written[] = {{"mean-out", "m", 0}, {"std-out", "s", 1}};
static const op_stat stats_read[] = {{"mean", "m", 0}, {"std", "s", 1}};

static void stat_shape(const op_config *c, const size_t *shape, size_t ndim, size_t *sndim,
                       size_t *sshape)
{
    (void)ndim;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    *sndim = 3;
    sshape[0] = b;
    sshape[1] = d;
    sshape[2] = 1;
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    unsigned flags =
        (c->v[TRANSPOSED] ? CLNORM_REVIN_TRANSPOSED : 0) | (c->v[AFFINE] ? CLNORM_REVIN_AFFINE : 0);
    return clnorm_revin_create(ctx, d, flags, (clnorm_revin **)layer);
}

/* The forward or the inverse (they take the same arguments). */
typedef clnorm_status (*revin_fn)(clnorm_revin *, const clnorm_revin_params *, size_t, size_t,
                                  cl_mem, size_t, cl_mem, size_t, cl_uint, const cl_event *,
                                  cl_event *);

static clnorm_status run_with(revin_fn fn, const op_config *c, void *layer, const op_call *k,
                              cl_event *event)
{
    clnorm_revin_params p = {k->params[0], k->params[1], k->version};
    size_t b, l, d;
    bld(c, k->shape, &b, &l, &d);
    return fn(layer, &p, b, l, OP_CALL_BUFFERS(k), event);
}

#define RUN_WITH(name, fn)                                                                         \
    static clnorm_status name(const op_config *c, void *layer, const op_call *k, cl_event *event)  \
    {                                                                                              \
        return run_with(fn, c, layer, k, event);                                                   \
    }
RUN_WITH(input_run, clnorm_revin_forward)
RUN_WITH(output_run, clnorm_revin_inverse)

static clnorm_status get_stats(const op_config *c, void *layer, const op_call *k, float *const *st)
{
    size_t b, l, d;
    bld(c, k->shape, &b, &l, &d);
    return clnorm_revin_read_stats(layer, st[0], st[1], b * d);
}

static clnorm_status set_stats(const op_config *c, void *layer, const op_call *k,
                               const float *const *st)
{
    size_t b, l, d;
    bld(c, k->shape, &b, &l, &d);
    return clnorm_revin_set_stats(layer, b, st[0], st[1]);
}

static void destroy(void *layer) { clnorm_revin_destroy(layer); }

/* Channel d of element i of x, and its row (b, d). */
static size_t channel_of(const op_config *c, const op_data *x, size_t i)
{
    size_t b, l, d;
    bld(c, x->shape, &b, &l, &d);
    return c->v[TRANSPOSED] ? i / l % d : i % d;
}

static void input_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    size_t outer, n, inner;
    view(c, x->shape, x->ndim, &outer, &n, &inner);
    ref_revin(x->x, outer, n, inner, y, st[0], st[1]);
    if (c->v[AFFINE])
        for (size_t i = 0; i < x->count; ++i) {
            size_t ch = channel_of(c, x, i);
            y[i] = y[i] * x->params[0][ch] + x->params[1][ch];
        }
}

static void input_tolerance(const op_config *c, const op_data *x, const double *y,
                            double *const *st, double *tol, double *const *tol_st)
{
    size_t outer, n, inner, rows = x->count / (x->shape[c->v[TRANSPOSED] ? 2 : 1]);
    view(c, x->shape, x->ndim, &outer, &n, &inner);
    /* the normalised value's tolerance, from the unscaled reference */
    double *plain = malloc(x->count * sizeof *plain);
    for (size_t i = 0; i < x->count; ++i) {
        size_t ch = channel_of(c, x, i);
        plain[i] = c->v[AFFINE] ? (y[i] - x->params[1][ch]) / x->params[0][ch] : y[i];
    }
    tol_revin_y(plain, st[0], st[1], outer, n, inner, tol);
    if (c->v[AFFINE]) /* then * w + bias: scaled, plus that product's and sum's roundings */
        for (size_t i = 0; i < x->count; ++i) {
            size_t ch = channel_of(c, x, i);
            tol[i] = tol_affine(tol[i], plain[i], x->params[0][ch], y[i]);
        }
    free(plain);
    tol_centre(x->x, outer, n, inner, st[0], tol_st[0]);
    tol_relative(st[1], rows, 2.0, tol_st[1]); /* sqrt, then + 1e-4: about 1 ulp, twice */
}

/* y = x * s + m (affine: x = (x - bias) / (weight + 1e-10) first). */
static void output_reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    (void)st;
    op_denorm(x, c->v[TRANSPOSED] != 0, c->v[AFFINE] != 0, 1e-10, y, NULL);
}

static void output_tolerance(const op_config *c, const op_data *x, const double *y,
                             double *const *st, double *tol, double *const *tol_st)
{
    (void)st, (void)tol_st;
    op_denorm(x, c->v[TRANSPOSED] != 0, c->v[AFFINE] != 0, 1e-10, (double *)y, tol);
}

/* PyTorch rounds x - bias, the division, x * s and the sum: half an ulp of
 * each, carried to y; twice that. */
void op_denorm(const op_data *x, int transposed, int affine, double eps, double *y, double *tol)
{
    size_t b = x->shape[0], l = transposed ? x->shape[2] : x->shape[1];
    size_t d = transposed ? x->shape[1] : x->shape[2];
    for (size_t i = 0; i < x->count; ++i) {
        size_t ch = transposed ? i / l % d : i % d, r = i / (l * d) * d + ch;
        double s = x->stats_in[1][r], v = x->x[i], e = 0.0;
        if (affine) {
            double w = (double)x->params[0][ch] + eps, shifted = v - x->params[1][ch];
            v = shifted / w;
            e = ulp_of(shifted) * fabs(s / w) + ulp_of(v) * fabs(s);
        }
        if (!tol)
            y[i] = v * s + x->stats_in[0][r];
        else
            tol[i] = 2.0 * (e + ulp_of(v * s) + ulp_of(y[i]));
    }
    (void)b;
}

static const op_case bench[] = {
    {"bld", {{0}, 0}, 3, {32, 10, 5}, 1},
    {"bld", {{0}, 0}, 3, {8, 16000, 80}, 1},
    {"bld", {{0}, 0}, 3, {64, 1024, 256}, 0},
    {"bdl", {{1}, 0}, 3, {8, 80, 16000}, 1},
};

/* Lengths around vector and work-group boundaries, every layout and the
 * widths with their own vector width (D = 8, 5, 1, 6, 48), affine or not. */
static const op_case tests[] = {
    {"bdl", {{1, 0}, 0}, 3, {2, 3, 17}, 0},   {"bdl", {{1, 0}, 0}, 3, {2, 3, 4097}, 0},
    {"bld", {{0, 0}, 0}, 3, {2, 65, 8}, 0},   {"bld", {{0, 0}, 0}, 3, {3, 63, 5}, 0},
    {"bld", {{0, 0}, 0}, 3, {2, 16, 1}, 0},   {"bld", {{0, 0}, 0}, 3, {1, 15, 6}, 0},
    {"bld", {{0, 1}, 0}, 3, {2, 300, 4}, 0},  {"bdl", {{1, 1}, 0}, 3, {5, 37, 29}, 0},
    {"bld", {{0, 1}, 0}, 3, {40, 23, 48}, 0}, {"bld", {{0, 0}, 0}, 3, {1, 1, 3}, 0},
};

/* What the input and the output module share. */
#define REVIN_COMMON                                                                               \
    OP_FUNCTIONS, OP_ARRAY(options, options), .stat_shape_doc = "(B, D, 1) from -i",               \
                                              .stat_shape = stat_shape, OP_ARRAY(bench, bench),    \
                                              OP_ARRAY(tests, tests)

const op_desc op_revin_input = {
    .name = "ReversibleInstanceNorm1dInput",
    .alias = "revin",
    .formula = "ESPnet's ReversibleInstanceNorm1dInput: per (b, d) over L, m = mean,\n"
               "s = sqrt(population variance) + 1e-4, y = (x - m) / s. IN is (B, L, D), or\n"
               "(B, D, L) with --transposed; OUT has IN's shape. M and S receive ESPnet's m and\n"
               "s as float32 (B, D, 1), for the output module.",
    REVIN_COMMON,
    OP_WRITES_STATS(stats_written),
    OP_MODEL(input),
};

const op_desc op_revin_output = {
    .name = "ReversibleInstanceNorm1dOutput",
    .alias = "revin-inverse",
    .formula = "ESPnet's ReversibleInstanceNorm1dOutput: y = x * s + m with the statistics of\n"
               "an input module's run. IN is (B, L, D), or (B, D, L) with --transposed; L may\n"
               "differ from the input run's. M and S are (B, D, 1) with IN's B and D.",
    REVIN_COMMON,
    OP_READS_STATS(stats_read),
    OP_MODEL(output),
};
