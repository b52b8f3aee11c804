/* SPDX-License-Identifier: Apache-2.0 */
/* cache.c: the on-disk program-binary cache (guarded directory, verified entries, atomic stores). */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE                                                                              \
    700 /* POSIX 2008 (mkstemp, lstat, O_NOFOLLOW, fstatat) + XSI (realpath, S_ISVTX) */
#endif

#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "sha256.h"

/* Entry layout: magic, version (u32 LE), key, payload length (u64 LE), SHA-256 of payload, payload. */
#define MAGIC "CLNORMPB"
#define MAGIC_SIZE 8
#define FORMAT_VERSION 1u
#define OFF_VERSION MAGIC_SIZE
#define OFF_KEY (OFF_VERSION + 4)
#define OFF_LENGTH (OFF_KEY + CLNORM_CACHE_KEY_SIZE)
#define OFF_DIGEST (OFF_LENGTH + 8)
#define HEADER_SIZE (OFF_DIGEST + CLNORM_SHA256_DIGEST_SIZE)

#define ENTRY_SUFFIX ".bin"
/* Temporaries are "<dir>/.clnorm-tmp-XXXXXX" (mkstemp): one left by a killed
 * process is recognisable, and removed by a later run once it is older than
 * STALE_SECONDS (a younger one may be a concurrent store in progress). */
#define TEMP_PREFIX ".clnorm-tmp-"
#define TEMP_NAME TEMP_PREFIX "XXXXXX"
#define STALE_SECONDS (10 * 60)

static void put_le(unsigned char *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void clnorm__cache_key(const void *const *parts, const size_t *lengths, size_t count,
                       unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    clnorm__sha256_ctx ctx;
    clnorm__sha256_init(&ctx);
    for (size_t i = 0; i < count; i++) {
        /* Length prefix keeps the concatenation unambiguous. */
        unsigned char len[8];
        put_le(len, (uint64_t)lengths[i], 8);
        clnorm__sha256_update(&ctx, len, sizeof len);
        clnorm__sha256_update(&ctx, parts[i], lengths[i]);
    }
    clnorm__sha256_final(&ctx, key);
}

/* buf = a + b, or -1 when it does not fit. */
static int join2(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s%s", a, b);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int clnorm__cache_dir(char *buf, size_t size)
{
    if (!buf || size == 0)
        return -1;
    const char *off = getenv("CLNORM_CACHE");
    if (off && strcmp(off, "0") == 0)
        return -1;
    const char *dir = getenv("CLNORM_CACHE_DIR");
    if (dir && strcmp(dir, "off") == 0)
        return -1;
    if (dir && *dir)
        return join2(buf, size, dir, "");
    /* The XDG Base Directory specification: a relative path is invalid and ignored. */
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return join2(buf, size, xdg, "/clnorm");
    const char *home = getenv("HOME");
    if (home && *home)
        return join2(buf, size, home, "/.cache/clnorm");
    return -1;
}

/* Newly allocated "dir" without trailing slashes (so lstat sees a symlink
 * itself, not its target), followed by "/name" when name is given. */
static char *make_path(const char *dir, const char *name)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    size_t nlen = name ? strlen(name) + 1 : 0;
    char *path = clnorm__malloc(dlen + nlen + 1);
    if (!path)
        return NULL;
    memcpy(path, dir, dlen);
    if (name) {
        path[dlen] = '/';
        memcpy(path + dlen + 1, name, nlen - 1);
    }
    path[dlen + nlen] = '\0';
    return path;
}

/* Whether every ancestor directory of `path` (absolute, or taken from the
 * working directory) keeps others from replacing what is below it: owned by
 * root or us, and writable by nobody else unless sticky (as /tmp is). */
static int ancestors_are_safe(const char *path)
{
    char cwd[4096];
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return 0;
    char *abs = make_path(path[0] == '/' ? path : cwd, path[0] == '/' ? NULL : path);
    if (!abs)
        return 0;
    int safe = 1;
    for (char *p = strrchr(abs, '/'); safe && p; p = strrchr(abs, '/')) {
        *p = '\0'; /* abs is now the parent of what it was */
        struct stat st;
        if (stat(*abs ? abs : "/", &st) != 0 || !S_ISDIR(st.st_mode) ||
            (st.st_uid != 0 && st.st_uid != geteuid()) ||
            ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
            safe = 0;
        if (!*abs)
            break;
    }
    clnorm__free(abs);
    return safe;
}

/* Entries are code we will run: only a real directory of ours that no one
 * else can write, under ancestors no one else can swap it out of (checked as
 * named and as resolved, so a symlinked ancestor does not hide either side). */
static int dir_is_safe(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return 0;
    char *real = realpath(dir, NULL);
    int safe = real && ancestors_are_safe(dir) && ancestors_are_safe(real);
    free(real); /* realpath's malloc */
    return safe;
}

/* Remove temporaries that a killed process left in `dir` (see TEMP_NAME):
 * regular files of ours with exactly that name shape, older than STALE_SECONDS.
 * Nothing else is ever touched. Best effort: errors are ignored. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t plen = sizeof TEMP_PREFIX - 1;
        if (strncmp(name, TEMP_PREFIX, plen) != 0 || strlen(name) != plen + 6)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() && now - st.st_mtime > STALE_SECONDS)
            (void)unlinkat(dirfd(d), name, 0);
    }
    closedir(d);
}

static char *entry_path(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    char name[2 * CLNORM_CACHE_KEY_SIZE + sizeof ENTRY_SUFFIX];
    for (size_t i = 0; i < CLNORM_CACHE_KEY_SIZE; i++) {
        name[2 * i] = hex[key[i] >> 4];
        name[2 * i + 1] = hex[key[i] & 15];
    }
    memcpy(name + 2 * CLNORM_CACHE_KEY_SIZE, ENTRY_SUFFIX, sizeof ENTRY_SUFFIX);
    return make_path(dir, name);
}

/* Read (or write) exactly `size` bytes, resuming after short transfers and
 * EINTR; -1 on error or an early end of file. */
static int transfer(int fd, unsigned char *buf, size_t size, int writing)
{
    while (size > 0) {
        ssize_t n = writing ? write(fd, buf, size) : read(fd, buf, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        size -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, unsigned char *buf, size_t size) { return transfer(fd, buf, size, 0); }

static int write_all(int fd, const unsigned char *buf, size_t size)
{
    return transfer(fd, (unsigned char *)buf, size, 1); /* not written to when writing */
}

/* Reads and verifies an opened entry; NULL on any mismatch. */
static unsigned char *read_entry(int fd, const unsigned char key[CLNORM_CACHE_KEY_SIZE],
                                 size_t *length)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_size < (off_t)HEADER_SIZE)
        return NULL;

    unsigned char header[HEADER_SIZE];
    if (read_all(fd, header, sizeof header) != 0)
        return NULL;
    if (memcmp(header, MAGIC, MAGIC_SIZE) != 0 ||
        get_le(header + OFF_VERSION, 4) != FORMAT_VERSION ||
        memcmp(header + OFF_KEY, key, CLNORM_CACHE_KEY_SIZE) != 0)
        return NULL;
    /* The claimed length must match the file exactly before anything is allocated. */
    uint64_t claimed = get_le(header + OFF_LENGTH, 8);
    uint64_t actual = (uint64_t)st.st_size - HEADER_SIZE;
    if (claimed != actual || claimed > SIZE_MAX)
        return NULL;

    size_t size = (size_t)claimed;
    unsigned char *data = clnorm__malloc(size);
    if (!data)
        return NULL;
    unsigned char extra, digest[CLNORM_SHA256_DIGEST_SIZE];
    ssize_t tail;
    if (read_all(fd, data, size) != 0)
        goto fail;
    /* The file must end here, even if it grew since fstat. */
    do
        tail = read(fd, &extra, 1);
    while (tail < 0 && errno == EINTR);
    if (tail != 0)
        goto fail;
    clnorm__sha256(data, size, digest);
    if (memcmp(digest, header + OFF_DIGEST, sizeof digest) != 0)
        goto fail;
    *length = size;
    return data;
fail:
    clnorm__free(data);
    return NULL;
}

unsigned char *clnorm__cache_load(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE],
                                  size_t *length)
{
    if (!dir || !*dir || !key || !length)
        return NULL;
    *length = 0;
    char *base = make_path(dir, NULL);
    char *path = entry_path(dir, key);
    unsigned char *data = NULL;
    if (base && path && dir_is_safe(base)) {
        remove_stale_temps(base);
        /* O_NONBLOCK so a FIFO planted here cannot hang us; fstat rejects it after. */
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            data = read_entry(fd, key, length);
            close(fd);
        }
    }
    clnorm__free(path);
    clnorm__free(base);
    return data;
}

/* mkdir -p with mode 0700 for every directory created. */
static int make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        /* A failing mkdir is fine when a directory is already there (EEXIST, EROFS, EACCES...). */
        int ok = mkdir(path, 0700) == 0 || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
        *p = saved;
        if (!ok)
            return -1;
        if (saved == '\0')
            return 0;
        while (p[1] == '/')
            p++;
    }
}

/* Writes header and payload to a fresh temporary file and renames it onto `path`. */
static int write_entry(const char *base, const char *path,
                       const unsigned char key[CLNORM_CACHE_KEY_SIZE], const unsigned char *data,
                       size_t length)
{
    unsigned char header[HEADER_SIZE];
    memcpy(header, MAGIC, MAGIC_SIZE);
    put_le(header + OFF_VERSION, FORMAT_VERSION, 4);
    memcpy(header + OFF_KEY, key, CLNORM_CACHE_KEY_SIZE);
    put_le(header + OFF_LENGTH, (uint64_t)length, 8);
    clnorm__sha256(data, length, header + OFF_DIGEST);

    char *temp = make_path(base, TEMP_NAME);
    if (!temp)
        return -1;
    int fd = mkstemp(temp); /* 0600, O_EXCL */
    if (fd < 0) {
        clnorm__free(temp);
        return -1;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC); /* best effort: not leaked into exec'd children */
    int failed = write_all(fd, header, sizeof header) != 0 || write_all(fd, data, length) != 0;
    /* close() reports deferred write errors, so its result counts too. */
    if (close(fd) != 0)
        failed = 1;
    if (!failed && rename(temp, path) != 0)
        failed = 1;
    if (failed)
        unlink(temp);
    clnorm__free(temp);
    return failed ? -1 : 0;
}

int clnorm__cache_store(const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE],
                        const unsigned char *data, size_t length)
{
    if (!dir || !*dir || !key || (!data && length > 0))
        return -1;
    char *base = make_path(dir, NULL);
    char *path = entry_path(dir, key);
    int rc = -1;
    if (base && path && make_dirs(base) == 0 && dir_is_safe(base)) {
        remove_stale_temps(base);
        rc = write_entry(base, path, key, data, length);
    }
    clnorm__free(path);
    clnorm__free(base);
    return rc;
}
