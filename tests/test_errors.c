/* SPDX-License-Identifier: Apache-2.0 */
/* test_errors.c: every argument error of the public API. A rejected call
 * must return the right status, leave a message naming the problem, and
 * enqueue nothing (its poisoned output stays poisoned, its event stays
 * untouched, no parameter upload). Injected failures: test_forward_faults.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_calls.h"
#include "test_main.h"

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
                                     sizeof max_alloc, &max_alloc, NULL),
                     CL_SUCCESS);
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
            BAD(op, a.d[1] = SIZE_MAX / 4, CLNORM_SIZE_OVERFLOW, "overflows");  /* (b*d) * l */
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
        BADW(op, (a.in = big, a.out = big, a.out_off = 4), big, COUNT + 2, CLNORM_INVALID_ARGUMENT,
             "overlap in one buffer");
        BADW(op, (a.in = big, a.in_off = (COUNT - 1) * sizeof(float), a.out = big), big, COUNT + 2,
             CLNORM_INVALID_ARGUMENT, "overlap in one buffer");
        if (sub[0])
            BADW(op, (a.in = sub[0], a.out = sub[1]), big, COUNT + 2, CLNORM_INVALID_ARGUMENT,
                 "overlap in one buffer");
    }
    assert_int_equal(clEnqueueWriteBuffer(clnorm_context_queue(f->c), big, CL_TRUE, 0, sizeof f->x,
                                          f->x, 0, NULL, NULL),
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
    const char *needles[3] = {"unknown context flags 0x100000", "flags 0x80000000",
                              "flags 0x10000"};
    for (int i = 0; i < 3; ++i) {
        clnorm_status st =
            i == 0 ? clnorm_context_create(NULL, 1u << 20, &c)
            : i == 1
                ? clnorm_context_create("cpu", CLNORM_CONTEXT_NO_CACHE | (1u << 31), &c)
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

/* A test on a fix of its own (layer_calls.c: setup, teardown). */
#define FIX_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

TEST_MAIN(group_setup, group_teardown, FIX_TEST(null_arguments), FIX_TEST(sizes), FIX_TEST(buffers),
          FIX_TEST(overlaps), FIX_TEST(wait_lists), FIX_TEST(statistics),
          cmocka_unit_test(create_errors), cmocka_unit_test(destroy_null))
