/* server - epoll over listeners, connections, the maps watch and signals */

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "maps/mapset.h"
#include "policyd/conn.h"
#include "policyd/listen.h"
#include "policyd/pool.h"
#include "policyd/server.h"
#include "policyd/stats.h"

enum tag { TAG_LISTENER = 1, TAG_CONN, TAG_SIGNAL, TAG_WATCH, TAG_POOL };

struct server {
    struct policyd *pd;
    int ep;
    struct listeners *ls;
    bool shared;                /* one worker of several on ls */
    struct conn *conns;
    size_t nconns, max_conns;
    int sigfd, watchfd;
    int tag_signal, tag_watch, tag_pool; /* epoll data for those three */
    int reserve_fd;             /* given up to accept-and-close at EMFILE */
    bool reload_pending;        /* SIGHUP: reload once the pool's threads have ended */
    struct ratelog rl_accept;
};

/* server_block_signals - block SIGHUP, SIGTERM and SIGINT: from now on
 * they wait to be read from a signalfd (or sigtimedwait) */
void server_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigprocmask(SIG_BLOCK, set, NULL);
}

/* now_s - monotonic seconds for timeouts */
static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* ep_set - add or change fd's interest */
static int ep_set(struct server *s, int op, int fd, uint32_t events, void *tag)
{
    struct epoll_event ev = { .events = events, .data.ptr = tag };
    return epoll_ctl(s->ep, op, fd, &ev);
}

/* conn_close - out of the set and the list */
static void conn_close(struct server *s, struct conn *c)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->rfd, NULL);
    close(c->rfd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    s->nconns--;
    conn_free(c);
}

/* conn_update - after each event: close, or wait for the right direction;
 * a connection whose answer is in the pool waits for nothing from the
 * client (level-triggered epoll would report its input, or its hang-up,
 * again and again) */
static void conn_update(struct server *s, struct conn *c, enum conn_status st)
{
    if (st == CONN_CLOSE) {
        conn_close(s, c);
        return;
    }
    if (c->job != NULL) {
        if (!c->parked && epoll_ctl(s->ep, EPOLL_CTL_DEL, c->rfd, NULL) == 0)
            c->parked = true;
        return;
    }
    if (c->parked) {
        bool w = conn_has_output(c);
        if (ep_set(s, EPOLL_CTL_ADD, c->rfd, w ? EPOLLOUT : EPOLLIN, c) < 0) {
            conn_close(s, c);
            return;
        }
        c->parked = false;
        c->want_write = w;
        return;
    }
    /* most answers go out whole: change the interest only when a write
     * was short (or the client has read the rest), not per request */
    bool want_write = conn_has_output(c);
    if (want_write != c->want_write &&
        ep_set(s, EPOLL_CTL_MOD, c->rfd, want_write ? EPOLLOUT : EPOLLIN, c) == 0)
        c->want_write = want_write;
}

/* peer_name - the client, for log lines */
static void peer_name(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t bufsz)
{
    char host[INET6_ADDRSTRLEN] = "";
    if (len > 0 && ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, bufsz, "%s:%u", host, ntohs(in->sin_port));
    } else if (len > 0 && ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, bufsz, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, bufsz, "unix");
    }
}

/* requeue - drop and add a shared listener again: this worker's wait
 * entry moves to the back of the socket's queue. EPOLLEXCLUSIVE wakes the
 * first idle waiter in that queue, so without this a quiet daemon hands
 * every new (long-lived) connection to the same worker. */
static void requeue(struct server *s, struct listener *l)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, l->fd, NULL);
    if (ep_set(s, EPOLL_CTL_ADD, l->fd, EPOLLIN | EPOLLEXCLUSIVE, l) < 0)
        log_warn("epoll_ctl: %s: this worker accepts no more connections there", l->name);
}

/* accept_all - take every waiting connection (bounded per wake-up); a
 * shared worker takes one, so that the next goes to another worker */
static void accept_all(struct server *s, struct listener *l, time_t now)
{
    bool shared = s->shared && !l->own;
    int batch = shared ? 1 : 64;
    for (int i = 0; i < batch; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        unsigned suppressed;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 && shared)
            requeue(s, l);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if ((errno == EMFILE || errno == ENFILE) && s->reserve_fd >= 0) {
                /* free one descriptor to take the connection off the queue;
                 * otherwise epoll reports it forever */
                close(s->reserve_fd);
                fd = accept(l->fd, NULL, NULL);
                if (fd >= 0)
                    close(fd);
                s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            if (ratelog_allow(&s->rl_accept, now, &suppressed))
                log_warn("accept on %s", l->name);
            return;
        }
        if (s->nconns >= s->max_conns) {
            close(fd);
            if (ratelog_allow(&s->rl_accept, now, &suppressed))
                log_warnx("%zu connections open: refusing more", s->nconns);
            continue;
        }
        char peer[64];
        peer_name(&ss, len, peer, sizeof(peer));
        struct conn *c = conn_new(fd, fd, peer);
        if (c == NULL) {
            close(fd);
            if (ratelog_allow(&s->rl_accept, now, &suppressed))
                log_warnx("out of memory for a connection");
            continue;
        }
        c->kind = TAG_CONN;
        c->last = now;
        if (ep_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, c) < 0) {
            close(fd);
            conn_free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
}

/* expire - close connections idle too long, with a request not complete
 * within the timeout from its first byte, or with answers the client has
 * not taken within it */
static void expire(struct server *s, time_t now)
{
    struct conn *c = s->conns, *next;
    unsigned suppressed;
    for (; c != NULL; c = next) {
        next = c->next;
        bool mid = conn_mid_request(c), out = !mid && conn_has_output(c);
        if (mid || out) {
            if (now - (mid ? c->req_start : c->out_since) < SERVER_REQUEST_TIMEOUT)
                continue;
            if (ratelog_allow(&s->pd->rl_client, now, &suppressed))
                log_warnx("client %s: %s within %d s; connection closed", c->peer,
                          mid ? "request not finished" : "answers not read",
                          SERVER_REQUEST_TIMEOUT);
        } else if (now - c->last < SERVER_IDLE_TIMEOUT) {
            continue;
        }
        conn_close(s, c);
    }
}

/* watch_register - the maps' inotify fd into the set (it changes on reload) */
static void watch_register(struct server *s)
{
    s->watchfd = mapset_watch_fd(lookup_mapset(s->pd->lk));
    s->tag_watch = TAG_WATCH;
    if (s->watchfd >= 0 && ep_set(s, EPOLL_CTL_ADD, s->watchfd, EPOLLIN, &s->tag_watch) < 0) {
        log_warn("cannot watch the maps directory; lookups will check the files");
        s->watchfd = -1;
    }
}

/* pool_start - the pool for the configuration in force, its fd watched */
static int pool_start(struct server *s)
{
    char err[512];
    s->pd->pool = pool_new(s->pd->cfg, err, sizeof(err));
    if (s->pd->pool == NULL) {
        log_err("cannot start the worker threads: %s", err);
        return -1;
    }
    s->tag_pool = TAG_POOL;
    if (ep_set(s, EPOLL_CTL_ADD, pool_fd(s->pd->pool), EPOLLIN, &s->tag_pool) < 0) {
        log_warn("epoll_ctl");
        pool_free(s->pd->pool);
        s->pd->pool = NULL;
        return -1;
    }
    return 0;
}

/* deliver - answers from the pool to the connections still waiting */
static void deliver(struct server *s, struct pool_job *j, time_t now)
{
    while (j != NULL) {
        struct pool_job *next = j->next;
        struct conn *c = j->owner;
        if (c == NULL)
            pool_job_free(j);
        else
            conn_update(s, c, conn_on_done(c, s->pd, now));
        j = next;
    }
}

/* do_reload - new configuration; listeners stay, so do connections. The
 * pool's threads use the old configuration: the reload waits (in the
 * loop, not blocking it) until they have finished their current jobs;
 * the jobs they had not started, and those that come meanwhile, go to the
 * new pool. */
static void do_reload(struct server *s, server_reload_fn reload, time_t now)
{
    int oldwatch = s->watchfd;
    struct pool *old = s->pd->pool;

    struct pool_job *waiting = NULL;
    if (old != NULL) {
        pool_stop(old);         /* the threads have ended: no wait */
        /* answers that go on to the next request queue it in old */
        deliver(s, pool_done(old), now);
        waiting = pool_waiting(old);
        epoll_ctl(s->ep, EPOLL_CTL_DEL, pool_fd(old), NULL);
        pool_free(old);
        s->pd->pool = NULL;
    }
    s->reload_pending = false;

    if (oldwatch >= 0)
        epoll_ctl(s->ep, EPOLL_CTL_DEL, oldwatch, NULL);
    if (reload(s->pd) < 0) {
        if (oldwatch >= 0)
            ep_set(s, EPOLL_CTL_ADD, oldwatch, EPOLLIN, &s->tag_watch);
    } else {
        watch_register(s);
    }
    if (pool_start(s) < 0)
        log_warnx("answering requests that may wait on LDAP or Redis in the event loop");
    for (struct pool_job *next; waiting != NULL; waiting = next) {
        next = waiting->next;
        if (s->pd->pool != NULL) {
            pool_requeue(s->pd->pool, waiting);
            continue;
        }
        policy_decide(&waiting->req, s->pd->cfg, s->pd->lk, s->pd->usage, &waiting->d);
        waiting->next = NULL;
        deliver(s, waiting, now);
    }
}

/* on_pool - answers are in, or (reload pending) a thread has ended */
static void on_pool(struct server *s, server_reload_fn reload, time_t now)
{
    if (s->pd->pool == NULL)
        return;
    deliver(s, pool_done(s->pd->pool), now);
    if (s->reload_pending && pool_idle(s->pd->pool))
        do_reload(s, reload, now);
}

/* ask_reload - SIGHUP: at once, or once the pool's threads have ended */
static void ask_reload(struct server *s, server_reload_fn reload, time_t now)
{
    if (s->pd->pool == NULL) {
        do_reload(s, reload, now);
        return;
    }
    if (!s->reload_pending)
        pool_retire(s->pd->pool);
    s->reload_pending = true;
    on_pool(s, reload, now);
}

/* setup - epoll, signals, descriptors, listeners */
static int setup(struct server *s)
{
    struct rlimit rl;

    /* many Postfix smtpd processes keep a connection each */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        s->max_conns = rl.rlim_cur > 64 ? (size_t)rl.rlim_cur - 32 : 32;
    } else {
        s->max_conns = 1000;
    }
    if (s->max_conns > SERVER_MAX_CONNS)
        s->max_conns = SERVER_MAX_CONNS;
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0) {
        log_warn("epoll_create1");
        return -1;
    }
    sigset_t set;
    server_block_signals(&set);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    s->tag_signal = TAG_SIGNAL;
    if (s->sigfd < 0 || ep_set(s, EPOLL_CTL_ADD, s->sigfd, EPOLLIN, &s->tag_signal) < 0) {
        log_warn("signalfd");
        return -1;
    }
    for (size_t i = 0; i < s->ls->count; i++) {
        struct listener *l = &s->ls->lst[i];
        /* EPOLLEXCLUSIVE: a new connection wakes one waiting worker, not all */
        uint32_t lev = EPOLLIN | (s->shared && !l->own ? EPOLLEXCLUSIVE : 0);
        l->kind = TAG_LISTENER;
        if (ep_set(s, EPOLL_CTL_ADD, l->fd, lev, l) < 0) {
            log_warn("epoll_ctl");
            return -1;
        }
    }
    watch_register(s);
    return pool_start(s);
}

/* server_listen - the sockets, before any loop runs */
int server_listen(const struct conf *cfg, struct listeners *ls, bool workers)
{
    char err[512];

    memset(ls, 0, sizeof(*ls));
    for (size_t i = 0; i < CONF_LIST_MAX; i++)
        ls->lst[i].fd = -1;
    for (size_t i = 0; i < cfg->policy_listen_count; i++) {
        struct listener *l = &ls->lst[i];
        const struct conf_listen *cl = &cfg->policy_listen[i];
        listen_name(cl, l->name, sizeof(l->name));
        l->conf = *cl;
        l->fd = listen_open(cl, cfg->policy_socket_mode, cfg->policy_socket_group, workers,
                            err, sizeof(err));
        if (l->fd < 0) {
            log_err("cannot listen on %s: %s", l->name, err);
            server_unlisten(ls, true);
            return -1;
        }
        if (cl->kind == CONF_LISTEN_UNIX)
            snprintf(l->unix_path, sizeof(l->unix_path), "%s", cl->path);
        ls->count++;
        log_info("listening on %s", l->name);
    }
    for (size_t i = 0; workers && i < ls->count; i++) {
        /* no connection may wait in a socket no worker accepts from */
        if (ls->lst[i].conf.kind == CONF_LISTEN_INET) {
            close(ls->lst[i].fd);
            ls->lst[i].fd = -1;
        }
    }
    return 0;
}

/* server_listen_own - a worker's own inet sockets */
int server_listen_own(const struct conf *cfg, struct listeners *ls)
{
    char err[512];

    for (size_t i = 0; i < ls->count; i++) {
        struct listener *l = &ls->lst[i];
        if (l->conf.kind != CONF_LISTEN_INET)
            continue;
        if (l->fd >= 0)
            close(l->fd);
        l->fd = listen_open(&l->conf, cfg->policy_socket_mode, cfg->policy_socket_group, true,
                            err, sizeof(err));
        if (l->fd < 0) {
            log_err("cannot listen on %s: %s", l->name, err);
            return -1;
        }
        l->own = true;
    }
    return 0;
}

/* server_unlisten - close, then forget the socket files once removed */
void server_unlisten(struct listeners *ls, bool unlink_files)
{
    for (size_t i = 0; i < ls->count; i++) {
        struct listener *l = &ls->lst[i];
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        if (unlink_files && l->unix_path[0] != '\0') {
            unlink(l->unix_path);
            l->unix_path[0] = '\0';
        }
    }
}

/* close_listeners - no new clients; a single process removes its unix
 * socket files now, so that clients fail at once instead of queueing */
static void close_listeners(struct server *s)
{
    for (size_t i = 0; i < s->ls->count; i++)
        if (s->ls->lst[i].fd >= 0)
            epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ls->lst[i].fd, NULL);
    server_unlisten(s->ls, !s->shared);
}

/* close_idle - at stop: every connection with nothing in flight */
static void close_idle(struct server *s)
{
    struct conn *c = s->conns, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (!conn_mid_request(c) && !conn_has_output(c))
            conn_close(s, c);
    }
}

/* on_signal - read the signalfd: stop or reload */
static void on_signal(struct server *s, server_reload_fn reload, bool *stopping, time_t now)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: reloading the configuration");
            ask_reload(s, reload, now);
        } else if (!*stopping) {
            log_info("stopping: answering what is in flight");
            *stopping = true;
        }
    }
}

/* The stop state of the loop: set by the first SIGTERM or SIGINT. */
struct stop {
    bool stopping;
    time_t deadline;         /* then the connections still open are cut */
};

/* on_event - one epoll event */
static void on_event(struct server *s, struct epoll_event *ev, server_reload_fn reload,
                     struct stop *st, time_t now)
{
    switch (*(int *)ev->data.ptr) {
    case TAG_LISTENER:
        if (!st->stopping)
            accept_all(s, ev->data.ptr, now);
        break;
    case TAG_SIGNAL:
        on_signal(s, reload, &st->stopping, now);
        if (st->stopping && st->deadline == 0) {
            close_listeners(s);
            st->deadline = now + SERVER_STOP_GRACE;
        }
        break;
    case TAG_WATCH:
        mapset_refresh(lookup_mapset(s->pd->lk));
        break;
    case TAG_POOL:
        on_pool(s, reload, now);
        break;
    case TAG_CONN: {
        struct conn *c = ev->data.ptr;
        enum conn_status cs;
        if (ev->events & EPOLLOUT)
            cs = conn_on_write(c, s->pd, now);
        else
            cs = conn_on_read(c, s->pd, now);
        conn_update(s, c, cs);
        break;
    }
    default:
        break;
    }
}

/* server_loop - events until stopped and drained (or the grace is over);
 * once a second the timeouts and, in a single process, the summary */
static int server_loop(struct server *s, server_reload_fn reload)
{
    struct epoll_event evs[128];
    struct stop st = { 0 };
    time_t last_scan = 0;

    for (;;) {
        int n = epoll_wait(s->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 1000);
        time_t now = now_s();
        if (n < 0 && errno != EINTR) {
            log_warn("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++)
            on_event(s, &evs[i], reload, &st, now);
        if (st.stopping) {
            close_idle(s);
            if (s->nconns == 0 || now >= st.deadline)
                return 0;
        }
        if (now != last_scan) {
            last_scan = now;
            expire(s, now);
            /* the master reports for several workers */
            if (!s->shared)
                stats_tick(s->pd);
        }
    }
}

/* server_close - every connection, the pool, the listeners, the fds */
static void server_close(struct server *s)
{
    while (s->conns != NULL)
        conn_close(s, s->conns);
    pool_free(s->pd->pool);
    s->pd->pool = NULL;
    close_listeners(s);
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->ep >= 0)
        close(s->ep);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
}

/* server_run - set up, the loop, tear down */
int server_run(struct policyd *pd, struct listeners *ls, bool shared, server_reload_fn reload)
{
    struct server s;

    memset(&s, 0, sizeof(s));
    s.pd = pd;
    s.ls = ls;
    s.shared = shared;
    s.ep = s.sigfd = s.watchfd = s.reserve_fd = -1;
    int rc = setup(&s) < 0 ? 1 : 0;
    if (rc == 0 && shared)
        log_info("worker started: usage from %s, at most %zu connections", usage_name(pd->usage),
                 s.max_conns);
    else if (rc == 0)
        log_info("started: %zu listener(s), usage from %s, at most %zu connections", ls->count,
                 usage_name(pd->usage), s.max_conns);
    if (rc == 0)
        rc = server_loop(&s, reload);
    if (!shared)
        stats_flush(pd);
    server_close(&s);
    if (rc == 0)
        log_info("stopped");
    return rc;
}

/* server_run_stdio - blocking: Postfix's spawn(8) gives us the socket as
 * stdin/stdout and a time limit of its own */
int server_run_stdio(struct policyd *pd)
{
    struct conn *c = conn_new(STDIN_FILENO, STDOUT_FILENO, "stdio");
    if (c == NULL) {
        log_err("out of memory");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    while (conn_on_read(c, pd, now_s()) == CONN_OK) {
        /* a blocking write finishes or fails: never output left behind */
    }
    conn_free(c);
    return 0;
}
