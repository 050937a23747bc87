/* polmetrics - the policy daemon's counters, as Prometheus text */

#include <string.h>

#include "maps/polmetrics.h"

const uint64_t polmetrics_bounds_us[POLMETRICS_BUCKETS - 1] = {
    1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000,
};

/* polmetrics_inc - relaxed: only the sum matters, not the order */
void polmetrics_inc(uint64_t *field)
{
    __atomic_fetch_add(field, 1, __ATOMIC_RELAXED);
}

/* polmetrics_count - the request, its answer and its latency */
void polmetrics_count(struct polmetrics *m, enum polmetrics_answer a, uint64_t latency_us)
{
    size_t b = 0;
    while (b < POLMETRICS_BUCKETS - 1 && latency_us > polmetrics_bounds_us[b])
        b++;
    polmetrics_inc(&m->requests);
    if ((unsigned)a < POLMETRICS_ANSWERS)
        polmetrics_inc(&m->answers[a]);
    polmetrics_inc(&m->latency[b]);
    __atomic_fetch_add(&m->latency_sum_us, latency_us, __ATOMIC_RELAXED);
}

/* The struct is all uint64_t: it is summed as an array of them. */
#define POLMETRICS_FIELDS (sizeof(struct polmetrics) / sizeof(uint64_t))

/* polmetrics_snapshot - sum of atomic reads */
void polmetrics_snapshot(struct polmetrics *dst, const struct polmetrics *src, size_t n)
{
    uint64_t sum[POLMETRICS_FIELDS] = { 0 };
    for (size_t i = 0; i < n; i++) {
        const uint64_t *f = (const uint64_t *)&src[i];
        for (size_t k = 0; k < POLMETRICS_FIELDS; k++)
            sum[k] += __atomic_load_n(&f[k], __ATOMIC_RELAXED);
    }
    memcpy(dst, sum, sizeof(*dst));
}

/* polmetrics_delta - field by field */
void polmetrics_delta(struct polmetrics *d, const struct polmetrics *now,
                      const struct polmetrics *before)
{
    const uint64_t *a = (const uint64_t *)now, *b = (const uint64_t *)before;
    uint64_t out[POLMETRICS_FIELDS];
    for (size_t k = 0; k < POLMETRICS_FIELDS; k++)
        out[k] = a[k] >= b[k] ? a[k] - b[k] : 0;
    memcpy(d, out, sizeof(*d));
}

/* polmetrics_quantile_us - walk the buckets to the rank of q */
uint64_t polmetrics_quantile_us(const struct polmetrics *m, double q)
{
    uint64_t total = 0, seen = 0;
    for (size_t b = 0; b < POLMETRICS_BUCKETS; b++)
        total += m->latency[b];
    if (total == 0)
        return 0;
    /* the smallest rank that covers q of the requests, at least one */
    double want = q * (double)total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;
    for (size_t b = 0; b < POLMETRICS_BUCKETS - 1; b++) {
        seen += m->latency[b];
        if (seen >= rank)
            return polmetrics_bounds_us[b];
    }
    return UINT64_MAX;
}
