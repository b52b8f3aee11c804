/* SPDX-License-Identifier: Apache-2.0 */
/* npy.c: reading (strict, for untrusted input) and atomic writing of NumPy .npy float32 files. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "npy.h"
#include "fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE binary32/binary64 expected");

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
#define NPY_ALIGN 64
#define TMP_NAME ".npy-tmp-XXXXXX"

/* fmt_error() with "what: strerror(errno)". */
static int sys_fail(char *err, size_t err_size, const char *what)
{
    return fmt_error(err, err_size, "%s: %s", what, strerror(errno));
}

/* Count and byte size of a shape. The product of the nonzero dims times
 * itemsize must fit in size_t even when a 0 dim makes count 0, so callers can
 * multiply any subset of dims without overflow. */
static int shape_bytes(const size_t *shape, size_t ndim, size_t itemsize, size_t *count,
                       size_t *bytes)
{
    size_t nonzero = 1;
    int has_zero = 0;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] == 0)
            has_zero = 1;
        else if (nonzero > SIZE_MAX / shape[i])
            return -1;
        else
            nonzero *= shape[i];
    }
    if (nonzero > SIZE_MAX / itemsize)
        return -1;
    *count = has_zero ? 0 : nonzero;
    *bytes = *count * itemsize;
    return 0;
}

/* ---- Header dict parser: a strict subset of Python literal syntax. ---- */

enum { KEY_DESCR, KEY_FORTRAN, KEY_SHAPE, KEY_COUNT };
static const char *const key_names[KEY_COUNT] = {"descr", "fortran_order", "shape"};

typedef struct {
    const char *p, *end;
    char *err;
    size_t err_size;
    const char *descr;
    size_t descr_len, ndim, shape[NPY_MAX_DIMS];
    int fortran;
} parser;

static int peek(const parser *ps, char c) { return ps->p < ps->end && *ps->p == c; }
static int at_digit(const parser *ps) { return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; }
static int at_quote(const parser *ps) { return peek(ps, '\'') || peek(ps, '"'); }
static int eat(parser *ps, char c)
{
    int hit = peek(ps, c);
    ps->p += hit;
    return hit;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && *ps->p != '\0' && strchr(" \t\n\r\f\v", *ps->p))
        ps->p++;
}

static int malformed(const parser *ps, const char *expected)
{
    char buf[32];
    if (ps->p >= ps->end)
        return fmt_error(ps->err, ps->err_size,
                         "malformed header dict: expected %s, found the end of the header",
                         expected);
    return fmt_error(ps->err, ps->err_size, "malformed header dict: expected %s, found '%s'",
                     expected, fmt_echo(buf, sizeof buf, ps->p, (size_t)(ps->end - ps->p)));
}

/* A '...' or "..." string without escapes (NumPy never writes any). */
static int parse_string(parser *ps, const char **s, size_t *n)
{
    char quote = *ps->p++;
    for (*s = ps->p; ps->p < ps->end && *ps->p != quote && *ps->p != '\n'; ps->p++)
        if (*ps->p == '\\')
            return fmt_error(
                ps->err, ps->err_size,
                "malformed header dict: escape sequences in strings are not supported");
    if (!eat(ps, quote))
        return fmt_error(ps->err, ps->err_size, "malformed header dict: unterminated string");
    *n = (size_t)(ps->p - 1 - *s);
    return 0;
}

static int parse_descr(parser *ps)
{
    if (peek(ps, '['))
        return fmt_error(ps->err, ps->err_size,
                         "structured dtypes (a list in 'descr') are not supported");
    if (!at_quote(ps))
        return malformed(ps, "a quoted string for 'descr'");
    return parse_string(ps, &ps->descr, &ps->descr_len);
}

/* True or False as whole words, so that "Falsey" is rejected. */
static int parse_fortran(parser *ps)
{
    size_t left = (size_t)(ps->end - ps->p), n = 0;
    char next, lower;
    if (left >= 4 && memcmp(ps->p, "True", 4) == 0)
        n = 4;
    else if (left >= 5 && memcmp(ps->p, "False", 5) == 0)
        n = 5;
    next = left > n ? ps->p[n] : ' ';
    lower = (char)(next | 0x20);
    if (n == 0 || next == '_' || (next >= '0' && next <= '9') || (lower >= 'a' && lower <= 'z'))
        return malformed(ps, "True or False for 'fortran_order'");
    ps->fortran = n == 4;
    ps->p += n;
    return 0;
}

/* "()", "(3,)", "(2, 3)", "(2, 3,)"; also "(3)", which Python would read as a
 * plain int but which can only mean one thing here. */
static int parse_shape(parser *ps)
{
    char buf[32];
    size_t nd = 0;
    if (!eat(ps, '('))
        return malformed(ps, "a tuple for 'shape'");
    for (skip_ws(ps); !eat(ps, ')'); skip_ws(ps)) {
        const char *start = ps->p;
        size_t v = 0;
        int too_big = 0, negative = eat(ps, '-');
        if (!at_digit(ps)) {
            ps->p = start;
            return malformed(ps, "a non-negative integer in 'shape'");
        }
        for (; at_digit(ps); ps->p++) {
            size_t d = (size_t)(*ps->p - '0');
            too_big |= v > (SIZE_MAX - d) / 10;
            v = v * 10 + d; /* unsigned: wraps harmlessly once too_big is set */
        }
        if (negative || too_big)
            return fmt_error(ps->err, ps->err_size,
                             negative ? "negative dimension %s in shape"
                                      : "dimension %s in shape is too large",
                             fmt_echo(buf, sizeof buf, start, (size_t)(ps->p - start)));
        if (nd < NPY_MAX_DIMS)
            ps->shape[nd] = v;
        nd++; /* keep counting past the limit to report the real number */
        skip_ws(ps);
        if (!peek(ps, ')') && !eat(ps, ','))
            return malformed(ps, "',' or ')' in 'shape'");
    }
    if (nd > NPY_MAX_DIMS)
        return fmt_error(ps->err, ps->err_size,
                         "shape has %zu dimensions (at most %d are supported)", nd, NPY_MAX_DIMS);
    ps->ndim = nd;
    return 0;
}

static int parse_header(parser *ps)
{
    int seen[KEY_COUNT] = {0};
    char buf[32], what[64];
    skip_ws(ps);
    if (!eat(ps, '{'))
        return malformed(ps, "'{'");
    for (skip_ws(ps); !eat(ps, '}'); skip_ws(ps)) {
        const char *k;
        size_t kn;
        int key = -1, rc;
        if (!at_quote(ps))
            return malformed(ps, "a quoted key or '}'");
        if (parse_string(ps, &k, &kn))
            return -1;
        for (int i = 0; i < KEY_COUNT; i++)
            if (strlen(key_names[i]) == kn && memcmp(key_names[i], k, kn) == 0)
                key = i;
        if (key < 0)
            return fmt_error(ps->err, ps->err_size, "unknown key '%s' in header dict",
                             fmt_echo(buf, sizeof buf, k, kn));
        if (seen[key]++)
            return fmt_error(ps->err, ps->err_size, "duplicate key '%s' in header dict",
                             key_names[key]);
        skip_ws(ps);
        snprintf(what, sizeof what, "':' after '%s'", key_names[key]);
        if (!eat(ps, ':'))
            return malformed(ps, what);
        skip_ws(ps);
        rc = key == KEY_DESCR     ? parse_descr(ps)
             : key == KEY_FORTRAN ? parse_fortran(ps)
                                  : parse_shape(ps);
        if (rc)
            return -1;
        skip_ws(ps);
        snprintf(what, sizeof what, "',' or '}' after the value of '%s'", key_names[key]);
        if (!peek(ps, '}') && !eat(ps, ','))
            return malformed(ps, what);
    }
    skip_ws(ps);
    if (ps->p != ps->end)
        return malformed(ps, "nothing after the closing '}'");
    for (int i = 0; i < KEY_COUNT; i++)
        if (!seen[i])
            return fmt_error(ps->err, ps->err_size, "missing key '%s' in header dict",
                             key_names[i]);
    return 0;
}

/* Sets the item size (4 or 8) of a supported descr (floats, or with `ints`
 * integers), or fails naming it. */
static int check_descr(const char *d, size_t n, int ints, size_t *itemsize, char *err,
                       size_t err_size)
{
    char buf[32];
    const uint16_t one = 1;
    const int host_le = *(const unsigned char *)&one == 1;
    const char *shown = fmt_echo(buf, sizeof buf, d, n);
    int known = n == 3 && d[1] == (ints ? 'i' : 'f') && (d[2] == '4' || d[2] == '8');
    int native = n > 0 && (d[0] == '=' || d[0] == '|'); /* NumPy reads '|f4' as native too */
    if (known && (d[0] == '<' || (native && host_le))) {
        *itemsize = d[2] == '4' ? 4 : 8;
        return 0;
    }
    if (known && (d[0] == '>' || native))
        return fmt_error(err, err_size, "big-endian data '%s' is not supported", shown);
    if (n > 0 && (d[0] == 'O' || (n > 1 && d[1] == 'O' && (d[0] == '<' || d[0] == '>' || native))))
        return fmt_error(err, err_size, "object arrays ('%s') are not supported", shown);
    return fmt_error(err, err_size, "unsupported dtype '%s' (expected %s)", shown,
                     ints ? "int32 '<i4' or int64 '<i8'" : "float32 '<f4' or float64 '<f8'");
}

/* Round to nearest like a cast, without the undefined behaviour of casting an
 * out-of-range double to float. */
static float double_to_float(double x)
{
    const double overflow = 0x1.ffffffp127; /* halfway between FLT_MAX and 2^128 */
    if (!isnan(x) && fabs(x) >= overflow)
        return x > 0 ? INFINITY : -INFINITY;
    return (float)x;
}

/* A parsed file: its shape and where its count items of itemsize bytes
 * (little-endian) begin. */
typedef struct parsed {
    size_t ndim, shape[NPY_MAX_DIMS], count, itemsize;
    const unsigned char *data;
} parsed;

static int parse_npy(const unsigned char *b, size_t length, int ints, parsed *out, char *err,
                     size_t err_size)
{
    size_t start, hlen, avail, need = 0;
    char shape_buf[256];
    parser ps;
    if (length == 0)
        return fmt_error(err, err_size, "empty file");
    if (!b)
        return fmt_error(err, err_size, "no input bytes given");
    if (memcmp(b, magic, length < sizeof magic ? length : sizeof magic) != 0)
        return fmt_error(err, err_size, "not a .npy file (bad magic)");
    if (length >= 8 && (b[7] != 0 || b[6] < 1 || b[6] > 3))
        return fmt_error(err, err_size,
                         "unsupported .npy format version %u.%u (expected 1.0, 2.0 or 3.0)",
                         (unsigned)b[6], (unsigned)b[7]);
    start = length >= 8 && b[6] > 1 ? 12 : 10; /* 1.0 has a 2-byte header length, 2.0/3.0 4 */
    if (length < start)
        return fmt_error(err, err_size, "truncated header (the file is only %zu bytes)", length);
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    if (start == 12)
        hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (hlen > length - start)
        return fmt_error(err, err_size,
                         "truncated header: header length %zu goes past the end of the "
                         "file (%zu bytes follow the prefix)",
                         hlen, length - start);

    ps = (parser){.p = (const char *)b + start,
                  .end = (const char *)b + start + hlen,
                  .err = err,
                  .err_size = err_size};
    if (parse_header(&ps) ||
        check_descr(ps.descr, ps.descr_len, ints, &out->itemsize, err, err_size))
        return -1;
    if (ps.fortran)
        return fmt_error(err, err_size, "Fortran-order arrays are not supported");
    if (shape_bytes(ps.shape, ps.ndim, out->itemsize, &out->count, &need))
        return fmt_error(err, err_size, "shape %s is too large",
                         fmt_shape(ps.shape, ps.ndim, shape_buf, sizeof shape_buf));
    avail = length - start - hlen;
    if (need != avail)
        return fmt_error(err, err_size, "header says %zu bytes of data but the file has %zu", need,
                         avail);
    out->ndim = ps.ndim;
    memcpy(out->shape, ps.shape, sizeof ps.shape);
    out->data = b + start + hlen;
    return 0;
}

/* Item i of a parsed file, assembled from little-endian bytes: right on any host. */
static uint64_t item_bits(const parsed *f, size_t i)
{
    const unsigned char *b = f->data + i * f->itemsize;
    uint64_t u = 0;
    for (size_t j = f->itemsize; j-- > 0;)
        u = u << 8 | b[j];
    return u;
}

/* Both memory readers: the parsed bytes' items, each converted from its
 * little-endian bytes into a fresh buffer (with `ints`, int64_t
 * sign-extended from '<i4'; else float, '<f8' rounded), and their shape
 * and count; NULL with err set on failure, when nothing is written. */
static void *read_items(const void *bytes, size_t length, int ints, size_t *ndim, size_t *shape,
                        size_t *count, char *err, size_t err_size)
{
    parsed f;
    void *items;
    if (parse_npy(bytes, length, ints, &f, err, err_size))
        return NULL;
    /* count * itemsize <= the bytes present, so this allocation is bounded by the input. */
    if (!(items = malloc((f.count ? f.count : 1) * (ints ? sizeof(int64_t) : sizeof(float))))) {
        fmt_error(err, err_size, "out of memory (%zu %s)", f.count, ints ? "integers" : "floats");
        return NULL;
    }
    for (size_t i = 0; i < f.count; i++) {
        uint64_t u = item_bits(&f, i);
        union {
            uint32_t u;
            float f;
        } f4 = {(uint32_t)u}; /* C11 allows punning via unions */
        union {
            uint64_t u;
            double d;
        } f8 = {u};
        if (ints) /* two's complement, sign-extended from 32 bits for '<i4' */
            ((int64_t *)items)[i] = f.itemsize == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        else
            ((float *)items)[i] = f.itemsize == 4 ? f4.f : double_to_float(f8.d);
    }
    *ndim = f.ndim;
    memcpy(shape, f.shape, sizeof f.shape);
    *count = f.count;
    return items;
}

int npy_read_memory(const void *bytes, size_t length, npy_array *out, char *err, size_t err_size)
{
    if (!out)
        return fmt_error(err, err_size, "no output array given");
    memset(out, 0, sizeof *out);
    out->data = read_items(bytes, length, 0, &out->ndim, out->shape, &out->count, err, err_size);
    return out->data ? 0 : -1;
}

int npy_read_ints_memory(const void *bytes, size_t length, npy_ints *out, char *err,
                         size_t err_size)
{
    if (!out)
        return fmt_error(err, err_size, "no output array given");
    memset(out, 0, sizeof *out);
    out->data = read_items(bytes, length, 1, &out->ndim, out->shape, &out->count, err, err_size);
    return out->data ? 0 : -1;
}

/* The whole file in memory, then read by `ints` or not into out_f or out_i. */
static int read_file(const char *path, int ints, npy_array *out_f, npy_ints *out_i, char *err,
                     size_t err_size)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 65536;
    int fd, rc = -1;
    if (out_f)
        memset(out_f, 0, sizeof *out_f);
    if (out_i)
        memset(out_i, 0, sizeof *out_i);
    if (!path)
        return fmt_error(err, err_size, "no file name given");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return sys_fail(err, err_size, "cannot open");
    /* One spare byte lets a regular file be read in one pass, EOF included;
     * pipes and files that grow meanwhile fall back to doubling. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < SIZE_MAX / 4)
        cap = (size_t)st.st_size + 1;
    for (;;) {
        ssize_t got;
        if (!buf || len == cap) {
            unsigned char *bigger = !buf                  ? malloc(cap)
                                    : cap <= SIZE_MAX / 2 ? realloc(buf, cap *= 2)
                                                          : NULL;
            if (!bigger) {
                fmt_error(err, err_size, "out of memory reading the file");
                goto done;
            }
            buf = bigger;
        }
        if ((got = read(fd, buf + len, cap - len)) == 0)
            break;
        if (got < 0 && errno != EINTR) { /* a directory gives EISDIR here */
            sys_fail(err, err_size, "read failed");
            goto done;
        }
        len += got > 0 ? (size_t)got : 0;
    }
    rc = ints ? npy_read_ints_memory(buf, len, out_i, err, err_size)
              : npy_read_memory(buf, len, out_f, err, err_size);
done:
    free(buf);
    close(fd);
    return rc;
}

int npy_read_file(const char *path, npy_array *out, char *err, size_t err_size)
{
    return read_file(path, 0, out, NULL, err, err_size);
}

int npy_read_ints_file(const char *path, npy_ints *out, char *err, size_t err_size)
{
    return read_file(path, 1, NULL, out, err, err_size);
}

void npy_free(npy_array *a)
{
    if (a) {
        free(a->data);
        memset(a, 0, sizeof *a);
    }
}

void npy_ints_free(npy_ints *a)
{
    if (a) {
        free(a->data);
        memset(a, 0, sizeof *a);
    }
}

/* Writes all n bytes, riding out short writes and EINTR. */
static int write_all(int fd, const void *p, size_t n, char *err, size_t err_size)
{
    const unsigned char *q = p;
    while (n > 0) {
        ssize_t put = write(fd, q, n);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return put < 0 ? sys_fail(err, err_size, "write failed")
                           : fmt_error(err, err_size, "write failed: no progress");
        q += put;
        n -= (size_t)put;
    }
    return 0;
}

static int write_contents(int fd, const size_t *shape, size_t ndim, const float *data, size_t count,
                          char *err, size_t err_size)
{
    char header[512], shape_buf[256];
    unsigned char chunk[1 << 16];
    size_t total, hlen;
    memcpy(header, "\x93NUMPY\x01", 8); /* magic, version 1.0 (2-byte header length) */
    total = 10 + (size_t)snprintf(header + 10, sizeof header - 10,
                                  "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                                  fmt_shape(shape, ndim, shape_buf, sizeof shape_buf));
    /* Pad with spaces and a final newline so the data starts 64-aligned, as NumPy does. */
    while ((total + 1) % NPY_ALIGN != 0)
        header[total++] = ' ';
    header[total++] = '\n';
    hlen = total - 10;
    header[8] = (char)(hlen & 0xff);
    header[9] = (char)(hlen >> 8);
    if (write_all(fd, header, total, err, err_size))
        return -1;
    for (size_t i = 0; i < count;) {
        size_t n = 0;
        for (; i < count && n < sizeof chunk; i++, n += 4) {
            union {
                float f;
                uint32_t u;
            } w = {data[i]};
            for (size_t j = 0; j < 4; j++) /* little-endian whatever the host */
                chunk[n + j] = (unsigned char)(w.u >> (8 * j));
        }
        if (write_all(fd, chunk, n, err, err_size))
            return -1;
    }
    return 0;
}

/* The checks both writers make on what they are asked to write; the number of values in *count. */
static int check_write(const size_t *shape, size_t ndim, const float *data, size_t *count,
                       char *err, size_t err_size)
{
    char shape_buf[256];
    size_t bytes;
    if (ndim > NPY_MAX_DIMS)
        return fmt_error(err, err_size, "%zu dimensions (at most %d are supported)", ndim,
                         NPY_MAX_DIMS);
    if (ndim > 0 && !shape)
        return fmt_error(err, err_size, "no shape given for %zu dimensions", ndim);
    if (shape_bytes(shape, ndim, sizeof(float), count, &bytes))
        return fmt_error(err, err_size, "shape %s is too large",
                         fmt_shape(shape, ndim, shape_buf, sizeof shape_buf));
    if (*count > 0 && !data)
        return fmt_error(err, err_size, "no data given for %zu values", *count);
    return 0;
}

int npy_write_fd(int fd, const size_t *shape, size_t ndim, const float *data, char *err,
                 size_t err_size)
{
    size_t count;
    if (fd < 0)
        return fmt_error(err, err_size, "no file given");
    if (check_write(shape, ndim, data, &count, err, err_size))
        return -1;
    return write_contents(fd, shape, ndim, data, count, err, err_size);
}

int npy_write_file(const char *path, const size_t *shape, size_t ndim, const float *data, char *err,
                   size_t err_size)
{
    char *tmp;
    const char *slash;
    size_t count, dirlen;
    int fd, rc;
    if (!path || !*path)
        return fmt_error(err, err_size, "no file name given");
    if (check_write(shape, ndim, data, &count, err, err_size))
        return -1;

    /* The temporary file shares the destination's directory, and so its file
     * system, for rename to be atomic. */
    slash = strrchr(path, '/');
    dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    if (!(tmp = malloc(dirlen + sizeof TMP_NAME)))
        return fmt_error(err, err_size, "out of memory");
    memcpy(tmp, path, dirlen);
    memcpy(tmp + dirlen, TMP_NAME, sizeof TMP_NAME);
    if ((fd = mkstemp(tmp)) < 0) {
        fmt_error(err, err_size, "cannot create a temporary file in '%.*s': %s",
                  dirlen > 1 ? (int)dirlen - 1 : 1, dirlen ? path : ".", strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp gives 0600; a fixed 0644 avoids the racy umask(0)/umask(old) probe. */
    rc =
        fchmod(fd, 0644) != 0 ? sys_fail(err, err_size, "cannot set the temporary file's mode") : 0;
    if (rc == 0)
        rc = write_contents(fd, shape, ndim, data, count, err, err_size);
    if (rc == 0 && fsync(fd) != 0)
        rc = sys_fail(err, err_size, "fsync failed");
    if (close(fd) != 0 && rc == 0)
        rc = sys_fail(err, err_size, "close failed");
    if (rc == 0 && rename(tmp, path) != 0)
        rc = sys_fail(err, err_size, "cannot rename the temporary file into place");
    if (rc != 0) {
        unlink(tmp);
    } else {
        /* Best effort: make the rename itself durable; the new file is in place already. */
        strcpy(tmp + dirlen, ".");
        if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
            (void)fsync(fd);
            close(fd);
        }
    }
    free(tmp);
    return rc;
}
