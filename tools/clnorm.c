/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm.c: the command-line tool's entry point: subcommands, --help, --version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: clnorm <command> [options]\n"
    "\n"
    "Run ESPnet's normalization layers on an OpenCL device, on NumPy .npy files.\n"
    "\n"
    "commands:\n"
    "  devices        list the OpenCL platforms and devices (--json for a machine-readable list)\n"
    "  varnorm2d      VarianceNorm2d:      -i IN.npy -o OUT.npy [--alpha A.npy]\n"
    "                                      [--params MODEL.safetensors [--prefix P]]\n"
    "  revin          RevIN input:         -i IN.npy -o OUT.npy [--transposed]\n"
    "                                      [--mean-out M.npy] [--std-out S.npy]\n"
    "  revin-inverse  RevIN output:        -i IN.npy -o OUT.npy --mean M.npy --std S.npy\n"
    "                                      [--transposed]\n"
    "  demo           both layers on generated data, checked against a float64 reference\n"
    "  bench          throughput against a copy kernel, accuracy and start-up (--json, --csv)\n"
    "\n"
    "Every command but devices takes --device SPEC: gpu, cpu, accelerator, P:D, or part of\n"
    "a device or platform name (default: $CLNORM_DEVICE, else the first GPU, accelerator,\n"
    "CPU). 'clnorm <command> --help' tells more. Exit status: 0 success, 2 bad usage or\n"
    "input file, 1 device or OpenCL failure.\n";

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_error(EXIT_USAGE, "no command given (see clnorm --help)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("clnorm %s\n", clnorm_version_string());
        return EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"devices", cmd_devices},     {"varnorm2d", cmd_varnorm2d},
        {"revin", cmd_revin},         {"revin-inverse", cmd_revin_inverse},
        {"demo", cmd_demo},           {"bench", cmd_bench},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    return cli_error(EXIT_USAGE, "unknown command '%s' (see clnorm --help)", cmd);
}
