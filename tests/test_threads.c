/* SPDX-License-Identifier: Apache-2.0 */
/* test_threads.c: 8 threads, one shared context or one each: checked forwards, layer churn. */
/* Every result is compared with the double references of tools/ops/reference.h.
 * Worker threads never call cmocka's assert_* (it longjmps, which is only
 * valid on the thread that runs the test): they count failures and keep the
 * first message, and the test thread asserts on the totals.
 *
 * A shared context must build (or load) each program once however many
 * threads ask for it at once: the counts prove the lock in program.c even
 * without TSan (without it, 8 threads built 14 programs for 5 variants).
 *
 * TSan (CLNORM_SANITIZE=thread, tools/scripts/check.sh) is usable with PoCL 3.1 as it
 * is: libpocl, its LLVM and the ICD loader are not instrumented, so TSan sees
 * none of their memory accesses (no reports from inside them) but does see
 * their pthread locks and condition variables through its interceptors; it
 * reported the race on ctx->programs when that lock was removed. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clnorm_int.h" /* CLNORM_VARIANT_COUNT */
#include "support.h"

#define THREADS 8
#define INPUTS 3                /* inputs per layer, cycled: a stale output cannot pass */
#define VN_ULPS 4.0             /* as test_varnorm2d.c */
#define DEFAULT_ITERATIONS 1500 /* forwards per thread and test; x 8 threads */
#define DEFAULT_CHURN 150       /* create/forward/destroy rounds per thread */

typedef enum kind { KIND_REVIN_BLD, KIND_REVIN_BDL, KIND_VARNORM, KIND_COUNT } kind;

/* One checked forward: a layer kind and shape, inputs, references. */
typedef struct work {
    kind k;
    size_t dim[4]; /* RevIN: b, l, d; VarianceNorm2d: n, c, h, w */
    size_t count;
    float *alpha; /* VarianceNorm2d only */
    float *x[INPUTS];
    double *ref[INPUTS], *tol[INPUTS];
} work;

typedef struct worker {
    pthread_t thread;
    int index;
    clnorm_context *shared; /* NULL: the worker makes its own context */
    work cases[KIND_COUNT]; /* one layer per kind, or the churn shapes */
    unsigned iterations;
    int churn; /* create/destroy a layer around every forward */
    size_t forwards, failures;
    unsigned built, cached; /* programs of its own context */
    char first_error[512];
} worker;

static pthread_barrier_t start_line;
static char temp_root[256];

static unsigned env_count(const char *name, unsigned fallback)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? (unsigned)n : fallback;
}

/* ---------------------------------------------------------------- set-up */

/* Inputs and references are made on the test thread: the RNG is global. */
static void work_init(work *w, kind k, const size_t dim[4], family fam)
{
    memset(w, 0, sizeof *w);
    w->k = k;
    memcpy(w->dim, dim, sizeof w->dim);
    w->count = k == KIND_VARNORM ? dim[0] * dim[1] * dim[2] * dim[3] : dim[0] * dim[1] * dim[2];
    if (k == KIND_VARNORM) {
        w->alpha = malloc(dim[1] * sizeof *w->alpha);
        assert_non_null(w->alpha);
        for (size_t i = 0; i < dim[1]; ++i)
            w->alpha[i] = (float)(1.0 + 0.02 * rng_normal());
    }
    for (int i = 0; i < INPUTS; ++i) {
        w->x[i] = malloc(w->count * sizeof(float));
        w->ref[i] = malloc(w->count * sizeof(double));
        w->tol[i] = malloc(w->count * sizeof(double));
        assert_true(w->x[i] && w->ref[i] && w->tol[i]);
        family f = (family)((fam + i) % FAMILY_COUNT);
        if (k == KIND_VARNORM) {
            size_t rows = dim[0] * dim[1], plane = dim[2] * dim[3];
            fill_family(w->x[i], rows, plane, 1, f);
            ref_varnorm2d(w->x[i], rows, plane, dim[1], w->alpha, w->ref[i]);
            tol_relative(w->ref[i], w->count, VN_ULPS, w->tol[i]);
        } else {
            int bdl = k == KIND_REVIN_BDL;
            size_t outer = bdl ? dim[0] * dim[2] : dim[0], inner = bdl ? 1 : dim[2];
            size_t rows = dim[0] * dim[2];
            double *m = malloc(rows * sizeof *m), *s = malloc(rows * sizeof *s);
            assert_true(m && s);
            fill_family(w->x[i], outer, dim[1], inner, f);
            ref_revin(w->x[i], outer, dim[1], inner, w->ref[i], m, s);
            tol_revin_y(w->ref[i], m, s, outer, dim[1], inner, w->tol[i]);
            free(m), free(s);
        }
    }
}

static void work_free(work *w)
{
    free(w->alpha);
    for (int i = 0; i < INPUTS; ++i)
        free(w->x[i]), free(w->ref[i]), free(w->tol[i]);
}

/* Shapes differ per thread and per kind so that threads need different
 * kernel variants (vector widths 1..16) at the same time. */
static void worker_init(worker *wk, int index, clnorm_context *shared, unsigned iterations,
                        int churn)
{
    static const size_t bld_d[] = {5, 6, 12, 8, 16, 3, 4, 10};
    memset(wk, 0, sizeof *wk);
    wk->index = index;
    wk->shared = shared;
    wk->iterations = iterations;
    wk->churn = churn;
    size_t t = (size_t)index;
    size_t bld[4] = {1 + t % 3, 17 + t, bld_d[t % 8], 0};
    size_t bdl[4] = {2, 31 + 2 * t, 1 + t % 4, 0};
    size_t vn[4] = {1 + t % 2, 2 + t % 3, 3 + t, 5};
    work_init(&wk->cases[KIND_REVIN_BLD], KIND_REVIN_BLD, bld, (family)(t % FAMILY_COUNT));
    work_init(&wk->cases[KIND_REVIN_BDL], KIND_REVIN_BDL, bdl, (family)((t + 1) % FAMILY_COUNT));
    work_init(&wk->cases[KIND_VARNORM], KIND_VARNORM, vn, (family)((t + 2) % FAMILY_COUNT));
}

/* ---------------------------------------------------------------- workers */

static void note_failure(worker *wk, const char *fmt, ...)
{
    if (wk->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(wk->first_error, sizeof wk->first_error, fmt, ap);
        va_end(ap);
    }
}

static size_t count_bad(const float *got, const double *ref, const double *tol, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        if (isnan(ref[i]))
            bad += !isnan(got[i]);
        else
            bad += isnan(got[i]) || fabs((double)got[i] - ref[i]) > tol[i];
    }
    return bad;
}

/* A layer of either type, created for one work description. */
typedef struct layer {
    clnorm_revin *revin;
    clnorm_varnorm2d *vn;
} layer;

static clnorm_status layer_create(clnorm_context *ctx, const work *w, layer *out)
{
    memset(out, 0, sizeof *out);
    if (w->k == KIND_VARNORM)
        return clnorm_varnorm2d_create(ctx, w->dim[1], &out->vn);
    unsigned flags = w->k == KIND_REVIN_BDL ? CLNORM_REVIN_TRANSPOSED : 0;
    return clnorm_revin_create(ctx, w->dim[2], flags, &out->revin);
}

static void layer_destroy(layer *l)
{
    clnorm_revin_destroy(l->revin);
    clnorm_varnorm2d_destroy(l->vn);
}

static const char *kind_name(kind k)
{
    return k == KIND_REVIN_BLD ? "revin BLD" : k == KIND_REVIN_BDL ? "revin BDL" : "varnorm2d";
}

/* Enqueue one forward of input `i` into `out`, read it back and compare. */
static void checked_forward(worker *wk, clnorm_context *ctx, layer *l, const work *w, int i,
                            cl_mem in, cl_mem out, float *y)
{
    cl_event done = NULL;
    clnorm_status st;
    if (w->k == KIND_VARNORM) {
        clnorm_varnorm2d_params p = {w->alpha, 1};
        st = clnorm_varnorm2d_forward(l->vn, &p, w->dim[0], w->dim[1], w->dim[2], w->dim[3], in, 0,
                                      out, 0, 0, NULL, &done);
    } else {
        st = clnorm_revin_forward(l->revin, NULL, w->dim[0], w->dim[1], in, 0, out, 0, 0, NULL,
                                  &done);
    }
    wk->forwards++;
    if (st != CLNORM_OK) {
        note_failure(wk, "thread %d: %s forward: %s: %s", wk->index, kind_name(w->k),
                     clnorm_status_name(st), clnorm_errmsg(ctx));
        return;
    }
    cl_int err = clEnqueueReadBuffer(clnorm_context_queue(ctx), out, CL_TRUE, 0,
                                     w->count * sizeof(float), y, 1, &done, NULL);
    clReleaseEvent(done);
    if (err != CL_SUCCESS) {
        note_failure(wk, "thread %d: clEnqueueReadBuffer: %d", wk->index, err);
        return;
    }
    size_t bad = count_bad(y, w->ref[i], w->tol[i], w->count);
    if (bad) {
        if (wk->failures == 0) /* details of the first failure only */
            (void)check_close(kind_name(w->k), y, w->ref[i], w->tol[i], w->count);
        note_failure(wk, "thread %d: %s (%zu,%zu,%zu,%zu) input %d: %zu of %zu elements wrong",
                     wk->index, kind_name(w->k), w->dim[0], w->dim[1], w->dim[2], w->dim[3], i, bad,
                     w->count);
    }
}

/* Device copies of a work's inputs and a poisoned output. */
static int buffers_create(worker *wk, clnorm_context *ctx, const work *w, cl_mem in[INPUTS],
                          cl_mem *out)
{
    cl_int err = CL_SUCCESS;
    size_t bytes = w->count * sizeof(float);
    for (int i = 0; i < INPUTS && err == CL_SUCCESS; ++i)
        in[i] = clCreateBuffer(clnorm_context_cl_context(ctx),
                               CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, w->x[i], &err);
    if (err == CL_SUCCESS)
        *out = clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        note_failure(wk, "thread %d: clCreateBuffer: %d", wk->index, err);
    return err == CL_SUCCESS;
}

static void buffers_release(cl_mem in[INPUTS], cl_mem out)
{
    for (int i = 0; i < INPUTS; ++i)
        if (in[i])
            clReleaseMemObject(in[i]);
    if (out)
        clReleaseMemObject(out);
}

/* Long-lived layers: one per kind, forwards cycling through kinds and inputs. */
static void run_forwards(worker *wk, clnorm_context *ctx)
{
    layer layers[KIND_COUNT] = {{0}};
    cl_mem in[KIND_COUNT][INPUTS] = {{0}}, out[KIND_COUNT] = {0};
    float *y[KIND_COUNT] = {0};
    int ok = 1;
    for (int k = 0; k < KIND_COUNT && ok; ++k) {
        clnorm_status st = layer_create(ctx, &wk->cases[k], &layers[k]);
        if (st != CLNORM_OK) {
            note_failure(wk, "thread %d: %s create: %s: %s", wk->index, kind_name((kind)k),
                         clnorm_status_name(st), clnorm_errmsg(ctx));
            ok = 0;
        }
        y[k] = malloc(wk->cases[k].count * sizeof(float));
        ok = ok && y[k] && buffers_create(wk, ctx, &wk->cases[k], in[k], &out[k]);
    }
    for (unsigned it = 0; ok && it < wk->iterations && wk->failures < 10; ++it) {
        int k = (int)(it % KIND_COUNT), i = (int)(it / KIND_COUNT % INPUTS);
        checked_forward(wk, ctx, &layers[k], &wk->cases[k], i, in[k][i], out[k], y[k]);
    }
    for (int k = 0; k < KIND_COUNT; ++k) {
        layer_destroy(&layers[k]);
        buffers_release(in[k], out[k]);
        free(y[k]);
    }
}

/* Layers live for one forward: creation and destruction race with other
 * threads' creations, forwards and destructions on the same context. */
static void run_churn(worker *wk, clnorm_context *ctx)
{
    for (unsigned it = 0; it < wk->iterations && wk->failures < 10; ++it) {
        int k = (int)((it + (unsigned)wk->index) % KIND_COUNT), i = (int)(it % INPUTS);
        const work *w = &wk->cases[k];
        layer l;
        cl_mem in[INPUTS] = {0}, out = NULL;
        float *y = malloc(w->count * sizeof *y);
        clnorm_status st = layer_create(ctx, w, &l);
        if (st != CLNORM_OK)
            note_failure(wk, "thread %d: %s create: %s: %s", wk->index, kind_name((kind)k),
                         clnorm_status_name(st), clnorm_errmsg(ctx));
        else if (y && buffers_create(wk, ctx, w, in, &out))
            checked_forward(wk, ctx, &l, w, i, in[i], out, y);
        layer_destroy(&l);
        buffers_release(in, out);
        free(y);
    }
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    /* Everyone starts at once, before any program exists: the first layers
     * of every thread build (or load) the programs concurrently. */
    pthread_barrier_wait(&start_line);
    clnorm_context *ctx = wk->shared;
    if (!ctx) {
        clnorm_status st = clnorm_context_create(NULL, 0, &ctx);
        if (st != CLNORM_OK) {
            note_failure(wk, "thread %d: context: %s", wk->index, clnorm_errmsg(ctx));
            clnorm_context_destroy(ctx);
            return NULL;
        }
    }
    if (wk->churn)
        run_churn(wk, ctx);
    else
        run_forwards(wk, ctx);
    if (!wk->shared) {
        if (clFinish(clnorm_context_queue(ctx)) != CL_SUCCESS)
            note_failure(wk, "thread %d: clFinish failed", wk->index);
        clnorm_context_program_counts(ctx, &wk->built, &wk->cached);
        clnorm_context_destroy(ctx);
    }
    return NULL;
}

/* ---------------------------------------------------------------- driver */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* A new, empty CLNORM_CACHE_DIR, so that this test's threads build programs. */
static void fresh_cache_dir(const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", temp_root, name);
    assert_int_equal(setenv("CLNORM_CACHE_DIR", dir, 1), 0);
}

static void run_workers(int shared_context, int churn, unsigned iterations, const char *what)
{
    static worker workers[THREADS];
    clnorm_context *shared = shared_context ? test_context(0) : NULL;
    for (int t = 0; t < THREADS; ++t)
        worker_init(&workers[t], t, shared, iterations, churn);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_barrier_init(&start_line, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; ++t)
        assert_int_equal(pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]), 0);
    size_t forwards = 0, failures = 0;
    unsigned built = 0, cached = 0;
    for (int t = 0; t < THREADS; ++t) {
        assert_int_equal(pthread_join(workers[t].thread, NULL), 0);
        forwards += workers[t].forwards;
        failures += workers[t].failures;
        built += workers[t].built;
        cached += workers[t].cached;
        if (workers[t].failures)
            print_error("%s: %zu failures; first: %s\n", what, workers[t].failures,
                        workers[t].first_error);
    }
    pthread_barrier_destroy(&start_line);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (shared) {
        finish(shared);
        clnorm_context_program_counts(shared, &built, &cached);
        clnorm_context_destroy(shared);
    }
    unsigned programs = built + cached;
    print_message("%s: %d threads, %zu checked forwards in %.2f s (programs: %u built, %u "
                  "from cache)\n",
                  what, THREADS, forwards,
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), built,
                  cached);
    for (int t = 0; t < THREADS; ++t)
        for (int k = 0; k < KIND_COUNT; ++k)
            work_free(&workers[t].cases[k]);
    assert_int_equal(failures, 0);
    assert_int_equal(forwards, (size_t)THREADS * iterations);
    if (shared) /* one program per variant, whatever the number of threads */
        assert_in_range(programs, 1, CLNORM_VARIANT_COUNT);
}

static void shared_context_forwards(void **state)
{
    (void)state;
    fresh_cache_dir("shared");
    run_workers(1, 0, env_count("CLNORM_STRESS_ITERATIONS", DEFAULT_ITERATIONS),
                "one shared context");
}

static void context_per_thread(void **state)
{
    (void)state;
    fresh_cache_dir("per-thread");
    run_workers(0, 0, env_count("CLNORM_STRESS_ITERATIONS", DEFAULT_ITERATIONS),
                "one context per thread");
}

static void create_destroy_churn(void **state)
{
    (void)state;
    fresh_cache_dir("churn");
    run_workers(1, 1, env_count("CLNORM_STRESS_CHURN", DEFAULT_CHURN),
                "create/forward/destroy on a shared context");
}

int main(void)
{
    snprintf(temp_root, sizeof temp_root, "%s/clnorm-threads-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(temp_root)) {
        perror("mkdtemp");
        return 1;
    }
    test_seed_from_clock();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_context_forwards),
        cmocka_unit_test(context_per_thread),
        cmocka_unit_test(create_destroy_churn),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nftw(temp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
