#ifndef MAILMAPS_POLICYD_SERVER_H
#define MAILMAPS_POLICYD_SERVER_H

/* The event loop: every policy_listen socket, every client connection, the
 * maps' inotify watch and the signals (signalfd) in one epoll set.
 * SIGHUP: reload the configuration, keeping connections and listeners.
 * SIGTERM/SIGINT: close the listeners, answer what is in flight, exit.
 * The listeners are opened apart from the loop, so that with
 * policy_workers > 1 the master opens them once and every worker runs the
 * same loop on them (workers.h). */

#include <signal.h>
#include <stdbool.h>

#include "policyd/policyd.h"

#define SERVER_IDLE_TIMEOUT 600     /* s; Postfix drops its own after 300 s idle */
#define SERVER_REQUEST_TIMEOUT 30   /* s for a request that has started */
#define SERVER_STOP_GRACE 5         /* s to finish in-flight requests at SIGTERM */
#define SERVER_MAX_CONNS 4096

/* One open policy_listen socket. */
struct listener {
    int kind;                   /* the epoll tag (server.c), first like conn's */
    int fd;                     /* -1 once closed */
    char name[300];
    char unix_path[108];        /* removed at the end; "" for inet */
    struct conf_listen conf;    /* what it was opened from */
    bool own;                   /* this process's own socket (not shared) */
};

/* Every policy_listen socket of the configuration in force at start. */
struct listeners {
    struct listener lst[CONF_LIST_MAX];
    size_t count;
};

/* reload callback: replace pd's configuration, lookup and usage source;
 * 0 ok, -1 (old ones kept, already logged) */
typedef int (*server_reload_fn)(struct policyd *pd);

/* server_listen - open every policy_listen address of cfg, each logged;
 * 0, or -1 (logged) with none left open. With workers, an inet address is
 * only tried here and closed again: each worker binds its own socket to
 * it (server_listen_own), and the kernel spreads connections evenly over
 * them, which a shared socket does not do when many arrive at once. */
int server_listen(const struct conf *cfg, struct listeners *ls, bool workers);

/* server_listen_own - in a worker: its own socket for each inet address.
 * 0, or -1 (logged). */
int server_listen_own(const struct conf *cfg, struct listeners *ls);

/* server_unlisten - close what is still open; with unlink_files also
 * remove the unix socket files (once: the paths are forgotten). Never from
 * a worker: the socket files belong to the master. */
void server_unlisten(struct listeners *ls, bool unlink_files);

/* server_block_signals - block SIGHUP, SIGTERM and SIGINT (the set into
 * *set): from then on they wait to be read from a signalfd or sigwait */
void server_block_signals(sigset_t *set);

/* server_run - serve on ls until SIGTERM; 0, or 1 when it cannot start.
 * shared: one worker of several on the same listeners (each connection
 * goes to one worker, the socket files stay). ls is closed on return, its
 * socket files removed unless shared. */
int server_run(struct policyd *pd, struct listeners *ls, bool shared, server_reload_fn reload);

/* server_run_stdio - one connection on stdin/stdout (spawn(8)); 0 */
int server_run_stdio(struct policyd *pd);

#endif
