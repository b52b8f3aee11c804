/* SPDX-License-Identifier: Apache-2.0 */
/* op_standardise.c: the reference and tolerance of the ops that standardise
 * rows and then scale and shift each element (LayerNorm, InstanceNorm2d,
 * TransposedLN, ConditionalInstanceNorm2d, GroupNorm, Normalization, and
 * InstanceNorm2dPlus with its channel means), written once. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "reference.h"

/* The standardised rows of a view (plain, and each row's m and s), or, with
 * no memory, NaN in y or tol (a check that cannot pass) and 0. */
static int standardise(const op_data *d, const op_rows *v, double *y, double *tol, double **plain,
                       double **m, double **s)
{
    size_t rows = v->outer * v->inner;
    *plain = malloc((d->count ? d->count : 1) * sizeof **plain);
    *m = malloc((rows ? rows : 1) * sizeof **m);
    *s = malloc((rows ? rows : 1) * sizeof **s);
    if (!*plain || !*m || !*s) {
        for (size_t i = 0; i < d->count; ++i)
            (y ? y : tol)[i] = NAN;
        free(*plain), free(*m), free(*s);
        return 0;
    }
    ref_standardise(d->x, v->outer, v->n, v->inner, v->eps, *plain, *m, *s);
    if (tol)
        tol_revin_y(*plain, *m, *s, v->outer, v->n, v->inner, tol);
    return 1;
}

void op_standardised(const op_config *c, const op_data *d, const op_rows *v, op_affine_fn affine,
                     double *y, const double *y_ref, double *tol)
{
    double *plain, *m, *s;
    if (!standardise(d, v, y, tol, &plain, &m, &s))
        return;
    for (size_t i = 0; i < d->count; ++i) {
        size_t row = i / (v->n * v->inner) * v->inner + i % v->inner;
        double w = 1.0, extra = 0.0, centred = d->x[i] - m[row];
        double yi = affine ? affine(c, d, i, plain[i], centred, s[row], &w, &extra) : plain[i];
        if (y)
            y[i] = yi;
        if (tol && affine)
            tol[i] = tol_affine(tol[i], plain[i], w, y_ref[i]) + extra;
    }
    free(plain), free(m), free(s);
}

void op_plus(const op_config *c, const op_data *d, op_plus_params_fn prm, double *y,
             const double *y_ref, double *tol)
{
    size_t nn = d->shape[0], ch = d->shape[1], plane = d->shape[2] * d->shape[3];
    op_rows v = {nn * ch, plane, 1, 1e-5};
    double *plain, *m, *s;
    if (!standardise(d, &v, y, tol, &plain, &m, &s))
        return;
    for (size_t n = 0; n < nn; ++n) {
        double mean = 0.0, m2 = 0.0; /* of the channel means, two passes */
        for (size_t k = 0; k < ch; ++k)
            mean += m[n * ch + k];
        mean /= (double)ch;
        for (size_t k = 0; k < ch; ++k)
            m2 += (m[n * ch + k] - mean) * (m[n * ch + k] - mean);
        double sd = sqrt(m2 / (double)(ch - 1) + 1e-5); /* C == 1: NaN, as torch.var */
        for (size_t k = 0; k < ch; ++k) {
            double gamma, alpha, beta, mu1 = (m[n * ch + k] - mean) / sd;
            prm(c, d, n, k, &gamma, &alpha, &beta);
            double b = gamma * alpha * mu1 + beta;
            /* PyTorch rounds the channel means to float32 before it
             * subtracts their mean: on offset data, mu' cancels */
            double means = fabs(gamma * alpha) * (ulp_of(m[n * ch + k]) + ulp_of(mean)) / sd;
            for (size_t i = (n * ch + k) * plane; i < (n * ch + k + 1) * plane; ++i) {
                if (y)
                    y[i] = gamma * (plain[i] + alpha * mu1) + beta;
                if (tol)
                    tol[i] =
                        tol_affine(tol[i], plain[i], gamma, y_ref[i]) + 2.0 * (ulp_of(b) + means);
            }
        }
    }
    free(plain), free(m), free(s);
}

double op_tln_scalar(double s_p, double m_p, double centred, double s, double *w, double *extra)
{
    double a = s_p / s, sum = centred + m_p;
    /* s as float is off by half an ulp, or by the subnormal grid's steps */
    double s_rel = s < FLT_MIN ? 0x1p-148 / s : 0x1p-23;
    *w = s_p;
    /* where the float-float path (devices without fp64) squares deviations
     * below 2^-75, they underflow: its spread is lost and y is infinite (a
     * limit the README states); with fp64 the result is within the bar */
    int ff_floor = s < 0x1p-75;
    *extra =
        ff_floor || fabs(a) * (1.0 + s_rel) >= FLT_MAX ? INFINITY : 2.0 * fabs(a) * ulp_of(sum);
    return a * sum;
}

double op_channel_affine(const op_data *d, size_t ch, double plain, double *w)
{
    *w = d->params[0][ch];
    return plain * d->params[0][ch] + d->params[1][ch];
}
