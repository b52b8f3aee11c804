/* test_errors.c: every error path of the public API. A rejected call must
 * return the right status, leave a message naming the problem, and enqueue
 * nothing (its poisoned output stays poisoned, its event stays untouched, no
 * parameter upload). Injected OpenCL and allocation failures (src/fault.h)
 * must give a clean status naming the failed call and leave everything
 * usable: the same call then succeeds with the right numbers. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "support.h"

#define POISON (-7.75e30f) /* as buffer_poisoned() in support.c */
#define SENTINEL ((cl_event)(uintptr_t)0x5eed)
/* VarianceNorm2d (2, 3, 4, 5) and RevIN (B, L, D) = (2, 20, 3): both 120 floats. */
enum { VN = 2, VC = 3, VH = 4, VW = 5, RB = 2, RL = 20, RD = 3, RROWS = RB * RD, COUNT = 120 };
enum { OP_VN, OP_FWD, OP_INV };
static const char *const op_names[] = {"varnorm2d_forward", "revin_forward", "revin_inverse"};

static clnorm_context *ctx; /* the default device, shared by the tests */

/* Everything a call needs: layers, host data, an input and a poisoned output. */
typedef struct fix {
    clnorm_context *c;
    clnorm_varnorm2d *vn;
    clnorm_revin *rv, *aff; /* plain and CLNORM_REVIN_AFFINE */
    float x[COUNT], alpha[VC], w[RD], bias[RD];
    clnorm_varnorm2d_params vp;
    clnorm_revin_params rp;
    cl_mem in, out;
} fix;

/* One call of varnorm2d_forward, revin_forward or revin_inverse. */
typedef struct args {
    int op;
    void *layer;
    const void *p;
    size_t d[4]; /* n, c, h, w; or b, l */
    cl_mem in;
    size_t in_off;
    cl_mem out;
    size_t out_off;
    cl_uint nw;
    const cl_event *wl;
} args;

static clnorm_status call(const args *a, cl_event *ev)
{
    if (a->op == OP_VN)
        return clnorm_varnorm2d_forward(a->layer, a->p, a->d[0], a->d[1], a->d[2], a->d[3],
                                        a->in, a->in_off, a->out, a->out_off, a->nw, a->wl, ev);
    return (a->op == OP_FWD ? clnorm_revin_forward : clnorm_revin_inverse)(
        a->layer, a->p, a->d[0], a->d[1], a->in, a->in_off, a->out, a->out_off, a->nw, a->wl,
        ev);
}

static args good(fix *f, int op)
{
    args a = {op, f->rv, NULL, {RB, RL, 0, 0}, f->in, 0, f->out, 0, 0, NULL};
    if (op == OP_VN) {
        a.layer = f->vn, a.p = &f->vp;
        a.d[0] = VN, a.d[1] = VC, a.d[2] = VH, a.d[3] = VW;
    }
    return a;
}

/* ------------------------------------------------------------------ checks */

static void poison(fix *f, cl_mem buf, size_t count)
{
    float p = POISON;
    assert_int_equal(clEnqueueFillBuffer(clnorm_context_queue(f->c), buf, &p, sizeof p, 0,
                                         count * sizeof p, 0, NULL, NULL), CL_SUCCESS);
    finish(f->c);
}

/* Finish the queue, then every float of `buf` must still be the poison. */
static void expect_poison(fix *f, cl_mem buf, size_t count, int line)
{
    float h[COUNT + 2];
    finish(f->c);
    buffer_read(f->c, buf, 0, h, count);
    for (size_t i = 0; i < count; ++i)
        if (h[i] != POISON) {
            print_error("line %d: a rejected call wrote its output ([%zu] = %g)\n", line, i,
                        (double)h[i]);
            fail();
        }
}

/* Overwrite the context's message with one that no checked call leaves. */
static void reset_msg(clnorm_context *c)
{
    clnorm_revin_create(c, 1, 0, NULL); /* "revin_create: out is NULL" */
}

/* `got` must be `want`, and the message "CLNORM_WANT: ...needle...". */
static void expect_status_(const clnorm_context *c, clnorm_status got, clnorm_status want,
                           const char *needle, const char *what, int line)
{
    const char *msg = clnorm_errmsg(c), *name = clnorm_status_name(want);
    int ok = got == want;
    if (ok && needle)
        ok = strncmp(msg, name, strlen(name)) == 0 && strstr(msg, needle) != NULL;
    if (!ok) {
        print_error("line %d: %s\n  returned %s, message \"%s\"\n  expected %s with \"%s\"\n",
                    line, what, clnorm_status_name(got), msg, name, needle ? needle : "");
        fail();
    }
}
#define EXPECT(c, call, want, needle)                                                          \
    do {                                                                                       \
        reset_msg(c);                                                                          \
        expect_status_((c), (call), (want), (needle), #call, __LINE__);                       \
    } while (0)

static void check_vn(fix *f, const float *x, size_t rows, size_t plane, size_t c, cl_mem out,
                     size_t off)
{
    size_t count = rows * plane;
    float *y = malloc(count * sizeof *y);
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    assert_true(y && ref && tol);
    buffer_read(f->c, out, off, y, count);
    ref_varnorm2d(x, rows, plane, c, f->alpha, ref);
    tol_relative(ref, count, 8.0, tol);
    size_t bad = check_close("varnorm2d", y, ref, tol, count);
    free(y), free(ref), free(tol);
    assert_int_equal(bad, 0);
}

/* RevIN (B, L, D) forward: y * w + bias (w = 1, bias = 0 without affine). */
static void check_rv(fix *f, const float *x, size_t b, size_t l, cl_mem out, size_t off, double w,
                     double bias)
{
    float y[COUNT];
    double ref[COUNT], tol[COUNT], m[RROWS], s[RROWS];
    buffer_read(f->c, out, off, y, b * l * RD);
    ref_revin(x, b, l, RD, ref, m, s);
    tol_revin_y(ref, m, s, b, l, RD, tol);
    for (size_t i = 0; i < b * l * RD; ++i) {
        ref[i] = ref[i] * w + bias;
        tol[i] = tol[i] * fabs(w) + 2.0 * ulp_of(ref[i]);
    }
    assert_int_equal(check_close("revin", y, ref, tol, b * l * RD), 0);
}

/* RevIN inverse: x * s + m with the layer's own float statistics; in affine
 * mode x is (x - bias) / (w + 1e-10) first (w = 2, bias = 0.5). */
static void check_inv(fix *f, clnorm_revin *layer, const float *x_in, size_t b, size_t l,
                      cl_mem out, size_t off, int affine)
{
    float y[COUNT], m[RROWS], s[RROWS], x[COUNT];
    double ref[COUNT], tol[COUNT];
    for (size_t i = 0; i < b * l * RD; ++i)
        x[i] = affine ? (x_in[i] - 0.5f) / 2.0f : x_in[i];
    assert_int_equal(clnorm_revin_read_stats(layer, m, s, b * RD), CLNORM_OK);
    buffer_read(f->c, out, off, y, b * l * RD);
    ref_revin_inverse(x, b, l, RD, m, s, ref);
    for (size_t i = 0; i < b * l * RD; ++i)
        tol[i] = 2.0 * (ulp_of((double)x[i] * s[i / (l * RD) * RD + i % RD]) + ulp_of(ref[i]));
    assert_int_equal(check_close("revin inverse", y, ref, tol, b * l * RD), 0);
}

static void check_out(fix *f, const args *a, const float *x)
{
    size_t off = a->out_off / sizeof(float);
    if (a->op == OP_VN)
        check_vn(f, x, a->d[0] * a->d[1], a->d[2] * a->d[3], a->d[1], a->out, off);
    else if (a->op == OP_FWD)
        check_rv(f, x, a->d[0], a->d[1], a->out, off, a->p ? 2.0 : 1.0, a->p ? 0.5 : 0.0);
    else
        check_inv(f, a->layer, x, a->d[0], a->d[1], a->out, off, a->p != NULL);
}

static uint64_t uploads(fix *f)
{
    return clnorm_varnorm2d_upload_count(f->vn) + clnorm_revin_upload_count(f->aff);
}

/* The call is rejected and enqueues nothing: `watch` (f->out when NULL)
 * stays poisoned, the event is untouched, no parameters are uploaded. */
static void reject_(fix *f, const args *a, cl_mem watch, size_t watch_count, clnorm_status want,
                    const char *needle, int line)
{
    cl_event ev = SENTINEL;
    uint64_t before = uploads(f);
    reset_msg(f->c);
    expect_status_(f->c, call(a, &ev), want, needle, op_names[a->op], line);
    assert_true(ev == SENTINEL);
    assert_true(uploads(f) == before);
    expect_poison(f, watch ? watch : f->out, watch ? watch_count : COUNT, line);
}
#define REJECT(f, a, want, needle) reject_((f), (a), NULL, 0, (want), (needle), __LINE__)

/* The call succeeds, hands out an event, the output is right; f->out is re-poisoned. */
static void accept(fix *f, const args *a)
{
    cl_event ev = NULL;
    clnorm_status st = call(a, &ev);
    if (st != CLNORM_OK)
        print_error("%s: %s\n", op_names[a->op], clnorm_errmsg(f->c));
    assert_int_equal(st, CLNORM_OK);
    assert_non_null(ev);
    assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);
    check_out(f, a, f->x);
    poison(f, f->out, COUNT);
    f->vp.version++, f->rp.version++; /* so that a later rejected call could upload */
}

static cl_event user_event_complete(clnorm_context *c)
{
    cl_int err;
    cl_event e = clCreateUserEvent(clnorm_context_cl_context(c), &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clSetUserEventStatus(e, CL_COMPLETE), CL_SUCCESS);
    return e;
}

/* Layers (unless already made), buffers, and one good call of each kind. */
static void fix_init(fix *f, clnorm_context *c)
{
    f->c = c;
    fill_family(f->x, VN * VC, VH * VW, 1, FAMILY_NORMAL);
    for (int i = 0; i < VC; ++i)
        f->alpha[i] = 0.5f + (float)i, f->w[i] = 2.0f, f->bias[i] = 0.5f;
    f->vp.alpha = f->alpha, f->vp.version = 1;
    f->rp.weight = f->w, f->rp.bias = f->bias, f->rp.version = 1;
    if (!f->vn)
        assert_int_equal(clnorm_varnorm2d_create(c, VC, &f->vn), CLNORM_OK);
    if (!f->rv)
        assert_int_equal(clnorm_revin_create(c, RD, 0, &f->rv), CLNORM_OK);
    if (!f->aff)
        assert_int_equal(clnorm_revin_create(c, RD, CLNORM_REVIN_AFFINE, &f->aff), CLNORM_OK);
    f->in = buffer_from(c, f->x, COUNT, 0);
    f->out = buffer_poisoned(c, COUNT);
    args a = good(f, OP_FWD);
    a.layer = f->aff, a.p = &f->rp;
    accept(f, &a);
    for (int op = OP_VN; op <= OP_INV; ++op) {
        a = good(f, op);
        accept(f, &a);
    }
    f->vp.version = f->rp.version = 2; /* a rejected call must not upload them */
}

static void fix_free(fix *f)
{
    clnorm_varnorm2d_destroy(f->vn);
    clnorm_revin_destroy(f->rv);
    clnorm_revin_destroy(f->aff);
    if (f->in)
        clReleaseMemObject(f->in);
    if (f->out)
        clReleaseMemObject(f->out);
    memset(f, 0, sizeof *f);
}

static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fix_init(f, ctx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    free(*state);
    return 0;
}

static size_t max_alloc_floats(void)
{
    cl_ulong max = 0;
    assert_int_equal(clGetDeviceInfo(clnorm_context_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                     sizeof max, &max, NULL), CL_SUCCESS);
    return (size_t)(max / sizeof(float));
}

/* --------------------------------------------------------------- bad input */

static void null_arguments(void **state)
{
    fix *f = *state;
    for (int op = OP_VN; op <= OP_INV; ++op) {
        args a = good(f, op);
        a.layer = NULL;
        REJECT(f, &a, CLNORM_NULL_ARGUMENT, NULL);
        a = good(f, op), a.in = NULL;
        REJECT(f, &a, CLNORM_NULL_ARGUMENT, "input buffer is NULL");
        a = good(f, op), a.out = NULL;
        REJECT(f, &a, CLNORM_NULL_ARGUMENT, "output buffer is NULL");
        if (op == OP_VN) {
            clnorm_varnorm2d_params no_alpha = {NULL, 3};
            a = good(f, op), a.p = NULL;
            REJECT(f, &a, CLNORM_NULL_ARGUMENT, "varnorm2d_forward: params is NULL");
            a.p = &no_alpha;
            REJECT(f, &a, CLNORM_NULL_ARGUMENT, "params->alpha is NULL");
        } else {
            clnorm_revin_params no_w = {NULL, f->bias, 3}, no_b = {f->w, NULL, 3};
            const clnorm_revin_params *bad[3] = {NULL, &no_w, &no_b};
            for (int i = 0; i < 3; ++i) {
                a = good(f, op), a.layer = f->aff, a.p = bad[i];
                REJECT(f, &a, CLNORM_NULL_ARGUMENT, "affine mode needs params with weight");
            }
        }
        a = good(f, op); /* NULL params are fine without CLNORM_REVIN_AFFINE */
        accept(f, &a);
    }
}

static void sizes(void **state)
{
    fix *f = *state;
    const size_t vn_big[][4] = {
        {SIZE_MAX / 2, VC, 4, 1}, /* n * c */
        {1, VC, SIZE_MAX / 2, 4}, /* h * w */
        {SIZE_MAX / 8, VC, 2, 2}, /* (n * c) * (h * w) */
        {SIZE_MAX / 8, VC, 1, 1}, /* count * sizeof(float) */
    };
    for (int op = OP_VN; op <= OP_INV; ++op) {
        int dims = op == OP_VN ? 4 : 2;
        for (int i = 0; i < dims; ++i) {
            args a = good(f, op);
            a.d[i] = 0; /* the inverse checks B against its statistics first */
            if (op == OP_INV && i == 0)
                REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "B = 0 but the statistics are for B = 2");
            else
                REJECT(f, &a, CLNORM_ZERO_SIZE, "has a zero");
        }
        args a = good(f, op);
        if (op == OP_VN) {
            a.d[1] = VC + 1;
            REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "C = 4 but the layer has num_features = 3");
            a.d[1] = VC - 1;
            REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "C = 2 but the layer has num_features = 3");
            for (size_t i = 0; i < 4; ++i) {
                memcpy(a.d, vn_big[i], sizeof a.d);
                REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows");
            }
            a.d[0] = max_alloc_floats() / VC + 1, a.d[1] = VC, a.d[2] = a.d[3] = 1;
        } else {
            a.d[1] = SIZE_MAX / 4; /* (b * d) * l */
            REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows size_t");
            a.d[1] = SIZE_MAX / 16; /* count * sizeof(float) */
            REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows size_t");
            a.d[1] = max_alloc_floats() / RROWS + 1;
            if (op == OP_FWD) {
                args o = good(f, op);
                o.d[0] = SIZE_MAX / 2; /* b * d */
                REJECT(f, &o, CLNORM_SIZE_OVERFLOW, "overflows size_t");
            }
        }
        REJECT(f, &a, CLNORM_TOO_LARGE, "exceeds the device's max allocation");
        a = good(f, op), a.in_off = SIZE_MAX - 3; /* aligned, but offset + extent wraps */
        REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "input offset");
        a = good(f, op), a.out_off = SIZE_MAX - 3;
        REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "output offset");
        a = good(f, op);
        accept(f, &a);
    }
}

static void buffers(void **state)
{
    fix *f = *state;
    cl_mem in_short = buffer_from(f->c, f->x, COUNT - 1, 0);
    cl_mem in_pad1 = buffer_from(f->c, f->x, COUNT, 1); /* x from float 1: offset 4 fits */
    cl_mem out_short = buffer_poisoned(f->c, COUNT - 1);
    cl_mem out_pad1 = buffer_poisoned(f->c, COUNT + 1);
    cl_mem out_pad2 = buffer_poisoned(f->c, COUNT + 2);
    for (int op = OP_VN; op <= OP_INV; ++op) {
        args a = good(f, op);
        a.in = in_short;
        REJECT(f, &a, CLNORM_BUFFER_TOO_SMALL, "input buffer has 476 bytes");
        a.in = in_pad1, a.in_off = 8;
        REJECT(f, &a, CLNORM_BUFFER_TOO_SMALL, "input buffer has 484 bytes; offset 8 + extent 480 needs 488");
        a = good(f, op), a.out = out_short;
        reject_(f, &a, out_short, COUNT - 1, CLNORM_BUFFER_TOO_SMALL, "output buffer has 476",
                __LINE__);
        a.out = out_pad1, a.out_off = 8;
        reject_(f, &a, out_pad1, COUNT + 1, CLNORM_BUFFER_TOO_SMALL, "output buffer has 484",
                __LINE__);
        for (size_t off = 1; off < 4; ++off) {
            a = good(f, op), a.in = in_pad1, a.in_off = off;
            REJECT(f, &a, CLNORM_MISALIGNED_OFFSET, "input offset");
            char needle[64];
            snprintf(needle, sizeof needle, "output offset %zu bytes is not a multiple of 4", off);
            a = good(f, op), a.out = out_pad1, a.out_off = off;
            reject_(f, &a, out_pad1, COUNT + 1, CLNORM_MISALIGNED_OFFSET, needle, __LINE__);
        }
        /* exact fits pass, and nothing before the output offset is written */
        a = good(f, op);
        a.in = in_pad1, a.in_off = 4, a.out = out_pad2, a.out_off = 8;
        accept(f, &a);
        float head[2];
        buffer_read(f->c, out_pad2, 0, head, 2);
        assert_true(head[0] == POISON && head[1] == POISON);
        poison(f, out_pad2, COUNT + 2);
    }
    cl_mem all[] = {in_short, in_pad1, out_short, out_pad1, out_pad2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clReleaseMemObject(all[i]);
}

static void wait_lists(void **state)
{
    fix *f = *state;
    cl_event ue = user_event_complete(f->c);
    cl_event with_null[3] = {ue, ue, NULL};
    for (int op = OP_VN; op <= OP_INV; ++op) {
        args a = good(f, op);
        a.nw = 2, a.wl = NULL;
        REJECT(f, &a, CLNORM_NULL_ARGUMENT, "num_wait is 2 but wait_list is NULL");
        a.nw = 0, a.wl = &ue;
        REJECT(f, &a, CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
        a.nw = 3, a.wl = with_null;
        REJECT(f, &a, CLNORM_NULL_ARGUMENT, "wait_list[2] is NULL");
        a.nw = 2;
        accept(f, &a);
    }
    clReleaseEvent(ue);
}

static void statistics(void **state)
{
    fix *f = *state;
    float m[RROWS + 1], s[RROWS + 1], m0[RROWS], s0[RROWS];
    for (int i = 0; i <= RROWS; ++i)
        m[i] = s[i] = POISON;
    clnorm_revin *fresh = NULL;
    assert_int_equal(clnorm_revin_create(f->c, RD, 0, &fresh), CLNORM_OK);
    args a = good(f, OP_INV);
    a.layer = fresh;
    REJECT(f, &a, CLNORM_NO_STATISTICS, "revin_inverse: no statistics yet");
    EXPECT(f->c, clnorm_revin_read_stats(fresh, m, s, RROWS), CLNORM_NO_STATISTICS,
           "revin_read_stats: no statistics yet");
    assert_true(m[0] == POISON && s[RROWS - 1] == POISON);
    clnorm_revin_destroy(fresh);

    /* f->rv holds statistics for B = 2 */
    assert_int_equal(clnorm_revin_read_stats(f->rv, m0, s0, RROWS), CLNORM_OK);
    for (size_t b = 1; b <= 3; b += 2) {
        a = good(f, OP_INV), a.d[0] = b;
        REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "but the statistics are for B = 2");
    }
    const size_t counts[] = {RROWS - 1, RROWS + 1, 0};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT(f->c, clnorm_revin_read_stats(f->rv, m, s, counts[i]), CLNORM_SHAPE_MISMATCH,
               "but the statistics hold B*D = 2*3");
        assert_true(m[0] == POISON && s[0] == POISON && m[RROWS] == POISON);
    }
    assert_int_equal(clnorm_revin_read_stats(NULL, m, s, RROWS), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_revin_read_stats(f->rv, NULL, NULL, RROWS), CLNORM_OK);

    /* set_stats: every rejection keeps the forward's statistics */
    assert_int_equal(clnorm_revin_set_stats(NULL, RB, m0, s0), CLNORM_NULL_ARGUMENT);
    EXPECT(f->c, clnorm_revin_set_stats(f->rv, RB, NULL, s0), CLNORM_NULL_ARGUMENT, "mean is NULL");
    EXPECT(f->c, clnorm_revin_set_stats(f->rv, RB, m0, NULL), CLNORM_NULL_ARGUMENT, "std is NULL");
    EXPECT(f->c, clnorm_revin_set_stats(f->rv, 0, m0, s0), CLNORM_ZERO_SIZE, "B is 0");
    EXPECT(f->c, clnorm_revin_set_stats(f->rv, SIZE_MAX / 2, m0, s0), CLNORM_SIZE_OVERFLOW,
           "overflows"); /* b * d */
    EXPECT(f->c, clnorm_revin_set_stats(f->rv, SIZE_MAX / 8, m0, s0), CLNORM_SIZE_OVERFLOW,
           "overflows"); /* b * d * sizeof(float) */
    assert_int_equal(clnorm_revin_read_stats(f->rv, m, s, RROWS), CLNORM_OK);
    assert_memory_equal(m, m0, sizeof m0);
    assert_memory_equal(s, s0, sizeof s0);
    a = good(f, OP_INV);
    accept(f, &a);
}

static void create_errors(void **state)
{
    (void)state;
    clnorm_varnorm2d *vn = (clnorm_varnorm2d *)&vn; /* must be overwritten with NULL */
    clnorm_revin *rv = (clnorm_revin *)&rv;
    assert_int_equal(clnorm_varnorm2d_create(NULL, VC, &vn), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_revin_create(NULL, RD, 0, &rv), CLNORM_NULL_ARGUMENT);
    assert_true(vn == NULL && rv == NULL);
    clnorm_revin_create(ctx, 1, 0, NULL); /* a message different from the next one */
    expect_status_(ctx, clnorm_varnorm2d_create(ctx, VC, NULL), CLNORM_NULL_ARGUMENT,
                   "varnorm2d_create: out is NULL", "varnorm2d_create(NULL out)", __LINE__);
    expect_status_(ctx, clnorm_revin_create(ctx, RD, 0, NULL), CLNORM_NULL_ARGUMENT,
                   "revin_create: out is NULL", "revin_create(NULL out)", __LINE__);
    vn = (clnorm_varnorm2d *)&vn, rv = (clnorm_revin *)&rv;
    EXPECT(ctx, clnorm_varnorm2d_create(ctx, 0, &vn), CLNORM_ZERO_SIZE, "num_features is 0");
    EXPECT(ctx, clnorm_revin_create(ctx, 0, 0, &rv), CLNORM_ZERO_SIZE, "revin_create: d is 0");
    assert_true(vn == NULL && rv == NULL);
    if (SIZE_MAX > UINT32_MAX) {
        EXPECT(ctx, clnorm_varnorm2d_create(ctx, (size_t)UINT32_MAX + 1, &vn),
               CLNORM_INVALID_ARGUMENT, "exceeds 2^32-1");
        EXPECT(ctx, clnorm_revin_create(ctx, (size_t)UINT32_MAX + 1, 0, &rv),
               CLNORM_INVALID_ARGUMENT, "exceeds 2^32-1");
    }
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 1u << 2, &rv), CLNORM_INVALID_ARGUMENT,
           "unknown flags 0x4");
    EXPECT(ctx, clnorm_revin_create(ctx, RD, CLNORM_REVIN_AFFINE | 0x80000000u, &rv),
           CLNORM_INVALID_ARGUMENT, "unknown flags 0x80000000");
    assert_null(rv);

    clnorm_context *c = NULL;
    assert_int_equal(clnorm_context_create(NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_context_wrap(NULL, NULL, NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
    const unsigned bad_flags[] = {1u << 2, CLNORM_CONTEXT_NO_CACHE | (1u << 31)};
    for (size_t i = 0; i < 3; ++i) {
        clnorm_status st = i < 2 ? clnorm_context_create(NULL, bad_flags[i], &c)
                                 : clnorm_context_wrap(clnorm_context_cl_context(ctx),
                                                       clnorm_context_device(ctx),
                                                       clnorm_context_queue(ctx), 1u << 4, &c);
        assert_non_null(c);
        expect_status_(c, st, CLNORM_INVALID_ARGUMENT, i == 1 ? "unknown context flags 0x80000000"
                                                              : "unknown context flags 0x",
                       "context with unknown flags", __LINE__);
        assert_null(clnorm_context_cl_context(c));
        EXPECT(c, clnorm_varnorm2d_create(c, VC, &vn), CLNORM_INVALID_ARGUMENT,
               "the context failed to initialise");
        EXPECT(c, clnorm_revin_create(c, RD, 0, &rv), CLNORM_INVALID_ARGUMENT,
               "the context failed to initialise");
        EXPECT(c, clnorm_context_prepare(c), CLNORM_INVALID_ARGUMENT, "failed to initialise");
        assert_true(vn == NULL && rv == NULL);
        clnorm_context_destroy(c);
    }
    assert_int_equal(clnorm_context_prepare(NULL), CLNORM_NULL_ARGUMENT);
}

static void destroy_null(void **state)
{
    (void)state;
    clnorm_context_destroy(NULL);
    clnorm_varnorm2d_destroy(NULL);
    clnorm_revin_destroy(NULL);
    unsigned built = 7, cached = 7;
    clnorm_context_program_counts(NULL, &built, &cached);
    assert_true(built == 0 && cached == 0);
    assert_true(!clnorm_context_cl_context(NULL) && !clnorm_context_device(NULL) &&
                !clnorm_context_queue(NULL) && !clnorm_context_uses_fp64(NULL));
    assert_string_equal(clnorm_context_device_description(NULL), "");
    assert_true(clnorm_varnorm2d_upload_count(NULL) == 0 && clnorm_revin_upload_count(NULL) == 0);
}

/* ---------------------------------------------------------- injected faults */

static int is_alloc(const char *site)
{
    return !strcmp(site, "malloc") || !strcmp(site, "calloc") || !strcmp(site, "realloc");
}

/* Calls whose failure src/cache.h documents as a mere cache miss or skipped store. */
static int is_cache_site(const char *site)
{
    return !strcmp(site, "malloc") || !strcmp(site, "clGetProgramInfo") ||
           !strcmp(site, "clCreateProgramWithBinary") || !strcmp(site, "clBuildProgram");
}

/* A fault fired at call n (`site`): a clean status naming what failed. */
static void expect_fault_report(const clnorm_context *c, clnorm_status st, const char *site,
                                unsigned long n, int cache_on)
{
    if (st == CLNORM_OK && cache_on && is_cache_site(site))
        return;
    clnorm_status want = is_alloc(site)                   ? CLNORM_OUT_OF_MEMORY
                         : strcmp(site, "clBuildProgram") ? CLNORM_OPENCL_ERROR
                                                          : CLNORM_BUILD_FAILED;
    const char *msg = clnorm_errmsg(c), *name = clnorm_status_name(want);
    int ok = st == want;
    if (ok && c)
        ok = !strncmp(msg, name, strlen(name)) && (is_alloc(site) || strstr(msg, site)) &&
             (want != CLNORM_OPENCL_ERROR || strstr(msg, "CL_OUT_OF_RESOURCES"));
    if (!ok) {
        print_error("fault at call %lu (%s): returned %s, \"%s\"; expected %s\n", n, site,
                    clnorm_status_name(st), msg, name);
        fail();
    }
}

static void fault_on_first_call(void **state)
{
    fix *f = *state;
    const cl_int errs[2] = {CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY};
    for (int op = OP_VN; op <= OP_INV; ++op)
        for (int e = 0; e < 2; ++e) {
            args a = good(f, op);
            clnorm_test_fault_arm(1, errs[e]);
            reject_(f, &a, NULL, 0, e ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR,
                    e ? "clGetMemObjectInfo failed with CL_OUT_OF_HOST_MEMORY"
                      : "clGetMemObjectInfo failed with CL_OUT_OF_RESOURCES", __LINE__);
            assert_true(clnorm_test_fault_fired());
            clnorm_test_fault_arm(0, 0);
            accept(f, &a);
        }
    /* the first thing each create does is allocate */
    clnorm_varnorm2d *vn = NULL;
    clnorm_revin *rv = NULL;
    clnorm_context *c = (clnorm_context *)&c;
    clnorm_test_fault_arm(1, 0);
    EXPECT(ctx, clnorm_varnorm2d_create(ctx, VC, &vn), CLNORM_OUT_OF_MEMORY,
           "allocating a varnorm2d layer");
    clnorm_test_fault_arm(1, 0);
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 0, &rv), CLNORM_OUT_OF_MEMORY,
           "allocating a revin layer");
    clnorm_test_fault_arm(1, 0);
    assert_int_equal(clnorm_context_create(NULL, 0, &c), CLNORM_OUT_OF_MEMORY);
    clnorm_test_fault_arm(0, 0);
    assert_true(vn == NULL && rv == NULL && c == NULL);
}

typedef struct site_set {
    char name[32][40];
    int n;
} site_set;

static void note_site(site_set *s, const char *site)
{
    for (int i = 0; i < s->n; ++i)
        if (!strcmp(s->name[i], site))
            return;
    if (s->n < 32)
        snprintf(s->name[s->n++], sizeof s->name[0], "%s", site);
}

/* The loop must have failed each of `want` at least once (proves it ran deep). */
static void expect_sites(const site_set *s, const char *what, const char *want)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", want);
    for (char *save, *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int found = 0;
        for (int i = 0; i < s->n; ++i)
            found |= !strcmp(s->name[i], tok);
        if (!found) {
            print_error("%s: the fault loop never failed %s\n", what, tok);
            fail();
        }
    }
}

/* Fail call N = 1, 2, ... of one call on a fresh layer (after one good call
 * when `steady`) until it completes without the countdown firing. */
static void forward_fault_loop(fix *f, int op, int steady, int affine, int split,
                               const char *want_sites)
{
    size_t count = split ? 65536 : COUNT;
    float *x = f->x;
    cl_mem in = f->in, out = f->out;
    if (split) { /* one row of 65536: partials, then apply */
        x = malloc(count * sizeof *x);
        assert_non_null(x);
        fill_family(x, 1, count, 1, FAMILY_NORMAL);
        in = buffer_from(f->c, x, count, 0);
        out = buffer_poisoned(f->c, count);
    }
    cl_event ue = user_event_complete(f->c);
    site_set seen = {.n = 0};
    unsigned long n;
    for (n = 1;; ++n) {
        args a = good(f, op);
        a.in = in, a.out = out;
        if (split)
            a.d[0] = a.d[1] = 1, a.d[2] = a.d[3] = 256;
        clnorm_varnorm2d *vn = NULL;
        clnorm_revin *rv = NULL;
        if (op == OP_VN)
            assert_int_equal(clnorm_varnorm2d_create(f->c, split ? 1 : VC, &vn), CLNORM_OK);
        else
            assert_int_equal(clnorm_revin_create(f->c, RD, affine ? CLNORM_REVIN_AFFINE : 0, &rv),
                             CLNORM_OK);
        a.layer = op == OP_VN ? (void *)vn : (void *)rv;
        a.p = op == OP_VN ? (const void *)&f->vp : affine ? (const void *)&f->rp : NULL;
        if (op == OP_INV)
            assert_int_equal(clnorm_revin_forward(a.layer, a.p, RB, RL, f->in, 0, f->out, 0, 0,
                                                  NULL, NULL), CLNORM_OK);
        if (steady)
            assert_int_equal(call(&a, NULL), CLNORM_OK);
        f->vp.version += 1, f->rp.version += 1; /* the armed call uploads again */
        a.nw = 1, a.wl = &ue;
        cl_event ev = SENTINEL;
        clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
        clnorm_status st = call(&a, &ev);
        int fired = clnorm_test_fault_fired();
        char site[64];
        snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
        clnorm_test_fault_arm(0, 0);
        if (fired) {
            note_site(&seen, site);
            expect_fault_report(f->c, st, site, n, 0);
            assert_true(ev == SENTINEL || ev == NULL);
        } else {
            if (st != CLNORM_OK)
                print_error("%s\n", clnorm_errmsg(f->c));
            assert_int_equal(st, CLNORM_OK);
        }
        if (st == CLNORM_OK)
            clReleaseEvent(ev);
        assert_int_equal(call(&a, NULL), CLNORM_OK); /* the retry, disarmed */
        finish(f->c);
        check_out(f, &a, x);
        clnorm_varnorm2d_destroy(vn);
        clnorm_revin_destroy(rv);
        if (!fired)
            break;
        assert_true(n < 10000);
    }
    print_message("%s%s%s%s: %lu calls, each failed in turn\n", op_names[op],
                  steady ? " (steady)" : "", affine ? " (affine)" : "", split ? " (split)" : "",
                  n - 1);
    expect_sites(&seen, op_names[op], want_sites);
    clReleaseEvent(ue);
    if (split) {
        clReleaseMemObject(in), clReleaseMemObject(out);
        free(x);
    }
    poison(f, f->out, COUNT);
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
}

static void stats_faults(void **state)
{
    fix *f = *state;
    float m0[RROWS], s0[RROWS], m1[RROWS], s1[RROWS], m[RROWS], s[RROWS];
    assert_int_equal(clnorm_revin_read_stats(f->rv, m0, s0, RROWS), CLNORM_OK);
    for (int i = 0; i < RROWS; ++i)
        m1[i] = (float)i, s1[i] = 1.0f + (float)i;
    for (int which = 0; which < 2; ++which)
        for (unsigned long n = 1;; ++n) {
            clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
            clnorm_status st = which ? clnorm_revin_read_stats(f->rv, m, s, RROWS)
                                     : clnorm_revin_set_stats(f->rv, RB, m1, s1);
            int fired = clnorm_test_fault_fired();
            char site[64];
            snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
            clnorm_test_fault_arm(0, 0);
            if (fired)
                expect_fault_report(f->c, st, site, n, 0);
            /* a failed set_stats keeps the old statistics */
            assert_int_equal(clnorm_revin_read_stats(f->rv, m, s, RROWS), CLNORM_OK);
            assert_memory_equal(m, !fired && !which ? m1 : m0, sizeof m);
            assert_memory_equal(s, !fired && !which ? s1 : s0, sizeof s);
            assert_int_equal(clnorm_revin_set_stats(f->rv, RB, m0, s0), CLNORM_OK);
            if (!fired)
                break;
        }
}

/* Files in `dir` (removing them when `clear`); temporary files count as -1000. */
static int dir_files(const char *dir, int clear)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        count += strstr(e->d_name, "tmp") ? -1000 : 1;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (clear)
            assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    return count;
}

/* Fail call N = 1, 2, ... of context create + layer creates until they
 * complete: every N gives a clean error or a working context. */
static void context_fault_loop(unsigned flags, const char *dir, int cold)
{
    unsigned long n;
    for (n = 1;; ++n) {
        if (cold)
            dir_files(dir, 1);
        fix t;
        memset(&t, 0, sizeof t);
        clnorm_context *c = NULL;
        clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
        clnorm_status st = clnorm_context_create(NULL, flags, &c);
        if (st == CLNORM_OK)
            st = clnorm_varnorm2d_create(c, VC, &t.vn);
        if (st == CLNORM_OK)
            st = clnorm_revin_create(c, RD, CLNORM_REVIN_AFFINE, &t.aff);
        if (st == CLNORM_OK)
            st = clnorm_revin_create(c, RD, 0, &t.rv);
        int fired = clnorm_test_fault_fired();
        char site[64];
        snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
        clnorm_test_fault_arm(0, 0);
        if (fired)
            expect_fault_report(c, st, site, n, dir != NULL);
        else
            assert_int_equal(st, CLNORM_OK);
        if (!c) {
            assert_int_equal(st, CLNORM_OUT_OF_MEMORY);
        } else if (!clnorm_context_cl_context(c)) { /* only a message */
            assert_true(st != CLNORM_OK && clnorm_errmsg(c)[0] != '\0');
            assert_true(t.vn == NULL && t.rv == NULL && t.aff == NULL);
            clnorm_context_destroy(c);
        } else { /* a context: it works, with the layers made under the countdown */
            fix_init(&t, c);
            if (dir && !cold && st == CLNORM_OK) {
                unsigned built = 9, cached = 9;
                clnorm_context_program_counts(c, &built, &cached);
                assert_int_equal(built + cached, 2);
                assert_true(built == 0 || (fired && is_cache_site(site)));
            }
            fix_free(&t);
            clnorm_context_destroy(c);
        }
        if (dir)
            assert_true(dir_files(dir, 0) >= 0); /* no temporary file left behind */
        if (!fired)
            break;
        assert_true(n < 10000);
    }
    print_message("context create + layers (%s): %lu calls, each failed in turn\n",
                  !dir ? "no cache" : cold ? "cold cache" : "warm cache", n - 1);
}

static void context_faults(void **state)
{
    (void)state;
    const char *old = getenv("CLNORM_CACHE_DIR");
    char *saved = old ? strdup(old) : NULL;
    char dir[] = "/tmp/clnorm-test-errors-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(setenv("CLNORM_CACHE_DIR", dir, 1), 0);
    context_fault_loop(CLNORM_CONTEXT_NO_CACHE, NULL, 0);
    assert_int_equal(dir_files(dir, 0), 0);
    context_fault_loop(0, dir, 1);
    context_fault_loop(0, dir, 0);
    assert_int_equal(dir_files(dir, 0), 2);
    context_fault_loop(CLNORM_CONTEXT_NO_FP64, dir, 1);
    dir_files(dir, 1);
    assert_int_equal(rmdir(dir), 0);
    if (saved)
        setenv("CLNORM_CACHE_DIR", saved, 1);
    else
        unsetenv("CLNORM_CACHE_DIR");
    free(saved);
}

static int group_setup(void **state)
{
    (void)state;
    ctx = test_context(0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    clnorm_test_fault_arm(0, 0);
    clnorm_context_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(statistics, setup, teardown),
        cmocka_unit_test(create_errors),
        cmocka_unit_test(destroy_null),
        cmocka_unit_test_setup_teardown(fault_on_first_call, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_faults, setup, teardown),
        cmocka_unit_test(context_faults),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
