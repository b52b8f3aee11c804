/* SPDX-License-Identifier: Apache-2.0 */
/* clnorm_abi.h: what the host (src/kernels.c, the layers) and the kernels
 * agree on: the argument order every kernel takes, and the op word that says
 * how a row's statistics become its scaling. Valid C and OpenCL C: src/
 * includes it, the kernels include it (the embedding step inlines it), so the
 * host's literals and the kernels' signatures cannot drift apart.
 *
 * Every normalisation is one apply  y = ((x - c) / d) * a + b  per row
 * (a row is what one set of statistics is taken over), with c, a, b from the
 * row's statistics, per-row parameters (by channel, or by class label) or
 * constants; the LayerNorm-like ops then scale by a weight and add a bias
 * that run along the reduced axis. */
#ifndef CLNORM_ABI_H
#define CLNORM_ABI_H

/* ---- kernel arguments, in order (KERNEL_ARGS in clnorm_view.cl) ---- */
#define CLNORM_ARG_X 0         /* __global const float *: input */
#define CLNORM_ARG_X_OFF 1     /* ulong: input offset in floats */
#define CLNORM_ARG_Y 2         /* __global float *: output */
#define CLNORM_ARG_Y_OFF 3     /* ulong: output offset in floats */
#define CLNORM_ARG_OUTER 4     /* ulong: the view [outer][n][inner] */
#define CLNORM_ARG_N 5         /* ulong */
#define CLNORM_ARG_INNER 6     /* ulong */
#define CLNORM_ARG_NPARTS 7    /* uint: chunks per row, or rows/slabs per item */
#define CLNORM_ARG_TILES 8     /* uint: vector tiles per strided column block */
#define CLNORM_ARG_OP 9        /* uint: CLNORM_FIN_* | CLNORM_OP_* */
#define CLNORM_ARG_EPS 10      /* float2: epsilon as hi + lo (a double, exactly enough) */
#define CLNORM_ARG_NCHAN 11    /* uint: rows per sample; a row's channel is row % nchan */
#define CLNORM_ARG_PRM 12      /* __global const float *: the layer's parameter block */
#define CLNORM_ARG_POFF 13     /* uint16: offsets into the block, CLNORM_POFF_* */
#define CLNORM_ARG_LABELS 14   /* __global const int *: class per sample (CLNORM_OP_LABELS) */
#define CLNORM_ARG_STAT_M 15   /* __global float *: stored centres (CLNORM_OP_STORE) */
#define CLNORM_ARG_STAT_S 16   /* __global float *: stored spreads */
#define CLNORM_ARG_PARTIALS 17 /* __global acc *: split rows' partial statistics */
#define CLNORM_ARG_FLAGS 18    /* __global uint *: CLNORM_FLAG_* raised by a launch */
#define CLNORM_ARG_COUNT 19

/* ---- components of the uint16 CLNORM_ARG_POFF (offsets in floats) ---- */
#define CLNORM_POFF_GAMMA 0  /* per-row scale numerator (alpha, weight, gamma, s_p) */
#define CLNORM_POFF_BETA 1   /* per-row bias (bias, beta, m_p) */
#define CLNORM_POFF_MEAN 2   /* a fixed centre (running_mean) */
#define CLNORM_POFF_VAR 3    /* a fixed variance (running_var) */
#define CLNORM_POFF_LD 4     /* floats between two classes' rows of a table (labels) */
#define CLNORM_POFF_AXW 5    /* weights along the reduced axis (CLNORM_OP_AXIS) */
#define CLNORM_POFF_AXB 6    /* biases along the reduced axis */
#define CLNORM_POFF_NCLASS 7 /* classes in the table: labels are clamped to [0, nclass) */
#define CLNORM_POFF_LABEL0 8 /* the first sample's label: its index in the labels buffer */
#define CLNORM_POFF_KEND 9   /* norm_window: the window is k < KEND (OP_LAST: k = KEND - 1) */
#define CLNORM_POFF_ALPHA 10 /* InstanceNorm2dPlus's alpha, per row like GAMMA (norm_plus) */
#define CLNORM_POFF_SEG 11   /* OP_SEG: elements per weight; OP_PERIOD: the weights' period */
#define CLNORM_POFF_STAT0 12 /* the view's first row in stat_m, stat_s (a block of samples) */
#define CLNORM_POFF_COUNT 13 /* of the uint16's 16 */

/* ---- launch geometry the host and the kernels share ---- */
/* Strided tiles whose sums one work-item keeps in registers: the kernels'
 * strided_sums_any is specialised for 1, 2, 4 and 5 tiles (other counts keep
 * them in memory); the GPU plans take no other counts. */
#define CLNORM_REG_TILES 5

/* ---- the op word: one finalisation kind in the low byte ... ---- */
#define CLNORM_FIN_MASK 0xffu
/* Statistics kernels (a row's mean and M2 first): */
#define CLNORM_FIN_VARNORM 0u  /* c = 0, a = g / sqrt(var_u + eps) (x, not x - mean) */
#define CLNORM_FIN_REVIN 1u    /* c = mean, s = std_b + eps, a = g / s, b = beta */
#define CLNORM_FIN_STANDARD 2u /* c = mean (or last), s = sqrt(var_b + eps), a = g / s, b = beta */
#define CLNORM_FIN_TLN 3u      /* c = mean - beta, a = g / std_b (no eps: TransposedLN) */
/* The elementwise kernel (no statistics; c, d, a, b from parameters and stored statistics): */
#define CLNORM_FIN_DENORM                                                                          \
    16u /* y = ((x - beta) / (g + eps)) * s + m from stat_m/s (RevIN's inverse) */
#define CLNORM_FIN_FIXED                                                                           \
    17u /* c = mean param, a = g / sqrt(var param + eps), b = beta (eval batch norm) */
#define CLNORM_FIN_AFFINE 18u /* c = 0, a = g, b = beta (NoneNorm, a stored scale) */
#define CLNORM_FIN_DIVIDE 19u /* c = 0, d = stat_s[row]: y = x / a stored scale (TSNormalization) */
#define CLNORM_FIN_COPY 20u   /* y = x exactly: c = 0, a = 1, b = -0 (NoneNorm2d) */

/* ... and flags above it. */
#define CLNORM_OP_GAMMA (1u << 8)   /* g per row from POFF_GAMMA (else 1) */
#define CLNORM_OP_BETA (1u << 9)    /* beta per row from POFF_BETA (else 0) */
#define CLNORM_OP_LABELS (1u << 10) /* per-row parameters indexed by class labels[row / nchan] */
#define CLNORM_OP_AXIS (1u << 11)   /* then * w[k] + v[k] along the reduced axis */
#define CLNORM_OP_STORE (1u << 12)  /* store c and s per row in stat_m, stat_s */
/* FIN_STANDARD: centre on the row's last element; norm_window: the window's last alone */
#define CLNORM_OP_LAST (1u << 13)
#define CLNORM_OP_STAT_SCALE (1u << 14) /* FIN_AFFINE: g from stat_s[row] instead of parameters */
/* With OP_STORE: store the centre c exactly, hi in stat_m and lo in stat_s (norm_plus reads it) */
#define CLNORM_OP_STORE_CENTRE (1u << 15)
/* With OP_AXIS on contiguous rows: one weight per segment of SEG elements (GroupNorm's
 * channels), w[(row % nchan) * (n / SEG) + k / SEG]; SEG a multiple of the vector width */
#define CLNORM_OP_SEG (1u << 16)
/* With OP_AXIS on contiguous rows: weights repeating every SEG elements, w[k % SEG]
 * (Normalization's group kind over (L, D)); any SEG: the host follows each parameter
 * array with 15 floats that repeat it, so a vector from w + k % SEG holds w[(k + i) % SEG] */
#define CLNORM_OP_PERIOD (1u << 17)
/* norm_window: then y = x / scale over the item's whole rows (its columns), in the same
 * launch (small samples on CPUs: they stay in cache between the two walks) */
#define CLNORM_OP_DIVIDE (1u << 18)

/* An op whose apply is y = ((x - c) * a) alone: no b, no weight along the axis (the
 * kernels' form_of gives it form 0; norm_rows_plain runs its contiguous rows on CPUs) */
#define CLNORM_OP_IS_PLAIN(op)                                                                     \
    (!((op) & (CLNORM_OP_BETA | CLNORM_OP_AXIS)) && ((op)&CLNORM_FIN_MASK) != CLNORM_FIN_DENORM)

/* ---- flags a launch raises in CLNORM_ARG_FLAGS ---- */
#define CLNORM_FLAG_LABEL_RANGE 1u /* a label outside [0, nclass) was clamped */

#endif /* CLNORM_ABI_H */
