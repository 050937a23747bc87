/* entry - an LDAP entry independent of libldap */

#include <stdlib.h>
#include <string.h>
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

/* entry_dup - e and everything it points to in one allocation: the entry
 * sits at the start, then the attributes, the values and the bytes */
struct entry *entry_dup(const struct entry *e)
{
    size_t nvals = 0, bytes = strlen(e->dn) + 1 + (e->uuid != NULL ? strlen(e->uuid) + 1 : 0);
    for (size_t i = 0; i < e->attr_count; i++) {
        nvals += e->attrs[i].count;
        bytes += strlen(e->attrs[i].name) + 1;
        for (size_t j = 0; j < e->attrs[i].count; j++)
            bytes += e->attrs[i].values[j].len;
    }
    size_t head = sizeof(struct entry) + e->attr_count * sizeof(struct entry_attr) +
                  nvals * sizeof(struct entry_value);
    char *block = malloc(head + bytes);
    if (block == NULL)
        return NULL;
    struct entry *c = (struct entry *)block;
    struct entry_attr *attrs = (struct entry_attr *)(c + 1);
    struct entry_value *vals = (struct entry_value *)(attrs + e->attr_count);
    char *p = block + head;

    /* n bytes of src into the block at p, dst pointing at them */
#define ENTRY_COPY(dst, src, n) do { memcpy(p, (src), (n)); (dst) = p; p += (n); } while (0)
    ENTRY_COPY(c->dn, e->dn, strlen(e->dn) + 1);
    c->uuid = NULL;
    if (e->uuid != NULL)
        ENTRY_COPY(c->uuid, e->uuid, strlen(e->uuid) + 1);
    for (size_t i = 0; i < e->attr_count; i++) {
        const struct entry_attr *a = &e->attrs[i];
        ENTRY_COPY(attrs[i].name, a->name, strlen(a->name) + 1);
        attrs[i].count = a->count;
        attrs[i].values = a->count > 0 ? vals : NULL;
        for (size_t j = 0; j < a->count; j++, vals++) {
            vals->len = a->values[j].len;
            ENTRY_COPY(vals->data, a->values[j].data, a->values[j].len);
        }
    }
#undef ENTRY_COPY
    c->attr_count = e->attr_count;
    c->attrs = attrs;
    return c;
}

/* entry_equal - a and b have the same DN, attributes and values, in the
 * same order (the uuid is not compared) */
bool entry_equal(const struct entry *a, const struct entry *b)
{
    if (strcmp(a->dn, b->dn) != 0 || a->attr_count != b->attr_count)
        return false;
    for (size_t i = 0; i < a->attr_count; i++) {
        const struct entry_attr *x = &a->attrs[i], *y = &b->attrs[i];
        if (strcmp(x->name, y->name) != 0 || x->count != y->count)
            return false;
        for (size_t j = 0; j < x->count; j++)
            if (x->values[j].len != y->values[j].len ||
                memcmp(x->values[j].data, y->values[j].data, x->values[j].len) != 0)
                return false;
    }
    return true;
}
