/* SPDX-License-Identifier: Apache-2.0 */
/* runtime.c: the layer runtime, what every layer shares whatever computes
 * it: creation on a context, the argument and buffer checks of a forward,
 * the wait list (the caller's plus the layer's last command) and the event
 * handed out. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "clnorm_int.h"

clnorm_status clnorm__layer_new(clnorm_context *ctx, const char *fn, size_t size, void *out,
                                void **layer)
{
    *layer = NULL;
    if (!out)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s: out is NULL", fn);
    void *none = NULL;
    memcpy(out, &none, sizeof none); /* *out = NULL for any layer type */
    if (!ctx)
        return CLNORM_NULL_ARGUMENT;
    if (!ctx->cl_ctx)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "the context failed to initialise");
    clnorm__layer *l = clnorm__calloc(1, size);
    if (!l)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "%s: allocating the layer", fn);
    l->ctx = ctx;
    l->waits = clnorm__calloc(CLNORM_WAITS_RESERVED, sizeof *l->waits);
    if (!l->waits) {
        clnorm__free(l);
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "%s: allocating the wait list", fn);
    }
    l->waits_cap = CLNORM_WAITS_RESERVED;
    *layer = l;
    return CLNORM_OK;
}

void clnorm__layer_free(void *layer)
{
    clnorm__layer *l = layer;
    if (!l)
        return;
    clnorm__release_event(l->last);
    clnorm__free(l->waits);
    clnorm__free(l);
}

clnorm_status clnorm__check_create_args(const clnorm_context *ctx, const clnorm__create_args *a)
{
    for (size_t i = 0; i < CLNORM_CREATE_DIMS && a->dims[i].name; ++i) {
        if (a->dims[i].value == 0)
            return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: %s is 0", a->fn, a->dims[i].name);
        if (a->dims[i].value > UINT32_MAX)
            return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "%s: %s %zu exceeds 2^32-1", a->fn,
                                a->dims[i].name, a->dims[i].value);
    }
    if (a->flags & ~a->known)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "%s: unknown flags 0x%x", a->fn,
                            a->flags & ~a->known);
    if (a->has_eps && !(a->eps >= 0.0 && a->eps <= DBL_MAX))
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "%s: eps %g is not a finite number >= 0",
                            a->fn, a->eps);
    return CLNORM_OK;
}

clnorm_status clnorm__check_buffer(const clnorm_context *ctx, const char *what, cl_mem buf,
                                   size_t offset, size_t count)
{
    if (!buf)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s buffer is NULL", what);
    if (offset % sizeof(float))
        return clnorm__fail(ctx, CLNORM_MISALIGNED_OFFSET,
                            "%s offset %zu bytes is not a multiple of 4", what, offset);
    size_t bytes = 0;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, count, sizeof(float), &bytes));
    if (bytes > SIZE_MAX - offset)
        return clnorm__fail(ctx, CLNORM_SIZE_OVERFLOW, "%s offset %zu + %zu bytes overflows", what,
                            offset, bytes);
    if (bytes > ctx->info.max_alloc_size)
        return clnorm__fail(ctx, CLNORM_TOO_LARGE,
                            "%s extent %zu bytes exceeds the device's max allocation %llu", what,
                            bytes, (unsigned long long)ctx->info.max_alloc_size);
    size_t size = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clGetMemObjectInfo, (buf, CL_MEM_SIZE, sizeof size, &size, NULL));
    RETURN_IF_ERROR(st);
    if (size < offset + bytes)
        return clnorm__fail(ctx, CLNORM_BUFFER_TOO_SMALL,
                            "%s buffer has %zu bytes; offset %zu + extent %zu needs %zu", what,
                            size, offset, bytes, offset + bytes);
    return CLNORM_OK;
}

/* The buffer a cl_mem's bytes live in, and where: sub-buffers resolve to
 * their parent plus the sub-buffer's origin. */
static clnorm_status mem_root(const clnorm_context *ctx, cl_mem buf, cl_mem *root, size_t *origin)
{
    cl_mem parent = NULL;
    size_t at = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clGetMemObjectInfo,
            (buf, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent, &parent, NULL));
    if (st == CLNORM_OK && parent)
        CL_CALL(ctx, st, clGetMemObjectInfo, (buf, CL_MEM_OFFSET, sizeof at, &at, NULL));
    *root = parent ? parent : buf;
    *origin = at;
    return st;
}

/* Input and output (of their byte counts) are either the same bytes (in
 * place, where `in_place` allows it) or disjoint, sub-buffers included. */
static clnorm_status check_in_out(const clnorm_context *ctx, const char *fn, cl_mem in,
                                  size_t in_offset, size_t in_bytes, cl_mem out, size_t out_offset,
                                  size_t out_bytes, int in_place)
{
    cl_mem in_root, out_root;
    size_t in_at, out_at;
    RETURN_IF_ERROR(mem_root(ctx, in, &in_root, &in_at));
    RETURN_IF_ERROR(mem_root(ctx, out, &out_root, &out_at));
    if (in_root != out_root)
        return CLNORM_OK;
    /* Both extents were checked against their buffers, so these do not overflow. */
    size_t a = in_at + in_offset, b = out_at + out_offset;
    if ((in_place && a == b) || a + in_bytes <= b || b + out_bytes <= a)
        return CLNORM_OK;
    if (!in_place)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "%s: input (byte %zu) and output (byte %zu) overlap in one buffer; "
                            "a product cannot run in place",
                            fn, a, b);
    return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                        "%s: input (byte %zu) and output (byte %zu) overlap in one buffer; "
                        "in place needs the same buffer and offset",
                        fn, a, b);
}

static clnorm_status check_wait_list(const clnorm_context *ctx, cl_uint num_wait,
                                     const cl_event *wait_list)
{
    if (num_wait && !wait_list)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "num_wait is %u but wait_list is NULL",
                            (unsigned)num_wait);
    if (!num_wait && wait_list)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "wait_list given with num_wait 0");
    for (cl_uint i = 0; i < num_wait; ++i)
        if (!wait_list[i])
            return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "wait_list[%u] is NULL", (unsigned)i);
    return CLNORM_OK;
}

clnorm_status clnorm__layer_check_bld(const clnorm__layer *l, const char *fn, size_t b, size_t len,
                                      size_t d, cl_mem in, size_t in_offset, cl_mem out,
                                      size_t out_offset, cl_uint num_wait,
                                      const cl_event *wait_list, size_t *rows)
{
    if (!b || !len)
        return clnorm__fail(l->ctx, CLNORM_ZERO_SIZE, "%s: B = %zu, L = %zu has a zero", fn, b,
                            len);
    size_t count;
    RETURN_IF_ERROR(clnorm__mul_size(l->ctx, b, d, rows));
    RETURN_IF_ERROR(clnorm__mul_size(l->ctx, *rows, len, &count));
    return clnorm__layer_check_io(l, fn, in, in_offset, out, out_offset, count, num_wait,
                                  wait_list);
}

clnorm_status clnorm__layer_check_io(const clnorm__layer *l, const char *fn, cl_mem in,
                                     size_t in_offset, cl_mem out, size_t out_offset, size_t count,
                                     cl_uint num_wait, const cl_event *wait_list)
{
    char what[64];
    snprintf(what, sizeof what, "%.40s input", fn);
    RETURN_IF_ERROR(clnorm__check_buffer(l->ctx, what, in, in_offset, count));
    snprintf(what, sizeof what, "%.40s output", fn);
    RETURN_IF_ERROR(clnorm__check_buffer(l->ctx, what, out, out_offset, count));
    RETURN_IF_ERROR(check_in_out(l->ctx, fn, in, in_offset, count * sizeof(float), out, out_offset,
                                 count * sizeof(float), 1));
    return check_wait_list(l->ctx, num_wait, wait_list);
}

clnorm_status clnorm__layer_check_product(const clnorm__layer *l, const char *fn, cl_mem in,
                                          size_t in_offset, size_t in_count, cl_mem out,
                                          size_t out_offset, size_t out_count, cl_uint num_wait,
                                          const cl_event *wait_list)
{
    char what[64];
    snprintf(what, sizeof what, "%.40s input", fn);
    RETURN_IF_ERROR(clnorm__check_buffer(l->ctx, what, in, in_offset, in_count));
    snprintf(what, sizeof what, "%.40s output", fn);
    RETURN_IF_ERROR(clnorm__check_buffer(l->ctx, what, out, out_offset, out_count));
    RETURN_IF_ERROR(check_in_out(l->ctx, fn, in, in_offset, in_count * sizeof(float), out,
                                 out_offset, out_count * sizeof(float), 0));
    return check_wait_list(l->ctx, num_wait, wait_list);
}

clnorm_status clnorm__layer_waits(clnorm__layer *l, cl_uint num_wait, const cl_event *wait_list,
                                  cl_uint *count, const cl_event **list)
{
    size_t need = (size_t)num_wait + (l->last ? 1 : 0);
    if (!l->last) {
        *count = num_wait;
        *list = num_wait ? wait_list : NULL;
        return CLNORM_OK;
    }
    if (need > l->waits_cap) {
        cl_event *grown = clnorm__realloc(l->waits, need * sizeof *grown);
        if (!grown)
            return clnorm__fail(l->ctx, CLNORM_OUT_OF_MEMORY, "growing the event wait list");
        l->waits = grown;
        l->waits_cap = need;
    }
    if (num_wait)
        memcpy(l->waits, wait_list, num_wait * sizeof *wait_list);
    l->waits[num_wait] = l->last;
    *count = (cl_uint)need;
    *list = l->waits;
    return CLNORM_OK;
}

clnorm_status clnorm__layer_hand_out(clnorm__layer *l, cl_event done, cl_event *event)
{
    clnorm__release_event(l->last);
    l->last = done;
    if (!event)
        return CLNORM_OK;
    clnorm_status st;
    CL_CALL(l->ctx, st, clRetainEvent, (done));
    *event = st == CLNORM_OK ? done : NULL;
    return st;
}

clnorm_status clnorm__marker_enqueue(clnorm__layer *l, cl_uint num_wait, const cl_event *wait_list,
                                     cl_event *event)
{
    clnorm_context *ctx = l->ctx;
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(clnorm__layer_waits(l, num_wait, wait_list, &nw, &waits));
    cl_event done = NULL;
    clnorm_status st;
    CL_CALL(ctx, st, clEnqueueMarkerWithWaitList, (ctx->queue, nw, waits, &done));
    RETURN_IF_ERROR(st);
    clnorm__fault_count("event created"), clnorm__live(1);
    return clnorm__layer_hand_out(l, done, event);
}
