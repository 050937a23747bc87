#ifndef MAILMAPS_LOOKUP_H
#define MAILMAPS_LOOKUP_H

/* One key, answered the way every reader must (design.md "Fallback rules"):
 *   1. fresh maps that hold the key answer;
 *   2. a key the maps lack, or any key while they are stale or missing, is
 *      asked of LDAP with the sync's own mapping and cross-entry rules
 *      (every claimant of the key through mapbuild, plus what could take
 *      the answer from them), so the answer is the one the maps would
 *      give; what a few entries cannot decide (an account with a home or
 *      mailbox of its own, an owner whose own address is contested) is a
 *      temporary failure, never an answer the maps would not give
 *      (lookup.c says exactly what is fetched and refused);
 *   3. LDAP unreachable: stale maps that hold the key still answer;
 *      otherwise a temporary failure, never "not found".
 * LDAP answers are cached for fallback_cache_ttl (found and not found), so
 * a mail storm to one new user is not a storm of LDAP queries.
 *
 * The Dovecot driver and the policy daemon are glue around this. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "maps/conf.h"
#include "maps/ldapdir.h"
#include "maps/mapset.h"

enum lookup_result {
    LOOKUP_TEMPFAIL = -1,    /* no answer can be had now */
    LOOKUP_NOTFOUND = 0,
    LOOKUP_FOUND = 1,
};

enum lookup_source {
    LOOKUP_FROM_MAP,         /* fresh maps */
    LOOKUP_FROM_LDAP,        /* LDAP (or its cached answer) */
    LOOKUP_FROM_STALE_MAP,   /* stale or partial maps, LDAP unreachable */
};

/* LDAP answers are kept for fallback_cache_ttl seconds (0: not at all) in
 * this many slots per handle. */
#define LOOKUP_CACHE_SLOTS 1024

struct lookup;

/* lookup_new - maps from cfg->maps_dir, LDAP from cfg's settings (no
 * connection yet). cfg must outlive the handle. NULL with a reason. */
struct lookup *lookup_new(const struct conf *cfg, char *err, size_t errsz);
void lookup_free(struct lookup *lk);

/* lookup_mapset - the maps (watch fd for event loops, iteration) */
struct mapset *lookup_mapset(struct lookup *lk);

/* lookup_key - the value of key in map (MAP_USERS, MAP_MAILBOXES or
 * MAP_ALIASES; MAP_DOMAINS answers from the maps only unless
 * ldap_domain_filter is set). The key is
 * lower-cased here. *val_r and *len_r belong to the handle until the next
 * call (not NUL terminated when from a map). On LOOKUP_TEMPFAIL err says
 * why. source_r may be NULL. */
enum lookup_result lookup_key(struct lookup *lk, enum map_id map, const char *key,
                              size_t keylen, const char **val_r, size_t *len_r,
                              enum lookup_source *source_r, char *err, size_t errsz);

/* lookup_set_clock - tests: a fixed "now" (0 = the real clock) */
void lookup_set_clock(struct lookup *lk, time_t now);

/* The searches a fallback answer is made of, as ldapdir runs them: key
 * as ldapdir_search_key, domain as ldapdir_search_domain, dname as
 * ldapdir_search_domain_name (same arguments, same returns). */
typedef int lookup_search_fn(void *ctx, const char *what, ldapdir_entry_fn *cb,
                             void *cbctx, char *err, size_t errsz);
struct lookup_searches {
    lookup_search_fn *key, *domain, *dname;
    void *ctx;
};

/* lookup_set_searches - tests: take the entries from s instead of LDAP
 * (NULL: LDAP again); s is copied */
void lookup_set_searches(struct lookup *lk, const struct lookup_searches *s);

#endif
