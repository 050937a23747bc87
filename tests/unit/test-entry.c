/* test-entry - an attribute by name (any case), a copy that outlives its
 * source byte for byte (NULs in values included), and equality. */

#include <stdlib.h>
#include <string.h>

#include "maps/entry.h"
#include "tests/unit/entrylit.h"
#include "tests/unit/tap.h"

/* ALICE - the entry every test starts from (a block-scope literal: A()
 * makes compound literals, which a file-scope initializer cannot hold) */
#define ALICE_ATTRS                                                           \
    {                                                                         \
        A("mail", V("alice@example.com")),                                    \
        A("mailAlias", V("al@example.com"), V("a\0b")),                       \
        A("objectClass", V("top"), V("PostfixBookMailAccount")),              \
    }
#define ALICE(attrs)                                                          \
    {                                                                         \
        .dn = "uid=alice,ou=people,dc=example,dc=com", .uuid = "0123",        \
        .attr_count = sizeof(attrs) / sizeof(attrs[0]), .attrs = attrs,       \
    }

/* test_find - names compare without case; a missing one is NULL */
static void test_find(void)
{
    const struct entry_attr attrs[] = ALICE_ATTRS;
    const struct entry alice = ALICE(attrs);
    const struct entry_attr *a = entry_attr_find(&alice, "MAILALIAS");
    ok(a == &attrs[1], "found without case");
    ok(entry_attr_find(&alice, "mailalia") == NULL, "a prefix is not the name");
    ok(entry_attr_find(&alice, "uid") == NULL, "a missing attribute: NULL");
    const struct entry empty = { .dn = "cn=x" };
    ok(entry_attr_find(&empty, "mail") == NULL, "an entry without attributes");
}

/* test_dup - the copy equals the original and owns every byte */
static void test_dup(void)
{
    const struct entry_attr attrs[] = ALICE_ATTRS;
    const struct entry alice = ALICE(attrs);
    struct entry *c = entry_dup(&alice);
    ok(c != NULL, "copied");
    if (c == NULL)
        return;
    ok(entry_equal(c, &alice) && entry_equal(&alice, c), "the copy equals the original");
    ok(c->dn != alice.dn && strcmp(c->dn, alice.dn) == 0, "its own DN");
    ok(c->uuid != alice.uuid && strcmp(c->uuid, alice.uuid) == 0, "its own entryUUID");
    const struct entry_attr *a = entry_attr_find(c, "mailAlias");
    ok(a != NULL && a != &attrs[1] && a->count == 2 && a->values[1].len == 3 &&
           memcmp(a->values[1].data, "a\0b", 3) == 0,
       "values copied with their NUL bytes");
    free(c);

    const struct entry bare = { .dn = "cn=x" };
    c = entry_dup(&bare);
    ok(c != NULL && c->uuid == NULL && c->attr_count == 0 && entry_equal(c, &bare),
       "an entry without uuid or attributes");
    free(c);
}

/* test_equal - any difference in DN, names, order or values counts */
static void test_equal(void)
{
    const struct entry_attr attrs[] = ALICE_ATTRS;
    const struct entry alice = ALICE(attrs);
    const struct entry_attr other_value[] = {
        A("mail", V("alice@example.com")),
        A("mailAlias", V("al@example.com"), V("a\0c")),
        A("objectClass", V("top"), V("PostfixBookMailAccount")),
    };
    const struct entry_attr fewer[] = {
        A("mail", V("alice@example.com")),
        A("mailAlias", V("al@example.com"), V("a\0b")),
    };
    struct entry e = alice;
    e.attrs = other_value;
    ok(!entry_equal(&alice, &e), "a value after a NUL differs");
    e = alice;
    e.attrs = fewer;
    e.attr_count = 2;
    ok(!entry_equal(&alice, &e), "one attribute fewer differs");
    e = alice;
    e.dn = "uid=bob,ou=people,dc=example,dc=com";
    ok(!entry_equal(&alice, &e), "another DN differs");
}

int main(void)
{
    test_find();
    test_dup();
    test_equal();
    return tap_done();
}
