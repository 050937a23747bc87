#ifndef MAILMAPS_AUTHDB_H
#define MAILMAPS_AUTHDB_H

/* The users.cdb record as Dovecot's passdb and userdb see it: which fields
 * are userdb fields, the password split into scheme and hash, and the
 * "can the maps answer alone?" test that lets the Dovecot driver answer in
 * the auth process and hand only LDAP work to its auth workers.
 *
 * Nothing here knows Dovecot; dovecot-plugin/authdb-mailmaps.c is the glue. */

#include <stdbool.h>
#include <stddef.h>

#include "maps/lookup.h"
#include "maps/userrec.h"

/* Longest scheme name accepted inside "{...}" (Dovecot's are far shorter). */
#define AUTHDB_SCHEME_MAX 32

/* authdb_userdb_field - true when a users.cdb field belongs in the userdb
 * reply (everything but the password, which is passdb only) */
bool authdb_userdb_field(const char *name);

/* authdb_password - the record's password as (scheme, hash). A stored
 * "{SCHEME}hash" gives SCHEME and hash; anything else is a hash in
 * default_scheme. scheme is copied into buf; *hash_r points into rec.
 * 1 found, 0 the record has no (or an empty) password, -1 with a reason
 * when the scheme (or the default) does not fit buf or is not a name. */
int authdb_password(const struct userrec *rec, const char *default_scheme,
                    char *scheme, size_t schemesz, const char **hash_r,
                    char *err, size_t errsz);

/* authdb_record - decode a users.cdb value (from the maps or from LDAP)
 * into rec; -1 with "user KEY: reason". */
int authdb_record(struct userrec *rec, const char *user, const char *val,
                  size_t len, char *err, size_t errsz);

/* authdb_local - answer from fresh maps only, never from LDAP: 1 with the
 * users.cdb value (*val_r, *len_r belong to the maps until the next call on
 * lk), 0 when only LDAP can answer (key absent, maps stale or missing). The
 * key is lower-cased into keybuf (keybufsz bytes, NUL terminated); a key
 * that does not fit, is empty or holds a NUL also gives 0 (LDAP decides). */
int authdb_local(struct lookup *lk, const char *user, char *keybuf,
                 size_t keybufsz, const char **val_r, size_t *len_r);

#endif
