/* SPDX-License-Identifier: Apache-2.0 */
/* safetensors.c: reads float tensors of a .safetensors file, validating the whole header. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define _FILE_OFFSET_BITS 64

#include "safetensors.h"
#include "fmt.h"

_Static_assert(FMT_SHAPE_DIMS == NPY_MAX_DIMS, "shapes are shown as far as they are kept");

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE binary32/binary64 expected");
_Static_assert(sizeof(off_t) >= 8, "64-bit file offsets expected");

#define LIST_NAMES 10    /* names shown when the one asked for is missing */
#define NAME_SHOWN 48    /* characters of a name shown in a message */
#define CHUNK (1u << 20) /* bytes read at a time: a multiple of every item size */

/* A bounded, printable copy of an untrusted name, so messages stay one short
 * line whatever the header holds. dst must have room for NAME_SHOWN + 4. */
static const char *echo(char *dst, const char *s)
{
    return fmt_echo(dst, NAME_SHOWN + 4, s, strlen(s));
}

/* The dtypes the format defines, with their sizes in bits. */
static const struct {
    const char *name;
    unsigned bits;
} dtypes[] = {{"BOOL", 8},    {"F4", 4},          {"F6_E2M3", 6},     {"F6_E3M2", 6},
              {"U8", 8},      {"I8", 8},          {"F8_E5M2", 8},     {"F8_E4M3", 8},
              {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
              {"U16", 16},    {"F16", 16},        {"BF16", 16},       {"I32", 32},
              {"U32", 32},    {"F32", 32},        {"C64", 64},        {"F64", 64},
              {"I64", 64},    {"U64", 64}};
#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

typedef struct entry {
    const char *name; /* in st_file.names */
    size_t dtype;     /* index in dtypes[] */
    size_t ndim;      /* may exceed NPY_MAX_DIMS; only the first dims are kept */
    size_t shape[NPY_MAX_DIMS];
    size_t count, begin, end; /* elements; byte offsets into the data region */
} entry;

struct st_file {
    size_t count;          /* tensors */
    entry *entries;        /* in header order */
    const entry **by_name; /* the same, sorted by name */
    char *names;           /* their names, each NUL-terminated */
    /* Where the tensors' bytes are: */
    const unsigned char *data; /* the data region in memory (when fd < 0), */
    unsigned char *owned;      /* which st_close frees when it came from a stream; */
    int fd;                    /* or a regular file, read with pread, */
    uint64_t data_start;       /* at this offset, */
    off_t file_size;           /* of this size */
    struct timespec ctime;     /* and status-change time when it was opened */
};

/* "(2, 3)", "(3,)" or "()", as Python prints a tuple (and as npy.c does). */
static const char *format_shape(char *out, size_t out_size, const entry *e)
{
    return fmt_shape(e->shape, e->ndim, out, out_size);
}

/* ---- The raw header, before the JSON parser sees it. ---- */

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if it
 * is not one: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* The value of the 4 hex digits at s (n bytes available), or -1. */
static long hex4(const unsigned char *s, size_t n)
{
    long v = 0;
    if (n < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int c = s[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A printable copy of the raw JSON string that begins (after its quote) at
 * s, up to its closing quote or NAME_SHOWN characters. */
static const char *echo_raw(char *dst, const unsigned char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n && i < NAME_SHOWN && !(s[i] == '"' && (i == 0 || s[i - 1] != '\\')); i++)
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    strcpy(dst + i, i < n && s[i] != '"' ? "..." : "");
    return dst;
}

/* Checks the raw header for what cJSON would accept and read differently
 * from the reference implementation (a strict JSON parser into UTF-8
 * strings), and bounds the number of JSON values. */
static int scan_header(const unsigned char *h, size_t n, char *err, size_t err_size)
{
    char sb[NAME_SHOWN + 4];
    size_t values = 1, str = 0; /* str: where the current string's text begins */
    int in_string = 0;
    if (n == 0)
        return fmt_error(err, err_size, "malformed JSON header (it is empty)");
    if (h[0] != '{')
        return fmt_error(err, err_size,
                         "the JSON header is not an object: it must begin with '{' "
                         "(byte 0x%02x here%s)",
                         h[0],
                         h[0] == ' ' || h[0] == '\t' || h[0] == '\n' || h[0] == '\r'
                             ? ": the format allows whitespace only at the end"
                             : "");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = h[i];
        if (c >= 0x80) {
            size_t len = utf8_length(h + i, n - i);
            if (!len)
                return fmt_error(err, err_size,
                                 "the header is not valid UTF-8 (byte 0x%02x at byte "
                                 "%zu of %zu)",
                                 c, i, n);
            i += len - 1;
        } else if (c < 0x20 && (in_string || (c != '\t' && c != '\n' && c != '\r'))) {
            return fmt_error(err, err_size,
                             "malformed JSON header (control character 0x%02x %s at "
                             "byte %zu)",
                             c, in_string ? "in a string" : "outside strings", i);
        } else if (!in_string) {
            if (c == '"')
                in_string = 1, str = i + 1;
            else if ((c == ',' || c == '[' || c == '{') && ++values > ST_MAX_JSON_VALUES)
                return fmt_error(err, err_size, "the header holds more than %u JSON values",
                                 ST_MAX_JSON_VALUES);
        } else if (c == '"') {
            in_string = 0;
        } else if (c == '\\' && i + 1 < n) {
            long u = h[i + 1] == 'u' ? hex4(h + i + 2, n - i - 2) : -1;
            if (u == 0)
                return fmt_error(err, err_size,
                                 "the header string \"%s\" (at byte %zu) holds \\u0000, "
                                 "a NUL character, which is refused (the JSON parser would cut the "
                                 "string there)",
                                 echo_raw(sb, h + str, n - str), str);
            if (u >= 0xd800 && u <= 0xdbff) { /* must be followed by a low surrogate */
                long lo = i + 7 < n && h[i + 6] == '\\' && h[i + 7] == 'u'
                              ? hex4(h + i + 8, n - i - 8)
                              : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    u = 0xdc00; /* reported below */
                else
                    i += 6;
            }
            if (u >= 0xdc00 && u <= 0xdfff)
                return fmt_error(err, err_size,
                                 "the header string \"%s\" (at byte %zu) holds a lone "
                                 "UTF-16 surrogate escape (\\u%.4s), which is not valid UTF-8",
                                 echo_raw(sb, h + str, n - str), str, (const char *)h + i + 2);
            if (u >= 0)
                i += 5;
            else if (h[i + 1] < 0x80) /* escaped: it cannot end the string */
                i++;
        }
    }
    return 0;
}

/* ---- The parsed header. ---- */

/* A JSON number that is a non-negative integer. cJSON keeps numbers as
 * doubles, which hold every integer below 2^53 exactly; 2^53 and above are
 * refused, since 2^53 + 1 in the file would already have become 2^53. */
static int as_size(const cJSON *v, size_t *out)
{
    const double limit =
        (uint64_t)SIZE_MAX < (UINT64_C(1) << 53) ? (double)SIZE_MAX : 9007199254740992.0;
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < limit) || d != floor(d))
        return -1;
    *out = (size_t)d;
    return 0;
}

/* Checks one header entry against the format (all but its place in the data
 * region). */
static int check_entry(const cJSON *item, entry *e, char *err, size_t err_size)
{
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    char nb[NAME_SHOWN + 4], db[NAME_SHOWN + 4], sb[256];
    const char *n = echo(nb, e->name);
    const cJSON *v;
    if (!cJSON_IsObject(item))
        return fmt_error(err, err_size, "tensor '%s': its header entry is not a JSON object", n);
    /* cJSON finds the first of two equal keys, a strict parser refuses them. */
    for (size_t k = 0; k < 3; k++) {
        int seen = 0;
        cJSON_ArrayForEach (v, item)
            seen += strcmp(v->string, fields[k]) == 0;
        if (seen > 1)
            return fmt_error(err, err_size, "tensor '%s': \"%s\" appears %d times in its entry", n,
                             fields[k], seen);
    }

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!dt)
        return fmt_error(err, err_size, "tensor '%s': missing \"dtype\"", n);
    if (!cJSON_IsString(dt) || !dt->valuestring)
        return fmt_error(err, err_size, "tensor '%s': \"dtype\" is not a string", n);
    for (e->dtype = 0; e->dtype < NDTYPES; e->dtype++)
        if (strcmp(dt->valuestring, dtypes[e->dtype].name) == 0)
            break;
    if (e->dtype == NDTYPES)
        return fmt_error(err, err_size, "tensor '%s': unknown dtype '%s'", n,
                         echo(db, dt->valuestring));

    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!sh)
        return fmt_error(err, err_size, "tensor '%s': missing \"shape\"", n);
    if (!cJSON_IsArray(sh))
        return fmt_error(err, err_size, "tensor '%s': \"shape\" is not an array", n);
    /* The product of the nonzero dims, times 8, must fit: then no later size
     * computation on this entry can overflow. */
    size_t nonzero = 1, dim;
    int has_zero = 0;
    e->ndim = 0;
    cJSON_ArrayForEach (v, sh) {
        if (as_size(v, &dim))
            return fmt_error(err, err_size,
                             "tensor '%s': \"shape\" holds something other than an integer in "
                             "[0, 2^53)",
                             n);
        if (e->ndim < NPY_MAX_DIMS)
            e->shape[e->ndim] = dim;
        e->ndim++;
        if (dim == 0)
            has_zero = 1;
        else if (nonzero > SIZE_MAX / 8 / dim)
            return fmt_error(err, err_size, "tensor '%s': the element count of shape %s overflows",
                             n, format_shape(sb, sizeof sb, e));
        else
            nonzero *= dim;
    }
    e->count = has_zero ? 0 : nonzero;

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!off)
        return fmt_error(err, err_size, "tensor '%s': missing \"data_offsets\"", n);
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || as_size(off->child, &e->begin) ||
        as_size(off->child->next, &e->end))
        return fmt_error(err, err_size,
                         "tensor '%s': \"data_offsets\" is not an array of two integers in "
                         "[0, 2^53)",
                         n);
    if (e->begin > e->end)
        return fmt_error(err, err_size, "tensor '%s': data_offsets [%zu, %zu] are out of order", n,
                         e->begin, e->end);
    /* count * bits cannot overflow: count * 8 fits, and bits % 8 != 0 means 4 or 6. */
    unsigned bits = dtypes[e->dtype].bits;
    if (bits % 8 && e->count * bits % 8)
        return fmt_error(err, err_size,
                         "tensor '%s': shape %s of %s is %zu bits, not a whole number "
                         "of bytes",
                         n, format_shape(sb, sizeof sb, e), dtypes[e->dtype].name, e->count * bits);
    size_t bytes = bits % 8 ? e->count * bits / 8 : e->count * (bits / 8);
    if (e->end - e->begin != bytes)
        return fmt_error(
            err, err_size, "tensor '%s': data_offsets span %zu bytes but shape %s of %s needs %zu",
            n, e->end - e->begin, format_shape(sb, sizeof sb, e), dtypes[e->dtype].name, bytes);
    return 0;
}

/* "__metadata__": a string-to-string map, or null (the reference reads it
 * into an optional map). */
static int check_metadata(const cJSON *m, char *err, size_t err_size)
{
    char kb[NAME_SHOWN + 4];
    const cJSON *v;
    if (cJSON_IsNull(m))
        return 0;
    if (!cJSON_IsObject(m))
        return fmt_error(err, err_size, "\"__metadata__\" is not a JSON object (of strings)");
    cJSON_ArrayForEach (v, m)
        if (!cJSON_IsString(v))
            return fmt_error(err, err_size,
                             "\"__metadata__\" holds a value that is not a string (at "
                             "key '%s')",
                             echo(kb, v->string));
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

/* By data_offsets, as the reference sorts; equal offsets by name, so that
 * messages do not depend on qsort's order. */
static int by_offsets(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorted by offsets, the tensors must tile [0, data_len) exactly. */
static int check_layout(const st_file *f, size_t data_len, char *err, size_t err_size)
{
    char nb[NAME_SHOWN + 4], pb[NAME_SHOWN + 4];
    const entry **order = malloc((f->count ? f->count : 1) * sizeof *order), *prev = NULL;
    size_t at = 0;
    int rc = 0;
    if (!order)
        return fmt_error(err, err_size, "out of memory (%zu tensors)", f->count);
    for (size_t i = 0; i < f->count; i++)
        order[i] = &f->entries[i];
    qsort(order, f->count, sizeof *order, by_offsets);
    for (size_t i = 0; i < f->count && rc == 0; i++) {
        const entry *e = order[i];
        if (e->begin != at && !prev)
            rc = fmt_error(
                err, err_size,
                "tensor '%s' comes first in the data region but its "
                "data_offsets [%zu, %zu] do not begin at 0: %zu bytes belong to no tensor",
                echo(nb, e->name), e->begin, e->end, e->begin);
        else if (e->begin > at)
            rc = fmt_error(err, err_size,
                           "%zu bytes of the data region belong to no tensor: tensor "
                           "'%s' ends at %zu, the next, '%s', has data_offsets [%zu, %zu]",
                           e->begin - at, echo(pb, prev->name), at, echo(nb, e->name), e->begin,
                           e->end);
        else if (e->begin < at)
            rc = fmt_error(err, err_size,
                           "tensors '%s' (data_offsets [%zu, %zu]) and '%s' "
                           "(data_offsets [%zu, %zu]) overlap",
                           echo(pb, prev->name), prev->begin, prev->end, echo(nb, e->name),
                           e->begin, e->end);
        at = e->end;
        prev = e;
    }
    if (rc == 0 && at > data_len)
        rc = fmt_error(err, err_size,
                       "tensor '%s': data_offsets [%zu, %zu] go past the end of the "
                       "data region (%zu bytes)",
                       echo(nb, prev->name), prev->begin, prev->end, data_len);
    else if (rc == 0 && at < data_len && !prev)
        rc = fmt_error(err, err_size, "the header holds no tensors but %zu bytes of data follow it",
                       data_len);
    else if (rc == 0 && at < data_len)
        rc = fmt_error(err, err_size,
                       "%zu bytes at the end of the data region belong to no tensor "
                       "(the last, '%s', has data_offsets [%zu, %zu]; the region has %zu bytes)",
                       data_len - at, echo(nb, prev->name), prev->begin, prev->end, data_len);
    free(order);
    return rc;
}

/* Parses and checks the header text (n bytes at h) into f's entries. */
static int parse_header(st_file *f, const unsigned char *h, size_t n, char *err, size_t err_size)
{
    if (scan_header(h, n, err, err_size))
        return -1;
    /* A NUL-terminated copy: older cJSON releases could read past the given
     * length (CVE-2023-53154); a terminator stops such a scan in our buffer. */
    char *text = malloc(n + 1);
    if (!text)
        return fmt_error(err, err_size, "out of memory (a %zu-byte header)", n);
    memcpy(text, h, n);
    text[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (root && end) /* the format pads the header with spaces; anything else is damage */
        while (end < text + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
    if (!root || !end || end != text + n) {
        size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : n;
        cJSON_Delete(root);
        free(text);
        return fmt_error(err, err_size, "malformed JSON header (%s at byte %zu of %zu)",
                         root ? "trailing data" : "syntax error", at, n);
    }
    int rc = 0;
    size_t names_len = 0, metas = 0, k = 0;
    const cJSON *it;
    char *name;
    if (!cJSON_IsObject(root)) {
        rc = fmt_error(err, err_size, "the JSON header is not an object");
        goto done;
    }
    cJSON_ArrayForEach (it, root) {
        if (strcmp(it->string, "__metadata__") == 0) {
            metas++;
        } else {
            f->count++;
            names_len += strlen(it->string) + 1; /* sums to less than n */
        }
    }
    if (metas > 1) {
        rc = fmt_error(err, err_size, "duplicate \"__metadata__\" in the header");
        goto done;
    }
    f->entries = calloc(f->count ? f->count : 1, sizeof *f->entries);
    f->by_name = malloc((f->count ? f->count : 1) * sizeof *f->by_name);
    f->names = name = malloc(names_len ? names_len : 1);
    if (!f->entries || !f->by_name || !f->names) {
        rc = fmt_error(err, err_size, "out of memory (%zu header entries)", f->count);
        goto done;
    }
    cJSON_ArrayForEach (it, root) {
        if (strcmp(it->string, "__metadata__") == 0) {
            if ((rc = check_metadata(it, err, err_size)) != 0)
                goto done;
            continue;
        }
        entry *e = &f->entries[k];
        size_t len = strlen(it->string) + 1;
        e->name = memcpy(name, it->string, len);
        name += len;
        if ((rc = check_entry(it, e, err, err_size)) != 0)
            goto done;
        f->by_name[k++] = e;
    }
    /* Duplicate names are an error: JSON readers disagree on which one wins. */
    qsort(f->by_name, f->count, sizeof *f->by_name, by_name);
    for (size_t i = 1; i < f->count && rc == 0; i++)
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0) {
            char nb[NAME_SHOWN + 4];
            rc = fmt_error(err, err_size, "duplicate tensor name '%s' in the header",
                           echo(nb, f->by_name[i]->name));
        }
done:
    cJSON_Delete(root);
    free(text);
    return rc;
}

static const entry *find(const st_file *f, const char *name)
{
    entry key = {.name = name};
    const entry *pkey = &key, *const * hit;
    if (!f || !name || f->count == 0)
        return NULL;
    hit = bsearch(&pkey, f->by_name, f->count, sizeof *f->by_name, by_name);
    return hit ? *hit : NULL;
}

/* "no tensor 'x' in the file (it has 3 tensors: 'a', 'b', 'c')". */
static int missing(const st_file *f, const char *name, char *err, size_t err_size)
{
    char nb[NAME_SHOWN + 4], list[LIST_NAMES * (NAME_SHOWN + 8) + 64];
    size_t used = 0, shown = 0;
    list[0] = '\0';
    for (; shown < f->count && shown < LIST_NAMES && used < sizeof list; shown++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s'%s'", shown ? ", " : "",
                                 echo(nb, f->entries[shown].name));
    if (f->count > shown && used < sizeof list)
        snprintf(list + used, sizeof list - used, ", ... and %zu more", f->count - shown);
    if (f->count == 0)
        return fmt_error(err, err_size, "no tensor '%s' in the file (it holds no tensors)",
                         echo(nb, name));
    return fmt_error(err, err_size, "no tensor '%s' in the file (it has %zu tensor%s: %s)",
                     echo(nb, name), f->count, f->count == 1 ? "" : "s", list);
}

/* ---- Reading. ---- */

/* Reads up to n bytes at offset `at` (pread), or the next n bytes (read, when
 * at < 0), retrying short reads; *got says how many came before end of file. */
static int read_full(int fd, void *buf, size_t n, off_t at, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = at >= 0 ? pread(fd, (char *)buf + *got, n - *got, at + (off_t)*got)
                            : read(fd, (char *)buf + *got, n - *got);
        if (r == 0)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        *got += r > 0 ? (size_t)r : 0;
    }
    return 0;
}

/* The 8-byte header length, checked against the bytes that follow it
 * (`after`, or SIZE_MAX when not known yet). */
static int header_length(const unsigned char b[8], size_t have, size_t after, size_t *hlen,
                         char *err, size_t err_size)
{
    uint64_t n = 0;
    if (have < 8)
        return fmt_error(err, err_size,
                         "too short for a .safetensors file (%zu bytes; the header "
                         "length alone takes 8)",
                         have);
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    if (n > ST_MAX_HEADER_BYTES)
        return fmt_error(err, err_size,
                         "header length %llu is absurd (more than %u bytes): not a "
                         ".safetensors file?",
                         (unsigned long long)n, ST_MAX_HEADER_BYTES);
    if (n > after)
        return fmt_error(err, err_size,
                         "header length %llu goes past the end of the file (%zu bytes "
                         "follow it)",
                         (unsigned long long)n, after);
    *hlen = (size_t)n;
    return 0;
}

static st_file *new_file(void)
{
    st_file *f = calloc(1, sizeof *f);
    if (f)
        f->fd = -1;
    return f;
}

void st_close(st_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->owned);
    free(f->entries);
    free(f->by_name);
    free(f->names);
    free(f);
}

int st_open_memory(const void *bytes, size_t len, st_file **out, char *err, size_t err_size)
{
    const unsigned char *b = bytes;
    size_t hlen;
    if (!out)
        return fmt_error(err, err_size, "no output given");
    *out = NULL;
    if (header_length(b, b ? len : 0, len >= 8 ? len - 8 : 0, &hlen, err, err_size))
        return -1;
    st_file *f = new_file();
    if (!f)
        return fmt_error(err, err_size, "out of memory");
    f->data = b + 8 + hlen;
    if (parse_header(f, b + 8, hlen, err, err_size) ||
        check_layout(f, len - 8 - hlen, err, err_size)) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* A pipe or other unseekable file: the header, then exactly the data region
 * the header describes (read as it comes, so a lying header costs no more
 * memory than the bytes actually sent), then end of file. */
static int open_stream(st_file *f, char *err, size_t err_size)
{
    unsigned char len8[8], *h, extra;
    size_t got, hlen, need = 0;
    if (read_full(f->fd, len8, 8, -1, &got))
        return fmt_error(err, err_size, "read failed: %s", strerror(errno));
    if (header_length(len8, got, SIZE_MAX, &hlen, err, err_size))
        return -1;
    if (!(h = malloc(hlen ? hlen : 1)))
        return fmt_error(err, err_size, "out of memory (a %zu-byte header)", hlen);
    int rc = read_full(f->fd, h, hlen, -1, &got);
    if (rc)
        rc = fmt_error(err, err_size, "read failed: %s", strerror(errno));
    else if (got < hlen)
        rc = header_length(len8, 8, got, &hlen, err, err_size);
    else
        rc = parse_header(f, h, hlen, err, err_size);
    free(h);
    if (rc)
        return -1;
    for (size_t i = 0; i < f->count; i++)
        need = f->entries[i].end > need ? f->entries[i].end : need;
    if (check_layout(f, need, err, err_size)) /* holes and overlaps */
        return -1;
    for (size_t cap = 0, have = 0; have < need; have += got) {
        if (have == cap) {
            cap = need - cap > cap + CHUNK ? cap + cap + CHUNK : need;
            unsigned char *bigger = realloc(f->owned, cap);
            if (!bigger)
                return fmt_error(err, err_size, "out of memory (%zu bytes of tensor data)", cap);
            f->owned = bigger;
        }
        if (read_full(f->fd, f->owned + have, cap - have, -1, &got))
            return fmt_error(err, err_size, "read failed: %s", strerror(errno));
        if (got < cap - have)
            return check_layout(f, have + got, err, err_size); /* "go past the end" */
    }
    if (read_full(f->fd, &extra, 1, -1, &got))
        return fmt_error(err, err_size, "read failed: %s", strerror(errno));
    if (got)
        return fmt_error(err, err_size,
                         "more bytes follow the end of the last tensor (at byte %zu of "
                         "the data region): they belong to no tensor",
                         need);
    f->data = f->owned;
    close(f->fd);
    f->fd = -1;
    return 0;
}

/* A regular file: its length and header (pread), checked against its size.
 * The fd stays open; st_read reads each tensor's bytes when asked. */
static int open_regular(st_file *f, const struct stat *st, char *err, size_t err_size)
{
    unsigned char len8[8], *h;
    size_t got, hlen, size = (uintmax_t)st->st_size <= SIZE_MAX ? (size_t)st->st_size : SIZE_MAX;
    f->file_size = st->st_size;
    f->ctime = st->st_ctim;
    if (read_full(f->fd, len8, 8, 0, &got))
        return fmt_error(err, err_size, "read failed: %s", strerror(errno));
    if (got < 8 && got < size)
        return fmt_error(err, err_size,
                         "the file changed while it was read: it had %zu bytes, but "
                         "only %zu could be read",
                         size, got);
    if (header_length(len8, got, size >= 8 ? size - 8 : 0, &hlen, err, err_size))
        return -1;
    if (!(h = malloc(hlen ? hlen : 1)))
        return fmt_error(err, err_size, "out of memory (a %zu-byte header)", hlen);
    int rc = read_full(f->fd, h, hlen, 8, &got);
    if (rc)
        fmt_error(err, err_size, "read failed: %s", strerror(errno));
    else if (got < hlen)
        rc = fmt_error(err, err_size,
                       "the file changed while it was read: its %zu-byte header ended "
                       "after %zu bytes",
                       hlen, got);
    else
        rc = parse_header(f, h, hlen, err, err_size);
    free(h);
    if (rc)
        return -1;
    f->data_start = 8 + (uint64_t)hlen;
    return check_layout(f, size - 8 - hlen, err, err_size);
}

int st_open(const char *path, st_file **out, char *err, size_t err_size)
{
    struct stat st;
    int rc;
    if (!out)
        return fmt_error(err, err_size, "no output given");
    *out = NULL;
    if (!path)
        return fmt_error(err, err_size, "no file name given");
    st_file *f = new_file();
    if (!f)
        return fmt_error(err, err_size, "out of memory");
    if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        rc = fmt_error(err, err_size, "cannot open: %s", strerror(errno));
    else if (fstat(f->fd, &st) != 0)
        rc = fmt_error(err, err_size, "cannot stat: %s", strerror(errno));
    else if (S_ISREG(st.st_mode))
        rc = open_regular(f, &st, err, err_size);
    else /* a pipe, a device; a directory fails in read(), with EISDIR */
        rc = open_stream(f, err, err_size);
    if (rc) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int st_has(const st_file *f, const char *name) { return find(f, name) != NULL; }

int st_count_prefix(const st_file *f, const char *prefix)
{
    size_t n = 0, len = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; f && i < f->count; i++)
        n += strncmp(f->entries[i].name, prefix ? prefix : "", len) == 0;
    return n > INT_MAX ? INT_MAX : (int)n;
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

/* n little-endian items of item_size (4 or 8) bytes at b, to floats. */
static void convert(const unsigned char *b, size_t n, size_t item_size, float *dst)
{
    for (size_t i = 0; i < n; i++, b += item_size) {
        uint64_t u = 0; /* assembled from little-endian bytes: right on any host */
        for (size_t j = item_size; j-- > 0;)
            u = u << 8 | b[j];
        union {
            uint32_t u;
            float f;
        } f4 = {(uint32_t)u};
        union {
            uint64_t u;
            double d;
        } f8 = {u};
        dst[i] = item_size == 4 ? f4.f : to_float(f8.d);
    }
}

/* The tensor's bytes from the file, chunk by chunk, into floats. A read that
 * comes up short, a size other than the one the header was checked against,
 * or a status-change time (ctime) other than the one at st_open, means that
 * the file changed under us. */
static int read_converted(st_file *f, const entry *e, size_t item_size, float *dst, char *err,
                          size_t err_size)
{
    char nb[NAME_SHOWN + 4];
    struct stat st;
    size_t total = e->end - e->begin, chunk = total < CHUNK ? total : CHUNK, got;
    unsigned char *buf = malloc(chunk ? chunk : 1);
    if (!buf)
        return fmt_error(err, err_size, "out of memory (%zu bytes)", chunk);
    for (size_t done = 0; done < total; done += chunk) {
        size_t want = total - done < chunk ? total - done : chunk;
        off_t at = (off_t)(f->data_start + e->begin + done);
        if (read_full(f->fd, buf, want, at, &got)) {
            free(buf);
            return fmt_error(err, err_size, "read failed: %s", strerror(errno));
        }
        if (got < want) {
            free(buf);
            return fmt_error(err, err_size,
                             "the file changed while it was read: tensor '%s' "
                             "(data_offsets [%zu, %zu]) ends at byte %ju of the file, but the file "
                             "now ends at byte %ju",
                             echo(nb, e->name), e->begin, e->end,
                             (uintmax_t)(f->data_start + e->end), (uintmax_t)at + got);
        }
        convert(buf, want / item_size, item_size, dst + done / item_size);
    }
    free(buf);
    if (fstat(f->fd, &st) != 0)
        return fmt_error(err, err_size, "cannot stat: %s", strerror(errno));
    if (st.st_size != f->file_size)
        return fmt_error(err, err_size,
                         "the file changed while it was read: it had %jd bytes, as its "
                         "header says, and now has %jd",
                         (intmax_t)f->file_size, (intmax_t)st.st_size);
    /* Written to since it was opened: the bytes may be another file's. */
    if (st.st_ctim.tv_sec != f->ctime.tv_sec || st.st_ctim.tv_nsec != f->ctime.tv_nsec)
        return fmt_error(err, err_size,
                         "the file changed while it was read: it was modified after "
                         "it was opened (its size is the same, its status-change time is not)");
    return 0;
}

int st_read(st_file *f, const char *name, npy_array *out, char *err, size_t err_size)
{
    char nb[NAME_SHOWN + 4];
    if (!out)
        return fmt_error(err, err_size, "no output array given");
    memset(out, 0, sizeof *out);
    if (!f)
        return fmt_error(err, err_size, "no file given");
    if (!name)
        return fmt_error(err, err_size, "no tensor name given");
    const entry *e = find(f, name);
    if (!e)
        return missing(f, name, err, err_size);
    const char *dtype = dtypes[e->dtype].name;
    size_t item_size = strcmp(dtype, "F32") == 0 ? 4 : strcmp(dtype, "F64") == 0 ? 8 : 0;
    if (!item_size)
        return fmt_error(err, err_size,
                         "tensor '%s' has dtype %s, which is not supported (expected F32 or F64)",
                         echo(nb, e->name), dtype);
    if (e->ndim > NPY_MAX_DIMS)
        return fmt_error(err, err_size, "tensor '%s' has %zu dimensions (at most %d are supported)",
                         echo(nb, e->name), e->ndim, NPY_MAX_DIMS);
    /* count * item_size == end - begin <= the data region's length: a
     * bounded allocation (the file's size, or the bytes in memory). */
    float *data = malloc((e->count ? e->count : 1) * sizeof(float));
    if (!data)
        return fmt_error(err, err_size, "out of memory (%zu floats)", e->count);
    if (f->fd < 0) {
        if (e->count) /* f->data is NULL when a stream had no tensor bytes */
            convert(f->data + e->begin, e->count, item_size, data);
    } else if (read_converted(f, e, item_size, data, err, err_size)) {
        free(data);
        return -1;
    }
    out->data = data;
    out->ndim = e->ndim;
    memcpy(out->shape, e->shape, e->ndim * sizeof e->shape[0]);
    out->count = e->count;
    return 0;
}

int st_read_tensor_memory(const void *bytes, size_t len, const char *name, npy_array *out,
                          char *err, size_t err_size)
{
    st_file *f;
    if (out)
        memset(out, 0, sizeof *out);
    if (st_open_memory(bytes, len, &f, err, err_size))
        return -1;
    int rc = st_read(f, name, out, err, err_size);
    st_close(f);
    return rc;
}

int st_read_tensor(const char *path, const char *name, npy_array *out, char *err, size_t err_size)
{
    st_file *f;
    if (out)
        memset(out, 0, sizeof *out);
    if (st_open(path, &f, err, err_size))
        return -1;
    int rc = st_read(f, name, out, err, err_size);
    st_close(f);
    return rc;
}
