/* SPDX-License-Identifier: Apache-2.0 */
/* op_check.h: running a case of any operation of the table (tools/ops)
 * against its float64 reference: the one numeric check that every op's
 * sweeps, the thread test and the fault loops share. */
#ifndef CLNORM_TEST_OP_CHECK_H
#define CLNORM_TEST_OP_CHECK_H

#include "ops.h"
#include "reference.h"

/* A case's host data, drawn at random: x from an input family along the
 * op's view, parameters and statistics read by their kind, labels. Freed
 * with op_case_data_free. */
typedef struct op_case_data {
    op_data d;
    float *x, *params[OP_MAX_PARAMS], *stats_in[OP_MAX_STATS];
    int32_t *labels;
    op_param param[OP_MAX_PARAMS];
    size_t nparams;
    op_stat stat_in[OP_MAX_STATS], stat_out[OP_MAX_STATS];
    size_t nstats_in, nstats_out;
} op_case_data;

void op_case_data_make(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                       family f, op_case_data *cd);
void op_case_data_free(op_case_data *cd);

/* The call of `cd` on the device buffers in, out (offsets 0, no wait list). */
op_call op_case_call(const op_case_data *cd, cl_mem in, cl_mem out);

/* Create the op on ctx, run it on a fresh case of `shape` and family f,
 * and compare y and every statistic it writes with the reference, every
 * element (the output poisoned with NaN first). Returns the failures. */
size_t op_check(clnorm_context *ctx, const op_desc *op, const op_config *c, const size_t *shape,
                size_t ndim, family f);

/* "LayerNorm bld (2, 3, 4) offset fp64=1" */
const char *op_case_name(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                         family f, clnorm_context *ctx, char *buf, size_t size);

#endif
