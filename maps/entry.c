/* entry - an LDAP entry independent of libldap */

#include <strings.h>

#include "maps/entry.h"

/* entry_attr_find - the attribute called name (case-insensitive), or NULL */
const struct entry_attr *entry_attr_find(const struct entry *e, const char *name)
{
    if (e == NULL || name == NULL || name[0] == '\0' || e->attrs == NULL)
        return NULL;
    for (size_t i = 0; i < e->attr_count; i++) {
        /* Attribute descriptions are ASCII, so strcasecmp is exact here;
         * an option such as ";binary" makes it a different attribute. */
        if (e->attrs[i].name != NULL && strcasecmp(e->attrs[i].name, name) == 0)
            return &e->attrs[i];
    }
    return NULL;
}
