/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm.c: the command-line tool's entry point: subcommands, --help, --version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ops.h"

static const char usage_head[] =
    "usage: clnorm <command> [options]\n"
    "\n"
    "Run normalization layers on an OpenCL device, on NumPy .npy files, with PyTorch's\n"
    "semantics (ESPnet's and torch.nn's modules).\n"
    "\n"
    "commands:\n"
    "  devices        list the OpenCL platforms and devices (--json for a machine-readable list)\n"
    "  demo           the layers on generated data, checked against a float64 reference\n"
    "  bench          throughput against a copy kernel, accuracy and start-up (--json, --csv)\n"
    "\n"
    "layers (the PyTorch class name, or the short name where there is one), each\n"
    "  -i IN.npy -o OUT.npy [class options] [--params MODEL.safetensors [--prefix P]]:\n";

static const char usage_tail[] =
    "\n"
    "Every command but devices takes --device SPEC: gpu, cpu, accelerator, P:D, or part of\n"
    "a device or platform name (default: $CLNORM_DEVICE, else the first GPU, accelerator,\n"
    "CPU), and --accumulate fp64|float-float|auto (default: $CLNORM_ACCUMULATE, else auto:\n"
    "fp64 where the device runs it fast). 'clnorm <command> --help' tells more. Exit\n"
    "status: 0 success, 2 bad usage or input file, 1 device or OpenCL failure.\n";

static void print_usage(void)
{
    fputs(usage_head, stdout);
    for (size_t i = 0; i < op_count; ++i) {
        if (op_table[i]->mode && op_find(op_table[i]->name) != op_table[i])
            continue; /* a class with modes: listed once */
        const char *first = op_table[i]->formula, *end = strchr(first, ':');
        printf("  %-32s %.*s\n", op_table[i]->name, end ? (int)(end - first) : 0, first);
        if (op_table[i]->alias)
            printf("  %-32s the same\n", op_table[i]->alias);
    }
    fputs(usage_tail, stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_error(EXIT_USAGE, "no command given (see clnorm --help)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        print_usage();
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("clnorm %s\n", clnorm_version_string());
        return EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"devices", cmd_devices}, {"demo", cmd_demo}, {"bench", cmd_bench}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    const op_desc *op = op_find(cmd);
    if (op)
        return cmd_op(op, cmd, argc - 1, argv + 1);
    return cli_error(EXIT_USAGE, "unknown command '%s' (see clnorm --help)", cmd);
}
