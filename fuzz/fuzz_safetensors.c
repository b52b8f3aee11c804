/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_safetensors.c: libFuzzer target for the .safetensors reader (untrusted bytes in memory). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "safetensors.h"

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
        check_read(rc, &a, err);
        CHECK(rc != 0 || st_has(f, reads[k].name));
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
