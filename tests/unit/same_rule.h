#ifndef MAILMAPS_SAME_RULE_H
#define MAILMAPS_SAME_RULE_H

/* same_rule - two quota rules say the same (the fields a round trip through
 * quota_rule_format and quota_rule_parse must keep); for test-quota and
 * fuzz-quota */

#include <string.h>

#include "maps/quota.h"

__attribute__((unused))
static int same_rule(const struct quota_rule *a, const struct quota_rule *b)
{
    if (strcmp(a->folder, b->folder) != 0 || a->has_storage != b->has_storage ||
        a->has_messages != b->has_messages)
        return 0;
    if (a->has_storage && (a->storage.kind != b->storage.kind ||
                           (a->storage.kind != QUOTA_IGNORE &&
                            (a->storage.value != b->storage.value ||
                             a->storage.relative != b->storage.relative))))
        return 0;
    if (a->has_messages && (a->messages.kind != b->messages.kind ||
                            a->messages.value != b->messages.value ||
                            a->messages.relative != b->messages.relative))
        return 0;
    return 1;
}

#endif
