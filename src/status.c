/* SPDX-License-Identifier: Apache-2.0 */
/* status.c: the status table's names and messages, and the version. */
#include "clnorm_int.h"

static const char *const status_names[] = {
#define NAME_(name, msg) "CLNORM_" #name,
    CLNORM_STATUS_MAP(NAME_)
#undef NAME_
};

static const char *const status_messages[] = {
#define MSG_(name, msg) msg,
    CLNORM_STATUS_MAP(MSG_)
#undef MSG_
};

const char *clnorm_status_name(clnorm_status status)
{
    if ((unsigned)status >= CLNORM_STATUS_COUNT_)
        return "CLNORM_UNKNOWN";
    return status_names[status];
}

const char *clnorm_status_message(clnorm_status status)
{
    if ((unsigned)status >= CLNORM_STATUS_COUNT_)
        return "unknown status";
    return status_messages[status];
}

unsigned clnorm_version_number(void) { return CLNORM_VERSION_NUMBER; }

const char *clnorm_version_string(void) { return CLNORM_VERSION_STRING; }
