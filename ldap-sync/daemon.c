/* daemon - interruptible waits, back-off and quiet failure logging */

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ldap-sync/daemon.h"
#include "maps/monotime.h"

/* daemon_wait - ppoll unblocks the signals atomically with the sleep */
void daemon_wait(unsigned seconds, volatile sig_atomic_t *stop, volatile sig_atomic_t *wake)
{
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    long long deadline = monotime_ms() + (long long)seconds * 1000;
    while (!*stop && !(wake != NULL && *wake)) {
        long long left = deadline - monotime_ms();
        if (left <= 0)
            break;
        struct timespec ts = monotime_span(left);
        ppoll(NULL, 0, &ts, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

bool failure_log_failed(struct failure_log *fl, const char *reason)
{
    bool news = !fl->failing || strcmp(fl->reason, reason) != 0;
    fl->failing = true;
    snprintf(fl->reason, sizeof(fl->reason), "%s", reason);
    return news;
}

bool failure_log_ok(struct failure_log *fl)
{
    bool was = fl->failing;
    fl->failing = false;
    fl->reason[0] = '\0';
    return was;
}

void daemon_warn_entry(void *ctx, const char *dn, const char *msg)
{
    (void)ctx;
    log_warnx("entry %s: %s", dn, msg);
}

unsigned daemon_backoff(unsigned *backoff, unsigned cap)
{
    unsigned delay = *backoff < cap ? *backoff : cap;
    if (*backoff < cap)
        *backoff *= 2;
    return delay;
}
