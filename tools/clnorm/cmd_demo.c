/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_demo.c: the demo subcommand: every operation of the table on generated
 * data, checked element by element against the float64 reference, timed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_run.h"
#include "cli.h"

static const char help[] =
    "usage: clnorm demo [--device SPEC] [--accumulate MODE] [--quick] [--repeat N]\n"
    "\n"
    "Run every layer on random data on the device, on a benchmark-sized shape of each\n"
    "(VarianceNorm2d (16, 64, 128, 128), RevIN (8, 16000, 80), ...), check every element\n"
    "against a float64 reference (the tolerance is twice PyTorch float32's own error), and\n"
    "print the median time and GB/s (input read once + output written once). --quick uses\n"
    "smaller shapes. Exits 1 when a check fails.\n";

/* The case an op is shown on: its first large bench case, or with --quick
 * its first quick one (else its first test case). */
static const op_case *demo_case(const op_desc *op, int quick)
{
    for (size_t i = 0; i < op->bench_count; ++i)
        if (quick ? op->bench[i].quick
                  : op_shape_count(op->bench[i].shape, op->bench[i].ndim) >= (1u << 22))
            return &op->bench[i];
    return op->tests_count ? &op->tests[0] : op->bench_count ? &op->bench[0] : NULL;
}

static int demo_one(clnorm_context *ctx, const op_desc *op, const op_case *c, int repeat,
                    double *ms, size_t *failures)
{
    case_run cr;
    int code = case_run_open(ctx, op, c, FAMILY_SCALES, &cr);
    clnorm_status st = CLNORM_OK;
    for (int r = -1; r < repeat && !code && st == CLNORM_OK; ++r) {
        double a = cli_now_ms();
        st = case_run_once(ctx, &cr);
        if (r >= 0)
            ms[r] = cli_now_ms() - a;
    }
    if (!code && st != CLNORM_OK)
        code = cli_library_error(ctx, st, op->name);
    double rel, worst;
    size_t bad = 0;
    if (!code)
        code = case_run_check(ctx, &cr, &rel, &worst, &bad);
    if (!code) {
        char name[128], shape[96];
        snprintf(name, sizeof name, "%s %s", op->alias ? op->alias : op->name,
                 fmt_shape(c->shape, c->ndim, shape, sizeof shape));
        double med = cli_median(ms, repeat), bytes = 2.0 * (double)cr.cd.d.count * 4;
        printf("  %-40s %9.3f ms %8.2f GB/s   max error %.2f of tolerance  %s\n", name, med,
               bytes / (med * 1e-3) / 1e9, worst, bad ? "FAILED" : "ok");
        *failures += bad;
    }
    case_run_close(&cr);
    return code;
}

int cmd_demo(int argc, char **argv)
{
    cli_common o = {0, 10, NULL};
    static const struct option longs[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int code = cli_options_begin();
    for (int c; (c = cli_next_option("demo", help, argc, argv, longs, &code)) != -1;)
        if (cli_common_option("demo", c, &o) < 0)
            return EXIT_USAGE;
    if (code >= 0)
        return code;
    int quick = o.quick, repeat = o.repeat;
    const char *device = o.device;
    double *ms = malloc((size_t)repeat * sizeof *ms);
    if (!ms)
        return cli_error(EXIT_DEVICE, "out of memory");
    rng_seed(rng_fresh_seed());
    double t0 = cli_now_ms();
    clnorm_context *ctx = NULL;
    size_t failures = 0;
    if ((code = cli_context(device, &ctx)) != 0)
        goto done;
    printf("clnorm %s demo on %s\n", clnorm_version_string(),
           clnorm_context_device_description(ctx));
    printf("  accumulation: %s\n", clnorm_context_uses_fp64(ctx) ? "fp64" : "float-float");
    if ((code = clnorm_context_prepare(ctx)) != CLNORM_OK) {
        code = cli_library_error(ctx, (clnorm_status)code, "demo");
        goto done;
    }
    unsigned built = 0, cached = 0;
    clnorm_context_program_counts(ctx, &built, &cached);
    printf("  start-up: %.0f ms (kernels: %u built, %u from the cache)\n", cli_now_ms() - t0, built,
           cached);
    for (size_t i = 0; i < op_count && !code; ++i) {
        const op_case *c = demo_case(op_table[i], quick);
        if (c)
            code = demo_one(ctx, op_table[i], c, repeat, ms, &failures);
    }
    if (code == 0 && failures)
        code = cli_error(EXIT_DEVICE, "demo: %zu elements outside the tolerance", failures);
    else if (code == 0)
        printf("all results within tolerance of the float64 reference\n");
done:
    clnorm_context_destroy(ctx);
    free(ms);
    return code;
}
