/* SPDX-License-Identifier: Apache-2.0 */
/* clcall.c: the OpenCL call wrapper's bookkeeping: error names, recording
 * failures in the context and reading them back (clnorm_errmsg,
 * clnorm_last_cl_error), buffers made and grown with a message that names
 * them, releases that accept NULL. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clnorm_int.h"

clnorm_status clnorm__mul_size(const clnorm_context *ctx, size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return clnorm__fail(ctx, CLNORM_SIZE_OVERFLOW, "%zu * %zu overflows size_t", a, b);
    *out = a * b;
    return CLNORM_OK;
}

const char *clnorm__cl_error_name(cl_int err)
{
    switch (err) {
#define CASE_(e)                                                                                   \
    case e: return #e;
        CASE_(CL_SUCCESS)
        CASE_(CL_DEVICE_NOT_FOUND)
        CASE_(CL_DEVICE_NOT_AVAILABLE)
        CASE_(CL_COMPILER_NOT_AVAILABLE)
        CASE_(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        CASE_(CL_OUT_OF_RESOURCES)
        CASE_(CL_OUT_OF_HOST_MEMORY)
        CASE_(CL_PROFILING_INFO_NOT_AVAILABLE)
        CASE_(CL_MEM_COPY_OVERLAP)
        CASE_(CL_IMAGE_FORMAT_MISMATCH)
        CASE_(CL_IMAGE_FORMAT_NOT_SUPPORTED)
        CASE_(CL_BUILD_PROGRAM_FAILURE)
        CASE_(CL_MAP_FAILURE)
        CASE_(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        CASE_(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        CASE_(CL_COMPILE_PROGRAM_FAILURE)
        CASE_(CL_LINKER_NOT_AVAILABLE)
        CASE_(CL_LINK_PROGRAM_FAILURE)
        CASE_(CL_DEVICE_PARTITION_FAILED)
        CASE_(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
        CASE_(CL_INVALID_VALUE)
        CASE_(CL_INVALID_DEVICE_TYPE)
        CASE_(CL_INVALID_PLATFORM)
        CASE_(CL_INVALID_DEVICE)
        CASE_(CL_INVALID_CONTEXT)
        CASE_(CL_INVALID_QUEUE_PROPERTIES)
        CASE_(CL_INVALID_COMMAND_QUEUE)
        CASE_(CL_INVALID_HOST_PTR)
        CASE_(CL_INVALID_MEM_OBJECT)
        CASE_(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
        CASE_(CL_INVALID_IMAGE_SIZE)
        CASE_(CL_INVALID_SAMPLER)
        CASE_(CL_INVALID_BINARY)
        CASE_(CL_INVALID_BUILD_OPTIONS)
        CASE_(CL_INVALID_PROGRAM)
        CASE_(CL_INVALID_PROGRAM_EXECUTABLE)
        CASE_(CL_INVALID_KERNEL_NAME)
        CASE_(CL_INVALID_KERNEL_DEFINITION)
        CASE_(CL_INVALID_KERNEL)
        CASE_(CL_INVALID_ARG_INDEX)
        CASE_(CL_INVALID_ARG_VALUE)
        CASE_(CL_INVALID_ARG_SIZE)
        CASE_(CL_INVALID_KERNEL_ARGS)
        CASE_(CL_INVALID_WORK_DIMENSION)
        CASE_(CL_INVALID_WORK_GROUP_SIZE)
        CASE_(CL_INVALID_WORK_ITEM_SIZE)
        CASE_(CL_INVALID_GLOBAL_OFFSET)
        CASE_(CL_INVALID_EVENT_WAIT_LIST)
        CASE_(CL_INVALID_EVENT)
        CASE_(CL_INVALID_OPERATION)
        CASE_(CL_INVALID_GL_OBJECT)
        CASE_(CL_INVALID_BUFFER_SIZE)
        CASE_(CL_INVALID_MIP_LEVEL)
        CASE_(CL_INVALID_GLOBAL_WORK_SIZE)
        CASE_(CL_INVALID_PROPERTY)
        CASE_(CL_INVALID_IMAGE_DESCRIPTOR)
        CASE_(CL_INVALID_COMPILER_OPTIONS)
        CASE_(CL_INVALID_LINKER_OPTIONS)
        CASE_(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef CASE_
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
    }
}

/* Record a failure: its message, and the raw OpenCL error behind it
 * (CL_SUCCESS when it was not an OpenCL call's). */
static clnorm_status record(const clnorm_context *ctx, clnorm_status status, cl_int cl_err,
                            const char *fmt, va_list ap)
{
    if (ctx == NULL || ctx->errmsg == NULL)
        return status;
    clnorm_context *c = (clnorm_context *)ctx; /* the message is mutable state */
    pthread_mutex_lock(&c->err_lock);
    c->last_cl_error = cl_err;
    int n = snprintf(c->errmsg, CLNORM_ERRMSG_SIZE, "%s: ", clnorm_status_name(status));
    if (n >= 0 && n < CLNORM_ERRMSG_SIZE)
        vsnprintf(c->errmsg + n, CLNORM_ERRMSG_SIZE - (size_t)n, fmt, ap);
    pthread_mutex_unlock(&c->err_lock);
    return status;
}

clnorm_status clnorm__fail(const clnorm_context *ctx, clnorm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, status, CL_SUCCESS, fmt, ap);
    va_end(ap);
    return status;
}

clnorm_status clnorm__fail_cl(const clnorm_context *ctx, clnorm_status status, cl_int cl_err,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, status, cl_err, fmt, ap);
    va_end(ap);
    return status;
}

clnorm_status clnorm__cl_result(const clnorm_context *ctx, const char *call, cl_int err)
{
    if (err == CL_SUCCESS)
        return CLNORM_OK;
    clnorm_status st = err == CL_OUT_OF_HOST_MEMORY ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR;
    return clnorm__fail_cl(ctx, st, err, "%s failed with %s (%d)", call, clnorm__cl_error_name(err),
                           (int)err);
}

clnorm_status clnorm__buffer_create(const clnorm_context *ctx, const char *what, cl_mem_flags flags,
                                    size_t bytes, void *host, cl_mem *out)
{
    clnorm_status st;
    CL_CREATE(ctx, st, *out, clCreateBuffer, (ctx->cl_ctx, flags, bytes, host));
    if (st != CLNORM_OPENCL_ERROR)
        return st;
    /* Say which buffer, how big, and what the device allows: "-61" alone
     * tells a user nothing about what to make smaller. */
    cl_int err = clnorm_last_cl_error(ctx);
    return clnorm__fail_cl(ctx, st, err,
                           "allocating %s (%zu bytes) on %s: clCreateBuffer failed with %s (%d); "
                           "the device allows buffers of at most %llu bytes "
                           "(CL_DEVICE_MAX_MEM_ALLOC_SIZE) and has %llu bytes of global memory",
                           what, bytes, ctx->info.name, clnorm__cl_error_name(err), (int)err,
                           (unsigned long long)ctx->info.max_alloc_size,
                           (unsigned long long)ctx->info.global_mem_size);
}

clnorm_status clnorm__buffer_reserve(const clnorm_context *ctx, const char *what, size_t bytes,
                                     cl_mem *buf, size_t *have)
{
    if (*have >= bytes)
        return CLNORM_OK;
    cl_mem grown = NULL;
    RETURN_IF_ERROR(clnorm__buffer_create(ctx, what, CL_MEM_READ_WRITE, bytes, NULL, &grown));
    clnorm__release_mem(*buf);
    *buf = grown;
    *have = bytes;
    return CLNORM_OK;
}

/* Releases: never fault-injected (a cleanup path cannot act on a failure),
 * but counted in test builds so a soak can see live objects stay flat. One
 * definition for the seven object types: only the type and the call differ. */
#define CLNORM_RELEASE_FN_(name, type, release)                                                    \
    void clnorm__release_##name(type obj)                                                          \
    {                                                                                              \
        if (obj) {                                                                                 \
            clnorm__fault_count(#release);                                                         \
            clnorm__live(-1);                                                                      \
            release(obj);                                                                          \
        }                                                                                          \
    }
CLNORM_RELEASE_FN_(mem, cl_mem, clReleaseMemObject)
CLNORM_RELEASE_FN_(kernel, cl_kernel, clReleaseKernel)
CLNORM_RELEASE_FN_(program, cl_program, clReleaseProgram)
CLNORM_RELEASE_FN_(event, cl_event, clReleaseEvent)
CLNORM_RELEASE_FN_(queue, cl_command_queue, clReleaseCommandQueue)
CLNORM_RELEASE_FN_(context, cl_context, clReleaseContext)
CLNORM_RELEASE_FN_(device, cl_device_id, clReleaseDevice)

cl_int clnorm_last_cl_error(const clnorm_context *ctx)
{
    if (!ctx || !ctx->errmsg)
        return CL_SUCCESS;
    clnorm_context *c = (clnorm_context *)ctx; /* the lock is mutable state */
    pthread_mutex_lock(&c->err_lock);
    cl_int err = c->last_cl_error;
    pthread_mutex_unlock(&c->err_lock);
    return err;
}

static const char no_context_message[] =
    "no context (it could not be allocated, or a NULL context was passed)";

const char *clnorm_errmsg(const clnorm_context *ctx)
{
    if (!ctx || !ctx->errmsg)
        return no_context_message;
    return ctx->errmsg;
}
