/* SPDX-License-Identifier: Apache-2.0 */
/* op_standardise.c: the reference and tolerance of the ops that standardise
 * rows and then scale and shift each element (LayerNorm, InstanceNorm2d,
 * TransposedLN, ConditionalInstanceNorm2d), written once. */
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "reference.h"

void op_standardised(const op_config *c, const op_data *d, const op_rows *v, op_affine_fn affine,
                     double *y, const double *y_ref, double *tol)
{
    size_t rows = v->outer * v->inner;
    double *plain = malloc((d->count ? d->count : 1) * sizeof *plain),
           *m = malloc((rows ? rows : 1) * sizeof *m), *s = malloc((rows ? rows : 1) * sizeof *s);
    if (!plain || !m || !s) { /* no memory: a check that cannot pass */
        for (size_t i = 0; i < d->count; ++i)
            (y ? y : tol)[i] = NAN;
        free(plain), free(m), free(s);
        return;
    }
    ref_standardise(d->x, v->outer, v->n, v->inner, v->eps, plain, m, s);
    if (tol)
        tol_revin_y(plain, m, s, v->outer, v->n, v->inner, tol);
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
