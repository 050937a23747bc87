/* account - one LDAP entry -> one mail account (the record mapping) */

#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/account.h"
#include "maps/ascii.h"
#include "maps/address.h"
#include "maps/ldapsyntax.h"
#include "maps/quota.h"
#include "maps/units.h"
#include "maps/userrec.h"

/* Longer paths than this are refused: no file system takes them anyway. */
#define ACCOUNT_PATH_MAX 4096
#define ACCOUNT_MSG_MAX 512

/* A bounded string in a caller's buffer; failure sticks so callers check
 * once at the end. */
struct sbuf {
    char *p;
    size_t len;
    size_t limit;   /* p has room for limit bytes and a NUL */
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
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

/* sbuf_str - append a C string */
static void sbuf_str(struct sbuf *sb, const char *s)
{
    sbuf_add(sb, s, strlen(s));
}

/* account_quote - a value made safe and short for a warning */
void account_quote(const char *s, size_t len, char *out, size_t outsz)
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

/* account_warnf - format a warning about the entry and hand it on */
void account_warnf(account_warn_fn *warn, void *ctx, const char *dn, const char *fmt, ...)
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
 * mailbox path that climbs is an attack or a mistake. checked: the bytes
 * are known to be valid UTF-8 without control characters (a cleaned base
 * and a parsed address), so those scans are skipped. Returns the length
 * or -1 with a reason. */
static int path_clean(const char *s, size_t len, bool checked, char *out, size_t outsz,
                      const char **why)
{
    size_t o = 0, cs;

    if (len == 0) {
        *why = "empty path";
        return -1;
    }
    if (len >= outsz || len > ACCOUNT_PATH_MAX) {
        *why = "path too long";
        return -1;
    }
    for (size_t k = 0; !checked && k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f) {
            *why = "control character in path";
            return -1;
        }
    }
    if (!checked && !address_utf8_valid(s, len)) {
        *why = "invalid UTF-8 in path";
        return -1;
    }
    /* One pass, copying as it goes: each component is followed by a '/'
     * (dropped again at the end); empty components are runs of '/'. */
    if (s[0] == '/')
        out[o++] = '/';
    cs = o;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/') {
            out[o++] = s[i];
            continue;
        }
        size_t n = o - cs;
        if (n == 0)
            continue;
        if (out[cs] == '.' && (n == 1 || (n == 2 && out[cs + 1] == '.'))) {
            *why = "\".\" or \"..\" in path";
            return -1;
        }
        out[o++] = '/';
        cs = o;
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    if (o == 0) {
        *why = "empty path";
        return -1;
    }
    out[o] = '\0';
    return (int)o;
}

/* The cleaned mail_base of the last setting this thread saw: a sync needs
 * it several times per account and cleaning it each time showed in
 * profiles. The key is the setting's text, not the conf pointer, because a
 * conf may be changed in place between calls. */
#define BASE_CACHE_MAX 256
static _Thread_local struct {
    bool set;
    size_t len;
    char raw[BASE_CACHE_MAX];
    char clean[BASE_CACHE_MAX];
} base_cache;

/* mail_base_clean - mail_base in canonical form, "" standing for "/" so
 * that base + "/" + rel is always right. Returns its length, or -1 with a
 * static reason. */
static int mail_base_clean(const struct conf *cfg, char *out, size_t outsz, const char **why)
{
    const char *base = cfg->mail_base ? cfg->mail_base : "";
    size_t rawlen;
    int n;

    if (base_cache.set && base_cache.len < outsz && strcmp(base, base_cache.raw) == 0) {
        memcpy(out, base_cache.clean, base_cache.len + 1);
        return (int)base_cache.len;
    }
    rawlen = strlen(base);
    *why = NULL;
    if (base[0] != '/' || (n = path_clean(base, rawlen, false, out, outsz, why)) < 0) {
        if (*why == NULL)
            *why = "not an absolute path";
        return -1;
    }
    if (n == 1) {
        out[0] = '\0';
        n = 0;
    }
    if (rawlen < BASE_CACHE_MAX) {
        /* a cleaned path is never longer than the original */
        memcpy(base_cache.raw, base, rawlen + 1);
        memcpy(base_cache.clean, out, (size_t)n + 1);
        base_cache.len = (size_t)n;
        base_cache.set = true;
    }
    return n;
}

/* mail_base_get - mail_base_clean with the reason in err */
static int mail_base_get(const struct conf *cfg, char *out, size_t outsz,
                         char *err, size_t errsz)
{
    const char *why;
    int n = mail_base_clean(cfg, out, outsz, &why);

    if (n < 0)
        snprintf(err, errsz, "mail_base: %s", why);
    return n;
}

/* attr_name - a configured attribute name, or NULL when not configured */
static const char *attr_name(const char *name)
{
    return name != NULL && name[0] != '\0' ? name : NULL;
}

/* The attributes the mapping reads, in the order of the one-time check for
 * unsafe values (its warning names the first offender). */
enum slot { S_MAIL, S_ALIAS, S_GROUP, S_HOME, S_STORAGE, S_UID, S_GID, S_QUOTA,
            S_PASSWORD, S_FORWARD, S_COUNT };

/* slot_names - the configured attribute name of every slot */
static void slot_names(const struct conf *cfg, const char *name[S_COUNT])
{
    name[S_MAIL] = cfg->attr.mail;
    name[S_ALIAS] = cfg->attr.alias;
    name[S_GROUP] = cfg->attr.group;
    name[S_HOME] = cfg->attr.home;
    name[S_STORAGE] = cfg->attr.storage;
    name[S_UID] = cfg->attr.uid;
    name[S_GID] = cfg->attr.gid;
    name[S_QUOTA] = cfg->attr.quota;
    name[S_PASSWORD] = cfg->attr.password;
    name[S_FORWARD] = cfg->ldap_attr_forward;
}

/* name_eq - attribute descriptions equal ignoring ASCII case (they are
 * ASCII, so this is strcasecmp in the C locale). Inline:
 * most pairs differ in the first bytes. */
static bool name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = ascii_lower(*a), y = ascii_lower(*b);
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

/* attrs_classify - for every slot, the attribute a case-insensitive lookup
 * finds (the first of that name, any case) if it has a value; NULL when
 * it has none, is absent or the slot is not configured. One pass over the
 * entry instead of one per slot: this runs for every entry of a sync. */
static void attrs_classify(const struct entry *e, const char *const name[S_COUNT],
                           const struct entry_attr *slot[S_COUNT])
{
    size_t len[S_COUNT];
    unsigned want = 0;

    for (int k = 0; k < S_COUNT; k++) {
        slot[k] = NULL;
        if (attr_name(name[k]) != NULL) {
            want |= 1u << k;
            len[k] = strlen(name[k]);
        }
    }
    for (size_t i = 0; e->attrs != NULL && i < e->attr_count && want != 0; i++) {
        const struct entry_attr *at = &e->attrs[i];
        size_t alen;

        if (at->name == NULL)
            continue;
        /* the lengths settle most pairs: the default names mostly start
         * with "mail" */
        alen = strlen(at->name);
        for (int k = 0; k < S_COUNT; k++) {
            if ((want & (1u << k)) == 0 || len[k] != alen || !name_eq(at->name, name[k]))
                continue;
            /* the first attribute of the name decides, values or not */
            want &= ~(1u << k);
            if (at->count > 0 && at->values != NULL)
                slot[k] = at;
        }
    }
}

/* value_unsafe - a byte the TAB separated maps cannot carry faithfully.
 * Four memchr calls beat one byte loop on password hashes. */
static bool value_unsafe(const struct entry_value *v)
{
    if (v->len == 0)
        return false;
    return memchr(v->data, '\t', v->len) != NULL || memchr(v->data, '\n', v->len) != NULL ||
           memchr(v->data, '\r', v->len) != NULL || memchr(v->data, '\0', v->len) != NULL;
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
    free(a->forward);
    account_init(a);
}

/* str_same - both NULL, or the same bytes */
static bool str_same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* strv_same - the same strings in the same order */
static bool strv_same(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!str_same(a[i], b[i]))
            return false;
    return true;
}

bool account_equal(const struct account *a, const struct account *b)
{
    return a->uid == b->uid && a->gid == b->gid && a->quota == b->quota &&
           a->storage_set == b->storage_set && str_same(a->dn, b->dn) &&
           str_same(a->mail, b->mail) && str_same(a->home, b->home) &&
           str_same(a->mailbox, b->mailbox) && str_same(a->password, b->password) &&
           strv_same(a->aliases, a->alias_count, b->aliases, b->alias_count) &&
           strv_same(a->groups, a->group_count, b->groups, b->group_count) &&
           str_same(a->forward, b->forward);
}

/* account_dn_normalize - dn for comparisons: lower-case, no blanks around
 * unescaped separators */
char *account_dn_normalize(const char *dn)
{
    size_t len = dn ? strlen(dn) : 0, i = 0, o = 0, keep = 0;
    char *out = malloc(len + 1);

    if (out == NULL)
        return NULL;
    /* most DNs are already normal (no blank, escape or capital): a copy */
    for (i = 0; i < len; i++) {
        char c = dn[i];
        if (c == ' ' || c == '\\' || (c >= 'A' && c <= 'Z'))
            break;
    }
    if (i == len) {
        if (len > 0)
            memcpy(out, dn, len);
        out[len] = '\0';
        return out;
    }
    i = 0;
    while (i < len && dn[i] == ' ')
        i++;
    while (i < len) {
        char c = dn[i];
        if (c == '\\' && i + 1 < len) {
            /* an escaped blank or separator is data: never trimmed */
            out[o++] = '\\';
            c = dn[i + 1];
            out[o++] = ascii_lower(c);
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
            out[o++] = ascii_lower(c);
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

/* home_default - "<base>/<domain>/<local>" with base already cleaned */
static int home_default(const char *base, size_t baselen, const char *mail, char *buf,
                        size_t bufsz)
{
    const char *domain;
    size_t local_len;

    mail_split(mail, &local_len, &domain);
    const char *part[] = { base, "/", domain, "/", mail };
    const size_t len[] = { baselen, 1, strlen(domain), 1, local_len };
    return join(buf, bufsz, part, len, 5);
}

/* account_default_home - "<mail_base>/<domain>/<local>" */
int account_default_home(const struct conf *cfg, const char *mail, char *buf,
                         size_t bufsz)
{
    char base[ACCOUNT_PATH_MAX + 1], err[64];
    int n = mail_base_get(cfg, base, sizeof(base), err, sizeof(err));

    if (n < 0)
        return -1;
    return home_default(base, (size_t)n, mail, buf, bufsz);
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

/* value_address - v parsed as an address into *addr; false when it is
 * none, with a warning that it is ignored (what names the attribute) */
static bool value_address(const struct entry_value *v, const char *what, const char *dn,
                          account_warn_fn *warn, void *ctx, struct address *addr)
{
    const char *why = NULL;
    char q[ACCOUNT_QUOTE_SIZE];

    /* address_parse checks the domain with address_domain_valid */
    if (address_parse(v->data, v->len, NULL, addr, &why) == 0)
        return true;
    account_quote(v->data, v->len, q, sizeof(q));
    account_warnf(warn, ctx, dn, "%s value \"%s\" ignored: %s", what, q,
                  why ? why : "invalid address");
    return false;
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
        struct address addr;

        if (!value_address(&at->values[i], what, dn, warn, ctx, &addr))
            continue;
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

/* single - the one value of an optional single-valued attribute at (from
 * attrs_classify): 1 with *v_r, 0 absent, -1 several values (the entry is
 * skipped) */
static int single(const struct entry_attr *at, const struct entry_value **v_r)
{
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
                                size_t baselen, char *out, size_t outsz, const char **why)
{
    const char *s = v->data;
    size_t len = v->len, rlen;
    char path[ACCOUNT_PATH_MAX + 1];
    const char *rel;
    int n;

    if (len >= 8 && memcmp(s, "maildir:", 8) == 0) {
        s += 8;
        len -= 8;
    }
    if ((n = path_clean(s, len, false, path, sizeof(path), why)) < 0)
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
    rlen = (size_t)n - (size_t)(rel - path);
    if (rlen + 1 >= outsz) {
        *why = "path too long";
        return -1;
    }
    memcpy(out, rel, rlen);
    out[rlen] = '/';
    out[rlen + 1] = '\0';
    return 0;
}

static void mail_location_expand(struct sbuf *sb, const char *tpl, size_t len, const char *mail,
                                 const char *home);
static bool mailbox_safe(const char *mailbox);

/* mailbox_of_location - where Dovecot keeps the mail of an account
 * without a storage directory, when mail_location is "maildir:PATH[:…]":
 * PATH with %u %n %d %h and a leading '~' expanded, relative to base
 * (cleaned mail_base) with a trailing '/', into out: 1. 0 when
 * mail_location does not say (unset, another format, or a sequence only
 * Dovecot expands): the default mailbox stands. -1 with a static reason
 * when that place is outside mail_base or unusable. */
static int mailbox_of_location(const struct conf *cfg, const char *base, size_t baselen,
                               const char *mail, const char *home, char *out, size_t outsz,
                               const char **why)
{
    const char *ml = cfg->mail_location;
    char exp[ACCOUNT_PATH_MAX + 1];
    struct sbuf sb = { .p = exp, .limit = ACCOUNT_PATH_MAX };

    if (ml == NULL || strncmp(ml, "maildir:", 8) != 0)
        return 0;
    const char *path = ml + 8;
    size_t plen = strcspn(path, ":");
    exp[0] = '\0';
    if (plen > 0 && path[0] == '~' && (plen == 1 || path[1] == '/')) {
        sbuf_str(&sb, home);
        path++;
        plen--;
    }
    mail_location_expand(&sb, path, plen, mail, home);
    if (sb.failed) {
        *why = "too long";
        return -1;
    }
    if (strchr(exp, '%') != NULL)
        return 0;
    struct entry_value v = { exp, sb.len };
    if (mailbox_from_storage(&v, base, baselen, out, outsz, why) < 0)
        return -1;
    if (!mailbox_safe(out)) {
        *why = "':' or '%' in path";
        return -1;
    }
    return 1;
}

/* mailbox_safe - ':' and '%' in a mailbox path would change the meaning of
 * Dovecot's mail field ("maildir:PATH:OPTIONS", %variables) */
static bool mailbox_safe(const char *mailbox)
{
    return strpbrk(mailbox, ":%") == NULL;
}

/* local_part_safe - the local part of mail may become a path component
 * (the default home and mailbox, %n in mail_location and quota_usage):
 * ".", ".." and anything with a '/' would climb or nest. why is static. */
static bool local_part_safe(const char *mail, const char **why)
{
    size_t n;
    const char *domain;

    mail_split(mail, &n, &domain);
    if ((n == 1 && mail[0] == '.') || (n == 2 && mail[0] == '.' && mail[1] == '.')) {
        *why = "local part \".\" or \"..\" would be a path component";
        return false;
    }
    if (memchr(mail, '/', n) != NULL) {
        *why = "local part with '/' would be a path";
        return false;
    }
    return true;
}

/* home_allowed - home (clean, absolute) lies strictly below one of
 * conf_home_dir's directories, compared on component boundaries */
static bool home_allowed(const struct conf *cfg, const char *home)
{
    size_t count = conf_home_dir_count(cfg);

    for (size_t i = 0; i < count; i++) {
        const char *d = conf_home_dir(cfg, i), *why;
        char clean[ACCOUNT_PATH_MAX + 1];
        int n;

        if (d == NULL || (n = path_clean(d, strlen(d), false, clean, sizeof(clean), &why)) < 0)
            continue;
        if (n == 1)
            n = 0;      /* "/": every absolute path lies below it */
        if (strncmp(home, clean, (size_t)n) == 0 && home[n] == '/' && home[n + 1] != '\0')
            return true;
    }
    return false;
}

/* account_trust_check - the per-account rules of "Directory data is
 * untrusted" (the README's "From entry to records") */
int account_trust_check(const struct conf *cfg, const struct account *a, char *why,
                        size_t whysz)
{
    const char *w = NULL;

    if (a->mail == NULL || a->home == NULL || a->mailbox == NULL) {
        snprintf(why, whysz, "incomplete account");
        return -1;
    }
    if (!local_part_safe(a->mail, &w)) {
        snprintf(why, whysz, "%s", w);
        return -1;
    }
    if (strpbrk(a->home, ":%") != NULL) {
        snprintf(why, whysz, "home %.200s has ':' or '%%'", a->home);
        return -1;
    }
    if (!home_allowed(cfg, a->home)) {
        snprintf(why, whysz, "home %.200s is not below any of home_dirs", a->home);
        return -1;
    }
    if (!mailbox_safe(a->mailbox)) {
        snprintf(why, whysz, "mailbox %.200s has ':' or '%%'", a->mailbox);
        return -1;
    }
    /* %u %n %d of mail_location come from the address (':' is not in
     * one), %h was checked above */
    if (!a->storage_set && cfg->mail_location != NULL && cfg->mail_location[0] != '\0' &&
        strchr(a->mail, '%') != NULL) {
        snprintf(why, whysz, "'%%' in the address would change mail_location");
        return -1;
    }
    for (int g = 0; g < 2; g++) {
        unsigned long id = g ? a->gid : a->uid;
        if (!conf_id_valid(cfg, g, id)) {
            snprintf(why, whysz, "%s %lu outside first_valid_%s..last_valid_%s",
                     g ? "gid" : "uid", id, g ? "gid" : "uid", g ? "gid" : "uid");
            return -1;
        }
    }
    if (a->quota > (uint64_t)INT64_MAX) {
        snprintf(why, whysz, "quota of %llu bytes is more than the readers take",
                 (unsigned long long)a->quota);
        return -1;
    }
    return 0;
}

/* addr_normal - s is a valid address in the form the maps key it */
static bool addr_normal(const char *s, const char **why)
{
    struct address addr;

    if (address_parse(s, strlen(s), NULL, &addr, why) < 0)
        return false;
    if (strcmp(addr.full, s) != 0) {
        *why = "not normalised";
        return false;
    }
    return true;
}

/* addr_list_normal - every item a normal address, sorted, unique and not
 * skip */
static bool addr_list_normal(char *const *v, size_t n, const char *skip, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == NULL || !addr_normal(v[i], why))
            return false;
        if ((i > 0 && strcmp(v[i - 1], v[i]) >= 0) || (skip && strcmp(v[i], skip) == 0)) {
            *why = "list not sorted and unique";
            return false;
        }
    }
    return true;
}

/* path_normal - s is what path_clean makes of it */
static bool path_normal(const char *s, const char **why)
{
    char clean[ACCOUNT_PATH_MAX + 1];
    int n = path_clean(s, strlen(s), false, clean, sizeof(clean), why);

    if (n < 0)
        return false;
    if (strcmp(clean, s) != 0) {
        *why = "path not in canonical form";
        return false;
    }
    return true;
}

/* list_has - item s (n bytes) is in the comma separated list[0..len) */
static bool list_has(const char *list, size_t len, const char *s, size_t n)
{
    const char *end = list + len;

    for (const char *p = list; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t il = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (il == n && memcmp(p, s, n) == 0)
            return true;
        p += il + 1;
    }
    return false;
}

/* mailbox_derived - the mailbox account_from_entry gives a without a
 * storage directory (where mail_location puts the mail, or the default)
 * into out; -1 when it gives none */
static int mailbox_derived(const struct conf *cfg, const struct account *a, char *out,
                           size_t outsz)
{
    char base[ACCOUNT_PATH_MAX + 1];
    const char *why;
    int n = mail_base_clean(cfg, base, sizeof(base), &why), rc;

    if (n < 0)
        return -1;
    rc = mailbox_of_location(cfg, base, (size_t)n, a->mail, a->home, out, outsz, &why);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    return account_default_mailbox(a->mail, out, outsz) < 0 ? -1 : 0;
}

/* forward_normal - fw is what map_forward makes: normal addresses joined
 * with ',', each once */
static bool forward_normal(const char *fw, const char **why)
{
    char item[ADDRESS_MAX + 1];
    size_t len = strlen(fw);

    for (const char *p = fw; p <= fw + len;) {
        size_t il = strcspn(p, ",");
        if (il == 0 || il > ADDRESS_MAX || list_has(fw, (size_t)(p - fw), p, il)) {
            *why = il == 0 || il > ADDRESS_MAX ? "empty or overlong address" : "listed twice";
            return false;
        }
        memcpy(item, p, il);
        item[il] = '\0';
        if (!addr_normal(item, why))
            return false;
        p += il + 1;
    }
    return true;
}

/* account_check - every field as account_from_entry makes it, then the
 * trust rules */
int account_check(const struct conf *cfg, const struct account *a, char *why, size_t whysz)
{
    const char *w = NULL, *field = "dn";
    char def[ACCOUNT_PATH_MAX + 1], *norm;
    size_t len;

    if (a->dn == NULL || (norm = account_dn_normalize(a->dn)) == NULL) {
        snprintf(why, whysz, "no dn");
        return -1;
    }
    bool dn_ok = strcmp(norm, a->dn) == 0;
    free(norm);
    if (!dn_ok) {
        w = "not normalised";
        goto bad;
    }
    field = "mail";
    if (a->mail == NULL || !addr_normal(a->mail, &w))
        goto bad;
    field = "home";
    if (a->home == NULL || !path_normal(a->home, &w))
        goto bad;
    if (a->home[0] != '/') {
        w = "not an absolute path";
        goto bad;
    }
    field = "mailbox";
    len = a->mailbox ? strlen(a->mailbox) : 0;
    if (len < 2 || a->mailbox[0] == '/' || a->mailbox[len - 1] != '/') {
        w = "not a relative path ending in '/'";
        goto bad;
    }
    if (len > ACCOUNT_PATH_MAX) {
        w = "path too long";
        goto bad;
    }
    memcpy(def, a->mailbox, len - 1);
    def[len - 1] = '\0';
    if (!path_normal(def, &w))
        goto bad;
    if (!a->storage_set && (mailbox_derived(cfg, a, def, sizeof(def)) < 0 ||
                            strcmp(def, a->mailbox) != 0)) {
        w = "not the default mailbox, yet no storage directory";
        goto bad;
    }
    field = "password";
    if (a->password != NULL &&
        (a->password[0] == '\0' || strpbrk(a->password, "\t\r\n") != NULL)) {
        w = "empty, or TAB, CR or LF in it";
        goto bad;
    }
    field = "aliases";
    if (!addr_list_normal(a->aliases, a->alias_count, a->mail, &w))
        goto bad;
    field = "groups";
    if (!addr_list_normal(a->groups, a->group_count, NULL, &w))
        goto bad;
    field = "forward";
    if (a->forward != NULL && !forward_normal(a->forward, &w))
        goto bad;
    return account_trust_check(cfg, a, why, whysz);
bad:
    snprintf(why, whysz, "bad %s: %s", field, w ? w : "invalid");
    return -1;
}

/* What the per-attribute steps of account_from_entry share: the entry,
 * its attributes by slot, the cleaned mail_base and the parsed address. */
struct mapping {
    const struct conf *cfg;
    const struct entry *e;
    const char *dn;
    const char *name[S_COUNT];
    const struct entry_attr *slot[S_COUNT];
    account_warn_fn *warn;
    void *ctx;
    char base[ACCOUNT_PATH_MAX + 1];
    size_t baselen;
    struct address addr;
};

/* Each step below returns 1 (done), 0 (the entry is skipped: the one
 * warning is given) or -1 (out of memory). */

/* skip_bad - the warning for a bad value v of attribute attr */
static int skip_bad(const struct mapping *m, const char *attr, const struct entry_value *v,
                    const char *why)
{
    char q[ACCOUNT_QUOTE_SIZE];

    account_quote(v->data, v->len, q, sizeof(q));
    account_warnf(m->warn, m->ctx, m->dn, "skipped: bad %s \"%s\": %s", attr, q, why);
    return 0;
}

/* single_of - single() for the attribute of slot k, warning when it has
 * several values: 1 with *v_r, 0 absent, -1 several (warned) */
static int single_of(const struct mapping *m, enum slot k, const struct entry_value **v_r)
{
    int rc = single(m->slot[k], v_r);

    if (rc < 0)
        account_warnf(m->warn, m->ctx, m->dn, "skipped: several values of %s", m->name[k]);
    return rc;
}

/* values_safe - one check up front, so no rule below has to think about
 * TAB, newline, CR or NUL */
static int values_safe(const struct mapping *m)
{
    for (int k = 0; k < S_COUNT; k++) {
        const struct entry_attr *at = m->slot[k];
        if (at == NULL)
            continue;
        for (size_t i = 0; i < at->count; i++) {
            if (value_unsafe(&at->values[i])) {
                account_warnf(m->warn, m->ctx, m->dn,
                      "skipped: %s holds a TAB, newline, CR or NUL", m->name[k]);
                return 0;
            }
        }
    }
    return 1;
}

/* map_mail - mail: the account's identity, parsed into m->addr */
static int map_mail(struct mapping *m)
{
    const struct entry_attr *at = m->slot[S_MAIL];
    const char *attr = m->cfg->attr.mail, *why = NULL;
    const struct entry_value *v;

    if (at == NULL) {
        account_warnf(m->warn, m->ctx, m->dn, "skipped: no %s", attr ? attr : "mail");
        return 0;
    }
    if (at->count != 1) {
        account_warnf(m->warn, m->ctx, m->dn, "skipped: %zu values of %s, want one", at->count,
              attr);
        return 0;
    }
    v = &at->values[0];
    /* address_parse checks the domain with address_domain_valid */
    if (address_parse(v->data, v->len, NULL, &m->addr, &why) < 0)
        return skip_bad(m, attr, v, why ? why : "invalid address");
    if (!local_part_safe(m->addr.full, &why))
        return skip_bad(m, attr, v, why);
    return 1;
}

/* map_home - home: the attribute, or made from the address */
static int map_home(const struct mapping *m, struct account *a)
{
    char path[ACCOUNT_PATH_MAX + 1];
    const struct entry_value *v;
    const char *why = NULL;
    int rc = single_of(m, S_HOME, &v);

    if (rc < 0)
        return 0;
    if (rc > 0) {
        if (path_clean(v->data, v->len, false, path, sizeof(path), &why) < 0 ||
            (path[0] != '/' && (why = "not an absolute path") != NULL))
            return skip_bad(m, m->cfg->attr.home, v, why);
    } else {
        char raw[ACCOUNT_PATH_MAX + 1];
        int n = home_default(m->base, m->baselen, m->addr.full, raw, sizeof(raw));
        if (n < 0 || path_clean(raw, (size_t)n, true, path, sizeof(path), &why) < 0) {
            account_warnf(m->warn, m->ctx, m->dn, "skipped: %s makes an unusable home: %s",
                  m->addr.full, n < 0 ? "too long" : why);
            return 0;
        }
    }
    return (a->home = strdup(path)) == NULL ? -1 : 1;
}

/* map_mailbox - the mailbox: the storage attribute, where mail_location
 * puts the mail, or the default */
static int map_mailbox(const struct mapping *m, struct account *a)
{
    char path[ACCOUNT_PATH_MAX + 1];
    const struct entry_value *v;
    const char *why = NULL;
    int rc = single_of(m, S_STORAGE, &v);

    if (rc < 0)
        return 0;
    if (rc > 0) {
        if (mailbox_from_storage(v, m->base, m->baselen, path, sizeof(path), &why) < 0 ||
            (!mailbox_safe(path) && (why = "':' or '%' in path") != NULL))
            return skip_bad(m, m->cfg->attr.storage, v, why);
        a->storage_set = true;
    } else if ((rc = mailbox_of_location(m->cfg, m->base, m->baselen, m->addr.full, a->home,
                                         path, sizeof(path), &why)) != 0) {
        if (rc < 0) {
            account_warnf(m->warn, m->ctx, m->dn,
                          "skipped: mail_location puts the mail of %s in an unusable place: %s",
                          m->addr.full, why);
            return 0;
        }
    } else {
        char raw[ACCOUNT_PATH_MAX + 1];
        int n = account_default_mailbox(m->addr.full, raw, sizeof(raw)), len = -1;
        /* the local part comes from the directory too: same checks */
        if (n < 0 ||
            (len = path_clean(raw, (size_t)n, true, path, sizeof(path) - 1, &why)) < 0 ||
            (!mailbox_safe(path) && (why = "':' or '%' in path") != NULL)) {
            account_warnf(m->warn, m->ctx, m->dn, "skipped: %s makes an unusable mailbox path: %s",
                  m->addr.full, n < 0 ? "too long" : why);
            return 0;
        }
        path[len] = '/';
        path[len + 1] = '\0';
    }
    return (a->mailbox = strdup(path)) == NULL ? -1 : 1;
}

/* map_id - uid or gid (slot k) into *id_r, which holds the default */
static int map_id(const struct mapping *m, enum slot k, uint32_t *id_r)
{
    const struct entry_value *v;
    const char *why = "invalid";
    int rc = single_of(m, k, &v);

    if (rc < 0)
        return 0;
    if (rc > 0 && id_parse(v, id_r, &why) < 0)
        return skip_bad(m, m->name[k], v, why ? why : "invalid");
    return 1;
}

/* map_quota - a bare number in ldap_quota_unit (kilobytes by default, as
 * the Postfix Book schema has it; a conf made by hand without the field
 * means that too), or with a unit */
static int map_quota(const struct mapping *m, struct account *a)
{
    const struct entry_value *v;
    const char *why = "too long";
    char buf[64];
    int rc = single_of(m, S_QUOTA, &v);

    a->quota = m->cfg->default_quota;
    if (rc < 0)
        return 0;
    if (rc > 0 && (!value_copy(v, buf, sizeof(buf)) ||
                   units_size_parse(buf, m->cfg->ldap_quota_unit, &a->quota, &why) < 0))
        return skip_bad(m, m->cfg->attr.quota, v, why ? why : "invalid");
    return 1;
}

/* map_password - the first value (userPassword is multi-valued); an empty
 * one is no password at all, so it can never match */
static int map_password(const struct mapping *m, struct account *a)
{
    const struct entry_attr *at = m->slot[S_PASSWORD];

    if (at != NULL && at->values[0].len > 0) {
        a->password = strndup(at->values[0].data, at->values[0].len);
        if (a->password == NULL)
            return -1;
    }
    return 1;
}

/* gated - the attribute of slot k, unless gate (parsed ldap_alias_filter
 * or ldap_forward_filter) is set and the entry does not match it */
static const struct entry_attr *gated(const struct mapping *m, enum slot k,
                                      const struct ldapsyntax_filter *gate)
{
    if (m->slot[k] == NULL || gate == NULL || ldapsyntax_filter_match(gate, m->e))
        return m->slot[k];
    return NULL;
}

/* map_forward - the forwarding addresses, normalised, in the entry's
 * order, each once, joined with ',' (an address holds none); a bad value
 * is dropped with a warning. 1, or -1 when out of memory. */
static int map_forward(const struct mapping *m, struct account *a)
{
    const struct entry_attr *at = gated(m, S_FORWARD, m->cfg->forward_gate);
    size_t cap = 0, len = 0;

    for (size_t i = 0; at != NULL && i < at->count; i++)
        cap += at->values[i].len + 1;
    if (cap == 0 || (a->forward = malloc(cap)) == NULL)
        return cap == 0 ? 1 : -1;
    for (size_t i = 0; i < at->count; i++) {
        struct address addr;

        if (!value_address(&at->values[i], m->name[S_FORWARD], m->dn, m->warn, m->ctx, &addr))
            continue;
        size_t n = strlen(addr.full);
        if (list_has(a->forward, len, addr.full, n))
            continue;
        if (len > 0)
            a->forward[len++] = ',';
        memcpy(a->forward + len, addr.full, n);
        len += n;
    }
    a->forward[len] = '\0';
    if (len == 0) {
        free(a->forward);
        a->forward = NULL;
    }
    return 1;
}

/* map_rest - mail, aliases (if the entry passes ldap_alias_filter),
 * groups, forwards and DN, then the trust rules */
static int map_rest(const struct mapping *m, struct account *a)
{
    char why[ACCOUNT_MSG_MAX - 16];

    if ((a->mail = strdup(m->addr.full)) == NULL)
        return -1;
    if (addr_list(gated(m, S_ALIAS, m->cfg->alias_gate), m->cfg->attr.alias, a->mail, m->dn,
                  m->warn, m->ctx, &a->aliases, &a->alias_count) < 0 ||
        map_forward(m, a) < 0 ||
        addr_list(m->slot[S_GROUP], m->cfg->attr.group, NULL, m->dn, m->warn, m->ctx,
                  &a->groups, &a->group_count) < 0)
        return -1;
    if ((a->dn = account_dn_normalize(m->dn)) == NULL)
        return -1;
    if (account_trust_check(m->cfg, a, why, sizeof(why)) < 0) {
        account_warnf(m->warn, m->ctx, m->dn, "skipped: %s", why);
        return 0;
    }
    return 1;
}

/* account_from_entry - the mapping of one entry, attribute by attribute
 * in the order their warnings have priority */
int account_from_entry(const struct conf *cfg, const struct entry *e,
                       struct account *a, account_warn_fn *warn, void *ctx,
                       char *err, size_t errsz)
{
    struct mapping m = { .cfg = cfg, .e = e, .dn = e->dn ? e->dn : "", .warn = warn,
                         .ctx = ctx };
    int rc;

    account_free(a);
    if ((rc = mail_base_get(cfg, m.base, sizeof(m.base), err, errsz)) < 0)
        return -1;
    m.baselen = (size_t)rc;
    slot_names(cfg, m.name);
    attrs_classify(e, m.name, m.slot);

    a->uid = cfg->default_uid;
    a->gid = cfg->default_gid;
    if ((rc = values_safe(&m)) > 0 && (rc = map_mail(&m)) > 0 &&
        (rc = map_home(&m, a)) > 0 && (rc = map_mailbox(&m, a)) > 0 &&
        (rc = map_id(&m, S_UID, &a->uid)) > 0 && (rc = map_id(&m, S_GID, &a->gid)) > 0 &&
        (rc = map_quota(&m, a)) > 0 && (rc = map_password(&m, a)) > 0)
        rc = map_rest(&m, a);
    if (rc < 0)
        snprintf(err, errsz, "out of memory");
    if (rc <= 0)
        account_free(a);
    return rc;
}

/* The longest mail field: longer is a configuration or directory error. */
#define MAIL_FIELD_MAX (2 * ACCOUNT_PATH_MAX)

/* u64_put - v in decimal at o; returns the end (no NUL). The per-account
 * hot path of a sync, so no snprintf. */
static char *u64_put(char *o, uint64_t v)
{
    char digits[24];
    size_t n = 0;

    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *o++ = digits[--n];
    return o;
}

/* lit_put - a string literal at o */
#define lit_put(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* account_userrec_ctx_free - release what init made */
void account_userrec_ctx_free(struct account_userrec_ctx *ctx)
{
    free(ctx->mem);
    memset(ctx, 0, sizeof(*ctx));
}

/* account_userrec_ctx_init - the cleaned mail_base and the encoded
 * "\tquota_ruleN=…" fields, the same for every account */
int account_userrec_ctx_init(struct account_userrec_ctx *ctx, const struct conf *cfg,
                             char *err, size_t errsz)
{
    char base[ACCOUNT_PATH_MAX + 1], rule[512];
    const char *why;
    size_t nrules = cfg->quota_rules.count, cap, o;
    int n;

    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = cfg;
    if ((n = mail_base_clean(cfg, base, sizeof(base), &why)) < 0) {
        /* reported by every account_userrec_encode call */
        ctx->base_why = why;
        n = 0;
        base[0] = '\0';
    }
    if (nrules > QUOTA_RULES_MAX) {
        ctx->bad_rule = QUOTA_RULES_MAX + 1;
        nrules = QUOTA_RULES_MAX;
    }
    /* per rule: "\tquota_rule" + up to 20 digits + "=" + twice the value */
    cap = (size_t)n + 1 + nrules * (12 + 20 + 1 + 2 * sizeof(rule));
    if ((ctx->mem = malloc(cap)) == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    memcpy(ctx->mem, base, (size_t)n + 1);
    ctx->base = ctx->mem;
    ctx->base_len = (size_t)n;
    o = (size_t)n + 1;
    ctx->rules = ctx->mem + o;
    for (size_t i = 0; i < nrules; i++) {
        if (quota_rule_format(&cfg->quota_rules.rule[i], rule, sizeof(rule)) < 0) {
            ctx->bad_rule = i + 1;
            break;
        }
        char *p = lit_put(ctx->mem + o, "\tquota_rule");
        p = u64_put(p, i + 2);
        *p++ = '=';
        p = userrec_value_put(p, rule);
        o = (size_t)(p - ctx->mem);
    }
    ctx->rules_len = o - (size_t)(ctx->rules - ctx->mem);
    return 0;
}

/* mail_location_expand - Dovecot's %u %n %d %h %% in tpl[0..len); other
 * %-sequences are left for Dovecot */
static void mail_location_expand(struct sbuf *sb, const char *tpl, size_t len, const char *mail,
                                 const char *home)
{
    const char *domain, *end = tpl + len;
    size_t local_len;

    mail_split(mail, &local_len, &domain);
    for (const char *p = tpl; p < end; p++) {
        if (*p != '%' || p + 1 == end) {
            sbuf_add(sb, p, 1);
            continue;
        }
        switch (p[1]) {
        case 'u': sbuf_str(sb, mail); break;
        case 'n': sbuf_add(sb, mail, local_len); break;
        case 'd': sbuf_str(sb, domain); break;
        case 'h': sbuf_str(sb, home); break;
        case '%': sbuf_add(sb, "%", 1); break;
        default: sbuf_add(sb, p, 2); break;
        }
        p++;
    }
}

/* account_userrec_home - the default home from the cleaned base */
int account_userrec_home(const struct account_userrec_ctx *ctx, const char *mail, char *buf,
                         size_t bufsz)
{
    if (ctx->base_why != NULL)
        return -1;
    return home_default(ctx->base, ctx->base_len, mail, buf, bufsz);
}

/* account_userrec_encode - the users.cdb value, written in one pass */
long account_userrec_encode(const struct account_userrec_ctx *ctx, const struct account *a,
                          char **buf, size_t *bufsz, char *err, size_t errsz)
{
    const struct conf *cfg = ctx->cfg;
    char mail[MAIL_FIELD_MAX + 1];
    struct sbuf mf = { .p = mail, .limit = MAIL_FIELD_MAX };
    size_t homelen, pwlen = 0, need;
    char *o;

    /* the errors in the order account.h promises */
    if (ctx->base_why != NULL) {
        snprintf(err, errsz, "mail_base: %s", ctx->base_why);
        return -1;
    }
    if (a->home == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    if (a->storage_set || cfg->mail_location == NULL || cfg->mail_location[0] == '\0') {
        size_t len = strlen(a->mailbox);
        sbuf_add(&mf, "maildir:", 8);
        sbuf_add(&mf, ctx->base, ctx->base_len);
        sbuf_add(&mf, "/", 1);
        sbuf_add(&mf, a->mailbox, len > 0 && a->mailbox[len - 1] == '/' ? len - 1 : len);
    } else {
        mail_location_expand(&mf, cfg->mail_location, strlen(cfg->mail_location), a->mail,
                             a->home);
    }
    mail[mf.len] = '\0';
    if (mf.failed) {
        snprintf(err, errsz, "%s: mail field too long or out of memory", a->mail);
        return -1;
    }
    if (ctx->bad_rule != 0) {
        snprintf(err, errsz, "quota_rules: rule %zu cannot be formatted", ctx->bad_rule);
        return -1;
    }

    /* room for the worst case: every value byte escaped */
    homelen = strlen(a->home);
    if (a->password != NULL)
        pwlen = strlen(a->password);
    need = sizeof("home=") + 2 * homelen + 2 * sizeof("\tuid=4294967295") +
           sizeof("\tmail=") + 2 * mf.len +
           sizeof("\tquota_rule=*:storage=18446744073709551615B") + ctx->rules_len +
           sizeof("\tpassword=") + 2 * pwlen;
    if (need > *bufsz) {
        size_t cap = need < 512 ? 512 : need;
        char *p = realloc(*buf, cap);
        if (p == NULL) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
        *buf = p;
        *bufsz = cap;
    }

    o = lit_put(*buf, "home=");
    o = userrec_value_put(o, a->home);
    o = lit_put(o, "\tuid=");
    o = u64_put(o, a->uid);
    o = lit_put(o, "\tgid=");
    o = u64_put(o, a->gid);
    o = lit_put(o, "\tmail=");
    o = userrec_value_put(o, mail);
    /* Dovecot reads "0" as unlimited; a byte count needs its "B" */
    o = lit_put(o, "\tquota_rule=*:storage=");
    o = u64_put(o, a->quota);
    if (a->quota != 0)
        *o++ = 'B';
    memcpy(o, ctx->rules, ctx->rules_len);
    o += ctx->rules_len;
    if (a->password != NULL) {
        o = lit_put(o, "\tpassword=");
        o = userrec_value_put(o, a->password);
    }
    *o = '\0';
    return (long)(o - *buf);
}

/* account_mailbox_of - the mapping of an entry that gives only mail */
int account_mailbox_of(const struct conf *cfg, const char *mail, char *buf, size_t bufsz)
{
    struct entry_value v = { mail, strlen(mail) };
    struct entry_attr at = { cfg->attr.mail, 1, &v };
    struct entry e = { .dn = "", .attr_count = 1, .attrs = &at };
    struct account a;
    char err[256];
    int n = -1;

    account_init(&a);
    if (account_from_entry(cfg, &e, &a, NULL, NULL, err, sizeof(err)) == 1)
        n = snprintf(buf, bufsz, "%s", a.mailbox);
    account_free(&a);
    return n >= 0 && (size_t)n < bufsz ? n : -1;
}

/* account_mailbox_template - account_mailbox_of as a template */
int account_mailbox_template(const struct conf *cfg, char *buf, size_t bufsz)
{
    static const char local[] = "mmlocal", domain[] = "mmdomain.invalid";
    char mb[ACCOUNT_PATH_MAX + 1], mail[sizeof(local) + sizeof(domain)];
    size_t o = 0;
    bool has_local = false, has_domain = false;

    snprintf(mail, sizeof(mail), "%s@%s", local, domain);
    if (account_mailbox_of(cfg, mail, mb, sizeof(mb)) < 0)
        return -1;
    for (char *c = mb; *c != '\0';) {
        size_t n = strcspn(c, "/");
        const char *put = NULL;
        if (n == strlen(mail) && strncmp(c, mail, n) == 0)
            put = "%U@%D", has_local = has_domain = true;
        else if (n == strlen(local) && strncmp(c, local, n) == 0)
            put = "%U", has_local = true;
        else if (n == strlen(domain) && strncmp(c, domain, n) == 0)
            put = "%D", has_domain = true;
        else if (memmem(c, n, local, strlen(local)) != NULL ||
                 memmem(c, n, domain, strlen(domain)) != NULL)
            return 0;   /* the address inside a component: not one per address */
        int w = put != NULL ? snprintf(buf + o, bufsz - o, "%s%s", put, c[n] ? "/" : "")
                            : snprintf(buf + o, bufsz - o, "%.*s%s", (int)n, c, c[n] ? "/" : "");
        if (w < 0 || (size_t)w >= bufsz - o)
            return -1;
        o += (size_t)w;
        c += n + (c[n] != '\0');
    }
    return has_local && has_domain ? (int)o : 0;
}
