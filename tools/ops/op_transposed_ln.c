/* SPDX-License-Identifier: Apache-2.0 */
/* op_transposed_ln.c: ESPnet's TransposedLN over D of (B, D, L), described
 * once (ops.h). */
#include <math.h>
#include <stdio.h>

#include "fmt.h"
#include "ops.h"
#include "reference.h"

enum { NOT_SCALAR };
static const op_option options[] = {
    {"no-scalar", OPT_FLAG, 0, NULL, "scalar=False: a LayerNorm over D (ln.weight, ln.bias)"},
};

static int check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    (void)c;
    return op_check_rank(ndim, 3, "3-d (B, D, L)", shape, err, err_size);
}

static size_t params(const op_config *c, const size_t *shape, size_t ndim, op_param *out)
{
    (void)ndim;
    if (c->v[NOT_SCALAR])
        return op_scale_shift(out, "ln.weight", "ln.bias", shape[1], "D of -i");
    return op_scale_shift(out, "s", "m", 1, "one value");
}

static clnorm_status create(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer)
{
    (void)ndim;
    return clnorm_transposed_ln_create(ctx, shape[1], c->v[NOT_SCALAR] ? CLNORM_NOT_SCALAR : 0,
                                       (clnorm_transposed_ln **)layer);
}

static clnorm_status run(const op_config *c, void *layer, const op_call *k, cl_event *event)
{
    (void)c;
    clnorm_affine_params p = {k->params[0], k->params[1], k->version};
    return clnorm_transposed_ln_forward(layer, &p, k->shape[0], k->shape[2], OP_CALL_BUFFERS(k),
                                        event);
}

static void destroy(void *layer) { clnorm_transposed_ln_destroy(layer); }

/* scalar: y = (s_p / s) * (x - m + m_p); PyTorch rounds the sum too, an
 * error scaled by s_p / s. Not scalar: y = plain * ln.weight[k] + ln.bias[k]. */
static double weights(const op_config *c, const op_data *d, size_t i, double plain, double centred,
                      double s, double *w, double *extra)
{
    if (c->v[NOT_SCALAR])
        return op_channel_affine(d, i / d->shape[2] % d->shape[1], plain, w);
    return op_tln_scalar(d->params[0][0], d->params[1][0], centred, s, w, extra);
}

static op_rows rows_of(const op_config *c, const op_data *d)
{
    return (op_rows){d->shape[0], d->shape[1], d->shape[2], c->v[NOT_SCALAR] ? 1e-5 : -1.0};
}

OP_STANDARDISED(weights)

static const op_case bench[] = {
    {"bdl", {{0}, 0}, 3, {4, 64, 128}, 1},
    {"bdl", {{0}, 0}, 3, {16, 256, 4096}, 0},
};

/* L around vector widths (the kernels take L's), D around work-group sizes, both modes. */
static const op_case tests[] = {
    {"bdl", {{0}, 0}, 3, {2, 5, 16}, 0}, {"bdl", {{1}, 0}, 3, {2, 5, 16}, 0},
    {"bdl", {{0}, 0}, 3, {3, 17, 7}, 0}, {"bdl", {{1}, 0}, 3, {2, 33, 24}, 0},
    {"bdl", {{0}, 0}, 3, {1, 1, 8}, 0},  {"bdl", {{0}, 0}, 3, {2, 300, 40}, 0},
};

const op_desc op_transposed_ln = {
    .name = "TransposedLN",
    .formula = "ESPnet's TransposedLN(D) on (B, D, L), over D for each (b, l): m = mean,\n"
               "s = biased std (no epsilon: a constant column gives inf or NaN, as PyTorch);\n"
               "y = (s_p / s) * (x - m + m_p), s_p and m_p the module's s and m (1 and 0).\n"
               "--no-scalar: torch.nn.LayerNorm(D) over D, eps 1e-5, ln.weight and ln.bias (D,).",
    OP_ARRAY(options, options),
    OP_DEFAULTS_WITH(check_shape, op_3d_view),
};
