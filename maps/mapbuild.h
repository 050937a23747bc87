#ifndef MAILMAPS_MAPBUILD_H
#define MAILMAPS_MAPBUILD_H

/* Accounts -> the four maps. The sync adds every account of the directory
 * and feeds what mapbuild_finish() emits to its map writers; a fallback
 * adds the few entries an LDAP search for one key returned and takes the
 * value for that key with mapbuild_lookup(). One implementation for both.
 *
 * Resolution (independent of the order accounts were added):
 *   - accounts are taken in the order of their normalised DN (ties broken
 *     by the rest of the content; an exact duplicate is dropped silently);
 *   - a mail claim beats any alias claim; of two accounts with the same
 *     mail the smaller DN keeps it and the other is dropped (the mail is
 *     its identity), with a warning naming both;
 *   - homes and mailbox directories are each account's own: of two that
 *     are the same or lie one inside the other, a home made from the
 *     account's own address (mail_base/domain/local, and the default
 *     mailbox) beats one given in the entry, else the smaller DN keeps
 *     it; the other entry is skipped with a warning naming both;
 *   - an alias or list address must lie in the domain of a mailbox that
 *     stays or in alias_domains, else that claim is dropped with a
 *     warning; between alias claims the smaller DN wins, the loser
 *     loses that alias only, with a warning naming both DNs;
 *   - a list (group) address that is some account's mail or alias stays
 *     theirs: the list memberships are dropped with one warning;
 *   - domains.cdb holds the domains of the mailboxes and of the aliases
 *     and lists that stay (so mailbox domains and alias_domains only);
 *   - an account with forwarding addresses (account.forward) has its mail
 *     as an aliases.cdb key whose value is them (its own address among
 *     them keeps a copy in the mailbox); a forward adds no other key;
 *   - with alias_login, users.cdb also has each alias that stays, with
 *     its account's record and "user=<mail>".
 * With ldap_domain_filter set, domain entries
 * (mapbuild_add_domain; their own rules in mapdomains.h) decide instead:
 *   - an account whose mail is in none of their primary domains is
 *     skipped with a warning; aliases and lists may lie in their primary
 *     and alias domains and in alias_domains;
 *   - domains.cdb = the primary and alias domains that stay +
 *     alias_domains;
 *   - for every key u@P of mailboxes.cdb or aliases.cdb, P primary with
 *     alias domain D, aliases.cdb gets u@D -> u@P unless an entry claims
 *     u@D (as its mail, an alias or a list).
 * Each map is emitted in key order (bytewise), maps in enum map_id order.
 *
 * Memory: accounts are packed into one arena per build (about the size of
 * DN + mail + password + 30 bytes each); user records and default paths
 * are made again while emitting, not stored. */

#include <stddef.h>
#include <stdint.h>

#include "maps/account.h"
#include "maps/conf.h"
#include "maps/entry.h"
#include "maps/mapset.h"

struct mapbuild;

/* Called for each record, in order. Return 0 to go on, > 0 to stop early
 * (mapbuild_finish then returns 0), < 0 for an error (finish returns -1).
 * key and val are not NUL terminated and valid only during the call. */
typedef int mapbuild_emit_fn(void *ctx, enum map_id map, const char *key,
                             size_t keylen, const char *val, size_t vallen);

struct mapbuild_counts {
    size_t accounts;     /* accounts added */
    size_t users;        /* keys in users.cdb (= mailboxes.cdb) */
    size_t aliases;      /* keys in aliases.cdb (aliases and lists) */
    size_t domains;      /* keys in domains.cdb */
    size_t dropped;      /* accounts dropped because another one has their mail */
    size_t lost;         /* aliases and list memberships lost to a conflict */
    size_t passwords;    /* accounts in users.cdb with a password */
};

/* mapbuild_new - an empty build for cfg (kept by reference: it must
 * outlive the build). warn (may be NULL) receives conflict warnings
 * during mapbuild_finish and entry warnings in mapbuild_add_entry. NULL
 * when out of memory. */
struct mapbuild *mapbuild_new(const struct conf *cfg, account_warn_fn *warn, void *ctx);
void mapbuild_free(struct mapbuild *mb);

/* mapbuild_add - copy account a into the build. 0, or -1 with a reason
 * (no memory, or an account without mail/home/mailbox). */
int mapbuild_add(struct mapbuild *mb, const struct account *a, char *err, size_t errsz);

/* mapbuild_add_entry - account_from_entry + mapbuild_add: 1 added,
 * 0 skipped for bad data (warned), -1 error with a reason. */
int mapbuild_add_entry(struct mapbuild *mb, const struct entry *e, char *err, size_t errsz);

/* mapbuild_add_domain - one domain entry (dn and attributes, as ldapdir
 * hands over account entries; used when ldap_domain_filter is set); 0, or
 * -1 on memory/size errors (a bad entry is 0 with one warning through the
 * usual channel). An entry with the DN of one added before replaces it
 * (persist mode: a changed domain entry is simply added again). */
int mapbuild_add_domain(struct mapbuild *mb, const struct entry *e, char *err, size_t errsz);

/* mapbuild_remove_domain - forget the domain entry with DN dn (any form:
 * normalised here). 1 removed, 0 not there, -1 out of memory. */
int mapbuild_remove_domain(struct mapbuild *mb, const char *dn);

/* mapbuild_add_id - mapbuild_add, and *id_r (may be NULL) = the
 * account's id in this build, for mapbuild_remove */
int mapbuild_add_id(struct mapbuild *mb, const struct account *a, uint32_t *id_r,
                    char *err, size_t errsz);

/* mapbuild_remove - take the account with that id out of the build (a
 * changed account is removed and added again: persist mode). Its bytes
 * stay in the arena until the build is freed; an unknown id is ignored. */
void mapbuild_remove(struct mapbuild *mb, uint32_t id);

/* mapbuild_count - accounts in the build */
size_t mapbuild_count(const struct mapbuild *mb);

/* mapbuild_removed - accounts removed, still taking arena space (a
 * caller rebuilds when there are many) */
size_t mapbuild_removed(const struct mapbuild *mb);

/* mapbuild_resolve - decide which account owns which address and which
 * list memberships count (conflict warnings go to warn now). Needed
 * before mapbuild_emit; adding an account undoes it. counts_r (may be
 * NULL) gets accounts, dropped and lost. 0, or -1 with a reason. */
int mapbuild_resolve(struct mapbuild *mb, struct mapbuild_counts *counts_r,
                     char *err, size_t errsz);

/* mapbuild_emit - the records of one map, in key order, to emit; the
 * build is only read, so different maps may be emitted in parallel
 * threads. *count_r (may be NULL) = records emitted. 0 done, 1 when emit
 * stopped it early, -1 with a reason (an emit error, no memory). */
int mapbuild_emit(const struct mapbuild *mb, enum map_id map, mapbuild_emit_fn *emit,
                  void *ctx, size_t *count_r, char *err, size_t errsz);

/* mapbuild_finish - resolve and emit every map. May be called more than
 * once (each call resolves again and warns again); accounts may be added
 * in between. counts_r may be NULL. 0, or -1 with a reason (an emit
 * error, no memory). */
int mapbuild_finish(struct mapbuild *mb, mapbuild_emit_fn *emit, void *ctx,
                    struct mapbuild_counts *counts_r, char *err, size_t errsz);

/* mapbuild_lookup - the value for key (lower-cased here) in map, as the
 * maps would hold it after a sync of the accounts added: 1 found with
 * *val_r (malloc'ed, NUL terminated, caller frees) and *vallen_r, 0 not
 * found, -1 with a reason. */
int mapbuild_lookup(struct mapbuild *mb, enum map_id map, const char *key,
                    size_t keylen, char **val_r, size_t *vallen_r,
                    char *err, size_t errsz);

#endif
