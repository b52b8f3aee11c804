/* SPDX-License-Identifier: Apache-2.0 */
/* op_check.h: running a case of any operation of the table (tools/ops)
 * against its float64 reference: the one numeric check that every op's
 * sweeps, the thread test and the fault loops share. */
#ifndef CLNORM_TEST_OP_CHECK_H
#define CLNORM_TEST_OP_CHECK_H

#include "op_data.h"

/* Create the op on ctx, run it on a fresh case of `shape` and family f,
 * and compare y and every statistic it writes with the reference, every
 * element (the output poisoned with NaN first). Returns the failures. */
size_t op_check(clnorm_context *ctx, const op_desc *op, const op_config *c, const size_t *shape,
                size_t ndim, family f);

/* The same, without cmocka's asserts, from any thread: a library error
 * counts as a failure (with a message). */
size_t op_check_quiet(clnorm_context *ctx, const op_desc *op, const op_config *c,
                      const size_t *shape, size_t ndim, family f);

/* What one create + run of op left, released, as each round of a fault loop
 * must: its event (NULL when none) waited for, the layer (NULL when its
 * create failed) destroyed, the queue finished. */
void op_run_release(clnorm_context *ctx, const op_desc *op, void *layer, cl_event ev);

/* "LayerNorm bld (2, 3, 4) offset fp64=1" */
const char *op_case_name(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                         family f, clnorm_context *ctx, char *buf, size_t size);

#endif
