#ifndef MAILMAPS_POLICYD_USAGE_REDIS_H
#define MAILMAPS_POLICYD_USAGE_REDIS_H

/* The Redis usage source: the "<user>/quota/storage" counter that
 * Dovecot's quota_clone plugin keeps (bytes).
 *
 * quota_usage lists one or more addresses (a primary and its replicas):
 * they are tried in order, and the source stays with the one that
 * answers until it fails, so a replica takes over when the primary dies
 * and nothing flaps back and forth. Every wait is bounded, and an address
 * that failed (refused, timed out, a bad AUTH) is not tried again for a
 * pause. The source waits on the network (usage_ops.waits): the daemon
 * asks it from its worker threads, one source per thread.
 *
 * redis_password_file: "password" (AUTH, requirepass) or "user password"
 * (Redis 6 ACL), read with conf_read_secret at each connect, so a changed
 * password needs no reload. */

#include <stddef.h>

#include "maps/conf.h"
#include "maps/usage.h"

#define USAGE_REDIS_TIMEOUT_MS 500   /* connect, and each command */
#define USAGE_REDIS_RETRY_S 1        /* an address that failed rests this long */

/* usage_redis_new - a source for cfg's quota_usage (kind redis) and
 * redis_password_file; connects on first use. NULL with a reason when out
 * of memory. cfg must outlive the source. */
struct usage_source *usage_redis_new(const struct conf *cfg, char *err, size_t errsz);

#endif
