/* quota - Dovecot 2.3 quota rules: parsing, formatting, folder limits */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "maps/address.h"
#include "maps/quota.h"
#include "maps/units.h"
#include "maps/userrec.h"

#define QUOTA_VALUE_MAX 64    /* longest limit value text ("+10737418240B") */
#define QUOTA_TOKEN_MAX 1024  /* longest rule in a rules list */

/* folder_check - a folder name we can match and hand back to Dovecot */
static int folder_check(const char *f, size_t len, const char **why)
{
    if (len == 0) {
        *why = "empty folder name";
        return -1;
    }
    if (len >= QUOTA_FOLDER_MAX) {
        *why = "folder name too long";
        return -1;
    }
    if (len == 1 && f[0] == '*')
        return 0;
    if (len == 1 && f[0] == '?') {
        *why = "the \"?\" rule (backend limits) is not supported; use \"*\"";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)f[i];
        /* Dovecot matches masks with wildcards; we compare names, so a
         * mask would silently never match */
        if (c == '*' || c == '?') {
            *why = "wildcards in folder names are not supported";
            return -1;
        }
        if (c <= ' ' || c == 0x7f) {
            *why = "blank or control character in folder name";
            return -1;
        }
        /* only reachable from quota_rule_format: parsing splits there */
        if (c == ':') {
            *why = "':' in folder name";
            return -1;
        }
    }
    if (!address_utf8_valid(f, len)) {
        *why = "invalid UTF-8 in folder name";
        return -1;
    }
    return 0;
}

/* limit_parse - "[+-]N[unit]" or "[+-]N%" of len bytes. default_unit is
 * Dovecot's unit for a bare number (KiB for storage); short_form insists on
 * an explicit unit, since a bare number there would be read as kilobytes. */
static int limit_parse(const char *v, size_t len, bool base, uint64_t default_unit,
                       bool short_form, struct quota_limit *lim, const char **why)
{
    char buf[QUOTA_VALUE_MAX];
    bool sign = false, neg = false;
    uint64_t n;

    if (len > 0 && (v[0] == '+' || v[0] == '-')) {
        sign = true;
        neg = v[0] == '-';
        v++;
        len--;
    }
    if (len == 0) {
        *why = "empty limit value";
        return -1;
    }
    if (len >= sizeof(buf)) {
        *why = "limit value too long";
        return -1;
    }
    /* Dovecot: the base rule is neither relative nor a percentage */
    if (sign && base) {
        *why = "the \"*\" rule cannot be relative (no '+' or '-')";
        return -1;
    }
    memcpy(buf, v, len);
    buf[len] = '\0';

    if (buf[len - 1] == '%') {
        if (base) {
            *why = "the \"*\" rule cannot be a percentage";
            return -1;
        }
        buf[len - 1] = '\0';
        if (len == 1) {
            *why = "empty limit value";
            return -1;
        }
        if (units_uint_parse(buf, 0, 4294967294U, &n, why) < 0)
            return -1;
        if (neg && n >= 100) {
            *why = "percentage must be above -100";
            return -1;
        }
        lim->kind = QUOTA_PERCENT;
        lim->relative = sign;
        lim->value = neg ? -(int64_t)n : (int64_t)n;
        return 0;
    }

    if (units_size_parse(buf, default_unit, &n, why) < 0)
        return -1;
    if (n > (uint64_t)INT64_MAX) {
        *why = "limit too large";
        return -1;
    }
    if (short_form && n != 0 && buf[len - 1] >= '0' && buf[len - 1] <= '9') {
        *why = "a size needs a unit: K, M, G, T or B";
        return -1;
    }
    lim->kind = sign ? QUOTA_RELATIVE : QUOTA_ABSOLUTE;
    lim->relative = sign;
    lim->value = neg ? -(int64_t)n : (int64_t)n;
    return 0;
}

/* part_parse - one "name=value" of a rule's limits into rule */
static int part_parse(const char *p, size_t len, bool only, struct quota_rule *rule,
                      const char **why)
{
    const char *eq = memchr(p, '=', len);
    bool base = strcmp(rule->folder, "*") == 0;
    size_t klen;

    if (len == 0) {
        *why = "empty limit";
        return -1;
    }
    if (eq == NULL) {
        /* the quota_rules short form: "Trash:+500M" means storage */
        if (!only) {
            *why = "limit without '='";
            return -1;
        }
        rule->has_storage = true;
        return limit_parse(p, len, base, 1024, true, &rule->storage, why);
    }
    klen = (size_t)(eq - p);
    eq++;
    len -= klen + 1;
    if (klen == 7 && memcmp(p, "storage", 7) == 0) {
        rule->has_storage = true;
        return limit_parse(eq, len, base, 1024, false, &rule->storage, why);
    }
    if (klen == 5 && memcmp(p, "bytes", 5) == 0) {
        rule->has_storage = true;
        return limit_parse(eq, len, base, 1, false, &rule->storage, why);
    }
    if (klen == 8 && memcmp(p, "messages", 8) == 0) {
        rule->has_messages = true;
        return limit_parse(eq, len, base, 1, false, &rule->messages, why);
    }
    if (klen == 7 && memcmp(p, "backend", 7) == 0)
        *why = "backend= rules are not supported";
    else
        *why = "unknown limit name (use storage, bytes or messages)";
    return -1;
}

/* quota_rule_parse - one rule in Dovecot's syntax or the short form */
int quota_rule_parse(const char *s, struct quota_rule *rule_r,
                     char *err, size_t errsz)
{
    const char *colon, *p, *why = NULL;
    size_t flen;
    bool only;

    memset(rule_r, 0, sizeof(*rule_r));
    if (s == NULL || (colon = strchr(s, ':')) == NULL) {
        snprintf(err, errsz, "missing ':' after the folder name");
        return -1;
    }
    flen = (size_t)(colon - s);
    if (folder_check(s, flen, &why) < 0)
        goto fail;
    memcpy(rule_r->folder, s, flen);
    rule_r->folder[flen] = '\0';

    p = colon + 1;
    if (strcmp(p, "ignore") == 0) {
        if (flen == 1 && s[0] == '*') {
            why = "the \"*\" rule cannot be ignore (use *:storage=0)";
            goto fail;
        }
        rule_r->has_storage = true;
        rule_r->storage.kind = QUOTA_IGNORE;
        return 0;
    }
    if (*p == '\0') {
        why = "no limit after the folder name";
        goto fail;
    }
    only = strchr(p, ':') == NULL;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (part_parse(p, len, only, rule_r, &why) < 0)
            goto fail;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;

fail:
    snprintf(err, errsz, "%s", why);
    memset(rule_r, 0, sizeof(*rule_r));
    return -1;
}

/* quota_rules_parse - a blank separated list of rules */
int quota_rules_parse(const char *s, struct quota_rules *rules_r,
                      char *err, size_t errsz)
{
    char token[QUOTA_TOKEN_MAX];
    char why[256];
    size_t n = 0;

    memset(rules_r, 0, sizeof(*rules_r));
    if (s == NULL)
        return 0;
    for (const char *p = s; *p != '\0';) {
        struct quota_rule rule;
        size_t len;

        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        len = strcspn(p, " \t");
        n++;
        if (len >= sizeof(token)) {
            snprintf(err, errsz, "rule %zu: too long", n);
            goto fail;
        }
        memcpy(token, p, len);
        token[len] = '\0';
        p += len;
        if (quota_rule_parse(token, &rule, why, sizeof(why)) < 0) {
            snprintf(err, errsz, "rule %zu: %s", n, why);
            goto fail;
        }
        if (quota_rules_add(rules_r, &rule) < 0) {
            snprintf(err, errsz, "rule %zu: more than %d rules", n, QUOTA_RULES_MAX);
            goto fail;
        }
    }
    return 0;

fail:
    memset(rules_r, 0, sizeof(*rules_r));
    return -1;
}

/* find_index - the slot of folder's rule, or rules->count */
static size_t find_index(const struct quota_rules *rules, const char *folder)
{
    size_t i;

    for (i = 0; i < rules->count && i < QUOTA_RULES_MAX; i++) {
        if (strcasecmp(rules->rule[i].folder, folder) == 0)
            break;
    }
    return i;
}

/* quota_rules_add - as Dovecot: a second rule for a folder updates the
 * limits it names, and "ignore" stays once given */
int quota_rules_add(struct quota_rules *rules, const struct quota_rule *rule)
{
    size_t i = find_index(rules, rule->folder);
    struct quota_rule *r;

    if (i >= rules->count) {
        if (rules->count >= QUOTA_RULES_MAX)
            return -1;
        rules->rule[rules->count++] = *rule;
        return 0;
    }
    r = &rules->rule[i];
    if (r->has_storage && r->storage.kind == QUOTA_IGNORE)
        return 0;
    /* ignore covers every limit, so it drops the ones given before */
    if (rule->has_storage && rule->storage.kind == QUOTA_IGNORE) {
        memset(&r->messages, 0, sizeof(r->messages));
        r->has_messages = false;
    }
    if (rule->has_storage) {
        r->has_storage = true;
        r->storage = rule->storage;
    }
    if (rule->has_messages) {
        r->has_messages = true;
        r->messages = rule->messages;
    }
    return 0;
}

/* quota_rules_find - the rule for folder, compared without case */
const struct quota_rule *quota_rules_find(const struct quota_rules *rules,
                                          const char *folder)
{
    size_t i;

    if (rules == NULL || folder == NULL)
        return NULL;
    i = find_index(rules, folder);
    return i < rules->count ? &rules->rule[i] : NULL;
}

/* base_value - the "*" rule's absolute value of one limit, or 0 */
static int64_t base_value(const struct quota_rule *base, bool storage)
{
    const struct quota_limit *l;

    if (base == NULL || !(storage ? base->has_storage : base->has_messages))
        return 0;
    l = storage ? &base->storage : &base->messages;
    return l->kind == QUOTA_ABSOLUTE && l->value > 0 ? l->value : 0;
}

/* percent_of - base * pct / 100 truncated toward zero like Dovecot's
 * int64 arithmetic, but saturating where Dovecot would overflow */
static int64_t percent_of(int64_t base, int64_t pct)
{
    int64_t q = base / 100, r = base % 100, hi;

    if (__builtin_mul_overflow(q, pct, &hi) ||
        __builtin_add_overflow(hi, r * pct / 100, &hi))
        return pct < 0 ? INT64_MIN : INT64_MAX;
    return hi;
}

/* quota_storage_limit - Dovecot's quota_root_get_rule_limits() for bytes */
int quota_storage_limit(const struct quota_rules *rules, const char *folder,
                        uint64_t *limit_r)
{
    const struct quota_rule *base = quota_rules_find(rules, "*"), *r;
    int64_t limit = base_value(base, true), add = 0;

    /* Dovecot: a root with no byte and no message limit is unlimited, and
     * then every folder rule is ignored, absolute ones included */
    if (limit == 0 && base_value(base, false) == 0)
        return 0;
    r = quota_rules_find(rules, folder != NULL ? folder : "INBOX");
    if (r != NULL && r != base && r->has_storage) {
        switch (r->storage.kind) {
        case QUOTA_IGNORE:
            return 0;
        case QUOTA_PERCENT:
            add = percent_of(limit, r->storage.value);
            break;
        case QUOTA_ABSOLUTE: /* Dovecot 2.3 adds these too ("obsolete" form) */
        case QUOTA_RELATIVE:
            add = r->storage.value;
            break;
        }
        if (__builtin_add_overflow(limit, add, &limit))
            limit = add < 0 ? INT64_MIN : INT64_MAX;
    }
    /* Dovecot: a limit that ends up at or below zero is no limit */
    if (limit <= 0)
        return 0;
    *limit_r = (uint64_t)limit;
    return 1;
}

/* limit_format - one limit's value as Dovecot reads it back */
static int limit_format(const struct quota_limit *l, bool bytes, char *buf, size_t bufsz)
{
    unsigned long long mag;
    const char *sign = l->value < 0 ? "-" : "+";
    int n;

    mag = l->value < 0 ? 0ULL - (unsigned long long)l->value
                       : (unsigned long long)l->value;
    switch (l->kind) {
    case QUOTA_ABSOLUTE:
        /* a byte count needs Dovecot's "B" (storage= defaults to KiB);
         * 0 stays "0": an unlimited base is written "*:storage=0" */
        n = snprintf(buf, bufsz, "%s%llu%s", l->value < 0 ? "-" : "", mag,
                     bytes && mag != 0 ? "B" : "");
        break;
    case QUOTA_RELATIVE:
        n = snprintf(buf, bufsz, "%s%llu%s", sign, mag, bytes ? "B" : "");
        break;
    case QUOTA_PERCENT:
        n = snprintf(buf, bufsz, "%s%llu%%", l->relative || l->value < 0 ? sign : "", mag);
        break;
    default:
        return -1;
    }
    return n < 0 || (size_t)n >= bufsz ? -1 : n;
}

/* quota_rule_format - a rule as a userdb quota_rule value */
int quota_rule_format(const struct quota_rule *rule, char *buf, size_t bufsz)
{
    char storage[QUOTA_VALUE_MAX], messages[QUOTA_VALUE_MAX];
    const char *end = memchr(rule->folder, '\0', sizeof(rule->folder)), *why;
    int n;

    /* a hand-made rule must still be one that parses back */
    if (buf == NULL || bufsz == 0 || end == NULL ||
        folder_check(rule->folder, (size_t)(end - rule->folder), &why) < 0)
        return -1;
    if (rule->has_storage && rule->storage.kind == QUOTA_IGNORE) {
        n = snprintf(buf, bufsz, "%s:ignore", rule->folder);
    } else if (!rule->has_storage && !rule->has_messages) {
        return -1;
    } else {
        if ((rule->has_storage &&
             limit_format(&rule->storage, true, storage, sizeof(storage)) < 0) ||
            (rule->has_messages &&
             limit_format(&rule->messages, false, messages, sizeof(messages)) < 0))
            return -1;
        n = snprintf(buf, bufsz, "%s:%s%s%s%s%s", rule->folder,
                     rule->has_storage ? "storage=" : "",
                     rule->has_storage ? storage : "",
                     rule->has_storage && rule->has_messages ? ":" : "",
                     rule->has_messages ? "messages=" : "",
                     rule->has_messages ? messages : "");
    }
    return n < 0 || (size_t)n >= bufsz ? -1 : n;
}

/* quota_field_is_rule - quota_rule, quota_rule2, quota_rule3, ... */
bool quota_field_is_rule(const char *name)
{
    if (strncmp(name, "quota_rule", 10) != 0)
        return false;
    for (const char *p = name + 10; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

/* quota_rules_of_record - the user's quota rules from the users.cdb fields */
int quota_rules_of_record(const struct userrec *rec, struct quota_rules *rules, char *err, size_t errsz)
{
    memset(rules, 0, sizeof(*rules));
    for (size_t i = 0; i < rec->count; i++) {
        struct quota_rule rule;
        char why[256];
        if (!quota_field_is_rule(rec->field[i].name))
            continue;
        if (quota_rule_parse(rec->field[i].value, &rule, why, sizeof(why)) < 0) {
            snprintf(err, errsz, "%s: %s", rec->field[i].name, why);
            return -1;
        }
        if (quota_rules_add(rules, &rule) < 0) {
            snprintf(err, errsz, "too many quota rules");
            return -1;
        }
    }
    return 0;
}

/* quota_accept - accept within the limit, or into the grace while under it */
bool quota_accept(uint64_t usage, uint64_t size, uint64_t limit, uint64_t grace)
{
    uint64_t room;

    if (limit == 0)
        return true; /* Dovecot's 0: no limit */
    if (usage >= limit)
        return size == 0 && usage == limit;
    room = limit - usage;
    if (size <= room)
        return true;
    return grace >= size - room;
}
