/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_int.h: internal declarations shared by the library's source files.
 *
 * Dependency order (never the other way): layers (varnorm2d.c, revin.c) use
 * launch.c and params.c, which use the context (context.c, program.c,
 * device.c), which uses clcall.c, cache.c and alloc.c. */
#ifndef CLNORM_INT_H
#define CLNORM_INT_H

#include <pthread.h>
#include <stdint.h>

#include "alloc.h"
#include "clnorm.h"
#include "fault.h"

#define CLNORM_ERRMSG_SIZE 4096

/* ------------------------------------------------------------ errors */

/* Record a failure in ctx (may be NULL) and return `status`. printf-style. */
clnorm_status clnorm__fail(const clnorm_context *ctx, clnorm_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define RETURN_IF_ERROR(expr)                                                                  \
    do {                                                                                       \
        clnorm_status st_ = (expr);                                                            \
        if (st_ != CLNORM_OK)                                                                  \
            return st_;                                                                        \
    } while (0)

/* The same, for a failed OpenCL call whose raw error clnorm_last_cl_error() reports. */
clnorm_status clnorm__fail_cl(const clnorm_context *ctx, clnorm_status status, cl_int cl_err,
                              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ------------------------------------------------------------ OpenCL calls */

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "CL_UNKNOWN_ERROR". */
const char *clnorm__cl_error_name(cl_int err);

/* Every OpenCL call goes through these two macros: the fault-injection hook
 * first, then the call, then the result recorded in ctx under the call's name.
 *   CL_CALL(ctx, st, clFinish, (queue));            -> st = CLNORM_OK or OPENCL_ERROR
 *   CL_CREATE(ctx, st, obj, clCreateBuffer, (c, f, s, p)); the errcode argument is appended */
clnorm_status clnorm__cl_result(const clnorm_context *ctx, const char *call, cl_int err);

#define CL_CALL(ctx, st, fn, args)                                                             \
    do {                                                                                       \
        cl_int e_ = CL_SUCCESS;                                                                \
        if (!clnorm__fault_hit(#fn, &e_))                                                      \
            e_ = fn args;                                                                      \
        (st) = clnorm__cl_result((ctx), #fn, e_);                                              \
    } while (0)

/* The same hook and call, leaving the raw error to the caller, for calls whose
 * "errors" can be normal answers (CL_DEVICE_NOT_FOUND). */
#define CL_TRY(err, fn, args)                                                                  \
    do {                                                                                       \
        (err) = CL_SUCCESS;                                                                    \
        if (!clnorm__fault_hit(#fn, &(err)))                                                   \
            (err) = fn args;                                                                   \
    } while (0)

#define CLNORM_APPEND_ERR_(...) (__VA_ARGS__, &e_)
#define CL_CREATE(ctx, st, obj, fn, args)                                                      \
    do {                                                                                       \
        cl_int e_ = CL_SUCCESS;                                                                \
        (obj) = NULL;                                                                          \
        if (!clnorm__fault_hit(#fn, &e_))                                                      \
            (obj) = fn CLNORM_APPEND_ERR_ args;                                                \
        if ((obj) == NULL && e_ == CL_SUCCESS)                                                 \
            e_ = CL_OUT_OF_HOST_MEMORY;                                                        \
        (st) = clnorm__cl_result((ctx), #fn, e_);                                              \
        if ((st) != CLNORM_OK && (obj) != NULL)                                                \
            (obj) = NULL; /* never reached with a conforming driver */                         \
        if ((st) == CLNORM_OK)                                                                 \
            clnorm__live(1);                                                                   \
    } while (0)

/* clCreateBuffer on the context; a failure names `what` ("the RevIN
 * statistics"), the size and the device's allocation limits. */
clnorm_status clnorm__buffer_create(const clnorm_context *ctx, const char *what, cl_mem_flags flags,
                                    size_t bytes, void *host, cl_mem *out);

/* Release helpers that accept NULL; errors on release are ignored on purpose
 * (nothing useful can be done about them on a cleanup path). */
void clnorm__release_mem(cl_mem m);
void clnorm__release_kernel(cl_kernel k);
void clnorm__release_program(cl_program p);
void clnorm__release_event(cl_event e);
void clnorm__release_queue(cl_command_queue q);
void clnorm__release_context(cl_context c);
void clnorm__release_device(cl_device_id d);

/* ------------------------------------------------------------ device */

typedef struct clnorm__device_info {
    cl_device_type type;
    cl_uint compute_units;
    size_t max_work_group_size;
    cl_ulong local_mem_size;
    cl_ulong max_alloc_size;
    cl_ulong global_mem_size;
    cl_uint preferred_vector_float;
    int has_fp64;
    char name[256];
    char vendor[256];
    char platform_name[256];
    char driver_version[128];
    char device_version[128];
} clnorm__device_info;

/* Query the limits once. */
clnorm_status clnorm__device_query(const clnorm_context *ctx, cl_device_id device,
                                   clnorm__device_info *info);

/* Pick a device from a spec (see clnorm_context_create). On failure the
 * message lists the devices there are. */
clnorm_status clnorm__device_select(const clnorm_context *ctx, const char *spec,
                                    cl_platform_id *platform, cl_device_id *device);

/* ------------------------------------------------------------ context */

/* Kernel variants: one program per vector width (1, 2, 4, 8, 16). */
#define CLNORM_VARIANT_COUNT 5

typedef enum clnorm__kernel_id {
    CLNORM_K_ROWS,
    CLNORM_K_SLAB,
    CLNORM_K_FUSED,
    CLNORM_K_PARTIAL,
    CLNORM_K_APPLY,
    CLNORM_K_INVERSE,
    CLNORM_K_COUNT
} clnorm__kernel_id;

struct clnorm_context {
    cl_context cl_ctx;
    cl_device_id device;
    cl_command_queue queue;
    unsigned flags;
    int use_fp64;
    clnorm__device_info info;
    int gpu_variant;         /* wide groups, interleaved items (GPUs, or forced) */
    size_t work_group;       /* WG every kernel is built for and launched with */
    unsigned max_columns;    /* MAXC: columns one strided work-group may own */
    unsigned contig_width;   /* vector width of contiguous rows */
    unsigned target_groups;  /* work-groups that keep the device busy */
    char *description;
    pthread_mutex_t lock;    /* guards programs[], counters and errmsg */
    cl_program programs[CLNORM_VARIANT_COUNT];
    unsigned built_from_source, loaded_from_cache;
    pthread_mutex_t err_lock; /* guards errmsg (separate: set while `lock` is held) */
    char *errmsg;            /* CLNORM_ERRMSG_SIZE bytes */
    cl_int last_cl_error;    /* behind errmsg: CL_SUCCESS unless an OpenCL call failed */
};

/* The program for vector width `width`, built or loaded on first use. */
clnorm_status clnorm__program_get(clnorm_context *ctx, unsigned width, cl_program *program);
/* CLNORM_INVALID_ARGUMENT unless every option in `extra` (CLNORM_BUILD_OPTIONS)
 * is one that cannot change what the kernels compute. */
clnorm_status clnorm__check_build_options(const clnorm_context *ctx, const char *extra);
/* Release every program of the context. */
void clnorm__programs_release(clnorm_context *ctx);
/* Kernel function names, indexed by clnorm__kernel_id. */
extern const char *const clnorm__kernel_names[CLNORM_K_COUNT];
/* The work-group size kernel `id` is built for (reqd_work_group_size). */
size_t clnorm__kernel_local(const clnorm_context *ctx, clnorm__kernel_id id);

/* ------------------------------------------------------------ launches */

/* The kernels of one vector width, owned by one layer (clSetKernelArg is not
 * thread-safe, so kernels are never shared between layers). */
typedef struct clnorm__kernels {
    unsigned width;
    cl_kernel k[CLNORM_K_COUNT];
} clnorm__kernels;

clnorm_status clnorm__kernels_create(clnorm_context *ctx, unsigned width, clnorm__kernels *ks);
void clnorm__kernels_release(clnorm__kernels *ks);

/* Run every kernel once on a tiny problem and wait: PoCL compiles a kernel
 * for its work-group size at first launch, and a binary saved afterwards
 * keeps that code. Used by program.c before it writes the cache. */
clnorm_status clnorm__kernels_warm_up(clnorm_context *ctx, cl_program program, unsigned width);

/* A view [outer][n][inner] of float32 with its buffers. */
typedef struct clnorm__view {
    size_t outer, n, inner;
} clnorm__view;

/* Everything one layer launch needs. Buffers not used by a mode are NULL. */
typedef struct clnorm__launch {
    clnorm__view view;
    int mode;               /* kernel mode bits: 0 VN, 1 RevIN, 2 affine */
    cl_mem in, out;
    size_t in_off, out_off; /* in floats */
    cl_mem param_a, param_b;
    cl_uint nchan;
    cl_mem stat_m, stat_s;
} clnorm__launch;

/* Scratch a layer keeps between forwards (partials of split rows and a
 * reusable wait list). Grown when a larger shape comes, never per forward. */
typedef struct clnorm__scratch {
    cl_mem partials;
    size_t partials_bytes;
    cl_event *waits;
    size_t waits_cap;
} clnorm__scratch;

/* Room for `count` events in the wait list; layers reserve
 * CLNORM_WAITS_RESERVED at creation so a forward never allocates. */
#define CLNORM_WAITS_RESERVED 16
clnorm_status clnorm__scratch_reserve_waits(clnorm_context *ctx, clnorm__scratch *s,
                                            size_t count);
void clnorm__scratch_release(clnorm__scratch *s);

/* Enqueue the statistics + normalisation of `l`: one launch (fused) or two
 * (partials, then apply) for long rows. `prior` (may be NULL) is an extra
 * event to wait for besides the caller's list. Returns the last event. */
clnorm_status clnorm__enqueue_normalise(clnorm_context *ctx, clnorm__kernels *ks,
                                        clnorm__scratch *scratch, const clnorm__launch *l,
                                        cl_uint num_wait, const cl_event *wait_list,
                                        cl_event prior, cl_event *done);

/* Enqueue RevIN's inverse y = x * s + m. */
clnorm_status clnorm__enqueue_inverse(clnorm_context *ctx, clnorm__kernels *ks,
                                      clnorm__scratch *scratch, const clnorm__launch *l,
                                      cl_uint num_wait, const cl_event *wait_list,
                                      cl_event prior, cl_event *done);

/* A layer's new last command `done` replaces *last (its next command waits
 * for it); the caller gets its own reference when `event` is not NULL. */
clnorm_status clnorm__hand_out_event(clnorm_context *ctx, cl_event *last, cl_event done,
                                     cl_event *event);

/* ------------------------------------------------------------ checks */

/* Validate a tensor argument: non-NULL buffer, 4-byte aligned offset, and
 * CL_MEM_SIZE >= offset + count * 4. `what` names the argument. */
clnorm_status clnorm__check_buffer(const clnorm_context *ctx, const char *what, cl_mem buf,
                                   size_t offset, size_t count);

/* Input and output of `count` floats are either the same bytes (in place)
 * or disjoint, sub-buffers included; otherwise CLNORM_INVALID_ARGUMENT. */
clnorm_status clnorm__check_in_out(const clnorm_context *ctx, const char *fn, cl_mem in,
                                   size_t in_offset, cl_mem out, size_t out_offset, size_t count);

/* *out = a * b, or CLNORM_SIZE_OVERFLOW. */
clnorm_status clnorm__mul_size(const clnorm_context *ctx, size_t a, size_t b, size_t *out);

/* Check the wait list arguments (NULL list with a non-zero count, ...). */
clnorm_status clnorm__check_wait_list(const clnorm_context *ctx, cl_uint num_wait,
                                      const cl_event *wait_list);

/* ------------------------------------------------------------ parameters */

/* A device copy of host parameters, re-uploaded when the host version changes. */
typedef struct clnorm__param_buffer {
    cl_mem mem[2];     /* alpha; or weight and bias */
    size_t count;      /* floats per array */
    unsigned arrays;   /* 1 or 2 */
    uint64_t version;
    int synced;
    uint64_t uploads;
} clnorm__param_buffer;

/* Upload `arrays` host arrays of `count` floats when `version` differs from the
 * last upload (or nothing was uploaded yet). The copy is complete when this
 * returns (a new buffer made with CL_MEM_COPY_HOST_PTR), so the host memory
 * may be reused at once, and later kernels see it without extra ordering;
 * kernels enqueued earlier keep the old buffer alive until they finish.
 * On failure the previous parameters stay in place. */
clnorm_status clnorm__params_sync(clnorm_context *ctx, clnorm__param_buffer *p,
                                  const float *const *host, uint64_t version);
void clnorm__params_release(clnorm__param_buffer *p);

#endif /* CLNORM_INT_H */
