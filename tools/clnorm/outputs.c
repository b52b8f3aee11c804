/* SPDX-License-Identifier: Apache-2.0 */
/* outputs.c: outputs that appear together or not at all (see outputs.h).
 *
 * Each output is a slot: its temporary, its destination (a symbolic link
 * resolved to its target), and its backup name. What the signal handler
 * needs lives in fixed arrays of the slots, and every step that changes the
 * file system together with the slot's state (create, link, rename, unlink)
 * runs with SIGINT, SIGTERM and SIGHUP blocked, so the handler always finds
 * the state that matches the disk. The handler runs on the thread that owns
 * the outputs: another thread that takes the signal (an OpenCL runtime's
 * worker) passes it on with pthread_kill and returns. */
#define _GNU_SOURCE /* statx */
#include "outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif

#include "cli.h"
#include "npy.h"

/* The fixed parts of the names: "<dir>/.<name>" + TEMP_TAG or BACKUP_TAG + 6 random characters. */
#define TEMP_TAG ".clnorm-"
#define BACKUP_TAG ".clnorm-old-"
#define OUT_PATH 4096
#define NAME_KEEP 200 /* bytes of <name> kept in those names, so that they fit NAME_MAX */

enum { ST_FREE, ST_STAGED, ST_ASIDE, ST_PLACED };
enum { BK_NONE, BK_LINK, BK_ASIDE };

typedef struct slot {
    /* Read by the signal handler: changed only with the signals blocked. */
    volatile sig_atomic_t state;  /* ST_STAGED: the temporary exists; ST_ASIDE: the old file is
                                     under the backup name, the temporary not yet in place;
                                     ST_PLACED: the temporary is the destination now */
    volatile sig_atomic_t backup; /* BK_LINK: old[] is a hard link of the destination's old
                                     file; BK_ASIDE: old[] is an empty placeholder until the old
                                     file is renamed over it (ST_ASIDE) */
    char temp[OUT_PATH], dest[OUT_PATH], old[OUT_PATH];
    /* The owning thread's alone. */
    const char *option, *path; /* as the user gave them, for messages */
    int fd, have_fd, written;
    int replacing; /* dest was a regular file at outputs_add */
    mode_t mode;
    uid_t uid;
    gid_t gid;
    dev_t temp_dev;
    ino_t temp_ino;
} slot;

static slot slots[OUTPUTS_MAX];
static size_t count;
static volatile sig_atomic_t committed; /* every slot ST_PLACED: only the backups remain to go */

static const int guarded_signals[] = {SIGINT, SIGTERM, SIGHUP};
static sigset_t guarded;
static pthread_t owner;
static struct sigaction default_action;
static int ready;

/* ---------------------------------------------------------------- test-only faults */

#ifdef CLNORM_TOOL_FAULTS
/* CLNORM_TEST_OUTPUT_FAULT: rules separated by commas, each "N" (the Nth
 * file-system call of this module) or "SITE:N" (the Nth call at SITE), N
 * followed by '+' for that call and every later one, then optionally
 * ":EPERM" (or EIO, the default, EXDEV, ENOSPC, EACCES, EMLINK) for the error,
 * or ":SIGTERM" (SIGINT, SIGHUP) to raise that signal at the call instead of
 * failing it (in the middle of a commit, the signal waits for the step to end;
 * ":SIGKILL" does not: what a crash leaves).
 * CLNORM_TEST_OUTPUT_FAULT_REPORT names a file that receives "fired SITE
 * CALLS" or "clean CALLS" at exit. */
static struct rule {
    char site[16];
    unsigned long nth, calls;
    int onward, err, sig;
} rules[8];
static size_t nrules;
static unsigned long all_calls;
static char fired[16];
static int fault_armed;
static const char *fault_report_path;

static void fault_report(void)
{
    FILE *f = fopen(fault_report_path, "w");
    if (!f)
        return;
    if (fired[0])
        fprintf(f, "fired %s %lu\n", fired, all_calls);
    else
        fprintf(f, "clean %lu\n", all_calls);
    fclose(f);
}

static void fault_arm(void)
{
    static const struct {
        const char *name;
        int value;
    } errs[] = {{"EIO", EIO},       {"EPERM", EPERM},   {"EXDEV", EXDEV},
                {"ENOSPC", ENOSPC}, {"EACCES", EACCES}, {"EMLINK", EMLINK}};
    static const struct {
        const char *name;
        int value;
    } sigs[] = {{"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGHUP", SIGHUP}, {"SIGKILL", SIGKILL}};
    char buf[256], *save = NULL;
    const char *spec = getenv("CLNORM_TEST_OUTPUT_FAULT");
    fault_armed = 1;
    fault_report_path = getenv("CLNORM_TEST_OUTPUT_FAULT_REPORT");
    if (fault_report_path && *fault_report_path)
        atexit(fault_report);
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *t = strtok_r(buf, ",", &save); t && nrules < 8; t = strtok_r(NULL, ",", &save)) {
        struct rule *r = &rules[nrules++];
        r->err = EIO;
        if (*t < '0' || *t > '9') {
            size_t n = strcspn(t, ":");
            snprintf(r->site, sizeof r->site, "%.*s", (int)n, t);
            t += n + (t[n] == ':');
        }
        char *end;
        r->nth = strtoul(t, &end, 10);
        if (*end == '+')
            r->onward = 1, ++end;
        if (*end == ':') {
            for (size_t i = 0; i < sizeof errs / sizeof errs[0]; ++i)
                if (!strcmp(end + 1, errs[i].name))
                    r->err = errs[i].value;
            for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
                if (!strcmp(end + 1, sigs[i].name))
                    r->sig = sigs[i].value;
        }
    }
}

/* Whether the call at `site` is to fail (with errno set as the rule says). */
static int fault(const char *site)
{
    int hit = 0, err = EIO;
    if (!fault_armed)
        fault_arm();
    ++all_calls;
    for (size_t i = 0; i < nrules; ++i) {
        struct rule *r = &rules[i];
        unsigned long n = all_calls;
        if (r->site[0]) {
            if (strcmp(r->site, site) != 0)
                continue;
            n = ++r->calls;
        }
        if (n == r->nth || (r->onward && n > r->nth)) {
            if (r->sig)
                raise(r->sig);
            else
                hit = 1, err = r->err;
        }
    }
    if (hit) {
        if (!fired[0])
            snprintf(fired, sizeof fired, "%s", site);
        errno = err;
    }
    return hit;
}
#define FAULT(site) fault(site)
#else
#define FAULT(site) 0
#endif

/* ---------------------------------------------------------------- helpers */

static void block(sigset_t *old) { pthread_sigmask(SIG_BLOCK, &guarded, old); }

static void unblock(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

/* Puts slot s back as the run found it: the destination restored from its
 * backup (or removed when it was new), the temporary and the backup gone.
 * Async-signal-safe (the handler calls it). Returns 0, or -1 with errno when
 * the destination could not be put back; the backup is then kept. */
static int undo(slot *s)
{
    if (s->state == ST_PLACED || s->state == ST_ASIDE) {
        int rc = s->backup != BK_NONE ? rename(s->old, s->dest) : unlink(s->dest);
        if (rc != 0)
            return -1;
        s->backup = BK_NONE;
        if (s->state == ST_ASIDE) {
            int e = errno;
            (void)unlink(s->temp);
            errno = e;
        }
        s->state = ST_FREE;
        return 0;
    }
    if (s->state == ST_STAGED) {
        int e = errno;
        (void)unlink(s->temp);
        if (s->backup != BK_NONE)
            (void)unlink(s->old);
        errno = e;
    }
    s->backup = BK_NONE;
    s->state = ST_FREE;
    return 0;
}

/* After the commit: the backups go, the new files stay. Async-signal-safe. */
static void forget(slot *s)
{
    if (s->backup != BK_NONE) {
        int e = errno;
        (void)unlink(s->old);
        errno = e;
    }
    s->backup = BK_NONE;
    s->state = ST_FREE;
}

static void on_signal(int sig)
{
    if (!pthread_equal(pthread_self(), owner)) {
        /* Only the owner sees the slots consistent (it blocks the signals
         * while it changes them): pass the signal on. */
        int e = errno;
        pthread_kill(owner, sig);
        errno = e;
        return;
    }
    for (size_t k = OUTPUTS_MAX; k-- > 0;) {
        if (committed)
            forget(&slots[k]);
        else
            (void)undo(&slots[k]);
    }
    /* End as the signal would: default action, unblocked, raised again. */
    sigaction(sig, &default_action, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig);
}

static void setup(void)
{
    if (ready)
        return;
    ready = 1;
    owner = pthread_self();
    sigemptyset(&guarded);
    for (size_t i = 0; i < sizeof guarded_signals / sizeof guarded_signals[0]; ++i)
        sigaddset(&guarded, guarded_signals[i]);
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (size_t i = 0; i < sizeof guarded_signals / sizeof guarded_signals[0]; ++i) {
        struct sigaction was, sa;
        /* A signal ignored when we started (nohup, a background job) stays ignored. */
        if (sigaction(guarded_signals[i], NULL, &was) == 0 && !(was.sa_flags & SA_SIGINFO) &&
            was.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_mask = guarded;
        sa.sa_flags = SA_RESTART;
        sigaction(guarded_signals[i], &sa, NULL);
    }
    for (size_t k = 0; k < OUTPUTS_MAX; ++k)
        slots[k].have_fd = 0;
    atexit(outputs_discard); /* a path that forgot to commit or discard leaves nothing */
}

/* Six random name characters at p (not NUL-terminated). */
static void random_chars(char *p)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static uint64_t x;
    if (!x) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
            (uint64_t)(uintptr_t)&x;
        if (!x)
            x = 1;
    }
    for (int i = 0; i < 6; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[i] = alphabet[(x >> 32) % 62];
    }
}

/* "<dir>/.<name><tag>" beside dest into out (room for six more characters).
 * Returns its length, or 0 (errno ENAMETOOLONG). */
static size_t name_beside(char *out, const char *dest, const char *tag)
{
    const char *slash = strrchr(dest, '/');
    size_t dirlen = slash ? (size_t)(slash - dest) + 1 : 0;
    size_t baselen = strlen(dest + dirlen), taglen = strlen(tag);
    if (baselen > NAME_KEEP)
        baselen = NAME_KEEP;
    if (dirlen + 1 + baselen + taglen + 7 > OUT_PATH) {
        errno = ENAMETOOLONG;
        return 0;
    }
    memcpy(out, dest, dirlen);
    out[dirlen] = '.';
    memcpy(out + dirlen + 1, dest + dirlen, baselen);
    memcpy(out + dirlen + 1 + baselen, tag, taglen + 1);
    return dirlen + 1 + baselen + taglen;
}

/* The directory part of path ("." for none) into out. */
static void dir_of(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(out, ".");
    } else if (slash == path) {
        strcpy(out, "/");
    } else {
        memcpy(out, path, (size_t)(slash - path));
        out[slash - path] = '\0';
    }
}

/* A new file at path[0..len) + six random characters, O_EXCL, mode `mode`
 * less the umask. Returns the descriptor or -1. */
static int create_unique(char *path, size_t len, mode_t mode)
{
    for (int tries = 0; tries < 1000; ++tries) {
        random_chars(path + len);
        path[len + 6] = '\0';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* A new hard link of target at path[0..len) + six random characters. */
static int link_unique(const char *target, char *path, size_t len)
{
    for (int tries = 0; tries < 1000; ++tries) {
        random_chars(path + len);
        path[len + 6] = '\0';
        if (link(target, path) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* Whether two paths name the same directory entry: same directory (by
 * device and inode, so "./a" and "a" match) and the same last component. */
static int same_entry(const char *a, const char *b)
{
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    ba = ba ? ba + 1 : a;
    bb = bb ? bb + 1 : b;
    if (strcmp(ba, bb) != 0)
        return 0;
    char da[OUT_PATH], db[OUT_PATH];
    struct stat sa, sb;
    dir_of(a, da);
    dir_of(b, db);
    return stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static const char *kind_of(mode_t m)
{
    return S_ISCHR(m)    ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a named pipe (FIFO)"
           : S_ISSOCK(m) ? "a socket"
           : S_ISLNK(m)  ? "a symbolic link"
           : S_ISDIR(m)  ? "a directory"
                         : "not a regular file";
}

/* Whether path is where a file system (a bind mount of a file) is mounted:
 * rename cannot replace it. */
static int mount_root(const char *path)
{
#if defined(__linux__) && defined(STATX_ATTR_MOUNT_ROOT)
    struct statx sx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) == 0 &&
        (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
#endif
    (void)path;
    return 0;
}

/* Whether the file or directory at path carries the immutable or the
 * append-only attribute (chattr +i, +a), which make renames over it fail. */
static int immutable(const char *path)
{
#if defined(__linux__) && defined(FS_IOC_GETFLAGS)
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int flags = 0, rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    close(fd);
    return rc == 0 && (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL));
#else
    (void)path;
    return 0;
#endif
}

/* ---------------------------------------------------------------- the API */

static int replaceable(const slot *s, int *exists);

int outputs_add(const char *option, const char *path)
{
    setup();
    if (count == OUTPUTS_MAX)
        return cli_error(EXIT_USAGE, "too many outputs");
    size_t len = strlen(path);
    if (len == 0)
        return cli_error(EXIT_USAGE, "%s: the file name is empty", option);
    if (path[len - 1] == '/')
        return cli_error(EXIT_USAGE, "%s '%s': names a directory, not a file", option, path);
    struct stat st;
    const char *dest = path;
    char *resolved = NULL;
    int replacing = 0;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            if (stat(path, &st) != 0) {
                if (errno == ENOENT)
                    return cli_error(EXIT_USAGE,
                                     "%s '%s': is a symbolic link to a file that "
                                     "does not exist (clnorm replaces the target of a link, "
                                     "it does not create it)",
                                     option, path);
                return cli_error(EXIT_USAGE, "%s '%s': cannot follow the symbolic link: %s", option,
                                 path, strerror(errno));
            }
            if (S_ISDIR(st.st_mode))
                return cli_error(EXIT_USAGE, "%s '%s': names a directory, not a file", option,
                                 path);
            if (!S_ISREG(st.st_mode))
                return cli_error(EXIT_USAGE,
                                 "%s '%s': is a symbolic link to %s, not to a "
                                 "regular file; refusing to replace it",
                                 option, path, kind_of(st.st_mode));
            if (!(resolved = realpath(path, NULL)))
                return cli_error(EXIT_USAGE, "%s '%s': cannot resolve the symbolic link: %s",
                                 option, path, strerror(errno));
            dest = resolved;
        } else if (S_ISDIR(st.st_mode)) {
            return cli_error(EXIT_USAGE, "%s '%s': names a directory, not a file", option, path);
        } else if (!S_ISREG(st.st_mode)) {
            return cli_error(EXIT_USAGE,
                             "%s '%s': is %s, not a regular file; refusing to "
                             "replace it",
                             option, path, kind_of(st.st_mode));
        }
        replacing = 1;
    } else if (errno != ENOENT && errno != ENOTDIR) {
        /* ENOENT: a new file; ENOTDIR is reported below, as creating it fails. */
        return cli_error(EXIT_USAGE, "%s '%s': %s", option, path, strerror(errno));
    }
    if (strlen(dest) + 1 > OUT_PATH - 32) {
        free(resolved);
        return cli_error(EXIT_USAGE, "%s '%s': %s", option, path, strerror(ENAMETOOLONG));
    }
    for (size_t i = 0; i < count; ++i)
        if (same_entry(slots[i].dest, dest)) {
            free(resolved);
            return cli_error(EXIT_USAGE, "%s and %s both name '%s'", slots[i].option, option, path);
        }
    slot *s = &slots[count];
    char temp[OUT_PATH];
    size_t plen = name_beside(temp, dest, TEMP_TAG);
    s->option = option;
    s->path = path;
    s->replacing = replacing;
    s->written = 0;
    s->mode = replacing ? st.st_mode & 0777 : 0666;
    s->uid = replacing ? st.st_uid : 0;
    s->gid = replacing ? st.st_gid : 0;
    int fd = -1, e = errno;
    if (plen) {
        sigset_t old;
        block(&old);
        fd = FAULT("create") ? -1 : create_unique(temp, plen, s->mode);
        e = errno;
        if (fd >= 0) {
            memcpy(s->temp, temp, plen + 7);
            strcpy(s->dest, dest);
            s->backup = BK_NONE;
            s->state = ST_STAGED;
            s->fd = fd;
            s->have_fd = 1;
            ++count;
        }
        unblock(&old);
    }
    free(resolved);
    if (fd < 0)
        return cli_error(EXIT_USAGE, "%s '%s': cannot create a file in its directory: %s", option,
                         path, strerror(e));
    struct stat ts;
    if (fstat(fd, &ts) == 0) {
        s->temp_dev = ts.st_dev;
        s->temp_ino = ts.st_ino;
    }
    /* What the commit will check again: refused now, before any work. */
    int exists, code = replaceable(s, &exists);
    if (code != 0) {
        sigset_t old;
        close(fd);
        s->have_fd = 0;
        block(&old);
        (void)undo(s);
        --count;
        unblock(&old);
    }
    return code;
}

int outputs_write(size_t index, const size_t *shape, size_t ndim, const float *data)
{
    if (index >= count || !slots[index].have_fd)
        return cli_error(EXIT_DEVICE, "internal error: output %zu is not open", index);
    slot *s = &slots[index];
    char err[512];
    if (FAULT("write")) {
        snprintf(err, sizeof err, "write failed: %s", strerror(errno));
        return cli_error(EXIT_USAGE, "%s '%s': %s", s->option, s->path, err);
    }
    if (npy_write_fd(s->fd, shape, ndim, data, err, sizeof err) != 0)
        return cli_error(EXIT_USAGE, "%s '%s': %s", s->option, s->path, err);
    if (s->replacing) {
        /* The old file's owner and group where we may (root may, others may
         * give the file a group of theirs), then its permission bits. */
        if ((s->uid != geteuid() || s->gid != getegid()) && fchown(s->fd, s->uid, s->gid) != 0)
            (void)!fchown(s->fd, (uid_t)-1, s->gid);
        if (FAULT("fchmod") || fchmod(s->fd, s->mode) != 0)
            return cli_error(EXIT_USAGE, "%s '%s': cannot set the new file's mode: %s", s->option,
                             s->path, strerror(errno));
    }
    if (FAULT("fsync") || fsync(s->fd) != 0)
        return cli_error(EXIT_USAGE, "%s '%s': fsync failed: %s", s->option, s->path,
                         strerror(errno));
    int failed = FAULT("close");
    int e = errno;
    if (close(s->fd) != 0 && !failed)
        failed = 1, e = errno;
    s->have_fd = 0;
    if (failed)
        return cli_error(EXIT_USAGE, "%s '%s': close failed: %s", s->option, s->path, strerror(e));
    s->written = 1;
    return 0;
}

/* Whether slot s's temporary can take the destination's place: the
 * directory writable, and an existing destination a regular file on the
 * temporary's file system, not a mount point, not sticky-protected against
 * us, not immutable. Sets *exists. Returns 0 or a reported exit code. */
static int replaceable(const slot *s, int *exists)
{
    struct stat st, ds;
    char dir[OUT_PATH];
    *exists = 0;
    dir_of(s->dest, dir);
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        return cli_error(EXIT_USAGE, "%s '%s': cannot write in its directory: %s", s->option,
                         s->path, strerror(errno));
    if (immutable(dir))
        return cli_error(EXIT_USAGE,
                         "%s '%s': its directory is immutable or append-only "
                         "(chattr)",
                         s->option, s->path);
    if (lstat(s->dest, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* new (or removed during the run): nothing to keep */
        return cli_error(EXIT_USAGE, "%s '%s': %s", s->option, s->path, strerror(errno));
    }
    *exists = 1;
    /* It may have changed since outputs_add: the same refusals again. */
    if (S_ISDIR(st.st_mode))
        return cli_error(EXIT_USAGE, "%s '%s': names a directory, not a file", s->option, s->path);
    if (!S_ISREG(st.st_mode))
        return cli_error(EXIT_USAGE,
                         "%s '%s': is now %s, not a regular file; refusing to "
                         "replace it",
                         s->option, s->path, kind_of(st.st_mode));
    if (st.st_dev != s->temp_dev || mount_root(s->dest))
        return cli_error(EXIT_USAGE,
                         "%s '%s': is a mount point (a file system is mounted on "
                         "it) and cannot be replaced",
                         s->option, s->path);
    if (stat(dir, &ds) == 0 && (ds.st_mode & S_ISVTX) && geteuid() != 0 && st.st_uid != geteuid() &&
        ds.st_uid != geteuid())
        return cli_error(EXIT_USAGE,
                         "%s '%s': belongs to another user in a sticky directory "
                         "and cannot be replaced",
                         s->option, s->path);
    if (immutable(s->dest))
        return cli_error(EXIT_USAGE,
                         "%s '%s': is immutable or append-only (chattr) and cannot "
                         "be replaced",
                         s->option, s->path);
    return 0;
}

/* Everything about slot s that can be checked before the first rename, and
 * its backup. Returns 0 or a reported exit code. */
static int prepare(slot *s)
{
    struct stat st;
    int exists, code;
    if (!s->written)
        return cli_error(EXIT_DEVICE, "internal error: %s '%s' was not written", s->option,
                         s->path);
    if (lstat(s->temp, &st) != 0 || st.st_dev != s->temp_dev || st.st_ino != s->temp_ino)
        return cli_error(EXIT_USAGE,
                         "%s '%s': the temporary file '%s' was removed or replaced "
                         "during the run",
                         s->option, s->path, s->temp);
    if ((code = replaceable(s, &exists)) != 0 || !exists)
        return code;
    /* The backup: a hard link of the old file, so that it stays in place
     * until the rename replaces it. */
    char b[OUT_PATH];
    size_t plen = name_beside(b, s->dest, BACKUP_TAG);
    if (!plen)
        return cli_error(EXIT_USAGE, "%s '%s': %s", s->option, s->path, strerror(errno));
    sigset_t old;
    block(&old);
    int rc = FAULT("link") ? -1 : link_unique(s->dest, b, plen), e = errno;
    if (rc == 0) {
        memcpy(s->old, b, plen + 7);
        s->backup = BK_LINK;
    }
    unblock(&old);
    if (rc == 0)
        return 0;
    if (e == EPERM || e == EMLINK || e == EXDEV || e == ENOSYS || e == EOPNOTSUPP) {
        /* No hard link here (a file system without them, protected_hardlinks):
         * reserve the backup name; the old file is renamed over it just
         * before the new one takes its place. */
        block(&old);
        int fd = FAULT("reserve") ? -1 : create_unique(b, plen, 0600);
        e = errno;
        if (fd >= 0) {
            memcpy(s->old, b, plen + 7);
            s->backup = BK_ASIDE;
        }
        unblock(&old);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
    }
    return cli_error(EXIT_USAGE,
                     "%s '%s': cannot keep the old file under a backup name "
                     "beside it: %s",
                     s->option, s->path, strerror(e));
}

/* A rename of slot `failed` went wrong (errno e, `what`): put back every
 * output from it down to the first, and report. */
static int roll_back(size_t failed, int e, const char *what)
{
    char trouble[OUT_PATH + 256] = "";
    for (size_t k = failed + 1; k-- > 0;) {
        slot *s = &slots[k];
        sigset_t old;
        block(&old);
        int rc = undo(s), ue = errno;
        unblock(&old);
        if (rc != 0 && !trouble[0])
            snprintf(trouble, sizeof trouble, "; and %s '%s' could not be put back (%s)%s%s",
                     s->option, s->path, strerror(ue),
                     s->backup != BK_NONE ? ": its old content is in " : "",
                     s->backup != BK_NONE ? s->old : "");
    }
    const slot *s = &slots[failed];
    int code = cli_error(EXIT_USAGE, "%s '%s': %s: %s%s", s->option, s->path, what, strerror(e),
                         trouble[0] ? trouble : "; every output was left as it was");
    outputs_discard();
    return code;
}

static void sync_dir(const char *path)
{
    char dir[OUT_PATH];
    dir_of(path, dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: the outputs are in place either way */
        close(fd);
    }
}

/* One rename of the commit, with the signals held off so that the handler
 * sees a slot's state and the file system agree: 0, or the errno. */
static int step(slot *s, const char *site, const char *from, const char *to, int done)
{
    sigset_t old;
    int e = 0;
    (void)site; /* only the test builds fail a named site */
    block(&old);
    if (FAULT(site) || rename(from, to) != 0)
        e = errno;
    else
        s->state = done;
    unblock(&old);
    return e;
}

int outputs_commit(void)
{
    /* 1. Every check, and every backup, before the first rename. */
    for (size_t i = 0; i < count; ++i) {
        int code = prepare(&slots[i]);
        if (code != 0) {
            outputs_discard();
            return code;
        }
    }
    /* 2. The renames, back to back. */
    for (size_t i = 0; i < count; ++i) {
        slot *s = &slots[i];
        int e = 0;
        if (s->backup == BK_ASIDE && (e = step(s, "aside", s->dest, s->old, ST_ASIDE)) != 0)
            return roll_back(i, e, "cannot move the old file aside");
        if ((e = step(s, "rename", s->temp, s->dest, ST_PLACED)) != 0)
            return roll_back(i, e, "cannot rename the new file into place");
    }
    sigset_t old;
    block(&old);
    committed = 1;
    unblock(&old);
    /* 3. The renames made durable, then the backups removed. */
    for (size_t i = 0; i < count; ++i)
        sync_dir(slots[i].dest);
    outputs_discard();
    return 0;
}

void outputs_discard(void)
{
    if (!ready)
        return;
    for (size_t k = OUTPUTS_MAX; k-- > 0;) {
        slot *s = &slots[k];
        if (s->have_fd) {
            close(s->fd);
            s->have_fd = 0;
        }
        sigset_t old;
        block(&old);
        if (committed)
            forget(s);
        else if (undo(s) != 0) /* reported by roll_back; the backup stays */
            s->state = ST_FREE, s->backup = BK_NONE;
        unblock(&old);
    }
    sigset_t old;
    block(&old);
    committed = 0;
    count = 0;
    unblock(&old);
}
