/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_npy.c: libFuzzer target for npy_read_memory (untrusted .npy bytes). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    npy_array a;
    char err[256] = "";
    check_read(npy_read_memory(data, size, &a, err, sizeof err), &a, err);
    npy_free(&a);
    return 0;
}
