/* SPDX-License-Identifier: Apache-2.0 */
/* test_regressions.c: replays tests/regressions/ (fuzzer finds) through the two readers. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "safetensors.h"
#include "test_main.h"

/* File names say which reader gets the input and what must come of it:
 *   npy-...          npy_read_memory
 *   st-...           st_read_tensor_memory and st_read_tensor (the file
 *                    itself: same outcome, same message), for each name below
 * and, anywhere in the name, "-crash-" or "-bad-" marks an input that must be
 * refused (a crash the fuzzer found, now a clean error), "-ok-" one that must
 * be read for at least one of the names; every other input must simply come
 * back cleanly, as a success or an error. */
static const char *const st_names[] = {"alpha", "x.alpha", "a", ""};

/* The file's bytes in an exactly sized buffer, so over-reads are caught by
 * the sanitizers this test is built with. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *b = malloc(n ? (size_t)n : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void check_outcome(const char *file, int rc, const npy_array *x, const char *err,
                          int must_fail)
{
    if (rc == 0) {
        if (must_fail)
            fail_msg("%s: read succeeded but must be refused", file);
        size_t count = 1;
        for (size_t i = 0; i < x->ndim; i++)
            count *= x->shape[i];
        assert_int_equal(count, x->count);
        assert_non_null(x->data);
    } else {
        assert_int_equal(rc, -1);
        assert_null(x->data);
        if (err[0] == '\0' || strchr(err, '\n'))
            fail_msg("%s: the error message is empty or not one line: '%s'", file, err);
    }
}

static void test_replay(void **state)
{
    (void)state;
    DIR *d = opendir(CLNORM_REGRESSION_DIR);
    assert_non_null(d);
    size_t npy = 0, st = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int is_npy = strncmp(e->d_name, "npy-", 4) == 0, is_st = strncmp(e->d_name, "st-", 3) == 0;
        if (!is_npy && !is_st)
            continue; /* README and the like */
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", CLNORM_REGRESSION_DIR, e->d_name);
        int must_fail = strstr(e->d_name, "-crash-") || strstr(e->d_name, "-bad-");
        int must_read = strstr(e->d_name, "-ok-") != NULL, read = 0;
        size_t len;
        unsigned char *b = slurp(path, &len);
        char err[1024];
        npy_array x;
        if (is_npy) {
            err[0] = '\0';
            int rc = npy_read_memory(b, len, &x, err, sizeof err);
            check_outcome(e->d_name, rc, &x, err, must_fail);
            npy_free(&x);
            npy++;
        } else {
            for (size_t i = 0; i < sizeof st_names / sizeof st_names[0]; i++) {
                err[0] = '\0';
                int rc = st_read_tensor_memory(b, len, st_names[i], &x, err, sizeof err);
                /* A must-fail file fails for every name, a good tensor in it or not. */
                check_outcome(e->d_name, rc, &x, err, must_fail);
                read += rc == 0;
                npy_array y;
                char err2[1024] = "";
                int rc2 = st_read_tensor(path, st_names[i], &y, err2, sizeof err2);
                if (rc2 != rc || strcmp(err, err2) != 0 || x.count != y.count ||
                    (x.count && memcmp(x.data, y.data, x.count * sizeof(float)) != 0))
                    fail_msg("%s, '%s': from memory rc %d '%s', from the file rc %d '%s'",
                             e->d_name, st_names[i], rc, err, rc2, err2);
                npy_free(&x);
                npy_free(&y);
            }
            if (must_read && !read)
                fail_msg("%s: no tensor could be read, but the file must be", e->d_name);
            st++;
        }
        free(b);
    }
    closedir(d);
    print_message("replayed %zu .npy and %zu .safetensors inputs\n", npy, st);
    assert_true(npy > 0 && st > 0);
}

TEST_MAIN(NULL, NULL, cmocka_unit_test(test_replay))
