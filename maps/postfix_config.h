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
 * What an ldap: table cannot answer as the map does (verified against
 * Postfix 3.7 and OpenLDAP 2.5 by tests/integration/t-postfix-config.sh) is
 * written into each file's comment:
 *   domains    OK once per matching account ("OK,OK,…"; Postfix uses only
 *              whether the domain is found); a domain with more accounts
 *              than the server's size limit is a temporary failure; a domain
 *              whose only addresses are list names needs a substring rule
 *              on the group attribute (the Postfix Book schema has none).
 *   mailboxes  the default <domain>/<local>/Maildir/ from the lower-cased
 *              key, also for accounts with their own storage directory.
 *   aliases    addresses as stored (not lower-cased), list members in the
 *              server's order (not sorted), an address claimed by several
 *              entries goes to all of them, and list names match with the
 *              group attribute's own rule (case-exact in the schema).
 * Mailbox and alias queries use %u@%d, so Postfix asks LDAP only for full
 * addresses: its "@domain" and bare "user" lookups, which no map holds,
 * cost no search. Still, behind fresh maps Postfix asks the aliases table
 * about every mailbox address (no key of aliases.cdb) and the domains
 * table about every domain not ours (each sender's). */

#include <stddef.h>
#include <stdio.h>

#include "maps/conf.h"

/* In the order main.cf lists them: mail before aliases matters. */
enum postfix_table {
    POSTFIX_DOMAINS,
    POSTFIX_MAILBOXES,
    POSTFIX_DEFER,
    POSTFIX_MAIL,
    POSTFIX_ALIASES,
    POSTFIX_TABLES
};

/* postfix_config_name - "mailmaps-domains.cf", …; NULL out of range */
const char *postfix_config_name(enum postfix_table t);

/* postfix_config_format - the text of one table file into out. dir is where
 * the file goes (named in its comment; NULL = /etc/postfix); secret is the
 * bind password or NULL. 0, or -1 with a reason: a value that Postfix's
 * configuration syntax cannot hold as it is (a blank at either end, a
 * control character, a comma in a URI), or a write error. */
int postfix_config_format(const struct conf *cfg, enum postfix_table t, const char *dir,
                          const char *secret, FILE *out, char *err, size_t errsz);

/* postfix_config_write - all three: into dir, each replaced atomically,
 * mode 0640 when it holds the bind password and 0644 otherwise; or, when
 * dir is NULL, to stdout, each preceded by a "# FILE" line. Nothing is
 * written when any value cannot be. 0 or -1 with a reason. */
int postfix_config_write(const struct conf *cfg, const char *dir, char *err, size_t errsz);

#endif
