/* SPDX-License-Identifier: Apache-2.0 */
/* support.c: comparisons, device helpers and fixtures shared by the
 * numeric tests (references and families are in tools/ops/reference.c). */
#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npy.h"

#ifndef CLNORM_FIXTURE_DIR
#error "CLNORM_FIXTURE_DIR must be defined by the build"
#endif

const unsigned test_context_variants[TEST_VARIANTS] = {
    CLNORM_CONTEXT_CPU_VARIANT,                          /* fp64, CPU shape */
    CLNORM_CONTEXT_CPU_VARIANT | CLNORM_CONTEXT_NO_FP64, /* float-float, CPU shape */
    CLNORM_CONTEXT_GPU_VARIANT,                          /* fp64, GPU shape */
    CLNORM_CONTEXT_GPU_VARIANT | CLNORM_CONTEXT_NO_FP64, /* float-float, GPU shape */
};

size_t check_close(const char *what, const float *got, const double *ref, const double *tol,
                   size_t count)
{
    size_t bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        int ok;
        if (isnan(ref[i]))
            ok = isnan(got[i]);
        else if (isinf(ref[i])) /* TransposedLN's constant column: the same infinity */
            ok = (double)got[i] == ref[i];
        else
            ok = !isnan(got[i]) && fabs((double)got[i] - ref[i]) <= tol[i];
        if (!ok) {
            if (bad < 5)
                print_error("%s: element %zu: got %.9g, expected %.17g (tol %.3g)\n", what, i,
                            (double)got[i], ref[i], tol[i]);
            ++bad;
        } else if (!isnan(ref[i]) && tol[i] > 0) {
            double r = fabs((double)got[i] - ref[i]) / tol[i];
            worst = r > worst ? r : worst;
        }
    }
    if (bad)
        print_error("%s: %zu of %zu elements out of tolerance\n", what, bad, count);
    return bad;
}

void test_seed_from_clock(void)
{
    /* CLNORM_TEST_SEED repeats a run with the seed its header printed */
    const char *fixed = getenv("CLNORM_TEST_SEED");
    uint64_t seed = fixed && *fixed ? strtoull(fixed, NULL, 10) : rng_fresh_seed();
    printf("# seed %llu\n", (unsigned long long)seed);
    rng_seed(seed);
}

/* ---------------------------------------------------------------- device */

clnorm_context *test_context(unsigned flags)
{
    clnorm_context *ctx = NULL;
    clnorm_status st = clnorm_context_create(NULL, flags, &ctx);
    if (st != CLNORM_OK) {
        print_error("context: %s\n", clnorm_errmsg(ctx));
        clnorm_context_destroy(ctx);
        fail();
    }
    return ctx;
}

/* Every host write below covers the whole buffer from offset 0 in one
 * store: Oclgrind's uninitialised-value check keeps one shadow per host
 * store and sizes it from offset 0, so a write at an offset, or a fill
 * (a store per pattern), would leave the rest of the buffer looking
 * uninitialised to the kernels that read it. */
static cl_mem buffer_of(clnorm_context *ctx, const float *host, size_t count, size_t pad_floats,
                        float fill)
{
    cl_int err;
    size_t floats = count + pad_floats;
    cl_mem m = clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE,
                              floats * sizeof(float), NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    float *whole = malloc(floats * sizeof *whole); /* plain: threads call this */
    assert_non_null(whole);
    for (size_t i = 0; i < floats; ++i)
        whole[i] = host && i >= pad_floats ? host[i - pad_floats] : fill;
    buffer_write(ctx, m, 0, whole, floats);
    free(whole);
    return m;
}

cl_mem buffer_from(clnorm_context *ctx, const float *host, size_t count, size_t pad_floats)
{
    return buffer_of(ctx, host, count, pad_floats, 0.0f);
}

cl_mem buffer_from_labels(clnorm_context *ctx, const int32_t *labels, size_t count)
{
    if (!labels)
        return NULL;
    cl_int err;
    cl_mem m =
        clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                       count * sizeof *labels, (void *)labels, &err);
    assert_int_equal(err, CL_SUCCESS);
    return m;
}

void buffer_release(cl_mem buf)
{
    if (buf)
        clReleaseMemObject(buf);
}

cl_mem buffer_poisoned(clnorm_context *ctx, size_t count)
{
    /* no layer can produce -7.75e30 from the test inputs */
    return buffer_of(ctx, NULL, count, 0, -7.75e30f);
}

void buffer_read(clnorm_context *ctx, cl_mem buf, size_t offset_floats, float *host, size_t count)
{
    assert_int_equal(clEnqueueReadBuffer(clnorm_context_queue(ctx), buf, CL_TRUE,
                                         offset_floats * sizeof(float), count * sizeof(float), host,
                                         0, NULL, NULL),
                     CL_SUCCESS);
}

void buffer_write(clnorm_context *ctx, cl_mem buf, size_t offset_floats, const float *host,
                  size_t count)
{
    assert_int_equal(clEnqueueWriteBuffer(clnorm_context_queue(ctx), buf, CL_TRUE,
                                          offset_floats * sizeof(float), count * sizeof(float),
                                          host, 0, NULL, NULL),
                     CL_SUCCESS);
}

void finish(clnorm_context *ctx)
{
    assert_int_equal(clFinish(clnorm_context_queue(ctx)), CL_SUCCESS);
}

/* ----------------------------------------------------------------- threads */

void run_threads(size_t n, void *(*fn)(void *), void *args, size_t size)
{
    pthread_t *th = malloc(n * sizeof *th);
    assert_non_null(th);
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(pthread_create(&th[i], NULL, fn, (char *)args + i * size), 0);
    for (size_t i = 0; i < n; ++i)
        pthread_join(th[i], NULL);
    free(th);
}

/* ---------------------------------------------------------------- fixtures */

void fixture_load(const char *case_name, const char *key, fixture_array *out)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s.%s.npy", CLNORM_FIXTURE_DIR, case_name, key);
    memset(out, 0, sizeof *out);
    npy_array a;
    if (npy_read_file(path, &a, err, sizeof err) != 0) {
        print_error("fixture %s: %s\n", path, err);
        fail();
    }
    out->ndim = a.ndim;
    memcpy(out->shape, a.shape, sizeof out->shape);
    out->count = a.count;
    out->data = a.data; /* ownership moves here: freed with free() below */
    /* Expected values are stored as float64: read them exactly too. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[256] = {0};
    size_t got = fread(head, 1, sizeof head - 1, f);
    int is_f8 = 0; /* the header starts after the 10-byte preamble, which may hold NULs */
    for (size_t i = 0; i + 3 <= got; ++i)
        is_f8 |= memcmp(head + i, "<f8", 3) == 0;
    if (is_f8) {
        out->exact = malloc(a.count * sizeof(double) + 1);
        assert_non_null(out->exact);
        assert_int_equal(fseek(f, -(long)(a.count * sizeof(double)), SEEK_END), 0);
        assert_int_equal(fread(out->exact, sizeof(double), a.count, f), a.count);
    }
    fclose(f);
}

void fixture_free(fixture_array *a)
{
    free(a->data);
    free(a->exact);
    memset(a, 0, sizeof *a);
}
