/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_demo.c: the demo subcommand: both layers on generated data, checked
 * element by element against the float64 reference, timed. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "reference.h"

static const char help[] =
    "usage: clnorm demo [--device SPEC] [--quick] [--repeat N]\n"
    "\n"
    "Run VarianceNorm2d (16, 64, 128, 128), RevIN input (8, 16000, 80) and RevIN output on\n"
    "random data on the device, check every element against a float64 reference (the\n"
    "tolerance is twice PyTorch float32's own error), and print the median time and GB/s\n"
    "(input read once + output written once). --quick uses smaller shapes. Exits 1 when a\n"
    "check fails.\n";

/* Worst |got - ref| / tol over all elements (NaN where ref is NaN is fine). */
static double worst_ratio(const float *got, const double *ref, const double *tol, size_t n,
                          size_t *bad)
{
    double worst = 0.0;
    *bad = 0;
    for (size_t i = 0; i < n; ++i) {
        if (isnan(ref[i])) {
            *bad += !isnan(got[i]);
            continue;
        }
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= tol[i]))
            ++*bad;
        if (tol[i] > 0 && e / tol[i] > worst)
            worst = e / tol[i];
    }
    return worst;
}

typedef struct timing {
    double *ms;
    int repeat;
} timing;

static void report(const char *name, size_t count, timing *t, double worst, size_t bad)
{
    double med = cli_median(t->ms, t->repeat);
    double gbps = 2.0 * (double)count * sizeof(float) / (med * 1e-3) / 1e9;
    printf("  %-30s %9.3f ms %8.2f GB/s   max error %.2f of tolerance  %s\n", name, med, gbps,
           worst, bad ? "FAILED" : "ok");
}

int cmd_demo(int argc, char **argv)
{
    const char *device = NULL;
    int quick = 0, repeat = 10, code;
    long value;
    enum { OPT_QUICK = 256, OPT_REPEAT, OPT_DEVICE, OPT_HELP };
    static const struct option longs[] = {
        {"quick", no_argument, NULL, OPT_QUICK},   {"repeat", required_argument, NULL, OPT_REPEAT},
        {"device", required_argument, NULL, OPT_DEVICE}, {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", longs, NULL)) != -1;) {
        switch (c) {
        case 'h':
        case OPT_HELP: fputs(help, stdout); return EXIT_OK;
        case OPT_QUICK: quick = 1; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_REPEAT:
            if ((code = cli_int_option("demo", "--repeat", optarg, 1, 10000, &value)) != 0)
                return code;
            repeat = (int)value;
            break;
        default: return cli_option_error("demo", c, argv);
        }
    }
    if ((code = cli_leftover("demo", argc, argv)) != 0)
        return code;
    size_t vn[4] = {16, 64, 128, 128}, rv[3] = {8, 16000, 80};
    if (quick) {
        vn[0] = 2, vn[2] = vn[3] = 32;
        rv[1] = 1000;
    }
    size_t vcount = vn[0] * vn[1] * vn[2] * vn[3], rcount = rv[0] * rv[1] * rv[2];
    size_t count = vcount > rcount ? vcount : rcount, rows = rv[0] * rv[2];
    float *x = malloc(count * 4), *y = malloc(count * 4), *alpha = malloc(vn[1] * 4);
    float *sm = malloc(rows * 4), *ss = malloc(rows * 4);
    double *ref = malloc(count * 8), *tol = malloc(count * 8), *rm = malloc(rows * 8),
           *rs = malloc(rows * 8);
    timing t = {malloc((size_t)repeat * sizeof(double)), repeat};
    clnorm_context *ctx = NULL;
    clnorm_varnorm2d *vlayer = NULL;
    clnorm_revin *rlayer = NULL;
    cl_mem in = NULL, out = NULL;
    code = 0;
    size_t failures = 0;
    if (!x || !y || !alpha || !sm || !ss || !ref || !tol || !rm || !rs || !t.ms) {
        code = cli_error(EXIT_DEVICE, "out of memory");
        goto done;
    }
    rng_seed(rng_fresh_seed());
    double t0 = cli_now_ms();
    if ((code = cli_context(device, &ctx)) != 0)
        goto done;
    printf("clnorm %s demo on %s\n", clnorm_version_string(), clnorm_context_device_description(ctx));
    printf("  accumulation: %s\n", clnorm_context_uses_fp64(ctx) ? "fp64" : "float-float");
    if ((code = cli_upload(ctx, NULL, count, &in)) != 0 || (code = cli_upload(ctx, NULL, count, &out)) != 0)
        goto done;
    clnorm_status st = clnorm_varnorm2d_create(ctx, vn[1], &vlayer);
    if (st == CLNORM_OK)
        st = clnorm_revin_create(ctx, rv[2], 0, &rlayer);
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, "demo");
        goto done;
    }
    unsigned built = 0, cached = 0;
    clnorm_context_program_counts(ctx, &built, &cached);
    printf("  start-up: %.0f ms (kernels: %u built, %u from the cache)\n", cli_now_ms() - t0, built,
           cached);
    cl_command_queue q = clnorm_context_queue(ctx);

    /* VarianceNorm2d */
    fill_family(x, vn[0] * vn[1], vn[2] * vn[3], 1, FAMILY_NORMAL);
    for (size_t i = 0; i < vn[1]; ++i)
        alpha[i] = (float)(1.0 + 0.02 * rng_normal());
    clnorm_varnorm2d_params p = {alpha, 1};
    if (clEnqueueWriteBuffer(q, in, CL_TRUE, 0, vcount * 4, x, 0, NULL, NULL) != CL_SUCCESS) {
        code = cli_error(EXIT_DEVICE, "cannot copy to the device");
        goto done;
    }
    for (int r = -1; r < repeat && st == CLNORM_OK; ++r) {
        double a = cli_now_ms();
        st = clnorm_varnorm2d_forward(vlayer, &p, vn[0], vn[1], vn[2], vn[3], in, 0, out, 0, 0,
                                      NULL, NULL);
        if (st == CLNORM_OK && clFinish(q) != CL_SUCCESS)
            st = CLNORM_OPENCL_ERROR;
        if (r >= 0)
            t.ms[r] = cli_now_ms() - a;
    }
    if (st != CLNORM_OK || (code = cli_download(ctx, out, y, vcount)) != 0) {
        code = code ? code : cli_library_error(ctx, st, "demo varnorm2d");
        goto done;
    }
    ref_varnorm2d(x, vn[0] * vn[1], vn[2] * vn[3], vn[1], alpha, ref);
    tol_relative(ref, vcount, 4.0, tol);
    size_t bad;
    double worst = worst_ratio(y, ref, tol, vcount, &bad);
    failures += bad;
    char name[64];
    snprintf(name, sizeof name, "varnorm2d (%zu,%zu,%zu,%zu)", vn[0], vn[1], vn[2], vn[3]);
    report(name, vcount, &t, worst, bad);

    /* RevIN input, then output on its result (a round trip) */
    fill_family(x, rv[0], rv[1], rv[2], FAMILY_SCALES);
    if (clEnqueueWriteBuffer(q, in, CL_TRUE, 0, rcount * 4, x, 0, NULL, NULL) != CL_SUCCESS) {
        code = cli_error(EXIT_DEVICE, "cannot copy to the device");
        goto done;
    }
    for (int r = -1; r < repeat && st == CLNORM_OK; ++r) {
        double a = cli_now_ms();
        st = clnorm_revin_forward(rlayer, NULL, rv[0], rv[1], in, 0, out, 0, 0, NULL, NULL);
        if (st == CLNORM_OK && clFinish(q) != CL_SUCCESS)
            st = CLNORM_OPENCL_ERROR;
        if (r >= 0)
            t.ms[r] = cli_now_ms() - a;
    }
    if (st == CLNORM_OK)
        st = clnorm_revin_read_stats(rlayer, sm, ss, rows);
    if (st != CLNORM_OK || (code = cli_download(ctx, out, y, rcount)) != 0) {
        code = code ? code : cli_library_error(ctx, st, "demo revin");
        goto done;
    }
    ref_revin(x, rv[0], rv[1], rv[2], ref, rm, rs);
    tol_revin_y(ref, rm, rs, rv[0], rv[1], rv[2], tol);
    worst = worst_ratio(y, ref, tol, rcount, &bad);
    failures += bad;
    snprintf(name, sizeof name, "revin BLD (%zu,%zu,%zu)", rv[0], rv[1], rv[2]);
    report(name, rcount, &t, worst, bad);

    for (int r = -1; r < repeat && st == CLNORM_OK; ++r) {
        double a = cli_now_ms();
        st = clnorm_revin_inverse(rlayer, NULL, rv[0], rv[1], out, 0, in, 0, 0, NULL, NULL);
        if (st == CLNORM_OK && clFinish(q) != CL_SUCCESS)
            st = CLNORM_OPENCL_ERROR;
        if (r >= 0)
            t.ms[r] = cli_now_ms() - a;
    }
    float *back = y; /* reuse: y (the normalised values) is still the inverse's input */
    float *normalised = malloc(rcount * 4);
    if (!normalised || st != CLNORM_OK) {
        free(normalised);
        code = st != CLNORM_OK ? cli_library_error(ctx, st, "demo revin-inverse")
                               : cli_error(EXIT_DEVICE, "out of memory");
        goto done;
    }
    memcpy(normalised, y, rcount * 4);
    code = cli_download(ctx, in, back, rcount);
    if (code == 0) {
        ref_revin_inverse(normalised, rv[0], rv[1], rv[2], sm, ss, ref);
        for (size_t i = 0; i < rcount; ++i) /* x * s and the sum each round once */
            tol[i] = ulp_of((double)normalised[i] * ss[(i / (rv[1] * rv[2])) * rv[2] + i % rv[2]]) +
                     ulp_of(ref[i]);
        worst = worst_ratio(back, ref, tol, rcount, &bad);
        failures += bad;
        snprintf(name, sizeof name, "revin-inverse BLD (%zu,%zu,%zu)", rv[0], rv[1], rv[2]);
        report(name, rcount, &t, worst, bad);
    }
    free(normalised);
    if (code == 0 && failures) {
        code = cli_error(EXIT_DEVICE, "demo: %zu elements outside the tolerance", failures);
    } else if (code == 0) {
        printf("all results within tolerance of the float64 reference\n");
    }
done:
    if (in)
        clReleaseMemObject(in);
    if (out)
        clReleaseMemObject(out);
    clnorm_varnorm2d_destroy(vlayer);
    clnorm_revin_destroy(rlayer);
    clnorm_context_destroy(ctx);
    free(x), free(y), free(alpha), free(sm), free(ss), free(ref), free(tol), free(rm), free(rs),
        free(t.ms);
    return code;
}
