/* SPDX-License-Identifier: Apache-2.0 */
/* fixture_index.h: tests/fixtures/index.json, the one place the fixture
 * cases and their tolerances are written down (read with cJSON). */
#ifndef CLNORM_FIXTURE_INDEX_H
#define CLNORM_FIXTURE_INDEX_H

#include <stddef.h>

/* The number of cases the index lists, and the name of case i. */
size_t fixture_case_count(void);
const char *fixture_case_name(size_t i);
/* tolerance.KEY.tol of the case; 0 when the case has no such output. Fails
 * the test when the case is not listed. */
double fixture_tolerance(const char *case_name, const char *key);
/* Frees the parsed index (a cmocka group teardown may call it). */
void fixture_index_free(void);

#endif
