/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_check.h: what both fuzz targets check, written once: CHECK, and the
 * promise every reader into an npy_array makes (npy.h). */
#ifndef CLNORM_FUZZ_CHECK_H
#define CLNORM_FUZZ_CHECK_H

#include <stddef.h>
#include <string.h>

#include "npy.h"

/* Invariants the reader promises; a broken one is a crash for libFuzzer. */
#define CHECK(c) ((c) ? (void)0 : __builtin_trap())

/* A read that returned rc into a, with its message in err: on success an
 * array whose count is its shape's product and whose floats are all there
 * (the sum reads each: ASan sees a short buffer); on failure no data and a
 * one-line message. */
static inline void check_read(int rc, const npy_array *a, const char *err)
{
    if (rc == 0) {
        size_t count = 1;
        float sum = 0;
        CHECK(a->data != NULL && a->ndim <= NPY_MAX_DIMS);
        for (size_t i = 0; i < a->ndim; i++)
            count *= a->shape[i];
        CHECK(count == a->count);
        for (size_t i = 0; i < a->count; i++) /* every float was written */
            sum += a->data[i];
        (void)sum;
    } else {
        CHECK(a->data == NULL && a->count == 0);
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
}

#endif
