/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what the clnorm tool's subcommands share: exit codes, the one-line
 * error report, option helpers, opening a context, buffers. (Outputs, which
 * appear together or not at all, are outputs.h's.) */
#ifndef CLNORM_CLI_H
#define CLNORM_CLI_H

#include <stddef.h>

#include <stdio.h>

#include "clnorm.h"
#include "fmt.h"
#include "npy.h"

enum { EXIT_OK = 0, EXIT_DEVICE = 1, EXIT_USAGE = 2 };

/* Print "clnorm: error: ..." (one line) on stderr and return `code`. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Exit code for a library status: device and OpenCL trouble is 1, the rest 2. */
int cli_status_code(clnorm_status st);
/* Report a failed library call, with the context's detail. */
int cli_library_error(const clnorm_context *ctx, clnorm_status st, const char *what);

/* Read a .npy file as float32; on failure report it (naming the file and
 * the option it came from) and return non-zero. */
int cli_load(const char *option, const char *path, npy_array *out);

/* Option parsing, one way for every subcommand (getopt_long: "--opt=value"
 * and "--opt value" alike). cli_option_error reports what getopt_long
 * returned as ':' (a value is missing) or anything unknown, and returns
 * EXIT_USAGE; cli_leftover refuses a non-option argument (0 when there is none). */
int cli_option_error(const char *cmd, int c, char **argv);
int cli_leftover(const char *cmd, int argc, char **argv);
/* A whole decimal integer in [min, max] ("5x", "", " 5", "1e3" are refused),
 * or 0; anything else is reported and gives EXIT_USAGE. */
int cli_int_option(const char *cmd, const char *option, const char *text, long min, long max,
                   long *out);

/* Open a context on `device` (NULL: default); reports failures itself. */
int cli_context(const char *device, clnorm_context **ctx);

/* Buffers on the context's device, and back. Report failures themselves. */
int cli_upload(clnorm_context *ctx, const float *data, size_t count, cl_mem *out);
int cli_download(clnorm_context *ctx, cl_mem buf, float *data, size_t count);

/* Monotonic wall time in ms, and the median of v (sorted in place). */
double cli_now_ms(void);
double cli_median(double *v, int n);

/* s as a JSON string literal (quotes, backslashes and control characters escaped). */
void cli_json_string(FILE *f, const char *s);
/* x as a JSON number, or null when it is not finite (JSON has no NaN). */
void cli_json_number(FILE *f, const char *format, double x);

/* Subcommands; cmd_op runs an operation of the table (tools/ops/ops.h) as `cmd`. */
struct op_desc;
int cmd_op(const struct op_desc *op, const char *cmd, int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
