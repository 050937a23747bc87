#ifndef MAILMAPS_POLMETRICS_H
#define MAILMAPS_POLMETRICS_H

/* The policy daemon's counters and latency histogram, and their text in
 * Prometheus' exposition format (0.0.4) for node_exporter's textfile
 * collector. One struct per writer (a worker process); a reader sums
 * snapshots. Updates and snapshots are atomic per field (relaxed), so a
 * struct may live in memory shared between processes or threads. */

#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the latency buckets in microseconds; the last bucket,
 * +Inf, is POLMETRICS_BUCKETS - 1. */
#define POLMETRICS_BUCKETS 9
extern const uint64_t polmetrics_bounds_us[POLMETRICS_BUCKETS - 1];

enum polmetrics_answer {
    POLMETRICS_DUNNO,      /* not ours to refuse (including errors answered DUNNO) */
    POLMETRICS_REJECT,     /* over quota */
    POLMETRICS_DEFER,      /* policy_on_error = defer */
    POLMETRICS_ANSWERS,
};

struct polmetrics {
    uint64_t requests;
    uint64_t answers[POLMETRICS_ANSWERS];
    uint64_t errors;            /* user data or usage could not be had */
    uint64_t ldap_fallbacks;    /* lookups that went past the maps to LDAP */
    uint64_t ldap_failures;     /* ... and found it unreachable */
    uint64_t usage_errors;      /* the usage source (Redis) failed */
    uint64_t usage_missing;     /* no usage file (maildirsize): counted as 0 */
    uint64_t latency[POLMETRICS_BUCKETS];   /* not cumulative */
    uint64_t latency_sum_us;
};

/* polmetrics_count - one answered request */
void polmetrics_count(struct polmetrics *m, enum polmetrics_answer a, uint64_t latency_us);

/* polmetrics_inc - one more in the counter field points to (a field of a
 * struct polmetrics) */
void polmetrics_inc(uint64_t *field);

/* polmetrics_snapshot - *dst = the sum of src[0..n-1], each field read
 * atomically */
void polmetrics_snapshot(struct polmetrics *dst, const struct polmetrics *src, size_t n);

/* polmetrics_delta - *d = now - before, field by field (0 where a counter
 * went back: a fresh start) */
void polmetrics_delta(struct polmetrics *d, const struct polmetrics *now,
                      const struct polmetrics *before);

/* polmetrics_quantile_us - the upper bound of the bucket that holds the
 * q-th quantile (0 < q <= 1) of m's latencies: 0 without requests,
 * UINT64_MAX when it is in +Inf */
uint64_t polmetrics_quantile_us(const struct polmetrics *m, double q);

/* polmetrics_format - m as metrics text into buf (NUL-terminated): the
 * counters mailmaps_policy_requests_total,
 * mailmaps_policy_answers_total{action="dunno|reject|defer"},
 * mailmaps_policy_errors_total, mailmaps_policy_ldap_fallbacks_total,
 * mailmaps_policy_ldap_failures_total, mailmaps_policy_usage_errors_total,
 * mailmaps_policy_usage_missing_total and the histogram
 * mailmaps_policy_latency_seconds. The length, or -1 when buf is too
 * small. */
int polmetrics_format(const struct polmetrics *m, char *buf, size_t bufsz);

#endif
