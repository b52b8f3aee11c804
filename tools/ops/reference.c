/* SPDX-License-Identifier: Apache-2.0 */
/* reference.c: each operation described once: double-precision references,
 * the input families and the tolerance models (the README, "Accuracy"). Shared by
 * the tests, the tool's demo and the benchmark. */
#define _POSIX_C_SOURCE 200809L
#include "reference.h"

#include <float.h>
#include <math.h>
#include <time.h>

/* ---------------------------------------------------------------- random */

/* Per thread: the thread tests draw their cases concurrently. */
static _Thread_local uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void rng_seed(uint64_t seed) { rng_state = seed ? seed : 1; }

uint64_t rng_fresh_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

double rng_uniform(void) { return ((rng_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

double rng_normal(void)
{
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

const char *family_name(family f)
{
    static const char *const names[] = {"normal",   "offset",  "scales",
                                        "constant", "nan-row", "denormal"};
    return f < FAMILY_COUNT ? names[f] : "?";
}

void fill_family(float *x, size_t outer, size_t n, size_t inner, family f)
{
    size_t rows = outer * inner;
    size_t nan_row = (size_t)(rng_uniform() * (double)rows) % rows;
    size_t nan_k = (size_t)(rng_uniform() * (double)n) % n;
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            size_t row = o * inner + i;
            double scale = pow(10.0, -3.0 + 6.0 * rng_uniform());
            double value = (rng_normal() * 100.0);
            for (size_t k = 0; k < n; ++k) {
                float *p = &x[(o * n + k) * inner + i];
                switch (f) {
                case FAMILY_NORMAL:
                case FAMILY_NAN_ROW: *p = (float)rng_normal(); break;
                case FAMILY_OFFSET: *p = (float)(1e4 + 1e-2 * rng_normal()); break;
                case FAMILY_SCALES: *p = (float)(rng_normal() * scale); break;
                case FAMILY_CONSTANT: *p = (float)value; break;
                case FAMILY_DENORMAL: *p = (float)(1e-39 * rng_normal()); break;
                default: *p = 0.0f;
                }
                if (f == FAMILY_NAN_ROW && row == nan_row && k == nan_k)
                    *p = NAN;
            }
        }
}

/* ---------------------------------------------------------------- references */

void ref_row_moments(const float *x, size_t n, size_t inner, size_t base, double *mean, double *m2)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; ++k)
        sum += x[base + k * inner];
    double mu = sum / (double)n, acc = 0.0;
    for (size_t k = 0; k < n; ++k) {
        double d = x[base + k * inner] - mu;
        acc += d * d;
    }
    *mean = mu;
    *m2 = acc;
}

void ref_standardise(const float *x, size_t outer, size_t n, size_t inner, double eps,
                     double *plain, double *m, double *s)
{
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            size_t base = o * n * inner + i, row = o * inner + i;
            double m2;
            ref_row_moments(x, n, inner, base, &m[row], &m2);
            s[row] = sqrt(m2 / (double)n + (eps < 0 ? 0.0 : eps));
            for (size_t k = 0; k < n; ++k)
                plain[base + k * inner] = (x[base + k * inner] - m[row]) / s[row];
        }
}

void ref_revin(const float *x, size_t outer, size_t n, size_t inner, double *y, double *m,
               double *s)
{
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            size_t base = o * n * inner + i, row = o * inner + i;
            double mu, m2;
            ref_row_moments(x, n, inner, base, &mu, &m2);
            double sd = sqrt(m2 / (double)n) + 1e-4;
            m[row] = mu;
            s[row] = sd;
            for (size_t k = 0; k < n; ++k)
                y[base + k * inner] = (x[base + k * inner] - mu) / sd;
        }
}

void ref_revin_inverse(const float *x, size_t outer, size_t n, size_t inner, const float *m,
                       const float *s, double *y)
{
    for (size_t o = 0; o < outer; ++o)
        for (size_t k = 0; k < n; ++k)
            for (size_t i = 0; i < inner; ++i) {
                size_t idx = (o * n + k) * inner + i, row = o * inner + i;
                y[idx] = (double)x[idx] * s[row] + m[row];
            }
}

void ref_varnorm2d(const float *x, size_t rows, size_t plane, size_t c, const float *alpha,
                   double *y)
{
    for (size_t r = 0; r < rows; ++r) {
        double mu, m2;
        ref_row_moments(x, plane, 1, r * plane, &mu, &m2);
        double var = m2 / (double)(plane - 1); /* plane == 1: 0/0 = NaN, as torch.var */
        double scale = (double)alpha[r % c] / sqrt(var + 1e-5);
        for (size_t k = 0; k < plane; ++k)
            y[r * plane + k] = (double)x[r * plane + k] * scale;
    }
}

/* ---------------------------------------------------------------- tolerance */

double ulp_of(double v)
{
    if (v == 0.0)
        return 0.0;
    float f = (float)fabs(v);
    if (!isfinite(f))
        return INFINITY;
    return (double)nextafterf(f, INFINITY) - (double)f;
}

/* PyTorch float32 computes m and s in double and rounds them, then
 * (x - m_f) / s_f: its error is the rounding of m (divided by s), the
 * rounding of s (relative: more than 2^-24 when s is subnormal), plus the
 * output's rounding, at the scale of the row's values. Twice that is the bar
 * (the README, "Accuracy"). A constant row gets a tolerance of exactly 0. */
void tol_revin_y(const double *y, const double *m, const double *s, size_t outer, size_t n,
                 size_t inner, double *tol)
{
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            size_t row = o * inner + i;
            double m_err = fabs((double)(float)m[row] - m[row]) / s[row];
            if (fabs(m[row]) < FLT_MIN) /* the subnormal grid: see tol_centre */
                m_err = 0x1p-149 / s[row];
            double s_rel = fabs((double)(float)s[row] - s[row]) / s[row];
            double row_max = 0.0;
            for (size_t k = 0; k < n; ++k) {
                double a = fabs(y[(o * n + k) * inner + i]);
                row_max = a > row_max ? a : row_max;
            }
            double row_ulp = row_max > 0.0 ? ulp_of(row_max) : 0.0;
            for (size_t k = 0; k < n; ++k) {
                size_t idx = (o * n + k) * inner + i;
                tol[idx] = 2.0 * (m_err + fabs(y[idx]) * s_rel + ulp_of(y[idx])) + row_ulp;
            }
        }
}

void tol_centre(const float *x, size_t outer, size_t n, size_t inner, const double *m, double *tol)
{
    double sums = sqrt((double)n) * 0x1p-48; /* the float-float sums, per unit of spread */
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            size_t row = o * inner + i;
            double spread = 0.0; /* max |x - m| over the row's finite values */
            for (size_t k = 0; k < n; ++k) {
                double d = fabs((double)x[(o * n + k) * inner + i] - m[row]);
                spread = isfinite(d) && d > spread ? d : spread;
            }
            double rounding = fabs(m[row]) < FLT_MIN ? 0x1p-148 : ulp_of(m[row]);
            tol[row] = fmax(rounding, sums * spread);
        }
}

void tol_relative(const double *ref, size_t count, double ulps, double *tol)
{
    for (size_t i = 0; i < count; ++i)
        tol[i] = ulps * ulp_of(ref[i]);
}

double tol_affine(double tol_plain, double plain, double w, double y)
{
    return tol_plain * fabs(w) + 2.0 * ulp_of(plain * w) + 2.0 * ulp_of(y);
}
