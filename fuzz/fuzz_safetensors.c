/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_safetensors.c: libFuzzer target for the .safetensors reader (untrusted bytes in memory). */
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
    static const struct {
        const char *name;
        size_t err_size;
    } reads[] = {{"alpha", 512}, {"x.alpha", 24}};
    char err[512] = "";
    st_file *f = NULL;
    int opened = st_open_memory(data, size, &f, err, sizeof err) == 0;
    CHECK(opened ? f != NULL : f == NULL && err[0] != '\0' && strchr(err, '\n') == NULL);
    if (opened) {
        int all = st_count_prefix(f, ""), x = st_count_prefix(f, "x.");
        CHECK(all >= 0 && x >= 0 && x <= all && st_count_prefix(f, "x.alpha") <= x);
        CHECK(st_has(f, "x.alpha") <= st_count_prefix(f, "x.alpha"));
    }
    for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
        npy_array a;
        err[0] = '\0';
        int rc = st_read_tensor_memory(data, size, reads[k].name, &a, err, reads[k].err_size);
        CHECK(rc == 0 || rc == -1);
        CHECK(opened || rc == -1); /* a file that does not open reads nothing */
        if (rc == 0) {
            size_t count = 1;
            float sum = 0;
            CHECK(a.data != NULL && a.ndim <= NPY_MAX_DIMS && st_has(f, reads[k].name));
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
        if (opened) { /* the open file reads the same */
            npy_array b;
            CHECK(st_read(f, reads[k].name, &b, err, sizeof err) == rc);
            CHECK(b.count == a.count &&
                  (rc != 0 || memcmp(a.data, b.data, a.count * sizeof(float)) == 0));
            npy_free(&b);
        }
        npy_free(&a);
    }
    st_close(f);
    return 0;
}
