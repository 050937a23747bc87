/* persist - follow the directory with RFC 4533 refreshAndPersist.
 *
 * One session = one search with the Sync Request control. The refresh phase
 * brings the table (entryUUID -> account) up to date: from nothing (no
 * cookie: every entry arrives, whatever was not seen is gone) or from the
 * saved cookie (the server sends changes, deletes, or a present list).
 * When it ends, the maps are installed; in the persist phase each change
 * is applied to the table and the maps are rebuilt once a burst is over.
 *
 * Domain entries (ldap_domain_filter) come from a second refreshAndPersist
 * search on the same connection, so a change to one reaches the maps as
 * fast as an account change does (re-reading them before each install
 * would miss a change that comes alone, and polling them would cost a
 * search every few seconds forever). They are few, so that search starts
 * without a cookie in every session (a full refresh of a few thousand
 * entries at most) and is kept in memory only, not in the saved state;
 * nothing is installed until both refreshes are done.
 *
 * Every wait is bounded: ldap_result() ticks every TICK_MS so signals,
 * the batch timer and the full-resync timer run, and a refresh that stops
 * sending for three times ldap_timeout is abandoned (libldap's ldap_sync_init()
 * would block here forever, hence our own loop). */

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ldap-sync/daemon.h"
#include "ldap-sync/install.h"
#include "ldap-sync/persist.h"
#include "ldap-sync/persist_state.h"
#include "ldap-sync/uuidtab.h"
#include "maps/atomicfile.h"
#include "maps/ldapdir.h"
#include "maps/mapbuild.h"
#include "maps/monotime.h"
#include "maps/syncrepl.h"

#define TICK_MS 200
#define BATCH_QUIET_MS 100    /* install once changes pause this long (a bulk
                                 import sends entries far closer together) */
#define BATCH_MAX_MS 3000     /* or this long after the first pending one,
                                 however steadily they keep coming */
#define INSTALL_RETRY_MS 10000 /* after a failed install (a full disk, a
                                  refused shrink), before trying again */
/* The saved state (table + cookie) is a consistent snapshot whenever it is
 * written, and resuming from an older one only replays changes, so it is
 * written after a refresh, at a clean stop, and otherwise at most this
 * often: at a million accounts a save costs seconds. */
#define STATE_SAVE_MS 60000
/* A save forks, and an install running beside the child pays for copying
 * every page it writes (half a second at a million accounts): it waits for
 * this long without changes, or twice STATE_SAVE_MS in a stream that never
 * pauses. */
#define SAVE_QUIET_MS 1000
/* Reconnecting costs the server a bind and a resume, so the back-off stops
 * here even when sync_interval (its cap in poll mode) is hours: changes
 * flow again within minutes of the server's return. */
#define PERSIST_BACKOFF_MAX 300

enum session_end {
    SESSION_STOP,        /* asked to stop */
    SESSION_RESTART,     /* start over with a full refresh (timer, SIGHUP, server) */
    SESSION_ERROR,       /* connection or protocol trouble: back off, resume */
};

/* One domain entry, by entryUUID (the persist phase's DELETE names only
 * that, and a renamed entry arrives as MODIFY under its new DN). */
struct domslot {
    unsigned char uuid[16];
    struct entry *e;                 /* entry_dup'ed */
    bool seen;                       /* in this session's refresh */
};

struct persist {
    const struct conf *cfg;
    bool force;
    volatile sig_atomic_t *stop, *resync;
    struct ldapdir *dir;
    struct uuidtab table;
    struct mapbuild *mb;             /* the table's accounts, kept between
                                        installs; NULL = build anew */
    struct berval cookie;            /* malloc'ed; bv_len 0 = none */
    char digest[SHA256_HEX_SIZE];    /* of the config file */
    char state_path[4096];
    bool in_refresh, full_refresh;
    bool refreshed;                  /* this session finished its refresh */
    struct domslot *dom;             /* the domain entries (none without */
    size_t ndom, domcap;             /* ldap_domain_filter) */
    int dom_msgid;                   /* their search, -1 = none */
    bool dom_in_refresh;             /* that search is still refreshing */
    bool acc_refreshed;              /* the account refresh ended first */
    struct failure_log session_fl;
    bool dirty;                      /* table differs from the installed maps */
    size_t pending;                  /* changes since the last install */
    struct timespec first_change, last_change, last_message, last_full;
    struct timespec last_save, last_install;
    bool save_pending;               /* installed changes not yet saved */
    bool save_soon;                  /* a refresh ended: do not wait for
                                        STATE_SAVE_MS */
    struct persist_saver saver;      /* a child writing the state */
    struct failure_log install_fl;
    unsigned long long installed;    /* the generation we installed last */
    struct timespec last_confirm;    /* it was installed or confirmed current */
    struct failure_log confirm_fl;
    bool install_failing;            /* the last install failed ... */
    struct timespec install_failed;  /* ... at this time */
    char error[1024];
};

/* cookie_set - keep a copy of the latest cookie */
static void cookie_set(struct persist *p, const struct berval *c)
{
    if (c == NULL || c->bv_len == 0)
        return;
    char *copy = malloc(c->bv_len + 1);
    if (copy == NULL)
        return;                      /* keep the older one: resuming from it is safe */
    memcpy(copy, c->bv_val, c->bv_len);
    copy[c->bv_len] = '\0';
    free(p->cookie.bv_val);
    p->cookie.bv_val = copy;
    p->cookie.bv_len = c->bv_len;
}

/* cookie_drop - forget the cookie: the next session is a full refresh */
static void cookie_drop(struct persist *p)
{
    free(p->cookie.bv_val);
    p->cookie.bv_val = NULL;
    p->cookie.bv_len = 0;
}

/* changed - note one change to the table */
static void changed(struct persist *p)
{
    if (!p->dirty)
        monotime_now(&p->first_change);
    monotime_now(&p->last_change);
    p->dirty = true;
    p->pending++;
}

/* save_state - the table and cookie of the installed maps, for a
 * restart: by a child that sees the table as it is now, or at a stop
 * (background false) here */
static void save_state(struct persist *p, bool background)
{
    if (!persist_saver_save(&p->saver, background, p->state_path, p->digest, &p->cookie,
                            &p->table))
        return;                      /* one at a time: save_due asks again */
    monotime_now(&p->last_save);
    p->save_pending = false;
    p->save_soon = false;
}

/* save_due - write the state now: installed changes are unsaved, a refresh
 * ended or the last save is STATE_SAVE_MS old, and the daemon is quiet */
static bool save_due(const struct persist *p)
{
    if (!p->save_pending || p->saver.pid > 0 || p->dirty || p->in_refresh)
        return false;
    long long since_save = monotime_ms_since(&p->last_save);
    if (!p->save_soon && since_save < STATE_SAVE_MS)
        return false;
    return monotime_ms_since(&p->last_install) >= SAVE_QUIET_MS || since_save >= 2 * STATE_SAVE_MS;
}

/* slot_dn_cmp - qsort order of table slots: their accounts' DNs */
static int slot_dn_cmp(const void *a, const void *b)
{
    const struct uuidtab_slot *x = *(const struct uuidtab_slot *const *)a;
    const struct uuidtab_slot *y = *(const struct uuidtab_slot *const *)b;
    const char *dx = x->account->dn ? x->account->dn : "";
    const char *dy = y->account->dn ? y->account->dn : "";

    return strcmp(dx, dy);
}

/* build_anew - every account of the table into a new p->mb, in DN order:
 * the build then reads its arena front to back (the table's own order is
 * random, and at a million accounts the cache misses cost seconds) */
static int build_anew(struct persist *p, char *err, size_t errsz)
{
    struct uuidtab_slot **v = malloc((p->table.used ? p->table.used : 1) * sizeof(*v));
    struct uuidtab_slot *s;
    size_t n = 0, pos = 0;
    int rc = -1;

    if (v == NULL || (p->mb = mapbuild_new(p->cfg, daemon_warn_entry, NULL)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->ndom; i++)
        if (mapbuild_add_domain(p->mb, p->dom[i].e, err, errsz) < 0)
            goto out;
    while ((s = uuidtab_next(&p->table, &pos)) != NULL && n < p->table.used)
        v[n++] = s;
    qsort(v, n, sizeof(*v), slot_dn_cmp);
    for (size_t i = 0; i < n; i++)
        if (mapbuild_add_id(p->mb, v[i]->account, &v[i]->tag, err, errsz) < 0)
            goto out;
    rc = 0;
out:
    free(v);
    if (rc < 0) {
        mapbuild_free(p->mb);
        p->mb = NULL;
    }
    return rc;
}

/* update_build - bring p->mb up to the table: only the accounts replaced,
 * removed or added since the last install change (a million accounts
 * need not be packed again for one change); built anew at the start,
 * after a full refresh's bulk changes, or once removed accounts take a
 * quarter of its arena. 0, or -1 with a reason (p->mb is then NULL). */
static int update_build(struct persist *p, char *err, size_t errsz)
{
    size_t ndropped, pos = 0;
    bool lost;
    const uint32_t *dropped = uuidtab_dropped(&p->table, &ndropped, &lost);
    struct uuidtab_slot *s;

    if (p->mb != NULL &&
        (lost || (mapbuild_removed(p->mb) + ndropped) * 4 > mapbuild_count(p->mb))) {
        mapbuild_free(p->mb);
        p->mb = NULL;
    }
    if (p->mb == NULL) {
        uuidtab_clear_dropped(&p->table);
        return build_anew(p, err, errsz);
    }
    for (size_t i = 0; i < ndropped; i++)
        mapbuild_remove(p->mb, dropped[i]);
    uuidtab_clear_dropped(&p->table);
    while ((s = uuidtab_next(&p->table, &pos)) != NULL) {
        if (s->tag != UUIDTAB_NO_TAG)
            continue;
        if (mapbuild_add_id(p->mb, s->account, &s->tag, err, errsz) < 0) {
            mapbuild_free(p->mb);
            p->mb = NULL;
            return -1;
        }
    }
    return 0;
}

/* install_now - the maps from the table (and save the state now and then) */
static void install_now(struct persist *p)
{
    struct timespec started;
    struct sync_report rep;
    char err[1024];
    enum sync_result r = SYNC_DONE;

    monotime_now(&started);
    persist_saver_hold(&p->saver, true);
    memset(&rep, 0, sizeof(rep));
    snprintf(rep.source, sizeof(rep.source), "%s", ldapdir_uri(p->dir));
    if (update_build(p, err, sizeof(err)) < 0) {
        snprintf(rep.error, sizeof(rep.error), "%s", err);
        r = SYNC_FAILED;
    }
    long long apply_ms = monotime_ms_since(&started);
    if (r == SYNC_DONE)
        r = install_maps(p->cfg, p->mb, p->force, &started, &rep);
    persist_saver_hold(&p->saver, false);
    if (r != SYNC_DONE) {
        /* The table stays dirty: tried again after INSTALL_RETRY_MS, not
         * at every change (at a million accounts an attempt costs a
         * second of CPU). */
        if (failure_log_failed(&p->install_fl, rep.error))
            log_err("persist: maps not installed, old maps kept: %s", rep.error);
        p->install_failing = true;
        monotime_now(&p->install_failed);
        return;
    }
    p->install_failing = false;
    if (failure_log_ok(&p->install_fl))
        log_notice("persist: installing maps works again");
    log_info("persist: installed generation %llu: %zu changes, %llu users, %llu aliases, "
             "%llu domains in %llu ms (apply %lld, build %llu, write %llu)",
             (unsigned long long)rep.generation, p->pending, (unsigned long long)rep.users,
             (unsigned long long)rep.aliases, (unsigned long long)rep.domains,
             (unsigned long long)rep.duration_ms, apply_ms, (unsigned long long)rep.build_ms,
             (unsigned long long)rep.write_ms);
    p->dirty = false;
    p->pending = 0;
    p->save_pending = true;
    p->installed = rep.generation;
    monotime_now(&p->last_install);
    p->last_confirm = p->last_install;
}

/* confirm_due - time to confirm the installed maps current: the search is
 * alive past its refresh and nothing is pending, for a third of
 * stale_after (at most a minute) since the last install or confirmation.
 * Without this a quiet hour would make readers go to LDAP first. */
static bool confirm_due(const struct persist *p)
{
    long long every = (long long)p->cfg->stale_after * 1000 / 3;
    if (every > 60000)
        every = 60000;
    return p->refreshed && !p->in_refresh && !p->dirty && !p->install_failing &&
           p->installed > 0 && monotime_ms_since(&p->last_confirm) >= every;
}

/* confirm_current - stamp the status: the maps are current as of now */
static void confirm_current(struct persist *p)
{
    char err[1024];

    monotime_now(&p->last_confirm);
    if (install_confirm(p->cfg, p->installed, err, sizeof(err)) < 0) {
        if (failure_log_failed(&p->confirm_fl, err))
            log_warnx("persist: cannot confirm the maps current: %s", err);
    } else if (failure_log_ok(&p->confirm_fl)) {
        log_notice("persist: confirming the maps current works again");
    }
}

/* batch_due - install the pending changes now: they have paused, or the
 * oldest has waited BATCH_MAX_MS (a steady stream must not hold the maps
 * back for as long as it lasts) */
static bool batch_due(const struct persist *p)
{
    if (p->in_refresh || !p->dirty)
        return false;
    if (p->install_failing && monotime_ms_since(&p->install_failed) < INSTALL_RETRY_MS)
        return false;
    return monotime_ms_since(&p->last_change) >= BATCH_QUIET_MS ||
           monotime_ms_since(&p->first_change) >= BATCH_MAX_MS;
}

/* batch_wait_ms - how long to wait for a message before batch_due may
 * become true */
static long long batch_wait_ms(const struct persist *p)
{
    if (p->in_refresh || !p->dirty || p->install_failing)
        return TICK_MS;
    long long quiet = BATCH_QUIET_MS - monotime_ms_since(&p->last_change);
    long long oldest = BATCH_MAX_MS - monotime_ms_since(&p->first_change);
    long long ms = quiet < oldest ? quiet : oldest;
    return ms < 5 ? 5 : ms > TICK_MS ? TICK_MS : ms;
}

struct entry_ctx {
    struct persist *p;
    const struct berval *uuid;
    int result;                      /* -1 out of memory */
    bool unchanged;                  /* the entry gave what the table holds */
};

/* store_entry - an added or modified entry: its account replaces the old one */
static int store_entry(void *ctx, const struct entry *e)
{
    struct entry_ctx *ec = ctx;
    struct persist *p = ec->p;
    const unsigned char *uuid = (const unsigned char *)ec->uuid->bv_val;
    char err[256];

    struct account *a = malloc(sizeof(*a));
    if (a == NULL) {
        ec->result = -1;
        return 1;
    }
    account_init(a);
    int r = account_from_entry(p->cfg, e, a, daemon_warn_entry, NULL, err, sizeof(err));
    struct uuidtab_slot *old = r == 1 ? uuidtab_get(&p->table, uuid) : NULL;
    if (old != NULL && account_equal(old->account, a)) {
        /* A full refresh sends every entry again: most are no change, and
         * the build need not hear of them. */
        old->seen = true;
        ec->unchanged = true;
        account_free(a);
        free(a);
    } else if (r == 1) {
        if (uuidtab_put(&p->table, uuid, a) < 0)
            ec->result = -1;
    } else {
        /* Skipped for bad data (warned): whatever it gave before is gone
         * too, as a full sync would have it. */
        account_free(a);
        free(a);
        uuidtab_remove(&p->table, uuid);
        if (r < 0)
            ec->result = -1;
    }
    return ec->result < 0 ? 1 : 0;
}

/* handle_entry - a SearchResultEntry with its Sync State control */
static int handle_entry(struct persist *p, LDAP *ld, LDAPMessage *msg)
{
    LDAPControl **ctrls = NULL;
    struct syncrepl_entry_state st;
    char err[512];
    int rc = 0;

    if (ldap_get_entry_controls(ld, msg, &ctrls) != LDAP_SUCCESS ||
        syncrepl_entry_state_parse(ctrls, &st) != 1) {
        snprintf(p->error, sizeof(p->error), "%s: an entry without a valid Sync State control",
                 ldapdir_uri(p->dir));
        ldap_controls_free(ctrls);
        return -1;
    }
    const unsigned char *uuid = (const unsigned char *)st.uuid.bv_val;
    switch (st.state) {
    case SYNCREPL_PRESENT: {
        struct uuidtab_slot *s = uuidtab_get(&p->table, uuid);
        if (s != NULL)
            s->seen = true;
        break;
    }
    case SYNCREPL_ADD:
    case SYNCREPL_MODIFY: {
        struct entry_ctx ec = { .p = p, .uuid = &st.uuid };
        if (ldapdir_entry_deliver(p->dir, msg, store_entry, &ec, err, sizeof(err)) < 0 ||
            ec.result < 0) {
            snprintf(p->error, sizeof(p->error), "%s", ec.result < 0 ? "out of memory" : err);
            rc = -1;
        }
        if (!ec.unchanged)
            changed(p);
        break;
    }
    case SYNCREPL_DELETE:
        if (uuidtab_remove(&p->table, uuid))
            changed(p);
        break;
    }
    cookie_set(p, &st.cookie);
    ldap_controls_free(ctrls);
    return rc;
}

/* end_refresh - the refresh phase is over: what was not seen in a full
 * refresh is gone; install so the maps and status are current (once the
 * domain search has finished its refresh too) */
static void end_refresh(struct persist *p)
{
    p->acc_refreshed = true;
    if (p->dom_in_refresh)
        return;                      /* dom_refresh_done ends it */
    if (p->full_refresh) {
        size_t gone = uuidtab_remove_unseen(&p->table);
        if (gone > 0) {
            p->pending += gone;
            p->dirty = true;
        }
    }
    p->in_refresh = false;
    p->refreshed = true;
    if (failure_log_ok(&p->session_fl))
        log_notice("persist: %s answers again", ldapdir_uri(p->dir));
    log_info("persist: refresh done (%s): %zu accounts, %zu changes", p->full_refresh ? "full" : "resumed",
             p->table.used, p->pending);
    /* Nothing changed since our last install: the maps are current as they
     * are (the first refresh installs anyway, for the status). */
    if (p->dirty || p->installed == 0)
        install_now(p);
    else
        confirm_current(p);
    p->save_pending = true;          /* a new cookie at least */
    p->save_soon = true;
}

/* dom_find - the slot of a domain entry's uuid, or NULL */
static struct domslot *dom_find(struct persist *p, const unsigned char *uuid)
{
    for (size_t i = 0; i < p->ndom; i++)
        if (memcmp(p->dom[i].uuid, uuid, 16) == 0)
            return &p->dom[i];
    return NULL;
}

/* dom_drop - forget slot s (its entry leaves the build too) */
static void dom_drop(struct persist *p, struct domslot *s)
{
    if (p->mb != NULL && mapbuild_remove_domain(p->mb, s->e->dn) < 0) {
        mapbuild_free(p->mb);        /* built anew, from the table */
        p->mb = NULL;
    }
    free(s->e);
    *s = p->dom[--p->ndom];
    changed(p);
}

/* dom_grow - room for one more domain slot: 0, or -1 out of memory */
static int dom_grow(struct persist *p)
{
    if (p->ndom < p->domcap)
        return 0;
    size_t cap = p->domcap ? p->domcap * 2 : 64;
    struct domslot *v = realloc(p->dom, cap * sizeof(*v));
    if (v == NULL)
        return -1;
    p->dom = v;
    p->domcap = cap;
    return 0;
}

/* dom_search - start the domain search of this session (nothing to do
 * without ldap_domain_filter): 0, or -1 with p->error */
static int dom_search(struct persist *p, LDAP *ld)
{
    LDAPControl *ctrl = NULL;

    p->dom_msgid = -1;
    p->dom_in_refresh = false;
    if (ldapdir_domains_filter(p->dir) == NULL)
        return 0;
    if (syncrepl_request_control(SYNCREPL_REFRESH_AND_PERSIST, NULL, false, &ctrl) < 0) {
        snprintf(p->error, sizeof(p->error), "out of memory");
        return -1;
    }
    LDAPControl *sctrls[] = { ctrl, NULL };
    int rc = ldap_search_ext(ld, p->cfg->ldap_base, LDAP_SCOPE_SUBTREE,
                             ldapdir_domains_filter(p->dir), ldapdir_domain_attrs(p->dir), 0,
                             sctrls, NULL, NULL, LDAP_NO_LIMIT, &p->dom_msgid);
    ldap_control_free(ctrl);
    if (rc != LDAP_SUCCESS) {
        snprintf(p->error, sizeof(p->error), "%s: domain sync search: %s", ldapdir_uri(p->dir),
                 ldap_err2string(rc));
        return -1;
    }
    for (size_t i = 0; i < p->ndom; i++)
        p->dom[i].seen = false;
    p->dom_in_refresh = true;
    return 0;
}

struct dom_ctx {
    struct persist *p;
    const unsigned char *uuid;
    int result;                      /* -1 out of memory */
};

/* store_domain - an added or modified domain entry into the table and
 * the build (the build replaces an entry added again under its DN) */
static int store_domain(void *ctx, const struct entry *e)
{
    struct dom_ctx *dc = ctx;
    struct persist *p = dc->p;
    struct domslot *s = dom_find(p, dc->uuid);
    char err[256];

    if (s != NULL && entry_equal(s->e, e)) {
        s->seen = true;              /* a full refresh: most are no change */
        return 0;
    }
    struct entry *copy = entry_dup(e);
    if (copy == NULL || (s == NULL && dom_grow(p) < 0)) {
        free(copy);
        dc->result = -1;
        return 1;
    }
    if (s == NULL) {
        s = &p->dom[p->ndom++];
        memcpy(s->uuid, dc->uuid, 16);
    } else {
        /* always: a new version that is no valid domain entry adds
         * nothing, and the old one must not stay behind */
        if (p->mb != NULL && mapbuild_remove_domain(p->mb, s->e->dn) < 0) {
            mapbuild_free(p->mb);
            p->mb = NULL;
        }
        free(s->e);
    }
    s->e = copy;
    s->seen = true;
    if (p->mb != NULL && mapbuild_add_domain(p->mb, copy, err, sizeof(err)) < 0) {
        mapbuild_free(p->mb);
        p->mb = NULL;
    }
    changed(p);
    return 0;
}

/* dom_refresh_done - the domain search's refresh is over: what it did not
 * send is gone; the account refresh may have been waiting for this */
static void dom_refresh_done(struct persist *p)
{
    if (!p->dom_in_refresh)
        return;
    for (size_t i = p->ndom; i-- > 0;)
        if (!p->dom[i].seen)
            dom_drop(p, &p->dom[i]);
    p->dom_in_refresh = false;
    log_info("persist: domain refresh done: %zu domain entries", p->ndom);
    if (p->in_refresh && p->acc_refreshed)
        end_refresh(p);
}

/* handle_domain - one message of the domain search: 0, -1 with p->error */
static int handle_domain(struct persist *p, LDAP *ld, LDAPMessage *msg)
{
    LDAPControl **ctrls = NULL;
    struct syncrepl_entry_state st;
    struct syncrepl_info info;
    char *oid = NULL, err[512];
    struct berval *data = NULL;
    int rc = 0, code = LDAP_OTHER;

    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        if (ldap_get_entry_controls(ld, msg, &ctrls) != LDAP_SUCCESS ||
            syncrepl_entry_state_parse(ctrls, &st) != 1 || st.uuid.bv_len != 16) {
            snprintf(p->error, sizeof(p->error), "%s: a domain entry without a valid Sync State"
                     " control", ldapdir_uri(p->dir));
            rc = -1;
        } else if (st.state == SYNCREPL_DELETE) {
            struct domslot *s = dom_find(p, (const unsigned char *)st.uuid.bv_val);
            if (s != NULL)
                dom_drop(p, s);
        } else if (st.state == SYNCREPL_PRESENT) {
            struct domslot *s = dom_find(p, (const unsigned char *)st.uuid.bv_val);
            if (s != NULL)
                s->seen = true;
        } else {
            struct dom_ctx dc = { .p = p, .uuid = (const unsigned char *)st.uuid.bv_val };
            if (ldapdir_entry_deliver(p->dir, msg, store_domain, &dc, err, sizeof(err)) < 0 ||
                dc.result < 0) {
                snprintf(p->error, sizeof(p->error), "%s",
                         dc.result < 0 ? "out of memory" : err);
                rc = -1;
            }
        }
        ldap_controls_free(ctrls);
        return rc;
    case LDAP_RES_INTERMEDIATE:
        /* No cookie is kept: every session refreshes the domains anew. */
        rc = 0;
        if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) == LDAP_SUCCESS &&
            oid != NULL && strcmp(oid, LDAP_SYNC_INFO) == 0) {
            if (syncrepl_info_parse(data, &info) < 0) {
                /* as for the accounts: a lost refreshDone would stall installs */
                snprintf(p->error, sizeof(p->error), "%s: a malformed Sync Info message",
                         ldapdir_uri(p->dir));
                rc = -1;
            } else {
                if ((info.kind == SYNCREPL_INFO_REFRESH_PRESENT ||
                     info.kind == SYNCREPL_INFO_REFRESH_DELETE) && info.refresh_done)
                    dom_refresh_done(p);
                syncrepl_info_free(&info);
            }
        }
        ldap_memfree(oid);
        ber_bvfree(data);
        return rc;
    case LDAP_RES_SEARCH_RESULT:
        if (ldap_parse_result(ld, msg, &code, NULL, NULL, NULL, NULL, 0) != LDAP_SUCCESS)
            code = LDAP_OTHER;
        snprintf(p->error, sizeof(p->error), "%s: the domain search (ldap_domain_filter) ended:"
                 " %s", ldapdir_uri(p->dir), ldap_err2string(code));
        return -1;
    default:
        return 0;
    }
}

/* handle_intermediate - Sync Info messages: cookies, phase ends, ID sets */
static int handle_intermediate(struct persist *p, LDAP *ld, LDAPMessage *msg)
{
    char *oid = NULL;
    struct berval *data = NULL;
    struct syncrepl_info info;
    int rc = 0;

    if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) != LDAP_SUCCESS)
        return 0;
    if (oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0)
        goto out;
    if (syncrepl_info_parse(data, &info) < 0) {
        snprintf(p->error, sizeof(p->error), "%s: a malformed Sync Info message", ldapdir_uri(p->dir));
        rc = -1;
        goto out;
    }
    /* The cookie first: a refresh that ends here saves it with the state. */
    cookie_set(p, &info.cookie);
    switch (info.kind) {
    case SYNCREPL_INFO_NEW_COOKIE:
        break;
    case SYNCREPL_INFO_REFRESH_PRESENT:
        /* End of a present phase: every entry still there was named. */
        if (!p->full_refresh) {
            size_t gone = uuidtab_remove_unseen(&p->table);
            p->pending += gone;
            if (gone)
                changed(p);
        }
        if (info.refresh_done && p->in_refresh)
            end_refresh(p);
        break;
    case SYNCREPL_INFO_REFRESH_DELETE:
        if (info.refresh_done && p->in_refresh)
            end_refresh(p);
        break;
    case SYNCREPL_INFO_ID_SET:
        for (size_t i = 0; i < info.uuid_count; i++) {
            const unsigned char *u = (const unsigned char *)info.uuids[i].bv_val;
            if (info.refresh_deletes) {
                if (uuidtab_remove(&p->table, u))
                    changed(p);
            } else {
                struct uuidtab_slot *s = uuidtab_get(&p->table, u);
                if (s != NULL)
                    s->seen = true;
            }
        }
        break;
    }
    syncrepl_info_free(&info);
out:
    ldap_memfree(oid);
    ber_bvfree(data);
    return rc;
}

/* handle_result - the search ended (it should not, in persist mode) */
static enum session_end handle_result(struct persist *p, LDAP *ld, LDAPMessage *msg)
{
    int code = LDAP_OTHER;
    char *diag = NULL;
    LDAPControl **ctrls = NULL;

    if (ldap_parse_result(ld, msg, &code, NULL, &diag, NULL, &ctrls, 0) != LDAP_SUCCESS)
        code = LDAP_OTHER;
    if (code == LDAP_SYNC_REFRESH_REQUIRED) {
        log_notice("persist: %s cannot resume from our cookie: full refresh", ldapdir_uri(p->dir));
        cookie_drop(p);
        ldap_controls_free(ctrls);
        ldap_memfree(diag);
        return SESSION_RESTART;
    }
    if (code == LDAP_SUCCESS) {
        struct berval c;
        bool deletes;
        if (syncrepl_done_parse(ctrls, &c, &deletes) == 1)
            cookie_set(p, &c);
        if (p->in_refresh)
            end_refresh(p);
        snprintf(p->error, sizeof(p->error), "%s ended the persistent search", ldapdir_uri(p->dir));
    } else {
        snprintf(p->error, sizeof(p->error), "%s: sync search failed: %s%s%s", ldapdir_uri(p->dir),
                 ldap_err2string(code), diag && *diag ? ": " : "", diag ? diag : "");
    }
    ldap_controls_free(ctrls);
    ldap_memfree(diag);
    return SESSION_ERROR;
}

/* session_start - connect and send the sync search: the refresh begins.
 * Its msgid, or -1 with p->error (disconnected). */
static int session_start(struct persist *p)
{
    LDAPControl *ctrl = NULL;
    int msgid = -1;

    if (ldapdir_connect(p->dir, p->error, sizeof(p->error)) < 0)
        return -1;
    /* first: its few entries are in before the accounts' refresh ends */
    if (dom_search(p, ldapdir_ldap(p->dir)) < 0) {
        ldapdir_disconnect(p->dir);
        return -1;
    }
    if (syncrepl_request_control(SYNCREPL_REFRESH_AND_PERSIST,
                                 p->cookie.bv_len ? &p->cookie : NULL, false, &ctrl) < 0) {
        snprintf(p->error, sizeof(p->error), "out of memory");
        ldapdir_disconnect(p->dir);
        return -1;
    }
    LDAPControl *sctrls[] = { ctrl, NULL };
    int rc = ldap_search_ext(ldapdir_ldap(p->dir), p->cfg->ldap_base, LDAP_SCOPE_SUBTREE,
                             ldapdir_filter(p->dir), ldapdir_attrs(p->dir), 0, sctrls, NULL,
                             NULL, LDAP_NO_LIMIT, &msgid);
    ldap_control_free(ctrl);
    if (rc != LDAP_SUCCESS) {
        snprintf(p->error, sizeof(p->error), "%s: sync search: %s", ldapdir_uri(p->dir),
                 ldap_err2string(rc));
        ldapdir_disconnect(p->dir);
        return -1;
    }
    p->in_refresh = true;
    p->refreshed = false;
    p->acc_refreshed = false;
    p->full_refresh = p->cookie.bv_len == 0;
    if (p->full_refresh) {
        uuidtab_clear_seen(&p->table);
        monotime_now(&p->last_full);
    }
    log_info("persist: %s refresh from %s", p->full_refresh ? "full" : "resuming",
             ldapdir_uri(p->dir));
    monotime_now(&p->last_message);
    return msgid;
}

/* session_due - act on what is due before the next wait (checked after
 * every message, not only when none came in time); true, with *end, when
 * the session must end: asked to stop, or a full resync is due */
static bool session_due(struct persist *p, enum session_end *end)
{
    if (*p->stop) {
        *end = SESSION_STOP;
        return true;
    }
    if (*p->resync ||
        monotime_ms_since(&p->last_full) >= (long long)p->cfg->sync_interval * 1000) {
        *p->resync = 0;
        cookie_drop(p);
        *end = SESSION_RESTART;
        return true;
    }
    persist_saver_reap(&p->saver, false);
    if (batch_due(p))
        install_now(p);
    else if (save_due(p))
        save_state(p, true);
    else if (confirm_due(p))
        confirm_current(p);
    return false;
}

/* session_message - one message of the search (freed here): 0 go on, -1
 * failed (p->error), 1 the search ended (*end) */
static int session_message(struct persist *p, LDAP *ld, LDAPMessage *msg,
                           enum session_end *end)
{
    int r = 0;

    switch (ldap_msgtype(msg)) {
    case LDAP_RES_SEARCH_ENTRY:
        r = handle_entry(p, ld, msg);
        break;
    case LDAP_RES_INTERMEDIATE:
        r = handle_intermediate(p, ld, msg);
        break;
    case LDAP_RES_SEARCH_RESULT:
        *end = handle_result(p, ld, msg);
        r = 1;
        break;
    default:
        break;
    }
    ldap_msgfree(msg);
    return r;
}

/* session - one sync search, until it ends, fails or must restart */
static enum session_end session(struct persist *p)
{
    enum session_end end = SESSION_ERROR;
    long long stall_ms = (long long)p->cfg->ldap_timeout * 3000;
    int msgid = session_start(p);

    if (msgid < 0)
        return SESSION_ERROR;
    LDAP *ld = ldapdir_ldap(p->dir);
    while (!session_due(p, &end)) {
        struct timeval tv = { 0, (suseconds_t)(batch_wait_ms(p) * 1000) };
        LDAPMessage *msg = NULL;
        int r = ldap_result(ld, p->dom_msgid >= 0 ? LDAP_RES_ANY : msgid, LDAP_MSG_ONE, &tv,
                            &msg);
        if (r == 0) {
            if (p->in_refresh && monotime_ms_since(&p->last_message) > stall_ms) {
                snprintf(p->error, sizeof(p->error),
                         "%s: no answer for %llds during the refresh", ldapdir_uri(p->dir),
                         stall_ms / 1000);
                break;
            }
            continue;
        }
        if (r < 0) {
            int err = LDAP_OTHER;
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            snprintf(p->error, sizeof(p->error), "%s: %s", ldapdir_uri(p->dir), ldap_err2string(err));
            ldapdir_disconnect(p->dir);
            return SESSION_ERROR;
        }
        monotime_now(&p->last_message);
        if (p->dom_msgid >= 0 && ldap_msgid(msg) == p->dom_msgid) {
            int hr = handle_domain(p, ld, msg);
            ldap_msgfree(msg);
            if (hr < 0)
                break;
            continue;
        }
        r = session_message(p, ld, msg, &end);
        if (r > 0) {
            ldapdir_disconnect(p->dir);
            return end;
        }
        if (r < 0)
            break;
    }
    ldap_abandon_ext(ld, msgid, NULL, NULL);
    if (p->dom_msgid >= 0)
        ldap_abandon_ext(ld, p->dom_msgid, NULL, NULL);
    ldapdir_disconnect(p->dir);
    return end;
}

/* persist_run - sessions until asked to stop */
int persist_run(const struct conf *cfg, bool force, volatile sig_atomic_t *stop,
                volatile sig_atomic_t *resync)
{
    struct persist p = { .cfg = cfg, .force = force, .stop = stop, .resync = resync,
                         .dom_msgid = -1 };
    unsigned backoff = DAEMON_BACKOFF_FIRST;
    char err[1024];
    int rc = 0;

    uuidtab_init(&p.table);
    snprintf(p.state_path, sizeof(p.state_path), "%s/.persist-state", cfg->maps_dir);
    /* no saver runs yet: a temp file now is one a killed saver left */
    if (atomicfile_remove_temps(p.state_path) > 0)
        log_notice("persist: removed the temp files of an interrupted state save");
    if (persist_state_digest(cfg->path, p.digest) < 0) {
        log_err("cannot read %s: %s", cfg->path, strerror(errno));
        return 1;
    }
    p.dir = ldapdir_open(cfg, err, sizeof(err));
    if (p.dir == NULL) {
        log_err("%s", err);
        return 1;
    }
    int loaded = persist_state_load(p.state_path, p.digest, cfg, &p.cookie, &p.table, err,
                                    sizeof(err));
    if (loaded > 0)
        log_info("persist: resuming from saved state: %zu accounts", p.table.used);
    else if (loaded < 0)
        log_warnx("persist: saved state discarded, a full refresh follows: %s", err);
    else if (strstr(err, "configuration"))
        log_notice("persist: not resuming: %s", err);
    monotime_now(&p.last_full);
    p.last_save = p.last_full;       /* nothing unsaved yet */

    while (!*stop) {
        enum session_end end = session(&p);
        if (end == SESSION_STOP)
            break;
        if (end == SESSION_RESTART) {
            backoff = DAEMON_BACKOFF_FIRST;
            continue;
        }
        /* A session that got through its refresh starts the back-off anew. */
        if (p.refreshed)
            backoff = DAEMON_BACKOFF_FIRST;
        if (failure_log_failed(&p.session_fl, p.error))
            log_err("persist: %s; retrying, the maps stay as they are", p.error);
        unsigned cap = cfg->sync_interval < PERSIST_BACKOFF_MAX ? cfg->sync_interval
                                                                 : PERSIST_BACKOFF_MAX;
        daemon_wait(daemon_backoff(&backoff, cap), stop, resync);
    }
    /* Changes already received are worth installing; a refresh cut short
     * is not (it may lack the deletions that end it). */
    if (p.dirty && !p.in_refresh)
        install_now(&p);
    /* Nor is its table worth saving (a full refresh has no cookie yet):
     * the state saved before it resumes correctly. */
    if (p.save_pending && !p.in_refresh)
        save_state(&p, false);
    persist_saver_reap(&p.saver, true);
    log_info("stopping");
    ldapdir_close(p.dir);
    mapbuild_free(p.mb);
    for (size_t i = 0; i < p.ndom; i++)
        free(p.dom[i].e);
    free(p.dom);
    uuidtab_free(&p.table);
    cookie_drop(&p);
    return rc;
}
