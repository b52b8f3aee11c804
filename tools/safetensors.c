/* SPDX-License-Identifier: Apache-2.0 */
/* safetensors.c: reads one float tensor of a .safetensors file, validating the whole header. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE binary32/binary64 expected");

#define LIST_NAMES 10 /* names shown when the one asked for is missing */
#define NAME_SHOWN 48 /* characters of a name shown in a message */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A bounded, printable copy of an untrusted name, so messages stay one short
 * line whatever the header holds. dst must have room for NAME_SHOWN + 4. */
static const char *echo(char *dst, const char *s)
{
    size_t i;
    for (i = 0; s[i] && i < NAME_SHOWN; i++)
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(dst + i, s[i] ? "..." : "");
    return dst;
}

typedef struct entry {
    const char *name, *dtype;
    size_t ndim; /* may exceed NPY_MAX_DIMS; only the first dims are kept */
    size_t shape[NPY_MAX_DIMS];
    size_t count, begin, end; /* elements; byte offsets into the data region */
} entry;

/* "(2, 3)", "(3,)" or "()", as Python prints a tuple (and as npy.c does). */
static const char *format_shape(char *out, size_t out_size, const entry *e)
{
    size_t shown = e->ndim < NPY_MAX_DIMS ? e->ndim : NPY_MAX_DIMS;
    size_t used = (size_t)snprintf(out, out_size, "(");
    for (size_t i = 0; i < shown && used < out_size; i++)
        used += (size_t)snprintf(out + used, out_size - used, "%s%zu", i ? ", " : "", e->shape[i]);
    if (used < out_size)
        snprintf(out + used, out_size - used, "%s)",
                 e->ndim > shown ? ", ..." : e->ndim == 1 ? "," : "");
    return out;
}

/* Bytes per element of the dtypes the format defines, 0 for unknown ones
 * (newer or sub-byte types): those are checked for everything but length. */
static size_t dtype_size(const char *d)
{
    static const struct { const char *name; size_t size; } known[] = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
        {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2}, {"I32", 4}, {"U32", 4},
        {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(d, known[i].name) == 0)
            return known[i].size;
    return 0;
}

/* A JSON number that is a non-negative integer. cJSON keeps numbers as
 * doubles, which hold every integer below 2^53 exactly; 2^53 and above are
 * refused, since 2^53 + 1 in the file would already have become 2^53. */
static int as_size(const cJSON *v, size_t *out)
{
    const double limit = (uint64_t)SIZE_MAX < (UINT64_C(1) << 53) ? (double)SIZE_MAX
                                                                 : 9007199254740992.0;
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < limit) || d != floor(d))
        return -1;
    *out = (size_t)d;
    return 0;
}

/* Checks one header entry against the format and the data region's size. */
static int check_entry(const cJSON *item, size_t data_len, entry *e, char *err, size_t err_size)
{
    char nb[NAME_SHOWN + 4], sb[256];
    const char *n = echo(nb, e->name);
    if (!cJSON_IsObject(item))
        return fail(err, err_size, "tensor '%s': its header entry is not a JSON object", n);

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!dt)
        return fail(err, err_size, "tensor '%s': missing \"dtype\"", n);
    if (!cJSON_IsString(dt) || !dt->valuestring)
        return fail(err, err_size, "tensor '%s': \"dtype\" is not a string", n);
    e->dtype = dt->valuestring;

    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape"), *v;
    if (!sh)
        return fail(err, err_size, "tensor '%s': missing \"shape\"", n);
    if (!cJSON_IsArray(sh))
        return fail(err, err_size, "tensor '%s': \"shape\" is not an array", n);
    /* The product of the nonzero dims, times 8, must fit: then no later size
     * computation on this entry can overflow. */
    size_t nonzero = 1, dim;
    int has_zero = 0;
    e->ndim = 0;
    cJSON_ArrayForEach(v, sh) {
        if (as_size(v, &dim))
            return fail(err, err_size,
                        "tensor '%s': \"shape\" holds something other than an integer in "
                        "[0, 2^53)", n);
        if (e->ndim < NPY_MAX_DIMS)
            e->shape[e->ndim] = dim;
        e->ndim++;
        if (dim == 0)
            has_zero = 1;
        else if (nonzero > SIZE_MAX / 8 / dim)
            return fail(err, err_size, "tensor '%s': the element count of shape %s overflows", n,
                        format_shape(sb, sizeof sb, e));
        else
            nonzero *= dim;
    }
    e->count = has_zero ? 0 : nonzero;

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!off)
        return fail(err, err_size, "tensor '%s': missing \"data_offsets\"", n);
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || as_size(off->child, &e->begin) ||
        as_size(off->child->next, &e->end))
        return fail(err, err_size,
                    "tensor '%s': \"data_offsets\" is not an array of two integers in "
                    "[0, 2^53)", n);
    if (e->begin > e->end)
        return fail(err, err_size, "tensor '%s': data_offsets [%zu, %zu] are out of order", n,
                    e->begin, e->end);
    if (e->end > data_len)
        return fail(err, err_size,
                    "tensor '%s': data_offsets [%zu, %zu] go past the end of the data region "
                    "(%zu bytes)", n, e->begin, e->end, data_len);
    size_t item_size = dtype_size(e->dtype);
    if (item_size && e->end - e->begin != e->count * item_size)
        return fail(err, err_size,
                    "tensor '%s': data_offsets span %zu bytes but shape %s of %s needs %zu", n,
                    e->end - e->begin, format_shape(sb, sizeof sb, e), e->dtype,
                    e->count * item_size);
    return 0;
}

/* An upper bound on the JSON values in a header: one, plus one per ',' '['
 * '{' outside strings. Stops counting at the limit. */
static size_t count_values(const char *h, size_t n)
{
    size_t values = 1;
    int in_string = 0;
    for (size_t i = 0; i < n && values <= ST_MAX_JSON_VALUES; i++) {
        char c = h[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == ',' || c == '[' || c == '{') {
            values++;
        }
    }
    return values;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Duplicate names are an error: JSON readers disagree on which one wins. */
static int check_duplicates(const cJSON *root, size_t entries, char *err, size_t err_size)
{
    char nb[NAME_SHOWN + 4];
    const char **names = malloc((entries ? entries : 1) * sizeof *names);
    const cJSON *it;
    size_t k = 0;
    int rc = 0;
    if (!names)
        return fail(err, err_size, "out of memory (%zu header entries)", entries);
    cJSON_ArrayForEach(it, root) names[k++] = it->string;
    qsort(names, k, sizeof *names, by_name);
    for (size_t i = 1; i < k && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = fail(err, err_size, "duplicate tensor name '%s' in the header",
                      echo(nb, names[i]));
    free(names);
    return rc;
}

/* "no tensor 'x' in the file (it has 3 tensors: 'a', 'b', 'c')". */
static int missing(const cJSON *root, size_t tensors, const char *name, char *err,
                   size_t err_size)
{
    char nb[NAME_SHOWN + 4], list[LIST_NAMES * (NAME_SHOWN + 8) + 64];
    size_t used = 0, shown = 0;
    const cJSON *it;
    list[0] = '\0';
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "__metadata__") == 0)
            continue;
        if (shown == LIST_NAMES || used >= sizeof list)
            break;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s'%s'", shown ? ", " : "",
                                 echo(nb, it->string));
        shown++;
    }
    if (tensors > shown && used < sizeof list)
        snprintf(list + used, sizeof list - used, ", ... and %zu more", tensors - shown);
    if (tensors == 0)
        return fail(err, err_size, "no tensor '%s' in the file (it holds no tensors)",
                    echo(nb, name));
    return fail(err, err_size, "no tensor '%s' in the file (it has %zu tensor%s: %s)",
                echo(nb, name), tensors, tensors == 1 ? "" : "s", list);
}

/* Round to nearest like a cast, without the undefined behaviour of casting
 * an out-of-range double to float. */
static float to_float(double x)
{
    const double overflow = 0x1.ffffffp127; /* halfway between FLT_MAX and 2^128 */
    if (!isnan(x) && fabs(x) >= overflow)
        return x > 0 ? INFINITY : -INFINITY;
    return (float)x;
}

static int convert(const entry *e, const unsigned char *data, npy_array *out, char *err,
                   size_t err_size)
{
    char nb[NAME_SHOWN + 4], db[NAME_SHOWN + 4];
    size_t item_size = strcmp(e->dtype, "F32") == 0 ? 4 : strcmp(e->dtype, "F64") == 0 ? 8 : 0;
    if (!item_size)
        return fail(err, err_size,
                    "tensor '%s' has dtype %s, which is not supported (expected F32 or F64)",
                    echo(nb, e->name), echo(db, e->dtype));
    if (e->ndim > NPY_MAX_DIMS)
        return fail(err, err_size, "tensor '%s' has %zu dimensions (at most %d are supported)",
                    echo(nb, e->name), e->ndim, NPY_MAX_DIMS);
    /* count * item_size == end - begin <= the input's length: a bounded allocation. */
    if (!(out->data = malloc((e->count ? e->count : 1) * sizeof(float))))
        return fail(err, err_size, "out of memory (%zu floats)", e->count);
    const unsigned char *b = data + e->begin;
    for (size_t i = 0; i < e->count; i++, b += item_size) {
        uint64_t u = 0; /* assembled from little-endian bytes: right on any host */
        for (size_t j = item_size; j-- > 0;)
            u = u << 8 | b[j];
        union { uint32_t u; float f; } f4 = {(uint32_t)u};
        union { uint64_t u; double d; } f8 = {u};
        out->data[i] = item_size == 4 ? f4.f : to_float(f8.d);
    }
    out->ndim = e->ndim;
    memcpy(out->shape, e->shape, e->ndim * sizeof e->shape[0]);
    out->count = e->count;
    return 0;
}

int st_read_tensor_memory(const void *bytes, size_t len, const char *name, npy_array *out,
                          char *err, size_t err_size)
{
    const unsigned char *b = bytes;
    if (!out)
        return fail(err, err_size, "no output array given");
    memset(out, 0, sizeof *out);
    if (!name)
        return fail(err, err_size, "no tensor name given");
    if (len < 8 || !b)
        return fail(err, err_size, "too short for a .safetensors file (%zu bytes; the header "
                    "length alone takes 8)", len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    if (hlen > ST_MAX_HEADER_BYTES)
        return fail(err, err_size, "header length %llu is absurd (more than %u bytes): not a "
                    ".safetensors file?", (unsigned long long)hlen, ST_MAX_HEADER_BYTES);
    if (hlen > len - 8)
        return fail(err, err_size, "header length %llu goes past the end of the file (%zu bytes "
                    "follow it)", (unsigned long long)hlen, len - 8);
    const char *h = (const char *)b + 8;
    const unsigned char *data = b + 8 + hlen;
    size_t data_len = len - 8 - (size_t)hlen;
    if (count_values(h, (size_t)hlen) > ST_MAX_JSON_VALUES)
        return fail(err, err_size, "the header holds more than %u JSON values", ST_MAX_JSON_VALUES);

    /* A NUL-terminated copy: older cJSON releases could read past the given
     * length (CVE-2023-53154); a terminator stops such a scan in our buffer. */
    char *text = malloc((size_t)hlen + 1);
    if (!text)
        return fail(err, err_size, "out of memory (a %llu-byte header)", (unsigned long long)hlen);
    memcpy(text, h, (size_t)hlen);
    text[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)hlen, &end, 0);
    if (root && end) /* the format pads the header with spaces; anything else is damage */
        while (end < text + hlen && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
    if (!root || !end || end != text + hlen) {
        size_t at = end && end >= text && end <= text + hlen ? (size_t)(end - text) : (size_t)hlen;
        cJSON_Delete(root);
        free(text);
        return fail(err, err_size, "malformed JSON header (%s at byte %zu of %llu)",
                    root ? "trailing data" : "syntax error", at, (unsigned long long)hlen);
    }
    int rc = 0;
    size_t entries = 0, tensors = 0;
    entry e, want = {0};
    const cJSON *it;
    if (!cJSON_IsObject(root)) {
        rc = fail(err, err_size, "the JSON header is not an object");
        goto done;
    }
    cJSON_ArrayForEach(it, root) {
        entries++;
        if (strcmp(it->string, "__metadata__") == 0)
            continue;
        tensors++;
        memset(&e, 0, sizeof e);
        e.name = it->string;
        if ((rc = check_entry(it, data_len, &e, err, err_size)) != 0)
            goto done;
        if (!want.name && strcmp(it->string, name) == 0)
            want = e;
    }
    if ((rc = check_duplicates(root, entries, err, err_size)) != 0)
        goto done;
    if (!want.name || strcmp(name, "__metadata__") == 0)
        rc = missing(root, tensors, name, err, err_size);
    else
        rc = convert(&want, data, out, err, err_size);
done:
    cJSON_Delete(root); /* want.name and want.dtype point into it: used above only */
    free(text);
    return rc;
}

/* Whole contents of a file that cannot be mapped (a pipe, say). */
static int read_all(int fd, unsigned char **buf, size_t *len, char *err, size_t err_size)
{
    size_t cap = 65536;
    *buf = NULL;
    *len = 0;
    for (;;) {
        if (!*buf || *len == cap) {
            unsigned char *bigger = !*buf ? malloc(cap)
                                    : cap <= SIZE_MAX / 2 ? realloc(*buf, cap *= 2) : NULL;
            if (!bigger)
                return fail(err, err_size, "out of memory reading the file");
            *buf = bigger;
        }
        ssize_t got = read(fd, *buf + *len, cap - *len);
        if (got == 0)
            return 0;
        if (got < 0 && errno != EINTR) /* a directory gives EISDIR here */
            return fail(err, err_size, "read failed: %s", strerror(errno));
        *len += got > 0 ? (size_t)got : 0;
    }
}

int st_read_tensor(const char *path, const char *name, npy_array *out, char *err,
                   size_t err_size)
{
    struct stat st;
    unsigned char *buf = NULL;
    void *map = MAP_FAILED;
    size_t len = 0;
    int fd, rc = -1;
    if (out)
        memset(out, 0, sizeof *out);
    if (!path)
        return fail(err, err_size, "no file name given");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return fail(err, err_size, "cannot open: %s", strerror(errno));
    /* Mapping reads only the pages touched: the header and one tensor of what
     * may be a multi-gigabyte checkpoint. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size <= SIZE_MAX) {
        len = (size_t)st.st_size;
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    if (map != MAP_FAILED)
        rc = st_read_tensor_memory(map, len, name, out, err, err_size);
    else if (read_all(fd, &buf, &len, err, err_size) == 0)
        rc = st_read_tensor_memory(buf, len, name, out, err, err_size);
    if (map != MAP_FAILED)
        munmap(map, len);
    free(buf);
    close(fd);
    return rc;
}
