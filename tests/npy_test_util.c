/* SPDX-License-Identifier: Apache-2.0 */
/* npy_test_util.c: helpers shared by test_npy_read.c and test_npy_write.c (rng, files, .npy images). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "npy_test_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

void rng_seed(uint64_t seed) { rng_state = seed ? seed : 1; }

/* xorshift64*: deterministic, so every failure reproduces. */
uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void put_f32(unsigned char *p, float f) { put_le(p, float_bits(f), 4); }

void put_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(p, u, 8);
}

void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[4096];
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Fixture: a fresh directory under /tmp as the test's state. cmocka runs the
 * teardown even when the test fails, so nothing is left behind. */
int setup_dir(void **state)
{
    char tmpl[] = "/tmp/test_npy.XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

int teardown_dir(void **state)
{
    if (*state)
        rm_rf(*state);
    free(*state);
    return 0;
}

/* Entries of dir other than . and .., and how many look like our temp files. */
size_t dir_entries(const char *dir, size_t *temps)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    assert_non_null(d);
    if (temps)
        *temps = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (temps && strncmp(e->d_name, ".npy-tmp-", 9) == 0)
            (*temps)++;
    }
    closedir(d);
    return n;
}

unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long size;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Builds a .npy image: magic, version, header length (2 bytes for 1.x, else
 * 4), the header text (padded like NumPy when pad is set), then data. */
unsigned char *make_npy_v(unsigned major, unsigned minor, const char *hdr, size_t hdr_len, int pad,
                          const void *data, size_t data_len, size_t *out_len)
{
    size_t prefix = major == 1 ? 10 : 12, total_hdr = hdr_len;
    unsigned char *buf;
    if (pad)
        while ((prefix + total_hdr + 1) % 64 != 0)
            total_hdr++;
    total_hdr += pad ? 1 : 0;
    buf = malloc(prefix + total_hdr + data_len + 1);
    assert_non_null(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = (unsigned char)minor;
    put_le(buf + 8, total_hdr, prefix - 8);
    memcpy(buf + prefix, hdr, hdr_len);
    if (pad) {
        memset(buf + prefix + hdr_len, ' ', total_hdr - hdr_len);
        buf[prefix + total_hdr - 1] = '\n';
    }
    if (data_len)
        memcpy(buf + prefix + total_hdr, data, data_len);
    *out_len = prefix + total_hdr + data_len;
    return buf;
}

unsigned char *make_npy(const char *hdr, const void *data, size_t data_len, size_t *out_len)
{
    return make_npy_v(1, 0, hdr, strlen(hdr), 1, data, data_len, out_len);
}

const float three[3] = {1.5f, -2.0f, 3.25f};
const size_t three_shape[1] = {3};
unsigned char three_le[12];

void init_three(void)
{
    for (int i = 0; i < 3; i++)
        put_f32(three_le + 4 * i, three[i]);
}
