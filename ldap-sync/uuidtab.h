#ifndef MAILMAPS_UUIDTAB_H
#define MAILMAPS_UUIDTAB_H

/* The persist daemon's view of the directory: entryUUID -> the account
 * that entry produced, so that a delete or a rename (a MODIFY with the same
 * UUID) replaces exactly what the entry contributed. Open addressing with
 * tombstones; the table owns the accounts.
 *
 * Each account carries a tag for the caller (the persist daemon keeps its
 * id in a map build there); the tags of accounts replaced or removed are
 * collected, so the caller can apply exactly those changes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps/account.h"

#define UUIDTAB_UUID_SIZE 16
#define UUIDTAB_NO_TAG UINT32_MAX

struct uuidtab_slot {
    unsigned char uuid[UUIDTAB_UUID_SIZE];
    enum { SLOT_EMPTY, SLOT_USED, SLOT_DELETED } state;
    bool seen;                   /* marked during a refresh's present phase */
    struct account *account;     /* owned */
    uint32_t tag;                /* the caller's; UUIDTAB_NO_TAG when put */
};

struct uuidtab {
    struct uuidtab_slot *slot;
    size_t cap;                  /* power of two */
    size_t used;                 /* SLOT_USED */
    size_t filled;               /* SLOT_USED + SLOT_DELETED */
    uint32_t *dropped;           /* tags of accounts replaced or removed */
    size_t ndropped, dropcap;
    bool dropped_lost;           /* one could not be recorded (memory) */
};

void uuidtab_init(struct uuidtab *t);
void uuidtab_free(struct uuidtab *t);

/* uuidtab_put - store acc (ownership taken; any previous account of the
 * same uuid is freed). 0, or -1 when out of memory (acc is freed). */
int uuidtab_put(struct uuidtab *t, const unsigned char *uuid, struct account *acc);

/* uuidtab_get - the slot of uuid, or NULL */
struct uuidtab_slot *uuidtab_get(struct uuidtab *t, const unsigned char *uuid);

/* uuidtab_remove - drop uuid (and its account); true if it was there */
bool uuidtab_remove(struct uuidtab *t, const unsigned char *uuid);

/* uuidtab_clear_seen / uuidtab_remove_unseen - the present phase of a
 * refresh: everything not seen since the clear is gone from the directory.
 * remove_unseen returns how many were removed. */
void uuidtab_clear_seen(struct uuidtab *t);
size_t uuidtab_remove_unseen(struct uuidtab *t);

/* uuidtab_dropped - the tags (not UUIDTAB_NO_TAG) of the accounts
 * replaced or removed since uuidtab_clear_dropped; *lost_r is true when
 * some could not be recorded (out of memory: trust none of them) */
const uint32_t *uuidtab_dropped(const struct uuidtab *t, size_t *n_r, bool *lost_r);
void uuidtab_clear_dropped(struct uuidtab *t);

/* uuidtab_next - iterate: start with *pos = 0; NULL at the end */
struct uuidtab_slot *uuidtab_next(struct uuidtab *t, size_t *pos);

#endif
