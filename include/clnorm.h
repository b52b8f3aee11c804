/* SPDX-License-Identifier: Apache-2.0 */
/** @file clnorm.h
 * clnorm.h: the public API of clnorm, ESPnet's normalization layers on OpenCL.
 *
 * Layers: VarianceNorm2d and ReversibleInstanceNorm1d{Input,Output} (RevIN),
 * with ESPnet's exact semantics (see README.md). Everything hangs off a
 * clnorm_context, which owns (or borrows) an OpenCL context, device and queue
 * and the compiled kernels.
 *
 * Conventions (the same for every function):
 * - Every function that can fail returns a clnorm_status. CLNORM_OK is 0.
 *   The detail of the last failure (which argument, the shapes, the OpenCL
 *   error name, the build log) is kept in the context: clnorm_errmsg().
 * - The library never prints and never aborts.
 * - Every _create has a _destroy that accepts NULL.
 * - Forward passes only enqueue: cl_mem + byte offset in and out (the output
 *   may be the input: the same bytes, in place; ranges that overlap otherwise,
 *   sub-buffers included, are CLNORM_INVALID_ARGUMENT), an event wait list
 *   in, one completion event out. The event handed back is the caller's:
 *   release it with clReleaseEvent (pass NULL for none). They
 *   never call clFinish and never allocate device memory for scratch once a
 *   shape has been seen.
 * - Threads: a clnorm_context may be shared by threads for creating and
 *   destroying layers. A layer (and its cl_kernel objects) belongs to one
 *   thread at a time: clSetKernelArg is not thread-safe, so never call two
 *   functions of the same layer concurrently. Distinct layers of one context
 *   may run forwards concurrently from distinct threads. Every function
 *   below says what it may run concurrently with ("Threads:").
 */
#ifndef CLNORM_H
#define CLNORM_H

#include <stddef.h>
#include <stdint.h>

/* CL_TARGET_OPENCL_VERSION is the includer's to set (or leave to the OpenCL
 * headers' default): clnorm needs only OpenCL 1.2's types and never changes it. */
#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CLNORM_BUILDING_DLL)
#define CLNORM_API __declspec(dllexport) /**< exported from the DLL */
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CLNORM_API __attribute__((visibility("default")))
#else
/** Marks the library's public functions (exported from the shared library). */
#define CLNORM_API
#endif

/** The version of this header: major (incompatible API changes; the SOVERSION). */
#define CLNORM_VERSION_MAJOR 0
/** Minor version: additions that keep the API. */
#define CLNORM_VERSION_MINOR 1
/** Patch version: fixes. */
#define CLNORM_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, to compare with clnorm_version_number(). */
#define CLNORM_VERSION_NUMBER                                                                      \
    (CLNORM_VERSION_MAJOR * 10000 + CLNORM_VERSION_MINOR * 100 + CLNORM_VERSION_PATCH)
/** "MAJOR.MINOR.PATCH" of this header. */
#define CLNORM_VERSION_STRING "0.1.0"

/** The library's version number (CLNORM_VERSION_NUMBER it was built with).
 *  Threads: these two and the status functions below, from any thread. */
CLNORM_API unsigned clnorm_version_number(void);
/** The library's version as "MAJOR.MINOR.PATCH". Static storage. */
CLNORM_API const char *clnorm_version_string(void);

/* ---------------------------------------------------------------- status */

/** X(name, message): one table makes the enum, the names and the messages. */
#define CLNORM_STATUS_MAP(X)                                                                       \
    X(OK, "success")                                                                               \
    X(NULL_ARGUMENT, "a required handle or pointer is NULL")                                       \
    X(INVALID_ARGUMENT, "an argument is out of range")                                             \
    X(ZERO_SIZE, "a dimension is zero")                                                            \
    X(SIZE_OVERFLOW, "a size product overflows size_t")                                            \
    X(BUFFER_TOO_SMALL, "a buffer is smaller than offset + extent")                                \
    X(MISALIGNED_OFFSET, "a byte offset is not a multiple of 4")                                   \
    X(SHAPE_MISMATCH, "a shape does not match the layer")                                          \
    X(NO_STATISTICS, "RevIN output before any RevIN input forward")                                \
    X(TOO_LARGE, "the tensor exceeds the device's limits")                                         \
    X(NO_DEVICE, "no OpenCL device matches")                                                       \
    X(BUILD_FAILED, "building the kernels failed")                                                 \
    X(OPENCL_ERROR, "an OpenCL call failed")                                                       \
    X(OUT_OF_MEMORY, "out of host memory")                                                         \
    X(BLAS_ERROR, "a CLBlast call failed")

/** What every fallible function returns: CLNORM_OK (0) or the CLNORM_ name of a row of
 *  CLNORM_STATUS_MAP. */
typedef enum clnorm_status {
/** @cond INTERNAL */
#define CLNORM_STATUS_ENUM_(name, msg) CLNORM_##name,
    CLNORM_STATUS_MAP(CLNORM_STATUS_ENUM_)
#undef CLNORM_STATUS_ENUM_
    /** @endcond */
    CLNORM_STATUS_COUNT_ /**< the number of statuses, not a status */
} clnorm_status;

/** "CLNORM_OK", "CLNORM_NULL_ARGUMENT", ...; "CLNORM_UNKNOWN" out of range. */
CLNORM_API const char *clnorm_status_name(clnorm_status status);
/** A one-line description of the status, without detail. Static storage. */
CLNORM_API const char *clnorm_status_message(clnorm_status status);

/* ---------------------------------------------------------------- context */

/** A device, its queue and the compiled kernels: everything hangs off one (opaque). */
typedef struct clnorm_context clnorm_context;

/** Flags for clnorm_context_create / clnorm_context_wrap. */
enum clnorm_context_flag {
    /** Accumulate in compensated float-float even when the device has fp64.
     * Default (neither this nor CLNORM_CONTEXT_FP64): the CLNORM_ACCUMULATE
     * environment variable, "fp64", "float-float" or "auto" (the default):
     * fp64 where the device has it with fma and runs it fast (CPUs, NVIDIA
     * compute capability 6.0/7.0/8.0/9.0/10.0, any other GPU measured once
     * and kept in the program-binary cache), float-float elsewhere. Both meet
     * the same accuracy bar; tests use this flag to run the float-float path
     * on any device. */
    CLNORM_CONTEXT_NO_FP64 = 1u << 0,
    /** Neither read nor write the on-disk program-binary cache. */
    CLNORM_CONTEXT_NO_CACHE = 1u << 1,
    /** Kernel variant: the GPU shape (wide work-groups, interleaved loads) or
     * the CPU shape (few items with long contiguous ranges, wide vectors),
     * whatever the device type. Default: from the device type, or the
     * CLNORM_VARIANT environment variable ("gpu" or "cpu"). The tests run the
     * GPU variant on PoCL to prove it. */
    CLNORM_CONTEXT_GPU_VARIANT = 1u << 2,
    /** The CPU shape whatever the device type (see CLNORM_CONTEXT_GPU_VARIANT). */
    CLNORM_CONTEXT_CPU_VARIANT = 1u << 3,
    /** Accumulate in fp64 even where it is slow (see CLNORM_CONTEXT_NO_FP64);
     *  CLNORM_INVALID_ARGUMENT at creation when the device has no fp64 with
     *  fma, and with CLNORM_CONTEXT_NO_FP64. */
    CLNORM_CONTEXT_FP64 = 1u << 4
};

/** Create a context on a device chosen by `device_spec`:
 *  "gpu", "cpu", "accelerator", "P:D" (platform and device index, from 0),
 *  or a case-insensitive substring of a device or platform name. NULL or ""
 *  reads the CLNORM_DEVICE environment variable; when that is unset too the
 *  default is the first GPU, else the first accelerator, else the first CPU.
 *
 *  On success *out is a new context: destroy it with clnorm_context_destroy.
 *  On failure *out is, as in SQLite's open, a context that holds only the
 *  error message (for instance the list of devices there are when nothing
 *  matched), or NULL when even that could not be allocated; destroy it too.
 *  Kernels are compiled lazily, once per context, when a layer first needs
 *  them (or by clnorm_context_prepare).
 *  Threads: any number of creates at once; each makes its own context. */
CLNORM_API clnorm_status clnorm_context_create(const char *device_spec, unsigned flags,
                                               clnorm_context **out);

/** Wrap an OpenCL context, device and queue the caller already has. The
 *  context, device and queue are retained here and released by
 *  clnorm_context_destroy; the caller keeps its own references. The queue may
 *  be in-order or out-of-order. Failure behaves as in clnorm_context_create.
 *  Threads: as clnorm_context_create. The caller's queue may go on being used
 *  by the caller's threads meanwhile (OpenCL queues are thread-safe). */
CLNORM_API clnorm_status clnorm_context_wrap(cl_context cl_ctx, cl_device_id device,
                                             cl_command_queue queue, unsigned flags,
                                             clnorm_context **out);

/** Compile (or load from the cache) every kernel variant this context's
 *  device can use, so that the first forward does not pay for it. Optional.
 *  Threads: concurrently with anything on this context or its layers except
 *  clnorm_context_destroy (programs are built under the context's lock). */
CLNORM_API clnorm_status clnorm_context_prepare(clnorm_context *ctx);

/** Release everything the context created or retained. Accepts NULL. The
 *  layers made from the context must be destroyed first. Does not wait for
 *  enqueued work: finish the queue first if the caller needs the results.
 *  Threads: alone; no other call on this context or its layers may be running. */
CLNORM_API void clnorm_context_destroy(clnorm_context *ctx);

/** Detail of the last failure recorded in this context (static text for a
 *  NULL context). Valid until the next call on the context, or on a layer of
 *  it, from the same thread.
 *  Threads: the message is the context's, not the thread's: when threads share
 *  a context, a concurrent failure elsewhere may replace it, so rely on the
 *  returned status and read the message where failures are not concurrent. */
CLNORM_API const char *clnorm_errmsg(const clnorm_context *ctx);

/** The raw OpenCL error code behind the last failure recorded in this context
 *  (for instance CL_MEM_OBJECT_ALLOCATION_FAILURE when a buffer could not be
 *  made), or CL_SUCCESS (0) when that failure was not an OpenCL call's (a bad
 *  argument, say), when nothing has failed yet, and for a NULL context. Like
 *  clnorm_errmsg it describes the last failure: a later success leaves it.
 *  Threads: as clnorm_errmsg. */
CLNORM_API cl_int clnorm_last_cl_error(const clnorm_context *ctx);

/** How many OpenCL devices there are, in the order "P:D" device specs count
 *  them (platforms, then each platform's devices).
 *  Threads: any number of calls at once. */
CLNORM_API clnorm_status clnorm_device_count(size_t *count);

/** Device `index` (0 <= index < clnorm_device_count) of that list: its handle
 *  (the platform's: nothing to release), its "P:D" spec, whether it has the
 *  fp64 clnorm can accumulate in (fp64 with fma: a context on it then
 *  accumulates in fp64 where that is fast, see CLNORM_CONTEXT_NO_FP64 and
 *  clnorm_context_uses_fp64), and whether it is the device a context made
 *  with a NULL spec uses ($CLNORM_DEVICE, else the first GPU, accelerator,
 *  CPU). Any output pointer may be NULL. CLNORM_INVALID_ARGUMENT for an
 *  index past the list. Threads: as clnorm_device_count. */
CLNORM_API clnorm_status clnorm_device_get(size_t index, cl_device_id *device,
                                           unsigned *platform_index, unsigned *device_index,
                                           int *fp64, int *is_default);

/** The OpenCL objects in use (borrowed: do not release them).
 *  Threads: these accessors and program_counts, from any thread at any time
 *  before clnorm_context_destroy. */
CLNORM_API cl_context clnorm_context_cl_context(const clnorm_context *ctx);
/** The device (borrowed). Threads: as clnorm_context_cl_context. */
CLNORM_API cl_device_id clnorm_context_device(const clnorm_context *ctx);
/** The command queue every forward enqueues on (borrowed). Threads: as
 *  clnorm_context_cl_context. */
CLNORM_API cl_command_queue clnorm_context_queue(const clnorm_context *ctx);
/** "device name (platform name, driver version)". Owned by the context. */
CLNORM_API const char *clnorm_context_device_description(const clnorm_context *ctx);
/** Non-zero when the kernels accumulate in fp64, zero for compensated
 *  float-float: the choice made at creation (see CLNORM_CONTEXT_NO_FP64). */
CLNORM_API int clnorm_context_uses_fp64(const clnorm_context *ctx);
/** How many programs this context built from source and how many it loaded
 *  from the on-disk cache so far. Either pointer may be NULL. */
CLNORM_API void clnorm_context_program_counts(const clnorm_context *ctx, unsigned *built,
                                              unsigned *from_cache);

/* ------------------------------------------------------- VarianceNorm2d */

/** ESPnet's VarianceNorm2d(num_features) (opaque): x is (N, C, H, W), C == num_features;
 *   var[n,c] = unbiased variance of x[n,c,:,:]
 *   y = alpha[c] * x / sqrt(var + 1e-5)          (x, not x - mean)
 * H*W == 1 gives NaN, as PyTorch does. */
typedef struct clnorm_varnorm2d clnorm_varnorm2d;

/** Host parameters, owned by the caller. Bump `version` after every change of
 * `alpha`: a forward uploads alpha only when the version differs from the
 * last one it uploaded. The layer copies alpha during the forward call, so
 * the memory may be changed or freed as soon as the call returns. */
typedef struct clnorm_varnorm2d_params {
    const float *alpha; /**< num_features floats */
    uint64_t version;   /**< bump after every change of alpha */
} clnorm_varnorm2d_params;

/** Create a layer for C == num_features channels; destroy it (NULL is fine).
 *  Threads: create concurrently with any call on the same context except its
 *  destroy; destroy when no other call on this layer is running. */
CLNORM_API clnorm_status clnorm_varnorm2d_create(clnorm_context *ctx, size_t num_features,
                                                 clnorm_varnorm2d **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_varnorm2d_destroy(clnorm_varnorm2d *layer);

/** Enqueue y = VarianceNorm2d(x) on the context's queue. `input` and `output`
 *  hold float32 (N, C, H, W) in C order at the given byte offsets (multiples
 *  of 4); output may equal input with the same offset (in place), or be
 *  disjoint from it. The
 *  forward waits for `wait_list` and, when `event` is not NULL, returns one
 *  event that completes when all of its work (upload included) is done. The
 *  caller owns that event and must release it with clReleaseEvent; on
 *  failure *event is left untouched and nothing is enqueued.
 *  Threads: one call on this layer at a time; forwards of distinct layers,
 *  of one context or not, concurrently. */
CLNORM_API clnorm_status clnorm_varnorm2d_forward(clnorm_varnorm2d *layer,
                                                  const clnorm_varnorm2d_params *params, size_t n,
                                                  size_t c, size_t h, size_t w, cl_mem input,
                                                  size_t input_offset, cl_mem output,
                                                  size_t output_offset, cl_uint num_wait,
                                                  const cl_event *wait_list, cl_event *event);

/** How many times this layer has uploaded alpha (for tests and diagnostics).
 *  Threads: as the forward (it reads what the forward writes). */
CLNORM_API uint64_t clnorm_varnorm2d_upload_count(const clnorm_varnorm2d *layer);

/* ----------------------------------------------------------------- RevIN */

/** ReversibleInstanceNorm1dInput(d, transposed) and its Output (opaque): x is (B, L, D), or (B, D, L)
 * when transposed; per (b, d) over L:
 *   m = mean, s = sqrt(population variance) + 1e-4, y = (x - m) / s
 * ReversibleInstanceNorm1dOutput(input): y = x * s + m with the m, s of the
 * last input forward; B and D must match it, L may differ. */
typedef struct clnorm_revin clnorm_revin;

/** Flags for clnorm_revin_create. */
enum clnorm_revin_flag {
    /** (B, D, L) layout instead of (B, L, D). */
    CLNORM_REVIN_TRANSPOSED = 1u << 0,
    /** Opt-in affine mode of the RevIN paper: input y = y * weight + bias,
     * output x = (x - bias) / (weight + 1e-10) before de-normalising. ESPnet's
     * default (and this library's) holds weight and bias but does not use them. */
    CLNORM_REVIN_AFFINE = 1u << 1,
    /** The forecasting form (clnorm_revin_forecast_create only): centre on the
     * last value x[:, L-1, :] instead of the mean (PatchTST's subtract_last). */
    CLNORM_REVIN_SUBTRACT_LAST = 1u << 2
};

/** Host parameters, owned by the caller, used only with CLNORM_REVIN_AFFINE
 * (NULL params are fine otherwise). Same version rule as VarianceNorm2d. */
typedef struct clnorm_revin_params {
    const float *weight; /**< d floats */
    const float *bias;   /**< d floats */
    uint64_t version;    /**< bump after every change of weight or bias */
} clnorm_revin_params;

/** Create a RevIN layer for D == d; destroy it (NULL is fine).
 *  Threads: as clnorm_varnorm2d_create and _destroy. */
CLNORM_API clnorm_status clnorm_revin_create(clnorm_context *ctx, size_t d, unsigned flags,
                                             clnorm_revin **out);
/** The RevIN of the forecasting world (RTSF's layers/Invertible.py, PatchTST's
 *  layers/RevIN.py) as a clnorm_revin: per (b, d) over L,
 *    norm:   c = mean (or, with CLNORM_REVIN_SUBTRACT_LAST, the last value),
 *            stdev = sqrt(population variance + eps), y = (x - c) / stdev,
 *            then y * weight + bias with CLNORM_REVIN_AFFINE;
 *    denorm: x = (x - bias) / (weight + eps * eps) with CLNORM_REVIN_AFFINE,
 *            then y = x * stdev + c;
 *  run by clnorm_revin_forward (norm) and clnorm_revin_inverse (denorm, over
 *  a horizon of any length); the statistics read and set are c and stdev,
 *  b * d floats laid out as the module's (B, 1, D). `eps`: finite, >= 0 (the
 *  modules' default is 1e-5). Flags: CLNORM_REVIN_AFFINE (the modules'
 *  default), CLNORM_REVIN_SUBTRACT_LAST, CLNORM_REVIN_TRANSPOSED. */
CLNORM_API clnorm_status clnorm_revin_forecast_create(clnorm_context *ctx, size_t d, double eps,
                                                      unsigned flags, clnorm_revin **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_revin_destroy(clnorm_revin *layer);

/** ReversibleInstanceNorm1dInput: enqueue y = (x - m) / s and keep m and s
 *  on the device for clnorm_revin_inverse. `l` is the length normalised over.
 *  Buffers, offsets, wait list and `event` as in clnorm_varnorm2d_forward: the
 *  event handed back is the caller's to release with clReleaseEvent.
 *  Threads: this and every other function of the layer, one at a time (they
 *  share the layer's statistics, kernels and last event); distinct layers
 *  concurrently. */
CLNORM_API clnorm_status clnorm_revin_forward(clnorm_revin *layer,
                                              const clnorm_revin_params *params, size_t b, size_t l,
                                              cl_mem input, size_t input_offset, cl_mem output,
                                              size_t output_offset, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *event);

/** ReversibleInstanceNorm1dOutput: enqueue y = x * s + m with the statistics
 *  of the last forward (or of clnorm_revin_set_stats). `b` must match them;
 *  `l` (the horizon) may differ from the forward's. Buffers, wait list and
 *  `event` as in clnorm_revin_forward (the caller releases the event).
 *  Threads: as clnorm_revin_forward. */
CLNORM_API clnorm_status clnorm_revin_inverse(clnorm_revin *layer,
                                              const clnorm_revin_params *params, size_t b, size_t l,
                                              cl_mem input, size_t input_offset, cl_mem output,
                                              size_t output_offset, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *event);

/** Copy the statistics of the last forward to the host: `mean` and `std`
 *  receive b * d floats each, laid out as ESPnet's m and s, shape (B, D, 1).
 *  Either may be NULL. Blocks until they are available. */
CLNORM_API clnorm_status clnorm_revin_read_stats(clnorm_revin *layer, float *mean, float *std,
                                                 size_t count);

/** Set the statistics from host arrays of b * d floats (for instance saved
 *  from PyTorch), as if a forward with this `b` had produced them. The
 *  arrays are copied before the call returns. */
CLNORM_API clnorm_status clnorm_revin_set_stats(clnorm_revin *layer, size_t b, const float *mean,
                                                const float *std);

/** How many times this layer has uploaded weight and bias (affine mode).
 *  Threads: as the forward. */
CLNORM_API uint64_t clnorm_revin_upload_count(const clnorm_revin *layer);

/* ------------------------------------------------------------ the family */

/** Weight and bias of the layers that have them (LayerNorm, GroupNorm, ...),
 * owned by the caller, each as many floats as the layer says. Bump
 * `version` after every change: a forward uploads them only when the version
 * differs from the last one it uploaded, and copies them before it returns. */
typedef struct clnorm_affine_params {
    const float *weight; /**< the layer's weight (PyTorch's `weight`) */
    const float *bias;   /**< the layer's bias (PyTorch's `bias`) */
    uint64_t version;    /**< bump after every change of weight or bias */
} clnorm_affine_params;

/** Flags of the family's _create functions. */
enum clnorm_layer_flag {
    /** No weight and bias (PyTorch's elementwise_affine=False, affine=False):
     *  the params of a forward may be NULL. */
    CLNORM_NO_AFFINE = 1u << 0,
    /** Weight and bias for the layers that have none by default (PyTorch's
     *  affine=True for InstanceNorm2d): the params of a forward must have them. */
    CLNORM_AFFINE = 1u << 1,
    /** TransposedLN(scalar=False): a LayerNorm over D with weight and bias of
     *  d floats, instead of the scalar s and m. */
    CLNORM_NOT_SCALAR = 1u << 2,
    /** The conditional classes' bias=False: no beta, embed.weight has C
     *  columns (not for CLNORM_CONDITIONAL_VARIANCE, which has no bias). */
    CLNORM_NO_BIAS = 1u << 3,
    /** Normalization(transposed=True): x is (B, D, L) instead of (B, L, D). */
    CLNORM_TRANSPOSED = 1u << 4
};

/* ------------------------------------------------------------- LayerNorm */

/** torch.nn.LayerNorm(d, eps, elementwise_affine) over the last axis (opaque):
 *  each row of d contiguous floats,
 *    y = (x - mean) / sqrt(var + eps) * weight[k] + bias[k]
 *  var the biased (population) variance; weight and bias have d floats. */
typedef struct clnorm_layer_norm clnorm_layer_norm;

/** Create a LayerNorm over rows of `d` floats with PyTorch's `eps` (1e-5 is
 *  its default); flags: CLNORM_NO_AFFINE or 0. Destroy it (NULL is fine).
 *  Threads: as clnorm_varnorm2d_create and _destroy. */
CLNORM_API clnorm_status clnorm_layer_norm_create(clnorm_context *ctx, size_t d, double eps,
                                                  unsigned flags, clnorm_layer_norm **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_layer_norm_destroy(clnorm_layer_norm *layer);
/** Enqueue y = LayerNorm(x) over `rows` rows of d floats (x of any shape
 *  (..., d) with rows = its element count / d). `params` gives weight and
 *  bias (d floats each) unless the layer was made with CLNORM_NO_AFFINE.
 *  Buffers, offsets, wait list and `event` as in clnorm_varnorm2d_forward:
 *  the event handed back is the caller's to release.
 *  Threads: as clnorm_varnorm2d_forward. */
CLNORM_API clnorm_status clnorm_layer_norm_forward(clnorm_layer_norm *layer,
                                                   const clnorm_affine_params *params, size_t rows,
                                                   cl_mem input, size_t input_offset, cl_mem output,
                                                   size_t output_offset, cl_uint num_wait,
                                                   const cl_event *wait_list, cl_event *event);
/** How many times this layer has uploaded weight and bias. Threads: as the forward. */
CLNORM_API uint64_t clnorm_layer_norm_upload_count(const clnorm_layer_norm *layer);

/* -------------------------------------------------------- InstanceNorm2d */

/** torch.nn.InstanceNorm2d(c, eps, affine) in its default, instance-statistics
 *  mode (opaque): each (n, c) plane of h * w floats,
 *    y = (x - mean) / sqrt(var + eps) [* weight[c] + bias[c]]
 *  var the biased variance; weight and bias (c floats) with CLNORM_AFFINE. */
typedef struct clnorm_instance_norm2d clnorm_instance_norm2d;

/** Create an InstanceNorm2d for C == c with PyTorch's `eps` (1e-5 is its
 *  default); flags: CLNORM_AFFINE or 0. Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_instance_norm2d_create(clnorm_context *ctx, size_t c, double eps,
                                                       unsigned flags,
                                                       clnorm_instance_norm2d **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_instance_norm2d_destroy(clnorm_instance_norm2d *layer);
/** Enqueue y = InstanceNorm2d(x), x of shape (n, c, h, w). `params` gives
 *  weight and bias with CLNORM_AFFINE (may be NULL otherwise). Buffers,
 *  offsets, wait list and `event` as in clnorm_varnorm2d_forward: the event
 *  handed back is the caller's to release. Threads: as that forward. */
CLNORM_API clnorm_status clnorm_instance_norm2d_forward(
    clnorm_instance_norm2d *layer, const clnorm_affine_params *params, size_t n, size_t c, size_t h,
    size_t w, cl_mem input, size_t input_offset, cl_mem output, size_t output_offset,
    cl_uint num_wait, const cl_event *wait_list, cl_event *event);
/** How many times this layer has uploaded weight and bias. Threads: as the forward. */
CLNORM_API uint64_t clnorm_instance_norm2d_upload_count(const clnorm_instance_norm2d *layer);

/* ------------------------------------------------------------ NoneNorm2d */

/** ESPnet's NoneNorm2d (opaque): y = x, as a layer of the family (the same
 *  calls, an event out), for models that configure "no normalisation". */
typedef struct clnorm_none_norm2d clnorm_none_norm2d;

/** Create a NoneNorm2d; flags must be 0. Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_none_norm2d_create(clnorm_context *ctx, unsigned flags,
                                                   clnorm_none_norm2d **out);
/** Release the layer. Accepts NULL. Threads: when no other call on it runs. */
CLNORM_API void clnorm_none_norm2d_destroy(clnorm_none_norm2d *layer);
/** Enqueue y = x for `count` floats (nothing to copy when input and output
 *  are the same floats; the event still follows the wait list). Buffers,
 *  offsets, wait list and `event` as in clnorm_varnorm2d_forward: the event
 *  handed back is the caller's to release. Threads: as that forward. */
CLNORM_API clnorm_status clnorm_none_norm2d_forward(clnorm_none_norm2d *layer, size_t count,
                                                    cl_mem input, size_t input_offset,
                                                    cl_mem output, size_t output_offset,
                                                    cl_uint num_wait, const cl_event *wait_list,
                                                    cl_event *event);

/* ---------------------------------------------------------- TransposedLN */

/** ESPnet's TransposedLN(d, scalar) (opaque), x of shape (b, d, l), over D
 *  for each (b, l):
 *  - scalar (the default): y = (s_p / s) * (x - m + m_p), m the mean and s
 *    the biased standard deviation, without an epsilon (a constant column
 *    gives inf or NaN, as PyTorch does); the parameters are the module's
 *    `s` (weight, one float) and `m` (bias, one float);
 *  - CLNORM_NOT_SCALAR: torch.nn.LayerNorm(d) over D (eps 1e-5), weight
 *    and bias (`ln.weight`, `ln.bias`) of d floats. */
typedef struct clnorm_transposed_ln clnorm_transposed_ln;

/** Create a TransposedLN for D == d; flags: CLNORM_NOT_SCALAR or 0.
 *  Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_transposed_ln_create(clnorm_context *ctx, size_t d, unsigned flags,
                                                     clnorm_transposed_ln **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_transposed_ln_destroy(clnorm_transposed_ln *layer);
/** Enqueue y = TransposedLN(x), x of shape (b, d, l). `params`: weight = s
 *  and bias = m (one float each), or with CLNORM_NOT_SCALAR d floats each.
 *  Buffers, offsets, wait list and `event` as in clnorm_varnorm2d_forward:
 *  the event handed back is the caller's to release. A new `l` may build
 *  kernels of another vector width (once per width). Threads: as that
 *  forward. */
CLNORM_API clnorm_status clnorm_transposed_ln_forward(clnorm_transposed_ln *layer,
                                                      const clnorm_affine_params *params, size_t b,
                                                      size_t l, cl_mem input, size_t input_offset,
                                                      cl_mem output, size_t output_offset,
                                                      cl_uint num_wait, const cl_event *wait_list,
                                                      cl_event *event);
/** How many times this layer has uploaded its parameters. Threads: as the forward. */
CLNORM_API uint64_t clnorm_transposed_ln_upload_count(const clnorm_transposed_ln *layer);

/* -------------------------------------------------------------- GroupNorm */

/** torch.nn.GroupNorm(num_groups, num_channels, eps, affine) (opaque) on x of
 *  shape (n, c, spatial...): per (n, group of c / num_groups channels), over
 *  the group's channels and spatial positions, y = (x - mean) / sqrt(var +
 *  eps) * weight[c] + bias[c], the biased variance. NCSN++ uses num_groups =
 *  min(c / 4, 32) and eps 1e-6. */
typedef struct clnorm_group_norm clnorm_group_norm;

/** Create a GroupNorm; c must be a multiple of groups; eps finite and >= 0;
 *  flags: CLNORM_NO_AFFINE (affine=False) or 0. Threads: as
 *  clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_group_norm_create(clnorm_context *ctx, size_t groups, size_t c,
                                                  double eps, unsigned flags,
                                                  clnorm_group_norm **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_group_norm_destroy(clnorm_group_norm *layer);
/** Enqueue y = GroupNorm(x), x of shape (n, c, spatial) where `spatial` is
 *  the product of the sizes after C (1 for an (n, c) input). `params`:
 *  weight and bias of c floats (may be NULL with CLNORM_NO_AFFINE). One
 *  kernel runs, or, with weights when `spatial` is not a multiple of the
 *  kernels' vector width, two (the second scales the output in place by
 *  channel); the event is the last one's. Buffers, offsets, wait list and `event` as in
 *  clnorm_varnorm2d_forward: the event handed back is the caller's to
 *  release. Threads: as that forward. */
CLNORM_API clnorm_status clnorm_group_norm_forward(clnorm_group_norm *layer,
                                                   const clnorm_affine_params *params, size_t n,
                                                   size_t spatial, cl_mem input,
                                                   size_t input_offset, cl_mem output,
                                                   size_t output_offset, cl_uint num_wait,
                                                   const cl_event *wait_list, cl_event *event);
/** How many times this layer has uploaded its parameters. Threads: as the forward. */
CLNORM_API uint64_t clnorm_group_norm_upload_count(const clnorm_group_norm *layer);

/* ---------------------------------------------------------- Normalization */

/** Which norm ESPnet's Normalization(D, transposed, _name_) holds. */
typedef enum clnorm_normalization_kind {
    /** "layer": nn.LayerNorm(D) over D (eps 1e-5, weight and bias of d floats);
     *  transposed, TransposedLN(D) with scalar=True (weight = its s, bias = its
     *  m, one float each; no epsilon). */
    CLNORM_NORMALIZATION_LAYER,
    /** "instance": per (b, d) over L, (x - mean) / sqrt(var + 1e-5), no weights. */
    CLNORM_NORMALIZATION_INSTANCE,
    /** "batch", eval mode: (x - running_mean[d]) / sqrt(running_var[d] + 1e-5)
     *  * weight[d] + bias[d]. */
    CLNORM_NORMALIZATION_BATCH,
    /** "group": GroupNorm(1, D): per b over all of (L, D), then weight[d] and
     *  bias[d] (one kernel when the weights' run, L transposed and D not, is a
     *  multiple of the kernels' vector width; else two). */
    CLNORM_NORMALIZATION_GROUP,
    /** "none": y = x (a copy; a marker in place). */
    CLNORM_NORMALIZATION_NONE
} clnorm_normalization_kind;

/** Host parameters of a Normalization, owned by the caller; what each kind
 *  reads is said at its kind (the others may be NULL). Same version rule as
 *  clnorm_affine_params. */
typedef struct clnorm_normalization_params {
    const float *weight;       /**< norm.weight (TransposedLN: norm.s) */
    const float *bias;         /**< norm.bias (TransposedLN: norm.m) */
    const float *running_mean; /**< "batch": norm.running_mean, d floats */
    const float *running_var;  /**< "batch": norm.running_var, d floats */
    uint64_t version;          /**< bump after every change of any of them */
} clnorm_normalization_params;

/** ESPnet's Normalization (opaque) on x of shape (b, l, d), or (b, d, l)
 *  with CLNORM_TRANSPOSED. */
typedef struct clnorm_normalization clnorm_normalization;

/** Create a Normalization of `kind` for D == d; flags: CLNORM_TRANSPOSED or
 *  0. Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_normalization_create(clnorm_context *ctx, size_t d,
                                                     clnorm_normalization_kind kind, unsigned flags,
                                                     clnorm_normalization **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_normalization_destroy(clnorm_normalization *layer);
/** Enqueue y = Normalization(x), x of shape (b, l, d) (or (b, d, l)).
 *  Buffers, offsets, wait list and `event` as in clnorm_varnorm2d_forward:
 *  the event handed back is the caller's to release. A new `l` or kind of
 *  pass may build kernels of another vector width (once per width).
 *  Threads: as that forward. */
CLNORM_API clnorm_status clnorm_normalization_forward(clnorm_normalization *layer,
                                                      const clnorm_normalization_params *params,
                                                      size_t b, size_t l, cl_mem input,
                                                      size_t input_offset, cl_mem output,
                                                      size_t output_offset, cl_uint num_wait,
                                                      const cl_event *wait_list, cl_event *event);
/** How many times this layer has uploaded its parameters. Threads: as the forward. */
CLNORM_API uint64_t clnorm_normalization_upload_count(const clnorm_normalization *layer);

/* ------------------------------------------------------- TSNormalization */

/** How TSNormalization takes its scale from the look-back window l < L - horizon. */
typedef enum clnorm_ts_method {
    CLNORM_TS_MEAN = 0, /**< the mean of |x| over the window (needs horizon >= 1) */
    CLNORM_TS_LAST = 1  /**< |x| at the window's last step, l = L - horizon - 1 */
} clnorm_ts_method;

/** ESPnet's TSNormalization(method, horizon) and TSInverseNormalization
 *  (state_spaces/components.py) on x of shape (b, l, d) (opaque): per
 *  (b, d), a scale from the look-back window, y = x / scale; the inverse,
 *  y = x * scale with the scale of the last forward. No epsilon: a zero
 *  scale gives inf or NaN, as PyTorch does. */
typedef struct clnorm_ts_norm clnorm_ts_norm;

/** Create a TSNormalization for D == d. CLNORM_TS_MEAN needs horizon >= 1
 *  (ESPnet's window x[:, :-0] is empty). Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_ts_norm_create(clnorm_context *ctx, size_t d,
                                               clnorm_ts_method method, size_t horizon,
                                               clnorm_ts_norm **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_ts_norm_destroy(clnorm_ts_norm *layer);
/** TSNormalization: enqueue the scale of each (b, d) over the window
 *  l < L - horizon (L must exceed the horizon), then y = x / scale, and
 *  keep the scale on the device for clnorm_ts_norm_inverse. Buffers,
 *  offsets, wait list and `event` as in clnorm_varnorm2d_forward: the event
 *  handed back is the caller's to release. Threads: this and every other
 *  function of the layer, one at a time; distinct layers concurrently. */
CLNORM_API clnorm_status clnorm_ts_norm_forward(clnorm_ts_norm *layer, size_t b, size_t l,
                                                cl_mem input, size_t input_offset, cl_mem output,
                                                size_t output_offset, cl_uint num_wait,
                                                const cl_event *wait_list, cl_event *event);
/** TSInverseNormalization: enqueue y = x * scale with the scale of the last
 *  forward (or of clnorm_ts_norm_set_scale); `b` must match it, `l` (the
 *  horizon's length) may be any. As clnorm_ts_norm_forward otherwise. */
CLNORM_API clnorm_status clnorm_ts_norm_inverse(clnorm_ts_norm *layer, size_t b, size_t l,
                                                cl_mem input, size_t input_offset, cl_mem output,
                                                size_t output_offset, cl_uint num_wait,
                                                const cl_event *wait_list, cl_event *event);
/** Copy the scale of the last forward to the host: b * d floats, laid out
 *  as ESPnet's scale, shape (B, 1, D). Blocks until it is available. */
CLNORM_API clnorm_status clnorm_ts_norm_read_scale(clnorm_ts_norm *layer, float *scale,
                                                   size_t count);
/** Set the scale from a host array of b * d floats, as if a forward with
 *  this `b` had produced it. The array is copied before the call returns. */
CLNORM_API clnorm_status clnorm_ts_norm_set_scale(clnorm_ts_norm *layer, size_t b,
                                                  const float *scale);

/* ---------------------------------------------------- InstanceNorm2dPlus */

/** ESPnet's InstanceNorm2dPlus(C, bias) (NCSN++, opaque) on x of shape (n, c,
 *  h, w): with mu the mean of each (n, c) plane, m and v the mean and the
 *  unbiased variance of mu over the sample's C channels and mu' = (mu - m) /
 *  sqrt(v + 1e-5): h = (x - mu) / sqrt(var + 1e-5) + mu' * alpha[c] (var
 *  biased), y = gamma[c] * h + beta[c] (no beta with CLNORM_NO_BIAS). C = 1
 *  gives NaN (no variance across one channel), as PyTorch does. */
typedef struct clnorm_instance_norm2d_plus clnorm_instance_norm2d_plus;

/** Host parameters of an InstanceNorm2dPlus, c floats each, owned by the
 *  caller; same version rule as clnorm_affine_params. */
typedef struct clnorm_plus_params {
    const float *alpha; /**< alpha */
    const float *gamma; /**< gamma */
    const float *beta;  /**< beta (NULL with CLNORM_NO_BIAS) */
    uint64_t version;   /**< bump after every change of any of them */
} clnorm_plus_params;

/** Create an InstanceNorm2dPlus for C == c; flags: CLNORM_NO_BIAS (bias=False)
 *  or 0. Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_instance_norm2d_plus_create(clnorm_context *ctx, size_t c,
                                                            unsigned flags,
                                                            clnorm_instance_norm2d_plus **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_instance_norm2d_plus_destroy(clnorm_instance_norm2d_plus *layer);
/** Enqueue y = InstanceNorm2dPlus(x), x of shape (n, c, h, w): on CPUs one
 *  kernel, or two per block of samples when there are few (each plane's mean
 *  and sd, then y from x); on GPUs three (the planes, the channel means of
 *  each sample, the affine in place); the event is the last one's. Buffers, offsets, wait list and `event` as in
 *  clnorm_varnorm2d_forward: the event handed back is the caller's to
 *  release. Threads: as that forward. */
CLNORM_API clnorm_status clnorm_instance_norm2d_plus_forward(
    clnorm_instance_norm2d_plus *layer, const clnorm_plus_params *params, size_t n, size_t c,
    size_t h, size_t w, cl_mem input, size_t input_offset, cl_mem output, size_t output_offset,
    cl_uint num_wait, const cl_event *wait_list, cl_event *event);
/** How many times this layer has uploaded its parameters. Threads: as the forward. */
CLNORM_API uint64_t
clnorm_instance_norm2d_plus_upload_count(const clnorm_instance_norm2d_plus *layer);

/* ---------------------------------------------- the conditional NCHW classes */

/** Which of ESPnet's conditional classes (ncsnpp_utils/normalization.py) a
 *  clnorm_conditional_norm2d is. Each scales (and with a bias shifts) channel
 *  c of sample n by row y[n] of its `embed.weight` table of k classes:
 *  g = embed.weight[y[n]][c], beta = embed.weight[y[n]][C + c]. */
typedef enum clnorm_conditional_kind {
    /** ConditionalVarianceNorm2d(C, K): g[c] * x / sqrt(var_u + 1e-5), var_u the
     *  unbiased variance of the (n, c) plane; embed.weight is (K, C). */
    CLNORM_CONDITIONAL_VARIANCE,
    /** ConditionalInstanceNorm2d(C, K, bias): h = (x - mean) / sqrt(var_b + 1e-5)
     *  per plane; g[c] * h + beta[c]; embed.weight (K, 2C), or (K, C) without bias. */
    CLNORM_CONDITIONAL_INSTANCE,
    /** ConditionalBatchNorm2d(C, K, bias) in eval mode: h = (x - running_mean[c]) /
     *  sqrt(running_var[c] + 1e-5) (the module's bn.running_mean, bn.running_var);
     *  then as CLNORM_CONDITIONAL_INSTANCE. */
    CLNORM_CONDITIONAL_BATCH,
    /** ConditionalNoneNorm2d(C, K, bias): g[c] * x + beta[c]. */
    CLNORM_CONDITIONAL_NONE,
    /** ConditionalInstanceNorm2dPlus(C, K, bias): InstanceNorm2dPlus with
     *  gamma, alpha, beta = embed.weight[y[n]].chunk(3): embed.weight (K, 3C),
     *  or (K, 2C) without bias (gamma, alpha). */
    CLNORM_CONDITIONAL_INSTANCE_PLUS
} clnorm_conditional_kind;

/** Host parameters of a conditional layer, owned by the caller; same
 *  version rule as clnorm_affine_params. */
typedef struct clnorm_conditional_params {
    const float *embed;        /**< embed.weight: k rows of C, 2C or 3C floats (the kind says) */
    const float *running_mean; /**< CLNORM_CONDITIONAL_BATCH: bn.running_mean, C floats */
    const float *running_var;  /**< CLNORM_CONDITIONAL_BATCH: bn.running_var, C floats */
    uint64_t version;          /**< bump after every change of any of them */
} clnorm_conditional_params;

/** A conditional NCHW layer (opaque). */
typedef struct clnorm_conditional_norm2d clnorm_conditional_norm2d;

/** Create a conditional layer of `kind` for C == c and `k` classes; flags:
 *  CLNORM_NO_BIAS or 0. Threads: as clnorm_varnorm2d_create. */
CLNORM_API clnorm_status clnorm_conditional_norm2d_create(clnorm_context *ctx,
                                                          clnorm_conditional_kind kind, size_t c,
                                                          size_t k, unsigned flags,
                                                          clnorm_conditional_norm2d **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_conditional_norm2d_destroy(clnorm_conditional_norm2d *layer);
/** Enqueue the layer on x of shape (n, c, h, w) with the class of each sample
 *  from `labels`: n int32 on the device at byte `labels_offset` (a sampler
 *  may change them on the device every step; the wait list covers them). A
 *  label outside [0, k) never reads outside the table: it is clamped to the
 *  nearest class and reported by clnorm_conditional_norm2d_label_errors.
 *  Buffers, offsets, wait list and `event` as in clnorm_varnorm2d_forward:
 *  the event handed back is the caller's to release. Threads: as that
 *  forward. */
CLNORM_API clnorm_status clnorm_conditional_norm2d_forward(
    clnorm_conditional_norm2d *layer, const clnorm_conditional_params *params, cl_mem labels,
    size_t labels_offset, size_t n, size_t c, size_t h, size_t w, cl_mem input, size_t input_offset,
    cl_mem output, size_t output_offset, cl_uint num_wait, const cl_event *wait_list,
    cl_event *event);
/** Whether a forward since the last call met a label outside [0, k) (and
 *  clamped it): *clamped is 1 or 0. Blocks until the layer's forwards are
 *  done, then clears the report. Threads: as the forward. */
CLNORM_API clnorm_status clnorm_conditional_norm2d_label_errors(clnorm_conditional_norm2d *layer,
                                                                int *clamped);
/** How many times this layer has uploaded its parameters. Threads: as the forward. */
CLNORM_API uint64_t clnorm_conditional_norm2d_upload_count(const clnorm_conditional_norm2d *layer);

/* ------------------------------------------------------------ matrix products */

/** A Linear layer (opaque), its product made by CLBlast and its bias added
 *  by a clnorm kernel. Three forms, of in_features U and out_features V:
 *    CLNORM_LINEAR_LAST:       nn.Linear(U, V) on the last axis: x (R, U) for
 *                              R = the product of x's other axes -> y (R, V),
 *                              y = x weight^T + bias;
 *    CLNORM_LINEAR_TRANSPOSED: ESPnet's TransposedLinear(U, V) on x (B, U, L)
 *                              -> y (B, V, L), y[b,v,l] = sum_u weight[v,u]
 *                              x[b,u,l] + bias[v];
 *    CLNORM_LINEAR_TIME:       RLinear's Linear(L -> H) over the time axis of
 *                              x (B, L, D) -> y (B, H, D) (U = L, V = H), one
 *                              weight for every channel, or one per channel
 *                              with CLNORM_LINEAR_INDIVIDUAL.
 *  CLBlast keeps its compiled programs, and with them a reference to every
 *  OpenCL context it ran on, until clnorm_blas_clear_cache(). */
typedef struct clnorm_linear clnorm_linear;

/** The forms of clnorm_linear_create. */
typedef enum clnorm_linear_form {
    CLNORM_LINEAR_LAST,       /**< nn.Linear on the last axis */
    CLNORM_LINEAR_TRANSPOSED, /**< ESPnet's TransposedLinear on (B, U, L) */
    CLNORM_LINEAR_TIME        /**< over the time axis of (B, L, D) (RLinear) */
} clnorm_linear_form;

/** Flags for clnorm_linear_create. */
enum clnorm_linear_flag {
    /** CLNORM_LINEAR_TIME: one Linear per channel (RLinear's individual):
     *  weight (D, V, U), bias (D, V), D = `channels`. */
    CLNORM_LINEAR_INDIVIDUAL = 1u << 0
};

/** Host parameters, owned by the caller: weight (V, U) row-major (individual:
 *  (D, V, U)), bias V floats (individual: (D, V)). Same version rule as
 *  VarianceNorm2d: bump `version` after every change. */
typedef struct clnorm_linear_params {
    const float *weight; /**< (V, U) row-major; individual: (D, V, U) */
    const float *bias;   /**< V floats; individual: (D, V) */
    uint64_t version;    /**< bump after every change of weight or bias */
} clnorm_linear_params;

/** Create a Linear layer: `channels` is D for CLNORM_LINEAR_INDIVIDUAL and
 *  ignored otherwise. CLBlast's kernels for the layer's product are compiled
 *  (or loaded) and run once here, so that no forward waits for a compiler.
 *  Threads: any number of threads may create layers at once. */
CLNORM_API clnorm_status clnorm_linear_create(clnorm_context *ctx, clnorm_linear_form form,
                                              size_t in_features, size_t out_features,
                                              size_t channels, unsigned flags, clnorm_linear **out);
/** Release the layer and what it holds on the device. Accepts NULL.
 *  Threads: when no other call on this layer is running. */
CLNORM_API void clnorm_linear_destroy(clnorm_linear *layer);
/** Enqueue y = the layer's product of x, plus its bias. `batch` is R (LAST)
 *  or B (TRANSPOSED, TIME); `length` is L for TRANSPOSED, D for TIME (the
 *  layer's `channels` when individual) and 1 for LAST. x has batch *
 *  in_features * length floats, y batch * out_features * length; they must
 *  not overlap (a product is never in place). Buffers, offsets, wait list and
 *  `event` as in clnorm_varnorm2d_forward: the event is the caller's to
 *  release. Threads: one call on a layer at a time; distinct layers
 *  concurrently. */
CLNORM_API clnorm_status clnorm_linear_forward(clnorm_linear *layer,
                                               const clnorm_linear_params *params, size_t batch,
                                               size_t length, cl_mem input, size_t input_offset,
                                               cl_mem output, size_t output_offset,
                                               cl_uint num_wait, const cl_event *wait_list,
                                               cl_event *event);
/** How many times this layer has uploaded weight and bias. */
CLNORM_API uint64_t clnorm_linear_upload_count(const clnorm_linear *layer);

/** Release CLBlast's compiled programs (process-wide), and with them the
 *  references CLBlast holds to OpenCL contexts: call it after destroying the
 *  last layer of a context whose OpenCL context must really go (a context
 *  wrapped with clnorm_context_wrap, say), or before exit under a leak
 *  checker. Layers still alive compile again on their next product.
 *  Threads: when no Linear or RLinear call is running. */
CLNORM_API clnorm_status clnorm_blas_clear_cache(void);

/** RLinear (RTSF's models/RLinear.py, opaque): x (B, L, D) -> y (B, H, D):
 *  the forecasting RevIN's norm (eps 1e-5, affine), the Linear(L -> H) over
 *  the time axis (shared, or one per channel), then RevIN's denorm; without
 *  RevIN (CLNORM_RLINEAR_NO_REV) the Linear alone. */
typedef struct clnorm_rlinear clnorm_rlinear;

/** Flags for clnorm_rlinear_create. */
enum clnorm_rlinear_flag {
    CLNORM_RLINEAR_INDIVIDUAL = 1u << 0, /**< one Linear per channel */
    CLNORM_RLINEAR_NO_REV = 1u << 1      /**< no RevIN around the Linear */
};

/** Host parameters, owned by the caller: the Linear's (as
 *  clnorm_linear_params, TIME form) and RevIN's affine weight and bias (D
 *  floats; unused with CLNORM_RLINEAR_NO_REV). One version for all four. */
typedef struct clnorm_rlinear_params {
    const float *weight;        /**< Linear.weight (H, L), individual (D, H, L) */
    const float *bias;          /**< Linear.bias (H), individual (D, H) */
    const float *affine_weight; /**< rev.affine_weight (D) */
    const float *affine_bias;   /**< rev.affine_bias (D) */
    uint64_t version;           /**< bump after every change of any of the four */
} clnorm_rlinear_params;

/** Create an RLinear of look-back L, horizon H and D channels. Threads: as
 *  clnorm_linear_create. */
CLNORM_API clnorm_status clnorm_rlinear_create(clnorm_context *ctx, size_t l, size_t h, size_t d,
                                               unsigned flags, clnorm_rlinear **out);
/** Release the layer and what it holds on the device. Accepts NULL. */
CLNORM_API void clnorm_rlinear_destroy(clnorm_rlinear *layer);
/** Enqueue the whole model on x (B, L, D) into y (B, H, D) (not
 *  overlapping): three steps on the device, no host synchronisation, one
 *  event out. Buffers, offsets, wait list and `event` as in
 *  clnorm_varnorm2d_forward. Threads: as clnorm_linear_forward. */
CLNORM_API clnorm_status clnorm_rlinear_forward(clnorm_rlinear *layer,
                                                const clnorm_rlinear_params *params, size_t b,
                                                cl_mem input, size_t input_offset, cl_mem output,
                                                size_t output_offset, cl_uint num_wait,
                                                const cl_event *wait_list, cl_event *event);
/** How many times this model has uploaded its parameters (the Linear's and
 *  RevIN's uploads, counted together: both follow the one version). */
CLNORM_API uint64_t clnorm_rlinear_upload_count(const clnorm_rlinear *layer);

#ifdef __cplusplus
}
#endif
#endif /* CLNORM_H */
