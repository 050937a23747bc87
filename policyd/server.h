#ifndef MAILMAPS_POLICYD_SERVER_H
#define MAILMAPS_POLICYD_SERVER_H

/* The event loop: every policy_listen socket, every client connection, the
 * maps' inotify watch and the signals (signalfd) in one epoll set.
 * SIGHUP: reload the configuration, keeping connections and listeners.
 * SIGTERM/SIGINT: close the listeners, answer what is in flight, exit. */

#include <stdbool.h>

#include "policyd/policyd.h"

#define SERVER_IDLE_TIMEOUT 600     /* s; Postfix drops its own after 300 s idle */
#define SERVER_REQUEST_TIMEOUT 30   /* s for a request that has started */
#define SERVER_STOP_GRACE 5         /* s to finish in-flight requests at SIGTERM */
#define SERVER_MAX_CONNS 4096

/* reload callback: replace pd's configuration, lookup and usage source;
 * 0 ok, -1 (old ones kept, already logged) */
typedef int (*server_reload_fn)(struct policyd *pd);

/* server_run - serve until SIGTERM; 0, or 1 when it cannot start */
int server_run(struct policyd *pd, server_reload_fn reload);

/* server_run_stdio - one connection on stdin/stdout (spawn(8)); 0 */
int server_run_stdio(struct policyd *pd);

#endif
