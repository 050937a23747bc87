#ifndef MAILMAPS_PERSIST_STATE_H
#define MAILMAPS_PERSIST_STATE_H

/* What a persist daemon needs to resume after a restart instead of starting
 * over: the sync cookie and the accounts it belongs to (entryUUID ->
 * account), saved beside the maps each time maps are installed. It holds
 * password hashes: mode 0600. A state made under another configuration is
 * not used (the digest of the config file is part of it). */

#include <stddef.h>
#include <ldap.h>

#include "ldap-sync/uuidtab.h"
#include "maps/conf.h"
#include "maps/sha256.h"

/* persist_state_save - write table and cookie to path atomically. 0 or -1
 * with a reason. */
int persist_state_save(const char *path, const char *conf_digest, const struct berval *cookie,
                       struct uuidtab *table, char *err, size_t errsz);

/* persist_state_load - 1 loaded into table (empty before) and *cookie
 * (malloc'ed bv_val), 0 no usable state (missing, or another config:
 * reason in err), -1 unreadable, corrupt, or an account in it fails
 * account_check for cfg, as an entry fresh from LDAP would (reason in err,
 * naming the line and the DN). Anything but 1 leaves table empty and no
 * cookie: the caller runs a full refresh. */
int persist_state_load(const char *path, const char *conf_digest, const struct conf *cfg,
                       struct berval *cookie, struct uuidtab *table, char *err, size_t errsz);

/* persist_state_digest - SHA-256 of the config file's bytes (or of ""
 * when there is none) as hex */
int persist_state_digest(const char *conf_path, char hex[SHA256_HEX_SIZE]);

#endif
