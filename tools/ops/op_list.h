/* SPDX-License-Identifier: Apache-2.0 */
/* op_list.h: every operation description, in the order the tool lists them
 * (an X-macro list: OP(symbol of the op_desc)). No include guard: ops.c
 * includes it twice. */
OP(op_varnorm2d)
OP(op_revin_input)
OP(op_revin_output)
OP(op_layer_norm)
OP(op_instance_norm2d)
OP(op_instance_norm2d_plus)
OP(op_none_norm2d)
OP(op_transposed_ln)
OP(op_conditional_variance)
OP(op_conditional_instance)
OP(op_conditional_batch)
OP(op_conditional_none)
OP(op_conditional_instance_plus)
OP(op_ts_normalization)
OP(op_ts_inverse)
OP(op_group_norm)
OP(op_normalization)
