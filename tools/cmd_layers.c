/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_layers.c: the varnorm2d, revin and revin-inverse subcommands. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outputs.h"
#include "safetensors.h"

enum { OPT_ALPHA = 256, OPT_DEVICE, OPT_TRANSPOSED, OPT_MEAN_OUT, OPT_STD_OUT, OPT_MEAN, OPT_STD,
       OPT_HELP, OPT_PARAMS, OPT_PREFIX };

typedef struct options {
    const char *in, *out, *alpha, *device, *mean_out, *std_out, *mean, *std, *params, *prefix;
    int transposed;
} options;

/* Parse the options `allowed` (a string of option ids) for command `cmd`.
 * Returns -1 to go on, or an exit code. */
static int parse(const char *cmd, const char *help, int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"input", required_argument, NULL, 'i'},     {"output", required_argument, NULL, 'o'},
        {"alpha", required_argument, NULL, OPT_ALPHA}, {"device", required_argument, NULL, OPT_DEVICE},
        {"transposed", no_argument, NULL, OPT_TRANSPOSED},
        {"mean-out", required_argument, NULL, OPT_MEAN_OUT},
        {"std-out", required_argument, NULL, OPT_STD_OUT},
        {"mean", required_argument, NULL, OPT_MEAN},  {"std", required_argument, NULL, OPT_STD},
        {"params", required_argument, NULL, OPT_PARAMS},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"help", no_argument, NULL, OPT_HELP},       {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":i:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'i': o->in = optarg; break;
        case 'o': o->out = optarg; break;
        case OPT_ALPHA: o->alpha = optarg; break;
        case OPT_DEVICE: o->device = optarg; break;
        case OPT_TRANSPOSED: o->transposed = 1; break;
        case OPT_MEAN_OUT: o->mean_out = optarg; break;
        case OPT_STD_OUT: o->std_out = optarg; break;
        case OPT_MEAN: o->mean = optarg; break;
        case OPT_STD: o->std = optarg; break;
        case OPT_PARAMS: o->params = optarg; break;
        case OPT_PREFIX: o->prefix = optarg; break;
        case 'h':
        case OPT_HELP: fputs(help, stdout); return EXIT_OK;
        default: return cli_option_error(cmd, c, argv);
        }
    }
    if ((c = cli_leftover(cmd, argc, argv)) != 0)
        return c;
    if (!o->in || !o->out)
        return cli_error(EXIT_USAGE, "%s: %s is required (see clnorm %s --help)", cmd,
                         !o->in ? "-i IN.npy" : "-o OUT.npy", cmd);
    return -1;
}

/* Reject options that belong to another command. */
static int only(const char *cmd, const options *o, int alpha, int revin_out, int inverse)
{
    const char *bad = (!alpha && o->alpha)          ? "--alpha"
                      : (!alpha && o->params)       ? "--params"
                      : (!alpha && o->prefix)       ? "--prefix"
                      : (!revin_out && o->mean_out) ? "--mean-out"
                      : (!revin_out && o->std_out)  ? "--std-out"
                      : (!inverse && o->mean)       ? "--mean"
                      : (!inverse && o->std)        ? "--std"
                      : (alpha && o->transposed)    ? "--transposed"
                                                    : NULL;
    if (bad)
        return cli_error(EXIT_USAGE, "%s: option '%s' does not apply (see clnorm %s --help)", cmd,
                         bad, cmd);
    if (o->alpha && o->params)
        return cli_error(EXIT_USAGE, "%s: --alpha and --params both give alpha: use one (see "
                         "clnorm %s --help)", cmd, cmd);
    if (o->prefix && !o->params)
        return cli_error(EXIT_USAGE, "%s: --prefix needs --params (see clnorm %s --help)", cmd,
                         cmd);
    return -1;
}

/* Read tensor prefix + leaf from a .safetensors file as float32; on failure
 * report it (naming the option and the file) and return non-zero. */
static int load_params(const char *option, const char *path, const char *prefix,
                       const char *leaf, npy_array *out)
{
    char err[1024];
    size_t n = strlen(prefix) + strlen(leaf) + 1;
    char *name = malloc(n);
    if (!name)
        return cli_error(EXIT_DEVICE, "out of memory");
    snprintf(name, n, "%s%s", prefix, leaf);
    int rc = st_read_tensor(path, name, out, err, sizeof err);
    free(name);
    if (rc != 0)
        return cli_error(EXIT_USAGE, "%s '%s': %s", option, path, err);
    return 0;
}

/* What every layer command's help says about its outputs. */
#define OUTPUTS_HELP                                                                          \
    "\n"                                                                                      \
    "Each output must be new, a regular file, or a symbolic link to one (the link stays and\n" \
    "its target is replaced); a directory, device, FIFO or socket is refused before any work.\n" \
    "The outputs appear together when the run succeeds, or not at all: an error, or SIGINT,\n"  \
    "SIGTERM or SIGHUP before the end, leaves every output as it was. A new output gets mode\n" \
    "0666 & ~umask; a replaced one keeps its mode.\n"

static const char varnorm2d_help[] =
    "usage: clnorm varnorm2d -i IN.npy -o OUT.npy [--alpha A.npy] [--device SPEC]\n"
    "       clnorm varnorm2d -i IN.npy -o OUT.npy --params M.safetensors [--prefix P]\n"
    "                        [--device SPEC]\n"
    "\n"
    "ESPnet's VarianceNorm2d: y = alpha[c] * x / sqrt(var + 1e-5), var the unbiased variance\n"
    "of each (n, c) plane. IN is float32 (or float64) (N, C, H, W); A is (C,), default all\n"
    "ones. OUT is float32 (N, C, H, W). H*W == 1 gives NaN, as PyTorch does.\n"
    "\n"
    "--params reads alpha from a .safetensors checkpoint instead of A.npy: the tensor named\n"
    "P + \"alpha\" (the prefix P defaults to \"\"; for example --prefix model.norm. reads\n"
    "model.norm.alpha), dtype F32 or F64, shape (C,). --alpha and --params exclude each other.\n"
    OUTPUTS_HELP;

int cmd_varnorm2d(int argc, char **argv)
{
    options o;
    int code = parse("varnorm2d", varnorm2d_help, argc, argv, &o);
    if (code < 0)
        code = only("varnorm2d", &o, 1, 0, 0);
    if (code >= 0)
        return code;
    if ((code = outputs_add("-o", o.out)) != 0)
        return code;
    npy_array x = {0}, a = {0};
    float *ones = NULL, *y = NULL;
    clnorm_context *ctx = NULL;
    clnorm_varnorm2d *layer = NULL;
    cl_mem buf = NULL;
    char s1[128], s2[128];
    if ((code = cli_load("-i", o.in, &x)) != 0)
        goto done;
    if (x.ndim != 4) {
        code = cli_error(EXIT_USAGE, "-i '%s': expected a 4-d (N, C, H, W) array, found shape %s",
                         o.in, cli_shape(x.shape, x.ndim, s1, sizeof s1));
        goto done;
    }
    size_t c = x.shape[1];
    if (x.count == 0) {
        code = cli_error(EXIT_USAGE, "-i '%s': shape %s has a zero dimension", o.in,
                         cli_shape(x.shape, x.ndim, s1, sizeof s1));
        goto done;
    }
    const float *alpha;
    if (o.params) {
        if ((code = load_params("--params", o.params, o.prefix ? o.prefix : "", "alpha", &a)) != 0)
            goto done;
        if (a.ndim != 1 || a.shape[0] != c) {
            size_t want[1] = {c};
            code = cli_error(EXIT_USAGE, "--params '%s': tensor '%salpha': expected shape %s (C "
                             "of -i), found %s", o.params, o.prefix ? o.prefix : "",
                             cli_shape(want, 1, s1, sizeof s1),
                             cli_shape(a.shape, a.ndim, s2, sizeof s2));
            goto done;
        }
        alpha = a.data;
    } else if (o.alpha) {
        if ((code = cli_load("--alpha", o.alpha, &a)) != 0)
            goto done;
        if (a.ndim != 1 || a.shape[0] != c) {
            size_t want[1] = {c};
            code = cli_error(EXIT_USAGE, "--alpha '%s': expected shape %s (C of -i), found %s",
                             o.alpha, cli_shape(want, 1, s1, sizeof s1),
                             cli_shape(a.shape, a.ndim, s2, sizeof s2));
            goto done;
        }
        alpha = a.data;
    } else {
        ones = malloc(c * sizeof *ones);
        if (!ones) {
            code = cli_error(EXIT_DEVICE, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < c; ++i)
            ones[i] = 1.0f;
        alpha = ones;
    }
    y = malloc(x.count * sizeof *y);
    if (!y) {
        code = cli_error(EXIT_DEVICE, "out of memory for %zu floats", x.count);
        goto done;
    }
    if ((code = cli_context(o.device, &ctx)) != 0 || (code = cli_upload(ctx, x.data, x.count, &buf)) != 0)
        goto done;
    clnorm_status st = clnorm_varnorm2d_create(ctx, c, &layer);
    clnorm_varnorm2d_params p = {alpha, 1};
    if (st == CLNORM_OK)
        st = clnorm_varnorm2d_forward(layer, &p, x.shape[0], c, x.shape[2], x.shape[3], buf, 0,
                                      buf, 0, 0, NULL, NULL);
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, "varnorm2d");
        goto done;
    }
    if ((code = cli_download(ctx, buf, y, x.count)) != 0 ||
        (code = outputs_write(0, x.shape, 4, y)) != 0)
        goto done;
    code = outputs_commit();
done:
    outputs_discard();
    if (buf)
        clReleaseMemObject(buf);
    clnorm_varnorm2d_destroy(layer);
    clnorm_context_destroy(ctx);
    npy_free(&x);
    npy_free(&a);
    free(ones);
    free(y);
    return code;
}

static const char revin_help[] =
    "usage: clnorm revin -i IN.npy -o OUT.npy [--transposed] [--mean-out M.npy]\n"
    "                    [--std-out S.npy] [--device SPEC]\n"
    "\n"
    "ESPnet's ReversibleInstanceNorm1dInput: per (b, d) over L, m = mean,\n"
    "s = sqrt(population variance) + 1e-4, y = (x - m) / s. IN is float32 (or float64)\n"
    "(B, L, D), or (B, D, L) with --transposed; OUT has IN's shape. M and S receive ESPnet's\n"
    "m and s as float32 (B, D, 1), for revin-inverse.\n"
    OUTPUTS_HELP;

static const char revin_inverse_help[] =
    "usage: clnorm revin-inverse -i IN.npy -o OUT.npy --mean M.npy --std S.npy\n"
    "                            [--transposed] [--device SPEC]\n"
    "\n"
    "ESPnet's ReversibleInstanceNorm1dOutput: y = x * s + m with the statistics of a revin\n"
    "run. IN is (B, L, D), or (B, D, L) with --transposed; L may differ from the revin\n"
    "run's. M and S are (B, D, 1) with IN's B and D.\n"
    OUTPUTS_HELP;

/* B, L, D of a RevIN input per layout. */
static int revin_dims(const char *cmd, const char *path, const npy_array *x, int transposed,
                      size_t *b, size_t *l, size_t *d)
{
    char s1[128];
    if (x->ndim != 3)
        return cli_error(EXIT_USAGE, "%s: -i '%s': expected a 3-d %s array, found shape %s", cmd,
                         path, transposed ? "(B, D, L)" : "(B, L, D)",
                         cli_shape(x->shape, x->ndim, s1, sizeof s1));
    if (x->count == 0)
        return cli_error(EXIT_USAGE, "%s: -i '%s': shape %s has a zero dimension", cmd, path,
                         cli_shape(x->shape, x->ndim, s1, sizeof s1));
    *b = x->shape[0];
    *l = transposed ? x->shape[2] : x->shape[1];
    *d = transposed ? x->shape[1] : x->shape[2];
    return 0;
}

/* M or S for revin-inverse: (B, D, 1) matching the input. */
static int check_stats(const char *option, const char *path, const npy_array *a, size_t b,
                       size_t d)
{
    char s1[128], s2[128];
    size_t want[3] = {b, d, 1};
    if (a->ndim != 3 || a->shape[0] != b || a->shape[1] != d || a->shape[2] != 1)
        return cli_error(EXIT_USAGE, "revin-inverse: %s '%s': expected shape %s (B, D, 1) from -i, found %s",
                         option, path, cli_shape(want, 3, s1, sizeof s1),
                         cli_shape(a->shape, a->ndim, s2, sizeof s2));
    return 0;
}

static int run_revin(int argc, char **argv, int inverse)
{
    const char *cmd = inverse ? "revin-inverse" : "revin";
    options o;
    int code = parse(cmd, inverse ? revin_inverse_help : revin_help, argc, argv, &o);
    if (code < 0)
        code = only(cmd, &o, 0, !inverse, inverse);
    if (code >= 0)
        return code;
    if (inverse && (!o.mean || !o.std))
        return cli_error(EXIT_USAGE, "revin-inverse: %s is required (see clnorm revin-inverse --help)",
                         !o.mean ? "--mean M.npy" : "--std S.npy");
    npy_array x = {0}, m = {0}, s = {0};
    float *y = NULL, *sm = NULL, *ss = NULL;
    clnorm_context *ctx = NULL;
    clnorm_revin *layer = NULL;
    cl_mem buf = NULL;
    size_t b = 0, l = 0, d = 0;
    /* Every output checked, and its temporary made, before any work. */
    size_t n_out = 1, mean_at = 0, std_at = 0;
    if ((code = outputs_add("-o", o.out)) != 0 ||
        (o.mean_out && (mean_at = n_out++, code = outputs_add("--mean-out", o.mean_out)) != 0) ||
        (o.std_out && (std_at = n_out++, code = outputs_add("--std-out", o.std_out)) != 0))
        goto done;
    if ((code = cli_load("-i", o.in, &x)) != 0 ||
        (code = revin_dims(cmd, o.in, &x, o.transposed, &b, &l, &d)) != 0)
        goto done;
    if (inverse && ((code = cli_load("--mean", o.mean, &m)) != 0 ||
                    (code = check_stats("--mean", o.mean, &m, b, d)) != 0 ||
                    (code = cli_load("--std", o.std, &s)) != 0 ||
                    (code = check_stats("--std", o.std, &s, b, d)) != 0))
        goto done;
    y = malloc(x.count * sizeof *y);
    sm = malloc(b * d * sizeof *sm);
    ss = malloc(b * d * sizeof *ss);
    if (!y || !sm || !ss) {
        code = cli_error(EXIT_DEVICE, "out of memory for %zu floats", x.count);
        goto done;
    }
    if ((code = cli_context(o.device, &ctx)) != 0 || (code = cli_upload(ctx, x.data, x.count, &buf)) != 0)
        goto done;
    clnorm_status st =
        clnorm_revin_create(ctx, d, o.transposed ? CLNORM_REVIN_TRANSPOSED : 0, &layer);
    if (st == CLNORM_OK && inverse)
        st = clnorm_revin_set_stats(layer, b, m.data, s.data);
    if (st == CLNORM_OK)
        st = inverse ? clnorm_revin_inverse(layer, NULL, b, l, buf, 0, buf, 0, 0, NULL, NULL)
                     : clnorm_revin_forward(layer, NULL, b, l, buf, 0, buf, 0, 0, NULL, NULL);
    if (st == CLNORM_OK && !inverse)
        st = clnorm_revin_read_stats(layer, sm, ss, b * d);
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, cmd);
        goto done;
    }
    size_t stat_shape[3] = {b, d, 1};
    if ((code = cli_download(ctx, buf, y, x.count)) != 0 ||
        (code = outputs_write(0, x.shape, 3, y)) != 0 ||
        (o.mean_out && (code = outputs_write(mean_at, stat_shape, 3, sm)) != 0) ||
        (o.std_out && (code = outputs_write(std_at, stat_shape, 3, ss)) != 0))
        goto done;
    code = outputs_commit();
done:
    outputs_discard();
    if (buf)
        clReleaseMemObject(buf);
    clnorm_revin_destroy(layer);
    clnorm_context_destroy(ctx);
    npy_free(&x), npy_free(&m), npy_free(&s);
    free(y), free(sm), free(ss);
    return code;
}

int cmd_revin(int argc, char **argv)
{
    return run_revin(argc, argv, 0);
}

int cmd_revin_inverse(int argc, char **argv)
{
    return run_revin(argc, argv, 1);
}
