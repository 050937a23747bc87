#ifndef MAILMAPS_PERSIST_STATE_H
#define MAILMAPS_PERSIST_STATE_H

/* What a persist daemon needs to resume after a restart instead of starting
 * over: the sync cookie and the accounts it belongs to (entryUUID ->
 * account), saved beside the maps each time maps are installed. It holds
 * password hashes: mode 0600. A state made under another configuration is
 * not used (the digest of the config file is part of it). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
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

/* The saver. The state of a million accounts takes seconds to write and
 * changes must not wait for that: a child process writes it, seeing the
 * table as it was at the fork (copy-on-write). One child at a time. */
struct persist_saver {
    pid_t pid;                       /* the child writing, or 0 */
};

/* persist_saver_save - write the state, in a child when background (the
 * caller goes on at once), else here after waiting for a running child
 * (also when no child can be had). A failed save is logged: a restart
 * then does a full refresh. false when a child still writes an earlier
 * state (background only): nothing started, ask again later. */
bool persist_saver_save(struct persist_saver *s, bool background, const char *path,
                        const char *conf_digest, const struct berval *cookie,
                        struct uuidtab *table);

/* persist_saver_reap - collect a finished child; wait for it when block */
void persist_saver_reap(struct persist_saver *s, bool block);

/* persist_saver_hold - stop a running child for the length of an install
 * (hold), or let it go on: an install beside it took half as long again at
 * a million accounts (both compete for fresh memory), and the save can
 * wait. It dies with the caller even while stopped. */
void persist_saver_hold(const struct persist_saver *s, bool hold);

/* persist_state_digest - SHA-256 of the config file's bytes (or of ""
 * when there is none) as hex */
int persist_state_digest(const char *conf_path, char hex[SHA256_HEX_SIZE]);

#endif
