#ifndef MAILMAPS_ENTRY_H
#define MAILMAPS_ENTRY_H

/* An LDAP entry as the record mapping sees it, independent of libldap so
 * the mapping can be unit-tested and fuzzed without a server. Values are
 * (pointer, length) pairs exactly as received: they may hold NUL bytes or
 * anything else, and nothing here is trusted. */

#include <stdbool.h>
#include <stddef.h>

struct entry_value {
    const char *data;
    size_t len;
};

struct entry_attr {
    const char *name;            /* as the server sent it (any case) */
    size_t count;
    const struct entry_value *values;
};

struct entry {
    const char *dn;
    const char *uuid;            /* entryUUID in text form, or NULL */
    size_t attr_count;
    const struct entry_attr *attrs;
};

/* entry_attr_find - the attribute called name (case-insensitive), or NULL */
const struct entry_attr *entry_attr_find(const struct entry *e, const char *name);

/* entry_dup - a copy of e (DN, uuid, attributes, values) that outlives
 * the search it came from: one allocation, released with free(). NULL
 * when out of memory. */
struct entry *entry_dup(const struct entry *e);

/* entry_equal - same DN and the same attributes and values, in order */
bool entry_equal(const struct entry *a, const struct entry *b);

#endif
