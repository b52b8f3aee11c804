/* SPDX-License-Identifier: Apache-2.0 */
/* test_npy_ints.c: the .npy reader for integers (class labels): '<i4' and
 * '<i8' exactly, sign included; every other dtype, big-endian data and a
 * wrong data length refused with the readers' messages. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "npy_test_util.h"
#include "test_main.h"

static void read_ok(const char *hdr, const void *data, size_t len, const int64_t *want, size_t n)
{
    size_t img_len;
    unsigned char *img = make_npy(hdr, data, len, &img_len);
    npy_ints a;
    char err[256] = "";
    if (npy_read_ints_memory(img, img_len, &a, err, sizeof err) != 0)
        fail_msg("%s: %s", hdr, err);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.count, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(a.data[i] == want[i]);
    npy_ints_free(&a);
    npy_ints_free(&a); /* idempotent */
    free(img);
}

static void read_fails(const char *hdr, const void *data, size_t len, const char *needle)
{
    size_t img_len;
    unsigned char *img = make_npy(hdr, data, len, &img_len);
    npy_ints a;
    char err[256] = "";
    assert_int_equal(npy_read_ints_memory(img, img_len, &a, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("%s: '%s' lacks '%s'", hdr, err, needle);
    assert_null(a.data);
    free(img);
}

static void test_widths_and_signs(void **state)
{
    (void)state;
    /* little-endian bytes, whatever the host */
    const unsigned char i4[16] = {0xfe, 0xff, 0xff, 0xff, 0,    0,    0,    0,
                                  7,    0,    0,    0,    0xff, 0xff, 0xff, 0x7f};
    const int64_t want4[4] = {-2, 0, 7, INT32_MAX};
    read_ok("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", i4, 16, want4, 4);
    const unsigned char i8[24] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0, 1, 0, 0};
    const int64_t want8[3] = {-1, 5, (int64_t)1 << 40};
    read_ok("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i8, 24, want8, 3);
}

static void test_refused(void **state)
{
    (void)state;
    const unsigned char four[16] = {0};
    read_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four, 16,
               "unsupported dtype '<f4' (expected int32 '<i4' or int64 '<i8')");
    read_fails("{'descr': '<i2', 'fortran_order': False, 'shape': (8,), }", four, 16,
               "unsupported dtype '<i2'");
    read_fails("{'descr': '<u4', 'fortran_order': False, 'shape': (4,), }", four, 16,
               "unsupported dtype '<u4'");
    read_fails("{'descr': '>i4', 'fortran_order': False, 'shape': (4,), }", four, 16,
               "big-endian data '>i4' is not supported");
    read_fails("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", four, 16,
               "header says 32 bytes of data but the file has 16");
    /* and the float reader still refuses integers */
    size_t len;
    unsigned char *img =
        make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", four, 16, &len);
    npy_array f;
    char err[256] = "";
    assert_int_equal(npy_read_memory(img, len, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected float32 '<f4' or float64 '<f8'"));
    free(img);
}

static void test_from_a_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_npy_ints.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const unsigned char i4[8] = {3, 0, 0, 0, 1, 0, 0, 0};
    size_t len;
    unsigned char *img =
        make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", i4, 8, &len);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(img);
    npy_ints a;
    char err[256] = "";
    assert_int_equal(npy_read_ints_file(path, &a, err, sizeof err), 0);
    assert_true(a.count == 2 && a.data[0] == 3 && a.data[1] == 1);
    npy_ints_free(&a);
    remove(path);
    assert_int_equal(npy_read_ints_file(path, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
}

TEST_MAIN(NULL, NULL, cmocka_unit_test(test_widths_and_signs), cmocka_unit_test(test_refused),
          cmocka_unit_test(test_from_a_file))
