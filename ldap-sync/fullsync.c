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

/* fullsync_run - search, build, install */
enum sync_result fullsync_run(const struct conf *cfg, bool force, volatile sig_atomic_t *stop,
                              struct sync_report *rep)
{
    struct timespec started;
    struct collect c = { .stop = stop, .rep = rep };
    char err[1024];
    enum sync_result result = SYNC_FAILED;

    memset(rep, 0, sizeof(*rep));
    clock_gettime(CLOCK_MONOTONIC, &started);

    struct ldapdir *dir = ldapdir_open(cfg, err, sizeof(err));
    if (dir == NULL) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        install_record_failure(cfg, rep->error);
        return SYNC_FAILED;
    }
    c.mb = mapbuild_new(cfg, warn_entry, NULL);
    if (c.mb == NULL) {
        snprintf(rep->error, sizeof(rep->error), "out of memory");
        goto out;
    }
    int r = ldapdir_search_all(dir, collect_entry, &c, err, sizeof(err));
    snprintf(rep->source, sizeof(rep->source), "%s", ldapdir_uri(dir));
    if (r != 0) {
        /* A partial result is never installed: it would delete users. */
        snprintf(rep->error, sizeof(rep->error), "%s",
                 r > 0 ? c.error : err);
        install_record_failure(cfg, rep->error);
        goto out;
    }
    /* Done with LDAP before the slow part: do not hold a server slot. */
    ldapdir_close(dir);
    dir = NULL;
    rep->search_ms = install_elapsed_ms(&started);
    result = install_maps(cfg, c.mb, force, &started, rep);
out:
    rep->duration_ms = install_elapsed_ms(&started);
    mapbuild_free(c.mb);
    ldapdir_close(dir);
    return result;
}
