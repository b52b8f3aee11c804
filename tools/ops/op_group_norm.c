/* SPDX-License-Identifier: Apache-2.0 */
/* op_group_norm.c: torch.nn.GroupNorm(G, C, eps, affine) on (N, C, ...),
 * described once (ops.h). */
#include <stdio.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { GROUPS, EPS, NO_AFFINE };
static const op_option options[] = {
    {"num-groups", OPT_COUNT, 1, NULL, "G: groups of C / G channels (C a multiple of G)"},
    {"eps", OPT_REAL, 1e-5, NULL, "added to the variance (default 1e-5; NCSN++ uses 1e-6)"},
    {"no-affine", OPT_FLAG, 0, NULL, "affine=False: no weight and bias"},
};

/* The product of the sizes after C. */
static size_t spatial_of(const size_t *shape, size_t ndim)
{
    return op_shape_count(shape + 2, ndim - 2);
}

static int check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    char s[128];
    size_t g = (size_t)c->v[GROUPS];
    if (ndim < 2 || ndim > 4) {
        snprintf(err, err_size, "expected an (N, C), (N, C, L) or (N, C, H, W) array, found %s",
                 fmt_shape(shape, ndim, s, sizeof s));
        return -1;
    }
    if (g == 0 || shape[1] % g) {
        snprintf(err, err_size, "C = %zu is not a multiple of --num-groups %zu", shape[1], g);
        return -1;
    }
    return 0;
}

/* The reduction view: (n, group) rows of C / G channels' positions. */
static void view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                 size_t *inner)
{
    size_t g = (size_t)c->v[GROUPS];
    *outer = shape[0] * g;
    *n = shape[1] / g * spatial_of(shape, ndim);
    *inner = 1;
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    if (c->v[NO_AFFINE])
        return 0;
    return op_scale_shift(out, "weight", "bias", shape[1], "C of -i");
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    return clnorm_group_norm_create(ctx, (size_t)c->v[GROUPS], shape[1], c->v[EPS],
                                    c->v[NO_AFFINE] ? CLNORM_NO_AFFINE : 0,
                                    (clnorm_group_norm **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_affine_params p = {k->params[0], k->params[1], k->version};
    size_t spatial = k->ndim >= 2 ? spatial_of(k->shape, k->ndim) : 0;
    return clnorm_group_norm_forward(layer, &p, k->shape[0], spatial, OP_CALL_BUFFERS(k), event);
}

static void destroy(void *layer) { clnorm_group_norm_destroy(layer); }

/* y = plain * weight[c] + bias[c], c the element's channel. */
static double weights(const op_config *c, const op_data *d, size_t i, double plain, double centred,
                      double s, double *w, double *extra)
{
    (void)centred, (void)s, (void)extra;
    if (c->v[NO_AFFINE])
        return plain;
    return op_channel_affine(d, i / spatial_of(d->shape, d->ndim) % d->shape[1], plain, w);
}

static op_rows rows_of(const op_config *c, const op_data *d)
{
    op_rows v;
    view(c, d->shape, d->ndim, &v.outer, &v.n, &v.inner);
    v.eps = c->v[EPS];
    return v;
}

OP_STANDARDISED(weights)

static const op_case bench[] = {
    {"nchw", {{32, 1e-6}, 0}, 4, {10, 64, 32, 32}, 1},
    {"nchw", {{32, 1e-6}, 0}, 4, {16, 64, 128, 128}, 0},
};

/* Every rank, one group and one channel per group, groups around vector
 * widths, with and without weights. */
static const op_case tests[] = {
    {"nchw", {{4, 1e-5}, 0}, 4, {2, 12, 5, 7}, 0},
    {"ncl", {{2, 1e-5}, 0}, 3, {3, 6, 11}, 0},
    {"nc", {{3, 1e-6}, 0}, 2, {5, 12}, 0},
    {"nchw", {{4, 1e-6}, 0}, 4, {2, 8, 1, 1}, 0},
    {"nchw", {{2, 1e-5, 1}, 0}, 4, {2, 4, 3, 3}, 0},
    {"nchw", {{1, 1e-6}, 0}, 4, {2, 16, 17, 9}, 0},
    {"nchw", {{16, 1e-6}, 0}, 4, {2, 16, 4, 4}, 0},
    {"nchw", {{8, 1e-5}, 0}, 4, {2, 64, 32, 33}, 0},
};

const op_desc op_group_norm = {
    .name = "GroupNorm",
    .formula = "torch.nn.GroupNorm(G, C, eps, affine) on (N, C), (N, C, L) or (N, C, H, W): per\n"
               "(n, group of C / G channels) over the group's channels and positions,\n"
               "y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c], the biased variance.",
    OP_ARRAY(options, options),
    OP_DEFAULTS,
};
