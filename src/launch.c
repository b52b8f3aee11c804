/* SPDX-License-Identifier: Apache-2.0 */
/* launch.c: the norm launcher: what a layer built on clnorm's kernels holds
 * (its kernels, its parameter block, the scratch of split rows, the
 * statistics it keeps), and enqueueing the plan of a view after the
 * caller's wait list. */
#include <string.h>

#include "clnorm_int.h"

clnorm_status clnorm__norm_create(clnorm_context *ctx, const clnorm__create_args *args, size_t size,
                                  size_t inner, unsigned arrays, const size_t *counts, void *out,
                                  void **layer)
{
    void *made;
    RETURN_IF_ERROR(clnorm__layer_new(ctx, args->fn, size, out, &made));
    clnorm__norm *nl = made;
    nl->flags = args->flags;
    nl->eps = args->eps;
    memcpy(nl->dims, args->dims, sizeof nl->dims);
    clnorm_status st = clnorm__check_create_args(ctx, args);
    if (st == CLNORM_OK)
        st = clnorm__params_init(ctx, &nl->params, arrays, counts);
    if (st == CLNORM_OK)
        st = clnorm__kernels_create(ctx, clnorm__plan_width(&ctx->limits, inner), &nl->ks);
    if (st != CLNORM_OK) {
        clnorm__norm_free(nl);
        return st;
    }
    memcpy(out, &made, sizeof made); /* *out = the layer, whatever its type */
    if (layer)
        *layer = made;
    return CLNORM_OK;
}

clnorm_status clnorm__norm_create_affine(clnorm_context *ctx, const clnorm__create_args *args,
                                         size_t size, size_t c, int affine, void *out)
{
    size_t counts[2] = {c, c};
    return clnorm__norm_create(ctx, args, size, 1, affine ? 2 : 0, counts, out, NULL);
}

void clnorm__norm_free(clnorm__norm *nl)
{
    if (!nl)
        return;
    clnorm__release_mem(nl->partials);
    clnorm__params_release(&nl->params);
    clnorm__kernels_release(&nl->ks);
    clnorm__kernels_release(&nl->alt);
    clnorm__stats_release(&nl->stats);
    clnorm__layer_free(nl);
}

clnorm_status clnorm__norm_begin(clnorm__norm *nl, const char *fn, const char *need,
                                 const float *const *host, uint64_t version, cl_mem in,
                                 size_t in_off, cl_mem out, size_t out_off, size_t count,
                                 cl_uint num_wait, const cl_event *wait_list)
{
    for (unsigned i = 0; i < nl->params.arrays; ++i)
        if (!host[i])
            return clnorm__fail(nl->rt.ctx, CLNORM_NULL_ARGUMENT, "%s: params need %s", fn, need);
    RETURN_IF_ERROR(
        clnorm__layer_check_io(&nl->rt, fn, in, in_off, out, out_off, count, num_wait, wait_list));
    return nl->params.arrays ? clnorm__params_sync(nl->rt.ctx, &nl->params, host, version)
                             : CLNORM_OK;
}

clnorm_status clnorm__norm_begin_affine(clnorm__norm *nl, const char *fn, const char *need,
                                        const clnorm_affine_params *params, cl_mem in,
                                        size_t in_off, cl_mem out, size_t out_off, size_t count,
                                        cl_uint num_wait, const cl_event *wait_list)
{
    const float *host[2] = {params ? params->weight : NULL, params ? params->bias : NULL};
    return clnorm__norm_begin(nl, fn, need, host, params ? params->version : 0, in, in_off, out,
                              out_off, count, num_wait, wait_list);
}

clnorm_status clnorm__norm_check_nchw(const clnorm__norm *nl, const char *fn, size_t n, size_t c,
                                      size_t h, size_t w, clnorm__view *planes, size_t *count)
{
    if (!nl)
        return CLNORM_NULL_ARGUMENT;
    const clnorm_context *ctx = nl->rt.ctx;
    if (!n || !c || !h || !w)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: shape (%zu, %zu, %zu, %zu) has a zero", fn,
                            n, c, h, w);
    if (c != nl->dims[0].value)
        return clnorm__fail(ctx, CLNORM_SHAPE_MISMATCH, "%s: C = %zu but the layer has %s = %zu",
                            fn, c, nl->dims[0].name, nl->dims[0].value);
    size_t rows, plane;
    RETURN_IF_ERROR(clnorm__mul_size(ctx, n, c, &rows));
    RETURN_IF_ERROR(clnorm__mul_size(ctx, h, w, &plane));
    *planes = (clnorm__view){rows, plane, 1};
    return clnorm__mul_size(ctx, rows, plane, count);
}

clnorm_status clnorm__norm_check_bdl(const clnorm__norm *nl, const char *fn, size_t b, size_t l,
                                     size_t *count)
{
    if (!nl)
        return CLNORM_NULL_ARGUMENT;
    const clnorm_context *ctx = nl->rt.ctx;
    if (!b || !l)
        return clnorm__fail(ctx, CLNORM_ZERO_SIZE, "%s: b = %zu, l = %zu", fn, b, l);
    if (l > UINT32_MAX)
        return clnorm__fail(ctx, CLNORM_INVALID_ARGUMENT, "%s: l %zu > 2^32-1", fn, l);
    RETURN_IF_ERROR(clnorm__mul_size(ctx, b, nl->dims[0].value, count));
    return clnorm__mul_size(ctx, *count, l, count);
}

clnorm__args clnorm__args_of(clnorm__view view, cl_mem in, size_t in_off, cl_mem out,
                             size_t out_off, cl_uint op, double eps, size_t nchan)
{
    clnorm__args a = {.view = view,
                      .in = in,
                      .out = out,
                      .in_off = in_off / sizeof(float),
                      .out_off = out_off / sizeof(float),
                      .op = op,
                      .eps = eps,
                      .nchan = (cl_uint)nchan};
    return a;
}

clnorm_status clnorm__norm_use_width(clnorm__norm *nl, size_t inner)
{
    unsigned width = clnorm__plan_width(&nl->rt.ctx->limits, inner);
    if (width == nl->ks.width)
        return CLNORM_OK;
    clnorm__kernels ks = nl->alt;
    if (ks.width != width) {
        RETURN_IF_ERROR(clnorm__kernels_create(nl->rt.ctx, width, &ks));
        clnorm__kernels_release(&nl->alt); /* commands enqueued keep theirs */
    }
    nl->alt = nl->ks;
    nl->ks = ks;
    return CLNORM_OK;
}

static clnorm_status enqueue(clnorm__norm *nl, clnorm__kernel_id id, const clnorm__plan *p,
                             cl_uint num_wait, const cl_event *waits, cl_event *done)
{
    clnorm_context *ctx = nl->rt.ctx;
    size_t local = p->local, global = p->groups * local;
    clnorm_status st;
    CL_CALL(ctx, st, clEnqueueNDRangeKernel,
            (ctx->queue, nl->ks.k[id], 1, NULL, &global, &local, num_wait, waits, done));
    if (st == CLNORM_OK && done)
        clnorm__fault_count("event created"), clnorm__live(1);
    return st;
}

/* One or two launches of plan p, the second waiting for the first. */
clnorm_status clnorm__plan_enqueue(clnorm__norm *nl, clnorm__args *a, const clnorm__plan *p,
                                   cl_uint num_wait, const cl_event *wait_list, cl_event *event)
{
    clnorm_context *ctx = nl->rt.ctx;
    cl_uint nw;
    const cl_event *waits;
    RETURN_IF_ERROR(clnorm__buffer_reserve(ctx, "the partial statistics of split rows",
                                           p->partial_bytes, &nl->partials, &nl->partials_bytes));
    RETURN_IF_ERROR(clnorm__layer_waits(&nl->rt, num_wait, wait_list, &nw, &waits));
    a->prm = nl->params.mem;
    cl_event first = NULL, done = NULL;
    clnorm_status st =
        clnorm__kernel_set_args(ctx, nl->ks.k[p->kernel[0]], a, p->nparts, p->tiles, nl->partials);
    if (st == CLNORM_OK && p->kernel[1] == CLNORM_K_COUNT) {
        st = enqueue(nl, p->kernel[0], p, nw, waits, &done);
    } else if (st == CLNORM_OK) {
        st = enqueue(nl, p->kernel[0], p, nw, waits, &first);
        if (st == CLNORM_OK)
            st = clnorm__kernel_set_args(ctx, nl->ks.k[p->kernel[1]], a, p->nparts, p->tiles,
                                         nl->partials);
        if (st == CLNORM_OK)
            st = enqueue(nl, p->kernel[1], p, 1, &first, &done);
        clnorm__release_event(first);
    }
    RETURN_IF_ERROR(st);
    return clnorm__layer_hand_out(&nl->rt, done, event);
}

clnorm_status clnorm__norm_enqueue(clnorm__norm *nl, clnorm__args *a, cl_uint num_wait,
                                   const cl_event *wait_list, cl_event *event)
{
    clnorm__plan p;
    clnorm__plan_normalise(&nl->rt.ctx->limits, &a->view, nl->ks.width, &p);
    if (p.kernel[0] == CLNORM_K_REG && !nl->ks.reg_ok) { /* the device cannot run it */
        clnorm__limits lim = nl->rt.ctx->limits;
        lim.reg_group = 0;
        clnorm__plan_normalise(&lim, &a->view, nl->ks.width, &p);
    }
    if (p.kernel[0] == CLNORM_K_ROWS && CLNORM_OP_IS_PLAIN(a->op))
        p.kernel[0] = CLNORM_K_ROWS_PLAIN; /* the same geometry, loops without form tests */
    return clnorm__plan_enqueue(nl, a, &p, num_wait, wait_list, event);
}

clnorm_status clnorm__scale_enqueue(clnorm__norm *nl, clnorm__args *a, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event)
{
    clnorm__plan p;
    clnorm__plan_scale(&nl->rt.ctx->limits, &a->view, nl->ks.width, &p);
    return clnorm__plan_enqueue(nl, a, &p, num_wait, wait_list, event);
}

clnorm_status clnorm__items_enqueue(clnorm__norm *nl, clnorm__kernel_id kernel, size_t items,
                                    clnorm__args *a, cl_uint num_wait, const cl_event *wait_list,
                                    cl_event *event)
{
    clnorm__plan p;
    clnorm__plan_items(&nl->rt.ctx->limits, items, kernel, &p);
    return clnorm__plan_enqueue(nl, a, &p, num_wait, wait_list, event);
}

clnorm_status clnorm__norm_copy(clnorm__norm *nl, size_t count, cl_mem in, size_t in_off,
                                cl_mem out, size_t out_off, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event)
{
    if (in == out && in_off == out_off)
        return clnorm__marker_enqueue(&nl->rt, num_wait, wait_list, event);
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, 1));
    clnorm__args a = clnorm__args_of((clnorm__view){1, count, 1}, in, in_off, out, out_off,
                                     CLNORM_FIN_COPY, 0.0, 1);
    return clnorm__scale_enqueue(nl, &a, num_wait, wait_list, event);
}

clnorm_status clnorm__norm_by_channel(clnorm__norm *nl, clnorm__view rows, double eps, int affine,
                                      const clnorm__channels *ch, cl_mem in, size_t in_off,
                                      cl_mem out, size_t out_off, cl_uint num_wait,
                                      const cl_event *wait_list, cl_event *event)
{
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, rows.inner));
    clnorm__args a = clnorm__args_of(rows, in, in_off, out, out_off, CLNORM_FIN_STANDARD, eps, 1);
    if (!affine)
        return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
    size_t seg = ch->seg ? ch->seg : ch->period;
    /* one pass: a weight per segment (whole vectors of one channel), or
     * weights repeating (any period: each array's padding repeats it) */
    if (seg && (ch->period || seg % nl->ks.width == 0) && rows.n <= UINT32_MAX) {
        a.op |= CLNORM_OP_AXIS | (ch->seg ? CLNORM_OP_SEG : CLNORM_OP_PERIOD);
        a.nchan = (cl_uint)ch->groups;
        a.poff[CLNORM_POFF_AXW] = (cl_uint)nl->params.offset[0];
        a.poff[CLNORM_POFF_AXB] = (cl_uint)nl->params.offset[1];
        a.poff[CLNORM_POFF_SEG] = (cl_uint)seg;
        return clnorm__norm_enqueue(nl, &a, num_wait, wait_list, event);
    }
    RETURN_IF_ERROR(clnorm__norm_enqueue(nl, &a, num_wait, wait_list, NULL));
    /* after the first pass, the layer's last command */
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, ch->view.inner));
    clnorm__args b =
        clnorm__args_of(ch->view, out, out_off, out, out_off,
                        CLNORM_FIN_AFFINE | CLNORM_OP_GAMMA | CLNORM_OP_BETA, 0.0, ch->nchan);
    b.poff[CLNORM_POFF_GAMMA] = (cl_uint)nl->params.offset[0];
    b.poff[CLNORM_POFF_BETA] = (cl_uint)nl->params.offset[1];
    return clnorm__scale_enqueue(nl, &b, 0, NULL, event);
}

clnorm_status clnorm__norm_plus(clnorm__norm *nl, const clnorm__args *a, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event)
{
    clnorm__stats *st = &nl->stats;
    size_t c = a->nchan, samples = a->view.outer / c;
    size_t sample_floats = c * a->view.n * a->view.inner;
    /* a block of samples at a time, so that the last pass re-reads what the
     * first read (or wrote) from cache */
    size_t block =
        clnorm__plan_sample_block(&nl->rt.ctx->limits, samples, sample_floats * sizeof(float));
    if ((a->op & CLNORM_OP_LABELS) && a->poff[CLNORM_POFF_LABEL0] > UINT32_MAX - samples)
        block = samples; /* the labels' index stays within its 32 bits */
    const clnorm__limits *lim = &nl->rt.ctx->limits;
    clnorm__plan plan;
    if (clnorm__plan_plus(lim, &a->view, c, &plan) && plan.kernel[0] == CLNORM_K_PLUS_SAMPLES)
        block = samples; /* one launch: each item re-reads its own sample */
    /* means and sds (the planner's launches), or means (norm_plus's) */
    RETURN_IF_ERROR(clnorm__stats_reserve(nl->rt.ctx, st, 2 * block * c));
    RETURN_IF_ERROR(clnorm__norm_use_width(nl, 1));
    for (size_t s0 = 0; s0 < samples; s0 += block) {
        size_t nb = samples - s0 < block ? samples - s0 : block, skip = s0 * sample_floats;
        int first = s0 == 0, last = s0 + nb == samples;
        clnorm__args planes = *a; /* standardised, the means kept exactly */
        planes.view.outer = nb * c;
        planes.in_off += skip;
        planes.out_off += skip;
        planes.poff[CLNORM_POFF_LABEL0] += (cl_uint)s0;
        planes.stat_m = st->m;
        planes.stat_s = st->s;
        planes.eps = 1e-5;
        if (clnorm__plan_plus(lim, &planes.view, c, &plan)) { /* means and sds, then y */
            RETURN_IF_ERROR(clnorm__plan_enqueue(nl, &planes, &plan, first ? num_wait : 0,
                                                 first ? wait_list : NULL, last ? event : NULL));
            continue;
        }
        planes.op = CLNORM_FIN_STANDARD | CLNORM_OP_STORE | CLNORM_OP_STORE_CENTRE;
        RETURN_IF_ERROR(clnorm__norm_enqueue(nl, &planes, first ? num_wait : 0,
                                             first ? wait_list : NULL, NULL));
        clnorm__args per_sample = planes; /* after it: the layer's last command */
        per_sample.view = (clnorm__view){nb, c, 1};
        per_sample.op = a->op & (CLNORM_OP_GAMMA | CLNORM_OP_BETA | CLNORM_OP_LABELS);
        RETURN_IF_ERROR(clnorm__items_enqueue(nl, CLNORM_K_PLUS, nb, &per_sample, 0, NULL, NULL));
        clnorm__args affine = planes; /* out = out * gamma + b in place */
        affine.in = a->out;
        affine.in_off = planes.out_off;
        affine.op = CLNORM_FIN_DENORM;
        RETURN_IF_ERROR(clnorm__scale_enqueue(nl, &affine, 0, NULL, last ? event : NULL));
    }
    return CLNORM_OK;
}
