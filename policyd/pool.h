#ifndef MAILMAPS_POLICYD_POOL_H
#define MAILMAPS_POLICYD_POOL_H

/* The threads that answer what may wait, so that the event loop never
 * does: a recipient the fresh maps lack (an LDAP lookup; every unknown
 * address at a local domain is one, since Postfix asks before its own
 * unknown-user check) and usage from a source that waits on the network
 * (Redis). The loop decides with policy_limits.no_wait; a pending request
 * becomes a job here, and its answer comes back through pool_fd.
 *
 * Each thread has its own lookup handle and usage source (neither is
 * thread-safe), opened from the same configuration. Two lanes, each with
 * its own queue and threads: requests that need LDAP, and requests that
 * need only usage (so that an LDAP outage does not hold up Redis reads,
 * nor the other way round; the usage lane has threads only when the
 * usage source waits).
 *
 * Outages: a failed LDAP lookup (a refused connect, a timeout) opens the
 * LDAP breaker for a pause that starts at POOL_BACKOFF_MIN_MS and doubles
 * up to POOL_BACKOFF_MAX_MS while the failures go on. During the pause no
 * thread asks LDAP: jobs, queued ones included, are answered as lookup_key
 * answers when LDAP is unreachable (the maps, stale or not, if they hold
 * the key; else policy_on_error), and the loop answers that way itself
 * instead of queueing (pool_limits). After the pause one job probes; the
 * rest keep being answered without LDAP until the probe succeeds. A Redis
 * usage source has a breaker of its own, with the same rules. */

#include <stdbool.h>

#include "maps/conf.h"
#include "maps/policy.h"

#define POOL_LDAP_THREADS 4       /* so that one slow LDAP query does not hold the rest */
#define POOL_USAGE_THREADS 2      /* Redis answers in well under a millisecond */

enum pool_lane { POOL_LANE_LDAP, POOL_LANE_USAGE, POOL_LANES };
#define POOL_BACKOFF_MIN_MS 1000  /* a blip costs a second of answers without LDAP */
#define POOL_BACKOFF_MAX_MS 16000 /* a server back up is noticed within this */

/* One request waiting for a thread, then its decision. */
struct pool_job {
    struct pool_job *next;        /* in the pool's lists, and pool_done's */
    void *owner;                  /* the loop's (its connection); NULL once it has gone */
    enum pool_lane lane;
    struct policy_request req;
    struct policy_decision d;     /* set by the thread */
};

struct pool;

/* pool_new - the threads of both lanes, each with its own lookup handle
 * and usage source for cfg (which must outlive the pool). NULL with a
 * reason. */
struct pool *pool_new(const struct conf *cfg, char *err, size_t errsz);

/* pool_fd - readable when decisions are done (an eventfd) */
int pool_fd(const struct pool *p);

/* pool_submit - a copy of req for a thread of lane (pending_ldap of the
 * no_wait decision: POOL_LANE_LDAP, else POOL_LANE_USAGE); owner is
 * returned with it. The job (NULL when out of memory) stays the pool's
 * until pool_done hands it back. */
struct pool_job *pool_submit(struct pool *p, const struct policy_request *req,
                             enum pool_lane lane, void *owner);

/* pool_done - every finished job (a list through next; the caller frees
 * each with pool_job_free); resets pool_fd's readiness */
struct pool_job *pool_done(struct pool *p);

/* pool_job_free - release a job that pool_done returned */
void pool_job_free(struct pool_job *j);

/* pool_limits - the outages to answer around now (ldap_down, usage_down);
 * a NULL pool sets nothing */
void pool_limits(struct pool *p, struct policy_limits *lim);

/* pool_retire - no thread starts another job; each ends after its
 * current one (bounded by ldap_timeout and the Redis timeouts) and makes
 * pool_fd readable. Jobs submitted from now on only queue. Does not wait. */
void pool_retire(struct pool *p);

/* pool_idle - after pool_retire: every thread has ended */
bool pool_idle(struct pool *p);

/* pool_stop - pool_retire, then join the threads (waiting for their
 * current jobs). Finished jobs stay for pool_done, the ones never started
 * for pool_waiting. */
void pool_stop(struct pool *p);

/* pool_waiting - after pool_retire: the jobs no thread started, taken
 * whole (a list, each keeping its lane) */
struct pool_job *pool_waiting(struct pool *p);

/* pool_requeue - a job from another pool's pool_waiting, as if submitted here */
void pool_requeue(struct pool *p, struct pool_job *j);

/* pool_free - stop, then release the pool and every job it still holds
 * (NULL is fine) */
void pool_free(struct pool *p);

#endif
