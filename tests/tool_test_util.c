/* SPDX-License-Identifier: Apache-2.0 */
/* tool_test_util.c: runs the built clnorm binary for the tests; snapshots, .npy files, comparisons. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "npy_test_util.h"
#include "tool_test_util.h"

#ifndef CLNORM_TOOL_PATH
#error "CLNORM_TOOL_PATH must be defined by the build"
#endif

/* ---------------------------------------------------------------- work directory */

static char work[256];

int tool_setup_work(void **state)
{
    (void)state;
    char out[300];
    strcpy(work, "/tmp/test_tool.XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(out, sizeof out, "%s/out", work);
    return mkdir(out, 0755);
}

int tool_teardown_work(void **state)
{
    (void)state;
    if (work[0])
        rm_rf(work);
    work[0] = '\0';
    return 0;
}

const char *work_dir(void) { return work; }

const char *work_path(const char *name)
{
    static char ring[16][1024];
    static unsigned next;
    char *p = ring[next++ % 16];
    snprintf(p, sizeof ring[0], "%s/%s", work, name);
    return p;
}

/* ---------------------------------------------------------------- running */

static const char *binary;

void tool_set_binary(const char *path) { binary = path; }

const char *tool_binary(void) { return binary ? binary : CLNORM_TOOL_PATH; }

static char capture[64]; /* stdout and stderr of the last run, outside any work dir */

static void capture_cleanup(void)
{
    if (capture[0])
        rm_rf(capture);
}

static char *read_text(const char *path)
{
    size_t n;
    char *s = (char *)slurp(path, &n); /* one spare byte */
    s[n] = '\0';
    return s;
}

void tool_run(tool_result *r, long fsize_limit, const char *const *args)
{
    char out_path[128], err_path[128];
    const char *argv[64];
    size_t argc = 0;
    int status = 0;
    if (!capture[0]) {
        strcpy(capture, "/tmp/test_tool.capture.XXXXXX");
        assert_non_null(mkdtemp(capture));
        atexit(capture_cleanup);
#ifdef CLNORM_TEST_CACHE_DIR
        /* ctest sets it; a test run by hand keeps the same cache all the same. */
        if (!getenv("CLNORM_CACHE_DIR"))
            setenv("CLNORM_CACHE_DIR", CLNORM_TEST_CACHE_DIR, 1);
#endif
    }
    snprintf(out_path, sizeof out_path, "%s/stdout", capture);
    snprintf(err_path, sizeof err_path, "%s/stderr", capture);
    argc = tool_argv(args, argv, sizeof argv / sizeof argv[0]);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        if (fsize_limit >= 0) {
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            signal(SIGXFSZ, SIG_IGN); /* stays ignored across exec: write() gets EFBIG */
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(126);
        }
        execv(tool_binary(), (char *const *)argv);
        _exit(127);
    }
    for (long waited_ms = 0;; waited_ms += 2) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
        if (waited_ms > 120000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("clnorm %s ...: still running after two minutes", argc > 1 ? argv[1] : "");
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = read_text(out_path);
    r->err = read_text(err_path);
    if (r->code == 126 || r->code == 127)
        fail_msg("could not start %s (exit %d): %s", tool_binary(), r->code, r->err);
}

void tool_result_free(tool_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void tool_ok(const char *const *args)
{
    tool_result r;
    tool_run(&r, -1, args);
    if (r.code != 0 || r.err[0])
        fail_msg("clnorm %s: exit %d, stderr: %s", args[0], r.code, r.err);
    tool_result_free(&r);
}

/* ---------------------------------------------------------------- snapshots */

static void walk(tree_snapshot *s, size_t *cap, const char *root, const char *rel)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char name[1024], full[3072];
        struct stat st;
        snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, name);
        assert_int_equal(lstat(full, &st), 0);
        if (s->count == *cap) {
            *cap = *cap ? 2 * *cap : 32;
            s->entries = realloc(s->entries, *cap * sizeof *s->entries);
            assert_non_null(s->entries);
        }
        struct tree_entry *t = &s->entries[s->count++];
        memset(t, 0, sizeof *t);
        t->name = strdup(name);
        assert_non_null(t->name);
        t->is_dir = S_ISDIR(st.st_mode);
        if (t->is_dir)
            walk(s, cap, root, name);
        else
            t->bytes = slurp(full, &t->size);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct tree_entry *)a)->name, ((const struct tree_entry *)b)->name);
}

void snapshot_take(tree_snapshot *s, const char *root)
{
    size_t cap = 0;
    memset(s, 0, sizeof *s);
    walk(s, &cap, root, "");
    if (s->count)
        qsort(s->entries, s->count, sizeof *s->entries, by_name);
}

void snapshot_expect_same(const tree_snapshot *s, const char *root, const char *what)
{
    tree_snapshot now;
    char problem[1200] = "";
    snapshot_take(&now, root);
    size_t i = 0, j = 0;
    while (!problem[0] && (i < s->count || j < now.count)) {
        int c = i == s->count    ? 1
                : j == now.count ? -1
                                 : strcmp(s->entries[i].name, now.entries[j].name);
        if (c < 0) {
            snprintf(problem, sizeof problem, "'%s' has disappeared", s->entries[i].name);
        } else if (c > 0) {
            snprintf(problem, sizeof problem, "'%s' was created (or left behind)",
                     now.entries[j].name);
        } else {
            const struct tree_entry *a = &s->entries[i++], *b = &now.entries[j++];
            if (a->is_dir != b->is_dir || a->size != b->size ||
                (a->size && memcmp(a->bytes, b->bytes, a->size) != 0))
                snprintf(problem, sizeof problem, "'%s' has changed", a->name);
        }
    }
    snapshot_free(&now);
    if (problem[0])
        fail_msg("%s: in %s, %s", what, root, problem);
}

void snapshot_free(tree_snapshot *s)
{
    for (size_t i = 0; i < s->count; ++i) {
        free(s->entries[i].name);
        free(s->entries[i].bytes);
    }
    free(s->entries);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- .npy files */

void npy_put_raw(const char *path, const char *descr, int fortran_order, const char *shape_text,
                 const void *data, size_t data_size)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                     descr, fortran_order ? "True" : "False", shape_text);
    assert_true(n > 0 && (size_t)n < sizeof dict - 64);
    size_t hlen = (size_t)n + 1;
    while ((10 + hlen) % 64)
        hlen++;
    unsigned char *buf = malloc(10 + hlen + data_size + 1);
    assert_non_null(buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    put_le(buf + 8, hlen, 2);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, (size_t)n);
    buf[10 + hlen - 1] = '\n';
    if (data_size)
        memcpy(buf + 10 + hlen, data, data_size);
    spit(path, buf, 10 + hlen + data_size);
    free(buf);
}

void npy_put_f32(const char *path, const size_t *shape, size_t ndim, const float *data)
{
    char err[512];
    if (npy_write_file(path, shape, ndim, data, err, sizeof err) != 0)
        fail_msg("writing %s: %s", path, err);
}

void npy_put_f64(const char *path, const size_t *shape, size_t ndim, const double *data)
{
    char text[256];
    size_t n = 0, count = 1;
    n += (size_t)snprintf(text, sizeof text, "(");
    for (size_t i = 0; i < ndim; ++i) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%zu", i ? ", " : "", shape[i]);
        count *= shape[i];
    }
    snprintf(text + n, sizeof text - n, ndim == 1 ? ",)" : ")");
    unsigned char *bytes = malloc(count * 8 + 1);
    assert_non_null(bytes);
    for (size_t i = 0; i < count; ++i) {
        uint64_t u;
        memcpy(&u, &data[i], 8);
        put_le(bytes + 8 * i, u, 8);
    }
    npy_put_raw(path, "<f8", 0, text, bytes, count * 8);
    free(bytes);
}

/* The header text of a .npy image and where its data starts. */
static const char *header_of(const unsigned char *b, size_t size, size_t *hlen, size_t *data_at)
{
    assert_true(size >= 12);
    assert_memory_equal(b, "\x93NUMPY", 6);
    size_t prefix = b[6] == 1 ? 10 : 12;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
    if (prefix == 12)
        *hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    *data_at = prefix + *hlen;
    assert_true(*data_at <= size);
    return (const char *)b + prefix;
}

static int header_has(const char *h, size_t hlen, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hlen; ++i)
        if (!memcmp(h + i, needle, n))
            return 1;
    return 0;
}

void npy_get_output(const char *path, npy_array *a)
{
    char err[512];
    if (npy_read_file(path, a, err, sizeof err) != 0)
        fail_msg("reading the output %s: %s", path, err);
    size_t size, hlen, at;
    unsigned char *b = slurp(path, &size);
    const char *h = header_of(b, size, &hlen, &at);
    if (!header_has(h, hlen, "'descr': '<f4'") || !header_has(h, hlen, "'fortran_order': False"))
        fail_msg("%s: not a C-order float32 file: %.*s", path, (int)hlen, h);
    assert_int_equal(size - at, a->count * 4);
    free(b);
}

double *npy_get_f64_exact(const char *path, npy_array *shape_only)
{
    char err[512];
    if (npy_read_file(path, shape_only, err, sizeof err) != 0)
        fail_msg("reading %s: %s", path, err);
    free(shape_only->data);
    shape_only->data = NULL;
    size_t size, hlen, at, count = shape_only->count;
    unsigned char *b = slurp(path, &size);
    const char *h = header_of(b, size, &hlen, &at);
    if (!header_has(h, hlen, "'descr': '<f8'"))
        fail_msg("%s: expected values must be float64 '<f8': %.*s", path, (int)hlen, h);
    assert_int_equal(size - at, count * 8);
    double *d = malloc(count * sizeof *d + 1);
    assert_non_null(d);
    for (size_t i = 0; i < count; ++i) {
        uint64_t u = 0;
        for (int k = 7; k >= 0; --k)
            u = u << 8 | b[at + 8 * i + (size_t)k];
        memcpy(&d[i], &u, 8);
    }
    free(b);
    return d;
}

size_t compare_within(const char *what, const float *got, const double *want, size_t count,
                      double tol, double *max_err)
{
    size_t bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double g = (double)got[i], w = want[i], e = 0.0;
        int ok;
        if (isnan(w))
            ok = isnan(g);
        else if (isinf(w))
            ok = g == w;
        else if (!isfinite(g))
            ok = 0;
        else
            ok = (e = fabs(g - w)) <= tol;
        if (e > worst)
            worst = e;
        if (!ok && bad++ < 5)
            print_error("%s[%zu]: got %.9g, expected %.17g (tol %.3g)\n", what, i, g, w, tol);
    }
    if (bad)
        print_error("%s: %zu of %zu values out of tolerance\n", what, bad, count);
    if (max_err)
        *max_err = worst;
    return bad;
}

void tool_expand(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < size; ++s) {
        if (*s == '@')
            n += (size_t)snprintf(out + n, size - n, "%s/", work_dir());
        else
            out[n++] = *s;
        if (n >= size)
            n = size - 1;
    }
    out[n] = '\0';
}

void tool_fails(long fsize_limit, int code, const char *const *needles, const char *const *args,
                char *what, size_t what_size)
{
    static char a[32][1024];
    const char *argv[33];
    size_t n = 0;
    snprintf(what, what_size, "clnorm");
    for (; args[n]; ++n) {
        assert_true(n < 32);
        tool_expand(a[n], sizeof a[n], args[n]);
        argv[n] = a[n];
        size_t w = strlen(what);
        snprintf(what + w, what_size - w, " %s", args[n]);
    }
    argv[n] = NULL;
    tool_result r;
    tool_run(&r, fsize_limit, argv);
    if (code == TOOL_NONZERO ? r.code == 0 || r.code >= 128 : r.code != code)
        fail_msg("%s: exit %d, expected %d; stderr: %s", what, r.code, code, r.err);
    if (r.out[0])
        fail_msg("%s: stdout is not empty: %s", what, r.out);
    size_t len = strlen(r.err);
    if (strncmp(r.err, "clnorm: error: ", 15) != 0 || len < 16 || r.err[len - 1] != '\n' ||
        strchr(r.err, '\n') != r.err + len - 1)
        fail_msg("%s: stderr is not one 'clnorm: error:' line: '%s'", what, r.err);
    for (; *needles; ++needles) {
        char needle[1200];
        tool_expand(needle, sizeof needle, *needles);
        if (!strstr(r.err, needle))
            fail_msg("%s: stderr lacks \"%s\": %s", what, needle, r.err);
    }
    tool_result_free(&r);
}

void put_f32_shape(const char *name, size_t ndim, size_t d0, size_t d1, size_t d2, size_t d3)
{
    const size_t shape[4] = {d0, d1, d2, d3};
    size_t count = 1;
    for (size_t i = 0; i < ndim; ++i)
        count *= shape[i];
    float *v = malloc((count ? count : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < count; ++i)
        v[i] = 0.5f + (float)(rng() % 1000) / 100.0f;
    npy_put_f32(work_path(name), shape, ndim, v);
    free(v);
}

void expect_same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    if (na != nb || memcmp(x, y, na) != 0)
        fail_msg("%s and %s differ (%zu and %zu bytes)", a, b, na, nb);
    free(x);
    free(y);
}

size_t tool_argv(const char *const *args, const char **argv, size_t cap)
{
    size_t n = 0;
    argv[n++] = tool_binary();
    for (; *args; ++args) {
        assert_true(n + 1 < cap);
        argv[n++] = *args;
    }
    argv[n] = NULL;
    return n;
}
