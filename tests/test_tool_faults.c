/* SPDX-License-Identifier: Apache-2.0 */
/* test_tool_faults.c: the tool's subcommands with the Nth library call
 * (OpenCL call or allocation) failing, N = 1, 2, ... until a run completes
 * without reaching the countdown. Every run must end cleanly: exit 0 with the
 * same output as without a fault (a harmless site such as the cache), or a
 * non-zero exit with one "clnorm: error:" line and the output directory
 * exactly as it was. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy_test_util.h"
#include "test_main.h"
#include "tool_test_util.h"

#define MAX_RUNS 2000

/* Which sites failed, over all loops (printed at the end). */
static char sites[64][64];
static size_t nsites;

static void note_site(const char *site)
{
    for (size_t i = 0; i < nsites; ++i)
        if (!strcmp(sites[i], site))
            return;
    if (nsites < 64)
        snprintf(sites[nsites++], sizeof sites[0], "%s", site);
}

/* The report the fault-injection build writes at exit. */
static int read_report(const char *path, char *site, size_t size)
{
    char line[256] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    assert_non_null(got);
    if (strncmp(line, "fired ", 6) == 0) {
        sscanf(line + 6, "%63s", site);
        (void)size;
        return 1;
    }
    assert_true(strncmp(line, "clean ", 6) == 0);
    return 0;
}

/* Loop the countdown over one command line whose outputs are `outputs`
 * (names under the work directory, pre-filled with old bytes). */
static void fault_loop(const char *name, const char *const *args, const char *const *outputs)
{
    char report[1024];
    snprintf(report, sizeof report, "%s", work_path("fault.report"));
    setenv("CLNORM_TEST_FAULT_REPORT", report, 1);
    /* The outputs of a clean run, to compare runs whose fault was harmless. */
    unsetenv("CLNORM_TEST_FAULT");
    tool_result r;
    tool_run(&r, -1, args);
    assert_int_equal(r.code, 0);
    tool_result_free(&r);
    size_t nout = 0, sizes[4];
    unsigned char *good[4];
    for (; outputs[nout]; ++nout)
        good[nout] = slurp(work_path(outputs[nout]), &sizes[nout]);
    unsigned long n = 1, fired = 0, failed = 0;
    for (; n < MAX_RUNS; ++n) {
        for (size_t i = 0; i < nout; ++i) /* old content the run must not damage */
            spit(work_path(outputs[i]), "old bytes", 9);
        tree_snapshot before;
        snapshot_take(&before, work_path("out"));
        char spec[32];
        snprintf(spec, sizeof spec, "%lu", n);
        setenv("CLNORM_TEST_FAULT", spec, 1);
        tool_run(&r, -1, args);
        char site[64] = "";
        int hit = read_report(report, site, sizeof site);
        if (!hit) {
            assert_int_equal(r.code, 0);
            tool_result_free(&r);
            snapshot_free(&before);
            break;
        }
        ++fired;
        note_site(site);
        if (r.code == 0) { /* a harmless site: the results must be the same */
            for (size_t i = 0; i < nout; ++i) {
                size_t size;
                unsigned char *now = slurp(work_path(outputs[i]), &size);
                assert_int_equal(size, sizes[i]);
                assert_memory_equal(now, good[i], size);
                free(now);
            }
        } else {
            ++failed;
            if (!(r.code == 1 || r.code == 2) || strncmp(r.err, "clnorm: error: ", 15) != 0 ||
                strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
                fail_msg("%s: fault %lu at %s: exit %d, stderr '%s'", name, n, site, r.code, r.err);
            snapshot_expect_same(&before, work_path("out"), name);
        }
        tool_result_free(&r);
        snapshot_free(&before);
    }
    assert_true(n < MAX_RUNS);
    print_message("%s: %lu calls, each failed in turn: %lu failed the run cleanly, %lu were "
                  "harmless\n",
                  name, n - 1, failed, fired - failed);
    for (size_t i = 0; i < nout; ++i)
        free(good[i]);
    unsetenv("CLNORM_TEST_FAULT");
    unsetenv("CLNORM_TEST_FAULT_REPORT");
}

static void subcommands(void **state)
{
    (void)state;
    size_t xs[3] = {2, 40, 8}, vs[4] = {2, 3, 5, 5}, ms[3] = {2, 8, 1};
    float x[2 * 40 * 8], v[2 * 3 * 5 * 5], m[16], s[16];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; ++i)
        x[i] = (float)((i * 37) % 101) * 0.1f;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i)
        v[i] = (float)((i * 13) % 29) - 3.0f;
    for (int i = 0; i < 16; ++i) {
        m[i] = (float)i;
        s[i] = 1.0f + 0.5f * (float)i;
    }
    npy_put_f32(work_path("x.npy"), xs, 3, x);
    npy_put_f32(work_path("v.npy"), vs, 4, v);
    npy_put_f32(work_path("m.npy"), ms, 3, m);
    npy_put_f32(work_path("s.npy"), ms, 3, s);
    char in_x[512], in_v[512], in_m[512], in_s[512], o1[512], o2[512], o3[512];
    snprintf(in_x, sizeof in_x, "%s", work_path("x.npy"));
    snprintf(in_v, sizeof in_v, "%s", work_path("v.npy"));
    snprintf(in_m, sizeof in_m, "%s", work_path("m.npy"));
    snprintf(in_s, sizeof in_s, "%s", work_path("s.npy"));
    snprintf(o1, sizeof o1, "%s", work_path("out/y.npy"));
    snprintf(o2, sizeof o2, "%s", work_path("out/m.npy"));
    snprintf(o3, sizeof o3, "%s", work_path("out/s.npy"));
    const char *revin[] = {"revin", "-i", in_x, "-o", o1, "--mean-out", o2, "--std-out", o3, NULL};
    const char *revin_out[] = {"out/y.npy", "out/m.npy", "out/s.npy", NULL};
    fault_loop("revin", revin, revin_out);
    const char *inverse[] = {"revin-inverse", "-i", in_x,    "-o", o1,
                             "--mean",        in_m, "--std", in_s, NULL};
    const char *one_out[] = {"out/y.npy", NULL};
    fault_loop("revin-inverse", inverse, one_out);
    const char *varnorm[] = {"varnorm2d", "-i", in_v, "-o", o1, NULL};
    fault_loop("varnorm2d", varnorm, one_out);
    const char *transposed[] = {"revin", "-i", in_x, "-o", o1, "--transposed", NULL};
    fault_loop("revin --transposed", transposed, one_out);
    print_message("fault sites exercised: %zu:", nsites);
    for (size_t i = 0; i < nsites; ++i)
        print_message(" %s", sites[i]);
    print_message("\n");
}

TEST_MAIN(NULL, NULL,
          cmocka_unit_test_setup_teardown(subcommands, tool_setup_work, tool_teardown_work))
