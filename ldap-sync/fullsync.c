/* fullsync - one paged search of the whole directory into new maps */

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ldap-sync/fullsync.h"
#include "ldap-sync/install.h"
#include "maps/cdbmap.h"
#include "maps/ldapdir.h"
#include "maps/mapbuild.h"

struct collect {
    struct mapbuild *mb;
    volatile sig_atomic_t *stop;
    struct sync_report *rep;
    char error[512];
};

/* warn_entry - bad data costs that entry (or value), with one warning */
static void warn_entry(void *ctx, const char *dn, const char *msg)
{
    (void)ctx;
    log_warnx("entry %s: %s", dn, msg);
}

/* collect_stopped - a signal asks the sync to stop: say so */
static bool collect_stopped(struct collect *c)
{
    if (c->stop == NULL || !*c->stop)
        return false;
    snprintf(c->error, sizeof(c->error), "interrupted by a signal");
    return true;
}

/* collect_entry - one search result into the build */
static int collect_entry(void *ctx, const struct entry *e)
{
    struct collect *c = ctx;

    if (collect_stopped(c))
        return 1;
    c->rep->entries++;
    int r = mapbuild_add_entry(c->mb, e, c->error, sizeof(c->error));
    if (r < 0)
        return 1;
    if (r == 0)
        c->rep->skipped++;
    return 0;
}

/* collect_domain - one domain entry into the build */
static int collect_domain(void *ctx, const struct entry *e)
{
    struct collect *c = ctx;

    if (collect_stopped(c))
        return 1;
    c->rep->domain_entries++;
    return mapbuild_add_domain(c->mb, e, c->error, sizeof(c->error)) < 0;
}

/* search_build - the whole directory into a new build (*mb_r, the
 * caller's to free), warnings to warn. SYNC_DONE, or SYNC_FAILED with
 * rep->error set (recorded in the status when record). */
static enum sync_result search_build(const struct conf *cfg, volatile sig_atomic_t *stop,
                                     struct sync_report *rep, account_warn_fn *warn,
                                     void *warn_ctx, bool record, struct mapbuild **mb_r)
{
    struct collect c = { .stop = stop, .rep = rep };
    char err[1024];
    enum sync_result result = SYNC_FAILED;

    *mb_r = NULL;
    struct ldapdir *dir = ldapdir_open(cfg, err, sizeof(err));
    if (dir == NULL) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        if (record)
            install_record_failure(cfg, rep->error);
        return SYNC_FAILED;
    }
    c.mb = mapbuild_new(cfg, warn, warn_ctx);
    if (c.mb == NULL) {
        snprintf(rep->error, sizeof(rep->error), "out of memory");
        goto out;
    }
    /* The domain entries first: without all of them the maps would lose
     * domains, and the accounts there with them. */
    int r = 0;
    if (ldapdir_domains_filter(dir) != NULL) {
        r = ldapdir_search_domains(dir, collect_domain, &c, err, sizeof(err));
        if (r < 0) {
            char why[1024];
            snprintf(why, sizeof(why), "%s", err);
            snprintf(err, sizeof(err), "domain entries (ldap_domain_filter): %s", why);
        }
    }
    if (r == 0)
        r = ldapdir_search_all(dir, collect_entry, &c, err, sizeof(err));
    snprintf(rep->source, sizeof(rep->source), "%s", ldapdir_uri(dir));
    if (r != 0) {
        /* A partial result is never installed: it would delete users. */
        snprintf(rep->error, sizeof(rep->error), "%s", r > 0 ? c.error : err);
        if (record)
            install_record_failure(cfg, rep->error);
        goto out;
    }
    result = SYNC_DONE;
out:
    ldapdir_close(dir);
    if (result != SYNC_DONE) {
        mapbuild_free(c.mb);
        c.mb = NULL;
    }
    *mb_r = c.mb;
    return result;
}

/* fullsync_run - search, build, install */
enum sync_result fullsync_run(const struct conf *cfg, bool force, volatile sig_atomic_t *stop,
                              struct sync_report *rep)
{
    struct timespec started;
    struct mapbuild *mb;
    enum sync_result result;

    memset(rep, 0, sizeof(*rep));
    clock_gettime(CLOCK_MONOTONIC, &started);
    /* done with LDAP before the slow part: no server slot held */
    result = search_build(cfg, stop, rep, warn_entry, NULL, true, &mb);
    if (result == SYNC_DONE) {
        rep->search_ms = install_elapsed_ms(&started);
        result = install_maps(cfg, mb, force, &started, rep);
    }
    rep->duration_ms = install_elapsed_ms(&started);
    mapbuild_free(mb);
    return result;
}

/* print_drop - one dropped entry or claim, on its own line */
static void print_drop(void *ctx, const char *dn, const char *msg)
{
    fprintf(ctx, "%s: %s\n", dn, msg);
}

/* How many added or removed addresses a dry run names, per map. */
#define DRY_SHOW 10

/* The keys of one map of the new build, as emitted (sorted). */
struct keylist {
    char **key;
    size_t n, cap;
};

/* keylist_add - an emitted key into the list (mapbuild_emit_fn) */
static int keylist_add(void *ctx, enum map_id map, const char *key, size_t keylen,
                       const char *val, size_t vallen)
{
    struct keylist *l = ctx;
    (void)map;
    (void)val;
    (void)vallen;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **k = realloc(l->key, cap * sizeof(*k));
        if (k == NULL)
            return -1;
        l->key = k;
        l->cap = cap;
    }
    if ((l->key[l->n] = strndup(key, keylen)) == NULL)
        return -1;
    l->n++;
    return 0;
}

static void keylist_free(struct keylist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->key[i]);
    free(l->key);
}

static int keycmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* diff_map - the keys added to and removed from one installed map, as
 * counts and the first DRY_SHOW of each to out; *count_r = the keys the
 * new map would hold. 0, or -1 with err. */
static int diff_map(const struct conf *cfg, struct mapbuild *mb, enum map_id map,
                    const char *what, FILE *out, uint64_t *count_r, char *err, size_t errsz)
{
    struct keylist l = { 0 };
    char path[4096];
    int ret = -1;

    if (mapbuild_emit(mb, map, keylist_add, &l, NULL, err, errsz) < 0)
        goto out;
    /* sorted here: emit order is the build's, bsearch needs strcmp's */
    qsort(l.key, l.n, sizeof(*l.key), keycmp);
    if (mapset_path(cfg->maps_dir, map, path, sizeof(path)) < 0) {
        snprintf(err, errsz, "maps_dir %s: bad path", cfg->maps_dir);
        goto out;
    }
    struct cdbmap *m = cdbmap_open(path);
    if (m == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    long installed = cdbmap_count(m);
    size_t added = 0, removed = 0;
    char shown_added[DRY_SHOW][256], shown_removed[DRY_SHOW][256];

    for (size_t i = 0; i < l.n; i++) {
        const char *v;
        size_t vl;
        if (installed >= 0 && cdbmap_lookup(m, l.key[i], strlen(l.key[i]), &v, &vl) == 1)
            continue;
        if (added < DRY_SHOW)
            snprintf(shown_added[added], sizeof(shown_added[0]), "%s", l.key[i]);
        added++;
    }
    unsigned pos = 0;
    const char *k, *v;
    size_t kl, vl;
    int r;
    while (installed >= 0 && (r = cdbmap_iter(m, &pos, &k, &kl, &v, &vl)) == 1) {
        char key[1024];
        /* no build holds such a key: removed, shown cut */
        if (kl >= sizeof(key))
            kl = sizeof(key) - 1;
        memcpy(key, k, kl);
        key[kl] = '\0';
        char *kp = key;
        if (bsearch(&kp, l.key, l.n, sizeof(*l.key), keycmp) != NULL)
            continue;
        if (removed < DRY_SHOW)
            snprintf(shown_removed[removed], sizeof(shown_removed[0]), "%s", key);
        removed++;
    }
    cdbmap_close(m);
    if (installed < 0)
        fprintf(out, "# %s: %zu in the new maps, none installed (%s): all added\n", what, l.n,
                path);
    else
        fprintf(out, "# %s: %zu added, %zu removed (%ld installed, %zu after an install)\n",
                what, added, removed, installed, l.n);
    for (size_t i = 0; i < added && i < DRY_SHOW; i++)
        fprintf(out, "+ %s\n", shown_added[i]);
    if (added > DRY_SHOW)
        fprintf(out, "+ ... %zu more\n", added - DRY_SHOW);
    for (size_t i = 0; i < removed && i < DRY_SHOW; i++)
        fprintf(out, "- %s\n", shown_removed[i]);
    if (removed > DRY_SHOW)
        fprintf(out, "- ... %zu more\n", removed - DRY_SHOW);
    *count_r = l.n;
    ret = 0;
out:
    keylist_free(&l);
    return ret;
}

/* dry_run_domains - with domain entries, the domains are no longer those
 * of the accounts: what an install would add to and remove from
 * domains.cdb (without them, the accounts' lines say it already) */
static int dry_run_domains(const struct conf *cfg, struct mapbuild *mb, FILE *out,
                           struct sync_report *rep, char *err, size_t errsz)
{
    if (cfg->ldap_domain_filter[0] == '\0')
        return 0;
    fprintf(out, "# domain entries: %llu (ldap_domain_filter)\n",
            (unsigned long long)rep->domain_entries);
    return diff_map(cfg, mb, MAP_DOMAINS, "domains (domains.cdb)", out, &rep->domains, err,
                    errsz);
}

/* fullsync_dry_run - search and resolve, print what is dropped and what
 * an install would change */
enum sync_result fullsync_dry_run(const struct conf *cfg, FILE *out, struct sync_report *rep)
{
    struct mapbuild *mb;
    struct mapbuild_counts c;
    char err[1024];

    memset(rep, 0, sizeof(*rep));
    enum sync_result result = search_build(cfg, NULL, rep, print_drop, out, false, &mb);
    if (result != SYNC_DONE) {
        /* The search is the preflight's first question: say which way it
         * fell short, a size limit above all (the usual first-day one). */
        if (strstr(rep->error, ldap_err2string(LDAP_SIZELIMIT_EXCEEDED)) != NULL)
            fprintf(out, "# search: INCOMPLETE, the server's size limit stopped it: raise "
                         "the bind DN's limit (olcLimits size.prtotal=unlimited, or size="
                         "unlimited) so that the whole directory can be read: %s\n",
                    rep->error);
        else
            fprintf(out, "# search: FAILED: %s\n", rep->error);
        return result;
    }
    if (mapbuild_resolve(mb, &c, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        mapbuild_free(mb);
        return SYNC_FAILED;
    }
    fprintf(out, "# %llu entries from %s: %llu skipped, %zu accounts, %zu dropped for their "
                 "address or paths, %zu aliases or list memberships dropped; nothing installed\n",
            (unsigned long long)rep->entries, rep->source, (unsigned long long)rep->skipped,
            c.accounts, c.dropped, c.lost);
    fprintf(out, "# search: complete (the paged search ended with success)\n");
    if (diff_map(cfg, mb, MAP_USERS, "accounts (users.cdb)", out, &rep->users, err,
                 sizeof(err)) < 0 ||
        diff_map(cfg, mb, MAP_ALIASES, "aliases (aliases.cdb)", out, &rep->aliases, err,
                 sizeof(err)) < 0 ||
        dry_run_domains(cfg, mb, out, rep, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "comparing with the installed maps: %s", err);
        mapbuild_free(mb);
        return SYNC_FAILED;
    }
    const char *pwattr = cfg->attr.password != NULL ? cfg->attr.password : "";
    if (pwattr[0] == '\0')
        fprintf(out, "# passwords: ldap_attr_password is empty, no hashes copied\n");
    else if (c.passwords == 0 && c.accounts > 0)
        fprintf(out, "# passwords: WARNING: none of the %zu accounts carries %s: can the bind "
                     "DN read it (ACL)?\n", c.accounts, pwattr);
    else
        fprintf(out, "# passwords: %zu of %zu accounts carry %s\n", c.passwords, c.accounts,
                pwattr);
    rep->passwords = c.passwords;
    install_installed_counts(cfg, rep);
    if (install_shrink_refused(cfg, rep, err, sizeof(err)))
        fprintf(out, "# max_shrink: an install would be REFUSED: %s\n", err);
    else
        fprintf(out, "# max_shrink: an install would pass (%llu users, %llu installed; "
                     "max_shrink=%u%%)\n", (unsigned long long)rep->users,
                (unsigned long long)rep->old_users, cfg->max_shrink);
    mapbuild_free(mb);
    return SYNC_DONE;
}
