/* SPDX-License-Identifier: Apache-2.0 */
/* test_linear.c: what the CLBlast-backed layers (Linear, TransposedLinear,
 * RLinear, every test case of each) owe beyond test_op_calls' checks:
 * - a wait list gated by a user event holds the whole product back (no
 *   deadlock, nothing written) until the event completes;
 * - on an out-of-order queue the product and its epilogue keep their order;
 * - threads creating layers at once on fresh CLBlast caches all work;
 * - a fault at the barrier or at the CLBlast call, with a wait list, gives
 *   a clean status naming the failure and leaks nothing;
 * - the constructor's and CLBlast's errors are clear. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "op_check.h"
#include "shared_context.h"
#include "support.h"
#include "test_main.h"

/* The products of the table: the ops with a flop count. */
static int is_product(const op_desc *op) { return op->flops != NULL; }

/* One case run on context c with the wait list `waits` (its events may be
 * gated: `release` completes them after the enqueue, once it checked that
 * nothing ran). Returns the elements out of tolerance. */
static size_t run_case(clnorm_context *c, const op_desc *op, const op_case *tc, cl_event gate)
{
    op_case_data cd;
    assert_int_equal(op_case_data_make(op, &tc->config, tc->shape, tc->ndim, FAMILY_SCALES, &cd),
                     0);
    size_t n = cd.d.y_count;
    double *ref = malloc(n * sizeof *ref), *tol = malloc(n * sizeof *tol);
    float *y = malloc(n * sizeof *y);
    assert_true(ref && tol && y);
    op->reference(&tc->config, &cd.d, ref, NULL);
    op->tolerance(&tc->config, &cd.d, ref, NULL, tol, NULL);
    cl_mem in = buffer_from(c, cd.x, cd.d.count, 0), out = buffer_poisoned(c, n);
    op_call k = op_case_call(&cd, in, out, NULL);
    if (gate) {
        k.num_wait = 1;
        k.wait_list = &gate;
    }
    void *layer = NULL;
    cl_event done = NULL;
    clnorm_status st = op->create(c, &tc->config, tc->shape, tc->ndim, &layer);
    if (st == CLNORM_OK)
        st = op->run(&tc->config, layer, &k, &done);
    cl_int status = CL_COMPLETE;
    if (gate && done) /* held back: not complete */
        clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    /* the gate opened before any assert: a failure must not leave the queue
     * waiting on it (the context's teardown would hang) */
    if (gate)
        assert_int_equal(clSetUserEventStatus(gate, CL_COMPLETE), CL_SUCCESS);
    if (st != CLNORM_OK)
        fail_msg("%s: %s: %s", op->name, clnorm_status_name(st), clnorm_errmsg(c));
    assert_true(!gate || status > CL_COMPLETE);
    assert_int_equal(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    buffer_read(c, out, 0, y, n);
    char what[256];
    op_case_name(op, &tc->config, tc->shape, tc->ndim, FAMILY_SCALES, c, what, sizeof what);
    size_t bad = check_close(what, y, ref, tol, n);
    op->destroy(layer);
    clReleaseMemObject(in), clReleaseMemObject(out);
    free(ref), free(tol), free(y);
    op_case_data_free(&cd);
    return bad;
}

static void gated_wait_list(void **state)
{
    (void)state;
    for (size_t t = 0; t < op_count; ++t)
        for (size_t i = 0; is_product(op_table[t]) && i < op_table[t]->tests_count; ++i) {
            cl_int err;
            cl_event gate = clCreateUserEvent(clnorm_context_cl_context(ctx), &err);
            assert_int_equal(err, CL_SUCCESS);
            assert_int_equal(run_case(ctx, op_table[t], &op_table[t]->tests[i], gate), 0);
            clReleaseEvent(gate);
        }
}

static void out_of_order_queue(void **state)
{
    (void)state;
    cl_platform_id platform;
    cl_device_id device = clnorm_context_device(ctx);
    cl_int err;
    assert_int_equal(clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL),
                     CL_SUCCESS);
    cl_context cctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue q =
        clCreateCommandQueue(cctx, device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    assert_int_equal(err, CL_SUCCESS);
    clnorm_context *ooo = NULL;
    assert_int_equal(clnorm_context_wrap(cctx, device, q, 0, &ooo), CLNORM_OK);
    for (size_t t = 0; t < op_count; ++t)
        for (size_t i = 0; is_product(op_table[t]) && i < op_table[t]->tests_count; ++i) {
            cl_event gate = clCreateUserEvent(cctx, &err);
            assert_int_equal(run_case(ooo, op_table[t], &op_table[t]->tests[i], gate), 0);
            clReleaseEvent(gate);
        }
    clnorm_context_destroy(ooo);
    clReleaseCommandQueue(q);
    /* CLBlast holds the context until its cache is cleared */
    assert_int_equal(clnorm_blas_clear_cache(), CLNORM_OK);
    clReleaseContext(cctx);
}

/* ---- threads: layers created at once, CLBlast's cache emptied first ---- */

typedef struct creator {
    pthread_barrier_t *start;
    const op_desc *op;
    size_t bad;
} creator;

static void *create_at_once(void *arg)
{
    creator *w = arg;
    clnorm_context *own = NULL;
    if (clnorm_context_create(NULL, 0, &own) != CLNORM_OK) {
        w->bad = 1;
        return NULL;
    }
    pthread_barrier_wait(w->start);
    const op_case *tc = &w->op->tests[w->op->tests_count - 1];
    w->bad = op_check_quiet(own, w->op, &tc->config, tc->shape, tc->ndim, FAMILY_NORMAL);
    clnorm_context_destroy(own);
    return NULL;
}

static void threads_create_at_once(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    const op_desc *products[8];
    size_t np = 0;
    for (size_t t = 0; t < op_count && np < 8; ++t)
        if (is_product(op_table[t]))
            products[np++] = op_table[t];
    assert_true(np >= 3);
    /* CLBlast crashed in 7 of 70 such starts before its first use was serialised */
    for (int round = 0; round < 8; ++round) {
        assert_int_equal(clnorm_blas_clear_cache(), CLNORM_OK);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        creator w[THREADS];
        for (size_t i = 0; i < THREADS; ++i) {
            creator wi = {&start, products[(i + (size_t)round) % np], 0};
            w[i] = wi;
        }
        run_threads(THREADS, create_at_once, w, sizeof w[0]);
        size_t bad = 0;
        for (size_t i = 0; i < THREADS; ++i)
            bad += w[i].bad;
        pthread_barrier_destroy(&start);
        assert_int_equal(bad, 0);
    }
}

/* ---- faults with a wait list: the barrier and CLBlast's call fail too ---- */

static void faults_with_wait_list(void **state)
{
    (void)state;
    for (size_t t = 0; t < op_count; ++t) {
        const op_desc *op = op_table[t];
        if (!is_product(op))
            continue;
        for (size_t i = 0; i < op->tests_count; ++i) {
            const op_case *tc = &op->tests[i];
            op_case_data cd;
            assert_int_equal(
                op_case_data_make(op, &tc->config, tc->shape, tc->ndim, FAMILY_NORMAL, &cd), 0);
            cl_mem in = buffer_from(ctx, cd.x, cd.d.count, 0);
            cl_mem out = buffer_poisoned(ctx, cd.d.y_count);
            cl_int err;
            cl_event ready = clCreateUserEvent(clnorm_context_cl_context(ctx), &err);
            assert_int_equal(clSetUserEventStatus(ready, CL_COMPLETE), CL_SUCCESS);
            finish(ctx);
            long live = clnorm_test_live_objects();
            int barrier_failed = 0, blas_failed = 0;
            for (unsigned long n = 1;; ++n) {
                void *layer = NULL;
                op_call k = op_case_call(&cd, in, out, NULL);
                k.num_wait = 1;
                k.wait_list = &ready;
                cl_event ev = NULL;
                clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
                clnorm_status st = op->create(ctx, &tc->config, tc->shape, tc->ndim, &layer);
                if (st == CLNORM_OK)
                    st = op->run(&tc->config, layer, &k, &ev);
                int fired = clnorm_test_fault_fired();
                char site[64]; /* the library's copy is cleared by the next arm */
                snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
                clnorm_test_fault_arm(0, 0);
                if (fired && !strcmp(site, "clEnqueueBarrierWithWaitList")) {
                    barrier_failed = 1;
                    assert_int_equal(st, CLNORM_OPENCL_ERROR);
                }
                if (fired && !strncmp(site, "CLBlast", 7)) {
                    blas_failed = 1;
                    assert_int_equal(st, CLNORM_BLAS_ERROR);
                    assert_non_null(strstr(clnorm_errmsg(ctx), "CLBlastOpenCLOutOfResources"));
                }
                if (!fired)
                    assert_int_equal(st, CLNORM_OK);
                op_run_release(ctx, op, layer, ev);
                assert_int_equal(clnorm_test_live_objects(), live);
                if (!fired)
                    break;
            }
            if (!barrier_failed || !blas_failed)
                print_error("%s case %zu: barrier failed %d, CLBlast failed %d\n", op->name, i,
                            barrier_failed, blas_failed);
            assert_true(barrier_failed && blas_failed);
            clReleaseEvent(ready);
            clReleaseMemObject(in), clReleaseMemObject(out);
            op_case_data_free(&cd);
        }
    }
}

/* ---- constructor errors ---- */

static void create_errors(void **state)
{
    (void)state;
    clnorm_linear *l = (clnorm_linear *)&l;
    assert_int_equal(clnorm_linear_create(ctx, (clnorm_linear_form)7, 4, 4, 0, 0, &l),
                     CLNORM_INVALID_ARGUMENT);
    assert_null(l);
    assert_non_null(strstr(clnorm_errmsg(ctx), "form 7"));
    assert_int_equal(
        clnorm_linear_create(ctx, CLNORM_LINEAR_LAST, 4, 4, 3, CLNORM_LINEAR_INDIVIDUAL, &l),
        CLNORM_INVALID_ARGUMENT);
    assert_int_equal(clnorm_linear_create(ctx, CLNORM_LINEAR_LAST, 0, 4, 0, 0, &l),
                     CLNORM_ZERO_SIZE);
    assert_int_equal(
        clnorm_linear_create(ctx, CLNORM_LINEAR_TIME, 4, 4, 0, CLNORM_LINEAR_INDIVIDUAL, &l),
        CLNORM_ZERO_SIZE);
    assert_int_equal(clnorm_linear_create(ctx, CLNORM_LINEAR_LAST, 4, 4, 0, 1u << 9, &l),
                     CLNORM_INVALID_ARGUMENT);
    assert_int_equal(clnorm_linear_create(NULL, CLNORM_LINEAR_LAST, 4, 4, 0, 0, &l),
                     CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_linear_create(ctx, CLNORM_LINEAR_LAST, 4, 4, 0, 0, NULL),
                     CLNORM_NULL_ARGUMENT);
    clnorm_rlinear *r = (clnorm_rlinear *)&r;
    assert_int_equal(clnorm_rlinear_create(ctx, 12, 0, 3, 0, &r), CLNORM_ZERO_SIZE);
    assert_null(r);
    assert_int_equal(clnorm_rlinear_create(ctx, 12, 4, 3, 1u << 5, &r), CLNORM_INVALID_ARGUMENT);
    clnorm_revin *rv = NULL;
    assert_int_equal(clnorm_revin_forecast_create(ctx, 3, -1.0, 0, &rv), CLNORM_INVALID_ARGUMENT);
    assert_int_equal(clnorm_revin_create(ctx, 3, CLNORM_REVIN_SUBTRACT_LAST, &rv),
                     CLNORM_INVALID_ARGUMENT);
    /* the individual form's length must be its channels */
    assert_int_equal(
        clnorm_linear_create(ctx, CLNORM_LINEAR_TIME, 4, 2, 3, CLNORM_LINEAR_INDIVIDUAL, &l),
        CLNORM_OK);
    float w[24] = {0}, b[6] = {0};
    clnorm_linear_params p = {w, b, 1};
    cl_mem in = buffer_poisoned(ctx, 64), out = buffer_poisoned(ctx, 64);
    assert_int_equal(clnorm_linear_forward(l, &p, 1, 2, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_SHAPE_MISMATCH);
    assert_int_equal(clnorm_linear_forward(l, &p, 1, 3, in, 0, in, 0, 0, NULL, NULL),
                     CLNORM_INVALID_ARGUMENT); /* a product is never in place */
    assert_non_null(strstr(clnorm_errmsg(ctx), "cannot run in place"));
    clnorm_linear_destroy(l);
    clReleaseMemObject(in), clReleaseMemObject(out);
}

TEST_MAIN_SEEDED(group_setup, group_teardown, cmocka_unit_test(create_errors),
                 cmocka_unit_test(gated_wait_list), cmocka_unit_test(out_of_order_queue),
                 cmocka_unit_test(threads_create_at_once), cmocka_unit_test(faults_with_wait_list))
