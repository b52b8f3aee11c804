/* SPDX-License-Identifier: Apache-2.0 */
/* alloc.h: the library's one allocation wrapper (fault injection hooks in here). */
#ifndef CLNORM_ALLOC_H
#define CLNORM_ALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc/free that every allocation of the library goes through.
 * clnorm__malloc(0) returns a unique pointer like malloc(1). */
void *clnorm__malloc(size_t size);
void *clnorm__calloc(size_t count, size_t size);
void *clnorm__realloc(void *ptr, size_t size);
void clnorm__free(void *ptr);
/* strdup through clnorm__malloc; NULL on failure. */
char *clnorm__strdup(const char *s);

#endif
