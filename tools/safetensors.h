/* SPDX-License-Identifier: Apache-2.0 */
/* safetensors.h: a strict reader of single float tensors from (untrusted) .safetensors files. */
#ifndef CLNORM_TOOLS_SAFETENSORS_H
#define CLNORM_TOOLS_SAFETENSORS_H

#include <stddef.h>

#include "npy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format: an 8-byte little-endian header length N, N bytes of a JSON
 * object mapping tensor names to {"dtype", "shape", "data_offsets"} (plus an
 * optional "__metadata__" entry, ignored), then the data region, which the
 * offsets index. */

/* Headers longer than this are refused before anything is parsed (the
 * reference implementation's limit as well). */
#define ST_MAX_HEADER_BYTES 100000000u
/* Refused too: more JSON values than this in the header, so that a crafted
 * header cannot make the JSON parser allocate gigabytes of nodes. Real
 * checkpoints have a few tens of values per tensor. */
#define ST_MAX_JSON_VALUES 1000000u

/* Both return 0 on success or -1 on failure. On success *out holds the
 * tensor `name` as C-order float32: dtype "F32" as is, "F64" rounded to
 * nearest; every other dtype is an error naming it. On failure a one-line
 * English message goes to err (when err is not NULL and err_size > 0); it
 * never names the file, so the caller can prefix the path. When the name is
 * missing, the message lists up to 10 of the tensor names present.
 *
 * Every entry of the header is validated (not only the one asked for), so a
 * damaged file is reported the same whatever tensor is requested. Duplicate
 * tensor names are an error. *out is overwritten (not freed) and is zeroed
 * on failure, so npy_free on it is always safe. The parser uses cJSON, whose
 * error pointer is global: do not call these from two threads at once. */
int st_read_tensor_memory(const void *bytes, size_t len, const char *name, npy_array *out,
                          char *err, size_t err_size);

/* The file version maps the file (or reads it, when it cannot be mapped) and
 * calls st_read_tensor_memory, so only the pages of the header and of the
 * tensor asked for are actually read. */
int st_read_tensor(const char *path, const char *name, npy_array *out, char *err,
                   size_t err_size);

#ifdef __cplusplus
}
#endif

#endif
