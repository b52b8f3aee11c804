/* SPDX-License-Identifier: Apache-2.0 */
/* bench_copy.cl: the yardstick of `clnorm bench`: a plain copy, read once and
 * written once, in the shape that is fastest on the device. copy_chunks is
 * the CPU's (PoCL): wide vectors, one contiguous chunk per work-item.
 * copy_grid is a GPU's: 16-byte vectors, neighbouring work-items on
 * neighbouring addresses (coalesced), a grid-stride loop over the tensor. */
__kernel void copy_chunks(__global const float16 *src, __global float16 *dst, ulong n16,
                          ulong per_item)
{
    ulong start = get_global_id(0) * per_item;
    ulong end = min(n16, start + per_item);
    for (ulong i = start; i < end; ++i)
        dst[i] = src[i];
}

__kernel void copy_grid(__global const float4 *src, __global float4 *dst, ulong n4)
{
    for (ulong i = get_global_id(0); i < n4; i += get_global_size(0))
        dst[i] = src[i];
}
