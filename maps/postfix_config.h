#ifndef MAILMAPS_POSTFIX_CONFIG_H
#define MAILMAPS_POSTFIX_CONFIG_H

/* Postfix ldap_table(5) files for the fallback behind the cdb: maps, made
 * from the same settings as the sync (URIs, bind, base, filter, attribute
 * names), so `cdb:…/mailboxes, ldap:…/mailmaps-mailboxes.cf` asks LDAP the
 * same question the sync asked.
 *
 * Binding as the sync does: simple bind with the DN and the password file's
 * content (bind_pw: Postfix reads no password file, hence mode 0640); no DN
 * and only ldapi:// URIs: SASL EXTERNAL; no DN otherwise: anonymous.
 * StartTLS or ldaps:// verify the certificate (tls_require_cert = yes).
 *
 * The tables keep the cross-entry rules of the maps as far as a single
 * LDAP filter can, and list main.cf's order where it matters:
 *   domains    a domain is local only through some entry's mail (never an
 *              alias or list); alias_domains are left to domains.cdb.
 *   mailboxes  <domain>/<local>/Maildir/ from the lower-cased key, and only
 *              for an entry whose home and storage are absent or the
 *              defaults: a path of its own may collide with another
 *              account's, which only the sync sees.
 *   defer      after mailboxes: every other mail holder is a temporary
 *              failure (two result elements against expansion_limit = 1),
 *              so its mail waits for a sync instead of bouncing.
 *   mail       a mail address is itself; before aliases, so that an alias
 *              or list claim never takes some entry's mail address.
 *   aliases    aliases and lists, asked only in a mailbox domain
 *              (domains.cdb, then the domains table) or in alias_domains.
 * With the issue-16 settings (iRedMail-style directories):
 *   domains    with ldap_domain_filter, the domain entries' primary and
 *              alias domains instead of the accounts' domains.
 *   forward    before mail: an account's forwarding addresses
 *              (ldap_attr_forward, gated by ldap_forward_filter).
 *   aliases    the alias attribute only on entries ldap_alias_filter admits.
 *   alias-domains  last: u@D -> u@P for D an alias domain of P
 *              (result_format %U@%s), as aliases.cdb derives it.
 * What an ldap: table still cannot answer as the map does (verified against
 * Postfix 3.7 and OpenLDAP 2.5 by tests/integration/t-postfix-config.sh) is
 * written into each file's comment: answers of OK once per account, a
 * domain larger than the server's size limit (a temporary failure),
 * addresses as stored and list members in the server's order, an alias
 * two entries claim goes to both, list names match by the group
 * attribute's own rule, entries the sync skips may still be found.
 * Mailbox and alias queries use %u@%d, so Postfix asks LDAP only for full
 * addresses: its "@domain" and bare "user" lookups, which no map holds,
 * cost no search. Still, behind fresh maps Postfix asks the mail table
 * about every mailbox address (no key of aliases.cdb) and the domains
 * table about every domain not ours (each sender's). */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "maps/conf.h"

/* In the order main.cf lists them: forward before mail before aliases
 * before alias domains matters (the first table that answers wins). */
enum postfix_table {
    POSTFIX_DOMAINS,
    POSTFIX_MAILBOXES,
    POSTFIX_DEFER,
    POSTFIX_FORWARD,       /* only with ldap_attr_forward */
    POSTFIX_MAIL,
    POSTFIX_ALIASES,
    POSTFIX_ALIAS_DOMAINS, /* only with ldap_domain_filter and an alias attribute */
    POSTFIX_TABLES
};

/* postfix_config_name - "mailmaps-domains.cf", …; NULL out of range */
const char *postfix_config_name(enum postfix_table t);

/* postfix_config_used - cfg needs table t (the forward and alias domain
 * tables only where their settings are given) */
bool postfix_config_used(const struct conf *cfg, enum postfix_table t);

/* postfix_config_format - the text of one table file into out. dir is where
 * the file goes (named in its comment; NULL = /etc/postfix); secret is the
 * bind password or NULL. 0, or -1 with a reason: a table cfg does not use
 * (postfix_config_used), a value that Postfix's
 * configuration syntax cannot hold as it is (a blank at either end, a
 * control character, a comma in a URI), or a write error. */
int postfix_config_format(const struct conf *cfg, enum postfix_table t, const char *dir,
                          const char *secret, FILE *out, char *err, size_t errsz);

/* postfix_config_write - all that cfg uses: into dir, each replaced atomically,
 * mode 0640 when it holds the bind password and 0644 otherwise; or, when
 * dir is NULL, to stdout, each preceded by a "# FILE" line. Nothing is
 * written when any value cannot be. 0 or -1 with a reason. */
int postfix_config_write(const struct conf *cfg, const char *dir, char *err, size_t errsz);

#endif
