/* SPDX-License-Identifier: Apache-2.0 */
/* test_npy_write.c: cmocka tests of tools/formats/npy.c's writer: round trips, alignment, NumPy interop, atomic failures. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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
#include <unistd.h>

#include "npy.h"
#include "npy_test_util.h"
#include "test_main.h"

/* The interpreter for the NumPy cross-checks; they are skipped when it lacks numpy. */
#ifndef TEST_NPY_PYTHON
#define TEST_NPY_PYTHON "/usr/bin/python3"
#endif

static int have_numpy(void)
{
    return access(TEST_NPY_PYTHON, X_OK) == 0 &&
           system(TEST_NPY_PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* ---- round trips ---- */

static void check_written_layout(const char *path, size_t ndim, const size_t *shape, size_t count)
{
    size_t len, hlen;
    unsigned char *b = slurp(path, &len);
    char expect[256];
    int n = snprintf(expect, sizeof expect, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (size_t i = 0; i < ndim; i++)
        n += snprintf(expect + n, sizeof expect - (size_t)n, "%s%zu", i ? ", " : "", shape[i]);
    snprintf(expect + n, sizeof expect - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    assert_true(len >= 10);
    assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(b[10 + hlen - 1], '\n');
    assert_memory_equal(b + 10, expect, strlen(expect));
    for (size_t i = 10 + strlen(expect); i < 10 + hlen - 1; i++)
        assert_int_equal(b[i], ' ');
    assert_int_equal(len, 10 + hlen + 4 * count);
    free(b);
}

static const size_t rt_shapes[][NPY_MAX_DIMS] = {
    {0}, {1}, {3}, {2, 3, 4}, {2, 3, 4, 5}, {0}, {2, 0, 3}, {1, 1, 1, 1, 1, 1, 1, 7}};
static const size_t rt_ndims[] = {0, 1, 1, 3, 4, 1, 3, 8};

static void test_roundtrip_shapes(void **state)
{
    const char *dir = *state;
    char path[512], err[256];
    struct stat st;
    rng_seed(42);
    snprintf(path, sizeof path, "%s/rt.npy", dir);
    for (size_t s = 0; s < sizeof rt_ndims / sizeof rt_ndims[0]; s++) {
        size_t count = 1, ndim = rt_ndims[s], temps;
        float *data;
        npy_array a = {0};
        for (size_t i = 0; i < ndim; i++)
            count *= rt_shapes[s][i];
        data = malloc((count ? count : 1) * sizeof *data);
        assert_non_null(data);
        /* Random bit patterns: NaNs, infinities, denormals and -0 must all survive. */
        for (size_t i = 0; i < count; i++)
            data[i] = bits_to_float(rng());
        if (npy_write_file(path, rt_shapes[s], ndim, data, err, sizeof err) != 0)
            fail_msg("write shape %zu: %s", s, err);
        check_written_layout(path, ndim, rt_shapes[s], count);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);
        assert_int_equal(dir_entries(dir, &temps), 1);
        assert_int_equal(temps, 0);
        if (npy_read_file(path, &a, err, sizeof err) != 0)
            fail_msg("read shape %zu: %s", s, err);
        assert_int_equal(a.ndim, ndim);
        assert_memory_equal(a.shape, rt_shapes[s], ndim * sizeof(size_t));
        assert_int_equal(a.count, count);
        assert_non_null(a.data);
        if (count)
            assert_memory_equal(a.data, data, count * sizeof(float));
        npy_free(&a);
        npy_free(&a); /* idempotent */
        assert_null(a.data);
        free(data);
    }
}

static void test_write_relative_path(void **state)
{
    const char *dir = *state;
    char err[256];
    int cwd = open(".", O_RDONLY);
    npy_array a = {0};
    assert_true(cwd >= 0);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(npy_write_file("rel.npy", three_shape, 1, three, err, sizeof err), 0);
    assert_int_equal(npy_read_file("rel.npy", &a, err, sizeof err), 0);
    assert_int_equal(fchdir(cwd), 0);
    close(cwd);
    assert_memory_equal(a.data, three, sizeof three);
    npy_free(&a);
    assert_int_equal(dir_entries(dir, NULL), 1);
}

static void test_overwrite_replaces(void **state)
{
    const char *dir = *state;
    char path[512], err[256];
    const size_t big[2] = {4, 100}, small[1] = {3};
    float data[400] = {0};
    npy_array a = {0};
    struct stat st;
    snprintf(path, sizeof path, "%s/x.npy", dir);
    spit(path, "old contents", 12);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(npy_write_file(path, big, 2, data, err, sizeof err), 0);
    assert_int_equal(npy_write_file(path, small, 1, three, err, sizeof err), 0);
    assert_int_equal(npy_read_file(path, &a, err, sizeof err), 0);
    assert_int_equal(a.count, 3);
    assert_memory_equal(a.data, three, sizeof three);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    npy_free(&a);
    assert_int_equal(dir_entries(dir, NULL), 1);
}

static void test_read_file_large(void **state)
{
    const char *dir = *state;
    char path[512], err[256];
    const size_t shape[2] = {300, 1000};
    float *data = malloc(300000 * sizeof *data);
    npy_array a = {0};
    assert_non_null(data);
    for (size_t i = 0; i < 300000; i++)
        data[i] = (float)i * 0.5f;
    snprintf(path, sizeof path, "%s/big.npy", dir);
    assert_int_equal(npy_write_file(path, shape, 2, data, err, sizeof err), 0);
    assert_int_equal(npy_read_file(path, &a, err, sizeof err), 0);
    assert_int_equal(a.count, 300000);
    assert_memory_equal(a.data, data, 300000 * sizeof *data);
    npy_free(&a);
    /* A non-regular file: read through a FIFO fed by a child. */
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    {
        char src[512];
        pid_t pid;
        int status;
        snprintf(src, sizeof src, "%s/big.npy", dir);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int in = open(src, O_RDONLY), out = open(path, O_WRONLY);
            unsigned char buf[4096];
            ssize_t got;
            while (in >= 0 && out >= 0 && (got = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t)got) != got)
                    _exit(1);
            _exit(0);
        }
        assert_int_equal(npy_read_file(path, &a, err, sizeof err), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(a.count, 300000);
        assert_memory_equal(a.data, data, 300000 * sizeof *data);
        npy_free(&a);
    }
    free(data);
}

/* ---- writing failures ---- */

static void test_write_invalid_args(void **state)
{
    const char *dir = *state;
    char path[512], err[256];
    const size_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, huge[4] = {1ull << 40, 1ull << 40, 1, 1};
    const size_t zero[1] = {0};
    snprintf(path, sizeof path, "%s/x.npy", dir);
    assert_int_equal(npy_write_file(path, nine, 9, three, err, sizeof err), -1);
    assert_non_null(strstr(err, "9 dimensions (at most 8 are supported)"));
    if (SIZE_MAX == UINT64_MAX) {
        assert_int_equal(npy_write_file(path, huge, 4, three, err, sizeof err), -1);
        assert_non_null(strstr(err, "shape (1099511627776, 1099511627776, 1, 1) is too large"));
    }
    assert_int_equal(npy_write_file(path, three_shape, 1, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "no data given for 3 values"));
    assert_int_equal(npy_write_file(path, NULL, 2, three, err, sizeof err), -1);
    assert_non_null(strstr(err, "no shape given"));
    assert_int_equal(npy_write_file("", three_shape, 1, three, err, sizeof err), -1);
    assert_int_equal(dir_entries(dir, NULL), 0);
    /* No data is fine when there are no values. */
    assert_int_equal(npy_write_file(path, zero, 1, NULL, err, sizeof err), 0);
    assert_int_equal(dir_entries(dir, NULL), 1);
}

static void test_write_missing_directory(void **state)
{
    const char *dir = *state;
    char path[512], want[600], err[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/nope/x.npy", dir);
    assert_int_equal(npy_write_file(path, three_shape, 1, three, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "cannot create a temporary file in '%s/nope': No such file or directory", dir);
    assert_string_equal(err, want);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(dir_entries(dir, NULL), 0);
}

static void test_write_over_directory(void **state)
{
    const char *dir = *state;
    char path[512], inner[600], err[512];
    struct stat st;
    size_t temps;
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    spit(inner, "keep", 4);
    assert_int_equal(npy_write_file(path, three_shape, 1, three, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot rename the temporary file into place: Is a directory"));
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(dir_entries(path, NULL), 1);
    assert_int_equal(dir_entries(dir, &temps), 1);
    assert_int_equal(temps, 0);
    /* Trailing slash: the same, whatever errno the kernel picks. */
    snprintf(inner, sizeof inner, "%s/", path);
    assert_int_equal(npy_write_file(inner, three_shape, 1, three, err, sizeof err), -1);
    assert_int_equal(dir_entries(path, NULL), 1);
}

/* In a child with a small RLIMIT_FSIZE, write a big array over an existing
 * file; the parent checks the failure, the old bytes and the directory. The
 * child reports through the pipe ("-1:message"), not its exit status, which
 * tools such as valgrind may replace. */
static void write_under_fsize_limit(const char *base, rlim_t limit)
{
    char dir[400], path[512], msg[512] = "";
    const size_t big_shape[2] = {1000, 100};
    unsigned char *before, *after;
    size_t before_len, after_len, temps;
    int fds[2], status;
    ssize_t got;
    pid_t pid;
    snprintf(dir, sizeof dir, "%s/limit_%lu", base, (unsigned long)limit);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/old.npy", dir);
    assert_int_equal(npy_write_file(path, three_shape, 1, three, msg, sizeof msg), 0);
    before = slurp(path, &before_len);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        char err[512] = "", report[600];
        float *big = calloc(100000, sizeof *big);
        int rc = 2, n;
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        if (big && setrlimit(RLIMIT_FSIZE, &rl) == 0)
            rc = npy_write_file(path, big_shape, 2, big, err, sizeof err);
        free(big);
        n = snprintf(report, sizeof report, "%d:%s", rc, err);
        _exit(write(fds[1], report, (size_t)n) == n ? 0 : 1);
    }
    close(fds[1]);
    got = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    msg[got > 0 ? got : 0] = '\0';
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (strncmp(msg, "-1:", 3) != 0 || !strstr(msg, "write failed: File too large"))
        fail_msg("limit %lu: child reported '%s' (status %d)", (unsigned long)limit, msg, status);
    after = slurp(path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    assert_int_equal(dir_entries(dir, &temps), 1);
    assert_int_equal(temps, 0);
    free(before);
    free(after);
}

static void test_write_fsize_limit(void **state)
{
    write_under_fsize_limit(*state, 4096);   /* fails mid-data, after a short write */
    write_under_fsize_limit(*state, 100);    /* fails inside the header */
    write_under_fsize_limit(*state, 0);      /* fails on the first byte */
    write_under_fsize_limit(*state, 400127); /* one byte short of the whole file */
}

/* ---- NumPy interoperability ---- */

static void py_tuple(char *out, size_t size, const size_t *shape, size_t ndim)
{
    size_t n = (size_t)snprintf(out, size, "(");
    for (size_t i = 0; i < ndim; i++)
        n += (size_t)snprintf(out + n, size - n, "%zu,", shape[i]);
    snprintf(out + n, size - n, ")");
}

static int run_python(const char *dir, const char *script)
{
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/check.py", dir);
    spit(path, script, strlen(script));
    snprintf(cmd, sizeof cmd, TEST_NPY_PYTHON " %s %s", path, dir);
    return system(cmd);
}

static void test_numpy_reads_ours(void **state)
{
    const char *dir = *state;
    char path[512], err[256], tup[128], script[8192];
    size_t n;
    if (!have_numpy())
        skip();
    rng_seed(7);
    n = (size_t)snprintf(
        script, sizeof script,
        "import sys, numpy as np\n"
        "d = sys.argv[1]\n"
        "def check(i, shape):\n"
        "    p = '%%s/ours_%%d.npy' %% (d, i)\n"
        "    a = np.load(p)\n"
        "    b = np.fromfile('%%s/ours_%%d.raw' %% (d, i), dtype='<f4').reshape(shape)\n"
        "    assert a.dtype == np.dtype('<f4'), a.dtype\n"
        "    assert a.shape == shape, (a.shape, shape)\n"
        "    assert a.tobytes() == b.tobytes(), 'values differ'\n"
        "    with open(p, 'rb') as f:\n"
        "        assert np.lib.format.read_magic(f) == (1, 0)\n"
        "        np.lib.format.read_array_header_1_0(f)\n"
        "        assert f.tell() %% 64 == 0, f.tell()\n");
    for (size_t s = 0; s < sizeof rt_ndims / sizeof rt_ndims[0]; s++) {
        size_t count = 1;
        float *data;
        unsigned char *raw;
        for (size_t i = 0; i < rt_ndims[s]; i++)
            count *= rt_shapes[s][i];
        data = malloc((count ? count : 1) * sizeof *data);
        raw = malloc((count ? count : 1) * 4);
        assert_true(data && raw);
        for (size_t i = 0; i < count; i++) {
            data[i] = bits_to_float(rng());
            put_f32(raw + 4 * i, data[i]);
        }
        snprintf(path, sizeof path, "%s/ours_%zu.npy", dir, s);
        assert_int_equal(npy_write_file(path, rt_shapes[s], rt_ndims[s], data, err, sizeof err), 0);
        snprintf(path, sizeof path, "%s/ours_%zu.raw", dir, s);
        spit(path, raw, count * 4);
        py_tuple(tup, sizeof tup, rt_shapes[s], rt_ndims[s]);
        n += (size_t)snprintf(script + n, sizeof script - n, "check(%zu, %s)\n", s, tup);
        free(data);
        free(raw);
    }
    snprintf(script + n, sizeof script - n, "print('numpy read %zu files')\n",
             sizeof rt_ndims / sizeof rt_ndims[0]);
    assert_int_equal(run_python(dir, script), 0);
}

static const char numpy_writer[] =
    "import sys, warnings, numpy as np\n"
    "warnings.simplefilter('ignore')\n"
    "d = sys.argv[1]\n"
    "rng = np.random.default_rng(1234)\n"
    "base = rng.standard_normal((2, 3, 4)) * 10\n"
    "base.flat[:6] = [np.pi, 1e-40, 1e300, -0.0, np.nan, 0.1]\n"
    "def save(name, a, version):\n"
    "    with open('%s/%s.npy' % (d, name), 'wb') as f:\n"
    "        np.lib.format.write_array(f, a, version=version)\n"
    "    with np.errstate(all='ignore'):\n"
    "        a.astype('<f4').tofile('%s/%s.raw' % (d, name))\n"
    "for v in (1, 2, 3):\n"
    "    for t in ('f4', 'f8'):\n"
    "        with np.errstate(all='ignore'):\n"
    "            save('v%d_%s' % (v, t), base.astype('<' + t), (v, 0))\n"
    "save('zero_d', np.array(2.5, dtype='<f4'), None)\n"
    "save('empty', np.zeros((0, 3), dtype='<f8'), None)\n"
    "save('long', np.arange(5000, dtype='<f8') / 3, None)\n"
    "np.save(d + '/fortran.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))\n"
    "np.save(d + '/big_endian.npy', np.arange(3, dtype='>f4'))\n"
    "np.save(d + '/int.npy', np.arange(3, dtype='<i4'))\n"
    "np.save(d + '/half.npy', np.arange(3, dtype='<f2'))\n"
    "np.save(d + '/object.npy', np.array([1, 'a'], dtype=object), allow_pickle=True)\n"
    "np.save(d + '/structured.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<f4')]))\n";

static void test_we_read_numpy(void **state)
{
    static const struct {
        const char *name;
        size_t ndim, shape[3];
    } good[] = {
        {"v1_f4", 3, {2, 3, 4}}, {"v1_f8", 3, {2, 3, 4}}, {"v2_f4", 3, {2, 3, 4}},
        {"v2_f8", 3, {2, 3, 4}}, {"v3_f4", 3, {2, 3, 4}}, {"v3_f8", 3, {2, 3, 4}},
        {"zero_d", 0, {0}},      {"empty", 2, {0, 3}},    {"long", 1, {5000}},
    };
    static const bad_input bad[] = {
        /* input: the file numpy_writer names */
        {"fortran", "Fortran-order arrays are not supported"},
        {"big_endian", "big-endian data '>f4' is not supported"},
        {"int", "unsupported dtype '<i4'"},
        {"half", "unsupported dtype '<f2'"},
        {"object", "object arrays ('|O') are not supported"},
        {"structured", "structured dtypes"},
    };
    const char *dir = *state;
    char path[512], err[256];
    if (!have_numpy())
        skip();
    assert_int_equal(run_python(dir, numpy_writer), 0);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        npy_array a = {0};
        size_t raw_len;
        unsigned char *raw;
        snprintf(path, sizeof path, "%s/%s.npy", dir, good[i].name);
        if (npy_read_file(path, &a, err, sizeof err) != 0)
            fail_msg("%s: %s", good[i].name, err);
        assert_int_equal(a.ndim, good[i].ndim);
        assert_memory_equal(a.shape, good[i].shape, a.ndim * sizeof(size_t));
        snprintf(path, sizeof path, "%s/%s.raw", dir, good[i].name);
        raw = slurp(path, &raw_len);
        assert_int_equal(raw_len, a.count * 4);
        for (size_t k = 0; k < a.count; k++) {
            uint32_t want = (uint32_t)raw[4 * k] | (uint32_t)raw[4 * k + 1] << 8 |
                            (uint32_t)raw[4 * k + 2] << 16 | (uint32_t)raw[4 * k + 3] << 24;
            if (float_bits(a.data[k]) != want && !(isnan(a.data[k]) && isnan(bits_to_float(want))))
                fail_msg("%s[%zu]: got %a, numpy has %a", good[i].name, k, (double)a.data[k],
                         (double)bits_to_float(want));
        }
        free(raw);
        npy_free(&a);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        npy_array a = {0};
        snprintf(path, sizeof path, "%s/%s.npy", dir, bad[i].input);
        assert_int_equal(npy_read_file(path, &a, err, sizeof err), -1);
        if (!strstr(err, bad[i].needle))
            fail_msg("%s: expected '%s' in '%s'", bad[i].input, bad[i].needle, err);
        assert_null(a.data);
    }
}

TEST_MAIN_AFTER(init_three(), NULL, NULL,
                cmocka_unit_test_setup_teardown(test_roundtrip_shapes, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_relative_path, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_overwrite_replaces, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_read_file_large, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_invalid_args, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_missing_directory, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_over_directory, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_write_fsize_limit, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_numpy_reads_ours, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_we_read_numpy, setup_dir, teardown_dir))
