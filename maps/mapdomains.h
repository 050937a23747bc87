#ifndef MAILMAPS_MAPDOMAINS_H
#define MAILMAPS_MAPDOMAINS_H

/* Domain entries -> the local domains and their alias domains (used when
 * ldap_domain_filter is set; mapbuild holds one set per build).
 *
 * Each entry names one primary domain (ldap_attr_domain: exactly one valid
 * value, else the entry is skipped with one warning) and its alias domains
 * (ldap_attr_domain_alias: a bad value costs that value only). Resolution
 * (independent of the order entries were added):
 *   - an entry added again under the same normalised DN replaces the
 *     earlier one (persist mode);
 *   - a primary domain named by two entries stays with the smaller
 *     normalised DN; the other entry is skipped (with its alias domains),
 *     with a warning naming both DNs: no entry takes another's primary;
 *   - an alias domain that is some entry's primary domain is dropped;
 *     between two alias claims the smaller DN keeps it; the loser loses
 *     that name only, with a warning naming both DNs.
 * Strings handed out belong to the set until the next add, remove or
 * resolve. */

#include <stdbool.h>
#include <stddef.h>

#include "maps/account.h"
#include "maps/conf.h"
#include "maps/entry.h"

struct mapdomains;

/* mapdomains_new - an empty set; NULL when out of memory */
struct mapdomains *mapdomains_new(void);
void mapdomains_free(struct mapdomains *md);

/* mapdomains_add_entry - read domain entry e with cfg's attribute names:
 * 1 added, 0 skipped for bad data (warn called once), -1 out of memory
 * (reason in err). warn may be NULL. */
int mapdomains_add_entry(struct mapdomains *md, const struct conf *cfg, const struct entry *e,
                         account_warn_fn *warn, void *ctx, char *err, size_t errsz);

/* mapdomains_remove - forget the entry with DN dn (any form: it is
 * normalised here); 1 removed, 0 not there, -1 out of memory */
int mapdomains_remove(struct mapdomains *md, const char *dn);

/* mapdomains_count - entries added (and not removed or replaced) */
size_t mapdomains_count(const struct mapdomains *md);

/* mapdomains_resolve - decide who keeps which name (warnings now, warn
 * may be NULL). Needed before the queries below; adding or removing an
 * entry undoes it. 0, or -1 out of memory (reason in err). */
int mapdomains_resolve(struct mapdomains *md, account_warn_fn *warn, void *ctx, char *err,
                       size_t errsz);

/* mapdomains_primary - domain (lower-case, len bytes) is a primary domain
 * that stays */
bool mapdomains_primary(const struct mapdomains *md, const char *domain, size_t len);

/* mapdomains_primary_of - the primary domain of alias domain domain (kept),
 * or NULL */
const char *mapdomains_primary_of(const struct mapdomains *md, const char *domain, size_t len);

/* mapdomains_kind - what domain is: MAPDOMAINS_PRIMARY or MAPDOMAINS_ALIAS
 * (a name that stays), else MAPDOMAINS_NONE */
enum mapdomains_kind { MAPDOMAINS_NONE, MAPDOMAINS_PRIMARY, MAPDOMAINS_ALIAS };
enum mapdomains_kind mapdomains_kind(const struct mapdomains *md, const char *domain, size_t len);

/* mapdomains_aliases - the alias domains primary domain keeps, sorted:
 * the count, *list_r pointing at them (0 and NULL for none) */
size_t mapdomains_aliases(const struct mapdomains *md, const char *primary, size_t len,
                          const char *const **list_r);

/* mapdomains_name_count / mapdomains_name - the names that stay (primary
 * and alias domains), sorted bytewise, unique */
size_t mapdomains_name_count(const struct mapdomains *md);
const char *mapdomains_name(const struct mapdomains *md, size_t i);

#endif
