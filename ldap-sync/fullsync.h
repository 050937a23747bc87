#ifndef MAILMAPS_FULLSYNC_H
#define MAILMAPS_FULLSYNC_H

/* One full sync: every account from LDAP into a new set of maps, installed
 * only when the search was complete and the result passes max_shrink. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "maps/conf.h"

enum sync_result {
    SYNC_DONE = 0,      /* maps installed */
    SYNC_FAILED = 1,    /* LDAP or disk: old maps untouched */
    SYNC_REFUSED = 3,   /* max_shrink: old maps untouched */
};

struct sync_report {
    uint64_t entries;       /* entries the search returned */
    uint64_t domain_entries; /* domain entries (ldap_domain_filter) */
    uint64_t skipped;       /* entries skipped for bad data */
    uint64_t users, aliases, domains;
    uint64_t old_users;
    uint64_t passwords;     /* users with a password */
    uint64_t old_passwords; /* in the installed maps (their status), 0 unknown */
    uint64_t duration_ms;
    uint64_t search_ms;     /* of which: the LDAP search (full sync only) */
    uint64_t build_ms;      /* resolving and emitting the records */
    uint64_t write_ms;      /* writing, fsync, checksum, rename */
    uint64_t generation;
    bool unchanged;         /* the maps in place were already these: none replaced */
    char source[512];       /* the URI that answered */
    char error[1024];       /* why, when not SYNC_DONE */
};

/* fullsync_run - one sync. stop (may be NULL) is polled while entries
 * arrive: when it becomes non-zero the sync is abandoned (SYNC_FAILED).
 * Warnings about entries go to the log; the outcome is the caller's to
 * log. */
enum sync_result fullsync_run(const struct conf *cfg, bool force,
                              volatile sig_atomic_t *stop, struct sync_report *rep);

/* fullsync_dry_run - the same search and resolution, nothing installed:
 * every skipped entry and every dropped claim as "DN: reason" lines to
 * out, then "# ..." report lines: the summary, whether the search was
 * complete, the keys of users.cdb and aliases.cdb an install would add
 * ("+ key") and remove ("- key") against the maps in maps_dir (counts, the
 * first 10 of each), the accounts with a password, and what max_shrink
 * would say. SYNC_DONE, or SYNC_FAILED with rep->error (nothing recorded
 * in the status). */
enum sync_result fullsync_dry_run(const struct conf *cfg, FILE *out, struct sync_report *rep);

#endif
