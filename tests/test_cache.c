/* SPDX-License-Identifier: Apache-2.0 */
/* test_cache.c: cmocka tests for SHA-256 and the on-disk program-binary cache. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 (mkdtemp, setenv, mkfifo, symlink) plus nftw */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cache.h"
#include "sha256.h"
#include "test_main.h"

#define HEADER_SIZE 84  /* magic 8 + version 4 + key 32 + length 8 + digest 32 */
#define OTHER_UID 65534 /* "nobody": any uid that is not ours */
#define PATH_SIZE 1024

static const unsigned char payload[] = "\x7f"
                                       "ELF small fake program binary\x00\x01\x02\xff";

static void hex_of(const unsigned char *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

/* snprintf into a PATH_SIZE buffer, failing the test rather than truncating. */
static char *pathf(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, PATH_SIZE, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < PATH_SIZE);
    return buf;
}

static char *entry_path(char *out, const char *dir, const unsigned char key[CLNORM_CACHE_KEY_SIZE])
{
    char hex[2 * CLNORM_CACHE_KEY_SIZE + 1];
    hex_of(key, CLNORM_CACHE_KEY_SIZE, hex);
    return pathf(out, "%s/%s.bin", dir, hex);
}

/* Each cache test gets a fresh directory under /tmp holding one stored entry. */
struct fixture {
    char dir[PATH_SIZE];
    unsigned char key[CLNORM_CACHE_KEY_SIZE];
    char entry[PATH_SIZE]; /* path of the stored entry */
};

static int make_tmp(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || !mkdtemp(strcpy(f->dir, "/tmp/clnorm_test_cache_XXXXXX"))) {
        free(f);
        return -1;
    }
    memset(f->key, 0xa5, sizeof f->key); /* any 32 bytes will do as a key */
    entry_path(f->entry, f->dir, f->key);
    *state = f;
    return clnorm__cache_store(f->dir, f->key, payload, sizeof payload);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int remove_tmp(void **state)
{
    struct fixture *f = *state;
    chmod(f->dir, 0700); /* in case a test failed with the directory in a bad state */
    nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Number of names in dir (besides . and ..); the last one seen goes to `name`. */
static int count_entries(const char *dir, char *name)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && ++count && name)
            pathf(name, "%s", e->d_name);
    }
    closedir(d);
    return count;
}

static void write_file(const char *path, const unsigned char *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    assert_int_equal(close(fd), 0);
}

/* Load `key` from `dir`: a hit with exactly `data`, or a miss when data is MISS. */
static const unsigned char MISS[1];
static void expect_load(const char *dir, const unsigned char *key, const unsigned char *data,
                        size_t size)
{
    size_t len = 12345;
    unsigned char *got = clnorm__cache_load(dir, key, &len);
    assert_true(data == MISS ? got == NULL && len == 0 : got != NULL && len == size);
    if (got && size)
        assert_memory_equal(got, data, size);
    clnorm__free(got);
}
#define assert_miss(dir, key) expect_load(dir, key, MISS, 0)

/* ---- SHA-256 and keys ---- */

static void check_digest(const void *data, size_t size, const char *expect)
{
    unsigned char d[CLNORM_SHA256_DIGEST_SIZE];
    char hex[2 * CLNORM_SHA256_DIGEST_SIZE + 1];
    clnorm__sha256(data, size, d);
    hex_of(d, sizeof d, hex);
    assert_string_equal(hex, expect);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_digest(m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *all = memset(malloc(1000000), 'a', 1000000);
    check_digest(all, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* Again in uneven pieces, to exercise the partial-block path of update. */
    clnorm__sha256_ctx ctx;
    unsigned char whole[32], pieces[32];
    clnorm__sha256(all, 1000000, whole);
    clnorm__sha256_init(&ctx);
    for (size_t done = 0, step = 1, n; done < 1000000; done += n, step = step % 997 + 7) {
        n = step < 1000000 - done ? step : 1000000 - done;
        clnorm__sha256_update(&ctx, all + done, n);
    }
    clnorm__sha256_final(&ctx, pieces);
    assert_memory_equal(whole, pieces, 32);
    free(all);
}

static void test_key_length_prefix(void **state)
{
    (void)state;
    unsigned char k1[32], k2[32], k3[32];
    const void *p1[2] = {"ab", "c"}, *p2[2] = {"a", "bc"};
    size_t l1[2] = {2, 1}, l2[2] = {1, 2};
    clnorm__cache_key(p1, l1, 2, k1);
    clnorm__cache_key(p2, l2, 2, k2);
    assert_memory_not_equal(k1, k2, 32);
    /* Key = SHA-256 of (u64 LE length || bytes) for each part. */
    unsigned char msg[] = {2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 1, 0, 0, 0, 0, 0, 0, 0, 'c'};
    clnorm__sha256(msg, sizeof msg, k3);
    assert_memory_equal(k1, k3, 32);
}

/* ---- directory resolution ---- */

static void test_dir_resolution(void **state)
{
    (void)state;
    static const char *const names[4] = {"CLNORM_CACHE_DIR", "CLNORM_CACHE", "XDG_CACHE_HOME",
                                         "HOME"};
    /* Each row: the four variables above (NULL = unset), then the expected dir (NULL = -1). */
    static const char *const rows[][5] = {
        {NULL, NULL, NULL, NULL, NULL},
        {NULL, NULL, NULL, "/home/u", "/home/u/.cache/clnorm"},
        {NULL, NULL, "", "/home/u", "/home/u/.cache/clnorm"},
        {NULL, NULL, "/xdg", "/home/u", "/xdg/clnorm"},
        {"", NULL, "/xdg", "/home/u", "/xdg/clnorm"},
        {"/explicit/dir", NULL, "/xdg", "/home/u", "/explicit/dir"},
        {"/explicit/dir", NULL, NULL, NULL, "/explicit/dir"},
        {"/explicit/dir", "1", "/xdg", "/home/u", "/explicit/dir"},
        {"/explicit/dir", "0", "/xdg", "/home/u", NULL},
        {NULL, "0", "/xdg", "/home/u", NULL},
        {"off", NULL, "/xdg", "/home/u", NULL},
        /* A relative XDG_CACHE_HOME is invalid (XDG Base Directory spec): ignored. */
        {NULL, NULL, "rel/xdg", "/home/u", "/home/u/.cache/clnorm"},
        {NULL, NULL, "./xdg", NULL, NULL},
    };
    char *saved[4], buf[256];
    for (size_t i = 0; i < 4; i++) /* restored at the end */
        saved[i] = getenv(names[i]) ? strdup(getenv(names[i])) : NULL;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        for (size_t i = 0; i < 4; i++)
            assert_int_equal(rows[r][i] ? setenv(names[i], rows[r][i], 1) : unsetenv(names[i]), 0);
        if (rows[r][4]) {
            assert_int_equal(clnorm__cache_dir(buf, sizeof buf), 0);
            assert_string_equal(buf, rows[r][4]);
            /* A buffer one byte short fails rather than truncating. */
            assert_int_equal(clnorm__cache_dir(buf, strlen(rows[r][4])), -1);
        } else {
            assert_int_equal(clnorm__cache_dir(buf, sizeof buf), -1);
        }
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(saved[i] ? setenv(names[i], saved[i], 1) : unsetenv(names[i]), 0);
        free(saved[i]);
    }
}

/* ---- store and load (the fixture has stored `payload` under f->key) ---- */

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    static const char *const made[] = {"a", "a/b", "a/b/c"};
    unsigned char empty_key[32] = {1};
    char name[PATH_SIZE], path[PATH_SIZE];
    struct stat st;
    expect_load(f->dir, f->key, payload, sizeof payload);
    /* Exactly one file is left: the entry, 64 lowercase hex + ".bin", mode 0600. */
    assert_int_equal(count_entries(f->dir, name), 1);
    assert_string_equal(name, strrchr(f->entry, '/') + 1);
    assert_int_equal(stat(f->entry, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, HEADER_SIZE + sizeof payload);
    /* Storing again replaces the entry. */
    assert_int_equal(clnorm__cache_store(f->dir, f->key, (const unsigned char *)"new", 3), 0);
    expect_load(f->dir, f->key, (const unsigned char *)"new", 3);
    assert_int_equal(count_entries(f->dir, NULL), 1);
    /* A zero-length payload round-trips too. */
    assert_int_equal(clnorm__cache_store(f->dir, empty_key, NULL, 0), 0);
    expect_load(f->dir, empty_key, NULL, 0);
    assert_int_equal(count_entries(f->dir, NULL), 2);
    /* Missing parents are created, each 0700. */
    assert_int_equal(clnorm__cache_store(pathf(path, "%s/a//b/c/", f->dir), f->key, payload, 3), 0);
    expect_load(path, f->key, payload, 3);
    assert_int_equal(count_entries(path, NULL), 1);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stat(pathf(path, "%s/%s", f->dir, made[i]), &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
}

static void test_missing_or_wrong_key_is_miss(void **state)
{
    struct fixture *f = *state;
    unsigned char other[32] = {2};
    char path[PATH_SIZE];
    assert_miss(f->dir, other);
    assert_miss(pathf(path, "%s/does/not/exist", f->dir), f->key);
    assert_null(clnorm__cache_load(f->dir, f->key, NULL)); /* bad arguments: a miss / failure */
    assert_int_equal(clnorm__cache_store(f->dir, other, NULL, 1), -1);
    /* A valid entry under another key's file name: its key field gives it away. */
    assert_int_equal(rename(f->entry, entry_path(path, f->dir, other)), 0);
    assert_miss(f->dir, other);
    assert_miss(f->dir, f->key);
}

static void test_corrupt_entry_is_miss(void **state)
{
    struct fixture *f = *state;
    enum { FULL = HEADER_SIZE + sizeof payload };
    unsigned char bytes[FULL + 1] = {0};
    int fd = open(f->entry, O_RDONLY);
    assert_int_equal(read(fd, bytes, sizeof bytes), FULL);
    close(fd);
    /* Every truncation, and one trailing byte too many. */
    for (size_t n = 0; n <= FULL + 1; n++) {
        if (n == FULL)
            continue;
        write_file(f->entry, bytes, n);
        assert_miss(f->dir, f->key);
    }
    /* The lowest and highest bit flipped at every position. */
    for (size_t i = 0; i < FULL; i++) {
        for (unsigned bit = 0x01; bit <= 0x80; bit <<= 7) {
            bytes[i] ^= (unsigned char)bit;
            write_file(f->entry, bytes, FULL);
            assert_miss(f->dir, f->key);
            bytes[i] ^= (unsigned char)bit;
        }
    }
    write_file(f->entry, bytes, FULL); /* the intact bytes still hit */
    expect_load(f->dir, f->key, payload, sizeof payload);
}

static void test_unsafe_dir_refused(void **state)
{
    struct fixture *f = *state;
    static const mode_t bad_modes[] = {0777, 0720, 0702};
    unsigned char key2[32] = {3};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(chmod(f->dir, bad_modes[i]), 0);
        assert_miss(f->dir, f->key);
        assert_int_equal(clnorm__cache_store(f->dir, key2, payload, sizeof payload), -1);
        assert_int_equal(count_entries(f->dir, NULL), 1); /* no new entry, no temp file */
    }
    assert_int_equal(chmod(f->dir, 0700), 0);
    expect_load(f->dir, f->key, payload, sizeof payload);
    /* Owned by someone else (only root can chown; as another user this part is skipped). */
    if (geteuid() == 0) {
        assert_int_equal(chown(f->dir, OTHER_UID, (gid_t)-1), 0);
        assert_miss(f->dir, f->key);
        assert_int_equal(clnorm__cache_store(f->dir, key2, payload, sizeof payload), -1);
        assert_int_equal(count_entries(f->dir, NULL), 1);
        assert_int_equal(chown(f->dir, geteuid(), (gid_t)-1), 0);
        expect_load(f->dir, f->key, payload, sizeof payload);
    }
}

static void test_unsafe_entry_refused(void **state)
{
    struct fixture *f = *state;
    char link[PATH_SIZE], other[PATH_SIZE], path[PATH_SIZE];
    /* The cache directory itself is a symlink (with or without a trailing slash). */
    assert_int_equal(symlink(f->dir, pathf(link, "%s/link", f->dir)), 0);
    assert_miss(link, f->key);
    assert_miss(pathf(path, "%s/", link), f->key);
    assert_int_equal(clnorm__cache_store(link, f->key, payload, sizeof payload), -1);
    /* The entry is a symlink to a valid entry elsewhere: O_NOFOLLOW refuses it. */
    assert_int_equal(mkdir(pathf(other, "%s/other", f->dir), 0700), 0);
    assert_int_equal(symlink(f->entry, entry_path(path, other, f->key)), 0);
    assert_miss(other, f->key);
    /* An entry that is group-writable or owned by someone else. */
    assert_int_equal(chmod(f->entry, 0620), 0); /* group-writable entry */
    assert_miss(f->dir, f->key);
    assert_int_equal(chmod(f->entry, 0600), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(f->entry, OTHER_UID, (gid_t)-1), 0);
        assert_miss(f->dir, f->key);
        assert_int_equal(chown(f->entry, geteuid(), (gid_t)-1), 0);
    }
    expect_load(f->dir, f->key, payload, sizeof payload);
    /* A FIFO in place of the entry must not hang the load. */
    assert_int_equal(unlink(f->entry), 0);
    assert_int_equal(mkfifo(f->entry, 0600), 0);
    assert_miss(f->dir, f->key);
}

static void test_store_failures_leave_nothing(void **state)
{
    struct fixture *f = *state;
    static unsigned char big[4096];
    char path[PATH_SIZE], sub[PATH_SIZE], entry[PATH_SIZE], name[PATH_SIZE];

    /* The path runs through a regular file, or into a read-only filesystem: mkdir fails. */
    write_file(pathf(path, "%s/file", f->dir), payload, 1);
    assert_int_equal(clnorm__cache_store(pathf(sub, "%s/cache", path), f->key, payload, 3), -1);
    assert_int_equal(count_entries(f->dir, NULL), 2);
    assert_int_equal(clnorm__cache_store("/proc/clnorm-test-cache", f->key, payload, 3), -1);

    /* The entry name is taken by a non-empty directory: the temp file is written, rename fails. */
    assert_int_equal(mkdir(pathf(sub, "%s/c", f->dir), 0700), 0);
    assert_int_equal(mkdir(entry_path(entry, sub, f->key), 0700), 0);
    write_file(pathf(path, "%s/keep", entry), payload, 1);
    assert_int_equal(clnorm__cache_store(sub, f->key, payload, sizeof payload), -1);
    assert_int_equal(count_entries(sub, name), 1);
    assert_string_equal(strrchr(entry, '/') + 1, name);

    /* Writes fail part-way (file size limit, SIGXFSZ ignored): the partial temp file goes. */
    struct rlimit saved, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 100; /* the header fits, the payload does not: short write, then EFBIG */
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = clnorm__cache_store(pathf(sub, "%s/w", f->dir), f->key, big, sizeof big);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old);
    assert_int_equal(rc, -1);
    assert_int_equal(count_entries(sub, NULL), 0);
    assert_int_equal(clnorm__cache_store(sub, f->key, big, sizeof big), 0); /* no limit: fine */
    assert_int_equal(count_entries(sub, NULL), 1);
}

/* An ancestor of the cache directory that others can write to without the
 * sticky bit (they could rename the directory away and put theirs in its
 * place) makes the cache unsafe, as the directory itself would; so does one
 * owned by another user. Sticky (as /tmp is) is fine. */
static void test_unsafe_ancestor_refused(void **state)
{
    struct fixture *f = *state;
    char top[PATH_SIZE], mid[PATH_SIZE], dir[PATH_SIZE], link[PATH_SIZE];
    unsigned char key2[32] = {7};
    assert_int_equal(mkdir(pathf(top, "%s/top", f->dir), 0700), 0);
    assert_int_equal(mkdir(pathf(mid, "%s/mid", top), 0700), 0);
    pathf(dir, "%s/cache", mid);
    assert_int_equal(clnorm__cache_store(dir, f->key, payload, sizeof payload), 0);
    expect_load(dir, f->key, payload, sizeof payload);
    static const mode_t bad[] = {0777, 0770, 0702, 0720};
    for (size_t i = 0; i < 4; i++) {
        for (int level = 0; level < 2; level++) { /* the parent, then the grandparent */
            const char *ancestor = level ? top : mid;
            assert_int_equal(chmod(ancestor, bad[i]), 0);
            assert_miss(dir, f->key);
            assert_int_equal(clnorm__cache_store(dir, key2, payload, sizeof payload), -1);
            assert_int_equal(count_entries(dir, NULL), 1);          /* nothing new */
            assert_int_equal(chmod(ancestor, bad[i] | S_ISVTX), 0); /* sticky: safe */
            expect_load(dir, f->key, payload, sizeof payload);
            assert_int_equal(chmod(ancestor, 0700), 0);
        }
    }
    /* Reached through a symlink: the resolved path's ancestors count too. */
    assert_int_equal(symlink(mid, pathf(link, "%s/link", f->dir)), 0);
    assert_int_equal(chmod(top, 0777), 0);
    assert_miss(pathf(dir, "%s/cache", link), f->key);
    assert_int_equal(chmod(top, 0700), 0);
    expect_load(dir, f->key, payload, sizeof payload);
    if (geteuid() == 0) { /* an ancestor owned by someone else (only root can chown) */
        assert_int_equal(chown(top, OTHER_UID, (gid_t)-1), 0);
        assert_miss(dir, f->key);
        assert_int_equal(chown(top, geteuid(), (gid_t)-1), 0);
        expect_load(dir, f->key, payload, sizeof payload);
    }
}

/* A temporary left by a process killed during a store is removed by a later
 * load or store once it is stale; a fresh one (maybe a concurrent store),
 * other names and other kinds of file are never touched. */
static void test_stale_temps_removed(void **state)
{
    struct fixture *f = *state;
    char stale[PATH_SIZE], fresh[PATH_SIZE], other[PATH_SIZE], longer[PATH_SIZE], sub[PATH_SIZE];
    for (int via_store = 0; via_store < 2; via_store++) {
        write_file(pathf(stale, "%s/.clnorm-tmp-aB3xY9", f->dir), payload, sizeof payload);
        write_file(pathf(fresh, "%s/.clnorm-tmp-Qw8rT2", f->dir), payload, sizeof payload);
        write_file(pathf(other, "%s/notes.txt", f->dir), payload, 1);
        write_file(pathf(longer, "%s/.clnorm-tmp-aB3xY9x", f->dir), payload, 1);
        assert_int_equal(mkdir(pathf(sub, "%s/.clnorm-tmp-dirXYZ", f->dir), 0700), 0);
        const char *old[] = {stale, other, longer, sub};
        for (size_t i = 0; i < 4; i++) { /* an hour old */
            struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
            assert_int_equal(utimensat(AT_FDCWD, old[i], t, 0), 0);
        }
        if (via_store) {
            unsigned char key2[32] = {9};
            assert_int_equal(clnorm__cache_store(f->dir, key2, payload, sizeof payload), 0);
        } else {
            expect_load(f->dir, f->key, payload, sizeof payload);
        }
        struct stat st;
        assert_int_equal(lstat(stale, &st), -1);
        assert_int_equal(lstat(fresh, &st), 0);
        assert_int_equal(lstat(other, &st), 0);
        assert_int_equal(lstat(longer, &st), 0);
        assert_int_equal(lstat(sub, &st), 0);
        assert_int_equal(count_entries(f->dir, NULL), 5 + via_store);
        unlink(fresh), unlink(other), unlink(longer), rmdir(sub);
    }
}

#define CACHE_TEST(t) cmocka_unit_test_setup_teardown(t, make_tmp, remove_tmp)

TEST_MAIN(NULL, NULL, cmocka_unit_test(test_sha256_vectors),
          cmocka_unit_test(test_key_length_prefix), cmocka_unit_test(test_dir_resolution),
          CACHE_TEST(test_round_trip), CACHE_TEST(test_missing_or_wrong_key_is_miss),
          CACHE_TEST(test_corrupt_entry_is_miss), CACHE_TEST(test_unsafe_dir_refused),
          CACHE_TEST(test_unsafe_entry_refused), CACHE_TEST(test_store_failures_leave_nothing),
          CACHE_TEST(test_unsafe_ancestor_refused), CACHE_TEST(test_stale_temps_removed))
