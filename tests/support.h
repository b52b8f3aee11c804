/* support.h: what the tests share: each operation described once (double
 * reference, tolerance model), input families, device buffers, fixtures. */
#ifndef CLNORM_TEST_SUPPORT_H
#define CLNORM_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "clnorm.h"

/* ---- random inputs ---- */
typedef enum family {
    FAMILY_NORMAL,   /* N(0, 1) */
    FAMILY_OFFSET,   /* 1e4 + 1e-2 * N(0, 1) */
    FAMILY_SCALES,   /* per row: N(0, 1) * 10^u, u uniform in [-3, 3] */
    FAMILY_CONSTANT, /* each row one value */
    FAMILY_NAN_ROW,  /* N(0, 1) with one NaN in one row */
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
/* RevIN input: y, and m, s per row (row = o * inner + i). */
void ref_revin(const float *x, size_t outer, size_t n, size_t inner, double *y, double *m,
               double *s);
/* RevIN output: y = x * s + m with float statistics. */
void ref_revin_inverse(const float *x, size_t outer, size_t n, size_t inner, const float *m,
                       const float *s, double *y);
/* VarianceNorm2d over rows (n * c rows of h * w), alpha per channel. */
void ref_varnorm2d(const float *x, size_t rows, size_t plane, size_t c, const float *alpha,
                   double *y);

/* ---- comparisons: every element, NaN positions must match ---- */
/* Tolerance per element: got[i] passes when |got - ref| <= tol[i]. Returns the
 * number of failures and prints the first few with `what`. */
size_t check_close(const char *what, const float *got, const double *ref, const double *tol,
                   size_t count);
/* The tolerance models ("twice PyTorch float32's own error", see tests/README). */
void tol_revin_y(const double *y, const double *m, const double *s, size_t outer, size_t n,
                 size_t inner, double *tol);
void tol_relative(const double *ref, size_t count, double ulps, double *tol);
double ulp_of(double v);

/* ---- device helpers (abort the test on failure) ---- */
clnorm_context *test_context(unsigned flags);
cl_mem buffer_from(clnorm_context *ctx, const float *host, size_t count, size_t pad_floats);
cl_mem buffer_poisoned(clnorm_context *ctx, size_t count);
void buffer_read(clnorm_context *ctx, cl_mem buf, size_t offset_floats, float *host, size_t count);
void buffer_write(clnorm_context *ctx, cl_mem buf, size_t offset_floats, const float *host,
                  size_t count);
void finish(clnorm_context *ctx);
/* Flags of the context variants every numeric test runs on: fp64 and float-float. */
extern const unsigned test_context_variants[2];

/* ---- fixtures copied from ESPnet (tests/fixtures) ---- */
typedef struct fixture_array {
    size_t ndim, shape[8], count;
    float *data;   /* the array as float32 (inputs) */
    double *exact; /* the array as float64 (expected values), NULL when stored as float32 */
} fixture_array;
/* Load CASE.KEY.npy; aborts the test when missing. */
void fixture_load(const char *case_name, const char *key, fixture_array *out);
void fixture_free(fixture_array *a);

#endif
