/* SPDX-License-Identifier: Apache-2.0 */
/* fmt.c: the text the file readers and the tool share. */
#include "fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fmt_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *fmt_shape(const size_t *shape, size_t ndim, char *buf, size_t size)
{
    size_t shown = ndim < FMT_SHAPE_DIMS ? ndim : FMT_SHAPE_DIMS;
    size_t used = (size_t)snprintf(buf, size, "(");
    for (size_t i = 0; i < shown && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "%s)", ndim > shown ? ", ..." : ndim == 1 ? "," : "");
    return buf;
}

const char *fmt_echo(char *dst, size_t dst_size, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n && i < dst_size - 4; i++)
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(dst + i, i < n ? "..." : "");
    return dst;
}
