/* SPDX-License-Identifier: Apache-2.0 */
/* sha256.h: a small self-contained SHA-256 (FIPS 180-4), used to key and check cache entries. */
#ifndef CLNORM_SHA256_H
#define CLNORM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CLNORM_SHA256_DIGEST_SIZE 32
#define CLNORM_SHA256_BLOCK_SIZE 64

typedef struct clnorm__sha256_ctx {
    uint32_t state[8];
    uint64_t total;                                /* bytes hashed so far */
    unsigned char block[CLNORM_SHA256_BLOCK_SIZE]; /* pending partial block */
    size_t used;                                   /* bytes pending in block */
} clnorm__sha256_ctx;

void clnorm__sha256_init(clnorm__sha256_ctx *ctx);
void clnorm__sha256_update(clnorm__sha256_ctx *ctx, const void *data, size_t size);
/* Writes the digest; the context must be re-initialised before reuse. */
void clnorm__sha256_final(clnorm__sha256_ctx *ctx, unsigned char digest[CLNORM_SHA256_DIGEST_SIZE]);
/* One-shot helper: digest of `size` bytes at `data`. */
void clnorm__sha256(const void *data, size_t size, unsigned char digest[CLNORM_SHA256_DIGEST_SIZE]);

#endif
