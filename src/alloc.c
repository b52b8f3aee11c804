/* SPDX-License-Identifier: Apache-2.0 */
/* alloc.c: every allocation of the library, so tests can make any of them fail. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"

void *clnorm__malloc(size_t size)
{
    if (clnorm__fault_hit("malloc", NULL))
        return NULL;
    return malloc(size ? size : 1);
}

void *clnorm__calloc(size_t count, size_t size)
{
    if (clnorm__fault_hit("calloc", NULL))
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *clnorm__realloc(void *ptr, size_t size)
{
    if (clnorm__fault_hit("realloc", NULL))
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void clnorm__free(void *ptr) { free(ptr); }

char *clnorm__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = clnorm__malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}
