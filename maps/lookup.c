/* lookup - maps first, LDAP when the maps cannot answer, never a false
 * "unknown" */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/account.h"
#include "maps/address.h"
#include "maps/ldapdir.h"
#include "maps/lookup.h"
#include "maps/mapbuild.h"

struct cache_slot {
    char *key;                   /* map id byte + key; NULL = empty */
    size_t keylen;
    enum lookup_result result;
    char *val;
    size_t len;
    time_t expires;
};

struct lookup {
    const struct conf *cfg;
    struct mapset *set;
    struct ldapdir *dir;
    char *key;                   /* lower-cased key of the current call */
    size_t keycap;
    struct cache_slot cache[LOOKUP_CACHE_SLOTS];
    time_t fixed_now;
    struct lookup_searches searches;  /* tests: entries without LDAP */
};

struct lookup *lookup_new(const struct conf *cfg, char *err, size_t errsz)
{
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (lk == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    lk->cfg = cfg;
    lk->set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (lk->set == NULL) {
        snprintf(err, errsz, "out of memory");
        free(lk);
        return NULL;
    }
    lk->dir = ldapdir_open(cfg, err, errsz);
    if (lk->dir == NULL) {
        mapset_close(lk->set);
        free(lk);
        return NULL;
    }
    return lk;
}

void lookup_free(struct lookup *lk)
{
    if (lk == NULL)
        return;
    for (size_t i = 0; i < LOOKUP_CACHE_SLOTS; i++) {
        free(lk->cache[i].key);
        free(lk->cache[i].val);
    }
    ldapdir_close(lk->dir);
    mapset_close(lk->set);
    free(lk->key);
    free(lk);
}

struct mapset *lookup_mapset(struct lookup *lk)
{
    return lk->set;
}

void lookup_set_clock(struct lookup *lk, time_t now)
{
    lk->fixed_now = now;
}

void lookup_set_searches(struct lookup *lk, const struct lookup_searches *s)
{
    if (s != NULL)
        lk->searches = *s;
    else
        memset(&lk->searches, 0, sizeof(lk->searches));
}

/* slot_for - the cache slot of (map, key): FNV-1a, direct mapped */
static struct cache_slot *slot_for(struct lookup *lk, enum map_id map, const char *key,
                                   size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)map;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return &lk->cache[h % LOOKUP_CACHE_SLOTS];
}

/* slot_matches - the slot holds (map, key) */
static bool slot_matches(const struct cache_slot *s, enum map_id map, const char *key, size_t len)
{
    return s->key != NULL && s->keylen == len + 1 && (unsigned char)s->key[0] == map &&
           memcmp(s->key + 1, key, len) == 0;
}

/* slot_store - remember an LDAP answer; on no memory, just do not cache */
static void slot_store(struct cache_slot *s, enum map_id map, const char *key, size_t len,
                       enum lookup_result result, char *val, size_t vallen, time_t expires)
{
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof(*s));
    s->key = malloc(len + 1);
    if (s->key == NULL) {
        free(val);
        return;
    }
    s->key[0] = (char)map;
    memcpy(s->key + 1, key, len);
    s->keylen = len + 1;
    s->result = result;
    s->val = val;
    s->len = vallen;
    s->expires = expires;
}

/* The fallback answers from a few entries, not the whole directory, so it
 * fetches every entry that could take the answer away from the ones that
 * claim the key, builds the records with the sync's own mapbuild (which
 * applies the cross-entry rules: a mail claim beats an alias or list claim,
 * then the smaller normalised DN), and refuses what it cannot check:
 *   - every entry that claims the key (mail, alias or list), all of them;
 *   - for an alias key, the claimants of each owner's own mail: an owner
 *     that loses its mail loses its account, and its aliases with it. When
 *     the owners' claimants change the answer, it is a temporary failure:
 *     the sync's outcome may then depend on entries further away;
 *   - an alias or list key needs its domain to be a mailbox domain (some
 *     valid entry's mail there, found by a domain search; that entry joins
 *     the build) or one of alias_domains; otherwise it is not found;
 *   - with ldap_domain_filter, domain entries make domains local instead:
 *     every answer (a domain key too) fetches the domain entries that name
 *     the key's domain as primary or alias domain, and those that name
 *     their primary domains (an entry that loses its primary loses its
 *     alias domains); for an alias key u@D, the claimants of u@P for each
 *     such primary P (the sync derives u@D -> u@P) and their owners;
 *   - with alias_login, a login by an alias is checked as an alias key is
 *     (its owners, its domain);
 *   - the fallback answers only for accounts whose home and mailbox are
 *     the default ones made from their own address: a path an entry sets
 *     itself may lie inside another account's (or hold it), which only the
 *     whole directory shows (LDAP cannot search for the home and storage
 *     values below a path: the schema gives them no substring rule). Such
 *     an account is a temporary failure until a sync puts it into the
 *     maps; stale maps that hold it still answer. */

/* An alias with more owners than this (accounts holding it as mail or
 * alias) is a temporary failure: each owner costs one more search. */
#define LOOKUP_OWNERS_MAX 8

/* A domain search reads at most this many entries for one valid account
 * in the domain; past that, the domain is undecided (temporary failure). */
#define LOOKUP_DOMAIN_TRIES 32

/* With domain entries: the domain names one answer may search the domain
 * entries of (the key's, their primaries, the mail domains of the
 * accounts it fetched); more is a temporary failure. */
#define LOOKUP_DOMAINS_MAX (4 * LOOKUP_OWNERS_MAX)

enum ask_phase {
    ASK_CLAIMS,      /* the key's claimants: into both builds */
    ASK_DOMAIN,      /* an account of the key's domain: into both builds */
    ASK_DOMAINS,     /* domain entries claiming a name: into both builds */
    ASK_DERIVED,     /* the claimants of u@P for u@D, D an alias domain of P */
    ASK_OWNERS,      /* the claimants of the owners' mail: the wide build only */
};

/* The searches a fallback runs. */
enum ask_search {
    SEARCH_KEY,      /* ldapdir_search_key */
    SEARCH_DOMAIN,   /* ldapdir_search_domain: accounts with mail there */
    SEARCH_DNAME,    /* ldapdir_search_domain_name: domain entries */
};

struct owner {
    char *mail;
    bool own_paths;  /* home or mailbox not the default of its mail */
};

/* One fallback answer in the making. */
struct ask {
    struct lookup *lk;
    enum map_id map;
    const char *key;
    const char *domain;          /* the key's domain (after the '@') */
    enum ask_phase phase;
    struct mapbuild *mb[2];      /* [0] claims (+ domain), [1] wide: + owners' claimants */
    struct owner owner[LOOKUP_OWNERS_MAX];
    size_t owners;
    bool too_many_owners;
    bool mail_own_paths;         /* the key is the mail of an account with its own paths */
    bool mail_claimed;           /* the key is some valid account's mail */
    char own_dn[256];            /* the DN of such an account (for the reason) */
    bool domain_known;           /* an account in the build has mail at the key's domain */
    size_t seen;                 /* entries of the domain search */
    /* domain entries: the primary domains of those that name the key's
     * domain as an alias domain (collected while collect is set) */
    char *primary[LOOKUP_OWNERS_MAX];
    size_t primaries;
    bool collect, too_many_primaries;
    const char *derived;         /* ASK_DERIVED: u@P */
    /* with domain entries: the names whose domain entries were fetched,
     * and the mail domains of the accounts fetched (each account stays
     * only while its domain is a primary one) */
    char *dsearched[LOOKUP_DOMAINS_MAX], *mdom[LOOKUP_DOMAINS_MAX];
    size_t ndsearched, nmdom;
    bool too_many_domains;
    bool failed;                 /* out of memory */
};

/* name_add - name into list[*n] unless there; false when it is full or
 * out of memory (q->failed) */
static bool name_add(struct ask *q, char **list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    if (*n == LOOKUP_DOMAINS_MAX) {
        q->too_many_domains = true;
        return false;
    }
    if ((list[*n] = strdup(name)) == NULL) {
        q->failed = true;
        return false;
    }
    (*n)++;
    return true;
}

/* paths_default - a's home and mailbox are the ones its mail gives
 * (account.c's defaults, as mapbuild tells them apart; the mailbox where
 * mail_location puts it, while that is one per address) */
static bool paths_default(const struct conf *cfg, const struct account *a)
{
    char def[4200];
    return account_default_home(cfg, a->mail, def, sizeof(def)) >= 0 &&
           strcmp(def, a->home) == 0 &&
           account_mailbox_template(cfg, def, sizeof(def)) > 0 &&
           account_mailbox_of(cfg, a->mail, def, sizeof(def)) >= 0 &&
           strcmp(def, a->mailbox) == 0;
}

/* holds_alias - key is one of a's aliases */
static bool holds_alias(const struct account *a, const char *key)
{
    for (size_t i = 0; i < a->alias_count; i++)
        if (strcmp(a->aliases[i], key) == 0)
            return true;
    return false;
}

/* note_owner - a holds the key: remember what the answer depends on (an
 * alias's owners matter for aliases.cdb, and for users.cdb when aliases
 * log in too) */
static void note_owner(struct ask *q, const struct account *a, bool as_mail)
{
    bool own = !paths_default(q->lk->cfg, a);

    if (as_mail && own && !q->mail_own_paths) {
        q->mail_own_paths = true;
        snprintf(q->own_dn, sizeof(q->own_dn), "%s", a->dn);
    }
    q->mail_claimed |= as_mail;
    if (as_mail || !(q->map == MAP_ALIASES || (q->map == MAP_USERS && q->lk->cfg->alias_login)))
        return;
    for (size_t i = 0; i < q->owners; i++) {
        if (strcmp(q->owner[i].mail, a->mail) == 0) {
            q->owner[i].own_paths |= own;
            return;
        }
    }
    if (q->owners == LOOKUP_OWNERS_MAX) {
        q->too_many_owners = true;
        return;
    }
    if ((q->owner[q->owners].mail = strdup(a->mail)) == NULL) {
        q->failed = true;
        return;
    }
    q->owner[q->owners++].own_paths = own;
}

/* note_primary - a domain entry found for the key's domain: its primary
 * domain, when that is another name, may lend the key's domain its
 * addresses (and decides whether the entry stays) */
static void note_primary(struct ask *q, const struct entry *e)
{
    const struct entry_attr *a = entry_attr_find(e, q->lk->cfg->ldap_attr_domain);
    char name[256];

    /* mapdomains decides what is valid; this only picks what to search */
    if (a == NULL || a->count != 1 || a->values[0].len == 0 ||
        a->values[0].len >= sizeof(name) || memchr(a->values[0].data, '\0', a->values[0].len))
        return;
    memcpy(name, a->values[0].data, a->values[0].len);
    name[a->values[0].len] = '\0';
    address_lower(name, a->values[0].len);
    if (q->domain != NULL && strcmp(name, q->domain) == 0)
        return;
    for (size_t i = 0; i < q->primaries; i++)
        if (strcmp(q->primary[i], name) == 0)
            return;
    if (q->primaries == LOOKUP_OWNERS_MAX)
        q->too_many_primaries = true;
    else if ((q->primary[q->primaries] = strdup(name)) == NULL)
        q->failed = true;
    else
        q->primaries++;
}

/* add_domain_entry - a domain entry into both builds */
static int add_domain_entry(struct ask *q, const struct entry *e)
{
    char err[256];

    for (int i = 0; i < 2 && !q->failed; i++)
        q->failed = mapbuild_add_domain(q->mb[i], e, err, sizeof(err)) < 0;
    if (q->collect && !q->failed)
        note_primary(q, e);
    return q->failed ? 1 : 0;
}

/* add_entry - one search result into the builds of its phase (bad data
 * is skipped, as the sync skips it); stops a domain search once it has
 * an account there */
static int add_entry(void *ctx, const struct entry *e)
{
    struct ask *q = ctx;
    struct account a;
    char err[256];
    int r;

    if (q->phase == ASK_DOMAINS)
        return add_domain_entry(q, e);
    account_init(&a);
    r = account_from_entry(q->lk->cfg, e, &a, NULL, NULL, err, sizeof(err));
    if (r < 0) {
        q->failed = true;
        return 1;
    }
    if (r > 0) {
        const char *at = strrchr(a.mail, '@');
        for (int i = q->phase == ASK_OWNERS ? 1 : 0; i < 2 && !q->failed; i++)
            q->failed = mapbuild_add(q->mb[i], &a, err, sizeof(err)) < 0;
        if (at != NULL && q->domain != NULL && strcmp(at + 1, q->domain) == 0 &&
            q->phase != ASK_OWNERS)
            q->domain_known = true;
        if (at != NULL && q->lk->cfg->ldap_domain_filter[0] != '\0')
            name_add(q, q->mdom, &q->nmdom, at + 1);
        if (q->phase == ASK_CLAIMS && strcmp(a.mail, q->key) == 0)
            note_owner(q, &a, true);
        else if (q->phase == ASK_CLAIMS && holds_alias(&a, q->key))
            note_owner(q, &a, false);
        /* u@D answers u@P only while u@P is a mailbox or an alias: its
         * holders are owners of the answer */
        else if (q->phase == ASK_DERIVED &&
                 (strcmp(a.mail, q->derived) == 0 || holds_alias(&a, q->derived)))
            note_owner(q, &a, false);
    }
    account_free(&a);
    if (q->failed)
        return 1;
    if (q->phase == ASK_DOMAIN && (q->domain_known || ++q->seen >= LOOKUP_DOMAIN_TRIES))
        return 1;
    return 0;
}

/* search - one search of the handle's directory: 0 complete, 1 stopped
 * by add_entry, -1 with a reason */
static int search(struct lookup *lk, enum ask_search kind, const char *what, struct ask *q,
                  char *err, size_t errsz)
{
    const struct lookup_searches *t = &lk->searches;
    int r;
    if (t->key != NULL)
        r = (kind == SEARCH_DOMAIN ? t->domain : kind == SEARCH_DNAME ? t->dname : t->key)(
            t->ctx, what, add_entry, q, err, errsz);
    else if (kind == SEARCH_DOMAIN)
        r = ldapdir_search_domain(lk->dir, what, add_entry, q, err, errsz);
    else if (kind == SEARCH_DNAME)
        r = ldapdir_search_domain_name(lk->dir, what, add_entry, q, err, errsz);
    else
        r = ldapdir_search_key(lk->dir, what, add_entry, q, err, errsz);
    if (q->failed) {
        snprintf(err, errsz, "%s: cannot build the answer (out of memory?)", what);
        return -1;
    }
    if (r > 0 && !(kind == SEARCH_DOMAIN && q->phase == ASK_DOMAIN)) {
        snprintf(err, errsz, "%s: search stopped", what);
        return -1;
    }
    return r < 0 ? -1 : r;
}

/* answer_names - the comma-separated destinations val hold mail */
static bool answer_names(const char *val, size_t len, const char *mail)
{
    size_t ml = strlen(mail);
    for (size_t i = 0; i < len;) {
        const char *comma = memchr(val + i, ',', len - i);
        size_t n = (comma != NULL ? (size_t)(comma - val) : len) - i;
        if (n == ml && memcmp(val + i, mail, ml) == 0)
            return true;
        i += n + 1;
    }
    return false;
}

/* ask_domain_entries - the domain entries that claim name, and those that
 * claim the primary domains of the ones naming it as an alias domain (an
 * entry that loses its primary domain loses its alias domains with it):
 * into both builds. LOOKUP_FOUND when searched, or TEMPFAIL. */
static enum lookup_result ask_domain_entries(struct ask *q, const char *name, char *err,
                                             size_t errsz)
{
    q->phase = ASK_DOMAINS;
    q->collect = true;
    int r = name_add(q, q->dsearched, &q->ndsearched, name)
                ? search(q->lk, SEARCH_DNAME, name, q, err, errsz) : 0;
    q->collect = false;
    if (r < 0)
        return LOOKUP_TEMPFAIL;
    if (q->too_many_primaries) {
        snprintf(err, errsz, "%s: more than %d domain entries name it", name, LOOKUP_OWNERS_MAX);
        return LOOKUP_TEMPFAIL;
    }
    for (size_t i = 0; i < q->primaries; i++)
        if (name_add(q, q->dsearched, &q->ndsearched, q->primary[i]) &&
            search(q->lk, SEARCH_DNAME, q->primary[i], q, err, errsz) < 0)
            return LOOKUP_TEMPFAIL;
    if (q->failed) {   /* name_add out of memory: a search was skipped */
        snprintf(err, errsz, "%s: out of memory", name);
        return LOOKUP_TEMPFAIL;
    }
    return LOOKUP_FOUND;
}

/* ask_mail_domains - the domain entries of the mail domains of every
 * account fetched that are not fetched yet: an account stays only while
 * its domain is a primary domain (into both builds: more of the directory
 * only makes either build truer). FOUND, or TEMPFAIL. */
static enum lookup_result ask_mail_domains(struct ask *q, char *err, size_t errsz)
{
    q->phase = ASK_DOMAINS;
    for (size_t i = 0; i < q->nmdom && !q->too_many_domains; i++) {
        size_t before = q->ndsearched;
        if (name_add(q, q->dsearched, &q->ndsearched, q->mdom[i]) && q->ndsearched > before &&
            search(q->lk, SEARCH_DNAME, q->mdom[i], q, err, errsz) < 0)
            return LOOKUP_TEMPFAIL;
    }
    if (q->failed) {
        snprintf(err, errsz, "%s: out of memory", q->key);
        return LOOKUP_TEMPFAIL;
    }
    if (q->too_many_domains) {
        snprintf(err, errsz, "%s: the answer depends on more than %d domains", q->key,
                 LOOKUP_DOMAINS_MAX);
        return LOOKUP_TEMPFAIL;
    }
    return LOOKUP_FOUND;
}

/* ask_derived - for an alias key u@D: the claimants of u@P for every
 * primary domain P of which D may be an alias domain (the sync derives
 * u@D -> u@P from them, unless an entry claims u@D itself) */
static enum lookup_result ask_derived(struct ask *q, char *err, size_t errsz)
{
    size_t local = (size_t)(q->domain - 1 - q->key);

    for (size_t i = 0; i < q->primaries; i++) {
        size_t n = local + 1 + strlen(q->primary[i]) + 1;
        char *derived = malloc(n);
        if (derived == NULL) {
            snprintf(err, errsz, "out of memory");
            return LOOKUP_TEMPFAIL;
        }
        snprintf(derived, n, "%.*s@%s", (int)local, q->key, q->primary[i]);
        q->phase = ASK_DERIVED;
        q->derived = derived;
        int r = search(q->lk, SEARCH_KEY, derived, q, err, errsz);
        q->derived = NULL;
        free(derived);
        if (r < 0)
            return LOOKUP_TEMPFAIL;
    }
    if (q->too_many_owners) {
        snprintf(err, errsz, "%s: more than %d entries hold it or what it stands for", q->key,
                 LOOKUP_OWNERS_MAX);
        return LOOKUP_TEMPFAIL;
    }
    return LOOKUP_FOUND;
}

/* ask_alias_domain - without domain entries, an alias or list key needs
 * a mailbox domain or one of alias_domains: FOUND when it has one,
 * NOTFOUND when not, TEMPFAIL */
static enum lookup_result ask_alias_domain(struct ask *q, char *err, size_t errsz)
{
    if (q->domain_known || conf_alias_domain(q->lk->cfg, q->domain, strlen(q->domain)))
        return LOOKUP_FOUND;
    q->phase = ASK_DOMAIN;
    if (search(q->lk, SEARCH_DOMAIN, q->domain, q, err, errsz) < 0)
        return LOOKUP_TEMPFAIL;
    if (!q->domain_known && q->seen >= LOOKUP_DOMAIN_TRIES) {
        snprintf(err, errsz, "%s: no valid account among the first %d of its domain",
                 q->key, LOOKUP_DOMAIN_TRIES);
        return LOOKUP_TEMPFAIL;
    }
    /* Neither a mailbox domain nor an alias domain: the sync drops
     * every alias and list address there. */
    return q->domain_known ? LOOKUP_FOUND : LOOKUP_NOTFOUND;
}

/* ask_searches - fill q's builds for an answer; LOOKUP_FOUND when the
 * builds can answer, NOTFOUND when nothing need be built, TEMPFAIL */
static enum lookup_result ask_searches(struct ask *q, char *err, size_t errsz)
{
    struct lookup *lk = q->lk;
    /* With domain entries, they alone make domains local (and lend alias
     * domains their primary's addresses): every answer needs them. */
    bool domains = lk->cfg->ldap_domain_filter[0] != '\0';
    enum lookup_result r;

    if (q->map == MAP_DOMAINS)
        return ask_domain_entries(q, q->key, err, errsz);
    q->phase = ASK_CLAIMS;
    if (search(lk, SEARCH_KEY, q->key, q, err, errsz) < 0)
        return LOOKUP_TEMPFAIL;
    if (mapbuild_count(q->mb[0]) == 0 && !(domains && q->map == MAP_ALIASES))
        return LOOKUP_NOTFOUND;
    /* an alias key, or an alias that logs in (alias_login) */
    bool aliased = q->map == MAP_ALIASES || q->owners > 0;
    if (!aliased && !domains)
        return LOOKUP_FOUND;
    if (q->too_many_owners) {
        snprintf(err, errsz, "%s: more than %d entries hold it", q->key, LOOKUP_OWNERS_MAX);
        return LOOKUP_TEMPFAIL;
    }
    if (q->domain == NULL)
        return LOOKUP_NOTFOUND;
    if (domains) {
        if ((r = ask_domain_entries(q, q->domain, err, errsz)) != LOOKUP_FOUND)
            return r;
        if (q->map == MAP_ALIASES && (r = ask_derived(q, err, errsz)) != LOOKUP_FOUND)
            return r;
        if (mapbuild_count(q->mb[0]) == 0)
            return LOOKUP_NOTFOUND;
    } else if ((r = ask_alias_domain(q, err, errsz)) != LOOKUP_FOUND) {
        return r;
    }
    if (aliased) {
        q->phase = ASK_OWNERS;
        for (size_t i = 0; i < q->owners; i++)
            if (search(lk, SEARCH_KEY, q->owner[i].mail, q, err, errsz) < 0)
                return LOOKUP_TEMPFAIL;
    }
    return domains ? ask_mail_domains(q, err, errsz) : LOOKUP_FOUND;
}

/* owner_refused - an answer that names (aliases) or is (a login by an
 * alias) an owner with paths of its own: only the sync may give it */
static bool owner_refused(const struct ask *q, const char *val, size_t len, char *err,
                          size_t errsz)
{
    for (size_t i = 0; i < q->owners; i++) {
        if (!q->owner[i].own_paths)
            continue;
        if (q->map == MAP_ALIASES ? answer_names(val, len, q->owner[i].mail)
                                  : q->map == MAP_USERS && !q->mail_claimed) {
            snprintf(err, errsz, "%s: its owner %s sets a home or mailbox of its own: the"
                     " LDAP fallback answers only for the default paths (a sync will)",
                     q->key, q->owner[i].mail);
            return true;
        }
    }
    return false;
}

/* domain_not_local - domain entries decide the local domains, and none of
 * those fetched for the key's domain makes it local: every account there is
 * dropped, whatever else the directory holds */
static bool domain_not_local(const struct ask *q)
{
    char *val = NULL, err[64];
    size_t len;

    if (q->lk->cfg->ldap_domain_filter[0] == '\0' || q->domain == NULL)
        return false;
    int r = mapbuild_lookup(q->mb[0], MAP_DOMAINS, q->domain, strlen(q->domain), &val, &len,
                            err, sizeof(err));
    free(val);
    return r == 0;
}

/* ask_ldap - the answer the maps would give, from LDAP: FOUND/NOTFOUND, or
 * TEMPFAIL with a reason. *val_r is malloc'ed. */
static enum lookup_result ask_ldap(struct lookup *lk, enum map_id map, const char *key,
                                   size_t len, char **val_r, size_t *vallen_r, char *err,
                                   size_t errsz)
{
    struct ask q = { .lk = lk, .map = map, .key = key };
    enum lookup_result result;
    const char *at = strrchr(key, '@');   /* key is NUL-terminated (lk->key) */
    char *wval = NULL;
    size_t wlen = 0;

    *val_r = NULL;
    *vallen_r = 0;
    /* a domain key is its own domain: its primaries are other names */
    q.domain = map == MAP_DOMAINS ? key : at != NULL && at[1] != '\0' ? at + 1 : NULL;
    q.mb[0] = mapbuild_new(lk->cfg, NULL, NULL);
    q.mb[1] = mapbuild_new(lk->cfg, NULL, NULL);
    if (q.mb[0] == NULL || q.mb[1] == NULL) {
        snprintf(err, errsz, "out of memory");
        result = LOOKUP_TEMPFAIL;
        goto out;
    }
    result = ask_searches(&q, err, errsz);
    if (result != LOOKUP_FOUND)
        goto out;
    int r = mapbuild_lookup(q.mb[0], map, key, len, val_r, vallen_r, err, errsz);
    int w = r < 0 ? -1 : mapbuild_lookup(q.mb[1], map, key, len, &wval, &wlen, err, errsz);
    if (r < 0 || w < 0) {
        result = LOOKUP_TEMPFAIL;
    } else if (r != w || (r > 0 && (wlen != *vallen_r || memcmp(wval, *val_r, wlen) != 0))) {
        snprintf(err, errsz, "%s: an owner's own address is claimed by another entry: the"
                 " answer depends on entries a fallback does not see (a sync will)", key);
        result = LOOKUP_TEMPFAIL;
    } else if (q.mail_own_paths && map != MAP_ALIASES && (r > 0 || !domain_not_local(&q))) {
        /* whether its paths are its own only the whole directory tells,
         * unless its domain is not local: that drops it whatever its paths */
        snprintf(err, errsz, "%s: the entry %s sets a home or mailbox of its own: the LDAP"
                 " fallback answers only for the default paths (a sync will)", key, q.own_dn);
        result = LOOKUP_TEMPFAIL;
    } else if (r > 0 && owner_refused(&q, *val_r, *vallen_r, err, errsz)) {
        result = LOOKUP_TEMPFAIL;
    } else {
        result = r > 0 ? LOOKUP_FOUND : LOOKUP_NOTFOUND;
    }
    if (result != LOOKUP_FOUND) {
        free(*val_r);
        *val_r = NULL;
        *vallen_r = 0;
    }
out:
    free(wval);
    for (size_t i = 0; i < q.owners; i++)
        free(q.owner[i].mail);
    for (size_t i = 0; i < q.primaries; i++)
        free(q.primary[i]);
    for (size_t i = 0; i < q.ndsearched; i++)
        free(q.dsearched[i]);
    for (size_t i = 0; i < q.nmdom; i++)
        free(q.mdom[i]);
    mapbuild_free(q.mb[0]);
    mapbuild_free(q.mb[1]);
    return result;
}

/* key_take - key, checked and lower-cased, into lk->key: 0, or -1 (err) */
static int key_take(struct lookup *lk, const char *key, size_t keylen, char *err, size_t errsz)
{
    if (keylen == 0 || memchr(key, '\0', keylen) != NULL) {
        snprintf(err, errsz, "bad lookup");
        return -1;
    }
    if (keylen + 1 > lk->keycap) {
        char *k = realloc(lk->key, keylen + 1);
        if (k == NULL) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
        lk->key = k;
        lk->keycap = keylen + 1;
    }
    memcpy(lk->key, key, keylen);
    lk->key[keylen] = '\0';
    address_lower(lk->key, keylen);
    return 0;
}

/* An answer as lookup_key returns it. */
struct answer {
    const char **val_r;
    size_t *len_r;
    enum lookup_source *source_r;
};

/* answer_put - r, with val[0..len) from source */
static enum lookup_result answer_put(const struct answer *a, enum lookup_result r,
                                     const char *val, size_t len, enum lookup_source source)
{
    *a->val_r = val;
    *a->len_r = len;
    *a->source_r = source;
    return r;
}

/* ask_cached - the fallback: the cache, else LDAP (cached unless a
 * temporary failure); LOOKUP_TEMPFAIL when LDAP cannot answer */
static enum lookup_result ask_cached(struct lookup *lk, enum map_id map, size_t keylen,
                                     time_t now, const struct answer *a, char *err, size_t errsz)
{
    const char *key = lk->key;
    struct cache_slot *slot = slot_for(lk, map, key, keylen);
    if (slot_matches(slot, map, key, keylen) && slot->expires > now)
        return answer_put(a, slot->result, slot->val, slot->len, LOOKUP_FROM_LDAP);
    char *val;
    size_t vallen;
    enum lookup_result r = ask_ldap(lk, map, key, keylen, &val, &vallen, err, errsz);
    if (r == LOOKUP_TEMPFAIL)
        return r;
    /* With fallback_cache_ttl 0 the slot expires at once: it only holds
     * the answer the caller reads until the next call. */
    slot_store(slot, map, key, keylen, r, val, vallen, now + (time_t)lk->cfg->fallback_cache_ttl);
    if (!slot_matches(slot, map, key, keylen)) {
        snprintf(err, errsz, "out of memory");
        return LOOKUP_TEMPFAIL;
    }
    return answer_put(a, r, slot->val, slot->len, LOOKUP_FROM_LDAP);
}

enum lookup_result lookup_key(struct lookup *lk, enum map_id map, const char *key,
                              size_t keylen, const char **val_r, size_t *len_r,
                              enum lookup_source *source_r, char *err, size_t errsz)
{
    enum lookup_source dummy;
    const struct answer a = { val_r, len_r, source_r != NULL ? source_r : &dummy };
    const char *mval = NULL;
    size_t mlen = 0;

    *val_r = NULL;
    *len_r = 0;
    if ((unsigned)map >= MAP_COUNT) {
        snprintf(err, errsz, "bad lookup");
        return LOOKUP_TEMPFAIL;
    }
    if (key_take(lk, key, keylen, err, errsz) < 0)
        return LOOKUP_TEMPFAIL;
    key = lk->key;

    time_t now = lk->fixed_now ? lk->fixed_now : time(NULL);
    bool fresh = mapset_fresh(lk->set, now);
    enum lookup_source old = fresh ? LOOKUP_FROM_MAP : LOOKUP_FROM_STALE_MAP;
    int in_map = mapset_lookup(lk->set, map, key, keylen, &mval, &mlen);
    if (in_map > 0 && fresh)
        return answer_put(&a, LOOKUP_FOUND, mval, mlen, LOOKUP_FROM_MAP);
    if (map == MAP_DOMAINS && lk->cfg->ldap_domain_filter[0] == '\0') {
        /* Domains come from the accounts: nothing to ask LDAP for one
         * key; any map that exists answers. */
        if (in_map < 0) {
            snprintf(err, errsz, "%s", mapset_map(lk->set, map)->error);
            return LOOKUP_TEMPFAIL;
        }
        return answer_put(&a, in_map > 0 ? LOOKUP_FOUND : LOOKUP_NOTFOUND, mval, mlen, old);
    }

    enum lookup_result r = ask_cached(lk, map, keylen, now, &a, err, errsz);
    if (r != LOOKUP_TEMPFAIL)
        return r;
    /* LDAP cannot answer: a stale map that holds the key still can. */
    if (in_map > 0)
        return answer_put(&a, LOOKUP_FOUND, mval, mlen, LOOKUP_FROM_STALE_MAP);
    /* A domain the maps lack is as good as unknown: it only tells a reader
     * which recipients to look up at all (the policy daemon skips foreign
     * ones), so an LDAP outage must not turn every foreign domain into an
     * error. */
    if (map == MAP_DOMAINS && in_map == 0)
        return answer_put(&a, LOOKUP_NOTFOUND, NULL, 0, old);
    return LOOKUP_TEMPFAIL;
}
