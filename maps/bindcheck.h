#ifndef MAILMAPS_BINDCHECK_H
#define MAILMAPS_BINDCHECK_H

/* What the LDAP bind of a configuration exposes, for the programs' -n,
 * their start and `mailmaps check` to report in the same words:
 *
 * - the bind password file: missing, unreadable, empty, or open to
 *   others (conf_read_secret's rules);
 * - the URIs a simple bind would send the password over in clear (and
 *   every password hash the sync then reads): ldap:// to a host other than
 *   loopback without ldap_starttls = yes. ldaps://, ldapi:// and loopback
 *   never leave the machine or are encrypted; an anonymous bind (no
 *   ldap_bind_dn) sends no password.
 *
 * Nothing here connects to LDAP. */

#include <stdbool.h>
#include <stddef.h>

#include "maps/conf.h"

/* bindcheck_secret - 0 when no password is needed (no ldap_bind_dn) or
 * its file reads fine; -1 with the reason (naming the file and the fix).
 * The password itself is read, cleared and released. */
int bindcheck_secret(const struct conf *cfg, char *err, size_t errsz);

/* bindcheck_uri_in_clear - a simple bind to uri sends its password in
 * clear unless StartTLS protects it (an ldap:// URI whose host is not
 * loopback: localhost, 127.0.0.0/8, ::1; an empty host is libldap's
 * localhost) */
bool bindcheck_uri_in_clear(const char *uri);

/* bindcheck_cleartext - how many of cfg's URIs a bind would send the
 * password over in clear (0 with a StartTLS or anonymous configuration);
 * when there are any, warn receives one sentence naming them and the fix. */
size_t bindcheck_cleartext(const struct conf *cfg, char *warn, size_t warnsz);

#endif
