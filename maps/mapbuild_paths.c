/* mapbuild_paths - homes and mailbox directories each account's own */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild_int.h"

/* One home or mailbox directory of an account that may collide with
 * another's: absolute, clean, with '/' appended, so that "the same or one
 * inside the other" is a prefix test on component boundaries. The homes
 * made from an address (mail_base/domain/local) are not listed: two of them
 * never nest, and a listed path is looked up against them instead. */
struct pathent {
    size_t off;              /* in struct paths.text */
    uint32_t rank;
    bool home;               /* else the mailbox */
    bool deflt;              /* made from the account's own address */
};

struct paths {
    char *text;
    size_t len, cap;
    struct pathent *ent;
    size_t n, cap_ent;
    struct pathent *dom;     /* (domain offset in the record, rank) of the homes
                                made from an address: listed when first needed */
    size_t ndom;
    bool dom_built;
};

/* paths_add - a + b + '/' as an entry; -1 when out of memory */
static int paths_add(struct paths *p, const char *a, size_t alen, const char *b, size_t blen,
                     uint32_t rank, bool home, bool deflt)
{
    size_t need = alen + blen + 2;

    if (p->len + need > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + need)
            cap *= 2;
        char *t = realloc(p->text, cap);
        if (t == NULL)
            return -1;
        p->text = t;
        p->cap = cap;
    }
    if (p->n == p->cap_ent) {
        size_t cap = p->cap_ent ? 2 * p->cap_ent : 256;
        struct pathent *e = realloc(p->ent, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        p->ent = e;
        p->cap_ent = cap;
    }
    p->ent[p->n++] = (struct pathent){ .off = p->len, .rank = rank, .home = home,
                                       .deflt = deflt };
    memcpy(p->text + p->len, a, alen);
    memcpy(p->text + p->len + alen, b, blen);
    p->len += alen + blen;
    p->text[p->len++] = '/';
    p->text[p->len++] = '\0';
    return 0;
}

/* skip_account - take account k out (its mail is free again), with the
 * warning naming both DNs */
static void skip_account(struct mapbuild *mb, struct resolve *r, bool *gone, uint32_t k,
                         const char *what, const char *path, const char *how,
                         uint32_t other, const char *owhat, struct mapbuild_counts *c)
{
    struct view v, w;

    rank_view(mb, r, k, &v);
    rank_view(mb, r, other, &w);
    mapbuild_warnf(mb, v.dn, "skipped: its %s %s is %s the %s of %s", what, path, how, owhat,
                   w.dn);
    gone[k] = true;
    r->owner[r->claims[r->cstart[k]].u] = MB_NONE;
    c->dropped++;
}

/* default_home_in - the first live account other than k whose home is
 * made from its address, in domain dom (NULL: any domain); MB_NONE none */
static uint32_t default_home_in(struct mapbuild *mb, struct resolve *r, const bool *gone,
                                struct paths *p, uint32_t n, const char *dom, size_t domlen,
                                uint32_t k)
{
    struct view v;

    if (!p->dom_built) {
        /* rare (a home at or above a domain directory): one pass */
        p->dom_built = true;
        for (uint32_t j = 0; j < n; j++) {
            if (gone[j])
                continue;
            rank_view(mb, r, j, &v);
            if (v.flags & F_HOME)
                continue;
            if ((p->ndom & (p->ndom - 1)) == 0) {   /* 0, 1, 2, 4, ...: double */
                struct pathent *e = realloc(p->dom, (p->ndom ? 2 * p->ndom : 1) * sizeof(*e));
                if (e == NULL)
                    return MB_NONE - 1;
                p->dom = e;
            }
            const char *rec = mb->rec[r->order[j]];
            p->dom[p->ndom++] = (struct pathent){ .off = (size_t)(domain_of(v.mail) - rec),
                                                  .rank = j };
        }
    }
    for (size_t i = 0; i < p->ndom; i++) {
        uint32_t j = p->dom[i].rank;
        if (j == k || gone[j])
            continue;
        const char *d = mb->rec[r->order[j]] + p->dom[i].off;
        if (dom == NULL || (strlen(d) == domlen && memcmp(d, dom, domlen) == 0))
            return j;
    }
    return MB_NONE;
}
/* paths_collect - the homes and mailboxes of live accounts that are not
 * both made from the address (a mailbox inside its own home is left out:
 * whatever collides with it collides with that home) */
static int paths_collect(struct mapbuild *mb, struct resolve *r, const bool *gone, uint32_t n,
                         struct paths *p)
{
    char home[MB_PATH_MAX], mbox[MB_PATH_MAX];
    const char *base = mb->uc.base;
    size_t bl = mb->uc.base_len;
    struct view v;

    for (uint32_t k = 0; k < n; k++) {
        if (gone[k])
            continue;
        unpack(mb->rec[r->order[k]], &v);
        if (!(v.flags & (F_HOME | F_MAILBOX)))
            continue;
        const char *h = v.home, *m = v.mailbox;
        if (h == NULL) {
            if (account_userrec_home(&mb->uc, v.mail, home, sizeof(home)) < 0)
                continue;   /* emitting it fails the build anyway */
            h = home;
        } else if (paths_add(p, h, strlen(h), "", 0, k, true, false) < 0) {
            return -1;
        }
        if (m == NULL) {
            if (account_default_mailbox(v.mail, mbox, sizeof(mbox)) < 0)
                continue;
            m = mbox;
        }
        size_t hl = strlen(h), ml = strlen(m);
        if (ml > 0 && m[ml - 1] == '/')
            ml--;
        /* base + "/" + mailbox inside h? */
        if (hl >= bl && strncmp(h, base, bl) == 0 && h[bl] == '/' &&
            ml >= hl - bl - 1 && strncmp(h + bl + 1, m, hl - bl - 1) == 0 &&
            (ml == hl - bl - 1 || m[hl - bl - 1] == '/'))
            continue;
        char pre[MB_PATH_MAX];
        if (bl + 1 >= sizeof(pre))
            continue;
        memcpy(pre, base, bl);
        pre[bl] = '/';
        if (paths_add(p, pre, bl + 1, m, ml, k, false, v.mailbox == NULL) < 0)
            return -1;
    }
    return 0;
}

/* paths_vs_defaults - a listed path that is, contains or lies inside the
 * home another live account makes from its address loses to it (that
 * home is the address's own, as a mail beats an alias) */
static int paths_vs_defaults(struct mapbuild *mb, struct resolve *r, bool *gone, uint32_t n,
                             struct paths *p, struct mapbuild_counts *c)
{
    size_t bl = mb->uc.base_len;
    char addr[MB_PATH_MAX], bs[MB_PATH_MAX];

    if (bl + 2 > sizeof(bs))
        return 0;
    memcpy(bs, mb->uc.base, bl);
    bs[bl] = '/';
    bs[bl + 1] = '\0';

    for (size_t i = 0; i < p->n; i++) {
        const struct pathent *e = &p->ent[i];
        const char *path = p->text + e->off;
        size_t plen = strlen(path);
        uint32_t j = MB_NONE, k = e->rank;
        const char *how = "inside";

        if (gone[k] || e->deflt)
            continue;
        /* path and base + "/" both end in '/': prefix tests */
        if (plen <= bl + 1 && strncmp(bs, path, plen) == 0) {
            j = default_home_in(mb, r, gone, p, n, NULL, 0, k);
            how = "around";
        } else if (plen > bl + 1 && strncmp(path, bs, bl + 1) == 0) {
            const char *dom = path + bl + 1, *slash = strchr(dom, '/');
            const char *loc = slash + 1, *end = strchr(loc, '/');
            if (end == NULL) {
                j = default_home_in(mb, r, gone, p, n, dom, (size_t)(slash - dom), k);
                how = "around";
            } else if ((size_t)(end - loc) + (size_t)(slash - dom) + 2 < sizeof(addr)) {
                size_t ll = (size_t)(end - loc), dl = (size_t)(slash - dom);
                memcpy(addr, loc, ll);
                addr[ll] = '@';
                memcpy(addr + ll + 1, dom, dl);
                addr[ll + 1 + dl] = '\0';
                uint32_t u = mapbuild_uaddr_find(r, addr);
                if (u != MB_NONE && r->owner[u] != MB_NONE && is_mail_claim(r, r->owner[u])) {
                    uint32_t o = r->claims[r->owner[u]].rank;
                    struct view w;
                    rank_view(mb, r, o, &w);
                    if (o != k && !gone[o] && !(w.flags & F_HOME))
                        j = o;
                }
                how = end[1] == '\0' ? "the same as" : "inside";
            }
        }
        if (j == MB_NONE - 1)
            return -1;
        if (j != MB_NONE)
            skip_account(mb, r, gone, k, e->home ? "home" : "mailbox", path, how, j, "home", c);
    }
    return 0;
}

/* A collision of two listed paths: the entries lo and hi. */
struct pathpair {
    uint32_t a, b;           /* indexes of p->ent */
    uint32_t hi;             /* the larger rank of the two */
};

/* pathpair_cmp - qsort order: by the larger rank */
static int pathpair_cmp(const void *x, const void *y)
{
    const struct pathpair *a = x, *b = y;

    return (a->hi > b->hi) - (a->hi < b->hi);
}

#define SLOT_EMPTY UINT64_MAX
#define TAG_MASK 0xffffffff00000000ull
#define PF_BLOCK 64

/* One ancestor of path i to look up: its first len bytes, hashed. */
struct probe {
    uint64_t hv;
    uint32_t i, len;
};

/* pair_add - entries a and b collide, unless they are one account's */
static int pair_add(struct pathpair **pair, size_t *n, size_t *cap, const struct pathent *ent,
                    uint32_t a, uint32_t b)
{
    if (ent[a].rank == ent[b].rank)
        return 0;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        struct pathpair *np = realloc(*pair, c * sizeof(*np));
        if (np == NULL)
            return -1;
        *pair = np;
        *cap = c;
    }
    (*pair)[(*n)++] = (struct pathpair){ .a = a, .b = b,
                                         .hi = ent[a].rank > ent[b].rank ? ent[a].rank
                                                                          : ent[b].rank };
    return 0;
}

/* The listed paths as a hash set, and the collisions found with it. */
struct pathidx {
    const struct paths *p;
    uint32_t live;           /* entries of p->ent still in the build */
    /* a slot: the upper half of the hash as a tag (most probes end at a
     * tag that differs, without touching the path), the entry below */
    uint64_t *slot;
    size_t cap;
    uint32_t *same;          /* entry -> the next one with the same path */
    size_t mindepth;         /* the fewest '/' of any path */
    struct pathpair *pair;
    size_t npair, cpair;
};

/* paths_hash - the hash of path and its depth (its '/' count) */
static uint64_t paths_hash(const char *path, size_t *depth_r)
{
    uint64_t hv = FNV_OFFSET;
    size_t depth = 0;

    for (const char *ch = path; *ch != '\0'; ch++) {
        hv = (hv ^ (unsigned char)*ch) * FNV_PRIME;
        depth += *ch == '/';
    }
    *depth_r = depth;
    return hv;
}

/* paths_insert - every path into the set; equal paths are chained and
 * collide. Slots are random memory: hashes are worked out a block ahead
 * and their slots prefetched, so that the misses overlap. */
static int paths_insert(struct pathidx *x)
{
    const struct paths *p = x->p;
    uint64_t hb[PF_BLOCK];

    for (uint32_t b0 = 0; b0 < x->live; b0 += PF_BLOCK) {
        uint32_t b1 = x->live - b0 < PF_BLOCK ? x->live : b0 + PF_BLOCK;
        for (uint32_t i = b0; i < b1; i++) {
            size_t depth;
            hb[i - b0] = paths_hash(p->text + p->ent[i].off, &depth);
            x->mindepth = depth < x->mindepth ? depth : x->mindepth;
            __builtin_prefetch(&x->slot[hb[i - b0] & (x->cap - 1)]);
        }
        for (uint32_t i = b0; i < b1; i++) {
            const char *cur = p->text + p->ent[i].off;
            uint64_t tag = hb[i - b0] & TAG_MASK, *slot = x->slot;
            size_t h = (size_t)hb[i - b0] & (x->cap - 1);
            x->same[i] = MB_NONE;
            while (slot[h] != SLOT_EMPTY &&
                   ((slot[h] & TAG_MASK) != tag ||
                    strcmp(p->text + p->ent[(uint32_t)slot[h]].off, cur) != 0))
                h = (h + 1) & (x->cap - 1);
            if (slot[h] != SLOT_EMPTY) {
                for (uint32_t j = (uint32_t)slot[h]; j != MB_NONE; j = x->same[j])
                    if (pair_add(&x->pair, &x->npair, &x->cpair, p->ent, j, i) < 0)
                        return -1;
                x->same[i] = (uint32_t)slot[h];
            }
            slot[h] = tag | i;
        }
    }
    return 0;
}

/* paths_probe - look up n ancestors: each one found in the set collides
 * with every path chained there */
static int paths_probe(struct pathidx *x, const struct probe *pb, size_t n)
{
    const struct paths *p = x->p;
    const uint64_t *slot = x->slot;

    for (size_t q = 0; q < n; q++) {
        size_t h = (size_t)pb[q].hv & (x->cap - 1);
        uint64_t tag = pb[q].hv & TAG_MASK;
        const char *path = p->text + p->ent[pb[q].i].off;
        for (; slot[h] != SLOT_EMPTY; h = (h + 1) & (x->cap - 1)) {
            if ((slot[h] & TAG_MASK) != tag)
                continue;
            const char *o = p->text + p->ent[(uint32_t)slot[h]].off;
            if (strncmp(o, path, pb[q].len) != 0 || o[pb[q].len] != '\0')
                continue;
            for (uint32_t j = (uint32_t)slot[h]; j != MB_NONE; j = x->same[j])
                if (pair_add(&x->pair, &x->npair, &x->cpair, p->ent, j, pb[q].i) < 0)
                    return -1;
            break;
        }
    }
    return 0;
}

/* paths_nested - every proper prefix ending in '/' of every path (only
 * those at least as deep as the shallowest path can be in the set),
 * hashed as paths_hash does, collected for a block of paths and their
 * slots prefetched, then looked up */
static int paths_nested(struct pathidx *x)
{
    const struct paths *p = x->p;
    /* a block, and room for every '/' of one more path past it */
    struct probe *pb = malloc((PF_BLOCK + MB_PATH_MAX + 2) * sizeof(*pb));
    size_t npb = 0;
    int rc = -1;

    if (pb == NULL)
        return -1;
    for (uint32_t i = 0; i <= x->live; i++) {
        const char *cur = i < x->live ? p->text + p->ent[i].off : NULL;
        uint64_t hv = FNV_OFFSET;
        size_t depth = 0;
        for (size_t k = 0; cur != NULL && cur[k] != '\0' && cur[k + 1] != '\0'; k++) {
            hv = (hv ^ (unsigned char)cur[k]) * FNV_PRIME;
            if (cur[k] != '/' || ++depth < x->mindepth)
                continue;
            pb[npb++] = (struct probe){ .hv = hv, .i = i, .len = (uint32_t)(k + 1) };
            __builtin_prefetch(&x->slot[hv & (x->cap - 1)]);
        }
        if (npb < PF_BLOCK && cur != NULL)
            continue;
        if (paths_probe(x, pb, npb) < 0)
            goto out;
        npb = 0;
    }
    rc = 0;
out:
    free(pb);
    return rc;
}

/* paths_decide - a path made from the address beats any other; then the
 * smaller DN, deciding in DN order so that an entry already skipped takes
 * nothing from the ones after it */
static void paths_decide(struct mapbuild *mb, struct resolve *r, bool *gone,
                         struct pathidx *x, struct mapbuild_counts *c)
{
    const struct paths *p = x->p;

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && x->npair > 1)
            qsort(x->pair, x->npair, sizeof(*x->pair), pathpair_cmp);
        for (size_t i = 0; i < x->npair; i++) {
            const struct pathent *a = &p->ent[x->pair[i].a], *b = &p->ent[x->pair[i].b];
            if (gone[a->rank] || gone[b->rank])
                continue;
            const struct pathent *lose, *win;
            if (pass == 0 && a->deflt != b->deflt) {
                lose = a->deflt ? b : a;
            } else if (pass == 1) {
                lose = a->rank == x->pair[i].hi ? a : b;
            } else {
                continue;
            }
            win = lose == a ? b : a;
            const char *lp = p->text + lose->off, *wp = p->text + win->off;
            size_t ll = strlen(lp), wl = strlen(wp);
            skip_account(mb, r, gone, lose->rank, lose->home ? "home" : "mailbox", lp,
                         ll == wl ? "the same as" : ll > wl ? "inside" : "around", win->rank,
                         win->home ? "home" : "mailbox", c);
        }
    }
}

/* mapbuild_paths_resolve - homes and mailboxes unique per account: of two
 * that are the same or nest, the one made from the account's own address
 * wins, else the smaller DN; the other entry is skipped with one warning.
 * O(n) hash probes in the accounts with a home or mailbox of their own;
 * nothing for those that use the defaults. No sort: a hash set of the
 * paths, then each path's ancestors looked up in it. */
int mapbuild_paths_resolve(struct mapbuild *mb, struct resolve *r, bool *gone,
                           struct mapbuild_counts *c)
{
    uint32_t n = (uint32_t)(mb->count - mb->removed);
    struct paths p = { 0 };
    struct pathidx x = { .p = &p, .cap = 16, .mindepth = SIZE_MAX };
    int rc = -1;

    if (paths_collect(mb, r, gone, n, &p) < 0 || paths_vs_defaults(mb, r, gone, n, &p, c) < 0)
        goto out;
    if (p.n > UINT32_MAX - 1) {
        rc = -2;
        goto out;
    }
    for (size_t i = 0; i < p.n; i++)
        if (!gone[p.ent[i].rank])
            p.ent[x.live++] = p.ent[i];
    while (x.cap < 2 * (size_t)x.live)
        x.cap *= 2;
    x.slot = malloc(x.cap * sizeof(*x.slot));
    x.same = malloc((x.live ? x.live : 1) * sizeof(*x.same));
    if (x.slot == NULL || x.same == NULL)
        goto out;
    for (size_t i = 0; i < x.cap; i++)
        x.slot[i] = SLOT_EMPTY;
    if (paths_insert(&x) < 0 || paths_nested(&x) < 0)
        goto out;
    paths_decide(mb, r, gone, &x, c);
    rc = 0;
out:
    free(p.text);
    free(p.ent);
    free(p.dom);
    free(x.slot);
    free(x.same);
    free(x.pair);
    return rc;
}
