/* mapcheck - do the maps in a directory agree with each other and with
 * their status file? Used by `mailmaps check` and by tests. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/account.h"
#include "maps/mapbuild.h"
#include "maps/mapcheck.h"
#include "maps/mapset.h"
#include "maps/status.h"
#include "maps/userrec.h"

/* problem - record one finding (bounded: the first ones tell the story) */
__attribute__((format(printf, 2, 3)))
static void problem(struct mapcheck_report *rep, const char *fmt, ...)
{
    if (rep->problem_count >= MAPCHECK_PROBLEMS_MAX) {
        rep->problems_dropped++;
        return;
    }
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *copy = strdup(buf);
    if (copy == NULL) {
        rep->problems_dropped++;
        return;
    }
    rep->problem[rep->problem_count++] = copy;
}

/* mapcheck_checksum - hash the four files' bytes, in map_id order */
int mapcheck_checksum(const char *dir, char *hex, char *err, size_t errsz)
{
    struct sha256 ctx;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char path[4096], buf[65536];

    sha256_init(&ctx);
    for (int i = 0; i < MAP_COUNT; i++) {
        if (mapset_path(dir, (enum map_id)i, path, sizeof(path)) < 0) {
            snprintf(err, errsz, "%s: path too long", dir);
            return -1;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            return -1;
        }
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            sha256_update(&ctx, buf, (size_t)n);
        int saved = errno;
        close(fd);
        if (n < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(saved));
            return -1;
        }
    }
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
    return 0;
}

/* login_ok - users.cdb key k holds an alias login (alias_login) for
 * account user: user is a mailbox, and aliases.cdb maps k to it */
static bool login_ok(struct mapset *set, const char *k, size_t klen, const char *user)
{
    const char *v;
    size_t vlen, ul = strlen(user);

    return mapset_lookup(set, MAP_MAILBOXES, user, ul, &v, &vlen) == 1 &&
           mapset_lookup(set, MAP_ALIASES, k, klen, &v, &vlen) == 1 && vlen == ul &&
           memcmp(v, user, ul) == 0;
}

/* check_users - decode every record; each needs a mailbox (an alias
 * login: its account's) */
static void check_users(struct mapset *set, struct mapcheck_report *rep)
{
    struct cdbmap *users = mapset_map(set, MAP_USERS);
    struct userrec rec;
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    char err[256];
    int r;

    userrec_init(&rec);
    while ((r = cdbmap_iter(users, &pos, &k, &klen, &v, &vlen)) > 0) {
        rep->users++;
        if (userrec_decode(&rec, v, vlen, err, sizeof(err)) < 0)
            problem(rep, "users: %.*s: bad record: %s", (int)klen, k, err);
        else if (userrec_get(&rec, "home") == NULL || userrec_get(&rec, "uid") == NULL ||
                 userrec_get(&rec, "gid") == NULL)
            problem(rep, "users: %.*s: record lacks home, uid or gid", (int)klen, k);
        const char *login = userrec_get(&rec, "user");
        if (login != NULL && !login_ok(set, k, klen, login))
            problem(rep, "users: %.*s: a login for %s, which is no mailbox it is an alias of",
                    (int)klen, k, login);
        else if (login == NULL && mapset_lookup(set, MAP_MAILBOXES, k, klen, &dummy, &dlen) != 1)
            problem(rep, "users: %.*s: not in mailboxes", (int)klen, k);
        const char *at = memrchr(k, '@', klen);
        if (at == NULL ||
            mapset_lookup(set, MAP_DOMAINS, at + 1, klen - (size_t)(at + 1 - k), &dummy,
                          &dlen) != 1)
            problem(rep, "users: %.*s: domain not in domains", (int)klen, k);
    }
    if (r < 0)
        problem(rep, "users: corrupt map");
    userrec_free(&rec);
}

/* check_mailboxes - each mailbox belongs to a user */
static void check_mailboxes(struct mapset *set, struct mapcheck_report *rep)
{
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    int r;

    while ((r = cdbmap_iter(mapset_map(set, MAP_MAILBOXES), &pos, &k, &klen, &v, &vlen)) > 0)
        if (mapset_lookup(set, MAP_USERS, k, klen, &dummy, &dlen) != 1)
            problem(rep, "mailboxes: %.*s: not in users", (int)klen, k);
    if (r < 0)
        problem(rep, "mailboxes: corrupt map");
}

/* check_aliases - every destination is a mailbox (a mailbox's own key
 * forwards anywhere; an alias domain's key names an alias or list); every
 * alias's domain is served */
static void check_aliases(struct mapset *set, struct mapcheck_report *rep)
{
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    int r;

    while ((r = cdbmap_iter(mapset_map(set, MAP_ALIASES), &pos, &k, &klen, &v, &vlen)) > 0) {
        rep->aliases++;
        const char *at = memrchr(k, '@', klen);
        if (at == NULL ||
            mapset_lookup(set, MAP_DOMAINS, at + 1, klen - (size_t)(at + 1 - k), &dummy,
                          &dlen) != 1)
            problem(rep, "aliases: %.*s: domain not in domains", (int)klen, k);
        const char *p = v, *end = v + vlen;
        if (mapset_lookup(set, MAP_MAILBOXES, k, klen, &dummy, &dlen) == 1)
            continue;   /* forwarding addresses */
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            if (mapset_lookup(set, MAP_USERS, p, (size_t)(stop - p), &dummy, &dlen) != 1 &&
                mapset_lookup(set, MAP_ALIASES, p, (size_t)(stop - p), &dummy, &dlen) != 1)
                problem(rep, "aliases: %.*s: destination %.*s is not a mailbox", (int)klen, k,
                        (int)(stop - p), p);
            p = comma ? comma + 1 : end;
        }
    }
    if (r < 0)
        problem(rep, "aliases: corrupt map");
}

/* The accounts the maps hold, rebuilt to be judged by the rules the sync
 * applies (account_check, then mapbuild's resolution): the maps may come
 * from an older version or from a hand. The maps know no DNs: "mail=KEY"
 * stands for the entry. */
struct trust {
    const struct conf *cfg;
    struct mapcheck_report *rep;
    struct mapbuild *mb;
    char **doms;             /* the domains of users.cdb keys, sorted after */
    size_t ndom, capdom;
};

/* trust_warn - a rule the resolution found broken */
static void trust_warn(void *ctx, const char *dn, const char *msg)
{
    struct trust *t = ctx;

    problem(t->rep, "rules: %s: %s", dn, msg);
}

/* quota_of - the bytes of a "*:storage=NB" rule (0 unlimited or absent) */
static uint64_t quota_of(const char *rule)
{
    uint64_t q = 0;

    if (rule == NULL || strncmp(rule, "*:storage=", 10) != 0)
        return 0;
    for (const char *p = rule + 10; *p >= '0' && *p <= '9'; p++) {
        if (q > (UINT64_MAX - 9) / 10)
            return UINT64_MAX;
        q = q * 10 + (uint64_t)(*p - '0');
    }
    return q;
}

/* mail_field_safe - the mail field holds no ".." component and no '%';
 * nor, when it is ours (no mail_location), a ':' after "maildir:" */
static bool mail_field_safe(const struct conf *cfg, const char *mail)
{
    const char *path = strncmp(mail, "maildir:", 8) == 0 ? mail + 8 : mail;

    if (strchr(path, '%') != NULL || strstr(path, "/../") != NULL ||
        (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0) ||
        strncmp(path, "../", 3) == 0)
        return false;
    if ((cfg->mail_location == NULL || cfg->mail_location[0] == '\0') && strchr(path, ':'))
        return false;
    return true;
}

/* trust_user - one users.cdb record as an account; the ones that pass go
 * into the build */
static int trust_user(struct trust *t, struct mapset *set, const char *k, size_t klen,
                      const struct userrec *rec)
{
    struct account a;
    char key[512], dn[520], why[512], def[4200];
    const char *mbox, *home = userrec_get(rec, "home"), *uid = userrec_get(rec, "uid"),
                      *gid = userrec_get(rec, "gid"), *mail = userrec_get(rec, "mail");
    size_t mlen;

    if (klen >= sizeof(key) || home == NULL || uid == NULL || gid == NULL ||
        userrec_get(rec, "user") != NULL ||
        mapset_lookup(set, MAP_MAILBOXES, k, klen, &mbox, &mlen) != 1)
        return 0;       /* reported by check_users; an alias login is its account's */
    memcpy(key, k, klen);
    key[klen] = '\0';
    snprintf(dn, sizeof(dn), "mail=%s", key);
    if (mail != NULL && !mail_field_safe(t->cfg, mail))
        problem(t->rep, "rules: users: %s: mail field %.200s has '..', '%%' or ':'", key, mail);
    account_init(&a);
    a.dn = strdup(dn);
    a.mail = strdup(key);
    a.home = strdup(home);
    a.mailbox = strndup(mbox, mlen);
    a.uid = (uint32_t)strtoul(uid, NULL, 10);
    a.gid = (uint32_t)strtoul(gid, NULL, 10);
    a.quota = quota_of(userrec_get(rec, "quota_rule"));
    if (userrec_get(rec, "password") != NULL)
        a.password = strdup(userrec_get(rec, "password"));
    if (a.dn == NULL || a.mail == NULL || a.home == NULL || a.mailbox == NULL) {
        account_free(&a);
        return -1;
    }
    a.storage_set = account_default_mailbox(key, def, sizeof(def)) < 0 ||
                    strcmp(def, a.mailbox) != 0;
    if (account_check(t->cfg, &a, why, sizeof(why)) < 0) {
        problem(t->rep, "rules: users: %s: %s", key, why);
    } else if (mapbuild_add(t->mb, &a, why, sizeof(why)) < 0) {
        account_free(&a);
        return -1;
    }
    account_free(&a);
    const char *at = strrchr(key, '@');
    if (at != NULL) {
        if (t->ndom == t->capdom) {
            size_t cap = t->capdom ? 2 * t->capdom : 256;
            char **d = realloc(t->doms, cap * sizeof(*d));
            if (d == NULL)
                return -1;
            t->doms = d;
            t->capdom = cap;
        }
        if ((t->doms[t->ndom] = strdup(at + 1)) == NULL)
            return -1;
        t->ndom++;
    }
    return 0;
}

/* str_cmp - qsort order of C strings */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* check_trust - design.md "Directory data is untrusted" on the maps: each
 * account by account_check, the accounts together (homes and mailboxes
 * unique, a mail never an alias) by mapbuild's resolution, and every
 * domain in domains.cdb a mailbox domain or one of alias_domains */
static void check_trust(const struct conf *cfg, struct mapset *set, struct mapcheck_report *rep)
{
    struct trust t = { .cfg = cfg, .rep = rep };
    struct userrec rec;
    unsigned pos = 0;
    const char *k, *v;
    size_t klen, vlen;
    char err[256];
    struct mapbuild_counts c;

    /* the maps hold no domain entries: the domain rules cannot be judged
     * here, the rest can */
    struct conf nodomains = *cfg;
    nodomains.ldap_domain_filter = "";

    userrec_init(&rec);
    if ((t.mb = mapbuild_new(&nodomains, trust_warn, &t)) == NULL)
        goto nomem;
    while (cdbmap_iter(mapset_map(set, MAP_USERS), &pos, &k, &klen, &v, &vlen) > 0) {
        if (userrec_decode(&rec, v, vlen, err, sizeof(err)) < 0)
            continue;   /* reported by check_users */
        if (trust_user(&t, set, k, klen, &rec) < 0)
            goto nomem;
    }
    if (mapbuild_resolve(t.mb, &c, err, sizeof(err)) < 0)
        problem(rep, "rules: %s", err);
    pos = 0;
    while (cdbmap_iter(mapset_map(set, MAP_ALIASES), &pos, &k, &klen, &v, &vlen) > 0) {
        const char *d;
        size_t dl;
        if (mapset_lookup(set, MAP_MAILBOXES, k, klen, &d, &dl) == 1 &&
            cfg->ldap_attr_forward[0] == '\0')
            problem(rep, "rules: aliases: %.*s is a mailbox's own address", (int)klen, k);
    }
    if (t.ndom > 1)
        qsort(t.doms, t.ndom, sizeof(*t.doms), str_cmp);
    pos = 0;
    while (cdbmap_iter(mapset_map(set, MAP_DOMAINS), &pos, &k, &klen, &v, &vlen) > 0) {
        char dom[300];
        const char *key = dom;
        if (klen >= sizeof(dom))
            continue;
        memcpy(dom, k, klen);
        dom[klen] = '\0';
        /* with domain entries, a domain without mailboxes is local too */
        if (conf_alias_domain(cfg, dom, klen) || cfg->ldap_domain_filter[0] != '\0' ||
            (t.ndom > 0 && bsearch(&key, t.doms, t.ndom, sizeof(*t.doms), str_cmp) != NULL))
            continue;
        problem(rep, "rules: domains: %s holds no mailbox and is not in alias_domains", dom);
    }
    goto out;
nomem:
    problem(rep, "rules: out of memory");
out:
    for (size_t i = 0; i < t.ndom; i++)
        free(t.doms[i]);
    free(t.doms);
    mapbuild_free(t.mb);
    userrec_free(&rec);
}

/* check_status - the status file describes these files */
static void check_status(const struct conf *cfg, struct mapcheck_report *rep)
{
    char path[4096], err[512];
    struct status st;

    snprintf(path, sizeof(path), "%s/status", cfg->maps_dir);
    int r = status_read(path, &st, err, sizeof(err));
    if (r <= 0) {
        problem(rep, "status: %s", r == 0 ? "missing" : err);
        return;
    }
    if (st.users != rep->users)
        problem(rep, "status: users=%llu but users.cdb has %llu keys",
                (unsigned long long)st.users, (unsigned long long)rep->users);
    if (st.aliases != rep->aliases)
        problem(rep, "status: aliases=%llu but aliases.cdb has %llu keys",
                (unsigned long long)st.aliases, (unsigned long long)rep->aliases);
    if (st.domains != rep->domains)
        problem(rep, "status: domains=%llu but domains.cdb has %llu keys",
                (unsigned long long)st.domains, (unsigned long long)rep->domains);
    if (rep->checksum[0] && strcmp(st.checksum, rep->checksum) != 0)
        problem(rep, "status: checksum %s does not match the maps (%s)",
                st.checksum[0] ? st.checksum : "(none)", rep->checksum);
}

/* mapcheck_run - all checks; 0 when nothing was found */
int mapcheck_run(const struct conf *cfg, struct mapcheck_report *rep)
{
    char err[512];

    memset(rep, 0, sizeof(*rep));
    struct mapset *set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (set == NULL) {
        problem(rep, "out of memory");
        return -1;
    }
    /* Own the watch so no lookup reopens a map while we iterate over it. */
    (void)mapset_watch_fd(set);
    bool all_open = true;
    for (int i = 0; i < MAP_COUNT; i++) {
        struct cdbmap *m = mapset_map(set, (enum map_id)i);
        if (m->state != CDBMAP_OPEN) {
            problem(rep, "%s: %s", map_name((enum map_id)i), m->error);
            all_open = false;
        }
    }
    if (all_open) {
        long n = cdbmap_count(mapset_map(set, MAP_DOMAINS));
        rep->domains = n > 0 ? (uint64_t)n : 0;
        check_users(set, rep);
        check_mailboxes(set, rep);
        check_aliases(set, rep);
        check_trust(cfg, set, rep);
        if (mapcheck_checksum(cfg->maps_dir, rep->checksum, err, sizeof(err)) < 0)
            problem(rep, "checksum: %s", err);
        check_status(cfg, rep);
    }
    mapset_close(set);
    return rep->problem_count || rep->problems_dropped ? -1 : 0;
}

/* mapcheck_report_free - release the findings */
void mapcheck_report_free(struct mapcheck_report *rep)
{
    for (size_t i = 0; i < rep->problem_count; i++)
        free(rep->problem[i]);
    rep->problem_count = 0;
}
