/* SPDX-License-Identifier: Apache-2.0 */
/* context.c: creating, wrapping and destroying a clnorm_context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accumulate.h"
#include "clnorm_int.h"

/* A context that can hold an error message and nothing else yet. */
static clnorm_context *context_alloc(void)
{
    clnorm_context *ctx = clnorm__calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->errmsg = clnorm__calloc(1, CLNORM_ERRMSG_SIZE);
    if (!ctx->errmsg) {
        clnorm__free(ctx);
        return NULL;
    }
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        clnorm__free(ctx->errmsg);
        clnorm__free(ctx);
        return NULL;
    }
    if (pthread_mutex_init(&ctx->err_lock, NULL) != 0) {
        pthread_mutex_destroy(&ctx->lock);
        clnorm__free(ctx->errmsg);
        clnorm__free(ctx);
        return NULL;
    }
    return ctx;
}

/* Release the OpenCL objects but keep the message, for a failed create. */
static void context_release_cl(clnorm_context *ctx)
{
    clnorm__programs_release(ctx);
    clnorm__release_queue(ctx->queue);
    clnorm__release_context(ctx->cl_ctx);
    clnorm__release_device(ctx->device);
    ctx->queue = NULL;
    ctx->cl_ctx = NULL;
    ctx->device = NULL;
    clnorm__free(ctx->description);
    ctx->description = NULL;
}

/* The kernel variant: the device type's, unless forced by a flag or by
 * CLNORM_VARIANT. */
static int gpu_variant(const clnorm_context *ctx)
{
    const char *env = getenv("CLNORM_VARIANT");
    int gpu = (ctx->info.type & CL_DEVICE_TYPE_CPU) == 0;
    if (env && !strcmp(env, "gpu"))
        gpu = 1;
    else if (env && !strcmp(env, "cpu"))
        gpu = 0;
    if (ctx->flags & CLNORM_CONTEXT_GPU_VARIANT)
        gpu = 1;
    else if (ctx->flags & CLNORM_CONTEXT_CPU_VARIANT)
        gpu = 0;
    return gpu;
}

/* Test builds only: CLNORM_TEST_PROFILE makes the planner see another
 * device's limits (src/profile.c), so that its plans run on this device
 * under the numeric tests; CLNORM_TEST_CACHE_BYTES, another cache size
 * (small: the blocked paths with small tensors). */
static clnorm_status apply_test_profile(clnorm_context *ctx)
{
#ifdef CLNORM_FAULT_INJECTION
    const char *name = getenv("CLNORM_TEST_PROFILE");
    if (name && *name && clnorm__device_profile(name, &ctx->info) != 0)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "CLNORM_TEST_PROFILE='%.64s' is none of %s", name,
                            clnorm__device_profile_names());
    const char *cache = getenv("CLNORM_TEST_CACHE_BYTES");
    if (cache && *cache)
        ctx->info.global_mem_cache_size = strtoull(cache, NULL, 10);
#else
    (void)ctx;
#endif
    return CLNORM_OK;
}

/* Common second half of create and wrap: limits, geometry, description. */
static clnorm_status context_finish(clnorm_context *ctx)
{
    clnorm__accumulate request;
    RETURN_IF_ERROR(clnorm__device_query(ctx, ctx->device, &ctx->info));
    RETURN_IF_ERROR(apply_test_profile(ctx));
    RETURN_IF_ERROR(clnorm__accumulate_request(ctx, ctx->flags, &request));
    RETURN_IF_ERROR(clnorm__accumulate_choose(ctx, request));
    clnorm__plan_limits(&ctx->info, gpu_variant(ctx), &ctx->limits);
    char desc[800];
    snprintf(desc, sizeof desc, "%s (%s, driver %s)", ctx->info.name, ctx->info.platform_name,
             ctx->info.driver_version);
    ctx->description = clnorm__strdup(desc);
    if (!ctx->description)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "allocating the device description");
    return CLNORM_OK;
}

/* The flags and the settings from the environment, before anything is made:
 * a value clnorm does not know is an error, never silently ignored. */
static clnorm_status check_flags(const clnorm_context *ctx, unsigned flags)
{
    unsigned known = CLNORM_CONTEXT_NO_FP64 | CLNORM_CONTEXT_NO_CACHE | CLNORM_CONTEXT_GPU_VARIANT |
                     CLNORM_CONTEXT_CPU_VARIANT | CLNORM_CONTEXT_FP64;
    clnorm__accumulate request;
    if (flags & ~known)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "unknown context flags 0x%x",
                            flags & ~known);
    RETURN_IF_ERROR(clnorm__accumulate_request(ctx, flags, &request));
    const char *variant = getenv("CLNORM_VARIANT");
    if (variant && *variant && strcmp(variant, "gpu") && strcmp(variant, "cpu"))
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT,
                            "CLNORM_VARIANT='%.64s' is neither 'gpu' nor 'cpu' (unset it for "
                            "the device type's variant)",
                            variant);
    const char *options = getenv("CLNORM_BUILD_OPTIONS");
    return clnorm__check_build_options(ctx, options ? options : "");
}

/* The start of create and wrap: a context that can hold a message in *out
 * (NULL when even that fails: then CLNORM_OUT_OF_MEMORY), the flags checked. */
static clnorm_status context_begin(unsigned flags, clnorm_context **out)
{
    if (!out)
        return CLNORM_NULL_ARGUMENT;
    *out = context_alloc();
    if (!*out)
        return CLNORM_OUT_OF_MEMORY;
    (*out)->flags = flags;
    return check_flags(*out, flags);
}

clnorm_status clnorm_context_create(const char *device_spec, unsigned flags, clnorm_context **out)
{
    clnorm_status st = context_begin(flags, out);
    if (!out || !*out)
        return st;
    clnorm_context *ctx = *out;
    cl_platform_id platform = NULL;
    cl_device_id device = NULL;
    if (st == CLNORM_OK)
        st = clnorm__device_select(ctx, device_spec, &platform, &device);
    if (st == CLNORM_OK) {
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
        CL_CREATE(ctx, st, ctx->cl_ctx, clCreateContext, (props, 1, &device, NULL, NULL));
    }
    if (st == CLNORM_OK) {
        ctx->device = device; /* a root device: retain/release are no-ops, but symmetric */
        CL_CALL(ctx, st, clRetainDevice, (device));
        if (st != CLNORM_OK)
            ctx->device = NULL;
        else
            clnorm__live(1);
    }
    if (st == CLNORM_OK)
        CL_CREATE(ctx, st, ctx->queue, clCreateCommandQueue, (ctx->cl_ctx, device, 0));
    if (st == CLNORM_OK)
        st = context_finish(ctx);
    if (st != CLNORM_OK)
        context_release_cl(ctx);
    return st;
}

clnorm_status clnorm_context_wrap(cl_context cl_ctx, cl_device_id device, cl_command_queue queue,
                                  unsigned flags, clnorm_context **out)
{
    clnorm_status st = context_begin(flags, out);
    if (!out || !*out)
        return st;
    clnorm_context *ctx = *out;
    if (st == CLNORM_OK && (!cl_ctx || !device || !queue))
        st = clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "wrap: %s is NULL",
                          !cl_ctx   ? "the cl_context"
                          : !device ? "the device"
                                    : "the queue");
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clGetCommandQueueInfo,
                (queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clGetCommandQueueInfo, (queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL));
    if (st == CLNORM_OK && (qctx != cl_ctx || qdev != device))
        st = clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "wrap: the queue belongs to another %s",
                          qctx != cl_ctx ? "context" : "device");
    /* Retain in order; on failure release exactly what was retained. */
    if (st == CLNORM_OK) {
        CL_CALL(ctx, st, clRetainContext, (cl_ctx));
        if (st == CLNORM_OK)
            ctx->cl_ctx = cl_ctx, clnorm__live(1);
    }
    if (st == CLNORM_OK) {
        CL_CALL(ctx, st, clRetainDevice, (device));
        if (st == CLNORM_OK)
            ctx->device = device, clnorm__live(1);
    }
    if (st == CLNORM_OK) {
        CL_CALL(ctx, st, clRetainCommandQueue, (queue));
        if (st == CLNORM_OK)
            ctx->queue = queue, clnorm__live(1);
    }
    if (st == CLNORM_OK)
        st = context_finish(ctx);
    if (st != CLNORM_OK)
        context_release_cl(ctx);
    return st;
}

void clnorm_context_destroy(clnorm_context *ctx)
{
    if (!ctx)
        return;
    context_release_cl(ctx);
    pthread_mutex_destroy(&ctx->err_lock);
    pthread_mutex_destroy(&ctx->lock);
    clnorm__free(ctx->errmsg);
    clnorm__free(ctx);
}

cl_context clnorm_context_cl_context(const clnorm_context *ctx) { return ctx ? ctx->cl_ctx : NULL; }

cl_device_id clnorm_context_device(const clnorm_context *ctx) { return ctx ? ctx->device : NULL; }

cl_command_queue clnorm_context_queue(const clnorm_context *ctx) { return ctx ? ctx->queue : NULL; }

const char *clnorm_context_device_description(const clnorm_context *ctx)
{
    return ctx && ctx->description ? ctx->description : "";
}

int clnorm_context_uses_fp64(const clnorm_context *ctx) { return ctx ? ctx->use_fp64 : 0; }

void clnorm_context_program_counts(const clnorm_context *ctx, unsigned *built, unsigned *from_cache)
{
    clnorm_context *c = (clnorm_context *)ctx;
    if (c)
        pthread_mutex_lock(&c->lock);
    if (built)
        *built = c ? c->built_from_source : 0;
    if (from_cache)
        *from_cache = c ? c->loaded_from_cache : 0;
    if (c)
        pthread_mutex_unlock(&c->lock);
}
