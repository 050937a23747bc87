/* mapbuild_resolve - who owns which address and which memberships
 * count, decided once per set of accounts (rules in mapbuild.h) */

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild_int.h"

/* member_cmp - qsort order of memberships: list, then member */
static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->list, y->list);

    return c != 0 ? c : strcmp(x->mail, y->mail);
}

/* fnv1a - a string hash for the domain set */
static size_t fnv1a(const char *s)
{
    uint64_t h = FNV_OFFSET;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return (size_t)h;
}

/* mapbuild_resolve_free - release the scratch state */
void mapbuild_resolve_free(struct resolve *r)
{
    free(r->order);
    free(r->cstart);
    free(r->claims);
    free(r->uaddr);
    free(r->owner);
    free(r->members);
    free(r->derived);
    free(r->dtext);
    memset(r, 0, sizeof(*r));
}

/* mapbuild_warnf - a conflict warning about the account with normalised DN dn */
__attribute__((format(printf, 3, 4)))
void mapbuild_warnf(struct mapbuild *mb, const char *dn, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (mb->warn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mb->warn(mb->warn_ctx, dn, msg);
}

/* mapbuild_uaddr_find - the index of addr among the unique addresses, or MB_NONE */
uint32_t mapbuild_uaddr_find(const struct resolve *r, const char *addr)
{
    uint32_t lo = 0, hi = r->nu;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->uaddr[mid], addr);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return MB_NONE;
}

/* mapbuild_domset_add - put d in the set unless there; -1 when out of memory */
int mapbuild_domset_add(struct domset *s, const char *d)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        const char **slot = calloc(cap, sizeof(*slot));
        if (slot == NULL)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slot[i] == NULL)
                continue;
            size_t h = fnv1a(s->slot[i]) & (cap - 1);
            while (slot[h] != NULL)
                h = (h + 1) & (cap - 1);
            slot[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t h = fnv1a(d) & (s->cap - 1);
    while (s->slot[h] != NULL) {
        if (strcmp(s->slot[h], d) == 0)
            return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->slot[h] = d;
    s->n++;
    return 0;
}

/* mapbuild_domset_has - d is in the set */
bool mapbuild_domset_has(const struct domset *s, const char *d)
{
    if (s->cap == 0)
        return false;
    size_t h = fnv1a(d) & (s->cap - 1);
    while (s->slot[h] != NULL) {
        if (strcmp(s->slot[h], d) == 0)
            return true;
        h = (h + 1) & (s->cap - 1);
    }
    return false;
}

/* local_domains - the domains of the mailboxes that stay (domain entries
 * name them instead in domain mode) */
static int local_domains(const struct mapbuild *mb, const struct resolve *r, const bool *gone,
                         struct domset *set)
{
    struct view v;
    uint32_t n = (uint32_t)(mb->count - mb->removed);

    for (uint32_t k = 0; k < n && !domain_mode(mb); k++) {
        if (gone[k])
            continue;
        rank_view(mb, r, k, &v);
        if (mapbuild_domset_add(set, domain_of(v.mail)) < 0)
            return -1;
    }
    return 0;
}

/* domain_allowed - an alias or list address may be local: its domain has
 * a mailbox (in domain mode: a domain entry names it) or is one of
 * alias_domains. In domain mode an alias domain with a claim goes into
 * s->taken: only there can a claim beat a key the alias domain derives. */
static bool domain_allowed(struct rstate *s, const char *addr)
{
    const struct mapbuild *mb = s->mb;
    const char *d = domain_of(addr);
    size_t len = strlen(d);

    if (!domain_mode(mb)) {
        if (mapbuild_domset_has(&s->local, d))
            return true;
    } else {
        enum mapdomains_kind k = mapdomains_kind(mb->domains, d, len);
        if (k == MAPDOMAINS_ALIAS && mapbuild_domset_add(&s->taken, d) < 0)
            s->taken_lost = true;
        if (k != MAPDOMAINS_NONE)
            return true;
    }
    return conf_alias_domain(mb->cfg, d, len);
}

/* not_local - why domain_allowed said no, for the warnings */
static const char *not_local(const struct mapbuild *mb)
{
    return domain_mode(mb) ? "no domain entry names" : "no mailbox in";
}

/* order_start - the address sort (in a second thread for a large build)
 * and the DN order of the records */
static int order_start(struct rstate *s)
{
    struct resolve *r = s->r;
    uint32_t n = s->n;

    s->threaded = n >= PARALLEL_MIN &&
                  pthread_create(&s->sorter, NULL, mapbuild_order_addr, &s->as) == 0;
    if (!s->threaded)
        mapbuild_order_addr(&s->as);
    r->order = malloc((n ? n : 1) * sizeof(*r->order));
    r->cstart = malloc(((size_t)n + 1) * sizeof(*r->cstart));
    s->gone = calloc(n ? n : 1, sizeof(*s->gone));
    if (r->order == NULL || r->cstart == NULL || s->gone == NULL)
        return -1;
    return mapbuild_order_dn(s->mb, n, r->order);
}

/* claims_collect - the claims in rank order, each account's mail first;
 * an exact duplicate record claims nothing */
static int claims_collect(struct rstate *s)
{
    const struct mapbuild *mb = s->mb;
    struct resolve *r = s->r;
    size_t nclaims = 0;
    struct view v;

    for (uint32_t k = 0; k < s->n; k++) {
        const char *cur = mb->rec[r->order[k]];
        if (k > 0 && rec_cmp(mb->rec[r->order[k - 1]], cur) == 0) {
            s->gone[k] = true;
            continue;
        }
        unpack_keys(cur, &v);
        nclaims += 1 + (size_t)v.nalias;
    }
    if (nclaims >= UINT32_MAX)
        return -2;
    r->claims = malloc((nclaims ? nclaims : 1) * sizeof(*r->claims));
    if (r->claims == NULL)
        return -1;
    for (uint32_t k = 0; k < s->n; k++) {
        r->cstart[k] = r->nclaims;
        if (s->gone[k])
            continue;
        rank_view(mb, r, k, &v);
        r->claims[r->nclaims++] = (struct claim){ .addr = v.mail, .rank = k };
        const char *a = v.aliases;
        for (uint32_t i = 0; i < v.nalias; i++, a = next_str(a))
            r->claims[r->nclaims++] = (struct claim){ .addr = a, .rank = k };
    }
    r->cstart[s->n] = r->nclaims;
    return 0;
}

/* claims_by_address - perm = the claims in address order, from the other
 * thread's sort: a claim is (record, position), its index cstart[rank] +
 * position; the claims of a duplicate record do not count */
static int claims_by_address(struct rstate *s, uint32_t *perm)
{
    const struct mapbuild *mb = s->mb;
    struct resolve *r = s->r;
    uint32_t *rank_of, m = 0;

    if (s->threaded) {
        pthread_join(s->sorter, NULL);
        s->threaded = false;
    }
    if (s->as.rc < 0)
        return s->as.rc;
    rank_of = malloc((mb->count ? mb->count : 1) * sizeof(*rank_of));
    if (rank_of == NULL)
        return -1;
    for (uint32_t k = 0; k < s->n; k++)
        rank_of[r->order[k]] = k;
    for (size_t j = 0; j < s->as.n; j++) {
        uint32_t k = rank_of[s->as.refs[j].rid];
        if (!s->gone[k] && m < r->nclaims)
            perm[m++] = r->cstart[k] + s->as.refs[j].pos;
    }
    free(rank_of);
    return m == r->nclaims ? 0 : -1;    /* cannot differ: the same claims */
}

/* addresses_number - number the distinct addresses of perm (the claims
 * in address order); one address claimed more than once has its claims
 * put in claim order (rank first). Nobody owns any yet. */
static int addresses_number(struct resolve *r, uint32_t *perm)
{
    uint32_t m = r->nclaims;

    r->uaddr = malloc((r->nclaims ? r->nclaims : 1) * sizeof(*r->uaddr));
    if (r->uaddr == NULL)
        return -1;
    for (uint32_t i = 0, j; i < m; i = j) {
        const char *addr = r->claims[perm[i]].addr;
        for (j = i + 1; j < m && strcmp(r->claims[perm[j]].addr, addr) == 0; j++)
            ;
        for (uint32_t a = i + 1; a < j; a++) {
            uint32_t t = perm[a], b = a;
            for (; b > i && perm[b - 1] > t; b--)
                perm[b] = perm[b - 1];
            perm[b] = t;
        }
        for (uint32_t a = i; a < j; a++)
            r->claims[perm[a]].u = r->nu;
        r->uaddr[r->nu++] = r->claims[perm[i]].addr;
    }
    r->owner = malloc((r->nu ? r->nu : 1) * sizeof(*r->owner));
    if (r->owner == NULL)
        return -1;
    for (uint32_t u = 0; u < r->nu; u++)
        r->owner[u] = MB_NONE;
    return 0;
}

/* claims_index - every claim numbered by its distinct address */
static int claims_index(struct rstate *s)
{
    struct resolve *r = s->r;
    uint32_t *perm = malloc((r->nclaims ? r->nclaims : 1) * sizeof(*perm));
    int rc = -1;

    if (perm != NULL && (rc = claims_by_address(s, perm)) == 0)
        rc = addresses_number(r, perm);
    free(perm);
    return rc;
}

/* mails_resolve - mail claims first: a mail beats any alias, and between
 * two mails the smaller DN keeps it; the loser has lost its identity */
static int mails_resolve(struct rstate *s)
{
    struct resolve *r = s->r;
    struct view v, w;

    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t c0 = r->cstart[k];
        if (s->gone[k])
            continue;
        uint32_t u = r->claims[c0].u;
        if (r->owner[u] != MB_NONE) {
            rank_view(s->mb, r, k, &v);
            rank_view(s->mb, r, r->claims[r->owner[u]].rank, &w);
            mapbuild_warnf(s->mb, v.dn, "account %s dropped: the address is the mail of %s",
                           v.mail, w.dn);
            s->c->dropped++;
            s->gone[k] = true;     /* claims nothing, emits nothing */
            continue;
        }
        r->owner[u] = c0;
    }
    return 0;
}

/* paths_resolve - homes and mailboxes: each account's own */
static int paths_resolve(struct rstate *s)
{
    return mapbuild_paths_resolve(s->mb, s->r, s->gone, s->c);
}

/* aliases_resolve - aliases (in DN order, first come first served) only
 * in the domains of the mailboxes that stay and in alias_domains; counts
 * the memberships and passwords of the accounts that stay */
static int aliases_resolve(struct rstate *s)
{
    struct mapbuild *mb = s->mb;
    struct resolve *r = s->r;
    struct view v, w;

    if (local_domains(mb, r, s->gone, &s->local) < 0)
        return -1;
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t c0 = r->cstart[k], c1 = r->cstart[k + 1];
        if (s->gone[k])
            continue;
        for (uint32_t ci = c0 + 1; ci < c1; ci++) {
            uint32_t u = r->claims[ci].u;
            if (!domain_allowed(s, r->claims[ci].addr)) {
                rank_view(mb, r, k, &v);
                mapbuild_warnf(mb, v.dn, "alias %s of %s dropped: %s %s and not in "
                               "alias_domains", r->claims[ci].addr, v.mail, not_local(mb),
                               domain_of(r->claims[ci].addr));
                s->c->lost++;
                continue;
            }
            if (r->owner[u] != MB_NONE) {
                uint32_t oc = r->owner[u];
                rank_view(mb, r, k, &v);
                rank_view(mb, r, r->claims[oc].rank, &w);
                mapbuild_warnf(mb, v.dn, "alias %s of %s dropped: the address is the %s of %s",
                               r->claims[ci].addr, v.mail,
                               r->cstart[r->claims[oc].rank] == oc ? "mail" : "alias", w.dn);
                s->c->lost++;
                continue;
            }
            r->owner[u] = ci;
        }
        rank_view(mb, r, k, &v);
        s->nmem += v.ngroup;
        if (v.flags & F_PASSWORD)
            s->c->passwords++;
        if (v.flags & F_FORWARD)
            r->nforward++;
    }
    return 0;
}

/* members_collect - the memberships of the accounts that stay, in lists
 * whose domain is local; sorted by list, then member */
static int members_collect(struct rstate *s)
{
    struct mapbuild *mb = s->mb;
    struct resolve *r = s->r;
    struct view v;

    r->members = malloc((s->nmem ? s->nmem : 1) * sizeof(*r->members));
    if (r->members == NULL)
        return -1;
    for (uint32_t k = 0; k < s->n; k++) {
        if (s->gone[k])
            continue;
        rank_view(mb, r, k, &v);
        const char *g = v.groups;
        for (uint32_t i = 0; i < v.ngroup; i++, g = next_str(g)) {
            if (!domain_allowed(s, g)) {
                mapbuild_warnf(mb, v.dn, "membership of %s in list %s dropped: %s %s and "
                               "not in alias_domains", v.mail, g, not_local(mb), domain_of(g));
                s->c->lost++;
                continue;
            }
            r->members[r->nmembers++] = (struct member){ .list = g, .mail = v.mail, .rank = k };
        }
    }
    qsort(r->members, r->nmembers, sizeof(*r->members), member_cmp);
    return 0;
}

/* lists_resolve - a list address that is someone's mail or alias stays
 * theirs (its memberships go, with one warning); a member listed twice
 * counts once */
static int lists_resolve(struct rstate *s)
{
    struct resolve *r = s->r;
    size_t kept = 0;
    struct view v, w;

    for (size_t i = 0; i < r->nmembers;) {
        size_t j = i;
        while (j < r->nmembers && strcmp(r->members[j].list, r->members[i].list) == 0)
            j++;
        uint32_t u = mapbuild_uaddr_find(r, r->members[i].list);
        if (u != MB_NONE && r->owner[u] != MB_NONE) {
            uint32_t oc = r->owner[u];
            rank_view(s->mb, r, r->members[i].rank, &v);
            rank_view(s->mb, r, r->claims[oc].rank, &w);
            mapbuild_warnf(s->mb, v.dn, "list %s: %zu membership%s dropped (%s among them): "
                           "the address is the %s of %s", r->members[i].list, j - i,
                           j - i == 1 ? "" : "s", v.mail,
                           r->cstart[r->claims[oc].rank] == oc ? "mail" : "alias", w.dn);
            s->c->lost += j - i;
        } else {
            for (size_t k = i; k < j; k++)
                if (k == i || strcmp(r->members[k].mail, r->members[k - 1].mail) != 0)
                    r->members[kept++] = r->members[k];
        }
        i = j;
    }
    r->nmembers = kept;
    return 0;
}

/* sorted_keep - the orders, kept for the next resolve, which sorts only
 * what is added by then */
static int sorted_keep(struct rstate *s)
{
    struct mapbuild *mb = s->mb;
    uint32_t *dn = malloc((s->n ? s->n : 1) * sizeof(*dn));

    if (dn == NULL)
        return -1;
    memcpy(dn, s->r->order, (size_t)s->n * sizeof(*dn));
    free(mb->sorted.dn);
    free(mb->sorted.addr);
    mb->sorted = (struct sorted){ .dn = dn, .ndn = s->n, .addr = s->as.refs,
                                  .naddr = s->as.n, .upto = mb->count };
    s->as.refs = NULL;
    return 0;
}

/* resolve - decide who owns which address and which memberships count,
 * phase by phase; a phase builds on what the ones before it decided */
static int resolve(struct mapbuild *mb, struct resolve *r, struct mapbuild_counts *c)
{
    static int (*const phase[])(struct rstate *) = {
        order_start, claims_collect, claims_index, mapbuild_domains_check, mails_resolve,
        paths_resolve, aliases_resolve, members_collect, lists_resolve,
        mapbuild_domains_derive, sorted_keep,
    };
    struct rstate s = { .mb = mb, .r = r, .c = c, .n = (uint32_t)(mb->count - mb->removed),
                        .as = { .mb = mb } };
    int rc = 0;

    for (size_t i = 0; i < sizeof(phase) / sizeof(phase[0]) && rc == 0; i++)
        rc = phase[i](&s);
    if (s.threaded)
        pthread_join(s.sorter, NULL);
    free(s.as.refs);
    free(s.local.slot);
    free(s.taken.slot);
    free(s.gone);
    return rc;
}

/* mapbuild_resolve - decide who owns what, once per set of accounts */
int mapbuild_resolve(struct mapbuild *mb, struct mapbuild_counts *counts_r,
                     char *err, size_t errsz)
{
    struct mapbuild_counts c = { .accounts = mb->count - mb->removed };
    int x;

    mapbuild_resolve_free(&mb->res);
    mb->resolved = false;
    if ((x = resolve(mb, &mb->res, &c)) < 0) {
        snprintf(err, errsz, x == -2 ? "too many addresses" : "out of memory");
        mapbuild_resolve_free(&mb->res);
        return -1;
    }
    mb->resolved = true;
    if (counts_r != NULL)
        *counts_r = c;
    return 0;
}
