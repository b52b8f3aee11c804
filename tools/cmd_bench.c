/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_bench.c: the bench subcommand: each layer on the shapes against
 * a copy kernel on the same bytes (interleaved, medians), its accuracy in the
 * same run, start-up cold and warm; a table, JSON and CSV. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "reference.h"

static const char help[] =
    "usage: clnorm bench [--quick] [--repeat N] [--json FILE] [--csv FILE] [--device SPEC]\n"
    "                    [--no-startup] [--only OP[:LAYOUT]]\n"
    "\n"
    "Time VarianceNorm2d, RevIN (BLD and BDL) and RevIN's inverse on the benchmark shapes,\n"
    "each interleaved with a copy kernel on the same number of bytes (the ceiling of a\n"
    "memory-bound operation), and report medians, GB/s (input read once + output written\n"
    "once), the ratio to the copy (the median of each repeat's ratio), and the max\n"
    "relative error against the float64\n"
    "reference in the same run. Start-up: context creation + the first forward of each\n"
    "layer in a new process, with the program caches cold and warm (-1 with --no-startup).\n"
    "Exits 1 when a result is outside the accuracy bar: speed bought with accuracy does\n"
    "not count. --only runs the cases of one op (varnorm2d, revin, revin-inverse),\n"
    "optionally of one layout (nchw, bld, bdl), e.g. --only revin:bdl.\n";

/* Made from tools/bench_copy.cl at build time. */
struct clnorm_tool__kernel_source {
    const char *name;
    const char *text;
    size_t length;
};
extern const struct clnorm_tool__kernel_source clnorm_tool__kernel_sources[];

typedef enum op_kind { OP_VARNORM2D, OP_REVIN, OP_REVIN_INVERSE } op_kind;

typedef struct bench_case {
    op_kind op;
    int transposed; /* RevIN: BDL */
    size_t shape[4];
    size_t ndim;
    int quick;      /* part of --quick */
} bench_case;

static const bench_case cases[] = {
    {OP_VARNORM2D, 0, {10, 64, 32, 32}, 4, 1},
    {OP_VARNORM2D, 0, {4, 128, 64, 64}, 4, 0},
    {OP_VARNORM2D, 0, {16, 64, 128, 128}, 4, 0},
    {OP_REVIN, 0, {32, 10, 5}, 3, 1},
    {OP_REVIN, 0, {8, 16000, 80}, 3, 1},
    {OP_REVIN, 0, {64, 1024, 256}, 3, 0},
    {OP_REVIN, 1, {8, 80, 16000}, 3, 1},
    {OP_REVIN_INVERSE, 0, {32, 10, 5}, 3, 0},
    {OP_REVIN_INVERSE, 0, {8, 16000, 80}, 3, 1},
    {OP_REVIN_INVERSE, 0, {64, 1024, 256}, 3, 0},
    {OP_REVIN_INVERSE, 1, {8, 80, 16000}, 3, 0},
};

typedef struct result {
    const bench_case *c;
    size_t count;
    double ms, gbps, copy_ms, ratio, max_rel_err, tol_ratio;
} result;

static const char *op_name(op_kind op)
{
    return op == OP_VARNORM2D ? "varnorm2d" : op == OP_REVIN ? "revin" : "revin-inverse";
}

static const char *layout_name(const bench_case *c)
{
    return c->op == OP_VARNORM2D ? "nchw" : c->transposed ? "bdl" : "bld";
}

/* The copy kernel, built once. */
typedef struct copier {
    cl_program program;
    cl_kernel kernel;
    size_t items, local;
} copier;

static int copier_init(clnorm_context *ctx, copier *cp)
{
    cl_int err;
    const char *src = clnorm_tool__kernel_sources[0].text;
    cl_device_id dev = clnorm_context_device(ctx);
    cp->program = clCreateProgramWithSource(clnorm_context_cl_context(ctx), 1, &src, NULL, &err);
    if (err == CL_SUCCESS)
        err = clBuildProgram(cp->program, 1, &dev, "-cl-std=CL1.2", NULL, NULL);
    if (err == CL_SUCCESS)
        cp->kernel = clCreateKernel(cp->program, "copy_chunks", &err);
    if (err != CL_SUCCESS)
        return cli_error(EXIT_DEVICE, "bench: building the copy kernel failed (%d)", (int)err);
    cl_uint units = 1;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    cp->local = 16;
    cp->items = (size_t)units * 4 * cp->local;
    return 0;
}

static void copier_release(copier *cp)
{
    if (cp->kernel)
        clReleaseKernel(cp->kernel);
    if (cp->program)
        clReleaseProgram(cp->program);
}

static int copy_once(clnorm_context *ctx, copier *cp, cl_mem src, cl_mem dst, size_t count)
{
    cl_ulong n16 = count / 16, per = (n16 + cp->items - 1) / cp->items;
    cl_int err = clSetKernelArg(cp->kernel, 0, sizeof src, &src);
    err |= clSetKernelArg(cp->kernel, 1, sizeof dst, &dst);
    err |= clSetKernelArg(cp->kernel, 2, sizeof n16, &n16);
    err |= clSetKernelArg(cp->kernel, 3, sizeof per, &per);
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(clnorm_context_queue(ctx), cp->kernel, 1, NULL, &cp->items,
                                     &cp->local, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clFinish(clnorm_context_queue(ctx));
    return err == CL_SUCCESS ? 0 : cli_error(EXIT_DEVICE, "bench: copy kernel failed (%d)", (int)err);
}

/* The layers of one case, ready to run. */
typedef struct layer_set {
    clnorm_varnorm2d *vn;
    clnorm_revin *rv;
    float *alpha;
} layer_set;

static clnorm_status run_op(clnorm_context *ctx, const bench_case *c, layer_set *ls, cl_mem in,
                            cl_mem out)
{
    clnorm_status st;
    if (c->op == OP_VARNORM2D) {
        clnorm_varnorm2d_params p = {ls->alpha, 1};
        st = clnorm_varnorm2d_forward(ls->vn, &p, c->shape[0], c->shape[1], c->shape[2],
                                      c->shape[3], in, 0, out, 0, 0, NULL, NULL);
    } else {
        size_t b = c->shape[0], l = c->transposed ? c->shape[2] : c->shape[1];
        st = c->op == OP_REVIN
                 ? clnorm_revin_forward(ls->rv, NULL, b, l, in, 0, out, 0, 0, NULL, NULL)
                 : clnorm_revin_inverse(ls->rv, NULL, b, l, in, 0, out, 0, 0, NULL, NULL);
    }
    if (st == CLNORM_OK && clFinish(clnorm_context_queue(ctx)) != CL_SUCCESS)
        st = CLNORM_OPENCL_ERROR;
    return st;
}

/* max |got - ref| / max |ref|, and the worst |got - ref| / tolerance. */
static void accuracy(const float *got, const double *ref, const double *tol, size_t n,
                     double *rel, double *tol_ratio)
{
    double scale = 0.0, err = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]))
            scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(ref[i]))
            continue;
        double e = fabs((double)got[i] - ref[i]);
        err = fmax(err, e);
        if (tol[i] > 0)
            worst = fmax(worst, e / tol[i]);
        else if (e > 0)
            worst = INFINITY;
    }
    *rel = scale > 0 ? err / scale : err;
    *tol_ratio = worst;
}

static int bench_one(clnorm_context *ctx, copier *cp, const bench_case *c, int repeat,
                     result *r)
{
    size_t count = 1;
    for (size_t i = 0; i < c->ndim; ++i)
        count *= c->shape[i];
    size_t b = c->shape[0], d = c->op == OP_VARNORM2D ? c->shape[1]
                                : c->transposed        ? c->shape[1]
                                                       : c->shape[2];
    size_t l = c->op == OP_VARNORM2D ? c->shape[2] * c->shape[3]
               : c->transposed      ? c->shape[2]
                                    : c->shape[1];
    size_t rows = b * d, outer = c->op == OP_VARNORM2D || c->transposed ? rows : b;
    size_t inner = c->op == OP_VARNORM2D || c->transposed ? 1 : d;
    float *x = malloc(count * 4), *y = malloc(count * 4), *sm = malloc(rows * 4),
          *ss = malloc(rows * 4);
    double *ref = malloc(count * 8), *tol = malloc(count * 8), *rm = malloc(rows * 8),
           *rs = malloc(rows * 8), *t_op = malloc((size_t)repeat * 8),
           *t_copy = malloc((size_t)repeat * 8);
    layer_set ls = {NULL, NULL, malloc(d * 4)};
    cl_mem in = NULL, out = NULL;
    int code = 0;
    clnorm_status st = CLNORM_OK;
    if (!x || !y || !sm || !ss || !ref || !tol || !rm || !rs || !t_op || !t_copy || !ls.alpha) {
        code = cli_error(EXIT_DEVICE, "bench: out of memory");
        goto done;
    }
    fill_family(x, outer, l, inner, c->op == OP_REVIN_INVERSE ? FAMILY_NORMAL : FAMILY_SCALES);
    for (size_t i = 0; i < d; ++i)
        ls.alpha[i] = (float)(1.0 + 0.02 * rng_normal());
    for (size_t i = 0; i < rows; ++i) { /* statistics for the inverse */
        sm[i] = (float)(10.0 * rng_normal());
        ss[i] = (float)(0.5 + rng_uniform());
    }
    if ((code = cli_upload(ctx, x, count, &in)) != 0 || (code = cli_upload(ctx, NULL, count, &out)) != 0)
        goto done;
    if (c->op == OP_VARNORM2D)
        st = clnorm_varnorm2d_create(ctx, d, &ls.vn);
    else
        st = clnorm_revin_create(ctx, d, c->transposed ? CLNORM_REVIN_TRANSPOSED : 0, &ls.rv);
    if (st == CLNORM_OK && c->op == OP_REVIN_INVERSE)
        st = clnorm_revin_set_stats(ls.rv, b, sm, ss);
    for (int w = 0; w < 3 && st == CLNORM_OK; ++w) /* warm-up */
        st = run_op(ctx, c, &ls, in, out);
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, "bench");
        goto done;
    }
    for (int i = 0; i < repeat && st == CLNORM_OK && code == 0; ++i) {
        double a = cli_now_ms();
        st = run_op(ctx, c, &ls, in, out);
        double m = cli_now_ms();
        code = copy_once(ctx, cp, in, out, count);
        t_op[i] = m - a;
        t_copy[i] = cli_now_ms() - m;
    }
    if (st == CLNORM_OK && code == 0)
        st = run_op(ctx, c, &ls, in, out); /* the output the accuracy is measured on */
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, "bench");
        goto done;
    }
    if (code || (code = cli_download(ctx, out, y, count)) != 0)
        goto done;
    if (c->op == OP_VARNORM2D) {
        ref_varnorm2d(x, rows, l, d, ls.alpha, ref);
        tol_relative(ref, count, 4.0, tol);
    } else if (c->op == OP_REVIN) {
        ref_revin(x, outer, l, inner, ref, rm, rs);
        tol_revin_y(ref, rm, rs, outer, l, inner, tol);
    } else {
        ref_revin_inverse(x, outer, l, inner, sm, ss, ref);
        for (size_t o = 0; o < outer; ++o)
            for (size_t k = 0; k < l; ++k)
                for (size_t i = 0; i < inner; ++i) {
                    size_t idx = (o * l + k) * inner + i;
                    tol[idx] = ulp_of((double)x[idx] * ss[o * inner + i]) + ulp_of(ref[idx]);
                }
    }
    r->c = c;
    r->count = count;
    /* The ratio is the median of each repeat's own ratio (the copy ran right
     * after the op): the machine's bandwidth drifts over seconds, and a
     * ratio of two medians would mix moments. Both are taken before the
     * medians sort the times. */
    double *paired = malloc((size_t)repeat * 8);
    if (!paired) {
        code = cli_error(EXIT_DEVICE, "bench: out of memory");
        goto done;
    }
    for (int i = 0; i < repeat; ++i)
        paired[i] = t_copy[i] / t_op[i];
    r->ratio = cli_median(paired, repeat);
    free(paired);
    r->ms = cli_median(t_op, repeat);
    r->copy_ms = cli_median(t_copy, repeat);
    r->gbps = 2.0 * (double)count * 4 / (r->ms * 1e-3) / 1e9;
    accuracy(y, ref, tol, count, &r->max_rel_err, &r->tol_ratio);
done:
    if (in)
        clReleaseMemObject(in);
    if (out)
        clReleaseMemObject(out);
    clnorm_varnorm2d_destroy(ls.vn);
    clnorm_revin_destroy(ls.rv);
    free(x), free(y), free(sm), free(ss), free(ref), free(tol), free(rm), free(rs), free(t_op),
        free(t_copy), free(ls.alpha);
    return code;
}

/* Start-up probe, run in a new process: context + first forward of each layer. */
static int startup_probe(const char *device)
{
    double t0 = cli_now_ms();
    /* The ICD loader loads the platforms on its first call (PoCL: LLVM and
     * clang, relocated and initialised): timed apart, as nothing of ours. */
    cl_uint platforms = 0;
    clGetPlatformIDs(0, NULL, &platforms);
    double loaded = cli_now_ms() - t0;
    clnorm_context *ctx = NULL;
    int code = cli_context(device, &ctx);
    if (code)
        return code;
    static const bench_case probe[] = {
        {OP_VARNORM2D, 0, {2, 8, 16, 16}, 4, 0},
        {OP_REVIN, 0, {2, 64, 80}, 3, 0},
        {OP_REVIN, 1, {2, 80, 64}, 3, 0},
    };
    size_t count = 2 * 64 * 80;
    cl_mem buf = NULL;
    code = cli_upload(ctx, NULL, count, &buf);
    float alpha[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < 3 && code == 0; ++i) {
        layer_set ls = {NULL, NULL, alpha};
        const bench_case *c = &probe[i];
        clnorm_status st = c->op == OP_VARNORM2D
                               ? clnorm_varnorm2d_create(ctx, c->shape[1], &ls.vn)
                               : clnorm_revin_create(ctx, c->transposed ? c->shape[1] : c->shape[2],
                                                     c->transposed ? CLNORM_REVIN_TRANSPOSED : 0,
                                                     &ls.rv);
        if (st == CLNORM_OK)
            st = run_op(ctx, c, &ls, buf, buf);
        if (st == CLNORM_OK && c->op == OP_REVIN) {
            bench_case inv = *c;
            inv.op = OP_REVIN_INVERSE;
            st = run_op(ctx, &inv, &ls, buf, buf);
        }
        if (st != CLNORM_OK)
            code = cli_library_error(ctx, st, "bench startup");
        clnorm_varnorm2d_destroy(ls.vn);
        clnorm_revin_destroy(ls.rv);
    }
    if (buf)
        clReleaseMemObject(buf);
    clnorm_context_destroy(ctx);
    if (code == 0)
        printf("%.3f %.3f\n", cli_now_ms() - t0, loaded);
    return code;
}

/* Run the probe in a child with the given cache directories; its time in ms,
 * and in *loaded the part the OpenCL platforms took to load. */
static double startup_child(const char *self, const char *device, const char *cache,
                            const char *pocl_cache, double *loaded)
{
    *loaded = -1.0;
    int fds[2];
    if (pipe(fds) != 0)
        return -1.0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        setenv("CLNORM_CACHE_DIR", cache, 1);
        setenv("POCL_CACHE_DIR", pocl_cache, 1);
        execl(self, self, "bench", "--startup-probe", device ? device : "", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[64] = {0};
    ssize_t n = pid > 0 ? read(fds[0], buf, sizeof buf - 1) : -1;
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    double total = -1.0;
    if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(buf, "%lf %lf", &total, loaded) != 2)
        return -1.0;
    return total;
}

static void measure_startup(const char *self, const char *device, double *cold, double *warm,
                            double *loaded)
{
    char root[] = "/tmp/clnorm-bench-XXXXXX";
    *cold = *warm = *loaded = -1.0;
    if (!mkdtemp(root))
        return;
    char cache[64], pocl[64], cmd[160];
    snprintf(cache, sizeof cache, "%s/clnorm", root);
    snprintf(pocl, sizeof pocl, "%s/pocl", root);
    double l[5];
    *cold = startup_child(self, device, cache, pocl, &l[0]);
    double w[5];
    for (int i = 0; i < 5; ++i)
        w[i] = startup_child(self, device, cache, pocl, &l[i]);
    *warm = cli_median(w, 5);
    *loaded = cli_median(l, 5);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "clnorm: warning: could not remove %s\n", root);
}

static void shape_string(const bench_case *c, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t i = 0; i < c->ndim && used < size; ++i)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", c->shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static int write_reports(const char *json, const char *csv, clnorm_context *ctx,
                         double copy_gbps, const result *r, size_t n, double cold, double warm)
{
    cl_device_id dev = clnorm_context_device(ctx);
    char name[256] = "", driver[128] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    clGetDeviceInfo(dev, CL_DRIVER_VERSION, sizeof driver, driver, NULL);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f)
            return cli_error(EXIT_USAGE, "bench: --json '%s': cannot write", json);
        fputs("{\"device\": ", f);
        cli_json_string(f, name);
        fputs(", \"driver\": ", f);
        cli_json_string(f, driver);
        fputs(", \"copy_gbps\": ", f);
        cli_json_number(f, "%.4f", copy_gbps);
        fputs(", \"results\": [", f);
        for (size_t i = 0; i < n; ++i) {
            char shape[96];
            shape_string(r[i].c, shape, sizeof shape);
            fprintf(f, "%s\n  {\"op\": \"%s\", \"layout\": \"%s\", \"shape\": %s, \"bytes\": %zu",
                    i ? "," : "", op_name(r[i].c->op), layout_name(r[i].c), shape,
                    2 * r[i].count * 4);
            fputs(", \"ms\": ", f);
            cli_json_number(f, "%.6f", r[i].ms);
            fputs(", \"gbps\": ", f);
            cli_json_number(f, "%.4f", r[i].gbps);
            fputs(", \"ratio_to_copy\": ", f);
            cli_json_number(f, "%.4f", r[i].ratio);
            fputs(", \"max_rel_err\": ", f);
            cli_json_number(f, "%.3e", r[i].max_rel_err);
            fputc('}', f);
        }
        fprintf(f, "\n], \"startup\": {\"cold_ms\": %.3f, \"warm_ms\": %.3f}}\n", cold, warm);
        if (fclose(f) != 0)
            return cli_error(EXIT_USAGE, "bench: --json '%s': write failed", json);
    }
    if (csv) {
        FILE *f = fopen(csv, "w");
        if (!f)
            return cli_error(EXIT_USAGE, "bench: --csv '%s': cannot write", csv);
        fprintf(f, "op,layout,shape,bytes,ms,gbps,copy_ms,copy_gbps,ratio_to_copy,max_rel_err\n");
        for (size_t i = 0; i < n; ++i) {
            char shape[96];
            shape_string(r[i].c, shape, sizeof shape);
            char *w = shape; /* "[10, 64]" -> "[10x64]" */
            for (const char *p = shape; *p; ++p)
                if (*p != ' ')
                    *w++ = *p == ',' ? 'x' : *p;
            *w = '\0';
            double cg = 2.0 * (double)r[i].count * 4 / (r[i].copy_ms * 1e-3) / 1e9;
            fprintf(f, "%s,%s,\"%s\",%zu,%.6f,%.4f,%.6f,%.4f,%.4f,%.3e\n", op_name(r[i].c->op),
                    layout_name(r[i].c), shape, 2 * r[i].count * 4, r[i].ms, r[i].gbps,
                    r[i].copy_ms, cg, r[i].ratio, r[i].max_rel_err);
        }
        if (fclose(f) != 0)
            return cli_error(EXIT_USAGE, "bench: --csv '%s': write failed", csv);
    }
    return 0;
}

/* --only OP[:LAYOUT] */
static int case_selected(const bench_case *c, const char *only)
{
    const char *colon = strchr(only, ':');
    size_t oplen = colon ? (size_t)(colon - only) : strlen(only);
    const char *op = op_name(c->op);
    if (strlen(op) != oplen || strncmp(op, only, oplen) != 0)
        return 0;
    return !colon || !strcmp(colon + 1, layout_name(c));
}

static int selects_any(const char *only)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        if (case_selected(&cases[i], only))
            return 1;
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    const char *device = NULL, *json = NULL, *csv = NULL;
    const char *only = NULL;
    int quick = 0, repeat = 41, startup = 1, code;
    long value;
    enum { OPT_QUICK = 256, OPT_NO_STARTUP, OPT_REPEAT, OPT_JSON, OPT_CSV, OPT_DEVICE, OPT_ONLY,
           OPT_PROBE, OPT_HELP };
    static const struct option longs[] = {
        {"quick", no_argument, NULL, OPT_QUICK},      {"no-startup", no_argument, NULL, OPT_NO_STARTUP},
        {"repeat", required_argument, NULL, OPT_REPEAT}, {"json", required_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},    {"device", required_argument, NULL, OPT_DEVICE},
        {"only", required_argument, NULL, OPT_ONLY},
        /* Internal: the start-up probe's child process (an empty value: the default device). */
        {"startup-probe", required_argument, NULL, OPT_PROBE},
        {"help", no_argument, NULL, OPT_HELP},        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", longs, NULL)) != -1;) {
        switch (c) {
        case 'h':
        case OPT_HELP: fputs(help, stdout); return EXIT_OK;
        case OPT_PROBE: return startup_probe(optarg[0] ? optarg : NULL);
        case OPT_QUICK: quick = 1; break;
        case OPT_NO_STARTUP: startup = 0; break;
        case OPT_REPEAT:
            if ((code = cli_int_option("bench", "--repeat", optarg, 1, 10000, &value)) != 0)
                return code;
            repeat = (int)value;
            break;
        case OPT_JSON: json = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_ONLY:
            only = optarg;
            if (!selects_any(only))
                return cli_error(EXIT_USAGE,
                                 "bench: --only '%s' selects no case (want OP[:LAYOUT], OP one of "
                                 "varnorm2d, revin, revin-inverse; LAYOUT one of nchw, bld, bdl)",
                                 only);
            break;
        default: return cli_option_error("bench", c, argv);
        }
    }
    if ((code = cli_leftover("bench", argc, argv)) != 0)
        return code;
    if (quick && repeat == 41)
        repeat = 5;
    rng_seed(rng_fresh_seed());
    double cold = -1.0, warm = -1.0, loaded = -1.0;
    if (startup)
        measure_startup("/proc/self/exe", device, &cold, &warm, &loaded);
    clnorm_context *ctx = NULL;
    if ((code = cli_context(device, &ctx)) != 0)
        return code;
    copier cp = {NULL, NULL, 0, 0};
    result results[sizeof cases / sizeof cases[0]];
    size_t n = 0;
    if ((code = copier_init(ctx, &cp)) != 0)
        goto done;
    printf("clnorm %s bench on %s\n", clnorm_version_string(),
           clnorm_context_device_description(ctx));
    printf("%-14s %-5s %-20s %10s %9s %9s %9s %10s %8s\n", "op", "lay", "shape", "MiB", "ms",
           "GB/s", "copy", "of copy", "rel.err");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        if ((quick && !cases[i].quick) || (only && !case_selected(&cases[i], only)))
            continue;
        if ((code = bench_one(ctx, &cp, &cases[i], repeat, &results[n])) != 0)
            goto done;
        const result *r = &results[n++];
        char shape[96];
        shape_string(r->c, shape, sizeof shape);
        double cg = 2.0 * (double)r->count * 4 / (r->copy_ms * 1e-3) / 1e9;
        printf("%-14s %-5s %-20s %10.2f %9.3f %9.2f %9.2f %10.2f %8.1e%s\n", op_name(r->c->op),
               layout_name(r->c), shape, 2.0 * (double)r->count * 4 / (1 << 20), r->ms, r->gbps,
               cg, r->ratio, r->max_rel_err, r->tol_ratio <= 1.0 ? "" : "  OUT OF TOLERANCE");
        fflush(stdout);
    }
    /* The device's copy bandwidth: the copy on the largest tensor measured. */
    double copy_gbps = 0.0;
    size_t largest = 0;
    for (size_t i = 0; i < n; ++i)
        if (results[i].count > largest) {
            largest = results[i].count;
            copy_gbps = 2.0 * (double)largest * 4 / (results[i].copy_ms * 1e-3) / 1e9;
        }
    printf("copy kernel: %.2f GB/s on the largest tensor\n", copy_gbps);
    if (startup)
        printf("start-up (context + first forward of each layer, new process): cold %.0f ms, "
               "warm %.0f ms\n"
               "  of which loading the OpenCL platforms (clGetPlatformIDs, before any clnorm "
               "call): %.0f ms\n",
               cold, warm, loaded);
    code = write_reports(json, csv, ctx, copy_gbps, results, n, cold, warm);
    size_t inaccurate = 0;
    for (size_t i = 0; i < n; ++i)
        inaccurate += !(results[i].tol_ratio <= 1.0);
    if (!code && inaccurate)
        code = cli_error(EXIT_DEVICE, "bench: %zu result(s) outside the accuracy bar", inaccurate);
done:
    copier_release(&cp);
    clnorm_context_destroy(ctx);
    return code;
}
