/* ldapdir - the directory: failover connect, bind, paged and key searches */

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <lber.h>
#include <ldap.h>

#include "maps/ldapdir.h"
#include "maps/ldapsyntax.h"

/* Why a connection is dropped after a failed operation. */
enum ldapdir_lost {
    LDAPDIR_KEEP,      /* the connection is still good */
    LDAPDIR_DROP,      /* unusable now (timeout, protocol confusion) */
    LDAPDIR_DOWN,      /* the server is gone: worth one reconnect */
};

struct ldapdir {
    const struct conf *cfg;
    LDAP *ld;
    char uri[512];                       /* current or last connection */
    char *filter;                        /* ldap_filter, parenthesised */
    char *attrs[LDAPDIR_ATTR_MAX + 1];   /* point into cfg */
    char *dfilter;                       /* ldap_domain_filter, or NULL */
    char *fnames[LDAPDIR_FILTER_ATTR_MAX];  /* attributes the alias and */
    size_t fnames_count;                 /* forward filters test (malloc'ed) */
    char *dattrs[LDAPDIR_DOMAIN_ATTR_MAX + 1];  /* point into cfg */
    unsigned timeout;                    /* seconds, >= 1 */
    int page_size;
    size_t count;                        /* entries of the last search */

    /* Scratch space for one entry, reused from entry to entry. */
    size_t acap;
    struct entry_attr *eattrs;
    size_t vcap;
    struct entry_value *evals;
    char uuid[64];
};

/* One search to run. */
struct ldapdir_search {
    const char *filter;
    size_t max;                /* entries allowed, 0 = any number */
    bool bulk;                 /* the whole directory: batch reads */
    int timelimit;             /* server-side seconds per request, 0 = none */
    int page;                  /* page size, 0 = ldap_page_size */
    char **attrs;              /* NULL = the account attributes */
    ldapdir_entry_fn *cb;
    void *ctx;
};

/* ldapdir_sanitize - control characters (from server diagnostics) become
 * '?' so that a reason is always one printable line */
static void ldapdir_sanitize(char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            *s = '?';
    }
}

/* ldapdir_errf - format a reason into err; returns -1 */
__attribute__((format(printf, 3, 4)))
static int ldapdir_errf(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errsz == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    ldapdir_sanitize(err);
    return -1;
}

/* ldapdir_errcat - append to the reason already in err */
__attribute__((format(printf, 3, 4)))
static void ldapdir_errcat(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    size_t used;
    if (err == NULL || errsz == 0)
        return;
    used = strnlen(err, errsz);
    if (used >= errsz - 1)
        return;
    va_start(ap, fmt);
    vsnprintf(err + used, errsz - used, fmt, ap);
    va_end(ap);
    ldapdir_sanitize(err + used);
}

/* ldapdir_diag - the server's diagnostic message for the last operation
 * on ld, as " (text)", or "" */
static void ldapdir_diag(LDAP *ld, char *buf, size_t bufsz)
{
    char *msg = NULL;
    buf[0] = '\0';
    if (ld != NULL && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS
        && msg != NULL && msg[0] != '\0')
        snprintf(buf, bufsz, " (%.200s)", msg);
    ldap_memfree(msg);
}

/* ldapdir_result_code - the result code of the last operation on ld */
static int ldapdir_result_code(LDAP *ld)
{
    int rc = LDAP_OTHER;
    if (ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS)
        rc = LDAP_OTHER;
    return rc;
}

/* ldapdir_is_down - result codes that mean the connection is gone */
static bool ldapdir_is_down(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

/* ldapdir_attr_add - name into list[0..*n) unless empty or there already
 * (attribute names compare without case: asking twice is noise) */
static void ldapdir_attr_add(const char **list, size_t *n, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return;
    for (size_t j = 0; j < *n; j++)
        if (strcasecmp(list[j], name) == 0)
            return;
    list[(*n)++] = name;
}

/* ldapdir_attr_list - the attributes a search requests */
size_t ldapdir_attr_list(const struct conf *cfg, const char *list[LDAPDIR_ATTR_MAX + 1])
{
    const char *want[] = {
        cfg->attr.mail, cfg->attr.alias, cfg->attr.group, cfg->attr.home,
        cfg->attr.storage, cfg->attr.uid, cfg->attr.gid, cfg->attr.quota,
        cfg->attr.password, cfg->ldap_attr_forward,
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ldapdir_attr_add(list, &n, want[i]);
    ldapdir_attr_add(list, &n, "entryUUID");
    list[n] = NULL;
    return n;
}

/* ldapdir_filter_norm - filter f (the setting name) as one parenthesised
 * filter, malloc'ed; NULL with a reason when it is not one balanced
 * expression (composing it into the key filter must not change its
 * meaning) */
static char *ldapdir_filter_norm(const char *f, const char *name, char *err, size_t errsz)
{
    size_t len;
    char *out, why[256];
    if (f == NULL || f[0] == '\0')
        f = "(objectClass=*)";
    len = strlen(f);
    if (len > 65536) {
        ldapdir_errf(err, errsz, "%s is too long", name);
        return NULL;
    }
    out = malloc(len + 3);
    if (out == NULL) {
        ldapdir_errf(err, errsz, "out of memory");
        return NULL;
    }
    /* A bare "objectClass=x" is wrapped, as ldapsearch does. */
    if (f[0] != '(')
        snprintf(out, len + 3, "(%s)", f);
    else
        memcpy(out, f, len + 1);
    if (ldapsyntax_filter_check(out, false, why, sizeof(why)) < 0) {
        ldapdir_errf(err, errsz, "%s: %s", name, why);
        free(out);
        return NULL;
    }
    return out;
}

/* ldapdir_filter_parts - filter f (setting name) normalised into *base_r
 * and value[0..len) escaped into *esc_r, both malloc'ed; -1 with a reason */
static int ldapdir_filter_parts(const char *f, const char *name, const char *value, size_t len,
                                char **base_r, char **esc_r, char *err, size_t errsz)
{
    *esc_r = NULL;
    *base_r = ldapdir_filter_norm(f, name, err, errsz);
    if (*base_r == NULL)
        return -1;
    if ((*esc_r = malloc(3 * len + 1)) == NULL) {
        free(*base_r);
        *base_r = NULL;
        return ldapdir_errf(err, errsz, "out of memory");
    }
    ldapsyntax_escape(value, len, *esc_r, 3 * len + 1);
    return 0;
}

/* ldapdir_key_filter - the filter of a key search */
char *ldapdir_key_filter(const struct conf *cfg, const char *address, size_t len,
                         char *err, size_t errsz)
{
    const char *names[3] = { cfg->attr.mail, cfg->attr.alias, cfg->attr.group };
    char *base, *esc = NULL, *out = NULL, *afilter = NULL;
    size_t esclen, need, o;

    if (address == NULL && len > 0) {
        ldapdir_errf(err, errsz, "no address");
        return NULL;
    }
    if (cfg->attr.mail == NULL || cfg->attr.mail[0] == '\0') {
        ldapdir_errf(err, errsz, "ldap_attr_mail is empty");
        return NULL;
    }
    for (size_t i = 0; i < 3; i++) {
        if (names[i] != NULL && names[i][0] != '\0' && !ldapsyntax_attr_valid(names[i])) {
            ldapdir_errf(err, errsz, "not an attribute name: %.100s", names[i]);
            return NULL;
        }
    }
    if (len > LDAPDIR_KEY_LEN_MAX) {
        ldapdir_errf(err, errsz, "address longer than %d bytes", LDAPDIR_KEY_LEN_MAX);
        return NULL;
    }
    base = ldapdir_filter_norm(cfg->ldap_filter, "ldap_filter", err, errsz);
    if (base == NULL)
        return NULL;
    if (names[1] != NULL && names[1][0] != '\0' && cfg->ldap_alias_filter != NULL &&
        cfg->ldap_alias_filter[0] != '\0') {
        /* an alias counts only on an entry the alias filter admits */
        afilter = ldapdir_filter_norm(cfg->ldap_alias_filter, "ldap_alias_filter", err, errsz);
        if (afilter == NULL)
            goto fail;
    }
    esc = malloc(3 * len + 1);
    if (esc == NULL)
        goto nomem;
    esclen = (size_t)ldapsyntax_escape(address, len, esc, 3 * len + 1);

    /* "(&" base "(|" n * ("(" name "=" esc ")") "))" */
    need = 2 + strlen(base) + 2 + 2 + 1 + (afilter != NULL ? strlen(afilter) + 3 : 0);
    for (size_t i = 0; i < 3; i++)
        if (names[i] != NULL && names[i][0] != '\0')
            need += 3 + strlen(names[i]) + esclen;
    out = malloc(need);
    if (out == NULL)
        goto nomem;
    o = (size_t)snprintf(out, need, "(&%s(|", base);
    for (size_t i = 0; i < 3; i++) {
        if (names[i] == NULL || names[i][0] == '\0')
            continue;
        if (i == 1 && afilter != NULL)
            o += (size_t)snprintf(out + o, need - o, "(&%s(%s=%s))", afilter, names[i], esc);
        else
            o += (size_t)snprintf(out + o, need - o, "(%s=%s)", names[i], esc);
    }
    snprintf(out + o, need - o, "))");
    free(base);
    free(afilter);
    free(esc);
    return out;

nomem:
    ldapdir_errf(err, errsz, "out of memory");
fail:
    free(base);
    free(afilter);
    free(esc);
    return NULL;
}

/* ldapdir_domain_name_filter - the filter of a domain entry search */
char *ldapdir_domain_name_filter(const struct conf *cfg, const char *domain, size_t len,
                                 char *err, size_t errsz)
{
    const char *dom = cfg->ldap_attr_domain, *alias = cfg->ldap_attr_domain_alias;
    char *base, *esc, *out;
    size_t need;

    if (cfg->ldap_domain_filter == NULL || cfg->ldap_domain_filter[0] == '\0') {
        ldapdir_errf(err, errsz, "ldap_domain_filter is empty");
        return NULL;
    }
    if (domain == NULL || len == 0 || len > LDAPDIR_KEY_LEN_MAX) {
        ldapdir_errf(err, errsz, "no domain, or one longer than %d bytes", LDAPDIR_KEY_LEN_MAX);
        return NULL;
    }
    if (dom == NULL || !ldapsyntax_attr_valid(dom) ||
        (alias != NULL && alias[0] != '\0' && !ldapsyntax_attr_valid(alias))) {
        ldapdir_errf(err, errsz, "ldap_attr_domain or ldap_attr_domain_alias is not an"
                     " attribute name");
        return NULL;
    }
    if (ldapdir_filter_parts(cfg->ldap_domain_filter, "ldap_domain_filter", domain, len, &base,
                             &esc, err, errsz) < 0)
        return NULL;
    need = strlen(base) + strlen(dom) + (alias != NULL ? strlen(alias) : 0) + 2 * strlen(esc)
           + 16;
    if ((out = malloc(need)) == NULL)
        ldapdir_errf(err, errsz, "out of memory");
    else if (alias != NULL && alias[0] != '\0')
        snprintf(out, need, "(&%s(|(%s=%s)(%s=%s)))", base, dom, esc, alias, esc);
    else
        snprintf(out, need, "(&%s(%s=%s))", base, dom, esc);
    free(base);
    free(esc);
    return out;
}

/* ldapdir_domain_filter - the filter of a domain search */
char *ldapdir_domain_filter(const struct conf *cfg, const char *domain, size_t len,
                            char *err, size_t errsz)
{
    char *base, *esc, *out;
    size_t need;

    if (domain == NULL || len == 0 || len > LDAPDIR_KEY_LEN_MAX) {
        ldapdir_errf(err, errsz, "no domain, or one longer than %d bytes", LDAPDIR_KEY_LEN_MAX);
        return NULL;
    }
    if (cfg->attr.mail == NULL || !ldapsyntax_attr_valid(cfg->attr.mail)) {
        ldapdir_errf(err, errsz, "ldap_attr_mail is not an attribute name");
        return NULL;
    }
    if (ldapdir_filter_parts(cfg->ldap_filter, "ldap_filter", domain, len, &base, &esc, err,
                             errsz) < 0)
        return NULL;
    need = strlen(base) + strlen(cfg->attr.mail) + strlen(esc) + 16;
    if ((out = malloc(need)) == NULL)
        ldapdir_errf(err, errsz, "out of memory");
    else
        snprintf(out, need, "(&%s(%s=*@%s))", base, cfg->attr.mail, esc);
    free(base);
    free(esc);
    return out;
}

/* ldapdir_filter_attrs - the attribute names filter f (setting name)
 * tests, into list (copies kept in dir); -1 with a reason when f does not
 * parse or they do not fit */
static int ldapdir_filter_attrs(struct ldapdir *dir, const char *f, const char *name,
                                const char **list, size_t *n, char *err, size_t errsz)
{
    struct ldapsyntax_filter *pf;
    char why[256];
    int r = 0;

    if (f == NULL || f[0] == '\0')
        return 0;
    if ((pf = ldapsyntax_filter_parse(f, true, why, sizeof(why))) == NULL)
        return ldapdir_errf(err, errsz, "%s: %s", name, why);
    for (size_t i = 0; i < ldapsyntax_filter_attr_count(pf) && r == 0; i++) {
        const char *a = ldapsyntax_filter_attr(pf, i);
        size_t before = *n;
        if (*n >= LDAPDIR_ATTR_MAX || dir->fnames_count >= LDAPDIR_FILTER_ATTR_MAX) {
            r = ldapdir_errf(err, errsz, "ldap_alias_filter and ldap_forward_filter test more"
                             " than %d attributes", LDAPDIR_FILTER_ATTR_MAX);
        } else if ((dir->fnames[dir->fnames_count] = strdup(a)) == NULL) {
            r = ldapdir_errf(err, errsz, "out of memory");
        } else {
            ldapdir_attr_add(list, n, dir->fnames[dir->fnames_count]);
            if (*n > before)
                dir->fnames_count++;
            else
                free(dir->fnames[dir->fnames_count]);
        }
    }
    ldapsyntax_filter_free(pf);
    return r;
}

/* ldapdir_attrs_setup - dir's attribute lists: ldapdir_attr_list plus the
 * attributes the alias and forward filters test (mailmaps evaluates those
 * filters on the entry, so the entry must carry them), and the domain
 * search's list; 0, or -1 with a reason */
static int ldapdir_attrs_setup(struct ldapdir *dir, char *err, size_t errsz)
{
    const struct conf *cfg = dir->cfg;
    const char *list[LDAPDIR_ATTR_MAX + 1];
    size_t n = ldapdir_attr_list(cfg, list);

    for (size_t i = 0; i < n; i++)
        if (!ldapsyntax_attr_valid(list[i]))
            return ldapdir_errf(err, errsz, "not an attribute name: %.100s", list[i]);
    if (ldapdir_filter_attrs(dir, cfg->ldap_alias_filter, "ldap_alias_filter", list, &n, err,
                             errsz) < 0 ||
        ldapdir_filter_attrs(dir, cfg->ldap_forward_filter, "ldap_forward_filter", list, &n,
                             err, errsz) < 0)
        return -1;
    list[n] = NULL;
    for (size_t i = 0; i <= n; i++)
        dir->attrs[i] = (char *)list[i];  /* libldap takes char ** but only reads */
    if (cfg->ldap_domain_filter == NULL || cfg->ldap_domain_filter[0] == '\0')
        return 0;
    n = 0;
    ldapdir_attr_add(list, &n, cfg->ldap_attr_domain);
    ldapdir_attr_add(list, &n, cfg->ldap_attr_domain_alias);
    for (size_t i = 0; i < n; i++)
        if (!ldapsyntax_attr_valid(list[i]))
            return ldapdir_errf(err, errsz, "not an attribute name: %.100s", list[i]);
    if (n == 0)
        return ldapdir_errf(err, errsz, "ldap_attr_domain is empty");
    ldapdir_attr_add(list, &n, "entryUUID");
    for (size_t i = 0; i < n; i++)
        dir->dattrs[i] = (char *)list[i];
    dir->dattrs[n] = NULL;
    dir->dfilter = ldapdir_filter_norm(cfg->ldap_domain_filter, "ldap_domain_filter", err, errsz);
    return dir->dfilter != NULL ? 0 : -1;
}

/* ldapdir_open - a handle; no connection yet */
struct ldapdir *ldapdir_open(const struct conf *cfg, char *err, size_t errsz)
{
    struct ldapdir *dir;

    if (cfg == NULL) {
        ldapdir_errf(err, errsz, "no configuration");
        return NULL;
    }
    if (cfg->ldap_uri_count == 0) {
        ldapdir_errf(err, errsz, "ldap_uri: no URI");
        return NULL;
    }
    if (cfg->ldap_base == NULL || cfg->ldap_base[0] == '\0') {
        ldapdir_errf(err, errsz, "ldap_base is empty");
        return NULL;
    }
    if (cfg->ldap_bind_dn != NULL && cfg->ldap_bind_dn[0] != '\0'
        && (cfg->ldap_bind_pw_file == NULL || cfg->ldap_bind_pw_file[0] == '\0')) {
        ldapdir_errf(err, errsz, "ldap_bind_dn is set but ldap_bind_pw_file is not");
        return NULL;
    }
    if (cfg->attr.mail == NULL || cfg->attr.mail[0] == '\0') {
        ldapdir_errf(err, errsz, "ldap_attr_mail is empty");
        return NULL;
    }
    dir = calloc(1, sizeof(*dir));
    if (dir == NULL) {
        ldapdir_errf(err, errsz, "out of memory");
        return NULL;
    }
    dir->cfg = cfg;
    dir->filter = ldapdir_filter_norm(cfg->ldap_filter, "ldap_filter", err, errsz);
    if (dir->filter == NULL || ldapdir_attrs_setup(dir, err, errsz) < 0) {
        ldapdir_close(dir);
        return NULL;
    }
    dir->timeout = cfg->ldap_timeout == 0 ? 1 : cfg->ldap_timeout;
    if (dir->timeout > 86400)
        dir->timeout = 86400;
    dir->page_size = cfg->ldap_page_size == 0 ? 1000
                   : cfg->ldap_page_size > (unsigned)INT_MAX ? INT_MAX
                   : (int)cfg->ldap_page_size;
    return dir;
}

/* ldapdir_disconnect - drop the connection */
void ldapdir_disconnect(struct ldapdir *dir)
{
    if (dir == NULL || dir->ld == NULL)
        return;
    ldap_unbind_ext(dir->ld, NULL, NULL);
    dir->ld = NULL;
}

/* ldapdir_close - unbind and free */
void ldapdir_close(struct ldapdir *dir)
{
    if (dir == NULL)
        return;
    ldapdir_disconnect(dir);
    free(dir->filter);
    free(dir->dfilter);
    for (size_t i = 0; i < dir->fnames_count; i++)
        free(dir->fnames[i]);
    free(dir->eattrs);
    free(dir->evals);
    free(dir);
}

/* ldapdir_scheme_is - uri starts with scheme "NAME://" (any case) */
static bool ldapdir_scheme_is(const char *uri, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(uri, scheme, n) == 0 && strncmp(uri + n, "://", 3) == 0;
}

/* ldapdir_tls_setup - per-handle TLS options; they take effect only with
 * a new TLS context, created last (pitfalls.md) */
static int ldapdir_tls_setup(struct ldapdir *dir, LDAP *ld, char *why, size_t whysz)
{
    const char *ca = dir->cfg->ldap_tls_ca_file;
    int demand = LDAP_OPT_X_TLS_DEMAND, server = 0;
    if (ca != NULL && ca[0] != '\0'
        && ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca) != LDAP_OPT_SUCCESS)
        return ldapdir_errf(why, whysz, "cannot set the TLS CA file %.200s", ca);
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS)
        return ldapdir_errf(why, whysz, "cannot require TLS certificate checks");
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server) != LDAP_OPT_SUCCESS)
        return ldapdir_errf(why, whysz, "cannot set up TLS%s%.200s",
                            ca != NULL && ca[0] != '\0' ? " with CA file " : "",
                            ca != NULL ? ca : "");
    return 0;
}

/* Read-ahead under libldap's message reader. libldap reads a message with
 * one read() for its tag and length and one for the rest, after a poll()
 * unless bytes are buffered: three system calls per entry. This layer
 * fetches up to LDAPDIR_READAHEAD bytes per read() and tells libldap that
 * data is ready while some is left. It never reads the socket while it
 * still holds bytes (a short read is fine for libldap, which then polls
 * with the timeout as before).
 *
 * Reading faster than the server writes has its own cost: waiting in
 * poll() for every entry makes each of the server's writes wake us, and
 * the server pays for the wakeups (measured: 1M entries over ldapi next
 * to a busy CPU took 15% longer without the nap below). So in
 * bulk mode, after a read that found only a few entries, the next wait
 * starts with a short nap that lets a batch build up. The nap is bounded
 * (LDAPDIR_NAP_US, at most once per read) and never follows a request
 * (the server has work to do first); the poll() after it keeps
 * ldap_timeout. Key searches turn bulk mode off: their latency counts,
 * their volume does not. */
#define LDAPDIR_READAHEAD (64 * 1024)
#define LDAPDIR_NAP_BELOW 4096
#define LDAPDIR_NAP_US 100

/* A private Sockbuf control (libldap's own stop at 15; layers pass on
 * what they do not know): int *arg, non-zero for bulk mode. */
#define LDAPDIR_SB_OPT_BULK 0x4d4d01

struct ldapdir_rbuf {
    size_t pos, end;
    bool bulk;              /* nap when the socket runs dry */
    bool nap;               /* the last read found little: nap before waiting */
    char data[LDAPDIR_READAHEAD];
};

/* ldapdir_rbuf_setup - take the buffer allocated by ldapdir_rbuf_add:
 * libldap leaves a layer whose setup fails on the stack, so this must not */
static int ldapdir_rbuf_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}

/* ldapdir_rbuf_remove - free the buffer (the connection is going away:
 * unread bytes go with it) */
static int ldapdir_rbuf_remove(Sockbuf_IO_Desc *sbiod)
{
    free(sbiod->sbiod_pvt);
    sbiod->sbiod_pvt = NULL;
    return 0;
}

/* ldapdir_rbuf_ctrl - buffered bytes count as data ready; bulk mode */
static int ldapdir_rbuf_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    struct ldapdir_rbuf *b = sbiod->sbiod_pvt;
    if (opt == LBER_SB_OPT_DATA_READY) {
        if (b->pos < b->end)
            return 1;
        /* libldap asks this right before it polls */
        if (b->nap) {
            struct timespec ts = { 0, LDAPDIR_NAP_US * 1000L };
            b->nap = false;
            nanosleep(&ts, NULL);   /* a signal just ends it early */
        }
    } else if (opt == LDAPDIR_SB_OPT_BULK) {
        b->bulk = *(const int *)arg != 0;
        b->nap = false;
        return 1;
    }
    return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

/* ldapdir_rbuf_read - from the buffer; refill it only when empty */
static ber_slen_t ldapdir_rbuf_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    struct ldapdir_rbuf *b = sbiod->sbiod_pvt;
    size_t n;
    /* the rest of a message larger than the buffer: no need to copy */
    if (b->pos == b->end && len >= sizeof(b->data))
        return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
    if (b->pos == b->end) {
        ber_slen_t r = LBER_SBIOD_READ_NEXT(sbiod, b->data, sizeof(b->data));
        if (r <= 0)
            return r;   /* errno as the layer below set it (EINTR is retried above) */
        b->pos = 0;
        b->end = (size_t)r;
        b->nap = b->bulk && b->end < LDAPDIR_NAP_BELOW;
    }
    n = b->end - b->pos;
    if (n > len)
        n = len;
    memcpy(buf, b->data + b->pos, n);
    b->pos += n;
    return (ber_slen_t)n;
}

/* ldapdir_rbuf_write - writes pass through; a request means the next
 * wait is for the server, not for a batch */
static ber_slen_t ldapdir_rbuf_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    struct ldapdir_rbuf *b = sbiod->sbiod_pvt;
    b->nap = false;
    return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}

static Sockbuf_IO ldapdir_rbuf_io = {
    .sbi_setup = ldapdir_rbuf_setup,
    .sbi_remove = ldapdir_rbuf_remove,
    .sbi_ctrl = ldapdir_rbuf_ctrl,
    .sbi_read = ldapdir_rbuf_read,
    .sbi_write = ldapdir_rbuf_write,
    .sbi_close = NULL,
};

/* ldapdir_rbuf_add - put the read-ahead layer on ld's connection, just
 * above the socket (below TLS), in bulk mode (the persist mode's refresh
 * streams the directory too). Only an optimisation: on failure ld works
 * as it is. Called once the bind is done, so that nothing the layers
 * below have read can be in flight. */
static void ldapdir_rbuf_add(LDAP *ld)
{
    Sockbuf *sb = NULL;
    struct ldapdir_rbuf *b;
    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || sb == NULL)
        return;
    if ((b = malloc(sizeof(*b))) == NULL)
        return;
    b->pos = b->end = 0;
    b->bulk = true;
    b->nap = false;
    if (ber_sockbuf_add_io(sb, &ldapdir_rbuf_io, LBER_SBIOD_LEVEL_PROVIDER, b) < 0)
        free(b);
}

/* ldapdir_rbuf_bulk - bulk mode on or off (no layer: nothing to do) */
static void ldapdir_rbuf_bulk(LDAP *ld, bool on)
{
    Sockbuf *sb = NULL;
    int v = on;
    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL
        && ber_sockbuf_ctrl(sb, LBER_SB_OPT_HAS_IO, &ldapdir_rbuf_io) == 1)
        ber_sockbuf_ctrl(sb, LDAPDIR_SB_OPT_BULK, &v);
}

/* ldapdir_try_uri - connect and bind to one URI; 0 with *ld_r, or -1 */
static int ldapdir_try_uri(struct ldapdir *dir, const char *uri, struct berval *cred,
                           LDAP **ld_r, char *why, size_t whysz)
{
    const struct conf *cfg = dir->cfg;
    const char *dn = cfg->ldap_bind_dn != NULL ? cfg->ldap_bind_dn : "";
    struct timeval tv = { .tv_sec = (time_t)dir->timeout, .tv_usec = 0 };
    int v3 = LDAP_VERSION3, rc;
    int keep_idle = 60, keep_probes = 3, keep_interval = 20;
    char diag[256];
    LDAP *ld = NULL;

    rc = ldap_initialize(&ld, uri);
    if (rc != LDAP_SUCCESS || ld == NULL)
        return ldapdir_errf(why, whysz, "not a usable LDAP URI (%s)", ldap_err2string(rc));
    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS
        /* A signal (SIGHUP, SIGCHLD) would otherwise end a wait as if the
         * server were down. */
        || ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
        ldapdir_errf(why, whysz, "cannot set connection options");
        goto fail;
    }
    /* libldap turns on TCP keepalive; these make a peer that vanished
     * (a firewall dropping an idle connection) show within about two
     * minutes, so the next search reconnects instead of timing out. */
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &keep_idle);
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &keep_probes);
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &keep_interval);

    if (ldapdir_scheme_is(uri, "ldaps")) {
        if (ldapdir_tls_setup(dir, ld, why, whysz) < 0)
            goto fail;
    } else if (cfg->ldap_starttls && ldapdir_scheme_is(uri, "ldap")) {
        /* ldapi:// is a local socket: StartTLS protects nothing there. */
        if (ldapdir_tls_setup(dir, ld, why, whysz) < 0)
            goto fail;
        rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            ldapdir_diag(ld, diag, sizeof(diag));
            ldapdir_errf(why, whysz, "StartTLS failed: %s (%d)%s", ldap_err2string(rc), rc, diag);
            goto fail;
        }
    }

    if (dn[0] != '\0') {
        rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, cred, NULL, NULL, NULL);
    } else if (ldapdir_scheme_is(uri, "ldapi")) {
        /* Over the local socket the server knows who we are (peer
         * credentials), as "ldapsearch -Y EXTERNAL -H ldapi:///" does.
         * An empty but present initial response (no authzid) completes
         * it in one step; a missing one draws a challenge. */
        struct berval none = { 0, (char *)"" };
        rc = ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &none, NULL, NULL, NULL);
    } else {
        /* An anonymous bind also proves the server answers at all:
         * ldap_initialize() itself does not connect. */
        struct berval none = { 0, NULL };
        rc = ldap_sasl_bind_s(ld, NULL, LDAP_SASL_SIMPLE, &none, NULL, NULL, NULL);
    }
    if (rc != LDAP_SUCCESS) {
        ldapdir_diag(ld, diag, sizeof(diag));
        if (rc == LDAP_TIMEOUT)
            ldapdir_errf(why, whysz, "no answer within %u s", dir->timeout);
        else if (ldapdir_is_down(rc))
            ldapdir_errf(why, whysz, "%s (%d)%s", ldap_err2string(rc), rc, diag);
        else if (dn[0] != '\0')
            ldapdir_errf(why, whysz, "bind as %.200s failed: %s (%d)%s", dn,
                         ldap_err2string(rc), rc, diag);
        else if (ldapdir_scheme_is(uri, "ldapi"))
            ldapdir_errf(why, whysz, "SASL EXTERNAL bind failed: %s (%d)%s",
                         ldap_err2string(rc), rc, diag);
        else
            ldapdir_errf(why, whysz, "anonymous bind failed: %s (%d)%s",
                         ldap_err2string(rc), rc, diag);
        goto fail;
    }
    ldapdir_rbuf_add(ld);
    *ld_r = ld;
    return 0;

fail:
    ldap_unbind_ext(ld, NULL, NULL);
    return -1;
}

/* ldapdir_connect - connect unless connected, URI by URI */
int ldapdir_connect(struct ldapdir *dir, char *err, size_t errsz)
{
    const struct conf *cfg;
    struct berval cred = { 0, NULL };
    char *pw = NULL;
    char why[400];
    int ret = -1;

    if (dir == NULL)
        return ldapdir_errf(err, errsz, "no directory handle");
    if (dir->ld != NULL)
        return 0;
    cfg = dir->cfg;
    if (cfg->ldap_bind_dn != NULL && cfg->ldap_bind_dn[0] != '\0') {
        /* Read at every connect: the file may have been rotated. */
        if (conf_read_secret(cfg->ldap_bind_pw_file, &pw, why, sizeof(why)) < 0)
            return ldapdir_errf(err, errsz, "cannot read the LDAP bind password: %s", why);
        cred.bv_val = pw;
        cred.bv_len = strlen(pw);
        /* A DN with an empty password is an unauthenticated bind
         * (RFC 4513 5.1.2): it "succeeds" with anonymous rights. */
        if (cred.bv_len == 0) {
            free(pw);
            return ldapdir_errf(err, errsz, "the LDAP bind password file %.200s is empty",
                                cfg->ldap_bind_pw_file);
        }
    }
    ldapdir_errf(err, errsz, "cannot connect to LDAP:");
    for (size_t i = 0; i < cfg->ldap_uri_count && i < CONF_LIST_MAX; i++) {
        const char *uri = cfg->ldap_uri[i];
        LDAP *ld = NULL;
        if (uri == NULL)
            continue;
        if (ldapdir_try_uri(dir, uri, &cred, &ld, why, sizeof(why)) == 0) {
            dir->ld = ld;
            snprintf(dir->uri, sizeof(dir->uri), "%s", uri);
            ret = 0;
            break;
        }
        ldapdir_errcat(err, errsz, "%s %.200s: %s", i > 0 ? ";" : "", uri, why);
    }
    if (pw != NULL) {
        explicit_bzero(pw, strlen(pw));
        free(pw);
    }
    if (ret == 0 && err != NULL && errsz > 0)
        err[0] = '\0';
    return ret;
}

/* ldapdir_grow_attrs - room for n attributes of one entry */
static int ldapdir_grow_attrs(struct ldapdir *dir, size_t n)
{
    size_t cap;
    void *p;
    if (n <= dir->acap)
        return 0;
    cap = dir->acap == 0 ? 16 : dir->acap;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    if ((p = reallocarray(dir->eattrs, cap, sizeof(*dir->eattrs))) == NULL)
        return -1;
    dir->eattrs = p;
    dir->acap = cap;
    return 0;
}

/* ldapdir_grow_values - room for n values of one entry */
static int ldapdir_grow_values(struct ldapdir *dir, size_t n)
{
    size_t cap;
    void *p;
    if (n <= dir->vcap)
        return 0;
    cap = dir->vcap == 0 ? 64 : dir->vcap;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    if ((p = reallocarray(dir->evals, cap, sizeof(*dir->evals))) == NULL)
        return -1;
    dir->evals = p;
    dir->vcap = cap;
    return 0;
}

/* ldapdir_ber_left - bytes left in ber (for an entry: in its attribute
 * list, the bound ldap_get_dn_ber() sets) */
static ber_len_t ldapdir_ber_left(BerElement *ber)
{
    ber_len_t left = 0;
    /* Cannot fail for a valid element; 0 would end the list early, and
     * the checks below would then call the entry undecodable. */
    (void)ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &left);
    return left;
}

/* ldapdir_text_ok - a DN or attribute name decoded in place: libldap's
 * own string decoders refuse a NUL before the last byte, so do we */
static bool ldapdir_text_ok(const struct berval *bv)
{
    return bv->bv_len == 0 || memchr(bv->bv_val, '\0', bv->bv_len - 1) == NULL;
}

/* ldapdir_entry_decode - the attribute list of an entry, in one pass */
int ldapdir_entry_decode(struct ldapdir *dir, BerElement *ber, const char *dn,
                         struct entry *e, char *err, size_t errsz)
{
    size_t n = 0, v = 0;
    ber_len_t left;

    e->dn = dn;
    e->uuid = NULL;
    e->attr_count = 0;
    e->attrs = NULL;
    if (dir == NULL || ber == NULL || dn == NULL)
        return ldapdir_errf(err, errsz, "no directory handle, element or DN");
    /* Everything is decoded in place (liblber's "m"): names and values
     * point into the message, each NUL-terminated there (the byte after
     * it is saved by liblber), so nothing is copied or allocated. */
    while ((left = ldapdir_ber_left(ber)) > 0) {
        struct berval name, val;
        ber_len_t len, end;
        size_t first = v;

        /* PartialAttribute ::= SEQUENCE { type, vals SET OF value }.
         * ber_skip_tag() refuses a length past what is left; the set
         * must end where its sequence does and each value inside the
         * set, or the list is not what it claims. */
        if (ber_skip_tag(ber, &len) == LBER_DEFAULT)
            goto bad;
        end = ldapdir_ber_left(ber) - len;
        if (ber_get_stringbv(ber, &name, 0) == LBER_DEFAULT || !ldapdir_text_ok(&name))
            goto bad;
        if (ber_skip_tag(ber, &len) == LBER_DEFAULT || ldapdir_ber_left(ber) - len != end)
            goto bad;
        while ((left = ldapdir_ber_left(ber)) > end) {
            if (ber_get_stringbv(ber, &val, 0) == LBER_DEFAULT)
                goto bad;
            if (ldapdir_grow_values(dir, v + 1) < 0)
                goto nomem;
            dir->evals[v].data = val.bv_val;
            dir->evals[v].len = val.bv_len;
            v++;
        }
        if (left != end)
            goto bad;
        if (ldapdir_grow_attrs(dir, n + 1) < 0)
            goto nomem;
        dir->eattrs[n].name = name.bv_val;
        dir->eattrs[n].count = v - first;
        n++;
    }
    /* Only now: evals may have moved while growing. */
    v = 0;
    for (size_t i = 0; i < n; i++) {
        struct entry_attr *a = &dir->eattrs[i];
        a->values = a->count > 0 ? dir->evals + v : NULL;
        v += a->count;
        /* entryUUID arrives in text form; anything else is not one. */
        if (e->uuid == NULL && a->count > 0 && strcasecmp(a->name, "entryUUID") == 0
            && a->values[0].len > 0 && a->values[0].len < sizeof(dir->uuid)
            && memchr(a->values[0].data, '\0', a->values[0].len) == NULL) {
            memcpy(dir->uuid, a->values[0].data, a->values[0].len);
            dir->uuid[a->values[0].len] = '\0';
            e->uuid = dir->uuid;
        }
    }
    e->attr_count = n;
    e->attrs = dir->eattrs;
    return 0;

bad:
    return ldapdir_errf(err, errsz, "%s: cannot decode the entry %.200s", dir->uri, dn);
nomem:
    return ldapdir_errf(err, errsz, "out of memory");
}

/* ldapdir_entry_deliver - one search entry to the callback */
int ldapdir_entry_deliver(struct ldapdir *dir, LDAPMessage *msg, ldapdir_entry_fn *cb,
                          void *ctx, char *err, size_t errsz)
{
    BerElement *ber = NULL;
    struct berval dn = { 0, NULL };
    struct entry e;
    int r;

    if (dir == NULL || dir->ld == NULL || msg == NULL || cb == NULL)
        return ldapdir_errf(err, errsz, "no connection, entry or callback");
    /* One pass over the entry (ldap_get_values_len() would rescan it from
     * the start for every attribute and copy every value). */
    if (ldap_get_dn_ber(dir->ld, msg, &ber, &dn) != LDAP_SUCCESS) {
        /* The DN or the start of the attribute list: word it as before. */
        char *s = ldap_get_dn(dir->ld, msg);
        if (s == NULL)
            return ldapdir_errf(err, errsz, "%s: an entry without a readable DN", dir->uri);
        ldapdir_errf(err, errsz, "%s: cannot decode the entry %.200s", dir->uri, s);
        ldap_memfree(s);
        return -1;
    }
    if (!ldapdir_text_ok(&dn)) {
        ber_free(ber, 0);
        return ldapdir_errf(err, errsz, "%s: an entry without a readable DN", dir->uri);
    }
    r = ldapdir_entry_decode(dir, ber, dn.bv_val, &e, err, errsz);
    /* The element is only a cursor: the data stays in msg. */
    ber_free(ber, 0);
    if (r < 0)
        return -1;
    return cb(ctx, &e) != 0 ? 1 : 0;
}

/* ldapdir_page_done - the SearchResultDone of one page: 0 with the next
 * cookie in *cookie (empty = the last page), -1 for anything else */
static int ldapdir_page_done(struct ldapdir *dir, LDAPMessage *res, struct berval *cookie,
                             enum ldapdir_lost *lost, char *err, size_t errsz)
{
    LDAP *ld = dir->ld;
    int code = LDAP_OTHER, rc, ret = -1;
    char *matched = NULL, *diag = NULL, **refs = NULL;
    LDAPControl **ctrls = NULL, *page;

    rc = ldap_parse_result(ld, res, &code, &matched, &diag, &refs, &ctrls, 0);
    if (rc != LDAP_SUCCESS) {
        *lost = LDAPDIR_DROP;
        return ldapdir_errf(err, errsz, "%s: cannot parse the search result: %s",
                            dir->uri, ldap_err2string(rc));
    }
    if (code == LDAP_REFERRAL) {
        ldapdir_errf(err, errsz, "%s: the server refers the search to %.200s:"
                     " not followed, the result would be incomplete", dir->uri,
                     refs != NULL && refs[0] != NULL ? refs[0] : "another server");
    } else if (code != LDAP_SUCCESS) {
        /* A size or time limit truncates silently unless treated as the
         * failure it is: the maps must never shrink to what fit. */
        ldapdir_errf(err, errsz, "%s: search failed after %zu entries: %s (%d)%s%.200s%s",
                     dir->uri, dir->count, ldap_err2string(code), code,
                     diag != NULL && diag[0] != '\0' ? " (" : "",
                     diag != NULL ? diag : "",
                     diag != NULL && diag[0] != '\0' ? ")" : "");
        if (ldapdir_is_down(code))
            *lost = LDAPDIR_DOWN;
    } else if ((page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL)) == NULL) {
        ldapdir_errf(err, errsz, "%s: the server answered a paged search without"
                     " the paged results control", dir->uri);
    } else {
        ber_int_t estimate = 0;
        struct berval next = { 0, NULL };
        if (ldap_parse_pageresponse_control(ld, page, &estimate, &next) != LDAP_SUCCESS) {
            ldapdir_errf(err, errsz, "%s: malformed paged results control", dir->uri);
            *lost = LDAPDIR_DROP;
        } else {
            ber_memfree(cookie->bv_val);
            *cookie = next;
            ret = 0;
        }
    }
    ldap_memfree(matched);
    ldap_memfree(diag);
    ldap_memvfree((void **)refs);
    ldap_controls_free(ctrls);
    return ret;
}

/* ldapdir_page - read the answers to one page request: 0 page done (next
 * cookie in *cookie), 1 stopped by the callback, -1 error */
static int ldapdir_page(struct ldapdir *dir, const struct ldapdir_search *s, int msgid,
                        struct berval *cookie, enum ldapdir_lost *lost,
                        char *err, size_t errsz)
{
    LDAP *ld = dir->ld;
    for (;;) {
        struct timeval tv = { .tv_sec = (time_t)dir->timeout, .tv_usec = 0 };
        LDAPMessage *res = NULL;
        int rc, r;

        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &res);
        if (rc == 0) {
            ldap_abandon_ext(ld, msgid, NULL, NULL);
            /* A late answer must not meet the next search: start afresh. */
            *lost = LDAPDIR_DROP;
            return ldapdir_errf(err, errsz, "%s: no answer within %u s (after %zu entries)",
                                dir->uri, dir->timeout, dir->count);
        }
        if (rc < 0) {
            int code = ldapdir_result_code(ld);
            *lost = ldapdir_is_down(code) ? LDAPDIR_DOWN : LDAPDIR_DROP;
            ldap_msgfree(res);
            return ldapdir_errf(err, errsz, "%s: search failed after %zu entries: %s (%d)",
                                dir->uri, dir->count, ldap_err2string(code), code);
        }
        switch (ldap_msgtype(res)) {
        case LDAP_RES_SEARCH_ENTRY:
            if (s->max > 0 && dir->count >= s->max) {
                ldap_msgfree(res);
                ldap_abandon_ext(ld, msgid, NULL, NULL);
                return ldapdir_errf(err, errsz, "%s: more than %zu entries match",
                                    dir->uri, s->max);
            }
            dir->count++;
            r = ldapdir_entry_deliver(dir, res, s->cb, s->ctx, err, errsz);
            ldap_msgfree(res);
            if (r == 1)
                ldapdir_errf(err, errsz, "search stopped by the caller after %zu entries",
                             dir->count);
            if (r != 0) {
                ldap_abandon_ext(ld, msgid, NULL, NULL);
                return r;
            }
            break;
        case LDAP_RES_SEARCH_REFERENCE:
            ldap_msgfree(res);
            ldap_abandon_ext(ld, msgid, NULL, NULL);
            return ldapdir_errf(err, errsz, "%s: the server sent a search reference"
                                " (referral): not followed, the result would be incomplete",
                                dir->uri);
        case LDAP_RES_SEARCH_RESULT:
            r = ldapdir_page_done(dir, res, cookie, lost, err, errsz);
            ldap_msgfree(res);
            return r;
        default:
            r = ldap_msgtype(res);
            ldap_msgfree(res);
            ldap_abandon_ext(ld, msgid, NULL, NULL);
            *lost = LDAPDIR_DROP;
            return ldapdir_errf(err, errsz, "%s: unexpected LDAP message type 0x%x in a search",
                                dir->uri, (unsigned)r);
        }
    }
}

/* ldapdir_run - one paged search on the current connection */
static int ldapdir_run(struct ldapdir *dir, const struct ldapdir_search *s,
                       enum ldapdir_lost *lost, char *err, size_t errsz)
{
    struct berval cookie = { 0, NULL };
    int ret = -1;

    ldapdir_rbuf_bulk(dir->ld, s->bulk);
    for (;;) {
        LDAPControl *page = NULL, *sctrls[2];
        struct timeval tl = { .tv_sec = s->timelimit, .tv_usec = 0 };
        int rc, msgid = -1;

        rc = ldap_create_page_control(dir->ld, (ber_int_t)(s->page > 0 ? s->page
                                                                      : dir->page_size),
                                      cookie.bv_len > 0 ? &cookie : NULL, 1, &page);
        if (rc != LDAP_SUCCESS) {
            ldapdir_errf(err, errsz, "cannot create the paged results control: %s",
                         ldap_err2string(rc));
            break;
        }
        sctrls[0] = page;
        sctrls[1] = NULL;
        rc = ldap_search_ext(dir->ld, dir->cfg->ldap_base, LDAP_SCOPE_SUBTREE, s->filter,
                             s->attrs != NULL ? s->attrs : dir->attrs, 0, sctrls, NULL,
                             s->timelimit > 0 ? &tl : NULL,
                             LDAP_NO_LIMIT, &msgid);
        ldap_control_free(page);
        if (rc != LDAP_SUCCESS) {
            if (ldapdir_is_down(rc))
                *lost = LDAPDIR_DOWN;
            ldapdir_errf(err, errsz, "%s: cannot send the search (after %zu entries): %s (%d)",
                         dir->uri, dir->count, ldap_err2string(rc), rc);
            break;
        }
        ret = ldapdir_page(dir, s, msgid, &cookie, lost, err, errsz);
        if (ret != 0 || cookie.bv_len == 0)
            break;
        ret = -1;
    }
    ber_memfree(cookie.bv_val);
    return ret;
}

/* ldapdir_search - run s, connecting first and reconnecting once when an
 * existing connection turns out to be dead before anything arrived */
static int ldapdir_search(struct ldapdir *dir, const struct ldapdir_search *s,
                          char *err, size_t errsz)
{
    char first[512] = "";

    dir->count = 0;
    for (int attempt = 0;; attempt++) {
        enum ldapdir_lost lost = LDAPDIR_KEEP;
        int r;

        if (ldapdir_connect(dir, err, errsz) < 0) {
            if (first[0] != '\0') {
                char again[512];
                snprintf(again, sizeof(again), "%s", err != NULL && errsz > 0 ? err : "");
                ldapdir_errf(err, errsz, "%s; reconnecting: %s", first, again);
            }
            return -1;
        }
        r = ldapdir_run(dir, s, &lost, err, errsz);
        if (lost != LDAPDIR_KEEP)
            ldapdir_disconnect(dir);
        if (r >= 0)
            return r;
        /* A kept connection dies unnoticed (server restart, idle timeout)
         * and shows it on the next search. Retry once from the first URI,
         * but never after entries went out: the caller has them already. */
        if (lost != LDAPDIR_DOWN || attempt > 0 || dir->count > 0)
            return -1;
        snprintf(first, sizeof(first), "%s", err != NULL && errsz > 0 ? err : "connection lost");
    }
}

/* ldapdir_search_all - the whole directory, paged */
int ldapdir_search_all(struct ldapdir *dir, ldapdir_entry_fn *cb, void *ctx,
                       char *err, size_t errsz)
{
    struct ldapdir_search s = { .cb = cb, .ctx = ctx, .bulk = true };
    if (dir == NULL || cb == NULL)
        return ldapdir_errf(err, errsz, "no directory handle or callback");
    s.filter = dir->filter;
    return ldapdir_search(dir, &s, err, errsz);
}

/* ldapdir_search_one - s with the filter made for one key (freed here),
 * bounded in time like every single lookup */
static int ldapdir_search_one(struct ldapdir *dir, struct ldapdir_search *s, char *filter,
                              char *err, size_t errsz)
{
    int r;
    if (filter == NULL)
        return -1;
    s->filter = filter;
    s->timelimit = dir->timeout > INT_MAX ? INT_MAX : (int)dir->timeout;
    r = ldapdir_search(dir, s, err, errsz);
    free(filter);
    return r;
}

/* ldapdir_search_name - the account entries (domain false) or the domain
 * entries that claim one address or domain name */
static int ldapdir_search_name(struct ldapdir *dir, const char *name, bool domain,
                               ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz)
{
    struct ldapdir_search s = { .cb = cb, .ctx = ctx, .max = LDAPDIR_KEY_MAX };
    size_t len;

    if (dir == NULL || cb == NULL || name == NULL)
        return ldapdir_errf(err, errsz, "no directory handle, key or callback");
    dir->count = 0;
    len = strnlen(name, LDAPDIR_KEY_LEN_MAX + 1);
    /* No entry can have such a name: nothing to ask for. */
    if (len == 0 || len > LDAPDIR_KEY_LEN_MAX)
        return 0;
    if (domain)
        s.attrs = dir->dattrs;
    return ldapdir_search_one(dir, &s,
                              domain ? ldapdir_domain_name_filter(dir->cfg, name, len, err, errsz)
                                     : ldapdir_key_filter(dir->cfg, name, len, err, errsz),
                              err, errsz);
}

/* ldapdir_search_key - the entries that may answer for one address */
int ldapdir_search_key(struct ldapdir *dir, const char *address,
                       ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz)
{
    return ldapdir_search_name(dir, address, false, cb, ctx, err, errsz);
}

/* ldapdir_search_domain - entries with a mail address in one domain, a
 * few at a time: the caller stops the search once it has what it needs */
int ldapdir_search_domain(struct ldapdir *dir, const char *domain,
                          ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz)
{
    struct ldapdir_search s = { .cb = cb, .ctx = ctx, .page = LDAPDIR_DOMAIN_PAGE };

    if (dir == NULL || cb == NULL || domain == NULL)
        return ldapdir_errf(err, errsz, "no directory handle, domain or callback");
    dir->count = 0;
    return ldapdir_search_one(dir, &s,
                              ldapdir_domain_filter(dir->cfg, domain,
                                                    strnlen(domain, LDAPDIR_KEY_LEN_MAX + 1),
                                                    err, errsz),
                              err, errsz);
}

/* ldapdir_search_domains - every domain entry, paged */
int ldapdir_search_domains(struct ldapdir *dir, ldapdir_entry_fn *cb, void *ctx,
                           char *err, size_t errsz)
{
    struct ldapdir_search s = { .cb = cb, .ctx = ctx };
    if (dir == NULL || cb == NULL)
        return ldapdir_errf(err, errsz, "no directory handle or callback");
    if (dir->dfilter == NULL)
        return ldapdir_errf(err, errsz, "ldap_domain_filter is empty");
    s.filter = dir->dfilter;
    s.attrs = dir->dattrs;
    return ldapdir_search(dir, &s, err, errsz);
}

/* ldapdir_search_domain_name - the domain entries that claim one name */
int ldapdir_search_domain_name(struct ldapdir *dir, const char *domain,
                               ldapdir_entry_fn *cb, void *ctx, char *err, size_t errsz)
{
    return ldapdir_search_name(dir, domain, true, cb, ctx, err, errsz);
}

/* ldapdir_entry_count - entries delivered by the last search */
size_t ldapdir_entry_count(const struct ldapdir *dir)
{
    return dir != NULL ? dir->count : 0;
}

/* ldapdir_ldap - the libldap handle of the current connection */
LDAP *ldapdir_ldap(struct ldapdir *dir)
{
    return dir != NULL ? dir->ld : NULL;
}

/* ldapdir_filter - ldap_filter as searched */
const char *ldapdir_filter(const struct ldapdir *dir)
{
    return dir != NULL ? dir->filter : NULL;
}

/* ldapdir_attrs - the attributes a search requests */
char **ldapdir_attrs(struct ldapdir *dir)
{
    return dir != NULL ? dir->attrs : NULL;
}

/* ldapdir_domains_filter - ldap_domain_filter as searched, or NULL */
const char *ldapdir_domains_filter(const struct ldapdir *dir)
{
    return dir != NULL ? dir->dfilter : NULL;
}

/* ldapdir_domain_attrs - the attributes a domain search requests */
char **ldapdir_domain_attrs(struct ldapdir *dir)
{
    return dir != NULL ? dir->dattrs : NULL;
}

/* ldapdir_uri - the URI of the current or last connection */
const char *ldapdir_uri(const struct ldapdir *dir)
{
    return dir != NULL ? dir->uri : "";
}
