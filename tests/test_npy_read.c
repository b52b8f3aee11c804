/* SPDX-License-Identifier: Apache-2.0 */
/* test_npy_read.c: cmocka tests of tools/formats/npy.c's reader: versions, dtypes, malformed headers, truncation, fuzz. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "npy_test_util.h"
#include "test_main.h"

/* ---- expectations ---- */

/* Reads img from an exactly sized heap copy (so ASan sees any over-read) and
 * checks failure, the message and that out was zeroed. */
static void expect_fail_len(const void *img, size_t len, const char *needle, const char *what)
{
    unsigned char *copy = malloc(len ? len : 1);
    char err[512] = "";
    npy_array a;
    int rc;
    assert_non_null(copy);
    if (len)
        memcpy(copy, img, len);
    memset(&a, 0xab, sizeof a);
    rc = npy_read_memory(copy, len, &a, err, sizeof err);
    free(copy);
    if (rc != -1)
        fail_msg("%s: expected failure with '%s', got rc %d", what, needle, rc);
    if (!strstr(err, needle))
        fail_msg("%s: expected '%s' in the message '%s'", what, needle, err);
    if (err[0] == '\0' || strchr(err, '\n'))
        fail_msg("%s: message is not one non-empty line: '%s'", what, err);
    assert_null(a.data);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.count, 0);
}

/* Builds a 1.0 file from a header (padded like NumPy or exactly as given)
 * and data, and expects failure. */
static void expect_fail_hdr_pad(const char *hdr, int pad, const void *data, size_t data_len,
                                const char *needle)
{
    size_t len;
    unsigned char *img = make_npy_v(1, 0, hdr, strlen(hdr), pad, data, data_len, &len);
    expect_fail_len(img, len, needle, hdr);
    free(img);
}

static void expect_fail_hdr(const char *hdr, const void *data, size_t data_len, const char *needle)
{
    expect_fail_hdr_pad(hdr, 1, data, data_len, needle);
}

/* Expects prefix + input + suffix to fail, for each row of bad: most bad
 * headers differ from a good one in one place, so the rows say only that. */
static void expect_fail_each(const char *prefix, const char *suffix, int pad, const bad_input *bad,
                             size_t n)
{
    char hdr[512];
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(hdr, sizeof hdr, "%s%s%s", prefix, bad[i].input, suffix);
        assert_true(len >= 0 && (size_t)len < sizeof hdr);
        expect_fail_hdr_pad(hdr, pad, three_le, 12, bad[i].needle);
    }
}

static void expect_ok(const void *img, size_t len, size_t ndim, const size_t *shape, size_t count,
                      npy_array *a, const char *what)
{
    unsigned char *copy = malloc(len ? len : 1);
    char err[512] = "";
    int rc;
    assert_non_null(copy);
    memcpy(copy, img, len);
    rc = npy_read_memory(copy, len, a, err, sizeof err);
    free(copy);
    if (rc != 0)
        fail_msg("%s: expected success, got '%s'", what, err);
    assert_int_equal(a->ndim, ndim);
    for (size_t i = 0; i < ndim; i++)
        assert_int_equal(a->shape[i], shape[i]);
    assert_int_equal(a->count, count);
    assert_non_null(a->data);
}

/* ---- accepted variants ---- */

/* hdr read, padded like NumPy and unpadded, before three_le: three, in `shape`. */
static void expect_header_reads(const char *hdr, size_t ndim, const size_t *shape)
{
    for (int pad = 0; pad <= 1; pad++) {
        size_t len;
        npy_array a = {0};
        unsigned char *img = make_npy_v(1, 0, hdr, strlen(hdr), pad, three_le, 12, &len);
        expect_ok(img, len, ndim, shape, 3, &a, hdr);
        assert_memory_equal(a.data, three, sizeof three);
        npy_free(&a);
        free(img);
    }
}

/* One header, shape (3,), spelt every way NumPy's reader takes: quotes, key
 * order, white space, byte-order marks, the tuple. */
static const char *const header_spellings[] = {
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
    "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
    "{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}",
    "{'fortran_order': False, 'descr': \"<f4\", 'shape': (3,),}",
    "  {  'descr'  :  '<f4'  ,\t'fortran_order':False,'shape':(  3  ,  )  ,  }  ",
    "{\n'descr': '<f4',\r\n'fortran_order': False,\n'shape': (3,)\n}\n",
    "{'descr': '=f4', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '|f4', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (0003,), }",
};

static void test_read_header_variants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof header_spellings / sizeof header_spellings[0]; i++)
        expect_header_reads(header_spellings[i], 1, three_shape);
    static const size_t one_by_three[2] = {1, 3}, three_by_one[2] = {3, 1};
    expect_header_reads("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", 2,
                        one_by_three);
    expect_header_reads("{'descr': '<f4', 'fortran_order': False, 'shape': (3,1,), }", 2,
                        three_by_one);
}

static void test_read_versions_by_hand(void **state)
{
    (void)state;
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    for (unsigned major = 1; major <= 3; major++) {
        size_t len;
        npy_array a = {0};
        unsigned char *img = make_npy_v(major, 0, hdr, strlen(hdr), 1, three_le, 12, &len);
        assert_int_equal((len - 12) % 64, 0);
        expect_ok(img, len, 1, three_shape, 3, &a, "version");
        assert_memory_equal(a.data, three, sizeof three);
        npy_free(&a);
        free(img);
    }
}

static void test_read_zero_d_and_empty(void **state)
{
    (void)state;
    size_t len, shape[3] = {2, 0, 5};
    npy_array a = {0};
    unsigned char one[4], *img;
    put_f32(one, 42.0f);
    img = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", one, 4, &len);
    expect_ok(img, len, 0, shape, 1, &a, "0-d");
    assert_true(a.data[0] == 42.0f);
    npy_free(&a);
    free(img);
    img = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 0, 5), }", NULL, 0, &len);
    expect_ok(img, len, 3, shape, 0, &a, "zero-size");
    npy_free(&a);
    free(img);
}

static void test_read_f8_conversion(void **state)
{
    (void)state;
    const double in[] = {0.1,
                         -2.5,
                         1e300,
                         -1e300,
                         1e-320,
                         (double)FLT_MAX,
                         0x1.fffffefp127,
                         0x1.ffffffp127,
                         -0x1.ffffffp127,
                         1.0 + 0x1p-24,
                         1.0 + 0x3p-24,
                         -0.0,
                         INFINITY,
                         NAN,
                         3.141592653589793,
                         0x1p-149,
                         0x1p-150,
                         0x1.8p-150};
    const float want[] = {
        0.1f,        -2.5f,     INFINITY, -INFINITY,       0.0f,  FLT_MAX,  FLT_MAX,
        INFINITY,    -INFINITY, 1.0f,     1.0f + 0x1p-22f, -0.0f, INFINITY, NAN,
        3.14159265f, 0x1p-149f, 0.0f,     0x1p-149f};
    const size_t n = sizeof in / sizeof in[0], shape[1] = {sizeof in / sizeof in[0]};
    unsigned char data[sizeof in], *img;
    char hdr[128];
    size_t len;
    npy_array a = {0};
    for (size_t i = 0; i < n; i++)
        put_f64(data + 8 * i, in[i]);
    snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu,), }", n);
    img = make_npy(hdr, data, sizeof data, &len);
    expect_ok(img, len, 1, shape, n, &a, "f8");
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i]))
            assert_true(isnan(a.data[i]));
        else if (float_bits(a.data[i]) != float_bits(want[i]))
            fail_msg("f8 value %zu (%a): got %a, want %a", i, in[i], (double)a.data[i],
                     (double)want[i]);
    }
    npy_free(&a);
    free(img);
}

/* ---- prefix errors ---- */

static void test_empty_and_bad_magic(void **state)
{
    (void)state;
    char err[256];
    npy_array a = {0};
    expect_fail_len("", 0, "empty file", "empty");
    assert_int_equal(npy_read_memory(NULL, 0, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(npy_read_memory(NULL, 5, &a, err, sizeof err), -1);
    assert_int_equal(npy_read_memory("x", 1, NULL, err, sizeof err), -1);
    expect_fail_len("\x93NUMPX\x01\x00", 8, "not a .npy file (bad magic)", "magic");
    expect_fail_len("hello world, this is text", 25, "bad magic", "text");
    expect_fail_len("PK\x03\x04", 4, "bad magic", "zip");
    expect_fail_len("\x94", 1, "bad magic", "one byte");
    expect_fail_len("\x93NUMP", 5, "truncated header", "partial magic");
    expect_fail_len("\x93NUMPY", 6, "truncated header", "magic only");
    expect_fail_len("\x93NUMPY\x01", 7, "truncated header", "no minor");
    expect_fail_len("\x93NUMPY\x01\x00\x10", 9, "truncated header", "half length");
    expect_fail_len("\x93NUMPY\x02\x00\x10\x00\x00", 11, "truncated header", "v2 short length");
}

static void test_unsupported_versions(void **state)
{
    (void)state;
    static const struct {
        unsigned char major, minor;
        const char *needle;
    } v[] = {
        {4, 0, "unsupported .npy format version 4.0"},
        {0, 0, "version 0.0"},
        {1, 1, "version 1.1"},
        {2, 1, "version 2.1"},
        {255, 255, "version 255.255"},
    };
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len;
        unsigned char *img =
            make_npy_v(v[i].major, v[i].minor, hdr, strlen(hdr), 1, three_le, 12, &len);
        expect_fail_len(img, len, v[i].needle, "version");
        expect_fail_len(img, 8, v[i].needle, "version, prefix only");
        free(img);
    }
}

static void check_all_truncations(const unsigned char *img, size_t len, size_t data_start)
{
    char what[64];
    for (size_t n = 0; n < len; n++) {
        const char *needle = n == 0           ? "empty file"
                             : n < data_start ? "truncated header"
                                              : "bytes of data but the file has";
        snprintf(what, sizeof what, "truncated to %zu of %zu", n, len);
        expect_fail_len(img, n, needle, what);
    }
}

static void test_every_truncation(void **state)
{
    (void)state;
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    const char *dir = *state;
    char path[512], err[256];
    const size_t shape[2] = {2, 3};
    const float six[6] = {1, 2, 3, 4, 5, 6};
    unsigned char data8[24] = {0}, *img;
    size_t len;
    for (unsigned major = 1; major <= 3; major++) {
        img = make_npy_v(major, 0, hdr, strlen(hdr), major != 2, three_le, 12, &len);
        check_all_truncations(img, len, len - 12);
        free(img);
    }
    img = make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data8, 24, &len);
    check_all_truncations(img, len, len - 24);
    free(img);
    snprintf(path, sizeof path, "%s/t.npy", dir);
    assert_int_equal(npy_write_file(path, shape, 2, six, err, sizeof err), 0);
    img = slurp(path, &len);
    check_all_truncations(img, len, len - 24);
    free(img);
}

static void test_header_length_past_end(void **state)
{
    (void)state;
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    size_t len;
    unsigned char *img = make_npy(hdr, three_le, 12, &len);
    put_le(img + 8, 0xffff, 2);
    expect_fail_len(img, len, "truncated header: header length 65535 goes past the end", "v1 ffff");
    put_le(img + 8, len - 10 + 1, 2);
    expect_fail_len(img, len, "past the end of the file", "v1 one too many");
    free(img);
    img = make_npy_v(2, 0, hdr, strlen(hdr), 1, three_le, 12, &len);
    put_le(img + 8, 0xffffffffu, 4);
    expect_fail_len(img, len, "header length 4294967295 goes past the end", "v2 ffffffff");
    put_le(img + 8, 0x80000000u, 4);
    expect_fail_len(img, len, "past the end", "v2 2^31");
    free(img);
}

/* ---- header dict errors ---- */

#define OK_F "'fortran_order': False"
#define OK_S "'shape': (3,)"
#define OK_D "'descr': '<f4'"

#define SHAPE_AT "{" OK_D ", " OK_F ", 'shape': "
#define FAIL_EACH(prefix, suffix, pad, rows)                                                       \
    expect_fail_each(prefix, suffix, pad, rows, sizeof rows / sizeof rows[0])

/* Bad header dicts: whole, then with a good start up to the value that is bad. */
static const bad_input malformed_whole[] = {
    {"", "malformed header dict: expected '{', found the end of the header"},
    {"   ", "expected '{', found the end"},
    {"[]", "expected '{', found '[]'"},
    {"{", "expected a quoted key or '}', found the end"},
    {"{" OK_D ", " OK_F ", " OK_S, "expected ',' or '}' after the value of 'shape', found the end"},
    {"{'descr' '<f4', " OK_F ", " OK_S "}", "expected ':' after 'descr'"},
    {"{" OK_D " " OK_F ", " OK_S "}", "expected ',' or '}' after the value of 'descr'"},
    {"{'descr': '<f4", "unterminated string"},
    {"{'descr\": '<f4', " OK_F ", " OK_S "}", "unknown key 'descr\": '"},
    {"{'descr': '<f4\", " OK_F ", " OK_S "}",
     "expected ',' or '}' after the value of 'descr', found 'fortran_order'"},
    {"{'descr': '<f4\n', " OK_F ", " OK_S "}", "unterminated string"},
    {"{'descr': '<\\x66\\x34', " OK_F ", " OK_S "}",
     "escape sequences in strings are not supported"},
    {"{descr: '<f4', " OK_F ", " OK_S "}", "expected a quoted key or '}', found 'descr: '<f4'"},
    {"{1: 2, " OK_D ", " OK_F ", " OK_S "}", "expected a quoted key or '}', found '1: 2"},
    {"{'descr': <f4, " OK_F ", " OK_S "}", "expected a quoted string for 'descr', found '<f4,"},
    {"{'descr': 5, " OK_F ", " OK_S "}", "expected a quoted string for 'descr'"},
    {"{'descr': [('a', '<f4')], " OK_F ", " OK_S "}", "structured dtypes"},
    {"{,}", "expected a quoted key or '}', found ',}'"},
    {"{" OK_D ",, " OK_F ", " OK_S "}", "expected a quoted key or '}', found ', 'fortran"},
    {"{" OK_D ", " OK_F ", " OK_S "} x", "expected nothing after the closing '}', found 'x'"},
    {"{" OK_D ", " OK_F ", " OK_S "}}", "nothing after the closing '}'"},
    {"{" OK_D ", " OK_F ", " OK_S "}{" OK_D "}", "nothing after the closing '}'"},
    {"{'Descr': '<f4', " OK_F ", " OK_S "}", "unknown key 'Descr' in header dict"},
    {"{" OK_D ", " OK_F ", " OK_S ", 'extra': 1}", "unknown key 'extra' in header dict"},
    {"{" OK_D ", " OK_F ", " OK_S ", " OK_S "}", "duplicate key 'shape' in header dict"},
    {"{" OK_D ", " OK_D ", " OK_F ", " OK_S "}", "duplicate key 'descr'"},
    {"{" OK_D ", " OK_F ", 'fortran_order': True, " OK_S "}", "duplicate key 'fortran_order'"},
    {"{'\x01\x02\xff': 1}", "unknown key '?\?\?' in header dict"},
};
static const bad_input malformed_fortran_order[] = {
    {"false, " OK_S "}", "expected True or False for 'fortran_order', found 'false"},
    {"0, " OK_S "}", "True or False for 'fortran_order'"},
    {"Falsey, " OK_S "}", "True or False for 'fortran_order', found 'Falsey"},
    {"False_, " OK_S "}", "True or False for 'fortran_order'"},
    {"'False', " OK_S "}", "True or False for 'fortran_order'"},
    {"Fal", "True or False for 'fortran_order', found 'Fal'"},
};
static const bad_input malformed_shape[] = {
    {"[3]}", "expected a tuple for 'shape', found '[3]}'"},
    {"3}", "expected a tuple for 'shape'"},
    {"(3,,)}", "expected a non-negative integer in 'shape', found ',)}'"},
    {"(,)}", "a non-negative integer in 'shape'"},
    {"(3 4)}", "expected ',' or ')' in 'shape', found '4)}'"},
    {"(3.0,)}", "expected ',' or ')' in 'shape', found '.0,)}'"},
    {"(0x10,)}", "expected ',' or ')' in 'shape', found 'x10,)}'"},
    {"(3", "expected ',' or ')' in 'shape', found the end"},
    {"('3',)}", "a non-negative integer in 'shape'"},
    {"(-,)}", "a non-negative integer in 'shape', found '-,)}'"},
    {"(- 3,)}", "a non-negative integer in 'shape'"},
    {"(+3,)}", "a non-negative integer in 'shape'"},
    {"(3,))}", "expected ',' or '}' after the value of 'shape'"},
    {"(99999999999999999999999,)}", "dimension 99999999999999999999999 in shape is too large"},
    {"(18446744073709551616,)}", "in shape is too large"},
};

static void test_malformed_dicts(void **state)
{
    (void)state;
    /* Unpadded, so that each "found '...'" shows exactly the text that follows. */
    FAIL_EACH("", "", 0, malformed_whole);
    FAIL_EACH("{" OK_D ", 'fortran_order': ", "", 0, malformed_fortran_order);
    FAIL_EACH(SHAPE_AT, "", 0, malformed_shape);
}

static void test_nul_in_header(void **state)
{
    (void)state;
    static const char hdr[] = "{'descr': '<f4',\0'fortran_order': False, 'shape': (3,), }";
    size_t len;
    unsigned char *img = make_npy_v(1, 0, hdr, sizeof hdr - 1, 1, three_le, 12, &len);
    expect_fail_len(img, len, "expected a quoted key or '}', found '?'fortran", "NUL");
    free(img);
}

static void test_missing_keys(void **state)
{
    (void)state;
    static const bad_input missing[] = {
        {"{" OK_F ", " OK_S "}", "missing key 'descr' in header dict"},
        {"{" OK_D ", " OK_S "}", "missing key 'fortran_order' in header dict"},
        {"{" OK_D ", " OK_F "}", "missing key 'shape' in header dict"},
        {"{}", "missing key 'descr'"},
        {"{,}", "malformed header dict"},
    };
    FAIL_EACH("", "", 1, missing);
}

/* Each descr in an otherwise good header. */
static const bad_input bad_dtypes[] = {
    {"<i4", "unsupported dtype '<i4' (expected float32 '<f4' or float64 '<f8')"},
    {">f4", "big-endian data '>f4' is not supported"},
    {">f8", "big-endian data '>f8' is not supported"},
    {"|O", "object arrays ('|O') are not supported"},
    {"O", "object arrays ('O')"},
    {"|O8", "object arrays ('|O8')"},
    {"<f2", "unsupported dtype '<f2'"},
    {"<f16", "unsupported dtype '<f16'"},
    {"<c8", "unsupported dtype '<c8'"},
    {"|u1", "unsupported dtype '|u1'"},
    {">i4", "unsupported dtype '>i4'"},
    {"<U3", "unsupported dtype '<U3'"},
    {"float32", "unsupported dtype 'float32'"},
    {"f4", "unsupported dtype 'f4'"},
    {"<f4 ", "unsupported dtype '<f4 '"},
    {" <f4", "unsupported dtype ' <f4'"},
    {"", "unsupported dtype ''"},
    {"<F4", "unsupported dtype '<F4'"},
    {"abcdefghijklmnopqrstuvwxyz0123456789", "unsupported dtype 'abcdefghijklmnopqrstuvwxyz01...'"},
    {"\x01\x7f<f4", "unsupported dtype '?\?<f4'"},
};

static void test_dtypes(void **state)
{
    (void)state;
    FAIL_EACH("{'descr': '", "', " OK_F ", " OK_S "}", 1, bad_dtypes);
}

static void test_fortran_order(void **state)
{
    (void)state;
    expect_fail_hdr("{" OK_D ", 'fortran_order': True, " OK_S "}", three_le, 12,
                    "Fortran-order arrays are not supported");
    expect_fail_hdr("{" OK_D ", 'fortran_order': True, 'shape': (), }", three_le, 4,
                    "Fortran-order arrays are not supported");
}

static void test_shape_too_large(void **state)
{
    (void)state;
    static const bad_input bad[] = {
        {"(1099511627776, 1099511627776, 1, 1)",
         "shape (1099511627776, 1099511627776, 1, 1) is too large"},
        {"(4294967296, 4294967296)", "shape (4294967296, 4294967296) is too large"},
        {"(4611686018427387904,)", "shape (4611686018427387904,) is too large"},
        {"(18446744073709551615,)", "is too large"},
        /* A zero dim makes the count 0, but the other dims must still be sane. */
        {"(1099511627776, 1099511627776, 0)",
         "shape (1099511627776, 1099511627776, 0) is too large"},
        /* Huge but representable: caught by the data length, with no allocation. */
        {"(1099511627776,)", "header says 4398046511104 bytes of data but the file has 12"},
        {"(262144,)", "header says 1048576 bytes of data but the file has 12"},
    };
    if (SIZE_MAX != UINT64_MAX)
        skip();
    FAIL_EACH(SHAPE_AT, ", }", 1, bad);
    expect_fail_hdr("{'descr': '<f8', " OK_F ", 'shape': (2305843009213693952,), }", three_le, 12,
                    "shape (2305843009213693952,) is too large");
}

static void test_data_length_mismatch(void **state)
{
    (void)state;
    unsigned char data[4096] = {0};
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (1000,), }", three_le, 12,
                    "header says 4000 bytes of data but the file has 12");
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (3,), }", data, 16,
                    "header says 12 bytes of data but the file has 16");
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (3,), }", data, 13,
                    "header says 12 bytes of data but the file has 13");
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (0,), }", data, 4,
                    "header says 0 bytes of data but the file has 4");
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (), }", data, 0,
                    "header says 4 bytes of data but the file has 0");
    expect_fail_hdr("{'descr': '<f8', " OK_F ", 'shape': (3,), }", data, 12,
                    "header says 24 bytes of data but the file has 12");
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (1048576,), }", data, 4096,
                    "header says 4194304 bytes of data but the file has 4096");
}

static void test_dims(void **state)
{
    (void)state;
    char hdr[1024];
    size_t len, shape[8] = {1, 1, 1, 1, 1, 1, 1, 3}, n;
    unsigned char *img;
    npy_array a = {0};
    static const bad_input negative[] = {
        {"(-1,)", "negative dimension -1 in shape"},
        {"(3, -2)", "negative dimension -2 in shape"},
        {"(-99999999999999999999999,)", "negative dimension -99999999999999999999999 in shape"},
    };
    expect_fail_hdr("{" OK_D ", " OK_F ", 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 3), }", three_le, 12,
                    "shape has 9 dimensions (at most 8 are supported)");
    n = (size_t)snprintf(hdr, sizeof hdr, "{" OK_D ", " OK_F ", 'shape': (");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(hdr + n, sizeof hdr - n, "1, ");
    snprintf(hdr + n, sizeof hdr - n, "3), }");
    expect_fail_hdr(hdr, three_le, 12, "shape has 101 dimensions");
    img = make_npy("{" OK_D ", " OK_F ", 'shape': (1, 1, 1, 1, 1, 1, 1, 3), }", three_le, 12, &len);
    expect_ok(img, len, 8, shape, 3, &a, "8 dims");
    npy_free(&a);
    free(img);
    FAIL_EACH(SHAPE_AT, ", }", 1, negative);
}

static void test_read_file_errors(void **state)
{
    const char *dir = *state;
    char path[512], err[256];
    npy_array a = {0};
    snprintf(path, sizeof path, "%s/missing.npy", dir);
    assert_int_equal(npy_read_file(path, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open: No such file or directory"));
    assert_null(strstr(err, dir));
    assert_int_equal(npy_read_file(dir, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "Is a directory"));
    assert_null(strstr(err, dir));
    snprintf(path, sizeof path, "%s/empty.npy", dir);
    spit(path, "", 0);
    assert_int_equal(npy_read_file(path, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(npy_read_file(NULL, &a, err, sizeof err), -1);
    assert_null(a.data);
}

static void test_error_buffer(void **state)
{
    (void)state;
    char err[5];
    npy_array a = {0};
    assert_int_equal(npy_read_memory("garbage", 7, &a, NULL, 0), -1);
    assert_int_equal(npy_read_memory("garbage", 7, &a, err, 0), -1);
    memset(err, 'x', sizeof err);
    assert_int_equal(npy_read_memory("garbage", 7, &a, err, sizeof err), -1);
    assert_int_equal(strlen(err), 4);
    assert_int_equal(npy_write_file(NULL, NULL, 0, NULL, NULL, 0), -1);
    npy_free(NULL);
    npy_free(&a);
    npy_free(&a);
}

/* ---- mutation fuzz ---- */

static size_t pick_pos(size_t len)
{
    /* Mostly the prefix and header, where the parser lives. */
    size_t hot = len < 140 ? len : 140;
    return (rng() % 4 != 0 ? rng() % hot : rng() % len);
}

static size_t mutate(unsigned char *buf, size_t len, size_t cap, const unsigned char *donor,
                     size_t donor_len)
{
    static const char interesting[] = "{}()[],:'\" \n\t0123456789-+.TrueFalsedcrhapo<>=|fiO48_x";
    for (int ops = 1 + (int)(rng() % 3); ops > 0; ops--) {
        size_t a, n;
        switch (rng() % 7) {
        case 0: /* flip a bit */
            if (len)
                buf[pick_pos(len)] ^= (unsigned char)(1u << (rng() % 8));
            break;
        case 1: /* a syntax-relevant character */
            if (len)
                buf[pick_pos(len)] = (unsigned char)interesting[rng() % (sizeof interesting - 1)];
            break;
        case 2: /* truncate */ len = rng() % (len + 1); break;
        case 3: /* delete a segment */
            if (len) {
                a = rng() % len;
                n = rng() % (len - a < 16 ? len - a + 1 : 17);
                memmove(buf + a, buf + a + n, len - a - n);
                len -= n;
            }
            break;
        case 4: /* splice in a segment of a donor file */
            a = rng() % (len + 1);
            n = 1 + rng() % 24;
            if (n > donor_len)
                n = donor_len;
            if (n > cap - len)
                n = cap - len;
            memmove(buf + a + n, buf + a, len - a);
            memcpy(buf + a, donor + rng() % (donor_len - n + 1), n);
            len += n;
            break;
        case 5: /* the header length field */
            if (len >= 12)
                buf[8 + rng() % 4] = (unsigned char)rng();
            break;
        default: /* a random byte */
            if (len)
                buf[pick_pos(len)] = (unsigned char)rng();
            break;
        }
    }
    return len;
}

/* Mutates the header text only and rebuilds a consistent prefix, so that
 * mutations reach deep into the parser instead of failing on the length. */
static unsigned char *mutate_header(const char *hdr, const unsigned char *data, size_t data_len,
                                    size_t *out_len)
{
    unsigned char text[512];
    size_t n = strlen(hdr), major = 1 + rng() % 3;
    memcpy(text, hdr, n);
    n = mutate(text, n, sizeof text, (const unsigned char *)hdr, strlen(hdr));
    return make_npy_v((unsigned)major, 0, (const char *)text, n, (int)(rng() % 2), data,
                      rng() % 8 == 0 ? rng() % (data_len + 1) : data_len, out_len);
}

static void test_mutation_fuzz(void **state)
{
    (void)state;
    static const char *const headers[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
        "{\"shape\": (6, 2), \"fortran_order\": False, \"descr\": \"<f4\"}",
        /* Header mutations only: a lying shape, to reach the overflow checks. */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776, 1, 1), }",
    };
    static const size_t data_lens[] = {96, 24, 4, 48, 16};
    unsigned char data[256], *bases[4], work[1024];
    size_t base_len[4], successes = 0, failures = 0;
    rng_seed(20240611);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)rng();
    bases[0] = make_npy(headers[0], data, 96, &base_len[0]);
    bases[1] = make_npy_v(2, 0, headers[1], strlen(headers[1]), 1, data, 24, &base_len[1]);
    bases[2] = make_npy_v(3, 0, headers[2], strlen(headers[2]), 0, data, 4, &base_len[2]);
    bases[3] = make_npy(headers[3], data, 48, &base_len[3]);
    for (int iter = 0; iter < 20000; iter++) {
        size_t b = rng() % 5, len, start, hlen;
        unsigned char *img;
        npy_array a;
        char err[256] = "";
        int rc;
        if (rng() % 2) {
            img = mutate_header(headers[b], data, data_lens[b], &len);
        } else {
            b %= 4;
            memcpy(work, bases[b], base_len[b]);
            size_t donor = rng() % 4;
            len = mutate(work, base_len[b], sizeof work, bases[donor], base_len[donor]);
            img = malloc(len ? len : 1); /* exact size, so ASan flags any over-read */
            assert_non_null(img);
            memcpy(img, work, len);
        }
        memset(&a, 0x5a, sizeof a);
        rc = npy_read_memory(img, len, &a, err, sizeof err);
        if (rc == 0) {
            size_t count = 1, bytes = 0;
            uint32_t sum = 0;
            successes++;
            assert_true(a.ndim <= NPY_MAX_DIMS);
            for (size_t i = 0; i < a.ndim; i++)
                count *= a.shape[i];
            assert_int_equal(a.count, count);
            assert_non_null(a.data);
            start = img[6] == 1 ? 10 : 12;
            hlen = (size_t)img[8] | (size_t)img[9] << 8;
            if (start == 12)
                hlen |= (size_t)img[10] << 16 | (size_t)img[11] << 24;
            bytes = len - start - hlen;
            assert_true(bytes == a.count * 4 || bytes == a.count * 8);
            for (size_t i = 0; i < a.count; i++) /* touches every float: ASan checks the size */
                sum += float_bits(a.data[i]);
            (void)sum;
            npy_free(&a);
        } else {
            failures++;
            assert_int_equal(rc, -1);
            if (err[0] == '\0' || strchr(err, '\n'))
                fail_msg("iteration %d: bad message '%s'", iter, err);
            assert_null(a.data);
            assert_int_equal(a.count, 0);
        }
        free(img);
    }
    for (int i = 0; i < 4; i++)
        free(bases[i]);
    print_message("mutation fuzz: %zu accepted, %zu rejected\n", successes, failures);
    assert_true(successes > 100);
    assert_true(failures > 100);
}

TEST_MAIN_AFTER(init_three(), NULL, NULL, cmocka_unit_test(test_read_header_variants),
                cmocka_unit_test(test_read_versions_by_hand),
                cmocka_unit_test(test_read_zero_d_and_empty),
                cmocka_unit_test(test_read_f8_conversion),
                cmocka_unit_test(test_empty_and_bad_magic),
                cmocka_unit_test(test_unsupported_versions),
                cmocka_unit_test_setup_teardown(test_every_truncation, setup_dir, teardown_dir),
                cmocka_unit_test(test_header_length_past_end),
                cmocka_unit_test(test_malformed_dicts), cmocka_unit_test(test_nul_in_header),
                cmocka_unit_test(test_missing_keys), cmocka_unit_test(test_dtypes),
                cmocka_unit_test(test_fortran_order), cmocka_unit_test(test_shape_too_large),
                cmocka_unit_test(test_data_length_mismatch), cmocka_unit_test(test_dims),
                cmocka_unit_test_setup_teardown(test_read_file_errors, setup_dir, teardown_dir),
                cmocka_unit_test(test_error_buffer), cmocka_unit_test(test_mutation_fuzz))
