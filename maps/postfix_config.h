#ifndef MAILMAPS_POSTFIX_CONFIG_H
#define MAILMAPS_POSTFIX_CONFIG_H

/* Postfix ldap_table(5) files for the fallback behind the cdb: maps, made
 * from the same settings as the sync (URIs, bind, base, filter, attribute
 * names), so `cdb:…/mailboxes, ldap:…/mailmaps-mailboxes.cf` asks LDAP the
 * same question the sync asked. */

#include <stddef.h>
#include <stdio.h>

#include "maps/conf.h"

enum postfix_table { POSTFIX_DOMAINS, POSTFIX_MAILBOXES, POSTFIX_ALIASES, POSTFIX_TABLES };

/* postfix_config_name - "mailmaps-domains.cf", … */
const char *postfix_config_name(enum postfix_table t);

/* postfix_config_format - the text of one table file into out. secret is
 * the bind password (or NULL). 0 or -1 on a write error. */
int postfix_config_format(const struct conf *cfg, enum postfix_table t,
                          const char *secret, FILE *out);

/* postfix_config_write - all three: into dir (mode 0640, since they hold the
 * bind password), or to stdout, each preceded by "# FILE", when dir is NULL. */
int postfix_config_write(const struct conf *cfg, const char *dir, char *err, size_t errsz);

#endif
