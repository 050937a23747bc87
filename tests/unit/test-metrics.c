/* test-metrics - the Prometheus text form of a status: every metric with
 * HELP and TYPE, exact values, staleness, clock skew, a missing status and
 * buffers too small. */

#include <stdio.h>
#include <string.h>

#include "maps/metrics.h"
#include "tests/unit/tap.h"

/* sample - a status as a sync writes it */
static void sample(struct status *st)
{
    memset(st, 0, sizeof(*st));
    st->generation = 42;
    st->synced_at = 1700000000;
    st->duration_ms = 1234;
    st->users = 150000;
    st->aliases = 20000;
    st->domains = 12;
}

/* line_value - the value on the sample line of metric name, or NULL */
static const char *line_value(const char *text, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    for (const char *p = text; *p; ) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == ' ') {
            snprintf(out, outsz, "%.*s", (int)(len - n - 1), p + n + 1);
            return out;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

static const struct {
    const char *name, *want;
} fresh[] = {
    { "mailmaps_users", "150000" },
    { "mailmaps_aliases", "20000" },
    { "mailmaps_domains", "12" },
    { "mailmaps_generation", "42" },
    { "mailmaps_synced_timestamp_seconds", "1700000000" },
    { "mailmaps_sync_duration_seconds", "1.234" },
    { "mailmaps_age_seconds", "60" },
    { "mailmaps_stale", "0" },
    { "mailmaps_last_failure_timestamp_seconds", "0" },
};

int main(void)
{
    char buf[8192], v[128], want[256];
    struct status st;

    sample(&st);
    int len = metrics_format(&st, 1700000060, 1800, buf, sizeof(buf));
    ok(len > 0 && (size_t)len == strlen(buf), "a fresh status formats (%d bytes)", len);
    for (size_t i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
        is_str(line_value(buf, fresh[i].name, v, sizeof(v)), fresh[i].want, "%s", fresh[i].name);
        snprintf(want, sizeof(want), "# TYPE %s gauge\n", fresh[i].name);
        ok(strstr(buf, want) != NULL, "%s has a TYPE line", fresh[i].name);
        snprintf(want, sizeof(want), "# HELP %s ", fresh[i].name);
        ok(strstr(buf, want) != NULL, "%s has a HELP line", fresh[i].name);
    }
    ok(buf[len - 1] == '\n', "the text ends with a newline");

    /* durations: whole seconds and milliseconds print exactly */
    static const struct { unsigned long long ms; const char *want; } dur[] = {
        { 0, "0.000" }, { 7, "0.007" }, { 1000, "1.000" }, { 61001, "61.001" },
        { 18446744073709551615ULL, "18446744073709551.615" },
    };
    for (size_t i = 0; i < sizeof(dur) / sizeof(dur[0]); i++) {
        st.duration_ms = dur[i].ms;
        metrics_format(&st, 1700000060, 1800, buf, sizeof(buf));
        is_str(line_value(buf, "mailmaps_sync_duration_seconds", v, sizeof(v)), dur[i].want,
               "duration %llu ms", dur[i].ms);
    }

    /* stale, failure recorded */
    sample(&st);
    st.last_failure_at = 1700003000;
    snprintf(st.last_failure, sizeof(st.last_failure), "Can't contact LDAP server");
    metrics_format(&st, 1700003600, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_stale", v, sizeof(v)), "1", "old maps are stale");
    is_str(line_value(buf, "mailmaps_age_seconds", v, sizeof(v)), "3600", "their age");
    is_str(line_value(buf, "mailmaps_last_failure_timestamp_seconds", v, sizeof(v)),
           "1700003000", "the last failure");
    ok(strstr(buf, "LDAP") == NULL, "the failure text is not exposed (no label escaping needed)");

    /* a clock behind the sync: age 0, stale once beyond stale_after */
    sample(&st);
    metrics_format(&st, 1699999000, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_age_seconds", v, sizeof(v)), "0", "skewed clock: age 0");
    is_str(line_value(buf, "mailmaps_stale", v, sizeof(v)), "0", "skew within stale_after");
    metrics_format(&st, 1699990000, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_stale", v, sizeof(v)), "1", "skew beyond stale_after");

    /* never synced, negative times */
    sample(&st);
    st.synced_at = 0;
    metrics_format(&st, 1700000000, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_stale", v, sizeof(v)), "1", "never synced is stale");
    st.synced_at = -5;
    metrics_format(&st, 1700000000, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_age_seconds", v, sizeof(v)), "0", "negative time: no wrap");
    metrics_format(&st, -1, 1800, buf, sizeof(buf));
    is_str(line_value(buf, "mailmaps_age_seconds", v, sizeof(v)), "0", "negative clock: no wrap");

    /* no status at all */
    len = metrics_format(NULL, 1700000000, 1800, buf, sizeof(buf));
    ok(len > 0, "a missing status still formats");
    is_str(line_value(buf, "mailmaps_stale", v, sizeof(v)), "1", "missing: stale 1");
    ok(line_value(buf, "mailmaps_users", v, sizeof(v)) == NULL, "missing: no counts");

    /* every buffer size up to the full text: -1 and a terminated buffer */
    sample(&st);
    len = metrics_format(&st, 1700000060, 1800, buf, sizeof(buf));
    int bad = 0;
    for (size_t sz = 0; sz <= (size_t)len; sz++) {
        char small[8192];
        memset(small, 'x', sizeof(small));
        int r = metrics_format(&st, 1700000060, 1800, small, sz);
        if (r != -1 || (sz > 0 && memchr(small, '\0', sz) == NULL) || small[sz] != 'x')
            bad++;
    }
    is_int(bad, 0, "buffers of 0..%d bytes: -1, terminated, nothing written beyond", len);
    char exact[8192];
    is_int(metrics_format(&st, 1700000060, 1800, exact, (size_t)len + 1), len,
           "a buffer of exactly the length + 1 is enough");
    is_int(metrics_format(NULL, 0, 0, exact, 5), -1, "missing status, tiny buffer: -1");
    return tap_done();
}
