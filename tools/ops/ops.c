/* SPDX-License-Identifier: Apache-2.0 */
/* ops.c: the table of operation descriptions, and helpers for them. */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

#define OP(sym) extern const op_desc sym;
#include "op_list.h"
#undef OP

const op_desc *const op_table[] = {
#define OP(sym) &sym,
#include "op_list.h"
#undef OP
};
const size_t op_count = sizeof op_table / sizeof op_table[0];

const op_desc *op_find(const char *name)
{
    for (size_t i = 0; i < op_count; ++i)
        if (!strcmp(op_table[i]->name, name) ||
            (op_table[i]->alias && !strcmp(op_table[i]->alias, name)))
            return op_table[i];
    return NULL;
}

const op_desc *op_find_mode(const char *name, const char *mode)
{
    for (size_t i = 0; i < op_count; ++i)
        if (!strcmp(op_table[i]->name, name) && op_table[i]->mode &&
            !strcmp(op_table[i]->mode, mode))
            return op_table[i];
    return NULL;
}

size_t op_out_shape(const op_desc *op, const op_config *c, const size_t *shape, size_t ndim,
                    size_t *y_ndim, size_t *y_shape)
{
    if (op->out_shape) {
        op->out_shape(c, shape, ndim, y_ndim, y_shape);
    } else {
        *y_ndim = ndim;
        memcpy(y_shape, shape, ndim * sizeof *shape);
    }
    return op_shape_count(y_shape, *y_ndim);
}

void op_config_default(const op_desc *op, op_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < op->options_count; ++i)
        c->v[i] = op->options[i].dflt;
    c->classes = 0;
}

size_t op_scale_shift(op_param *out, const char *scale, const char *shift, size_t n,
                      const char *doc)
{
    op_param w = {scale, PARAM_SCALE, 1, {n}, doc, NULL};
    op_param b = {shift, PARAM_SHIFT, 1, {n}, doc, NULL};
    out[0] = w;
    out[1] = b;
    return 2;
}

size_t op_classes(const op_config *c) { return c->classes ? c->classes : OP_TEST_CLASSES; }

int op_option_index(const op_desc *op, const char *name)
{
    for (size_t i = 0; i < op->options_count; ++i)
        if (!strcmp(op->options[i].name, name))
            return (int)i;
    return -1;
}

int op_check_rank(size_t ndim, size_t want, const char *layout, const size_t *shape, char *err,
                  size_t err_size)
{
    char s[128];
    if (want ? ndim == want : ndim >= 1)
        return 0;
    snprintf(err, err_size, "expected a %s array, found shape %s", layout,
             fmt_shape(shape, ndim, s, sizeof s));
    return -1;
}

int op_bld_check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                       size_t err_size)
{
    (void)c;
    return op_check_rank(ndim, 3, "3-d (B, L, D)", shape, err, err_size);
}

void op_3d_view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                size_t *inner)
{
    (void)c, (void)ndim;
    *outer = shape[0];
    *n = shape[1];
    *inner = shape[2];
}

void op_b1d_stat_shape(const op_config *c, const size_t *shape, size_t ndim, size_t *sndim,
                       size_t *sshape)
{
    (void)c, (void)ndim;
    *sndim = 3;
    sshape[0] = shape[0];
    sshape[1] = 1;
    sshape[2] = shape[2];
}

int op_nchw_check_shape(const op_config *c, const size_t *shape, size_t ndim, char *err,
                        size_t err_size)
{
    (void)c;
    char s[128];
    if (ndim == 4)
        return 0;
    snprintf(err, err_size, "expected a 4-d (N, C, H, W) array, found shape %s",
             fmt_shape(shape, ndim, s, sizeof s));
    return -1;
}

void op_nchw_view(const op_config *c, const size_t *shape, size_t ndim, size_t *outer, size_t *n,
                  size_t *inner)
{
    (void)c, (void)ndim;
    *outer = shape[0] * shape[1];
    *n = shape[2] * shape[3];
    *inner = 1;
}

size_t op_shape_count(const size_t *shape, size_t ndim)
{
    size_t n = 1;
    for (size_t i = 0; i < ndim; ++i)
        n *= shape[i];
    return n;
}
