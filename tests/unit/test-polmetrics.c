/* test-polmetrics - the policy daemon's counters: buckets at their bounds,
 * sums over workers, deltas across a restart, quantiles, and the
 * Prometheus text (cumulative buckets, exact values, small buffers). */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maps/polmetrics.h"
#include "tests/unit/tap.h"

/* has_line - text holds this exact line */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

int main(void)
{
    struct polmetrics w[2], sum, d;
    char buf[8192];

    memset(w, 0, sizeof(w));
    ok(polmetrics_quantile_us(&w[0], 0.99) == 0, "no requests: quantile 0");

    polmetrics_count(&w[0], POLMETRICS_DUNNO, 0);
    polmetrics_count(&w[0], POLMETRICS_DUNNO, 1000);      /* at the bound: that bucket */
    polmetrics_count(&w[0], POLMETRICS_REJECT, 1001);     /* past it: the next */
    polmetrics_count(&w[1], POLMETRICS_DEFER, 7000000);   /* +Inf */
    polmetrics_inc(&w[1].ldap_fallbacks);
    polmetrics_inc(&w[1].usage_missing);
    is_int(w[0].latency[0], 2, "0 and 1000 us in the first bucket");
    is_int(w[0].latency[1], 1, "1001 us in the second");
    is_int(w[1].latency[POLMETRICS_BUCKETS - 1], 1, "7 s in +Inf");

    polmetrics_snapshot(&sum, w, 2);
    is_int(sum.requests, 4, "the sum over two workers: 4 requests");
    is_int(sum.answers[POLMETRICS_DUNNO], 2, "2 DUNNO");
    is_int(sum.answers[POLMETRICS_REJECT], 1, "1 reject");
    is_int(sum.answers[POLMETRICS_DEFER], 1, "1 defer");
    is_int(sum.latency_sum_us, 7002001, "latency sum");
    ok(polmetrics_quantile_us(&sum, 0.5) == 1000, "median: the first bucket's bound");
    ok(polmetrics_quantile_us(&sum, 0.75) == 5000, "p75: the second bucket's bound");
    ok(polmetrics_quantile_us(&sum, 0.99) == UINT64_MAX, "p99 in +Inf");

    struct polmetrics later = sum;
    polmetrics_count(&later, POLMETRICS_DUNNO, 20);
    polmetrics_delta(&d, &later, &sum);
    is_int(d.requests, 1, "delta: one request since");
    is_int(d.latency[0], 1, "delta: in the first bucket");
    polmetrics_delta(&d, &sum, &later);
    is_int(d.requests, 0, "a counter that went back gives 0, never a wrap");

    int n = polmetrics_format(&sum, buf, sizeof(buf));
    ok(n > 0 && (size_t)n == strlen(buf), "formatted: length %d", n);
    ok(has_line(buf, "# TYPE mailmaps_policy_requests_total counter"), "requests: TYPE counter");
    ok(has_line(buf, "mailmaps_policy_requests_total 4"), "requests 4");
    ok(has_line(buf, "mailmaps_policy_answers_total{action=\"dunno\"} 2"), "dunno 2");
    ok(has_line(buf, "mailmaps_policy_answers_total{action=\"reject\"} 1"), "reject 1");
    ok(has_line(buf, "mailmaps_policy_answers_total{action=\"defer\"} 1"), "defer 1");
    ok(has_line(buf, "mailmaps_policy_ldap_fallbacks_total 1"), "fallbacks 1");
    ok(has_line(buf, "mailmaps_policy_usage_missing_total 1"), "missing usage files 1");
    ok(has_line(buf, "# TYPE mailmaps_policy_latency_seconds histogram"), "histogram TYPE");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_bucket{le=\"0.001000\"} 2"),
       "bucket le=0.001: 2");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_bucket{le=\"0.005000\"} 3"),
       "bucket le=0.005: cumulative 3");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_bucket{le=\"5.000000\"} 3"),
       "bucket le=5: 3");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_bucket{le=\"+Inf\"} 4"), "+Inf: 4");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_sum 7.002001"), "sum in seconds");
    ok(has_line(buf, "mailmaps_policy_latency_seconds_count 4"), "count = +Inf");
    ok(polmetrics_format(&sum, buf, 100) == -1, "a buffer too small: -1");
    ok(polmetrics_format(&sum, buf, 0) == -1, "an empty buffer: -1");
    return tap_done();
}
