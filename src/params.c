/* SPDX-License-Identifier: Apache-2.0 */
/* params.c: device copies of the caller's host parameters, uploaded only when
 * the caller's version number changes. */
#include "clnorm_int.h"

clnorm_status clnorm__params_sync(clnorm_context *ctx, clnorm__param_buffer *p,
                                  const float *const *host, uint64_t version)
{
    if (p->synced && p->version == version)
        return CLNORM_OK;
    size_t bytes;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, p->count, sizeof(float), &bytes));
    cl_mem fresh[2] = {NULL, NULL};
    clnorm_status st = CLNORM_OK;
    /* A new buffer made from the host copy: the copy is done when this
     * returns, and kernels already enqueued keep the old one alive. */
    for (unsigned i = 0; i < p->arrays && st == CLNORM_OK; ++i)
        st = clnorm__buffer_create(ctx, "a layer's parameters", CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                   bytes, (void *)host[i], &fresh[i]);
    if (st != CLNORM_OK) {
        clnorm__release_mem(fresh[0]);
        clnorm__release_mem(fresh[1]);
        return st;
    }
    for (unsigned i = 0; i < p->arrays; ++i) {
        clnorm__release_mem(p->mem[i]);
        p->mem[i] = fresh[i];
    }
    p->version = version;
    p->synced = 1;
    p->uploads++;
    return CLNORM_OK;
}

void clnorm__params_release(clnorm__param_buffer *p)
{
    for (unsigned i = 0; i < 2; ++i) {
        clnorm__release_mem(p->mem[i]);
        p->mem[i] = NULL;
    }
    p->synced = 0;
}
