/* SPDX-License-Identifier: Apache-2.0 */
/* support.h: what the tests share: each operation described once (double
 * reference, tolerance model), input families, device buffers, fixtures. */
#ifndef CLNORM_TEST_SUPPORT_H
#define CLNORM_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "clnorm.h"
#include "reference.h"

/* ---- comparisons: every element, NaN positions must match ---- */
/* Tolerance per element: got[i] passes when |got - ref| <= tol[i]. Returns the
 * number of failures and prints the first few with `what`. */
size_t check_close(const char *what, const float *got, const double *ref, const double *tol,
                   size_t count);
/* Seed the generator from the clock and print the seed (to replay a failure). */
void test_seed_from_clock(void);

/* ---- device helpers (abort the test on failure) ---- */
clnorm_context *test_context(unsigned flags);
cl_mem buffer_from(clnorm_context *ctx, const float *host, size_t count, size_t pad_floats);
cl_mem buffer_poisoned(clnorm_context *ctx, size_t count);
/* A case's labels on the device (NULL when it has none). */
cl_mem buffer_from_labels(clnorm_context *ctx, const int32_t *labels, size_t count);
/* Release a buffer of the above; NULL (no labels, never made) is skipped. */
void buffer_release(cl_mem buf);
void buffer_read(clnorm_context *ctx, cl_mem buf, size_t offset_floats, float *host, size_t count);
void buffer_write(clnorm_context *ctx, cl_mem buf, size_t offset_floats, const float *host,
                  size_t count);
void finish(clnorm_context *ctx);
/* Flags of the context variants every numeric test runs on: fp64 and
 * float-float accumulation, each with the CPU and the GPU kernel shape (the
 * GPU shape has no GPU here to run on: PoCL proves it). */
#define TEST_VARIANTS 4
extern const unsigned test_context_variants[TEST_VARIANTS];
/* cmocka tests of `fn` once per variant, the flags as the test's state. */
#define TEST_ALL_VARIANTS(fn)                                                                      \
    cmocka_unit_test_prestate(fn, (void *)&test_context_variants[0]),                              \
        cmocka_unit_test_prestate(fn, (void *)&test_context_variants[1]),                          \
        cmocka_unit_test_prestate(fn, (void *)&test_context_variants[2]),                          \
        cmocka_unit_test_prestate(fn, (void *)&test_context_variants[3])

/* ---- threads ---- */
/* Run fn on n threads at once, thread i on (char *)args + i * size (an array
 * of n structs), and wait for them all; aborts the test when one cannot start. */
void run_threads(size_t n, void *(*fn)(void *), void *args, size_t size);

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
