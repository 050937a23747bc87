#ifndef MAILMAPS_POLICYD_STATS_H
#define MAILMAPS_POLICYD_STATS_H

/* The policy daemon's counters (maps/polmetrics.h) in shared memory: one
 * slot per worker process, each written by its worker alone (its event
 * loop counts every answer), summed by the one process that reports: the
 * master with policy_workers > 1, else the only process. It rewrites
 * policy_metrics_file every STATS_WRITE_EVERY seconds and logs a summary
 * line every STATS_LOG_EVERY seconds. A replaced worker goes on counting
 * in its predecessor's slot: the totals never go back. */

#include <time.h>

#include "maps/polmetrics.h"
#include "policyd/policyd.h"

#define STATS_WRITE_EVERY 10        /* s between rewrites of policy_metrics_file */
#define STATS_LOG_EVERY 300         /* s between summary lines */
/* For the tests only: seconds between summary lines, 1 to STATS_LOG_EVERY
 * (the file is then rewritten at least as often) */
#define STATS_LOG_EVERY_ENV "MAILMAPS_TEST_STATS_LOG_EVERY"

/* stats_setup - slots for n workers, this process counting in slot 0.
 * 0, or -1 (logged). */
int stats_setup(struct policyd *pd, unsigned n);

/* stats_worker - this process is worker i: count in slot i */
void stats_worker(struct policyd *pd, unsigned i);

/* stats_count - one answered request (decision d, complete since t0,
 * CLOCK_MONOTONIC); nothing when stats_setup was not called */
void stats_count(struct policyd *pd, const struct policy_decision *d,
                 const struct timespec *t0);

/* stats_tick - the reporting process, about once a second: write the
 * file, log the summary when they are due */
void stats_tick(struct policyd *pd);

/* stats_flush - write the file now (a clean stop: the last counts) */
void stats_flush(struct policyd *pd);

/* stats_free - unmap the slots */
void stats_free(struct policyd *pd);

#endif
