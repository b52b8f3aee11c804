/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_devices.c: the devices subcommand: every device of the library's own
 * list (clnorm_device_count/get: the order of "P:D" specs, the fp64 clnorm
 * uses, the default device), as a table or as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char help[] =
    "usage: clnorm devices [--json]\n"
    "\n"
    "List every OpenCL platform and device with its type, compute units, global memory,\n"
    "OpenCL C version and whether clnorm accumulates in fp64 on it; '*' marks the default\n"
    "device (the one used when --device is not given: $CLNORM_DEVICE, else the first GPU,\n"
    "accelerator, CPU).\n";

typedef struct device_row {
    unsigned p, d;
    char platform[256], name[256], version[128];
    const char *type;
    cl_uint units;
    cl_ulong memory;
    int fp64, is_default;
} device_row;

static const char *type_name(cl_device_type t)
{
    return (t & CL_DEVICE_TYPE_GPU)           ? "gpu"
           : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
           : (t & CL_DEVICE_TYPE_CPU)         ? "cpu"
                                              : "other";
}

static int describe(size_t i, device_row *r)
{
    cl_device_id dev;
    cl_platform_id platform;
    cl_device_type t = 0;
    memset(r, 0, sizeof *r);
    if (clnorm_device_get(i, &dev, &r->p, &r->d, &r->fp64, &r->is_default) != CLNORM_OK)
        return -1;
    if (clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL) != CL_SUCCESS ||
        clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof r->platform, r->platform, NULL) ||
        clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof r->name, r->name, NULL) ||
        clGetDeviceInfo(dev, CL_DEVICE_OPENCL_C_VERSION, sizeof r->version, r->version, NULL) ||
        clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL) ||
        clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof r->units, &r->units, NULL) ||
        clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof r->memory, &r->memory, NULL))
        return -1;
    r->type = type_name(t);
    return 0;
}

static void print_json(const device_row *rows, size_t n)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < n; ++i) {
        const device_row *r = &rows[i];
        char spec[32];
        snprintf(spec, sizeof spec, "%u:%u", r->p, r->d);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "spec", spec);
        cJSON_AddStringToObject(e, "platform", r->platform);
        cJSON_AddStringToObject(e, "name", r->name);
        cJSON_AddStringToObject(e, "type", r->type);
        cJSON_AddNumberToObject(e, "compute_units", r->units);
        cJSON_AddNumberToObject(e, "global_memory_bytes", (double)r->memory);
        cJSON_AddStringToObject(e, "opencl_c_version", r->version);
        cJSON_AddBoolToObject(e, "fp64", r->fp64);
        cJSON_AddBoolToObject(e, "default", r->is_default);
        cJSON_AddItemToArray(list, e);
    }
    char *text = cJSON_Print(list);
    if (text)
        printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(list);
}

int cmd_devices(int argc, char **argv)
{
    int json = 0;
    static const struct option longs[] = {
        {"json", no_argument, NULL, 256}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int code = cli_options_begin();
    while (cli_next_option("devices", help, argc, argv, longs, &code) != -1)
        json = 1; /* --json, the one option */
    if (code >= 0)
        return code;
    size_t n = 0;
    clnorm_status st = clnorm_device_count(&n);
    if (st != CLNORM_OK)
        return cli_error(EXIT_DEVICE,
                         "no OpenCL device found (is an ICD such as "
                         "pocl-opencl-icd installed?): %s",
                         clnorm_status_name(st));
    device_row *rows = calloc(n, sizeof *rows);
    if (!rows)
        return cli_error(EXIT_DEVICE, "out of memory");
    for (size_t i = 0; i < n; ++i)
        if (describe(i, &rows[i]) != 0) {
            free(rows);
            return cli_error(EXIT_DEVICE, "cannot query OpenCL device %zu", i);
        }
    if (json) {
        print_json(rows, n);
    } else {
        printf("  %-5s %-12s %5s %10s  %-5s %-18s %s\n", "spec", "type", "units", "memory", "fp64",
               "OpenCL C", "device (platform)");
        for (size_t i = 0; i < n; ++i) {
            const device_row *r = &rows[i];
            char spec[32];
            snprintf(spec, sizeof spec, "%u:%u", r->p, r->d);
            printf("%s %-5s %-12s %5u %7.1f GiB  %-5s %-18s %s (%s)\n", r->is_default ? "*" : " ",
                   spec, r->type, (unsigned)r->units, (double)r->memory / (1u << 30),
                   r->fp64 ? "yes" : "no", r->version, r->name, r->platform);
        }
    }
    free(rows);
    return EXIT_OK;
}
