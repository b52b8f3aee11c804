/* SPDX-License-Identifier: Apache-2.0 */
/* layer_calls.h: the fixture of test_errors.c and test_forward_faults.c:
 * two small layers of each kind on one context, a poisoned output, one call
 * of any forward described as data (args), and the checks a rejected or an
 * accepted call must pass. */
#ifndef CLNORM_TEST_LAYER_CALLS_H
#define CLNORM_TEST_LAYER_CALLS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clnorm_int.h" /* fault.h, CLNORM_WAITS_RESERVED */
#include "shared_context.h"
#include "support.h"

#define POISON (-7.75e30f) /* as buffer_poisoned() in support.c */
#define SENTINEL ((cl_event)(uintptr_t)0x5eed)
/* VarianceNorm2d (2, 3, 4, 5) and RevIN (B, L, D) = (2, 20, 3): both 120 floats. */
enum { VN = 2, VC = 3, VH = 4, VW = 5, RB = 2, RL = 20, RD = 3, RROWS = RB * RD, COUNT = 120 };
enum { OP_VN, OP_FWD, OP_INV };
extern const char *const op_names[3];

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

clnorm_status call(const args *a, cl_event *ev);
args good(fix *f, int op);
void poison(fix *f, cl_mem buf, size_t count);
/* Finish the queue, then every float of `buf` must still be the poison. */
void expect_poison(fix *f, cl_mem buf, size_t count, int line);
/* `got` must be `want`, and the message "CLNORM_WANT: ...needle...". */
void expect_status_(const clnorm_context *c, clnorm_status got, clnorm_status want,
                    const char *needle, const char *what, int line);
#define EXPECT(c, call, want, needle)                                                              \
    do {                                                                                           \
        clnorm__fail((c), CLNORM_OK, "stale"); /* a message no checked call leaves */              \
        expect_status_((c), (call), (want), (needle), #call, __LINE__);                            \
    } while (0)
/* The output of `a` (read at its offset) against the double reference, for input x. */
void check_out(fix *f, const args *a, const float *x);
/* The call is rejected and enqueues nothing: `watch` (f->out when NULL)
 * stays poisoned, the event is untouched, no parameters are uploaded. */
void reject_(fix *f, const args *a, cl_mem watch, size_t watch_count, clnorm_status want,
             const char *needle, int line);
/* Reject good(f, op) changed by `mods` (statements on `a`). */
#define BAD(op, mods, want, needle) BADW(op, mods, NULL, 0, want, needle)
#define BADW(op, mods, watch, wcount, want, needle)                                                \
    do {                                                                                           \
        args a = good(f, (op));                                                                    \
        mods;                                                                                      \
        reject_(f, &a, (watch), (wcount), (want), (needle), __LINE__);                             \
    } while (0)
/* The call succeeds, hands out an event, the output is right; f->out is re-poisoned. */
void accept(fix *f, const args *a);
cl_event user_event_complete(clnorm_context *c);
/* Per test: a fix on ctx (setup), freed (teardown). */
int setup(void **state);
int teardown(void **state);

#endif
