/* pool - worker threads for the answers that may wait on LDAP or Redis */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "maps/monotime.h"
#include "policyd/policyd.h"
#include "policyd/pool.h"

/* The pause after a failure of one slow source (see pool.h). */
struct breaker {
    bool tripped;                 /* the last answer was a failure */
    bool probing;                 /* a job is testing whether it is back */
    long long until;              /* ms: no job asks before this */
    long long backoff;            /* ms, the current pause */
};

enum claim { CLAIM_DENIED, CLAIM_ALLOWED, CLAIM_PROBE };

struct worker {
    struct pool *p;
    enum pool_lane lane;
    pthread_t th;
    struct lookup *lk;
    struct usage_source *us;
};

struct queue {
    struct pool_job *head, **tail;
    pthread_cond_t cv;            /* a job came, or quit */
};

struct pool {
    const struct conf *cfg;
    pthread_mutex_t mu;
    struct queue todo[POOL_LANES];
    struct pool_job *done, **done_tail;
    struct breaker ldap, usage;
    bool quit;
    int efd;
    size_t nworkers;              /* started */
    size_t exited;                /* threads that have seen quit */
    struct worker w[POOL_LDAP_THREADS + POOL_USAGE_THREADS];
};

/* breaker_down - the source is not to be asked now */
static bool breaker_down(const struct breaker *b, long long now)
{
    return b->tripped && (b->probing || now < b->until);
}

/* breaker_claim - may this job ask the source; the first after a pause probes */
static enum claim breaker_claim(struct breaker *b, long long now)
{
    if (!b->tripped)
        return CLAIM_ALLOWED;
    if (breaker_down(b, now))
        return CLAIM_DENIED;
    b->probing = true;
    return CLAIM_PROBE;
}

/* breaker_report - what a job that was allowed found out */
static void breaker_report(struct breaker *b, enum claim c, long long now, bool asked,
                           bool failed)
{
    if (c == CLAIM_DENIED)
        return;
    if (asked && failed) {
        b->backoff = !b->tripped ? POOL_BACKOFF_MIN_MS
                     : b->backoff * 2 > POOL_BACKOFF_MAX_MS ? POOL_BACKOFF_MAX_MS
                                                             : b->backoff * 2;
        b->tripped = true;
        b->probing = false;
        b->until = now + b->backoff;
    } else if (asked) {
        b->tripped = false;
        b->probing = false;
    } else if (c == CLAIM_PROBE) {
        b->probing = false;       /* it needed nothing from the source after all */
    }
}

/* run - one thread: take a job, decide it, hand it back */
static void *run(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->p;
    struct queue *q = &p->todo[w->lane];

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && q->head == NULL)
            pthread_cond_wait(&q->cv, &p->mu);
        if (p->quit)
            break;
        struct pool_job *j = q->head;
        q->head = j->next;
        if (q->head == NULL)
            q->tail = &q->head;
        long long now = monotime_ms();
        enum claim cl = breaker_claim(&p->ldap, now), cu = breaker_claim(&p->usage, now);
        struct policy_limits lim = {
            .ldap_down = cl == CLAIM_DENIED,
            .usage_down = cu == CLAIM_DENIED,
        };
        pthread_mutex_unlock(&p->mu);

        policy_decide_within(&j->req, p->cfg, w->lk, w->us, &lim, &j->d);

        pthread_mutex_lock(&p->mu);
        now = monotime_ms();
        breaker_report(&p->ldap, cl, now, j->d.ldap_asked, j->d.ldap_failed);
        breaker_report(&p->usage, cu, now, j->d.usage_asked, j->d.usage_failed);
        j->next = NULL;
        *p->done_tail = j;
        p->done_tail = &j->next;
        uint64_t one = 1;
        /* cannot fail short of a counter at 2^64-1 */
        if (write(p->efd, &one, sizeof(one)) < 0) {
        }
    }
    /* pool_idle may now be true: the loop looks when pool_fd is readable */
    p->exited++;
    uint64_t one = 1;
    if (write(p->efd, &one, sizeof(one)) < 0) {
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* pool_new - the threads and what each needs */
struct pool *pool_new(const struct conf *cfg, char *err, size_t errsz)
{
    struct pool *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    for (size_t l = 0; l < POOL_LANES; l++) {
        p->todo[l].tail = &p->todo[l].head;
        pthread_cond_init(&p->todo[l].cv, NULL);
    }
    p->done_tail = &p->done;
    pthread_mutex_init(&p->mu, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        snprintf(err, errsz, "eventfd: %s", strerror(errno));
        goto fail;
    }
    size_t n = POOL_LDAP_THREADS;
    if (cfg->quota_usage.kind == CONF_USAGE_REDIS)
        n += POOL_USAGE_THREADS;
    for (size_t i = 0; i < n; i++) {
        struct worker *w = &p->w[i];
        w->p = p;
        w->lane = i < POOL_LDAP_THREADS ? POOL_LANE_LDAP : POOL_LANE_USAGE;
        w->us = policyd_usage_new(cfg, err, errsz);
        if (w->us == NULL)
            goto fail;
        w->lk = lookup_new(cfg, err, errsz);
        if (w->lk == NULL) {
            usage_free(w->us);
            goto fail;
        }
        int rc = pthread_create(&w->th, NULL, run, w);
        if (rc != 0) {
            snprintf(err, errsz, "pthread_create: %s", strerror(rc));
            lookup_free(w->lk);
            usage_free(w->us);
            goto fail;
        }
        p->nworkers++;
    }
    return p;
fail:
    pool_free(p);
    return NULL;
}

int pool_fd(const struct pool *p)
{
    return p->efd;
}

/* pool_submit - queue a copy of req */
struct pool_job *pool_submit(struct pool *p, const struct policy_request *req,
                             enum pool_lane lane, void *owner)
{
    struct pool_job *j = malloc(sizeof(*j));
    if (j == NULL)
        return NULL;
    j->owner = owner;
    j->lane = lane;
    j->req = *req;
    memset(&j->d, 0, sizeof(j->d));
    pool_requeue(p, j);
    return j;
}

/* pool_requeue - to the end of the queue, and wake a thread */
void pool_requeue(struct pool *p, struct pool_job *j)
{
    struct queue *q = &p->todo[j->lane];
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    *q->tail = j;
    q->tail = &j->next;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&p->mu);
}

/* pool_done - the finished jobs, oldest first */
struct pool_job *pool_done(struct pool *p)
{
    uint64_t n;
    if (read(p->efd, &n, sizeof(n)) < 0) {
        /* EAGAIN: nothing signalled since the last call */
    }
    pthread_mutex_lock(&p->mu);
    struct pool_job *list = p->done;
    p->done = NULL;
    p->done_tail = &p->done;
    pthread_mutex_unlock(&p->mu);
    return list;
}

void pool_job_free(struct pool_job *j)
{
    free(j);
}

/* pool_limits - the breakers as they stand */
void pool_limits(struct pool *p, struct policy_limits *lim)
{
    if (p == NULL)
        return;
    long long now = monotime_ms();
    pthread_mutex_lock(&p->mu);
    lim->ldap_down = breaker_down(&p->ldap, now);
    lim->usage_down = breaker_down(&p->usage, now);
    pthread_mutex_unlock(&p->mu);
}

/* pool_retire - quit set: every thread ends after its current job */
void pool_retire(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    for (size_t l = 0; l < POOL_LANES; l++)
        pthread_cond_broadcast(&p->todo[l].cv);
    pthread_mutex_unlock(&p->mu);
}

/* pool_idle - after pool_retire: every thread has ended its last job */
bool pool_idle(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    bool idle = p->exited == p->nworkers;
    pthread_mutex_unlock(&p->mu);
    return idle;
}

/* pool_stop - retire and join every thread; the lookup handles and usage
 * sources go with them */
void pool_stop(struct pool *p)
{
    pool_retire(p);
    for (size_t i = 0; i < p->nworkers; i++) {
        pthread_join(p->w[i].th, NULL);
        lookup_free(p->w[i].lk);
        usage_free(p->w[i].us);
    }
    p->nworkers = p->exited = 0;
}

/* pool_waiting - both queues, taken whole */
struct pool_job *pool_waiting(struct pool *p)
{
    struct pool_job *list = NULL;
    pthread_mutex_lock(&p->mu);
    for (size_t l = 0; l < POOL_LANES; l++) {
        struct queue *q = &p->todo[l];
        if (q->head != NULL) {
            *q->tail = list;
            list = q->head;
        }
        q->head = NULL;
        q->tail = &q->head;
    }
    pthread_mutex_unlock(&p->mu);
    return list;
}

/* free_list - every job of a list */
static void free_list(struct pool_job *j)
{
    while (j != NULL) {
        struct pool_job *next = j->next;
        pool_job_free(j);
        j = next;
    }
}

/* pool_free - stop, then drop what is left */
void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pool_stop(p);
    free_list(pool_waiting(p));
    free_list(p->done);
    if (p->efd >= 0)
        close(p->efd);
    for (size_t l = 0; l < POOL_LANES; l++)
        pthread_cond_destroy(&p->todo[l].cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
