/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_common.cl: vector types and the accumulator arithmetic shared by
 * clnorm's kernels. Includes clnorm_abi.h (the embedding step inlines it).
 *
 * Build defines (set by the host, src/program.c):
 *   CLNORM_FP64  1: accumulate in double (cl_khr_fp64); 0: float-float pairs
 *   VW           vector width of loads and lanes: 1, 2, 4, 8 or 16
 *   WG           work-group size every kernel is launched with
 *   CLNORM_UNALIGNED_VECTORS  1: global vector stores through a 4-byte
 *                aligned vector type (CPU variant; see STORE_GLOBAL)
 *
 * An accumulator `acc` is a double, or a float2 (x = high, y = low part of an
 * unevaluated sum) on devices without fp64. Both are 8 bytes, so partials in
 * global memory have one layout. The float-float operations are the classic
 * error-free transformations (Knuth's two-sum, Dekker's product via fma); they
 * need IEEE round-to-nearest adds and multiplies and no re-association, so the
 * host never builds with -cl-fast-relaxed-math or -cl-unsafe-math-optimizations,
 * and contraction is off: fma is written out where it is wanted. */

#ifndef CLNORM_COMMON_CL
#define CLNORM_COMMON_CL

#include "clnorm_abi.h"

#pragma OPENCL FP_CONTRACT OFF

#ifdef CLNORM_TEST_BUILD_ERROR /* the tests check that build logs reach the caller */
#error "CLNORM_TEST_BUILD_ERROR: a deliberate build failure"
#endif

#ifndef CLNORM_FP64
#define CLNORM_FP64 0
#endif
#ifndef VW
#define VW 1
#endif
#ifndef WG
#define WG 16
#endif
#ifndef CLNORM_UNALIGNED_VECTORS
#define CLNORM_UNALIGNED_VECTORS 0
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* Every helper function is CLNORM_INLINE (CLNORM_ALWAYS_INLINE where the
 * compiler must not keep a call: the hot loops' pieces). Oclgrind 21.10 (Debian 12's, on
 * LLVM 14) stops at the llvm.experimental.noalias.scope.decl calls that
 * inlining a function returning a struct leaves behind, so the race check
 * (tests/check_oclgrind.sh) builds with -DCLNORM_NO_INLINE: each helper
 * stays a call there, and the kernels compute the same. */
#ifdef CLNORM_NO_INLINE
#define CLNORM_INLINE __attribute__((noinline))
#define CLNORM_ALWAYS_INLINE __attribute__((noinline))
#else
#define CLNORM_INLINE inline
#define CLNORM_ALWAYS_INLINE __attribute__((always_inline)) inline
#endif

#if CLNORM_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* ---- vector types of width VW (VW == 1 is plain scalars) ---- */
#if VW == 1
typedef float floatV;
typedef int intV;
#define LOADV(p) (*(p))
#define STOREV(v, p) (*(p) = (v))
#define FILLV(s) ((float)(s))
#define LANE0(v) (v)
#else
typedef CAT(float, VW) floatV;
typedef CAT(int, VW) intV;
#define LOADV(p) CAT(vload, VW)(0, (p))
#define STOREV(v, p) CAT(vstore, VW)((v), 0, (p))
#define FILLV(s) ((floatV)(s))
#define LANE0(v) ((v).s0)
#endif

/* A vector store to global memory. vstoreN is the portable form, but PoCL
 * lowers vstore16 to three partial stores (16 + 16 + 32 bytes); a store
 * through a vector type with 4-byte alignment (a clang attribute) is one
 * unaligned full-width store. The host sets CLNORM_UNALIGNED_VECTORS for the
 * CPU variant on PoCL only; other compilers keep vstoreN. */
#if CLNORM_UNALIGNED_VECTORS && VW > 1
typedef floatV floatV_u __attribute__((aligned(4)));
#define STORE_GLOBAL(v, p) (*(__global floatV_u *)(p) = (v))
#else
#define STORE_GLOBAL(v, p) STOREV(v, p)
#endif

#if CLNORM_FP64
#if VW == 1
typedef double doubleV;
#define TO_DOUBLEV(v) ((double)(v))
#define STORE_DV(v, p) (*(p) = (v))
#else
typedef CAT(double, VW) doubleV;
#define TO_DOUBLEV(v) CAT(convert_double, VW)(v)
#define STORE_DV(v, p) CAT(vstore, VW)((v), 0, (p))
#endif
#endif

/* ---- float-float building blocks (used by both paths for exactness) ---- */

/* s + e == a + b exactly (Knuth). */
/* clang-format would read ((b) - bb_) as a cast */
// clang-format off
#define TWO_SUM(T, a, b, s, e)                                                                     \
    do {                                                                                           \
        s = (a) + (b);                                                                             \
        T bb_ = s - (a);                                                                           \
        e = ((a) - (s - bb_)) + ((b) - bb_);                                                       \
    } while (0)
// clang-format on

/* ---- scalar accumulator `acc` ---- */
#if CLNORM_FP64
typedef double acc;

CLNORM_INLINE acc acc_from_float(float v) { return (double)v; }
CLNORM_INLINE acc acc_from_count(ulong n) { return (double)n; }
CLNORM_INLINE acc acc_add(acc a, acc b) { return a + b; }
CLNORM_INLINE acc acc_sub(acc a, acc b) { return a - b; }
CLNORM_INLINE acc acc_mul(acc a, acc b) { return a * b; }
CLNORM_INLINE acc acc_div(acc a, acc b) { return a / b; }
CLNORM_INLINE acc acc_sqrt(acc a) { return sqrt(a); }
CLNORM_INLINE acc acc_zero(void) { return 0.0; }
CLNORM_INLINE acc acc_max0(acc a) { return a < 0.0 ? 0.0 : a; }
CLNORM_INLINE float acc_hi(acc a) { return (float)a; }
CLNORM_INLINE float acc_lo(acc a) { return (float)(a - (double)(float)a); }
CLNORM_INLINE float acc_to_float(acc a) { return (float)a; }
CLNORM_INLINE acc acc_from_hilo(float hi, float lo) { return (double)hi + (double)lo; }
#else
typedef float2 acc;

CLNORM_INLINE acc ff_quick(float s, float e)
{
    float h = s + e;
    return (float2)(h, e - (h - s));
}
CLNORM_INLINE acc acc_from_float(float v) { return (float2)(v, 0.0f); }
CLNORM_INLINE acc acc_from_count(ulong n)
{
    float hi = (float)n;
    float lo = (float)((long)n - (long)hi);
    return (float2)(hi, lo);
}
CLNORM_INLINE acc acc_zero(void) { return (float2)(0.0f, 0.0f); }
CLNORM_INLINE acc acc_add(acc a, acc b)
{
    float s, e, t, f;
    TWO_SUM(float, a.x, b.x, s, e);
    TWO_SUM(float, a.y, b.y, t, f);
    e += t;
    acc r = ff_quick(s, e);
    return ff_quick(r.x, r.y + f);
}
CLNORM_INLINE acc acc_sub(acc a, acc b) { return acc_add(a, (float2)(-b.x, -b.y)); }
CLNORM_INLINE acc acc_mul(acc a, acc b)
{
    float p = a.x * b.x;
    float e = fma(a.x, b.x, -p);
    e += a.x * b.y + a.y * b.x;
    return ff_quick(p, e);
}
CLNORM_INLINE acc acc_mul_f(acc a, float b)
{
    float p = a.x * b;
    float e = fma(a.x, b, -p);
    e += a.y * b;
    return ff_quick(p, e);
}
/* Long division in three steps: each quotient digit corrects the last. */
CLNORM_INLINE acc acc_div(acc a, acc b)
{
    float q1 = a.x / b.x;
    if (!isfinite(q1)) /* b == 0 (TransposedLN's constant column), inf or NaN: as given */
        return (float2)(q1, 0.0f);
    acc r = acc_sub(a, acc_mul_f(b, q1));
    float q2 = r.x / b.x;
    r = acc_sub(r, acc_mul_f(b, q2));
    float q3 = r.x / b.x;
    acc q = ff_quick(q1, q2);
    return acc_add(q, (float2)(q3, 0.0f));
}
/* One Newton step on the float sqrt (accurate to ~2^-46 relative). */
CLNORM_INLINE acc acc_sqrt(acc a)
{
    if (!(a.x > 0.0f))
        return (float2)(sqrt(a.x), 0.0f); /* 0, NaN (negative never reaches here) */
    float s = sqrt(a.x);
    float p = s * s;
    float pe = fma(s, s, -p);
    acc d = acc_sub(a, (float2)(p, pe));
    return ff_quick(s, d.x / (2.0f * s));
}
CLNORM_INLINE acc acc_max0(acc a) { return a.x < 0.0f ? acc_zero() : a; }
CLNORM_INLINE float acc_hi(acc a) { return a.x; }
CLNORM_INLINE float acc_lo(acc a) { return a.y; }
CLNORM_INLINE float acc_to_float(acc a) { return a.x + a.y; }
CLNORM_INLINE acc acc_from_hilo(float hi, float lo) { return ff_quick(hi, lo); }
#endif

/* ---- Chan's merge of (count, mean, M2) partials ---- */
CLNORM_INLINE void stats_merge(ulong *n, acc *mean, acc *m2, ulong nb, acc meanb, acc m2b)
{
    if (nb == 0)
        return;
    if (*n == 0) {
        *n = nb;
        *mean = meanb;
        *m2 = m2b;
        return;
    }
    ulong na = *n, nt = na + nb;
    acc delta = acc_sub(meanb, *mean);
    acc frac_b = acc_div(acc_from_count(nb), acc_from_count(nt));
    *mean = acc_add(*mean, acc_mul(delta, frac_b));
    acc cross = acc_mul(acc_mul(delta, delta), acc_mul(acc_from_count(na), frac_b));
    *m2 = acc_add(acc_add(*m2, m2b), cross);
    *n = nt;
}

#endif /* CLNORM_COMMON_CL */
