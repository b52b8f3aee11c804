/* SPDX-License-Identifier: Apache-2.0 */
/* op_data.h: a case's host data for any operation of the table, drawn at
 * random (the tests, the bench and the demo share it). */
#ifndef CLNORM_OP_DATA_H
#define CLNORM_OP_DATA_H

#include "ops.h"
#include "reference.h"

typedef struct op_case_data {
    op_data d; /* the views the op's reference and tolerance read */
    float *x, *params[OP_MAX_PARAMS], *stats_in[OP_MAX_STATS];
    int32_t *labels;
    op_param param[OP_MAX_PARAMS];
    size_t nparams;
    size_t nstats_in, nstats_out;
    size_t stat_ndim, stat_shape[OP_MAX_DIMS], stat_count; /* every statistic's shape */
} op_case_data;

/* x from family f along the op's view; parameters by kind (scales near 1,
 * shifts near 0, variances positive); statistics read (spreads positive).
 * 0, or -1 when out of memory (free what was made with op_case_data_free). */
int op_case_data_make(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                      family f, op_case_data *cd);
void op_case_data_free(op_case_data *cd);

/* The call of the case on device buffers in and out (and its labels, for
 * the ops that take them, else NULL): offsets 0, no wait list, the case's
 * parameters at version 1. */
op_call op_case_call(const op_case_data *cd, cl_mem in, cl_mem out, cl_mem labels);

#endif
