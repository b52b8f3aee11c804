/* SPDX-License-Identifier: Apache-2.0 */
/* op_data.c: a case's host data drawn at random for any operation: x from an
 * input family along the op's view, parameters and statistics by their kind.
 * The tests, the bench and the demo share it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_data.h"

static double scale_value(void) { return 1.0 + 0.2 * rng_normal(); }
static double shift_value(void) { return 0.5 * rng_normal(); }
static double positive_value(void) { return 0.5 + 1.5 * rng_uniform(); }
static double any_value(void) { return rng_normal(); }

static float *draw(size_t count, double (*value)(void))
{
    float *p = malloc((count ? count : 1) * sizeof *p);
    if (p)
        for (size_t i = 0; i < count; ++i)
            p[i] = (float)value();
    return p;
}

int op_case_data_make(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                      family f, op_case_data *cd)
{
    memset(cd, 0, sizeof *cd);
    cd->d.ndim = ndim;
    memcpy(cd->d.shape, shape, ndim * sizeof *shape);
    cd->d.count = op_shape_count(shape, ndim);
    cd->d.y_count = op_out_shape(op, c, shape, ndim, &cd->d.y_ndim, cd->d.y_shape);
    size_t outer, n, inner;
    op->view(c, shape, ndim, &outer, &n, &inner);
    if (!(cd->x = malloc((cd->d.count ? cd->d.count : 1) * sizeof *cd->x)))
        return -1;
    fill_family(cd->x, outer, n, inner, f);
    cd->d.x = cd->x;
    cd->nparams = op->params(c, shape, ndim, cd->param);
    for (size_t i = 0; i < cd->nparams; ++i) {
        const op_param *p = &cd->param[i];
        size_t count = op_shape_count(p->shape, p->ndim);
        cd->params[i] = draw(count, p->kind == PARAM_SCALE      ? scale_value
                                    : p->kind == PARAM_VARIANCE ? positive_value
                                                                : shift_value);
        if (!cd->params[i])
            return -1;
        if (p->kind == PARAM_MATRIX) /* N(0, 1 / fan_in), as the fixtures' Linear weights */
            for (size_t j = 0; j < count; ++j)
                cd->params[i][j] = (float)(rng_normal() / sqrt((double)p->shape[p->ndim - 1]));
        cd->d.params[i] = cd->params[i];
    }
    if (op->labels) { /* a class per sample, every class in [0, K) */
        size_t k = op_classes(c);
        if (!(cd->labels = malloc((shape[0] ? shape[0] : 1) * sizeof *cd->labels)))
            return -1;
        for (size_t i = 0; i < shape[0]; ++i)
            cd->labels[i] = (int32_t)(rng_uniform() * (double)k) % (int32_t)k;
        cd->d.labels = cd->labels;
    }
    cd->nstats_in = op->stats_in_count;
    cd->nstats_out = op->stats_out_count;
    if (op->stat_shape) {
        op->stat_shape(c, shape, ndim, &cd->stat_ndim, cd->stat_shape);
        cd->stat_count = op_shape_count(cd->stat_shape, cd->stat_ndim);
    }
    for (size_t i = 0; i < cd->nstats_in; ++i) {
        cd->stats_in[i] =
            draw(cd->stat_count, op->stats_in[i].positive ? positive_value : any_value);
        if (!cd->stats_in[i])
            return -1;
        cd->d.stats_in[i] = cd->stats_in[i];
    }
    return 0;
}

void op_case_data_free(op_case_data *cd)
{
    free(cd->x);
    for (size_t i = 0; i < OP_MAX_PARAMS; ++i)
        free(cd->params[i]);
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        free(cd->stats_in[i]);
    free(cd->labels);
    memset(cd, 0, sizeof *cd);
}

op_call op_case_call(const op_case_data *cd, cl_mem in, cl_mem out, cl_mem labels)
{
    op_call k;
    memset(&k, 0, sizeof k);
    k.ndim = cd->d.ndim;
    memcpy(k.shape, cd->d.shape, sizeof k.shape);
    k.in = in;
    k.out = out;
    for (size_t i = 0; i < cd->nparams; ++i)
        k.params[i] = cd->params[i];
    k.version = 1;
    k.labels = labels;
    return k;
}
