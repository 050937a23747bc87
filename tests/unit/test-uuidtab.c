/* test-uuidtab - the persist daemon's entryUUID -> account table: put,
 * replace, remove, growth past its first size with tombstones about, the
 * present phase of a refresh (seen / unseen), the tags of what was
 * replaced or removed, and iteration. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap-sync/uuidtab.h"
#include "tests/unit/tap.h"

/* uuid_of - a distinct UUID for each n (and the same one again for n) */
static void uuid_of(unsigned n, unsigned char uuid[UUIDTAB_UUID_SIZE])
{
    memset(uuid, 0, UUIDTAB_UUID_SIZE);
    /* vary the high bytes only: the hash must mix them in */
    uuid[0] = (unsigned char)(n >> 24);
    uuid[1] = (unsigned char)(n >> 16);
    uuid[2] = (unsigned char)(n >> 8);
    uuid[3] = (unsigned char)n;
}

/* account_named - a malloc'ed account whose DN, "NAME=N[SUFFIX]", says
 * which one it is */
static struct account *account_named(const char *name, unsigned n, const char *suffix)
{
    char dn[64];
    struct account *a = malloc(sizeof(*a));
    if (a == NULL)
        abort();
    account_init(a);
    snprintf(dn, sizeof(dn), "%s=%u%s", name, n, suffix);
    if ((a->dn = strdup(dn)) == NULL)
        abort();
    return a;
}

/* dn_at - the DN of uuid n's account, or NULL */
static const char *dn_at(struct uuidtab *t, unsigned n)
{
    unsigned char u[UUIDTAB_UUID_SIZE];
    uuid_of(n, u);
    struct uuidtab_slot *s = uuidtab_get(t, u);
    return s != NULL ? s->account->dn : NULL;
}

static void test_basics(void)
{
    struct uuidtab t;
    unsigned char u[UUIDTAB_UUID_SIZE];

    uuidtab_init(&t);
    uuid_of(1, u);
    ok(uuidtab_get(&t, u) == NULL, "empty: nothing found");
    ok(!uuidtab_remove(&t, u), "empty: nothing removed");
    size_t pos = 0;
    ok(uuidtab_next(&t, &pos) == NULL, "empty: nothing iterated");

    is_int(uuidtab_put(&t, u, account_named("uid", 1, "")), 0, "put");
    is_str(dn_at(&t, 1), "uid=1", "found");
    ok(dn_at(&t, 2) == NULL, "another uuid: not found");
    is_int(t.used, 1, "one used");

    struct uuidtab_slot *s = uuidtab_get(&t, u);
    is_int(s->tag, UUIDTAB_NO_TAG, "a new account has no tag");
    ok(s->seen, "a new account counts as seen");
    s->tag = 7;                      /* the caller's id of it in its build */
    is_int(uuidtab_put(&t, u, account_named("uid", 1, ",new")), 0, "put again: replace");
    is_str(dn_at(&t, 1), "uid=1,new", "the new account");
    is_int(t.used, 1, "still one used");

    size_t n;
    bool lost;
    const uint32_t *d = uuidtab_dropped(&t, &n, &lost);
    ok(n == 1 && d[0] == 7 && !lost, "the replaced account's tag is dropped");
    uuidtab_clear_dropped(&t);
    d = uuidtab_dropped(&t, &n, &lost);
    is_int(n, 0, "cleared");

    ok(uuidtab_remove(&t, u), "remove");
    ok(!uuidtab_remove(&t, u), "remove again: gone");
    ok(dn_at(&t, 1) == NULL, "not found after removal");
    is_int(t.used, 0, "none used");
    d = uuidtab_dropped(&t, &n, &lost);
    is_int(n, 0, "an untagged account leaves no tag");

    /* a removed slot is a tombstone: putting the same uuid reuses it */
    size_t filled = t.filled;
    is_int(uuidtab_put(&t, u, account_named("uid", 1, ",back")), 0, "put after removal");
    is_int(t.filled, filled, "the tombstone is reused");
    is_str(dn_at(&t, 1), "uid=1,back", "found again");
    uuidtab_free(&t);
    is_int(t.cap, 0, "free leaves an empty table");
    ok(dn_at(&t, 1) == NULL, "and it can be asked");
}

#define MANY 5000

static void test_many(void)
{
    struct uuidtab t;
    unsigned char u[UUIDTAB_UUID_SIZE];
    int bad = 0;

    uuidtab_init(&t);
    for (unsigned i = 0; i < MANY; i++) {
        uuid_of(i, u);
        if (uuidtab_put(&t, u, account_named("uid", i, "")) < 0)
            bad++;
        uuidtab_get(&t, u)->tag = i;
    }
    is_int(bad, 0, "%d puts", MANY);
    is_int(t.used, MANY, "all used");
    ok(t.cap >= MANY && (t.cap & (t.cap - 1)) == 0,
       "grown to a power of two (%zu)", t.cap);
    ok(t.filled * 4 <= t.cap * 3, "at most three quarters full");

    /* every other one removed: tombstones on the probe paths */
    for (unsigned i = 0; i < MANY; i += 2) {
        uuid_of(i, u);
        if (!uuidtab_remove(&t, u))
            bad++;
    }
    is_int(bad, 0, "half removed");
    is_int(t.used, MANY / 2, "half used");
    char want[64];
    for (unsigned i = 0; i < MANY; i++) {
        const char *dn = dn_at(&t, i);
        snprintf(want, sizeof(want), "uid=%u", i);
        if (i % 2 == 0 ? dn != NULL : (dn == NULL || strcmp(dn, want) != 0))
            bad++;
    }
    is_int(bad, 0, "the removed are gone, the others found past the tombstones");

    size_t n;
    bool lost;
    const uint32_t *d = uuidtab_dropped(&t, &n, &lost);
    is_int(n, MANY / 2, "a dropped tag for each removal");
    for (size_t i = 0; i < n; i++)
        if (d[i] % 2 != 0)
            bad++;
    is_int(bad, 0, "the tags of the removed ones");
    uuidtab_clear_dropped(&t);

    /* churn: put and remove far more than the capacity, which the
     * tombstones must not fill (a rehash clears them) */
    size_t cap = t.cap;
    for (unsigned round = 0; round < 20; round++) {
        for (unsigned i = 0; i < MANY; i += 2) {
            uuid_of(1000000 + round * MANY + i, u);
            if (uuidtab_put(&t, u, account_named("churn", i, "")) < 0)
                bad++;
        }
        for (unsigned i = 0; i < MANY; i += 2) {
            uuid_of(1000000 + round * MANY + i, u);
            if (!uuidtab_remove(&t, u))
                bad++;
        }
    }
    is_int(bad, 0, "churn: 20 rounds of puts and removals");
    is_int(t.used, MANY / 2, "the same accounts left");
    ok(t.cap <= 2 * cap, "no runaway growth (%zu, was %zu)", t.cap, cap);
    for (unsigned i = 1; i < MANY; i += 2)
        if (dn_at(&t, i) == NULL)
            bad++;
    is_int(bad, 0, "every remaining account still found");

    /* iteration: each used slot once */
    size_t pos = 0, seen = 0;
    struct uuidtab_slot *s;
    while ((s = uuidtab_next(&t, &pos)) != NULL) {
        if (s->state != SLOT_USED || s->account == NULL)
            bad++;
        seen++;
    }
    is_int(seen, MANY / 2, "iteration visits every account once");
    is_int(bad, 0, "  and only used slots");
    uuidtab_free(&t);
}

/* test_present_phase - a refresh marks what it sees; the rest is gone */
static void test_present_phase(void)
{
    struct uuidtab t;
    unsigned char u[UUIDTAB_UUID_SIZE];

    uuidtab_init(&t);
    for (unsigned i = 0; i < 10; i++) {
        uuid_of(i, u);
        uuidtab_put(&t, u, account_named("uid", i, ""));
        uuidtab_get(&t, u)->tag = 100 + i;
    }
    uuidtab_clear_seen(&t);
    is_int(uuidtab_remove_unseen(&t), 10, "nothing seen: all gone");
    is_int(t.used, 0, "empty");
    size_t n;
    bool lost;
    uuidtab_dropped(&t, &n, &lost);
    is_int(n, 10, "ten tags dropped");
    uuidtab_clear_dropped(&t);

    for (unsigned i = 0; i < 10; i++) {
        uuid_of(i, u);
        uuidtab_put(&t, u, account_named("uid", i, ""));
    }
    uuidtab_clear_seen(&t);
    for (unsigned i = 0; i < 10; i += 3) {       /* 0, 3, 6, 9 present */
        uuid_of(i, u);
        uuidtab_get(&t, u)->seen = true;
    }
    uuid_of(4, u);
    uuidtab_put(&t, u, account_named("uid", 4, ",modified"));   /* put marks seen */
    is_int(uuidtab_remove_unseen(&t), 5, "the five not named are removed");
    int bad = 0;
    for (unsigned i = 0; i < 10; i++)
        if ((dn_at(&t, i) != NULL) != (i % 3 == 0 || i == 4))
            bad++;
    is_int(bad, 0, "the seen and the put remain");
    is_str(dn_at(&t, 4), "uid=4,modified", "the put one is the new account");
    uuidtab_dropped(&t, &n, &lost);
    is_int(n, 0, "untagged accounts leave no tags");
    is_int(uuidtab_remove_unseen(&t), 0, "a second pass removes nothing more");
    uuidtab_free(&t);
}

int main(void)
{
    test_basics();
    test_many();
    test_present_phase();
    return tap_done();
}
