/* SPDX-License-Identifier: Apache-2.0 */
/* ops.h: each operation described once, and everything else iterating over
 * the descriptions: the tool's subcommands, the tests (numeric sweeps,
 * argument errors, fault loops, threads), the bench and the demo. The model
 * is CLBlast's test/routines/level1/xaxpy.hpp: one routine description that
 * its tests, its client and its bench all reuse.
 *
 * A description says: the PyTorch class name (the tool's subcommand) and its
 * short name; the constructor options (the tool's class options); which
 * input shapes it takes and how a shape maps to the reduction view
 * [outer][n][inner]; its parameters by state_dict name with their shapes
 * and defaults; the statistics it reads or writes besides y; how to create,
 * run and destroy it on a context; its float64 reference and tolerance
 * model; and its bench shapes. */
#ifndef CLNORM_OPS_H
#define CLNORM_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "clnorm.h"

#define OP_MAX_DIMS 8
#define OP_MAX_OPTIONS 6
#define OP_MAX_PARAMS 6
#define OP_MAX_STATS 2

/* ---- the class's constructor options ---- */
typedef enum op_option_kind {
    OPT_FLAG,   /* --name: 1 when given (default 0) */
    OPT_COUNT,  /* --name N: a whole number >= 0 (check_shape refuses what the op cannot take) */
    OPT_REAL,   /* --name E: a finite real > 0 */
    OPT_CHOICE, /* --name WORD: the index of WORD in choices */
} op_option_kind;

typedef struct op_option {
    const char *name; /* without the dashes: "transposed" */
    op_option_kind kind;
    double dflt;
    const char *const *choices; /* OPT_CHOICE: NULL-terminated */
    const char *help;           /* one line for the class's --help */
} op_option;

/* The options' values, in the order of op_desc.options; and, for the ops
 * with class labels, the number of classes of their table (the rows of
 * embed.weight: the tool reads it from the file, tests draw
 * OP_TEST_CLASSES). */
typedef struct op_config {
    double v[OP_MAX_OPTIONS];
    size_t classes; /* also a Linear's out features (PARAM_MATRIX's rows) */
} op_config;
#define OP_TEST_CLASSES 5
/* The classes of a configuration: c->classes, or OP_TEST_CLASSES when 0. */
size_t op_classes(const op_config *c);

/* ---- tensors the op reads besides x ---- */
typedef enum op_param_kind {
    PARAM_SCALE,    /* a weight, gamma, alpha, s: default 1 */
    PARAM_SHIFT,    /* a bias, beta, m, running mean: default 0 */
    PARAM_VARIANCE, /* a running variance: default 1, positive */
    PARAM_TABLE,    /* an embedding table of class rows (conditional classes) */
    PARAM_MATRIX,   /* a Linear's weight (F, fan_in): F = op_classes(), any number */
} op_param_kind;

/* A name with "{d}" is one tensor per channel in the file ("Linear.{d}.weight"
 * for Linear.0.weight, Linear.1.weight, ...), stacked along a first axis of
 * shape[0] channels; the file's tensors have the rest of the shape. */
typedef struct op_param {
    const char *name; /* the state_dict name: "alpha", "embed.weight" */
    op_param_kind kind;
    size_t ndim, shape[3];
    const char *shape_doc;  /* the shape in words for messages: "C of -i" */
    const char *npy_option; /* also from a .npy file by this option ("alpha"), or NULL */
} op_param;

/* Statistics an op writes (the tool's --mean-out) or reads (--mean); an
 * op's statistics all have one shape (op_desc.stat_shape). */
typedef struct op_stat {
    const char *option; /* "mean-out", "mean" */
    const char *name;   /* "m", the module's attribute */
    int positive;       /* a spread or scale: tests draw it > 0 */
} op_stat;

/* ---- one call of the forward, as data (tests change one field of it) ---- */
typedef struct op_call {
    size_t ndim, shape[OP_MAX_DIMS]; /* x's shape */
    cl_mem in, out;
    size_t in_off, out_off; /* bytes */
    cl_uint num_wait;
    const cl_event *wait_list;
    const float *params[OP_MAX_PARAMS]; /* host arrays, in op_desc.params order */
    uint64_t version;
    cl_mem labels;     /* int32 class per sample (conditional classes) */
    size_t labels_off; /* bytes */
} op_call;

/* A call's buffers and wait list, in the order every clnorm forward takes
 * them after its sizes (include/clnorm.h's call convention; the event out
 * follows): `..., OP_CALL_BUFFERS(k), event)`. */
#define OP_CALL_BUFFERS(k)                                                                         \
    (k)->in, (k)->in_off, (k)->out, (k)->out_off, (k)->num_wait, (k)->wait_list

/* Host data of a case: x, parameters, class labels, statistics read. */
typedef struct op_data {
    size_t ndim, shape[OP_MAX_DIMS], count;
    size_t y_ndim, y_shape[OP_MAX_DIMS], y_count; /* y's: x's unless op_desc.out_shape says */
    const float *x;
    const float *params[OP_MAX_PARAMS];
    const int32_t *labels;
    const float *stats_in[OP_MAX_STATS];
} op_data;

/* A case: a configuration and a shape. Bench cases: `quick` ones run in
 * --quick. Test cases: shapes around vector and work-group boundaries, every
 * configuration worth its own code path. */
typedef struct op_case {
    const char *layout; /* a word for tables and messages: "nchw", "bld" */
    op_config config;   /* v[] in op_desc.options order (classes: 0 for the default) */
    size_t ndim, shape[4];
    int quick;
} op_case;

typedef struct op_desc {
    const char *name;  /* the PyTorch class name: "VarianceNorm2d" */
    const char *alias; /* the short name kept from before ("varnorm2d") or NULL */
    /* Classes of one name told apart by --mode WORD (RevIN's norm and
     * denorm): this description's WORD, NULL for the others. */
    const char *mode;
    /* An OPT_FLAG option that --params implies when it holds a tensor of
     * this name (RLinear's --individual by Linear.0.weight), or NULL. */
    const char *implied_option, *implied_by;
    const char *formula; /* for --help: what it computes, one paragraph */
    const op_option *options;
    size_t options_count;

    /* Whether x's shape suits the configured op: 0, or -1 with err set. */
    int (*check_shape)(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size);
    /* The reduction view of a shape (fill_family draws rows along it). */
    void (*view)(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                 size_t *inner);
    /* y's shape for x's (NULL: x's own). */
    void (*out_shape)(const op_config *c, const size_t *shape, size_t ndim, size_t *y_ndim,
                      size_t *y_shape);
    /* A product's floating-point operations for x's shape (the bench's
     * GFLOP/s), NULL for the others. */
    double (*flops)(const op_config *c, const size_t *shape, size_t ndim);
    /* The parameters the configured op reads for x's shape. */
    size_t (*params)(const op_config *c, const size_t *shape, size_t ndim, op_param *out);
    /* Statistics written and read besides y, and their shape for x's
     * (NULL without statistics). */
    const op_stat *stats_out, *stats_in;
    size_t stats_out_count, stats_in_count;
    const char *stat_shape_doc; /* "(B, D, 1) from -i" */
    int labels; /* takes a class label per sample (x's first axis), int32 on the device */
    void (*stat_shape)(const op_config *c, const size_t *shape, size_t ndim, size_t *sndim,
                       size_t *sshape);

    /* The layer on a context. `create` knows x's shape for the sizes the
     * constructor takes (C, D); `set_stats` hands it the statistics it
     * reads; `run` enqueues one forward; `get_stats` reads the statistics
     * it wrote (blocking). */
    clnorm_status (*create)(clnorm_context *ctx, const op_config *c, const size_t *shape,
                            size_t ndim, void **layer);
    clnorm_status (*set_stats)(const op_config *c, void *layer, const op_call *call,
                               const float *const *stats);
    clnorm_status (*run)(const op_config *c, void *layer, const op_call *call, cl_event *event);
    clnorm_status (*get_stats)(const op_config *c, void *layer, const op_call *call,
                               float *const *stats);
    void (*destroy)(void *layer);

    /* The float64 reference: y and the statistics written. */
    void (*reference)(const op_config *c, const op_data *d, double *y, double *const *stats);
    /* The tolerance of each element of y and of the statistics, from the
     * reference's values ("twice PyTorch float32's own error"). */
    void (*tolerance)(const op_config *c, const op_data *d, const double *y, double *const *stats,
                      double *tol_y, double *const *tol_stats);

    const op_case *bench;
    size_t bench_count;
    const op_case *tests;
    size_t tests_count;
} op_desc;

/* In a description's initializer: an array and its count,
 * `.options = options, .options_count = 2` as OP_ARRAY(options, options). */
#define OP_ARRAY(field, array) .field = (array), .field##_count = sizeof(array) / sizeof((array)[0])

/* In a description's initializer: the functions every op has, by the names
 * its file gives them; OP_FUNCTIONS_WITH takes a shape check and a view
 * that several ops share instead (op_nchw_*, op_3d_view). */
#define OP_FUNCTIONS_WITH(check_fn, view_fn)                                                       \
    .check_shape = check_fn, .view = view_fn, .params = params, .create = create, .destroy = destroy
#define OP_FUNCTIONS OP_FUNCTIONS_WITH(check_shape, view)

/* ... and, for a file that names them so, the usual run, reference,
 * tolerance, bench and test cases. */
#define OP_DEFAULTS_WITH(check_fn, view_fn)                                                        \
    OP_FUNCTIONS_WITH(check_fn, view_fn), .run = run, .reference = reference,                      \
                                          .tolerance = tolerance, OP_ARRAY(bench, bench),          \
                                          OP_ARRAY(tests, tests)
#define OP_DEFAULTS OP_DEFAULTS_WITH(check_shape, view)
/* The same for an (N, C, H, W) class over its planes (op_nchw_*). */
#define OP_NCHW_DEFAULTS OP_DEFAULTS_WITH(op_nchw_check_shape, op_nchw_view)
/* The bench cases of the (N, C, H, W) classes timed at their default
 * options, one set so that their timings compare: (10, 64, 32, 32) in
 * --quick, and (16, 64, 128, 128). An initializer, so that each file's
 * OP_ARRAY still counts its own array: `static const op_case bench[] =
 * OP_NCHW_BENCH;`. */
#define OP_NCHW_BENCH                                                                              \
    {                                                                                              \
        {"nchw", {{0}, 0}, 4, {10, 64, 32, 32}, 1}, {"nchw", {{0}, 0}, 4, {16, 64, 128, 128}, 0},  \
    }

/* The run, reference and tolerance of one of a file's several
 * descriptions, named by its prefix: norm_run, norm_reference and
 * norm_tolerance as OP_MODEL(norm); OP_PREFIXED adds its cases, norm_bench
 * and norm_tests. */
#define OP_MODEL(prefix)                                                                           \
    .run = prefix##_run, .reference = prefix##_reference, .tolerance = prefix##_tolerance
#define OP_PREFIXED(prefix)                                                                        \
    OP_MODEL(prefix), OP_ARRAY(bench, prefix##_bench), OP_ARRAY(tests, prefix##_tests)

/* The statistics an op writes, which the file's get_stats reads back, or
 * reads, which its set_stats hands to the layer (the forward and the
 * inverse of RevIN and of TSNormalization). */
#define OP_WRITES_STATS(array) OP_ARRAY(stats_out, array), .get_stats = get_stats
#define OP_READS_STATS(array) OP_ARRAY(stats_in, array), .set_stats = set_stats
/* Statistics of shape (B, 1, D), one per row of a (B, L, D) op. */
#define OP_B1D_STATS .stat_shape_doc = "(B, 1, D) from -i", .stat_shape = op_b1d_stat_shape

/* ---- the table ---- */
extern const op_desc *const op_table[];
extern const size_t op_count;
/* By class name or short name, NULL when none (for a class with modes, its
 * first description). */
const op_desc *op_find(const char *name);
/* The description of class `name` whose mode is `mode`, NULL when none. */
const op_desc *op_find_mode(const char *name, const char *mode);
/* y's shape for x's (op->out_shape, or x's own); returns y's count. */
size_t op_out_shape(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                    size_t *y_ndim, size_t *y_shape);

/* ---- helpers for descriptions and their users ---- */
void op_config_default(const op_desc *op, op_config *c);
/* A scale and a shift of length n, the pair most ops read (weight and
 * bias, affine_weight and affine_bias, TransposedLN's s and m), both
 * described by `doc`: out[0] and out[1]; returns 2. */
size_t op_scale_shift(op_param *out, const char *scale, const char *shift, size_t n,
                      const char *doc);
/* The index of option `name` in op->options, or -1. */
int op_option_index(const op_desc *op, const char *name);
size_t op_shape_count(const size_t *shape, size_t ndim);
/* The ops that standardise the rows of a view (mean m, s = sqrt(var_b +
 * eps), eps < 0: the biased std alone; plain = (x - m) / s) and then
 * scale each element: `affine` gives y of element i from plain, x - m and
 * s, sets *w, the factor plain's error is scaled by, and may add to *extra
 * the rounding error PyTorch makes beyond the product and the sum
 * (absolute). NULL: y = plain. op_standardised fills y (the reference) or
 * tol (the tolerance, from the reference y_ref). */
typedef struct op_rows {
    size_t outer, n, inner;
    double eps;
} op_rows;
typedef double (*op_affine_fn)(const op_config *c, const op_data *d, size_t i, double plain,
                               double centred, double s, double *w, double *extra);
void op_standardised(const op_config *c, const op_data *d, const op_rows *v, op_affine_fn affine,
                     double *y, const double *y_ref, double *tol);

/* In a standardising op's file: its reference and tolerance, from its
 * rows_of(c, d) (an op_rows) and the op_affine_fn the expression AFFINE
 * (in terms of c) gives, NULL for none. */
#define OP_STANDARDISED(AFFINE)                                                                    \
    static void reference(const op_config *c, const op_data *d, double *y, double *const *st)      \
    {                                                                                              \
        (void)st;                                                                                  \
        op_rows v = rows_of(c, d);                                                                 \
        op_standardised(c, d, &v, AFFINE, y, NULL, NULL);                                          \
    }                                                                                              \
    static void tolerance(const op_config *c, const op_data *d, const double *y,                   \
                          double *const *st, double *tol, double *const *tol_st)                   \
    {                                                                                              \
        (void)st, (void)tol_st;                                                                    \
        op_rows v = rows_of(c, d);                                                                 \
        op_standardised(c, d, &v, AFFINE, NULL, y, tol);                                           \
    }

/* TransposedLN's scalar affine, y = (s_p / s) * (centred + m_p), as an
 * op_affine_fn's body: PyTorch rounds the sum too, an error scaled by s_p /
 * s; where its float32 s_p / s may overflow within the rounding of s (a
 * subnormal s), PyTorch gives an infinity and its own error is unbounded;
 * below s = 2^-75 the float-float path gives an infinity (a known limit). */
double op_tln_scalar(double s_p, double m_p, double centred, double s, double *w, double *extra);

/* The affine of the ops with a weight and a bias per channel (params[0]
 * and [1]), as an op_affine_fn's body: y = plain * weight[ch] + bias[ch],
 * *w = weight[ch]. */
double op_channel_affine(const op_data *d, size_t ch, double plain, double *w);

/* InstanceNorm2dPlus on (N, C, H, W) with the gamma, alpha and beta of
 * sample n's channel ch from `prm`: the reference y, or the tolerance tol
 * from the reference y_ref: the plane's standardising error scaled by
 * gamma, the roundings of the channel means carried through mu', of b =
 * gamma * alpha * mu' + beta and of the sum. */
typedef void (*op_plus_params_fn)(const op_config *c, const op_data *d, size_t n, size_t ch,
                                  double *gamma, double *alpha, double *beta);
void op_plus(const op_config *c, const op_data *d, op_plus_params_fn prm, double *y,
             const double *y_ref, double *tol);

/* A RevIN's inverse on x (B, L, D), or (B, D, L) when `transposed`, with
 * the statistics m and s (B * D rows, x->stats_in): y = x' * s + m, x' =
 * (x - bias) / (weight + eps) with `affine` (x->params[0], [1]), else x.
 * The reference y (tol NULL), or the tolerance tol from the reference y. */
void op_denorm(const op_data *x, int transposed, int affine, double eps, double *y, double *tol);

/* Shape checks and views several ops share: a rank (`want` 0: any >= 1),
 * named by `layout` ("3-d (B, L, D)") in the message, and check_shape for
 * the (B, L, D) ops; the view of a 3-d shape as it stands, [B][L][D] over
 * L; statistics of shape (B, 1, D). */
int op_check_rank(size_t ndim, size_t want, const char *layout, const size_t *shape, char *err,
                  size_t err_size);
int op_bld_check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size);
void op_3d_view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                size_t *inner);
void op_b1d_stat_shape(const op_config *c, const size_t *shape, size_t ndim, size_t *sndim,
                       size_t *sshape);

/* check_shape and view of the (N, C, H, W) classes whose rows are the
 * (n, c) planes. */
int op_nchw_check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                        size_t err_size);
void op_nchw_view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                  size_t *inner);

#endif /* CLNORM_OPS_H */
