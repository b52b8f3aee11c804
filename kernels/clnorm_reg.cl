/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_reg.cl: short contiguous rows on GPUs (up to WG_REG * VW * RK
 * elements, 16384 with the defaults): a work-group of WG_REG items per row
 * holds the row in registers, RK vectors per item, interleaved (item i loads
 * vectors i, i + WG_REG, ...: neighbouring items read neighbouring
 * addresses). The row is read from memory once, its sums reduced in local
 * memory as a tree, and it is normalised from the registers: norm_fused
 * reads it twice, the second time from a cache that a GPU's thousands of
 * resident rows overflow. Includes clnorm_apply.cl. */
#ifndef CLNORM_REG_CL
#define CLNORM_REG_CL

#include "clnorm_apply.cl"

#ifndef WG_REG
#define WG_REG 256 /* the work-group of norm_reg (a power of two) */
#endif
#define RK 16 /* vectors each item keeps: registers, as every index is a constant */

__kernel __attribute__((reqd_work_group_size(WG_REG, 1, 1))) void norm_reg(KERNEL_ARGS)
{
    __local acc l_s1[WG_REG], l_s2[WG_REG];
    __local float l_scale[4]; /* the row's hi, lo, sc, b */
    op_t p = OP_OF_ARGS;
    ulong row = get_group_id(0);
    uint lid = get_local_id(0);
    __global const float *xr = x + x_off + row * n;
    __global float *yr = y + y_off + row * n;
    ulong nv = n / VW;          /* whole vectors; a row has at most WG_REG * RK */
    uint tail = (uint)(n % VW); /* the rest, item 0's */
    float piv = xr[0];
    floatV vp = FILLV(piv), v[RK];
    accv_t a;
    accv_init(&a);
#pragma unroll
    for (uint k = 0; k < RK; ++k) { /* past the row: the pivot, which adds zeros */
        ulong i = lid + (ulong)k * WG_REG;
        v[k] = i < nv ? LOADV(xr + i * VW) : vp;
        accv_add(&a, v[k], vp);
    }
    if (tail && lid == 0)
        accv_add(&a, load_tail(xr + nv * VW, tail, vp), vp);
    acc s1[VW], s2[VW];
    accv_lanes(&a, s1, s2);
    lanes_fold(s1, s2);
    l_s1[lid] = s1[0];
    l_s2[lid] = s2[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = WG_REG / 2; h > 0; h >>= 1) {
        if (lid < h) {
            l_s1[lid] = acc_add(l_s1[lid], l_s1[lid + h]);
            l_s2[lid] = acc_add(l_s2[lid], l_s2[lid + h]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        acc mean, m2;
        moments(n, piv, l_s1[0], l_s2[0], &mean, &m2);
        float last = (p.op & CLNORM_OP_LAST) ? xr[n - 1] : 0.0f;
        scale1_t sc = row_scale(&p, row, n, mean, m2, last, 1);
        l_scale[0] = sc.hi, l_scale[1] = sc.lo, l_scale[2] = sc.sc, l_scale[3] = sc.b;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    scale1_t sc = {l_scale[0], l_scale[1], l_scale[2], l_scale[3]};
    scalev_t s = splat(sc);
    int form = form_of(&p);
    axis_t ax = axis_of(&p);
    axis_t axr = axis_for_row(&p, &ax, row, n, form);
#pragma unroll
    for (uint k = 0; k < RK; ++k) {
        ulong i = lid + (ulong)k * WG_REG;
        if (i < nv)
            STORE_GLOBAL(apply_at(v[k], &s, &axr, i * VW, form), yr + i * VW);
    }
    if (tail && lid == 0) {
        item_t rest = {0, VW, 0, nv * VW, tail}; /* the tail alone */
        apply_item(xr, yr, &rest, &s, &axr, form);
    }
}

#endif /* CLNORM_REG_CL */
