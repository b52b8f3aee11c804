/* SPDX-License-Identifier: Apache-2.0 */
/* accumulate.c: fp64 or compensated float-float statistics, per context.
 *
 * Both are accurate to SPEC.md section 4's bar; the choice is speed. fp64
 * costs nothing where the device runs it at half the float rate or better
 * (CPUs, NVIDIA's and AMD's data-centre GPUs). Where it runs at 1/32 or 1/64
 * (consumer NVIDIA, AMD RDNA) fp64 statistics make a bandwidth-bound kernel
 * compute-bound, and float-float is faster. Devices say whether they have
 * fp64 but not how fast it is: CPUs are taken as fast, NVIDIA GPUs by their
 * compute capability, any other GPU by a measurement kept in the cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accumulate.h"
#include "cache.h"

/* kernels/clnorm_fp64_rate.cl, embedded by cmake/embed_kernels.cmake */
struct clnorm__probe_source {
    const char *name;
    const char *text;
    size_t length;
};
extern const struct clnorm__probe_source clnorm__probe_sources[];

clnorm_status clnorm__accumulate_request(const clnorm_context *ctx, unsigned flags,
                                         clnorm__accumulate *out)
{
    int fp64 = (flags & CLNORM_CONTEXT_FP64) != 0, ff = (flags & CLNORM_CONTEXT_NO_FP64) != 0;
    if (fp64 && ff)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "CLNORM_CONTEXT_FP64 and CLNORM_CONTEXT_NO_FP64 together");
    if (fp64 || ff) {
        *out = fp64 ? CLNORM__ACCUMULATE_FP64 : CLNORM__ACCUMULATE_FLOAT_FLOAT;
        return CLNORM_OK;
    }
    const char *env = getenv("CLNORM_ACCUMULATE");
    if (!env || !*env || !strcmp(env, "auto"))
        *out = CLNORM__ACCUMULATE_AUTO;
    else if (!strcmp(env, "fp64"))
        *out = CLNORM__ACCUMULATE_FP64;
    else if (!strcmp(env, "float-float"))
        *out = CLNORM__ACCUMULATE_FLOAT_FLOAT;
    else
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "CLNORM_ACCUMULATE='%.64s' is none of 'fp64', 'float-float', 'auto'",
                            env);
    return CLNORM_OK;
}

int clnorm__nvidia_fp64_fast(unsigned major, unsigned minor)
{
    /* Half-rate fp64: P100 (6.0), V100 (7.0), A100 (8.0), H100/H200 (9.0),
     * B200 (10.0). Every other capability up to 12.x is a consumer or
     * embedded part at 1/32 or 1/64 (6.1, 7.5, 8.6, 8.9, 12.0, ...). */
    static const unsigned fast[][2] = {{6, 0}, {7, 0}, {8, 0}, {9, 0}, {10, 0}};
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; ++i)
        if (major == fast[i][0] && minor == fast[i][1])
            return 1;
    return major <= 12 ? 0 : -1;
}

/* cl_nv_device_attribute_query's compute capability, or 0 when the device
 * does not have the extension. */
#define CLNORM_CC_MAJOR_NV 0x4000
#define CLNORM_CC_MINOR_NV 0x4001
static clnorm_status nvidia_capability(const clnorm_context *ctx, unsigned *major, unsigned *minor)
{
    clnorm_status st;
    size_t size = 0;
    *major = *minor = 0;
    CL_CALL(ctx, st, clGetDeviceInfo, (ctx->device, CL_DEVICE_EXTENSIONS, 0, NULL, &size));
    RETURN_IF_ERROR(st);
    char *ext = clnorm__malloc(size + 1);
    if (!ext)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "reading the device's extensions");
    CL_CALL(ctx, st, clGetDeviceInfo, (ctx->device, CL_DEVICE_EXTENSIONS, size, ext, NULL));
    ext[size] = '\0';
    int has = st == CLNORM_OK && strstr(ext, "cl_nv_device_attribute_query") != NULL;
    clnorm__free(ext);
    RETURN_IF_ERROR(st);
    if (!has)
        return CLNORM_OK;
    cl_uint ma = 0, mi = 0;
    CL_CALL(ctx, st, clGetDeviceInfo, (ctx->device, CLNORM_CC_MAJOR_NV, sizeof ma, &ma, NULL));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clGetDeviceInfo, (ctx->device, CLNORM_CC_MINOR_NV, sizeof mi, &mi, NULL));
    RETURN_IF_ERROR(st);
    *major = ma;
    *minor = mi;
    return CLNORM_OK;
}

/* ------------------------------------------------------------ measurement */

/* What one measurement holds; released by probe_release on every path. */
typedef struct probe {
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernel[2]; /* float, double */
    cl_mem out;
    size_t items;
} probe;

static void probe_release(probe *p)
{
    for (int i = 0; i < 2; ++i)
        clnorm__release_kernel(p->kernel[i]);
    clnorm__release_mem(p->out);
    clnorm__release_program(p->program);
    clnorm__release_queue(p->queue);
}

static clnorm_status probe_make(clnorm_context *ctx, probe *p)
{
    clnorm_status st;
    const char *text = clnorm__probe_sources[0].text;
    size_t length = clnorm__probe_sources[0].length;
    CL_CREATE(ctx, st, p->queue, clCreateCommandQueue,
              (ctx->cl_ctx, ctx->device, CL_QUEUE_PROFILING_ENABLE));
    if (st == CLNORM_OK)
        CL_CREATE(ctx, st, p->program, clCreateProgramWithSource, (ctx->cl_ctx, 1, &text, &length));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clBuildProgram, (p->program, 1, &ctx->device, "", NULL, NULL));
    static const char *const names[2] = {"fp32_fma_chains", "fp64_fma_chains"};
    for (int i = 0; i < 2 && st == CLNORM_OK; ++i)
        CL_CREATE(ctx, st, p->kernel[i], clCreateKernel, (p->program, names[i]));
    /* enough work-items to fill every compute unit several times over */
    p->items = (size_t)(ctx->info.compute_units ? ctx->info.compute_units : 1) *
               (ctx->info.max_work_group_size ? ctx->info.max_work_group_size : 64) * 4;
    if (p->items > ((size_t)1 << 20))
        p->items = (size_t)1 << 20;
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the fp64 rate probe's output", CL_MEM_WRITE_ONLY,
                                   p->items * sizeof(float), NULL, &p->out);
    return st;
}

/* The shortest of three runs of kernel k with n steps, in nanoseconds. */
static clnorm_status probe_time(clnorm_context *ctx, probe *p, int k, cl_int n, double *ns)
{
    clnorm_status st;
    *ns = 0;
    CL_CALL(ctx, st, clSetKernelArg, (p->kernel[k], 0, sizeof p->out, &p->out));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clSetKernelArg, (p->kernel[k], 1, sizeof n, &n));
    for (int run = 0; run < 3 && st == CLNORM_OK; ++run) {
        cl_event ev = NULL;
        cl_ulong start = 0, end = 0;
        CL_CALL(ctx, st, clEnqueueNDRangeKernel,
                (p->queue, p->kernel[k], 1, NULL, &p->items, NULL, 0, NULL, &ev));
        if (st == CLNORM_OK)
            clnorm__fault_count("event created"), clnorm__live(1);
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clWaitForEvents, (1, &ev));
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clGetEventProfilingInfo,
                    (ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL));
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clGetEventProfilingInfo,
                    (ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));
        clnorm__release_event(ev);
        double t = end > start ? (double)(end - start) : 1.0;
        if (st == CLNORM_OK && (run == 0 || t < *ns))
            *ns = t;
    }
    return st;
}

static clnorm_status measure(clnorm_context *ctx, double *rate)
{
    probe p = {0};
    clnorm_status st = probe_make(ctx, &p);
    /* Lengthen the chains until the float kernel runs for a millisecond,
     * well above launch overhead, then time the double one alike. */
    cl_int n = 16;
    double t32 = 0, t64 = 0;
    while (st == CLNORM_OK) {
        st = probe_time(ctx, &p, 0, n, &t32);
        if (st != CLNORM_OK || t32 >= 1e6 || n >= (1 << 20))
            break;
        n *= 4;
    }
    if (st == CLNORM_OK)
        st = probe_time(ctx, &p, 1, n, &t64);
    probe_release(&p);
    if (st == CLNORM_OK)
        *rate = t32 / t64;
    return st;
}

/* The cache entry: the rate as text, keyed by the device and its driver. */
static void rate_key(const clnorm_context *ctx, unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    static const char tag[] = "clnorm fp64 rate 1";
    const clnorm__device_info *d = &ctx->info;
    const void *parts[] = {
        tag, d->name, d->vendor, d->platform_name, d->driver_version, d->device_version};
    size_t lengths[sizeof parts / sizeof parts[0]];
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; ++i)
        lengths[i] = strlen(parts[i]);
    clnorm__cache_key(parts, lengths, sizeof parts / sizeof parts[0], key);
}

static int rate_load(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE], double *rate)
{
    size_t length = 0;
    unsigned char *data = clnorm__cache_load(dir, key, &length);
    if (!data)
        return 0;
    char text[32] = {0};
    memcpy(text, data, length < sizeof text - 1 ? length : sizeof text - 1);
    clnorm__free(data);
    char *end = NULL;
    double r = strtod(text, &end);
    if (end == text || !(r > 0 && r <= 4)) /* a damaged entry is a miss */
        return 0;
    *rate = r;
    return 1;
}

clnorm_status clnorm__fp64_rate(clnorm_context *ctx, double *rate, int *measured)
{
    char dir[4096];
    unsigned char key[CLNORM_CACHE_KEY_SIZE];
    int use_cache =
        !(ctx->flags & CLNORM_CONTEXT_NO_CACHE) && clnorm__cache_dir(dir, sizeof dir) == 0;
    *measured = 0;
    if (use_cache) {
        rate_key(ctx, key);
        if (rate_load(dir, key, rate))
            return CLNORM_OK;
    }
    RETURN_IF_ERROR(measure(ctx, rate));
    *measured = 1;
    if (use_cache) {
        char text[32];
        int n = snprintf(text, sizeof text, "%.6g\n", *rate);
        (void)clnorm__cache_store(dir, key, (const unsigned char *)text, (size_t)n);
    }
    return CLNORM_OK;
}

clnorm_status clnorm__accumulate_choose(clnorm_context *ctx, clnorm__accumulate request)
{
    const clnorm__device_info *d = &ctx->info;
    ctx->use_fp64 = 0;
    if (request == CLNORM__ACCUMULATE_FLOAT_FLOAT || !d->has_fp64) {
        if (request == CLNORM__ACCUMULATE_FP64)
            return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                                "fp64 accumulation asked for, but %s has no fp64 with fma "
                                "(use float-float or auto)",
                                d->name);
        return CLNORM_OK;
    }
    if (request == CLNORM__ACCUMULATE_FP64 || (d->type & CL_DEVICE_TYPE_CPU)) {
        ctx->use_fp64 = 1;
        return CLNORM_OK;
    }
    unsigned major, minor;
    RETURN_IF_ERROR(nvidia_capability(ctx, &major, &minor));
    int fast = major ? clnorm__nvidia_fp64_fast(major, minor) : -1;
    if (fast < 0) {
        double rate = 0;
        int measured;
        RETURN_IF_ERROR(clnorm__fp64_rate(ctx, &rate, &measured));
        fast = rate >= CLNORM_FP64_FAST_RATE;
    }
    ctx->use_fp64 = fast;
    return CLNORM_OK;
}
