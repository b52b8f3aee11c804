/* SPDX-License-Identifier: Apache-2.0 */
/* layer_calls.c: the fixture shared by test_errors.c and test_forward_faults.c
 * (see layer_calls.h). */
#define _POSIX_C_SOURCE 200809L
#include "layer_calls.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const op_names[3] = {"varnorm2d_forward", "revin_forward", "revin_inverse"};

clnorm_status call(const args *a, cl_event *ev)
{
    if (a->op == OP_VN)
        return clnorm_varnorm2d_forward(a->layer, a->p, a->d[0], a->d[1], a->d[2], a->d[3], a->in,
                                        a->in_off, a->out, a->out_off, a->nw, a->wl, ev);
    return (a->op == OP_FWD ? clnorm_revin_forward : clnorm_revin_inverse)(
        a->layer, a->p, a->d[0], a->d[1], a->in, a->in_off, a->out, a->out_off, a->nw, a->wl, ev);
}

args good(fix *f, int op)
{
    args a = {op, f->rv, NULL, {RB, RL, 0, 0}, f->in, f->out, 0, 0, 0, NULL};
    if (op == OP_VN)
        a.layer = f->vn, a.p = &f->vp, a.d[0] = VN, a.d[1] = VC, a.d[2] = VH, a.d[3] = VW;
    return a;
}

void poison(fix *f, cl_mem buf, size_t count)
{
    float p = POISON;
    assert_int_equal(clEnqueueFillBuffer(clnorm_context_queue(f->c), buf, &p, sizeof p, 0,
                                         count * sizeof p, 0, NULL, NULL),
                     CL_SUCCESS);
    finish(f->c);
}

/* Finish the queue, then every float of `buf` must still be the poison. */
void expect_poison(fix *f, cl_mem buf, size_t count, int line)
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
void expect_status_(const clnorm_context *c, clnorm_status got, clnorm_status want,
                    const char *needle, const char *what, int line)
{
    const char *msg = clnorm_errmsg(c), *name = clnorm_status_name(want);
    int ok = got == want;
    if (ok && needle)
        ok = strncmp(msg, name, strlen(name)) == 0 && strstr(msg, needle) != NULL;
    if (!ok) {
        print_error("line %d: %s\n  returned %s, message \"%s\"\n  expected %s with \"%s\"\n", line,
                    what, clnorm_status_name(got), msg, name, needle ? needle : "");
        fail();
    }
}

/* The output of `a` (read at its offset) against the double reference, for input x. */
void check_out(fix *f, const args *a, const float *x)
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
            tol[i] =
                2.0 * (ulp_of((double)xa[i] * s[i / (RL * RD) * RD + i % RD]) + ulp_of(ref[i]));
    }
    size_t bad = check_close(op_names[a->op], y, ref, tol, count);
    free(y), free(ref), free(tol);
    assert_int_equal(bad, 0);
}

/* The call is rejected and enqueues nothing: `watch` (f->out when NULL)
 * stays poisoned, the event is untouched, no parameters are uploaded. */
void reject_(fix *f, const args *a, cl_mem watch, size_t watch_count, clnorm_status want,
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

/* The call succeeds, hands out an event, the output is right; f->out is re-poisoned. */
void accept(fix *f, const args *a)
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

cl_event user_event_complete(clnorm_context *c)
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

int setup(void **state)
{
    assert_non_null(*state = calloc(1, sizeof(fix)));
    fix_init(*state, ctx);
    return 0;
}

int teardown(void **state)
{
    fix_free(*state), free(*state);
    return 0;
}
