/* SPDX-License-Identifier: Apache-2.0 */
/* op_normalization.c: ESPnet's Normalization(D, transposed, _name_)
 * (state_spaces/components.py) on (B, L, D), or (B, D, L) transposed,
 * described once (ops.h). */
#include <math.h>
#include <stdio.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { TRANSPOSED, NAME };
static const char *const names[] = {"layer", "instance", "batch", "group", "none", NULL};
/* The values of --name, in the order of names[] and of clnorm_normalization_kind. */
enum { LAYER, INSTANCE, BATCH, GROUP, NONE };
static const op_option options[] = {
    {"transposed", OPT_FLAG, 0, NULL, "x is (B, D, L) instead of (B, L, D)"},
    {"name", OPT_CHOICE, LAYER, names,
     "the norm: layer (TransposedLN when transposed), instance, batch (eval), group, none"},
};

static int kind_of(const op_config *c) { return (int)c->v[NAME]; }

static int check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    char s[128];
    if (ndim == 3)
        return 0;
    snprintf(err, err_size, "expected a 3-d %s array, found shape %s",
             c->v[TRANSPOSED] ? "(B, D, L)" : "(B, L, D)", fmt_shape(shape, ndim, s, sizeof s));
    return -1;
}

static void bld(const op_config *c, const size_t *shape, size_t *b, size_t *l, size_t *d)
{
    int t = c->v[TRANSPOSED] != 0;
    *b = shape[0];
    *l = t ? shape[2] : shape[1];
    *d = t ? shape[1] : shape[2];
}

/* The reduction view of the kind (the identity and the batch norm: the
 * rows over L, as they have none). */
static void view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                 size_t *inner)
{
    (void)ndim;
    size_t b, l, d;
    int t = c->v[TRANSPOSED] != 0;
    bld(c, shape, &b, &l, &d);
    switch (kind_of(c)) {
    case LAYER: /* over D */ *outer = t ? b : b * l, *n = d, *inner = t ? l : 1; break;
    case GROUP: /* over the whole sample */ *outer = b, *n = l * d, *inner = 1; break;
    default: /* over L */ *outer = t ? b * d : b, *n = l, *inner = t ? 1 : d;
    }
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    if (kind_of(c) == LAYER && c->v[TRANSPOSED]) /* TransposedLN(D): s and m, one value each */
        return op_scale_shift(out, "norm.s", "norm.m", 1, "one value");
    switch (kind_of(c)) {
    case LAYER:
    case GROUP: return op_scale_shift(out, "norm.weight", "norm.bias", d, "D of -i");
    case BATCH: {
        op_param rm = {"norm.running_mean", PARAM_SHIFT, 1, {d}, "D of -i", NULL};
        op_param rv = {"norm.running_var", PARAM_VARIANCE, 1, {d}, "D of -i", NULL};
        op_scale_shift(out, "norm.weight", "norm.bias", d, "D of -i");
        out[2] = rm, out[3] = rv;
        return 4;
    }
    default: return 0;
    }
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    size_t b, l, d;
    bld(c, shape, &b, &l, &d);
    return clnorm_normalization_create(ctx, d, (clnorm_normalization_kind)kind_of(c),
                                       c->v[TRANSPOSED] ? CLNORM_TRANSPOSED : 0,
                                       (clnorm_normalization **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    size_t b, l, d;
    bld(c, k->shape, &b, &l, &d);
    clnorm_normalization_params p = {k->params[0], k->params[1], k->params[2], k->params[3],
                                     k->version};
    return clnorm_normalization_forward(layer, &p, b, l, OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_normalization_destroy(layer); }

/* Channel d of element i. */
static size_t channel_of(const op_config *c, const op_data *x, size_t i)
{
    size_t b, l, d;
    bld(c, x->shape, &b, &l, &d);
    return c->v[TRANSPOSED] ? i / l % d : i % d;
}

/* After the standardisation: LayerNorm's and GroupNorm's weight and bias by
 * d; TransposedLN's (s_p / s) * (x - m + m_p), whose sum PyTorch rounds
 * too, an error scaled by s_p / s. */
static double weights(const op_config *c, const op_data *x, size_t i, double plain, double centred,
                      double s, double *w, double *extra)
{
    if (kind_of(c) == LAYER && c->v[TRANSPOSED])
        return op_tln_scalar(x->params[0][0], x->params[1][0], centred, s, w, extra);
    if (kind_of(c) == INSTANCE)
        return plain;
    return op_channel_affine(x, channel_of(c, x, i), plain, w);
}

static op_rows rows_of(const op_config *c, const op_data *x)
{
    op_rows v;
    view(c, x->shape, x->ndim, &v.outer, &v.n, &v.inner);
    v.eps = kind_of(c) == LAYER && c->v[TRANSPOSED] ? -1.0 : 1e-5;
    return v;
}

/* The batch norm in eval mode: plain = (x - running_mean) / sqrt(running_var
 * + 1e-5), then * weight + bias; with tol, its tolerance: the standardising
 * error (the centre is exact, the quotient rounds), then the affine's. */
static void batch(const op_config *c, const op_data *x, double *y, const double *y_ref, double *tol)
{
    for (size_t i = 0; i < x->count; ++i) {
        size_t ch = channel_of(c, x, i);
        double s = sqrt((double)x->params[3][ch] + 1e-5);
        double plain = (x->x[i] - (double)x->params[2][ch]) / s;
        if (y)
            y[i] = plain * x->params[0][ch] + x->params[1][ch];
        if (tol)
            tol[i] =
                tol_affine(2.0 * (ulp_of(x->x[i] - (double)x->params[2][ch]) / s + ulp_of(plain)),
                           plain, x->params[0][ch], y_ref[i]);
    }
}

static void reference(const op_config *c, const op_data *x, double *y, double *const *st)
{
    (void)st;
    op_rows v = rows_of(c, x);
    if (kind_of(c) == NONE)
        for (size_t i = 0; i < x->count; ++i)
            y[i] = x->x[i];
    else if (kind_of(c) == BATCH)
        batch(c, x, y, NULL, NULL);
    else
        op_standardised(c, x, &v, weights, y, NULL, NULL);
}

static void tolerance(const op_config *c, const op_data *x, const double *y, double *const *st,
                      double *tol, double *const *tol_st)
{
    (void)st, (void)tol_st;
    op_rows v = rows_of(c, x);
    if (kind_of(c) == NONE) /* a copy: exact */
        for (size_t i = 0; i < x->count; ++i)
            tol[i] = 0.0;
    else if (kind_of(c) == BATCH)
        batch(c, x, NULL, y, tol);
    else
        op_standardised(c, x, &v, weights, NULL, y, tol);
}

static const op_case bench[] = {
    {"bld", {{0, GROUP}, 0}, 3, {32, 336, 7}, 1},
    {"bld", {{0, GROUP}, 0}, 3, {64, 1024, 256}, 0},
    {"bdl", {{1, INSTANCE}, 0}, 3, {64, 256, 1024}, 0},
};

/* Every kind in both layouts; D and L around vector widths and L = 1. */
static const op_case tests[] = {
    {"bld", {{0, LAYER}, 0}, 3, {3, 13, 7}, 0},     {"bdl", {{1, LAYER}, 0}, 3, {3, 7, 13}, 0},
    {"bld", {{0, INSTANCE}, 0}, 3, {2, 33, 16}, 0}, {"bdl", {{1, INSTANCE}, 0}, 3, {2, 16, 33}, 0},
    {"bld", {{0, BATCH}, 0}, 3, {2, 10, 4}, 0},     {"bdl", {{1, BATCH}, 0}, 3, {3, 7, 13}, 0},
    {"bld", {{0, GROUP}, 0}, 3, {3, 13, 7}, 0},     {"bdl", {{1, GROUP}, 0}, 3, {2, 16, 33}, 0},
    {"bld", {{0, NONE}, 0}, 3, {3, 13, 7}, 0},      {"bdl", {{1, NONE}, 0}, 3, {2, 4, 10}, 0},
    {"bld", {{0, GROUP}, 0}, 3, {2, 1, 5}, 0},      {"bdl", {{1, LAYER}, 0}, 3, {2, 5, 1}, 0},
    {"bdl", {{1, GROUP}, 0}, 3, {3, 8, 64}, 0},     {"bld", {{0, GROUP}, 0}, 3, {3, 17, 32}, 0},
};

const op_desc op_normalization = {
    .name = "Normalization",
    .formula = "ESPnet's Normalization(D, transposed, _name_) on (B, L, D), or (B, D, L) with\n"
               "--transposed: layer, nn.LayerNorm(D) over D (eps 1e-5; TransposedLN(D) with its\n"
               "norm.s and norm.m when transposed); instance, per (b, d) over L, (x - mean) /\n"
               "sqrt(var + 1e-5); batch (eval), (x - running_mean[d]) / sqrt(running_var[d] +\n"
               "1e-5) * weight[d] + bias[d]; group, GroupNorm(1, D): per b over all of (L, D),\n"
               "then weight[d] and bias[d]; none, y = x.",
    OP_ARRAY(options, options),
    OP_DEFAULTS,
};
