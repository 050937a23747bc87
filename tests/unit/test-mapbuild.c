/* test-mapbuild - accounts -> maps: conflicts, lists, domains, order */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/account.h"
#include "maps/conf.h"
#include "maps/mapbuild.h"
#include "tests/unit/entrylit.h"
#include "tests/unit/tap.h"

#define MAXATTR 6

#define RULES "\tquota_rule=*:storage=10737418240B" \
              "\tquota_rule2=Trash:storage=+524288000B" \
              "\tquota_rule3=Junk:storage=+524288000B"
#define USER(d, l) "users\t" l "@" d "\thome=/var/vmail/" d "/" l "\tuid=5000\tgid=5000" \
                   "\tmail=maildir:/var/vmail/" d "/" l "/Maildir" RULES "\n"
#define MBOX(d, l) "mailboxes\t" l "@" d "\t" d "/" l "/Maildir/\n"

struct tentry {
    const char *dn;
    struct entry_attr attrs[MAXATTR];
};

/* The directory of the conflict scenario (see the expected maps below). */
static const struct tentry dir[] = {
    { "uid=alice,dc=example,dc=com",
      { A("mail", V("alice@example.com")),
        A("mailAlias", V("al@example.com"), V("Alice.Smith@example.org")),
        A("mailGroupMember", V("staff@example.com"), V("all@lists.example.net")) } },
    { "uid=bob, dc=example, dc=com",
      { A("mail", V("bob@example.com")),
        A("mailStorageDirectory", V("maildir:/var/vmail/b/bob")),
        A("userPassword", V("{SSHA}bob")),
        A("mailGroupMember", V("staff@example.com"), V("ALL@lists.example.net")) } },
    /* loses al@ to alice (smaller DN) and bob@ to bob's mail */
    { "uid=carol,dc=example,dc=com",
      { A("mail", V("carol@example.com")),
        A("mailAlias", V("al@example.com"), V("bob@example.com")) } },
    /* alice has this mail: dave is dropped, his alias goes nowhere */
    { "uid=dave,dc=example,dc=com",
      { A("mail", V("alice@example.com")),
        A("mailAlias", V("dave-alias@example.com")) } },
    /* a smaller DN than alice's: takes alice's second alias */
    { "UID=Aaron,DC=example,DC=com",
      { A("mail", V("aaron@example.com")),
        A("mailAlias", V("alice.smith@example.org")) } },
    /* list addresses that are an alias and a mail: those memberships go */
    { "uid=eve,dc=example,dc=com",
      { A("mail", V("eve@example.com")),
        A("mailGroupMember", V("al@example.com"), V("staff@example.com"), V("bob@example.com")) } },
    { "uid=zed,dc=example,dc=com",
      { A("mail", V("zed@example.com")), A("mailAlias", V("x@example.com")) } },
    /* "uid=bad" < "uid=zed": its mail beats zed's alias */
    { "uid=bad,dc=example,dc=com",
      { A("mail", V("x@example.com")) } },
    /* skipped by the mapping: never reaches the maps */
    { "uid=nomail,dc=example,dc=com",
      { A("mailAlias", V("ghost@example.com")) } },
    /* an exact duplicate of alice (a search may return an entry twice when
     * a fallback asks more than once): dropped without a word */
    { "uid=alice,dc=example,dc=com",
      { A("mail", V("alice@example.com")),
        A("mailAlias", V("al@example.com"), V("Alice.Smith@example.org")),
        A("mailGroupMember", V("staff@example.com"), V("all@lists.example.net")) } },
};

static const char want_dir[] =
    "domains\texample.com\tOK\n"
    "domains\texample.org\tOK\n"
    "domains\tlists.example.net\tOK\n"
    MBOX("example.com", "aaron")
    MBOX("example.com", "alice")
    "mailboxes\tbob@example.com\tb/bob/\n"
    MBOX("example.com", "carol")
    MBOX("example.com", "eve")
    MBOX("example.com", "x")
    MBOX("example.com", "zed")
    "aliases\tal@example.com\talice@example.com\n"
    "aliases\talice.smith@example.org\taaron@example.com\n"
    "aliases\tall@lists.example.net\talice@example.com,bob@example.com\n"
    "aliases\tstaff@example.com\talice@example.com,bob@example.com,eve@example.com\n"
    USER("example.com", "aaron")
    USER("example.com", "alice")
    "users\tbob@example.com\thome=/var/vmail/example.com/bob\tuid=5000\tgid=5000"
    "\tmail=maildir:/var/vmail/b/bob" RULES "\tpassword={SSHA}bob\n"
    USER("example.com", "carol")
    USER("example.com", "eve")
    USER("example.com", "x")
    USER("example.com", "zed");

/* What an emit callback saw, as text; plus a check of the order. */
struct sink {
    char *text;
    size_t len, cap;
    int calls;
    int bad_order;
    int last_map;
    char last_key[512];
    int fail_at;             /* return -1 on this call (1-based), 0 = never */
    int stop_at;             /* return 1 on this call */
};

/* sink_add - append bytes */
static void sink_add(struct sink *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        s->text = realloc(s->text, cap);
        if (s->text == NULL)
            abort();
        s->cap = cap;
    }
    memcpy(s->text + s->len, p, n);
    s->len += n;
    s->text[s->len] = '\0';
}

/* on_emit - record "map<TAB>key<TAB>value\n" and check that maps come in
 * enum order and keys strictly increase within a map */
static int on_emit(void *ctx, enum map_id map, const char *key, size_t keylen,
                   const char *val, size_t vallen)
{
    struct sink *s = ctx;
    char k[512];

    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return -1;
    snprintf(k, sizeof(k), "%.*s", (int)keylen, key);
    if ((int)map < s->last_map ||
        ((int)map == s->last_map && strcmp(k, s->last_key) <= 0) ||
        keylen == 0 || vallen == 0 || memchr(key, '\0', keylen) || memchr(val, '\0', vallen))
        s->bad_order++;
    s->last_map = (int)map;
    memcpy(s->last_key, k, sizeof(k));
    sink_add(s, map_name(map), strlen(map_name(map)));
    sink_add(s, "\t", 1);
    sink_add(s, key, keylen);
    sink_add(s, "\t", 1);
    sink_add(s, val, vallen);
    sink_add(s, "\n", 1);
    if (s->stop_at && s->calls == s->stop_at)
        return 1;
    return 0;
}

/* sink_reset - empty the sink, keep its memory */
static void sink_reset(struct sink *s)
{
    s->len = 0;
    if (s->text)
        s->text[0] = '\0';
    s->calls = s->bad_order = 0;
    s->last_map = -1;
    s->last_key[0] = '\0';
    s->fail_at = s->stop_at = 0;
}

/* on_warn - collect warnings as "dn: msg\n" */
static void on_warn(void *ctx, const char *dn, const char *msg)
{
    struct sink *s = ctx;

    s->calls++;
    sink_add(s, dn, strlen(dn));
    sink_add(s, ": ", 2);
    sink_add(s, msg, strlen(msg));
    sink_add(s, "\n", 1);
}

/* count_attrs - attributes used in a table entry */
static size_t count_attrs(const struct entry_attr *attrs)
{
    size_t n = 0;

    while (n < MAXATTR && attrs[n].name != NULL)
        n++;
    return n;
}

/* build - a mapbuild of the entries of t in the order given by perm */
static struct mapbuild *build(const struct conf *cfg, const struct tentry *t,
                              const size_t *perm, size_t n, struct sink *warns,
                              int *added_r, int *skipped_r)
{
    struct mapbuild *mb = mapbuild_new(cfg, on_warn, warns);
    char err[256];

    *added_r = *skipped_r = 0;
    for (size_t i = 0; i < n && mb; i++) {
        const struct tentry *te = &t[perm ? perm[i] : i];
        struct entry e = { .dn = te->dn, .attr_count = count_attrs(te->attrs), .attrs = te->attrs };
        int rc = mapbuild_add_entry(mb, &e, err, sizeof(err));
        if (rc == 1)
            (*added_r)++;
        else if (rc == 0)
            (*skipped_r)++;
        else
            diag("add_entry: %s", err);
    }
    return mb;
}

/* shuffle - a permutation of 0..n-1 from seed (a small LCG: repeatable) */
static void shuffle(size_t *perm, size_t n, unsigned long seed)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        size_t j = (size_t)((seed >> 33) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* test_directory - the conflict scenario, in many input orders */
static void test_directory(const struct conf *cfg)
{
    size_t n = sizeof(dir) / sizeof(dir[0]), perm[sizeof(dir) / sizeof(dir[0])];
    struct sink out = { 0 }, warns = { 0 };
    struct mapbuild_counts c;
    char err[256], *first_warns = NULL;
    int added, skipped;

    sink_reset(&out);
    sink_reset(&warns);
    struct mapbuild *mb = build(cfg, dir, NULL, n, &warns, &added, &skipped);
    ok(mb != NULL, "mapbuild_new");
    is_int(added, 9, "entries added");
    is_int(skipped, 1, "entries skipped");
    is_int(mapbuild_count(mb), 9, "mapbuild_count");
    ok(strstr(warns.text, "uid=nomail,dc=example,dc=com: skipped: no mail") != NULL,
       "skip warning names the DN");
    sink_reset(&warns);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "finish");
    is_str(out.text, want_dir, "the four maps");
    is_int(out.bad_order, 0, "maps in order, keys strictly increasing, nothing empty");
    is_int(c.accounts, 9, "counts: accounts");
    is_int(c.users, 7, "counts: users");
    is_int(c.aliases, 4, "counts: aliases");
    is_int(c.domains, 3, "counts: domains");
    is_int(c.dropped, 1, "counts: dropped");
    is_int(c.lost, 6, "counts: lost");
    is_int(warns.calls, 7, "conflict warnings");
    static const char *const want_warns[] = {
        "uid=alice,dc=example,dc=com: alias alice.smith@example.org of alice@example.com dropped: "
        "the address is the alias of uid=aaron,dc=example,dc=com",
        "uid=carol,dc=example,dc=com: alias al@example.com of carol@example.com dropped: "
        "the address is the alias of uid=alice,dc=example,dc=com",
        "uid=carol,dc=example,dc=com: alias bob@example.com of carol@example.com dropped: "
        "the address is the mail of uid=bob,dc=example,dc=com",
        "uid=dave,dc=example,dc=com: account alice@example.com dropped: "
        "the address is the mail of uid=alice,dc=example,dc=com",
        "uid=zed,dc=example,dc=com: alias x@example.com of zed@example.com dropped: "
        "the address is the mail of uid=bad,dc=example,dc=com",
        "uid=eve,dc=example,dc=com: list al@example.com: 1 membership dropped "
        "(eve@example.com among them): the address is the alias of uid=alice,dc=example,dc=com",
        "uid=eve,dc=example,dc=com: list bob@example.com: 1 membership dropped "
        "(eve@example.com among them): the address is the mail of uid=bob,dc=example,dc=com",
    };
    for (size_t i = 0; i < sizeof(want_warns) / sizeof(want_warns[0]); i++)
        ok(strstr(warns.text, want_warns[i]) != NULL, "warning %zu", i + 1);
    if (warns.text)
        first_warns = strdup(warns.text);

    /* a second finish gives the same */
    char *first = strdup(out.text);
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err)), 0, "finish again");
    is_str(out.text, first, "finish again: same maps");

    /* resolve once, then each map on its own (the sync's way), in reverse
     * order: concatenated in enum order they are what finish emits */
    struct sink part[MAP_COUNT];
    size_t pn[MAP_COUNT] = { 0 };
    struct mapbuild_counts rc;
    memset(part, 0, sizeof(part));
    is_int(mapbuild_resolve(mb, &rc, err, sizeof(err)), 0, "resolve");
    is_int(rc.dropped, 1, "resolve: counts dropped");
    for (int m = MAP_COUNT - 1; m >= 0; m--) {
        sink_reset(&part[m]);
        is_int(mapbuild_emit(mb, (enum map_id)m, on_emit, &part[m], &pn[m], err, sizeof(err)),
               0, "emit %s alone", map_name((enum map_id)m));
    }
    sink_reset(&out);
    for (int m = 0; m < MAP_COUNT; m++)
        sink_add(&out, part[m].text ? part[m].text : "", part[m].len);
    is_str(out.text, first, "emitted one by one: the same maps");
    ok(pn[MAP_USERS] == 7 && pn[MAP_ALIASES] == 4 && pn[MAP_DOMAINS] == 3,
       "emitted one by one: counts");
    for (int m = 0; m < MAP_COUNT; m++)
        free(part[m].text);
    mapbuild_free(mb);

    /* emit before resolve, or after an account was added: refused */
    mb = build(cfg, dir, NULL, n, &warns, &added, &skipped);
    is_int(mapbuild_emit(mb, MAP_USERS, on_emit, &out, NULL, err, sizeof(err)), -1,
           "emit without resolve: refused");
    mapbuild_free(mb);

    /* any input order: the same bytes, the same warnings */
    int same = 0, same_warns = 0;
    for (unsigned long seed = 1; seed <= 40; seed++) {
        struct sink w2 = { 0 };
        shuffle(perm, n, seed);
        sink_reset(&out);
        sink_reset(&w2);
        mb = build(cfg, dir, perm, n, &w2, &added, &skipped);
        sink_reset(&w2);
        if (mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err)) == 0 &&
            strcmp(out.text, first) == 0)
            same++;
        if (first_warns && w2.text && strcmp(w2.text, first_warns) == 0)
            same_warns++;
        free(w2.text);
        mapbuild_free(mb);
    }
    is_int(same, 40, "40 shuffled input orders give byte-identical maps");
    is_int(same_warns, 40, "40 shuffled input orders give the same warnings");
    free(first);
    free(first_warns);
    free(out.text);
    free(warns.text);
}

/* test_lookup - the fallback's single key */
static void test_lookup(const struct conf *cfg)
{
    static const struct {
        enum map_id map;
        const char *key;
        int rc;
        const char *val;
    } t[] = {
        { MAP_USERS, "ALICE@Example.com", 1,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000"
          "\tmail=maildir:/var/vmail/example.com/alice/Maildir" RULES },
        { MAP_MAILBOXES, "bob@example.com", 1, "b/bob/" },
        { MAP_ALIASES, "staff@example.com", 1, "alice@example.com,bob@example.com,eve@example.com" },
        { MAP_ALIASES, "al@example.com", 1, "alice@example.com" },
        { MAP_ALIASES, "alice@example.com", 0, NULL },
        { MAP_DOMAINS, "lists.example.net", 1, "OK" },
        { MAP_DOMAINS, "example.net", 0, NULL },
        { MAP_USERS, "dave-alias@example.com", 0, NULL },
        { MAP_USERS, "al@example.com", 0, NULL },
        { MAP_USERS, "", 0, NULL },
        { MAP_USERS, "ghost@example.com", 0, NULL },
    };
    struct sink warns = { 0 };
    int added, skipped;
    struct mapbuild *mb = build(cfg, dir, NULL, sizeof(dir) / sizeof(dir[0]), &warns,
                                &added, &skipped);

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *val = (char *)"unset", err[256];
        size_t len = 99;
        int rc = mapbuild_lookup(mb, t[i].map, t[i].key, strlen(t[i].key), &val, &len,
                                 err, sizeof(err));
        is_int(rc, t[i].rc, "lookup %s %s", map_name(t[i].map), t[i].key);
        if (t[i].rc == 1) {
            is_str(val, t[i].val, "lookup %s %s: value", map_name(t[i].map), t[i].key);
            is_int(len, strlen(t[i].val), "lookup %s %s: length", map_name(t[i].map), t[i].key);
        } else {
            ok(val == NULL && len == 0, "lookup %s %s: nothing returned", map_name(t[i].map),
               t[i].key);
        }
        free(rc == 1 ? val : NULL);
    }
    mapbuild_free(mb);
    free(warns.text);
}

/* test_emit_control - an emit error fails finish; a stop ends it early */
static void test_emit_control(const struct conf *cfg)
{
    struct sink out = { 0 }, warns = { 0 };
    struct mapbuild_counts c;
    int added, skipped;
    char err[256] = "";
    struct mapbuild *mb = build(cfg, dir, NULL, sizeof(dir) / sizeof(dir[0]), &warns,
                                &added, &skipped);

    sink_reset(&out);
    out.fail_at = 5;
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), -1, "emit error: finish fails");
    is_int(out.calls, 5, "emit error: no call after the failing one");
    ok(err[0] != '\0', "emit error: a reason");
    sink_reset(&out);
    out.stop_at = 2;
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "emit stop: finish succeeds");
    is_int(out.calls, 2, "emit stop: no call after the stop");
    mapbuild_free(mb);
    free(out.text);
    free(warns.text);
}

/* test_empty_and_bad - an empty build, a bad account, a hand-made one */
/* emit_all - finish mb into a fresh string (caller frees) */
static char *emit_all(struct mapbuild *mb)
{
    struct sink out = { 0 };
    char err[256];

    sink_reset(&out);
    if (mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err)) < 0)
        return strdup("<error>");
    return out.text ? out.text : strdup("");
}

/* test_remove - removing an account, or removing and adding it again
 * changed, gives what a build of the accounts there are gives */
static void test_remove(const struct conf *cfg)
{
    char err[256];
    char *bob_alias[] = { "al@example.com" };
    char *carol_alias[] = { "al@example.com" };
    struct account alice = { .dn = "uid=alice", .mail = "alice@example.com",
                             .home = "/var/vmail/example.com/alice",
                             .mailbox = "example.com/alice/Maildir/", .uid = 1, .gid = 1 };
    struct account bob = { .dn = "uid=bob", .mail = "bob@example.com",
                           .home = "/var/vmail/example.com/bob",
                           .mailbox = "example.com/bob/Maildir/", .uid = 2, .gid = 2,
                           .alias_count = 1, .aliases = bob_alias };
    struct account carol = { .dn = "uid=carol", .mail = "carol@example.com",
                             .home = "/var/vmail/example.com/carol",
                             .mailbox = "example.com/carol/Maildir/", .uid = 3, .gid = 3,
                             .alias_count = 1, .aliases = carol_alias };
    struct account bob2 = bob;
    bob2.uid = 22;
    bob2.alias_count = 0;

    /* the references: builds of exactly the accounts that should remain */
    struct mapbuild *ref1 = mapbuild_new(cfg, NULL, NULL), *ref2 = mapbuild_new(cfg, NULL, NULL);
    mapbuild_add(ref1, &alice, err, sizeof(err));
    mapbuild_add(ref1, &carol, err, sizeof(err));
    mapbuild_add(ref2, &carol, err, sizeof(err));
    mapbuild_add(ref2, &bob2, err, sizeof(err));
    mapbuild_add(ref2, &alice, err, sizeof(err));
    char *want1 = emit_all(ref1), *want2 = emit_all(ref2);

    struct mapbuild *mb = mapbuild_new(cfg, NULL, NULL);
    uint32_t ia, ib, ic, ib2;
    mapbuild_add_id(mb, &alice, &ia, err, sizeof(err));
    mapbuild_add_id(mb, &bob, &ib, err, sizeof(err));
    mapbuild_add_id(mb, &carol, &ic, err, sizeof(err));
    ok(ia == 0 && ib == 1 && ic == 2, "remove: ids in the order added");
    char *before = emit_all(mb);
    ok(strstr(before, "aliases\tal@example.com\tbob@example.com") != NULL,
       "remove: bob (smaller DN) owns the alias first");
    free(before);
    mapbuild_remove(mb, ib);
    mapbuild_remove(mb, ib);            /* twice: ignored */
    mapbuild_remove(mb, 99);            /* unknown: ignored */
    is_int((int)mapbuild_count(mb), 2, "remove: counted out");
    is_int((int)mapbuild_removed(mb), 1, "remove: one removed");
    char *got = emit_all(mb);
    is_str(got, want1, "remove: as if never added (carol gets the alias)");
    free(got);
    is_int(mapbuild_add_id(mb, &bob2, &ib2, err, sizeof(err)), 0, "remove: changed account added");
    got = emit_all(mb);
    is_str(got, want2, "remove + add: as a build of the new accounts");
    free(got);
    free(want1);
    free(want2);
    mapbuild_free(mb);
    mapbuild_free(ref1);
    mapbuild_free(ref2);
}

/* rnd - a fixed xorshift sequence: the same test every run */
static uint32_t rnd(uint32_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

#define POOL 240

/* test_incremental - many rounds of removes and adds, each resolved
 * against the order the last resolve kept: always what a build of the
 * live accounts from scratch gives, with conflicting mails, aliases and
 * lists, equal DNs and exact duplicates among them */
static void test_incremental(const struct conf *cfg)
{
    static char dn[POOL][32], mail[POOL][32], home[POOL][48], mbox[POOL][48];
    static char alias[POOL][2][32], group[POOL][32];
    static char *alias_v[POOL][2], *group_v[POOL][1];
    struct account pool[POOL];
    bool live[POOL] = { false };
    uint32_t id[POOL], st = 2463534242u;
    char err[256];
    int bad_round = -1;
    char *bad_got = NULL, *bad_want = NULL;

    for (int i = 0; i < POOL; i++) {
        int j = i % 50 == 49 ? i - 1 : i;              /* an exact duplicate */
        snprintf(dn[i], sizeof(dn[i]), "uid=u%03d", j % 37 == 5 ? j - 1 : j);
        snprintf(mail[i], sizeof(mail[i]), "m%03d@d%d.example", j % 170, j % 3);
        snprintf(home[i], sizeof(home[i]), "/var/vmail/d%d.example/m%03d", j % 3, j % 170);
        snprintf(mbox[i], sizeof(mbox[i]), "d%d.example/m%03d/Maildir/", j % 3, j % 170);
        snprintf(alias[i][0], sizeof(alias[i][0]), "a%02d@d%d.example", j % 61, j % 2);
        snprintf(alias[i][1], sizeof(alias[i][1]), "m%03d@d%d.example", (j * 7) % 170, j % 3);
        snprintf(group[i], sizeof(group[i]), "%s%d@d0.example", j % 9 == 0 ? "m00" : "list", j % 9);
        alias_v[i][0] = alias[i][0];
        alias_v[i][1] = alias[i][1];
        group_v[i][0] = group[i];
        pool[i] = (struct account){ .dn = dn[i], .mail = mail[i], .home = home[i],
                                    .mailbox = mbox[i], .uid = (uint32_t)j % 5, .gid = 1,
                                    .quota = (uint64_t)j * 1000,
                                    .alias_count = (size_t)(j % 3), .aliases = alias_v[i],
                                    .group_count = (size_t)(j % 4 == 0), .groups = group_v[i] };
    }
    struct mapbuild *mb = mapbuild_new(cfg, NULL, NULL);
    for (int round = 0; round < 60 && bad_round < 0; round++) {
        /* the first round adds many at once, later ones a few */
        int changes = round == 0 ? POOL / 2 : 1 + (int)(rnd(&st) % 8);
        for (int c = 0; c < changes; c++) {
            int i = (int)(rnd(&st) % POOL);
            if (live[i])
                mapbuild_remove(mb, id[i]);
            if (!live[i] || rnd(&st) % 3 == 0) {      /* added, or changed */
                mapbuild_add_id(mb, &pool[i], &id[i], err, sizeof(err));
                live[i] = true;
            } else {
                live[i] = false;
            }
        }
        struct mapbuild *ref = mapbuild_new(cfg, NULL, NULL);
        for (int k = 0; k < POOL; k++) {
            int i = (k * 97 + round) % POOL;           /* another order */
            if (live[i])
                mapbuild_add(ref, &pool[i], err, sizeof(err));
        }
        char *got = emit_all(mb), *want = emit_all(ref);
        if (strcmp(got, want) != 0) {
            bad_round = round;
            bad_got = got;
            bad_want = want;
        } else {
            free(got);
            free(want);
        }
        mapbuild_free(ref);
    }
    ok(bad_round < 0, "incremental: 60 rounds of removes and adds give a fresh build's maps");
    if (bad_round >= 0) {
        diag("round %d differs", bad_round);
        is_str(bad_got, bad_want, "incremental: the first round that differs");
    }
    free(bad_got);
    free(bad_want);
    mapbuild_free(mb);
}

static void test_empty_and_bad(const struct conf *cfg)
{
    struct sink out = { 0 };
    struct mapbuild_counts c;
    char err[256];
    struct mapbuild *mb = mapbuild_new(cfg, NULL, NULL);
    char *val;
    size_t len;

    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "empty: finish");
    is_int(out.calls, 0, "empty: nothing emitted");
    ok(c.accounts == 0 && c.users == 0 && c.aliases == 0 && c.domains == 0, "empty: counts 0");
    is_int(mapbuild_lookup(mb, MAP_USERS, "a@b", 3, &val, &len, err, sizeof(err)), 0,
           "empty: lookup finds nothing");

    struct account a;
    account_init(&a);
    is_int(mapbuild_add(mb, &a, err, sizeof(err)), -1, "account without mail refused");
    char *aliases[] = { "z@example.com", "own@example.com", "a@example.com", "z@example.com", "" };
    char *groups[] = { "list@example.com", "list@example.com" };
    a = (struct account){
        .dn = "cn=own", .mail = "own@example.com", .home = "/var/vmail/example.com/own",
        .mailbox = "example.com/own/Maildir/", .uid = 7, .gid = 8, .quota = 0,
        .alias_count = 5, .aliases = aliases, .group_count = 2, .groups = groups,
    };
    is_int(mapbuild_add(mb, &a, err, sizeof(err)), 0, "hand-made account added");
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "hand-made: finish");
    is_str(out.text,
           "domains\texample.com\tOK\n"
           "mailboxes\town@example.com\texample.com/own/Maildir/\n"
           "aliases\ta@example.com\town@example.com\n"
           "aliases\tlist@example.com\town@example.com\n"
           "aliases\tz@example.com\town@example.com\n"
           "users\town@example.com\thome=/var/vmail/example.com/own\tuid=7\tgid=8"
           "\tmail=maildir:/var/vmail/example.com/own/Maildir\tquota_rule=*:storage=0"
           "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B\n",
           "hand-made: aliases sorted, unique, own mail and empty dropped");
    is_int(out.bad_order, 0, "hand-made: order");
    mapbuild_free(mb);
    free(out.text);
}

/* test_same_dn - two different entries with one DN still give one answer */
static void test_same_dn(const struct conf *cfg)
{
    const struct tentry t[] = {
        { "cn=same", { A("mail", V("one@example.com")), A("mailAlias", V("shared@example.com")) } },
        { "CN = Same", { A("mail", V("two@example.com")), A("mailAlias", V("shared@example.com")) } },
        { "cn=other", { A("mail", V("three@example.com")), A("mailGroupMember", V("l@x.example")) } },
        { "cn=other2", { A("mail", V("four@example.com")), A("mailGroupMember", V("l@x.example")),
                         A("mailStorageDirectory", V("/var/vmail/example.com/four/Maildir")) } },
    };
    size_t perm[4];
    struct sink out = { 0 }, warns = { 0 };
    char *first = NULL, err[256];
    int added, skipped, same = 0;

    for (unsigned long seed = 1; seed <= 24; seed++) {
        shuffle(perm, 4, seed);
        struct mapbuild *mb = build(cfg, t, perm, 4, &warns, &added, &skipped);
        sink_reset(&out);
        mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err));
        if (first == NULL)
            first = strdup(out.text);
        else if (strcmp(first, out.text) == 0)
            same++;
        mapbuild_free(mb);
    }
    is_int(same, 23, "equal DNs: the same maps in any order");
    ok(strstr(first, "aliases\tshared@example.com\tone@example.com\n") != NULL,
       "equal DNs: the smaller record wins");
    ok(strstr(first, "aliases\tl@x.example\tfour@example.com,three@example.com\n") != NULL,
       "list: members sorted");
    ok(strstr(first, "domains\tx.example\tOK\n") != NULL, "list-only domain");
    ok(strstr(first, "mailboxes\tfour@example.com\texample.com/four/Maildir/\n") != NULL,
       "storage equal to the default path");
    ok(strstr(first, "users\tfour@example.com\thome=/var/vmail/example.com/four\tuid=5000\tgid=5000"
                     "\tmail=maildir:/var/vmail/example.com/four/Maildir\t") != NULL,
       "storage equal to the default: user record");
    free(first);
    free(out.text);
    free(warns.text);
}

/* test_scale - many accounts: counts, order, and how long it takes */
static void test_scale(const struct conf *cfg)
{
    enum { N = 60000 };   /* above PARALLEL_MIN: the two-thread resolve */
    struct mapbuild *mb = mapbuild_new(cfg, NULL, NULL);
    struct sink out = { 0 };
    struct mapbuild_counts c;
    char err[256], mail[64], alias[64], group[64], dn[64];
    clock_t t0 = clock();
    int fails = 0;

    for (int i = 0; i < N; i++) {
        /* a pseudo-random order of names, so input order != key order */
        unsigned k = (unsigned)(((unsigned long)i * 7919UL) % N);
        snprintf(dn, sizeof(dn), "uid=u%u,ou=people,dc=example,dc=com", k);
        snprintf(mail, sizeof(mail), "u%u@d%u.example", k, k % 50);
        snprintf(alias, sizeof(alias), "alias%u@d%u.example", k, k % 50);
        snprintf(group, sizeof(group), "list%u@lists.example", k % 100);
        const struct entry_value vm = { mail, strlen(mail) }, va = { alias, strlen(alias) },
                                 vg = { group, strlen(group) };
        const struct entry_attr at[] = { { "mail", 1, &vm }, { "mailAlias", 1, &va },
                                         { "mailGroupMember", 1, &vg } };
        struct entry e = { .dn = dn, .attr_count = 3, .attrs = at };
        if (mapbuild_add_entry(mb, &e, err, sizeof(err)) != 1)
            fails++;
    }
    is_int(fails, 0, "scale: every entry added");
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "scale: finish");
    is_int(out.bad_order, 0, "scale: order");
    is_int(c.users, N, "scale: users");
    is_int(c.aliases, N + 100, "scale: aliases and lists");
    is_int(c.domains, 51, "scale: domains");
    diag("scale: %d accounts, %zu bytes of maps, %.2f s", N, out.len,
         (double)(clock() - t0) / CLOCKS_PER_SEC);
    mapbuild_free(mb);
    free(out.text);
}

/* The attacks of issue 12, each by one entry against honest ones. */
static const struct tentry attacks[] = {
    { "uid=victim,dc=example,dc=com",
      { A("mail", V("victim@example.com")), A("userPassword", V("{SSHA}v")) } },
    { "uid=other,dc=example,dc=com",
      { A("mail", V("other@example.com")), A("mailHomeDirectory", V("/home/other")),
        A("userPassword", V("{SSHA}o")) } },
    /* a smaller DN than victim's: takes no address from a mail */
    { "uid=aaa,dc=example,dc=com",
      { A("mail", V("aaa@example.com")),
        A("mailAlias", V("ceo@gmail.com"), V("victim@example.com"), V("fine@example.com")),
        A("mailGroupMember", V("x@partner.example"), V("team@example.com")) } },
    /* the victim's Maildir through a relative storage directory */
    { "uid=aab,dc=example,dc=com",
      { A("mail", V("aab@example.com")),
        A("mailStorageDirectory", V("example.com/victim/Maildir")) } },
    /* the victim's home, and one around a whole domain */
    { "uid=aac,dc=example,dc=com",
      { A("mail", V("aac@example.com")),
        A("mailHomeDirectory", V("/var/vmail/example.com/victim")) } },
    { "uid=aad,dc=example,dc=com",
      { A("mail", V("aad@example.org")), A("mailHomeDirectory", V("/var/vmail/example.com")) } },
    /* explicit homes against each other: the smaller DN keeps it */
    { "uid=zzz,dc=example,dc=com",
      { A("mail", V("zzz@example.com")), A("mailHomeDirectory", V("/home/other/sub")) } },
    { "uid=zzy,dc=example,dc=com",
      { A("mail", V("zzy@example.com")), A("mailHomeDirectory", V("/home/yyz/")) } },
    /* only a common prefix, not a common directory: both stay */
    { "uid=yyy,dc=example,dc=com",
      { A("mail", V("yyy@example.com")), A("mailHomeDirectory", V("/home/other2")) } },
    /* one mailbox inside another's home */
    { "uid=yyz,dc=example,dc=com",
      { A("mail", V("yyz@example.com")), A("mailHomeDirectory", V("/home/yyz")),
        A("mailStorageDirectory", V("/var/vmail/yyy-box")) } },
    { "uid=yza,dc=example,dc=com",
      { A("mail", V("yza@example.com")), A("mailHomeDirectory", V("/home/yza")),
        A("mailStorageDirectory", V("yyy-box/sub")) } },
};

/* test_untrusted - design.md "Directory data is untrusted", the rules
 * across accounts */
static void test_untrusted(void)
{
    struct conf cfg;
    static const char text[] = "ldap_base = dc=example,dc=com\nhome_dirs = /var/vmail /home\n";
    char err[256];
    struct sink out = { .last_map = -1 }, warns = { 0 };
    struct mapbuild_counts c;
    int added, skipped;
    size_t n = sizeof(attacks) / sizeof(attacks[0]);

    if (conf_parse_buffer(&cfg, "test", text, sizeof(text) - 1, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return;
    }
    struct mapbuild *mb = build(&cfg, attacks, NULL, n, &warns, &added, &skipped);
    ok(mb != NULL && added == (int)n, "untrusted: every entry added");
    sink_reset(&warns);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "untrusted: finish");
    ok(strstr(out.text, "users\tvictim@example.com\t") != NULL &&
       strstr(out.text, "mailboxes\tvictim@example.com\texample.com/victim/Maildir/\n") != NULL,
       "untrusted: the victim keeps its account against a smaller DN's alias");
    ok(strstr(out.text, "aliases\tvictim@example.com") == NULL, "untrusted: no alias for it");
    ok(strstr(warns.text, "uid=aaa,dc=example,dc=com: alias victim@example.com of aaa@example.com "
                          "dropped: the address is the mail of uid=victim,dc=example,dc=com") != NULL,
       "untrusted: one warning naming both DNs");
    ok(strstr(out.text, "gmail.com") == NULL && strstr(out.text, "partner.example") == NULL,
       "untrusted: no foreign domain in any map");
    ok(strstr(warns.text, "alias ceo@gmail.com of aaa@example.com dropped: no mailbox in "
                          "gmail.com and not in alias_domains") != NULL &&
       strstr(warns.text, "membership of aaa@example.com in list x@partner.example dropped") != NULL,
       "untrusted: foreign alias and list warned");
    ok(strstr(out.text, "aliases\tfine@example.com\taaa@example.com\n") != NULL &&
       strstr(out.text, "aliases\tteam@example.com\taaa@example.com\n") != NULL,
       "untrusted: the attacker keeps its harmless claims");
    ok(strstr(out.text, "domains\texample.com\tOK\ndomains\texample.org\tOK\nmailboxes") == NULL &&
       strstr(out.text, "domains\texample.com\tOK\nmailboxes") != NULL,
       "untrusted: domains.cdb only the mailbox domains");
    const char *skips[] = {
        "uid=aab,dc=example,dc=com: skipped: its mailbox /var/vmail/example.com/victim/Maildir/ "
        "is inside the home of uid=victim,dc=example,dc=com",
        "uid=aac,dc=example,dc=com: skipped: its home /var/vmail/example.com/victim/ is the same "
        "as the home of uid=victim,dc=example,dc=com",
        "uid=aad,dc=example,dc=com: skipped: its home /var/vmail/example.com/ is around the home of",
        "uid=zzy,dc=example,dc=com: skipped: its home /home/yyz/ is the same as the home of "
        "uid=yyz,dc=example,dc=com",
        "uid=zzz,dc=example,dc=com: skipped: its home /home/other/sub/ is inside the home of "
        "uid=other,dc=example,dc=com",
        "uid=yza,dc=example,dc=com: skipped: its mailbox /var/vmail/yyy-box/sub/ is inside the "
        "mailbox of uid=yyz,dc=example,dc=com",
    };
    for (size_t i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
        ok(strstr(warns.text, skips[i]) != NULL, "untrusted: path warning %zu", i + 1);
        if (strstr(warns.text, skips[i]) == NULL)
            diag("warnings:\n%s", warns.text);
    }
    const char *gone[] = { "aab@", "aac@", "aad@", "zzy@", "zzz@", "yza@" };
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        char key[64];
        snprintf(key, sizeof(key), "users\t%s", gone[i]);
        ok(strstr(out.text, key) == NULL, "untrusted: %s skipped", gone[i]);
    }
    ok(strstr(out.text, "users\tyyy@") != NULL && strstr(out.text, "users\tother@") != NULL &&
       strstr(out.text, "users\tyyz@") != NULL, "untrusted: neighbours by prefix only stay");
    is_int(c.users, 5, "untrusted: users");
    is_int(c.passwords, 2, "untrusted: accounts with a password counted");
    is_int(c.dropped, 6, "untrusted: entries skipped for their paths");

    /* the same in every input order */
    char *first = strdup(out.text);
    for (int round = 0; round < 10; round++) {
        size_t perm[sizeof(attacks) / sizeof(attacks[0])];
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        srand((unsigned)round + 7);
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        struct mapbuild *m2 = build(&cfg, attacks, perm, n, &warns, &added, &skipped);
        sink_reset(&out);
        mapbuild_finish(m2, on_emit, &out, NULL, err, sizeof(err));
        if (strcmp(out.text, first) != 0) {
            ok(0, "untrusted: order %d gives other maps", round);
            mapbuild_free(m2);
            break;
        }
        mapbuild_free(m2);
        if (round == 9)
            ok(1, "untrusted: 10 input orders, the same maps");
    }
    free(first);
    mapbuild_free(mb);
    free(out.text);
    free(warns.text);
    conf_free(&cfg);
}

/* nest - a and b (absolute, no trailing '/') are the same or one lies
 * inside the other */
static int nest(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;

    if (strncmp(a, b, l) != 0)
        return 0;
    return la == lb || (la < lb ? b[la] == '/' : a[lb] == '/');
}

/* test_paths_random - random homes and mailboxes that often nest: the
 * accounts kept never share a directory, and each one skipped collides
 * with one that is kept (brute force over every pair) */
static void test_paths_random(void)
{
    struct conf cfg;
    static const char text[] = "ldap_base = dc=example,dc=com\nhome_dirs = /var/vmail /home\n";
    char err[256];
    static const char *const part[] = { "x", "y", "xy", "x.y" };
    enum { N = 40 };
    int bad_safe = 0, bad_max = 0, skipped = 0;

    if (conf_parse_buffer(&cfg, "test", text, sizeof(text) - 1, err, sizeof(err)) < 0)
        return;
    srand(12);
    for (int round = 0; round < 200; round++) {
        struct mapbuild *mb = mapbuild_new(&cfg, NULL, NULL);
        char home[N][64], box[N][80], mail[N][32];
        for (int i = 0; i < N; i++) {
            struct account a;
            char dn[32], mb_rel[64];
            account_init(&a);
            snprintf(dn, sizeof(dn), "uid=u%02d", rand() % 100);
            snprintf(mail[i], sizeof(mail[i]), "u%02d@%s.example", i, part[rand() % 2]);
            int kind = rand() % 3;
            if (kind == 0)      /* the default home */
                snprintf(home[i], sizeof(home[i]), "/var/vmail/%s", strchr(mail[i], '@') + 1);
            else
                snprintf(home[i], sizeof(home[i]), "%s/%s", kind == 1 ? "/home" : "/var/vmail",
                         part[rand() % 4]);
            if (kind == 0) {
                size_t l = strlen(home[i]);
                snprintf(home[i] + l, sizeof(home[i]) - l, "/u%02d", i);
            } else {
                for (int d = rand() % 3; d > 0; d--) {
                    size_t l = strlen(home[i]);
                    snprintf(home[i] + l, sizeof(home[i]) - l, "/%s", part[rand() % 4]);
                }
            }
            if (rand() % 2)
                snprintf(mb_rel, sizeof(mb_rel), "%s/u%02d/Maildir/", strchr(mail[i], '@') + 1, i);
            else
                snprintf(mb_rel, sizeof(mb_rel), "%s.example/%s/", part[rand() % 2], part[rand() % 4]);
            snprintf(box[i], sizeof(box[i]), "/var/vmail/%.*s", (int)strlen(mb_rel) - 1, mb_rel);
            a.dn = dn;
            a.mail = mail[i];
            a.home = home[i];
            a.mailbox = mb_rel;
            a.uid = a.gid = 5000;
            if (mapbuild_add(mb, &a, err, sizeof(err)) < 0)
                bad_safe++;
        }
        int kept[N];
        for (int i = 0; i < N; i++) {
            char *val;
            size_t vl;
            kept[i] = mapbuild_lookup(mb, MAP_USERS, mail[i], strlen(mail[i]), &val, &vl, err,
                                      sizeof(err)) == 1;
            if (kept[i])
                free(val);
        }
        for (int i = 0; i < N; i++) {
            int hit = 0;
            for (int j = 0; j < N; j++) {
                if (i == j || !kept[j])
                    continue;
                int c = nest(home[i], home[j]) || nest(home[i], box[j]) ||
                        nest(box[i], home[j]) || nest(box[i], box[j]);
                if (c && kept[i])
                    bad_safe++;
                hit |= c;
            }
            if (!kept[i] && !hit)
                bad_max++;
            skipped += !kept[i];
        }
        mapbuild_free(mb);
    }
    is_int(bad_safe, 0, "random paths: no two accounts kept share or nest a directory");
    is_int(bad_max, 0, "random paths: every account skipped collides with one kept");
    ok(skipped > 200 * N / 4 && skipped < 200 * N * 3 / 4, "random paths: %d of %d skipped",
       skipped, 200 * N);
    conf_free(&cfg);
}

/* ---- issue 16: an iRedMail-shaped directory ---- */

/* Domain entries: example.com with an alias domain; other.com; an entry
 * whose alias domain is example.com (another entry's primary); one that
 * claims other.com again with a larger DN. */
static const struct tentry ired_domains[] = {
    { "domainName=example.com,o=domains,dc=x",
      { A("domainName", V("example.com")), A("domainAliasName", V("Example.NET")) } },
    { "domainName=other.com,o=domains,dc=x", { A("domainName", V("other.com")) } },
    { "domainName=evil.test,o=domains,dc=x",
      { A("domainName", V("evil.test")), A("domainAliasName", V("example.com")) } },
    { "domainName=other.com,ou=copy,o=domains,dc=x", { A("domainName", V("other.com")) } },
};

#define IHOME(d, l) "/var/vmail/vmail1/" d "/" l
static const struct tentry ired[] = {
    { "mail=alice@example.com,ou=Users,domainName=example.com,o=domains,dc=x",
      { A("mail", V("alice@example.com")), A("mailQuota", V("1073741824")),
        A("homeDirectory", V(IHOME("example.com", "alice"))),
        A("enabledService", V("mail"), V("shadowaddress"), V("forward")),
        A("shadowAddress", V("al@example.com"), V("al@example.net")),
        A("mailForwardingAddress", V("alice@example.com"), V("Bob@Gmail.com"),
          V("bob@gmail.com"), V("not an address")) } },
    /* the service flags are missing: its shadow address and forward do not count */
    { "mail=bob@example.com,ou=Users,domainName=example.com,o=domains,dc=x",
      { A("mail", V("bob@example.com")), A("mailQuota", V("2G")),
        A("homeDirectory", V(IHOME("example.com", "bob"))),
        A("shadowAddress", V("bob2@example.com")), A("mailForwardingAddress", V("x@y.test")),
        A("mailGroupMember", V("team@example.com")) } },
    /* an explicit claim in the alias domain beats the derived one */
    { "mail=carol@example.com,ou=Users,domainName=example.com,o=domains,dc=x",
      { A("mail", V("carol@example.com")), A("homeDirectory", V(IHOME("example.com", "carol"))),
        A("enabledService", V("ShadowAddress")), A("shadowAddress", V("alice@example.net")) } },
    /* outside every domain entry: skipped, its forward key with it */
    { "mail=dave@foreign.test,ou=Users,domainName=foreign.test,o=domains,dc=x",
      { A("mail", V("dave@foreign.test")), A("homeDirectory", V(IHOME("foreign.test", "dave"))),
        A("enabledService", V("forward")), A("mailForwardingAddress", V("x@y.test")) } },
    /* a shadow address in a foreign domain: dropped */
    { "mail=eve@other.com,ou=Users,domainName=other.com,o=domains,dc=x",
      { A("mail", V("eve@other.com")), A("homeDirectory", V(IHOME("other.com", "eve"))),
        A("enabledService", V("shadowaddress")), A("shadowAddress", V("eve@gmail.com")) } },
};

/* ired_conf - the settings of contrib/iredmail, more or less */
static int ired_conf(struct conf *cfg, const char *extra)
{
    char text[2048], err[256];

    snprintf(text, sizeof(text),
             "ldap_base = o=domains,dc=x\n"
             "ldap_quota_unit = B\n"
             "ldap_domain_filter = (objectClass=mailDomain)\n"
             "ldap_attr_alias = shadowAddress\n"
             "ldap_attr_home = homeDirectory\n"
             "ldap_attr_forward = mailForwardingAddress\n"
             "ldap_alias_filter = (enabledService=shadowaddress)\n"
             "ldap_forward_filter = (enabledService=forward)\n"
             "mail_location = maildir:%%h/Maildir\n"
             "alias_domains = lists.test\n"
             "quota_rules =\n%s", extra);
    if (conf_parse_buffer(cfg, "ired", text, strlen(text), err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return -1;
    }
    return 0;
}

/* ired_build - domain entries and accounts, in the order of perm (NULL:
 * as listed; domain entries first, then accounts, or interleaved) */
static struct mapbuild *ired_build(const struct conf *cfg, struct sink *warns, const size_t *perm)
{
    size_t nd = sizeof(ired_domains) / sizeof(ired_domains[0]);
    size_t na = sizeof(ired) / sizeof(ired[0]);
    struct mapbuild *mb = mapbuild_new(cfg, on_warn, warns);
    char err[256];

    for (size_t j = 0; j < nd + na && mb != NULL; j++) {
        size_t i = perm ? perm[j] : j;
        const struct tentry *te = i < nd ? &ired_domains[i] : &ired[i - nd];
        struct entry e = { .dn = te->dn, .attr_count = count_attrs(te->attrs), .attrs = te->attrs };
        int rc = i < nd ? mapbuild_add_domain(mb, &e, err, sizeof(err))
                        : mapbuild_add_entry(mb, &e, err, sizeof(err));
        if (rc < 0)
            diag("add: %s", err);
    }
    return mb;
}

#define IREC(d, l, q)                                                                  \
    "\thome=" IHOME(d, l) "\tuid=5000\tgid=5000\tmail=maildir:" IHOME(d, l) "/Maildir"     \
    "\tquota_rule=*:storage=" q "B"

static const char want_ired[] =
    "domains\tevil.test\tOK\n"
    "domains\texample.com\tOK\n"
    "domains\texample.net\tOK\n"
    "domains\tlists.test\tOK\n"
    "domains\tother.com\tOK\n"
    "mailboxes\talice@example.com\tvmail1/example.com/alice/Maildir/\n"
    "mailboxes\tbob@example.com\tvmail1/example.com/bob/Maildir/\n"
    "mailboxes\tcarol@example.com\tvmail1/example.com/carol/Maildir/\n"
    "mailboxes\teve@other.com\tvmail1/other.com/eve/Maildir/\n"
    "aliases\tal@example.com\talice@example.com\n"
    "aliases\tal@example.net\talice@example.com\n"
    "aliases\talice@example.com\talice@example.com,bob@gmail.com\n"
    "aliases\talice@example.net\tcarol@example.com\n"
    "aliases\tbob@example.net\tbob@example.com\n"
    "aliases\tcarol@example.net\tcarol@example.com\n"
    "aliases\tteam@example.com\tbob@example.com\n"
    "aliases\tteam@example.net\tteam@example.com\n"
    "users\tal@example.com" IREC("example.com", "alice", "1073741824") "\tuser=alice@example.com\n"
    "users\tal@example.net" IREC("example.com", "alice", "1073741824") "\tuser=alice@example.com\n"
    "users\talice@example.com" IREC("example.com", "alice", "1073741824") "\n"
    "users\talice@example.net" IREC("example.com", "carol", "10737418240")
    "\tuser=carol@example.com\n"
    "users\tbob@example.com" IREC("example.com", "bob", "2147483648") "\n"
    "users\tcarol@example.com" IREC("example.com", "carol", "10737418240") "\n"
    "users\teve@other.com" IREC("other.com", "eve", "10737418240") "\n";

static const char want_ired_warns[] =
    "mail=alice@example.com,ou=Users,domainName=example.com,o=domains,dc=x: "
    "mailForwardingAddress value \"not an address\" ignored: whitespace in address\n"
    "domainname=other.com,ou=copy,o=domains,dc=x: domain entry skipped: its domain other.com "
    "is the domain of domainname=other.com,o=domains,dc=x\n"
    "domainname=evil.test,o=domains,dc=x: alias domain example.com dropped: it is the domain of "
    "domainname=example.com,o=domains,dc=x\n"
    "mail=dave@foreign.test,ou=users,domainname=foreign.test,o=domains,dc=x: account "
    "dave@foreign.test skipped: no domain entry names foreign.test\n"
    "mail=eve@other.com,ou=users,domainname=other.com,o=domains,dc=x: alias eve@gmail.com of "
    "eve@other.com dropped: no domain entry names gmail.com and not in alias_domains\n";

/* cut_users - text without its users lines (alias_login changes only them) */
static char *cut_users(const char *text)
{
    char *out = strdup(text), *o = out;

    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, "users\t", 6) != 0 || strstr(p, "\tuser=") == NULL ||
            strstr(p, "\tuser=") > p + len) {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
    }
    *o = '\0';
    return out;
}

/* test_iredmail - the rules of issue 16 in one directory: byte quotas,
 * gated shadow addresses and forwards, domain entries and their trust
 * rules, alias domains, alias logins, mail under the home */
static void test_iredmail(void)
{
    size_t n = sizeof(ired_domains) / sizeof(ired_domains[0]) + sizeof(ired) / sizeof(ired[0]);
    size_t perm[sizeof(ired_domains) / sizeof(ired_domains[0]) + sizeof(ired) / sizeof(ired[0])];
    struct sink out = { .last_map = -1 }, warns = { 0 };
    struct mapbuild_counts c;
    struct conf cfg;
    char err[256];

    if (ired_conf(&cfg, "alias_login = yes\n") < 0)
        return;
    struct mapbuild *mb = ired_build(&cfg, &warns, NULL);
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "iredmail: finish");
    is_str(out.text, want_ired, "iredmail: the maps");
    is_int(out.bad_order, 0, "iredmail: keys in order");
    is_str(warns.text, want_ired_warns, "iredmail: one warning per dropped entry or claim");
    is_int(c.dropped, 1, "iredmail: the account outside the domains counts as dropped");

    /* any order of domain entries and accounts: the same maps */
    int same = 0;
    for (unsigned long seed = 1; seed <= 20; seed++) {
        struct sink o2 = { .last_map = -1 }, w2 = { 0 };
        shuffle(perm, n, seed);
        struct mapbuild *m2 = ired_build(&cfg, &w2, perm);
        sink_reset(&o2);
        same += mapbuild_finish(m2, on_emit, &o2, NULL, err, sizeof(err)) == 0 &&
                strcmp(o2.text, want_ired) == 0;
        mapbuild_free(m2);
        free(o2.text);
        free(w2.text);
    }
    is_int(same, 20, "iredmail: 20 input orders, the same maps");

    /* the fallback's one key: a derived alias, an alias login */
    char *val;
    size_t vl;
    is_int(mapbuild_lookup(mb, MAP_ALIASES, "Bob@Example.NET", 15, &val, &vl, err, sizeof(err)),
           1, "iredmail: lookup of a derived key");
    is_str(val, "bob@example.com", "iredmail: u@alias -> u@primary");
    free(val);
    is_int(mapbuild_lookup(mb, MAP_USERS, "al@example.net", 14, &val, &vl, err, sizeof(err)), 1,
           "iredmail: lookup of an alias login");
    ok(val != NULL && strstr(val, "\tuser=alice@example.com") != NULL, "iredmail: its user=");
    free(val);

    /* persist: a domain entry goes, its accounts and alias domain with it;
     * added again, all is back */
    sink_reset(&warns);
    is_int(mapbuild_remove_domain(mb, "domainName=example.com,o=domains,dc=x"), 1,
           "iredmail: remove a domain entry");
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err)), 0, "iredmail: finish");
    ok(strstr(out.text, "@example.com\t") == NULL && strstr(out.text, "example.net") == NULL &&
       strstr(out.text, "mailboxes\teve@other.com") != NULL,
       "iredmail: without its entry, example.com's accounts and alias domain are gone");
    ok(strstr(out.text, "domains\texample.com\tOK\n") != NULL,
       "iredmail: and the name is free for evil.test's alias domain");
    ok(strstr(warns.text, "account alice@example.com skipped: no domain entry names "
                          "example.com") != NULL, "iredmail: the accounts there are warned");
    struct entry e = { .dn = ired_domains[0].dn, .attr_count = count_attrs(ired_domains[0].attrs),
                       .attrs = ired_domains[0].attrs };
    is_int(mapbuild_add_domain(mb, &e, err, sizeof(err)), 0, "iredmail: added again");
    sink_reset(&out);
    mapbuild_finish(mb, on_emit, &out, NULL, err, sizeof(err));
    is_str(out.text, want_ired, "iredmail: the same maps again");
    mapbuild_free(mb);
    conf_free(&cfg);

    /* alias_login = no: users.cdb holds the mails only */
    if (ired_conf(&cfg, "") < 0)
        return;
    mb = ired_build(&cfg, &warns, NULL);
    sink_reset(&out);
    is_int(mapbuild_finish(mb, on_emit, &out, &c, err, sizeof(err)), 0, "iredmail: no logins");
    char *want = cut_users(want_ired);
    is_str(out.text, want, "iredmail: without alias_login only the users lines with user= go");
    is_int(c.users, 4, "iredmail: users");
    free(want);
    mapbuild_free(mb);
    conf_free(&cfg);
    free(out.text);
    free(warns.text);
}

int main(void)
{
    struct conf cfg;

    /* the alias-only domains of the scenarios */
    static const char text[] = "ldap_base = dc=example,dc=com\n"
                               "alias_domains = example.org lists.example.net lists.example x.example\n";
    char err[256];
    if (conf_parse_buffer(&cfg, "test", text, sizeof(text) - 1, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    test_directory(&cfg);
    test_lookup(&cfg);
    test_emit_control(&cfg);
    test_remove(&cfg);
    test_incremental(&cfg);
    test_empty_and_bad(&cfg);
    test_same_dn(&cfg);
    test_scale(&cfg);
    test_untrusted();
    test_paths_random();
    test_iredmail();
    conf_free(&cfg);
    return tap_done();
}
