/* SPDX-License-Identifier: Apache-2.0 */
/* safetensors.h: a strict reader of float tensors from (untrusted) .safetensors files. */
#ifndef CLNORM_TOOLS_SAFETENSORS_H
#define CLNORM_TOOLS_SAFETENSORS_H

#include <stddef.h>

#include "npy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format: an 8-byte little-endian header length N, N bytes of a JSON
 * object mapping tensor names to {"dtype", "shape", "data_offsets"} (plus an
 * optional "__metadata__" object of strings), then the data region, which
 * the offsets index.
 *
 * The whole header is validated when a file is opened, as the format's
 * reference implementation (huggingface safetensors) does, and more strictly
 * where the JSON parser used here (cJSON) would read something else:
 *  - the header is valid UTF-8 and begins with '{' (the format's rule; the
 *    reference tolerates leading whitespace); trailing whitespace is allowed;
 *  - no string holds \u0000 (cJSON would cut it there) or a lone UTF-16
 *    surrogate escape, and no raw control character;
 *  - every entry has a known dtype, a shape of integers and two data_offsets
 *    whose span is exactly the shape's element count times the dtype's size
 *    (sub-byte dtypes: a whole number of bytes), each field once;
 *  - sorted by offsets, the tensors tile the data region: the first begins at
 *    0, each begins where the previous ended, the last ends at the end of the
 *    file (no overlaps, no holes, no trailing bytes);
 *  - tensor names are unique; "__metadata__", if present, is an object of
 *    strings (or null).
 * So a damaged file is refused whatever tensor is asked for. */

/* Headers longer than this are refused before anything is parsed (the
 * reference implementation's limit as well). */
#define ST_MAX_HEADER_BYTES 100000000u
/* Refused too: more JSON values than this in the header, so that a crafted
 * header cannot make the JSON parser allocate gigabytes of nodes. Real
 * checkpoints have a few tens of values per tensor. */
#define ST_MAX_JSON_VALUES 1000000u

/* An open, validated file: its header, and where its tensors' bytes are. */
typedef struct st_file st_file;

/* All functions returning int return 0 on success or -1 on failure (but
 * st_has and st_count_prefix). On failure a one-line English message goes to
 * err (when err is not NULL and err_size > 0); it never names the file, so
 * the caller can prefix the path. The parser uses cJSON, whose error pointer
 * is global: do not open files from two threads at once, nor use one st_file
 * from two threads at once. */

/* Opens and validates `path`, reading only its 8-byte length and its header.
 * A regular file stays open: st_read reads just the bytes of the tensor asked
 * for (pread), so a multi-gigabyte checkpoint costs little. Anything else (a
 * pipe, a character device) is read sequentially, the data region included,
 * into memory. The file is never mapped: one that is truncated, grows or is
 * written to after st_open makes st_read fail with "the file changed while
 * it was read: ..." (a read that comes up short, a size other than the
 * header's, a status-change time other than at st_open), never crash; open
 * it again to read the new contents. (The check comes after the read: a
 * change within the resolution of the file system's timestamps, with the
 * size unchanged, can go unseen.) On failure *out is NULL. */
int st_open(const char *path, st_file **out, char *err, size_t err_size);

/* The same on `len` bytes in memory, which are not copied: they must stay
 * valid until st_close. */
int st_open_memory(const void *bytes, size_t len, st_file **out, char *err, size_t err_size);

/* 1 when the file holds a tensor named `name`, else 0. */
int st_has(const st_file *f, const char *name);

/* How many tensors have a name beginning with `prefix` ("" or NULL: all). */
int st_count_prefix(const st_file *f, const char *prefix);

/* Reads the tensor `name` into *out as C-order float32: dtype "F32" as is,
 * "F64" rounded to nearest; every other dtype is an error naming it. When
 * the name is missing, the message lists up to 10 of the tensor names
 * present. *out is overwritten (not freed) and is zeroed on failure, so
 * npy_free on it is always safe. */
int st_read(st_file *f, const char *name, npy_array *out, char *err, size_t err_size);

/* Closes the file and frees f; NULL is accepted. */
void st_close(st_file *f);

/* One tensor, in one call: st_open_memory or st_open, st_read, st_close. */
int st_read_tensor_memory(const void *bytes, size_t len, const char *name, npy_array *out,
                          char *err, size_t err_size);
int st_read_tensor(const char *path, const char *name, npy_array *out, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif
