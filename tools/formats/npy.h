/* SPDX-License-Identifier: Apache-2.0 */
/* npy.h: a small reader and atomic writer for NumPy .npy files of float32 arrays. */
#ifndef CLNORM_TOOLS_NPY_H
#define CLNORM_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPY_MAX_DIMS 8

/* A C-order float32 array. count is the product of shape (1 for ndim 0,
 * 0 when a dimension is 0). After a successful read data is never NULL,
 * even when count is 0. */
typedef struct npy_array {
    size_t ndim;
    size_t shape[NPY_MAX_DIMS];
    float *data;
    size_t count;
} npy_array;

/* Every function returns 0 on success or -1 on failure. On failure a one-line
 * English message goes to err (when err is not NULL and err_size > 0); it
 * never names the file, so the caller can prefix the path.
 *
 * Readers accept format versions 1.0, 2.0 and 3.0, dtypes '<f4' (loaded as is)
 * and '<f8' (rounded to float32); '=' and '|' mean native and are accepted
 * on little-endian hosts. Input is untrusted: every size is checked against
 * the bytes present before anything is allocated. *out is overwritten (not
 * freed) and is zeroed on failure, so npy_free on it is always safe. */
int npy_read_file(const char *path, npy_array *out, char *err, size_t err_size);
int npy_read_memory(const void *bytes, size_t length, npy_array *out, char *err, size_t err_size);

/* Frees a->data and zeroes *a. Accepts NULL and a zeroed struct; idempotent. */
void npy_free(npy_array *a);

/* A C-order integer array (class labels), widened to int64. */
typedef struct npy_ints {
    size_t ndim;
    size_t shape[NPY_MAX_DIMS];
    int64_t *data;
    size_t count;
} npy_ints;

/* The same readers for dtypes '<i4' and '<i8' (native on little-endian
 * hosts too), with the same checks and the same failure contract. */
int npy_read_ints_file(const char *path, npy_ints *out, char *err, size_t err_size);
int npy_read_ints_memory(const void *bytes, size_t length, npy_ints *out, char *err,
                         size_t err_size);
void npy_ints_free(npy_ints *a);

/* Writes a version 1.0 '<f4' C-order file whose data starts at a multiple of
 * 64 bytes. Atomic: a temporary file in the destination's directory is
 * written, fsynced and renamed over path; on failure the temporary file is
 * removed and path is left as it was. The new file gets mode 0644. */
int npy_write_file(const char *path, const size_t *shape, size_t ndim, const float *data, char *err,
                   size_t err_size);

/* The same file's bytes written at fd's current position, for a caller that
 * makes its own file (and fsyncs, closes and renames it itself). Nothing is
 * written when the arguments are wrong; a failed write may leave part. */
int npy_write_fd(int fd, const size_t *shape, size_t ndim, const float *data, char *err,
                 size_t err_size);

#ifdef __cplusplus
}
#endif

#endif
