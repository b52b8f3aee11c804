/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_npy.c: libFuzzer target for npy_read_memory (untrusted .npy bytes). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "npy.h"

/* Invariants the reader promises; a broken one is a crash for libFuzzer. */
#define CHECK(c) ((c) ? (void)0 : __builtin_trap())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    npy_array a;
    char err[256] = "";
    if (npy_read_memory(data, size, &a, err, sizeof err) == 0) {
        size_t count = 1;
        float sum = 0;
        CHECK(a.data != NULL && a.ndim <= NPY_MAX_DIMS);
        for (size_t i = 0; i < a.ndim; i++)
            count *= a.shape[i];
        CHECK(count == a.count);
        for (size_t i = 0; i < a.count; i++) /* every float was written */
            sum += a.data[i];
        (void)sum;
    } else {
        CHECK(a.data == NULL && a.count == 0);
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    npy_free(&a);
    return 0;
}
