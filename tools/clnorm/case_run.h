/* SPDX-License-Identifier: Apache-2.0 */
/* case_run.h: one case of an operation of the table on a context, for the
 * bench and the demo: its data drawn, its buffers and layer made, forwards
 * run and timed, its output checked against the float64 reference. */
#ifndef CLNORM_TOOLS_CASE_RUN_H
#define CLNORM_TOOLS_CASE_RUN_H

#include "op_data.h"

typedef struct case_run {
    const op_desc *op;
    const op_case *c;
    op_case_data cd;
    void *layer;
    cl_mem in, out, labels;
    op_call k;
} case_run;

/* Draw the case's data (x from family f), upload it, create the layer and
 * hand it the statistics it reads. 0, or a reported exit code (close it). */
int case_run_open(clnorm_context *ctx, const op_desc *op, const op_case *c, family f, case_run *r);
/* One forward, finished. */
clnorm_status case_run_once(clnorm_context *ctx, case_run *r);
/* The output against the reference: max |got - ref| / max |ref|, the worst
 * |got - ref| / tolerance (> 1 fails) and how many elements fail. 0, or a
 * reported exit code. */
int case_run_check(clnorm_context *ctx, case_run *r, double *max_rel_err, double *tol_ratio,
                   size_t *bad);
void case_run_close(case_run *r);

#endif
