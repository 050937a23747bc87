#ifndef MAILMAPS_LDAPSOCK_H
#define MAILMAPS_LDAPSOCK_H

/* What mailmaps does to the socket under libldap, for every connection
 * ldapdir makes: TCP keepalive, and a read-ahead layer that turns three
 * system calls per entry into one read() per 64 KiB. Both are only
 * optimisations or safety nets: when they cannot be set up, the
 * connection works as libldap made it. */

#include <stdbool.h>

#include <lber.h>
#include <ldap.h>

/* ldapsock_keepalive - TCP keepalive options on ld, before it connects
 * (libldap applies them to each socket it opens) */
void ldapsock_keepalive(LDAP *ld);

/* ldapsock_readahead_add - the read-ahead layer on ld's connection, in
 * bulk mode. Call once the bind is done: nothing the layers below have
 * read can then be in flight. */
void ldapsock_readahead_add(LDAP *ld);

/* ldapsock_readahead_push - the same on a Sockbuf: 0, or -1 (no layer) */
int ldapsock_readahead_push(Sockbuf *sb);

/* ldapsock_bulk - bulk mode (whole-directory searches) on or off (key
 * searches: their latency counts); no layer on ld: nothing to do */
void ldapsock_bulk(LDAP *ld, bool on);

/* ldapsock_sb_bulk - the same on a Sockbuf; true if it has the layer */
bool ldapsock_sb_bulk(Sockbuf *sb, bool on);

#endif
