/* SPDX-License-Identifier: Apache-2.0 */
/* test_fixtures.c: the cases computed by the real ESPnet modules
 * (tests/fixtures, from the project's shared fixtures) with the tolerances
 * their index.json gives, on every kernel path and variant, each run
 * through its op's description (tools/ops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_index.h"
#include "ops.h"
#include "support.h"
#include "test_main.h"

extern const op_desc op_varnorm2d, op_revin_input, op_revin_output;

static double tolerance_of(const char *case_name, const char *key)
{
    double tol = fixture_tolerance(case_name, key);
    if (!(tol > 0))
        fail_msg("index.json: no tolerance for %s.%s", case_name, key);
    return tol;
}

/* max |got - expected| over finite entries <= tol, NaN positions equal. */
static size_t compare(const char *case_name, const char *key, const float *got,
                      const fixture_array *expected)
{
    double tol = tolerance_of(case_name, key);
    assert_non_null(expected->exact);
    double *t = malloc(expected->count * sizeof *t);
    for (size_t i = 0; i < expected->count; ++i)
        t[i] = tol;
    char what[160];
    snprintf(what, sizeof what, "%s.%s", case_name, key);
    size_t bad = check_close(what, got, expected->exact, t, expected->count);
    free(t);
    return bad;
}

/* The file of statistic option `opt` ("mean", "std-out" -> "std"). */
static const char *stat_key(const char *opt, char *buf, size_t size)
{
    snprintf(buf, size, "%s", opt);
    char *dash = strstr(buf, "-out");
    if (dash)
        *dash = '\0';
    return buf;
}

/* One case through the op's description: x, its parameters (CASE.NAME.npy
 * by their .npy option or name) and the statistics it reads; y and the
 * statistics it writes compared with the case's. */
static size_t run_case(clnorm_context *ctx, const char *name, const op_desc *op, const op_config *c)
{
    fixture_array x, y, prm[OP_MAX_PARAMS], st_in[OP_MAX_STATS], st_want[OP_MAX_STATS];
    op_param ps[OP_MAX_PARAMS];
    char key[64];
    fixture_load(name, "x", &x);
    fixture_load(name, "y", &y);
    size_t np = op->params(c, x.shape, x.ndim, ps);
    op_call k;
    memset(&k, 0, sizeof k);
    k.ndim = x.ndim;
    memcpy(k.shape, x.shape, x.ndim * sizeof *x.shape);
    for (size_t i = 0; i < np; ++i) {
        fixture_load(name, ps[i].npy_option ? ps[i].npy_option : ps[i].name, &prm[i]);
        k.params[i] = prm[i].data;
    }
    const float *stats[OP_MAX_STATS] = {NULL};
    for (size_t i = 0; i < op->stats_in_count; ++i) {
        fixture_load(name, stat_key(op->stats_in[i].option, key, sizeof key), &st_in[i]);
        stats[i] = st_in[i].data;
    }
    size_t scount = 0, sndim = 0, sshape[OP_MAX_DIMS];
    if (op->stat_shape) {
        op->stat_shape(c, x.shape, x.ndim, &sndim, sshape);
        scount = op_shape_count(sshape, sndim);
    }
    float *got = malloc(x.count * sizeof *got), *sgot[OP_MAX_STATS] = {NULL};
    for (size_t i = 0; i < op->stats_out_count; ++i)
        sgot[i] = malloc(scount * sizeof *sgot[i]);
    k.in = buffer_from(ctx, x.data, x.count, 0);
    k.out = buffer_poisoned(ctx, x.count);
    k.version = 1;
    void *layer = NULL;
    assert_int_equal(op->create(ctx, c, x.shape, x.ndim, &layer), CLNORM_OK);
    if (op->stats_in_count)
        assert_int_equal(op->set_stats(c, layer, &k, stats), CLNORM_OK);
    assert_int_equal(op->run(c, layer, &k, NULL), CLNORM_OK);
    buffer_read(ctx, k.out, 0, got, x.count);
    if (op->stats_out_count)
        assert_int_equal(op->get_stats(c, layer, &k, sgot), CLNORM_OK);
    size_t bad = compare(name, "y", got, &y);
    for (size_t i = 0; i < op->stats_out_count; ++i) {
        stat_key(op->stats_out[i].option, key, sizeof key);
        fixture_load(name, key, &st_want[i]);
        bad += compare(name, key, sgot[i], &st_want[i]);
        fixture_free(&st_want[i]);
        free(sgot[i]);
    }
    op->destroy(layer);
    clReleaseMemObject(k.in), clReleaseMemObject(k.out);
    free(got);
    for (size_t i = 0; i < np; ++i)
        fixture_free(&prm[i]);
    for (size_t i = 0; i < op->stats_in_count; ++i)
        fixture_free(&st_in[i]);
    fixture_free(&x), fixture_free(&y);
    return bad;
}

static void espnet_fixtures(void **state)
{
    unsigned flags = *(const unsigned *)*state;
    clnorm_context *ctx = test_context(flags);
    size_t bad = 0;
    size_t cases = fixture_case_count();
    for (size_t i = 0; i < cases; ++i) {
        const char *name = fixture_case_name(i);
        /* The name says which module made the case (tests/fixtures/README.md). */
        static const struct {
            const char *prefix;
            const op_desc *op;
            int transposed;
        } makers[] = {{"varnorm2d_", &op_varnorm2d, 0},
                      {"revin_output_", &op_revin_output, 0},
                      {"revin_bld_", &op_revin_input, 0},
                      {"revin_bdl_", &op_revin_input, 1}};
        size_t m = 0;
        while (m < sizeof makers / sizeof makers[0] &&
               strncmp(name, makers[m].prefix, strlen(makers[m].prefix)))
            ++m;
        if (m == sizeof makers / sizeof makers[0])
            fail_msg("index.json: no module for case %s", name);
        op_config c;
        op_config_default(makers[m].op, &c);
        if (makers[m].transposed)
            c.v[op_option_index(makers[m].op, "transposed")] = 1;
        bad += run_case(ctx, name, makers[m].op, &c);
    }
    assert_int_equal(cases, 12);
    clnorm_context_destroy(ctx);
    assert_int_equal(bad, 0);
}

static int free_index(void **state)
{
    (void)state;
    fixture_index_free();
    return 0;
}

TEST_MAIN(NULL, free_index, TEST_ALL_VARIANTS(espnet_fixtures))
