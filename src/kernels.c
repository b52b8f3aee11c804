/* SPDX-License-Identifier: Apache-2.0 */
/* kernels.c: the kernel table: each kernel's name and work-group size, the
 * argument order of kernels/clnorm_abi.h, creating a layer's kernels from
 * the program of their width, the warm-up run before a program is cached,
 * and clnorm_context_prepare (every width's program ahead of time). */
#include <string.h>

#include "clnorm_int.h"

const char *const clnorm__kernel_names[CLNORM_K_COUNT] = {
    "norm_rows",    "norm_slab",   "norm_slab1",        "norm_fused",      "norm_partial",
    "norm_apply",   "norm_scale",  "norm_scale_chunks", "norm_scale_rows", "norm_window",
    "norm_plus",    "linear_bias", "linear_transpose",  "norm_reg",        "plus_samples",
    "plus_moments", "plus_apply",  "window_slabs",      "window_rows",     "norm_rows_plain"};

size_t clnorm__kernel_local(const clnorm__limits *lim, clnorm__kernel_id id)
{
    if (id == CLNORM_K_REG)
        return lim->reg_group;
    return id == CLNORM_K_SLAB || id == CLNORM_K_SLAB1 || id == CLNORM_K_PLUS_SAMPLES ||
                   id == CLNORM_K_WINDOW_SLABS || id == CLNORM_K_WINDOW_ROWS
               ? 1
               : lim->work_group;
}

clnorm_status clnorm__kernel_set_args(const clnorm_context *ctx, cl_kernel k, const clnorm__args *a,
                                      cl_uint nparts, cl_uint tiles, cl_mem partials)
{
    cl_ulong x_off = a->in_off, y_off = a->out_off;
    cl_ulong outer = a->view.outer, n = a->view.n, inner = a->view.inner;
    cl_uint op = a->op, nchan = a->nchan ? a->nchan : 1;
    cl_float2 eps;
    eps.s[0] = (float)a->eps;
    eps.s[1] = (float)(a->eps - (double)eps.s[0]); /* the rest: the double to ~48 bits */
    cl_uint16 poff = {{0}};
    for (int i = 0; i < CLNORM_POFF_COUNT; ++i)
        poff.s[i] = a->poff[i];
    struct {
        size_t size;
        const void *value;
    } args[CLNORM_ARG_COUNT] = {
        [CLNORM_ARG_X] = {sizeof(cl_mem), &a->in},
        [CLNORM_ARG_X_OFF] = {sizeof x_off, &x_off},
        [CLNORM_ARG_Y] = {sizeof(cl_mem), &a->out},
        [CLNORM_ARG_Y_OFF] = {sizeof y_off, &y_off},
        [CLNORM_ARG_OUTER] = {sizeof outer, &outer},
        [CLNORM_ARG_N] = {sizeof n, &n},
        [CLNORM_ARG_INNER] = {sizeof inner, &inner},
        [CLNORM_ARG_NPARTS] = {sizeof nparts, &nparts},
        [CLNORM_ARG_TILES] = {sizeof tiles, &tiles},
        [CLNORM_ARG_OP] = {sizeof op, &op},
        [CLNORM_ARG_EPS] = {sizeof eps, &eps},
        [CLNORM_ARG_NCHAN] = {sizeof nchan, &nchan},
        [CLNORM_ARG_PRM] = {sizeof(cl_mem), &a->prm},
        [CLNORM_ARG_POFF] = {sizeof poff, &poff},
        [CLNORM_ARG_LABELS] = {sizeof(cl_mem), &a->labels},
        [CLNORM_ARG_STAT_M] = {sizeof(cl_mem), &a->stat_m},
        [CLNORM_ARG_STAT_S] = {sizeof(cl_mem), &a->stat_s},
        [CLNORM_ARG_PARTIALS] = {sizeof(cl_mem), &partials},
        [CLNORM_ARG_FLAGS] = {sizeof(cl_mem), &a->flags},
    };
    clnorm_status st;
    for (cl_uint i = 0; i < CLNORM_ARG_COUNT; ++i) {
        CL_CALL(ctx, st, clSetKernelArg, (k, i, args[i].size, args[i].value));
        RETURN_IF_ERROR(st);
    }
    return CLNORM_OK;
}

/* Run every kernel once on a tiny problem and wait, on a private queue: a
 * strided view (inner == width, or 2 when width == 1) for the CPU-shaped
 * kernels' code paths, with every buffer argument bound. */
static clnorm_status warm_up(clnorm_context *ctx, cl_program program, unsigned width)
{
    clnorm__kernels ks = {width, {NULL}, 0};
    cl_command_queue q = NULL;
    cl_mem buf = NULL, stats = NULL, partials = NULL;
    clnorm_status st = CLNORM_OK;
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i)
        CL_CREATE(ctx, st, ks.k[i], clCreateKernel, (program, clnorm__kernel_names[i]));
    if (st == CLNORM_OK)
        CL_CREATE(ctx, st, q, clCreateCommandQueue, (ctx->cl_ctx, ctx->device, 0));
    size_t inner = width == 1 ? 1 : width, n = 4;
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up tensor", CL_MEM_READ_WRITE,
                                   n * 16 * sizeof(float), NULL, &buf);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up statistics", CL_MEM_READ_WRITE,
                                   16 * sizeof(float), NULL, &stats);
    if (st == CLNORM_OK)
        st = clnorm__buffer_create(ctx, "the warm-up partials", CL_MEM_READ_WRITE,
                                   2 * (size_t)ctx->limits.max_columns * 16, NULL, &partials);
    float zero = 0.0f;
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clEnqueueFillBuffer,
                (q, buf, &zero, sizeof zero, 0, n * 16 * sizeof(float), 0, NULL, NULL));
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clEnqueueFillBuffer,
                (q, stats, &zero, sizeof zero, 0, 16 * sizeof(float), 0, NULL, NULL));
    clnorm__args a = {.view = {1, n, inner},
                      .in = buf,
                      .out = buf,
                      .op = CLNORM_FIN_REVIN,
                      .eps = 1e-4,
                      .nchan = 1,
                      .prm = stats,
                      .labels = stats,
                      .stat_m = stats,
                      .stat_s = stats,
                      .flags = stats};
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i) {
        cl_uint parts = (i == CLNORM_K_PARTIAL || i == CLNORM_K_APPLY) ? 2 : 1;
        size_t local = clnorm__kernel_local(&ctx->limits, (clnorm__kernel_id)i), most = 0;
        /* norm_reg is planned in the GPU variant only; where it is, a device
         * that cannot run its group (registers) never gets it planned */
        if (i == CLNORM_K_REG && !ctx->limits.gpu_variant)
            continue;
        if (i == CLNORM_K_REG) {
            CL_CALL(ctx, st, clGetKernelWorkGroupInfo,
                    (ks.k[i], ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof most, &most, NULL));
            if (st != CLNORM_OK || most < local)
                continue;
        }
        st = clnorm__kernel_set_args(ctx, ks.k[i], &a, parts, 1, partials);
        size_t global = local * parts;
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clEnqueueNDRangeKernel,
                    (q, ks.k[i], 1, NULL, &global, &local, 0, NULL, NULL));
    }
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clFinish, (q));
    clnorm__release_mem(partials);
    clnorm__release_mem(stats);
    clnorm__release_mem(buf);
    clnorm__release_queue(q);
    clnorm__kernels_release(&ks);
    return st;
}

clnorm_status clnorm__kernels_create(clnorm_context *ctx, unsigned width, clnorm__kernels *ks)
{
    memset(ks, 0, sizeof *ks);
    ks->width = width;
    cl_program program;
    RETURN_IF_ERROR(clnorm__program_get(ctx, width, warm_up, &program));
    clnorm_status st = CLNORM_OK;
    for (int i = 0; i < CLNORM_K_COUNT && st == CLNORM_OK; ++i) {
        CL_CREATE(ctx, st, ks->k[i], clCreateKernel, (program, clnorm__kernel_names[i]));
        /* A kernel that uses many registers may not run WG items per group. */
        size_t most = 0;
        if (st == CLNORM_OK)
            CL_CALL(ctx, st, clGetKernelWorkGroupInfo,
                    (ks->k[i], ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof most, &most, NULL));
        size_t need = clnorm__kernel_local(&ctx->limits, (clnorm__kernel_id)i);
        if (i == CLNORM_K_REG) { /* optional: the planner falls back to norm_fused */
            ks->reg_ok = most >= need;
            continue;
        }
        if (st == CLNORM_OK && most < need)
            st = clnorm__fail(ctx, CLNORM_BUILD_FAILED,
                              "kernel %s runs at most %zu work-items per group on %s; clnorm "
                              "needs %zu",
                              clnorm__kernel_names[i], most, ctx->info.name, need);
    }
    if (st != CLNORM_OK)
        clnorm__kernels_release(ks);
    return st;
}

void clnorm__kernels_release(clnorm__kernels *ks)
{
    for (int i = 0; i < CLNORM_K_COUNT; ++i) {
        clnorm__release_kernel(ks->k[i]);
        ks->k[i] = NULL;
    }
}

clnorm_status clnorm_context_prepare(clnorm_context *ctx)
{
    if (!ctx)
        return CLNORM_NULL_ARGUMENT;
    if (!ctx->cl_ctx)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "the context failed to initialise");
    static const unsigned widths[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; ++i) {
        cl_program p;
        RETURN_IF_ERROR(clnorm__program_get(ctx, widths[i], warm_up, &p));
    }
    return CLNORM_OK;
}
