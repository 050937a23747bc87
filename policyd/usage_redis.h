#ifndef MAILMAPS_POLICYD_USAGE_REDIS_H
#define MAILMAPS_POLICYD_USAGE_REDIS_H

/* The Redis usage source: the "<user>/quota/storage" counter that
 * Dovecot's quota_clone plugin keeps (bytes). The daemon's event loop
 * waits for Redis synchronously, so every wait is bounded, and a Redis that
 * is down is not retried more than once a second. */

#include <stddef.h>

#include "maps/usage.h"

#define USAGE_REDIS_TIMEOUT_MS 500   /* connect, and each command */
#define USAGE_REDIS_RETRY_S 1        /* after a failed connect */

/* usage_redis_new - a source for HOST:PORT, database db; connects on first
 * use. NULL with a reason when out of memory. */
struct usage_source *usage_redis_new(const char *host, unsigned port, unsigned db,
                                     char *err, size_t errsz);

#endif
