/* account - one LDAP entry -> one mail account (the record mapping) */

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/account.h"
#include "maps/address.h"
#include "maps/quota.h"
#include "maps/units.h"
#include "maps/userrec.h"

/* Longer paths than this are refused: no file system takes them anyway. */
#define ACCOUNT_PATH_MAX 4096
#define ACCOUNT_MSG_MAX 512
#define ACCOUNT_QUOTE_MAX 80

/* A growable string; oom sticks so callers check once at the end. */
struct sbuf {
    char *p;
    size_t len, cap;
    size_t limit;
    bool failed;
};

/* sbuf_add - append n bytes (and keep the buffer NUL terminated) */
static void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
    if (sb->failed)
        return;
    if (n > sb->limit || sb->len > sb->limit - n) {
        sb->failed = true;
        return;
    }
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *p = realloc(sb->p, cap);
        if (p == NULL) {
            sb->failed = true;
            return;
        }
        sb->p = p;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

/* sbuf_str - append a C string */
static void sbuf_str(struct sbuf *sb, const char *s)
{
    sbuf_add(sb, s, strlen(s));
}

/* quote - a value made safe and short for a warning: non-printable bytes
 * as \xNN, cut after ACCOUNT_QUOTE_MAX bytes */
static void quote(const char *s, size_t len, char *out, size_t outsz)
{
    size_t o = 0;
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < len && i < ACCOUNT_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 5 >= outsz)
            break;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (len > ACCOUNT_QUOTE_MAX && o + 4 < outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* warnf - format a warning about the entry and hand it to the caller */
__attribute__((format(printf, 4, 5)))
static void warnf(account_warn_fn *warn, void *ctx, const char *dn, const char *fmt, ...)
{
    char msg[ACCOUNT_MSG_MAX];
    va_list ap;

    if (warn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(ctx, dn, msg);
}

/* path_clean - check a path from the directory and write it in one
 * canonical form: runs of '/' collapsed, no trailing '/' (except "/"
 * itself). "." and ".." components are refused rather than resolved: a
 * mailbox path that climbs is an attack or a mistake. Returns the length
 * or -1 with a reason. */
static int path_clean(const char *s, size_t len, char *out, size_t outsz,
                      const char **why)
{
    size_t o = 0, i = 0;

    if (len == 0) {
        *why = "empty path";
        return -1;
    }
    if (len >= outsz || len > ACCOUNT_PATH_MAX) {
        *why = "path too long";
        return -1;
    }
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f) {
            *why = "control character in path";
            return -1;
        }
    }
    if (!address_utf8_valid(s, len)) {
        *why = "invalid UTF-8 in path";
        return -1;
    }
    if (s[0] == '/')
        out[o++] = '/';
    while (i < len) {
        while (i < len && s[i] == '/')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && s[i] != '/')
            i++;
        size_t n = i - start;
        if ((n == 1 && s[start] == '.') ||
            (n == 2 && s[start] == '.' && s[start + 1] == '.')) {
            *why = "\".\" or \"..\" in path";
            return -1;
        }
        if (o > 0 && out[o - 1] != '/')
            out[o++] = '/';
        memcpy(out + o, s + start, n);
        o += n;
    }
    if (o == 0) {
        *why = "empty path";
        return -1;
    }
    out[o] = '\0';
    return (int)o;
}

/* mail_base_get - mail_base in canonical form, "" standing for "/" so that
 * base + "/" + rel is always right */
static int mail_base_get(const struct conf *cfg, char *out, size_t outsz,
                         char *err, size_t errsz)
{
    const char *why = NULL;
    const char *base = cfg->mail_base ? cfg->mail_base : "";

    if (base[0] != '/' || path_clean(base, strlen(base), out, outsz, &why) < 0) {
        snprintf(err, errsz, "mail_base: %s", why ? why : "not an absolute path");
        return -1;
    }
    if (strcmp(out, "/") == 0)
        out[0] = '\0';
    return 0;
}

/* attr_name - a configured attribute name, or NULL when not configured */
static const char *attr_name(const char *name)
{
    return name != NULL && name[0] != '\0' ? name : NULL;
}

/* find - the attribute called name with at least one value, or NULL */
static const struct entry_attr *find(const struct entry *e, const char *name)
{
    const struct entry_attr *at;

    if (attr_name(name) == NULL)
        return NULL;
    at = entry_attr_find(e, name);
    if (at == NULL || at->count == 0 || at->values == NULL)
        return NULL;
    return at;
}

/* value_unsafe - a byte the TAB separated maps cannot carry faithfully */
static bool value_unsafe(const struct entry_value *v)
{
    for (size_t i = 0; i < v->len; i++) {
        char c = v->data[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\0')
            return true;
    }
    return false;
}

/* value_copy - a short value as a C string (numbers); false if too long */
static bool value_copy(const struct entry_value *v, char *buf, size_t bufsz)
{
    if (v->len >= bufsz)
        return false;
    memcpy(buf, v->data, v->len);
    buf[v->len] = '\0';
    return true;
}

/* mail_split - the local part and domain of a normalised address */
static void mail_split(const char *mail, size_t *local_len_r, const char **domain_r)
{
    const char *at = strrchr(mail, '@');

    if (at == NULL) {
        *local_len_r = strlen(mail);
        *domain_r = "";
        return;
    }
    *local_len_r = (size_t)(at - mail);
    *domain_r = at + 1;
}

/* account_init - an empty account */
void account_init(struct account *a)
{
    memset(a, 0, sizeof(*a));
}

/* strv_free - free n strings and the array */
static void strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* account_free - release everything a holds and leave it empty */
void account_free(struct account *a)
{
    free(a->dn);
    free(a->mail);
    free(a->home);
    free(a->mailbox);
    if (a->password != NULL) {
        /* a hash, but still nothing to leave lying around */
        memset(a->password, 0, strlen(a->password));
        free(a->password);
    }
    strv_free(a->aliases, a->alias_count);
    strv_free(a->groups, a->group_count);
    account_init(a);
}

/* account_dn_normalize - dn for comparisons: lower-case, no blanks around
 * unescaped separators */
char *account_dn_normalize(const char *dn)
{
    size_t len = dn ? strlen(dn) : 0, i = 0, o = 0, keep = 0;
    char *out = malloc(len + 1);

    if (out == NULL)
        return NULL;
    while (i < len && dn[i] == ' ')
        i++;
    while (i < len) {
        char c = dn[i];
        if (c == '\\' && i + 1 < len) {
            /* an escaped blank or separator is data: never trimmed */
            out[o++] = '\\';
            c = dn[i + 1];
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            i += 2;
            keep = o;
        } else if (c == ',' || c == '=' || c == '+') {
            while (o > keep && out[o - 1] == ' ')
                o--;
            out[o++] = c;
            keep = o;
            for (i++; i < len && dn[i] == ' '; i++)
                ;
        } else {
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            i++;
        }
    }
    while (o > keep && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

/* join - the parts one after another into buf; the length, or -1 when
 * they do not fit (snprintf costs more than the rest of a sync's
 * per-account work, hence by hand) */
static int join(char *buf, size_t bufsz, const char *const *part, const size_t *len, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (len[i] >= bufsz - o)
            return -1;
        memcpy(buf + o, part[i], len[i]);
        o += len[i];
    }
    if (o >= bufsz || o > INT_MAX)
        return -1;
    buf[o] = '\0';
    return (int)o;
}

/* account_default_home - "<mail_base>/<domain>/<local>" */
int account_default_home(const struct conf *cfg, const char *mail, char *buf,
                         size_t bufsz)
{
    char base[ACCOUNT_PATH_MAX + 1], err[64];
    const char *domain;
    size_t local_len;

    if (mail_base_get(cfg, base, sizeof(base), err, sizeof(err)) < 0)
        return -1;
    mail_split(mail, &local_len, &domain);
    const char *part[] = { base, "/", domain, "/", mail };
    const size_t len[] = { strlen(base), 1, strlen(domain), 1, local_len };
    return join(buf, bufsz, part, len, 5);
}

/* account_default_mailbox - "<domain>/<local>/Maildir/" */
int account_default_mailbox(const char *mail, char *buf, size_t bufsz)
{
    const char *domain;
    size_t local_len;

    mail_split(mail, &local_len, &domain);
    const char *part[] = { domain, "/", mail, "/Maildir/" };
    const size_t len[] = { strlen(domain), 1, local_len, 9 };
    return join(buf, bufsz, part, len, 4);
}

/* addr_cmp - qsort order of address strings */
static int addr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* addr_list - the valid addresses of attribute at, normalised, sorted and
 * unique, without skip (the entry's own mail). Bad values are dropped with
 * a warning. -1 when out of memory. */
static int addr_list(const struct entry_attr *at, const char *what, const char *skip,
                     const char *dn, account_warn_fn *warn, void *ctx,
                     char ***list_r, size_t *count_r)
{
    char **list;
    size_t n = 0;

    *list_r = NULL;
    *count_r = 0;
    if (at == NULL)
        return 0;
    list = calloc(at->count, sizeof(*list));
    if (list == NULL)
        return -1;
    for (size_t i = 0; i < at->count; i++) {
        const struct entry_value *v = &at->values[i];
        struct address addr;
        const char *why = NULL;
        char q[ACCOUNT_QUOTE_MAX * 4 + 8];

        if (address_parse(v->data, v->len, NULL, &addr, &why) < 0 ||
            (!address_domain_valid(addr.domain, strlen(addr.domain)) &&
             (why = "invalid domain") != NULL)) {
            quote(v->data, v->len, q, sizeof(q));
            warnf(warn, ctx, dn, "%s value \"%s\" ignored: %s", what, q,
                  why ? why : "invalid address");
            continue;
        }
        if (skip != NULL && strcmp(addr.full, skip) == 0)
            continue;
        if ((list[n] = strdup(addr.full)) == NULL) {
            strv_free(list, n);
            return -1;
        }
        n++;
    }
    qsort(list, n, sizeof(*list), addr_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(list[u - 1], list[i]) == 0) {
            free(list[i]);
            continue;
        }
        list[u++] = list[i];
    }
    if (u == 0) {
        free(list);
        list = NULL;
    }
    *list_r = list;
    *count_r = u;
    return 0;
}

/* single - the one value of an optional single-valued attribute: 1 with
 * *v_r, 0 absent, -1 several values (the entry is skipped) */
static int single(const struct entry *e, const char *name, const struct entry_value **v_r)
{
    const struct entry_attr *at = find(e, name);

    *v_r = NULL;
    if (at == NULL)
        return 0;
    if (at->count > 1)
        return -1;
    *v_r = &at->values[0];
    return 1;
}

/* id_parse - a uid/gid value: 1..4294967294 ((uid_t)-1 means "no change"
 * to the kernel, 0 is root) */
static int id_parse(const struct entry_value *v, uint32_t *id_r, const char **why)
{
    char buf[32];
    uint64_t id;

    if (!value_copy(v, buf, sizeof(buf))) {
        *why = "too long";
        return -1;
    }
    if (units_uint_parse(buf, 1, 4294967294ULL, &id, why) < 0)
        return -1;
    *id_r = (uint32_t)id;
    return 0;
}

/* mailbox_from_storage - the storage attribute as a path relative to
 * base, with a trailing '/'. 0 or -1 with a reason. */
static int mailbox_from_storage(const struct entry_value *v, const char *base,
                                char *out, size_t outsz, const char **why)
{
    const char *s = v->data;
    size_t len = v->len, baselen = strlen(base);
    char path[ACCOUNT_PATH_MAX + 1];
    const char *rel;
    int n;

    if (len >= 8 && memcmp(s, "maildir:", 8) == 0) {
        s += 8;
        len -= 8;
    }
    if ((n = path_clean(s, len, path, sizeof(path), why)) < 0)
        return -1;
    if (path[0] == '/') {
        if (baselen == 0) {
            rel = path + 1;
        } else if ((size_t)n > baselen && memcmp(path, base, baselen) == 0 &&
                   path[baselen] == '/') {
            rel = path + baselen + 1;
        } else {
            *why = (strcmp(path, base) == 0) ? "is mail_base itself"
                                             : "absolute path outside mail_base";
            return -1;
        }
    } else {
        rel = path;
    }
    if (rel[0] == '\0') {
        *why = "is mail_base itself";
        return -1;
    }
    n = snprintf(out, outsz, "%s/", rel);
    if (n < 0 || (size_t)n >= outsz) {
        *why = "path too long";
        return -1;
    }
    return 0;
}

/* mailbox_safe - ':' and '%' in a mailbox path would change the meaning of
 * Dovecot's mail field ("maildir:PATH:OPTIONS", %variables) */
static bool mailbox_safe(const char *mailbox)
{
    return strpbrk(mailbox, ":%") == NULL;
}

/* account_from_entry - the mapping of one entry */
int account_from_entry(const struct conf *cfg, const struct entry *e,
                       struct account *a, account_warn_fn *warn, void *ctx,
                       char *err, size_t errsz)
{
    const char *dn = e->dn ? e->dn : "";
    const struct entry_attr *at;
    const struct entry_value *v;
    struct address addr;
    char base[ACCOUNT_PATH_MAX + 1], path[ACCOUNT_PATH_MAX + 1];
    char q[ACCOUNT_QUOTE_MAX * 4 + 8];
    const char *why = NULL;
    int rc;

    account_free(a);
    if (mail_base_get(cfg, base, sizeof(base), err, errsz) < 0)
        return -1;

    /* One check up front, so no rule below has to think about it. */
    const char *checked[] = {
        cfg->attr.mail, cfg->attr.alias, cfg->attr.group, cfg->attr.home,
        cfg->attr.storage, cfg->attr.uid, cfg->attr.gid, cfg->attr.quota,
        cfg->attr.password,
    };
    for (size_t k = 0; k < sizeof(checked) / sizeof(checked[0]); k++) {
        const char *name = checked[k];
        if ((at = find(e, name)) == NULL)
            continue;
        for (size_t i = 0; i < at->count; i++) {
            if (value_unsafe(&at->values[i])) {
                warnf(warn, ctx, dn, "skipped: %s holds a TAB, newline, CR or NUL",
                      name);
                return 0;
            }
        }
    }

    /* mail: the account's identity */
    at = find(e, cfg->attr.mail);
    if (at == NULL) {
        warnf(warn, ctx, dn, "skipped: no %s", cfg->attr.mail ? cfg->attr.mail : "mail");
        return 0;
    }
    if (at->count != 1) {
        warnf(warn, ctx, dn, "skipped: %zu values of %s, want one", at->count,
              cfg->attr.mail);
        return 0;
    }
    v = &at->values[0];
    if (address_parse(v->data, v->len, NULL, &addr, &why) < 0 ||
        (!address_domain_valid(addr.domain, strlen(addr.domain)) &&
         (why = "invalid domain") != NULL)) {
        quote(v->data, v->len, q, sizeof(q));
        warnf(warn, ctx, dn, "skipped: bad %s \"%s\": %s", cfg->attr.mail, q,
              why ? why : "invalid address");
        return 0;
    }

    /* home */
    rc = single(e, cfg->attr.home, &v);
    if (rc < 0) {
        warnf(warn, ctx, dn, "skipped: several values of %s", cfg->attr.home);
        return 0;
    }
    if (rc > 0) {
        if (path_clean(v->data, v->len, path, sizeof(path), &why) < 0 ||
            (path[0] != '/' && (why = "not an absolute path") != NULL)) {
            quote(v->data, v->len, q, sizeof(q));
            warnf(warn, ctx, dn, "skipped: bad %s \"%s\": %s", cfg->attr.home, q, why);
            return 0;
        }
    } else {
        char raw[ACCOUNT_PATH_MAX + 1];
        int n = account_default_home(cfg, addr.full, raw, sizeof(raw));
        if (n < 0 || path_clean(raw, (size_t)n, path, sizeof(path), &why) < 0) {
            warnf(warn, ctx, dn, "skipped: %s makes an unusable home: %s", addr.full,
                  n < 0 ? "too long" : why);
            return 0;
        }
    }
    if ((a->home = strdup(path)) == NULL)
        goto nomem;

    /* mailbox */
    rc = single(e, cfg->attr.storage, &v);
    if (rc < 0) {
        warnf(warn, ctx, dn, "skipped: several values of %s", cfg->attr.storage);
        goto skip;
    }
    if (rc > 0) {
        if (mailbox_from_storage(v, base, path, sizeof(path), &why) < 0 ||
            (!mailbox_safe(path) && (why = "':' or '%' in path") != NULL)) {
            quote(v->data, v->len, q, sizeof(q));
            warnf(warn, ctx, dn, "skipped: bad %s \"%s\": %s", cfg->attr.storage, q, why);
            goto skip;
        }
        a->storage_set = true;
    } else {
        char raw[ACCOUNT_PATH_MAX + 1];
        int n = account_default_mailbox(addr.full, raw, sizeof(raw));
        /* the local part comes from the directory too: same checks */
        if (n < 0 || path_clean(raw, (size_t)n, path, sizeof(path) - 1, &why) < 0 ||
            (!mailbox_safe(path) && (why = "':' or '%' in path") != NULL)) {
            warnf(warn, ctx, dn, "skipped: %s makes an unusable mailbox path: %s",
                  addr.full, n < 0 ? "too long" : why);
            goto skip;
        }
        strcat(path, "/");
    }
    if ((a->mailbox = strdup(path)) == NULL)
        goto nomem;

    /* uid, gid */
    a->uid = cfg->default_uid;
    a->gid = cfg->default_gid;
    const char *idattr[2] = { cfg->attr.uid, cfg->attr.gid };
    uint32_t *idp[2] = { &a->uid, &a->gid };
    for (int k = 0; k < 2; k++) {
        rc = single(e, idattr[k], &v);
        if (rc < 0) {
            warnf(warn, ctx, dn, "skipped: several values of %s", idattr[k]);
            goto skip;
        }
        why = "invalid";
        if (rc > 0 && id_parse(v, idp[k], &why) < 0) {
            quote(v->data, v->len, q, sizeof(q));
            warnf(warn, ctx, dn, "skipped: bad %s \"%s\": %s", idattr[k], q,
                  why ? why : "invalid");
            goto skip;
        }
    }

    /* quota: kilobytes per the schema, or with a unit */
    a->quota = cfg->default_quota;
    rc = single(e, cfg->attr.quota, &v);
    if (rc < 0) {
        warnf(warn, ctx, dn, "skipped: several values of %s", cfg->attr.quota);
        goto skip;
    }
    if (rc > 0) {
        char buf[64];
        why = "too long";
        if (!value_copy(v, buf, sizeof(buf)) ||
            units_size_parse(buf, 1024, &a->quota, &why) < 0) {
            quote(v->data, v->len, q, sizeof(q));
            warnf(warn, ctx, dn, "skipped: bad %s \"%s\": %s", cfg->attr.quota, q,
                  why ? why : "invalid");
            goto skip;
        }
    }

    /* password: the first value (userPassword is multi-valued); an empty
     * one is no password at all, so it can never match */
    at = find(e, cfg->attr.password);
    if (at != NULL && at->values[0].len > 0) {
        a->password = strndup(at->values[0].data, at->values[0].len);
        if (a->password == NULL)
            goto nomem;
    }

    if ((a->mail = strdup(addr.full)) == NULL)
        goto nomem;
    if (addr_list(find(e, cfg->attr.alias), cfg->attr.alias, a->mail, dn, warn, ctx,
                  &a->aliases, &a->alias_count) < 0 ||
        addr_list(find(e, cfg->attr.group), cfg->attr.group, NULL, dn, warn, ctx,
                  &a->groups, &a->group_count) < 0)
        goto nomem;
    if ((a->dn = account_dn_normalize(dn)) == NULL)
        goto nomem;
    return 1;

nomem:
    account_free(a);
    snprintf(err, errsz, "out of memory");
    return -1;
skip:
    account_free(a);
    return 0;
}

/* mail_location_expand - Dovecot's %u %n %d %h %% in the template; other
 * %-sequences are left for Dovecot */
static void mail_location_expand(struct sbuf *sb, const char *tpl, const struct account *a)
{
    const char *domain;
    size_t local_len;

    mail_split(a->mail, &local_len, &domain);
    for (const char *p = tpl; *p != '\0'; p++) {
        if (*p != '%' || p[1] == '\0') {
            sbuf_add(sb, p, 1);
            continue;
        }
        switch (p[1]) {
        case 'u': sbuf_str(sb, a->mail); break;
        case 'n': sbuf_add(sb, a->mail, local_len); break;
        case 'd': sbuf_str(sb, domain); break;
        case 'h': sbuf_str(sb, a->home); break;
        case '%': sbuf_add(sb, "%", 1); break;
        default: sbuf_add(sb, p, 2); break;
        }
        p++;
    }
}

/* u64_format - v in decimal after prefix into buf (at least 64 bytes);
 * the per-account hot path of a sync, so no snprintf */
static const char *u64_format(char *buf, const char *prefix, uint64_t v, const char *suffix)
{
    char digits[24];
    size_t n = 0, o = strlen(prefix);

    memcpy(buf, prefix, o);
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        buf[o++] = digits[--n];
    strcpy(buf + o, suffix);
    return buf;
}

/* account_userrec - the users.cdb value */
long account_userrec(const struct conf *cfg, const struct account *a,
                     char **buf, size_t *bufsz, char *err, size_t errsz)
{
    struct userrec rec;
    struct sbuf mail = { .limit = 2 * ACCOUNT_PATH_MAX };
    char num[64], base[ACCOUNT_PATH_MAX + 1], rule[512], name[64];
    long n = -1;

    if (mail_base_get(cfg, base, sizeof(base), err, errsz) < 0)
        return -1;
    userrec_init(&rec);
    if (userrec_add(&rec, "home", a->home) < 0)
        goto nomem;
    if (userrec_add(&rec, "uid", u64_format(num, "", a->uid, "")) < 0 ||
        userrec_add(&rec, "gid", u64_format(num, "", a->gid, "")) < 0)
        goto nomem;

    if (a->storage_set || cfg->mail_location == NULL || cfg->mail_location[0] == '\0') {
        size_t len = strlen(a->mailbox);
        sbuf_str(&mail, "maildir:");
        sbuf_str(&mail, base);
        sbuf_add(&mail, "/", 1);
        sbuf_add(&mail, a->mailbox, len > 0 && a->mailbox[len - 1] == '/' ? len - 1 : len);
    } else {
        mail_location_expand(&mail, cfg->mail_location, a);
    }
    if (mail.failed || mail.p == NULL) {
        snprintf(err, errsz, "%s: mail field too long or out of memory", a->mail);
        goto out;
    }
    if (userrec_add(&rec, "mail", mail.p) < 0)
        goto nomem;

    /* Dovecot reads "0" as unlimited; a byte count needs its "B" */
    if (userrec_add(&rec, "quota_rule",
                    u64_format(rule, "*:storage=", a->quota, a->quota ? "B" : "")) < 0)
        goto nomem;
    for (size_t i = 0; i < cfg->quota_rules.count; i++) {
        if (quota_rule_format(&cfg->quota_rules.rule[i], rule, sizeof(rule)) < 0) {
            snprintf(err, errsz, "quota_rules: rule %zu cannot be formatted", i + 1);
            goto out;
        }
        if (userrec_add(&rec, u64_format(name, "quota_rule", i + 2, ""), rule) < 0)
            goto nomem;
    }
    if (a->password != NULL && userrec_add(&rec, "password", a->password) < 0)
        goto nomem;

    size_t need = userrec_encoded_size(&rec);
    if (need + 1 > *bufsz) {
        char *p = realloc(*buf, need + 1);
        if (p == NULL)
            goto nomem;
        *buf = p;
        *bufsz = need + 1;
    }
    n = userrec_encode(&rec, *buf, *bufsz);
    if (n < 0)
        snprintf(err, errsz, "%s: cannot encode the user record", a->mail);
    goto out;

nomem:
    snprintf(err, errsz, "out of memory");
    n = -1;
out:
    userrec_free(&rec);
    free(mail.p);
    return n;
}
