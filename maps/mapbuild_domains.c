/* mapbuild_domains - the phases of a resolve that domain entries add
 * (ldap_domain_filter set): accounts only in primary domains, and the
 * keys alias domains derive */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/address.h"
#include "maps/mapbuild_int.h"

/* mapbuild_domains_check - resolve the domain entries; an account whose
 * mail is in none of their primary domains is skipped (one warning) */
int mapbuild_domains_check(struct rstate *s)
{
    struct mapbuild *mb = s->mb;
    char err[128];
    struct view v;

    if (!domain_mode(mb))
        return 0;
    if (mb->domains == NULL && (mb->domains = mapdomains_new()) == NULL)
        return -1;
    if (mapdomains_resolve(mb->domains, mb->warn, mb->warn_ctx, err, sizeof(err)) < 0)
        return -1;
    for (uint32_t k = 0; k < s->n; k++) {
        if (s->gone[k])
            continue;
        rank_view(mb, s->r, k, &v);
        const char *d = domain_of(v.mail);
        if (mapdomains_primary(mb->domains, d, strlen(d)))
            continue;
        mapbuild_warnf(mb, v.dn, "account %s skipped: no domain entry names %s", v.mail, d);
        s->c->dropped++;
        s->gone[k] = true;
    }
    return 0;
}

/* A growing list of derived keys; the keys are offsets into text until
 * the list is complete (text moves while it grows). */
struct dlist {
    struct derived *d;
    size_t n, cap;
    char *text;
    size_t len, tcap;
};

/* list_key - the kept list called key exists (members are sorted by list) */
static bool list_key(const struct resolve *r, const char *key)
{
    size_t lo = 0, hi = r->nmembers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->members[mid].list, key);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* claimed - key (in alias domain d) is an alias or list of some entry: a
 * real claim beats a derived one. Most alias domains have no claim of
 * their own: s->taken spares them the searches. */
static bool claimed(const struct rstate *s, const char *key, const char *d)
{
    const struct resolve *r = s->r;

    if (!s->taken_lost && !mapbuild_domset_has(&s->taken, d))
        return false;
    uint32_t u = mapbuild_uaddr_find(r, key);

    return (u != MB_NONE && r->owner[u] != MB_NONE) || list_key(r, key);
}

/* dlist_add - u@D -> target for each alias domain D of target's domain
 * that no entry claims; -1 when out of memory */
static int dlist_add(const struct rstate *s, struct dlist *l, const char *target)
{
    const struct mapbuild *mb = s->mb;
    const char *const *alias;
    const char *d = domain_of(target);
    size_t local = (size_t)(d - target), na = mapdomains_aliases(mb->domains, d, strlen(d), &alias);
    char key[ADDRESS_MAX + 1];

    for (size_t i = 0; i < na; i++) {
        size_t dl = strlen(alias[i]);
        if (local + dl > ADDRESS_MAX)   /* longer than any address: no key */
            continue;
        memcpy(key, target, local);
        memcpy(key + local, alias[i], dl + 1);
        if (claimed(s, key, key + local))
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 1024;
            struct derived *p = realloc(l->d, cap * sizeof(*p));
            if (p == NULL)
                return -1;
            l->d = p;
            l->cap = cap;
        }
        if (l->len + local + dl + 1 > l->tcap) {
            size_t cap = l->tcap ? 2 * l->tcap : 65536;
            while (cap < l->len + local + dl + 1)
                cap *= 2;
            char *p = realloc(l->text, cap);
            if (p == NULL)
                return -1;
            l->text = p;
            l->tcap = cap;
        }
        memcpy(l->text + l->len, key, local + dl + 1);
        l->d[l->n++] = (struct derived){ .key = (const char *)(uintptr_t)l->len,
                                         .target = target };
        l->len += local + dl + 1;
    }
    return 0;
}

/* derived_cmp - by key */
static int derived_cmp(const void *a, const void *b)
{
    return strcmp(((const struct derived *)a)->key, ((const struct derived *)b)->key);
}

/* mapbuild_domains_derive - for every key u@P of mailboxes.cdb or
 * aliases.cdb (mails, aliases, lists that stay) and every alias domain D
 * of P, u@D -> u@P unless an entry claims u@D; sorted into r */
int mapbuild_domains_derive(struct rstate *s)
{
    const struct mapbuild *mb = s->mb;
    struct resolve *r = s->r;
    struct dlist l = { 0 };

    if (!domain_mode(mb))
        return 0;
    for (uint32_t u = 0; u < r->nu; u++)
        if (r->owner[u] != MB_NONE && dlist_add(s, &l, r->uaddr[u]) < 0)
            goto nomem;
    for (size_t i = 0; i < r->nmembers; i++)
        if ((i == 0 || strcmp(r->members[i].list, r->members[i - 1].list) != 0) &&
            dlist_add(s, &l, r->members[i].list) < 0)
            goto nomem;
    for (size_t i = 0; i < l.n; i++)
        l.d[i].key = l.text + (uintptr_t)l.d[i].key;
    if (l.n > 1)
        qsort(l.d, l.n, sizeof(*l.d), derived_cmp);
    r->derived = l.d;
    r->nderived = l.n;
    r->dtext = l.text;
    return 0;
nomem:
    free(l.d);
    free(l.text);
    return -1;
}
