/* SPDX-License-Identifier: Apache-2.0 */
/* accumulate.h: which accumulator a context's kernels use (private). */
#ifndef CLNORM_ACCUMULATE_H
#define CLNORM_ACCUMULATE_H

#include "clnorm_int.h"

/* What was asked for: by a context flag, else $CLNORM_ACCUMULATE. */
typedef enum clnorm__accumulate {
    CLNORM__ACCUMULATE_AUTO,
    CLNORM__ACCUMULATE_FP64,
    CLNORM__ACCUMULATE_FLOAT_FLOAT
} clnorm__accumulate;

/* The request from the context flags (CLNORM_CONTEXT_FP64 / _NO_FP64) or,
 * with neither, from $CLNORM_ACCUMULATE ("fp64", "float-float", "auto" or
 * unset). CLNORM_INVALID_ARGUMENT for both flags or another value. */
clnorm_status clnorm__accumulate_request(const clnorm_context *ctx, unsigned flags,
                                         clnorm__accumulate *out);

/* Whether an NVIDIA GPU of compute capability major.minor runs fp64 fast
 * enough for clnorm's statistics: 1 (the data-centre parts, at half the
 * float rate), 0 (the others, at 1/32 or 1/64), -1 (a capability newer than
 * this table: measure). */
int clnorm__nvidia_fp64_fast(unsigned major, unsigned minor);

/* The device's fp64 throughput as a fraction of its float throughput
 * (0.5 on a data-centre GPU, 1/64 on a consumer one), measured with the
 * kernels of kernels/clnorm_fp64_rate.cl on a profiling queue of the
 * context's own, and kept in the program-binary cache (unless the context
 * has CLNORM_CONTEXT_NO_CACHE): *measured is 1 when it ran now, 0 when the
 * cache had it. The device must have fp64. */
clnorm_status clnorm__fp64_rate(clnorm_context *ctx, double *rate, int *measured);

/* The fraction of the float rate at which fp64 is fast enough: below it,
 * fp64 statistics would make a bandwidth-bound kernel compute-bound. */
#define CLNORM_FP64_FAST_RATE 0.125

/* Set ctx->use_fp64 for the request: fp64 where asked (an error where the
 * device has no fp64 with fma), float-float where asked, and for auto fp64
 * where the device has it and it is fast (CPUs; NVIDIA's table; otherwise
 * clnorm__fp64_rate). */
clnorm_status clnorm__accumulate_choose(clnorm_context *ctx, clnorm__accumulate request);

#endif
