/* SPDX-License-Identifier: Apache-2.0 */
/* params.c: a layer's parameter block: the caller's host arrays copied into
 * one device buffer, uploaded only when the caller's version number changes.
 * Each array is followed by CLNORM_PARAM_PAD floats that repeat it from its
 * start, so that a vector load at any index of weights that repeat along a
 * row (CLNORM_OP_PERIOD) finds the period's next weights. */
#include <string.h>

#include "clnorm_int.h"

clnorm_status clnorm__params_init(clnorm_context *ctx, clnorm__param_block *p, unsigned arrays,
                                  const size_t *counts)
{
    memset(p, 0, sizeof *p);
    if (arrays > CLNORM_PARAM_ARRAYS)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "%u parameter arrays (at most %d)",
                            arrays, CLNORM_PARAM_ARRAYS);
    size_t total = 0;
    for (unsigned i = 0; i < arrays; ++i) {
        /* the padding, then up to the next 64 bytes: every array starts
         * aligned for the widest vector */
        size_t pad = counts[i] ? CLNORM_PARAM_PAD + CLNORM_PARAM_ALIGN - 1 : 0;
        if (counts[i] > SIZE_MAX / sizeof(float) - pad - total)
            return clnorm__fail(ctx, CLNORM_SIZE_OVERFLOW, "the parameters' size overflows");
        p->offset[i] = total;
        p->count[i] = counts[i];
        total += counts[i] ? (counts[i] + pad) / CLNORM_PARAM_ALIGN * CLNORM_PARAM_ALIGN : 0;
    }
    if (total > UINT32_MAX) /* the kernels take offsets into the block as uint */
        return clnorm__fail(ctx, CLNORM_TOO_LARGE, "%zu floats of parameters (at most 2^32-1)",
                            total);
    p->arrays = arrays;
    p->total = total;
    if (total && !(p->staging = clnorm__malloc(total * sizeof(float))))
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "allocating %zu floats of parameters",
                            total);
    return CLNORM_OK;
}

clnorm_status clnorm__params_sync(clnorm_context *ctx, clnorm__param_block *p,
                                  const float *const *host, uint64_t version)
{
    if (!p->total || (p->synced && p->version == version))
        return CLNORM_OK;
    for (unsigned i = 0; i < p->arrays; ++i) {
        if (!p->count[i])
            continue;
        float *a = p->staging + p->offset[i];
        memcpy(a, host[i], p->count[i] * sizeof(float));
        for (size_t j = 0; j < CLNORM_PARAM_PAD; ++j) /* the array again, cyclically */
            a[p->count[i] + j] = a[j % p->count[i]];
    }
    /* A new buffer made from the host copy: the copy is done when this
     * returns, and kernels already enqueued keep the old one alive. */
    cl_mem fresh = NULL;
    RETURN_IF_ERROR(clnorm__buffer_create(ctx, "a layer's parameters",
                                          CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                          p->total * sizeof(float), p->staging, &fresh));
    clnorm__release_mem(p->mem);
    p->mem = fresh;
    p->version = version;
    p->synced = 1;
    p->uploads++;
    return CLNORM_OK;
}

void clnorm__params_release(clnorm__param_block *p)
{
    clnorm__release_mem(p->mem);
    clnorm__free(p->staging);
    memset(p, 0, sizeof *p);
}
