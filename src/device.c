/* SPDX-License-Identifier: Apache-2.0 */
/* device.c: finding OpenCL devices, choosing one from a spec, querying limits. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnorm_int.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

typedef struct device_entry {
    cl_platform_id platform;
    cl_device_id device;
    unsigned pi, di;
    cl_device_type type;
    char name[256];
    char platform_name[256];
} device_entry;

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; ++hay) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            ++i;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int equals_nocase(const char *a, const char *b)
{
    for (; *a && *b; ++a, ++b)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (t & CL_DEVICE_TYPE_CPU)
        return "cpu";
    return "other";
}

/* Every device of every platform, in platform then device order. */
static clnorm_status list_devices(const clnorm_context *ctx, device_entry *out, size_t cap,
                                  size_t *count)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint np = 0;
    clnorm_status st;
    *count = 0;
    cl_int err;
    CL_TRY(err, clGetPlatformIDs, (MAX_PLATFORMS, platforms, &np));
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: an ICD loader with no driver */ ||
        (err == CL_SUCCESS && np == 0))
        return clnorm__fail(ctx, CLNORM_NO_DEVICE,
                            "no OpenCL platform found (is an ICD such as pocl-opencl-icd "
                            "installed?)");
    st = clnorm__cl_result(ctx, "clGetPlatformIDs", err);
    RETURN_IF_ERROR(st);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    for (cl_uint p = 0; p < np; ++p) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint nd = 0;
        CL_TRY(err, clGetDeviceIDs, (platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices, &nd));
        if (err == CL_DEVICE_NOT_FOUND)
            continue;
        st = clnorm__cl_result(ctx, "clGetDeviceIDs", err);
        RETURN_IF_ERROR(st);
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        for (cl_uint d = 0; d < nd && *count < cap; ++d) {
            device_entry *e = &out[(*count)++];
            e->platform = platforms[p];
            e->device = devices[d];
            e->pi = p;
            e->di = d;
            CL_CALL(ctx, st, clGetDeviceInfo,
                    (devices[d], CL_DEVICE_TYPE, sizeof e->type, &e->type, NULL));
            RETURN_IF_ERROR(st);
            CL_CALL(ctx, st, clGetDeviceInfo,
                    (devices[d], CL_DEVICE_NAME, sizeof e->name, e->name, NULL));
            RETURN_IF_ERROR(st);
            CL_CALL(
                ctx, st, clGetPlatformInfo,
                (platforms[p], CL_PLATFORM_NAME, sizeof e->platform_name, e->platform_name, NULL));
            RETURN_IF_ERROR(st);
        }
    }
    if (*count == 0)
        return clnorm__fail(ctx, CLNORM_NO_DEVICE, "no OpenCL device found on %u platform(s)",
                            (unsigned)np);
    return CLNORM_OK;
}

static int first_of_type(const device_entry *d, size_t n, cl_device_type t)
{
    for (size_t i = 0; i < n; ++i)
        if (d[i].type & t)
            return (int)i;
    return -1;
}

/* Which entry a spec names, or -1. */
static int match_spec(const device_entry *d, size_t n, const char *spec)
{
    if (equals_nocase(spec, "gpu"))
        return first_of_type(d, n, CL_DEVICE_TYPE_GPU);
    if (equals_nocase(spec, "cpu"))
        return first_of_type(d, n, CL_DEVICE_TYPE_CPU);
    if (equals_nocase(spec, "accelerator"))
        return first_of_type(d, n, CL_DEVICE_TYPE_ACCELERATOR);
    unsigned p, q;
    char extra;
    if (sscanf(spec, "%u:%u%c", &p, &q, &extra) == 2) {
        for (size_t i = 0; i < n; ++i)
            if (d[i].pi == p && d[i].di == q)
                return (int)i;
        return -1;
    }
    for (size_t i = 0; i < n; ++i)
        if (contains_nocase(d[i].name, spec) || contains_nocase(d[i].platform_name, spec))
            return (int)i;
    return -1;
}

clnorm_status clnorm__device_select(const clnorm_context *ctx, const char *spec,
                                    cl_platform_id *platform, cl_device_id *device)
{
    device_entry *list = clnorm__malloc(sizeof *list * MAX_DEVICES);
    if (!list)
        return clnorm__fail(ctx, CLNORM_OUT_OF_MEMORY, "allocating the device list");
    size_t n = 0;
    clnorm_status st = list_devices(ctx, list, MAX_DEVICES, &n);
    if (st != CLNORM_OK)
        goto done;
    const char *from = "the device argument";
    if (spec == NULL || *spec == '\0') {
        spec = getenv("CLNORM_DEVICE");
        from = "$CLNORM_DEVICE";
    }
    int pick;
    if (spec == NULL || *spec == '\0') {
        pick = first_of_type(list, n, CL_DEVICE_TYPE_GPU);
        if (pick < 0)
            pick = first_of_type(list, n, CL_DEVICE_TYPE_ACCELERATOR);
        if (pick < 0)
            pick = first_of_type(list, n, CL_DEVICE_TYPE_CPU);
        if (pick < 0)
            pick = 0;
    } else {
        pick = match_spec(list, n, spec);
    }
    if (pick < 0) {
        char devices[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof devices; ++i) {
            int w = snprintf(devices + used, sizeof devices - used, "%s%u:%u %s (%s, %s)",
                             i ? "; " : "", list[i].pi, list[i].di, list[i].name,
                             list[i].platform_name, type_name(list[i].type));
            if (w < 0)
                break;
            used += (size_t)w;
        }
        st = clnorm__fail(ctx, CLNORM_NO_DEVICE, "no device matches '%s' (from %s); devices: %s",
                          spec, from, devices);
        goto done;
    }
    *platform = list[pick].platform;
    *device = list[pick].device;
done:
    clnorm__free(list);
    return st;
}

/* The fp64 clnorm uses: fma, all rounding modes, inf/nan and denormals (the
 * OpenCL 1.2 minimum of cl_khr_fp64; emulated or partial fp64 lacks fma). */
static int usable_fp64(cl_device_fp_config config) { return (config & CL_FP_FMA) != 0; }

clnorm_status clnorm_device_count(size_t *count)
{
    if (!count)
        return CLNORM_NULL_ARGUMENT;
    *count = 0;
    device_entry *list = clnorm__malloc(sizeof *list * MAX_DEVICES);
    if (!list)
        return CLNORM_OUT_OF_MEMORY;
    clnorm_status st = list_devices(NULL, list, MAX_DEVICES, count);
    clnorm__free(list);
    return st;
}

clnorm_status clnorm_device_get(size_t index, cl_device_id *device, unsigned *platform_index,
                                unsigned *device_index, int *fp64, int *is_default)
{
    device_entry *list = clnorm__malloc(sizeof *list * MAX_DEVICES);
    if (!list)
        return CLNORM_OUT_OF_MEMORY;
    size_t n = 0;
    clnorm_status st = list_devices(NULL, list, MAX_DEVICES, &n);
    cl_device_fp_config config = 0;
    cl_platform_id dp = NULL;
    cl_device_id dd = NULL;
    if (st == CLNORM_OK && index >= n)
        st = CLNORM_INVALID_ARGUMENT;
    if (st == CLNORM_OK)
        CL_CALL(NULL, st, clGetDeviceInfo,
                (list[index].device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof config, &config, NULL));
    if (st == CLNORM_OK && is_default) /* the device a NULL spec picks; none is fine */
        *is_default =
            clnorm__device_select(NULL, NULL, &dp, &dd) == CLNORM_OK && dd == list[index].device;
    if (st == CLNORM_OK) {
        if (device)
            *device = list[index].device;
        if (platform_index)
            *platform_index = list[index].pi;
        if (device_index)
            *device_index = list[index].di;
        if (fp64)
            *fp64 = usable_fp64(config);
    }
    clnorm__free(list);
    return st;
}

clnorm_status clnorm__device_query(const clnorm_context *ctx, cl_device_id device,
                                   clnorm__device_info *info)
{
    clnorm_status st;
    cl_platform_id platform;
    cl_device_fp_config fp64 = 0;
    memset(info, 0, sizeof *info);
#define Q_(param, var)                                                                             \
    CL_CALL(ctx, st, clGetDeviceInfo, (device, param, sizeof(var), &(var), NULL));                 \
    RETURN_IF_ERROR(st)
    Q_(CL_DEVICE_TYPE, info->type);
    Q_(CL_DEVICE_MAX_COMPUTE_UNITS, info->compute_units);
    Q_(CL_DEVICE_MAX_WORK_GROUP_SIZE, info->max_work_group_size);
    Q_(CL_DEVICE_LOCAL_MEM_SIZE, info->local_mem_size);
    Q_(CL_DEVICE_MAX_MEM_ALLOC_SIZE, info->max_alloc_size);
    Q_(CL_DEVICE_GLOBAL_MEM_SIZE, info->global_mem_size);
    Q_(CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, info->global_mem_cache_size);
    Q_(CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, info->preferred_vector_float);
    Q_(CL_DEVICE_PLATFORM, platform);
    Q_(CL_DEVICE_DOUBLE_FP_CONFIG, fp64);
#undef Q_
    const struct {
        cl_device_info param;
        char *text;
        size_t size;
    } strings[] = {
        {CL_DEVICE_NAME, info->name, sizeof info->name},
        {CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor},
        {CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version},
        {CL_DEVICE_VERSION, info->device_version, sizeof info->device_version},
        {CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; ++i) {
        CL_CALL(ctx, st, clGetDeviceInfo,
                (device, strings[i].param, strings[i].size, strings[i].text, NULL));
        RETURN_IF_ERROR(st);
    }
    CL_CALL(ctx, st, clGetPlatformInfo,
            (platform, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name, NULL));
    RETURN_IF_ERROR(st);
    info->has_fp64 = usable_fp64(fp64);
    /* "OpenCL C <major>.<minor> <vendor text>" (OpenCL 1.2, 4.2.1) */
    int major = 1, minor = 0;
    if (sscanf(info->opencl_c_version, "OpenCL C %d.%d", &major, &minor) != 2)
        major = 1, minor = 0;
    info->opencl_c_12 = major > 1 || (major == 1 && minor >= 2);
    return CLNORM_OK;
}
