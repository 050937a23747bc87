/* daemon - interruptible waits, back-off and quiet failure logging */

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ldap-sync/daemon.h"

/* daemon_wait - ppoll unblocks the signals atomically with the sleep */
void daemon_wait(unsigned seconds, volatile sig_atomic_t *stop, volatile sig_atomic_t *wake)
{
    sigset_t block, old;
    struct timespec deadline, now;

    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    while (!*stop && !(wake != NULL && *wake)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec left = { deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec };
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0)
            break;
        ppoll(NULL, 0, &left, &old);
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

unsigned daemon_backoff(unsigned *backoff, unsigned cap)
{
    unsigned delay = *backoff < cap ? *backoff : cap;
    if (*backoff < cap)
        *backoff *= 2;
    return delay;
}
