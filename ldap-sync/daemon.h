#ifndef MAILMAPS_DAEMON_H
#define MAILMAPS_DAEMON_H

/* What the poll loop and the persist loop share: an interruptible wait and
 * "log a failure once per change of state, not per attempt". */

#include <signal.h>
#include <stdbool.h>

/* Retry after 10 s, doubling up to sync_interval. */
#define DAEMON_BACKOFF_FIRST 10

/* daemon_wait - sleep up to seconds; return early when *stop or *wake
 * becomes non-zero (a signal handler sets them). No lost wake-ups: the
 * signals are blocked between the check and the sleep. */
void daemon_wait(unsigned seconds, volatile sig_atomic_t *stop, volatile sig_atomic_t *wake);

struct failure_log {
    bool failing;
    char reason[1024];
};

/* failure_log_failed - note a failure; true when it is news (the first
 * one, or a different reason) and deserves a log line at error level */
bool failure_log_failed(struct failure_log *fl, const char *reason);

/* failure_log_ok - note a success; true when it ends a failing spell */
bool failure_log_ok(struct failure_log *fl);

/* daemon_backoff - the next retry delay: *backoff, then doubled, capped */
unsigned daemon_backoff(unsigned *backoff, unsigned cap);

/* daemon_warn_entry - an account_warn_fn for both syncs: bad data costs
 * that entry (or that value), with one warning naming the DN */
void daemon_warn_entry(void *ctx, const char *dn, const char *msg);

#endif
