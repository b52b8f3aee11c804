/* SPDX-License-Identifier: Apache-2.0 */
/* npy_test_util.h: helpers shared by the .npy reader and writer tests (rng, files, .npy images). */
#ifndef CLNORM_NPY_TEST_UTIL_H
#define CLNORM_NPY_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64*: deterministic, so every failure reproduces. */
void rng_seed(uint64_t seed);
uint32_t rng(void);

float bits_to_float(uint32_t u);
uint32_t float_bits(float f);
/* n bytes of v, little-endian, at p. */
void put_le(unsigned char *p, uint64_t v, size_t n);
void put_f32(unsigned char *p, float f);
void put_f64(unsigned char *p, double d);

/* Removes path and, for a directory, everything under it. */
void rm_rf(const char *path);
/* cmocka fixture: a fresh directory under /tmp as the test's state, removed
 * by the teardown even when the test fails. */
int setup_dir(void **state);
int teardown_dir(void **state);
/* Entries of dir other than . and .., and (when temps is not NULL) how many
 * look like npy.c's temporary files (".npy-tmp-*"). */
size_t dir_entries(const char *dir, size_t *temps);
/* A whole file, malloc'ed (one spare byte); asserts on failure. */
unsigned char *slurp(const char *path, size_t *len);
/* Writes n bytes to path (created or truncated); asserts on failure. */
void spit(const char *path, const void *p, size_t n);

/* Builds a .npy image: magic, version, header length (2 bytes for 1.x, else
 * 4), the header text (padded like NumPy when pad is set), then data. */
unsigned char *make_npy_v(unsigned major, unsigned minor, const char *hdr, size_t hdr_len, int pad,
                          const void *data, size_t data_len, size_t *out_len);
/* A version 1.0 image with a NumPy-padded header. */
unsigned char *make_npy(const char *hdr, const void *data, size_t data_len, size_t *out_len);

/* {1.5, -2, 3.25}, its shape (3,) and its little-endian bytes (filled by
 * init_three()). */
extern const float three[3];
extern const size_t three_shape[1];
extern unsigned char three_le[12];
void init_three(void);

/* A bad input (a header, a dtype, a file) and a phrase its error message must
 * hold: the row of every error table in the .npy and tool tests. */
typedef struct {
    const char *input, *needle;
} bad_input;

#endif
