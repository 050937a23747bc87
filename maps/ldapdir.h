#ifndef MAILMAPS_LDAPDIR_H
#define MAILMAPS_LDAPDIR_H

/* The directory: LDAP access for the sync and for every LDAP fallback.
 *
 * One handle holds at most one connection. It connects lazily on the first
 * search, trying each ldap_uri in order (failover), and keeps the
 * connection for the next call, so a long-running reader (the Dovecot auth
 * worker, the policy daemon) pays the bind once. A connection that turns
 * out to be dead when a search starts (a server restart, an idle timeout)
 * is replaced once, transparently, again walking the URI list from the
 * first. Every network wait is bounded by ldap_timeout: a dead server costs
 * about ldap_timeout per URI.
 *
 * Searches stream entries to a callback as struct entry (maps/entry.h);
 * the entry and everything it points to belong to the handle and are valid
 * only during that callback. A search result is complete or it is an
 * error: a size limit, a time limit, a referral, a lost connection or a
 * timeout midway is -1, never a short success.
 *
 * Signals do not cut a wait short (LDAP_OPT_RESTART): a program that must
 * stop a long search on SIGTERM returns non-zero from its callback.
 *
 * Not for concurrent use: one handle per thread, and a callback must not
 * call back into the same handle. libldap writes to sockets that the
 * server may have closed: programs should ignore SIGPIPE (the library
 * does not touch signal dispositions). */

#include <stddef.h>
#include <ldap.h>

#include "maps/conf.h"
#include "maps/entry.h"

/* The attributes an account search asks for: the nine ldap_attr_* names,
 * ldap_attr_forward, the attributes ldap_alias_filter and
 * ldap_forward_filter test (mailmaps evaluates them on the entry), at most
 * LDAPDIR_FILTER_ATTR_MAX of those, plus entryUUID (empty ones and
 * duplicates left out). */
#define LDAPDIR_FILTER_ATTR_MAX 16
#define LDAPDIR_ATTR_MAX (11 + LDAPDIR_FILTER_ATTR_MAX)

/* A domain search (ldap_domain_filter) asks for ldap_attr_domain,
 * ldap_attr_domain_alias and entryUUID. */
#define LDAPDIR_DOMAIN_ATTR_MAX 3

/* A key search that matches more entries than this fails: no key needs
 * that many entries (a distribution list that large is served from the
 * maps), and the bound keeps a fallback lookup cheap. */
#define LDAPDIR_KEY_MAX 1000

/* A key longer than this cannot be a mail address (SMTP caps paths at 256
 * bytes): such a key search returns no entries without asking the server. */
#define LDAPDIR_KEY_LEN_MAX 1024

struct ldapdir;

/* One entry of a search. A non-zero return stops the search. */
typedef int ldapdir_entry_fn(void *ctx, const struct entry *e);

/* ldapdir_open - a handle for cfg's directory settings; does not connect.
 * cfg must outlive the handle. NULL with a reason when the settings cannot
 * work (no URI, no base, a bad attribute name) or out of memory. */
struct ldapdir *ldapdir_open(const struct conf *cfg, char *err, size_t errsz);

/* ldapdir_close - unbind and free; NULL is fine */
void ldapdir_close(struct ldapdir *dir);

/* ldapdir_connect - connect now unless connected: 0, or -1 naming every URI
 * tried and why each failed. Searches call it themselves; a program may
 * call it to fail early at start-up. */
int ldapdir_connect(struct ldapdir *dir, char *err, size_t errsz);

/* ldapdir_disconnect - drop the connection (the next search reconnects,
 * starting again from the first URI) */
void ldapdir_disconnect(struct ldapdir *dir);

/* ldapdir_search_all - every entry matching ldap_filter in the subtree of
 * ldap_base, with RFC 2696 paged results of ldap_page_size entries.
 * Returns 0 when the search completed (success and an empty cookie on the
 * last page), 1 when the callback stopped it, -1 on any other outcome
 * (reason in err; the entries delivered so far are not the directory). */
int ldapdir_search_all(struct ldapdir *dir, ldapdir_entry_fn *cb, void *ctx,
                       char *err, size_t errsz);

/* ldapdir_search_key - the entries that may yield records for address:
 * those matching ldap_filter whose mail, alias or group attribute equals
 * it (so a list address brings its members). Same returns as
 * ldapdir_search_all; more than LDAPDIR_KEY_MAX entries is -1. */
int ldapdir_search_key(struct ldapdir *dir, const char *address,
                       ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz);

/* A domain search asks for pages this small: its caller usually stops at
 * the first entry, and a page the server has sent is read even then. */
#define LDAPDIR_DOMAIN_PAGE 8

/* ldapdir_search_domain - the entries matching ldap_filter whose mail
 * attribute ends in "@domain" (a substring search: index mail for "sub"),
 * in pages of LDAPDIR_DOMAIN_PAGE, for a callback that stops the search
 * once it has seen enough. Same returns as ldapdir_search_all. */
int ldapdir_search_domain(struct ldapdir *dir, const char *domain,
                          ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz);

/* ldapdir_search_domains - every domain entry: those matching
 * ldap_domain_filter in the subtree of ldap_base, paged as
 * ldapdir_search_all, with the domain attributes. Same returns; -1 when
 * ldap_domain_filter is empty. */
int ldapdir_search_domains(struct ldapdir *dir, ldapdir_entry_fn *cb, void *ctx,
                           char *err, size_t errsz);

/* ldapdir_search_domain_name - the domain entries that name domain as
 * their primary or as an alias domain (ldapdir_domain_name_filter), with
 * the domain attributes. Same returns as ldapdir_search_key. */
int ldapdir_search_domain_name(struct ldapdir *dir, const char *domain,
                               ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz);

/* ldapdir_entry_count - entries delivered by the last search */
size_t ldapdir_entry_count(const struct ldapdir *dir);

/* ldapdir_uri - the URI of the current or last connection ("" if none
 * was ever made): the status file's source= */
const char *ldapdir_uri(const struct ldapdir *dir);

/* ---- for searches the caller runs itself (the RFC 4533 persist mode):
 * the same connection, filter, attributes and entry conversion ---- */

/* ldapdir_ldap - the libldap handle of the current connection, NULL when
 * not connected (call ldapdir_connect first). It stays the handle's: do
 * not unbind it; on trouble call ldapdir_disconnect. */
LDAP *ldapdir_ldap(struct ldapdir *dir);

/* ldapdir_filter - ldap_filter as the searches use it (parenthesised) */
const char *ldapdir_filter(const struct ldapdir *dir);

/* ldapdir_attrs - the NULL-terminated attribute list the searches request
 * (ldapdir_attr_list), owned by the handle, for ldap_search_ext() */
char **ldapdir_attrs(struct ldapdir *dir);

/* ldapdir_domains_filter - ldap_domain_filter as the domain searches use
 * it (parenthesised), NULL when it is empty */
const char *ldapdir_domains_filter(const struct ldapdir *dir);

/* ldapdir_domain_attrs - the NULL-terminated attribute list of a domain
 * search, owned by the handle */
char **ldapdir_domain_attrs(struct ldapdir *dir);

/* ldapdir_entry_deliver - convert the SearchResultEntry msg of the current
 * connection to a struct entry and call cb with it (valid during the
 * call). 0 delivered, 1 cb returned non-zero, -1 undecodable entry or out
 * of memory (reason in err). Does not count towards ldapdir_entry_count.
 * The entry is decoded in place (the strings are NUL-terminated inside
 * msg's buffer): read msg's controls (ldap_get_entry_controls) before. */
int ldapdir_entry_deliver(struct ldapdir *dir, LDAPMessage *msg, ldapdir_entry_fn *cb,
                          void *ctx, char *err, size_t errsz);

/* ldapdir_entry_decode - the attribute list of an entry into *e, in one
 * pass and in place: ber is positioned at the first attribute and bounded
 * to the list, as ldap_get_dn_ber() leaves it; dn becomes e->dn. Names
 * and values point into ber's buffer (each NUL-terminated there), the
 * arrays are the handle's: valid until the next decode. 0, or -1 for an
 * undecodable list or out of memory (reason in err). */
int ldapdir_entry_decode(struct ldapdir *dir, BerElement *ber, const char *dn,
                         struct entry *e, char *err, size_t errsz);

/* ---- pure helpers, exposed for the unit tests and postfix_config ---- */

/* ldapdir_key_filter - "(&FILTER(|(MAIL=a)(ALIAS=a)(GROUP=a)))" for
 * address a (escaped; an empty alias or group setting drops its term; with
 * ldap_alias_filter the alias term is "(&ALIASFILTER(ALIAS=a))").
 * Malloc'ed (caller frees), or NULL with a reason. */
char *ldapdir_key_filter(const struct conf *cfg, const char *address, size_t len,
                         char *err, size_t errsz);

/* ldapdir_domain_filter - "(&FILTER(MAIL=*@d))" for domain d (escaped).
 * Malloc'ed (caller frees), or NULL with a reason. */
char *ldapdir_domain_filter(const struct conf *cfg, const char *domain, size_t len,
                            char *err, size_t errsz);

/* ldapdir_domain_name_filter - "(&DOMAINFILTER(|(DOMAIN=d)(ALIAS=d)))" for
 * domain d (escaped; an empty ldap_attr_domain_alias drops its term).
 * Malloc'ed (caller frees), or NULL with a reason (also when
 * ldap_domain_filter is empty). */
char *ldapdir_domain_name_filter(const struct conf *cfg, const char *domain, size_t len,
                                 char *err, size_t errsz);

/* ldapdir_attr_list - the attributes to request into list (NULL
 * terminated, pointing into cfg); returns how many */
size_t ldapdir_attr_list(const struct conf *cfg, const char *list[LDAPDIR_ATTR_MAX + 1]);

#endif
