/* SPDX-License-Identifier: Apache-2.0 */
/* test_safetensors.c: the .safetensors reader (good, bad, mutated files) and clnorm --params. */
/* Not formatted by clang-format: the file is made of safetensors headers laid out by
 * hand, which it would scatter over many lines. */
// clang-format off
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "npy.h"
#include "safetensors.h"
#include "test_main.h"

extern char **environ;
static char tmpdir[] = "/tmp/clnorm-st-XXXXXX";

/* One header entry. */
#define T(dtype, shape, off) "{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" off "}"

/* 8-byte little-endian header length, header, data: exactly sized, so that an
 * over-read is caught by the sanitizers these tests are built with. */
static unsigned char *make_st(const char *header, const void *data, size_t data_len, size_t *len)
{
    size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + data_len);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (data_len)
        memcpy(b + 8 + h, data, data_len);
    *len = 8 + h + data_len;
    return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}
static void write_st(const char *path, const char *header, const void *data, size_t data_len)
{
    size_t len;
    unsigned char *b = make_st(header, data, data_len, &len);
    write_bytes(path, b, len);
    free(b);
}

/* Little-endian bytes (the format's byte order) of n floats (size 4) or doubles (size 8). */
static void put_le(unsigned char *dst, const void *v, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t w = 0;
        uint64_t u = 0;
        memcpy(size == 4 ? (void *)&w : (void *)&u, (const char *)v + size * i, size);
        for (size_t j = 0; j < size; j++)
            dst[size * i + j] = (unsigned char)((size == 4 ? w : u) >> (8 * j));
    }
}
#define put_f32(dst, v, n) put_le(dst, v, n, 4)
#define put_f64(dst, v, n) put_le(dst, v, n, 8)

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}
/* The tests work in a fresh temporary directory, with relative file names. */
static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) && chdir(tmpdir) == 0 ? 0 : -1;
}
static int teardown(void **state)
{
    (void)state;
    return chdir("/") == 0 ? nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) : -1;
}

static void test_f32_exact(void **state)
{
    (void)state;
    const float a[3] = {1.5f, -2.25f, 3.4028235e38f}, w[6] = {0.1f, -0.0f, 1e-45f, 7, 8, 9};
    unsigned char data[40]; /* w, a, then a[0] again as the scalar */
    put_f32(data, w, 6);
    put_f32(data + 24, a, 3);
    memcpy(data + 36, data + 24, 4);
    const char *path = "f32.safetensors";
    write_st(path, "{\"__metadata__\":{\"format\":\"pt\"},\"m.w\":" T("\"F32\"", "[2,3]", "[0,24]")
             ",\"m.alpha\":" T("\"F32\"", "[3]", "[24,36]") ",\"scalar\":"
             T("\"F32\"", "[]", "[36,40]") ",\"empty\":" T("\"F32\"", "[4,0]", "[40,40]") "}  ",
             data, sizeof data);
    npy_array x;
    char err[512];
    assert_int_equal(st_read_tensor(path, "m.alpha", &x, err, sizeof err), 0);
    assert_true(x.ndim == 1 && x.shape[0] == 3 && x.count == 3);
    assert_memory_equal(x.data, a, sizeof a);
    npy_free(&x);
    assert_int_equal(st_read_tensor(path, "m.w", &x, err, sizeof err), 0);
    assert_true(x.ndim == 2 && x.shape[0] == 2 && x.shape[1] == 3 && x.count == 6);
    assert_memory_equal(x.data, w, sizeof w); /* -0.0 and the denormal bit for bit */
    npy_free(&x);
    assert_int_equal(st_read_tensor(path, "scalar", &x, err, sizeof err), 0);
    assert_true(x.ndim == 0 && x.count == 1 && x.data[0] == 1.5f);
    npy_free(&x);
    assert_int_equal(st_read_tensor(path, "empty", &x, err, sizeof err), 0);
    assert_true(x.ndim == 2 && x.count == 0 && x.data != NULL);
    npy_free(&x);
}

static void test_f64_converted(void **state)
{
    (void)state;
    const double v[8] = {0.1, -1.0 / 3, 1e300, -1e300, 1e-300, 3.4028235e38, 65504,
                         0x1.ffffffp127 /* halfway from FLT_MAX to 2^128: ties to even, inf */};
    unsigned char data[64];
    put_f64(data, v, 8);
    const char *path = "f64.safetensors";
    write_st(path, "{\"alpha\":" T("\"F64\"", "[8]", "[0,64]") "}", data, sizeof data);
    npy_array x;
    char err[512];
    assert_int_equal(st_read_tensor(path, "alpha", &x, err, sizeof err), 0);
    assert_int_equal(x.count, 8);
    assert_true(x.data[0] == (float)0.1 && x.data[1] == (float)(-1.0 / 3));
    assert_true(isinf(x.data[2]) && x.data[2] > 0 && isinf(x.data[3]) && x.data[3] < 0);
    assert_true(x.data[4] == 0.0f && x.data[6] == 65504.0f && isinf(x.data[7]));
    assert_true(x.data[5] == 3.4028234663852886e38f); /* below the halfway point: FLT_MAX */
    npy_free(&x);
}

typedef struct bad_case {
    const char *header;
    size_t data_len; /* zero bytes after the header */
    const char *name, *expect;
} bad_case;

static void expect_error(const unsigned char *b, size_t len, const char *name, const char *expect)
{
    npy_array x;
    char err[1024] = "";
    memset(&x, 0x5a, sizeof x);
    int rc = st_read_tensor_memory(b, len, name, &x, err, sizeof err);
    if (rc != -1 || !strstr(err, expect))
        fail_msg("name '%s': rc %d, message '%s', expected '%s'", name, rc, err, expect);
    assert_null(x.data); /* zeroed on failure */
    assert_int_equal(x.count, 0);
    assert_null(strchr(err, '\n'));
}

/* A file of one tensor, 'alpha', asked for by that name: the damage is in its entry. */
#define ALPHA(dtype, shape, off, len) "{\"alpha\":" T("\"" dtype "\"", shape, off) "}", len, "alpha"
#define ALPHA_F32(shape, off, len) ALPHA("F32", shape, off, len)
static const bad_case bad_cases[] = {
    {"{\"alpha\":", 0, "alpha", "malformed JSON header (syntax error"},
    {"{} x", 0, "alpha", "trailing data"},
    {"", 0, "alpha", "malformed JSON"},
    {"[1, 2]", 0, "alpha", "not an object"},
    {"{\"alpha\": 3}", 0, "alpha", "tensor 'alpha': its header entry is not a JSON object"},
    {"{\"alpha\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "alpha", "missing \"dtype\""},
    {"{\"alpha\":" T("32", "[1]", "[0,4]") "}", 4, "alpha", "\"dtype\" is not a string"},
    {"{\"alpha\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "alpha", "missing \"shape\""},
    {ALPHA_F32("4", "[0,4]", 4), "\"shape\" is not an array"},
    {ALPHA_F32("[-1]", "[0,4]", 4), "an integer in [0, 2^53)"},
    {ALPHA_F32("[1.5]", "[0,4]", 4), "an integer in [0, 2^53)"},
    {ALPHA_F32("[\"1\"]", "[0,4]", 4), "an integer in [0, 2^53)"},
    {ALPHA_F32("[1e20]", "[0,4]", 4), "an integer in [0, 2^53)"},
    {"{\"alpha\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "alpha", "missing \"data_offsets\""},
    {ALPHA_F32("[1]", "[0,4,8]", 8), "two integers in [0, 2^53)"},
    {ALPHA_F32("[1]", "[0]", 4), "two integers in [0, 2^53)"},
    {ALPHA_F32("[1]", "{}", 4), "two integers in [0, 2^53)"},
    {ALPHA_F32("[1]", "[0,-4]", 4), "two integers in [0, 2^53)"},
    {ALPHA_F32("[1]", "[8,4]", 8), "[8, 4] are out of order"},
    {ALPHA_F32("[100]", "[0,400]", 8), "go past the end of the data region (8 bytes)"},
    {ALPHA_F32("[4294967296,4294967296,4294967296]", "[0,4]", 4), "overflows"},
    {ALPHA_F32("[4]", "[0,12]", 12), "data_offsets span 12 bytes but shape (4,) of F32 needs 16"},
    {ALPHA("F64", "[2]", "[0,8]", 8), "of F64 needs 16"},
    /* A damaged entry is reported whichever tensor is asked for. */
    {"{\"a\":" T("\"F32\"", "[1]", "[0,4]") ",\"b\":" T("\"F32\"", "[1]", "[4,0]") "}", 4, "a",
     "tensor 'b': data_offsets [4, 0] are out of order"},
    {"{\"alpha\":" T("\"F32\"", "[1]", "[0,4]") ",\"alpha\":" T("\"F32\"", "[1]", "[0,4]") "}",
     4, "alpha", "duplicate tensor name 'alpha'"},
    {ALPHA("F16", "[2]", "[0,4]", 4),
     "tensor 'alpha' has dtype F16, which is not supported (expected F32 or F64)"},
    {ALPHA("BF16", "[2]", "[0,4]", 4), "has dtype BF16"},
    {ALPHA("I64", "[1]", "[0,8]", 8), "has dtype I64"},
    {ALPHA("F4", "[8]", "[0,4]", 4), "has dtype F4"},
    {ALPHA_F32("[1,1,1,1,1,1,1,1,1]", "[0,4]", 4), "has 9 dimensions (at most 8"},
    {"{\"m.norm.alpha\":" T("\"F32\"", "[1]", "[0,4]") ",\"m.b\":" T("\"F32\"", "[1]", "[4,8]")
     ",\"__metadata__\":{}}", 8, "alpha",
     "no tensor 'alpha' in the file (it has 2 tensors: 'm.norm.alpha', 'm.b')"},
    {"{\"__metadata__\":{\"a\":\"b\"}}", 0, "__metadata__", "no tensor '__metadata__' in the file "
     "(it holds no tensors)"},
    {"{\"a\\nb\":" T("\"F32\"", "[1]", "[0,4]") "}", 4, "x", "(it has 1 tensor: 'a?b')"},

    /* As the reference implementation validates: sorted by offsets, the
     * tensors tile the data region exactly. Each file is fine but for that. */
    {"{\"a\":" T("\"F32\"", "[1]", "[0,4]") ",\"b\":" T("\"F32\"", "[1]", "[0,4]") "}", 4,
     "a", "tensors 'a' (data_offsets [0, 4]) and 'b' (data_offsets [0, 4]) overlap"},
    {"{\"b\":" T("\"F32\"", "[2]", "[4,12]") ",\"a\":" T("\"F32\"", "[2]", "[0,8]") "}", 12,
     "a", "tensors 'a' (data_offsets [0, 8]) and 'b' (data_offsets [4, 12]) overlap"},
    {"{\"a\":" T("\"F32\"", "[1]", "[0,4]") ",\"b\":" T("\"F32\"", "[1]", "[8,12]") "}", 12,
     "a", "4 bytes of the data region belong to no tensor: tensor 'a' ends at 4, the next, 'b', "
     "has data_offsets [8, 12]"},
    {"{\"a\":" T("\"F32\"", "[1]", "[4,8]") "}", 8, "a",
     "tensor 'a' comes first in the data region but its data_offsets [4, 8] do not begin at 0"},
    {"{\"a\":" T("\"F32\"", "[1]", "[0,4]") "}", 12, "a",
     "8 bytes at the end of the data region belong to no tensor (the last, 'a', has "
     "data_offsets [0, 4]; the region has 12 bytes)"},
    {"{\"__metadata__\":{\"a\":\"b\"}}", 4, "a", "the header holds no tensors but 4 bytes"},
    /* The header: UTF-8 that begins with '{', strings that cJSON reads as a
     * strict parser does. Tensor 'a' is fine in each: the file is refused. */
    {" {\"a\":" T("\"F32\"", "[1]", "[0,4]") "}", 4, "a",
     "it must begin with '{' (byte 0x20 here: the format allows whitespace only at the end)"},
    {"\n{\"a\":" T("\"F32\"", "[1]", "[0,4]") "}", 4, "a", "it must begin with '{' (byte 0x0a"},
#define A_AND(b) "{\"a\":" T("\"F32\"", "[1]", "[0,4]") "," b "}", 8, "a"
#define B_AT_4(name, dtype, shape) A_AND("\"" name "\":" T("\"" dtype "\"", shape, "[4,8]"))
    {B_AT_4("b\xff", "F32", "[1]"), "the header is not valid UTF-8 (byte 0xff at byte 56 of"},
    {B_AT_4("b\xc0\xae", "F32", "[1]"), "not valid UTF-8 (byte 0xc0"},     /* overlong '.' */
    {B_AT_4("b\xed\xa0\x80", "F32", "[1]"), "not valid UTF-8 (byte 0xed"}, /* a surrogate */
    {B_AT_4("b\xf4\x90\x80\x80", "F32", "[1]"), "not valid UTF-8 (byte 0xf4"}, /* > U+10FFFF */
    {B_AT_4("b\xe2\x82", "F32", "[1]"), "not valid UTF-8 (byte 0xe2"},     /* cut short */
    {B_AT_4("a\\u0000b", "F32", "[1]"), "the header string \"a\\u0000b\" (at byte 55) holds "
     "\\u0000, a NUL character, which is refused"},
    {B_AT_4("b", "F32\\u0000", "[1]"), "holds \\u0000, a NUL character"},
    {B_AT_4("\\ud800", "F32", "[1]"), "the header string \"\\ud800\" (at byte 55) holds a lone "
     "UTF-16 surrogate escape (\\ud800), which is not valid UTF-8"},
    {B_AT_4("\\uDC00x", "F32", "[1]"), "lone UTF-16 surrogate escape (\\uDC00)"},
    {B_AT_4("\\uD800\\u0041", "F32", "[1]"), "lone UTF-16 surrogate escape (\\uD800)"},
    {B_AT_4("\\uD800\\uD800", "F32", "[1]"), "lone UTF-16 surrogate escape (\\uD800)"},
    {B_AT_4("\\uDBFF", "F32", "[1]"), "lone UTF-16 surrogate escape (\\uDBFF)"},
    {B_AT_4("b\x01", "F32", "[1]"), "malformed JSON header (control character 0x01 in a string at "
     "byte 56)"},
    {A_AND("\x0c\"b\":" T("\"F32\"", "[1]", "[4,8]")), "control character 0x0c outside strings"},
    /* The entries. */
    {B_AT_4("b", "F56", "[1]"), "tensor 'b': unknown dtype 'F56'"},
    {B_AT_4("b", "f32", "[1]"), "tensor 'b': unknown dtype 'f32'"},
    {B_AT_4("b", "F4", "[3]"), "tensor 'b': shape (3,) of F4 is 12 bits, not a whole number of "
     "bytes"},
    {B_AT_4("b", "F6_E2M3", "[4]"), "tensor 'b': data_offsets span 4 bytes but shape (4,) of "
     "F6_E2M3 needs 3"},
    {A_AND("\"b\":{\"dtype\":\"F64\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}"),
     "tensor 'b': \"dtype\" appears 2 times in its entry"},
    {A_AND("\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"shape\":[2]}"),
     "\"shape\" appears 2 times"},
    {A_AND("\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"data_offsets\":[0,4]}"),
     "\"data_offsets\" appears 2 times"},
    {A_AND("\"__metadata__\":3"), "\"__metadata__\" is not a JSON object (of strings)"},
    {A_AND("\"__metadata__\":[\"x\"]"), "\"__metadata__\" is not a JSON object (of strings)"},
    {A_AND("\"__metadata__\":{\"epoch\":3}"),
     "\"__metadata__\" holds a value that is not a string (at key 'epoch')"},
    {A_AND("\"__metadata__\":{\"a\":\"b\"},\"__metadata__\":{}"), "duplicate \"__metadata__\""},
#undef B_AT_4
#undef ALPHA_F32
#undef ALPHA
#undef A_AND
};

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        unsigned char zeros[64] = {0};
        size_t len;
        unsigned char *b = make_st(c->header, zeros, c->data_len, &len);
        expect_error(b, len, c->name, c->expect);
        free(b);
    }
    /* Prefix-level damage, built by hand. */
    unsigned char raw[16] = {0};
    expect_error(raw, 0, "alpha", "too short for a .safetensors file (0 bytes");
    expect_error(raw, 7, "alpha", "too short");
    raw[0] = 9; /* 9 header bytes announced, 8 present */
    expect_error(raw, 16, "alpha", "header length 9 goes past the end of the file (8 bytes");
    raw[0] = 0, raw[5] = 1; /* 2^40 */
    expect_error(raw, 16, "alpha", "header length 1099511627776 is absurd");
    raw[5] = 0, raw[3] = 0x06, raw[2] = 0x00; /* 100663296 > 100 MB, the file being 16 bytes */
    expect_error(raw, 16, "alpha", "is absurd");
}

static void test_limits(void **state)
{
    (void)state;
    /* More than 10 tensors: ten names, then how many more. */
    char hdr[4096];
    size_t used = (size_t)snprintf(hdr, sizeof hdr, "{");
    for (int i = 0; i < 12; i++)
        used += (size_t)snprintf(hdr + used, sizeof hdr - used, "%s\"t%d\":" T("\"F32\"", "[1]",
                                 "[%d,%d]"), i ? "," : "", i, 4 * i, 4 * i + 4);
    snprintf(hdr + used, sizeof hdr - used, "}");
    unsigned char zeros[48] = {0};
    size_t len;
    unsigned char *b = make_st(hdr, zeros, 48, &len);
    expect_error(b, len, "alpha", "it has 12 tensors: 't0', 't1', 't2', 't3', 't4', 't5', "
                 "'t6', 't7', 't8', 't9', ... and 2 more)");
    free(b);

    /* Too many JSON values: refused before cJSON allocates a node for each. */
    size_t n = 2 * (size_t)ST_MAX_JSON_VALUES + 64;
    char *big = malloc(n);
    assert_non_null(big);
    for (used = (size_t)snprintf(big, n, "{\"a\":[0"); used < n - 8; used += 2)
        memcpy(big + used, ",0", 2);
    memcpy(big + used, "]}", 3);
    b = make_st(big, NULL, 0, &len);
    expect_error(b, len, "alpha", "more than 1000000 JSON values");
    free(b), free(big);

    /* An unknown dtype elsewhere in the file does not stop a good tensor being read. */
    float one = 1;
    unsigned char data[8] = {0};
    put_f32(data + 4, &one, 1);
    b = make_st("{\"q\":" T("\"F4\"", "[8]", "[0,4]") ",\"alpha\":" T("\"F32\"", "[1]", "[4,8]")
                "}", data, 8, &len);
    npy_array x;
    char err[256];
    assert_int_equal(st_read_tensor_memory(b, len, "alpha", &x, err, sizeof err), 0);
    assert_true(x.count == 1 && x.data[0] == 1.0f);
    npy_free(&x);
    free(b);
}

static void test_file_errors(void **state)
{
    (void)state;
    npy_array x;
    char err[256];
    assert_int_equal(st_read_tensor("nope", "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(st_read_tensor(".", "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "read failed"));
    write_bytes("empty", "", 0);
    assert_int_equal(st_read_tensor("empty", "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "too short"));
    assert_null(x.data);
}

/* Random edits and truncations of a valid file: a clean success or error each time. */
static void test_mutations(void **state)
{
    (void)state;
    const float a[3] = {1, 2, 3};
    const double d[2] = {4, 5};
    unsigned char data[28];
    put_f32(data, a, 3);
    put_f64(data + 12, d, 2);
    size_t base_len;
    unsigned char *base = make_st("{\"__metadata__\":{\"format\":\"pt\"},"
                                  "\"alpha\":" T("\"F32\"", "[3]", "[0,12]") ","
                                  "\"x.alpha\":" T("\"F64\"", "[1,2]", "[12,28]") "}",
                                  data, sizeof data, &base_len);
    uint64_t s = 0x9e3779b97f4a7c15u; /* xorshift64, fixed seed: reproducible */
#define RND() (s ^= s << 13, s ^= s >> 7, s ^= s << 17, s)
    size_t ok = 0, failed = 0;
    unsigned char b[512];
    assert_true(base_len <= sizeof b);
    for (int it = 0; it < 20000; it++) {
        size_t len = base_len;
        memcpy(b, base, len);
        for (int k = 0, edits = 1 + (int)(RND() % 4); k < edits; k++) {
            size_t at = (size_t)(RND() % len);
            switch (RND() % 4) {
            case 0: b[at] = (unsigned char)RND(); break;
            case 1: b[at] ^= (unsigned char)(1u << (RND() % 8)); break;
            case 2: b[at] = "{}[]\",:0-.e \\"[RND() % 14]; break;
            default: len = at ? at : 1; break; /* truncate */
            }
        }
        unsigned char *exact = malloc(len); /* exactly sized: over-reads are caught */
        assert_non_null(exact);
        memcpy(exact, b, len);
        for (int k = 0; k < 2; k++) {
            npy_array x;
            char err[512];
            if (st_read_tensor_memory(exact, len, k ? "x.alpha" : "alpha", &x, err, sizeof err)) {
                assert_true(x.data == NULL && err[0] != '\0');
                failed++;
                continue;
            }
            size_t count = 1;
            for (size_t j = 0; j < x.ndim; j++)
                count *= x.shape[j];
            assert_true(count == x.count && x.data != NULL);
            ok++;
            npy_free(&x);
        }
        free(exact);
    }
    print_message("mutations: %zu reads succeeded, %zu failed cleanly\n", ok, failed);
    assert_true(ok > 0 && failed > 0);
    free(base);
}

/* The reference implementation, when Python has it: a file it writes reads back. */
static void test_python_cross_check(void **state)
{
    (void)state;
    if (system("/usr/bin/python3 -c 'import safetensors.numpy, numpy' >/dev/null 2>&1") != 0) {
        print_message("python3 lacks the safetensors package (not in Debian 12): skipped\n");
        skip();
    }
    assert_int_equal(system("/usr/bin/python3 -c 'import numpy as n, safetensors.numpy as s; "
                            "s.save_file({\"m.alpha\": n.array([0.5, -2, 3e38], n.float32), "
                            "\"m.b\": n.array([[0.1]], n.float64)}, \"py.safetensors\")'"), 0);
    npy_array x;
    char err[512];
    assert_int_equal(st_read_tensor("py.safetensors", "m.alpha", &x, err, sizeof err), 0);
    assert_true(x.count == 3 && x.data[0] == 0.5f && x.data[1] == -2.0f && x.data[2] == 3e38f);
    npy_free(&x);
    assert_int_equal(st_read_tensor("py.safetensors", "m.b", &x, err, sizeof err), 0);
    assert_true(x.ndim == 2 && x.data[0] == (float)0.1);
    npy_free(&x);
}

/* Files the stricter validation must still accept. */
static void test_valid_layouts(void **state)
{
    (void)state;
    const float a[2] = {1, 2}, b[3] = {3, 4, 5};
    unsigned char data[24] = {0};
    put_f32(data, b, 3);     /* b first in the data region, though last in the header */
    put_f32(data + 14, a, 2); /* after 2 bytes of an F4 tensor */
    size_t len;
    unsigned char *f = make_st(
        "{\"__metadata__\":null,\"\\ud83d\\ude00 \xc3\xa9\":" T("\"F32\"", "[0]", "[22,22]")
        ",\"a\":" T("\"F32\"", "[2]", "[14,22]") ",\"nibbles\":" T("\"F4\"", "[2,2]", "[12,14]")
        ",\"z\":" T("\"F64\"", "[3,0]", "[0,0]") ",\"z2\":" T("\"U8\"", "[0]", "[12,12]")
        ",\"b\":" T("\"F32\"", "[3]", "[0,12]") ",\"c\":" T("\"C64\"", "[]", "[22,30]")
        "} \t\r\n ", data, 22, &len);
    npy_array x;
    char err[512];
    /* 30 bytes needed ("c"), 22 present. */
    expect_error(f, len, "a", "tensor 'c': data_offsets [22, 30] go past the end of the data "
                 "region (22 bytes)");
    free(f);
    f = make_st("{\"__metadata__\":null,\"\\ud83d\\ude00 \xc3\xa9\":" T("\"F32\"", "[0]", "[22,22]")
                ",\"a\":" T("\"F32\"", "[2]", "[14,22]") ",\"nibbles\":"
                T("\"F4\"", "[2,2]", "[12,14]") ",\"z\":" T("\"F64\"", "[3,0]", "[0,0]")
                ",\"z2\":" T("\"U8\"", "[0]", "[12,12]") ",\"b\":" T("\"F32\"", "[3]", "[0,12]")
                "} \t\r\n ", data, 22, &len);
    assert_int_equal(st_read_tensor_memory(f, len, "a", &x, err, sizeof err), 0);
    assert_true(x.count == 2 && memcmp(x.data, a, sizeof a) == 0);
    npy_free(&x);
    assert_int_equal(st_read_tensor_memory(f, len, "b", &x, err, sizeof err), 0);
    assert_true(x.count == 3 && memcmp(x.data, b, sizeof b) == 0);
    npy_free(&x);
    assert_int_equal(st_read_tensor_memory(f, len, "\xf0\x9f\x98\x80 \xc3\xa9", &x, err,
                                           sizeof err), 0);
    assert_true(x.ndim == 1 && x.count == 0);
    npy_free(&x);
    assert_int_equal(st_read_tensor_memory(f, len, "z", &x, err, sizeof err), 0);
    assert_true(x.ndim == 2 && x.count == 0);
    npy_free(&x);
    free(f);
    /* No tensors and no data; metadata of strings. */
    f = make_st("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"}}", NULL, 0, &len);
    expect_error(f, len, "a", "no tensor 'a' in the file (it holds no tensors)");
    free(f);
}

/* Item 1: a file that shrinks or grows between its header and its tensors
 * is an error, never a crash or stale data. */
static void test_file_changed(void **state)
{
    (void)state;
    const float a[4] = {1, 2, 3, 4};
    const double b[2] = {5, 6};
    unsigned char data[32];
    put_f32(data, a, 4);
    put_f64(data + 16, b, 2);
    const char *path = "changing.safetensors";
    size_t len;
    unsigned char *whole = make_st("{\"a\":" T("\"F32\"", "[4]", "[0,16]") ",\"b\":"
                                   T("\"F64\"", "[2]", "[16,32]") "}", data, sizeof data, &len);
    write_bytes(path, whole, len);
    st_file *f;
    npy_array x;
    char err[512];
    assert_int_equal(st_open(path, &f, err, sizeof err), 0);
    /* Shrunk into b: reading b comes up short; a is whole but the size is wrong. */
    assert_int_equal(truncate(path, (off_t)len - 4), 0);
    assert_int_equal(st_read(f, "b", &x, err, sizeof err), -1);
    assert_null(x.data);
    char expect[256];
    snprintf(expect, sizeof expect, "the file changed while it was read: tensor 'b' "
             "(data_offsets [16, 32]) ends at byte %zu of the file, but the file now ends at "
             "byte %zu", len, len - 4);
    if (!strstr(err, expect))
        fail_msg("'%s' lacks '%s'", err, expect);
    assert_int_equal(st_read(f, "a", &x, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "the file changed while it was read: it had %zu bytes, as "
             "its header says, and now has %zu", len, len - 4);
    if (!strstr(err, expect))
        fail_msg("'%s' lacks '%s'", err, expect);
    /* Cut into the header, then to nothing: still an error each time. */
    assert_int_equal(truncate(path, 20), 0);
    assert_int_equal(st_read(f, "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "the file changed while it was read"));
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(st_read(f, "b", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "the file changed while it was read"));
    /* Back as it was, but written since it was opened: opened again, it reads. */
    write_bytes(path, whole, len);
    assert_int_equal(st_read(f, "b", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "the file changed while it was read: it was modified after it "
                                "was opened (its size is the same, its status-change time is "
                                "not)"));
    st_close(f);
    assert_int_equal(st_open(path, &f, err, sizeof err), 0);
    assert_int_equal(st_read(f, "b", &x, err, sizeof err), 0);
    assert_true(x.count == 2 && x.data[0] == 5.0f && x.data[1] == 6.0f);
    npy_free(&x);
    /* Grown by a byte. */
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fputc(0, fp);
    fclose(fp);
    assert_int_equal(st_read(f, "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "the file changed while it was read: it had"));
    st_close(f);
    /* Opened short or long: the header does not match the file. */
    assert_int_equal(st_open(path, &f, err, sizeof err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "1 bytes at the end of the data region belong to no tensor"));
    assert_int_equal(truncate(path, (off_t)len - 1), 0);
    assert_int_equal(st_read_tensor(path, "a", &x, err, sizeof err), -1);
    assert_non_null(strstr(err, "tensor 'b': data_offsets [16, 32] go past the end of the data "
                            "region (31 bytes)"));
    free(whole);
}

/* Item 1, racing: a child truncates the file and writes it back, over and
 * over, while another reads it. Every read must give the right tensor or an
 * error; the reader must never die (the old mmap reader got SIGBUS). A read
 * racing with a truncation can copy zeros out of the page cache: the size
 * and the status-change time checked after the read must catch that. The
 * writer pauses 25 ms between rewrites, longer than a timestamp tick of any
 * kernel (1 to 10 ms), so that a change never has the ctime of the one
 * before, which the reader saw at st_open. */
static void test_rewritten_while_read(void **state)
{
    (void)state;
    enum { N = 1 << 20 }; /* a 4 MiB tensor: reads take a while */
    const char *path = "rewritten.safetensors";
    const float small[3] = {7, 8, 9};
    unsigned char *data = malloc(4 * (size_t)N + 12);
    assert_non_null(data);
    for (size_t i = 0; i < N; i++) {
        float v = (float)i;
        put_f32(data + 4 * i, &v, 1);
    }
    put_f32(data + 4 * (size_t)N, small, 3);
    size_t len;
    unsigned char *whole = make_st("{\"big\":" T("\"F32\"", "[1048576]", "[0,4194304]")
                                   ",\"small\":" T("\"F32\"", "[3]", "[4194304,4194316]") "}",
                                   data, 4 * (size_t)N + 12, &len);
    free(data);
    write_bytes(path, whole, len);

    pid_t writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        alarm(60); /* should the test die before it kills this child */
        int fd = open(path, O_WRONLY);
        uint64_t s = 0x2545f4914f6cdd1du;
        for (;;) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            size_t cut = (size_t)(s % len);
            if (fd < 0 || ftruncate(fd, (off_t)cut) != 0 ||
                pwrite(fd, whole + cut, len - cut, (off_t)cut) != (ssize_t)(len - cut))
                _exit(1);
            nanosleep(&(struct timespec){0, 25000000}, NULL); /* whole for 25 ms */
        }
    }
    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        signal(SIGBUS, SIG_DFL); /* die of it, not cmocka's handler in this child */
        signal(SIGSEGV, SIG_DFL);
        int ok = 0, failed = 0;
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 5000; i++) { /* for 1.5 s */
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > 1.5)
                break;
            npy_array x;
            char err[512] = "";
            int big = i % 3 != 0;
            if (st_read_tensor(path, big ? "big" : "small", &x, err, sizeof err) != 0) {
                if (x.data || err[0] == '\0' || strchr(err, '\n'))
                    _exit(3);
                failed++;
                continue;
            }
            for (size_t k = 0; k < x.count; k++)
                if (x.count != (big ? (size_t)N : 3) ||
                    x.data[k] != (big ? (float)k : small[k]))
                    _exit(4); /* a wrong value: stale or torn data */
            npy_free(&x);
            ok++;
        }
        printf("rewritten while read: %d reads succeeded, %d failed cleanly\n", ok, failed);
        fflush(stdout);
        _exit(0);
    }
    int st = 0, wst = 0;
    assert_int_equal(waitpid(reader, &st, 0), reader);
    kill(writer, SIGKILL);
    assert_int_equal(waitpid(writer, &wst, 0), writer);
    free(whole);
    if (WIFSIGNALED(st))
        fail_msg("the reader died from signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the reader exited with status %d (3: a bad error, 4: wrong data; other: a "
                 "sanitizer report)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL); /* the writer never failed */
}

/* A pipe is read sequentially, to the end. */
static void feed_fifo(const char *path, const unsigned char *b, size_t len, pid_t *pid)
{
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fd = open(path, O_WRONLY);
        for (size_t done = 0; fd >= 0 && done < len;) {
            ssize_t w = write(fd, b + done, len - done);
            if (w <= 0)
                _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
}

static void test_pipe(void **state)
{
    (void)state;
    const float a[3] = {1, 2, 3};
    const double b[2] = {0.5, -4};
    unsigned char data[28 + 4];
    put_f32(data, a, 3);
    put_f64(data + 12, b, 2);
    memset(data + 28, 0, 4);
    size_t len;
    unsigned char *bytes = make_st("{\"x.b\":" T("\"F64\"", "[2]", "[12,28]") ",\"a\":"
                                   T("\"F32\"", "[3]", "[0,12]") "}", data, sizeof data, &len);
    const char *fifo = "fifo";
    assert_int_equal(mkfifo(fifo, 0600), 0);
    npy_array x;
    char err[512];
    st_file *f;
    pid_t pid;
    int st;
    /* Whole: open once, read both. */
    feed_fifo(fifo, bytes, len - 4, &pid);
    assert_int_equal(st_open(fifo, &f, err, sizeof err), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(st_read(f, "a", &x, err, sizeof err), 0);
    assert_true(x.count == 3 && memcmp(x.data, a, sizeof a) == 0);
    npy_free(&x);
    assert_int_equal(st_read(f, "x.b", &x, err, sizeof err), 0);
    assert_true(x.count == 2 && x.data[0] == 0.5f && x.data[1] == -4.0f);
    npy_free(&x);
    st_close(f);
    /* Short, and too long. */
    feed_fifo(fifo, bytes, len - 8, &pid);
    assert_int_equal(st_read_tensor(fifo, "a", &x, err, sizeof err), -1);
    waitpid(pid, &st, 0);
    assert_non_null(strstr(err, "tensor 'x.b': data_offsets [12, 28] go past the end of the "
                                "data region (24 bytes)"));
    feed_fifo(fifo, bytes, len, &pid);
    assert_int_equal(st_read_tensor(fifo, "a", &x, err, sizeof err), -1);
    waitpid(pid, &st, 0);
    assert_non_null(strstr(err, "more bytes follow the end of the last tensor (at byte 28"));
    feed_fifo(fifo, bytes, 30, &pid);
    assert_int_equal(st_read_tensor(fifo, "a", &x, err, sizeof err), -1);
    waitpid(pid, &st, 0);
    assert_non_null(strstr(err, "goes past the end of the file (22 bytes follow it)"));
    free(bytes);
}

/* Item 3: many tensors of one file, as a PyTorch state_dict holds them. */
static void check_state_dict(st_file *f)
{
    npy_array x;
    char err[512];
    assert_int_equal(st_count_prefix(f, ""), 6);
    assert_int_equal(st_count_prefix(f, NULL), 6);
    assert_int_equal(st_count_prefix(f, "bn."), 4);
    assert_int_equal(st_count_prefix(f, "bn.running_"), 2);
    assert_int_equal(st_count_prefix(f, "embed.weight"), 1);
    assert_int_equal(st_count_prefix(f, "embed.weight."), 0);
    assert_int_equal(st_count_prefix(f, "model."), 0);
    assert_true(st_has(f, "embed.weight") && st_has(f, "bn.num_batches_tracked"));
    assert_false(st_has(f, "bn") || st_has(f, "__metadata__") || st_has(f, "") ||
                 st_has(f, NULL) || st_has(NULL, "bn.weight"));
    /* In any order, more than once, errors in between. */
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(st_read(f, "bn.running_var", &x, err, sizeof err), 0);
        assert_true(x.ndim == 1 && x.count == 3 && x.data[0] == 0.25f && x.data[2] == 4.0f);
        npy_free(&x);
        assert_int_equal(st_read(f, "bn.num_batches_tracked", &x, err, sizeof err), -1);
        assert_non_null(strstr(err, "tensor 'bn.num_batches_tracked' has dtype I64"));
        assert_int_equal(st_read(f, "embed.weight", &x, err, sizeof err), 0);
        assert_true(x.ndim == 2 && x.shape[0] == 2 && x.shape[1] == 3);
        for (int i = 0; i < 6; i++)
            assert_true(x.data[i] == (float)i / 8);
        npy_free(&x);
        assert_int_equal(st_read(f, "bn.weight", &x, err, sizeof err), 0);
        assert_true(x.count == 3 && x.data[1] == -1.0f);
        npy_free(&x);
        assert_int_equal(st_read(f, "bn.mean", &x, err, sizeof err), -1);
        assert_string_equal(err, "no tensor 'bn.mean' in the file (it has 6 tensors: "
                            "'embed.weight', 'bn.weight', 'bn.running_mean', 'bn.running_var', "
                            "'bn.num_batches_tracked', 'head.bias')");
        assert_int_equal(st_read(f, "bn.running_mean", &x, err, sizeof err), 0);
        assert_true(x.count == 3 && x.data[0] == 0.5f);
        npy_free(&x);
    }
    assert_int_equal(st_read(f, NULL, &x, err, sizeof err), -1);
    assert_int_equal(st_read(NULL, "bn.weight", &x, err, sizeof err), -1);
    assert_null(x.data);
}

static void test_many_tensors(void **state)
{
    (void)state;
    float embed[6], w[3] = {1, -1, 2}, mean[3] = {0.5f, 0, 0}, head[1] = {3};
    const double var[3] = {0.25, 1, 4};
    for (int i = 0; i < 6; i++)
        embed[i] = (float)i / 8;
    unsigned char data[24 + 12 + 12 + 24 + 8 + 4] = {0};
    put_f32(data + 48, embed, 6);      /* laid out in another order than the header's */
    put_f32(data, w, 3);
    put_f32(data + 12, mean, 3);
    put_f64(data + 24, var, 3);
    data[72] = 42;                     /* num_batches_tracked, I64 */
    put_f32(data + 80, head, 1);
    size_t len;
    unsigned char *b = make_st(
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"embed.weight\":" T("\"F32\"", "[2,3]", "[48,72]") ","
        "\"bn.weight\":" T("\"F32\"", "[3]", "[0,12]") ","
        "\"bn.running_mean\":" T("\"F32\"", "[3]", "[12,24]") ","
        "\"bn.running_var\":" T("\"F64\"", "[3]", "[24,48]") ","
        "\"bn.num_batches_tracked\":" T("\"I64\"", "[]", "[72,80]") ","
        "\"head.bias\":" T("\"F32\"", "[1]", "[80,84]") "}", data, sizeof data, &len);
    st_file *f = (st_file *)&len; /* overwritten */
    char err[512];
    assert_int_equal(st_open_memory(b, len, &f, err, sizeof err), 0);
    check_state_dict(f);
    st_close(f);
    write_bytes("state.safetensors", b, len);
    assert_int_equal(st_open("state.safetensors", &f, err, sizeof err), 0);
    check_state_dict(f);
    st_close(f);
    st_close(NULL);
    /* A failed open leaves NULL. */
    f = (st_file *)&len;
    assert_int_equal(st_open_memory(b, len - 1, &f, err, sizeof err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "tensor 'head.bias': data_offsets [80, 84] go past the end"));
    f = (st_file *)&len;
    assert_int_equal(st_open("missing.safetensors", &f, err, sizeof err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "cannot open: "));
    assert_int_equal(st_open(NULL, &f, err, sizeof err), -1);
    assert_int_equal(st_open_memory(NULL, 0, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "too short"));
    assert_int_equal(st_open_memory(b, len, NULL, err, sizeof err), -1);
    free(b);
}

/* ---- The tool end to end. ---- */
#ifdef CLNORM_TOOL_PATH

/* Runs the tool with stdout to /dev/null and stderr to `err_path`; returns
 * its exit code. */
static int run_tool(const char *err_path, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, err_path);
    argv[argc++] = (char *)CLNORM_TOOL_PATH;
    for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int st;
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* A usage error: exit 2, one stderr line "clnorm: error: ..." holding `expect`,
 * and the caller's `never` (most cases' -o) not created; stderr goes to `ep`. */
#define USAGE_ERROR(expect, ...)                                                              \
    do {                                                                                      \
        assert_int_equal(run_tool(ep, __VA_ARGS__, (char *)NULL), 2);                         \
        size_t n;                                                                             \
        char *e = slurp(ep, &n);                                                              \
        if (strncmp(e, "clnorm: error:", 14) != 0 || !strstr(e, expect) ||                    \
            strchr(e, '\n') != e + n - 1)                                                     \
            fail_msg("stderr '%s' lacks '%s'", e, expect);                                    \
        free(e);                                                                              \
        assert_int_equal(access(never, F_OK), -1);                                            \
    } while (0)

#endif

static void test_tool_params(void **state)
{
    (void)state;
#ifndef CLNORM_TOOL_PATH
    print_message("the tool is not built (CLNORM_BUILD_TOOLS=OFF): skipped\n");
    skip();
#else
    const size_t shape[4] = {2, 3, 4, 5}, ashape[1] = {3};
    float x[120];
    const float alpha[3] = {0.5f, 1.25f, -2.0f};
    const double alpha64[3] = {0.5, 1.25, -2.0};
    for (int i = 0; i < 120; i++)
        x[i] = (float)((i * 37) % 23) * 0.25f - 2.0f + (float)(i % 5) * 0.01f;
    char err[256], hdr[512];
    const char *xp = "x.npy", *ap = "a.npy", *mp = "m.safetensors", *ep = "stderr.txt";
    assert_int_equal(npy_write_file(xp, shape, 4, x, err, sizeof err), 0);
    assert_int_equal(npy_write_file(ap, ashape, 1, alpha, err, sizeof err), 0);

    /* F32 next to other tensors, and the same values as F64. */
    unsigned char data[16 + 12 + 24 + 2] = {0};
    const float other[4] = {9, 9, 9, 9};
    put_f32(data, other, 4);
    put_f32(data + 16, alpha, 3);
    put_f64(data + 28, alpha64, 3);
    snprintf(hdr, sizeof hdr, "{\"model.other.alpha\":" T("\"F32\"", "[4]", "[0,16]")
             ",\"model.norm.alpha\":" T("\"F32\"", "[3]", "[16,28]")
             ",\"model.n64.alpha\":" T("\"F64\"", "[3]", "[28,52]")
             ",\"model.half.alpha\":" T("\"F16\"", "[1]", "[52,54]") "}");
    write_st(mp, hdr, data, sizeof data);

    const char *y1 = "y1.npy", *y2 = "y2.npy", *y3 = "y3.npy", *never = "never.npy";
    assert_int_equal(run_tool(ep, "varnorm2d", "-i", xp, "-o", y1, "--alpha", ap, NULL), 0);
    assert_int_equal(run_tool(ep, "varnorm2d", "-i", xp, "-o", y2, "--params", mp, "--prefix",
                              "model.norm.", NULL), 0);
    assert_int_equal(run_tool(ep, "varnorm2d", "-i", xp, "-o", y3, "--params", mp,
                              "--prefix=model.n64.", NULL), 0);
    size_t n1, n2, n3;
    char *b1 = slurp(y1, &n1), *b2 = slurp(y2, &n2), *b3 = slurp(y3, &n3);
    assert_true(n1 > 128 && n1 == n2 && n1 == n3);
    assert_memory_equal(b1, b2, n1);
    assert_memory_equal(b1, b3, n1);
    free(b1), free(b2), free(b3);

    USAGE_ERROR("--alpha and --params", "varnorm2d", "-i", xp, "-o", never, "--alpha", ap,
                "--params", mp);
    USAGE_ERROR("--prefix needs --params", "varnorm2d", "-i", xp, "-o", never, "--prefix", "m.");
    USAGE_ERROR("no tensor 'alpha' in the file (it has 4 tensors: 'model.other.alpha'",
                "varnorm2d", "-i", xp, "-o", never, "--params", mp);
    USAGE_ERROR("tensor 'model.other.alpha': expected shape (3,) (C of -i), found (4,)",
                "varnorm2d", "-i", xp, "-o", never, "--params", mp, "--prefix", "model.other.");
    USAGE_ERROR("has dtype F16", "varnorm2d", "-i", xp, "-o", never, "--params", mp, "--prefix",
                "model.half.");
    USAGE_ERROR("--params '/nonexistent.safetensors': cannot open", "varnorm2d", "-i", xp, "-o",
                never, "--params", "/nonexistent.safetensors");
    USAGE_ERROR("option '--params' does not apply", "revin", "-i", xp, "-o", never, "--params", mp);
    USAGE_ERROR("option '--prefix' does not apply", "revin-inverse", "-i", xp, "-o", never,
                "--prefix", "x");
    USAGE_ERROR("needs a value", "varnorm2d", "-i", xp, "-o", never, "--params");

    /* A failed run leaves an existing output byte for byte as it was. */
    size_t before_n, after_n;
    char *before = slurp(y1, &before_n);
    USAGE_ERROR("has dtype F16", "varnorm2d", "-i", xp, "-o", y1, "--params", mp, "--prefix",
                "model.half.");
    char *after = slurp(y1, &after_n);
    assert_true(before_n == after_n && memcmp(before, after, before_n) == 0);
    free(before), free(after);
#endif
}

TEST_MAIN(setup, teardown, cmocka_unit_test(test_f32_exact), cmocka_unit_test(test_f64_converted),
          cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_limits),
          cmocka_unit_test(test_file_errors), cmocka_unit_test(test_mutations),
          cmocka_unit_test(test_valid_layouts), cmocka_unit_test(test_file_changed),
          cmocka_unit_test(test_rewritten_while_read), cmocka_unit_test(test_pipe),
          cmocka_unit_test(test_many_tensors), cmocka_unit_test(test_python_cross_check),
          cmocka_unit_test(test_tool_params))
// clang-format on
