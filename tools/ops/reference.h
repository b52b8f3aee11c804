/* SPDX-License-Identifier: Apache-2.0 */
/* reference.h: each operation described once: double-precision references,
 * the input families and the tolerance models ("twice
 * PyTorch float32's own error"). Used by the tests, the demo and the bench. */
#ifndef CLNORM_REFERENCE_H
#define CLNORM_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* ---- random inputs ---- */
typedef enum family {
    FAMILY_NORMAL,   /* N(0, 1) */
    FAMILY_OFFSET,   /* 1e4 + 1e-2 * N(0, 1) */
    FAMILY_SCALES,   /* per row: N(0, 1) * 10^u, u uniform in [-3, 3] */
    FAMILY_CONSTANT, /* each row one value */
    FAMILY_NAN_ROW,  /* N(0, 1) with one NaN in one row */
    FAMILY_DENORMAL, /* 1e-39 * N(0, 1): subnormal floats (fewer than 24 bits) */
    FAMILY_COUNT
} family;

const char *family_name(family f);
void rng_seed(uint64_t seed);
uint64_t rng_fresh_seed(void); /* from the clock; printed by the caller on failure */
double rng_normal(void);
double rng_uniform(void);

/* Fill a view [outer][n][inner] (rows are (o, i) over k) with family f. */
void fill_family(float *x, size_t outer, size_t n, size_t inner, family f);

/* ---- double-precision references over a view [outer][n][inner] ---- */
/* Mean and sum of squared deviations (two passes, in double) of the n
 * elements x[base + k * inner]. */
void ref_row_moments(const float *x, size_t n, size_t inner, size_t base, double *mean, double *m2);
/* Each row of a view standardised: m = mean, s = sqrt(var_b + eps), or with
 * eps < 0 the biased standard deviation alone (TransposedLN); plain =
 * (x - m) / s (row = o * inner + i). */
void ref_standardise(const float *x, size_t outer, size_t n, size_t inner, double eps,
                     double *plain, double *m, double *s);
/* RevIN input: y, and m, s per row (row = o * inner + i). */
void ref_revin(const float *x, size_t outer, size_t n, size_t inner, double *y, double *m,
               double *s);
/* RevIN output: y = x * s + m with float statistics. */
void ref_revin_inverse(const float *x, size_t outer, size_t n, size_t inner, const float *m,
                       const float *s, double *y);
/* VarianceNorm2d over rows (n * c rows of h * w), alpha per channel. */
void ref_varnorm2d(const float *x, size_t rows, size_t plane, size_t c, const float *alpha,
                   double *y);

/* The tolerance models ("twice PyTorch float32's own error"). */
/* y = (x - m) / s per row: the rounding of m carried through 1 / s, the
 * output's rounding and an ulp of the row's largest |y|, twice. Every
 * standardising op (RevIN, LayerNorm, instance and group norms) uses it on
 * its unscaled y. */
void tol_revin_y(const double *y, const double *m, const double *s, size_t outer, size_t n,
                 size_t inner, double *tol);
void tol_relative(const double *ref, size_t count, double ulps, double *tol);
/* The centre m of each row of x (outer, n, inner) as a float: PyTorch's is
 * correctly rounded, half an ulp, twice. A subnormal centre is on a grid of
 * 2^-149 steps, where the float-float path's sums and merges (no bits below
 * the grid) give about one step, PyTorch's rounding half of one: two steps
 * (tol_revin_y carries the same into y). And the float-float path's sums
 * carry about sqrt(n) 2^-48 of the row's spread (max |x - m|), which shows
 * where the centre cancels to below about 2^-20 of the spread (measured
 * 2^-45.5 of it, n = 4097, a mean 2^-22 of it): the larger of the two. */
void tol_centre(const float *x, size_t outer, size_t n, size_t inner, const double *m, double *tol);
/* The tolerance of y = plain * w + b from plain's: scaled by |w|, plus the
 * product's and the sum's roundings, twice. */
double tol_affine(double tol_plain, double plain, double w, double y);
double ulp_of(double v);

#endif
