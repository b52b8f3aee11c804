/* SPDX-License-Identifier: Apache-2.0 */
/* fixture_index.c: reading tests/fixtures/index.json (see fixture_index.h). */
#include "fixture_index.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLNORM_FIXTURE_DIR
#error "CLNORM_FIXTURE_DIR must be defined by the build"
#endif

static cJSON *index_json;

static const cJSON *cases(void)
{
    if (!index_json) {
        const char *path = CLNORM_FIXTURE_DIR "/index.json";
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("cannot open %s", path);
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        assert_true(n < sizeof text - 1);
        text[n] = '\0';
        index_json = cJSON_Parse(text);
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(index_json, "cases");
    if (!cJSON_IsArray(list))
        fail_msg("index.json: not an object with a \"cases\" list");
    return list;
}

size_t fixture_case_count(void) { return (size_t)cJSON_GetArraySize(cases()); }

const char *fixture_case_name(size_t i)
{
    const char *name = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cases(), (int)i), "case"));
    if (!name)
        fail_msg("index.json: case %zu has no name", i);
    return name;
}

double fixture_tolerance(const char *case_name, const char *key)
{
    const cJSON *c;
    cJSON_ArrayForEach (c, cases()) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "case"));
        if (!name || strcmp(name, case_name))
            continue;
        const cJSON *arr =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "tolerance"), key);
        if (!arr)
            return 0;
        const cJSON *tol = cJSON_GetObjectItemCaseSensitive(arr, "tol");
        if (!cJSON_IsNumber(tol) || !(tol->valuedouble > 0))
            fail_msg("index.json: %s.%s has no positive tol", case_name, key);
        return tol->valuedouble;
    }
    fail_msg("index.json does not list %s", case_name);
    return 0;
}

void fixture_index_free(void)
{
    cJSON_Delete(index_json);
    index_json = NULL;
}
