/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what the clnorm tool's subcommands share: exit codes, the one-line
 * error report, option helpers, opening a context, buffers. (Outputs, which
 * appear together or not at all, are outputs.h's.) */
#ifndef CLNORM_CLI_H
#define CLNORM_CLI_H

#include <getopt.h>
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
 * and "--opt value" alike):
 *     int code = cli_options_begin();
 *     for (int c; (c = cli_next_option("demo", help, argc, argv, longs, &code)) != -1;)
 *         switch (c) { ... }
 *     if (code >= 0)
 *         return code;
 * `longs` ends with a zeroed entry and includes {"help", no_argument, NULL,
 * 'h'}; an option whose id is a character is also that short option (-h,
 * -i); -h and --help print `help`. cli_next_option returns the next
 * option's id, or -1 at the end: then *code is -1 to go on, or the exit code
 * (0 after --help; EXIT_USAGE, reported, for an unknown option, a missing
 * value, a value given to a flag, or an argument that is not an option). */
int cli_options_begin(void);
int cli_next_option(const char *cmd, const char *help, int argc, char **argv,
                    const struct option *longs, int *code);
/* A whole decimal integer in [min, max] ("5x", "", " 5", "1e3" are refused),
 * or 0; anything else is reported and gives EXIT_USAGE. */
int cli_int_option(const char *cmd, const char *option, const char *text, long min, long max,
                   long *out);

/* The options demo and bench share, ids from CLI_OPT_QUICK: --quick,
 * --repeat N (1..10000), --device SPEC and --accumulate MODE (see
 * cli_accumulate). cli_common_option takes option
 * `c` of `cmd` into o: 1 when it was one of them, 0 when not, or -1 after
 * reporting a bad value. */
enum { CLI_OPT_QUICK = 256, CLI_OPT_REPEAT, CLI_OPT_DEVICE, CLI_OPT_ACCUMULATE, CLI_OPT_NEXT };
#define CLI_COMMON_OPTIONS                                                                         \
    {"quick", no_argument, NULL, CLI_OPT_QUICK},                                                   \
        {"repeat", required_argument, NULL, CLI_OPT_REPEAT},                                       \
        {"device", required_argument, NULL, CLI_OPT_DEVICE},                                       \
        {"accumulate", required_argument, NULL, CLI_OPT_ACCUMULATE},                               \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
typedef struct cli_common {
    int quick, repeat;
    const char *device;
} cli_common;
int cli_common_option(const char *cmd, int c, cli_common *o);

/* --accumulate fp64|float-float|auto: the accumulator of every context this
 * process makes, by CLNORM_ACCUMULATE (which the bench's start-up probe, a
 * child process, inherits). 0, or EXIT_USAGE after reporting another value. */
int cli_accumulate(const char *cmd, const char *mode);

/* Open a context on `device` (NULL: default); reports failures itself. */
int cli_context(const char *device, clnorm_context **ctx);

/* Buffers on the context's device, and back. Report failures themselves;
 * `what` names the buffer in the message (e.g. "the tensor of -i 'x.npy'"). */
int cli_upload(clnorm_context *ctx, const char *what, const void *data, size_t count,
               cl_mem *out); /* count 4-byte elements: floats, or int32 labels */
int cli_download(clnorm_context *ctx, cl_mem buf, float *data, size_t count);
/* Release a buffer, or nothing for NULL (a cleanup path's buffer that was
 * never made), as free does: clReleaseMemObject refuses NULL. */
void cli_release_buffer(cl_mem buf);

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
