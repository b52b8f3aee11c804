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
/* The same, and its time on the device in *device_ms: from a marker's end
 * to the forward's event's end, by the queue's profiling (every kernel and
 * gap between them, no host time); -1 when the queue does not profile. */
clnorm_status case_run_timed(clnorm_context *ctx, case_run *r, double *device_ms);
/* A command's time on the device: `end`'s end minus `start`'s end (start
 * NULL: `end`'s own start), in ms, or -1 without profiling information. */
double case_event_ms(cl_event start, cl_event end);
/* The output against the reference: max |got - ref| / max |ref|, the worst
 * |got - ref| / tolerance (> 1 fails) and how many elements fail. 0, or a
 * reported exit code. */
int case_run_check(clnorm_context *ctx, case_run *r, double *max_rel_err, double *tol_ratio,
                   size_t *bad);
void case_run_close(case_run *r);

#endif
