/* test-lookup - the fallback rules with maps and an unreachable LDAP (the
 * LDAP answers themselves are covered by the integration tests) */

#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

#include "maps/lookup.h"
#include "maps/mapbuild.h"
#include "maps/mapwriter.h"
#include "maps/status.h"
#include "tests/unit/tap.h"
#include "tests/unit/alicemaps.h"
#include "tests/unit/offline.h"
#include "tests/unit/scratch.h"

/* write_maps - alice in every map, status synced at synced_at */
static void write_maps(time_t synced_at)
{
    alice_maps_write(dir, "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000", synced_at);
}

struct want {
    enum map_id map;
    const char *key;
    enum lookup_result result;
    enum lookup_source source;
    const char *value;
};

static void run(struct lookup *lk, const char *what, const struct want *w, size_t n)
{
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const char *val;
        size_t len;
        enum lookup_source src = (enum lookup_source)-1;
        enum lookup_result r = lookup_key(lk, w[i].map, w[i].key, strlen(w[i].key), &val, &len,
                                          &src, err, sizeof(err));
        is_int(r, w[i].result, "%s: %s %s", what, map_name(w[i].map), w[i].key);
        if (r == LOOKUP_FOUND) {
            is_int(src, w[i].source, "%s: %s source", what, w[i].key);
            if (!ok(len == strlen(w[i].value) && memcmp(val, w[i].value, len) == 0,
                    "%s: %s value", what, w[i].key))
                diag("got: %.*s", (int)len, val);
        } else if (r == LOOKUP_TEMPFAIL) {
            ok(err[0] != '\0', "%s: %s tempfail says why (%s)", what, w[i].key, err);
        }
    }
}

/* ---- the cross-entry rules, with the directory below instead of LDAP ---- */

/* One test entry: the Postfix Book attributes a fallback reads. */
struct tent {
    const char *dn, *mail, *home, *storage;
    const char *alias[3], *group[2];
};

/* a1 sorts before victim: the DN order alone would hand it victim's
 * address. z2 and z3 sort after victim: the sync keeps victim's
 * directories for victim and skips them (an entry that sorts first would
 * keep them, and victim would be skipped: the one case where the fallback,
 * which cannot see z2 and z3 from victim's key, answers what the sync
 * does not). */
static const struct tent tdir[] = {
    { "uid=a1,dc=example,dc=com", "a1@example.com", NULL, NULL,
      { "victim@example.com", "ceo@gmail.com", "sales@lists.example.org" },
      { "team@partner.example" } },
    { "uid=z2,dc=example,dc=com", "z2@example.com", NULL, "example.com/victim/Maildir",
      { "help@example.com" }, { NULL } },
    { "uid=z3,dc=example,dc=com", "z3@example.com", "/var/vmail/example.com/victim", NULL,
      { NULL }, { NULL } },
    /* in the maps of write_maps too: with the default Maildir there */
    { "uid=alice,dc=example,dc=com", "alice@example.com", NULL, "example.com/bob/Maildir",
      { NULL }, { NULL } },
    { "uid=bob,dc=example,dc=com", "bob@example.com", "/var/vmail/example.com/bob", NULL,
      { "info@other.example" }, { "team@example.com" } },
    { "uid=carol,dc=example,dc=com", "carol@other.example", NULL, NULL, { NULL },
      { "team@example.com" } },
    { "uid=d0,dc=example,dc=com", "dup@example.com", NULL, NULL, { NULL }, { NULL } },
    { "uid=d1,dc=example,dc=com", "dup@example.com", NULL, NULL, { "x@example.com" },
      { NULL } },
    { "uid=victim,dc=example,dc=com", "victim@example.com", NULL, NULL,
      { "v@example.com" }, { NULL } },
};
#define TDIR_COUNT (sizeof(tdir) / sizeof(tdir[0]))

/* A directory the fake searches read (their ctx). */
struct tdirectory {
    const struct tent *e;
    size_t n;
};
static const struct tdirectory tdir_all = { tdir, TDIR_COUNT };

static unsigned searches_run;

/* tent_deliver - t as a struct entry to cb */
static int tent_deliver(const struct tent *t, ldapdir_entry_fn *cb, void *cbctx)
{
    struct entry_value v[8];
    struct entry_attr at[6];
    size_t na = 0, nv = 0;
    const char *one[4][2] = { { "mail", t->mail }, { "mailHomeDirectory", t->home },
                              { "mailStorageDirectory", t->storage }, { NULL, NULL } };

    for (size_t i = 0; one[i][0] != NULL; i++) {
        if (one[i][1] == NULL)
            continue;
        v[nv] = (struct entry_value){ one[i][1], strlen(one[i][1]) };
        at[na++] = (struct entry_attr){ one[i][0], 1, &v[nv++] };
    }
    for (int list = 0; list < 2; list++) {
        const char *const *vals = list ? t->group : t->alias;
        size_t n = 0, first = nv;
        for (size_t i = 0; i < (list ? 2u : 3u) && vals[i] != NULL; i++, n++)
            v[nv++] = (struct entry_value){ vals[i], strlen(vals[i]) };
        if (n > 0)
            at[na++] = (struct entry_attr){ list ? "mailGroupMember" : "mailAlias", n, &v[first] };
    }
    struct entry e = { .dn = t->dn, .attr_count = na, .attrs = at };
    return cb(cbctx, &e);
}

/* tent_has - t holds address as mail, alias or list */
static bool tent_has(const struct tent *t, const char *address)
{
    if (strcasecmp(t->mail, address) == 0)
        return true;
    for (size_t i = 0; i < 3 && t->alias[i] != NULL; i++)
        if (strcasecmp(t->alias[i], address) == 0)
            return true;
    for (size_t i = 0; i < 2 && t->group[i] != NULL; i++)
        if (strcmp(t->group[i], address) == 0)
            return true;
    return false;
}

/* search_key / search_domain - ldapdir's two searches over the
 * tdirectory ctx */
static int search_key(void *ctx, const char *what, ldapdir_entry_fn *cb, void *cbctx,
                      char *err, size_t errsz)
{
    const struct tdirectory *d = ctx;
    (void)err, (void)errsz;
    searches_run++;
    for (size_t i = 0; i < d->n; i++)
        if (tent_has(&d->e[i], what) && tent_deliver(&d->e[i], cb, cbctx) != 0)
            return 1;
    return 0;
}

static int search_domain(void *ctx, const char *what, ldapdir_entry_fn *cb, void *cbctx,
                         char *err, size_t errsz)
{
    const struct tdirectory *d = ctx;
    (void)err, (void)errsz;
    searches_run++;
    for (size_t i = 0; i < d->n; i++) {
        const char *at = strrchr(d->e[i].mail, '@');
        if (strcasecmp(at + 1, what) == 0 && tent_deliver(&d->e[i], cb, cbctx) != 0)
            return 1;
    }
    return 0;
}

/* add_all - the sync's view: every entry into one build */
static int add_all(void *ctx, const struct entry *e)
{
    char err[256];
    return mapbuild_add_entry(ctx, e, err, sizeof(err)) < 0;
}

/* cache_ttl - an answer is kept for fallback_cache_ttl seconds exactly;
 * lk's clock is fixed and its searches read tdir */
static void cache_ttl(const struct conf *cfg, struct lookup *lk)
{
    struct conf *c = (struct conf *)cfg;
    unsigned ttl = cfg->fallback_cache_ttl;
    time_t t0 = 1800000000;
    const char *val;
    size_t len;
    char err[512];

    is_int((int)ttl, 30, "cache: fallback_cache_ttl is 30 s by default");
    lookup_set_clock(lk, t0);
    lookup_key(lk, MAP_USERS, "bob@example.com", 15, &val, &len, NULL, err, sizeof(err));
    unsigned before = searches_run;
    lookup_set_clock(lk, t0 + (time_t)ttl - 1);
    lookup_key(lk, MAP_USERS, "bob@example.com", 15, &val, &len, NULL, err, sizeof(err));
    is_int(searches_run, before, "cache: still cached 1 s before fallback_cache_ttl");
    lookup_set_clock(lk, t0 + (time_t)ttl);
    is_int(lookup_key(lk, MAP_USERS, "bob@example.com", 15, &val, &len, NULL, err, sizeof(err)),
           LOOKUP_FOUND, "cache: asked again once fallback_cache_ttl is over");
    is_int(searches_run, before + 1, "cache: ... with a new search");
    c->fallback_cache_ttl = 0;
    before = searches_run;
    for (int i = 0; i < 2; i++)
        is_int(lookup_key(lk, MAP_ALIASES, "team@example.com", 16, &val, &len, NULL, err,
                          sizeof(err)), LOOKUP_FOUND, "cache: off, answer %d", i + 1);
    ok(len == 35 && memcmp(val, "bob@example.com,carol@other.example", 35) == 0,
       "cache: off, the answer stays readable until the next call");
    ok(searches_run > before + 1, "cache: fallback_cache_ttl = 0 asks LDAP every time");
    c->fallback_cache_ttl = ttl;
}

/* vs_sync - key through the fallback (its result, *val, *len) and through
 * the full build (*sr); *same = both give the same answer */
static enum lookup_result vs_sync(struct lookup *lk, struct mapbuild *full, enum map_id map,
                                  const char *key, const char **val, size_t *len, int *sr,
                                  bool *same, char *err, size_t errsz)
{
    char *sval = NULL, serr[256];
    size_t slen = 0;
    enum lookup_result r = lookup_key(lk, map, key, strlen(key), val, len, NULL, err, errsz);

    *sr = mapbuild_lookup(full, map, key, strlen(key), &sval, &slen, serr, sizeof(serr));
    *same = r == (*sr > 0 ? LOOKUP_FOUND : LOOKUP_NOTFOUND) &&
            (r != LOOKUP_FOUND || (*len == slen && memcmp(*val, sval, slen) == 0));
    if (!*same && *sr > 0)
        diag("%s %s: the sync's answer: %.*s", map_name(map), key, (int)slen, sval);
    free(sval);
    return r;
}

/* add_domain_cb - a domain entry into the build ctx */
static int add_domain_cb(void *ctx, const struct entry *e)
{
    char err[256];
    return mapbuild_add_domain(ctx, e, err, sizeof(err)) < 0;
}

/* rules - the fallback against a full build of tdir: the answer the sync
 * gives, or a temporary failure; and what the rules themselves demand */
static void rules(const struct conf *cfg, struct lookup *lk)
{
    struct mapbuild *full = mapbuild_new(cfg, NULL, NULL);
    struct lookup_searches s = { .key = search_key, .domain = search_domain,
                                 .ctx = (void *)&tdir_all };
    char err[512];
    static const struct {
        enum map_id map;
        const char *key;
        int want;          /* the answer the rules demand; -2: the sync's (never a
                            * temporary failure); -3: the sync's, or a temporary failure */
        const char *value; /* when FOUND is demanded */
    } keys[] = {
        /* the victim keeps its mail against a1's alias claim */
        { MAP_USERS, "victim@example.com", -2, NULL },
        { MAP_MAILBOXES, "victim@example.com", -2, NULL },
        { MAP_ALIASES, "victim@example.com", -2, NULL },
        /* its owner's mail has other claimants: exact once the sync lets
         * the mail claim win, a temporary failure while DN order alone rules */
        { MAP_ALIASES, "v@example.com", -3, NULL },
        /* an explicit home equal to the default is the default */
        { MAP_USERS, "bob@example.com", LOOKUP_FOUND, NULL },
        { MAP_ALIASES, "team@example.com", LOOKUP_FOUND, "bob@example.com,carol@other.example" },
        /* a mailbox domain known only from another entry (the domain search) */
        { MAP_ALIASES, "info@other.example", LOOKUP_FOUND, "bob@example.com" },
        /* alias_domains */
        { MAP_ALIASES, "sales@lists.example.org", LOOKUP_FOUND, "a1@example.com" },
        /* foreign domains are never made local, nor their addresses taken */
        { MAP_ALIASES, "ceo@gmail.com", LOOKUP_NOTFOUND, NULL },
        { MAP_ALIASES, "team@partner.example", LOOKUP_NOTFOUND, NULL },
        /* paths of their own: only the maps answer for them */
        { MAP_USERS, "z2@example.com", LOOKUP_TEMPFAIL, NULL },
        { MAP_MAILBOXES, "z2@example.com", LOOKUP_TEMPFAIL, NULL },
        { MAP_USERS, "z3@example.com", LOOKUP_TEMPFAIL, NULL },
        { MAP_ALIASES, "help@example.com", LOOKUP_TEMPFAIL, NULL },
        /* the owner of x@ loses its own mail to d0: the sync drops it */
        { MAP_ALIASES, "x@example.com", -3, NULL },
        { MAP_USERS, "dup@example.com", -2, NULL },
        { MAP_USERS, "a1@example.com", -2, NULL },
        { MAP_USERS, "nobody@example.com", LOOKUP_NOTFOUND, NULL },
    };

    ok(full != NULL, "full build");
    for (size_t i = 0; i < TDIR_COUNT; i++)
        tent_deliver(&tdir[i], add_all, full);
    lookup_set_searches(lk, &s);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *val;
        size_t len;
        int sr;
        bool same;
        enum lookup_result r = vs_sync(lk, full, keys[i].map, keys[i].key, &val, &len, &sr,
                                       &same, err, sizeof(err));
        const char *what = map_name(keys[i].map);
        if (keys[i].want >= LOOKUP_TEMPFAIL) {
            is_int(r, keys[i].want, "rules: %s %s", what, keys[i].key);
            if (r == LOOKUP_FOUND && keys[i].value != NULL)
                ok(len == strlen(keys[i].value) && memcmp(val, keys[i].value, len) == 0,
                   "rules: %s %s value %.*s", what, keys[i].key, (int)len, val);
        }
        /* never an answer the sync would not give */
        if (keys[i].want == -2 || (keys[i].want == -3 && r != LOOKUP_TEMPFAIL))
            ok(same, "rules: %s %s as the sync (%d, sync %d)", what, keys[i].key, r, sr);
    }

    /* answers are cached for fallback_cache_ttl: no new search */
    const char *val;
    size_t len;
    unsigned before = searches_run;
    is_int(lookup_key(lk, MAP_USERS, "bob@example.com", 15, &val, &len, NULL, err, sizeof(err)),
           LOOKUP_FOUND, "rules: cached answer");
    is_int(searches_run, before, "rules: a cached answer costs no search");
    /* a mailbox costs one search, an unknown address one */
    is_int(lookup_key(lk, MAP_USERS, "carol@other.example", 19, &val, &len, NULL, err,
                      sizeof(err)), LOOKUP_FOUND, "rules: carol");
    is_int(searches_run, before + 1, "rules: a mailbox costs one search");
    cache_ttl(cfg, lk);
    lookup_set_searches(lk, NULL);
    mapbuild_free(full);
}

/* ---- an iRedMail-shaped directory: domain entries, shadow addresses
 * gated by enabledService, forwards, alias domains, aliases that log in ---- */

/* One entry as "attribute=value" strings (an attribute repeated for more
 * values, consecutively); a domain entry is one with a domainName. */
struct gent {
    const char *dn;
    const char *av[12];
};

static const struct gent idir[] = {
    /* example.com with the alias domain example.net */
    { "domainName=example.com,o=domains,dc=example,dc=com",
      { "domainName=example.com", "domainAliasName=example.net" } },
    { "domainName=other.org,o=domains,dc=example,dc=com", { "domainName=other.org" } },
    /* names taken.example as an alias domain, but another entry has it as
     * its primary: primary beats alias, so taken.example stays that
     * entry's and is no alias domain of grab.example */
    { "domainName=grab.example,o=domains,dc=example,dc=com",
      { "domainName=grab.example", "domainAliasName=taken.example" } },
    { "domainName=taken.example,o=domains,dc=example,dc=com",
      { "domainName=taken.example" } },
    { "domainName=lists.example.com,o=domains,dc=example,dc=com",
      { "domainName=lists.example.com", "domainAliasName=l.example.com" } },
    { "mail=alice@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=alice@example.com", "shadowAddress=al@example.com",
        "shadowAddress=alice@other.org", "enabledService=mail",
        "enabledService=shadowaddress" } },
    /* a shadow address without the flag: it counts for nothing */
    { "mail=bob@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=bob@example.com", "shadowAddress=bobby@example.com", "enabledService=mail" } },
    /* forwards, one a copy to itself; a forward without the flag */
    { "mail=carol@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=carol@example.com", "mailForwardingAddress=carol@gmail.example",
        "mailForwardingAddress=Carol@Example.com", "enabledService=forward",
        "enabledService=mail" } },
    { "mail=dave@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=dave@example.com", "mailForwardingAddress=dave@gmail.example",
        "enabledService=mail" } },
    /* a real claim on an address of the alias domain */
    { "mail=erin@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=erin@example.com", "shadowAddress=alice@example.net",
        "enabledService=shadowaddress" } },
    /* an account in a domain without a domain entry: skipped */
    { "mail=frank@nodomain.example,ou=Users,dc=example,dc=com",
      { "mail=frank@nodomain.example" } },
    { "mail=list@lists.example.com,ou=Users,domainName=lists.example.com,o=domains,"
      "dc=example,dc=com", { "mail=list@lists.example.com" } },
    /* homes of their own (only the sync sees whether they are theirs):
     * in a foreign domain, filed under a local one; in a local domain */
    { "mail=ceo@gmail.example,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=ceo@gmail.example", "homeDirectory=/var/vmail/vmail1/gmail.example/ceo" } },
    { "mail=grace@example.com,ou=Users,domainName=example.com,o=domains,dc=example,dc=com",
      { "mail=grace@example.com", "homeDirectory=/var/vmail/vmail1/example.com/grace" } },
};
#define IDIR_COUNT (sizeof(idir) / sizeof(idir[0]))

/* gent_deliver - g as a struct entry to cb */
static int gent_deliver(const struct gent *g, ldapdir_entry_fn *cb, void *cbctx)
{
    struct entry_value v[12];
    struct entry_attr at[12];
    char names[12][64];
    size_t na = 0;

    for (size_t i = 0; i < 12 && g->av[i] != NULL; i++) {
        const char *eq = strchr(g->av[i], '=');
        size_t nl = (size_t)(eq - g->av[i]);
        v[i] = (struct entry_value){ eq + 1, strlen(eq + 1) };
        if (na > 0 && strlen(names[na - 1]) == nl && memcmp(names[na - 1], g->av[i], nl) == 0) {
            at[na - 1].count++;
            continue;
        }
        snprintf(names[na], sizeof(names[na]), "%.*s", (int)nl, g->av[i]);
        at[na] = (struct entry_attr){ names[na], 1, &v[i] };
        na++;
    }
    struct entry e = { .dn = g->dn, .attr_count = na, .attrs = at };
    return cb(cbctx, &e);
}

/* gent_value - g has attr=value (value compared without case) */
static bool gent_value(const struct gent *g, const char *attr, const char *value)
{
    size_t al = strlen(attr);
    for (size_t i = 0; i < 12 && g->av[i] != NULL; i++)
        if (strncmp(g->av[i], attr, al) == 0 && g->av[i][al] == '=' &&
            strcasecmp(g->av[i] + al + 1, value) == 0)
            return true;
    return false;
}

/* gent_is_domain - a domain entry */
static bool gent_is_domain(const struct gent *g)
{
    return strncmp(g->av[0], "domainName=", 11) == 0;
}

/* isearch_key / isearch_dname / isearch_domain - ldapdir's searches over
 * idir: accounts by mail or shadow address (the alias filter is left to
 * the mapping, a stricter test than the server's), domain entries by
 * either name, accounts by the domain of their mail */
static int isearch_key(void *ctx, const char *what, ldapdir_entry_fn *cb, void *cbctx,
                       char *err, size_t errsz)
{
    (void)ctx, (void)err, (void)errsz;
    searches_run++;
    for (size_t i = 0; i < IDIR_COUNT; i++)
        if (!gent_is_domain(&idir[i]) &&
            (gent_value(&idir[i], "mail", what) || gent_value(&idir[i], "shadowAddress", what)) &&
            gent_deliver(&idir[i], cb, cbctx) != 0)
            return 1;
    return 0;
}

static int isearch_dname(void *ctx, const char *what, ldapdir_entry_fn *cb, void *cbctx,
                         char *err, size_t errsz)
{
    (void)ctx, (void)err, (void)errsz;
    searches_run++;
    for (size_t i = 0; i < IDIR_COUNT; i++)
        if (gent_is_domain(&idir[i]) &&
            (gent_value(&idir[i], "domainName", what) ||
             gent_value(&idir[i], "domainAliasName", what)) &&
            gent_deliver(&idir[i], cb, cbctx) != 0)
            return 1;
    return 0;
}

static int isearch_domain(void *ctx, const char *what, ldapdir_entry_fn *cb, void *cbctx,
                          char *err, size_t errsz)
{
    (void)ctx, (void)what, (void)cb, (void)cbctx, (void)err, (void)errsz;
    searches_run++;
    return 0;
}

/* add_all_iredmail - the sync's view: domain entries, then accounts */
static int add_all_iredmail(struct mapbuild *full)
{
    char err[256];
    for (size_t i = 0; i < IDIR_COUNT; i++) {
        if (gent_is_domain(&idir[i]))
            gent_deliver(&idir[i], add_domain_cb, full);
    }
    for (size_t i = 0; i < IDIR_COUNT; i++)
        if (!gent_is_domain(&idir[i]))
            gent_deliver(&idir[i], add_all, full);
    return mapbuild_resolve(full, NULL, err, sizeof(err));
}

/* iredmail - the fallback against a full build of idir, with the
 * settings of an iRedMail directory */
static void iredmail(const struct conf *cfg, struct lookup *lk)
{
    struct mapbuild *full = mapbuild_new(cfg, NULL, NULL);
    struct lookup_searches s = { .key = isearch_key, .domain = isearch_domain,
                                 .dname = isearch_dname };
    char err[512];
    static const struct {
        enum map_id map;
        const char *key;
    } keys[] = {
        { MAP_DOMAINS, "example.com" }, { MAP_DOMAINS, "example.net" },
        { MAP_DOMAINS, "other.org" }, { MAP_DOMAINS, "grab.example" },
        { MAP_DOMAINS, "taken.example" }, { MAP_DOMAINS, "nodomain.example" },
        { MAP_DOMAINS, "l.example.com" }, { MAP_DOMAINS, "gmail.example" },
        { MAP_USERS, "alice@example.com" }, { MAP_MAILBOXES, "alice@example.com" },
        { MAP_USERS, "al@example.com" }, { MAP_USERS, "alice@other.org" },
        { MAP_USERS, "bobby@example.com" }, { MAP_USERS, "alice@example.net" },
        { MAP_USERS, "frank@nodomain.example" }, { MAP_MAILBOXES, "frank@nodomain.example" },
        { MAP_ALIASES, "al@example.com" }, { MAP_ALIASES, "alice@other.org" },
        { MAP_ALIASES, "bobby@example.com" }, { MAP_ALIASES, "carol@example.com" },
        { MAP_ALIASES, "dave@example.com" }, { MAP_ALIASES, "alice@example.net" },
        { MAP_ALIASES, "bob@example.net" }, { MAP_ALIASES, "al@example.net" },
        { MAP_ALIASES, "carol@example.net" }, { MAP_ALIASES, "nobody@example.net" },
        { MAP_ALIASES, "list@l.example.com" }, { MAP_ALIASES, "alice@taken.example" },
        { MAP_ALIASES, "bob@example.com" },
        { MAP_USERS, "ceo@gmail.example" }, { MAP_MAILBOXES, "ceo@gmail.example" },
    };

    ok(full != NULL && add_all_iredmail(full) == 0, "iRedMail: full build");
    lookup_set_searches(lk, &s);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *val;
        size_t len;
        int sr;
        bool same;
        enum lookup_result r = vs_sync(lk, full, keys[i].map, keys[i].key, &val, &len, &sr,
                                       &same, err, sizeof(err));
        /* every one of these the fallback can decide: never a temporary
         * failure, always the sync's answer */
        if (!ok(same, "iRedMail: %s %s as the sync (%d, sync %d)", map_name(keys[i].map),
                keys[i].key, r, sr))
            diag("fallback: %.*s (%s)", r == LOOKUP_FOUND ? (int)len : 0,
                 r == LOOKUP_FOUND ? val : "", r == LOOKUP_TEMPFAIL ? err : "");
    }
    /* and what the rules demand of some, whatever the sync gives */
    static const struct want demand[] = {
        { MAP_DOMAINS, "example.net", LOOKUP_FOUND, LOOKUP_FROM_LDAP, "OK" },
        { MAP_DOMAINS, "nodomain.example", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_DOMAINS, "taken.example", LOOKUP_FOUND, LOOKUP_FROM_LDAP, "OK" },
        { MAP_USERS, "frank@nodomain.example", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_ALIASES, "bobby@example.com", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_ALIASES, "dave@example.com", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_ALIASES, "carol@example.com", LOOKUP_FOUND, LOOKUP_FROM_LDAP,
          "carol@gmail.example,carol@example.com" },
        { MAP_ALIASES, "alice@example.net", LOOKUP_FOUND, LOOKUP_FROM_LDAP, "erin@example.com" },
        { MAP_ALIASES, "bob@example.net", LOOKUP_FOUND, LOOKUP_FROM_LDAP, "bob@example.com" },
        { MAP_ALIASES, "nobody@example.net", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_ALIASES, "alice@other.org", LOOKUP_FOUND, LOOKUP_FROM_LDAP, "alice@example.com" },
        /* a foreign domain drops it whatever its home */
        { MAP_USERS, "ceo@gmail.example", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_MAILBOXES, "ceo@gmail.example", LOOKUP_NOTFOUND, 0, NULL },
        /* a local one leaves the home to the sync */
        { MAP_USERS, "grace@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_MAILBOXES, "grace@example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "iRedMail rules", demand, sizeof(demand) / sizeof(demand[0]));
    const char *v;
    size_t vl;
    ok(lookup_key(lk, MAP_USERS, "al@example.com", 14, &v, &vl, NULL, err, sizeof(err)) ==
           LOOKUP_FOUND && memmem(v, vl, "\tuser=alice@example.com", 23) != NULL,
       "iRedMail: alice logs in by her shadow address as alice");
    lookup_set_searches(lk, NULL);
    mapbuild_free(full);
}

/* bounds - what a fallback will not fetch for one answer */
static void bounds(struct lookup *lk)
{
    static char mails[48][32], dns[48][48];
    static struct tent many[48];
    struct tdirectory d = { many, 48 };
    struct lookup_searches s = { .key = search_key, .domain = search_domain, .ctx = &d };
    const char *val;
    size_t len;
    char err[512];

    /* 9 entries hold many@ as an alias; 39 invalid ones (a relative home)
     * have their mail in bad.example, where m0 has an alias */
    for (size_t i = 0; i < 48; i++) {
        bool bad = i >= 9;
        snprintf(mails[i], sizeof(mails[i]), "m%zu@%s", i, bad ? "bad.example" : "example.com");
        snprintf(dns[i], sizeof(dns[i]), "uid=m%zu,dc=example,dc=com", i);
        many[i] = (struct tent){ .dn = dns[i], .mail = mails[i], .home = bad ? "rel/home" : NULL,
                                 .alias = { i < 9 ? "many@example.com" : NULL,
                                            i == 0 ? "x@bad.example" : NULL } };
    }
    lookup_set_searches(lk, &s);
    is_int(lookup_key(lk, MAP_ALIASES, "many@example.com", 16, &val, &len, NULL, err,
                      sizeof(err)), LOOKUP_TEMPFAIL, "bounds: an alias 9 entries hold");
    ok(strstr(err, "more than 8") != NULL, "bounds: ... says why (%s)", err);
    unsigned before = searches_run;
    is_int(lookup_key(lk, MAP_ALIASES, "x@bad.example", 13, &val, &len, NULL, err, sizeof(err)),
           LOOKUP_TEMPFAIL, "bounds: a domain whose first 32 accounts are all invalid");
    ok(strstr(err, "no valid account among the first 32") != NULL, "bounds: ... says why (%s)",
       err);
    is_int(searches_run, before + 2, "bounds: ... after the key and one domain search");
    lookup_set_searches(lk, NULL);
}

/* lookup_for - cfg parsed from text and a lookup handle on it, its clock
 * at now (two checks: the config parses, the handle opens) */
static struct lookup *lookup_for(struct conf *cfg, const char *text, time_t now)
{
    char err[512] = "";
    ok(conf_parse_buffer(cfg, "test", text, strlen(text), err, sizeof(err)) == 0, "config %s",
       err);
    struct lookup *lk = lookup_new(cfg, err, sizeof(err));
    if (ok(lk != NULL, "lookup handle %s", lk != NULL ? "" : err))
        lookup_set_clock(lk, now);
    return lk;
}

int main(void)
{
    struct conf cfg;
    char err[512];
    char text[1024];

    if (!scratch_make("test-lookup"))
        return tap_done();
    offline_conf(&cfg, dir, "60");
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    ok(lk != NULL, "lookup handle");
    time_t now = 1700000000;
    lookup_set_clock(lk, now);

    static const struct want missing[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_ALIASES, "al@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_DOMAINS, "example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "no maps, no LDAP", missing, sizeof(missing) / sizeof(missing[0]));

    write_maps(now - 10);
    static const struct want fresh[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_USERS, "ALICE@Example.COM", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_MAILBOXES, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "example.com/alice/Maildir/" },
        { MAP_ALIASES, "al@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP, "alice@example.com" },
        { MAP_DOMAINS, "example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP, "OK" },
        { MAP_DOMAINS, "example.org", LOOKUP_NOTFOUND, 0, NULL },
        /* not in fresh maps: LDAP must be asked, and it is down */
        { MAP_USERS, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "fresh maps", fresh, sizeof(fresh) / sizeof(fresh[0]));

    write_maps(now - 3600);
    static const struct want stale[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_STALE_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_USERS, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_DOMAINS, "example.com", LOOKUP_FOUND, LOOKUP_FROM_STALE_MAP, "OK" },
    };
    run(lk, "stale maps", stale, sizeof(stale) / sizeof(stale[0]));

    const char *val;
    size_t len;
    is_int(lookup_key(lk, MAP_USERS, "", 0, &val, &len, NULL, err, sizeof(err)), LOOKUP_TEMPFAIL,
           "an empty key is refused");

    lookup_free(lk);
    conf_free(&cfg);

    /* the rules: no maps at all, so every key goes to the directory */
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "maps_dir = %s/none\nalias_domains = lists.example.org\n", dir);
    lk = lookup_for(&cfg, text, now);
    rules(&cfg, lk);
    bounds(lk);
    lookup_free(lk);
    conf_free(&cfg);

    /* domain entries, LDAP down: a domain the maps lack is not found (the
     * policy daemon must not fail every foreign recipient), the rest as
     * ever; without maps, a temporary failure */
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "ldap_timeout = 1\nmaps_dir = %s\nstale_after = 60\n"
             "ldap_domain_filter = (objectClass=mailDomain)\n", dir);
    lk = lookup_for(&cfg, text, now);
    write_maps(now - 10);
    static const struct want down[] = {
        { MAP_DOMAINS, "example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP, "OK" },
        { MAP_DOMAINS, "example.org", LOOKUP_NOTFOUND, 0, NULL },
        { MAP_USERS, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "domain entries, LDAP down", down, sizeof(down) / sizeof(down[0]));
    lookup_free(lk);
    free(cfg.maps_dir);
    cfg.maps_dir = strdup("/nonexistent/maps");
    lk = lookup_new(&cfg, err, sizeof(err));
    ok(lk != NULL, "lookup handle");
    static const struct want down_nomaps[] = {
        { MAP_DOMAINS, "example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "domain entries, LDAP down, no maps", down_nomaps, 1);
    lookup_free(lk);
    conf_free(&cfg);

    /* mail_location: the default mailbox is where it puts the mail, while
     * that is one per address */
    static const char *const locations[2] = { "maildir:%h/mail", "maildir:/var/vmail/shared" };
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof(text),
                 "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
                 "maps_dir = %s/none\nmail_location = %s\n", dir, locations[i]);
        lk = lookup_for(&cfg, text, now);
        struct lookup_searches ts = { .key = search_key, .domain = search_domain,
                                      .ctx = (void *)&tdir_all };
        lookup_set_searches(lk, &ts);
        static const struct want own[2][1] = {
            { { MAP_MAILBOXES, "bob@example.com", LOOKUP_FOUND, LOOKUP_FROM_LDAP,
                "example.com/bob/mail/" } },
            { { MAP_MAILBOXES, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL } },
        };
        run(lk, locations[i], own[i], 1);
        lookup_free(lk);
        conf_free(&cfg);
    }

    /* an iRedMail directory, no maps */
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = o=domains,dc=example,dc=com\n"
             "maps_dir = %s/none\nldap_attr_alias = shadowAddress\n"
             "ldap_attr_group = memberOfGroup\nldap_attr_home = homeDirectory\n"
             "ldap_attr_forward = mailForwardingAddress\n"
             "ldap_alias_filter = (enabledService=shadowaddress)\n"
             "ldap_forward_filter = (enabledService=forward)\n"
             "ldap_domain_filter = (objectClass=mailDomain)\nalias_login = yes\n"
             "alias_domains = lists.example.org\n", dir);
    lk = lookup_for(&cfg, text, now);
    iredmail(&cfg, lk);
    lookup_free(lk);
    conf_free(&cfg);

    /* a refused answer falls back to stale maps, as an unreachable LDAP */
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "maps_dir = %s\nstale_after = 60\n", dir);
    lk = lookup_for(&cfg, text, now);
    struct lookup_searches s = { .key = search_key, .domain = search_domain,
                                 .ctx = (void *)&tdir_all };
    lookup_set_searches(lk, &s);
    write_maps(now - 3600);
    static const struct want stale_refused[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_STALE_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_USERS, "bob@example.com", LOOKUP_FOUND, LOOKUP_FROM_LDAP,
          "home=/var/vmail/example.com/bob\tuid=5000\tgid=5000\t"
          "mail=maildir:/var/vmail/example.com/bob/Maildir\t"
          "quota_rule=*:storage=10737418240B\tquota_rule2=Trash:storage=+524288000B\t"
          "quota_rule3=Junk:storage=+524288000B" },
    };
    run(lk, "stale maps, LDAP refuses alice's own storage", stale_refused,
        sizeof(stale_refused) / sizeof(stale_refused[0]));
    write_maps(now - 10);
    unsigned before = searches_run;
    static const struct want fresh_no_search[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
    };
    run(lk, "fresh maps", fresh_no_search, 1);
    is_int(searches_run, before, "fresh maps that hold the key: no search");
    lookup_free(lk);
    conf_free(&cfg);
    scratch_remove();
    return tap_done();
}
