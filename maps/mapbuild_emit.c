/* mapbuild_emit - the maps of a resolved build, in key order, and the
 * one-key lookups of a fallback made the same way */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild_int.h"
#include "maps/userrec.h"

/* Emission state: stops at the first non-zero emit. */
struct out {
    mapbuild_emit_fn *emit;
    void *ctx;
    int rc;
};

/* put - emit one record unless emission has stopped */
static bool put(struct out *o, enum map_id map, const char *key, size_t keylen,
                const char *val, size_t vallen)
{
    if (o->rc == 0)
        o->rc = o->emit(o->ctx, map, key, keylen, val, vallen);
    return o->rc == 0;
}

/* account_of - the account view of rank k with defaults filled in (the
 * home only when need_home: mailboxes.cdb has no use for it) */
static int account_of(const struct mapbuild *mb, const struct view *v, bool need_home,
                      struct account *a, char *home, char *mailbox, size_t bufsz)
{
    memset(a, 0, sizeof(*a));
    a->dn = (char *)v->dn;
    a->mail = (char *)v->mail;
    if (v->home != NULL)
        a->home = (char *)v->home;
    else if (!need_home)
        a->home = NULL;
    else if (account_userrec_home(&mb->uc, v->mail, home, bufsz) >= 0)
        a->home = home;
    else
        return -1;
    if (v->mailbox != NULL)
        a->mailbox = (char *)v->mailbox;
    else if (account_default_mailbox(v->mail, mailbox, bufsz) >= 0)
        a->mailbox = mailbox;
    else
        return -1;
    a->storage_set = (v->flags & F_STORAGE) != 0;
    a->uid = v->uid;
    a->gid = v->gid;
    a->quota = v->quota;
    a->password = (char *)v->password;
    return 0;
}

/* emit_entry_domains - domain mode: the names domain entries keep and
 * alias_domains, merged in order */
static int emit_entry_domains(const struct mapbuild *mb, struct out *o, size_t *count)
{
    const struct conf *cfg = mb->cfg;
    const char *ad[sizeof(cfg->alias_domains) / sizeof(cfg->alias_domains[0])];
    size_t na = cfg->alias_domains_count, nn = mapdomains_name_count(mb->domains);
    size_t i = 0, j = 0;

    memcpy(ad, cfg->alias_domains, na * sizeof(*ad));
    qsort(ad, na, sizeof(*ad), str_cmp);
    for (size_t k = 0; k < na; k++)      /* a name listed twice counts once */
        if (j == 0 || strcmp(ad[j - 1], ad[k]) != 0)
            ad[j++] = ad[k];
    na = j;
    j = 0;
    while ((i < nn || j < na) && o->rc == 0) {
        const char *n = i < nn ? mapdomains_name(mb->domains, i) : NULL;
        int c = n == NULL ? 1 : j == na ? -1 : strcmp(n, ad[j]);
        const char *d = c <= 0 ? n : ad[j];
        i += c <= 0;
        j += c >= 0;
        if (put(o, MAP_DOMAINS, d, strlen(d), "OK", 2))
            (*count)++;
    }
    return 0;
}

/* emit_domains - every domain with a mailbox, an alias or a list */
static int emit_domains(const struct resolve *r, struct out *o, size_t *count)
{
    struct domset set = { 0 };
    int rc = -1;

    for (uint32_t u = 0; u < r->nu; u++)
        if (r->owner[u] != MB_NONE && mapbuild_domset_add(&set, domain_of(r->uaddr[u])) < 0)
            goto out;
    for (size_t i = 0; i < r->nmembers; i++)
        if ((i == 0 || strcmp(r->members[i].list, r->members[i - 1].list) != 0) &&
            mapbuild_domset_add(&set, domain_of(r->members[i].list)) < 0)
            goto out;
    /* the distinct names to the front of the table, then in order */
    size_t n = 0;
    for (size_t i = 0; i < set.cap; i++)
        if (set.slot[i] != NULL)
            set.slot[n++] = set.slot[i];
    if (n > 1)
        qsort(set.slot, n, sizeof(*set.slot), str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!put(o, MAP_DOMAINS, set.slot[i], strlen(set.slot[i]), "OK", 2))
            break;
        (*count)++;
    }
    rc = 0;
out:
    free(set.slot);
    return rc;
}

/* addr_next - from address u on, the next key of aliases.cdb the
 * addresses give: an alias (value: its owner's mail) or a mail with
 * forwarding addresses (value: them). NULL when there is none. */
static const char *addr_next(const struct mapbuild *mb, const struct resolve *r, uint32_t *u,
                             const char **val)
{
    struct view v;

    for (; *u < r->nu; (*u)++) {
        uint32_t oc = r->owner[*u];
        if (oc == MB_NONE)
            continue;
        /* most mails forward nothing: no look at their records then */
        if (is_mail_claim(r, oc) && r->nforward == 0)
            continue;
        const char *rec = mb->rec[r->order[r->claims[oc].rank]];
        if (is_mail_claim(r, oc) && (rec[4] & F_FORWARD) == 0)
            continue;
        unpack(rec, &v);
        *val = is_mail_claim(r, oc) ? v.forward : v.mail;
        return r->uaddr[*u];
    }
    return NULL;
}

/* list_join - the members of the list starting at member i, comma
 * separated, into *val (grown as needed); the index after its last
 * member, or SIZE_MAX when out of memory */
static size_t list_join(const struct resolve *r, size_t i, char **val, size_t *cap,
                        size_t *len_r)
{
    const char *list = r->members[i].list;
    size_t len = 0, j;

    for (j = i; j < r->nmembers && strcmp(r->members[j].list, list) == 0; j++) {
        size_t ml = strlen(r->members[j].mail);
        if (len + ml + 2 > *cap) {
            size_t ncap = *cap ? *cap : 256;
            while (ncap < len + ml + 2)
                ncap *= 2;
            char *p = realloc(*val, ncap);
            if (p == NULL)
                return SIZE_MAX;
            *val = p;
            *cap = ncap;
        }
        if (len > 0)
            (*val)[len++] = ',';
        memcpy(*val + len, r->members[j].mail, ml);
        len += ml;
    }
    *len_r = len;
    return j;
}

/* emit_aliases - aliases, forwards, lists and the keys of alias domains
 * merged in key order (no key is in two of them: resolve saw to that) */
static int emit_aliases(const struct mapbuild *mb, const struct resolve *r, struct out *o,
                        size_t *count)
{
    uint32_t u = 0;
    size_t i = 0, di = 0, cap = 0, len;
    char *val = NULL;
    const char *aval = NULL, *akey = addr_next(mb, r, &u, &aval);

    while (o->rc == 0) {
        const char *lkey = i < r->nmembers ? r->members[i].list : NULL;
        const char *dkey = di < r->nderived ? r->derived[di].key : NULL;
        const char *key = akey;
        if (lkey != NULL && (key == NULL || strcmp(lkey, key) < 0))
            key = lkey;
        if (dkey != NULL && (key == NULL || strcmp(dkey, key) < 0))
            key = dkey;
        if (key == NULL)
            break;
        if (key == akey) {
            put(o, MAP_ALIASES, akey, strlen(akey), aval, strlen(aval));
            u++;
            akey = addr_next(mb, r, &u, &aval);
        } else if (key == dkey) {
            const char *t = r->derived[di++].target;
            put(o, MAP_ALIASES, dkey, strlen(dkey), t, strlen(t));
        } else {
            if ((i = list_join(r, i, &val, &cap, &len)) == SIZE_MAX) {
                free(val);
                return -1;
            }
            put(o, MAP_ALIASES, lkey, strlen(lkey), val, len);
        }
        if (o->rc == 0)
            (*count)++;
    }
    free(val);
    return 0;
}

/* user_field_add - "\tuser=MAIL" after the n bytes of the record in *buf
 * (an alias login: the session is the account's); the new length, or -1
 * when out of memory */
static long user_field_add(char **buf, size_t *bufsz, long n, const char *mail)
{
    size_t need = (size_t)n + sizeof("\tuser=") + 2 * strlen(mail);

    if (need > *bufsz) {
        char *p = realloc(*buf, need);
        if (p == NULL)
            return -1;
        *buf = p;
        *bufsz = need;
    }
    char *o = *buf + n;
    memcpy(o, "\tuser=", 6);
    o = userrec_value_put(o + 6, mail);
    return (long)(o - *buf);
}

/* emit_accounts - mailboxes.cdb or users.cdb, in address order: the
 * mails, and with alias_login the aliases too (users.cdb only) */
static int emit_accounts(const struct mapbuild *mb, const struct resolve *r, struct out *o,
                         enum map_id map, size_t *count, char *err, size_t errsz)
{
    char home[MB_PATH_MAX], mailbox[MB_PATH_MAX];
    char *buf = NULL;
    size_t bufsz = 0;
    bool logins = map == MAP_USERS && mb->cfg->alias_login;
    struct account a;
    struct view v;
    int rc = 0;

    for (uint32_t u = 0; u < r->nu && o->rc == 0; u++) {
        uint32_t oc = r->owner[u];
        if (oc == MB_NONE || (!logins && !is_mail_claim(r, oc)))
            continue;
        unpack(mb->rec[r->order[r->claims[oc].rank]], &v);
        if (account_of(mb, &v, map == MAP_USERS, &a, home, mailbox, sizeof(home)) < 0) {
            snprintf(err, errsz, "%s: default path too long", v.mail);
            rc = -1;
            break;
        }
        if (map == MAP_MAILBOXES) {
            put(o, map, a.mail, strlen(a.mail), a.mailbox, strlen(a.mailbox));
        } else {
            long n = account_userrec_encode(&mb->uc, &a, &buf, &bufsz, err, errsz);
            if (n >= 0 && !is_mail_claim(r, oc) &&
                (n = user_field_add(&buf, &bufsz, n, a.mail)) < 0)
                snprintf(err, errsz, "out of memory");
            if (n < 0) {
                rc = -1;
                break;
            }
            put(o, map, r->uaddr[u], strlen(r->uaddr[u]), buf, (size_t)n);
        }
        if (o->rc == 0)
            (*count)++;
    }
    free(buf);
    return rc;
}

/* mapbuild_emit - one map's records; reads the build only */
int mapbuild_emit(const struct mapbuild *mb, enum map_id map, mapbuild_emit_fn *emit,
                  void *ctx, size_t *count_r, char *err, size_t errsz)
{
    struct out o = { .emit = emit, .ctx = ctx };
    size_t count = 0;
    int rc = 0;

    if (count_r != NULL)
        *count_r = 0;
    if (!mb->resolved) {
        snprintf(err, errsz, "the build is not resolved");
        return -1;
    }
    switch (map) {
    case MAP_DOMAINS:
        rc = domain_mode(mb) ? emit_entry_domains(mb, &o, &count)
                             : emit_domains(&mb->res, &o, &count);
        break;
    case MAP_MAILBOXES:
    case MAP_USERS:
        rc = emit_accounts(mb, &mb->res, &o, map, &count, err, errsz);
        break;
    case MAP_ALIASES:
        rc = emit_aliases(mb, &mb->res, &o, &count);
        break;
    default:
        snprintf(err, errsz, "no such map");
        return -1;
    }
    if (rc < 0 && map != MAP_MAILBOXES && map != MAP_USERS)
        snprintf(err, errsz, "out of memory");
    if (rc == 0 && o.rc < 0) {
        snprintf(err, errsz, "emit failed");
        rc = -1;
    }
    if (rc == 0 && o.rc > 0)
        rc = 1;
    if (count_r != NULL)
        *count_r = count;
    return rc;
}

/* mapbuild_finish - resolve, then every map in enum order */
int mapbuild_finish(struct mapbuild *mb, mapbuild_emit_fn *emit, void *ctx,
                    struct mapbuild_counts *counts_r, char *err, size_t errsz)
{
    struct mapbuild_counts c = { .accounts = mb->count - mb->removed };
    size_t n[MAP_COUNT] = { 0 };
    int rc = -1;

    if (mapbuild_resolve(mb, &c, err, errsz) < 0)
        goto out;
    for (int m = 0; m < MAP_COUNT; m++) {
        int r = mapbuild_emit(mb, (enum map_id)m, emit, ctx, &n[m], err, errsz);
        if (r < 0)
            goto out;
        if (r > 0)
            break;      /* the caller has what it wanted */
    }
    rc = 0;
out:
    c.domains = n[MAP_DOMAINS];
    c.users = n[MAP_USERS];
    c.aliases = n[MAP_ALIASES];
    if (counts_r != NULL)
        *counts_r = c;
    return rc;
}

/* The one key a lookup wants. */
struct lookup {
    enum map_id map;
    const char *key;
    size_t keylen;
    char *val;
    size_t vallen;
    int found;
};

/* lookup_emit - keep the value for the wanted key, then stop */
static int lookup_emit(void *ctx, enum map_id map, const char *key, size_t keylen,
                       const char *val, size_t vallen)
{
    struct lookup *l = ctx;

    if (map != l->map || keylen != l->keylen || memcmp(key, l->key, keylen) != 0)
        return 0;
    if ((l->val = malloc(vallen + 1)) == NULL)
        return -1;
    memcpy(l->val, val, vallen);
    l->val[vallen] = '\0';
    l->vallen = vallen;
    l->found = 1;
    return 1;
}

/* mapbuild_lookup - one key of one map, as a sync of these accounts
 * would store it */
int mapbuild_lookup(struct mapbuild *mb, enum map_id map, const char *key,
                    size_t keylen, char **val_r, size_t *vallen_r,
                    char *err, size_t errsz)
{
    struct lookup l = { .map = map, .keylen = keylen };
    char *k;

    *val_r = NULL;
    *vallen_r = 0;
    if ((k = malloc(keylen + 1)) == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < keylen; i++)
        k[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] + 32) : key[i];
    k[keylen] = '\0';
    l.key = k;
    int rc = mapbuild_finish(mb, lookup_emit, &l, NULL, err, errsz);
    free(k);
    if (rc < 0) {
        free(l.val);
        return -1;
    }
    if (!l.found)
        return 0;
    *val_r = l.val;
    *vallen_r = l.vallen;
    return 1;
}
