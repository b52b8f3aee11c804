/* SPDX-License-Identifier: Apache-2.0 */
/* bench_copy.cl: the yardstick of `clnorm bench`: a plain copy, read once and
 * written once, with wide vectors and one contiguous chunk per work-item (the
 * shape that is fastest on PoCL; on GPUs the interleaved form would be). */
__kernel void copy_chunks(__global const float16 *src, __global float16 *dst, ulong n16,
                          ulong per_item)
{
    ulong start = get_global_id(0) * per_item;
    ulong end = min(n16, start + per_item);
    for (ulong i = start; i < end; ++i)
        dst[i] = src[i];
}
