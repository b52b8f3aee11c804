/* SPDX-License-Identifier: Apache-2.0 */
/* test_tool.c: the clnorm binary end to end: every ESPnet fixture case of
 * tests/fixtures/index.json, round trips, help, version, devices, bench. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TEST_TOOL_HAVE_CJSON
#include <cJSON.h>
#endif

#include "fixture_index.h"
#include "npy.h"
#include "npy_test_util.h"
#include "tool_test_util.h"

#ifndef CLNORM_FIXTURE_DIR
#error "CLNORM_FIXTURE_DIR must be defined by the build"
#endif

/* Defined in test_tool_errors.c: the failure cases, as a second group. */
int run_tool_error_tests(void);

/* ---- the ESPnet fixtures ---- */

static const char *fixture(const char *name, const char *key)
{
    static char ring[8][1024];
    static unsigned next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s.%s.npy", CLNORM_FIXTURE_DIR, name, key);
    return p;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Compares the tool's output `got` with CASE.KEY.npy: float32, the shape
 * `shape`, every value within tol. */
static void check_output(const char *name, const char *key, const char *got, const size_t *shape,
                         size_t ndim, double tol)
{
    npy_array a = {0}, e = {0};
    double max_err;
    npy_get_output(got, &a);
    double *want = npy_get_f64_exact(fixture(name, key), &e);
    assert_int_equal(a.ndim, ndim);
    assert_int_equal(e.ndim, ndim);
    assert_memory_equal(a.shape, shape, ndim * sizeof(size_t));
    assert_memory_equal(e.shape, shape, ndim * sizeof(size_t));
    char what[256];
    snprintf(what, sizeof what, "%s.%s", name, key);
    size_t bad = compare_within(what, a.data, want, a.count, tol, &max_err);
    print_message("  %-40s max |err| %.3g, tol %.3g\n", what, max_err, tol);
    npy_free(&a);
    free(want);
    if (bad)
        fail_msg("%s: %zu values out of tolerance", what, bad);
}

/* One case of tests/fixtures/index.json (its name is the state), with the
 * tolerances the index gives. */
static void test_fixture_case(void **state)
{
    const char *name = *state;
    const char *x = fixture(name, "x");
    char y[1024], m[1024], s[1024];
    snprintf(y, sizeof y, "%s", work_path("out/y.npy"));
    snprintf(m, sizeof m, "%s", work_path("out/m.npy"));
    snprintf(s, sizeof s, "%s", work_path("out/s.npy"));
    npy_array in = {0};
    char err[512];
    if (npy_read_file(x, &in, err, sizeof err) != 0)
        fail_msg("%s: %s", x, err);
    if (starts_with(name, "varnorm2d_")) {
        tool_ok(ARGS("varnorm2d", "-i", x, "-o", y, "--alpha", fixture(name, "alpha")));
        check_output(name, "y", y, in.shape, 4, fixture_tolerance(name, "y"));
        /* the other accumulator, chosen by the tool's option, meets the same bar */
        tool_ok(ARGS("varnorm2d", "-i", x, "-o", y, "--alpha", fixture(name, "alpha"),
                     "--accumulate", "float-float"));
        check_output(name, "y", y, in.shape, 4, fixture_tolerance(name, "y"));
    } else if (starts_with(name, "revin_output_bld_")) {
        tool_ok(ARGS("revin-inverse", "-i", x, "-o", y, "--mean", fixture(name, "mean"), "--std",
                     fixture(name, "std")));
        check_output(name, "y", y, in.shape, 3, fixture_tolerance(name, "y"));
    } else {
        int transposed = starts_with(name, "revin_bdl_");
        assert_true(transposed || starts_with(name, "revin_bld_"));
        const char *args[] = {
            "revin",      "-i", x,           "-o", y,
            "--mean-out", m,    "--std-out", s,    transposed ? "--transposed" : NULL,
            NULL};
        tool_ok(args);
        size_t stats[3] = {in.shape[0], transposed ? in.shape[1] : in.shape[2], 1};
        check_output(name, "y", y, in.shape, 3, fixture_tolerance(name, "y"));
        check_output(name, "mean", m, stats, 3, fixture_tolerance(name, "mean"));
        check_output(name, "std", s, stats, 3, fixture_tolerance(name, "std"));
    }
    npy_free(&in);
}

/* No --alpha is the same as an alpha of ones, byte for byte. */
static void test_varnorm2d_default_alpha(void **state)
{
    (void)state;
    const char *x = fixture("varnorm2d_doc_2x3x4x4", "x");
    const float ones[3] = {1, 1, 1};
    const size_t shape[1] = {3};
    char a[1024], y1[1024], y2[1024];
    snprintf(a, sizeof a, "%s", work_path("ones.npy"));
    snprintf(y1, sizeof y1, "%s", work_path("out/default.npy"));
    snprintf(y2, sizeof y2, "%s", work_path("out/ones.npy"));
    npy_put_f32(a, shape, 1, ones);
    tool_ok(ARGS("varnorm2d", "-i", x, "-o", y1));
    tool_ok(ARGS("varnorm2d", "--alpha", a, "-o", y2, "-i", x));
    expect_same_bytes(y1, y2);
}

/* ---- round trips ---- */

static void expect_same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    if (na != nb || memcmp(ba, bb, na) != 0)
        fail_msg("%s and %s differ", a, b);
    free(ba);
    free(bb);
}

/* revin then revin-inverse gives x back within a few ulps; float64 files
 * (input, and the statistics) give the very same bytes as float32 ones. */
static void roundtrip(int transposed)
{
    enum { B = 3, L = 64, D = 5 };
    const size_t shape[3] = {B, transposed ? D : L, transposed ? L : D};
    const size_t count = (size_t)B * L * D;
    float *x = malloc(count * sizeof *x);
    double *x64 = malloc(count * sizeof *x64);
    assert_true(x && x64);
    rng_seed(transposed ? 777 : 778);
    double offset[B][D], scale[B][D];
    for (int b = 0; b < B; ++b)
        for (int d = 0; d < D; ++d) {
            offset[b][d] = ((double)rng() / 4294967296.0 - 0.5) * 100.0;
            scale[b][d] = pow(10.0, (double)rng() / 4294967296.0 * 3.0 - 2.0);
        }
    for (size_t i = 0; i < count; ++i) {
        size_t b = i / (count / B), d = transposed ? i / L % D : i % D;
        x[i] = (float)(offset[b][d] + scale[b][d] * ((double)rng() / 4294967296.0 * 2.0 - 1.0));
        x64[i] = x[i];
    }
    char p[12][1024];
    const char *names[12] = {"x32.npy",      "x64.npy",     "out/y32.npy", "out/m32.npy",
                             "out/s32.npy",  "out/y64.npy", "out/m64.npy", "out/s64.npy",
                             "out/back.npy", "m_f8.npy",    "s_f8.npy",    "out/back64.npy"};
    for (int i = 0; i < 12; ++i)
        snprintf(p[i], sizeof p[i], "%s", work_path(names[i]));
    const char *tr = transposed ? "--transposed" : NULL;
    npy_put_f32(p[0], shape, 3, x);
    npy_put_f64(p[1], shape, 3, x64);
    tool_ok((const char *const[]){"revin", "-i", p[0], "-o", p[2], "--mean-out", p[3], "--std-out",
                                  p[4], tr, NULL});
    tool_ok((const char *const[]){"revin", "-i", p[1], "-o", p[5], "--mean-out", p[6], "--std-out",
                                  p[7], tr, NULL});
    for (int i = 2; i < 5; ++i)
        expect_same_file(p[i], p[i + 3]);
    npy_array y = {0}, m = {0}, s = {0}, back = {0};
    npy_get_output(p[2], &y);
    npy_get_output(p[3], &m);
    npy_get_output(p[4], &s);
    const size_t stats[3] = {B, D, 1};
    assert_int_equal(y.ndim, 3);
    assert_memory_equal(y.shape, shape, sizeof shape);
    assert_int_equal(m.ndim, 3);
    assert_memory_equal(m.shape, stats, sizeof stats);
    assert_int_equal(s.ndim, 3);
    assert_memory_equal(s.shape, stats, sizeof stats);
    tool_ok((const char *const[]){"revin-inverse", "-i", p[2], "-o", p[8], "--mean", p[3], "--std",
                                  p[4], tr, NULL});
    /* The statistics as float64 files: exactly the same floats, so the same bytes. */
    double *m64 = malloc(B * D * sizeof *m64), *s64 = malloc(B * D * sizeof *s64);
    assert_true(m64 && s64);
    for (size_t i = 0; i < (size_t)B * D; ++i) {
        m64[i] = m.data[i];
        s64[i] = s.data[i];
    }
    npy_put_f64(p[9], stats, 3, m64);
    npy_put_f64(p[10], stats, 3, s64);
    tool_ok((const char *const[]){"revin-inverse", "--mean", p[9], "--std", p[10], "-i", p[2], "-o",
                                  p[11], tr, NULL});
    expect_same_file(p[8], p[11]);
    npy_get_output(p[8], &back);
    assert_int_equal(back.ndim, 3);
    assert_memory_equal(back.shape, shape, sizeof shape);
    /* (x - m) / s * s + m rounds a few times at the scale of max(|x|, |m|). */
    double worst_ulps = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t b = i / (count / B), d = transposed ? i / L % D : i % D;
        double scale_here = fmax(fabs((double)x[i]), fabs((double)m.data[b * D + d]));
        double ulp = (double)nextafterf((float)scale_here, INFINITY) - (double)(float)scale_here;
        double ulps = fabs((double)back.data[i] - (double)x[i]) / ulp;
        worst_ulps = fmax(worst_ulps, ulps);
        if (ulps > 4)
            fail_msg("element %zu: x %.9g came back as %.9g (%.1f ulps)", i, (double)x[i],
                     (double)back.data[i], ulps);
    }
    print_message("  round trip%s: worst %.2f ulps of max(|x|, |m|)\n",
                  transposed ? " (transposed)" : "", worst_ulps);
    npy_free(&y), npy_free(&m), npy_free(&s), npy_free(&back);
    free(x), free(x64), free(m64), free(s64);
}

static void test_roundtrip_bld(void **state)
{
    (void)state;
    roundtrip(0);
}

static void test_roundtrip_bdl(void **state)
{
    (void)state;
    roundtrip(1);
}

/* ---- help, version, devices ---- */

static void expect_stdout(const char *const *args, const char *prefix)
{
    tool_result r;
    tool_run(&r, -1, args);
    if (r.code != 0 || r.err[0] || !starts_with(r.out, prefix))
        fail_msg("clnorm %s %s: exit %d, stdout '%.60s', stderr '%s'", args[0],
                 args[1] ? args[1] : "", r.code, r.out, r.err);
    size_t n = strlen(r.out);
    assert_true(n > 0 && r.out[n - 1] == '\n');
    tool_result_free(&r);
}

static void test_help_and_version(void **state)
{
    (void)state;
    expect_stdout(ARGS("--help"), "usage: clnorm <command>");
    expect_stdout(ARGS("-h"), "usage: clnorm <command>");
    expect_stdout(ARGS("help"), "usage: clnorm <command>");
    expect_stdout(ARGS("devices", "--help"), "usage: clnorm devices");
    expect_stdout(ARGS("varnorm2d", "--help"), "usage: clnorm varnorm2d -i IN.npy -o OUT.npy");
    expect_stdout(ARGS("revin", "--help"), "usage: clnorm revin -i IN.npy -o OUT.npy");
    expect_stdout(ARGS("revin-inverse", "--help"), "usage: clnorm revin-inverse -i IN.npy");
    expect_stdout(ARGS("revin-inverse", "-h"), "usage: clnorm revin-inverse -i IN.npy");
    expect_stdout(ARGS("demo", "--help"), "usage: clnorm demo");
    expect_stdout(ARGS("--version"), "clnorm " CLNORM_PROJECT_VERSION "\n");
    expect_stdout(ARGS("-V"), "clnorm " CLNORM_PROJECT_VERSION "\n");
    /* The top-level usage names every command. */
    tool_result r;
    tool_run(&r, -1, ARGS("--help"));
    const char *commands[] = {"devices", "varnorm2d", "revin", "revin-inverse", "demo"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        assert_non_null(strstr(r.out, commands[i]));
    tool_result_free(&r);
    /* No command at all: bad usage, one error line pointing at --help. */
    tool_run(&r, -1, ARGS(NULL));
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "clnorm: error: no command given (see clnorm --help)\n");
    tool_result_free(&r);
    /* Two outputs naming one file: refused before anything is written. */
    tool_run(
        &r, -1,
        ARGS("revin", "-i", "/nonexistent.npy", "-o", "/tmp/a.npy", "--mean-out", "/tmp/./a.npy"));
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "-o and --mean-out both name"));
    tool_result_free(&r);
}

static void test_devices(void **state)
{
    (void)state;
    tool_result r;
    tool_run(&r, -1, ARGS("devices"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    /* A header line, then one line per device; '*' marks the default. */
    assert_true(starts_with(r.out, "  spec"));
    const char *pocl = strstr(r.out, "(Portable Computing Language)");
    if (!pocl)
        fail_msg("devices does not list PoCL:\n%s", r.out);
    assert_non_null(strstr(r.out, "\n* "));
    assert_non_null(strstr(r.out, " cpu "));
    tool_result_free(&r);

    tool_run(&r, -1, ARGS("devices", "--json"));
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    assert_true(starts_with(r.out, "["));
#ifdef TEST_TOOL_HAVE_CJSON
    cJSON *root = cJSON_Parse(r.out);
    if (!root)
        fail_msg("devices --json is not JSON: %s", r.out);
    assert_true(cJSON_IsArray(root));
    int n = cJSON_GetArraySize(root), pocl_cpus = 0, defaults = 0;
    assert_true(n >= 1);
    for (int i = 0; i < n; ++i) {
        const cJSON *d = cJSON_GetArrayItem(root, i);
        const char *strings[] = {"spec", "platform", "name", "type", "opencl_c_version"};
        for (size_t k = 0; k < sizeof strings / sizeof strings[0]; ++k)
            assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, strings[k])));
        const cJSON *units = cJSON_GetObjectItemCaseSensitive(d, "compute_units");
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(d, "global_memory_bytes");
        assert_true(cJSON_IsNumber(units) && units->valuedouble >= 1);
        assert_true(cJSON_IsNumber(mem) && mem->valuedouble > 0);
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "fp64")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "default")));
        defaults += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "default"));
        const char *spec = cJSON_GetObjectItemCaseSensitive(d, "spec")->valuestring;
        unsigned pi, di;
        char tail;
        assert_int_equal(sscanf(spec, "%u:%u%c", &pi, &di, &tail), 2);
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(d, "platform")->valuestring,
                    "Portable Computing Language") &&
            !strcmp(cJSON_GetObjectItemCaseSensitive(d, "type")->valuestring, "cpu"))
            pocl_cpus++;
    }
    assert_true(pocl_cpus >= 1);
    assert_int_equal(defaults, 1);
    cJSON_Delete(root);
#else
    size_t n = strlen(r.out);
    assert_true(n >= 2 && !strcmp(r.out + n - 2, "]\n"));
#endif
    tool_result_free(&r);
}

/* `clnorm bench --quick` end to end: it runs, every result is within the
 * accuracy bar, and --json / --csv hold exactly the documented fields (outside
 * tools read them). Nothing is timed here: speed is the bench's business. */
static void test_bench_quick(void **state)
{
    (void)state;
    char json[4096], csv[4096];
    snprintf(json, sizeof json, "%s", work_path("bench.json"));
    snprintf(csv, sizeof csv, "%s", work_path("bench.csv"));
    tool_result r;
    tool_run(&r, -1, ARGS("bench", "--quick", "--repeat", "2", "--json", json, "--csv", csv));
    if (r.code != 0)
        fail_msg("bench --quick exited %d: %s%s", r.code, r.out, r.err);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "start-up (context + first forward"));
    /* the table's rows: between its header line and the copy kernel's line */
    size_t rows = 0;
    const char *p = strstr(r.out, "rel.err\n"), *end = strstr(r.out, "\ncopy kernel:");
    assert_true(p && end && p < end);
    for (p = strchr(p, '\n'); p && p < end; p = strchr(p + 1, '\n'))
        rows++;
    assert_true(rows >= 4); /* varnorm2d, revin (both layouts), revin-inverse, LayerNorm */
    tool_result_free(&r);

    size_t size = 0;
    char *text = (char *)slurp(json, &size);
#ifdef TEST_TOOL_HAVE_CJSON
    cJSON *root = cJSON_ParseWithLength(text, size);
    if (!root)
        fail_msg("bench --json is not JSON: %s", text);
    assert_int_equal(cJSON_GetArraySize(root), 7); /* exactly the seven documented keys */
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "device")));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "driver")));
    /* PoCL's CPU: fp64 statistics and the CPU's copy kernel by default */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "accumulator")->valuestring, "fp64");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "copy_kernel")->valuestring,
                        "chunks");
    const cJSON *copy = cJSON_GetObjectItemCaseSensitive(root, "copy_gbps");
    assert_true(cJSON_IsNumber(copy) && copy->valuedouble > 0);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results");
    assert_true(cJSON_IsArray(results));
    assert_int_equal(cJSON_GetArraySize(results), (int)rows);
    const cJSON *res;
    cJSON_ArrayForEach (res, results) {
        /* products (Linear, TransposedLinear, RLinear) add their GFLOP/s */
        const cJSON *gflops = cJSON_GetObjectItemCaseSensitive(res, "gflops");
        assert_true(!gflops || (cJSON_IsNumber(gflops) && gflops->valuedouble > 0));
        assert_int_equal(cJSON_GetArraySize(res), gflops ? 14 : 13);
        const char *op = cJSON_GetObjectItemCaseSensitive(res, "op")->valuestring;
        /* the class options by name, as the tool takes them */
        const cJSON *options = cJSON_GetObjectItemCaseSensitive(res, "options");
        assert_true(cJSON_IsObject(options));
        if (!strcmp(op, "revin") || !strcmp(op, "revin-inverse"))
            assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(options, "transposed")));
        const char *cls = cJSON_GetObjectItemCaseSensitive(res, "class")->valuestring;
        const char *layout = cJSON_GetObjectItemCaseSensitive(res, "layout")->valuestring;
        assert_true(op && cls && layout && *op && *cls && *layout);
        if (!strcmp(op, "varnorm2d"))
            assert_true(!strcmp(cls, "VarianceNorm2d") && !strcmp(layout, "nchw"));
        else if (!strcmp(op, "revin") || !strcmp(op, "revin-inverse"))
            assert_true(!strcmp(layout, "bld") || !strcmp(layout, "bdl"));
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(res, "shape"), *dim;
        assert_true(cJSON_IsArray(shape));
        double elements = 1;
        cJSON_ArrayForEach (dim, shape) {
            assert_true(cJSON_IsNumber(dim) && dim->valuedouble >= 1);
            elements *= dim->valuedouble;
        }
        if (!strcmp(op, "varnorm2d") || !strcmp(op, "revin") || !strcmp(op, "revin-inverse"))
            assert_int_equal(cJSON_GetArraySize(shape), strcmp(op, "varnorm2d") ? 3 : 4);
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(res, "bytes");
        /* x read, y written: twice x's bytes, or a product's x and y */
        assert_true(cJSON_IsNumber(bytes) && (gflops || bytes->valuedouble == elements * 8));
        /* the device times, from the bench's profiling queue, too */
        const char *positive[] = {"ms",      "gbps",      "ratio_to_copy",
                                  "copy_ms", "device_ms", "copy_device_ms"};
        for (size_t k = 0; k < 6; ++k) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, positive[k]);
            assert_true(cJSON_IsNumber(v) && v->valuedouble > 0);
        }
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(res, "max_rel_err");
        assert_true(cJSON_IsNumber(err) && err->valuedouble >= 0 && err->valuedouble < 1e-5);
    }
    const cJSON *startup = cJSON_GetObjectItemCaseSensitive(root, "startup");
    assert_int_equal(cJSON_GetArraySize(startup), 2);
    const cJSON *cold = cJSON_GetObjectItemCaseSensitive(startup, "cold_ms");
    const cJSON *warm = cJSON_GetObjectItemCaseSensitive(startup, "warm_ms");
    assert_true(cJSON_IsNumber(cold) && cold->valuedouble > 0);
    assert_true(cJSON_IsNumber(warm) && warm->valuedouble > 0);
    cJSON_Delete(root);
#else
    assert_true(starts_with(text, "{"));
#endif
    free(text);

    text = (char *)slurp(csv, &size);
    assert_true(starts_with(text, "op,layout,shape,bytes,ms,gbps,copy_ms,copy_gbps,ratio_to_copy,"
                                  "max_rel_err\n"));
    size_t lines = 0;
    for (size_t i = 0; i < size; ++i)
        lines += text[i] == '\n';
    assert_int_equal(lines, rows + 1);
    free(text);
}

/* --only OP[:LAYOUT] runs exactly the cases it names; a selector that names
 * none is a usage error (exit 2), not an empty table. --copy and
 * --accumulate reach the JSON. */
static void test_bench_only(void **state)
{
    (void)state;
    tool_result r;
    tool_run(&r, -1, ARGS("bench", "--only", "revin:bdl", "--repeat", "1", "--no-startup"));
    if (r.code != 0)
        fail_msg("bench --only revin:bdl exited %d: %s%s", r.code, r.out, r.err);
    size_t rows = 0, bdl = 0;
    for (const char *p = r.out; (p = strstr(p, "\n")) != NULL; ++p) {
        int row = !strncmp(p + 1, "varnorm2d ", 10) || !strncmp(p + 1, "revin ", 6) ||
                  !strncmp(p + 1, "revin-inverse ", 14);
        rows += row;
        bdl += row && !strncmp(p + 1, "revin          bdl ", 19);
    }
    assert_int_equal(rows, 1);
    assert_int_equal(bdl, 1);
    tool_result_free(&r);
#ifdef TEST_TOOL_HAVE_CJSON
    /* the GPU's copy kernel and the float-float accumulator, forced */
    char json[4096];
    snprintf(json, sizeof json, "%s", work_path("bench-grid.json"));
    tool_run(&r, -1,
             ARGS("bench", "--only", "revin:bdl", "--repeat", "1", "--no-startup", "--copy", "grid",
                  "--accumulate", "float-float", "--json", json));
    if (r.code != 0)
        fail_msg("bench --copy grid exited %d: %s%s", r.code, r.out, r.err);
    tool_result_free(&r);
    size_t size = 0;
    char *text = (char *)slurp(json, &size);
    cJSON *root = cJSON_ParseWithLength(text, size);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "accumulator")->valuestring,
                        "float-float");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "copy_kernel")->valuestring, "grid");
    const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "results"), 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(res, "max_rel_err")->valuedouble < 1e-5);
    assert_true(cJSON_GetObjectItemCaseSensitive(root, "copy_gbps")->valuedouble > 0);
    cJSON_Delete(root);
    free(text);
#endif
    static const char *bad[] = {"revin:nchw", "revin-", "rev", "varnorm2d:", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        tool_run(&r, -1, ARGS("bench", "--only", bad[i], "--no-startup"));
        assert_int_equal(r.code, 2);
        assert_non_null(strstr(r.err, "selects no case"));
        assert_string_equal(r.out, "");
        tool_result_free(&r);
    }
}

#ifdef TEST_TOOL_HAVE_CJSON
/* A result's shape as "8x128x512" ("" when it has none). */
static void shape_text(const cJSON *shape, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    const cJSON *d;
    cJSON_ArrayForEach (d, shape) {
        used +=
            (size_t)snprintf(buf + used, size - used, "%s%.0f", used ? "x" : "", d->valuedouble);
    }
}

/* `clnorm bench --reference`: each class's reference is the first layer of
 * its kind on the same bytes, none for the products and the references; with
 * one repeat the ratio to it is the two ratios' quotient. */
static void test_bench_reference(void **state)
{
    (void)state;
    char json[4096];
    snprintf(json, sizeof json, "%s", work_path("bench-reference.json"));
    tool_result r;
    tool_run(
        &r, -1,
        ARGS("bench", "--quick", "--no-startup", "--repeat", "1", "--reference", "--json", json));
    if (r.code != 0)
        fail_msg("bench --reference exited %d: %s%s", r.code, r.out, r.err);
    assert_non_null(strstr(r.out, "of ref"));
    tool_result_free(&r);
    static const struct {
        const char *cls, *ref, *layout, *shape; /* shape: the quick case's reference */
    } want[] = {
        {"LayerNorm", "ReversibleInstanceNorm1dInput", "bdl", "1x1024x512"},
        {"InstanceNorm2d", "VarianceNorm2d", "nchw", "10x64x32x32"},
        {"TSInverseNormalization", "ReversibleInstanceNorm1dOutput", "bld", "32x96x7"},
        {"TSNormalization", "ReversibleInstanceNorm1dInput", "bld", "32x432x7"},
        {"VarianceNorm2d", NULL, NULL, NULL},
        {"Linear", NULL, NULL, NULL},
    };
    size_t size = 0, seen[sizeof want / sizeof want[0]] = {0};
    char *text = (char *)slurp(json, &size);
    cJSON *root = cJSON_ParseWithLength(text, size);
    assert_non_null(root);
    const cJSON *res;
    cJSON_ArrayForEach (res, cJSON_GetObjectItemCaseSensitive(root, "results")) {
        const char *cls = cJSON_GetObjectItemCaseSensitive(res, "class")->valuestring;
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(res, "reference");
        if (ref) {
            double of = cJSON_GetObjectItemCaseSensitive(res, "ratio_to_reference")->valuedouble;
            double ratio = cJSON_GetObjectItemCaseSensitive(res, "ratio_to_copy")->valuedouble;
            double rr = cJSON_GetObjectItemCaseSensitive(ref, "ratio_to_copy")->valuedouble;
            if (!(of > 0) || fabs(of - ratio / rr) > 1e-9 * of)
                fail_msg("%s: ratio to the reference %g, not %g / %g", cls, of, ratio, rr);
        }
        for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i) {
            if (strcmp(cls, want[i].cls))
                continue;
            seen[i]++;
            if (!want[i].ref) {
                if (ref)
                    fail_msg("%s has a reference", cls);
                continue;
            }
            assert_non_null(ref);
            char shape[96];
            shape_text(cJSON_GetObjectItemCaseSensitive(ref, "shape"), shape, sizeof shape);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(ref, "class")->valuestring,
                                want[i].ref);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(ref, "layout")->valuestring,
                                want[i].layout);
            assert_string_equal(shape, want[i].shape);
        }
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i)
        if (!seen[i])
            fail_msg("bench --quick ran no %s", want[i].cls);
    cJSON_Delete(root);
    free(text);
}
#endif

int main(void)
{
    size_t ncases = fixture_case_count(), size = ncases + 8;
    struct CMUnitTest *tests = calloc(size, sizeof *tests);
    if (!tests)
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < ncases; ++i) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
            test_fixture_case, tool_setup_work, tool_teardown_work, (void *)fixture_case_name(i));
        tests[n++].name = fixture_case_name(i);
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_varnorm2d_default_alpha, tool_setup_work, tool_teardown_work);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_roundtrip_bld, tool_setup_work, tool_teardown_work);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_roundtrip_bdl, tool_setup_work, tool_teardown_work);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_help_and_version);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_devices);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_bench_quick, tool_setup_work, tool_teardown_work);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_bench_only, tool_setup_work, tool_teardown_work);
#ifdef TEST_TOOL_HAVE_CJSON
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_bench_reference, tool_setup_work, tool_teardown_work);
#else
    size--;
#endif
    if (n != size)
        return 1;
    int failed = _cmocka_run_group_tests("tool", tests, n, NULL, NULL);
    free(tests);
    fixture_index_free();
    return failed + run_tool_error_tests();
}
