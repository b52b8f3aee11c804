/* SPDX-License-Identifier: Apache-2.0 */
/* test_op_calls.c: what every operation of the table owes its callers,
 * checked on each op's first test case:
 * - a bad argument (buffers, offsets, sizes, overlaps, wait lists, shapes,
 *   parameters) is refused with its status and a message, enqueues nothing
 *   (the output stays poisoned) and leaves the event untouched;
 * - a failure injected at every OpenCL call and allocation of create + run
 *   in turn gives a clean status, releases every OpenCL object, and the
 *   next attempt computes the right numbers;
 * - threads running different ops on one shared context, and on a context
 *   each, all compute the right numbers. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h" /* the countdown and the live-object tally (test builds) */
#include "op_check.h"
#include "shared_context.h"
#include "support.h"
#include "test_main.h"

#define POISON_BITS 0xffu /* buffer_poisoned(): every float a NaN of these bytes */
#define SENTINEL ((cl_event)(uintptr_t)0x5eed)

/* Every float of `buf` still the poison buffer_poisoned() wrote. */
static int still_poisoned(cl_mem buf, size_t count)
{
    float *h = malloc(count * sizeof *h);
    assert_non_null(h);
    finish(ctx);
    buffer_read(ctx, buf, 0, h, count);
    cl_mem fresh = buffer_poisoned(ctx, count);
    float *want = malloc(count * sizeof *want);
    assert_non_null(want);
    buffer_read(ctx, fresh, 0, want, count);
    int same = memcmp(h, want, count * sizeof *h) == 0;
    clReleaseMemObject(fresh);
    free(h), free(want);
    return same;
}

/* Buffers a bad call may use: one a float too small, one a float too big,
 * labels one short. */
typedef struct spare {
    cl_mem small, small_out, big, short_labels; /* small_out: one short of y (a product's) */
} spare;

/* One bad call, as data: a change to a good call, and what it must give. */
typedef struct bad_call {
    const char *what;
    clnorm_status want;
    const char *needle;
    void (*change)(op_call *k, const spare *s, const cl_event *events);
    int needs; /* NEEDS_PARAMS, NEEDS_LABELS: only for ops that have them */
} bad_call;
enum { NEEDS_PARAMS = 1, NEEDS_LABELS };

static void no_input(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->in = NULL;
}
static void no_output(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->out = NULL;
}
static void odd_in_off(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->in_off = 2;
}
static void odd_out_off(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->out_off = 6;
}
static void small_in(op_call *k, const spare *s, const cl_event *e) { (void)e, k->in = s->small; }
static void small_out(op_call *k, const spare *s, const cl_event *e)
{
    (void)e, k->out = s->small_out;
}
static void overlap(op_call *k, const spare *s, const cl_event *e)
{
    (void)e;
    k->in = k->out = s->big; /* the output a float further on: neither in place nor disjoint */
    k->in_off = 0;
    k->out_off = 4;
}
static void null_list(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->num_wait = 1;
}
static void list_no_count(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, k->wait_list = e;
}
static void null_event(op_call *k, const spare *s, const cl_event *e)
{
    (void)s;
    (void)e;
    static const cl_event none[2] = {NULL, NULL};
    k->num_wait = 2, k->wait_list = none;
}
static void zero_dim(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->shape[0] = 0;
}
static void no_params(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e;
    for (size_t i = 0; i < OP_MAX_PARAMS; ++i)
        k->params[i] = NULL;
}

static void no_labels(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->labels = NULL;
}
static void odd_labels_off(op_call *k, const spare *s, const cl_event *e)
{
    (void)s, (void)e, k->labels_off = 2;
}
static void short_labels(op_call *k, const spare *s, const cl_event *e)
{
    (void)e, k->labels = s->short_labels;
}

static const bad_call bad_calls[] = {
    {"input NULL", CLNORM_NULL_ARGUMENT, "input buffer is NULL", no_input, 0},
    {"output NULL", CLNORM_NULL_ARGUMENT, "output buffer is NULL", no_output, 0},
    {"input offset 2", CLNORM_MISALIGNED_OFFSET, "offset 2 bytes is not a multiple of 4",
     odd_in_off, 0},
    {"output offset 6", CLNORM_MISALIGNED_OFFSET, "offset 6 bytes is not a multiple of 4",
     odd_out_off, 0},
    {"input too small", CLNORM_BUFFER_TOO_SMALL, "input buffer has", small_in, 0},
    {"output too small", CLNORM_BUFFER_TOO_SMALL, "output buffer has", small_out, 0},
    {"overlap", CLNORM_INVALID_ARGUMENT, "overlap", overlap, 0},
    {"wait list NULL", CLNORM_NULL_ARGUMENT, "wait_list is NULL", null_list, 0},
    {"wait list, no count", CLNORM_INVALID_ARGUMENT, "num_wait 0", list_no_count, 0},
    {"NULL event in the list", CLNORM_NULL_ARGUMENT, "wait_list[0] is NULL", null_event, 0},
    {"zero dimension", CLNORM_ZERO_SIZE, "", zero_dim, 0},
    {"no parameters", CLNORM_NULL_ARGUMENT, "", no_params, NEEDS_PARAMS},
    {"labels NULL", CLNORM_NULL_ARGUMENT, "labels buffer is NULL", no_labels, NEEDS_LABELS},
    {"labels offset 2", CLNORM_MISALIGNED_OFFSET, "labels offset 2 bytes", odd_labels_off,
     NEEDS_LABELS},
    {"labels one short", CLNORM_BUFFER_TOO_SMALL, "labels buffer has", short_labels, NEEDS_LABELS},
};

static void argument_errors(void **state)
{
    (void)state;
    for (size_t t = 0; t < op_count; ++t) {
        const op_desc *op = op_table[t];
        const op_case *tc = &op->tests[0];
        op_case_data cd;
        assert_int_equal(
            op_case_data_make(op, &tc->config, tc->shape, tc->ndim, FAMILY_NORMAL, &cd), 0);
        size_t count = cd.d.count, y_count = cd.d.y_count;
        size_t most = count > y_count ? count : y_count;
        cl_mem in = buffer_from(ctx, cd.x, count, 0), out = buffer_poisoned(ctx, y_count);
        spare sp = {buffer_poisoned(ctx, count - 1), buffer_poisoned(ctx, y_count - 1),
                    buffer_poisoned(ctx, most + 1),
                    buffer_from_labels(ctx, cd.labels, tc->shape[0] - 1)};
        cl_event ue = clCreateUserEvent(clnorm_context_cl_context(ctx), NULL);
        assert_int_equal(clSetUserEventStatus(ue, CL_COMPLETE), CL_SUCCESS);
        void *layer = NULL;
        assert_int_equal(op->create(ctx, &tc->config, tc->shape, tc->ndim, &layer), CLNORM_OK);
        cl_mem labels = buffer_from_labels(ctx, cd.labels, tc->shape[0]);
        op_call good = op_case_call(&cd, in, out, labels);
        if (cd.nstats_in)
            assert_int_equal(
                op->set_stats(&tc->config, layer, &good, (const float *const *)cd.stats_in),
                CLNORM_OK);
        for (size_t i = 0; i < sizeof bad_calls / sizeof bad_calls[0]; ++i) {
            const bad_call *b = &bad_calls[i];
            if ((b->needs == NEEDS_PARAMS && !cd.nparams) ||
                (b->needs == NEEDS_LABELS && !cd.labels))
                continue;
            op_call k = good;
            b->change(&k, &sp, &ue);
            cl_event ev = SENTINEL;
            clnorm_status st = op->run(&tc->config, layer, &k, &ev);
            const char *msg = clnorm_errmsg(ctx);
            if (st != b->want || !strstr(msg, b->needle) || ev != SENTINEL) {
                print_error("%s, %s: returned %s \"%s\"; expected %s with \"%s\"\n", op->name,
                            b->what, clnorm_status_name(st), msg, clnorm_status_name(b->want),
                            b->needle);
                fail();
            }
            if (!still_poisoned(out, y_count) || !still_poisoned(sp.small, count - 1) ||
                !still_poisoned(sp.small_out, y_count - 1) || !still_poisoned(sp.big, most + 1)) {
                print_error("%s, %s: the refused call wrote its output\n", op->name, b->what);
                fail();
            }
        }
        assert_int_equal(op->run(&tc->config, NULL, &good, NULL), CLNORM_NULL_ARGUMENT);
        /* and the good call still works */
        assert_int_equal(op->run(&tc->config, layer, &good, NULL), CLNORM_OK);
        assert_false(still_poisoned(out, y_count));
        op->destroy(layer);
        op->destroy(NULL); /* _destroy accepts NULL */
        clReleaseEvent(ue);
        clReleaseMemObject(in), clReleaseMemObject(out);
        clReleaseMemObject(sp.small), clReleaseMemObject(sp.small_out), clReleaseMemObject(sp.big);
        buffer_release(sp.short_labels), buffer_release(labels);
        op_case_data_free(&cd);
    }
}

/* Fail call N = 1, 2, ... of create + statistics + run on a fresh layer
 * until it completes without the countdown firing; every failure is a
 * clean status, and every OpenCL object is released after each round. */
static void fault_loops(void **state)
{
    (void)state;
    for (size_t t = 0; t < op_count; ++t) {
        const op_desc *op = op_table[t];
        const op_case *tc = &op->tests[0];
        const op_config *c = &tc->config;
        op_case_data cd;
        assert_int_equal(op_case_data_make(op, c, tc->shape, tc->ndim, FAMILY_NORMAL, &cd), 0);
        cl_mem in = buffer_from(ctx, cd.x, cd.d.count, 0), out = buffer_poisoned(ctx, cd.d.y_count);
        cl_mem labels = buffer_from_labels(ctx, cd.labels, tc->shape[0]);
        finish(ctx);
        long live = clnorm_test_live_objects();
        unsigned long n;
        for (n = 1;; ++n) {
            void *layer = NULL;
            op_call k = op_case_call(&cd, in, out, labels);
            cl_event ev = NULL;
            clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
            clnorm_status st = op->create(ctx, c, tc->shape, tc->ndim, &layer);
            if (st == CLNORM_OK && cd.nstats_in)
                st = op->set_stats(c, layer, &k, (const float *const *)cd.stats_in);
            if (st == CLNORM_OK)
                st = op->run(c, layer, &k, &ev);
            int fired = clnorm_test_fault_fired();
            clnorm_test_fault_arm(0, 0);
            if (fired && st != CLNORM_OPENCL_ERROR && st != CLNORM_OUT_OF_MEMORY &&
                st != CLNORM_BUILD_FAILED && st != CLNORM_BLAS_ERROR) {
                print_error("%s: fault at call %lu (%s) gave %s\n", op->name, n,
                            clnorm_test_fault_site(), clnorm_status_name(st));
                fail();
            }
            if (!fired)
                assert_int_equal(st, CLNORM_OK);
            op_run_release(ctx, op, layer, ev);
            if (clnorm_test_live_objects() != live) {
                print_error("%s: fault at call %lu: %ld OpenCL references left\n", op->name, n,
                            clnorm_test_live_objects() - live);
                fail();
            }
            if (!fired)
                break;
        }
        printf("# %s: %lu calls, each failed in turn\n", op->name, n - 1);
        assert_true(n > 3);
        buffer_release(labels);
        clReleaseMemObject(in), clReleaseMemObject(out);
        op_case_data_free(&cd);
        /* after all that, the numbers */
        assert_int_equal(op_check(ctx, op, c, tc->shape, tc->ndim, FAMILY_OFFSET), 0);
    }
}

/* ---- threads ---- */

typedef struct worker {
    clnorm_context *shared; /* NULL: a context of its own */
    size_t first_op, rounds, bad;
    uint64_t seed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    rng_seed(w->seed);
    clnorm_context *own = NULL;
    clnorm_context *c = w->shared;
    if (!c && clnorm_context_create(NULL, 0, &own) != CLNORM_OK) {
        w->bad = 1;
        clnorm_context_destroy(own);
        return NULL;
    }
    c = c ? c : own;
    for (size_t r = 0; r < w->rounds; ++r) {
        const op_desc *op = op_table[(w->first_op + r) % op_count];
        const op_case *tc = &op->tests[r % op->tests_count];
        w->bad +=
            op_check_quiet(c, op, &tc->config, tc->shape, tc->ndim, (family)(r % FAMILY_COUNT));
    }
    clnorm_context_destroy(own);
    return NULL;
}

static void run_workers(clnorm_context *shared)
{
    enum { THREADS = 4 };
    worker w[THREADS];
    for (size_t i = 0; i < THREADS; ++i) {
        worker wi = {shared, i, 3 * op_count, 0, 1000 + i};
        w[i] = wi;
    }
    run_threads(THREADS, work, w, sizeof w[0]);
    size_t bad = 0;
    for (size_t i = 0; i < THREADS; ++i)
        bad += w[i].bad;
    assert_int_equal(bad, 0);
}

static void threads_shared_context(void **state)
{
    (void)state;
    run_workers(ctx);
}

static void threads_own_contexts(void **state)
{
    (void)state;
    run_workers(NULL);
}

TEST_MAIN_SEEDED(group_setup, group_teardown, cmocka_unit_test(argument_errors),
                 cmocka_unit_test(fault_loops), cmocka_unit_test(threads_shared_context),
                 cmocka_unit_test(threads_own_contexts))
