/* SPDX-License-Identifier: Apache-2.0 */
/* test_plan.c: the launch planner (src/plan.c) without a device: for the
 * limits of a CPU and of GPUs (profiles of devices that are not here) and
 * views of every layout, each plan covers every row exactly with kernels
 * that exist for it, its tiles fit the columns a group may own, and a split
 * row's scratch is large enough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "clnorm_int.h"

#include "ops.h"
#include "test_main.h"

/* What devices report: type, compute units, largest work-group, local
 * memory, preferred float vector width. The GPUs are src/profile.c's. */
static clnorm__device_info device(cl_device_type type, cl_uint units, size_t wg, cl_ulong local,
                                  cl_uint pref)
{
    clnorm__device_info d = {0};
    d.type = type, d.compute_units = units, d.max_work_group_size = wg;
    d.local_mem_size = local, d.preferred_vector_float = pref, d.has_fp64 = 1;
    return d;
}

static clnorm__device_info profile(const char *name)
{
    clnorm__device_info d = device(CL_DEVICE_TYPE_CPU, 2, 4096, 4 << 20, 16);
    assert_int_equal(clnorm__device_profile(name, &d), 0);
    return d;
}

#define PROFILES 6
static clnorm__limits profiles[PROFILES];
static const char *profile_names[PROFILES] = {"PoCL on 2 cores", "a 64-core CPU", "h200",
                                              "radeon-rx7900",   "arc-a770",      "a small GPU"};
static unsigned profile_units[PROFILES];

static int setup_profiles(void **state)
{
    (void)state;
    clnorm__device_info d[PROFILES] = {
        device(CL_DEVICE_TYPE_CPU, 2, 4096, 4 << 20, 16), /* as here */
        device(CL_DEVICE_TYPE_CPU, 64, 8192, 4 << 20, 8),
        profile("h200"),
        profile("radeon-rx7900"),
        profile("arc-a770"),
        device(CL_DEVICE_TYPE_GPU, 1, 32, 4096, 1),
    };
    for (int i = 0; i < PROFILES; ++i) {
        clnorm__plan_limits(&d[i], !(d[i].type & CL_DEVICE_TYPE_CPU), &profiles[i]);
        profile_units[i] = d[i].compute_units;
    }
    clnorm__device_info unknown = d[0];
    assert_int_equal(clnorm__device_profile("h100", &unknown), -1);
    return 0;
}

static const clnorm__view views[] = {
    {640, 1024, 1}, {1024, 16384, 1}, {6, 100000, 1}, {1, 1 << 24, 1}, {3, 17, 1},
    {8, 16000, 80}, {64, 1024, 256},  {32, 10, 5},    {1, 70000, 48},  {2, 65, 8},
    {5, 37, 29},    {40, 23, 48},     {1, 1, 3},      {2, 300, 4},     {1, 70000, 16},
};

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* The rows (contiguous) or row blocks (strided) a plan's work covers. */
static void check(const clnorm__limits *lim, const clnorm__view *v, int elementwise)
{
    unsigned width = clnorm__plan_width(lim, v->inner);
    clnorm__plan p;
    if (elementwise)
        clnorm__plan_scale(lim, v, width, &p);
    else
        clnorm__plan_normalise(lim, v, width, &p);
    char what[160];
    snprintf(what, sizeof what, "%s of (%zu, %zu, %zu) on a %s of %u groups",
             elementwise ? "scale" : "normalise", v->outer, v->n, v->inner,
             lim->gpu_variant ? "GPU" : "CPU", lim->target_groups);
    assert_true(v->inner == 1 || v->inner % width == 0);
    assert_true(p.groups >= 1 && p.local >= 1);
    assert_true(p.tiles >= 1 && p.tiles * width <= (v->inner == 1 ? width : lim->max_columns));
    size_t blocks = v->inner == 1 ? v->outer : v->outer * (v->inner / (width * p.tiles));
    assert_true(v->inner == 1 || (v->inner / width) % p.tiles == 0);
    switch (p.kernel[0]) {
    case CLNORM_K_ROWS: /* runs of rows, a work-item each */
        assert_false(lim->gpu_variant);
        assert_true(v->inner == 1 && p.nparts >= 1);
        assert_true(p.groups * p.local * p.nparts >= v->outer);
        assert_true((p.groups - 1) * p.local * p.nparts < v->outer);
        break;
    case CLNORM_K_SLAB:
    case CLNORM_K_SLAB1: /* runs of slabs, a one-item group each */
        assert_false(lim->gpu_variant);
        assert_true(v->inner > 1 && p.local == 1);
        assert_int_equal(p.kernel[0] == CLNORM_K_SLAB1, p.nparts == 1);
        assert_true(p.groups * p.nparts >= blocks && (p.groups - 1) * p.nparts < blocks);
        break;
    case CLNORM_K_FUSED:
        assert_int_equal(p.groups, blocks);
        assert_int_equal(p.nparts, 1);
        break;
    case CLNORM_K_REG: /* a GPU's group per short contiguous row, in registers */
        assert_true(lim->gpu_variant && v->inner == 1 && !elementwise);
        assert_int_equal(p.groups, v->outer);
        assert_int_equal(p.local, lim->reg_group);
        assert_true(v->n <= lim->reg_group * width * CLNORM_REG_VECTORS);
        break;
    case CLNORM_K_PARTIAL: /* partials, then the merge and apply on the same groups */
        assert_int_equal(p.kernel[1], CLNORM_K_APPLY);
        assert_true(p.nparts >= 2 && p.groups == blocks * p.nparts);
        assert_true(p.partial_bytes >= blocks * p.nparts * lim->max_columns * 16);
        assert_true(ceil_div(v->n, p.nparts) >= 1);
        break;
    case CLNORM_K_SCALE:
    case CLNORM_K_SCALE_CHUNKS:
        assert_true(elementwise && p.nparts >= 1 && p.groups == blocks * p.nparts);
        assert_int_equal(p.kernel[0] == CLNORM_K_SCALE_CHUNKS, v->inner == 1);
        break;
    case CLNORM_K_SCALE_ROWS:
        assert_true(elementwise && v->inner == 1);
        assert_true(p.groups * p.local >= v->outer);
        break;
    default: fail_msg("%s: kernel %d", what, (int)p.kernel[0]);
    }
    if (p.kernel[0] != CLNORM_K_PARTIAL)
        assert_int_equal(p.kernel[1], CLNORM_K_COUNT);
    /* the work-groups per compute unit the plan gives, for the record */
    if (lim->gpu_variant && !elementwise && v->outer * v->n * v->inner >= (1u << 20))
        printf("# %s: %zu groups, %.1f per target group\n", what, p.groups,
               (double)p.groups / lim->target_groups);
}

static void every_profile_and_view(void **state)
{
    (void)state;
    for (size_t i = 0; i < PROFILES; ++i)
        for (size_t j = 0; j < sizeof views / sizeof views[0]; ++j) {
            check(&profiles[i], &views[j], 0);
            check(&profiles[i], &views[j], 1);
            /* the window statistic: a work-item per row, every row */
            clnorm__plan p;
            clnorm__plan_items(&profiles[i], views[j].outer * views[j].inner, CLNORM_K_WINDOW, &p);
            size_t rows = views[j].outer * views[j].inner;
            assert_int_equal(p.kernel[0], CLNORM_K_WINDOW);
            assert_int_equal(p.kernel[1], CLNORM_K_COUNT);
            assert_int_equal(p.local, profiles[i].work_group);
            assert_true(p.groups * p.local >= rows && (p.groups - 1) * p.local < rows);
        }
}

/* The CPU plans of the bench's shapes, as this machine runs them. */
static void cpu_kernels_by_layout(void **state)
{
    (void)state;
    const clnorm__limits *cpu = &profiles[0];
    clnorm__plan p;
    clnorm__view rows = {640, 1024, 1}, slab = {8, 16000, 80}, slabs = {64, 1024, 256};
    clnorm__plan_normalise(cpu, &rows, clnorm__plan_width(cpu, 1), &p);
    assert_int_equal(p.kernel[0], CLNORM_K_ROWS);
    clnorm__plan_normalise(cpu, &slab, clnorm__plan_width(cpu, 80), &p);
    assert_int_equal(p.kernel[0], CLNORM_K_SLAB1);
    assert_int_equal(p.tiles, 5);
    clnorm__plan_normalise(cpu, &slabs, clnorm__plan_width(cpu, 256), &p);
    assert_int_equal(p.kernel[0], CLNORM_K_SLAB);
    assert_int_equal(p.tiles, 16);
    clnorm__view split = {1, 1 << 24, 1};
    clnorm__plan_normalise(cpu, &split, clnorm__plan_width(cpu, 1), &p);
    assert_int_equal(p.kernel[0], CLNORM_K_PARTIAL);
}

/* The GPU plans of contiguous rows on an H200: up to 16384 elements in
 * norm_reg's registers (a group of 256 per row), longer ones in norm_fused,
 * too few rows to fill the device split over groups. */
static void gpu_kernels_for_rows(void **state)
{
    (void)state;
    const clnorm__limits *h200 = &profiles[2], *small = &profiles[5];
    assert_int_equal(h200->reg_group, 256);
    assert_int_equal(small->reg_group, 32);
    static const struct {
        clnorm__view v;
        clnorm__kernel_id k;
    } cases[] = {
        {{1024, 16384, 1}, CLNORM_K_REG},   {{640, 1024, 1}, CLNORM_K_REG},
        {{1024, 16385, 1}, CLNORM_K_FUSED}, {{6, 100000, 1}, CLNORM_K_PARTIAL},
        {{6, 1000, 1}, CLNORM_K_REG},       {{8, 16000, 80}, CLNORM_K_PARTIAL},
        {{64, 1024, 256}, CLNORM_K_FUSED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        clnorm__plan p;
        const clnorm__view *v = &cases[i].v;
        clnorm__plan_normalise(h200, v, clnorm__plan_width(h200, v->inner), &p);
        if (p.kernel[0] != cases[i].k)
            fail_msg("(%zu, %zu, %zu): kernel %d, not %d", v->outer, v->n, v->inner,
                     (int)p.kernel[0], (int)cases[i].k);
    }
    clnorm__plan p;
    clnorm__view rows = {100, 2048, 1}, longer = {100, 2049, 1};
    clnorm__plan_normalise(small, &rows, clnorm__plan_width(small, 1), &p);
    assert_int_equal(p.kernel[0], CLNORM_K_REG);
    clnorm__plan_normalise(small, &longer, clnorm__plan_width(small, 1), &p);
    assert_int_not_equal(p.kernel[0], CLNORM_K_REG);
}

/* InstanceNorm2dPlus's blocks of samples: on a CPU as many samples as fit
 * a quarter of its cache, never none; on GPUs, or without a cache size, all. */
static void sample_blocks(void **state)
{
    (void)state;
    clnorm__limits cpu = profiles[0];
    const size_t mib = 1 << 20;
    cpu.cache_bytes = 32 * mib;
    assert_int_equal(clnorm__plan_sample_block(&cpu, 16, 4 * mib), 2);
    assert_int_equal(clnorm__plan_sample_block(&cpu, 16, 4 * mib + 1), 1);
    assert_int_equal(clnorm__plan_sample_block(&cpu, 10, 256 << 10), 10); /* all fit */
    assert_int_equal(clnorm__plan_sample_block(&cpu, 3, 64 * mib), 1);    /* none fits */
    assert_int_equal(clnorm__plan_sample_block(&cpu, 7, 0), 7);
    cpu.cache_bytes = 0;
    assert_int_equal(clnorm__plan_sample_block(&cpu, 16, 4 * mib), 16);
    clnorm__limits gpu = profiles[2];
    gpu.cache_bytes = 32 * mib;
    assert_int_equal(clnorm__plan_sample_block(&gpu, 16, 4 * mib), 16);
}

/* InstanceNorm2dPlus's plans: on a CPU, a sample per one-item group where
 * there are as many samples as target groups, else two launches of
 * norm_rows' geometry on contiguous planes short enough for one item; none
 * on GPUs or strided views. */
static void plus_plans(void **state)
{
    (void)state;
    const clnorm__limits *cpu = &profiles[0];
    static const clnorm__view planes[] = {{640, 1024, 1}, {1024, 16384, 1}, {3, 17, 1}, {1, 1, 1}};
    for (size_t i = 0; i < sizeof planes / sizeof planes[0]; ++i) {
        const clnorm__view *v = &planes[i];
        clnorm__plan p, rows;
        size_t c = v->outer; /* one sample */
        assert_true(clnorm__plan_plus(cpu, v, c, &p));
        assert_int_equal(p.kernel[0], CLNORM_K_PLUS_MOMENTS);
        assert_int_equal(p.kernel[1], CLNORM_K_PLUS_APPLY);
        assert_true(p.groups * p.local * p.nparts >= v->outer);
        assert_true((p.groups - 1) * p.local * p.nparts < v->outer);
        clnorm__plan_normalise(cpu, v, clnorm__plan_width(cpu, 1), &rows);
        assert_int_equal(rows.kernel[0], CLNORM_K_ROWS); /* the same geometry as norm_rows */
        assert_int_equal(p.groups, rows.groups);
        assert_int_equal(p.nparts, rows.nparts);
        for (size_t g = 2; g < PROFILES; ++g)
            assert_false(clnorm__plan_plus(&profiles[g], v, 1, &p));
    }
    clnorm__plan p;
    clnorm__view many = {16 * 64, 16384, 1}, few = {7 * 64, 16384, 1}, longer = {6, 100000, 1};
    clnorm__view small = {10 * 64, 1024, 1};
    assert_int_equal(cpu->target_groups, 8);
    assert_true(clnorm__plan_plus(cpu, &many, 64, &p));
    assert_int_equal(p.kernel[0], CLNORM_K_PLUS_SAMPLES);
    assert_int_equal(p.kernel[1], CLNORM_K_COUNT);
    assert_true(p.groups == 16 && p.local == 1 && p.nparts == 1); /* cache unknown: one each */
    clnorm__limits cached = *cpu;
    cached.cache_bytes = 32 << 20;                          /* 4 MiB a quarter of a unit's share */
    assert_true(clnorm__plan_plus(&cached, &many, 64, &p)); /* 2 x 4 MiB: one each */
    assert_true(p.groups == 16 && p.nparts == 1);
    assert_true(clnorm__plan_plus(&cached, &small, 64, &p)); /* 2 x 256 KiB: a run per unit */
    assert_true(p.groups == 2 && p.nparts == 5);
    assert_true(clnorm__plan_plus(cpu, &few, 64, &p));
    assert_int_equal(p.kernel[0], CLNORM_K_PLUS_MOMENTS);
    assert_false(clnorm__plan_plus(cpu, &longer, 1, &p)); /* 6 samples of long planes */
    longer.outer = 8; /* 8: a sample per item, whatever the planes' length */
    assert_true(clnorm__plan_plus(cpu, &longer, 1, &p));
    assert_int_equal(p.kernel[0], CLNORM_K_PLUS_SAMPLES);
    assert_true(p.groups == 8 && p.nparts == 1);
    clnorm__view strided = {8, 16000, 80};
    assert_false(clnorm__plan_plus(cpu, &strided, 1, &p));
}

/* TSNormalization in one launch: on CPUs that report a cache, samples up to
 * a 64th of a compute unit's share of it; never on GPUs. */
static void window_divide(void **state)
{
    (void)state;
    clnorm__limits cpu = profiles[0], gpu = profiles[2];
    assert_false(clnorm__plan_window_divide(&cpu, 4)); /* cache unknown */
    cpu.cache_bytes = gpu.cache_bytes = 32 << 20;
    assert_true(clnorm__plan_window_divide(&cpu, 432 * 7 * 4));
    assert_true(clnorm__plan_window_divide(&cpu, 256 << 10));
    assert_false(clnorm__plan_window_divide(&cpu, (256 << 10) + 1));
    assert_false(clnorm__plan_window_divide(&cpu, 1024 * 256 * 4));
    assert_false(clnorm__plan_window_divide(&gpu, 4));
}

/* TSNormalization's small samples through the contiguous width on CPUs: D
 * of 1 or whose own width is narrower, up to max_columns; a one-item group
 * per sample. */
static void window_rows(void **state)
{
    (void)state;
    clnorm__limits cpu = profiles[0], gpu = profiles[2];
    cpu.cache_bytes = gpu.cache_bytes = 32 << 20;
    clnorm__plan p;
    assert_true(clnorm__plan_window_rows(&cpu, 32, 7, 432 * 7 * 4, &p));
    assert_int_equal(p.kernel[0], CLNORM_K_WINDOW_ROWS);
    assert_int_equal(p.kernel[1], CLNORM_K_COUNT);
    assert_int_equal(p.groups, 32);
    assert_int_equal(p.local, 1);
    assert_true(clnorm__plan_window_rows(&cpu, 2, 1, 33 * 4, &p));
    assert_true(clnorm__plan_window_rows(&cpu, 2, 8, 20 * 8 * 4, &p)); /* width 8 of 16 */
    assert_true(clnorm__plan_window_rows(&cpu, 2, cpu.max_columns - 1, 4 * 1024, &p));
    assert_false(clnorm__plan_window_rows(&cpu, 2, cpu.max_columns + 1, 4 * 1024, &p));
    assert_false(clnorm__plan_window_rows(&cpu, 2, 48, 300 * 48 * 4, &p));   /* width 16 */
    assert_false(clnorm__plan_window_rows(&cpu, 2, 7, (256 << 10) + 4, &p)); /* not small */
    assert_false(clnorm__plan_window_rows(&gpu, 32, 7, 432 * 7 * 4, &p));
}

/* TSNormalization's strided columns in one launch on CPUs: norm_slab's
 * plan for the view, its kernel window_slabs; none where norm_slab would
 * not run (split rows, contiguous rows, GPUs). */
static void window_slabs(void **state)
{
    (void)state;
    const clnorm__limits *cpu = &profiles[0], *gpu = &profiles[2];
    const clnorm__view views[] = {{64, 1024, 256}, {8, 16000, 80}, {32, 432, 7}, {2, 12, 3}};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; ++i) {
        unsigned width = clnorm__plan_width(cpu, views[i].inner);
        clnorm__plan slab, window;
        clnorm__plan_normalise(cpu, &views[i], width, &slab);
        assert_true(clnorm__plan_window_slabs(cpu, &views[i], width, &window));
        assert_int_equal(window.kernel[0], CLNORM_K_WINDOW_SLABS);
        assert_int_equal(window.kernel[1], CLNORM_K_COUNT);
        assert_int_equal(window.groups, slab.groups);
        assert_int_equal(window.local, 1);
        assert_int_equal(window.nparts, slab.nparts);
        assert_int_equal(window.tiles, slab.tiles);
    }
    clnorm__plan p;
    const clnorm__view split = {1, 70000, 4}, contiguous = {64, 1024, 1}, strided = {64, 1024, 256};
    assert_false(clnorm__plan_window_slabs(cpu, &split, 4, &p));
    assert_false(clnorm__plan_window_slabs(cpu, &contiguous, clnorm__plan_width(cpu, 1), &p));
    assert_false(clnorm__plan_window_slabs(gpu, &strided, 16, &p));
}

/* Work-groups per compute unit of a plan's launches. */
static double per_unit(const clnorm__plan *p, unsigned units) { return (double)p->groups / units; }

/* Every op's bench shapes under the GPU profiles: the normalising plan and
 * the elementwise one each launch at least 4 work-groups per compute unit
 * (a GPU holds several at once; fewer leave it idle), or, for a tensor of
 * fewer than 4 chunks of 1024 elements per compute unit, cover the whole
 * tensor (it is launch-bound). The products (Linear, RLinear) are
 * CLBlast's to plan. */
static void bench_shapes_fill_gpus(void **state)
{
    (void)state;
    for (int i = 2; i <= 3; ++i) { /* the H200 and the Radeon */
        const clnorm__limits *lim = &profiles[i];
        for (size_t t = 0; t < op_count; ++t) {
            const op_desc *op = op_table[t];
            if (op->flops)
                continue;
            for (size_t b = 0; b < op->bench_count; ++b) {
                const op_case *c = &op->bench[b];
                clnorm__view v;
                op->view(&c->config, c->shape, c->ndim, &v.outer, &v.n, &v.inner);
                unsigned width = clnorm__plan_width(lim, v.inner);
                clnorm__plan norm, scale;
                clnorm__plan_normalise(lim, &v, width, &norm);
                clnorm__plan_scale(lim, &v, width, &scale);
                double gn = per_unit(&norm, profile_units[i]);
                double gs = per_unit(&scale, profile_units[i]);
                printf("# %-13s %-30s %-5s (%zu, %zu, %zu): %6.1f groups per CU normalising "
                       "(%u part%s), %6.1f scaling\n",
                       profile_names[i], op->name, c->layout, v.outer, v.n, v.inner, gn,
                       norm.nparts, norm.nparts == 1 ? "" : "s", gs);
                size_t count = v.outer * v.n * v.inner;
                if (count < (size_t)4 * profile_units[i] * 1024)
                    continue; /* small: the whole tensor */
                if (gn < 4 || gs < 4)
                    fail_msg("%s on %s: fewer than 4 work-groups per compute unit", op->name,
                             profile_names[i]);
            }
        }
    }
}

TEST_MAIN(setup_profiles, NULL, cmocka_unit_test(every_profile_and_view),
          cmocka_unit_test(cpu_kernels_by_layout), cmocka_unit_test(gpu_kernels_for_rows),
          cmocka_unit_test(bench_shapes_fill_gpus), cmocka_unit_test(sample_blocks),
          cmocka_unit_test(plus_plans), cmocka_unit_test(window_divide),
          cmocka_unit_test(window_rows), cmocka_unit_test(window_slabs))
