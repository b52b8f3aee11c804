/* SPDX-License-Identifier: Apache-2.0 */
/* fmt.h: the text the file readers (npy.c, safetensors.c) and the tool share:
 * one-line error messages, shapes written as Python writes a tuple, and a
 * printable echo of untrusted bytes. */
#ifndef CLNORM_TOOLS_FMT_H
#define CLNORM_TOOLS_FMT_H

#include <stddef.h>

/* printf into err (when err is not NULL and err_size > 0); returns -1, the
 * readers' failure. */
int fmt_error(char *err, size_t err_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "(2, 3)", "(3,)" or "()" into buf. Only the first FMT_SHAPE_DIMS sizes
 * are read; a longer shape ends in ", ...". Returns buf. */
#define FMT_SHAPE_DIMS 8
const char *fmt_shape(const size_t *shape, size_t ndim, char *buf, size_t size);

/* The n bytes of s as printable ASCII ('?' for the rest), cut to fit
 * dst_size (>= 8) with "..." when longer, so that a message stays one short
 * line whatever a file holds. Returns dst. */
const char *fmt_echo(char *dst, size_t dst_size, const char *s, size_t n);

#endif
