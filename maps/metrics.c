/* metrics - the status file in Prometheus' text exposition format */

#include <stdarg.h>
#include <stdio.h>

#include "maps/metrics.h"
#include "maps/polmetrics.h"

struct metrics_buf {
    char *p;
    size_t size, len;
    int overflow;
};

/* metrics_add - append one formatted piece; remember an overflow */
__attribute__((format(printf, 2, 3)))
static void metrics_add(struct metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->size - b->len)
        b->overflow = 1;
    else
        b->len += (size_t)n;
}

/* metrics_gauge - HELP, TYPE and the sample line of one gauge; value is
 * preformatted so integers and fractions print exactly */
static void metrics_gauge(struct metrics_buf *b, const char *name, const char *help,
                          const char *value)
{
    metrics_add(b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, value);
}

/* metrics_format - see metrics.h */
int metrics_format(const struct status *st, time_t now, unsigned stale_after, char *buf,
                   size_t bufsz)
{
    struct metrics_buf b = { buf, bufsz, 0, 0 };
    char v[64];

    if (bufsz == 0)
        return -1;
    buf[0] = '\0';
    if (st == NULL) {
        metrics_gauge(&b, "mailmaps_stale", "1 when the maps are older than stale_after or unusable.",
                      "1");
        return b.overflow ? -1 : (int)b.len;
    }
    snprintf(v, sizeof(v), "%llu", (unsigned long long)st->users);
    metrics_gauge(&b, "mailmaps_users", "Keys in users.cdb.", v);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)st->aliases);
    metrics_gauge(&b, "mailmaps_aliases", "Keys in aliases.cdb.", v);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)st->domains);
    metrics_gauge(&b, "mailmaps_domains", "Keys in domains.cdb.", v);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)st->generation);
    metrics_gauge(&b, "mailmaps_generation", "Generation of the installed maps.", v);
    snprintf(v, sizeof(v), "%lld", (long long)st->synced_at);
    metrics_gauge(&b, "mailmaps_synced_timestamp_seconds",
                  "Unix time of the last successful sync.", v);
    snprintf(v, sizeof(v), "%llu.%03llu", (unsigned long long)(st->duration_ms / 1000),
             (unsigned long long)(st->duration_ms % 1000));
    metrics_gauge(&b, "mailmaps_sync_duration_seconds", "Duration of the last successful sync.",
                  v);
    /* Never negative: a clock stepped back must not make the maps look
     * younger than new; both sides checked so the subtraction cannot wrap. */
    long long age = 0;
    if (now > 0 && st->synced_at >= 0 && now >= st->synced_at)
        age = (long long)now - (long long)st->synced_at;
    snprintf(v, sizeof(v), "%lld", age);
    metrics_gauge(&b, "mailmaps_age_seconds", "Seconds since the last successful sync.", v);
    metrics_gauge(&b, "mailmaps_stale", "1 when the maps are older than stale_after or unusable.",
                  status_is_stale(st, now, stale_after) ? "1" : "0");
    snprintf(v, sizeof(v), "%lld", (long long)st->last_failure_at);
    metrics_gauge(&b, "mailmaps_last_failure_timestamp_seconds",
                  "Unix time of the last failed or refused sync since the last success; 0 = none.", v);
    return b.overflow ? -1 : (int)b.len;
}

/* metrics_counter - HELP, TYPE and the one sample of a counter without labels */
static void metrics_counter(struct metrics_buf *b, const char *name, const char *help, uint64_t v)
{
    metrics_add(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
           (unsigned long long)v);
}

/* polmetrics_format - see polmetrics.h (here for metrics_add) */
int polmetrics_format(const struct polmetrics *m, char *buf, size_t bufsz)
{
    static const char *const action[POLMETRICS_ANSWERS] = { "dunno", "reject", "defer" };
    struct metrics_buf b = { buf, bufsz, 0, 0 };

    if (bufsz == 0)
        return -1;
    buf[0] = '\0';
    metrics_counter(&b, "mailmaps_policy_requests_total", "Policy requests answered.", m->requests);
    metrics_add(&b, "# HELP mailmaps_policy_answers_total Answers by action (reject: over quota; "
               "defer: policy_on_error).\n# TYPE mailmaps_policy_answers_total counter\n");
    for (size_t a = 0; a < POLMETRICS_ANSWERS; a++)
        metrics_add(&b, "mailmaps_policy_answers_total{action=\"%s\"} %llu\n", action[a],
               (unsigned long long)m->answers[a]);
    metrics_counter(&b, "mailmaps_policy_errors_total",
               "Requests whose user data or usage could not be had (answered policy_on_error).",
               m->errors);
    metrics_counter(&b, "mailmaps_policy_ldap_fallbacks_total",
               "Lookups that went past the maps to LDAP.", m->ldap_fallbacks);
    metrics_counter(&b, "mailmaps_policy_ldap_failures_total",
               "LDAP fallbacks that found LDAP unreachable.", m->ldap_failures);
    metrics_counter(&b, "mailmaps_policy_usage_errors_total",
               "Usage source (Redis) errors.", m->usage_errors);
    metrics_counter(&b, "mailmaps_policy_usage_missing_total",
               "Usage files (maildirsize) not found, counted as usage 0.", m->usage_missing);
    metrics_add(&b, "# HELP mailmaps_policy_latency_seconds Time from a complete request to its "
               "answer.\n# TYPE mailmaps_policy_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t k = 0; k < POLMETRICS_BUCKETS; k++) {
        cum += m->latency[k];
        if (k < POLMETRICS_BUCKETS - 1)
            metrics_add(&b, "mailmaps_policy_latency_seconds_bucket{le=\"%llu.%06llu\"} %llu\n",
                   (unsigned long long)(polmetrics_bounds_us[k] / 1000000),
                   (unsigned long long)(polmetrics_bounds_us[k] % 1000000),
                   (unsigned long long)cum);
        else
            metrics_add(&b, "mailmaps_policy_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                   (unsigned long long)cum);
    }
    metrics_add(&b, "mailmaps_policy_latency_seconds_sum %llu.%06llu\n",
           (unsigned long long)(m->latency_sum_us / 1000000),
           (unsigned long long)(m->latency_sum_us % 1000000));
    metrics_add(&b, "mailmaps_policy_latency_seconds_count %llu\n", (unsigned long long)cum);
    return b.overflow ? -1 : (int)b.len;
}
