/* SPDX-License-Identifier: Apache-2.0 */
/* cache.h: the on-disk program-binary cache (private).
 *
 * Entries are native code on CPU devices, so the cache is guarded: its
 * directory is created 0700, a directory other users can write to is not
 * used, and each entry carries a magic header, its length and a SHA-256 of its
 * content that is verified before use. Any problem with an entry (missing,
 * truncated, corrupt, wrong key, unsafe directory) is a miss, never an error. */
#ifndef CLNORM_CACHE_H
#define CLNORM_CACHE_H

#include <stddef.h>

#define CLNORM_CACHE_KEY_SIZE 32

/* Key = SHA-256 over the given parts, each prefixed by its length so that
 * ("ab","c") and ("a","bc") differ. */
void clnorm__cache_key(const void *const *parts, const size_t *lengths, size_t count,
                       unsigned char key[CLNORM_CACHE_KEY_SIZE]);

/* The cache directory: $CLNORM_CACHE_DIR if set and non-empty, else
 * $XDG_CACHE_HOME/clnorm, else $HOME/.cache/clnorm. Returns 0 and writes the
 * path (NUL-terminated) to buf, or -1 when it cannot be determined, does not
 * fit, or the cache is turned off (CLNORM_CACHE_DIR="off" or CLNORM_CACHE=0). */
int clnorm__cache_dir(char *buf, size_t size);

/* Load the entry for `key` from `dir`. Returns a buffer from clnorm__malloc
 * (caller frees with clnorm__free) and its length, or NULL on any miss. */
unsigned char *clnorm__cache_load(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE],
                                  size_t *length);

/* Store an entry atomically (temporary file in `dir`, fsync-free rename).
 * Creates `dir` (0700, parents as needed). Returns 0 on success, -1 on any
 * failure (the caller ignores it: the cache is best effort). Never leaves a
 * temporary file behind. */
int clnorm__cache_store(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE],
                        const unsigned char *data, size_t length);

#endif
