/* SPDX-License-Identifier: Apache-2.0 */
/* blas.c: the matrix products, through CLBlast (Debian's 1.5.3). What this
 * file knows about that library:
 * - its routines take no event wait list (CLBlast issue #337): a barrier on
 *   the caller's list goes first, which holds in in-order and out-of-order
 *   queues alike;
 * - a routine may enqueue several kernels; a marker after it is the one
 *   event that covers them all, whatever the queue's order;
 * - SgemmBatched uploads its offsets blocking and calls clFinish on the
 *   queue (a deadlock behind a gated wait list): only Sgemm and
 *   SgemmStridedBatched are used, and their offsets are in elements;
 * - the first call of a routine on a device compiles its kernels (seconds on
 *   PoCL with a cold driver cache), and two threads making their first call
 *   at once crashed it: every call here holds one process-wide lock, and
 *   layers make their first call at creation (clnorm__gemm_prepare);
 * - it keeps its programs, and so a reference to each context it ran on,
 *   until CLBlastClearCache() (clnorm_blas_clear_cache). */
#include <clblast_c.h>
#include <pthread.h>

#include "clnorm_int.h"

static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;

const char *clnorm__blas_status_name(int code)
{
    switch (code) {
#define CASE_(e)                                                                                   \
    case e: return #e;
        CASE_(CLBlastSuccess)
        CASE_(CLBlastOpenCLCompilerNotAvailable)
        CASE_(CLBlastTempBufferAllocFailure)
        CASE_(CLBlastOpenCLOutOfResources)
        CASE_(CLBlastOpenCLOutOfHostMemory)
        CASE_(CLBlastOpenCLBuildProgramFailure)
        CASE_(CLBlastInvalidValue)
        CASE_(CLBlastInvalidCommandQueue)
        CASE_(CLBlastInvalidMemObject)
        CASE_(CLBlastInvalidBinary)
        CASE_(CLBlastInvalidBuildOptions)
        CASE_(CLBlastInvalidProgram)
        CASE_(CLBlastInvalidProgramExecutable)
        CASE_(CLBlastInvalidKernelName)
        CASE_(CLBlastInvalidKernelDefinition)
        CASE_(CLBlastInvalidKernel)
        CASE_(CLBlastInvalidArgIndex)
        CASE_(CLBlastInvalidArgValue)
        CASE_(CLBlastInvalidArgSize)
        CASE_(CLBlastInvalidKernelArgs)
        CASE_(CLBlastInvalidLocalNumDimensions)
        CASE_(CLBlastInvalidLocalThreadsTotal)
        CASE_(CLBlastInvalidLocalThreadsDim)
        CASE_(CLBlastInvalidGlobalOffset)
        CASE_(CLBlastInvalidEventWaitList)
        CASE_(CLBlastInvalidEvent)
        CASE_(CLBlastInvalidOperation)
        CASE_(CLBlastInvalidBufferSize)
        CASE_(CLBlastInvalidGlobalWorkSize)
        CASE_(CLBlastNotImplemented)
        CASE_(CLBlastInvalidMatrixA)
        CASE_(CLBlastInvalidMatrixB)
        CASE_(CLBlastInvalidMatrixC)
        CASE_(CLBlastInvalidDimension)
        CASE_(CLBlastInvalidLeadDimA)
        CASE_(CLBlastInvalidLeadDimB)
        CASE_(CLBlastInvalidLeadDimC)
        CASE_(CLBlastInsufficientMemoryA)
        CASE_(CLBlastInsufficientMemoryB)
        CASE_(CLBlastInsufficientMemoryC)
        CASE_(CLBlastInsufficientMemoryTemp)
        CASE_(CLBlastInvalidBatchCount)
        CASE_(CLBlastInvalidLocalMemUsage)
        CASE_(CLBlastDatabaseError)
        CASE_(CLBlastUnknownError)
        CASE_(CLBlastUnexpectedError)
#undef CASE_
    default: return "CLBlastUnknownStatus";
    }
}

/* The product g, as one Sgemm or one SgemmStridedBatched; `event` its
 * CLBlast event. The fault hook stands for the call (its error is
 * CLBlast's code of the same OpenCL error). */
static int gemm_call(clnorm_context *ctx, const clnorm__gemm *g, cl_event *event)
{
    const CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    cl_int fake = CL_SUCCESS;
    if (g->batch == 1) {
        if (clnorm__fault_hit("CLBlastSgemm", &fake))
            return fake;
        return CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, 1.0f, g->a, g->a_off,
                            g->lda, g->b, g->b_off, g->ldb, 0.0f, g->c, g->c_off, g->ldc,
                            &ctx->queue, event);
    }
    if (clnorm__fault_hit("CLBlastSgemmStridedBatched", &fake))
        return fake;
    return CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, 1.0f, g->a,
                                      g->a_off, g->lda, g->a_stride, g->b, g->b_off, g->ldb,
                                      g->b_stride, 0.0f, g->c, g->c_off, g->ldc, g->c_stride,
                                      g->batch, &ctx->queue, event);
}

clnorm_status clnorm__gemm_enqueue(clnorm_context *ctx, const clnorm__gemm *g, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *done)
{
    clnorm_status st = CLNORM_OK;
    cl_event blas_event = NULL;
    *done = NULL;
    pthread_mutex_lock(&blas_lock);
    if (num_wait)
        CL_CALL(ctx, st, clEnqueueBarrierWithWaitList, (ctx->queue, num_wait, wait_list, NULL));
    if (st == CLNORM_OK) {
        int code = gemm_call(ctx, g, &blas_event);
        if (code != CLBlastSuccess)
            st = clnorm__fail(ctx, CLNORM_BLAS_ERROR, "%s (%d x %d x %d, batch %zu) on %s: %s (%d)",
                              g->batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched",
                              (int)g->m, (int)g->n, (int)g->k, g->batch, ctx->info.name,
                              clnorm__blas_status_name(code), code);
        else if (blas_event)
            clnorm__fault_count("event created"), clnorm__live(1);
    }
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clEnqueueMarkerWithWaitList, (ctx->queue, 0, NULL, done));
    if (st == CLNORM_OK)
        clnorm__fault_count("event created"), clnorm__live(1);
    pthread_mutex_unlock(&blas_lock);
    clnorm__release_event(blas_event);
    return st;
}

clnorm_status clnorm__gemm_prepare(clnorm_context *ctx, size_t batch)
{
    cl_mem buf = NULL;
    /* 2 x 2 products on zeros: the routine's kernels compiled (the direct
     * GEMM's: small products take it) and run once; the queue finished.
     * The zeros are copied at creation, in one store: Oclgrind takes a
     * fill for a store per element and then sees the rest as unwritten. */
    float zeros[3 * 4] = {0};
    clnorm_status st =
        clnorm__buffer_create(ctx, "the CLBlast warm-up matrices",
                              CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof zeros, zeros, &buf);
    clnorm__gemm g = {0, 0, 2, 2, 2, buf, 0, 2, 0, buf, 4, 2, 0, buf, 8, 2, 0, 1};
    if (batch > 1)
        g.batch = 2, g.a_stride = 0, g.b_stride = 0, g.c_stride = 2, g.ldc = 2, g.m = 1;
    cl_event done = NULL;
    if (st == CLNORM_OK)
        st = clnorm__gemm_enqueue(ctx, &g, 0, NULL, &done);
    if (st == CLNORM_OK)
        CL_CALL(ctx, st, clWaitForEvents, (1, &done));
    clnorm__release_event(done);
    clnorm__release_mem(buf);
    return st;
}

clnorm_status clnorm_blas_clear_cache(void)
{
    pthread_mutex_lock(&blas_lock);
    int code = CLBlastClearCache();
    pthread_mutex_unlock(&blas_lock);
    return code == CLBlastSuccess ? CLNORM_OK
                                  : clnorm__fail(NULL, CLNORM_BLAS_ERROR, "CLBlastClearCache: %s",
                                                 clnorm__blas_status_name(code));
}
