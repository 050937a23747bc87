/* workers - the master of several workers: fork, forward signals, replace */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "policyd/stats.h"
#include "policyd/workers.h"

#define WORKERS_MAX 64              /* policy_workers' upper bound */

struct worker {
    pid_t pid;                      /* 0: not running */
    long long started;              /* ms, monotonic */
    long long restart_at;           /* ms when pid is 0; 0 = nothing planned */
};

struct master {
    struct worker w[WORKERS_MAX];
    unsigned n;
    pid_t self;
    bool stopping;
    long long deadline;             /* ms: while stopping, kill after it */
    bool killed;                    /* the SIGKILL after the deadline is sent */
    int rc;                         /* exit code so far */
    unsigned child;                 /* in a new worker: its index (counter slot) */
};

/* now_ms - monotonic milliseconds: pauses must not follow clock jumps */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* spawn - fork one worker into w; true in the new worker */
static bool spawn(struct master *m, struct worker *w, long long now)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("fork");
        w->restart_at = now + WORKERS_RESTART_PAUSE * 1000;
        return false;
    }
    if (pid == 0) {
        /* a worker must not serve on alone when the master is gone; the
         * master may have died before the request took effect */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != m->self)
            _exit(1);
        m->child = (unsigned)(w - m->w);
        return true;
    }
    w->pid = pid;
    w->started = now;
    w->restart_at = 0;
    return false;
}

/* forward - sig to every running worker */
static void forward(struct master *m, int sig)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->w[i].pid > 0)
            kill(m->w[i].pid, sig);
}

/* exit_text - "exited with status N" or "killed by signal N (name)" */
static void exit_text(int status, char *buf, size_t bufsz)
{
    if (WIFSIGNALED(status))
        snprintf(buf, bufsz, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, bufsz, "exited with status %d", WEXITSTATUS(status));
}

/* reap - every worker that has ended; plan its replacement unless stopping */
static void reap(struct master *m, long long now)
{
    pid_t pid;
    int status;
    char how[96];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct worker *w = NULL;
        for (unsigned i = 0; i < m->n && w == NULL; i++)
            if (m->w[i].pid == pid)
                w = &m->w[i];
        if (w == NULL)
            continue;
        w->pid = 0;
        exit_text(status, how, sizeof(how));
        if (m->stopping) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_warnx("worker %d %s while stopping", (int)pid, how);
                m->rc = 1;
            }
            continue;
        }
        /* one that dies young would die again at once: no fork loop */
        if (now - w->started < 1000) {
            w->restart_at = now + WORKERS_RESTART_PAUSE * 1000;
            log_warnx("worker %d %s within a second of its start; replacing it in %d s", (int)pid,
                      how, WORKERS_RESTART_PAUSE);
        } else {
            w->restart_at = now;
            log_warnx("worker %d %s; replacing it", (int)pid, how);
        }
    }
}

/* restart_due - fork the workers whose replacement is due; the wait
 * until the next one lowers *wait, the running ones are counted in *live.
 * true in a new worker. */
static bool restart_due(struct master *m, long long now, long long *wait, unsigned *live)
{
    *live = 0;
    for (unsigned i = 0; i < m->n; i++) {
        struct worker *w = &m->w[i];
        if (w->pid == 0 && w->restart_at != 0 && !m->stopping) {
            if (w->restart_at <= now && spawn(m, w, now))
                return true;
            if (w->pid == 0 && w->restart_at - now < *wait)
                *wait = w->restart_at - now;
        }
        *live += w->pid != 0;
    }
    return false;
}

/* stop_overdue - while stopping: SIGKILL to the live workers still
 * running WORKERS_KILL_AFTER s after the stop, else wait no longer */
static void stop_overdue(struct master *m, long long now, unsigned live, long long *wait)
{
    if (!m->stopping || m->killed)
        return;
    if (now >= m->deadline) {
        log_warnx("%u worker(s) still running after %d s: killing them", live,
                  WORKERS_KILL_AFTER);
        forward(m, SIGKILL);
        m->killed = true;
        m->rc = 1;
    } else if (m->deadline - now < *wait) {
        *wait = m->deadline - now;
    }
}

/* on_master_signal - what sigtimedwait returned: reload, stop, or
 * nothing (a timeout, SIGCHLD) */
static void on_master_signal(struct master *m, struct policyd *pd, struct listeners *ls,
                             workers_reload_fn reload, int sig, unsigned live)
{
    if (sig == SIGHUP && !m->stopping) {
        log_info("SIGHUP: reloading the configuration");
        /* a file that does not load reaches no worker */
        if (reload(pd) == 0)
            forward(m, SIGHUP);
    } else if ((sig == SIGTERM || sig == SIGINT) && !m->stopping) {
        log_info("stopping: %u worker(s) answer what is in flight", live);
        m->stopping = true;
        m->deadline = now_ms() + WORKERS_KILL_AFTER * 1000;
        server_unlisten(ls, false);
        forward(m, SIGTERM);
    } else if (sig < 0 && errno != EAGAIN && errno != EINTR) {
        log_warn("sigtimedwait");
    }
}

/* master_loop - replace, signal and reap workers until the last has
 * stopped; true in a new worker */
static bool master_loop(struct master *m, struct policyd *pd, struct listeners *ls,
                        workers_reload_fn reload, const sigset_t *set)
{
    for (;;) {
        long long wait = 1000, now = now_ms();
        unsigned live;

        if (restart_due(m, now, &wait, &live))
            return true;
        if (m->stopping && live == 0)
            return false;
        stop_overdue(m, now, live, &wait);
        if (wait < 1)
            wait = 1;
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };
        int sig = sigtimedwait(set, NULL, &ts);
        on_master_signal(m, pd, ls, reload, sig, live);
        /* SIGCHLD or not: children's exits coalesce into one signal */
        reap(m, now_ms());
        stats_tick(pd);
    }
}

/* worker_start - in a new worker: its signals and its counters */
static int worker_start(struct policyd *pd, const struct master *m, bool *worker_r)
{
    sigset_t set;

    /* as a single process: HUP, TERM and INT stay blocked for the signalfd */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    stats_worker(pd, m->child);
    *worker_r = true;
    return 0;
}

/* workers_run - the master's loop; no epoll: signals are all it waits for */
int workers_run(struct policyd *pd, struct listeners *ls, workers_reload_fn reload,
                bool *worker_r)
{
    struct master m;
    sigset_t set, old;
    const char *uname = usage_name(pd->usage); /* static: outlives the source */
    long long now;

    *worker_r = false;
    memset(&m, 0, sizeof(m));
    m.self = getpid();
    m.n = pd->cfg->policy_workers < WORKERS_MAX ? pd->cfg->policy_workers : WORKERS_MAX;

    /* each worker opens its own; nothing here may be shared across fork */
    lookup_free(pd->lk);
    usage_free(pd->usage);
    pd->lk = NULL;
    pd->usage = NULL;

    /* blocked before the first fork: a signal for a worker that has no
     * signalfd yet waits for it instead of killing it */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);

    now = now_ms();
    for (unsigned i = 0; i < m.n; i++)
        if (spawn(&m, &m.w[i], now))
            return worker_start(pd, &m, worker_r);
    log_info("started: %u workers, %zu listener(s), usage from %s", m.n, ls->count, uname);
    if (master_loop(&m, pd, ls, reload, &set))
        return worker_start(pd, &m, worker_r);
    stats_flush(pd);

    /* only now: until the last worker is gone its socket is live */
    server_unlisten(ls, true);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (m.rc == 0)
        log_info("stopped");
    return m.rc;
}
