/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_op.c: `clnorm CLASS ...` for every operation of the table (tools/ops):
 * options, input, parameters (a safetensors state_dict, .npy files or the
 * defaults), statistics read and written, one forward, outputs. The short
 * names varnorm2d, revin and revin-inverse are the same commands. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ops.h"
#include "outputs.h"
#include "safetensors.h"

/* Long options: the common ones, then every op's class options, statistics
 * options and .npy parameter options (each name once), so that an option of
 * another class is "does not apply" rather than "unknown". */
enum { OPT_DEVICE = 256, OPT_ACCUMULATE, OPT_PARAMS, OPT_PREFIX, OPT_LABELS, OPT_EXTRA };
#define MAX_EXTRA 64

typedef struct given {
    const char *in, *out, *device, *params, *prefix, *labels;
    const char *extra_name[MAX_EXTRA]; /* the union's extra options, by id - OPT_EXTRA */
    const char *extra_value[MAX_EXTRA];
    int extra_given[MAX_EXTRA];
    size_t extra_count;
} given;

static int add_extra(given *g, struct option *longs, size_t *n, const char *name, int has_arg)
{
    for (size_t i = 0; i < g->extra_count; ++i)
        if (!strcmp(g->extra_name[i], name))
            return 0;
    if (g->extra_count == MAX_EXTRA)
        return -1;
    g->extra_name[g->extra_count] = name;
    struct option o = {name, has_arg, NULL, OPT_EXTRA + (int)g->extra_count++};
    longs[(*n)++] = o;
    return 0;
}

/* The index of extra option `name` in g, or -1. */
static int extra_index(const given *g, const char *name)
{
    for (size_t i = 0; i < g->extra_count; ++i)
        if (!strcmp(g->extra_name[i], name))
            return (int)i;
    return -1;
}

static int parse(const char *cmd, const char *help, int argc, char **argv, given *g)
{
    static struct option longs[MAX_EXTRA + 16];
    size_t n = 0;
    const struct option common[] = {
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"accumulate", required_argument, NULL, OPT_ACCUMULATE},
        {"params", required_argument, NULL, OPT_PARAMS},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"help", no_argument, NULL, 'h'},
    };
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < sizeof common / sizeof common[0]; ++i)
        longs[n++] = common[i];
    for (size_t t = 0; t < op_count; ++t) {
        const op_desc *o = op_table[t];
        int bad = 0;
        for (size_t i = 0; i < o->options_count; ++i)
            bad |= add_extra(g, longs, &n, o->options[i].name,
                             o->options[i].kind == OPT_FLAG ? no_argument : required_argument);
        for (size_t i = 0; i < o->stats_out_count; ++i)
            bad |= add_extra(g, longs, &n, o->stats_out[i].option, required_argument);
        for (size_t i = 0; i < o->stats_in_count; ++i)
            bad |= add_extra(g, longs, &n, o->stats_in[i].option, required_argument);
        if (bad)
            return cli_error(EXIT_USAGE, "too many options in the operation table");
    }
    /* The parameters that a .npy file may give: from the op's default
     * configuration (VarianceNorm2d's --alpha). */
    static const size_t probe_shape[4] = {1, 1, 1, 1};
    for (size_t t = 0; t < op_count; ++t) {
        op_config c;
        op_param ps[OP_MAX_PARAMS];
        op_config_default(op_table[t], &c);
        size_t np = op_table[t]->params(&c, probe_shape, 4, ps);
        for (size_t i = 0; i < np; ++i)
            if (ps[i].npy_option && add_extra(g, longs, &n, ps[i].npy_option, required_argument))
                return cli_error(EXIT_USAGE, "too many options in the operation table");
    }
    struct option end = {NULL, 0, NULL, 0};
    longs[n] = end;
    int code = cli_options_begin();
    for (int c; (c = cli_next_option(cmd, help, argc, argv, longs, &code)) != -1;) {
        switch (c) {
        case 'i': g->in = optarg; break;
        case 'o': g->out = optarg; break;
        case OPT_DEVICE: g->device = optarg; break;
        case OPT_ACCUMULATE:
            if (cli_accumulate(cmd, optarg) != 0)
                return EXIT_USAGE;
            break;
        case OPT_PARAMS: g->params = optarg; break;
        case OPT_PREFIX: g->prefix = optarg; break;
        case OPT_LABELS: g->labels = optarg; break;
        default: /* an extra option */
            g->extra_given[c - OPT_EXTRA] = 1;
            g->extra_value[c - OPT_EXTRA] = optarg;
        }
    }
    return code;
}

/* ---- what applies to the op ---- */

static int is_stat_option(const op_stat *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; ++i)
        if (!strcmp(s[i].option, name))
            return 1;
    return 0;
}

/* The op's parameters under config c for a shape of x (rank and sizes do
 * not matter for which parameters there are). */
static size_t op_params(const op_desc *op, const op_config *c, const npy_array *x, op_param *ps)
{
    static const size_t probe[OP_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
    return x ? op->params(c, x->shape, x->ndim, ps) : op->params(c, probe, 4, ps);
}

/* The configuration from the class options given; refuse the options that
 * belong to other classes. */
static int configure(const char *cmd, const op_desc *op, const given *g, op_config *c)
{
    if (!g->in || !g->out)
        return cli_error(EXIT_USAGE, "%s: %s is required (see clnorm %s --help)", cmd,
                         !g->in ? "-i IN.npy" : "-o OUT.npy", cmd);
    op_config_default(op, c);
    for (size_t i = 0; i < op->options_count; ++i) {
        const op_option *o = &op->options[i];
        int e = extra_index(g, o->name);
        if (e < 0 || !g->extra_given[e])
            continue;
        const char *v = g->extra_value[e];
        char *end = NULL;
        long n;
        switch (o->kind) {
        case OPT_FLAG: c->v[i] = 1; break;
        case OPT_COUNT: {
            char option[64];
            snprintf(option, sizeof option, "--%s", o->name);
            if (cli_int_option(cmd, option, v, 0, 1L << 30, &n) != 0)
                return EXIT_USAGE;
            c->v[i] = (double)n;
            break;
        }
        case OPT_REAL:
            c->v[i] = strtod(v, &end);
            if (!*v || !end || *end || !isfinite(c->v[i]) || c->v[i] < 0)
                return cli_error(EXIT_USAGE, "%s: --%s wants a finite number >= 0, got '%s'", cmd,
                                 o->name, v);
            break;
        case OPT_CHOICE: {
            int found = -1;
            for (int k = 0; o->choices[k]; ++k)
                if (!strcmp(o->choices[k], v))
                    found = k;
            if (found < 0)
                return cli_error(EXIT_USAGE,
                                 "%s: --%s '%s' is not one of the choices (see "
                                 "clnorm %s --help)",
                                 cmd, o->name, v, cmd);
            c->v[i] = found;
            break;
        }
        }
    }
    op_param ps[OP_MAX_PARAMS];
    size_t np = op_params(op, c, NULL, ps);
    for (size_t e = 0; e < g->extra_count; ++e) {
        if (!g->extra_given[e])
            continue;
        const char *name = g->extra_name[e];
        int applies = op_option_index(op, name) >= 0 ||
                      is_stat_option(op->stats_out, op->stats_out_count, name) ||
                      is_stat_option(op->stats_in, op->stats_in_count, name);
        for (size_t i = 0; i < np; ++i)
            applies |= ps[i].npy_option && !strcmp(ps[i].npy_option, name);
        if (!applies)
            return cli_error(EXIT_USAGE, "%s: option '--%s' does not apply (see clnorm %s --help)",
                             cmd, name, cmd);
    }
    if ((g->params || g->prefix) && !np)
        return cli_error(EXIT_USAGE, "%s: option '%s' does not apply (see clnorm %s --help)", cmd,
                         g->params ? "--params" : "--prefix", cmd);
    if (g->labels && !op->labels)
        return cli_error(EXIT_USAGE, "%s: option '--labels' does not apply (see clnorm %s --help)",
                         cmd, cmd);
    if (!g->labels && op->labels)
        return cli_error(EXIT_USAGE, "%s: --labels Y.npy is required (see clnorm %s --help)", cmd,
                         cmd);
    for (size_t i = 0; i < np; ++i) {
        int e = ps[i].npy_option ? extra_index(g, ps[i].npy_option) : -1;
        if (e >= 0 && g->extra_given[e] && g->params)
            return cli_error(EXIT_USAGE,
                             "%s: --%s and --params both give %s: use one (see "
                             "clnorm %s --help)",
                             cmd, ps[i].npy_option, ps[i].name, cmd);
    }
    if (g->prefix && !g->params)
        return cli_error(EXIT_USAGE, "%s: --prefix needs --params (see clnorm %s --help)", cmd,
                         cmd);
    for (size_t i = 0; i < op->stats_in_count; ++i) {
        int e = extra_index(g, op->stats_in[i].option);
        if (!g->extra_given[e]) /* "--mean M.npy": the statistic's name as the file's */
            return cli_error(EXIT_USAGE, "%s: --%s %c.npy is required (see clnorm %s --help)", cmd,
                             op->stats_in[i].option, op->stats_in[i].name[0] - 'a' + 'A', cmd);
    }
    return -1;
}

/* ---- parameters ---- */

static float default_value(op_param_kind kind) { return kind == PARAM_SHIFT ? 0.0f : 1.0f; }

/* Parameter p: from the state_dict (prefix + name), its .npy option, or
 * its default; checked against its shape. */
static int load_param(const char *cmd, const given *g, st_file *sf, const op_param *p,
                      npy_array *out);

/* A parameter stored one tensor per channel ("Linear.{d}.weight"): each
 * read as its own parameter of the rest of the shape (the first fixing a
 * matrix's F for the others), stacked. */
static int load_stacked(const char *cmd, const given *g, st_file *sf, const op_param *p,
                        npy_array *out)
{
    const char *at = strstr(p->name, "{d}");
    size_t channels = p->shape[0], per = 0;
    op_param one = *p;
    one.ndim = p->ndim - 1;
    memmove(one.shape, p->shape + 1, one.ndim * sizeof *one.shape);
    memset(out, 0, sizeof *out);
    for (size_t c = 0; c < channels; ++c) {
        char name[256];
        snprintf(name, sizeof name, "%.*s%zu%s", (int)(at - p->name), p->name, c, at + 3);
        one.name = name;
        npy_array a = {0};
        int rc = load_param(cmd, g, sf, &one, &a);
        if (rc == 0 && c == 0) { /* the shape every channel's tensor has now */
            per = a.count;
            one.kind = PARAM_SCALE;
            memcpy(one.shape, a.shape, one.ndim * sizeof *one.shape);
            out->ndim = p->ndim;
            out->shape[0] = channels;
            memcpy(out->shape + 1, a.shape, one.ndim * sizeof *a.shape);
            out->count = channels * per;
            if (!(out->data = malloc((out->count ? out->count : 1) * sizeof *out->data)))
                rc = cli_error(EXIT_DEVICE, "out of memory");
        }
        if (rc == 0)
            memcpy(out->data + c * per, a.data, per * sizeof *a.data);
        npy_free(&a);
        if (rc != 0)
            return npy_free(out), rc;
    }
    return 0;
}

static int load_param(const char *cmd, const given *g, st_file *sf, const op_param *p,
                      npy_array *out)
{
    if (sf && strstr(p->name, "{d}"))
        return load_stacked(cmd, g, sf, p, out);
    char err[1024], s1[128], s2[128];
    size_t want = op_shape_count(p->shape, p->ndim);
    const char *prefix = g->prefix ? g->prefix : "";
    int e = p->npy_option ? extra_index(g, p->npy_option) : -1;
    if (sf) {
        size_t n = strlen(prefix) + strlen(p->name) + 1;
        char *name = malloc(n);
        if (!name)
            return cli_error(EXIT_DEVICE, "out of memory");
        snprintf(name, n, "%s%s", prefix, p->name);
        int rc = st_read(sf, name, out, err, sizeof err);
        /* a table has any number of classes (rows) >= 1, a matrix any number of features */
        size_t skip = (p->kind == PARAM_TABLE || p->kind == PARAM_MATRIX) && out->ndim == p->ndim &&
                      out->shape[0] >= 1;
        if (rc == 0 && (out->ndim != p->ndim || memcmp(out->shape + skip, p->shape + skip,
                                                       (p->ndim - skip) * sizeof *p->shape))) {
            if (p->kind == PARAM_TABLE) /* (K, width): K is whatever the table has */
                snprintf(s1, sizeof s1, "(K, %zu)", p->shape[1]);
            else if (p->kind == PARAM_MATRIX) /* (F, fan_in): F is whatever the file has */
                snprintf(s1, sizeof s1, "(F, %zu)", p->shape[1]);
            else
                fmt_shape(p->shape, p->ndim, s1, sizeof s1);
            rc = cli_error(EXIT_USAGE,
                           "%s: --params '%s': tensor '%s': expected shape %s (%s), "
                           "found %s",
                           cmd, g->params, name, s1, p->shape_doc,
                           fmt_shape(out->shape, out->ndim, s2, sizeof s2));
        } else if (rc != 0)
            rc = cli_error(EXIT_USAGE, "%s: --params '%s': %s", cmd, g->params, err);
        free(name);
        return rc;
    }
    if (e >= 0 && g->extra_given[e]) {
        char option[64];
        snprintf(option, sizeof option, "--%s", p->npy_option);
        int rc = cli_load(option, g->extra_value[e], out);
        if (rc == 0 &&
            (out->ndim != p->ndim || memcmp(out->shape, p->shape, p->ndim * sizeof *p->shape)))
            rc = cli_error(EXIT_USAGE, "%s: %s '%s': expected shape %s (%s), found %s", cmd, option,
                           g->extra_value[e], fmt_shape(p->shape, p->ndim, s1, sizeof s1),
                           p->shape_doc, fmt_shape(out->shape, out->ndim, s2, sizeof s2));
        return rc;
    }
    if (p->kind == PARAM_TABLE || p->kind == PARAM_MATRIX)
        return cli_error(EXIT_USAGE,
                         "%s: '%s' has no default: give --params MODEL.safetensors "
                         "(see clnorm %s --help)",
                         cmd, p->name, cmd);
    memset(out, 0, sizeof *out);
    if (!(out->data = malloc((want ? want : 1) * sizeof *out->data)))
        return cli_error(EXIT_DEVICE, "out of memory");
    for (size_t i = 0; i < want; ++i)
        out->data[i] = default_value(p->kind);
    out->ndim = p->ndim;
    memcpy(out->shape, p->shape, p->ndim * sizeof *p->shape);
    out->count = want;
    return 0;
}

/* The class labels: int32 or int64 (n,), each in [0, classes); as int32. */
static int load_labels(const char *cmd, const given *g, size_t n, size_t classes, int32_t **out)
{
    char err[512];
    npy_ints y;
    *out = NULL;
    if (npy_read_ints_file(g->labels, &y, err, sizeof err) != 0)
        return cli_error(EXIT_USAGE, "%s: --labels '%s': %s", cmd, g->labels, err);
    int code = 0;
    if (y.ndim != 1 || y.shape[0] != n) {
        char s[128];
        code = cli_error(EXIT_USAGE, "%s: --labels '%s': expected shape (%zu,) (N of -i), found %s",
                         cmd, g->labels, n, fmt_shape(y.shape, y.ndim, s, sizeof s));
    }
    for (size_t i = 0; i < y.count && !code; ++i)
        if (y.data[i] < 0 || (uint64_t)y.data[i] >= classes)
            code = cli_error(EXIT_USAGE,
                             "%s: --labels '%s': label %lld at index %zu is outside [0, %zu) "
                             "(the rows of embed.weight)",
                             cmd, g->labels, (long long)y.data[i], i, classes);
    if (!code && !(*out = malloc((n ? n : 1) * sizeof **out)))
        code = cli_error(EXIT_DEVICE, "out of memory");
    for (size_t i = 0; i < n && !code; ++i)
        (*out)[i] = (int32_t)y.data[i];
    npy_ints_free(&y);
    return code;
}

/* ---- help ---- */

static void print_help(FILE *f, const op_desc *op, const char *cmd)
{
    op_config c;
    op_config_default(op, &c);
    op_param ps[OP_MAX_PARAMS];
    fprintf(f,
            "usage: clnorm %s -i IN.npy -o OUT.npy [options] [--device SPEC] [--accumulate MODE]\n",
            cmd);
    if (op->alias)
        fprintf(f, "       (the same as clnorm %s)\n",
                !strcmp(cmd, op->name) ? op->alias : op->name);
    fprintf(f, "\n%s\n", op->formula);
    if (op->options_count || op->stats_out_count || op->stats_in_count)
        fprintf(f, "\noptions:\n");
    for (size_t i = 0; i < op->options_count; ++i) {
        const op_option *o = &op->options[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name,
                 o->kind == OPT_FLAG    ? ""
                 : o->kind == OPT_COUNT ? " N"
                 : o->kind == OPT_REAL  ? " E"
                                        : " WORD");
        fprintf(f, "  %-20s %s\n", left, o->help);
        if (o->kind == OPT_CHOICE) {
            fprintf(f, "  %-20s one of:", "");
            for (int k = 0; o->choices[k]; ++k)
                fprintf(f, " %s", o->choices[k]);
            fprintf(f, "\n");
        }
    }
    for (size_t i = 0; i < op->stats_out_count; ++i)
        fprintf(f, "  --%-18s receives %s as float32 %s\n", op->stats_out[i].option,
                op->stats_out[i].name, op->stat_shape_doc);
    for (size_t i = 0; i < op->stats_in_count; ++i)
        fprintf(f, "  --%-18s %s, float32 %s (required)\n", op->stats_in[i].option,
                op->stats_in[i].name, op->stat_shape_doc);
    size_t np = op_params(op, &c, NULL, ps);
    if (np) {
        fprintf(f, "\nparameters (the module's state_dict names; --params MODEL.safetensors reads\n"
                   "P + name, F32 or F64, with --prefix P; otherwise the default):\n");
        for (size_t i = 0; i < np; ++i)
            fprintf(f, "  %-20s (%s)%s%s%s\n", ps[i].name, ps[i].shape_doc,
                    ps[i].kind == PARAM_TABLE || ps[i].kind == PARAM_MATRIX ? ", no default"
                    : ps[i].kind == PARAM_SHIFT                             ? ", default 0"
                                                                            : ", default 1",
                    ps[i].npy_option ? ", or --" : "", ps[i].npy_option ? ps[i].npy_option : "");
        for (size_t i = 0; i < np; ++i)
            if (ps[i].npy_option)
                fprintf(f,
                        "  --%s FILE.npy gives %s from a .npy file instead; it and --params\n"
                        "  exclude each other.\n",
                        ps[i].npy_option, ps[i].name);
    }
    if (op->labels)
        fprintf(
            f,
            "\n  --labels Y.npy       the class y[n] of each sample: int32 or int64 (N,), each in\n"
            "                       [0, K), K the rows of embed.weight (required)\n");
    fprintf(f, "\nIN is float32 (or float64, converted), C order; OUT is float32 of IN's shape.\n");
    fputs(
        "\n"
        "Each output must be new, a regular file, or a symbolic link to one (the link stays and\n"
        "its target is replaced); a directory, device, FIFO or socket is refused before any work.\n"
        "The outputs appear together when the run succeeds, or not at all: an error, or SIGINT,\n"
        "SIGTERM or SIGHUP before the end, leaves every output as it was. A new output gets mode\n"
        "0666 & ~umask; a replaced one keeps its mode.\n",
        f);
}

/* ---- the command ---- */

/* The description of a class with modes that --mode picks (NULL with an
 * exit code in *code when --mode is missing or unknown; --help without it:
 * the first description). */
static const op_desc *op_of_mode(const op_desc *op, const char *cmd, int argc, char **argv,
                                 int *code)
{
    const char *mode = NULL;
    int help = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strncmp(argv[i], "--mode=", 7))
            mode = argv[i] + 7;
        help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
    }
    const op_desc *chosen = mode ? op_find_mode(op->name, mode) : help ? op : NULL;
    if (!chosen)
        *code =
            mode ? cli_error(EXIT_USAGE,
                             "%s: --mode '%s' is not one of the modes (see clnorm "
                             "%s --help)",
                             cmd, mode, cmd)
                 : cli_error(EXIT_USAGE, "%s: --mode is required (see clnorm %s --help)", cmd, cmd);
    return chosen;
}

int cmd_op(const op_desc *op, const char *cmd, int argc, char **argv)
{
    given g;
    int mode_code = 0;
    if (op->mode && !(op = op_of_mode(op, cmd, argc, argv, &mode_code)))
        return mode_code;
    char *help = NULL;
    size_t help_size = 0;
    FILE *f = open_memstream(&help, &help_size);
    if (!f)
        return cli_error(EXIT_DEVICE, "out of memory");
    print_help(f, op, cmd);
    int code =
        fclose(f) == 0 ? parse(cmd, help, argc, argv, &g) : cli_error(EXIT_DEVICE, "out of memory");
    free(help);
    if (code >= 0)
        return code;
    op_config cfg;
    if ((code = configure(cmd, op, &g, &cfg)) >= 0)
        return code;

    npy_array x = {0}, prm[OP_MAX_PARAMS], st_in[OP_MAX_STATS];
    memset(prm, 0, sizeof prm);
    memset(st_in, 0, sizeof st_in);
    float *y = NULL, *st_out[OP_MAX_STATS] = {NULL};
    st_file *sf = NULL;
    clnorm_context *ctx = NULL;
    void *layer = NULL;
    cl_mem buf = NULL, k_labels = NULL, y_buf = NULL;
    int32_t *labels = NULL;
    op_param ps[OP_MAX_PARAMS];
    size_t np = 0, out_at[OP_MAX_STATS] = {0}, n_out = 1;
    char s1[128], s2[128], err[1024], out_option[OP_MAX_STATS][64];

    /* Every output checked, and its temporary made, before any work (the
     * option names stay valid until the outputs are committed). */
    if ((code = outputs_add("-o", g.out)) != 0)
        goto done;
    for (size_t i = 0; i < op->stats_out_count; ++i) {
        int e = extra_index(&g, op->stats_out[i].option);
        snprintf(out_option[i], sizeof out_option[i], "--%s", op->stats_out[i].option);
        if (g.extra_given[e] &&
            (out_at[i] = n_out++, code = outputs_add(out_option[i], g.extra_value[e])) != 0)
            goto done;
    }
    if ((code = cli_load("-i", g.in, &x)) != 0)
        goto done;
    if (op->check_shape(&cfg, x.shape, x.ndim, err, sizeof err) != 0) {
        code = cli_error(EXIT_USAGE, "%s: -i '%s': %s", cmd, g.in, err);
        goto done;
    }
    if (x.count == 0) {
        code = cli_error(EXIT_USAGE, "%s: -i '%s': shape %s has a zero dimension", cmd, g.in,
                         fmt_shape(x.shape, x.ndim, s1, sizeof s1));
        goto done;
    }
    size_t sndim = 0, sshape[OP_MAX_DIMS], scount = 0;
    if (op->stat_shape) {
        op->stat_shape(&cfg, x.shape, x.ndim, &sndim, sshape);
        scount = op_shape_count(sshape, sndim);
    }
    for (size_t i = 0; i < op->stats_in_count; ++i) {
        char option[64];
        const char *path = g.extra_value[extra_index(&g, op->stats_in[i].option)];
        snprintf(option, sizeof option, "--%s", op->stats_in[i].option);
        if ((code = cli_load(option, path, &st_in[i])) != 0)
            goto done;
        if (st_in[i].ndim != sndim || memcmp(st_in[i].shape, sshape, sndim * sizeof *sshape)) {
            code = cli_error(EXIT_USAGE, "%s: %s '%s': expected shape %s %s, found %s", cmd, option,
                             path, fmt_shape(sshape, sndim, s1, sizeof s1), op->stat_shape_doc,
                             fmt_shape(st_in[i].shape, st_in[i].ndim, s2, sizeof s2));
            goto done;
        }
    }
    if (g.params) {
        if (st_open(g.params, &sf, err, sizeof err) != 0) {
            code = cli_error(EXIT_USAGE, "%s: --params '%s': %s", cmd, g.params, err);
            goto done;
        }
        if (g.prefix && st_count_prefix(sf, g.prefix) == 0) {
            code = cli_error(EXIT_USAGE,
                             "%s: --params '%s': no tensor's name begins with the "
                             "prefix '%s'",
                             cmd, g.params, g.prefix);
            goto done;
        }
    }
    if (sf && op->implied_by) { /* RLinear's --individual from the file */
        char name[256];
        snprintf(name, sizeof name, "%s%s", g.prefix ? g.prefix : "", op->implied_by);
        if (st_has(sf, name))
            cfg.v[op_option_index(op, op->implied_option)] = 1;
    }
    np = op->params(&cfg, x.shape, x.ndim, ps);
    for (size_t i = 0; i < np; ++i) {
        if ((code = load_param(cmd, &g, sf, &ps[i], &prm[i])) != 0)
            goto done;
        if (ps[i].kind == PARAM_TABLE)
            cfg.classes = prm[i].shape[0];
        if (ps[i].kind == PARAM_MATRIX) { /* the rest's shapes follow its F */
            cfg.classes = prm[i].shape[prm[i].ndim - 2];
            np = op->params(&cfg, x.shape, x.ndim, ps);
        }
    }
    if (op->labels && (code = load_labels(cmd, &g, x.shape[0], op_classes(&cfg), &labels)) != 0)
        goto done;
    size_t y_ndim, y_shape[OP_MAX_DIMS];
    size_t y_count = op_out_shape(op, &cfg, x.shape, x.ndim, &y_ndim, y_shape);
    y = malloc(y_count * sizeof *y);
    for (size_t i = 0; i < op->stats_out_count; ++i)
        if (!(st_out[i] = malloc((scount ? scount : 1) * sizeof *st_out[i])))
            y = (free(y), NULL);
    if (!y) {
        code = cli_error(EXIT_DEVICE, "out of memory for %zu floats", y_count);
        goto done;
    }
    char what[512];
    snprintf(what, sizeof what, "the tensor of -i '%s'", g.in); /* long paths cut */
    if ((code = cli_context(g.device, &ctx)) != 0 ||
        (code = cli_upload(ctx, what, x.data, x.count, &buf)) != 0 ||
        (labels && (code = cli_upload(ctx, "the labels", labels, x.shape[0], &k_labels)) != 0) ||
        (op->out_shape && (code = cli_upload(ctx, "the output", NULL, y_count, &y_buf)) != 0))
        goto done;
    op_call k;
    memset(&k, 0, sizeof k);
    k.ndim = x.ndim;
    memcpy(k.shape, x.shape, x.ndim * sizeof *x.shape);
    k.in = k.out = buf; /* in place: one device copy of the tensor */
    if (y_buf)
        k.out = y_buf; /* a product: never in place */
    for (size_t i = 0; i < np; ++i)
        k.params[i] = prm[i].data;
    k.version = 1;
    k.labels = k_labels;
    const float *stats_in[OP_MAX_STATS] = {st_in[0].data, st_in[1].data};
    clnorm_status st = op->create(ctx, &cfg, x.shape, x.ndim, &layer);
    if (st == CLNORM_OK && op->stats_in_count)
        st = op->set_stats(&cfg, layer, &k, stats_in);
    if (st == CLNORM_OK)
        st = op->run(&cfg, layer, &k, NULL);
    if (st == CLNORM_OK && op->stats_out_count)
        st = op->get_stats(&cfg, layer, &k, st_out);
    if (st != CLNORM_OK) {
        code = cli_library_error(ctx, st, cmd);
        goto done;
    }
    if ((code = cli_download(ctx, k.out, y, y_count)) != 0 ||
        (code = outputs_write(0, y_shape, y_ndim, y)) != 0)
        goto done;
    for (size_t i = 0; i < op->stats_out_count; ++i)
        if (out_at[i] && (code = outputs_write(out_at[i], sshape, sndim, st_out[i])) != 0)
            goto done;
    code = outputs_commit();
done:
    outputs_discard();
    cli_release_buffer(buf);
    cli_release_buffer(y_buf);
    cli_release_buffer(k_labels);
    free(labels);
    if (layer)
        op->destroy(layer);
    clnorm_context_destroy(ctx);
    st_close(sf);
    npy_free(&x);
    for (size_t i = 0; i < OP_MAX_PARAMS; ++i)
        npy_free(&prm[i]);
    for (size_t i = 0; i < OP_MAX_STATS; ++i)
        npy_free(&st_in[i]), free(st_out[i]);
    free(y);
    return code;
}
