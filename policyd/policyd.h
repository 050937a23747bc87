#ifndef MAILMAPS_POLICYD_H
#define MAILMAPS_POLICYD_H

/* What every part of mailmaps-policyd shares: the configuration in force,
 * the lookup handle (maps + LDAP fallback), the usage source, the pool of
 * threads for what may wait (pool.h), and the rate limits of the log lines
 * that clients or outages can trigger. A SIGHUP replaces cfg, lk and
 * usage together (and the event loop the pool). */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "maps/conf.h"
#include "maps/lookup.h"
#include "maps/policy.h"
#include "maps/polmetrics.h"
#include "maps/usage.h"
#include "policyd/ratelog.h"

struct pool;

/* The counters (stats.h): every process's slots, the one it counts in. */
struct policyd_stats {
    struct polmetrics *slots, *mine;    /* NULL: not counting (--stdio) */
    unsigned nslots;
    long long next_write, next_log;     /* monotonic s */
    int write_every, log_every;         /* s (stats.h) */
    struct polmetrics logged;           /* the sum at the last summary line */
    struct ratelog rl;                  /* the metrics file cannot be written */
};

struct policyd {
    struct conf *cfg;
    struct lookup *lk;
    struct usage_source *usage;
    struct pool *pool;          /* NULL: answer everything at once (--stdio) */
    struct ratelog rl_client;   /* bad input, dropped connections */
    struct ratelog rl_error;    /* data that cannot be had */
    struct ratelog rl_missing;  /* usage files not found */
    struct policyd_stats stats;
};

/* policyd_answer - decide one request (waiting for LDAP or Redis as
 * needed), log a rejection (one line) or an error (rate limited), and
 * write "action=...\n\n" into buf (at least POLICY_REPLY_MAX bytes).
 * Returns the length. */
size_t policyd_answer(struct policyd *pd, const struct policy_request *req, char *buf,
                      size_t bufsz);

/* policyd_answer_now - the event loop's: as policyd_answer when the
 * answer needs no waiting (0, length in *len_r); 1 when it must go to
 * pd->pool, to the lane in *lane_r (nothing written, nothing logged) */
int policyd_answer_now(struct policyd *pd, const struct policy_request *req, char *buf,
                       size_t bufsz, size_t *len_r, int *lane_r);

/* policyd_reply - log decision d of req, count it (complete since t0,
 * CLOCK_MONOTONIC), write its answer as policyd_answer */
size_t policyd_reply(struct policyd *pd, const struct policy_request *req,
                     const struct policy_decision *d, const struct timespec *t0, char *buf,
                     size_t bufsz);

/* policyd_usage_new - the usage source quota_usage names */
struct usage_source *policyd_usage_new(const struct conf *cfg, char *err, size_t errsz);

#endif
