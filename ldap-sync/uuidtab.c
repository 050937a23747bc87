/* uuidtab - entryUUID -> account, open addressing */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldap-sync/uuidtab.h"

/* hash - UUIDs are random enough (v1 timestamps vary in the low bytes
 * first); mix all 16 bytes anyway (FNV-1a) */
static size_t hash(const unsigned char *uuid)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < UUIDTAB_UUID_SIZE; i++) {
        h ^= uuid[i];
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 29));
}

void uuidtab_init(struct uuidtab *t)
{
    memset(t, 0, sizeof(*t));
}

/* drop_account - free one slot's account, noting its tag */
static void drop_account(struct uuidtab *t, struct uuidtab_slot *s)
{
    if (s->tag != UUIDTAB_NO_TAG) {
        if (t->ndropped == t->dropcap) {
            size_t cap = t->dropcap ? 2 * t->dropcap : 64;
            uint32_t *d = realloc(t->dropped, cap * sizeof(*d));
            if (d == NULL) {
                t->dropped_lost = true;
            } else {
                t->dropped = d;
                t->dropcap = cap;
            }
        }
        if (t->ndropped < t->dropcap)
            t->dropped[t->ndropped++] = s->tag;
        s->tag = UUIDTAB_NO_TAG;
    }
    if (s->account != NULL) {
        account_free(s->account);
        free(s->account);
        s->account = NULL;
    }
}

void uuidtab_free(struct uuidtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].state == SLOT_USED)
            drop_account(t, &t->slot[i]);
    free(t->slot);
    free(t->dropped);
    uuidtab_init(t);
}

/* find - the slot holding uuid, or the first free one on its probe path */
static struct uuidtab_slot *find(struct uuidtab *t, const unsigned char *uuid, bool for_insert)
{
    size_t mask = t->cap - 1, i = hash(uuid) & mask;
    struct uuidtab_slot *tomb = NULL;

    for (size_t n = 0; n < t->cap; n++, i = (i + 1) & mask) {
        struct uuidtab_slot *s = &t->slot[i];
        if (s->state == SLOT_EMPTY)
            return for_insert ? (tomb ? tomb : s) : NULL;
        if (s->state == SLOT_DELETED) {
            if (tomb == NULL)
                tomb = s;
        } else if (memcmp(s->uuid, uuid, UUIDTAB_UUID_SIZE) == 0) {
            return s;
        }
    }
    return for_insert ? tomb : NULL;
}

/* grow - rehash into a table twice as big (or the same size without tombstones) */
static int grow(struct uuidtab *t)
{
    size_t cap = t->cap ? t->cap : 1024;
    if ((t->used + 1) * 2 > cap)
        cap *= 2;
    struct uuidtab_slot *old = t->slot;
    size_t oldcap = t->cap;
    t->slot = calloc(cap, sizeof(*t->slot));
    if (t->slot == NULL) {
        t->slot = old;
        return -1;
    }
    t->cap = cap;
    t->used = t->filled = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].state != SLOT_USED)
            continue;
        struct uuidtab_slot *s = find(t, old[i].uuid, true);
        *s = old[i];
        t->used++;
        t->filled++;
    }
    free(old);
    return 0;
}

int uuidtab_put(struct uuidtab *t, const unsigned char *uuid, struct account *acc)
{
    if ((t->filled + 1) * 4 > t->cap * 3 && grow(t) < 0) {
        account_free(acc);
        free(acc);
        return -1;
    }
    struct uuidtab_slot *s = find(t, uuid, true);
    if (s->state == SLOT_USED) {
        drop_account(t, s);
    } else {
        if (s->state == SLOT_EMPTY)
            t->filled++;
        t->used++;
        memcpy(s->uuid, uuid, UUIDTAB_UUID_SIZE);
        s->state = SLOT_USED;
    }
    s->account = acc;
    s->tag = UUIDTAB_NO_TAG;
    s->seen = true;
    return 0;
}

struct uuidtab_slot *uuidtab_get(struct uuidtab *t, const unsigned char *uuid)
{
    return t->cap ? find(t, uuid, false) : NULL;
}

bool uuidtab_remove(struct uuidtab *t, const unsigned char *uuid)
{
    struct uuidtab_slot *s = uuidtab_get(t, uuid);
    if (s == NULL)
        return false;
    drop_account(t, s);
    s->state = SLOT_DELETED;
    t->used--;
    return true;
}

void uuidtab_clear_seen(struct uuidtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        t->slot[i].seen = false;
}

size_t uuidtab_remove_unseen(struct uuidtab *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct uuidtab_slot *s = &t->slot[i];
        if (s->state == SLOT_USED && !s->seen) {
            drop_account(t, s);
            s->state = SLOT_DELETED;
            t->used--;
            n++;
        }
    }
    return n;
}

const uint32_t *uuidtab_dropped(const struct uuidtab *t, size_t *n_r, bool *lost_r)
{
    *n_r = t->ndropped;
    *lost_r = t->dropped_lost;
    return t->dropped;
}

void uuidtab_clear_dropped(struct uuidtab *t)
{
    t->ndropped = 0;
    t->dropped_lost = false;
}

struct uuidtab_slot *uuidtab_next(struct uuidtab *t, size_t *pos)
{
    while (*pos < t->cap) {
        struct uuidtab_slot *s = &t->slot[(*pos)++];
        if (s->state == SLOT_USED)
            return s;
    }
    return NULL;
}
