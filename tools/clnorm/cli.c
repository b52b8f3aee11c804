/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c: the tool's shared plumbing (errors, loading, buffers). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_error(int code, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; ++p) /* one line, whatever the detail held */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "clnorm: error: %s\n", line);
    return code;
}

int cli_status_code(clnorm_status st)
{
    switch (st) {
    case CLNORM_NO_DEVICE:
    case CLNORM_BUILD_FAILED:
    case CLNORM_OPENCL_ERROR:
    case CLNORM_OUT_OF_MEMORY:
    case CLNORM_TOO_LARGE: return EXIT_DEVICE;
    default: return EXIT_USAGE;
    }
}

int cli_library_error(const clnorm_context *ctx, clnorm_status st, const char *what)
{
    return cli_error(cli_status_code(st), "%s: %s", what, clnorm_errmsg(ctx));
}

int cli_load(const char *option, const char *path, npy_array *out)
{
    char err[512];
    if (npy_read_file(path, out, err, sizeof err) != 0)
        return cli_error(EXIT_USAGE, "%s '%s': %s", option, path, err);
    return 0;
}

int cli_options_begin(void)
{
    opterr = 0;
    optind = 1;
    return -1;
}

int cli_next_option(const char *cmd, const char *help, int argc, char **argv,
                    const struct option *longs, int *code)
{
    /* The short options are the long ones whose id is a character (-i, -o, -h). */
    char shorts[64] = ":";
    size_t n = 1;
    for (const struct option *o = longs; o->name && n + 3 < sizeof shorts; ++o)
        if (o->val > 0 && o->val < 128) {
            shorts[n++] = (char)o->val;
            if (o->has_arg == required_argument)
                shorts[n++] = ':';
        }
    shorts[n] = '\0';
    int c = getopt_long(argc, argv, shorts, longs, NULL);
    if (c == 'h') {
        fputs(help, stdout);
        *code = EXIT_OK;
        return -1;
    }
    if (c == -1) {
        if (optind < argc)
            *code = cli_error(EXIT_USAGE, "%s: unexpected argument '%s' (see clnorm %s --help)",
                              cmd, argv[optind], cmd);
        return -1;
    }
    if (c == ':')
        *code = cli_error(EXIT_USAGE, "%s: option '%s' needs a value (see clnorm %s --help)", cmd,
                          argv[optind - 1], cmd);
    else if (c == '?' && optopt >= 256) /* our long options' ids: "--flag=value" on a flag */
        *code = cli_error(EXIT_USAGE, "%s: option '%s' takes no value (see clnorm %s --help)", cmd,
                          argv[optind - 1], cmd);
    else if (c == '?')
        *code = cli_error(EXIT_USAGE, "%s: unknown option '%s' (see clnorm %s --help)", cmd,
                          argv[optind - 1], cmd);
    else
        return c;
    return -1;
}

int cli_int_option(const char *cmd, const char *option, const char *text, long min, long max,
                   long *out)
{
    char *end = NULL;
    errno = 0;
    long v = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : 0;
    if (!end || *end || errno || v < min || v > max)
        return cli_error(EXIT_USAGE, "%s: %s wants a whole number in %ld..%ld, got '%s'", cmd,
                         option, min, max, text);
    *out = v;
    return 0;
}

int cli_common_option(const char *cmd, int c, cli_common *o)
{
    long value;
    switch (c) {
    case CLI_OPT_QUICK: o->quick = 1; return 1;
    case CLI_OPT_DEVICE: o->device = optarg; return 1;
    case CLI_OPT_ACCUMULATE: return cli_accumulate(cmd, optarg) == 0 ? 1 : -1;
    case CLI_OPT_REPEAT:
        if (cli_int_option(cmd, "--repeat", optarg, 1, 10000, &value) != 0)
            return -1;
        o->repeat = (int)value;
        return 1;
    default: return 0;
    }
}

int cli_accumulate(const char *cmd, const char *mode)
{
    if (strcmp(mode, "fp64") && strcmp(mode, "float-float") && strcmp(mode, "auto"))
        return cli_error(EXIT_USAGE, "%s: --accumulate wants fp64, float-float or auto, got '%s'",
                         cmd, mode);
    if (setenv("CLNORM_ACCUMULATE", mode, 1) != 0)
        return cli_error(EXIT_USAGE, "%s: --accumulate: %s", cmd, strerror(errno));
    return 0;
}

int cli_context(const char *device, clnorm_context **ctx)
{
    clnorm_status st = clnorm_context_create(device, 0, ctx);
    if (st != CLNORM_OK) {
        int code = cli_library_error(*ctx, st, "opening the OpenCL device");
        clnorm_context_destroy(*ctx);
        *ctx = NULL;
        return code;
    }
    return 0;
}

int cli_upload(clnorm_context *ctx, const char *what, const void *data, size_t count, cl_mem *out)
{
    cl_int err;
    size_t bytes = count ? count * sizeof(float) : sizeof(float);
    *out = clCreateBuffer(clnorm_context_cl_context(ctx), CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        /* What the device allows, so the user knows what to make smaller. */
        cl_ulong max_alloc = 0, global = 0;
        cl_device_id dev = clnorm_context_device(ctx);
        if (clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc,
                            NULL) != CL_SUCCESS ||
            clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL) !=
                CL_SUCCESS)
            max_alloc = global = 0;
        return cli_error(EXIT_DEVICE,
                         "cannot allocate %s (%zu bytes) on %s: clCreateBuffer failed "
                         "with OpenCL error %d; the device allows buffers of at most %llu bytes "
                         "(CL_DEVICE_MAX_MEM_ALLOC_SIZE) and has %llu bytes of global memory",
                         what, bytes, clnorm_context_device_description(ctx), (int)err,
                         (unsigned long long)max_alloc, (unsigned long long)global);
    }
    if (data && count) {
        err = clEnqueueWriteBuffer(clnorm_context_queue(ctx), *out, CL_TRUE, 0, bytes, data, 0,
                                   NULL, NULL);
        if (err != CL_SUCCESS) {
            clReleaseMemObject(*out);
            *out = NULL;
            return cli_error(EXIT_DEVICE, "cannot copy to the device (OpenCL error %d)", (int)err);
        }
    }
    return 0;
}

int cli_download(clnorm_context *ctx, cl_mem buf, float *data, size_t count)
{
    cl_int err = clEnqueueReadBuffer(clnorm_context_queue(ctx), buf, CL_TRUE, 0,
                                     count * sizeof(float), data, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return cli_error(EXIT_DEVICE, "cannot read from the device (OpenCL error %d)", (int)err);
    return 0;
}

void cli_release_buffer(cl_mem buf)
{
    if (buf)
        clReleaseMemObject(buf);
}

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double cli_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, const char *format, double x)
{
    if (isfinite(x))
        fprintf(f, format, x);
    else
        fputs("null", f);
}
