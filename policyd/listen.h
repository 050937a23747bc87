#ifndef MAILMAPS_POLICYD_LISTEN_H
#define MAILMAPS_POLICYD_LISTEN_H

/* Listening sockets for policy_listen: unix:PATH (mode and group set so
 * Postfix's smtpd can connect; a stale socket file from a crashed run is
 * replaced, a live one or any other file is not) and inet:HOST:PORT.
 * Non-blocking, close-on-exec. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "maps/conf.h"

/* listen_open - the socket for l; -1 with a reason. reuseport (inet only):
 * several sockets may bind the address, the kernel spreads connections
 * over them (one per worker process). */
int listen_open(const struct conf_listen *l, mode_t mode, const char *group, bool reuseport,
                char *err, size_t errsz);

/* listen_name - "unix:PATH" or "inet:HOST:PORT" into buf */
void listen_name(const struct conf_listen *l, char *buf, size_t bufsz);

#endif
