#ifndef MAILMAPS_POLICYD_WORKERS_H
#define MAILMAPS_POLICYD_WORKERS_H

/* policy_workers > 1: a master that holds the listeners and forks that
 * many workers, each running server_run on the shared listeners with its
 * own lookup handle and usage source (an inotify descriptor or a Redis
 * connection must not be shared across fork). The master answers no
 * request; it waits for signals:
 * SIGHUP: check the configuration, then forward it (each worker reloads
 *   itself and keeps its connections); a bad file reaches no worker.
 * SIGTERM/SIGINT: close its listeners, forward SIGTERM, wait for every
 *   worker to answer what is in flight, remove the unix socket files.
 * SIGCHLD: a worker that died is logged and replaced; one that dies
 *   within a second of its start is replaced after a pause. */

#include <stdbool.h>

#include "policyd/policyd.h"
#include "policyd/server.h"

#define WORKERS_RESTART_PAUSE 1     /* s before replacing a worker that died young */
#define WORKERS_KILL_AFTER (SERVER_STOP_GRACE + 5) /* s from SIGTERM to SIGKILL */

/* master reload callback: replace pd->cfg with the file's configuration,
 * checked as a worker will load it (the master keeps no lookup handle or
 * usage source); 0, or -1 (old one kept, already logged) */
typedef int (*workers_reload_fn)(struct policyd *pd);

/* workers_run - fork pd->cfg->policy_workers workers on ls and look after
 * them until SIGTERM. pd's lookup handle and usage source are released
 * first: the master never uses them. In the master, returns the exit code
 * (0 after a clean stop) with ls closed and its socket files removed. In a
 * worker, returns 0 with *worker_r set, ls open, SIGHUP, SIGTERM and SIGINT
 * blocked (pending ones kept for server_run's signalfd), pd->cfg the
 * master's configuration and no lookup handle or usage source yet. */
int workers_run(struct policyd *pd, struct listeners *ls, workers_reload_fn reload,
                bool *worker_r);

#endif
