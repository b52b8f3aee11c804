/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_safetensors.c: libFuzzer target for st_read_tensor_memory (untrusted .safetensors bytes). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "safetensors.h"

/* Invariants the reader promises; a broken one is a crash for libFuzzer. */
#define CHECK(c) ((c) ? (void)0 : __builtin_trap())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Two names (the seeds hold both) and two message buffer sizes, the
     * small one to exercise truncated messages. */
    static const struct { const char *name; size_t err_size; } reads[] = {
        {"alpha", 512}, {"x.alpha", 24}};
    for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
        npy_array a;
        char err[512] = "";
        if (st_read_tensor_memory(data, size, reads[k].name, &a, err, reads[k].err_size) == 0) {
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
    }
    return 0;
}
