/* SPDX-License-Identifier: Apache-2.0 */
/* test_tool_errors.c: clnorm on bad usage, bad files and failing writes: exit code, one stderr line, nothing changed. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "npy_test_util.h"
#include "tool_test_util.h"

#define NEEDLES(...) ARGS(__VA_ARGS__)

int run_tool_error_tests(void);

/* Any exit code but 0 and the signals: for failures that are neither bad
 * usage nor a device's (a write refused by the system). */
#define NONZERO TOOL_NONZERO

/* Runs the tool (under an RLIMIT_FSIZE of fsize unless it is negative) and
 * expects: exit `code`, nothing on stdout, exactly one stderr line
 * "clnorm: error: ..." holding every needle, and the work directory (inputs,
 * pre-existing outputs, everything) exactly as it was: no output created or
 * changed, no temporary file left. */
static void fails_limited(long fsize, int code, const char *const *needles, const char *const *args)
{
    char what[2048];
    tree_snapshot before;
    snapshot_take(&before, work_dir());
    tool_fails(fsize, code, needles, args, what, sizeof what);
    snapshot_expect_same(&before, work_dir(), what);
    snapshot_free(&before);
}

#define FAILS(code, needles, ...) fails_limited(-1, code, needles, ARGS(__VA_ARGS__))

/* The work directory: good inputs, bad files, and outputs that already exist. */
static int setup_inputs(void **state)
{
    if (tool_setup_work(state) != 0)
        return -1;
    rng_seed(99);
    put_f32_shape("x3.npy", 3, 2, 5, 4, 0); /* revin (B, L, D) = (2, 5, 4) */
    put_f32_shape("x4.npy", 4, 2, 3, 4, 4); /* varnorm2d (N, C, H, W) */
    put_f32_shape("x2.npy", 2, 5, 4, 0, 0);
    put_f32_shape("x0.npy", 0, 0, 0, 0, 0);
    put_f32_shape("alpha.npy", 1, 3, 0, 0, 0);
    put_f32_shape("m.npy", 3, 2, 4, 1, 0); /* (B, D, 1) of x3 */
    put_f32_shape("s.npy", 3, 2, 4, 1, 0);
    put_f32_shape("alpha4.npy", 1, 4, 0, 0, 0);
    put_f32_shape("alpha2d.npy", 2, 3, 1, 0, 0);
    put_f32_shape("m_d5.npy", 3, 2, 5, 1, 0);
    put_f32_shape("s_b3.npy", 3, 3, 4, 1, 0);
    put_f32_shape("m_last2.npy", 3, 2, 4, 2, 0);
    put_f32_shape("m_2d.npy", 2, 2, 4, 0, 0);
    put_f32_shape("zero3.npy", 3, 2, 0, 4, 0);
    put_f32_shape("zero3b.npy", 3, 0, 5, 4, 0);
    put_f32_shape("zero4.npy", 4, 2, 3, 0, 4);
    /* Bad files. */
    unsigned char data[160] = {0};
    size_t size;
    unsigned char *x3 = slurp(work_path("x3.npy"), &size);
    spit(work_path("trunc_data.npy"), x3, size - 7);
    spit(work_path("trunc_header.npy"), x3, 40);
    free(x3);
    spit(work_path("empty.npy"), "", 0);
    spit(work_path("garbage.npy"), "this is not a .npy file at all\n", 31);
    npy_put_raw(work_path("lie.npy"), "<f4", 0, "(2, 5, 400)", data, 160);
    npy_put_raw(work_path("i4.npy"), "<i4", 0, "(2, 5, 4)", data, 160);
    npy_put_raw(work_path("be.npy"), ">f4", 0, "(2, 5, 4)", data, 160);
    npy_put_raw(work_path("fortran.npy"), "<f4", 1, "(2, 5, 4)", data, 160);
    npy_put_raw(work_path("absurd.npy"), "<f4", 0, "(1099511627776, 1099511627776, 1, 1)", data,
                160);
    /* Outputs that exist already (not even .npy files), and a directory. */
    spit(work_path("out/y.npy"), "old y\n", 6);
    spit(work_path("out/m.npy"), "old m\n", 6);
    spit(work_path("out/s.npy"), "old s\n", 6);
    assert_int_equal(mkdir(work_path("out/dir"), 0755), 0);
    spit(work_path("out/dir/keep.txt"), "keep\n", 5);
    return 0;
}

static void test_usage_errors(void **state)
{
    (void)state;
    FAILS(2, NEEDLES("revin: -i IN.npy is required"), "revin", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin: -i IN.npy is required"), "revin");
    FAILS(2, NEEDLES("varnorm2d: -i IN.npy is required"), "varnorm2d", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin-inverse: -i IN.npy is required"), "revin-inverse", "-o", "@out/y.npy",
          "--mean", "@m.npy", "--std", "@s.npy");
    FAILS(2, NEEDLES("revin: -o OUT.npy is required"), "revin", "-i", "@x3.npy");
    FAILS(2, NEEDLES("varnorm2d: -o OUT.npy is required"), "varnorm2d", "-i", "@x4.npy");
    FAILS(2, NEEDLES("revin-inverse: -o OUT.npy is required"), "revin-inverse", "-i", "@x3.npy",
          "--mean", "@m.npy", "--std", "@s.npy");
    FAILS(2, NEEDLES("revin-inverse: --mean M.npy is required"), "revin-inverse", "-i", "@x3.npy",
          "-o", "@out/y.npy", "--std", "@s.npy");
    FAILS(2, NEEDLES("revin-inverse: --std S.npy is required"), "revin-inverse", "-i", "@x3.npy",
          "-o", "@out/y.npy", "--mean", "@m.npy");
    FAILS(2, NEEDLES("revin: unknown option '--bogus'"), "revin", "-i", "@x3.npy", "-o",
          "@out/y.npy", "--bogus");
    FAILS(2, NEEDLES("varnorm2d: unknown option '-x'"), "varnorm2d", "-x", "-i", "@x4.npy", "-o",
          "@out/y.npy");
    FAILS(2, NEEDLES("revin-inverse: unknown option '--nope'"), "revin-inverse", "--nope");
    FAILS(2, NEEDLES("devices: unknown option '--bogus'"), "devices", "--bogus");
    FAILS(2, NEEDLES("demo: unknown option '--bogus'"), "demo", "--bogus");
    FAILS(2, NEEDLES("unknown command 'frob'"), "frob", "-i", "@x3.npy", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("unknown command 'REVIN'"), "REVIN");
    FAILS(2, NEEDLES("unknown command '-i'"), "-i", "@x3.npy", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin: option '-o' needs a value"), "revin", "-i", "@x3.npy", "-o");
    FAILS(2, NEEDLES("varnorm2d: option '--alpha' needs a value"), "varnorm2d", "-i", "@x4.npy",
          "-o", "@out/y.npy", "--alpha");
    FAILS(2, NEEDLES("revin: unexpected argument 'extra'"), "revin", "-i", "@x3.npy", "-o",
          "@out/y.npy", "extra");
}

/* Every subcommand parses its options one way (getopt_long): "--opt=value"
 * and "--opt value" alike, and a number is a whole number or an error. */
static void test_option_spellings(void **state)
{
    (void)state;
    FAILS(2, NEEDLES("demo: --repeat wants a whole number in 1..10000, got '5x'"), "demo",
          "--repeat", "5x");
    FAILS(2, NEEDLES("bench: --repeat wants a whole number in 1..10000, got '5x'"), "bench",
          "--repeat=5x");
    FAILS(2, NEEDLES("demo: --repeat wants", "got ''"), "demo", "--repeat=");
    FAILS(2, NEEDLES("bench: --repeat wants", "got ' 5'"), "bench", "--repeat", " 5");
    FAILS(2, NEEDLES("bench: --repeat wants", "got '0'"), "bench", "--repeat", "0");
    FAILS(2, NEEDLES("demo: --repeat wants", "got '+3'"), "demo", "--repeat", "+3");
    FAILS(2, NEEDLES("demo: --repeat wants", "got '99999999999999999999'"), "demo", "--repeat",
          "99999999999999999999");
    FAILS(2, NEEDLES("devices: option '--json=yes' takes no value"), "devices", "--json=yes");
    FAILS(2, NEEDLES("revin: option '--transposed=1' takes no value"), "revin", "-i", "@x3.npy",
          "-o", "@out/y.npy", "--transposed=1");
    FAILS(2, NEEDLES("bench: option '--json' needs a value"), "bench", "--json");
    FAILS(2, NEEDLES("demo: unexpected argument 'extra'"), "demo", "--quick", "extra");
    FAILS(2, NEEDLES("bench: unexpected argument 'extra'"), "bench", "extra");
    FAILS(2, NEEDLES("devices: unexpected argument 'extra'"), "devices", "extra");
    FAILS(2, NEEDLES("bench: --accumulate wants fp64, float-float or auto, got 'double'"), "bench",
          "--accumulate", "double");
    FAILS(2, NEEDLES("demo: --accumulate wants fp64, float-float or auto, got ''"), "demo",
          "--accumulate=");
    FAILS(2, NEEDLES("revin: --accumulate wants fp64, float-float or auto, got 'FP64'"), "revin",
          "-i", "@x3.npy", "-o", "@out/y.npy", "--accumulate", "FP64");
    FAILS(2, NEEDLES("bench: --copy wants chunks or grid, got 'fast'"), "bench", "--copy", "fast");
    FAILS(2, NEEDLES("bench: --large and --quick do not go together"), "bench", "--large",
          "--quick");
    /* The accepted spellings, with the default device named both ways. */
    char in[1024], out[1024];
    snprintf(in, sizeof in, "--input=%s", work_path("x3.npy"));
    snprintf(out, sizeof out, "--output=%s", work_path("out/y.npy"));
    tool_ok(ARGS("revin", in, out, "--device=cpu"));
    tool_ok(ARGS("revin", "--input", work_path("x3.npy"), "--output", work_path("out/y2.npy"),
                 "--device", "cpu"));
    tool_ok(ARGS("demo", "--device", "cpu", "--quick", "--repeat", "1"));
    tool_ok(ARGS("demo", "--device=cpu", "--quick", "--repeat=1"));
}

static void test_options_of_other_commands(void **state)
{
    (void)state;
    static const struct {
        const char *cmd, *option, *value;
    } bad[] = {
        {"revin", "--alpha", "@alpha.npy"},
        {"revin-inverse", "--alpha", "@alpha.npy"},
        {"varnorm2d", "--transposed", NULL},
        {"varnorm2d", "--mean-out", "@out/m.npy"},
        {"varnorm2d", "--std-out", "@out/s.npy"},
        {"varnorm2d", "--mean", "@m.npy"},
        {"revin", "--mean", "@m.npy"},
        {"revin", "--std", "@s.npy"},
        {"revin-inverse", "--mean-out", "@out/m.npy"},
        {"revin-inverse", "--std-out", "@out/s.npy"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        char needle[128];
        snprintf(needle, sizeof needle, "%s: option '%s' does not apply", bad[i].cmd,
                 bad[i].option);
        const char *in = strcmp(bad[i].cmd, "varnorm2d") ? "@x3.npy" : "@x4.npy";
        if (!strcmp(bad[i].cmd, "revin-inverse"))
            fails_limited(-1, 2, NEEDLES(needle),
                          ARGS(bad[i].cmd, "-i", in, "-o", "@out/y.npy", "--mean", "@m.npy",
                               "--std", "@s.npy", bad[i].option, bad[i].value));
        else
            fails_limited(
                -1, 2, NEEDLES(needle),
                ARGS(bad[i].cmd, "-i", in, "-o", "@out/y.npy", bad[i].option, bad[i].value));
    }
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    /* The good inputs work: every failure below is the shape's. */
    tool_ok(ARGS("revin-inverse", "-i", work_path("x3.npy"), "-o", work_path("ok.npy"), "--mean",
                 work_path("m.npy"), "--std", work_path("s.npy")));
    tool_ok(ARGS("varnorm2d", "-i", work_path("x4.npy"), "-o", work_path("ok.npy"), "--alpha",
                 work_path("alpha.npy")));
    FAILS(
        2,
        NEEDLES("revin: -i '@x4.npy'", "expected a 3-d (B, L, D) array, found shape (2, 3, 4, 4)"),
        "revin", "-i", "@x4.npy", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin: -i '@x2.npy'", "expected a 3-d (B, D, L) array, found shape (5, 4)"),
          "revin", "--transposed", "-i", "@x2.npy", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin: -i '@x0.npy'", "found shape ()"), "revin", "-i", "@x0.npy", "-o",
          "@out/y.npy");
    FAILS(2, NEEDLES("-i '@x3.npy'", "expected a 4-d (N, C, H, W) array, found shape (2, 5, 4)"),
          "varnorm2d", "-i", "@x3.npy", "-o", "@out/y.npy");
    FAILS(2, NEEDLES("revin-inverse: -i '@x2.npy'", "expected a 3-d (B, L, D) array"),
          "revin-inverse", "-i", "@x2.npy", "-o", "@out/y.npy", "--mean", "@m.npy", "--std",
          "@s.npy");
    FAILS(2, NEEDLES("--alpha '@alpha4.npy'", "expected shape (3,) (C of -i), found (4,)"),
          "varnorm2d", "-i", "@x4.npy", "-o", "@out/y.npy", "--alpha", "@alpha4.npy");
    FAILS(2, NEEDLES("--alpha '@alpha2d.npy'", "expected shape (3,) (C of -i), found (3, 1)"),
          "varnorm2d", "-i", "@x4.npy", "-o", "@out/y.npy", "--alpha", "@alpha2d.npy");
    FAILS(2, NEEDLES("--alpha '@x0.npy'", "found ()"), "varnorm2d", "-i", "@x4.npy", "-o",
          "@out/y.npy", "--alpha", "@x0.npy");
    static const struct {
        const char *option, *file, *found;
    } stats[] = {
        {"--mean", "@m_d5.npy", "found (2, 5, 1)"},    {"--std", "@m_d5.npy", "found (2, 5, 1)"},
        {"--std", "@s_b3.npy", "found (3, 4, 1)"},     {"--mean", "@s_b3.npy", "found (3, 4, 1)"},
        {"--mean", "@m_last2.npy", "found (2, 4, 2)"}, {"--std", "@m_2d.npy", "found (2, 4)"},
    };
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; ++i) {
        char named[256];
        snprintf(named, sizeof named, "revin-inverse: %s '%s'", stats[i].option, stats[i].file);
        int mean = !strcmp(stats[i].option, "--mean");
        fails_limited(
            -1, 2, NEEDLES(named, "expected shape (2, 4, 1) (B, D, 1) from -i", stats[i].found),
            ARGS("revin-inverse", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean",
                 mean ? stats[i].file : "@m.npy", "--std", mean ? "@s.npy" : stats[i].file));
    }
    /* Transposed, x3 (2, 5, 4) is (B, D, L) = (2, 5, 4): the stats of x3 do not fit. */
    FAILS(2, NEEDLES("--mean '@m.npy'", "expected shape (2, 5, 1)", "found (2, 4, 1)"),
          "revin-inverse", "--transposed", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean", "@m.npy",
          "--std", "@s.npy");
    FAILS(2, NEEDLES("revin: -i '@zero3.npy'", "shape (2, 0, 4) has a zero dimension"), "revin",
          "-i", "@zero3.npy", "-o", "@out/y.npy", "--mean-out", "@out/m.npy");
    FAILS(2, NEEDLES("revin: -i '@zero3b.npy'", "shape (0, 5, 4) has a zero dimension"), "revin",
          "-i", "@zero3b.npy", "-o", "@out/y.npy", "--transposed");
    FAILS(2, NEEDLES("revin-inverse: -i '@zero3.npy'", "has a zero dimension"), "revin-inverse",
          "-i", "@zero3.npy", "-o", "@out/y.npy", "--mean", "@m.npy", "--std", "@s.npy");
    FAILS(2, NEEDLES("-i '@zero4.npy'", "shape (2, 3, 0, 4) has a zero dimension"), "varnorm2d",
          "-i", "@zero4.npy", "-o", "@out/y.npy");
}

/* Every kind of bad file, through every option that reads one. */
static void test_bad_files(void **state)
{
    (void)state;
    static const bad_input bad[] = {
        {"@missing.npy", "cannot open: No such file or directory"},
        {"@out/dir", "read failed: Is a directory"},
        {"@empty.npy", "empty file"},
        {"@garbage.npy", "not a .npy file (bad magic)"},
        {"@trunc_data.npy", "header says 160 bytes of data but the file has 153"},
        {"@trunc_header.npy", "truncated header"},
        {"@lie.npy", "header says 16000 bytes of data but the file has 160"},
        {"@i4.npy", "unsupported dtype '<i4'"},
        {"@be.npy", "big-endian data '>f4' is not supported"},
        {"@fortran.npy", "Fortran-order arrays are not supported"},
        {"@absurd.npy", "shape (1099511627776, 1099511627776, 1, 1) is too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        const char *f = bad[i].input;
        char named[5][256];
        const char *options[5] = {"-i", "-i", "--alpha", "--mean", "--std"};
        for (int k = 0; k < 5; ++k)
            snprintf(named[k], sizeof named[k], "%s '%s': %s", options[k], f, bad[i].needle);
        FAILS(2, NEEDLES(named[0]), "revin", "-i", f, "-o", "@out/y.npy", "--mean-out",
              "@out/m.npy", "--std-out", "@out/s.npy");
        FAILS(2, NEEDLES(named[1]), "varnorm2d", "-i", f, "-o", "@out/y.npy");
        FAILS(2, NEEDLES(named[2]), "varnorm2d", "-i", "@x4.npy", "-o", "@out/y.npy", "--alpha", f);
        FAILS(2, NEEDLES(named[3]), "revin-inverse", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean",
              f, "--std", "@s.npy");
        FAILS(2, NEEDLES(named[4]), "revin-inverse", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean",
              "@m.npy", "--std", f);
    }
}

static void test_bad_output_paths(void **state)
{
    (void)state;
    static const char *const missing =
        "cannot create a file in its directory: No such file or directory";
    FAILS(2, NEEDLES("-o '@nodir/y.npy'", missing), "revin", "-i", "@x3.npy", "-o", "@nodir/y.npy");
    FAILS(2, NEEDLES("-o '@nodir/y.npy'", missing), "varnorm2d", "-i", "@x4.npy", "-o",
          "@nodir/y.npy");
    FAILS(2, NEEDLES("-o '@nodir/y.npy'", missing), "revin-inverse", "-i", "@x3.npy", "-o",
          "@nodir/y.npy", "--mean", "@m.npy", "--std", "@s.npy");
    FAILS(2, NEEDLES("-o '@out/y.npy/z.npy'", "Not a directory"), "revin", "-i", "@x3.npy", "-o",
          "@out/y.npy/z.npy");
    FAILS(2, NEEDLES("-o '@out/dir'", "names a directory"), "revin", "-i", "@x3.npy", "-o",
          "@out/dir");
    FAILS(2, NEEDLES("-o '@out/dir'", "names a directory"), "varnorm2d", "-i", "@x4.npy", "-o",
          "@out/dir");
    FAILS(2, NEEDLES("-o '@out/'", "names a directory"), "revin", "-i", "@x3.npy", "-o", "@out/");
    FAILS(2, NEEDLES("-o '@out/new.npy/'", "names a directory"), "revin", "-i", "@x3.npy", "-o",
          "@out/new.npy/");
    FAILS(2, NEEDLES("-o: the file name is empty"), "revin", "-i", "@x3.npy", "-o", "");
}

static void test_device_failures(void **state)
{
    (void)state;
    static const char *const nomatch = "no device matches 'nonexistent'";
    FAILS(1, NEEDLES(nomatch), "revin", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean-out",
          "@out/m.npy", "--device", "nonexistent");
    FAILS(1, NEEDLES(nomatch), "varnorm2d", "-i", "@x4.npy", "-o", "@out/y.npy", "--device",
          "nonexistent");
    FAILS(1, NEEDLES(nomatch), "revin-inverse", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean",
          "@m.npy", "--std", "@s.npy", "--device", "nonexistent");
    FAILS(1, NEEDLES("no device matches '9:9'"), "revin", "-i", "@x3.npy", "-o", "@out/new.npy",
          "--device", "9:9");
    /* The same through $CLNORM_DEVICE. */
    char *saved = getenv("CLNORM_DEVICE") ? strdup(getenv("CLNORM_DEVICE")) : NULL;
    setenv("CLNORM_DEVICE", "nonexistent", 1);
    FAILS(1, NEEDLES(nomatch, "CLNORM_DEVICE"), "revin", "-i", "@x3.npy", "-o", "@out/y.npy");
    if (saved)
        setenv("CLNORM_DEVICE", saved, 1);
    else
        unsetenv("CLNORM_DEVICE");
    free(saved);
}

/* A tensor larger than the device allows: the tool names the buffer, its
 * size and the device's limits. PoCL's POCL_MEMORY_LIMIT (GiB) makes the CPU
 * device a 1 GiB one (buffers of at most 256 MiB); other platforms ignore it,
 * and the test skips when the run succeeds. */
static void test_tensor_too_large(void **state)
{
    (void)state;
    char hdr[128], path[512];
    int len = snprintf(hdr, sizeof hdr,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 100, 100000), }");
    while ((10 + len + 1) % 64)
        hdr[len++] = ' ';
    hdr[len++] = '\n';
    snprintf(path, sizeof path, "%s", work_path("big.npy"));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)len, 0};
    assert_int_equal(fwrite(magic, 1, 10, f), 10);
    assert_int_equal(fwrite(hdr, 1, (size_t)len, f), (size_t)len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(truncate(path, 10 + len + 320000000L), 0); /* zeros, sparse */
    setenv("POCL_MEMORY_LIMIT", "1", 1);
    tool_result r;
    tool_run(&r, -1, ARGS("varnorm2d", "-i", path, "-o", work_path("out/big.npy")));
    unsetenv("POCL_MEMORY_LIMIT");
    unlink(path);
    if (r.code == 0) {
        tool_result_free(&r);
        unlink(work_path("out/big.npy"));
        print_message("skipped: the device took a 320 MB buffer (not PoCL?)\n");
        skip();
    }
    char named[600];
    snprintf(named, sizeof named, "cannot allocate the tensor of -i '%s' (320000000 bytes)", path);
    if (r.code != 1 || !strstr(r.err, named) || !strstr(r.err, "CL_DEVICE_MAX_MEM_ALLOC_SIZE") ||
        !strstr(r.err, "bytes of global memory"))
        fail_msg("exit %d, stderr: %s", r.code, r.err);
    tool_result_free(&r);
    assert_int_equal(access(work_path("out/big.npy"), F_OK), -1);
}

/* A later output fails after earlier ones were staged: none of them lands. */
static void test_failure_after_staging(void **state)
{
    (void)state;
    static const char *const later[][2] = {
        {"@nodir/s.npy", "cannot create a file in its directory"},
        {"@out/dir", "names a directory"},
        {"@out/s.npy/", "names a directory"},
        {"@out/y.npy/s.npy", "Not a directory"},
    };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; ++i) {
        char named[256];
        snprintf(named, sizeof named, "--std-out '%s'", later[i][0]);
        /* Over existing files, and to new names. */
        FAILS(2, NEEDLES(named, later[i][1]), "revin", "-i", "@x3.npy", "-o", "@out/y.npy",
              "--mean-out", "@out/m.npy", "--std-out", later[i][0]);
        FAILS(2, NEEDLES(named, later[i][1]), "revin", "-i", "@x3.npy", "-o", "@out/y2.npy",
              "--mean-out", "@m2.npy", "--std-out", later[i][0]);
    }
    FAILS(2, NEEDLES("--mean-out '@nodir/m.npy'"), "revin", "--transposed", "-i", "@x3.npy", "-o",
          "@out/y.npy", "--mean-out", "@nodir/m.npy", "--std-out", "@out/s.npy");
}

/* Writes refused by RLIMIT_FSIZE (SIGXFSZ ignored): the tool fails, and the
 * outputs that exist are left as they were, with no temporary file. */
static void test_file_size_limit(void **state)
{
    (void)state;
    put_f32_shape("big3.npy", 3, 4, 4096, 8, 0); /* 512 KiB */
    put_f32_shape("big4.npy", 4, 4, 8, 64, 64);  /* 512 KiB */
    /* Unlimited first: this also fills the program caches, which the limited
     * runs then only read. */
    char warm[1024];
    snprintf(warm, sizeof warm, "%s", work_path("warm.npy"));
    tool_ok(ARGS("varnorm2d", "-i", work_path("big4.npy"), "-o", warm));
    tool_ok(ARGS("revin", "-i", work_path("big3.npy"), "-o", warm, "--mean-out",
                 work_path("wm.npy"), "--std-out", work_path("ws.npy")));
    struct stat st;
    assert_int_equal(stat(warm, &st), 0);
    const long full = (long)st.st_size;
    const long limits[] = {4096, 65536, full - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; ++i) {
        fails_limited(limits[i], NONZERO, NEEDLES("-o '@out/y.npy'", "File too large"),
                      ARGS("revin", "-i", "@big3.npy", "-o", "@out/y.npy", "--mean-out",
                           "@out/m.npy", "--std-out", "@out/s.npy"));
        fails_limited(
            limits[i], NONZERO, NEEDLES("-o '@out/new.npy'", "File too large"),
            ARGS("revin", "-i", "@big3.npy", "-o", "@out/new.npy", "--mean-out", "@out/new_m.npy"));
        fails_limited(limits[i], NONZERO, NEEDLES("-o '@out/y.npy'", "File too large"),
                      ARGS("varnorm2d", "-i", "@big4.npy", "-o", "@out/y.npy"));
    }
    /* The limit alone is not what fails: with room for the file, it works. */
    tool_result r;
    tool_run(&r, full + 4096,
             ARGS("revin", "-i", work_path("big3.npy"), "-o", work_path("out/y.npy")));
    if (r.code != 0)
        fail_msg("under a limit of %ld bytes: exit %d: %s", full + 4096, r.code, r.err);
    tool_result_free(&r);
    assert_int_equal(stat(work_path("out/y.npy"), &st), 0);
    assert_int_equal(st.st_size, full);
}

/* A test in a work directory of its own, with the files setup_inputs() puts there. */
#define INPUTS_TEST(t) cmocka_unit_test_setup_teardown(t, setup_inputs, tool_teardown_work)

int run_tool_error_tests(void)
{
    const struct CMUnitTest tests[] = {
        INPUTS_TEST(test_usage_errors),
        INPUTS_TEST(test_option_spellings),
        INPUTS_TEST(test_options_of_other_commands),
        INPUTS_TEST(test_wrong_shapes),
        INPUTS_TEST(test_bad_files),
        INPUTS_TEST(test_bad_output_paths),
        INPUTS_TEST(test_device_failures),
        INPUTS_TEST(test_tensor_too_large),
        INPUTS_TEST(test_failure_after_staging),
        INPUTS_TEST(test_file_size_limit),
    };
    return cmocka_run_group_tests_name("tool errors", tests, NULL, NULL);
}
