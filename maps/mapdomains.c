/* mapdomains - domain entries -> local domains and alias domains */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/address.h"
#include "maps/ascii.h"
#include "maps/mapdomains.h"

/* One domain entry. */
struct mdent {
    char *dn;                /* normalised; NULL once removed or replaced */
    char *primary;
    char **alias;            /* sorted, unique, none equal to primary */
    size_t nalias;
    const char **kept;       /* the last resolve: the aliases it keeps */
    size_t nkept;
    bool skip;               /* the last resolve: lost its primary domain */
};

/* A name that stays, after resolve. */
struct mdname {
    const char *name;
    uint32_t ent;
    bool primary;
};

struct mapdomains {
    struct mdent *ent;       /* in the order added */
    size_t n, cap;
    size_t dead;             /* entries removed or replaced */
    struct mdname *names;    /* sorted by name */
    size_t nnames;
    uint32_t *slot;          /* hash of names: index + 1, 0 = empty */
    size_t slots;            /* a power of two, at least twice nnames */
};

/* mapdomains_new - an empty set */
struct mapdomains *mapdomains_new(void)
{
    return calloc(1, sizeof(struct mapdomains));
}

/* ent_clear - release one entry's strings; it counts as dead afterwards */
static void ent_clear(struct mdent *e)
{
    for (size_t i = 0; i < e->nalias; i++)
        free(e->alias[i]);
    free(e->alias);
    free(e->kept);
    free(e->primary);
    free(e->dn);
    memset(e, 0, sizeof(*e));
}

/* mapdomains_free - release the set */
void mapdomains_free(struct mapdomains *md)
{
    if (md == NULL)
        return;
    for (size_t i = 0; i < md->n; i++)
        ent_clear(&md->ent[i]);
    free(md->ent);
    free(md->names);
    free(md->slot);
    free(md);
}

/* mapdomains_count - live entries */
size_t mapdomains_count(const struct mapdomains *md)
{
    return md->n - md->dead;
}

/* domain_copy - v as a lower-case domain name (malloc'ed) in *out: 1,
 * 0 when it is no domain name, -1 out of memory */
static int domain_copy(const struct entry_value *v, char **out)
{
    *out = NULL;
    if (!address_domain_valid(v->data, v->len))
        return 0;
    char *d = malloc(v->len + 1);
    if (d == NULL)
        return -1;
    ascii_lower_copy(d, v->data, v->len);
    d[v->len] = '\0';
    *out = d;
    return 1;
}

/* str_cmp - qsort order of C string pointers */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* read_aliases - the alias domains of entry e into ent (sorted, unique,
 * without the primary); a bad value is dropped with a warning. 0 or -1
 * out of memory. */
static int read_aliases(struct mdent *ent, const struct entry_attr *at, const char *dn,
                        account_warn_fn *warn, void *ctx)
{
    if (at == NULL || at->count == 0)
        return 0;
    if ((ent->alias = calloc(at->count, sizeof(*ent->alias))) == NULL)
        return -1;
    for (size_t i = 0; i < at->count; i++) {
        char *d, q[ACCOUNT_QUOTE_SIZE];
        int rc = domain_copy(&at->values[i], &d);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            account_quote(at->values[i].data, at->values[i].len, q, sizeof(q));
            account_warnf(warn, ctx, dn, "alias domain \"%s\" of %s ignored: not a domain name",
                          q, at->name);
            continue;
        }
        if (strcmp(d, ent->primary) == 0) {
            free(d);
            continue;
        }
        ent->alias[ent->nalias++] = d;
    }
    qsort(ent->alias, ent->nalias, sizeof(*ent->alias), str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < ent->nalias; i++) {
        if (k > 0 && strcmp(ent->alias[k - 1], ent->alias[i]) == 0)
            free(ent->alias[i]);
        else
            ent->alias[k++] = ent->alias[i];
    }
    ent->nalias = k;
    return 0;
}

/* read_primary - the one primary domain of e into ent: 1, 0 bad (warned),
 * -1 out of memory */
static int read_primary(struct mdent *ent, const struct conf *cfg, const struct entry *e,
                        account_warn_fn *warn, void *ctx)
{
    const struct entry_attr *at = entry_attr_find(e, cfg->ldap_attr_domain);
    char q[ACCOUNT_QUOTE_SIZE];

    if (at == NULL || at->count != 1) {
        account_warnf(warn, ctx, e->dn, "domain entry skipped: %s %s",
                      at == NULL || at->count == 0 ? "no" : "several values of",
                      cfg->ldap_attr_domain);
        return 0;
    }
    int rc = domain_copy(&at->values[0], &ent->primary);
    if (rc == 0) {
        account_quote(at->values[0].data, at->values[0].len, q, sizeof(q));
        account_warnf(warn, ctx, e->dn, "domain entry skipped: %s \"%s\" is not a domain name",
                      cfg->ldap_attr_domain, q);
    }
    return rc;
}

/* mapdomains_add_entry - validate e and append it */
int mapdomains_add_entry(struct mapdomains *md, const struct conf *cfg, const struct entry *e,
                         account_warn_fn *warn, void *ctx, char *err, size_t errsz)
{
    struct mdent ent = { 0 };
    int rc;

    if (md->n == md->cap) {
        size_t cap = md->cap ? 2 * md->cap : 64;
        struct mdent *p = realloc(md->ent, cap * sizeof(*p));
        if (p == NULL)
            goto nomem;
        md->ent = p;
        md->cap = cap;
    }
    rc = read_primary(&ent, cfg, e, warn, ctx);
    if (rc <= 0) {
        if (rc < 0)
            goto nomem;
        return 0;
    }
    const struct entry_attr *al = cfg->ldap_attr_domain_alias[0] != '\0'
                                      ? entry_attr_find(e, cfg->ldap_attr_domain_alias) : NULL;
    if (read_aliases(&ent, al, e->dn, warn, ctx) < 0 ||
        (ent.dn = account_dn_normalize(e->dn ? e->dn : "")) == NULL)
        goto nomem;
    md->ent[md->n++] = ent;
    return 1;
nomem:
    ent_clear(&ent);
    snprintf(err, errsz, "mapdomains: out of memory");
    return -1;
}

/* mapdomains_remove - drop every entry with that DN */
int mapdomains_remove(struct mapdomains *md, const char *dn)
{
    char *norm = account_dn_normalize(dn);
    int found = 0;

    if (norm == NULL)
        return -1;
    for (size_t i = 0; i < md->n; i++) {
        if (md->ent[i].dn != NULL && strcmp(md->ent[i].dn, norm) == 0) {
            ent_clear(&md->ent[i]);
            md->dead++;
            found = 1;
        }
    }
    free(norm);
    return found;
}

/* A claim on a name while resolving. */
struct mdclaim {
    const char *name;
    const char *dn;
    uint32_t ent;
};

/* claim_cmp - by name, then DN, then the order added */
static int claim_cmp(const void *a, const void *b)
{
    const struct mdclaim *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c == 0)
        c = strcmp(x->dn, y->dn);
    return c != 0 ? c : (x->ent > y->ent) - (x->ent < y->ent);
}

/* name_cmp - mdname order */
static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct mdname *)a)->name, ((const struct mdname *)b)->name);
}

/* drop_replaced - of entries with the same DN only the last added stays */
static int drop_replaced(struct mapdomains *md)
{
    struct mdclaim *c = malloc((md->n + 1) * sizeof(*c));
    size_t k = 0;

    if (c == NULL)
        return -1;
    for (size_t i = 0; i < md->n; i++)
        if (md->ent[i].dn != NULL)
            c[k++] = (struct mdclaim){ md->ent[i].dn, md->ent[i].dn, (uint32_t)i };
    qsort(c, k, sizeof(*c), claim_cmp);
    for (size_t i = 0; i + 1 < k; i++) {
        if (strcmp(c[i].dn, c[i + 1].dn) == 0) {
            ent_clear(&md->ent[c[i].ent]);
            md->dead++;
        }
    }
    free(c);
    return 0;
}

/* resolve_primaries - the smaller DN keeps a primary domain; the other
 * entries naming it are skipped. The kept ones go to md->names. */
static int resolve_primaries(struct mapdomains *md, account_warn_fn *warn, void *ctx)
{
    struct mdclaim *c = malloc((md->n + 1) * sizeof(*c));
    size_t k = 0;

    if (c == NULL)
        return -1;
    for (size_t i = 0; i < md->n; i++) {
        md->ent[i].skip = false;
        md->ent[i].nkept = 0;
        if (md->ent[i].dn != NULL)
            c[k++] = (struct mdclaim){ md->ent[i].primary, md->ent[i].dn, (uint32_t)i };
    }
    qsort(c, k, sizeof(*c), claim_cmp);
    for (size_t i = 0, w = 0; i < k; i++) {
        if (i > 0 && strcmp(c[i].name, c[w].name) == 0) {
            md->ent[c[i].ent].skip = true;
            account_warnf(warn, ctx, c[i].dn,
                          "domain entry skipped: its domain %s is the domain of %s", c[i].name,
                          c[w].dn);
            continue;
        }
        w = i;
        md->names[md->nnames++] = (struct mdname){ c[i].name, c[i].ent, true };
    }
    free(c);
    return 0;
}

/* primary_find - the kept primary domain called name, or NULL (md->names
 * holds only primaries, sorted, while the aliases are resolved) */
static const struct mdname *primary_find(const struct mdname *names, size_t n, const char *name)
{
    struct mdname key = { name, 0, true };

    return bsearch(&key, names, n, sizeof(*names), name_cmp);
}

/* resolve_aliases - alias domains: never a kept primary; the smaller DN
 * keeps a name claimed twice. The kept ones go to md->names and to their
 * entry's kept list (sorted, as the claims are). */
static int resolve_aliases(struct mapdomains *md, account_warn_fn *warn, void *ctx)
{
    size_t total = 0, k = 0, nprim = md->nnames;
    struct mdclaim *c;

    for (size_t i = 0; i < md->n; i++)
        if (md->ent[i].dn != NULL && !md->ent[i].skip)
            total += md->ent[i].nalias;
    if ((c = malloc((total + 1) * sizeof(*c))) == NULL)
        return -1;
    for (size_t i = 0; i < md->n; i++) {
        struct mdent *e = &md->ent[i];
        if (e->dn == NULL || e->skip)
            continue;
        free(e->kept);
        if ((e->kept = malloc((e->nalias + 1) * sizeof(*e->kept))) == NULL) {
            free(c);
            return -1;
        }
        for (size_t j = 0; j < e->nalias; j++)
            c[k++] = (struct mdclaim){ e->alias[j], e->dn, (uint32_t)i };
    }
    qsort(c, k, sizeof(*c), claim_cmp);
    for (size_t i = 0, w = 0; i < k; i++) {
        const struct mdname *p = primary_find(md->names, nprim, c[i].name);
        if (p != NULL) {
            account_warnf(warn, ctx, c[i].dn, "alias domain %s dropped: it is the domain of %s",
                          c[i].name, md->ent[p->ent].dn);
        } else if (i > 0 && strcmp(c[i].name, c[w].name) == 0) {
            account_warnf(warn, ctx, c[i].dn,
                          "alias domain %s dropped: it is an alias domain of %s", c[i].name,
                          c[w].dn);
        } else {
            struct mdent *e = &md->ent[c[i].ent];
            w = i;
            e->kept[e->nkept++] = c[i].name;
            md->names[md->nnames++] = (struct mdname){ c[i].name, c[i].ent, false };
        }
    }
    free(c);
    return 0;
}

/* name_hash - FNV-1a of s[0..len) */
static size_t name_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

/* names_hash - the hash of md->names: every account of a sync asks for
 * its domain, so a probe beats the binary search; -1 when out of memory */
static int names_hash(struct mapdomains *md)
{
    size_t cap = 16;

    while (cap < 2 * md->nnames)
        cap *= 2;
    free(md->slot);
    if ((md->slot = calloc(cap, sizeof(*md->slot))) == NULL)
        return -1;
    md->slots = cap;
    for (size_t i = 0; i < md->nnames; i++) {
        size_t h = name_hash(md->names[i].name, strlen(md->names[i].name)) & (cap - 1);
        while (md->slot[h] != 0)
            h = (h + 1) & (cap - 1);
        md->slot[h] = (uint32_t)i + 1;
    }
    return 0;
}

/* compact - close the gaps removed and replaced entries left (a persist
 * daemon replaces one entry per domain change, for as long as it runs) */
static void compact(struct mapdomains *md)
{
    size_t w = 0;

    for (size_t i = 0; i < md->n; i++)
        if (md->ent[i].dn != NULL)
            md->ent[w++] = md->ent[i];
    md->n = w;
    md->dead = 0;
}

/* mapdomains_resolve - replaced entries out, then primaries, then aliases */
int mapdomains_resolve(struct mapdomains *md, account_warn_fn *warn, void *ctx, char *err,
                       size_t errsz)
{
    size_t total = 0;

    free(md->names);
    md->names = NULL;
    md->nnames = 0;
    free(md->slot);
    md->slot = NULL;
    md->slots = 0;
    if (drop_replaced(md) < 0)
        goto nomem;
    compact(md);
    for (size_t i = 0; i < md->n; i++)
        total += 1 + md->ent[i].nalias;
    if ((md->names = malloc((total + 1) * sizeof(*md->names))) == NULL ||
        resolve_primaries(md, warn, ctx) < 0 || resolve_aliases(md, warn, ctx) < 0)
        goto nomem;
    qsort(md->names, md->nnames, sizeof(*md->names), name_cmp);
    if (names_hash(md) < 0)
        goto nomem;
    return 0;
nomem:
    snprintf(err, errsz, "mapdomains: out of memory");
    return -1;
}

/* name_find - the kept name domain (len bytes), or NULL */
static const struct mdname *name_find(const struct mapdomains *md, const char *domain,
                                      size_t len)
{
    if (md->slot == NULL)
        return NULL;
    for (size_t h = name_hash(domain, len) & (md->slots - 1); md->slot[h] != 0;
         h = (h + 1) & (md->slots - 1)) {
        const struct mdname *n = &md->names[md->slot[h] - 1];
        if (strlen(n->name) == len && memcmp(n->name, domain, len) == 0)
            return n;
    }
    return NULL;
}

/* mapdomains_primary - a kept primary domain */
bool mapdomains_primary(const struct mapdomains *md, const char *domain, size_t len)
{
    const struct mdname *n = name_find(md, domain, len);

    return n != NULL && n->primary;
}

/* mapdomains_primary_of - the primary an alias domain stands for */
const char *mapdomains_primary_of(const struct mapdomains *md, const char *domain, size_t len)
{
    const struct mdname *n = name_find(md, domain, len);

    return n != NULL && !n->primary ? md->ent[n->ent].primary : NULL;
}

/* mapdomains_kind - primary, alias or neither */
enum mapdomains_kind mapdomains_kind(const struct mapdomains *md, const char *domain, size_t len)
{
    const struct mdname *n = name_find(md, domain, len);

    return n == NULL ? MAPDOMAINS_NONE : n->primary ? MAPDOMAINS_PRIMARY : MAPDOMAINS_ALIAS;
}

/* mapdomains_aliases - the kept alias domains of a primary */
size_t mapdomains_aliases(const struct mapdomains *md, const char *primary, size_t len,
                          const char *const **list_r)
{
    const struct mdname *n = name_find(md, primary, len);

    *list_r = NULL;
    if (n == NULL || !n->primary || md->ent[n->ent].nkept == 0)
        return 0;
    *list_r = md->ent[n->ent].kept;
    return md->ent[n->ent].nkept;
}

/* mapdomains_name_count - names that stay */
size_t mapdomains_name_count(const struct mapdomains *md)
{
    return md->nnames;
}

/* mapdomains_name - name i, sorted */
const char *mapdomains_name(const struct mapdomains *md, size_t i)
{
    return i < md->nnames ? md->names[i].name : NULL;
}
