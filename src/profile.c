/* SPDX-License-Identifier: Apache-2.0 */
/* profile.c: the limits of devices that are not here, for the tests
 * (CLNORM_TEST_PROFILE in test builds, tests/test_plan.c): the planner then
 * makes their plans, with their chunk boundaries and splits, and the
 * numeric tests run them on the device that is here. Each profile gives
 * what the device's OpenCL queries report. */
#include <string.h>

#include "clnorm_int.h"

static const struct profile {
    const char *name;
    cl_uint compute_units;
    size_t max_work_group_size;
    cl_ulong local_mem_size;
    int has_fp64;
} profiles[] = {
    {"h200", 132, 1024, 48 * 1024, 1}, /* NVIDIA H200: 132 SMs, 48 KiB static local memory */
    {"radeon-rx7900", 96, 1024, 64 * 1024, 1}, /* AMD RX 7900 XTX (RDNA 3): 96 CUs, 64 KiB LDS */
    {"arc-a770", 32, 1024, 64 * 1024, 0},      /* Intel Arc A770: 32 Xe-cores, no fp64 */
};

int clnorm__device_profile(const char *name, clnorm__device_info *info)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; ++i) {
        const struct profile *p = &profiles[i];
        if (strcmp(name, p->name))
            continue;
        info->type = CL_DEVICE_TYPE_GPU;
        info->compute_units = p->compute_units;
        info->max_work_group_size = p->max_work_group_size;
        info->local_mem_size = p->local_mem_size;
        info->preferred_vector_float = 1;
        info->has_fp64 = info->has_fp64 && p->has_fp64; /* never more than the device has */
        return 0;
    }
    return -1;
}

const char *clnorm__device_profile_names(void) { return "h200, radeon-rx7900, arc-a770"; }
