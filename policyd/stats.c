/* stats - the counters of every worker, as a textfile and a log line */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "maps/atomicfile.h"
#include "maps/units.h"
#include "policyd/stats.h"

/* now_s - monotonic seconds: reporting must not follow clock jumps */
static long long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* log_every - STATS_LOG_EVERY, or what STATS_LOG_EVERY_ENV says: the
 * tests want a summary line within seconds (doc/testing.md) */
static int log_every(void)
{
    const char *env = getenv(STATS_LOG_EVERY_ENV), *why;
    uint64_t v;

    if (env == NULL || env[0] == '\0')
        return STATS_LOG_EVERY;
    if (units_uint_parse(env, 1, STATS_LOG_EVERY, &v, &why) < 0) {
        log_warnx("%s=%s ignored: %s", STATS_LOG_EVERY_ENV, env, why);
        return STATS_LOG_EVERY;
    }
    return (int)v;
}

/* stats_setup - anonymous shared memory, inherited across fork */
int stats_setup(struct policyd *pd, unsigned n)
{
    size_t size = (n > 0 ? n : 1) * sizeof(struct polmetrics);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_warn("mmap for the counters");
        return -1;
    }
    pd->stats.slots = p;
    pd->stats.nslots = n > 0 ? n : 1;
    pd->stats.mine = pd->stats.slots;
    pd->stats.log_every = log_every();
    /* a summary line sooner than the file's rewrite needs it sooner too */
    pd->stats.write_every = pd->stats.log_every < STATS_WRITE_EVERY ? pd->stats.log_every
                                                                    : STATS_WRITE_EVERY;
    long long now = now_s();
    pd->stats.next_write = now;
    pd->stats.next_log = now + pd->stats.log_every;
    return 0;
}

/* stats_worker - slot i (bounded by setup's n) */
void stats_worker(struct policyd *pd, unsigned i)
{
    if (pd->stats.slots != NULL)
        pd->stats.mine = pd->stats.slots + (i < pd->stats.nslots ? i : 0);
}

/* stats_count - the answer's kind, what it needed, its latency */
void stats_count(struct policyd *pd, const struct policy_decision *d,
                 const struct timespec *t0)
{
    struct polmetrics *m = pd->stats.mine;
    struct timespec now;

    if (m == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us = (long long)(now.tv_sec - t0->tv_sec) * 1000000 +
                   (now.tv_nsec - t0->tv_nsec) / 1000;
    if (d->error)
        polmetrics_inc(&m->errors);
    if (d->ldap_asked)
        polmetrics_inc(&m->ldap_fallbacks);
    if (d->ldap_failed)
        polmetrics_inc(&m->ldap_failures);
    if (d->usage_failed)
        polmetrics_inc(&m->usage_errors);
    if (d->usage_missing)
        polmetrics_inc(&m->usage_missing);
    polmetrics_count(m, d->verdict == POLICY_REJECT  ? POLMETRICS_REJECT
                        : d->verdict == POLICY_DEFER ? POLMETRICS_DEFER
                                                     : POLMETRICS_DUNNO,
                     us > 0 ? (uint64_t)us : 0);
}

/* write_file - the sum into policy_metrics_file, when one is set */
static void write_file(struct policyd *pd, const struct polmetrics *sum)
{
    const char *path = pd->cfg->policy_metrics_file;
    char buf[8192], err[512];
    unsigned suppressed;

    if (path == NULL || path[0] == '\0')
        return;
    int n = polmetrics_format(sum, buf, sizeof(buf));
    /* node_exporter reads the file: a reader of the maps' group may */
    if (n < 0)
        snprintf(err, sizeof(err), "%s: the metrics do not fit in %zu bytes", path,
                 sizeof(buf));
    if (n >= 0 && atomicfile_replace(path, buf, (size_t)n, 0644, (gid_t)-1, err,
                                     sizeof(err)) == 0)
        return;
    if (ratelog_allow(&pd->stats.rl, time(NULL), &suppressed))
        log_warnx("policy_metrics_file %s", err);
}

/* stats_tick - due work only */
void stats_tick(struct policyd *pd)
{
    struct polmetrics sum, d;
    long long now = now_s();

    if (pd->stats.slots == NULL || now < pd->stats.next_write)
        return;
    pd->stats.next_write = now + pd->stats.write_every;
    polmetrics_snapshot(&sum, pd->stats.slots, pd->stats.nslots);
    write_file(pd, &sum);
    if (now < pd->stats.next_log)
        return;
    pd->stats.next_log = now + pd->stats.log_every;
    polmetrics_delta(&d, &sum, &pd->stats.logged);
    pd->stats.logged = sum;
    uint64_t p99 = polmetrics_quantile_us(&d, 0.99);
    char p99s[32];
    if (p99 == UINT64_MAX)
        snprintf(p99s, sizeof(p99s), "> %llu ms",
                 (unsigned long long)(polmetrics_bounds_us[POLMETRICS_BUCKETS - 2] / 1000));
    else
        snprintf(p99s, sizeof(p99s), "<= %llu ms", (unsigned long long)(p99 / 1000));
    log_info("stats: last %d s: %llu requests, %llu rejected, %llu deferred, %llu errors, "
             "%llu LDAP fallbacks (%llu failed), %llu usage errors, %llu maildirsize missing, "
             "p99 %s",
             pd->stats.log_every, (unsigned long long)d.requests,
             (unsigned long long)d.answers[POLMETRICS_REJECT],
             (unsigned long long)d.answers[POLMETRICS_DEFER], (unsigned long long)d.errors,
             (unsigned long long)d.ldap_fallbacks, (unsigned long long)d.ldap_failures,
             (unsigned long long)d.usage_errors, (unsigned long long)d.usage_missing, p99s);
}

/* stats_flush - write regardless of the schedule */
void stats_flush(struct policyd *pd)
{
    struct polmetrics sum;
    if (pd->stats.slots == NULL)
        return;
    polmetrics_snapshot(&sum, pd->stats.slots, pd->stats.nslots);
    write_file(pd, &sum);
}

/* stats_free - unmap */
void stats_free(struct policyd *pd)
{
    if (pd->stats.slots != NULL)
        munmap(pd->stats.slots, pd->stats.nslots * sizeof(struct polmetrics));
    memset(&pd->stats, 0, sizeof(pd->stats));
}
