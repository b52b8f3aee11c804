/* SPDX-License-Identifier: Apache-2.0 */
/* sha256.c: SHA-256 written from the FIPS 180-4 definition (sections 4.1.2, 4.2.2, 5, 6.2). */
#include "sha256.h"

#include <string.h>

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

/* The six logical functions of FIPS 180-4 section 4.1.2. */
static uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

/* Process one 512-bit block (section 6.2.2). */
static void compress(uint32_t state[8], const unsigned char *p)
{
    uint32_t w[64];
    for (unsigned t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (unsigned t = 16; t < 64; t++)
        w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];

    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (unsigned t = 0; t < 64; t++) {
        uint32_t t1 = h + big_sigma1(e) + ch(e, f, g) + K[t] + w[t];
        uint32_t t2 = big_sigma0(a) + maj(a, b, c);
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void clnorm__sha256_init(clnorm__sha256_ctx *ctx)
{
    /* Initial hash value, section 5.3.3. */
    static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(ctx->state, h0, sizeof h0);
    ctx->total = 0;
    ctx->used = 0;
}

void clnorm__sha256_update(clnorm__sha256_ctx *ctx, const void *data, size_t size)
{
    const unsigned char *p = data;
    if (size == 0)
        return; /* data may be NULL then; memcpy must not see it */
    ctx->total += size;
    /* Top up a pending partial block first. */
    if (ctx->used > 0) {
        size_t take = CLNORM_SHA256_BLOCK_SIZE - ctx->used;
        if (take > size)
            take = size;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        size -= take;
        if (ctx->used < CLNORM_SHA256_BLOCK_SIZE)
            return;
        compress(ctx->state, ctx->block);
        ctx->used = 0;
    }
    /* Whole blocks straight from the input, no copy. */
    for (; size >= CLNORM_SHA256_BLOCK_SIZE;
         p += CLNORM_SHA256_BLOCK_SIZE, size -= CLNORM_SHA256_BLOCK_SIZE)
        compress(ctx->state, p);
    if (size > 0) {
        memcpy(ctx->block, p, size);
        ctx->used = size;
    }
}

void clnorm__sha256_final(clnorm__sha256_ctx *ctx, unsigned char digest[CLNORM_SHA256_DIGEST_SIZE])
{
    /* Padding (section 5.1.1): a 1 bit, zeros, then the length in bits as 64-bit big-endian. */
    uint64_t bits = ctx->total * 8u;
    unsigned char pad[CLNORM_SHA256_BLOCK_SIZE] = {0x80};
    size_t zeros = (ctx->used < 56 ? 56 : 120) - ctx->used; /* 0x80 included, at most 64 */
    clnorm__sha256_update(ctx, pad, zeros);
    unsigned char len[8];
    for (unsigned i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    clnorm__sha256_update(ctx, len, sizeof len);

    for (unsigned i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (unsigned char)ctx->state[i];
    }
}

void clnorm__sha256(const void *data, size_t size, unsigned char digest[CLNORM_SHA256_DIGEST_SIZE])
{
    clnorm__sha256_ctx ctx;
    clnorm__sha256_init(&ctx);
    clnorm__sha256_update(&ctx, data, size);
    clnorm__sha256_final(&ctx, digest);
}
