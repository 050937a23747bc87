/* conf - mailmaps.conf: one table of settings, one parser, every program.
 *
 * Each row names a setting, its default (as text, parsed by the same code
 * as a file value, so defaults are validated too), the parser for its type
 * and where in struct conf the value goes. */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/address.h"
#include "maps/conf.h"
#include "maps/ldapsyntax.h"
#include "maps/units.h"

#define LINE_MAX_LEN 8192
#define SECRET_MAX 4096

struct setting;
/* A parser stores value into cfg or returns -1 with a reason in why. */
typedef int parse_fn(struct conf *cfg, const struct setting *s, const char *value,
                     char *why, size_t whysz);

struct setting {
    const char *name;
    const char *def;
    parse_fn *parse;
    size_t offset;          /* of the field in struct conf */
    uint64_t min, max;      /* for numbers and durations */
    const char *desc;       /* one line, for `mailmaps` and the docs check */
};

#define FIELD(cfg, s, type) ((type *)((char *)(cfg) + (s)->offset))

/* printable_n - no control characters in the first n bytes of v (values
 * end up in logs and files) */
static bool printable_n(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

/* printable - no control characters in v */
static bool printable(const char *v)
{
    return printable_n(v, strlen(v));
}

/* set_string - replace a string field with a copy of v */
static int set_string(char **field, const char *v, char *why, size_t whysz)
{
    char *copy = strdup(v);
    if (copy == NULL) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

/* parse_string - any printable text, empty allowed */
static int parse_string(struct conf *cfg, const struct setting *s, const char *v, char *why,
                        size_t whysz)
{
    if (!printable(v)) {
        snprintf(why, whysz, "control characters are not allowed");
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_required - non-empty printable text */
static int parse_required(struct conf *cfg, const struct setting *s, const char *v, char *why,
                          size_t whysz)
{
    /* conf_defaults passes the table's own (empty) default, which the end
     * of parse_lines reports as missing; an empty value in the file is
     * refused here, where its line is known */
    if (v[0] == '\0' && v != s->def) {
        snprintf(why, whysz, "must not be empty");
        return -1;
    }
    return parse_string(cfg, s, v, why, whysz);
}

/* parse_abspath - an absolute path (min = 1: empty allowed) */
static int parse_abspath(struct conf *cfg, const struct setting *s, const char *v, char *why,
                         size_t whysz)
{
    if (v[0] == '\0' && s->min == 1)
        return set_string(FIELD(cfg, s, char *), v, why, whysz);
    if (v[0] != '/') {
        snprintf(why, whysz, "'%.100s' is not an absolute path", v);
        return -1;
    }
    if (strlen(v) > 1024 || !printable(v) || strchr(v, ' ') != NULL) {
        snprintf(why, whysz, "not a usable path (too long, blanks or control characters)");
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_name - a user, group or scheme name: one token (min = 1: empty allowed) */
static int parse_name(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    if (v[0] == '\0' && s->min != 1) {
        snprintf(why, whysz, "must not be empty");
        return -1;
    }
    if (strlen(v) > 64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789_.-") != strlen(v)) {
        snprintf(why, whysz, "'%.100s' is not a valid name", v);
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_attr - an LDAP attribute description */
static int parse_attr(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    if (v[0] == '\0' && s->min == 1)   /* a setting that may be turned off */
        return set_string(FIELD(cfg, s, char *), v, why, whysz);
    if (!ldapsyntax_attr_valid(v)) {
        snprintf(why, whysz, "'%.100s' is not an LDAP attribute name", v);
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_filter - one RFC 4515 filter in parentheses (min = 1: empty
 * allowed) */
static int parse_filter(struct conf *cfg, const struct setting *s, const char *v, char *why,
                        size_t whysz)
{
    if (v[0] == '\0' && s->min == 1)
        return set_string(FIELD(cfg, s, char *), v, why, whysz);
    if (!printable(v)) {
        snprintf(why, whysz, "control characters are not allowed");
        return -1;
    }
    if (ldapsyntax_filter_check(v, false, why, whysz) < 0)
        return -1;
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_gate - ldap_alias_filter, ldap_forward_filter: empty, or a filter
 * the sync evaluates itself (ldapsyntax's subset), kept parsed as well */
static int parse_gate(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    struct ldapsyntax_filter **gate =
        s->offset == offsetof(struct conf, ldap_alias_filter) ? &cfg->alias_gate
                                                              : &cfg->forward_gate;
    struct ldapsyntax_filter *f = NULL;

    if (!printable(v)) {
        snprintf(why, whysz, "control characters are not allowed");
        return -1;
    }
    if (v[0] != '\0' && (f = ldapsyntax_filter_parse(v, true, why, whysz)) == NULL)
        return -1;
    if (set_string(FIELD(cfg, s, char *), v, why, whysz) < 0) {
        ldapsyntax_filter_free(f);
        return -1;
    }
    ldapsyntax_filter_free(*gate);
    *gate = f;
    return 0;
}

/* A check for one word of a list setting: may rewrite the word in place
 * (lower-case it, drop a trailing '/'); -1 with a reason to refuse it. */
typedef int word_check_fn(char *word, char *why, size_t whysz);

/* parse_words - v's blank-separated words, each passed by check, replace
 * list[0..*count) (at most max words; what names them in a message) */
static int parse_words(const char *v, word_check_fn *check, char **list, size_t *count,
                       size_t max, const char *what, char *why, size_t whysz)
{
    char *copy = strdup(v), *save = NULL;
    char **words = calloc(max, sizeof(*words));
    size_t n = 0;
    int rc = -1;

    if (copy == NULL || words == NULL) {
        snprintf(why, whysz, "out of memory");
        goto out;
    }
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (check(t, why, whysz) < 0)
            goto out;
        if (n == max) {
            snprintf(why, whysz, "more than %zu %s", max, what);
            goto out;
        }
        words[n++] = t;
    }
    for (size_t i = 0; i < *count; i++)
        free(list[i]);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if ((list[i] = strdup(words[i])) == NULL) {
            snprintf(why, whysz, "out of memory");
            goto out;
        }
        (*count)++;
    }
    rc = 0;
out:
    free(words);
    free(copy);
    return rc;
}

/* check_uri - an ldap://, ldaps:// or ldapi:// URI */
static int check_uri(char *t, char *why, size_t whysz)
{
    if (strncmp(t, "ldap://", 7) != 0 && strncmp(t, "ldaps://", 8) != 0 &&
        strncmp(t, "ldapi://", 8) != 0) {
        snprintf(why, whysz, "'%.100s' is not an ldap://, ldaps:// or ldapi:// URI", t);
        return -1;
    }
    if (!printable(t) || strlen(t) > 500) {
        snprintf(why, whysz, "'%.100s' is not a usable URI", t);
        return -1;
    }
    return 0;
}

/* parse_uris - ldap://, ldaps:// or ldapi:// URIs, space separated */
static int parse_uris(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    (void)s;
    char *list[CONF_LIST_MAX] = { 0 };
    size_t n = 0;
    /* parsed aside first: a bad value leaves the URIs in cfg as they were */
    if (parse_words(v, check_uri, list, &n, CONF_LIST_MAX, "URIs", why, whysz) < 0) {
        for (size_t i = 0; i < n; i++)
            free(list[i]);
        return -1;
    }
    if (n == 0) {
        snprintf(why, whysz, "at least one URI is needed");
        return -1;
    }
    for (size_t i = 0; i < cfg->ldap_uri_count; i++)
        free(cfg->ldap_uri[i]);
    memcpy(cfg->ldap_uri, list, sizeof(list));
    cfg->ldap_uri_count = n;
    return 0;
}

/* parse_bool - yes/no (and the usual synonyms) */
static int parse_bool(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *FIELD(cfg, s, bool) = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    snprintf(why, whysz, "'%.100s' is not yes or no", v);
    return -1;
}

/* parse_uint - a number in [min, max] */
static int parse_uint(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    uint64_t n;
    const char *reason;
    if (units_uint_parse(v, s->min, s->max, &n, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s (%llu..%llu)", v, reason,
                 (unsigned long long)s->min, (unsigned long long)s->max);
        return -1;
    }
    *FIELD(cfg, s, unsigned) = (unsigned)n;
    return 0;
}

/* parse_id - a uid or gid for mail files; 0 is refused on its own, since
 * mail owned by root is a mistake that the range alone would not explain */
static int parse_id(struct conf *cfg, const struct setting *s, const char *v, char *why,
                    size_t whysz)
{
    uint64_t n;
    const char *reason;
    if (units_uint_parse(v, 0, s->max, &n, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s (1..%llu)", v, reason, (unsigned long long)s->max);
        return -1;
    }
    if (n == 0) {
        snprintf(why, whysz, "0 is root: mail must not be owned by root");
        return -1;
    }
    *FIELD(cfg, s, unsigned) = (unsigned)n;
    return 0;
}

/* parse_duration - seconds, with s/m/h/d suffixes, in [min, max] */
static int parse_duration(struct conf *cfg, const struct setting *s, const char *v, char *why,
                          size_t whysz)
{
    unsigned secs;
    const char *reason;
    if (units_duration_parse(v, &secs, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s", v, reason);
        return -1;
    }
    if (secs < s->min || secs > s->max) {
        snprintf(why, whysz, "'%.100s' is out of range (%llu..%llu seconds)", v,
                 (unsigned long long)s->min, (unsigned long long)s->max);
        return -1;
    }
    *FIELD(cfg, s, unsigned) = secs;
    return 0;
}

/* parse_size - bytes with K/M/G/T suffixes */
static int parse_size(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    uint64_t bytes;
    const char *reason;
    if (units_size_parse(v, 1, &bytes, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s", v, reason);
        return -1;
    }
    *FIELD(cfg, s, uint64_t) = bytes;
    return 0;
}

/* parse_percent - 0..100, with or without '%' */
static int parse_percent(struct conf *cfg, const struct setting *s, const char *v, char *why,
                         size_t whysz)
{
    unsigned pct;
    const char *reason;
    if (units_percent_parse(v, &pct, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s", v, reason);
        return -1;
    }
    *FIELD(cfg, s, unsigned) = pct;
    return 0;
}

/* parse_quota_unit - B, K, M or G: the bytes a bare quota number counts */
static int parse_quota_unit(struct conf *cfg, const struct setting *s, const char *v,
                            char *why, size_t whysz)
{
    static const char units[] = "BKMG";
    const char *u = v[0] != '\0' && v[1] == '\0' ? strchr(units, toupper((unsigned char)v[0]))
                                                 : NULL;
    (void)s;
    if (u == NULL || *u == '\0') {
        snprintf(why, whysz, "'%.100s' is not B, K, M or G", v);
        return -1;
    }
    cfg->ldap_quota_unit = (uint64_t)1 << (10 * (u - units));
    return 0;
}

/* parse_mode - an octal file mode such as 0660 */
static int parse_mode(struct conf *cfg, const struct setting *s, const char *v, char *why,
                      size_t whysz)
{
    char *end;
    errno = 0;
    unsigned long m = strtoul(v, &end, 8);
    if (v[0] < '0' || v[0] > '7' || *end != '\0' || errno != 0 || m > 07777) {
        snprintf(why, whysz, "'%.100s' is not an octal mode like 0660", v);
        return -1;
    }
    *FIELD(cfg, s, mode_t) = (mode_t)m;
    return 0;
}

/* parse_choice - the index of v among names[0..n), or -1 with a reason
 * listing them */
static int parse_choice(const char *v, const char *const *names, size_t n, char *why,
                        size_t whysz)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    snprintf(why, whysz, "'%.100s' is not %s or %s", v, names[0], names[1]);
    return -1;
}

/* parse_sync_mode - poll | persist */
static int parse_sync_mode(struct conf *cfg, const struct setting *s, const char *v, char *why,
                           size_t whysz)
{
    static const char *const names[] = { [SYNC_MODE_POLL] = "poll",
                                         [SYNC_MODE_PERSIST] = "persist" };
    int i = parse_choice(v, names, 2, why, whysz);
    (void)s;
    if (i >= 0)
        cfg->sync_mode = (enum sync_mode)i;
    return i < 0 ? -1 : 0;
}

/* parse_on_error - dunno | defer */
static int parse_on_error(struct conf *cfg, const struct setting *s, const char *v, char *why,
                          size_t whysz)
{
    static const char *const names[] = { [POLICY_ON_ERROR_DUNNO] = "dunno",
                                         [POLICY_ON_ERROR_DEFER] = "defer" };
    int i = parse_choice(v, names, 2, why, whysz);
    (void)s;
    if (i >= 0)
        cfg->policy_on_error = (enum policy_on_error)i;
    return i < 0 ? -1 : 0;
}

/* parse_delimiter - the characters that start an address extension */
static int parse_delimiter(struct conf *cfg, const struct setting *s, const char *v, char *why,
                           size_t whysz)
{
    if (strlen(v) > 16 || strpbrk(v, "@ \t\"<>,;:\\") != NULL || !printable(v)) {
        snprintf(why, whysz, "'%.100s' is not a set of delimiter characters", v);
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

/* parse_quota_rules - folder rules in Dovecot's syntax; the "*" rule is
 * default_quota's (or the entry's mailQuota) */
static int parse_quota_rules(struct conf *cfg, const struct setting *s, const char *v,
                             char *why, size_t whysz)
{
    struct quota_rules rules;
    (void)s;
    if (quota_rules_parse(v, &rules, why, whysz) < 0)
        return -1;
    if (quota_rules_find(&rules, "*") != NULL) {
        snprintf(why, whysz, "a '*' rule belongs in default_quota or the entry's quota");
        return -1;
    }
    cfg->quota_rules = rules;
    return 0;
}

/* parse_grace - "10%" of the base limit, or an absolute size */
static int parse_grace(struct conf *cfg, const struct setting *s, const char *v, char *why,
                       size_t whysz)
{
    const char *reason;
    (void)s;
    if (strchr(v, '%') != NULL) {
        unsigned pct;
        if (units_percent_parse(v, &pct, &reason) < 0) {
            snprintf(why, whysz, "'%.100s': %s", v, reason);
            return -1;
        }
        cfg->quota_grace.percent = true;
        cfg->quota_grace.value = pct;
        return 0;
    }
    uint64_t bytes;
    if (units_size_parse(v, 1, &bytes, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s (a percentage like 10%% or a size)", v, reason);
        return -1;
    }
    cfg->quota_grace.percent = false;
    cfg->quota_grace.value = bytes;
    return 0;
}

/* parse_host_port - "HOST:PORT" (HOST may be [v6]) into host, port */
static int parse_host_port(const char *v, char *host, size_t hostsz, unsigned *port,
                           char *why, size_t whysz)
{
    const char *colon = strrchr(v, ':');
    uint64_t p;
    const char *reason;
    if (colon == NULL || colon == v) {
        snprintf(why, whysz, "'%.100s' is not HOST:PORT", v);
        return -1;
    }
    size_t hl = (size_t)(colon - v);
    const char *h = v;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostsz || strcspn(h, " []") < hl || !printable_n(h, hl)) {
        snprintf(why, whysz, "'%.100s': bad host", v);
        return -1;
    }
    if (units_uint_parse(colon + 1, 1, 65535, &p, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': bad port: %s", v, reason);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return 0;
}

/* parse_listen - unix:/abs/path and inet:HOST:PORT, space separated */
static int parse_listen(struct conf *cfg, const struct setting *s, const char *v, char *why,
                        size_t whysz)
{
    struct conf_listen list[CONF_LIST_MAX];
    char *copy = strdup(v), *save = NULL;
    size_t n = 0;
    int rc = -1;
    (void)s;

    if (copy == NULL) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    memset(list, 0, sizeof(list));
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == CONF_LIST_MAX) {
            snprintf(why, whysz, "more than %d addresses", CONF_LIST_MAX);
            goto out;
        }
        struct conf_listen *l = &list[n];
        if (strncmp(t, "unix:", 5) == 0) {
            l->kind = CONF_LISTEN_UNIX;
            if (t[5] != '/' || strlen(t + 5) >= sizeof(l->path) || !printable(t)) {
                snprintf(why, whysz, "'%.100s': unix: needs an absolute path under %zu bytes", t,
                         sizeof(l->path));
                goto out;
            }
            strcpy(l->path, t + 5);
        } else if (strncmp(t, "inet:", 5) == 0) {
            l->kind = CONF_LISTEN_INET;
            if (parse_host_port(t + 5, l->host, sizeof(l->host), &l->port, why, whysz) < 0)
                goto out;
        } else {
            snprintf(why, whysz, "'%.100s' is neither unix:PATH nor inet:HOST:PORT", t);
            goto out;
        }
        n++;
    }
    if (n == 0) {
        snprintf(why, whysz, "at least one address is needed");
        goto out;
    }
    memcpy(cfg->policy_listen, list, sizeof(list));
    cfg->policy_listen_count = n;
    rc = 0;
out:
    free(copy);
    return rc;
}

/* template_check - a maildirsize path template: absolute (or starting with
 * the home, %h) and only the sequences the usage reader expands, so a typo
 * stops the start instead of every lookup */
static int template_check(const char *t, char *why, size_t whysz)
{
    if (t[0] != '/' && strncmp(t, "%h", 2) != 0) {
        snprintf(why, whysz, "maildir: the template must be an absolute path or start with %%h");
        return -1;
    }
    for (const char *p = strchr(t, '%'); p != NULL; p = strchr(p + 2, '%')) {
        if (p[1] == '\0' || strchr("hudn%", p[1]) == NULL) {
            snprintf(why, whysz, "maildir: unknown sequence '%%%.1s' in the template "
                                 "(use %%h, %%u, %%d, %%n or %%%%)", p + 1);
            return -1;
        }
    }
    return 0;
}

/* parse_usage - maildir:TEMPLATE or redis:HOST:PORT[,HOST:PORT...][/DB] */
static int parse_usage(struct conf *cfg, const struct setting *s, const char *v, char *why,
                       size_t whysz)
{
    struct conf_usage u;
    (void)s;
    memset(&u, 0, sizeof(u));
    if (strncmp(v, "maildir:", 8) == 0) {
        u.kind = CONF_USAGE_MAILDIR;
        if (v[8] == '\0' || strlen(v + 8) >= sizeof(u.template) || !printable(v)) {
            snprintf(why, whysz, "maildir: needs a path template such as %%h/Maildir/maildirsize");
            return -1;
        }
        if (template_check(v + 8, why, whysz) < 0)
            return -1;
        strcpy(u.template, v + 8);
    } else if (strncmp(v, "redis:", 6) == 0) {
        char hp[CONF_REDIS_MAX * 300];
        const char *slash = strchr(v + 6, '/');
        size_t len = slash ? (size_t)(slash - (v + 6)) : strlen(v + 6);
        u.kind = CONF_USAGE_REDIS;
        if (len >= sizeof(hp)) {
            snprintf(why, whysz, "redis: address list too long");
            return -1;
        }
        memcpy(hp, v + 6, len);
        hp[len] = '\0';
        for (char *a = hp, *end; a != NULL; a = end) {
            end = strchr(a, ',');
            if (end != NULL)
                *end++ = '\0';
            if (u.redis_count == CONF_REDIS_MAX) {
                snprintf(why, whysz, "redis: more than %d addresses", CONF_REDIS_MAX);
                return -1;
            }
            struct conf_redis_addr *ra = &u.redis[u.redis_count++];
            if (parse_host_port(a, ra->host, sizeof(ra->host), &ra->port, why, whysz) < 0)
                return -1;
        }
        if (slash != NULL) {
            uint64_t db;
            const char *reason;
            if (units_uint_parse(slash + 1, 0, 1000000, &db, &reason) < 0) {
                snprintf(why, whysz, "redis: bad database number: %s", reason);
                return -1;
            }
            u.db = (unsigned)db;
        }
    } else {
        snprintf(why, whysz, "'%.100s' is neither maildir:TEMPLATE nor redis:HOST:PORT[,HOST:PORT...][/DB]", v);
        return -1;
    }
    cfg->quota_usage = u;
    return 0;
}

/* check_home_dir - an absolute directory other than /, no '..', '.', ':'
 * or '%' component (homes are compared against it as plain prefixes);
 * trailing '/' dropped */
static int check_home_dir(char *t, char *why, size_t whysz)
{
    size_t len = strlen(t);
    while (len > 1 && t[len - 1] == '/')
        t[--len] = '\0';
    if (t[0] != '/' || len < 2 || len > 1024 || !printable(t) || strpbrk(t, ":%") != NULL ||
        strstr(t, "/../") != NULL || strstr(t, "/./") != NULL ||
        (len >= 3 && strcmp(t + len - 3, "/..") == 0) ||
        (len >= 2 && strcmp(t + len - 2, "/.") == 0)) {
        snprintf(why, whysz, "'%.100s' is not an absolute directory other than / "
                             "(no '..', '.', ':' or '%%')", t);
        return -1;
    }
    return 0;
}

/* parse_path_list - home_dirs */
static int parse_path_list(struct conf *cfg, const struct setting *s, const char *v, char *why,
                           size_t whysz)
{
    (void)s;
    return parse_words(v, check_home_dir, cfg->home_dirs, &cfg->home_dirs_count,
                       CONF_LIST_MAX, "directories", why, whysz);
}

/* check_domain - a domain name, lower-cased */
static int check_domain(char *t, char *why, size_t whysz)
{
    size_t len = strlen(t);
    address_lower(t, len);
    if (!address_domain_valid(t, len)) {
        snprintf(why, whysz, "'%.100s' is not a domain name", t);
        return -1;
    }
    return 0;
}

/* parse_domain_list - alias_domains */
static int parse_domain_list(struct conf *cfg, const struct setting *s, const char *v,
                             char *why, size_t whysz)
{
    (void)s;
    return parse_words(v, check_domain, cfg->alias_domains, &cfg->alias_domains_count,
                       sizeof(cfg->alias_domains) / sizeof(cfg->alias_domains[0]), "domains",
                       why, whysz);
}

/* parse_valid_id - a first_valid_* / last_valid_* bound (0 allowed: for
 * last_* it means no upper bound) */
static int parse_valid_id(struct conf *cfg, const struct setting *s, const char *v, char *why,
                          size_t whysz)
{
    uint64_t n;
    const char *reason;
    if (units_uint_parse(v, 0, 4294967294u, &n, &reason) < 0) {
        snprintf(why, whysz, "'%.100s': %s (0..4294967294)", v, reason);
        return -1;
    }
    *FIELD(cfg, s, unsigned) = (unsigned)n;
    return 0;
}

/* parse_reply - an SMTP reply for Postfix's access action: a 4xx or 5xx
 * code, printable ASCII (it goes into an SMTP session), at most 500 bytes
 * so that "action=" and the reply stay under Postfix's 512-byte line; an
 * enhanced status code, if any, of the same class as the reply code */
static int parse_reply(struct conf *cfg, const struct setting *s, const char *v, char *why,
                       size_t whysz)
{
    size_t len = strlen(v);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            ascii = false;
    if (len < 3 || len > 500 || (v[0] != '4' && v[0] != '5') || v[1] < '0' || v[1] > '9' ||
        v[2] < '0' || v[2] > '9' || (v[3] != '\0' && v[3] != ' ') || !ascii) {
        snprintf(why, whysz, "must be a 4xx or 5xx SMTP reply in ASCII of at most 500 bytes, "
                             "e.g. \"552 5.2.2 Mailbox full\"");
        return -1;
    }
    /* "552 4.2.2" would tell the client two different things */
    if (len > 5 && v[4] >= '0' && v[4] <= '9' && v[5] == '.' && v[4] != v[0]) {
        int cl = (int)strcspn(v + 4, " ");
        snprintf(why, whysz, "the enhanced status code %.*s does not match the reply code %.3s",
                 cl > 20 ? 20 : cl, v + 4, v);
        return -1;
    }
    return set_string(FIELD(cfg, s, char *), v, why, whysz);
}

#define OFF(f) offsetof(struct conf, f)
/* every attribute but mail may be empty: not read (a schema without it) */
#define ATTR(n, d, desc) { "ldap_attr_" #n, d, parse_attr, OFF(attr.n), 1, 0, desc }

/* The settings, in the order of the documentation. */
static const struct setting settings[] = {
    { "ldap_uri", "ldapi:///", parse_uris, 0, 0, 0,
      "LDAP servers, space separated, tried in order" },
    { "ldap_bind_dn", "", parse_string, OFF(ldap_bind_dn), 0, 0,
      "bind DN; empty = anonymous (SASL EXTERNAL over ldapi://)" },
    { "ldap_bind_pw_file", "", parse_abspath, OFF(ldap_bind_pw_file), 1, 0,
      "file holding the bind password" },
    { "ldap_starttls", "no", parse_bool, OFF(ldap_starttls), 0, 0,
      "yes = StartTLS required on ldap:// URIs" },
    { "ldap_tls_ca_file", "", parse_abspath, OFF(ldap_tls_ca_file), 1, 0,
      "CA certificates for StartTLS and ldaps://; empty = the system's" },
    { "ldap_timeout", "5", parse_duration, OFF(ldap_timeout), 1, 3600,
      "seconds for connect and for each operation" },
    { "ldap_base", "", parse_required, OFF(ldap_base), 0, 0,
      "search base (required)" },
    { "ldap_filter", "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))", parse_filter,
      OFF(ldap_filter), 0, 0, "which entries are mail accounts" },
    { "ldap_page_size", "1000", parse_uint, OFF(ldap_page_size), 1, 1000000,
      "RFC 2696 paged results page size" },
    { "ldap_attr_mail", "mail", parse_attr, OFF(attr.mail), 0, 0,
      "attribute: the mailbox address and login" },
    ATTR(alias, "mailAlias", "attribute: further addresses of the mailbox"),
    ATTR(group, "mailGroupMember", "attribute: lists the mailbox is a member of"),
    ATTR(home, "mailHomeDirectory", "attribute: home directory"),
    ATTR(storage, "mailStorageDirectory", "attribute: mailbox directory"),
    ATTR(uid, "mailUidNumber", "attribute: uid"),
    ATTR(gid, "mailGidNumber", "attribute: gid"),
    ATTR(quota, "mailQuota", "attribute: quota, a bare number in ldap_quota_unit (K/M/G/T accepted)"),
    { "ldap_attr_password", "userPassword", parse_attr, OFF(attr.password), 1, 0,
      "attribute: password hash; empty = no hashes in users.cdb" },
    { "ldap_quota_unit", "K", parse_quota_unit, 0, 0, 0,
      "unit of a bare number in the quota attribute: B, K, M or G" },
    { "ldap_attr_forward", "", parse_attr, OFF(ldap_attr_forward), 1, 0,
      "attribute: forwarding addresses of an account; empty = none" },
    { "ldap_alias_filter", "", parse_gate, OFF(ldap_alias_filter), 0, 0,
      "the alias attribute counts only on entries matching this filter; empty = all" },
    { "ldap_forward_filter", "", parse_gate, OFF(ldap_forward_filter), 0, 0,
      "the forward attribute counts only on entries matching this filter; empty = all" },
    { "ldap_domain_filter", "", parse_filter, OFF(ldap_domain_filter), 1, 0,
      "when set, the local domains are the entries this filter finds" },
    { "ldap_attr_domain", "domainName", parse_attr, OFF(ldap_attr_domain), 0, 0,
      "attribute: a domain entry's name" },
    { "ldap_attr_domain_alias", "domainAliasName", parse_attr, OFF(ldap_attr_domain_alias), 1, 0,
      "attribute: a domain entry's alias domains; empty = none" },
    { "alias_login", "no", parse_bool, OFF(alias_login), 0, 0,
      "yes = an account's aliases log in to Dovecot as the account" },
    { "maps_dir", "/var/lib/mailmaps", parse_abspath, OFF(maps_dir), 0, 0,
      "where the maps live" },
    { "maps_group", "", parse_name, OFF(maps_group), 1, 0,
      "group that may read users.cdb; empty = the sync's own group" },
    { "mail_base", "/var/vmail", parse_abspath, OFF(mail_base), 0, 0,
      "Postfix's virtual_mailbox_base; mailbox paths are relative to it" },
    { "sync_interval", "600", parse_duration, OFF(sync_interval), 1, 7 * 86400,
      "seconds between full syncs" },
    { "sync_mode", "poll", parse_sync_mode, 0, 0, 0,
      "poll = full sync every interval; persist = RFC 4533 refreshAndPersist" },
    { "max_shrink", "10%", parse_percent, OFF(max_shrink), 0, 0,
      "refuse maps that lost more than this share of accounts (or of passwords)" },
    { "stale_after", "1800", parse_duration, OFF(stale_after), 1, 365 * 86400,
      "seconds after which maps are stale and readers ask LDAP first" },
    { "fallback_cache_ttl", "30", parse_duration, OFF(fallback_cache_ttl), 0, 86400,
      "seconds an LDAP fallback answer is cached per reader; 0 = no cache" },
    { "default_uid", "5000", parse_id, OFF(default_uid), 1, 4294967294u,
      "uid when the entry has none" },
    { "default_gid", "5000", parse_id, OFF(default_gid), 1, 4294967294u,
      "gid when the entry has none" },
    { "first_valid_uid", "500", parse_valid_id, OFF(first_valid_uid), 0, 0,
      "lowest uid an entry may have (as Dovecot's first_valid_uid)" },
    { "last_valid_uid", "0", parse_valid_id, OFF(last_valid_uid), 0, 0,
      "highest uid an entry may have; 0 = no upper bound" },
    { "first_valid_gid", "500", parse_valid_id, OFF(first_valid_gid), 0, 0,
      "lowest gid an entry may have" },
    { "last_valid_gid", "0", parse_valid_id, OFF(last_valid_gid), 0, 0,
      "highest gid an entry may have; 0 = no upper bound" },
    { "home_dirs", "", parse_path_list, 0, 0, 0,
      "directories homes must lie under, space separated; empty = mail_base" },
    { "alias_domains", "", parse_domain_list, 0, 0, 0,
      "domains with aliases or lists but no mailbox, space separated" },
    { "mail_location", "", parse_string, OFF(mail_location), 0, 0,
      "Dovecot mail field template when the entry has no storage directory" },
    { "default_quota", "10G", parse_size, OFF(default_quota), 0, 0,
      "quota when the entry has none; 0 = unlimited" },
    { "quota_rules", "Trash:+500M Junk:+500M", parse_quota_rules, 0, 0, 0,
      "per-folder quota rules in Dovecot's syntax" },
    { "quota_grace", "10%", parse_grace, 0, 0, 0,
      "as Dovecot's quota_grace: a share of the base limit or a size" },
    { "recipient_delimiter", "+", parse_delimiter, OFF(recipient_delimiter), 0, 0,
      "characters that start an address extension naming a folder" },
    { "default_password_scheme", "CRYPT", parse_name, OFF(default_password_scheme), 0, 0,
      "scheme of a password hash without a {SCHEME} prefix" },
    { "policy_listen", "unix:/run/mailmaps/policy.sock", parse_listen, 0, 0, 0,
      "policy daemon addresses: unix:PATH and inet:HOST:PORT" },
    { "policy_socket_mode", "0660", parse_mode, OFF(policy_socket_mode), 0, 0,
      "mode of the policy daemon's unix sockets" },
    { "policy_socket_group", "postfix", parse_name, OFF(policy_socket_group), 1, 0,
      "group of the policy daemon's unix sockets" },
    { "policy_workers", "1", parse_uint, OFF(policy_workers), 1, 64,
      "processes answering requests; one per CPU for the highest throughput" },
    { "quota_usage", "maildir:%h/Maildir/maildirsize", parse_usage, 0, 0, 0,
      "where usage comes from: maildir:TEMPLATE or redis:HOST:PORT[,HOST:PORT...][/DB]" },
    { "redis_password_file", "", parse_abspath, OFF(redis_password_file), 1, 0,
      "file holding the Redis password, or an ACL user and password" },
    { "overquota_reply", "552 5.2.2 Mailbox full", parse_reply, OFF(overquota_reply), 0, 0,
      "the reply for a recipient over quota" },
    { "policy_on_error", "dunno", parse_on_error, 0, 0, 0,
      "dunno or defer when usage or user data cannot be had" },
    { "policy_metrics_file", "", parse_abspath, OFF(policy_metrics_file), 1, 0,
      "Prometheus textfile the policy daemon rewrites every 10 s; empty = none" },
};
#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

/* conf_setting_count - rows in the table */
size_t conf_setting_count(void)
{
    return SETTING_COUNT;
}

/* conf_setting_name - the name of row i */
const char *conf_setting_name(size_t i)
{
    return i < SETTING_COUNT ? settings[i].name : NULL;
}

/* conf_setting_default - the default of row i, as a file writes it */
const char *conf_setting_default(size_t i)
{
    return i < SETTING_COUNT ? settings[i].def : NULL;
}

/* conf_setting_description - the one-line explanation of row i */
const char *conf_setting_description(size_t i)
{
    return i < SETTING_COUNT ? settings[i].desc : NULL;
}

/* find - the row for name, or NULL */
static const struct setting *find(const char *name)
{
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

/* conf_defaults - every default, through the same parsers */
int conf_defaults(struct conf *cfg)
{
    char why[CONF_ERRSZ];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (settings[i].parse(cfg, &settings[i], settings[i].def, why, sizeof(why)) < 0)
            return -1;
    return 0;
}

/* errorf - "NAME:LINE: SETTING: reason" into err */
__attribute__((format(printf, 3, 4)))
static int errorf(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* trim - drop blanks at both ends, in place */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* line_of - the line that set the named setting, 0 for its default */
static unsigned line_of(const unsigned *seen_at, const char *setting)
{
    const struct setting *s = find(setting);
    return s ? seen_at[s - settings] : 0;
}

/* check_ranges - settings that constrain each other: default_uid inside
 * first_valid_uid..last_valid_uid (likewise gids). The error names the
 * line of the default when the file set it, else of the bound. */
static int check_ranges(const struct conf *cfg, const char *name, const unsigned *seen_at,
                        char *err, size_t errsz)
{
    static const char *const names[2][3] = {
        { "default_uid", "first_valid_uid", "last_valid_uid" },
        { "default_gid", "first_valid_gid", "last_valid_gid" },
    };
    for (int g = 0; g < 2; g++) {
        unsigned def = g ? cfg->default_gid : cfg->default_uid;
        unsigned first = g ? cfg->first_valid_gid : cfg->first_valid_uid;
        unsigned last = g ? cfg->last_valid_gid : cfg->last_valid_uid;
        if (last != 0 && last < first)
            return errorf(err, errsz, "%s:%u: %s: %u is below %s (%u)", name,
                          line_of(seen_at, names[g][2]), names[g][2], last, names[g][1], first);
        if (conf_id_valid(cfg, g, def))
            continue;
        unsigned at = line_of(seen_at, names[g][0]);
        const char *which = names[g][0];
        if (at == 0) {
            which = def < first ? names[g][1] : names[g][2];
            at = line_of(seen_at, which);
        }
        return errorf(err, errsz, "%s:%u: %s: %s %u is outside %s..%s (%u..%u%s)", name, at,
                      which, names[g][0], def, names[g][1], names[g][2], first, last,
                      last == 0 ? ", 0 = no upper bound" : "");
    }
    return 0;
}

/* parse_lines - the file format; defaults must already be in cfg */
static int parse_lines(struct conf *cfg, const char *name, const char *buf, size_t len,
                       char *err, size_t errsz)
{
    unsigned seen_at[SETTING_COUNT] = { 0 };
    char line[LINE_MAX_LEN + 2];
    unsigned lineno = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        lineno++;
        if (ll > LINE_MAX_LEN)
            return errorf(err, errsz, "%s:%u: line longer than %d bytes", name, lineno,
                          LINE_MAX_LEN);
        if (memchr(buf + pos, '\0', ll) != NULL)
            return errorf(err, errsz, "%s:%u: NUL byte in line", name, lineno);
        memcpy(line, buf + pos, ll);
        line[ll] = '\0';
        pos += ll + (nl ? 1 : 0);
        if (ll > 0 && line[ll - 1] == '\r')
            line[ll - 1] = '\0';

        char *p = trim(line);
        if (*p == '\0' || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (eq == NULL)
            return errorf(err, errsz, "%s:%u: expected 'name = value'", name, lineno);
        *eq = '\0';
        char *key = trim(p), *value = trim(eq + 1);
        if (*key == '\0')
            return errorf(err, errsz, "%s:%u: no setting name before '='", name, lineno);
        const struct setting *s = find(key);
        if (s == NULL) {
            /* the name goes into logs: no terminal escapes from a bad file */
            for (char *c = key; *c != '\0'; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = '?';
            return errorf(err, errsz, "%s:%u: %.100s: unknown setting", name, lineno, key);
        }
        size_t idx = (size_t)(s - settings);
        if (seen_at[idx])
            return errorf(err, errsz, "%s:%u: %s: already set on line %u", name, lineno, key,
                          seen_at[idx]);
        seen_at[idx] = lineno;
        /* checked before any parser echoes the value into a message */
        for (const char *c = value; *c != '\0'; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return errorf(err, errsz, "%s:%u: %s: control characters are not allowed",
                              name, lineno, key);
        if (!address_utf8_valid(value, strlen(value)))
            return errorf(err, errsz, "%s:%u: %s: not valid UTF-8", name, lineno, key);
        char why[CONF_ERRSZ];
        if (s->parse(cfg, s, value, why, sizeof(why)) < 0)
            return errorf(err, errsz, "%s:%u: %s: %s", name, lineno, key, why);
    }
    if (cfg->ldap_base == NULL || cfg->ldap_base[0] == '\0')
        return errorf(err, errsz, "%s: ldap_base: required setting is missing", name);
    return check_ranges(cfg, name, seen_at, err, errsz);
}

/* conf_parse_buffer - defaults, then the lines of buf */
int conf_parse_buffer(struct conf *cfg, const char *name, const char *buf, size_t len,
                      char *err, size_t errsz)
{
    if (conf_defaults(cfg) < 0)
        return errorf(err, errsz, "%s: out of memory", name);
    return parse_lines(cfg, name, buf, len, err, errsz);
}

/* read_file - the whole file, bounded */
static char *read_file(const char *path, size_t max, bool secret, size_t *len_r, char *err,
                       size_t errsz)
{
    /* O_NONBLOCK: a FIFO in place of the file must not hang the start */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0) {
        errorf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        errorf(err, errsz, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        errorf(err, errsz, "%s: %s", path,
               S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
        close(fd);
        return NULL;
    }
    /* As ssh refuses a key: a password others can read is no secret, and
     * one others can write lets them choose whom we bind as. Checked on
     * the open file, so a rename in between cannot slip past. */
    if (secret && (st.st_mode & 0007) != 0) {
        errorf(err, errsz,
               "%s: the password file is open to others (mode %04o): "
               "chmod 0600 %s (or 0640, with the group of the programs that read it)",
               path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (buf != NULL && len <= max && (n = read(fd, buf + len, max + 1 - len)) > 0)
        len += (size_t)n;
    int saved = errno;
    close(fd);
    if (buf == NULL || n < 0) {
        errorf(err, errsz, "%s: %s", path, buf ? strerror(saved) : "out of memory");
        if (buf != NULL)
            explicit_bzero(buf, len);
        free(buf);
        return NULL;
    }
    if (len > max) {
        errorf(err, errsz, "%s: larger than %zu bytes", path, max);
        explicit_bzero(buf, len); /* it may hold a password */
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *len_r = len;
    return buf;
}

/* conf_load - defaults, then the file at path (at most 1 MiB) */
int conf_load(struct conf *cfg, const char *path, char *err, size_t errsz)
{
    size_t len;
    memset(cfg, 0, sizeof(*cfg));
    char *buf = read_file(path, 1024 * 1024, false, &len, err, errsz);
    if (buf == NULL)
        return -1;
    int r = conf_parse_buffer(cfg, path, buf, len, err, errsz);
    free(buf);
    if (r == 0 && (cfg->path = strdup(path)) == NULL)
        r = errorf(err, errsz, "%s: out of memory", path);
    return r;
}

/* owns_string - the row's field is a malloc'ed char * (the parsers that
 * store through set_string) */
static bool owns_string(const struct setting *s)
{
    return s->parse == parse_string || s->parse == parse_required ||
           s->parse == parse_abspath || s->parse == parse_name || s->parse == parse_attr ||
           s->parse == parse_filter || s->parse == parse_gate || s->parse == parse_delimiter || s->parse == parse_reply;
}

/* conf_free - release the strings; cfg is empty afterwards */
void conf_free(struct conf *cfg)
{
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const struct setting *s = &settings[i];
        if (owns_string(s)) {
            char **f = FIELD(cfg, s, char *);
            free(*f);
            *f = NULL;
        }
    }
    for (size_t i = 0; i < cfg->ldap_uri_count; i++)
        free(cfg->ldap_uri[i]);
    cfg->ldap_uri_count = 0;
    for (size_t i = 0; i < cfg->home_dirs_count; i++)
        free(cfg->home_dirs[i]);
    cfg->home_dirs_count = 0;
    for (size_t i = 0; i < cfg->alias_domains_count; i++)
        free(cfg->alias_domains[i]);
    cfg->alias_domains_count = 0;
    free(cfg->path);
    cfg->path = NULL;
    ldapsyntax_filter_free(cfg->alias_gate);
    ldapsyntax_filter_free(cfg->forward_gate);
    cfg->alias_gate = cfg->forward_gate = NULL;
}

/* conf_home_dir_count - home_dirs, or mail_base alone */
size_t conf_home_dir_count(const struct conf *cfg)
{
    return cfg->home_dirs_count > 0 ? cfg->home_dirs_count : 1;
}

/* conf_home_dir - directory i of conf_home_dir_count */
const char *conf_home_dir(const struct conf *cfg, size_t i)
{
    if (cfg->home_dirs_count == 0)
        return i == 0 ? cfg->mail_base : NULL;
    return i < cfg->home_dirs_count ? cfg->home_dirs[i] : NULL;
}

/* conf_id_valid - id within the configured range */
bool conf_id_valid(const struct conf *cfg, bool is_gid, unsigned long long id)
{
    unsigned first = is_gid ? cfg->first_valid_gid : cfg->first_valid_uid;
    unsigned last = is_gid ? cfg->last_valid_gid : cfg->last_valid_uid;
    return id != 0 && id >= first && (last == 0 || id <= last) && id <= 4294967294ull;
}

/* conf_alias_domain - linear: a handful of domains, asked once per claim
 * at build time */
bool conf_alias_domain(const struct conf *cfg, const char *domain, size_t len)
{
    for (size_t i = 0; i < cfg->alias_domains_count; i++)
        if (strlen(cfg->alias_domains[i]) == len && memcmp(cfg->alias_domains[i], domain, len) == 0)
            return true;
    return false;
}

/* conf_read_secret - the bind password, bounded, one trailing newline off */
int conf_read_secret(const char *path, char **secret_r, char *err, size_t errsz)
{
    size_t len;
    *secret_r = NULL;
    char *buf = read_file(path, SECRET_MAX, true, &len, err, errsz);
    if (buf == NULL)
        return -1;
    /* One trailing newline (LF or CRLF) is the editor's, not the password's. */
    if (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
    }
    if (len == 0 || memchr(buf, '\0', len) != NULL) {
        errorf(err, errsz, "%s: %s", path, len ? "NUL byte in the password" : "the password file is empty");
        explicit_bzero(buf, len);
        free(buf);
        return -1;
    }
    *secret_r = buf;
    return 0;
}
