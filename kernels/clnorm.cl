/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm.cl: the program the library builds: every kernel file. The build
 * (cmake/embed_kernels.cmake) inlines the includes, once each. */
#include "clnorm_norm.cl"
#include "clnorm_reg.cl"
#include "clnorm_cpu.cl"
#include "clnorm_scale.cl"
#include "clnorm_window.cl"
#include "clnorm_plus.cl"
#include "clnorm_linear.cl"
