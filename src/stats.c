/* SPDX-License-Identifier: Apache-2.0 */
/* stats.c: statistics a layer keeps on the device for a later call (RevIN's
 * m and s): a pair of buffers of one float per row, made by a forward or
 * set from the host, read back to it; the checks and messages of the public
 * calls around statistics of a batch (RevIN's, the TS scale). */
#include "clnorm_int.h"

/* New buffers for `rows` rows (from host copies when given): complete on
 * return, and commands already enqueued keep the old ones alive. */
static clnorm_status replace(clnorm_context *ctx, clnorm__stats *st, size_t rows,
                             const float *m_host, const float *s_host)
{
    size_t bytes;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, rows, sizeof(float), &bytes));
    cl_mem_flags m_flags = CL_MEM_READ_WRITE | (m_host ? CL_MEM_COPY_HOST_PTR : 0);
    cl_mem_flags s_flags = CL_MEM_READ_WRITE | (s_host ? CL_MEM_COPY_HOST_PTR : 0);
    cl_mem m = NULL, s = NULL;
    clnorm_status status =
        clnorm__buffer_create(ctx, st->names->m_name, m_flags, bytes, (void *)m_host, &m);
    if (status == CLNORM_OK)
        status = clnorm__buffer_create(ctx, st->names->s_name, s_flags, bytes, (void *)s_host, &s);
    if (status != CLNORM_OK) {
        clnorm__release_mem(m);
        return status;
    }
    clnorm__release_mem(st->m);
    clnorm__release_mem(st->s);
    st->m = m;
    st->s = s;
    st->capacity = rows;
    st->rows = 0;
    return CLNORM_OK;
}

clnorm_status clnorm__stats_reserve(clnorm_context *ctx, clnorm__stats *st, size_t rows)
{
    if (st->m && st->capacity >= rows)
        return CLNORM_OK;
    return replace(ctx, st, rows, NULL, NULL);
}

clnorm_status clnorm__stats_set(clnorm_context *ctx, clnorm__stats *st, size_t rows, const float *m,
                                const float *s)
{
    RETURN_IF_ERROR(replace(ctx, st, rows, m, s));
    st->rows = rows;
    return CLNORM_OK;
}

clnorm_status clnorm__stats_read(clnorm_context *ctx, const clnorm__stats *st, cl_event after,
                                 float *m, float *s)
{
    clnorm_status status = CLNORM_OK;
    cl_uint nw = after ? 1 : 0;
    const cl_event *w = after ? &after : NULL;
    size_t bytes = st->rows * sizeof(float);
    if (m)
        CL_CALL(ctx, status, clEnqueueReadBuffer,
                (ctx->queue, st->m, CL_TRUE, 0, bytes, m, nw, w, NULL));
    if (status == CLNORM_OK && s)
        CL_CALL(ctx, status, clEnqueueReadBuffer,
                (ctx->queue, st->s, CL_TRUE, 0, bytes, s, nw, w, NULL));
    return status;
}

clnorm_status clnorm__stats_check_batch(clnorm_context *ctx, const clnorm__stats *st,
                                        const char *fn, size_t d, size_t b, size_t l)
{
    const clnorm__stats_names *n = st->names;
    size_t stat_b = st->rows / d;
    if (stat_b == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS, "%s: no %s yet: run %s (or %s) first", fn,
                            n->what, n->forward, n->set);
    if (b && l && b != stat_b)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH,
                            "%s: B = %zu but the %s %s for B = %zu (D = %zu)", fn, b, n->what,
                            n->plural ? "are" : "is", stat_b, d);
    return CLNORM_OK;
}

clnorm_status clnorm__stats_read_batch(clnorm_context *ctx, const clnorm__stats *st, const char *fn,
                                       size_t d, size_t count, cl_event after, float *m, float *s)
{
    const clnorm__stats_names *n = st->names;
    if (st->rows == 0)
        return clnorm__fail(ctx, CLNORM_NO_STATISTICS, "%s: no %s yet: run %s first", fn, n->what,
                            n->forward);
    if (count != st->rows)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH, "%s: count %zu but the %s %s B*D = %zu*%zu",
                            fn, count, n->what, n->plural ? "hold" : "holds", st->rows / d, d);
    return clnorm__stats_read(ctx, st, after, m, s);
}

clnorm_status clnorm__stats_set_batch(clnorm_context *ctx, clnorm__stats *st, const char *fn,
                                      size_t d, size_t b, const float *m, const float *s)
{
    const clnorm__stats_names *n = st->names;
    if ((n->m_arg && !m) || !s)
        return clnorm__fail(ctx, CLNORM_NULL_ARGUMENT, "%s: %s is NULL", fn,
                            n->m_arg && !m ? n->m_arg : n->s_arg);
    if (!b)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: B is 0", fn);
    size_t rows;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, d, &rows));
    return clnorm__stats_set(ctx, st, rows, m, s);
}

void clnorm__stats_release(clnorm__stats *st)
{
    clnorm__release_mem(st->m);
    clnorm__release_mem(st->s);
    st->m = st->s = NULL;
    st->capacity = st->rows = 0;
}
