/* SPDX-License-Identifier: Apache-2.0 */
/* test_forward_faults.c: injected OpenCL and allocation failures
 * (src/fault.h) in forwards, parameter syncs and statistics must give a
 * clean status naming the failed call and leave everything usable: the same
 * call then succeeds with the right numbers, and every OpenCL object is
 * released. (Context and layer creation, builds and the cache: test_context.c.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_calls.h"
#include "test_main.h"

/* A fault fired at call n of `site`: CLNORM_OUT_OF_MEMORY for an allocation,
 * else CLNORM_OPENCL_ERROR naming the call and the error. (The faults of
 * context and layer creation, builds and the cache: test_context.c.) */
static void expect_fault_report(const clnorm_context *c, clnorm_status st, const char *site,
                                unsigned long n)
{
    int alloc = !strcmp(site, "malloc") || !strcmp(site, "calloc") || !strcmp(site, "realloc");
    clnorm_status want = alloc ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR;
    const char *msg = clnorm_errmsg(c), *name = clnorm_status_name(want);
    if (st != want || strncmp(msg, name, strlen(name)) ||
        (!alloc && (!strstr(msg, site) || !strstr(msg, "CL_OUT_OF_RESOURCES")))) {
        print_error("fault at call %lu (%s): returned %s, \"%s\"; expected %s\n", n, site,
                    clnorm_status_name(st), msg, name);
        fail();
    }
}

/* Arm call n, run `expr`, disarm; `fired` and `site` tell what happened. */
#define ARMED(n, expr, fired, site)                                                                \
    do {                                                                                           \
        clnorm_test_fault_arm((n), CL_OUT_OF_RESOURCES);                                           \
        expr;                                                                                      \
        (fired) = clnorm_test_fault_fired();                                                       \
        snprintf((site), sizeof(site), "%s", clnorm_test_fault_site());                            \
        clnorm_test_fault_arm(0, 0);                                                               \
    } while (0)

static void fault_on_first_call(void **state)
{
    fix *f = *state;
    for (int op = OP_VN; op <= OP_INV; ++op)
        for (int e = 0; e < 2; ++e) {
            clnorm_test_fault_arm(1, e ? CL_OUT_OF_HOST_MEMORY : CL_OUT_OF_RESOURCES);
            BAD(op, (void)0, e ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR,
                e ? "clGetMemObjectInfo failed with CL_OUT_OF_HOST_MEMORY"
                  : "clGetMemObjectInfo failed with CL_OUT_OF_RESOURCES");
            assert_true(clnorm_test_fault_fired());
            clnorm_test_fault_arm(0, 0);
            args a = good(f, op);
            accept(f, &a);
        }
    /* the first thing each create does is allocate */
    clnorm_varnorm2d *vn = NULL;
    clnorm_revin *rv = NULL;
    clnorm_context *c = (clnorm_context *)&c;
    clnorm_test_fault_arm(1, 0);
    EXPECT(ctx, clnorm_varnorm2d_create(ctx, VC, &vn), CLNORM_OUT_OF_MEMORY,
           "varnorm2d_create: allocating the layer");
    clnorm_test_fault_arm(1, 0);
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 0, &rv), CLNORM_OUT_OF_MEMORY,
           "revin_create: allocating the layer");
    clnorm_test_fault_arm(1, 0);
    assert_int_equal(clnorm_context_create(NULL, 0, &c), CLNORM_OUT_OF_MEMORY);
    clnorm_test_fault_arm(0, 0);
    assert_true(vn == NULL && rv == NULL && c == NULL);
}

/* Fail call N = 1, 2, ... of one call on a fresh layer (after one good call
 * when `steady`) until it completes without the countdown firing. Every site
 * in `want` must have failed at least once: the loop went deep. */
static void forward_fault_loop(fix *f, int op, int steady, int affine, int split, const char *want)
{
    size_t count = split ? 65536 : COUNT; /* split: one row of 65536, partials then apply */
    float *x = malloc(count * sizeof *x);
    assert_non_null(x);
    fill_family(x, 1, count, 1, FAMILY_NORMAL);
    cl_mem in = buffer_from(f->c, x, count, 0), out = buffer_poisoned(f->c, count);
    cl_event ue = user_event_complete(f->c), wl[CLNORM_WAITS_RESERVED + 4];
    for (size_t i = 0; i < sizeof wl / sizeof wl[0]; ++i)
        wl[i] = ue; /* more than layers reserve: grown when there is a prior command too */
    char seen[512] = " ", site[64], tok[72];
    unsigned long n;
    int fired;
    for (n = 1;; ++n) {
        args a = good(f, op);
        a.in = in, a.out = out;
        if (split)
            a.d[0] = a.d[1] = 1, a.d[2] = a.d[3] = 256;
        clnorm_varnorm2d *vn = NULL;
        clnorm_revin *rv = NULL;
        if (op == OP_VN)
            assert_int_equal(clnorm_varnorm2d_create(f->c, a.d[1], &vn), CLNORM_OK);
        else
            assert_int_equal(clnorm_revin_create(f->c, RD, affine ? CLNORM_REVIN_AFFINE : 0, &rv),
                             CLNORM_OK);
        a.layer = op == OP_VN ? (void *)vn : (void *)rv;
        a.p = op == OP_VN ? (const void *)&f->vp : affine ? (const void *)&f->rp : NULL;
        if (op == OP_INV)
            assert_int_equal(clnorm_revin_forward(rv, a.p, RB, RL, in, 0, out, 0, 0, NULL, NULL),
                             CLNORM_OK);
        if (steady)
            assert_int_equal(call(&a, NULL), CLNORM_OK);
        for (int i = 0; i < VC; ++i) /* the armed call uploads new values */
            f->alpha[i] = 0.5f + (float)i + 0.125f * (float)(n % 5), f->w[i] = n % 2 ? 4.0f : 2.0f,
            f->bias[i] = n % 2 ? -0.25f : 0.5f;
        f->vp.version++, f->rp.version++;
        a.nw = sizeof wl / sizeof wl[0], a.wl = wl;
        cl_event ev = SENTINEL;
        clnorm_status st;
        ARMED(n, st = call(&a, &ev), fired, site);
        if (fired) {
            snprintf(tok, sizeof tok, " %s ", site);
            if (!strstr(seen, tok) && strlen(seen) + strlen(tok) < sizeof seen)
                strcat(seen, tok + 1);
            expect_fault_report(f->c, st, site, n);
            assert_true(ev == SENTINEL || ev == NULL);
        } else if (st != CLNORM_OK) {
            print_error("%s\n", clnorm_errmsg(f->c));
            fail();
        }
        if (st == CLNORM_OK)
            clReleaseEvent(ev);
        assert_int_equal(call(&a, NULL), CLNORM_OK); /* the retry, disarmed */
        finish(f->c);
        check_out(f, &a, x);
        clnorm_varnorm2d_destroy(vn), clnorm_revin_destroy(rv);
        if (!fired)
            break;
        assert_true(n < 10000);
    }
    print_message("%s%s%s%s: %lu calls, each failed in turn:%s\n", op_names[op],
                  steady ? " (steady)" : "", affine ? " (affine)" : "", split ? " (split)" : "",
                  n - 1, seen);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", want);
    for (char *save, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        snprintf(tok, sizeof tok, " %s ", w);
        if (!strstr(seen, tok)) {
            print_error("%s: the fault loop never failed %s\n", op_names[op], w);
            fail();
        }
    }
    clReleaseEvent(ue), clReleaseMemObject(in), clReleaseMemObject(out), free(x);
}

static void forward_faults(void **state)
{
    fix *f = *state;
#define COMMON "clGetMemObjectInfo clSetKernelArg clEnqueueNDRangeKernel clRetainEvent "
    /*                    op      steady affine split  calls that must have failed */
    forward_fault_loop(f, OP_VN, 0, 0, 0, COMMON "clCreateBuffer");
    forward_fault_loop(f, OP_VN, 1, 0, 0, COMMON "clCreateBuffer realloc");
    forward_fault_loop(f, OP_VN, 0, 0, 1, COMMON "clCreateBuffer");
    forward_fault_loop(f, OP_FWD, 0, 0, 0, COMMON "clCreateBuffer");
    forward_fault_loop(f, OP_FWD, 1, 1, 0, COMMON "clCreateBuffer realloc");
    forward_fault_loop(f, OP_INV, 0, 0, 0, COMMON "realloc");
    forward_fault_loop(f, OP_INV, 1, 1, 0, COMMON "clCreateBuffer");
#undef COMMON
    /* set_stats and read_stats: a failed set_stats keeps the old statistics */
    float m0[RROWS], s0[RROWS], m1[RROWS], s1[RROWS], m[RROWS], s[RROWS];
    char site[64];
    int fired;
    assert_int_equal(clnorm_revin_read_stats(f->rv, m0, s0, RROWS), CLNORM_OK);
    for (int i = 0; i < RROWS; ++i)
        m1[i] = (float)i, s1[i] = 1.0f + (float)i;
    for (int which = 0; which < 2; ++which)
        for (unsigned long n = 1;; ++n) {
            clnorm_status st;
            ARMED(n,
                  st = which ? clnorm_revin_read_stats(f->rv, m, s, RROWS)
                             : clnorm_revin_set_stats(f->rv, RB, m1, s1),
                  fired, site);
            if (fired)
                expect_fault_report(f->c, st, site, n);
            assert_int_equal(clnorm_revin_read_stats(f->rv, m, s, RROWS), CLNORM_OK);
            assert_memory_equal(m, !fired && !which ? m1 : m0, sizeof m);
            assert_memory_equal(s, !fired && !which ? s1 : s0, sizeof s);
            assert_int_equal(clnorm_revin_set_stats(f->rv, RB, m0, s0), CLNORM_OK);
            if (!fired)
                break;
        }
}

/* A failed device allocation names the buffer, its size and the device's
 * limits, and clnorm_last_cl_error() gives the raw code; a later failure
 * that is no OpenCL call's resets it to CL_SUCCESS. */
static void allocation_failure_says_what(void **state)
{
    (void)state;
    enum { B = 5, L = 40, D = 3 };
    float host[B * L * D];
    for (size_t i = 0; i < B * L * D; ++i)
        host[i] = (float)rand() / RAND_MAX;
    cl_mem in = buffer_from(ctx, host, B * L * D, 0), out = buffer_poisoned(ctx, B * L * D);
    assert_int_equal(clnorm_last_cl_error(NULL), CL_SUCCESS);
    clnorm_revin *rv = NULL;
    assert_int_equal(clnorm_revin_create(ctx, D, 0, &rv), CLNORM_OK);
    int seen = 0;
    for (unsigned long n = 1; n < 100 && !seen; ++n) {
        clnorm_test_fault_arm(n, CL_MEM_OBJECT_ALLOCATION_FAILURE);
        clnorm_status st = clnorm_revin_forward(rv, NULL, B, L, in, 0, out, 0, 0, NULL, NULL);
        int fired = clnorm_test_fault_fired();
        char site[64];
        snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
        clnorm_test_fault_arm(0, 0);
        if (!fired)
            break;
        assert_int_equal(st, CLNORM_OPENCL_ERROR);
        assert_int_equal(clnorm_last_cl_error(ctx), CL_MEM_OBJECT_ALLOCATION_FAILURE);
        if (strcmp(site, "clCreateBuffer"))
            continue;
        const char *msg = clnorm_errmsg(ctx);
        char bytes[64];
        snprintf(bytes, sizeof bytes, "(%zu bytes)", (size_t)B * D * sizeof(float));
        if (!strstr(msg, "the RevIN mean") || !strstr(msg, bytes) ||
            !strstr(msg, "CL_MEM_OBJECT_ALLOCATION_FAILURE") ||
            !strstr(msg, "CL_DEVICE_MAX_MEM_ALLOC_SIZE") || !strstr(msg, "global memory"))
            fail_msg("allocation failure at call %lu: \"%s\"", n, msg);
        seen = 1;
    }
    assert_true(seen);
    /* A failure that is not an OpenCL call's: CL_SUCCESS again. */
    assert_int_equal(clnorm_revin_forward(rv, NULL, 0, L, in, 0, out, 0, 0, NULL, NULL),
                     CLNORM_ZERO_SIZE);
    assert_int_equal(clnorm_last_cl_error(ctx), CL_SUCCESS);
    /* A success leaves the last failure's code as it was. */
    assert_int_equal(clnorm_revin_forward(rv, NULL, B, L, in, 0, out, 0, 0, NULL, NULL), CLNORM_OK);
    assert_int_equal(clnorm_last_cl_error(ctx), CL_SUCCESS);
    finish(ctx);
    clnorm_revin_destroy(rv);
    clReleaseMemObject(in), clReleaseMemObject(out);
}

TEST_MAIN(group_setup, group_teardown,
          cmocka_unit_test_setup_teardown(fault_on_first_call, setup, teardown),
          cmocka_unit_test_setup_teardown(forward_faults, setup, teardown),
          cmocka_unit_test(allocation_failure_says_what))
