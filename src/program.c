/* SPDX-License-Identifier: Apache-2.0 */
/* program.c: building the embedded kernels once per context and variant,
 * through the on-disk program-binary cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clnorm_int.h"

/* Made at build time from the .cl files in kernels/ by cmake/embed_kernels.cmake. */
struct clnorm__kernel_source {
    const char *name;
    const char *text;
    size_t length;
};
extern const struct clnorm__kernel_source clnorm__kernel_sources[];
extern const size_t clnorm__kernel_source_count;

static int width_index(unsigned width)
{
    switch (width) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    case 16: return 4;
    default: return -1;
    }
}

/* Full-width stores through a 4-byte-aligned vector type (a clang attribute,
 * see kernels/clnorm_common.cl): for the CPU variant on PoCL, whose compiler
 * is clang and which splits vstore16; elsewhere the portable vstoreN. */
static int unaligned_stores(const clnorm_context *ctx)
{
    return !ctx->limits.gpu_variant &&
           strstr(ctx->info.platform_name, "Portable Computing Language");
}

/* CLNORM_BUILD_OPTIONS (for debugging a driver) may only add options that
 * cannot change what the kernels compute. An allow-list, not a deny-list: a
 * -D or -U could redefine the kernels' own macros (VW, MAXC: wrong results or
 * out-of-bounds accesses), -I/-include could inject code, fast or unsafe math
 * deletes the compensated arithmetic (kernels/clnorm_common.cl), -cl-std and
 * -cl-denorms-are-zero change semantics, and unknown vendor flags could do
 * any of that. Whatever is allowed is part of the cache key. */
static int allowed_build_option(const char *opt, size_t len)
{
    static const char *const exact[] = {
        "-w", "-Werror", "-g", "-cl-opt-disable", "-cl-kernel-arg-info", "-cl-nv-verbose"};
    static const char *const prefixed[] = {"-cl-nv-maxrregcount=", "-cl-nv-opt-level="};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; ++i)
        if (strlen(exact[i]) == len && !strncmp(opt, exact[i], len))
            return 1;
    for (size_t i = 0; i < sizeof prefixed / sizeof prefixed[0]; ++i) {
        size_t n = strlen(prefixed[i]);
        if (len > n && !strncmp(opt, prefixed[i], n) && strspn(opt + n, "0123456789") == len - n)
            return 1;
    }
#ifdef CLNORM_FAULT_INJECTION
    /* Test builds only: tests/test_build.c's deliberate compile error. */
    if (len == 25 && !strncmp(opt, "-DCLNORM_TEST_BUILD_ERROR", len))
        return 1;
#endif
    return 0;
}

clnorm_status clnorm__check_build_options(const clnorm_context *ctx, const char *extra)
{
    for (const char *p = extra; *p;) {
        size_t skip = strspn(p, " \t\n\r\v\f");
        p += skip;
        size_t len = strcspn(p, " \t\n\r\v\f");
        if (len && !allowed_build_option(p, len))
            return clnorm__fail(
                ctx, CLNORM_INVALID_ARGUMENT,
                "CLNORM_BUILD_OPTIONS: '%.*s' is refused: it could change what the kernels "
                "compute (allowed: -w -Werror -g -cl-opt-disable -cl-kernel-arg-info "
                "-cl-nv-verbose -cl-nv-maxrregcount=N -cl-nv-opt-level=N)",
                (int)len, p);
        p += len;
    }
    return CLNORM_OK;
}

static clnorm_status build_options(const clnorm_context *ctx, unsigned width, char *buf,
                                   size_t size)
{
    const char *extra = getenv("CLNORM_BUILD_OPTIONS");
    if (extra == NULL)
        extra = "";
    RETURN_IF_ERROR(clnorm__check_build_options(ctx, extra));
    /* the kernels are OpenCL C 1.1 as well (tests/check_kernels.sh): a 1.1
     * device, which refuses -cl-std=CL1.2, builds them as its own default */
    int n = snprintf(buf, size,
                     "%s-DCLNORM_FP64=%d -DVW=%u -DWG=%zu -DWG_REG=%zu -DMAXC=%u "
                     "-DCLNORM_INTERLEAVE=%d -DCLNORM_UNALIGNED_VECTORS=%d %s",
                     ctx->info.opencl_c_12 ? "-cl-std=CL1.2 " : "", ctx->use_fp64, width,
                     ctx->limits.work_group, ctx->limits.reg_group, ctx->limits.max_columns,
                     ctx->limits.gpu_variant, unaligned_stores(ctx), extra);
    if (n < 0 || (size_t)n >= size)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "CLNORM_BUILD_OPTIONS is too long");
    return CLNORM_OK;
}

static void cache_key(const clnorm_context *ctx, const char *options,
                      unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    enum { FIXED = 6, MAX_PARTS = FIXED + 8 };
    const void *parts[MAX_PARTS];
    size_t lengths[MAX_PARTS];
    size_t n = 0;
    const char *fixed[FIXED] = {options,        CLNORM_VERSION_STRING,    ctx->info.platform_name,
                                ctx->info.name, ctx->info.driver_version, ctx->info.device_version};
    for (size_t i = 0; i < FIXED; ++i) {
        parts[n] = fixed[i];
        lengths[n++] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < clnorm__kernel_source_count && n < MAX_PARTS; ++i) {
        parts[n] = clnorm__kernel_sources[i].text;
        lengths[n++] = clnorm__kernel_sources[i].length;
    }
    clnorm__cache_key(parts, lengths, n, key);
}

/* The device's build log, appended to the context's error message. */
static clnorm_status build_failure(clnorm_context *ctx, cl_program program, const char *options,
                                   cl_int err)
{
    size_t size = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) ==
            CL_SUCCESS &&
        size > 0 && (log = clnorm__malloc(size + 1)) != NULL) {
        if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) !=
            CL_SUCCESS)
            size = 0;
        log[size] = '\0';
    }
    /* Only a compile error is a build failure; anything else (out of
     * resources, ...) is reported as the OpenCL error it is. */
    clnorm_status st = clnorm__fail(
        ctx, err == CL_BUILD_PROGRAM_FAILURE ? CLNORM_BUILD_FAILED : CLNORM_OPENCL_ERROR,
        "clBuildProgram (%s) failed with %s on %s; build log:\n%s", options,
        clnorm__cl_error_name(err), ctx->info.name, log ? log : "(none)");
    clnorm__free(log);
    return st;
}

static clnorm_status build_from_source(clnorm_context *ctx, const char *options, cl_program *out)
{
    const char *texts[8];
    size_t lengths[8];
    size_t n = clnorm__kernel_source_count < 8 ? clnorm__kernel_source_count : 8;
    for (size_t i = 0; i < n; ++i) {
        texts[i] = clnorm__kernel_sources[i].text;
        lengths[i] = clnorm__kernel_sources[i].length;
    }
    clnorm_status st;
    cl_program program;
    CL_CREATE(ctx, st, program, clCreateProgramWithSource,
              (ctx->cl_ctx, (cl_uint)n, texts, lengths));
    RETURN_IF_ERROR(st);
    cl_int err;
    CL_TRY(err, clBuildProgram, (program, 1, &ctx->device, options, NULL, NULL));
    if (err != CL_SUCCESS) {
        st = build_failure(ctx, program, options, err);
        clnorm__release_program(program);
        return st;
    }
    *out = program;
    return CLNORM_OK;
}

/* A cached binary, or NULL: any failure here is a miss, never an error. */
static cl_program load_cached(clnorm_context *ctx, const char *dir,
                              const unsigned char key[CLNORM_CACHE_KEY_SIZE], const char *options)
{
    size_t length = 0;
    unsigned char *binary = clnorm__cache_load(dir, key, &length);
    if (!binary)
        return NULL;
    const unsigned char *bins[1] = {binary};
    cl_int status = CL_SUCCESS, err = CL_SUCCESS;
    cl_program program = NULL;
    if (!clnorm__fault_hit("clCreateProgramWithBinary", &err))
        program =
            clCreateProgramWithBinary(ctx->cl_ctx, 1, &ctx->device, &length, bins, &status, &err);
    clnorm__free(binary);
    if (program)
        clnorm__live(1);
    if (!program || err != CL_SUCCESS || status != CL_SUCCESS) {
        clnorm__release_program(program);
        return NULL;
    }
    if (clnorm__fault_hit("clBuildProgram", &err) ||
        clBuildProgram(program, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clnorm__release_program(program);
        return NULL;
    }
    return program;
}

/* Save the program's binary; best effort. */
static void store_cached(clnorm_context *ctx, cl_program program, const char *dir,
                         const unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    size_t size = 0;
    clnorm_status st;
    CL_CALL(ctx, st, clGetProgramInfo,
            (program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL));
    if (st != CLNORM_OK || size == 0)
        return;
    unsigned char *binary = clnorm__malloc(size);
    if (!binary)
        return;
    unsigned char *bins[1] = {binary};
    CL_CALL(ctx, st, clGetProgramInfo, (program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL));
    if (st == CLNORM_OK)
        (void)clnorm__cache_store(dir, key, binary, size);
    clnorm__free(binary);
}

static clnorm_status program_create(clnorm_context *ctx, unsigned width, clnorm__warm_up_fn warm_up,
                                    cl_program *out)
{
    char options[1024];
    RETURN_IF_ERROR(build_options(ctx, width, options, sizeof options));
    char dir[4096];
    int use_cache =
        !(ctx->flags & CLNORM_CONTEXT_NO_CACHE) && clnorm__cache_dir(dir, sizeof dir) == 0;
    unsigned char key[CLNORM_CACHE_KEY_SIZE];
    if (use_cache) {
        cache_key(ctx, options, key);
        cl_program cached = load_cached(ctx, dir, key, options);
        if (cached) {
            ctx->loaded_from_cache++;
            *out = cached;
            return CLNORM_OK;
        }
    }
    /* One program built from source at a time, process-wide: PoCL 3.1 aborts
     * (an assertion in pocl_release_dlhandle_cache, its cache of compiled
     * kernels) when contexts of several threads build and first run the
     * same kernels at once; seen in 2 of 6 TSan runs of test_threads, none
     * of 8 with this lock. Builds are rare and take seconds anyway. */
    static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&build_lock);
    cl_program program = NULL;
    clnorm_status st = build_from_source(ctx, options, &program);
    if (st == CLNORM_OK && use_cache) {
        /* Save only after the kernels ran once at their work-group size: PoCL
         * compiles that code at first launch and a binary saved before it
         * would compile again in every process. */
        st = warm_up(ctx, program, width);
        if (st == CLNORM_OK)
            store_cached(ctx, program, dir, key);
        else
            clnorm__release_program(program);
    }
    pthread_mutex_unlock(&build_lock);
    RETURN_IF_ERROR(st);
    ctx->built_from_source++;
    *out = program;
    return CLNORM_OK;
}

clnorm_status clnorm__program_get(clnorm_context *ctx, unsigned width, clnorm__warm_up_fn warm_up,
                                  cl_program *program)
{
    int i = width_index(width);
    if (i < 0)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "no kernel variant of width %u", width);
    pthread_mutex_lock(&ctx->lock);
    clnorm_status st = CLNORM_OK;
    if (!ctx->programs[i])
        st = program_create(ctx, width, warm_up, &ctx->programs[i]);
    if (st == CLNORM_OK)
        *program = ctx->programs[i];
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

void clnorm__programs_release(clnorm_context *ctx)
{
    for (int i = 0; i < CLNORM_VARIANT_COUNT; ++i) {
        clnorm__release_program(ctx->programs[i]);
        ctx->programs[i] = NULL;
    }
}
