/* SPDX-License-Identifier: Apache-2.0 */
/* test_context.c: the context manager: choosing a device from a spec or
 * CLNORM_DEVICE, wrapping the caller's OpenCL objects (and giving them back
 * with their reference counts), the on-disk program cache (hit, corrupt
 * entries, disabled), context creation under injected faults, and the
 * status, version and message functions. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "support.h"
#include "test_main.h"

enum { VN = 2, VC = 3, VHW = 64, VCOUNT = VN * VC * VHW, RB = 2, RL = 37, RD = 3 };
enum { RCOUNT = RB * RL * RD, RROWS = RB * RD };

/* ---------------------------------------------------------------- helpers */

/* VarianceNorm2d (2, 3, 8, 8) on fixed data with `layer` (made here when
 * NULL): the output goes to y and must match the reference. */
static void run_vn(clnorm_context *c, clnorm_varnorm2d *layer, float *y)
{
    float x[VCOUNT], alpha[VC] = {0.5f, 1.0f, 2.0f};
    double ref[VCOUNT], tol[VCOUNT];
    rng_seed(42);
    fill_family(x, VN * VC, VHW, 1, FAMILY_NORMAL);
    clnorm_varnorm2d *own = NULL;
    if (!layer)
        assert_int_equal(clnorm_varnorm2d_create(c, VC, &own), CLNORM_OK), layer = own;
    cl_mem in = buffer_from(c, x, VCOUNT, 0), out = buffer_poisoned(c, VCOUNT);
    clnorm_varnorm2d_params p = {alpha, 1};
    clnorm_status st =
        clnorm_varnorm2d_forward(layer, &p, VN, VC, 8, 8, in, 0, out, 0, 0, NULL, NULL);
    if (st != CLNORM_OK)
        print_error("%s\n", clnorm_errmsg(c));
    assert_int_equal(st, CLNORM_OK);
    buffer_read(c, out, 0, y, VCOUNT);
    ref_varnorm2d(x, VN * VC, VHW, VC, alpha, ref);
    tol_relative(ref, VCOUNT, 8.0, tol);
    clReleaseMemObject(in), clReleaseMemObject(out), clnorm_varnorm2d_destroy(own);
    assert_int_equal(check_close("varnorm2d", y, ref, tol, VCOUNT), 0);
}

/* RevIN (B, L, D) = (2, 37, 3) with `layer` (made here when NULL), checked. */
static void run_revin(clnorm_context *c, clnorm_revin *layer)
{
    float x[RCOUNT], y[RCOUNT];
    double ref[RCOUNT], tol[RCOUNT], m[RROWS], s[RROWS];
    rng_seed(7);
    fill_family(x, RB, RL, RD, FAMILY_NORMAL);
    ref_revin(x, RB, RL, RD, ref, m, s);
    tol_revin_y(ref, m, s, RB, RL, RD, tol);
    clnorm_revin *own = NULL;
    if (!layer)
        assert_int_equal(clnorm_revin_create(c, RD, 0, &own), CLNORM_OK), layer = own;
    cl_mem in = buffer_from(c, x, RCOUNT, 0), out = buffer_poisoned(c, RCOUNT);
    cl_event ev = NULL;
    assert_int_equal(clnorm_revin_forward(layer, NULL, RB, RL, in, 0, out, 0, 0, NULL, &ev),
                     CLNORM_OK);
    assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
    buffer_read(c, out, 0, y, RCOUNT);
    clReleaseEvent(ev), clReleaseMemObject(in), clReleaseMemObject(out);
    clnorm_revin_destroy(own);
    assert_int_equal(check_close("revin", y, ref, tol, RCOUNT), 0);
}

/* Platform 0, device 0 ("0:0") with plain OpenCL calls, and their names. */
static cl_device_id first_device(cl_platform_id *platform, char *name, char *pname)
{
    cl_device_id dev;
    assert_int_equal(clGetPlatformIDs(1, platform, NULL), CL_SUCCESS);
    assert_int_equal(clGetDeviceIDs(*platform, CL_DEVICE_TYPE_ALL, 1, &dev, NULL), CL_SUCCESS);
    assert_int_equal(clGetDeviceInfo(dev, CL_DEVICE_NAME, 256, name, NULL), CL_SUCCESS);
    assert_int_equal(clGetPlatformInfo(*platform, CL_PLATFORM_NAME, 256, pname, NULL), CL_SUCCESS);
    return dev;
}

/* Whether any platform has a device of type t. */
static int have_type(cl_device_type t)
{
    cl_platform_id p[16];
    cl_uint np = 0, nd = 0;
    if (clGetPlatformIDs(16, p, &np) != CL_SUCCESS)
        return 0;
    for (cl_uint i = 0; i < np && i < 16; ++i)
        if (clGetDeviceIDs(p[i], t, 0, NULL, &nd) == CL_SUCCESS && nd > 0)
            return 1;
    return 0;
}

/* The environment variables the tests change, saved once and put back. */
static const char *const env_names[] = {"CLNORM_DEVICE", "CLNORM_CACHE_DIR", "CLNORM_CACHE",
                                        "XDG_CACHE_HOME", "HOME"};
static char *env_saved[5];

static void env_restore(void)
{
    for (int i = 0; i < 5; ++i)
        if (env_saved[i])
            setenv(env_names[i], env_saved[i], 1);
        else
            unsetenv(env_names[i]);
}

/* Files in `dir`: calls fn on each (when not NULL); temporary ones count -1000. */
static int dir_files(const char *dir, void (*fn)(const char *path))
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        count += strstr(e->d_name, "tmp") ? -1000 : 1;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (fn)
            fn(path);
    }
    closedir(d);
    return count;
}

static void remove_file(const char *path) { assert_int_equal(unlink(path), 0); }

static unsigned char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    rewind(f);
    unsigned char *data = malloc((size_t)*size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return data;
}

static void spit(const char *path, const unsigned char *data, long size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, (size_t)size, f), (size_t)size);
    assert_int_equal(fclose(f), 0);
}

static void flip_middle_byte(const char *path)
{
    long size;
    unsigned char *data = slurp(path, &size);
    data[size / 2] ^= 0x5a;
    spit(path, data, size);
    free(data);
}

static void truncate_half(const char *path)
{
    long size;
    unsigned char *data = slurp(path, &size);
    spit(path, data, size / 2);
    free(data);
}

static const char *copy_target; /* directory copy_into() copies to */
static void copy_into(const char *path)
{
    long size;
    char to[4096];
    unsigned char *data = slurp(path, &size);
    snprintf(to, sizeof to, "%s/%s", copy_target, strrchr(path, '/') + 1);
    spit(to, data, size);
    assert_int_equal(chmod(to, 0600), 0); /* as the library writes them: not a rejected entry */
    free(data);
}

/* A context with flags, one VarianceNorm2d forward (y), its program counts. */
static void cached_run(unsigned flags, float *y, unsigned *built, unsigned *cached)
{
    clnorm_context *c = NULL;
    assert_int_equal(clnorm_context_create(NULL, flags, &c), CLNORM_OK);
    clnorm_context_program_counts(c, built, cached);
    assert_true(*built == 0 && *cached == 0); /* kernels are compiled lazily */
    run_vn(c, NULL, y);
    clnorm_context_program_counts(c, built, cached);
    clnorm_context_destroy(c);
}

/* ------------------------------------------------------------ device specs */

/* `spec` fails with CLNORM_NO_DEVICE, a message quoting 'shown', saying
 * where it came from (`from`: "argument" or "CLNORM_DEVICE", and only that)
 * and listing the devices there are (with `name` and 0:0). */
static void expect_no_device(const char *spec, const char *shown, const char *from,
                             const char *name)
{
    clnorm_context *c = NULL;
    clnorm_status st = clnorm_context_create(spec, 0, &c);
    const char *msg = clnorm_errmsg(c);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "no device matches '%s'", shown);
    int env = !strcmp(from, "CLNORM_DEVICE");
    if (st != CLNORM_NO_DEVICE || !c || strncmp(msg, "CLNORM_NO_DEVICE: ", 18) ||
        !strstr(msg, quoted) || !strstr(msg, from) || (!env && strstr(msg, "CLNORM_DEVICE")) ||
        !strstr(msg, name) || !strstr(msg, "0:0")) {
        print_error("spec '%s': %s, \"%s\"\n  (wanted CLNORM_NO_DEVICE with \"%s\", from the %s, "
                    "the device list with 0:0 %s)\n",
                    spec ? spec : "(null)", clnorm_status_name(st), msg, quoted, from, name);
        fail();
    }
    assert_null(clnorm_context_cl_context(c)); /* a context that only holds its message */
    clnorm_revin *layer = NULL;
    assert_int_equal(clnorm_revin_create(c, RD, 0, &layer), CLNORM_INVALID_ARGUMENT);
    assert_non_null(strstr(clnorm_errmsg(c), "failed to initialise"));
    clnorm_context_destroy(c);
}

static void device_specs(void **state)
{
    (void)state;
    unsetenv("CLNORM_DEVICE");
    cl_platform_id platform;
    char name[256], pname[256], dev_sub[16], plat_sub[16];
    cl_device_id dev = first_device(&platform, name, pname);
    /* substrings of the real names, case flipped: a middle piece of the
     * device name, the first word of the platform name */
    size_t len = strlen(name), start = len > 8 ? 1 : 0, n = len - start < 6 ? len - start : 6;
    for (size_t i = 0; i < n; ++i)
        dev_sub[i] = (char)toupper((unsigned char)name[start + i]);
    dev_sub[n] = '\0';
    for (n = 0; pname[n] && pname[n] != ' ' && n < sizeof plat_sub - 1; ++n)
        plat_sub[n] = (char)(islower((unsigned char)pname[n]) ? toupper((unsigned char)pname[n])
                                                              : tolower((unsigned char)pname[n]));
    plat_sub[n] = '\0';
    const char *specs[] = {NULL, "", "cpu", "CPU", "0:0", dev_sub, plat_sub};
    int cpu = have_type(CL_DEVICE_TYPE_CPU), gpu = have_type(CL_DEVICE_TYPE_GPU);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; ++i) {
        if ((i == 2 || i == 3) && !cpu)
            continue;
        clnorm_context *c = NULL;
        clnorm_status st = clnorm_context_create(specs[i], 0, &c);
        if (st != CLNORM_OK)
            print_error("spec '%s': %s\n", specs[i] ? specs[i] : "(null)", clnorm_errmsg(c));
        assert_int_equal(st, CLNORM_OK);
        if (i >= 4 || (!gpu && !have_type(CL_DEVICE_TYPE_ACCELERATOR)))
            assert_ptr_equal(clnorm_context_device(c), dev); /* the device named, or the only one */
        assert_non_null(strstr(clnorm_context_device_description(c), name));
        run_revin(c, NULL);
        clnorm_context_destroy(c);
    }
    const char *bad[] = {"gpu", "accelerator", "9:9", "nonexistent-device"};
    for (int i = 0; i < 4; ++i)
        if ((i || !gpu) && (i != 1 || !have_type(CL_DEVICE_TYPE_ACCELERATOR)))
            expect_no_device(bad[i], bad[i], "argument", name);
    env_restore();
}

static void device_from_environment(void **state)
{
    (void)state;
    cl_platform_id platform;
    char name[256], pname[256];
    first_device(&platform, name, pname);
    clnorm_context *c = NULL;
    assert_int_equal(setenv("CLNORM_DEVICE", "0:0", 1), 0);
    for (int i = 0; i < 2; ++i) { /* NULL and "" both read it */
        assert_int_equal(clnorm_context_create(i ? "" : NULL, 0, &c), CLNORM_OK);
        run_revin(c, NULL);
        clnorm_context_destroy(c);
    }
    assert_int_equal(setenv("CLNORM_DEVICE", "nonexistent", 1), 0);
    expect_no_device(NULL, "nonexistent", "CLNORM_DEVICE", name);
    expect_no_device("", "nonexistent", "CLNORM_DEVICE", name);
    assert_int_equal(clnorm_context_create("0:0", 0, &c), CLNORM_OK); /* the argument wins */
    clnorm_context_destroy(c);
    assert_int_equal(setenv("CLNORM_DEVICE", "0:0", 1), 0);
    expect_no_device("nonexistent-device", "nonexistent-device", "argument", name);
    env_restore();
}

/* ------------------------------------------------------------------- wrap */

static cl_uint refcount(void *obj, int queue)
{
    cl_uint n = 0;
    if (queue)
        assert_int_equal(clGetCommandQueueInfo(obj, CL_QUEUE_REFERENCE_COUNT, sizeof n, &n, NULL),
                         CL_SUCCESS);
    else
        assert_int_equal(clGetContextInfo(obj, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL),
                         CL_SUCCESS);
    return n;
}

/* The reference count once it reaches `want`, or after 2 s: PoCL drops the
 * references its finished commands hold on the context from a background
 * thread, so a count read right after clFinish can still include them. */
static cl_uint settled_refcount(void *obj, int queue, cl_uint want)
{
    cl_uint n = refcount(obj, queue);
    for (int i = 0; i < 200 && n != want; ++i) {
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        n = refcount(obj, queue);
    }
    return n;
}

static void wrap(void **state)
{
    (void)state;
    cl_platform_id platform;
    char name[256], pname[256];
    cl_device_id dev = first_device(&platform, name, pname);
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err;
    cl_context mine = clCreateContext(props, 1, &dev, NULL, NULL, &err), other;
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(mine, dev, 0, &err), other_q;
    assert_int_equal(err, CL_SUCCESS);
    cl_uint ctx_refs = refcount(mine, 0), q_refs = refcount(q, 1);

    for (int variant = 0; variant < 2; ++variant) {
        clnorm_context *c = NULL;
        assert_int_equal(
            clnorm_context_wrap(mine, dev, q, variant ? CLNORM_CONTEXT_NO_CACHE : 0, &c),
            CLNORM_OK);
        assert_ptr_equal(clnorm_context_cl_context(c), mine);
        assert_ptr_equal(clnorm_context_device(c), dev);
        assert_ptr_equal(clnorm_context_queue(c), q);
        assert_true(refcount(mine, 0) > ctx_refs && refcount(q, 1) > q_refs); /* retained */
        float y[VCOUNT];
        clnorm_revin *rv = NULL;
        assert_int_equal(clnorm_revin_create(c, RD, 0, &rv), CLNORM_OK);
        run_revin(c, rv);
        run_vn(c, NULL, y);
        assert_int_equal(clFinish(q), CL_SUCCESS);
        clnorm_revin_destroy(rv);
        clnorm_context_destroy(c);
        assert_int_equal(settled_refcount(mine, 0, ctx_refs), ctx_refs);
        assert_int_equal(settled_refcount(q, 1, q_refs), q_refs);
    }
    /* still alive and usable by the caller */
    cl_mem buf = clCreateBuffer(mine, CL_MEM_READ_WRITE, 64, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    float zero = 0.0f;
    assert_int_equal(clEnqueueFillBuffer(q, buf, &zero, sizeof zero, 0, 64, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clFinish(q), CL_SUCCESS);
    clReleaseMemObject(buf);

    /* NULL arguments, and a queue of another context */
    other = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    other_q = clCreateCommandQueue(other, dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_uint other_refs = refcount(other_q, 1);
    const char *needles[] = {"the cl_context is NULL", "the device is NULL", "the queue is NULL",
                             "the queue belongs to another context"};
    for (int i = 0; i < 4; ++i) {
        clnorm_context *c = NULL;
        clnorm_status st = clnorm_context_wrap(i == 0 ? NULL : mine, i == 1 ? NULL : dev,
                                               i == 2   ? NULL
                                               : i == 3 ? other_q
                                                        : q,
                                               0, &c);
        assert_int_equal(st, i < 3 ? CLNORM_NULL_ARGUMENT : CLNORM_INVALID_ARGUMENT);
        assert_non_null(c);
        if (!strstr(clnorm_errmsg(c), needles[i]))
            print_error("wrap %d: \"%s\"\n", i, clnorm_errmsg(c)), fail();
        assert_null(clnorm_context_cl_context(c));
        clnorm_context_destroy(c);
    }
    assert_int_equal(settled_refcount(mine, 0, ctx_refs), ctx_refs);
    assert_int_equal(settled_refcount(q, 1, q_refs), q_refs);
    assert_int_equal(settled_refcount(other_q, 1, other_refs), other_refs);
    clReleaseCommandQueue(other_q), clReleaseContext(other);
    clReleaseCommandQueue(q), clReleaseContext(mine);
}

/* ------------------------------------------------------------------ cache */

static void program_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/clnorm-test-cache-XXXXXX", empty[] = "/tmp/clnorm-test-empty-XXXXXX";
    char scratch[] = "/tmp/clnorm-test-cwd-XXXXXX", cwd[4096], path[4200];
    assert_true(mkdtemp(dir) && mkdtemp(empty) && mkdtemp(scratch) && getcwd(cwd, sizeof cwd));
    unsetenv("CLNORM_CACHE");
    assert_int_equal(setenv("CLNORM_CACHE_DIR", dir, 1), 0);
    float y0[VCOUNT], y[VCOUNT];
    unsigned built, cached;

    cached_run(0, y0, &built, &cached); /* a fresh directory: built, then stored */
    assert_true(built == 1 && cached == 0);
    assert_int_equal(dir_files(dir, NULL), 1);
    cached_run(0, y, &built, &cached); /* a second context: loaded, same results */
    assert_true(built == 0 && cached == 1);
    assert_memory_equal(y, y0, sizeof y);

    void (*const corrupt[2])(const char *) = {flip_middle_byte, truncate_half};
    for (int i = 0; i < 2; ++i) { /* a corrupt entry is a miss: rebuilt, stored again */
        dir_files(dir, corrupt[i]);
        cached_run(0, y, &built, &cached);
        if (built != 1 || cached != 0)
            print_error("corruption %d: built %u, from cache %u\n", i, built, cached), fail();
        assert_memory_equal(y, y0, sizeof y);
        assert_int_equal(dir_files(dir, NULL), 1);
        cached_run(0, y, &built, &cached);
        assert_true(built == 0 && cached == 1);
    }

    /* CLNORM_CONTEXT_NO_CACHE: neither written (empty stays empty) nor read */
    assert_int_equal(setenv("CLNORM_CACHE_DIR", empty, 1), 0);
    cached_run(CLNORM_CONTEXT_NO_CACHE, y, &built, &cached);
    assert_true(built == 1 && cached == 0);
    assert_int_equal(dir_files(empty, NULL), 0);
    assert_int_equal(setenv("CLNORM_CACHE_DIR", dir, 1), 0);
    cached_run(CLNORM_CONTEXT_NO_CACHE, y, &built, &cached);
    assert_true(built == 1 && cached == 0);
    assert_memory_equal(y, y0, sizeof y);
    assert_int_equal(setenv("CLNORM_CACHE", "0", 1), 0); /* the other documented switch */
    cached_run(0, y, &built, &cached);
    assert_true(built == 1 && cached == 0);
    unsetenv("CLNORM_CACHE");

    /* CLNORM_CACHE_DIR=off: not a directory named "off" (one with a valid
     * entry waits in the working directory), nor the XDG/HOME fallbacks */
    assert_int_equal(chdir(scratch), 0);
    assert_int_equal(mkdir("off", 0700), 0);
    copy_target = "off";
    dir_files(dir, copy_into);
    snprintf(path, sizeof path, "%s/xdg", scratch);
    assert_int_equal(setenv("XDG_CACHE_HOME", path, 1), 0);
    snprintf(path, sizeof path, "%s/home", scratch);
    assert_int_equal(setenv("HOME", path, 1), 0);
    assert_int_equal(setenv("CLNORM_CACHE_DIR", "off", 1), 0);
    cached_run(0, y, &built, &cached);
    assert_true(built == 1 && cached == 0);
    assert_memory_equal(y, y0, sizeof y);
    assert_int_equal(dir_files(scratch, NULL), 1); /* "off" only: no xdg/, no home/ */
    assert_int_equal(dir_files("off", NULL), 1);
    dir_files("off", remove_file);
    assert_int_equal(rmdir("off"), 0);
    assert_int_equal(chdir(cwd), 0);
    env_restore();

    /* prepare: every variant, once */
    clnorm_context *c = NULL;
    assert_int_equal(clnorm_context_create(NULL, CLNORM_CONTEXT_NO_CACHE, &c), CLNORM_OK);
    assert_int_equal(clnorm_context_prepare(c), CLNORM_OK);
    assert_int_equal(clnorm_context_prepare(c), CLNORM_OK);
    clnorm_context_program_counts(c, &built, NULL);
    assert_int_equal(built, 5);
    run_vn(c, NULL, y);
    clnorm_context_program_counts(c, &built, &cached);
    assert_true(built == 5 && cached == 0);
    clnorm_context_destroy(c);

    dir_files(dir, remove_file);
    assert_true(rmdir(dir) == 0 && rmdir(empty) == 0 && rmdir(scratch) == 0);
}

/* ---------------------------------------------------- creation under faults */

#define IS_ALLOC(s) (!strcmp(s, "malloc") || !strcmp(s, "calloc") || !strcmp(s, "realloc"))
/* Failures src/cache.h documents as a cache miss or a skipped store. */
#define IS_CACHE_SITE(s)                                                                           \
    (!strcmp(s, "malloc") || !strcmp(s, "clGetProgramInfo") ||                                     \
     !strcmp(s, "clCreateProgramWithBinary") || !strcmp(s, "clBuildProgram"))

static char build_error_unnamed[1024]; /* the first such message: reported at the end */

/* The fault at call n (`site`) gave a clean status naming the call and error. */
static void expect_fault_report(const clnorm_context *c, clnorm_status st, const char *site,
                                unsigned long n, int cache_on)
{
    if (st == CLNORM_OK && cache_on && IS_CACHE_SITE(site))
        return;
    int build = !strcmp(site, "clBuildProgram");
    clnorm_status want = IS_ALLOC(site) ? CLNORM_OUT_OF_MEMORY : CLNORM_OPENCL_ERROR;
    const char *msg = clnorm_errmsg(c), *name = clnorm_status_name(st);
    int ok = st == want || (build && st == CLNORM_BUILD_FAILED);
    if (ok && c)
        ok = !strncmp(msg, name, strlen(name)) && (IS_ALLOC(site) || strstr(msg, site));
    if (!ok) {
        print_error("fault at call %lu (%s): returned %s, \"%s\"; expected %s\n", n, site, name,
                    msg, clnorm_status_name(want));
        fail();
    }
    if (c && !IS_ALLOC(site) && !strstr(msg, "CL_OUT_OF_RESOURCES")) {
        if (!build)
            print_error("fault at call %lu (%s): no error name in \"%s\"\n", n, site, msg), fail();
        if (!build_error_unnamed[0])
            snprintf(build_error_unnamed, sizeof build_error_unnamed, "%s", msg);
    }
}

/* Fail call N = 1, 2, ... of a context create and two layer creates until
 * they complete: every N gives a clean error or a working context. With a
 * cache directory, `cold` empties it before each try. With `mine` (a
 * caller's context, device and queue) the context is wrapped, not created. */
typedef struct caller_cl {
    cl_context ctx;
    cl_device_id dev;
    cl_command_queue queue;
} caller_cl;

static void context_fault_loop(unsigned flags, const char *dir, int cold, const caller_cl *mine)
{
    unsigned long n;
    long live_before = clnorm_test_live_objects();
    for (n = 1;; ++n) {
        if (cold)
            dir_files(dir, remove_file);
        clnorm_context *c = NULL;
        clnorm_varnorm2d *vn = NULL;
        clnorm_revin *rv = NULL;
        clnorm_test_fault_arm(n, CL_OUT_OF_RESOURCES);
        clnorm_status st = mine ? clnorm_context_wrap(mine->ctx, mine->dev, mine->queue, flags, &c)
                                : clnorm_context_create(NULL, flags, &c);
        if (st == CLNORM_OK)
            st = clnorm_varnorm2d_create(c, VC, &vn);
        if (st == CLNORM_OK)
            st = clnorm_revin_create(c, RD, 0, &rv);
        int fired = clnorm_test_fault_fired();
        char site[64];
        snprintf(site, sizeof site, "%s", clnorm_test_fault_site());
        clnorm_test_fault_arm(0, 0);
        if (fired)
            expect_fault_report(c, st, site, n, dir != NULL);
        else if (st != CLNORM_OK)
            print_error("%s\n", clnorm_errmsg(c)), fail();
        if (!c) {
            assert_int_equal(st, CLNORM_OUT_OF_MEMORY);
        } else if (!clnorm_context_cl_context(c)) { /* only a message */
            assert_true(st != CLNORM_OK && clnorm_errmsg(c)[0] && !vn && !rv);
        } else { /* a working context, with the layers made under the countdown */
            float y[VCOUNT];
            run_vn(c, vn, y);
            run_revin(c, rv);
            unsigned built = 9, cached = 9;
            clnorm_context_program_counts(c, &built, &cached);
            assert_int_equal(built + cached, 2);
            if (dir && !cold && st == CLNORM_OK) /* warm: a rebuild only after a load failed */
                assert_true(built == 0 || (fired && IS_CACHE_SITE(site)));
        }
        clnorm_varnorm2d_destroy(vn), clnorm_revin_destroy(rv), clnorm_context_destroy(c);
        /* Every OpenCL object made or retained on the way is released again
         * (LeakSanitizer cannot see these: they live inside the driver). */
        long live = clnorm_test_live_objects();
        if (live != live_before) {
            print_error("failing call %lu (%s): %ld OpenCL object reference(s) never released\n", n,
                        fired ? site : "none", live - live_before);
            fail();
        }
        if (dir)
            assert_true(dir_files(dir, NULL) >= 0); /* no temporary file left behind */
        if (!fired)
            break;
        assert_true(n < 10000);
    }
    print_message("context + layer creation (%s%s): %lu calls, each failed in turn\n",
                  mine ? "wrapped, " : "",
                  !dir   ? "no cache"
                  : cold ? "cold cache"
                         : "warm cache",
                  n - 1);
}

static void creation_faults(void **state)
{
    (void)state;
    char dir[] = "/tmp/clnorm-test-faults-XXXXXX";
    assert_non_null(mkdtemp(dir));
    unsetenv("CLNORM_CACHE");
    assert_int_equal(setenv("CLNORM_CACHE_DIR", dir, 1), 0);
    build_error_unnamed[0] = '\0';
    context_fault_loop(CLNORM_CONTEXT_NO_CACHE, NULL, 0, NULL);
    assert_int_equal(dir_files(dir, NULL), 0);
    context_fault_loop(0, dir, 1, NULL);
    context_fault_loop(0, dir, 0, NULL);
    assert_int_equal(dir_files(dir, NULL), 2);
    /* Wrapping a caller's context: the caller's objects stay usable after
     * every failure (the next try wraps them again). */
    cl_platform_id platform;
    char name[256], pname[256];
    caller_cl mine;
    mine.dev = first_device(&platform, name, pname);
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err;
    mine.ctx = clCreateContext(props, 1, &mine.dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    mine.queue = clCreateCommandQueue(mine.ctx, mine.dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    context_fault_loop(CLNORM_CONTEXT_NO_CACHE, NULL, 0, &mine);
    context_fault_loop(0, dir, 0, &mine);
    assert_int_equal(clReleaseCommandQueue(mine.queue), CL_SUCCESS);
    assert_int_equal(clReleaseContext(mine.ctx), CL_SUCCESS);
    dir_files(dir, remove_file);
    assert_int_equal(rmdir(dir), 0);
    env_restore();
    if (build_error_unnamed[0]) {
        print_error("library bug: a failed clBuildProgram is reported without its OpenCL error "
                    "name (src/program.c: build_from_source drops the cl_int it got):\n  %s\n",
                    build_error_unnamed);
        fail();
    }
}

/* ------------------------------------------------- status, version, errmsg */

static void status_and_version(void **state)
{
    (void)state;
    static const struct {
        clnorm_status status;
        const char *name, *message;
    } table[] = {
#define ROW_(name, msg) {CLNORM_##name, "CLNORM_" #name, msg},
        CLNORM_STATUS_MAP(ROW_)
#undef ROW_
    };
    size_t rows = sizeof table / sizeof table[0];
    assert_int_equal(rows, CLNORM_STATUS_COUNT_);
    assert_int_equal(CLNORM_OK, 0);
    for (size_t i = 0; i < rows; ++i) {
        assert_int_equal(table[i].status, i);
        assert_string_equal(clnorm_status_name(table[i].status), table[i].name);
        assert_string_equal(clnorm_status_message(table[i].status), table[i].message);
        assert_true(strlen(table[i].message) > 5);
        for (size_t j = 0; j < i; ++j)
            assert_true(strcmp(clnorm_status_message(table[j].status), table[i].message) != 0);
    }
    assert_string_equal(clnorm_status_name(CLNORM_NO_DEVICE), "CLNORM_NO_DEVICE");
    assert_string_equal(clnorm_status_message(CLNORM_OK), "success");
    const int out_of_range[] = {CLNORM_STATUS_COUNT_, CLNORM_STATUS_COUNT_ + 1, 1000, -1,
                                INT32_MIN};
    for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; ++i) {
        assert_string_equal(clnorm_status_name((clnorm_status)out_of_range[i]), "CLNORM_UNKNOWN");
        assert_string_equal(clnorm_status_message((clnorm_status)out_of_range[i]),
                            "unknown status");
    }

    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", CLNORM_VERSION_MAJOR, CLNORM_VERSION_MINOR,
             CLNORM_VERSION_PATCH);
    assert_string_equal(clnorm_version_string(), CLNORM_VERSION_STRING);
    assert_string_equal(clnorm_version_string(), v);
    assert_int_equal(clnorm_version_number(), CLNORM_VERSION_NUMBER);
    assert_int_equal(clnorm_version_number(), CLNORM_VERSION_MAJOR * 10000 +
                                                  CLNORM_VERSION_MINOR * 100 +
                                                  CLNORM_VERSION_PATCH);

    const char *m = clnorm_errmsg(NULL);
    assert_true(m != NULL && m[0] != '\0');
    clnorm_context *c = NULL;
    assert_int_equal(clnorm_context_create("nonexistent-device", 0, &c), CLNORM_NO_DEVICE);
    assert_ptr_equal(clnorm_errmsg(NULL), m); /* static: untouched by failures elsewhere */
    assert_string_not_equal(clnorm_errmsg(c), m);
    clnorm_context_destroy(c);
}

static int group_setup(void **state)
{
    (void)state;
    for (int i = 0; i < 5; ++i) {
        const char *v = getenv(env_names[i]);
        env_saved[i] = v ? strdup(v) : NULL;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    env_restore();
    for (int i = 0; i < 5; ++i)
        free(env_saved[i]);
    clnorm_test_fault_arm(0, 0);
    return 0;
}

TEST_MAIN(group_setup, group_teardown, cmocka_unit_test(device_specs),
          cmocka_unit_test(device_from_environment), cmocka_unit_test(wrap),
          cmocka_unit_test(program_cache), cmocka_unit_test(creation_faults),
          cmocka_unit_test(status_and_version))
