/* fuzz-quota - quota rules from fuzz bytes: whatever parses must format to
 * a value that parses back to the same rule and formats identically; limits
 * and the grace decision must never trip the sanitizers. The size parsers
 * of units.c get the same bytes. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/quota.h"
#include "maps/units.h"
#include "tests/unit/same_rule.h"

/* round_trip - format, parse, format again: abort on any difference */
static void round_trip(const struct quota_rule *r)
{
    char buf[512], buf2[512], err[256];
    struct quota_rule back;
    int n = quota_rule_format(r, buf, sizeof(buf));

    if (n < 0 || (size_t)n != strlen(buf))
        abort();
    if (quota_rule_parse(buf, &back, err, sizeof(err)) < 0 || !same_rule(r, &back))
        abort();
    if (quota_rule_format(&back, buf2, sizeof(buf2)) != n || strcmp(buf, buf2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, err[256];
    struct quota_rules rules;
    struct quota_rule rule;
    uint64_t limit, v;
    unsigned u;
    const char *why;

    if (size > 4096)
        return 0;
    if ((s = malloc(size + 1)) == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (quota_rule_parse(s, &rule, err, sizeof(err)) == 0)
        round_trip(&rule);
    else if (err[0] == '\0')
        abort();

    if (quota_rules_parse(s, &rules, err, sizeof(err)) == 0) {
        if (rules.count > QUOTA_RULES_MAX)
            abort();
        for (size_t i = 0; i < rules.count; i++) {
            round_trip(&rules.rule[i]);
            if (quota_rules_find(&rules, rules.rule[i].folder) != &rules.rule[i])
                abort();
            if (quota_storage_limit(&rules, rules.rule[i].folder, &limit) == 1 &&
                (limit == 0 || limit > (uint64_t)INT64_MAX))
                abort();
        }
        if (quota_storage_limit(&rules, NULL, &limit) == 1 &&
            !quota_accept(0, limit, limit, 0))
            abort();
    } else if (rules.count != 0 || err[0] == '\0') {
        abort();
    }

    if (units_size_parse(s, 1024, &v, &why) == 0) {
        char buf[24];
        uint64_t back;
        /* exact multiples format and parse back */
        units_size_format(v, buf, sizeof(buf));
        if (units_size_parse(buf, 1, &back, &why) < 0 || back != v)
            abort();
    }
    (void)units_percent_parse(s, &u, &why);
    (void)units_duration_parse(s, &u, &why);
    (void)units_uint_parse(s, 0, UINT64_MAX, &v, &why);

    if (size >= 32) {
        uint64_t w[4];
        memcpy(w, data, sizeof(w));
        bool a = quota_accept(w[0], w[1], w[2], w[3]);
        /* within the limit is always accepted; over it with no grace never */
        if (w[2] != 0 && w[0] <= w[2] && w[1] <= w[2] - w[0] && !a)
            abort();
        if (w[2] != 0 && w[3] == 0 && (w[0] > w[2] || w[1] > w[2] - w[0]) && a)
            abort();
    }
    free(s);
    return 0;
}
