/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_devices.c: the devices subcommand: every platform and device, and
 * which one clnorm picks by default. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: clnorm devices [--json]\n"
    "\n"
    "List every OpenCL platform and device with its type, compute units, global memory,\n"
    "OpenCL C version and fp64 support; '*' marks the default device (the one used when\n"
    "--device is not given: $CLNORM_DEVICE, else the first GPU, accelerator, CPU).\n";

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

int cmd_devices(int argc, char **argv)
{
    int json = 0, code;
    enum { OPT_JSON = 256, OPT_HELP };
    static const struct option longs[] = {{"json", no_argument, NULL, OPT_JSON},
                                          {"help", no_argument, NULL, OPT_HELP},
                                          {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", longs, NULL)) != -1;) {
        switch (c) {
        case 'h':
        case OPT_HELP: fputs(help, stdout); return EXIT_OK;
        case OPT_JSON: json = 1; break;
        default: return cli_option_error("devices", c, argv);
        }
    }
    if ((code = cli_leftover("devices", argc, argv)) != 0)
        return code;
    cl_platform_id platforms[16];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(16, platforms, &np);
    if (err != CL_SUCCESS || np == 0)
        return cli_error(EXIT_DEVICE, "no OpenCL platform found (is an ICD such as "
                                      "pocl-opencl-icd installed?)");
    if (np > 16)
        np = 16;
    cl_device_id def = NULL;
    clnorm_context *ctx = NULL;
    if (clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &ctx) == CLNORM_OK)
        def = clnorm_context_device(ctx);
    device_row rows[64];
    size_t n = 0;
    for (cl_uint p = 0; p < np; ++p) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < 16 && n < 64; ++d) {
            device_row *r = &rows[n++];
            memset(r, 0, sizeof *r);
            cl_device_type t = 0;
            cl_device_fp_config fp = 0;
            r->p = p;
            r->d = d;
            clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof r->platform, r->platform, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof r->name, r->name, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_OPENCL_C_VERSION, sizeof r->version, r->version, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof r->units, &r->units, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof r->memory, &r->memory, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL);
            r->type = type_name(t);
            r->fp64 = fp != 0;
            r->is_default = devs[d] == def;
        }
    }
    clnorm_context_destroy(ctx);
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; ++i) {
            const device_row *r = &rows[i];
            printf("%s\n  {\"spec\": \"%u:%u\", \"platform\": ", i ? "," : "", r->p, r->d);
            cli_json_string(stdout, r->platform);
            printf(", \"name\": ");
            cli_json_string(stdout, r->name);
            printf(", \"type\": \"%s\", \"compute_units\": %u, \"global_memory_bytes\": %llu, "
                   "\"opencl_c_version\": ",
                   r->type, (unsigned)r->units, (unsigned long long)r->memory);
            cli_json_string(stdout, r->version);
            printf(", \"fp64\": %s, \"default\": %s}", r->fp64 ? "true" : "false",
                   r->is_default ? "true" : "false");
        }
        printf("\n]\n");
        return EXIT_OK;
    }
    printf("  %-5s %-12s %5s %10s  %-5s %-18s %s\n", "spec", "type", "units", "memory", "fp64",
           "OpenCL C", "device (platform)");
    for (size_t i = 0; i < n; ++i) {
        const device_row *r = &rows[i];
        char spec[16];
        snprintf(spec, sizeof spec, "%u:%u", r->p, r->d);
        printf("%s %-5s %-12s %5u %7.1f GiB  %-5s %-18s %s (%s)\n", r->is_default ? "*" : " ",
               spec, r->type, (unsigned)r->units, (double)r->memory / (1u << 30),
               r->fp64 ? "yes" : "no", r->version, r->name, r->platform);
    }
    return EXIT_OK;
}
