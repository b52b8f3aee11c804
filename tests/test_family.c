/* SPDX-License-Identifier: Apache-2.0 */
/* test_family.c: the fixtures made by the real PyTorch modules of the rest of
 * the family (tests/fixtures/family, whose README.md tells how they were made), through the
 * tool exactly as their README says: `clnorm CLASS -i CASE.x.npy -o OUT.npy
 * OPTIONS [--params CASE.params.safetensors] [--labels CASE.labels.npy]`
 * plus the file and output options, every output compared with the pass
 * rule (the same non-finite positions; |got - expected| <= tol, or the
 * matrix-product bound). A class the tool does not know yet is listed and
 * skipped; a known class must pass every case. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "npy_test_util.h"
#include "tool_test_util.h"

#ifndef CLNORM_FAMILY_DIR
#error "CLNORM_FAMILY_DIR must be defined by the build"
#endif

static cJSON *index_root;

static const char *family_file(const char *name)
{
    static char ring[16][1024];
    static unsigned next;
    char *p = ring[next++ % 16];
    snprintf(p, sizeof ring[0], "%s/%s", CLNORM_FAMILY_DIR, name);
    return p;
}

static const char *file_of(const cJSON *c, const char *key)
{
    const cJSON *f =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "files"), key);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* Whether the tool knows the class: `clnorm CLASS --help` exits 0. */
static int tool_knows(const char *cls)
{
    tool_result r;
    tool_run(&r, -1, (const char *const[]){cls, "--help", NULL});
    int known = r.code == 0;
    tool_result_free(&r);
    return known;
}

/* Output `key` of the case in file `got` against the expected array. */
static size_t compare(const char *cs, const cJSON *c, const char *key, const char *got)
{
    const cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "tolerance"), key);
    double tol = cJSON_GetObjectItemCaseSensitive(t, "tol")->valuedouble;
    const cJSON *bound_key = cJSON_GetObjectItemCaseSensitive(t, "bound");
    npy_array y, shape_only, bshape;
    npy_get_output(got, &y);
    double *want = npy_get_f64_exact(family_file(file_of(c, key)), &shape_only);
    double *bound =
        cJSON_IsString(bound_key)
            ? npy_get_f64_exact(family_file(file_of(c, bound_key->valuestring)), &bshape)
            : NULL;
    size_t bad = 0;
    if (y.ndim != shape_only.ndim || memcmp(y.shape, shape_only.shape, y.ndim * sizeof *y.shape)) {
        print_error("%s: %s: the output's shape differs from the expected one\n", cs, key);
        bad = 1;
    }
    for (size_t i = 0; !bad && i < y.count; ++i) {
        double g = y.data[i], w = want[i], lim = bound && bound[i] > tol ? bound[i] : tol;
        int ok = isfinite(w) ? isfinite(g) && fabs(g - w) <= lim : (isnan(w) ? isnan(g) : g == w);
        if (!ok && bad++ < 3)
            print_error("%s: %s[%zu]: got %.9g, expected %.17g (tol %.3g)\n", cs, key, i, g, w,
                        lim);
    }
    npy_free(&y), npy_free(&shape_only);
    free(want);
    if (bound)
        npy_free(&bshape), free(bound);
    return bad;
}

/* Runs one case; returns its failures. */
static size_t run_case(const cJSON *c)
{
    const char *cs = cJSON_GetObjectItemCaseSensitive(c, "case")->valuestring;
    const char *cls = cJSON_GetObjectItemCaseSensitive(c, "class")->valuestring;
    const char *argv[64];
    char out[16][1024];
    size_t n = 0, nout = 0;
    argv[n++] = cls;
    argv[n++] = "-i";
    argv[n++] = family_file(file_of(c, "x"));
    snprintf(out[nout], sizeof out[0], "%s", work_path("y.npy"));
    argv[n++] = "-o";
    argv[n++] = out[nout++];
    const cJSON *o;
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(c, "options"))
        argv[n++] = o->valuestring;
    if (file_of(c, "params")) {
        argv[n++] = "--params";
        argv[n++] = family_file(file_of(c, "params"));
    }
    if (file_of(c, "labels")) {
        argv[n++] = "--labels";
        argv[n++] = family_file(file_of(c, "labels"));
    }
    cJSON_ArrayForEach (o, cJSON_GetObjectItemCaseSensitive(c, "file_options")) {
        argv[n++] = o->string;
        argv[n++] = family_file(file_of(c, o->valuestring));
    }
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(c, "out_options");
    cJSON_ArrayForEach (o, outs) {
        snprintf(out[nout], sizeof out[0], "%s", work_path(o->valuestring));
        argv[n++] = o->string;
        argv[n++] = out[nout++];
    }
    argv[n] = NULL;
    tool_result r;
    tool_run(&r, -1, argv);
    size_t bad = 0;
    if (r.code != 0) {
        print_error("%s: clnorm %s exited %d: %s\n", cs, cls, r.code, r.err);
        bad = 1;
    }
    tool_result_free(&r);
    if (bad)
        return bad;
    bad += compare(cs, c, "y", out[0]);
    size_t k = 1;
    cJSON_ArrayForEach (o, outs)
        bad += compare(cs, c, o->valuestring, out[k++]);
    return bad;
}

static void every_case(void **state)
{
    (void)state;
    size_t ran = 0, failed = 0, skipped = 0;
    char known[64][64], unknown[64][64];
    size_t nknown = 0, nunknown = 0;
    const cJSON *c;
    cJSON_ArrayForEach (c, index_root) {
        const char *cls = cJSON_GetObjectItemCaseSensitive(c, "class")->valuestring;
        int is_known = -1;
        for (size_t i = 0; i < nknown && is_known < 0; ++i)
            if (!strcmp(known[i], cls))
                is_known = 1;
        for (size_t i = 0; i < nunknown && is_known < 0; ++i)
            if (!strcmp(unknown[i], cls))
                is_known = 0;
        if (is_known < 0) {
            is_known = tool_knows(cls);
            if (is_known && nknown < 64)
                snprintf(known[nknown++], sizeof known[0], "%s", cls);
            else if (!is_known && nunknown < 64)
                snprintf(unknown[nunknown++], sizeof unknown[0], "%s", cls);
        }
        if (!is_known) {
            skipped++;
            continue;
        }
        ran++;
        failed += run_case(c) != 0;
    }
    printf("# family fixtures: %zu cases run, %zu failed, %zu of classes the tool does not "
           "know yet skipped:",
           ran, failed, skipped);
    for (size_t i = 0; i < nunknown; ++i)
        printf(" %s", unknown[i]);
    printf("\n");
    assert_true(ran > 0);
    assert_int_equal(failed, 0);
}

/* An int64 labels file (the dtype torch.save-then-numpy gives) of n values. */
static void put_labels(const char *name, const int64_t *v, size_t n)
{
    unsigned char data[64 * 8];
    char hdr[128];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; ++i)
        put_le(data + 8 * i, (uint64_t)v[i], 8);
    snprintf(hdr, sizeof hdr, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }", n);
    size_t len;
    unsigned char *img = make_npy(hdr, data, 8 * n, &len);
    spit(work_path(name), img, len);
    free(img);
}

static void fails(const char *const *needles, const char *const *args)
{
    char what[2048];
    tool_fails(-1, 2, needles, args, what, sizeof what);
}

/* The conditional classes' labels and tables, wrong in each way the tool
 * must refuse before any work (exit 2, one message naming what is wrong). */
static void labels_and_tables_refused(void **state)
{
    (void)state;
    char x[1024], p[1024], p_nb[1024], y[1024];
    snprintf(x, sizeof x, "%s", family_file("cin2d_doc_2x3x4x4.x.npy")); /* N = 2, C = 3 */
    snprintf(p, sizeof p, "%s", family_file("cin2d_doc_2x3x4x4.params.safetensors"));
    snprintf(p_nb, sizeof p_nb, "%s", family_file("cin2d_nobias_doc_2x3x4x4.params.safetensors"));
    snprintf(y, sizeof y, "%s", family_file("cin2d_doc_2x3x4x4.labels.npy"));
    const int64_t three[3] = {0, 1, 2}, beyond[2] = {0, 1000}, negative[2] = {-1, 0};
    put_labels("three.npy", three, 3);
    put_labels("beyond.npy", beyond, 2);
    put_labels("negative.npy", negative, 2);
    const char *cls = "ConditionalInstanceNorm2d";
    fails(ARGS("--labels Y.npy is required"), ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p));
    fails(ARGS("'embed.weight' has no default"), ARGS(cls, "-i", x, "-o", "@y.npy", "--labels", y));
    fails(ARGS("--labels", "expected shape (2,) (N of -i), found (3,)"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p, "--labels", "@three.npy"));
    fails(ARGS("label 1000 at index 1 is outside [0, 5)"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p, "--labels", "@beyond.npy"));
    fails(ARGS("label -1 at index 0 is outside"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p, "--labels", "@negative.npy"));
    fails(ARGS("--labels", "unsupported dtype '<f4' (expected int32 '<i4' or int64 '<i8')"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p, "--labels", x));
    fails(ARGS("tensor 'embed.weight': expected shape (K, 3)", "found (5, 6)"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p, "--labels", y, "--no-bias"));
    fails(ARGS("tensor 'embed.weight': expected shape (K, 6)", "found (5, 3)"),
          ARGS(cls, "-i", x, "-o", "@y.npy", "--params", p_nb, "--labels", y));
    fails(ARGS("option '--labels' does not apply"),
          ARGS("InstanceNorm2d", "-i", x, "-o", "@y.npy", "--labels", y));
    assert_int_equal(access(work_path("y.npy"), F_OK), -1);
}

int main(void)
{
    size_t size = 0;
    char *text = (char *)slurp(family_file("index.json"), &size);
    index_root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsArray(index_root)) {
        fprintf(stderr, "tests/fixtures/family/index.json is not a JSON array\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_case, tool_setup_work, tool_teardown_work),
        cmocka_unit_test_setup_teardown(labels_and_tables_refused, tool_setup_work,
                                        tool_teardown_work),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(index_root);
    return failed;
}
