/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_int.h: internal declarations shared by the library's source files.
 *
 * Dependency order: a file calls only files of the levels below its own,
 * never above or beside it, so no two files of src/ call each other
 * (tests/check_layers.sh checks it on the object files). Levels, with the
 * files of each (a file not listed is a layer, level 1):
 *   0  rlinear.c      a model: layers chained (RLinear: RevIN, Linear, RevIN)
 *   1  the layers (varnorm2d.c, revin.c, layer_norm.c, ...): each op's view,
 *      op word and parameters, and its public functions
 *   2  launch.c       the norm launcher: a layer's kernels, parameter block
 *                     and scratch; enqueues the plan of a view
 *   3  kernels.c      the kernel table: names, local sizes, the argument order
 *                     of kernels/clnorm_abi.h, creating them, the warm-up
 *   3  runtime.c      the layer runtime every layer shares (creation, the last
 *                     event, wait lists, argument and buffer checks, the event
 *                     handed out)
 *   3  params.c       parameter blocks
 *   3  blas.c         the matrix products, through CLBlast
 *   3  stats.c        statistics kept on the device between calls
 *   4  context.c      creating and destroying a context
 *   5  program.c      building the embedded kernels through the cache
 *   5  accumulate.c   fp64 or float-float statistics (CLNORM_ACCUMULATE)
 *   5  plan.c         the launch planner: device -> limits, (limits, view,
 *                     width) -> plan; pure functions, no OpenCL
 *   5  device.c       finding devices, their limits
 *   6  cache.c        the on-disk program-binary cache
 *   7  clcall.c       the OpenCL call wrapper, errors in the context
 *   8  status.c alloc.c fault.c sha256.c profile.c */
#ifndef CLNORM_INT_H
#define CLNORM_INT_H

#include <pthread.h>
#include <stdint.h>

#include "alloc.h"
#include "clnorm.h"
#include "clnorm_abi.h"
#include "fault.h"

#define CLNORM_ERRMSG_SIZE 4096

/* ------------------------------------------------------------ errors */

/* Record a failure in ctx (may be NULL) and return `status`. printf-style. */
clnorm_status clnorm__fail(const clnorm_context *ctx, clnorm_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* *out = a * b, or CLNORM_SIZE_OVERFLOW. */
clnorm_status clnorm__mul_size(const clnorm_context *ctx, size_t a, size_t b, size_t *out);

#define RETURN_IF_ERROR(expr)                                                                      \
    do {                                                                                           \
        clnorm_status st_ = (expr);                                                                \
        if (st_ != CLNORM_OK)                                                                      \
            return st_;                                                                            \
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

#define CL_CALL(ctx, st, fn, args)                                                                 \
    do {                                                                                           \
        cl_int e_ = CL_SUCCESS;                                                                    \
        if (!clnorm__fault_hit(#fn, &e_))                                                          \
            e_ = fn args;                                                                          \
        (st) = clnorm__cl_result((ctx), #fn, e_);                                                  \
    } while (0)

/* The same hook and call, leaving the raw error to the caller, for calls whose
 * "errors" can be normal answers (CL_DEVICE_NOT_FOUND). */
#define CL_TRY(err, fn, args)                                                                      \
    do {                                                                                           \
        (err) = CL_SUCCESS;                                                                        \
        if (!clnorm__fault_hit(#fn, &(err)))                                                       \
            (err) = fn args;                                                                       \
    } while (0)

#define CLNORM_APPEND_ERR_(...) (__VA_ARGS__, &e_)
#define CL_CREATE(ctx, st, obj, fn, args)                                                          \
    do {                                                                                           \
        cl_int e_ = CL_SUCCESS;                                                                    \
        (obj) = NULL;                                                                              \
        if (!clnorm__fault_hit(#fn, &e_))                                                          \
            (obj) = fn CLNORM_APPEND_ERR_ args;                                                    \
        if ((obj) == NULL && e_ == CL_SUCCESS)                                                     \
            e_ = CL_OUT_OF_HOST_MEMORY;                                                            \
        (st) = clnorm__cl_result((ctx), #fn, e_);                                                  \
        if ((st) != CLNORM_OK && (obj) != NULL)                                                    \
            (obj) = NULL; /* never reached with a conforming driver */                             \
        if ((st) == CLNORM_OK)                                                                     \
            clnorm__live(1);                                                                       \
    } while (0)

/* clCreateBuffer on the context; a failure names `what` ("the RevIN
 * statistics"), the size and the device's allocation limits. */
clnorm_status clnorm__buffer_create(const clnorm_context *ctx, const char *what, cl_mem_flags flags,
                                    size_t bytes, void *host, cl_mem *out);

/* *buf (NULL and *have 0 at first) holds at least `bytes`: when it holds
 * fewer, a new read-write buffer replaces it (grown, never shrunk; commands
 * enqueued keep the old one alive until they finish). For the scratch
 * buffers layers keep between calls; `what` names it as for buffer_create. */
clnorm_status clnorm__buffer_reserve(const clnorm_context *ctx, const char *what, size_t bytes,
                                     cl_mem *buf, size_t *have);

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
    cl_ulong global_mem_cache_size; /* 0: not said */
    cl_uint preferred_vector_float;
    int has_fp64;
    char name[256];
    char vendor[256];
    char platform_name[256];
    char driver_version[128];
    char device_version[128];
    char opencl_c_version[128];
    int opencl_c_12; /* the compiler takes OpenCL C 1.2 (-cl-std=CL1.2) */
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

/* What a launch plan needs to know of a device: from the context, or from
 * a test's profile of another device (tests/test_plan.c). */
typedef struct clnorm__limits {
    int gpu_variant;        /* wide groups, interleaved items (GPUs, or forced) */
    size_t work_group;      /* WG every group kernel is built for and launched with */
    unsigned max_columns;   /* MAXC: columns one strided work-group may own */
    unsigned contig_width;  /* vector width of contiguous rows */
    unsigned target_groups; /* work-groups that keep the device busy */
    unsigned compute_units; /* CL_DEVICE_MAX_COMPUTE_UNITS (1 if it says 0) */
    size_t reg_group;       /* norm_reg's work-group (WG_REG); its rows hold up to
                               reg_group * contig_width * CLNORM_REG_VECTORS elements */
    cl_ulong cache_bytes;   /* the global-memory cache (0: unknown) */
} clnorm__limits;
/* The vectors each norm_reg item keeps in registers (RK, kernels/clnorm_reg.cl). */
#define CLNORM_REG_VECTORS 16

struct clnorm_context {
    cl_context cl_ctx;
    cl_device_id device;
    cl_command_queue queue;
    unsigned flags;
    int use_fp64;
    clnorm__device_info info;
    clnorm__limits limits;
    char *description;
    pthread_mutex_t lock; /* guards programs[], counters and errmsg */
    cl_program programs[CLNORM_VARIANT_COUNT];
    unsigned built_from_source, loaded_from_cache;
    pthread_mutex_t err_lock; /* guards errmsg (separate: set while `lock` is held) */
    char *errmsg;             /* CLNORM_ERRMSG_SIZE bytes */
    cl_int last_cl_error;     /* behind errmsg: CL_SUCCESS unless an OpenCL call failed */
};

/* ------------------------------------------------------------ programs (program.c) */

/* Runs every kernel of a freshly built program once (kernels.c): PoCL
 * compiles a kernel for its work-group size at first launch, and a binary
 * saved afterwards keeps that code. */
typedef clnorm_status (*clnorm__warm_up_fn)(clnorm_context *ctx, cl_program program,
                                            unsigned width);

/* The program for vector width `width`, built or loaded on first use; a
 * program built from source is warmed up with `warm_up` before the cache
 * stores it. */
clnorm_status clnorm__program_get(clnorm_context *ctx, unsigned width, clnorm__warm_up_fn warm_up,
                                  cl_program *program);
/* CLNORM_INVALID_ARGUMENT unless every option in `extra` (CLNORM_BUILD_OPTIONS)
 * is one that cannot change what the kernels compute. */
clnorm_status clnorm__check_build_options(const clnorm_context *ctx, const char *extra);
/* Release every program of the context. */
void clnorm__programs_release(clnorm_context *ctx);

/* ------------------------------------------------------------ layer runtime (runtime.c) */

/* What every layer shares, first member of each layer's struct. */
typedef struct clnorm__layer {
    clnorm_context *ctx;
    cl_event last;   /* the layer's last command: its next one waits for it */
    cl_event *waits; /* a reusable wait list: the caller's plus `last` */
    size_t waits_cap;
} clnorm__layer;

/* Room reserved at creation so that a forward never allocates for its wait list. */
#define CLNORM_WAITS_RESERVED 16

/* The start of every _create: checks `out` (set to NULL) and the context,
 * allocates `size` zeroed bytes whose first member is a clnorm__layer, and
 * reserves its wait list. `fn` names the call in messages. */
clnorm_status clnorm__layer_new(clnorm_context *ctx, const char *fn, size_t size, void *out,
                                void **layer);
/* Releases what clnorm__layer_new made (and the last event); frees `layer`. */
void clnorm__layer_free(void *layer);

/* The shape checks of a forward over (B, L, D) or (B, D, L) (RevIN, the TS
 * layers): no zero in B or L, and *rows = B * D, then the checks of
 * clnorm__layer_check_io for rows * L floats. */
clnorm_status clnorm__layer_check_bld(const clnorm__layer *l, const char *fn, size_t b, size_t len,
                                      size_t d, cl_mem in, size_t in_offset, cl_mem out,
                                      size_t out_offset, cl_uint num_wait,
                                      const cl_event *wait_list, size_t *rows);

/* The checks of every forward over `count` floats in and out: buffers,
 * offsets, sizes, in place or disjoint, the wait list. */
clnorm_status clnorm__layer_check_io(const clnorm__layer *l, const char *fn, cl_mem in,
                                     size_t in_offset, cl_mem out, size_t out_offset, size_t count,
                                     cl_uint num_wait, const cl_event *wait_list);
/* The same for a product: `in_count` floats in, `out_count` out, which
 * must not overlap at all (no product runs in place). */
clnorm_status clnorm__layer_check_product(const clnorm__layer *l, const char *fn, cl_mem in,
                                          size_t in_offset, size_t in_count, cl_mem out,
                                          size_t out_offset, size_t out_count, cl_uint num_wait,
                                          const cl_event *wait_list);
/* The caller's wait list plus the layer's last command (in the reusable array). */
clnorm_status clnorm__layer_waits(clnorm__layer *l, cl_uint num_wait, const cl_event *wait_list,
                                  cl_uint *count, const cl_event **list);
/* `done` becomes the layer's last command; the caller gets its own reference
 * when `event` is not NULL. */
clnorm_status clnorm__layer_hand_out(clnorm__layer *l, cl_event done, cl_event *event);

/* A marker after the caller's wait list and the layer's last command (a
 * forward with nothing to compute); the event handed out. */
clnorm_status clnorm__marker_enqueue(clnorm__layer *l, cl_uint num_wait, const cl_event *wait_list,
                                     cl_event *event);
/* The arguments every layer's constructor checks, as data. */
typedef struct clnorm__dim {
    const char *name; /* the argument's name in messages: "num_features" */
    size_t value;     /* must be in [1, 2^32) */
} clnorm__dim;
#define CLNORM_CREATE_DIMS 4
typedef struct clnorm__create_args {
    const char *fn;                       /* "layer_norm_create", for messages */
    clnorm__dim dims[CLNORM_CREATE_DIMS]; /* the sizes given (unused ones: name NULL) */
    unsigned flags, known;                /* the flags given, and those the layer knows */
    int has_eps;                          /* the layer takes an epsilon: */
    double eps;                           /* finite and >= 0 */
} clnorm__create_args;
/* CLNORM_ZERO_SIZE, CLNORM_INVALID_ARGUMENT with a message, or CLNORM_OK. */
clnorm_status clnorm__check_create_args(const clnorm_context *ctx, const clnorm__create_args *a);

/* Validate a tensor argument: non-NULL buffer, 4-byte aligned offset, and
 * CL_MEM_SIZE >= offset + count * 4. `what` names the argument. */
clnorm_status clnorm__check_buffer(const clnorm_context *ctx, const char *what, cl_mem buf,
                                   size_t offset, size_t count);

/* ------------------------------------------------------------ matrix products (blas.c) */

/* One row-major product C = op(A) op(B) (op: transposed or not) of m x n
 * by k, `batch` of them whose A, B and C start `*_stride` floats apart
 * (a stride of 0 reuses the matrix); offsets and strides in floats. */
typedef struct clnorm__gemm {
    int trans_a, trans_b;
    size_t m, n, k;
    cl_mem a;
    size_t a_off, lda, a_stride;
    cl_mem b;
    size_t b_off, ldb, b_stride;
    cl_mem c;
    size_t c_off, ldc, c_stride;
    size_t batch;
} clnorm__gemm;
/* Enqueue g on the context's queue after the wait list; *done is the event
 * of the whole product (the caller releases it). CLBlast's failures become
 * CLNORM_BLAS_ERROR with the status's name. */
clnorm_status clnorm__gemm_enqueue(clnorm_context *ctx, const clnorm__gemm *g, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *done);
/* The first call of the routine a layer uses (batch > 1: the strided
 * batched one) made now and waited for: its kernels compiled at creation. */
clnorm_status clnorm__gemm_prepare(clnorm_context *ctx, size_t batch);
/* "CLBlastInvalidLeadDimA" for CLBlast's status code. */
const char *clnorm__blas_status_name(int code);

/* ------------------------------------------------------------ parameters (params.c) */

/* A device copy of host parameter arrays, laid out one after another in one
 * buffer, re-uploaded when the host version changes. */
#define CLNORM_PARAM_ARRAYS 8
/* Floats after each array that repeat it (params.c): the widest vector
 * (16) less one, so that a vector of periodic weights may start anywhere. */
#define CLNORM_PARAM_PAD 15
/* Each array starts at a multiple of this many floats (64 bytes). */
#define CLNORM_PARAM_ALIGN 16
typedef struct clnorm__param_block {
    cl_mem mem;
    unsigned arrays;
    size_t count[CLNORM_PARAM_ARRAYS];  /* floats per array */
    size_t offset[CLNORM_PARAM_ARRAYS]; /* where each array starts in mem, in floats */
    size_t total;
    float *staging; /* host copy of the whole block, allocated at creation */
    uint64_t version;
    int synced;
    uint64_t uploads;
} clnorm__param_block;

/* Lay out `arrays` arrays of the given counts and allocate the staging copy. */
clnorm_status clnorm__params_init(clnorm_context *ctx, clnorm__param_block *p, unsigned arrays,
                                  const size_t *counts);
/* Upload the host arrays when `version` differs from the last upload (or
 * nothing was uploaded yet). The copy is complete when this returns (a new
 * buffer made with CL_MEM_COPY_HOST_PTR), so the host memory may be reused at
 * once; kernels enqueued earlier keep the old buffer alive until they finish.
 * On failure the previous parameters stay in place. */
clnorm_status clnorm__params_sync(clnorm_context *ctx, clnorm__param_block *p,
                                  const float *const *host, uint64_t version);
void clnorm__params_release(clnorm__param_block *p);

/* ------------------------------------------------------------ statistics (stats.c) */

/* How messages name a layer's kept statistics: every layer names the
 * buffers; RevIN and the TS layers, whose statistics are per (b, d) row of a
 * batch (B * D rows for D channels), also name them and the calls that make
 * them to their callers. */
typedef struct clnorm__stats_names {
    const char *m_name, *s_name; /* the buffers: "the RevIN mean" */
    const char *what;            /* "statistics" or "scale" */
    int plural;                  /* "the statistics are", "the scale is" */
    const char *forward, *set;   /* the calls that keep them, and that set them */
    const char *m_arg, *s_arg;   /* the set call's arrays ("mean", "std"; no m: NULL) */
} clnorm__stats_names;

/* Statistics a layer keeps on the device for a later call: one float per
 * row in each of two buffers (RevIN's m and s). */
typedef struct clnorm__stats {
    const clnorm__stats_names *names;
    cl_mem m, s;
    size_t capacity; /* rows the buffers hold */
    size_t rows;     /* rows of the statistics held; 0: none yet */
} clnorm__stats;

/* Room for `rows` rows: new buffers when the old are too small (the
 * statistics held are gone then: rows becomes 0). */
clnorm_status clnorm__stats_reserve(clnorm_context *ctx, clnorm__stats *st, size_t rows);
/* The statistics of `rows` rows from host arrays, copied before the return. */
clnorm_status clnorm__stats_set(clnorm_context *ctx, clnorm__stats *st, size_t rows, const float *m,
                                const float *s);
/* Blocking reads of st->rows floats each (m or s may be NULL), after `after`. */
clnorm_status clnorm__stats_read(clnorm_context *ctx, const clnorm__stats *st, cl_event after,
                                 float *m, float *s);
/* The public calls around batch statistics of a layer of `d` channels, with
 * their messages (call `fn`): an inverse's check that statistics are kept,
 * and for its B (unless b or l is 0, which the shape checks report); reading
 * them back (`count` == B * D); setting them for B from the host. */
clnorm_status clnorm__stats_check_batch(clnorm_context *ctx, const clnorm__stats *st,
                                        const char *fn, size_t d, size_t b, size_t l);
clnorm_status clnorm__stats_read_batch(clnorm_context *ctx, const clnorm__stats *st, const char *fn,
                                       size_t d, size_t count, cl_event after, float *m, float *s);
clnorm_status clnorm__stats_set_batch(clnorm_context *ctx, clnorm__stats *st, const char *fn,
                                      size_t d, size_t b, const float *m, const float *s);
void clnorm__stats_release(clnorm__stats *st);

/* ------------------------------------------------------------ launch planner (plan.c) */

/* A view [outer][n][inner] of float32: rows are (o, i), reduced over n. */
typedef struct clnorm__view {
    size_t outer, n, inner;
} clnorm__view;

typedef enum clnorm__kernel_id {
    CLNORM_K_ROWS,    /* norm_rows: CPU, contiguous rows, a run per item */
    CLNORM_K_SLAB,    /* norm_slab: CPU, strided slabs, a run (>= 2) per item */
    CLNORM_K_SLAB1,   /* norm_slab1: CPU, strided slabs, one per item */
    CLNORM_K_FUSED,   /* norm_fused: a group per row block */
    CLNORM_K_PARTIAL, /* norm_partial then norm_apply: split rows */
    CLNORM_K_APPLY,
    CLNORM_K_SCALE,        /* norm_scale: elementwise, strided, a group per chunk */
    CLNORM_K_SCALE_CHUNKS, /* norm_scale_chunks: elementwise, contiguous, a group per chunk */
    CLNORM_K_SCALE_ROWS,   /* norm_scale_rows: elementwise, a work-item per row */
    CLNORM_K_WINDOW,       /* norm_window: a window's scale per row, a work-item per row */
    CLNORM_K_PLUS,         /* norm_plus: InstanceNorm2dPlus's channel means, an item per sample */
    CLNORM_K_BIAS,         /* linear_bias: a Linear's bias, an item per (o, k) run */
    CLNORM_K_TRANSPOSE,    /* linear_transpose: [o][j][k] -> [o][k][j] (+ bias), per (o, k) */
    CLNORM_K_REG,          /* norm_reg: GPU, a short contiguous row per group, in registers */
    CLNORM_K_PLUS_SAMPLES, /* plus_samples: InstanceNorm2dPlus on CPUs, a sample per item */
    CLNORM_K_PLUS_MOMENTS, /* plus_moments then plus_apply: the same in two launches, */
    CLNORM_K_PLUS_APPLY,   /* a run of rows per item */
    CLNORM_K_WINDOW_SLABS, /* window_slabs: TSNormalization on CPUs, norm_slab's runs */
    CLNORM_K_WINDOW_ROWS,  /* window_rows: TSNormalization on CPUs, a small sample per item */
    CLNORM_K_ROWS_PLAIN,   /* norm_rows_plain: norm_rows of a CLNORM_OP_IS_PLAIN op */
    CLNORM_K_COUNT
} clnorm__kernel_id;

/* One or two launches of the same geometry. */
typedef struct clnorm__plan {
    clnorm__kernel_id kernel[2]; /* the second is CLNORM_K_COUNT for one launch */
    size_t groups;               /* work-groups per launch */
    size_t local;                /* work-items per group */
    cl_uint nparts;              /* chunks per row, or the run of rows/slabs per item */
    cl_uint tiles;               /* vector tiles per strided column block */
    size_t partial_bytes;        /* scratch for split rows' partial statistics */
} clnorm__plan;

/* A device's limits as the planner sees them, for the GPU variant or the
 * CPU's. CPUs (PoCL) run a work-group as a loop over its items: few items,
 * each owning a long contiguous range, and wide explicit vectors. GPUs want
 * many items per group reading neighbouring addresses, and enough groups to
 * fill every compute unit. */
void clnorm__plan_limits(const clnorm__device_info *d, int gpu, clnorm__limits *lim);
/* Test builds: fill `info` with the limits of another device ("h200",
 * "radeon-rx7900", "arc-a770"; src/profile.c); -1 for another name. */
int clnorm__device_profile(const char *name, clnorm__device_info *info);
/* The profile names, for messages: "h200, radeon-rx7900, arc-a770". */
const char *clnorm__device_profile_names(void);
/* The vector width for a view's rows: the context's for contiguous rows,
 * the widest dividing `inner` for strided ones. */
unsigned clnorm__plan_width(const clnorm__limits *lim, size_t inner);
/* Samples per block for an op whose last pass re-reads what its first
 * wrote (InstanceNorm2dPlus, TSNormalization): on CPUs, blocks small enough that the re-read
 * hits the cache (at least one sample); all `samples` on GPUs or when the
 * cache size is unknown. */
size_t clnorm__plan_sample_block(const clnorm__limits *lim, size_t samples, size_t sample_bytes);
/* Statistics + normalisation of a view, and the elementwise pass. */
void clnorm__plan_normalise(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                            clnorm__plan *plan);
void clnorm__plan_scale(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                        clnorm__plan *plan);
/* InstanceNorm2dPlus over a view of contiguous planes, `c` per sample, in
 * the CPU variant: one launch of a sample (or a run of samples) per item
 * where there are samples enough to share the device (plus_samples), else
 * two of a run of rows per item (plus_moments, plus_apply) where rows are
 * short enough; 0 where neither (then: normalise, norm_plus, scale). */
int clnorm__plan_plus(const clnorm__limits *lim, const clnorm__view *v, size_t c,
                      clnorm__plan *plan);
/* TSNormalization in one launch (norm_window dividing what it measured,
 * CLNORM_OP_DIVIDE): on CPUs, for samples small enough that each item's
 * second walk over its columns finds them in the cache nearest its core. */
int clnorm__plan_window_divide(const clnorm__limits *lim, size_t sample_bytes);
/* The same, through the contiguous rows' width (window_rows: a sample per
 * item, vector divisions), where D is 1 or the columns' own width is
 * narrower than that and D is at most max_columns. */
int clnorm__plan_window_rows(const clnorm__limits *lim, size_t samples, size_t d,
                             size_t sample_bytes, clnorm__plan *plan);
/* TSNormalization of strided columns (D > 1) in one launch on CPUs where
 * norm_slab would run the same view (window_slabs, its geometry); 0 else. */
int clnorm__plan_window_slabs(const clnorm__limits *lim, const clnorm__view *v, unsigned width,
                              clnorm__plan *plan);
/* A kernel of `items` work-items, each on its own rows (norm_window, norm_plus). */
void clnorm__plan_items(const clnorm__limits *lim, size_t items, clnorm__kernel_id kernel,
                        clnorm__plan *plan);

/* ------------------------------------------------------------ kernel table (kernels.c) */

/* The kernels of one vector width, owned by one layer (clSetKernelArg is not
 * thread-safe, so kernels are never shared between layers). */
typedef struct clnorm__kernels {
    unsigned width;
    cl_kernel k[CLNORM_K_COUNT];
    int reg_ok; /* norm_reg runs reg_group items per group here (registers allowing) */
} clnorm__kernels;

/* Everything a launch passes to its kernels (kernels/clnorm_abi.h). */
typedef struct clnorm__args {
    clnorm__view view;
    cl_mem in, out;
    size_t in_off, out_off; /* in floats */
    cl_uint op;             /* CLNORM_FIN_* | CLNORM_OP_* */
    double eps;
    cl_uint nchan;
    cl_mem prm;
    cl_uint poff[CLNORM_POFF_COUNT];
    cl_mem labels, stat_m, stat_s, flags;
} clnorm__args;

extern const char *const clnorm__kernel_names[CLNORM_K_COUNT];
/* Work-items per group kernel `id` is built for (reqd_work_group_size). */
size_t clnorm__kernel_local(const clnorm__limits *lim, clnorm__kernel_id id);
clnorm_status clnorm__kernels_create(clnorm_context *ctx, unsigned width, clnorm__kernels *ks);
void clnorm__kernels_release(clnorm__kernels *ks);
/* Set every argument of kernel `k` for `a` with the plan's nparts and tiles. */
clnorm_status clnorm__kernel_set_args(const clnorm_context *ctx, cl_kernel k, const clnorm__args *a,
                                      cl_uint nparts, cl_uint tiles, cl_mem partials);

/* ------------------------------------------------------------ norm launcher (launch.c) */

/* What a layer built on clnorm's kernels holds: the runtime, its kernels,
 * its parameter block and the scratch of split rows. First member of such a
 * layer's struct. */
typedef struct clnorm__norm {
    clnorm__layer rt;
    unsigned flags; /* the layer's flags, eps and sizes, as its create args gave them */
    double eps;
    clnorm__dim dims[CLNORM_CREATE_DIMS];
    clnorm__kernels ks;
    clnorm__kernels alt; /* the kernels of the width used before (none: width 0) */
    clnorm__param_block params;
    cl_mem partials;
    size_t partials_bytes;
    clnorm__stats stats; /* kept between calls (RevIN, TS, InstanceNorm2dPlus), or unused */
} clnorm__norm;

/* Every norm layer's _create: `out` set to NULL, the context and the
 * arguments checked, the layer of `size` bytes (a clnorm__norm first, which
 * keeps the flags, eps and dims of `args`) made with its kernels for rows of
 * `inner` columns (1: contiguous rows) and its parameter block of `arrays`
 * arrays of `counts` floats (0 for none). On failure nothing is left; on
 * success *out (and *layer, unless `layer` is NULL) is the layer, and the
 * caller fills in its own fields before it returns. */
clnorm_status clnorm__norm_create(clnorm_context *ctx, const clnorm__create_args *args, size_t size,
                                  size_t inner, unsigned arrays, const size_t *counts, void *out,
                                  void **layer);
/* clnorm__norm_create for the affine norms: contiguous rows, a weight and a
 * bias of c floats each when `affine`, no parameters otherwise. */
clnorm_status clnorm__norm_create_affine(clnorm_context *ctx, const clnorm__create_args *args,
                                         size_t size, size_t c, int affine, void *out);
/* y = x, `count` floats, exactly (CLNORM_FIN_COPY through the elementwise
 * kernel: on PoCL clEnqueueCopyBuffer runs at about 0.6 of a copy kernel);
 * in place, a marker. */
clnorm_status clnorm__norm_copy(clnorm__norm *nl, size_t count, cl_mem in, size_t in_off,
                                cl_mem out, size_t out_off, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event);
/* Release what clnorm__norm_create made, the statistics kept, and free the
 * layer. Accepts NULL. */
void clnorm__norm_free(clnorm__norm *nl);
/* The public functions every norm layer `clnorm_NAME` (whose struct begins
 * with a clnorm__norm `nl`) defines the same way: _destroy and _upload_count. */
#define CLNORM__NORM_LAYER_COMMON(NAME)                                                            \
    void clnorm_##NAME##_destroy(clnorm_##NAME *layer)                                             \
    {                                                                                              \
        clnorm__norm_free(layer ? &layer->nl : NULL);                                              \
    }                                                                                              \
    uint64_t clnorm_##NAME##_upload_count(const clnorm_##NAME *layer)                              \
    {                                                                                              \
        return layer ? layer->nl.params.uploads : 0;                                               \
    }

/* Enqueue the statistics + normalisation of a.view (one launch, or two for
 * long rows), after the caller's wait list and the layer's last command;
 * hand out the completion event. a.prm and a.poff are filled from the
 * layer's parameter block. */
clnorm_status clnorm__norm_enqueue(clnorm__norm *nl, clnorm__args *a, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *event);
/* The checks and the upload every norm layer's forward makes: the host
 * arrays of its parameter block (in order, as many as the block has) all
 * given (else CLNORM_NULL_ARGUMENT: "FN: params need NEED"), the buffers of
 * `count` floats and the wait list (clnorm__layer_check_io), then the upload
 * when `version` changed. */
clnorm_status clnorm__norm_begin(clnorm__norm *nl, const char *fn, const char *need,
                                 const float *const *host, uint64_t version, cl_mem in,
                                 size_t in_off, cl_mem out, size_t out_off, size_t count,
                                 cl_uint num_wait, const cl_event *wait_list);
/* The same for the weight and bias of clnorm_affine_params (params may be NULL). */
clnorm_status clnorm__norm_begin_affine(clnorm__norm *nl, const char *fn, const char *need,
                                        const clnorm_affine_params *params, cl_mem in,
                                        size_t in_off, cl_mem out, size_t out_off, size_t count,
                                        cl_uint num_wait, const cl_event *wait_list);
/* The shape checks a norm layer's forward starts with, on the layer `nl`
 * (NULL: CLNORM_NULL_ARGUMENT, no message: there is no context for one).
 * Over (n, c, h, w) planes: no zero, c == the layer's first size (named as
 * its create args name it), *planes = {n * c, h * w, 1} of *count floats. */
clnorm_status clnorm__norm_check_nchw(const clnorm__norm *nl, const char *fn, size_t n, size_t c,
                                      size_t h, size_t w, clnorm__view *planes, size_t *count);
/* Over (b, d, l) or (b, l, d), d the layer's first size, whose l is a
 * kernel's column count (TransposedLN, Normalization): no zero ("FN: b =
 * .., l = .."), l < 2^32, and count = b * d * l. */
clnorm_status clnorm__norm_check_bdl(const clnorm__norm *nl, const char *fn, size_t b, size_t l,
                                     size_t *count);
/* The launch arguments of `view` (byte offsets given, float offsets kept). */
clnorm__args clnorm__args_of(clnorm__view view, cl_mem in, size_t in_off, cl_mem out,
                             size_t out_off, cl_uint op, double eps, size_t nchan);
/* Kernels of the vector width a view with this inner size takes (layers
 * whose inner size comes with each forward, or whose passes have views of
 * different widths): made when neither the layer's nor the ones it used
 * before have that width. */
clnorm_status clnorm__norm_use_width(clnorm__norm *nl, size_t inner);
/* The same for the elementwise pass (norm_scale). */
clnorm_status clnorm__scale_enqueue(clnorm__norm *nl, clnorm__args *a, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event);
/* Rows standardised, then weights by channel (GroupNorm): the `rows` view
 * (contiguous rows) standardised (mean, sqrt(var_b + eps)) from in to out,
 * each element then scaled and shifted by its channel's weight and bias
 * (the layer's parameter arrays 0 and 1) with `affine`. Where a row's
 * channels are segments of `seg` elements (0: they are not) that are whole
 * vectors, in one pass: row r's first channel is (r % groups) * (n / seg);
 * the same where channels repeat every `period` elements of a row.
 * Otherwise in two, the second in place over the `view`, the channel of
 * its row being row % nchan; each pass takes kernels of its view's width. */
typedef struct clnorm__channels {
    size_t groups, seg; /* the one pass's layout */
    size_t period;      /* or: the channel is k % period (seg 0) */
    size_t nchan;       /* the second pass's */
    clnorm__view view;
} clnorm__channels;
clnorm_status clnorm__norm_by_channel(clnorm__norm *nl, clnorm__view rows, double eps, int affine,
                                      const clnorm__channels *ch, cl_mem in, size_t in_off,
                                      cl_mem out, size_t out_off, cl_uint num_wait,
                                      const cl_event *wait_list, cl_event *event);
/* The same for a kernel of `items` work-items (clnorm__plan_items). */
clnorm_status clnorm__items_enqueue(clnorm__norm *nl, clnorm__kernel_id kernel, size_t items,
                                    clnorm__args *a, cl_uint num_wait, const cl_event *wait_list,
                                    cl_event *event);
/* The same for a plan the caller made (one launch, or two in order). */
clnorm_status clnorm__plan_enqueue(clnorm__norm *nl, clnorm__args *a, const clnorm__plan *p,
                                   cl_uint num_wait, const cl_event *wait_list, cl_event *event);
/* InstanceNorm2dPlus (a.view: the (n, c) planes, {N * C, HW, 1}, nchan C;
 * a.op: the parameters' flags, GAMMA, BETA, LABELS; a.poff: theirs and
 * ALPHA's). Where clnorm__plan_plus has a plan (CPUs): each plane's mean and
 * sd kept exactly in nl->stats, then out from in (one launch, or two per
 * block of samples). Elsewhere: the planes standardised into out, their
 * means kept exactly; per sample, the channel means' mean and variance and
 * each plane's gamma and b (norm_plus); then out = out * gamma + b in place. */
clnorm_status clnorm__norm_plus(clnorm__norm *nl, const clnorm__args *a, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event);

#endif /* CLNORM_INT_H */
