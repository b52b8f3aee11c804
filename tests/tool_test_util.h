/* SPDX-License-Identifier: Apache-2.0 */
/* tool_test_util.h: running the built clnorm binary from cmocka tests, and the files around it. */
#ifndef CLNORM_TOOL_TEST_UTIL_H
#define CLNORM_TOOL_TEST_UTIL_H

#include <stddef.h>

#include "npy.h"

/* ---- the scratch directory of the running test ----
 * tool_setup_work() (a cmocka setup) makes a fresh directory and its
 * subdirectory "out"; tool_teardown_work() removes it. work_path() gives
 * "<work>/<name>" in a ring of buffers: hold on to a result for a few calls
 * only, or copy it. */
int tool_setup_work(void **state);
int tool_teardown_work(void **state);
const char *work_dir(void);
const char *work_path(const char *name);

/* ---- running the tool ---- */
typedef struct tool_result {
    int code;  /* the exit status; 128 + n after signal n */
    char *out; /* everything written on stdout, NUL-terminated */
    char *err; /* everything written on stderr, NUL-terminated */
} tool_result;

/* The binary tool_run starts: CLNORM_TOOL_PATH, or path after
 * tool_set_binary(path) (NULL goes back to CLNORM_TOOL_PATH). */
void tool_set_binary(const char *path);
const char *tool_binary(void);

/* Runs tool_binary() with args (NULL-terminated, without the program
 * name), stdin from /dev/null, stdout and stderr captured in files. With
 * fsize_limit >= 0 the child runs under setrlimit(RLIMIT_FSIZE) with SIGXFSZ
 * ignored. Fails the test if the tool cannot be started or runs for more
 * than two minutes. Free the result with tool_result_free(). */
void tool_run(tool_result *r, long fsize_limit, const char *const *args);
void tool_result_free(tool_result *r);
/* argv for execv: the tool (tool_binary()), then args, then NULL; at most
 * cap entries in all. Returns the count before the NULL. */
size_t tool_argv(const char *const *args, const char **argv, size_t cap);
/* Runs the tool and asserts exit 0 and an empty stderr. */
void tool_ok(const char *const *args);

/* s with every '@' replaced by "<work>/". */
void tool_expand(char *out, size_t size, const char *s);
/* Runs the tool on args (each '@' expanded; under RLIMIT_FSIZE fsize_limit
 * unless it is negative) and expects exit `code` (TOOL_NONZERO: any failure
 * but a signal's), nothing on stdout and exactly one "clnorm: error:" line
 * on stderr holding every needle ('@' expanded). `what` receives "clnorm
 * ARGS" for the caller's further messages. */
#define TOOL_NONZERO (-1)
void tool_fails(long fsize_limit, int code, const char *const *needles, const char *const *args,
                char *what, size_t what_size);

/* ---- a tree's names and bytes, to prove a failed run changed nothing ---- */
typedef struct tree_snapshot {
    size_t count;
    struct tree_entry {
        char *name; /* relative to the root, "sub/file" */
        int is_dir;
        unsigned char *bytes; /* a file's contents */
        size_t size;
    } * entries;
} tree_snapshot;
void snapshot_take(tree_snapshot *s, const char *root);
/* Fails the test, naming the first difference, unless root now holds
 * exactly the names and bytes of s. */
void snapshot_expect_same(const tree_snapshot *s, const char *root, const char *what);
void snapshot_free(tree_snapshot *s);

/* ---- .npy files (plain files: slurp() and spit() of npy_test_util.h) ---- */
/* A version 1.0 .npy file with the given header fields, written byte by
 * byte (shape_text such as "(2, 3)"), so that it can be anything at all. */
void npy_put_raw(const char *path, const char *descr, int fortran_order, const char *shape_text,
                 const void *data, size_t data_size);
/* Good files: float32 through tools/formats/npy.c; float64 through npy_put_raw. */
void npy_put_f32(const char *path, const size_t *shape, size_t ndim, const float *data);
void npy_put_f64(const char *path, const size_t *shape, size_t ndim, const double *data);
/* "<work>/name": a float32 .npy of shape (d0, ..., d_ndim-1) of positive
 * values drawn from rng() (so that it serves as a std too). */
void put_f32_shape(const char *name, size_t ndim, size_t d0, size_t d1, size_t d2, size_t d3);
/* The files at a and b hold the same bytes. */
void expect_same_bytes(const char *a, const char *b);
/* A float32 output of the tool: asserts the file is a C-order '<f4' .npy
 * whose size is exactly its header plus 4 bytes per value, and returns it. */
void npy_get_output(const char *path, npy_array *a);
/* An expected float64 array, read exactly: after npy_read_file has checked the
 * header, the data bytes are taken as they are. Returns malloc'ed values. */
double *npy_get_f64_exact(const char *path, npy_array *shape_only);

/* Compares got with want: NaN positions must match, infinities must be
 * equal, and every finite |got - want| must be at most tol. Prints the worst
 * and the first few failures under `what`; returns the number of failures. */
size_t compare_within(const char *what, const float *got, const double *want, size_t count,
                      double tol, double *max_err);

/* A NULL-terminated argument list in place: ARGS("revin", "-i", "@x.npy"). */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

#endif
