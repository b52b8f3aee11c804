/* SPDX-License-Identifier: Apache-2.0 */
/* test_tool_outputs.c: the tool's outputs (tools/clnorm/outputs.c) end to end:
 * what may be replaced (regular files, symbolic links to them; never a
 * device or a FIFO), several outputs committed as one (a rename failing half
 * way through puts back what it replaced: tools/CMakeLists.txt's
 * clnorm_tool_fi fails the file-system calls on demand), signals in the
 * middle of a run, and the modes of new and replaced outputs. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* mknod, makedev */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "npy.h"
#include "npy_test_util.h"
#include "tool_test_util.h"

#ifndef CLNORM_TOOL_FI_PATH
#error "CLNORM_TOOL_FI_PATH must be defined by the build"
#endif

/* A file name the tool uses for its temporaries and backups. */
static int is_ours(const char *name)
{
    return strstr(name, ".clnorm-") != NULL || strstr(name, ".npy-tmp-") != NULL;
}

/* Fails the test when dir (not recursively) holds a temporary or backup. */
static void expect_no_leftovers(const char *dir, const char *what)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (is_ours(e->d_name)) {
            char name[512];
            snprintf(name, sizeof name, "%s", e->d_name);
            closedir(d);
            fail_msg("%s: '%s' was left in %s", what, name, dir);
        }
    closedir(d);
}

static int setup(void **state)
{
    if (tool_setup_work(state) != 0)
        return -1;
    rng_seed(7);
    put_f32_shape("x3.npy", 3, 2, 5, 4, 0);
    put_f32_shape("x4.npy", 4, 2, 3, 4, 4);
    spit(work_path("out/y.npy"), "old y\n", 6);
    spit(work_path("out/m.npy"), "old m\n", 6);
    spit(work_path("out/s.npy"), "old s\n", 6);
    return mkdir(work_path("special"), 0755) || mkdir(work_path("links"), 0755);
}

/* The names, types and inodes of a directory's entries, sorted: what a
 * run must leave as it was where the entries cannot be read (a FIFO). */
static void listing(const char *dir, char *out, size_t size)
{
    char names[64][256];
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; ++i) {
        char full[1024];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        assert_int_equal(lstat(full, &st), 0);
        used += (size_t)snprintf(out + used, size - used, "%s:%o:%lu:%lu;", names[i],
                                 (unsigned)st.st_mode, (unsigned long)st.st_ino,
                                 (unsigned long)st.st_rdev);
    }
}

/* Runs the tool and expects exit `code`, nothing on stdout, one
 * "clnorm: error:" line holding every needle, out/ byte for byte as it was,
 * special/ and links/ entry for entry, and no temporary anywhere. */
static void fails(int code, const char *const *needles, const char *const *args)
{
    char what[2048];
    tree_snapshot before;
    char special[4096], links[4096], special2[4096], links2[4096];
    snapshot_take(&before, work_path("out"));
    listing(work_path("special"), special, sizeof special);
    listing(work_path("links"), links, sizeof links);
    tool_fails(-1, code, needles, args, what, sizeof what);
    snapshot_expect_same(&before, work_path("out"), what);
    listing(work_path("special"), special2, sizeof special2);
    listing(work_path("links"), links2, sizeof links2);
    if (strcmp(special, special2) != 0)
        fail_msg("%s: special/ changed: before %s, after %s", what, special, special2);
    if (strcmp(links, links2) != 0)
        fail_msg("%s: links/ changed: before %s, after %s", what, links, links2);
    expect_no_leftovers(work_dir(), what);
    expect_no_leftovers(work_path("out"), what);
    expect_no_leftovers(work_path("special"), what);
    expect_no_leftovers(work_path("links"), what);
    snapshot_free(&before);
}

#define FAILS(code, needles, ...) fails(code, needles, ARGS(__VA_ARGS__))
#define NEEDLES(...) ARGS(__VA_ARGS__)

/* A FIFO, a device node (as root), sockets' kin: refused, named, left as
 * they are, before any work (the device spec is never looked at). */
static void special_files_refused(const char *name, const char *kind)
{
    char opt_o[256], opt_std[256], at[256];
    snprintf(at, sizeof at, "@special/%s", name);
    snprintf(opt_o, sizeof opt_o, "-o '@special/%s'", name);
    snprintf(opt_std, sizeof opt_std, "--std-out '@special/%s'", name);
    FAILS(2, NEEDLES(opt_o, kind, "not a regular file"), "varnorm2d", "-i", "@x4.npy", "-o", at);
    FAILS(2, NEEDLES(opt_o, kind), "revin", "-i", "@x3.npy", "-o", at);
    FAILS(2, NEEDLES(opt_o, kind), "revin-inverse", "-i", "@x3.npy", "-o", at, "--mean",
          "@out/m.npy", "--std", "@out/s.npy");
    /* The third of three outputs: none of them lands. */
    FAILS(2, NEEDLES(opt_std, kind), "revin", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean-out",
          "@out/m.npy", "--std-out", at);
    FAILS(2, NEEDLES(opt_std, kind), "revin", "-i", "@x3.npy", "-o", "@out/new_y.npy", "--mean-out",
          "@out/new_m.npy", "--std-out", at);
    /* Before any work: the bad device would be exit 1. */
    FAILS(2, NEEDLES(opt_o, kind), "revin", "-i", "@x3.npy", "-o", at, "--device", "nonexistent");
    /* Through a symbolic link. */
    char link[512], target[512], opt_link[256];
    snprintf(link, sizeof link, "%s", work_path("links/to_special"));
    snprintf(target, sizeof target, "../special/%s", name);
    assert_int_equal(symlink(target, link), 0);
    snprintf(opt_link, sizeof opt_link, "-o '@links/to_special'");
    FAILS(2, NEEDLES(opt_link, "symbolic link to", kind), "revin", "-i", "@x3.npy", "-o",
          "@links/to_special");
    assert_int_equal(unlink(link), 0);
}

static void test_fifo_refused(void **state)
{
    (void)state;
    assert_int_equal(mkfifo(work_path("special/fifo"), 0644), 0);
    special_files_refused("fifo", "named pipe (FIFO)");
}

static void test_device_refused(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: creating a device node needs root\n");
        skip();
    }
    if (mknod(work_path("special/nulldev"), S_IFCHR | 0666, makedev(1, 3)) != 0) {
        print_message("skipped: mknod: %s\n", strerror(errno));
        skip();
    }
    special_files_refused("nulldev", "character device");
}

/* A symbolic link to a regular file: the link stays, its target gets the
 * new content (and keeps its mode). Links to anything else are refused. */
static void test_symlinks(void **state)
{
    (void)state;
    spit(work_path("links/target.npy"), "old target\n", 11);
    assert_int_equal(chmod(work_path("links/target.npy"), 0640), 0);
    assert_int_equal(symlink("target.npy", work_path("links/link.npy")), 0);
    assert_int_equal(symlink("../out", work_path("links/to_dir")), 0);
    assert_int_equal(symlink("missing.npy", work_path("links/dangling")), 0);
    FAILS(2, NEEDLES("-o '@links/dangling'", "does not exist"), "revin", "-i", "@x3.npy", "-o",
          "@links/dangling");
    FAILS(2, NEEDLES("-o '@links/to_dir'", "names a directory"), "revin", "-i", "@x3.npy", "-o",
          "@links/to_dir");
    FAILS(2, NEEDLES("-o and --mean-out both name '@links/target.npy'"), "revin", "-i", "@x3.npy",
          "-o", "@links/link.npy", "--mean-out", "@links/target.npy");
    char direct[512], via[512], target[512];
    snprintf(direct, sizeof direct, "%s", work_path("direct.npy"));
    snprintf(via, sizeof via, "%s", work_path("links/link.npy"));
    snprintf(target, sizeof target, "%s", work_path("links/target.npy"));
    tool_ok(ARGS("revin", "-i", work_path("x3.npy"), "-o", direct));
    tool_ok(ARGS("revin", "-i", work_path("x3.npy"), "-o", via));
    struct stat st;
    assert_int_equal(lstat(via, &st), 0);
    if (!S_ISLNK(st.st_mode))
        fail_msg("-o through a symbolic link replaced the link itself");
    char buf[64];
    ssize_t n = readlink(via, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "target.npy");
    expect_same_bytes(direct, target);
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    expect_no_leftovers(work_path("links"), "-o through a link");
}

/* ---- several outputs as one: checks before the first rename ---- */

/* Sets or clears the immutable attribute (chattr +i); 0 or -1. */
static int set_immutable(const char *path, int on)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK), flags = 0, rc = -1;
    if (fd < 0)
        return -1;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
    }
    close(fd);
    return rc;
}

/* The teardown of test_unreplaceable: the mount and the attribute go even
 * when the test failed half way. */
static int teardown_unreplaceable(void **state)
{
    if (work_dir()[0]) {
        umount2(work_path("out/s.npy"), MNT_DETACH);
        set_immutable(work_path("out/s.npy"), 0);
    }
    return tool_teardown_work(state);
}

/* The third of three outputs cannot be replaced (immutable, or a bind mount
 * on it): the tool says why, and the first two are not replaced either.
 * Root only (chattr +i, mount --bind). */
static void test_unreplaceable(void **state)
{
    (void)state;
    int tried = 0;
    if (geteuid() != 0) {
        print_message("skipped: chattr +i and bind mounts need root\n");
        skip();
    }
    if (set_immutable(work_path("out/s.npy"), 1) == 0) {
        ++tried;
        FAILS(2, NEEDLES("--std-out '@out/s.npy'", "immutable"), "revin", "-i", "@x3.npy", "-o",
              "@out/y.npy", "--mean-out", "@out/m.npy", "--std-out", "@out/s.npy");
        assert_int_equal(set_immutable(work_path("out/s.npy"), 0), 0);
    } else {
        print_message("immutable attribute not available here (%s): not tried\n", strerror(errno));
    }
    spit(work_path("other.npy"), "other\n", 6);
    if (mount(work_path("other.npy"), work_path("out/s.npy"), NULL, MS_BIND, NULL) == 0) {
        ++tried;
        FAILS(2, NEEDLES("--std-out '@out/s.npy'", "mount point"), "revin", "-i", "@x3.npy", "-o",
              "@out/y.npy", "--mean-out", "@out/m.npy", "--std-out", "@out/s.npy");
        assert_int_equal(umount2(work_path("out/s.npy"), MNT_DETACH), 0);
        size_t n;
        unsigned char *other = slurp(work_path("other.npy"), &n);
        assert_int_equal(n, 6);
        assert_memory_equal(other, "other\n", 6);
        free(other);
    } else {
        print_message("bind mounts not available here (%s): not tried\n", strerror(errno));
    }
    if (!tried)
        skip();
}

/* ---- several outputs as one: the Nth file-system call fails ---- */

static void set_fault(const char *spec)
{
    setenv("CLNORM_TEST_OUTPUT_FAULT", spec, 1);
    setenv("CLNORM_TEST_OUTPUT_FAULT_REPORT", work_path("fault.report"), 1);
}

static void clear_fault(void)
{
    unsetenv("CLNORM_TEST_OUTPUT_FAULT");
    unsetenv("CLNORM_TEST_OUTPUT_FAULT_REPORT");
}

/* The report of the fault-injection tool: whether a rule fired, and the
 * number of file-system calls it counted. */
static int read_report(unsigned long *calls, char *site, size_t size)
{
    char line[256] = "", s[64] = "";
    FILE *f = fopen(work_path("fault.report"), "r");
    assert_non_null(f);
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    assert_non_null(got);
    if (sscanf(line, "fired %63s %lu", s, calls) == 2) {
        snprintf(site, size, "%s", s);
        return 1;
    }
    assert_int_equal(sscanf(line, "clean %lu", calls), 1);
    return 0;
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

/* The third rename fails after the first two replaced their outputs: all
 * three are as they were (the very same files), nothing else is left. */
static void test_third_rename_fails(void **state)
{
    (void)state;
    tool_set_binary(CLNORM_TOOL_FI_PATH);
    /* A: three old outputs; B: two new ones and an old third (NULL: not run). */
    static const struct {
        const char *spec_a, *needle_a, *spec_b, *needle_b;
    } cases[] = {
        /* Backups are hard links. */
        {"rename:3", "--std-out '@out/s.npy'", "rename:3", "--std-out '@out/s.npy'"},
        /* No hard links: the old files are renamed aside, then back. */
        {"link:1+:EPERM,rename:3", "--std-out '@out/s.npy'", "link:1+:EPERM,rename:3",
         "--std-out '@out/s.npy'"},
        /* ... and moving the third aside fails. */
        {"link:1+:EPERM,aside:3", "--std-out '@out/s.npy'", "link:1+:EPERM,aside:1",
         "--std-out '@out/s.npy'"},
        {"link:1+:EXDEV,rename:2", "--mean-out '@out/m.npy'", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        ino_t y = inode_of(work_path("out/y.npy")), m = inode_of(work_path("out/m.npy")),
              s = inode_of(work_path("out/s.npy"));
        set_fault(cases[i].spec_a);
        FAILS(2,
              NEEDLES(cases[i].needle_a, "Input/output error", "every output was left as it was"),
              "revin", "-i", "@x3.npy", "-o", "@out/y.npy", "--mean-out", "@out/m.npy", "--std-out",
              "@out/s.npy");
        unsigned long calls;
        char site[64];
        assert_true(read_report(&calls, site, sizeof site));
        /* The very same files, not copies. */
        assert_int_equal(inode_of(work_path("out/y.npy")), y);
        assert_int_equal(inode_of(work_path("out/m.npy")), m);
        assert_int_equal(inode_of(work_path("out/s.npy")), s);
        if (!cases[i].spec_b)
            continue;
        set_fault(cases[i].spec_b);
        FAILS(2, NEEDLES(cases[i].needle_b, "every output was left as it was"), "revin", "-i",
              "@x3.npy", "-o", "@out/new_y.npy", "--mean-out", "@out/new_m.npy", "--std-out",
              "@out/s.npy");
        assert_true(read_report(&calls, site, sizeof site));
    }
    clear_fault();
    tool_set_binary(NULL);
}

/* A signal at a chosen step (the fault-injection tool raises it there):
 * before, during and in the middle of the commit, the run ends by the
 * signal with every output as it was and nothing left behind. */
static void test_signal_at_each_step(void **state)
{
    (void)state;
    tool_set_binary(CLNORM_TOOL_FI_PATH);
    static const struct {
        const char *spec;
        int sig;
    } cases[] = {
        {"create:2:SIGINT", SIGINT},  /* while the outputs are being reserved */
        {"write:2:SIGTERM", SIGTERM}, /* while they are written */
        {"fsync:3:SIGHUP", SIGHUP},
        {"link:2:SIGTERM", SIGTERM},                /* one backup made, the second being made */
        {"rename:1:SIGINT", SIGINT},                /* one output replaced */
        {"rename:2:SIGHUP", SIGHUP},                /* two replaced */
        {"rename:3:SIGTERM", SIGTERM},              /* all three replaced, not yet committed */
        {"link:1+:EPERM,aside:2:SIGTERM", SIGTERM}, /* renamed aside, not yet replaced */
        {"link:1+:EPERM,rename:2:SIGINT", SIGINT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        ino_t y = inode_of(work_path("out/y.npy")), m = inode_of(work_path("out/m.npy")),
              s = inode_of(work_path("out/s.npy"));
        set_fault(cases[i].spec);
        tree_snapshot before;
        snapshot_take(&before, work_path("out"));
        tool_result r;
        tool_run(&r, -1,
                 ARGS("revin", "-i", work_path("x3.npy"), "-o", work_path("out/y.npy"),
                      "--mean-out", work_path("out/m.npy"), "--std-out", work_path("out/s.npy")));
        if (r.code != 128 + cases[i].sig)
            fail_msg("%s: exit %d, expected the signal (%d); stderr: %s", cases[i].spec, r.code,
                     128 + cases[i].sig, r.err);
        snapshot_expect_same(&before, work_path("out"), cases[i].spec);
        expect_no_leftovers(work_path("out"), cases[i].spec);
        assert_int_equal(inode_of(work_path("out/y.npy")), y);
        assert_int_equal(inode_of(work_path("out/m.npy")), m);
        assert_int_equal(inode_of(work_path("out/s.npy")), s);
        snapshot_free(&before);
        tool_result_free(&r);
    }
    /* New outputs half committed are removed again. */
    set_fault("rename:2:SIGTERM");
    tool_result r;
    tool_run(&r, -1,
             ARGS("revin", "-i", work_path("x3.npy"), "-o", work_path("out/new_y.npy"),
                  "--mean-out", work_path("out/new_m.npy"), "--std-out",
                  work_path("out/new_s.npy")));
    assert_int_equal(r.code, 128 + SIGTERM);
    tool_result_free(&r);
    assert_int_equal(dir_entries(work_path("out"), NULL), 3); /* y, m, s only */
    clear_fault();
    tool_set_binary(NULL);
}

/* Whether `name` is a temporary or backup of one of the outputs y, m, s
 * (".y.npy.clnorm-XXXXXX", ".y.npy.clnorm-old-XXXXXX"); *which is its
 * output's index, *backup whether it is a backup. */
static int leftover_of(const char *name, const char *const *outs, size_t *which, int *backup)
{
    for (size_t i = 0; outs[i]; ++i) {
        char tag[64];
        snprintf(tag, sizeof tag, ".%s.clnorm-", outs[i]);
        if (strncmp(name, tag, strlen(tag)) == 0) {
            *which = i;
            *backup = strncmp(name + strlen(tag), "old-", 4) == 0;
            return 1;
        }
    }
    return 0;
}

/* SIGKILL (a crash) at each step of a commit leaves what the README says:
 * the outputs each old, new or (renamed aside) missing with a backup that
 * holds its old content; besides them only temporaries and backups named
 * after an output, a backup either the old content or, without hard links,
 * an empty reserved name beside an output that is still its old self. */
static void test_sigkill_leftovers(void **state)
{
    (void)state;
    static const char *const outs[] = {"y.npy", "m.npy", "s.npy", NULL};
    static const char *const old[] = {"old y\n", "old m\n", "old s\n"};
    static const char *const specs[] = {
        "write:2:SIGKILL",                /* before any rename: temporaries */
        "link:2:SIGKILL",                 /* one backup made */
        "rename:2:SIGKILL",               /* one output replaced */
        "link:1+:EPERM,aside:2:SIGKILL",  /* an output renamed aside: missing */
        "link:1+:EPERM,rename:3:SIGKILL", /* two replaced, the third aside */
    };
    tool_set_binary(CLNORM_TOOL_FI_PATH);
    for (size_t c = 0; c < sizeof specs / sizeof specs[0]; ++c) {
        set_fault(specs[c]);
        tool_result r;
        tool_run(&r, -1,
                 ARGS("revin", "-i", work_path("x3.npy"), "-o", work_path("out/y.npy"),
                      "--mean-out", work_path("out/m.npy"), "--std-out", work_path("out/s.npy")));
        if (r.code != 128 + SIGKILL)
            fail_msg("%s: exit %d, expected SIGKILL; stderr: %s", specs[c], r.code, r.err);
        tool_result_free(&r);
        int present[3] = {0}, kept_old[3] = {0}, backed_up[3] = {0}, reserved[3] = {0};
        int leftovers = 0;
        DIR *d = opendir(work_path("out"));
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t i, n;
            int backup;
            char path[600];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof path, "%s/%s", work_path("out"), e->d_name);
            unsigned char *text = slurp(path, &n);
            if (leftover_of(e->d_name, outs, &i, &backup)) {
                ++leftovers;
                if (backup && n == 0) { /* a name reserved (no hard links), not yet used */
                    reserved[i] = 1;
                } else if (backup) { /* a backup holds the old content of its output */
                    if (n != 6 || memcmp(text, old[i], 6) != 0)
                        fail_msg("%s: backup %s does not hold the old %s", specs[c], e->d_name,
                                 outs[i]);
                    backed_up[i] = 1;
                }
            } else {
                for (i = 0; outs[i] && strcmp(e->d_name, outs[i]) != 0; ++i)
                    ;
                if (!outs[i])
                    fail_msg("%s: '%s' is in the output directory", specs[c], e->d_name);
                present[i] = 1; /* old, or a whole new .npy */
                int is_old = n == 6 && memcmp(text, old[i], 6) == 0;
                int is_new = n > 10 && memcmp(text, "\x93NUMPY", 6) == 0;
                if (!is_old && !is_new)
                    fail_msg("%s: %s is neither its old content nor an .npy", specs[c], outs[i]);
                kept_old[i] = is_old;
            }
            free(text);
        }
        closedir(d);
        for (size_t i = 0; i < 3; ++i)
            if (!present[i] && !backed_up[i])
                fail_msg("%s: %s is missing and has no backup", specs[c], outs[i]);
            else if (reserved[i] && !kept_old[i])
                fail_msg("%s: %s's backup is empty, and %s is not its old self", specs[c], outs[i],
                         outs[i]);
        assert_true(leftovers > 0); /* the kill came mid-commit: something to clean */
        /* the README's advice: put backups back, delete the rest */
        d = opendir(work_path("out"));
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
            size_t i;
            int backup;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", work_path("out"), e->d_name);
            if (leftover_of(e->d_name, outs, &i, &backup))
                assert_int_equal(unlink(path), 0);
        }
        closedir(d);
        for (size_t i = 0; i < 3; ++i) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", work_path("out"), outs[i]);
            spit(path, old[i], 6);
        }
    }
    clear_fault();
    tool_set_binary(NULL);
}

/* Another user's output in a sticky directory: we may not replace it, so
 * the run is refused before any rename and nothing is replaced. Root only:
 * the tool runs as nobody (setpriv), the output belongs to daemon. */
static void test_sticky_other_user(void **state)
{
    (void)state;
    if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
        print_message("skipped: needs root and setpriv to run the tool as another user\n");
        skip();
    }
    char dir[512], y[600], m[600], s[600];
    snprintf(dir, sizeof dir, "%s", work_path("sticky"));
    snprintf(y, sizeof y, "%s/y.npy", dir);
    snprintf(m, sizeof m, "%s/m.npy", dir);
    snprintf(s, sizeof s, "%s/s.npy", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(chmod(dir, 01777), 0);
    assert_int_equal(chmod(work_dir(), 0755), 0); /* nobody reads the input */
    spit(m, "old m\n", 6);
    spit(s, "old s\n", 6);
    assert_int_equal(chown(m, 65534, 65534), 0); /* nobody's own: replaceable */
    assert_int_equal(chown(s, 1, 1), 0);         /* daemon's: not */
    tool_set_binary("/usr/bin/setpriv");
    tool_result r;
    tool_run(&r, -1,
             ARGS("--reuid=65534", "--regid=65534", "--clear-groups", CLNORM_TOOL_PATH, "revin",
                  "-i", work_path("x3.npy"), "-o", y, "--mean-out", m, "--std-out", s));
    tool_set_binary(NULL);
    if (r.code != 2 || !strstr(r.err, "--std-out") ||
        !strstr(r.err, "belongs to another user in a sticky directory"))
        fail_msg("exit %d, stderr: %s", r.code, r.err);
    tool_result_free(&r);
    size_t n;
    assert_int_equal(access(y, F_OK), -1);
    unsigned char *text = slurp(m, &n);
    assert_true(n == 6 && memcmp(text, "old m\n", 6) == 0);
    free(text);
    text = slurp(s, &n);
    assert_true(n == 6 && memcmp(text, "old s\n", 6) == 0);
    free(text);
    assert_int_equal(dir_entries(dir, NULL), 2);
    expect_no_leftovers(dir, "sticky");
}

/* Every file-system call of the outputs, failing in turn: each run fails
 * cleanly with everything as it was, or (a harmless fault) succeeds with
 * the right outputs. With hard links, and without (renamed aside). */
static void test_every_call_fails(void **state)
{
    (void)state;
    char in[512], y[512], m[512], s[512];
    snprintf(in, sizeof in, "%s", work_path("x3.npy"));
    snprintf(y, sizeof y, "%s", work_path("ref_y.npy"));
    snprintf(m, sizeof m, "%s", work_path("ref_m.npy"));
    snprintf(s, sizeof s, "%s", work_path("ref_s.npy"));
    tool_ok(ARGS("revin", "-i", in, "-o", y, "--mean-out", m, "--std-out", s));
    size_t ny, nm, ns;
    unsigned char *ry = slurp(y, &ny), *rm = slurp(m, &nm), *rs = slurp(s, &ns);
    tool_set_binary(CLNORM_TOOL_FI_PATH);
    static const char *const bases[] = {"", "link:1+:EPERM,"};
    for (size_t b = 0; b < 2; ++b) {
        char spec[64];
        unsigned long calls = 0, failed = 0, harmless = 0;
        char site[64];
        /* A run without the countdown counts the calls. */
        snprintf(spec, sizeof spec, "%s999999", bases[b]);
        set_fault(spec);
        tool_ok(ARGS("revin", "-i", in, "-o", work_path("out/y.npy"), "--mean-out",
                     work_path("out/new_m.npy"), "--std-out", work_path("out/s.npy")));
        read_report(&calls, site, sizeof site);
        assert_true(calls >= 10);
        for (unsigned long n = 1; n <= calls; ++n) {
            spit(work_path("out/y.npy"), "old y\n", 6);
            spit(work_path("out/s.npy"), "old s\n", 6);
            unlink(work_path("out/new_m.npy"));
            snprintf(spec, sizeof spec, "%s%lu", bases[b], n);
            set_fault(spec);
            tree_snapshot before;
            snapshot_take(&before, work_path("out"));
            tool_result r;
            tool_run(&r, -1,
                     ARGS("revin", "-i", in, "-o", work_path("out/y.npy"), "--mean-out",
                          work_path("out/new_m.npy"), "--std-out", work_path("out/s.npy")));
            if (r.code == 0) {
                ++harmless;
                size_t n1, n2, n3;
                unsigned char *gy = slurp(work_path("out/y.npy"), &n1),
                              *gm = slurp(work_path("out/new_m.npy"), &n2),
                              *gs = slurp(work_path("out/s.npy"), &n3);
                assert_true(n1 == ny && n2 == nm && n3 == ns);
                assert_memory_equal(gy, ry, ny);
                assert_memory_equal(gm, rm, nm);
                assert_memory_equal(gs, rs, ns);
                free(gy), free(gm), free(gs);
            } else {
                ++failed;
                size_t len = strlen(r.err);
                if (r.code != 2 || strncmp(r.err, "clnorm: error: ", 15) != 0 ||
                    strchr(r.err, '\n') != r.err + len - 1)
                    fail_msg("%s: exit %d, stderr '%s'", spec, r.code, r.err);
                snapshot_expect_same(&before, work_path("out"), spec);
            }
            expect_no_leftovers(work_path("out"), spec);
            snapshot_free(&before);
            tool_result_free(&r);
        }
        print_message("%s: %lu calls, each failed in turn: %lu failed the run cleanly, %lu "
                      "were harmless\n",
                      b ? "without hard links" : "with hard links", calls, failed, harmless);
        assert_true(failed > 0);
    }
    free(ry), free(rm), free(rs);
    clear_fault();
    tool_set_binary(NULL);
}

/* ---- signals in the middle of a run ---- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static pid_t spawn(const char *const *args)
{
    const char *argv[16];
    tool_argv(args, argv, sizeof argv / sizeof argv[0]);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The signals as a shell leaves them for a foreground job, even when
         * the test runs in the background (where SIGINT is ignored). */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
            _exit(126);
        execv(tool_binary(), (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int status;
    for (double t0 = now_ms();;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        if (now_ms() - t0 > 60000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("clnorm still running after a minute");
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* revin on 64 MiB with three outputs, SIGINT, SIGTERM or SIGHUP at a random
 * moment of the run: it finishes (exit 0, every output new) or ends by the
 * signal with no temporary left and the outputs all old or all new. */
static void test_signals(void **state)
{
    (void)state;
    const size_t shape[3] = {16, 65536, 16}, count = 16 * 65536 * 16;
    float *x = malloc(count * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < count; ++i)
        x[i] = (float)(i % 997) * 0.01f + (float)(i % 13);
    npy_put_f32(work_path("big.npy"), shape, 3, x);
    free(x);
    char in[512], out[3][512], ref[3][512];
    static const char *const names[3] = {"y.npy", "m.npy", "s.npy"};
    static const char *const old[3] = {"old y\n", "old m\n", "old s\n"};
    snprintf(in, sizeof in, "%s", work_path("big.npy"));
    for (int k = 0; k < 3; ++k) {
        snprintf(out[k], sizeof out[k], "%s/out/%s", work_dir(), names[k]);
        snprintf(ref[k], sizeof ref[k], "%s/ref_%s", work_dir(), names[k]);
    }
    /* The outputs of an uninterrupted run, and how long one takes. */
    double run_ms = 1e9;
    for (int i = 0; i < 3; ++i) { /* the fastest of three: most runs end later than that */
        double t0 = now_ms();
        tool_ok(ARGS("revin", "-i", in, "-o", ref[0], "--mean-out", ref[1], "--std-out", ref[2]));
        if (now_ms() - t0 < run_ms)
            run_ms = now_ms() - t0;
    }
    unsigned char *want[3];
    size_t want_size[3];
    for (int k = 0; k < 3; ++k)
        want[k] = slurp(ref[k], &want_size[k]);
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    int finished = 0, stopped_old = 0, stopped_new = 0;
    rng_seed(2024);
    const int runs = 30;
    for (int run = 0; run < runs; ++run) {
        int sig = sigs[run % 3];
        double delay_ms = run_ms * (double)(rng() % 1000) / 1000.0;
        for (int k = 0; k < 3; ++k)
            spit(out[k], old[k], 6);
        pid_t pid =
            spawn(ARGS("revin", "-i", in, "-o", out[0], "--mean-out", out[1], "--std-out", out[2]));
        struct timespec ts = {(time_t)(delay_ms / 1000),
                              (long)((delay_ms - 1000 * (double)(time_t)(delay_ms / 1000)) * 1e6)};
        nanosleep(&ts, NULL);
        kill(pid, sig);
        int status = wait_for(pid);
        char what[128];
        snprintf(what, sizeof what, "run %d, signal %d after %.0f ms", run, sig, delay_ms);
        /* Only the three outputs in out/. */
        expect_no_leftovers(work_path("out"), what);
        assert_int_equal(dir_entries(work_path("out"), NULL), 3);
        int news = 0, olds = 0;
        for (int k = 0; k < 3; ++k) {
            size_t n;
            unsigned char *got = slurp(out[k], &n);
            if (n == want_size[k] && !memcmp(got, want[k], n))
                ++news;
            else if (n == 6 && !memcmp(got, old[k], 6))
                ++olds;
            else
                fail_msg("%s: %s is neither the old file nor the complete new one (%zu bytes)",
                         what, names[k], n);
            free(got);
        }
        if (news != 3 && olds != 3)
            fail_msg("%s: %d outputs new, %d old: the outputs must change together", what, news,
                     olds);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            if (news != 3)
                fail_msg("%s: exit 0 but the outputs are old", what);
            ++finished;
        } else if ((WIFSIGNALED(status) && WTERMSIG(status) == sig) ||
                   (WIFEXITED(status) && WEXITSTATUS(status) == 128 + sig)) {
            news == 3 ? ++stopped_new : ++stopped_old;
        } else {
            fail_msg("%s: ended with status 0x%x, neither exit 0 nor signal %d", what, status, sig);
        }
    }
    print_message("a run takes %.0f ms; of %d signalled runs %d finished first, %d were stopped "
                  "with the outputs untouched, %d after the commit\n",
                  run_ms, runs, finished, stopped_old, stopped_new);
    for (int k = 0; k < 3; ++k)
        free(want[k]);
}

/* ---- modes ---- */

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* A new output gets 0666 & ~umask; a replaced one keeps its mode. */
static void test_modes(void **state)
{
    (void)state;
    static const mode_t masks[] = {022, 077, 027};
    char in[512], y[512], m[512], s[512];
    snprintf(in, sizeof in, "%s", work_path("x3.npy"));
    snprintf(y, sizeof y, "%s", work_path("out/new.npy"));
    snprintf(m, sizeof m, "%s", work_path("out/m.npy"));
    snprintf(s, sizeof s, "%s", work_path("out/s.npy"));
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; ++i) {
        unlink(y);
        assert_int_equal(chmod(m, 0600), 0);
        assert_int_equal(chmod(s, 0664), 0);
        mode_t was = umask(masks[i]);
        tool_ok(ARGS("revin", "-i", in, "-o", y, "--mean-out", m, "--std-out", s));
        umask(was);
        if (mode_of(y) != (0666 & ~masks[i]))
            fail_msg("umask %03o: a new output has mode %03o, expected %03o", (unsigned)masks[i],
                     (unsigned)mode_of(y), (unsigned)(0666 & ~masks[i]));
        if (mode_of(m) != 0600 || mode_of(s) != 0664)
            fail_msg("umask %03o: replaced outputs have modes %03o and %03o, expected 600 and "
                     "664",
                     (unsigned)masks[i], (unsigned)mode_of(m), (unsigned)mode_of(s));
        /* varnorm2d too. */
        unlink(y);
        was = umask(masks[i]);
        tool_ok(ARGS("varnorm2d", "-i", work_path("x4.npy"), "-o", y));
        tool_ok(ARGS("varnorm2d", "-i", work_path("x4.npy"), "-o", m));
        umask(was);
        assert_int_equal(mode_of(y), 0666 & ~masks[i]);
        assert_int_equal(mode_of(m), 0600);
    }
    /* Root replacing another user's file keeps its owner and group. */
    if (geteuid() == 0) {
        struct stat st;
        assert_int_equal(chown(m, 65534, 65534), 0);
        tool_ok(ARGS("varnorm2d", "-i", work_path("x4.npy"), "-o", m));
        assert_int_equal(stat(m, &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        assert_int_equal(st.st_mode & 07777, 0600);
    }
}

/* A test in a work directory of its own, with the inputs and old outputs setup() puts there. */
#define OUTPUTS_TEST(t) cmocka_unit_test_setup_teardown(t, setup, tool_teardown_work)

int main(void)
{
    const struct CMUnitTest tests[] = {
        OUTPUTS_TEST(test_fifo_refused),
        OUTPUTS_TEST(test_device_refused),
        OUTPUTS_TEST(test_symlinks),
        cmocka_unit_test_setup_teardown(test_unreplaceable, setup, teardown_unreplaceable),
        OUTPUTS_TEST(test_third_rename_fails),
        OUTPUTS_TEST(test_every_call_fails),
        OUTPUTS_TEST(test_signal_at_each_step),
        OUTPUTS_TEST(test_signals),
        OUTPUTS_TEST(test_sigkill_leftovers),
        OUTPUTS_TEST(test_sticky_other_user),
        OUTPUTS_TEST(test_modes),
    };
    return cmocka_run_group_tests_name("tool outputs", tests, NULL, NULL);
}
