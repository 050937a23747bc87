/* fullsync - one paged search of the whole directory into new maps */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ldap-sync/fullsync.h"
#include "ldap-sync/install.h"
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

/* collect_entry - one search result into the build */
static int collect_entry(void *ctx, const struct entry *e)
{
    struct collect *c = ctx;

    if (c->stop != NULL && *c->stop) {
        snprintf(c->error, sizeof(c->error), "interrupted by a signal");
        return 1;
    }
    c->rep->entries++;
    int r = mapbuild_add_entry(c->mb, e, c->error, sizeof(c->error));
    if (r < 0)
        return 1;
    if (r == 0)
        c->rep->skipped++;
    return 0;
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
    int r = ldapdir_search_all(dir, collect_entry, &c, err, sizeof(err));
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

/* fullsync_dry_run - search and resolve, print what is dropped */
enum sync_result fullsync_dry_run(const struct conf *cfg, FILE *out, struct sync_report *rep)
{
    struct mapbuild *mb;
    struct mapbuild_counts c;
    char err[512];

    memset(rep, 0, sizeof(*rep));
    enum sync_result result = search_build(cfg, NULL, rep, print_drop, out, false, &mb);
    if (result != SYNC_DONE)
        return result;
    if (mapbuild_resolve(mb, &c, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        mapbuild_free(mb);
        return SYNC_FAILED;
    }
    fprintf(out, "# %llu entries from %s: %llu skipped, %zu accounts, %zu dropped for their "
                 "address or paths, %zu aliases or list memberships dropped; nothing installed\n",
            (unsigned long long)rep->entries, rep->source, (unsigned long long)rep->skipped,
            c.accounts, c.dropped, c.lost);
    mapbuild_free(mb);
    return SYNC_DONE;
}
