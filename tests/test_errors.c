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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnorm_int.h" /* fault.h, CLNORM_WAITS_RESERVED */
#include "support.h"

#define POISON (-7.75e30f) /* as buffer_poisoned() in support.c */
#define SENTINEL ((cl_event)(uintptr_t)0x5eed)
/* VarianceNorm2d (2, 3, 4, 5) and RevIN (B, L, D) = (2, 20, 3): both 120 floats. */
enum { VN = 2, VC = 3, VH = 4, VW = 5, RB = 2, RL = 20, RD = 3, RROWS = RB * RD, COUNT = 120 };
enum { OP_VN, OP_FWD, OP_INV };
static const char *const op_names[] = {"varnorm2d_forward", "revin_forward", "revin_inverse"};

static clnorm_context *ctx; /* the default device, shared by the tests */

/* Layers, host data, an input and a poisoned output, on one context. */
typedef struct fix {
    clnorm_context *c;
    clnorm_varnorm2d *vn;
    clnorm_revin *rv, *aff; /* plain, and CLNORM_REVIN_AFFINE (one w and bias for all D) */
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
    cl_mem in, out;
    size_t in_off, out_off;
    cl_uint nw;
    const cl_event *wl;
} args;

static clnorm_status call(const args *a, cl_event *ev)
{
    if (a->op == OP_VN)
        return clnorm_varnorm2d_forward(a->layer, a->p, a->d[0], a->d[1], a->d[2], a->d[3],
                                        a->in, a->in_off, a->out, a->out_off, a->nw, a->wl, ev);
    return (a->op == OP_FWD ? clnorm_revin_forward : clnorm_revin_inverse)(
        a->layer, a->p, a->d[0], a->d[1], a->in, a->in_off, a->out, a->out_off, a->nw, a->wl, ev);
}

static args good(fix *f, int op)
{
    args a = {op, f->rv, NULL, {RB, RL, 0, 0}, f->in, f->out, 0, 0, 0, NULL};
    if (op == OP_VN)
        a.layer = f->vn, a.p = &f->vp, a.d[0] = VN, a.d[1] = VC, a.d[2] = VH, a.d[3] = VW;
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
        clnorm__fail((c), CLNORM_OK, "stale"); /* a message no checked call leaves */         \
        expect_status_((c), (call), (want), (needle), #call, __LINE__);                       \
    } while (0)

/* The output of `a` (read at its offset) against the double reference, for input x. */
static void check_out(fix *f, const args *a, const float *x)
{
    size_t count = a->op == OP_VN ? a->d[0] * a->d[1] * a->d[2] * a->d[3] : COUNT;
    float *y = malloc(count * sizeof *y), xa[COUNT], m[RROWS], s[RROWS];
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    double rm[RROWS], rs[RROWS], w = a->p ? f->w[0] : 1.0, bias = a->p ? f->bias[0] : 0.0;
    assert_true(y && ref && tol);
    buffer_read(f->c, a->out, a->out_off / sizeof(float), y, count);
    if (a->op == OP_VN) {
        ref_varnorm2d(x, a->d[0] * a->d[1], a->d[2] * a->d[3], a->d[1], f->alpha, ref);
        tol_relative(ref, count, 8.0, tol);
    } else if (a->op == OP_FWD) { /* y * w + bias in affine mode */
        ref_revin(x, RB, RL, RD, ref, rm, rs);
        tol_revin_y(ref, rm, rs, RB, RL, RD, tol);
        for (size_t i = 0; i < count; ++i)
            ref[i] = ref[i] * w + bias, tol[i] = tol[i] * w + 2.0 * ulp_of(ref[i]);
    } else { /* x * s + m with the layer's statistics; affine: x = (x - bias) / (w + 1e-10) */
        for (size_t i = 0; i < count; ++i)
            xa[i] = (float)((x[i] - (float)bias) / (float)w);
        assert_int_equal(clnorm_revin_read_stats(a->layer, m, s, RROWS), CLNORM_OK);
        ref_revin_inverse(xa, RB, RL, RD, m, s, ref);
        for (size_t i = 0; i < count; ++i)
            tol[i] = 2.0 * (ulp_of((double)xa[i] * s[i / (RL * RD) * RD + i % RD]) + ulp_of(ref[i]));
    }
    size_t bad = check_close(op_names[a->op], y, ref, tol, count);
    free(y), free(ref), free(tol);
    assert_int_equal(bad, 0);
}

/* The call is rejected and enqueues nothing: `watch` (f->out when NULL)
 * stays poisoned, the event is untouched, no parameters are uploaded. */
static void reject_(fix *f, const args *a, cl_mem watch, size_t watch_count, clnorm_status want,
                    const char *needle, int line)
{
    cl_event ev = SENTINEL;
    uint64_t before = clnorm_varnorm2d_upload_count(f->vn) + clnorm_revin_upload_count(f->aff);
    clnorm__fail(f->c, CLNORM_OK, "stale");
    expect_status_(f->c, call(a, &ev), want, needle, op_names[a->op], line);
    assert_true(ev == SENTINEL);
    assert_true(clnorm_varnorm2d_upload_count(f->vn) + clnorm_revin_upload_count(f->aff) == before);
    expect_poison(f, watch ? watch : f->out, watch ? watch_count : COUNT, line);
}
/* Reject good(f, op) changed by `mods` (statements on `a`). */
#define BAD(op, mods, want, needle) BADW(op, mods, NULL, 0, want, needle)
#define BADW(op, mods, watch, wcount, want, needle)                                            \
    do {                                                                                       \
        args a = good(f, (op));                                                                \
        mods;                                                                                  \
        reject_(f, &a, (watch), (wcount), (want), (needle), __LINE__);                        \
    } while (0)

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
    for (int op = OP_VN; op <= OP_INV; ++op)
        a = good(f, op), accept(f, &a);
}

static void fix_free(fix *f)
{
    clnorm_varnorm2d_destroy(f->vn), clnorm_revin_destroy(f->rv), clnorm_revin_destroy(f->aff);
    if (f->in)
        clReleaseMemObject(f->in), clReleaseMemObject(f->out);
    memset(f, 0, sizeof *f);
}

static int setup(void **state)
{
    assert_non_null(*state = calloc(1, sizeof(fix)));
    fix_init(*state, ctx);
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state), free(*state);
    return 0;
}

/* --------------------------------------------------------------- bad input */

static void null_arguments(void **state)
{
    fix *f = *state;
    clnorm_varnorm2d_params no_alpha = {NULL, 3};
    clnorm_revin_params no_w = {NULL, f->bias, 3}, no_b = {f->w, NULL, 3};
    const clnorm_revin_params *bad[3] = {NULL, &no_w, &no_b};
    for (int op = OP_VN; op <= OP_INV; ++op) {
        BAD(op, a.layer = NULL, CLNORM_NULL_ARGUMENT, NULL);
        BAD(op, a.in = NULL, CLNORM_NULL_ARGUMENT, "input buffer is NULL");
        BAD(op, a.out = NULL, CLNORM_NULL_ARGUMENT, "output buffer is NULL");
        if (op == OP_VN) {
            BAD(op, a.p = NULL, CLNORM_NULL_ARGUMENT, "varnorm2d_forward: params is NULL");
            BAD(op, a.p = &no_alpha, CLNORM_NULL_ARGUMENT, "params->alpha is NULL");
        }
        for (int i = 0; op != OP_VN && i < 3; ++i)
            BAD(op, (a.layer = f->aff, a.p = bad[i]), CLNORM_NULL_ARGUMENT,
                "affine mode needs params with weight and bias");
        args a = good(f, op); /* NULL params are fine without CLNORM_REVIN_AFFINE */
        accept(f, &a);
    }
}

static void sizes(void **state)
{
    fix *f = *state;
    cl_ulong max_alloc = 0;
    assert_int_equal(clGetDeviceInfo(clnorm_context_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                     sizeof max_alloc, &max_alloc, NULL), CL_SUCCESS);
    size_t max_floats = (size_t)(max_alloc / sizeof(float));
    const size_t vn_big[][4] = {
        {SIZE_MAX / 2, VC, 4, 1}, /* n * c */
        {1, VC, SIZE_MAX / 2, 4}, /* h * w */
        {SIZE_MAX / 8, VC, 2, 2}, /* (n * c) * (h * w) */
        {SIZE_MAX / 8, VC, 1, 1}, /* count * sizeof(float) */
    };
    for (int op = OP_VN; op <= OP_INV; ++op) {
        for (int i = 0; i < (op == OP_VN ? 4 : 2); ++i)
            BAD(op, a.d[i] = 0, CLNORM_ZERO_SIZE, "has a zero");
        if (op == OP_VN) {
            BAD(op, a.d[1] = 4, CLNORM_SHAPE_MISMATCH, "C = 4 but the layer has num_features = 3");
            BAD(op, a.d[1] = 2, CLNORM_SHAPE_MISMATCH, "C = 2 but the layer has num_features = 3");
            for (size_t i = 0; i < 4; ++i)
                BAD(op, memcpy(a.d, vn_big[i], sizeof a.d), CLNORM_SIZE_OVERFLOW, "overflows");
            BAD(op, (a.d[0] = max_floats / VC + 1, a.d[2] = a.d[3] = 1), CLNORM_TOO_LARGE,
                "exceeds the device's max allocation");
        } else {
            BAD(op, a.d[1] = SIZE_MAX / 4, CLNORM_SIZE_OVERFLOW, "overflows"); /* (b*d) * l */
            BAD(op, a.d[1] = SIZE_MAX / 16, CLNORM_SIZE_OVERFLOW, "overflows"); /* count * 4 */
            BAD(op, a.d[1] = max_floats / RROWS + 1, CLNORM_TOO_LARGE,
                "exceeds the device's max allocation");
        }
        if (op == OP_FWD)
            BAD(op, a.d[0] = SIZE_MAX / 2, CLNORM_SIZE_OVERFLOW, "overflows size_t"); /* b * d */
        /* aligned offsets where offset + extent wraps */
        BAD(op, a.in_off = SIZE_MAX - 3, CLNORM_SIZE_OVERFLOW, "input offset");
        BAD(op, a.out_off = SIZE_MAX - 3, CLNORM_SIZE_OVERFLOW, "output offset");
        args a = good(f, op);
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
    char needle[2][64];
    for (int op = OP_VN; op <= OP_INV; ++op) {
        BAD(op, a.in = in_short, CLNORM_BUFFER_TOO_SMALL, "input buffer has 476 bytes");
        BAD(op, (a.in = in_pad1, a.in_off = 8), CLNORM_BUFFER_TOO_SMALL,
            "input buffer has 484 bytes; offset 8 + extent 480 needs 488");
        BADW(op, a.out = out_short, out_short, COUNT - 1, CLNORM_BUFFER_TOO_SMALL,
             "output buffer has 476 bytes");
        BADW(op, (a.out = out_pad1, a.out_off = 8), out_pad1, COUNT + 1, CLNORM_BUFFER_TOO_SMALL,
             "output buffer has 484 bytes; offset 8 + extent 480 needs 488");
        for (size_t off = 1; off < 4; ++off) {
            for (int i = 0; i < 2; ++i)
                snprintf(needle[i], sizeof needle[i], "%s offset %zu bytes is not a multiple of 4",
                         i ? "output" : "input", off);
            BAD(op, (a.in = in_pad1, a.in_off = off), CLNORM_MISALIGNED_OFFSET, needle[0]);
            BADW(op, (a.out = out_pad1, a.out_off = off), out_pad1, COUNT + 1,
                 CLNORM_MISALIGNED_OFFSET, needle[1]);
        }
        /* exact fits pass, and nothing before the output offset is written */
        args a = good(f, op);
        a.in = in_pad1, a.in_off = 4, a.out = out_pad2, a.out_off = 8;
        accept(f, &a);
        float head[2];
        buffer_read(f->c, out_pad2, 0, head, 2);
        assert_true(head[0] == POISON && head[1] == POISON);
        poison(f, out_pad2, COUNT + 2);
    }
    clReleaseMemObject(in_short), clReleaseMemObject(in_pad1), clReleaseMemObject(out_short);
    clReleaseMemObject(out_pad1), clReleaseMemObject(out_pad2);
}

/* Input and output in one buffer: the same bytes (in place) or disjoint
 * ranges work; ranges that overlap otherwise, directly or through
 * sub-buffers, are refused before anything is enqueued. */
static void overlaps(void **state)
{
    fix *f = *state;
    cl_mem big = buffer_poisoned(f->c, 2 * COUNT);
    cl_uint align_bits = 0;
    assert_int_equal(clGetDeviceInfo(clnorm_context_device(f->c), CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                                     sizeof align_bits, &align_bits, NULL),
                     CL_SUCCESS);
    size_t align = align_bits / 8;
    cl_mem sub[2] = {NULL, NULL};
    if (align < COUNT * sizeof(float)) { /* two sub-buffers sharing bytes */
        cl_buffer_region region[2] = {{0, COUNT * sizeof(float)}, {align, COUNT * sizeof(float)}};
        for (int i = 0; i < 2; ++i) {
            cl_int err;
            sub[i] = clCreateSubBuffer(big, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                       &region[i], &err);
            assert_int_equal(err, CL_SUCCESS);
        }
    }
    for (int op = OP_VN; op <= OP_INV; ++op) {
        BADW(op, (a.in = big, a.out = big, a.out_off = 4), big, COUNT + 2,
             CLNORM_INVALID_ARGUMENT, "overlap in one buffer");
        BADW(op, (a.in = big, a.in_off = (COUNT - 1) * sizeof(float), a.out = big), big,
             COUNT + 2, CLNORM_INVALID_ARGUMENT, "overlap in one buffer");
        if (sub[0])
            BADW(op, (a.in = sub[0], a.out = sub[1]), big, COUNT + 2, CLNORM_INVALID_ARGUMENT,
                 "overlap in one buffer");
    }
    assert_int_equal(clEnqueueWriteBuffer(clnorm_context_queue(f->c), big, CL_TRUE, 0,
                                          sizeof f->x, f->x, 0, NULL, NULL),
                     CL_SUCCESS);
    for (int op = OP_VN; op <= OP_INV; ++op) { /* disjoint halves of one buffer */
        args a = good(f, op);
        a.in = big, a.out = big, a.out_off = COUNT * sizeof(float);
        accept(f, &a);
    }
    if (sub[0])
        clReleaseMemObject(sub[0]), clReleaseMemObject(sub[1]);
    clReleaseMemObject(big);
}

static void wait_lists(void **state)
{
    fix *f = *state;
    cl_event ue = user_event_complete(f->c), with_null[3] = {ue, ue, NULL};
    for (int op = OP_VN; op <= OP_INV; ++op) {
        BAD(op, (a.nw = 2, a.wl = NULL), CLNORM_NULL_ARGUMENT,
            "num_wait is 2 but wait_list is NULL");
        BAD(op, (a.nw = 0, a.wl = &ue), CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
        BAD(op, (a.nw = 3, a.wl = with_null), CLNORM_NULL_ARGUMENT, "wait_list[2] is NULL");
        args a = good(f, op);
        a.nw = 2, a.wl = with_null;
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
    BAD(OP_INV, a.layer = fresh, CLNORM_NO_STATISTICS, "revin_inverse: no statistics yet");
    EXPECT(f->c, clnorm_revin_read_stats(fresh, m, s, RROWS), CLNORM_NO_STATISTICS,
           "revin_read_stats: no statistics yet");
    assert_true(m[0] == POISON && s[RROWS - 1] == POISON);
    clnorm_revin_destroy(fresh);

    /* f->rv holds statistics for B = 2 */
    assert_int_equal(clnorm_revin_read_stats(f->rv, m0, s0, RROWS), CLNORM_OK);
    for (size_t b = 1; b <= 3; b += 2)
        BAD(OP_INV, a.d[0] = b, CLNORM_SHAPE_MISMATCH, "but the statistics are for B = 2");
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
    args a = good(f, OP_INV);
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
    EXPECT(ctx, clnorm_varnorm2d_create(ctx, VC, NULL), CLNORM_NULL_ARGUMENT,
           "varnorm2d_create: out is NULL");
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 0, NULL), CLNORM_NULL_ARGUMENT,
           "revin_create: out is NULL");
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
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 1u << 12, &rv), CLNORM_INVALID_ARGUMENT,
           "unknown flags 0x1000");
    EXPECT(ctx, clnorm_revin_create(ctx, RD, CLNORM_REVIN_AFFINE | 0x80000000u, &rv),
           CLNORM_INVALID_ARGUMENT, "unknown flags 0x80000000");
    assert_null(rv);

    /* unknown context flags: a context that only holds its message */
    clnorm_context *c = NULL;
    assert_int_equal(clnorm_context_create(NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
    assert_int_equal(clnorm_context_wrap(NULL, NULL, NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
    const char *needles[3] = {"unknown context flags 0x100000", "flags 0x80000000", "flags 0x10000"};
    for (int i = 0; i < 3; ++i) {
        clnorm_status st =
            i == 0   ? clnorm_context_create(NULL, 1u << 20, &c)
            : i == 1 ? clnorm_context_create("cpu", CLNORM_CONTEXT_NO_CACHE | (1u << 31), &c)
                     : clnorm_context_wrap(clnorm_context_cl_context(ctx), clnorm_context_device(ctx),
                                           clnorm_context_queue(ctx), 1u << 16, &c);
        assert_non_null(c);
        expect_status_(c, st, CLNORM_INVALID_ARGUMENT, needles[i], "unknown flags", __LINE__);
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
    clnorm_context_destroy(NULL), clnorm_varnorm2d_destroy(NULL), clnorm_revin_destroy(NULL);
    unsigned built = 7, cached = 7;
    clnorm_context_program_counts(NULL, &built, &cached);
    assert_true(built == 0 && cached == 0);
    assert_true(!clnorm_context_cl_context(NULL) && !clnorm_context_device(NULL) &&
                !clnorm_context_queue(NULL) && !clnorm_context_uses_fp64(NULL));
    assert_string_equal(clnorm_context_device_description(NULL), "");
    assert_true(clnorm_varnorm2d_upload_count(NULL) == 0 && clnorm_revin_upload_count(NULL) == 0);
}

/* ---------------------------------------------------------- injected faults */

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
#define ARMED(n, expr, fired, site)                                                            \
    do {                                                                                       \
        clnorm_test_fault_arm((n), CL_OUT_OF_RESOURCES);                                       \
        expr;                                                                                  \
        (fired) = clnorm_test_fault_fired();                                                   \
        snprintf((site), sizeof(site), "%s", clnorm_test_fault_site());                        \
        clnorm_test_fault_arm(0, 0);                                                           \
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
           "allocating a varnorm2d layer");
    clnorm_test_fault_arm(1, 0);
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 0, &rv), CLNORM_OUT_OF_MEMORY,
           "allocating a revin layer");
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
            ARMED(n, st = which ? clnorm_revin_read_stats(f->rv, m, s, RROWS)
                                : clnorm_revin_set_stats(f->rv, RB, m1, s1), fired, site);
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

static int group_setup(void **state)
{
    (void)state;
    return (ctx = test_context(0)) == NULL;
}

static int group_teardown(void **state)
{
    (void)state;
    clnorm_test_fault_arm(0, 0), clnorm_context_destroy(ctx);
    /* Every OpenCL object the library made or retained, through every
     * injected failure above, is released (LeakSanitizer cannot see these). */
    long live = clnorm_test_live_objects();
    if (live != 0) {
        print_error("%ld OpenCL object reference(s) never released\n", live);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(overlaps, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(statistics, setup, teardown),
        cmocka_unit_test(create_errors),
        cmocka_unit_test(destroy_null),
        cmocka_unit_test_setup_teardown(fault_on_first_call, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_faults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
