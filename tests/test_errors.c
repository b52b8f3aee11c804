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
enum { VN = 2, VC = 3, VH = 4, VW = 5, VCOUNT = VN * VC * VH * VW };
enum { RB = 2, RL = 6, RD = 3, RROWS = RB * RD, RCOUNT = RB * RL * RD };

static clnorm_context *ctx; /* the default device, shared by every test */

/* ------------------------------------------------------------------ helpers */

static void poison(cl_mem buf, size_t count)
{
    float p = POISON;
    assert_int_equal(clEnqueueFillBuffer(clnorm_context_queue(ctx), buf, &p, sizeof p, 0,
                                         count * sizeof p, 0, NULL, NULL), CL_SUCCESS);
    finish(ctx);
}

/* Finish the queue, then every float of `buf` must still be the poison. */
static void expect_poison(cl_mem buf, size_t count, int line)
{
    float *h = malloc(count * sizeof *h);
    assert_non_null(h);
    finish(ctx);
    buffer_read(ctx, buf, 0, h, count);
    for (size_t i = 0; i < count; ++i)
        if (h[i] != POISON) {
            print_error("line %d: a rejected call wrote the output (element %zu = %g)\n", line,
                        i, (double)h[i]);
            free(h);
            fail();
        }
    free(h);
}

/* Overwrite the context's message with one no tested call produces. */
static void reset_msg(clnorm_context *c)
{
    clnorm_revin_create(c, 1, 0, NULL); /* "revin_create: out is NULL" */
}

/* `got` must be `want` and the message "CLNORM_WANT: ...needle...". */
static void expect_status_(clnorm_context *c, clnorm_status got, clnorm_status want,
                           const char *needle, const char *what, int line)
{
    const char *msg = clnorm_errmsg(c);
    size_t nl = strlen(clnorm_status_name(want));
    int ok = got == want;
    if (ok && needle)
        ok = strncmp(msg, clnorm_status_name(want), nl) == 0 && strstr(msg, needle) != NULL;
    if (!ok) {
        print_error("line %d: %s\n  returned %s, message \"%s\"\n  expected %s with \"%s\"\n",
                    line, what, clnorm_status_name(got), msg, clnorm_status_name(want),
                    needle ? needle : "");
        fail();
    }
}
#define EXPECT(c, call, want, needle)                                                          \
    do {                                                                                       \
        reset_msg(c);                                                                          \
        expect_status_((c), (call), (want), (needle), #call, __LINE__);                       \
    } while (0)

static void check_vn(const float *x, const float *alpha, size_t rows, size_t plane, size_t c,
                     cl_mem out, size_t off)
{
    size_t count = rows * plane;
    float *y = malloc(count * sizeof *y);
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    assert_true(y && ref && tol);
    buffer_read(ctx, out, off, y, count);
    ref_varnorm2d(x, rows, plane, c, alpha, ref);
    tol_relative(ref, count, 8.0, tol);
    size_t bad = check_close("varnorm2d", y, ref, tol, count);
    free(y), free(ref), free(tol);
    assert_int_equal(bad, 0);
}

/* RevIN forward output (optionally affine with one weight w and bias bi). */
static void check_rv(const float *x, size_t b, size_t l, size_t d, int transposed, cl_mem out,
                     size_t off, double w, double bi)
{
    size_t count = b * l * d, rows = b * d;
    size_t outer = transposed ? rows : b, inner = transposed ? 1 : d;
    float *y = malloc(count * sizeof *y);
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    double *m = malloc(rows * sizeof *m), *s = malloc(rows * sizeof *s);
    assert_true(y && ref && tol && m && s);
    buffer_read(ctx, out, off, y, count);
    ref_revin(x, outer, l, inner, ref, m, s);
    tol_revin_y(ref, m, s, outer, l, inner, tol);
    for (size_t i = 0; i < count; ++i) {
        ref[i] = ref[i] * w + bi;
        tol[i] = tol[i] * fabs(w) + 2.0 * ulp_of(ref[i]);
    }
    size_t bad = check_close("revin", y, ref, tol, count);
    free(y), free(ref), free(tol), free(m), free(s);
    assert_int_equal(bad, 0);
}

/* RevIN inverse output against the layer's own (float) statistics. */
static void check_rv_inverse(clnorm_revin *layer, const float *x, size_t b, size_t l, size_t d,
                             cl_mem out)
{
    size_t count = b * l * d, rows = b * d;
    float *y = malloc(count * sizeof *y), *m = malloc(rows * 4), *s = malloc(rows * 4);
    double *ref = malloc(count * sizeof *ref), *tol = malloc(count * sizeof *tol);
    assert_true(y && m && s && ref && tol);
    assert_int_equal(clnorm_revin_read_stats(layer, m, s, rows), CLNORM_OK);
    buffer_read(ctx, out, 0, y, count);
    ref_revin_inverse(x, b, l, d, m, s, ref);
    for (size_t i = 0; i < count; ++i)
        tol[i] = 2.0 * (ulp_of((double)x[i] * s[(i / (l * d)) * d + i % d]) + ulp_of(ref[i]));
    size_t bad = check_close("revin inverse", y, ref, tol, count);
    free(y), free(m), free(s), free(ref), free(tol);
    assert_int_equal(bad, 0);
}

static cl_event user_event_complete(void)
{
    cl_int err;
    cl_event e = clCreateUserEvent(clnorm_context_cl_context(ctx), &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clSetUserEventStatus(e, CL_COMPLETE), CL_SUCCESS);
    return e;
}

static size_t max_alloc_floats(void)
{
    cl_ulong max = 0;
    assert_int_equal(clGetDeviceInfo(clnorm_context_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                                     sizeof max, &max, NULL), CL_SUCCESS);
    return (size_t)(max / sizeof(float));
}

/* ------------------------------------------------------------ VarianceNorm2d */

typedef struct vn_args {
    clnorm_varnorm2d *layer;
    const clnorm_varnorm2d_params *p;
    size_t n, c, h, w;
    cl_mem in;
    size_t in_off;
    cl_mem out;
    size_t out_off;
    cl_uint nw;
    const cl_event *wl;
} vn_args;

typedef struct vn_fix {
    clnorm_varnorm2d *layer;
    float alpha[VC], x[VCOUNT];
    clnorm_varnorm2d_params p;
    cl_mem in, out;
    vn_args good;
} vn_fix;

static clnorm_status vn_call(const vn_args *a, cl_event *ev)
{
    return clnorm_varnorm2d_forward(a->layer, a->p, a->n, a->c, a->h, a->w, a->in, a->in_off,
                                    a->out, a->out_off, a->nw, a->wl, ev);
}

static int vn_setup(void **state)
{
    vn_fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fill_family(f->x, VN * VC, VH * VW, 1, FAMILY_NORMAL);
    for (int i = 0; i < VC; ++i)
        f->alpha[i] = 0.5f + (float)i;
    f->p.alpha = f->alpha;
    f->p.version = 1;
    assert_int_equal(clnorm_varnorm2d_create(ctx, VC, &f->layer), CLNORM_OK);
    f->in = buffer_from(ctx, f->x, VCOUNT, 0);
    f->out = buffer_poisoned(ctx, VCOUNT);
    vn_args g = {f->layer, &f->p, VN, VC, VH, VW, f->in, 0, f->out, 0, 0, NULL};
    f->good = g;
    assert_int_equal(vn_call(&g, NULL), CLNORM_OK);
    finish(ctx);
    check_vn(f->x, f->alpha, VN * VC, VH * VW, VC, f->out, 0);
    poison(f->out, VCOUNT);
    f->p.version = 2; /* a rejected call must not upload it */
    *state = f;
    return 0;
}

static int vn_teardown(void **state)
{
    vn_fix *f = *state;
    clnorm_varnorm2d_destroy(f->layer);
    clReleaseMemObject(f->in);
    clReleaseMemObject(f->out);
    free(f);
    return 0;
}

/* The call is rejected and enqueues nothing: `watch` (watch_count floats) stays
 * poisoned, the event is untouched, alpha is not uploaded. */
static void vn_reject_(vn_fix *f, const vn_args *a, cl_mem watch, size_t watch_count,
                       clnorm_status want, const char *needle, int line)
{
    cl_event ev = SENTINEL;
    uint64_t uploads = clnorm_varnorm2d_upload_count(f->layer);
    reset_msg(ctx);
    expect_status_(ctx, vn_call(a, &ev), want, needle, "varnorm2d_forward", line);
    assert_true(ev == SENTINEL);
    assert_true(clnorm_varnorm2d_upload_count(f->layer) == uploads);
    expect_poison(watch ? watch : f->out, watch ? watch_count : VCOUNT, line);
}
#define VN_REJECT(f, a, want, needle) vn_reject_((f), (a), NULL, 0, (want), (needle), __LINE__)

/* The call succeeds, hands out an event, and the output is right. */
static void vn_accept(vn_fix *f, const vn_args *a)
{
    cl_event ev = NULL;
    clnorm_status st = vn_call(a, &ev);
    if (st != CLNORM_OK)
        print_error("%s\n", clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    assert_non_null(ev);
    assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);
    check_vn(f->x, f->alpha, VN * VC, VH * VW, VC, a->out, a->out_off / sizeof(float));
}

static void vn_null_arguments(void **state)
{
    vn_fix *f = *state;
    vn_args a = f->good;
    a.layer = NULL;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, NULL);
    a = f->good;
    a.p = NULL;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "params is NULL");
    clnorm_varnorm2d_params no_alpha = {NULL, 3};
    a.p = &no_alpha;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "params->alpha is NULL");
    a = f->good;
    a.in = NULL;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "input buffer is NULL");
    a = f->good;
    a.out = NULL;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "output buffer is NULL");
    vn_accept(f, &f->good);
    assert_true(clnorm_varnorm2d_upload_count(f->layer) == 2);
}

static void vn_sizes(void **state)
{
    vn_fix *f = *state;
    for (int dim = 0; dim < 4; ++dim) {
        vn_args a = f->good;
        size_t *s[4] = {&a.n, &a.c, &a.h, &a.w};
        *s[dim] = 0;
        VN_REJECT(f, &a, CLNORM_ZERO_SIZE, "has a zero");
    }
    vn_args a = f->good;
    a.c = VC + 1;
    VN_REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "C = 4 but the layer has num_features = 3");
    a.c = VC - 1;
    VN_REJECT(f, &a, CLNORM_SHAPE_MISMATCH, "num_features = 3");
    const size_t big[][4] = {
        {SIZE_MAX / 2, VC, 4, 1},          /* n * c */
        {1, VC, SIZE_MAX / 2, 4},          /* h * w */
        {SIZE_MAX / 8, VC, 2, 2},          /* (n * c) * (h * w) */
        {SIZE_MAX / 8, VC, 1, 1},          /* count * sizeof(float) */
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; ++i) {
        a = f->good;
        a.n = big[i][0], a.c = big[i][1], a.h = big[i][2], a.w = big[i][3];
        VN_REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows");
    }
    a = f->good;
    a.n = max_alloc_floats() / VC + 1, a.h = 1, a.w = 1;
    VN_REJECT(f, &a, CLNORM_TOO_LARGE, "exceeds the device's max allocation");
    a = f->good;
    a.in_off = SIZE_MAX - 3; /* aligned, but offset + extent wraps */
    VN_REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows");
    a = f->good;
    a.out_off = SIZE_MAX - 3;
    VN_REJECT(f, &a, CLNORM_SIZE_OVERFLOW, "overflows");
    vn_accept(f, &f->good);
}

static void vn_buffers(void **state)
{
    vn_fix *f = *state;
    cl_mem in_short = buffer_from(ctx, f->x, VCOUNT - 1, 0);
    cl_mem in_pad1 = buffer_from(ctx, f->x, VCOUNT, 1); /* x at float 1: room for offset 4 */
    cl_mem in_pad2 = buffer_from(ctx, f->x, VCOUNT, 2); /* x at float 2: offset 8 fits */
    cl_mem out_short = buffer_poisoned(ctx, VCOUNT - 1);
    cl_mem out_pad1 = buffer_poisoned(ctx, VCOUNT + 1);
    cl_mem out_pad2 = buffer_poisoned(ctx, VCOUNT + 2);
    vn_args a = f->good;
    a.in = in_short;
    VN_REJECT(f, &a, CLNORM_BUFFER_TOO_SMALL, "input buffer has 476 bytes");
    a.in = in_pad1, a.in_off = 8;
    VN_REJECT(f, &a, CLNORM_BUFFER_TOO_SMALL, "offset 8 + extent 480 needs 488");
    a = f->good;
    a.out = out_short;
    vn_reject_(f, &a, out_short, VCOUNT - 1, CLNORM_BUFFER_TOO_SMALL, "output buffer has 476",
               __LINE__);
    a.out = out_pad1, a.out_off = 8;
    vn_reject_(f, &a, out_pad1, VCOUNT + 1, CLNORM_BUFFER_TOO_SMALL, "output buffer has 484",
               __LINE__);
    for (size_t off = 1; off < 4; ++off) {
        a = f->good;
        a.in = in_pad1, a.in_off = off;
        VN_REJECT(f, &a, CLNORM_MISALIGNED_OFFSET, "input offset");
        a = f->good;
        a.out = out_pad1, a.out_off = off;
        vn_reject_(f, &a, out_pad1, VCOUNT + 1, CLNORM_MISALIGNED_OFFSET,
                   "not a multiple of 4", __LINE__);
    }
    /* Exact fits are accepted: offset 4 and 8 bytes, and nothing before the offset changes. */
    a = f->good;
    a.in = in_pad1, a.in_off = 4, a.out = out_pad2, a.out_off = 8;
    vn_accept(f, &a);
    float head[2];
    buffer_read(ctx, out_pad2, 0, head, 2);
    assert_true(head[0] == POISON && head[1] == POISON);
    a.in = in_pad2, a.in_off = 8, a.out = out_pad1, a.out_off = 4;
    vn_accept(f, &a);
    cl_mem all[] = {in_short, in_pad1, in_pad2, out_short, out_pad1, out_pad2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clReleaseMemObject(all[i]);
}

static void vn_wait_list(void **state)
{
    vn_fix *f = *state;
    cl_event ue = user_event_complete();
    cl_event with_null[2] = {ue, NULL};
    vn_args a = f->good;
    a.nw = 1, a.wl = NULL;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "num_wait is 1 but wait_list is NULL");
    a.nw = 0, a.wl = &ue;
    VN_REJECT(f, &a, CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
    a.nw = 2, a.wl = with_null;
    VN_REJECT(f, &a, CLNORM_NULL_ARGUMENT, "wait_list[1] is NULL");
    a.nw = 1, a.wl = &ue;
    vn_accept(f, &a);
    clReleaseEvent(ue);
}

static void vn_create_errors(void **state)
{
    (void)state;
    clnorm_varnorm2d *layer = (clnorm_varnorm2d *)&layer; /* must be overwritten with NULL */
    assert_int_equal(clnorm_varnorm2d_create(NULL, VC, &layer), CLNORM_NULL_ARGUMENT);
    assert_null(layer);
    clnorm_revin_create(ctx, 1, 0, NULL); /* a message different from the next one */
    expect_status_(ctx, clnorm_varnorm2d_create(ctx, VC, NULL), CLNORM_NULL_ARGUMENT,
                   "varnorm2d_create: out is NULL", "varnorm2d_create(NULL out)", __LINE__);
    layer = (clnorm_varnorm2d *)&layer;
    EXPECT(ctx, clnorm_varnorm2d_create(ctx, 0, &layer), CLNORM_ZERO_SIZE, "num_features is 0");
    assert_null(layer);
    if (SIZE_MAX > UINT32_MAX)
        EXPECT(ctx, clnorm_varnorm2d_create(ctx, (size_t)UINT32_MAX + 1, &layer),
               CLNORM_INVALID_ARGUMENT, "exceeds 2^32-1");
    /* a context that failed to initialise only holds its message */
    clnorm_context *dead = NULL;
    assert_int_equal(clnorm_context_create("no-such-device-here", 0, &dead), CLNORM_NO_DEVICE);
    assert_non_null(dead);
    EXPECT(dead, clnorm_varnorm2d_create(dead, VC, &layer), CLNORM_INVALID_ARGUMENT,
           "failed to initialise");
    assert_null(layer);
    clnorm_revin *rv = NULL;
    EXPECT(dead, clnorm_revin_create(dead, RD, 0, &rv), CLNORM_INVALID_ARGUMENT,
           "failed to initialise");
    assert_null(rv);
    EXPECT(dead, clnorm_context_prepare(dead), CLNORM_INVALID_ARGUMENT, "failed to initialise");
    assert_int_equal(clnorm_context_prepare(NULL), CLNORM_NULL_ARGUMENT);
    clnorm_context_destroy(dead);
}

/* --------------------------------------------------------------------- RevIN */

typedef clnorm_status (*rv_fn)(clnorm_revin *, const clnorm_revin_params *, size_t, size_t,
                               cl_mem, size_t, cl_mem, size_t, cl_uint, const cl_event *,
                               cl_event *);

typedef struct rv_args {
    clnorm_revin *layer;
    const clnorm_revin_params *p;
    size_t b, l;
    cl_mem in;
    size_t in_off;
    cl_mem out;
    size_t out_off;
    cl_uint nw;
    const cl_event *wl;
} rv_args;

typedef struct rv_fix {
    clnorm_revin *layer, *affine;
    float x[RCOUNT], w[RD], bias[RD];
    clnorm_revin_params p;
    cl_mem in, out;
} rv_fix;

static const rv_fn rv_fns[2] = {clnorm_revin_forward, clnorm_revin_inverse};
static const char *const rv_names[2] = {"revin_forward", "revin_inverse"};

static int rv_setup(void **state)
{
    rv_fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fill_family(f->x, RB, RL, RD, FAMILY_NORMAL);
    for (int i = 0; i < RD; ++i)
        f->w[i] = 2.0f, f->bias[i] = 0.5f;
    f->p.weight = f->w, f->p.bias = f->bias, f->p.version = 1;
    assert_int_equal(clnorm_revin_create(ctx, RD, 0, &f->layer), CLNORM_OK);
    assert_int_equal(clnorm_revin_create(ctx, RD, CLNORM_REVIN_AFFINE, &f->affine), CLNORM_OK);
    f->in = buffer_from(ctx, f->x, RCOUNT, 0);
    f->out = buffer_poisoned(ctx, RCOUNT);
    assert_int_equal(clnorm_revin_forward(f->affine, &f->p, RB, RL, f->in, 0, f->out, 0, 0, NULL,
                                          NULL), CLNORM_OK);
    finish(ctx);
    check_rv(f->x, RB, RL, RD, 0, f->out, 0, 2.0, 0.5);
    assert_int_equal(clnorm_revin_forward(f->layer, NULL, RB, RL, f->in, 0, f->out, 0, 0, NULL,
                                          NULL), CLNORM_OK);
    finish(ctx);
    check_rv(f->x, RB, RL, RD, 0, f->out, 0, 1.0, 0.0);
    poison(f->out, RCOUNT);
    f->p.version = 2; /* a rejected call must not upload it */
    *state = f;
    return 0;
}

static int rv_teardown(void **state)
{
    rv_fix *f = *state;
    clnorm_revin_destroy(f->layer);
    clnorm_revin_destroy(f->affine);
    clReleaseMemObject(f->in);
    clReleaseMemObject(f->out);
    free(f);
    return 0;
}

static rv_args rv_good(rv_fix *f)
{
    rv_args a = {f->layer, NULL, RB, RL, f->in, 0, f->out, 0, 0, NULL};
    return a;
}

static void rv_reject_(rv_fix *f, int fn, const rv_args *a, cl_mem watch, size_t watch_count,
                       clnorm_status want, const char *needle, int line)
{
    cl_event ev = SENTINEL;
    uint64_t uploads = clnorm_revin_upload_count(f->affine);
    char what[64];
    snprintf(what, sizeof what, "%s", rv_names[fn]);
    reset_msg(ctx);
    expect_status_(ctx, rv_fns[fn](a->layer, a->p, a->b, a->l, a->in, a->in_off, a->out,
                                   a->out_off, a->nw, a->wl, &ev),
                   want, needle, what, line);
    assert_true(ev == SENTINEL);
    assert_true(clnorm_revin_upload_count(f->affine) == uploads);
    expect_poison(watch ? watch : f->out, watch ? watch_count : RCOUNT, line);
}
#define RV_REJECT(f, fn, a, want, needle) rv_reject_((f), (fn), (a), NULL, 0, (want), (needle), __LINE__)

/* Both functions accept `a`; forward then inverse round-trips to x. */
static void rv_accept(rv_fix *f, const rv_args *a)
{
    cl_event ev = NULL;
    clnorm_status st = clnorm_revin_forward(a->layer, a->p, a->b, a->l, a->in, a->in_off,
                                            a->out, a->out_off, a->nw, a->wl, &ev);
    if (st != CLNORM_OK)
        print_error("%s\n", clnorm_errmsg(ctx));
    assert_int_equal(st, CLNORM_OK);
    assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);
    float y[RCOUNT];
    buffer_read(ctx, a->out, a->out_off / 4, y, RCOUNT);
    check_rv(f->x, RB, RL, RD, 0, a->out, a->out_off / 4, 1.0, 0.0);
    cl_mem tmp = buffer_from(ctx, y, RCOUNT, 0);
    assert_int_equal(clnorm_revin_inverse(a->layer, NULL, a->b, a->l, tmp, 0, tmp, 0, a->nw,
                                          a->wl, NULL), CLNORM_OK);
    finish(ctx);
    check_rv_inverse(a->layer, y, RB, RL, RD, tmp);
    clReleaseMemObject(tmp);
}

static void rv_null_arguments(void **state)
{
    rv_fix *f = *state;
    for (int fn = 0; fn < 2; ++fn) {
        rv_args a = rv_good(f);
        a.layer = NULL;
        RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, NULL);
        a = rv_good(f);
        a.in = NULL;
        RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, "revin input buffer is NULL");
        a = rv_good(f);
        a.out = NULL;
        RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, "revin output buffer is NULL");
        clnorm_revin_params no_w = {NULL, f->bias, 3}, no_b = {f->w, NULL, 3};
        const clnorm_revin_params *bad[3] = {NULL, &no_w, &no_b};
        for (int i = 0; i < 3; ++i) {
            a = rv_good(f);
            a.layer = f->affine, a.p = bad[i];
            RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, "affine mode needs params");
        }
    }
    rv_args a = rv_good(f);
    rv_accept(f, &a); /* NULL params are fine without CLNORM_REVIN_AFFINE */
}

static void rv_sizes(void **state)
{
    rv_fix *f = *state;
    for (int fn = 0; fn < 2; ++fn) {
        rv_args a = rv_good(f);
        a.l = 0;
        RV_REJECT(f, fn, &a, CLNORM_ZERO_SIZE, "has a zero");
        a = rv_good(f);
        a.b = 0; /* the inverse checks B against the statistics first */
        RV_REJECT(f, fn, &a, fn ? CLNORM_SHAPE_MISMATCH : CLNORM_ZERO_SIZE,
                  fn ? "statistics are for B = 2" : "B = 0, L = 6 has a zero");
        a = rv_good(f);
        a.l = SIZE_MAX / 4; /* (b * d) * l */
        RV_REJECT(f, fn, &a, CLNORM_SIZE_OVERFLOW, "overflows");
        a.l = SIZE_MAX / 16; /* count * sizeof(float) */
        RV_REJECT(f, fn, &a, CLNORM_SIZE_OVERFLOW, "overflows");
        a.l = max_alloc_floats() / RROWS + 1;
        RV_REJECT(f, fn, &a, CLNORM_TOO_LARGE, "exceeds");
    }
    rv_args a = rv_good(f);
    a.b = SIZE_MAX / 2; /* b * d */
    RV_REJECT(f, 0, &a, CLNORM_SIZE_OVERFLOW, "overflows");
    a = rv_good(f);
    rv_accept(f, &a);
}

static void rv_buffers(void **state)
{
    rv_fix *f = *state;
    cl_mem in_short = buffer_from(ctx, f->x, RCOUNT - 1, 0);
    cl_mem in_pad1 = buffer_from(ctx, f->x, RCOUNT, 1);
    cl_mem out_short = buffer_poisoned(ctx, RCOUNT - 1);
    cl_mem out_pad1 = buffer_poisoned(ctx, RCOUNT + 1);
    cl_mem out_pad2 = buffer_poisoned(ctx, RCOUNT + 2);
    for (int fn = 0; fn < 2; ++fn) {
        rv_args a = rv_good(f);
        a.in = in_short;
        RV_REJECT(f, fn, &a, CLNORM_BUFFER_TOO_SMALL, "revin input buffer has 140 bytes");
        a.in = in_pad1, a.in_off = 8;
        RV_REJECT(f, fn, &a, CLNORM_BUFFER_TOO_SMALL, "offset 8 + extent 144 needs 152");
        a = rv_good(f);
        a.out = out_short;
        rv_reject_(f, fn, &a, out_short, RCOUNT - 1, CLNORM_BUFFER_TOO_SMALL,
                   "revin output buffer has 140", __LINE__);
        a.out = out_pad1, a.out_off = 8;
        rv_reject_(f, fn, &a, out_pad1, RCOUNT + 1, CLNORM_BUFFER_TOO_SMALL,
                   "revin output buffer has 148", __LINE__);
        for (size_t off = 1; off < 4; ++off) {
            a = rv_good(f);
            a.in = in_pad1, a.in_off = off;
            RV_REJECT(f, fn, &a, CLNORM_MISALIGNED_OFFSET, "not a multiple of 4");
            a = rv_good(f);
            a.out = out_pad1, a.out_off = off;
            rv_reject_(f, fn, &a, out_pad1, RCOUNT + 1, CLNORM_MISALIGNED_OFFSET,
                       "revin output offset", __LINE__);
        }
    }
    rv_args a = rv_good(f);
    a.in = in_pad1, a.in_off = 4, a.out = out_pad2, a.out_off = 8;
    rv_accept(f, &a);
    cl_mem all[] = {in_short, in_pad1, out_short, out_pad1, out_pad2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clReleaseMemObject(all[i]);
}

static void rv_wait_list(void **state)
{
    rv_fix *f = *state;
    cl_event ue = user_event_complete();
    cl_event with_null[3] = {ue, ue, NULL};
    for (int fn = 0; fn < 2; ++fn) {
        rv_args a = rv_good(f);
        a.nw = 2, a.wl = NULL;
        RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, "num_wait is 2 but wait_list is NULL");
        a.nw = 0, a.wl = &ue;
        RV_REJECT(f, fn, &a, CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
        a.nw = 3, a.wl = with_null;
        RV_REJECT(f, fn, &a, CLNORM_NULL_ARGUMENT, "wait_list[2] is NULL");
    }
    rv_args a = rv_good(f);
    a.nw = 2, a.wl = with_null;
    rv_accept(f, &a);
    clReleaseEvent(ue);
}

static void rv_statistics(void **state)
{
    rv_fix *f = *state;
    float m[RROWS + 1], s[RROWS + 1], m0[RROWS], s0[RROWS];
    clnorm_revin *fresh = NULL;
    assert_int_equal(clnorm_revin_create(ctx, RD, 0, &fresh), CLNORM_OK);
    rv_args a = rv_good(f);
    a.layer = fresh;
    RV_REJECT(f, 1, &a, CLNORM_NO_STATISTICS, "no statistics yet");
    for (int i = 0; i <= RROWS; ++i)
        m[i] = s[i] = POISON;
    EXPECT(ctx, clnorm_revin_read_stats(fresh, m, s, RROWS), CLNORM_NO_STATISTICS,
           "no statistics yet");
    assert_true(m[0] == POISON && s[RROWS - 1] == POISON);
    clnorm_revin_destroy(fresh);

    /* f->layer holds statistics for B = 2 */
    assert_int_equal(clnorm_revin_read_stats(f->layer, m0, s0, RROWS), CLNORM_OK);
    for (size_t b = 1; b <= 3; b += 2) {
        a = rv_good(f);
        a.b = b;
        RV_REJECT(f, 1, &a, CLNORM_SHAPE_MISMATCH, "but the statistics are for B = 2");
    }
    const size_t counts[] = {RROWS - 1, RROWS + 1, 0};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT(ctx, clnorm_revin_read_stats(f->layer, m, s, counts[i]), CLNORM_SHAPE_MISMATCH,
               "but the statistics hold B*D = 2*3");
        assert_true(m[0] == POISON && s[0] == POISON && m[RROWS] == POISON);
    }
    assert_int_equal(clnorm_revin_read_stats(f->layer, NULL, NULL, RROWS), CLNORM_OK);

    /* set_stats: every rejection leaves the forward's statistics in place */
    assert_int_equal(clnorm_revin_set_stats(NULL, RB, m0, s0), CLNORM_NULL_ARGUMENT);
    EXPECT(ctx, clnorm_revin_set_stats(f->layer, RB, NULL, s0), CLNORM_NULL_ARGUMENT,
           "mean is NULL");
    EXPECT(ctx, clnorm_revin_set_stats(f->layer, RB, m0, NULL), CLNORM_NULL_ARGUMENT,
           "std is NULL");
    EXPECT(ctx, clnorm_revin_set_stats(f->layer, 0, m0, s0), CLNORM_ZERO_SIZE, "B is 0");
    EXPECT(ctx, clnorm_revin_set_stats(f->layer, SIZE_MAX / 2, m0, s0), CLNORM_SIZE_OVERFLOW,
           "overflows");
    EXPECT(ctx, clnorm_revin_set_stats(f->layer, SIZE_MAX / 8, m0, s0), CLNORM_SIZE_OVERFLOW,
           "overflows");
    assert_int_equal(clnorm_revin_read_stats(f->layer, m, s, RROWS), CLNORM_OK);
    assert_memory_equal(m, m0, sizeof m0);
    assert_memory_equal(s, s0, sizeof s0);
    assert_int_equal(clnorm_revin_read_stats(NULL, m, s, RROWS), CLNORM_NULL_ARGUMENT);
    a = rv_good(f);
    rv_accept(f, &a);
}

static void create_errors(void **state)
{
    (void)state;
    clnorm_revin *rv = (clnorm_revin *)&rv;
    assert_int_equal(clnorm_revin_create(NULL, RD, 0, &rv), CLNORM_NULL_ARGUMENT);
    assert_null(rv);
    clnorm_varnorm2d_create(ctx, 1, NULL); /* a message different from the next one */
    expect_status_(ctx, clnorm_revin_create(ctx, RD, 0, NULL), CLNORM_NULL_ARGUMENT,
                   "revin_create: out is NULL", "revin_create(NULL out)", __LINE__);
    EXPECT(ctx, clnorm_revin_create(ctx, 0, 0, &rv), CLNORM_ZERO_SIZE, "d is 0");
    if (SIZE_MAX > UINT32_MAX)
        EXPECT(ctx, clnorm_revin_create(ctx, (size_t)UINT32_MAX + 1, 0, &rv),
               CLNORM_INVALID_ARGUMENT, "exceeds 2^32-1");
    EXPECT(ctx, clnorm_revin_create(ctx, RD, 1u << 2, &rv), CLNORM_INVALID_ARGUMENT,
           "unknown flags 0x4");
    EXPECT(ctx, clnorm_revin_create(ctx, RD, CLNORM_REVIN_AFFINE | 0x80000000u, &rv),
           CLNORM_INVALID_ARGUMENT, "unknown flags 0x80000000");
    assert_null(rv);

    clnorm_context *c = (clnorm_context *)&c;
    assert_int_equal(clnorm_context_create(NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
    const unsigned bad_flags[] = {1u << 2, CLNORM_CONTEXT_NO_CACHE | (1u << 31)};
    for (size_t i = 0; i < 2; ++i) {
        assert_int_equal(clnorm_context_create(NULL, bad_flags[i], &c), CLNORM_INVALID_ARGUMENT);
        assert_non_null(c);
        assert_non_null(strstr(clnorm_errmsg(c), "unknown context flags"));
        assert_null(clnorm_context_cl_context(c));
        clnorm_context_destroy(c);
    }
    assert_int_equal(clnorm_context_wrap(clnorm_context_cl_context(ctx), clnorm_context_device(ctx),
                                         clnorm_context_queue(ctx), 1u << 4, &c),
                     CLNORM_INVALID_ARGUMENT);
    assert_non_null(strstr(clnorm_errmsg(c), "unknown context flags 0x10"));
    clnorm_context_destroy(c);
    assert_int_equal(clnorm_context_wrap(NULL, NULL, NULL, 0, NULL), CLNORM_NULL_ARGUMENT);
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
    assert_null(clnorm_context_cl_context(NULL));
    assert_null(clnorm_context_device(NULL));
    assert_null(clnorm_context_queue(NULL));
    assert_string_equal(clnorm_context_device_description(NULL), "");
    assert_int_equal(clnorm_context_uses_fp64(NULL), 0);
    assert_true(clnorm_varnorm2d_upload_count(NULL) == 0 && clnorm_revin_upload_count(NULL) == 0);
}

#include "test_errors_faults.inc"
