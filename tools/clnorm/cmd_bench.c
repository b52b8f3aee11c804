/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_bench.c: the bench subcommand: each layer on its bench shapes against
 * a copy kernel on the same bytes (interleaved, medians), its accuracy in the
 * same run, start-up cold and warm; a table, JSON and CSV. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "case_run.h"
#include "reference.h"

static const char help[] =
    "usage: clnorm bench [--quick | --large] [--repeat N] [--json FILE] [--csv FILE]\n"
    "                    [--device SPEC] [--accumulate MODE] [--no-startup] [--only OP[:LAYOUT]]\n"
    "                    [--copy chunks|grid] [--reference]\n"
    "\n"
    "Time VarianceNorm2d, RevIN (BLD and BDL) and RevIN's inverse on the benchmark shapes,\n"
    "each interleaved with a copy kernel on the same number of bytes (the ceiling of a\n"
    "memory-bound operation), and report medians, GB/s (input read once + output written\n"
    "once), the ratio to the copy (the median of each repeat's ratio), and the max\n"
    "relative error against the float64\n"
    "reference in the same run. Start-up: context creation + the first forward of each\n"
    "layer in a new process, with the program caches cold and warm (-1 with --no-startup).\n"
    "Exits 1 when a result is outside the accuracy bar: speed bought with accuracy does\n"
    "not count. --only runs the cases of one op (its class name or short name, e.g.\n"
    "LayerNorm or revin), optionally of one layout (nchw, bld, bdl, rows), e.g.\n"
    "--only revin:bdl. The ops and their shapes are the operation table's (tools/ops).\n"
    "--large enlarges each shape's batch until x holds at least 1 GiB (several times any\n"
    "GPU's L2). The copy kernel is copy_chunks (one contiguous chunk per work-item) on CPUs\n"
    "and copy_grid (16-byte vectors, grid-stride, coalesced) elsewhere; --copy picks one.\n"
    "The times are wall-clock; the JSON adds each one's time on the device (the queue's\n"
    "profiling) and the accumulator (--accumulate).\n"
    "--reference also times, in each repeat after the class and its copy, the first\n"
    "layers on the same bytes: VarianceNorm2d on an NCHW class's shape, else RevIN on\n"
    "the class's reduction view (BDL for contiguous rows, BLD for strided ones; RevIN's\n"
    "inverse for the classes that read statistics), and reports the class's ratio over\n"
    "the reference's (the median of each repeat's). None for the products and for the\n"
    "references themselves.\n";

/* Made from tools/clnorm/bench_copy.cl at build time. */
struct clnorm_tool__kernel_source {
    const char *name;
    const char *text;
    size_t length;
};
extern const struct clnorm_tool__kernel_source clnorm_tool__kernel_sources[];

/* One bench case: an op of the table and one of its bench cases (a copy:
 * --large makes its batch larger). */
typedef struct bench_case {
    const op_desc *op;
    op_case c;
} bench_case;

typedef struct result {
    bench_case bc;
    size_t count;
    double ms, gbps, copy_ms, ratio, max_rel_err, tol_ratio;
    int has_ref;                      /* --reference: ref was timed with it */
    bench_case ref;                   /* the reference case */
    double ref_ratio, of_ref;         /* its ratio to the copy, and ratio / ref_ratio (medians) */
    double gflops;                    /* products (op_desc.flops), else 0 */
    double device_ms, copy_device_ms; /* by the queue's profiling; -1 without */
} result;

/* The op's short name when it has one (the names the bench always used). */
static const char *op_label(const op_desc *op) { return op->alias ? op->alias : op->name; }

/* The copy kernel, built once: copy_chunks on CPUs, copy_grid on other
 * devices (or as --copy says). */
typedef struct copier {
    cl_program program;
    cl_kernel kernel;
    int grid;
    size_t items, local;
} copier;

static const char *const copy_kernels[] = {"chunks", "grid"};

static int copier_init(clnorm_context *ctx, int grid, copier *cp)
{
    cl_int err;
    const char *src = clnorm_tool__kernel_sources[0].text;
    cl_device_id dev = clnorm_context_device(ctx);
    cl_device_type type = CL_DEVICE_TYPE_CPU;
    cl_uint units = 1;
    size_t max_wg = 1;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    cp->grid = grid >= 0 ? grid : !(type & CL_DEVICE_TYPE_CPU);
    cp->program = clCreateProgramWithSource(clnorm_context_cl_context(ctx), 1, &src, NULL, &err);
    if (err == CL_SUCCESS)
        err = clBuildProgram(cp->program, 1, &dev, "", NULL, NULL);
    if (err == CL_SUCCESS)
        cp->kernel = clCreateKernel(cp->program, cp->grid ? "copy_grid" : "copy_chunks", &err);
    if (err == CL_SUCCESS)
        err = clGetKernelWorkGroupInfo(cp->kernel, dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_wg,
                                       &max_wg, NULL);
    if (err != CL_SUCCESS)
        return cli_error(EXIT_DEVICE, "bench: building the copy kernel failed (%d)", (int)err);
    if (cp->grid) { /* groups of up to 256, 32 of them per compute unit: a full GPU */
        cp->local = max_wg < 256 ? max_wg : 256;
        cp->items = (size_t)units * 32 * cp->local;
    } else {
        cp->local = max_wg < 16 ? max_wg : 16;
        cp->items = (size_t)units * 4 * cp->local;
    }
    return 0;
}

static void copier_release(copier *cp)
{
    if (cp->kernel)
        clReleaseKernel(cp->kernel);
    if (cp->program)
        clReleaseProgram(cp->program);
}

/* One copy of `count` floats, finished; its kernel time in *device_ms (-1
 * when the queue does not profile). */
static int copy_once(clnorm_context *ctx, copier *cp, cl_mem src, cl_mem dst, size_t count,
                     double *device_ms)
{
    cl_ulong n = cp->grid ? count / 4 : count / 16, per = (n + cp->items - 1) / cp->items;
    cl_event ev = NULL;
    cl_int err = clSetKernelArg(cp->kernel, 0, sizeof src, &src);
    err |= clSetKernelArg(cp->kernel, 1, sizeof dst, &dst);
    err |= clSetKernelArg(cp->kernel, 2, sizeof n, &n);
    if (!cp->grid)
        err |= clSetKernelArg(cp->kernel, 3, sizeof per, &per);
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(clnorm_context_queue(ctx), cp->kernel, 1, NULL, &cp->items,
                                     &cp->local, 0, NULL, &ev);
    if (err == CL_SUCCESS)
        err = clFinish(clnorm_context_queue(ctx));
    *device_ms = err == CL_SUCCESS ? case_event_ms(NULL, ev) : -1.0;
    if (ev)
        clReleaseEvent(ev);
    return err == CL_SUCCESS ? 0
                             : cli_error(EXIT_DEVICE, "bench: copy kernel failed (%d)", (int)err);
}

/* One forward of an open case, then the copy kernel on its bytes: wall
 * times and device times. */
static int time_pair(clnorm_context *ctx, copier *cp, case_run *cr, clnorm_status *st, double *t_op,
                     double *d_op, double *t_copy, double *d_copy)
{
    double a = cli_now_ms();
    *st = case_run_timed(ctx, cr, d_op);
    double m = cli_now_ms();
    /* a product's output may be the smaller tensor: the copy fits it */
    int code =
        copy_once(ctx, cp, cr->in, cr->out,
                  cr->cd.d.count < cr->cd.d.y_count ? cr->cd.d.count : cr->cd.d.y_count, d_copy);
    *t_op = m - a;
    *t_copy = cli_now_ms() - m;
    return code;
}

/* Case b, and with `ref` the reference case in each repeat after it. */
static int bench_one(clnorm_context *ctx, copier *cp, const bench_case *b, const bench_case *ref,
                     int repeat, result *r)
{
    case_run cr, rr;
    double *t_op = malloc((size_t)repeat * 8), *t_copy = malloc((size_t)repeat * 8),
           *paired = malloc((size_t)repeat * 8), *d_op = malloc((size_t)repeat * 8),
           *d_copy = malloc((size_t)repeat * 8), *ref_paired = malloc((size_t)repeat * 8),
           *of_ref = malloc((size_t)repeat * 8);
    int code = t_op && t_copy && paired && d_op && d_copy && ref_paired && of_ref
                   ? 0
                   : cli_error(EXIT_DEVICE, "bench: out of memory");
    memset(&cr, 0, sizeof cr);
    memset(&rr, 0, sizeof rr);
    if (!code)
        code = case_run_open(ctx, b->op, &b->c, FAMILY_SCALES, &cr);
    if (!code && ref)
        code = case_run_open(ctx, ref->op, &ref->c, FAMILY_SCALES, &rr);
    clnorm_status st = CLNORM_OK, ref_st = CLNORM_OK;
    for (int w = 0; w < 3 && !code && st == CLNORM_OK && ref_st == CLNORM_OK; ++w) { /* warm-up */
        st = case_run_once(ctx, &cr);
        if (ref)
            ref_st = case_run_once(ctx, &rr);
    }
    for (int i = 0; i < repeat && !code && st == CLNORM_OK && ref_st == CLNORM_OK; ++i) {
        code = time_pair(ctx, cp, &cr, &st, &t_op[i], &d_op[i], &t_copy[i], &d_copy[i]);
        if (!code && st == CLNORM_OK && ref) {
            double rt_op, rd_op, rt_copy, rd_copy;
            code = time_pair(ctx, cp, &rr, &ref_st, &rt_op, &rd_op, &rt_copy, &rd_copy);
            ref_paired[i] = rt_copy / rt_op;
            of_ref[i] = (t_copy[i] / t_op[i]) / ref_paired[i];
        }
    }
    if (!code && ref_st != CLNORM_OK)
        st = ref_st;
    if (!code && st == CLNORM_OK)
        st = case_run_once(ctx, &cr); /* the output the accuracy is measured on */
    if (!code && st != CLNORM_OK)
        code = cli_library_error(ctx, st, "bench");
    size_t bad = 0;
    if (!code)
        code = case_run_check(ctx, &cr, &r->max_rel_err, &r->tol_ratio, &bad);
    if (!code) {
        r->bc = *b;
        r->count = (cr.cd.d.count + cr.cd.d.y_count) / 2; /* 2 * count floats read and written */
        /* The ratio is the median of each repeat's own ratio (the copy ran
         * right after the op): the machine's bandwidth drifts over seconds,
         * and a ratio of two medians would mix moments. Both are taken
         * before the medians sort the times. */
        for (int i = 0; i < repeat; ++i)
            paired[i] = t_copy[i] / t_op[i];
        r->ratio = cli_median(paired, repeat);
        r->ms = cli_median(t_op, repeat);
        r->copy_ms = cli_median(t_copy, repeat);
        r->device_ms = cli_median(d_op, repeat); /* -1 (every run) without profiling */
        r->copy_device_ms = cli_median(d_copy, repeat);
        r->gbps = 2.0 * (double)r->count * 4 / (r->ms * 1e-3) / 1e9;
        r->has_ref = ref != NULL;
        if (ref) {
            r->ref = *ref;
            r->ref_ratio = cli_median(ref_paired, repeat);
            r->of_ref = cli_median(of_ref, repeat);
        }
        r->gflops = b->op->flops
                        ? b->op->flops(&b->c.config, b->c.shape, b->c.ndim) / (r->ms * 1e-3) / 1e9
                        : 0.0;
    }
    case_run_close(&cr);
    case_run_close(&rr);
    free(t_op), free(t_copy), free(paired), free(d_op), free(d_copy), free(ref_paired),
        free(of_ref);
    return code;
}

/* The context the bench times on: the device's, wrapped around a queue of
 * the bench's own that profiles (device times); the plain context when the
 * device cannot make one (device times then -1). */
static int bench_context(const char *device, clnorm_context **ctx)
{
    clnorm_context *plain = NULL;
    int code = cli_context(device, &plain);
    if (code)
        return code;
    cl_int err;
    cl_context cl_ctx = clnorm_context_cl_context(plain);
    cl_device_id dev = clnorm_context_device(plain);
    cl_command_queue q = clCreateCommandQueue(cl_ctx, dev, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        *ctx = plain;
        return 0;
    }
    clnorm_status st = clnorm_context_wrap(cl_ctx, dev, q, 0, ctx);
    clReleaseCommandQueue(q); /* the wrapping context holds its own reference */
    clnorm_context_destroy(plain);
    if (st != CLNORM_OK) {
        code = cli_library_error(*ctx, st, "bench: wrapping a profiling queue");
        clnorm_context_destroy(*ctx);
        *ctx = NULL;
    }
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
    /* Each op on its first test case (small shapes): the programs and
     * kernels every op needs, made and run once. */
    for (size_t i = 0; i < op_count && code == 0; ++i) {
        const op_desc *op = op_table[i];
        case_run cr;
        if (!op->tests_count)
            continue;
        code = case_run_open(ctx, op, &op->tests[0], FAMILY_NORMAL, &cr);
        clnorm_status st = code ? CLNORM_OK : case_run_once(ctx, &cr);
        if (st != CLNORM_OK)
            code = cli_library_error(ctx, st, "bench startup");
        case_run_close(&cr);
    }
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

/* "10x64x32x32" */
static void shape_string(const op_case *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->ndim && used < size; ++i)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? "x" : "", c->shape[i]);
}

/* JSON has no NaN or infinity: null for them. */
static cJSON *json_number(double x)
{
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

/* A case's class options by name, as the tool takes them (for tools that
 * run the same configuration elsewhere: tools/scripts/bench_torch.py). */
static cJSON *options_json(const op_desc *op, const op_config *c)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t k = 0; k < op->options_count; ++k) {
        const op_option *opt = &op->options[k];
        if (opt->kind == OPT_CHOICE)
            cJSON_AddStringToObject(o, opt->name, opt->choices[(int)c->v[k]]);
        else if (opt->kind == OPT_FLAG)
            cJSON_AddBoolToObject(o, opt->name, c->v[k] != 0);
        else
            cJSON_AddItemToObject(o, opt->name, json_number(c->v[k]));
    }
    if (op->flops) /* a product's out features (F, H), which its weight's file gives */
        cJSON_AddItemToObject(o, "out_features", json_number((double)op_classes(c)));
    return o;
}

static int write_json(const char *path, clnorm_context *ctx, const copier *cp, double copy_gbps,
                      const result *r, size_t n, double cold, double warm)
{
    cl_device_id dev = clnorm_context_device(ctx);
    char name[256] = "", driver[128] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    clGetDeviceInfo(dev, CL_DRIVER_VERSION, sizeof driver, driver, NULL);
    cJSON *root = cJSON_CreateObject(), *results = cJSON_CreateArray(),
          *startup = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", name);
    cJSON_AddStringToObject(root, "driver", driver);
    cJSON_AddStringToObject(root, "accumulator",
                            clnorm_context_uses_fp64(ctx) ? "fp64" : "float-float");
    cJSON_AddStringToObject(root, "copy_kernel", copy_kernels[cp->grid]);
    cJSON_AddItemToObject(root, "copy_gbps", json_number(copy_gbps));
    cJSON_AddItemToObject(root, "results", results);
    for (size_t i = 0; i < n; ++i) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray();
        for (size_t d = 0; d < r[i].bc.c.ndim; ++d)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)r[i].bc.c.shape[d]));
        cJSON_AddStringToObject(e, "op", op_label(r[i].bc.op));
        cJSON_AddStringToObject(e, "class", r[i].bc.op->name);
        cJSON_AddStringToObject(e, "layout", r[i].bc.c.layout);
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToObject(e, "options", options_json(r[i].bc.op, &r[i].bc.c.config));
        cJSON_AddNumberToObject(e, "bytes", (double)(2 * r[i].count * 4));
        cJSON_AddItemToObject(e, "ms", json_number(r[i].ms));
        cJSON_AddItemToObject(e, "device_ms", json_number(r[i].device_ms));
        cJSON_AddItemToObject(e, "copy_ms", json_number(r[i].copy_ms));
        cJSON_AddItemToObject(e, "copy_device_ms", json_number(r[i].copy_device_ms));
        cJSON_AddItemToObject(e, "gbps", json_number(r[i].gbps));
        if (r[i].bc.op->flops)
            cJSON_AddItemToObject(e, "gflops", json_number(r[i].gflops));
        cJSON_AddItemToObject(e, "ratio_to_copy", json_number(r[i].ratio));
        if (r[i].has_ref) {
            cJSON *ref = cJSON_CreateObject(), *ref_shape = cJSON_CreateArray();
            for (size_t d = 0; d < r[i].ref.c.ndim; ++d)
                cJSON_AddItemToArray(ref_shape, cJSON_CreateNumber((double)r[i].ref.c.shape[d]));
            cJSON_AddStringToObject(ref, "class", r[i].ref.op->name);
            cJSON_AddStringToObject(ref, "layout", r[i].ref.c.layout);
            cJSON_AddItemToObject(ref, "shape", ref_shape);
            cJSON_AddItemToObject(ref, "ratio_to_copy", json_number(r[i].ref_ratio));
            cJSON_AddItemToObject(e, "reference", ref);
            cJSON_AddItemToObject(e, "ratio_to_reference", json_number(r[i].of_ref));
        }
        cJSON_AddItemToObject(e, "max_rel_err", json_number(r[i].max_rel_err));
        cJSON_AddItemToArray(results, e);
    }
    cJSON_AddItemToObject(startup, "cold_ms", json_number(cold));
    cJSON_AddItemToObject(startup, "warm_ms", json_number(warm));
    cJSON_AddItemToObject(root, "startup", startup);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    cJSON_free(text);
    return ok ? 0 : cli_error(EXIT_USAGE, "bench: --json '%s': cannot write", path);
}

static int write_csv(const char *path, const result *r, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return cli_error(EXIT_USAGE, "bench: --csv '%s': cannot write", path);
    fprintf(f, "op,layout,shape,bytes,ms,gbps,copy_ms,copy_gbps,ratio_to_copy,max_rel_err\n");
    for (size_t i = 0; i < n; ++i) {
        char shape[96];
        shape_string(&r[i].bc.c, shape, sizeof shape);
        double cg = 2.0 * (double)r[i].count * 4 / (r[i].copy_ms * 1e-3) / 1e9;
        fprintf(f, "%s,%s,\"[%s]\",%zu,%.6f,%.4f,%.6f,%.4f,%.4f,%.3e\n", op_label(r[i].bc.op),
                r[i].bc.c.layout, shape, 2 * r[i].count * 4, r[i].ms, r[i].gbps, r[i].copy_ms, cg,
                r[i].ratio, r[i].max_rel_err);
    }
    if (fclose(f) != 0)
        return cli_error(EXIT_USAGE, "bench: --csv '%s': write failed", path);
    return 0;
}

/* --only OP[:LAYOUT]: OP the class name or the short name. */
static int case_selected(const bench_case *b, const char *only)
{
    const char *colon = strchr(only, ':');
    size_t oplen = colon ? (size_t)(colon - only) : strlen(only);
    const char *names[2] = {b->op->name, b->op->alias};
    int named = 0;
    for (int i = 0; i < 2; ++i)
        named |= names[i] && strlen(names[i]) == oplen && !strncmp(names[i], only, oplen);
    return named && (!colon || !strcmp(colon + 1, b->c.layout));
}

/* --large: the batch (the first axis of every op's shape) made large enough
 * that x holds at least 1 GiB, several times any GPU's L2 cache. */
#define LARGE_BYTES ((size_t)1 << 30)
static void make_large(op_case *c)
{
    size_t bytes = op_shape_count(c->shape, c->ndim) * sizeof(float);
    c->shape[0] *= (LARGE_BYTES + bytes - 1) / bytes;
}

/* --reference: the case of the first layers a class's speed is held to
 * (the same bytes, the same kind of pass; see the help). 0 when there is
 * none: the products, and the first layers themselves. */
static int reference_of(const bench_case *b, bench_case *ref)
{
    const op_desc *op = b->op, *varnorm = op_find("VarianceNorm2d"),
                  *revin = op_find("ReversibleInstanceNorm1dInput"),
                  *inverse = op_find("ReversibleInstanceNorm1dOutput");
    if (op->flops || op == varnorm || op == revin || op == inverse)
        return 0;
    memset(ref, 0, sizeof *ref);
    if (!strcmp(b->c.layout, "nchw") && b->c.ndim == 4) {
        ref->op = varnorm;
        ref->c.layout = "nchw";
        ref->c.ndim = 4;
        memcpy(ref->c.shape, b->c.shape, sizeof ref->c.shape);
        return 1;
    }
    size_t outer, n, inner;
    op->view(&b->c.config, b->c.shape, b->c.ndim, &outer, &n, &inner);
    ref->op = op->stats_in_count ? inverse : revin;
    ref->c.ndim = 3;
    if (inner == 1) { /* (B, D, L) --transposed: outer rows of n */
        ref->c.layout = "bdl";
        ref->c.config.v[0] = 1;
        ref->c.shape[0] = 1, ref->c.shape[1] = outer, ref->c.shape[2] = n;
    } else { /* (B, L, D): outer blocks of n rows of inner columns */
        ref->c.layout = "bld";
        ref->c.shape[0] = outer, ref->c.shape[1] = n, ref->c.shape[2] = inner;
    }
    return 1;
}

/* Every op's bench cases, in the table's order (`quick` ones only with
 * --quick; every case, with the batch enlarged, with --large). */
static size_t select_cases(const char *only, int quick, int large, bench_case *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < op_count; ++i)
        for (size_t j = 0; j < op_table[i]->bench_count; ++j) {
            bench_case b = {op_table[i], op_table[i]->bench[j]};
            if (large)
                make_large(&b.c);
            if ((quick && !b.c.quick) || (only && !case_selected(&b, only)))
                continue;
            if (n < cap)
                out[n] = b;
            n++;
        }
    return n;
}

int cmd_bench(int argc, char **argv)
{
    const char *json = NULL, *csv = NULL, *only = NULL;
    cli_common o = {0, 41, NULL};
    int startup = 1, large = 0, grid = -1, with_reference = 0;
    enum {
        OPT_NO_STARTUP = CLI_OPT_NEXT,
        OPT_JSON,
        OPT_CSV,
        OPT_ONLY,
        OPT_LARGE,
        OPT_COPY,
        OPT_REFERENCE,
        OPT_PROBE
    };
    static const struct option longs[] = {
        CLI_COMMON_OPTIONS,
        {"no-startup", no_argument, NULL, OPT_NO_STARTUP},
        {"json", required_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"only", required_argument, NULL, OPT_ONLY},
        {"large", no_argument, NULL, OPT_LARGE},
        {"copy", required_argument, NULL, OPT_COPY},
        {"reference", no_argument, NULL, OPT_REFERENCE},
        /* Internal: the start-up probe's child process (an empty value: the default device). */
        {"startup-probe", required_argument, NULL, OPT_PROBE},
        {NULL, 0, NULL, 0}};
    int code = cli_options_begin();
    for (int c; (c = cli_next_option("bench", help, argc, argv, longs, &code)) != -1;) {
        int common = cli_common_option("bench", c, &o);
        if (common < 0)
            return EXIT_USAGE;
        if (common)
            continue;
        switch (c) {
        case OPT_PROBE: return startup_probe(optarg[0] ? optarg : NULL);
        case OPT_NO_STARTUP: startup = 0; break;
        case OPT_JSON: json = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_LARGE: large = 1; break;
        case OPT_REFERENCE: with_reference = 1; break;
        case OPT_COPY:
            grid = !strcmp(optarg, "grid") ? 1 : !strcmp(optarg, "chunks") ? 0 : -1;
            if (grid < 0)
                return cli_error(EXIT_USAGE, "bench: --copy wants chunks or grid, got '%s'",
                                 optarg);
            break;
        default: /* OPT_ONLY */
            only = optarg;
            if (!select_cases(only, 0, 0, NULL, 0))
                return cli_error(EXIT_USAGE,
                                 "bench: --only '%s' selects no case (want OP[:LAYOUT], OP a "
                                 "class name or short name as 'clnorm --help' lists them, LAYOUT "
                                 "one of its bench layouts, e.g. revin:bdl)",
                                 only);
        }
    }
    if (code >= 0)
        return code;
    if (large && o.quick)
        return cli_error(EXIT_USAGE, "bench: --large and --quick do not go together");
    int quick = o.quick, repeat = o.repeat;
    const char *device = o.device;
    if (quick && repeat == 41)
        repeat = 5;
    rng_seed(rng_fresh_seed());
    double cold = -1.0, warm = -1.0, loaded = -1.0;
    if (startup)
        measure_startup("/proc/self/exe", device, &cold, &warm, &loaded);
    clnorm_context *ctx = NULL;
    if ((code = bench_context(device, &ctx)) != 0)
        return code;
    copier cp = {NULL, NULL, 0, 0, 0};
    size_t ncases = select_cases(only, quick, large, NULL, 0), n = 0;
    bench_case *cases = malloc((ncases ? ncases : 1) * sizeof *cases);
    result *results = malloc((ncases ? ncases : 1) * sizeof *results);
    if (!cases || !results) {
        code = cli_error(EXIT_DEVICE, "bench: out of memory");
        goto done;
    }
    select_cases(only, quick, large, cases, ncases);
    if ((code = copier_init(ctx, grid, &cp)) != 0)
        goto done;
    printf("clnorm %s bench on %s\n", clnorm_version_string(),
           clnorm_context_device_description(ctx));
    printf("%-14s %-5s %-20s %10s %9s %9s %9s %10s %8s%s\n", "op", "lay", "shape", "MiB", "ms",
           "GB/s", "copy", "of copy", "rel.err", with_reference ? "   of ref  reference" : "");
    for (size_t i = 0; i < ncases; ++i) {
        bench_case ref;
        int has_ref = with_reference && reference_of(&cases[i], &ref);
        if ((code = bench_one(ctx, &cp, &cases[i], has_ref ? &ref : NULL, repeat, &results[n])) !=
            0)
            goto done;
        const result *r = &results[n++];
        char shape[96];
        shape_string(&r->bc.c, shape, sizeof shape);
        double cg = 2.0 * (double)r->count * 4 / (r->copy_ms * 1e-3) / 1e9;
        printf("%-14s %-5s %-20s %10.2f %9.3f %9.2f %9.2f %10.2f %8.1e", op_label(r->bc.op),
               r->bc.c.layout, shape, 2.0 * (double)r->count * 4 / (1 << 20), r->ms, r->gbps, cg,
               r->ratio, r->max_rel_err);
        if (r->has_ref) {
            char ref_shape[96];
            shape_string(&r->ref.c, ref_shape, sizeof ref_shape);
            printf("  %7.2f  %s %s %s", r->of_ref, op_label(r->ref.op), r->ref.c.layout, ref_shape);
        }
        if (r->bc.op->flops)
            printf("  %.2f GFLOP/s", r->gflops);
        printf("%s\n", r->tol_ratio <= 1.0 ? "" : "  OUT OF TOLERANCE");
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
    if (json)
        code = write_json(json, ctx, &cp, copy_gbps, results, n, cold, warm);
    if (csv && !code)
        code = write_csv(csv, results, n);
    size_t inaccurate = 0;
    for (size_t i = 0; i < n; ++i)
        inaccurate += !(results[i].tol_ratio <= 1.0);
    if (!code && inaccurate)
        code = cli_error(EXIT_DEVICE, "bench: %zu result(s) outside the accuracy bar", inaccurate);
done:
    copier_release(&cp);
    clnorm_context_destroy(ctx);
    free(cases);
    free(results);
    return code;
}
