/* mapbuild - accounts -> the four maps (conflicts, lists, domains) */

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild.h"
#include "maps/mapdomains.h"

#define MB_CHUNK (1024 * 1024)
#define MB_NONE UINT32_MAX
#define MB_PATH_MAX 8192

/* Record flags */
#define F_HOME 0x01        /* home differs from the default: stored */
#define F_MAILBOX 0x02     /* mailbox differs from the default: stored */
#define F_STORAGE 0x04     /* account.storage_set */
#define F_PASSWORD 0x08

/* Packed account record in the arena (no alignment: integers are copied
 * out with memcpy):
 *   u32 len, u8 flags, u32 uid, u32 gid, u64 quota, u32 nalias, u32 ngroup,
 *   u32 offset of the aliases, u32 offset of the groups,
 *   then NUL terminated: dn, mail, [home], [mailbox], [password],
 *   aliases..., groups...
 * Storing facts rather than the finished user record keeps a million
 * accounts in well under the size of the maps they make. */
#define REC_HDR 37

struct chunk {
    struct chunk *next;
    size_t used, size;
    char data[];
};

/* An unpacked record: pointers into the arena. */
struct view {
    uint32_t len;
    uint8_t flags;
    uint32_t uid, gid;
    uint64_t quota;
    uint32_t nalias, ngroup;
    const char *dn, *mail, *home, *mailbox, *password, *aliases, *groups;
};

/* One address claimed by an account: its mail (the first claim of the
 * account) or an alias. */
struct claim {
    const char *addr;
    uint32_t rank;           /* the account's position in DN order */
    uint32_t u;              /* index of the unique address */
};

/* One list membership. */
struct member {
    const char *list;
    const char *mail;
    uint32_t rank;
};

/* Who owns which address, as mapbuild_resolve decided. */
struct resolve {
    uint32_t *order;         /* rank -> record index */
    uint32_t *cstart;        /* rank -> first claim; [n] = total */
    struct claim *claims;
    uint32_t nclaims;
    const char **uaddr;      /* unique addresses, sorted */
    uint32_t *owner;         /* unique address -> winning claim, or MB_NONE */
    uint32_t nu;
    struct member *members;  /* kept memberships, sorted by list then mail */
    size_t nmembers;
};

/* One claim in address order: the address, the claiming record, and 0
 * for its mail or i + 1 for its alias i. */
struct addr_ref {
    const char *addr;
    uint32_t rid;
    uint32_t pos;
};

/* What the last resolve sorted, kept so that the next one sorts only the
 * records added since and merges them in: persist mode changes a few
 * accounts of a million between two resolves. Records removed since are
 * still listed; they are skipped when the lists are merged. */
struct sorted {
    uint32_t *dn;            /* record ids in DN order */
    size_t ndn;
    struct addr_ref *addr;   /* claims in address order */
    size_t naddr;
    size_t upto;             /* records [0, upto) are in both */
};

struct mapbuild {
    const struct conf *cfg;
    struct account_userrec_ctx uc; /* cfg's constants, cleaned once */
    account_warn_fn *warn;
    void *warn_ctx;
    struct chunk *chunks;
    const char **rec;         /* packed records, in the order added;
                                 NULL where one was removed */
    size_t count, cap;
    size_t removed;           /* NULL slots in rec */
    struct resolve res;       /* the last mapbuild_resolve */
    bool resolved;            /* res is for the accounts there are */
    struct sorted sorted;     /* the last resolve's sort results */
    struct mapdomains *domains; /* domain entries (ldap_domain_filter) */
};

/* arena_alloc - n bytes that live as long as the build */
static char *arena_alloc(struct mapbuild *mb, size_t n)
{
    struct chunk *c = mb->chunks;

    if (c == NULL || c->size - c->used < n) {
        size_t size = n > MB_CHUNK ? n : MB_CHUNK;
        struct chunk *nc = malloc(sizeof(*nc) + size);
        if (nc == NULL)
            return NULL;
        nc->used = 0;
        nc->size = size;
        /* A big record gets its own chunk behind the current one, so the
         * current one keeps filling. */
        if (c != NULL && size > MB_CHUNK) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            mb->chunks = nc;
        }
        c = nc;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static void resolve_free(struct resolve *r);
static bool is_mail_claim(const struct resolve *r, uint32_t c);

/* mapbuild_new - an empty build */
struct mapbuild *mapbuild_new(const struct conf *cfg, account_warn_fn *warn, void *ctx)
{
    struct mapbuild *mb = calloc(1, sizeof(*mb));
    char err[64];

    if (mb == NULL)
        return NULL;
    if (account_userrec_ctx_init(&mb->uc, cfg, err, sizeof(err)) < 0) {
        free(mb);
        return NULL;
    }
    mb->cfg = cfg;
    mb->warn = warn;
    mb->warn_ctx = ctx;
    return mb;
}

/* mapbuild_free - release the build and every record */
void mapbuild_free(struct mapbuild *mb)
{
    if (mb == NULL)
        return;
    for (struct chunk *c = mb->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    resolve_free(&mb->res);
    account_userrec_ctx_free(&mb->uc);
    free(mb->sorted.dn);
    free(mb->sorted.addr);
    free(mb->rec);
    mapdomains_free(mb->domains);
    free(mb);
}

/* mapbuild_count - accounts in the build */
size_t mapbuild_count(const struct mapbuild *mb)
{
    return mb->count - mb->removed;
}

/* mapbuild_remove - forget one account (its bytes stay in the arena) */
void mapbuild_remove(struct mapbuild *mb, uint32_t id)
{
    if (id < mb->count && mb->rec[id] != NULL) {
        mb->rec[id] = NULL;
        mb->removed++;
        mb->resolved = false;
    }
}

/* mapbuild_removed - arena records no longer in the build */
size_t mapbuild_removed(const struct mapbuild *mb)
{
    return mb->removed;
}

/* str_cmp - qsort order of C string pointers */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* canon_list - v sorted, unique and without skip, as a new pointer array
 * (the strings stay v's). -1 when out of memory. */
static int canon_list(char *const *v, size_t n, const char *skip,
                      const char ***out_r, size_t *n_r)
{
    const char **out;
    size_t u = 0;

    *out_r = NULL;
    *n_r = 0;
    if (n == 0)
        return 0;
    if ((out = malloc(n * sizeof(*out))) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] != NULL && v[i][0] != '\0' && (skip == NULL || strcmp(v[i], skip) != 0))
            out[u++] = v[i];
    qsort(out, u, sizeof(*out), str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < u; i++)
        if (k == 0 || strcmp(out[k - 1], out[i]) != 0)
            out[k++] = out[i];
    *out_r = out;
    *n_r = k;
    return 0;
}

/* put_u32, put_u64, get_u32, get_u64 - unaligned integers in records */
static void put_u32(char *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put_u64(char *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }
static uint32_t get_u32(const char *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint64_t get_u64(const char *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }

/* put_str - copy a C string with its NUL; returns the end */
static char *put_str(char *p, const char *s, size_t len)
{
    memcpy(p, s, len + 1);
    return p + len + 1;
}

/* mapbuild_add - pack a copy of a into the arena */
int mapbuild_add(struct mapbuild *mb, const struct account *a, char *err, size_t errsz)
{
    return mapbuild_add_id(mb, a, NULL, err, errsz);
}

/* mapbuild_add_id - mapbuild_add, telling the account's id */
int mapbuild_add_id(struct mapbuild *mb, const struct account *a, uint32_t *id_r,
                    char *err, size_t errsz)
{
    const char **al = NULL, **gl = NULL;
    size_t na = 0, ng = 0, len, dnlen, maillen, homelen = 0, mboxlen = 0, pwlen = 0;
    char def[MB_PATH_MAX];
    uint8_t flags = 0;
    const char *dn = a->dn ? a->dn : "";
    int rc = -1;

    if (a->mail == NULL || a->mail[0] == '\0' || strchr(a->mail, '@') == NULL ||
        a->home == NULL || a->home[0] == '\0' ||
        a->mailbox == NULL || a->mailbox[0] == '\0') {
        snprintf(err, errsz, "account without mail, home or mailbox");
        return -1;
    }
    if (mb->count >= UINT32_MAX - 1) {
        snprintf(err, errsz, "too many accounts");
        return -1;
    }
    if (canon_list(a->aliases, a->alias_count, a->mail, &al, &na) < 0 ||
        canon_list(a->groups, a->group_count, NULL, &gl, &ng) < 0) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    dnlen = strlen(dn);
    maillen = strlen(a->mail);
    len = REC_HDR + dnlen + 1 + maillen + 1;
    if (account_userrec_home(&mb->uc, a->mail, def, sizeof(def)) < 0 ||
        strcmp(def, a->home) != 0) {
        flags |= F_HOME;
        homelen = strlen(a->home);
        len += homelen + 1;
    }
    if (account_default_mailbox(a->mail, def, sizeof(def)) < 0 ||
        strcmp(def, a->mailbox) != 0) {
        flags |= F_MAILBOX;
        mboxlen = strlen(a->mailbox);
        len += mboxlen + 1;
    }
    if (a->storage_set)
        flags |= F_STORAGE;
    if (a->password != NULL) {
        flags |= F_PASSWORD;
        pwlen = strlen(a->password);
        len += pwlen + 1;
    }
    for (size_t i = 0; i < na; i++)
        len += strlen(al[i]) + 1;
    for (size_t i = 0; i < ng; i++)
        len += strlen(gl[i]) + 1;
    if (len > UINT32_MAX) {
        snprintf(err, errsz, "%s: account too large", a->mail);
        goto out;
    }
    if (mb->count == mb->cap) {
        size_t cap = mb->cap ? mb->cap * 2 : 1024;
        const char **r = realloc(mb->rec, cap * sizeof(*r));
        if (r == NULL) {
            snprintf(err, errsz, "out of memory");
            goto out;
        }
        mb->rec = r;
        mb->cap = cap;
    }
    char *rec = arena_alloc(mb, len), *p = rec;
    if (rec == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    put_u32(p, (uint32_t)len);
    p[4] = (char)flags;
    put_u32(p + 5, a->uid);
    put_u32(p + 9, a->gid);
    put_u64(p + 13, a->quota);
    put_u32(p + 21, (uint32_t)na);
    put_u32(p + 25, (uint32_t)ng);
    p += REC_HDR;
    p = put_str(p, dn, dnlen);
    p = put_str(p, a->mail, maillen);
    if (flags & F_HOME)
        p = put_str(p, a->home, homelen);
    if (flags & F_MAILBOX)
        p = put_str(p, a->mailbox, mboxlen);
    if (flags & F_PASSWORD)
        p = put_str(p, a->password, pwlen);
    put_u32(rec + 29, (uint32_t)(p - rec));
    for (size_t i = 0; i < na; i++)
        p = put_str(p, al[i], strlen(al[i]));
    put_u32(rec + 33, (uint32_t)(p - rec));
    for (size_t i = 0; i < ng; i++)
        p = put_str(p, gl[i], strlen(gl[i]));
    if (id_r != NULL)
        *id_r = (uint32_t)mb->count;
    mb->rec[mb->count++] = rec;
    mb->resolved = false;
    rc = 0;
out:
    free(al);
    free(gl);
    return rc;
}

/* mapbuild_add_entry - map one entry and add it */
int mapbuild_add_entry(struct mapbuild *mb, const struct entry *e, char *err, size_t errsz)
{
    struct account a;
    int rc;

    account_init(&a);
    rc = account_from_entry(mb->cfg, e, &a, mb->warn, mb->warn_ctx, err, errsz);
    if (rc == 1 && mapbuild_add(mb, &a, err, errsz) < 0)
        rc = -1;
    account_free(&a);
    return rc;
}

/* mapbuild_add_domain - into the build's domain set (made when first needed) */
int mapbuild_add_domain(struct mapbuild *mb, const struct entry *e, char *err, size_t errsz)
{
    if (mb->domains == NULL && (mb->domains = mapdomains_new()) == NULL) {
        snprintf(err, errsz, "mapbuild: out of memory");
        return -1;
    }
    mb->resolved = false;
    return mapdomains_add_entry(mb->domains, mb->cfg, e, mb->warn, mb->warn_ctx, err, errsz) < 0
               ? -1 : 0;
}

/* mapbuild_remove_domain - out of the build's domain set */
int mapbuild_remove_domain(struct mapbuild *mb, const char *dn)
{
    if (mb->domains == NULL)
        return 0;
    mb->resolved = false;
    return mapdomains_remove(mb->domains, dn);
}

/* next_str - the string after s in a record */
static const char *next_str(const char *s)
{
    return s + strlen(s) + 1;
}

/* unpack_keys - the fields resolution needs: DN, mail, aliases, groups */
static void unpack_keys(const char *rec, struct view *v)
{
    v->len = get_u32(rec);
    v->flags = (uint8_t)rec[4];
    v->nalias = get_u32(rec + 21);
    v->ngroup = get_u32(rec + 25);
    v->dn = rec + REC_HDR;
    v->mail = next_str(v->dn);
    v->aliases = rec + get_u32(rec + 29);
    v->groups = rec + get_u32(rec + 33);
}

/* unpack - every field of a record */
static void unpack(const char *rec, struct view *v)
{
    const char *p;

    unpack_keys(rec, v);
    v->uid = get_u32(rec + 5);
    v->gid = get_u32(rec + 9);
    v->quota = get_u64(rec + 13);
    p = next_str(v->mail);
    v->home = v->mailbox = v->password = NULL;
    if (v->flags & F_HOME) {
        v->home = p;
        p = next_str(p);
    }
    if (v->flags & F_MAILBOX) {
        v->mailbox = p;
        p = next_str(p);
    }
    if (v->flags & F_PASSWORD)
        v->password = p;
}

/* rec_cmp - the order accounts are resolved in: normalised DN, then the
 * whole record, so that equal DNs still give one answer */
static int rec_cmp(const char *a, const char *b)
{
    int c = strcmp(a + REC_HDR, b + REC_HDR);
    uint32_t la, lb;

    if (c != 0)
        return c;
    la = get_u32(a);
    lb = get_u32(b);
    c = memcmp(a, b, la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* Sorting a million strings that mostly share a long prefix ("uid=user",
 * "user"): each sort key holds the 8 bytes after the prefix they all share,
 * big-endian, so most comparisons stay inside the key array instead of
 * chasing pointers into the arena. */
struct pkey {
    uint64_t prefix;
    uint32_t idx;
};

struct psort {
    const char *const *str;  /* idx -> the string sorted by */
    size_t skip;             /* bytes every string shares */
    const char *const *recs; /* ties: whole records (NULL: by idx) */
};

/* pkey_cmp - qsort_r order: the string, then the tie rule */
static int pkey_cmp(const void *pa, const void *pb, void *arg)
{
    const struct pkey *a = pa, *b = pb;
    const struct psort *ps = arg;

    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    int c = strcmp(ps->str[a->idx] + ps->skip, ps->str[b->idx] + ps->skip);
    if (c != 0)
        return c;
    if (ps->recs != NULL)
        return rec_cmp(ps->recs[a->idx], ps->recs[b->idx]);
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* sort_strings - out[0..n) = the indexes of str in string order (ties as
 * pkey_cmp breaks them). -1 when out of memory. */
static int sort_strings(const char *const *str, uint32_t n, const char *const *recs,
                        uint32_t *out)
{
    struct psort ps = { .str = str, .recs = recs };
    struct pkey *k;

    if (n == 0)
        return 0;
    if ((k = malloc((size_t)n * sizeof(*k))) == NULL)
        return -1;
    size_t skip = strlen(str[0]);
    for (uint32_t i = 1; i < n && skip > 0; i++) {
        size_t j = 0;
        while (j < skip && str[i][j] == str[0][j])
            j++;
        skip = j;
    }
    ps.skip = skip;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)str[i] + skip;
        uint64_t p = 0;
        bool end = false;
        for (int j = 0; j < 8; j++) {
            end = end || s[j] == '\0';
            p = (p << 8) | (end ? 0 : s[j]);
        }
        k[i] = (struct pkey){ .prefix = p, .idx = i };
    }
    qsort_r(k, n, sizeof(*k), pkey_cmp, &ps);
    for (uint32_t i = 0; i < n; i++)
        out[i] = k[i].idx;
    free(k);
    return 0;
}

/* merge_in - out = old (n sorted elements) and add (k sorted elements)
 * merged, elements of size bytes in cmp's order. Each added element finds
 * its place by binary search, so k new among a million old take about
 * k * 20 comparisons and copies of the blocks between them. */
static void merge_in(const void *old, size_t n, const void *add, size_t k, size_t size,
                     int (*cmp)(const void *, const void *, void *), void *arg, void *out)
{
    const char *o = old, *a = add;
    char *w = out;
    size_t lo = 0;

    for (size_t j = 0; j < k; j++) {
        const char *x = a + j * size;
        size_t hi = n;
        while (lo < hi) {                     /* the first old one after x */
            size_t mid = lo + (hi - lo) / 2;
            if (cmp(o + mid * size, x, arg) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t from = (size_t)(w - (char *)out) / size - j;   /* old ones copied */
        memcpy(w, o + from * size, (lo - from) * size);
        w += (lo - from) * size;
        memcpy(w, x, size);
        w += size;
    }
    size_t from = (size_t)(w - (char *)out) / size - k;
    memcpy(w, o + from * size, (n - from) * size);
}

/* addr_ref_cmp - merge_in order of claims: the address (the ties, one
 * address claimed twice, are put in claim order later) */
static int addr_ref_cmp(const void *a, const void *b, void *arg)
{
    (void)arg;
    return strcmp(((const struct addr_ref *)a)->addr, ((const struct addr_ref *)b)->addr);
}

/* Every address the live accounts claim, in address order: the kept list
 * of the last resolve without the removed records, and the claims of the
 * records added since. Independent of the DN order, so a large build
 * does this and the DN order at once, in two threads. */
struct addr_sort {
    const struct mapbuild *mb;
    struct addr_ref *refs;   /* the result */
    size_t n;
    int rc;                  /* 0, -1 no memory, -2 too many */
};

#define PARALLEL_MIN 50000   /* records to sort before a second thread pays */

/* addr_sort_run - collect, sort and merge (a thread's body, or inline) */
static void *addr_sort_run(void *arg)
{
    struct addr_sort *a = arg;
    const struct mapbuild *mb = a->mb;
    const struct sorted *old = &mb->sorted;
    struct addr_ref *kept = NULL, *add = NULL, *sorted_add = NULL;
    const char **addr = NULL;
    uint32_t *idx = NULL;
    size_t nkept = 0, nadd = 0, total = 0;
    struct view v;

    a->rc = -1;
    for (size_t i = old->upto; i < mb->count; i++) {
        if (mb->rec[i] != NULL)
            total += 1 + (size_t)get_u32(mb->rec[i] + 21);   /* nalias */
    }
    if (total + old->naddr >= UINT32_MAX) {
        a->rc = -2;
        return NULL;
    }
    kept = malloc((old->naddr ? old->naddr : 1) * sizeof(*kept));
    add = malloc((total ? total : 1) * sizeof(*add));
    sorted_add = malloc((total ? total : 1) * sizeof(*sorted_add));
    addr = malloc((total ? total : 1) * sizeof(*addr));
    idx = malloc((total ? total : 1) * sizeof(*idx));
    if (kept == NULL || add == NULL || sorted_add == NULL || addr == NULL || idx == NULL)
        goto out;
    for (size_t i = 0; i < old->naddr; i++)
        if (mb->rec[old->addr[i].rid] != NULL)
            kept[nkept++] = old->addr[i];
    for (size_t i = old->upto; i < mb->count; i++) {
        if (mb->rec[i] == NULL)
            continue;
        unpack_keys(mb->rec[i], &v);
        add[nadd++] = (struct addr_ref){ .addr = v.mail, .rid = (uint32_t)i, .pos = 0 };
        const char *s = v.aliases;
        for (uint32_t j = 0; j < v.nalias; j++, s = next_str(s))
            add[nadd++] = (struct addr_ref){ .addr = s, .rid = (uint32_t)i, .pos = j + 1 };
    }
    for (size_t i = 0; i < nadd; i++)
        addr[i] = add[i].addr;
    if (sort_strings(addr, (uint32_t)nadd, NULL, idx) < 0)
        goto out;
    for (size_t i = 0; i < nadd; i++)
        sorted_add[i] = add[idx[i]];
    a->n = nkept + nadd;
    if ((a->refs = malloc((a->n ? a->n : 1) * sizeof(*a->refs))) == NULL)
        goto out;
    merge_in(kept, nkept, sorted_add, nadd, sizeof(*kept), addr_ref_cmp, NULL, a->refs);
    a->rc = 0;
out:
    free(kept);
    free(add);
    free(sorted_add);
    free(addr);
    free(idx);
    return NULL;
}

/* dn_id_cmp - merge_in order of record ids: their records' rec_cmp */
static int dn_id_cmp(const void *a, const void *b, void *arg)
{
    const char *const *rec = arg;

    return rec_cmp(rec[*(const uint32_t *)a], rec[*(const uint32_t *)b]);
}

/* dn_order - out[0..n) = the ids of the n live records in the order
 * accounts are resolved in (rec_cmp): the kept order of the last resolve
 * without the removed records, the records added since sorted and merged
 * in. 0, -1 when out of memory. */
static int dn_order(const struct mapbuild *mb, uint32_t n, uint32_t *out)
{
    const struct sorted *old = &mb->sorted;
    size_t nkept = 0, nadd = 0, fresh = mb->count - old->upto;
    uint32_t *kept = malloc((old->ndn ? old->ndn : 1) * sizeof(*kept));
    uint32_t *id = malloc((fresh ? fresh : 1) * sizeof(*id));
    uint32_t *idx = malloc((fresh ? fresh : 1) * sizeof(*idx));
    const char **dns = malloc((fresh ? fresh : 1) * sizeof(*dns));
    const char **live = malloc((fresh ? fresh : 1) * sizeof(*live));
    int rc = -1;

    if (kept == NULL || id == NULL || idx == NULL || dns == NULL || live == NULL)
        goto out;
    for (size_t i = 0; i < old->ndn; i++)
        if (mb->rec[old->dn[i]] != NULL)
            kept[nkept++] = old->dn[i];
    /* the normalised DN starts each record's strings */
    for (size_t i = old->upto; i < mb->count; i++) {
        if (mb->rec[i] == NULL)
            continue;
        live[nadd] = mb->rec[i];
        dns[nadd] = mb->rec[i] + REC_HDR;
        id[nadd++] = (uint32_t)i;
    }
    if (nkept + nadd != n || sort_strings(dns, (uint32_t)nadd, live, idx) < 0)
        goto out;
    for (size_t i = 0; i < nadd; i++)
        idx[i] = id[idx[i]];
    merge_in(kept, nkept, idx, nadd, sizeof(*kept), dn_id_cmp, mb->rec, out);
    rc = 0;
out:
    free(kept);
    free(id);
    free(idx);
    free(dns);
    free(live);
    return rc;
}

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
    uint64_t h = 14695981039346656037ull;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/* domain_of - the part after the last '@' */
static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : addr;
}

/* resolve_free - release the scratch state */
static void resolve_free(struct resolve *r)
{
    free(r->order);
    free(r->cstart);
    free(r->claims);
    free(r->uaddr);
    free(r->owner);
    free(r->members);
    memset(r, 0, sizeof(*r));
}

/* warnf - a conflict warning about the account with normalised DN dn */
__attribute__((format(printf, 3, 4)))
static void warnf(struct mapbuild *mb, const char *dn, const char *fmt, ...)
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

/* rank_view - the keys of the account at rank */
static void rank_view(const struct mapbuild *mb, const struct resolve *r, uint32_t rank,
                      struct view *v)
{
    unpack_keys(mb->rec[r->order[rank]], v);
}

/* uaddr_find - the index of addr among the unique addresses, or MB_NONE */
static uint32_t uaddr_find(const struct resolve *r, const char *addr)
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

/* A set of domain names: a million addresses share a few hundred
 * domains, so collect them in an open-addressing hash set and sort only
 * the distinct ones. */
struct domset {
    const char **slot;
    size_t cap, n;           /* cap a power of two, at most half full */
};

/* domset_add - put d in the set unless there; -1 when out of memory */
static int domset_add(struct domset *s, const char *d)
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

/* domset_has - d is in the set */
static bool domset_has(const struct domset *s, const char *d)
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

/* local_domains - the domains of the mailboxes that stay */
static int local_domains(const struct mapbuild *mb, const struct resolve *r, const bool *gone,
                         struct domset *set)
{
    struct view v;
    uint32_t n = (uint32_t)(mb->count - mb->removed);

    for (uint32_t k = 0; k < n; k++) {
        if (gone[k])
            continue;
        rank_view(mb, r, k, &v);
        if (domset_add(set, domain_of(v.mail)) < 0)
            return -1;
    }
    return 0;
}

/* domain_allowed - an alias or list address may be local: its domain has
 * a mailbox or is one of alias_domains */
static bool domain_allowed(const struct mapbuild *mb, const struct domset *local,
                           const char *addr)
{
    const char *d = domain_of(addr);

    return domset_has(local, d) || conf_alias_domain(mb->cfg, d, strlen(d));
}

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
    warnf(mb, v.dn, "skipped: its %s %s is %s the %s of %s", what, path, how, owhat, w.dn);
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
                uint32_t u = uaddr_find(r, addr);
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
#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull
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

/* paths_resolve - homes and mailboxes unique per account: of two that are
 * the same or nest, the one made from the account's own address wins,
 * else the smaller DN; the other entry is skipped with one warning. O(n)
 * hash probes in the accounts with a home or mailbox of their own; nothing
 * for those that use the defaults. */
static int paths_resolve(struct mapbuild *mb, struct resolve *r, bool *gone,
                         struct mapbuild_counts *c)
{
    uint32_t n = (uint32_t)(mb->count - mb->removed);
    struct paths p = { 0 };
    uint64_t *slot = NULL;
    uint32_t *same = NULL;
    struct probe *pb = NULL;
    struct pathpair *pair = NULL;
    size_t npair = 0, cpair = 0, live = 0;
    int rc = -1;

    if (paths_collect(mb, r, gone, n, &p) < 0 || paths_vs_defaults(mb, r, gone, n, &p, c) < 0)
        goto out;
    if (p.n > UINT32_MAX - 1) {
        rc = -2;
        goto out;
    }
    for (size_t i = 0; i < p.n; i++)
        if (!gone[p.ent[i].rank])
            p.ent[live++] = p.ent[i];
    /* A hash set of the paths (equal ones chained), then each path's
     * ancestors looked up in it: no sort, a few probes per path (only the
     * ancestors at least as deep as the shallowest path can be there). */
    size_t cap = 16, mindepth = SIZE_MAX;
    while (cap < 2 * live)
        cap *= 2;
    /* a slot: the upper half of the hash as a tag (most probes end at a
     * tag that differs, without touching the path), the entry below */
    slot = malloc(cap * sizeof(*slot));
    same = malloc((live ? live : 1) * sizeof(*same));
    /* a block, and room for every '/' of one more path past it */
    pb = malloc((PF_BLOCK + MB_PATH_MAX + 2) * sizeof(*pb));
    if (slot == NULL || same == NULL || pb == NULL)
        goto out;
    for (size_t i = 0; i < cap; i++)
        slot[i] = SLOT_EMPTY;
    /* Slots are random memory: hashes are worked out a block ahead and
     * their slots prefetched, so that the misses overlap. */
    uint64_t hb[PF_BLOCK];
    for (uint32_t b0 = 0; b0 < live; b0 += PF_BLOCK) {
        uint32_t b1 = live - b0 < PF_BLOCK ? live : b0 + PF_BLOCK;
        for (uint32_t i = b0; i < b1; i++) {
            uint64_t hv = FNV_OFFSET;
            size_t depth = 0;
            for (const char *ch = p.text + p.ent[i].off; *ch != '\0'; ch++) {
                hv = (hv ^ (unsigned char)*ch) * FNV_PRIME;
                depth += *ch == '/';
            }
            mindepth = depth < mindepth ? depth : mindepth;
            hb[i - b0] = hv;
            __builtin_prefetch(&slot[hv & (cap - 1)]);
        }
        for (uint32_t i = b0; i < b1; i++) {
            const char *cur = p.text + p.ent[i].off;
            uint64_t tag = hb[i - b0] & TAG_MASK;
            size_t h = (size_t)hb[i - b0] & (cap - 1);
            same[i] = MB_NONE;
            while (slot[h] != SLOT_EMPTY &&
                   ((slot[h] & TAG_MASK) != tag ||
                    strcmp(p.text + p.ent[(uint32_t)slot[h]].off, cur) != 0))
                h = (h + 1) & (cap - 1);
            if (slot[h] != SLOT_EMPTY) {
                for (uint32_t j = (uint32_t)slot[h]; j != MB_NONE; j = same[j])
                    if (pair_add(&pair, &npair, &cpair, p.ent, j, i) < 0)
                        goto out;
                same[i] = (uint32_t)slot[h];
            }
            slot[h] = tag | i;
        }
    }
    /* every proper prefix ending in '/' of every path, hashed as above,
     * collected for a block of paths, then looked up */
    size_t npb = 0;
    for (uint32_t i = 0; i <= live; i++) {
        const char *cur = i < live ? p.text + p.ent[i].off : NULL;
        uint64_t hv = FNV_OFFSET;
        size_t depth = 0;
        for (size_t k = 0; cur != NULL && cur[k] != '\0' && cur[k + 1] != '\0'; k++) {
            hv = (hv ^ (unsigned char)cur[k]) * FNV_PRIME;
            if (cur[k] != '/' || ++depth < mindepth)
                continue;
            pb[npb++] = (struct probe){ .hv = hv, .i = i, .len = (uint32_t)(k + 1) };
            __builtin_prefetch(&slot[hv & (cap - 1)]);
        }
        if (npb < PF_BLOCK && cur != NULL)
            continue;
        for (size_t q = 0; q < npb; q++) {
            size_t h = (size_t)pb[q].hv & (cap - 1);
            uint64_t tag = pb[q].hv & TAG_MASK;
            const char *path = p.text + p.ent[pb[q].i].off;
            for (; slot[h] != SLOT_EMPTY; h = (h + 1) & (cap - 1)) {
                if ((slot[h] & TAG_MASK) != tag)
                    continue;
                const char *o = p.text + p.ent[(uint32_t)slot[h]].off;
                if (strncmp(o, path, pb[q].len) != 0 || o[pb[q].len] != '\0')
                    continue;
                for (uint32_t j = (uint32_t)slot[h]; j != MB_NONE; j = same[j])
                    if (pair_add(&pair, &npair, &cpair, p.ent, j, pb[q].i) < 0)
                        goto out;
                break;
            }
        }
        npb = 0;
    }
    /* A path made from the address beats any other; then the smaller DN,
     * deciding in DN order so that an entry already skipped takes nothing
     * from the ones after it. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && npair > 1)
            qsort(pair, npair, sizeof(*pair), pathpair_cmp);
        for (size_t i = 0; i < npair; i++) {
            const struct pathent *a = &p.ent[pair[i].a], *b = &p.ent[pair[i].b];
            if (gone[a->rank] || gone[b->rank])
                continue;
            const struct pathent *lose, *win;
            if (pass == 0 && a->deflt != b->deflt) {
                lose = a->deflt ? b : a;
            } else if (pass == 1) {
                lose = a->rank == pair[i].hi ? a : b;
            } else {
                continue;
            }
            win = lose == a ? b : a;
            const char *lp = p.text + lose->off, *wp = p.text + win->off;
            size_t ll = strlen(lp), wl = strlen(wp);
            skip_account(mb, r, gone, lose->rank, lose->home ? "home" : "mailbox", lp,
                         ll == wl ? "the same as" : ll > wl ? "inside" : "around", win->rank,
                         win->home ? "home" : "mailbox", c);
        }
    }
    rc = 0;
out:
    free(p.text);
    free(p.ent);
    free(p.dom);
    free(slot);
    free(same);
    free(pb);
    free(pair);
    return rc;
}

/* resolve - decide who owns which address and which memberships count */
static int resolve(struct mapbuild *mb, struct resolve *r, struct mapbuild_counts *c)
{
    uint32_t n = (uint32_t)(mb->count - mb->removed), *perm = NULL, *rank_of = NULL;
    size_t nclaims = 0;
    bool *gone = NULL;
    int rc = -1, x;
    struct view v, w;
    struct domset local = { 0 };
    struct addr_sort as = { .mb = mb };
    pthread_t sorter;
    bool threaded = n >= PARALLEL_MIN &&
                    pthread_create(&sorter, NULL, addr_sort_run, &as) == 0;

    if (!threaded)
        addr_sort_run(&as);
    r->order = malloc((n ? n : 1) * sizeof(*r->order));
    r->cstart = malloc(((size_t)n + 1) * sizeof(*r->cstart));
    gone = calloc(n ? n : 1, sizeof(*gone));
    if (r->order == NULL || r->cstart == NULL || gone == NULL)
        goto out;
    if ((x = dn_order(mb, n, r->order)) < 0) {
        rc = x;
        goto out;
    }

    /* Claims in rank order, each account's mail first. */
    for (uint32_t k = 0; k < n; k++) {
        const char *cur = mb->rec[r->order[k]];
        if (k > 0 && rec_cmp(mb->rec[r->order[k - 1]], cur) == 0) {
            gone[k] = true;
            continue;
        }
        unpack_keys(cur, &v);
        nclaims += 1 + (size_t)v.nalias;
    }
    if (nclaims >= UINT32_MAX) {
        rc = -2;
        goto out;
    }
    r->claims = malloc((nclaims ? nclaims : 1) * sizeof(*r->claims));
    perm = malloc((nclaims ? nclaims : 1) * sizeof(*perm));
    if (r->claims == NULL || perm == NULL)
        goto out;
    for (uint32_t k = 0; k < n; k++) {
        r->cstart[k] = r->nclaims;
        if (gone[k])
            continue;
        rank_view(mb, r, k, &v);
        r->claims[r->nclaims++] = (struct claim){ .addr = v.mail, .rank = k };
        const char *s = v.aliases;
        for (uint32_t i = 0; i < v.nalias; i++, s = next_str(s))
            r->claims[r->nclaims++] = (struct claim){ .addr = s, .rank = k };
    }
    r->cstart[n] = r->nclaims;

    /* The claims in address order, from the other thread's sort: a claim
     * is (record, position), its index cstart[rank] + position; the
     * claims of a duplicate record do not count. */
    if (threaded) {
        pthread_join(sorter, NULL);
        threaded = false;
    }
    if (as.rc < 0) {
        rc = as.rc;
        goto out;
    }
    rank_of = malloc((mb->count ? mb->count : 1) * sizeof(*rank_of));
    if (rank_of == NULL)
        goto out;
    for (uint32_t k = 0; k < n; k++)
        rank_of[r->order[k]] = k;
    uint32_t m = 0;
    for (size_t j = 0; j < as.n; j++) {
        uint32_t k = rank_of[as.refs[j].rid];
        if (!gone[k] && m < r->nclaims)
            perm[m++] = r->cstart[k] + as.refs[j].pos;
    }
    if (m != r->nclaims)
        goto out;                       /* cannot happen: the same claims */
    /* Number the distinct addresses; one address claimed more than once
     * has its claims in claim order (rank first). */
    r->uaddr = malloc((r->nclaims ? r->nclaims : 1) * sizeof(*r->uaddr));
    if (r->uaddr == NULL)
        goto out;
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
    free(perm);
    perm = NULL;
    r->owner = malloc((r->nu ? r->nu : 1) * sizeof(*r->owner));
    if (r->owner == NULL)
        goto out;
    for (uint32_t u = 0; u < r->nu; u++)
        r->owner[u] = MB_NONE;

    /* Mail claims first: a mail beats any alias, and between two mails
     * the smaller DN keeps it; the loser has lost its identity. */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t c0 = r->cstart[k];
        if (gone[k])
            continue;
        uint32_t u = r->claims[c0].u;
        if (r->owner[u] != MB_NONE) {
            rank_view(mb, r, k, &v);
            rank_view(mb, r, r->claims[r->owner[u]].rank, &w);
            warnf(mb, v.dn, "account %s dropped: the address is the mail of %s", v.mail, w.dn);
            c->dropped++;
            gone[k] = true;     /* claims nothing, emits nothing */
            continue;
        }
        r->owner[u] = c0;
    }

    /* Homes and mailboxes: each account's own. */
    if ((x = paths_resolve(mb, r, gone, c)) < 0) {
        rc = x;
        goto out;
    }

    /* Aliases (in DN order, first come first served) only in the domains
     * of the mailboxes that stay and in alias_domains. */
    if (local_domains(mb, r, gone, &local) < 0)
        goto out;
    size_t nmem = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t c0 = r->cstart[k], c1 = r->cstart[k + 1];
        if (gone[k])
            continue;
        for (uint32_t ci = c0 + 1; ci < c1; ci++) {
            uint32_t u = r->claims[ci].u;
            if (!domain_allowed(mb, &local, r->claims[ci].addr)) {
                rank_view(mb, r, k, &v);
                warnf(mb, v.dn, "alias %s of %s dropped: no mailbox in %s and not in "
                      "alias_domains", r->claims[ci].addr, v.mail, domain_of(r->claims[ci].addr));
                c->lost++;
                continue;
            }
            if (r->owner[u] != MB_NONE) {
                uint32_t oc = r->owner[u];
                rank_view(mb, r, k, &v);
                rank_view(mb, r, r->claims[oc].rank, &w);
                warnf(mb, v.dn, "alias %s of %s dropped: the address is the %s of %s",
                      r->claims[ci].addr, v.mail,
                      r->cstart[r->claims[oc].rank] == oc ? "mail" : "alias", w.dn);
                c->lost++;
                continue;
            }
            r->owner[u] = ci;
        }
        rank_view(mb, r, k, &v);
        nmem += v.ngroup;
        if (v.flags & F_PASSWORD)
            c->passwords++;
    }

    /* Memberships of the accounts that stay. */
    r->members = malloc((nmem ? nmem : 1) * sizeof(*r->members));
    if (r->members == NULL)
        goto out;
    for (uint32_t k = 0; k < n; k++) {
        if (gone[k])
            continue;
        rank_view(mb, r, k, &v);
        const char *s = v.groups;
        for (uint32_t i = 0; i < v.ngroup; i++, s = next_str(s)) {
            if (!domain_allowed(mb, &local, s)) {
                warnf(mb, v.dn, "membership of %s in list %s dropped: no mailbox in %s and "
                      "not in alias_domains", v.mail, s, domain_of(s));
                c->lost++;
                continue;
            }
            r->members[r->nmembers++] = (struct member){ .list = s, .mail = v.mail, .rank = k };
        }
    }
    qsort(r->members, r->nmembers, sizeof(*r->members), member_cmp);

    /* A list address that is someone's mail or alias stays theirs. */
    size_t kept = 0;
    for (size_t i = 0; i < r->nmembers;) {
        size_t j = i;
        while (j < r->nmembers && strcmp(r->members[j].list, r->members[i].list) == 0)
            j++;
        uint32_t u = uaddr_find(r, r->members[i].list);
        if (u != MB_NONE && r->owner[u] != MB_NONE) {
            uint32_t oc = r->owner[u];
            rank_view(mb, r, r->members[i].rank, &v);
            rank_view(mb, r, r->claims[oc].rank, &w);
            warnf(mb, v.dn, "list %s: %zu membership%s dropped (%s among them): "
                  "the address is the %s of %s", r->members[i].list, j - i,
                  j - i == 1 ? "" : "s", v.mail,
                  r->cstart[r->claims[oc].rank] == oc ? "mail" : "alias", w.dn);
            c->lost += j - i;
        } else {
            for (size_t k = i; k < j; k++)
                if (k == i || strcmp(r->members[k].mail, r->members[k - 1].mail) != 0)
                    r->members[kept++] = r->members[k];
        }
        i = j;
    }
    r->nmembers = kept;

    /* Kept for the next resolve, which sorts only what is added by then. */
    uint32_t *dn = malloc((n ? n : 1) * sizeof(*dn));
    if (dn == NULL)
        goto out;
    memcpy(dn, r->order, (size_t)n * sizeof(*dn));
    free(mb->sorted.dn);
    free(mb->sorted.addr);
    mb->sorted = (struct sorted){ .dn = dn, .ndn = n, .addr = as.refs, .naddr = as.n,
                                  .upto = mb->count };
    as.refs = NULL;
    rc = 0;
out:
    if (threaded)
        pthread_join(sorter, NULL);
    free(as.refs);
    free(local.slot);
    free(rank_of);
    free(gone);
    free(perm);
    return rc;
}

/* Emission state: stops at the first non-zero emit. */
struct out {
    mapbuild_emit_fn *emit;
    void *ctx;
    int rc;
};

/* put - emit one record unless emission has stopped */
static bool put(struct out *o, enum map_id map, const char *key, size_t keylen,
                const char *val, size_t vallen)
{
    if (o->rc == 0)
        o->rc = o->emit(o->ctx, map, key, keylen, val, vallen);
    return o->rc == 0;
}

/* is_mail_claim - the winning claim of address u is an account's mail */
static bool is_mail_claim(const struct resolve *r, uint32_t c)
{
    return r->cstart[r->claims[c].rank] == c;
}

/* account_of - the account view of rank k with defaults filled in (the
 * home only when need_home: mailboxes.cdb has no use for it) */
static int account_of(const struct mapbuild *mb, const struct view *v, bool need_home,
                      struct account *a, char *home, char *mailbox, size_t bufsz)
{
    memset(a, 0, sizeof(*a));
    a->dn = (char *)v->dn;
    a->mail = (char *)v->mail;
    if (v->home != NULL)
        a->home = (char *)v->home;
    else if (!need_home)
        a->home = NULL;
    else if (account_userrec_home(&mb->uc, v->mail, home, bufsz) >= 0)
        a->home = home;
    else
        return -1;
    if (v->mailbox != NULL)
        a->mailbox = (char *)v->mailbox;
    else if (account_default_mailbox(v->mail, mailbox, bufsz) >= 0)
        a->mailbox = mailbox;
    else
        return -1;
    a->storage_set = (v->flags & F_STORAGE) != 0;
    a->uid = v->uid;
    a->gid = v->gid;
    a->quota = v->quota;
    a->password = (char *)v->password;
    return 0;
}

/* emit_domains - every domain with a mailbox, an alias or a list */
static int emit_domains(const struct resolve *r, struct out *o, size_t *count)
{
    struct domset set = { 0 };
    int rc = -1;

    for (uint32_t u = 0; u < r->nu; u++)
        if (r->owner[u] != MB_NONE && domset_add(&set, domain_of(r->uaddr[u])) < 0)
            goto out;
    for (size_t i = 0; i < r->nmembers; i++)
        if ((i == 0 || strcmp(r->members[i].list, r->members[i - 1].list) != 0) &&
            domset_add(&set, domain_of(r->members[i].list)) < 0)
            goto out;
    /* the distinct names to the front of the table, then in order */
    size_t n = 0;
    for (size_t i = 0; i < set.cap; i++)
        if (set.slot[i] != NULL)
            set.slot[n++] = set.slot[i];
    if (n > 1)
        qsort(set.slot, n, sizeof(*set.slot), str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!put(o, MAP_DOMAINS, set.slot[i], strlen(set.slot[i]), "OK", 2))
            break;
        (*count)++;
    }
    rc = 0;
out:
    free(set.slot);
    return rc;
}

/* emit_aliases - aliases and lists merged in key order */
static int emit_aliases(const struct mapbuild *mb, const struct resolve *r, struct out *o,
                        size_t *count)
{
    uint32_t u = 0;
    size_t i = 0, cap = 0;
    char *val = NULL;
    struct view v;

    for (;;) {
        while (u < r->nu && (r->owner[u] == MB_NONE || is_mail_claim(r, r->owner[u])))
            u++;
        if (u == r->nu && i == r->nmembers)
            break;
        if (i == r->nmembers ||
            (u < r->nu && strcmp(r->uaddr[u], r->members[i].list) < 0)) {
            rank_view(mb, r, r->claims[r->owner[u]].rank, &v);
            if (!put(o, MAP_ALIASES, r->uaddr[u], strlen(r->uaddr[u]), v.mail,
                     strlen(v.mail)))
                break;
            (*count)++;
            u++;
            continue;
        }
        /* a list: its members, comma separated */
        const char *list = r->members[i].list;
        size_t len = 0, j;
        for (j = i; j < r->nmembers && strcmp(r->members[j].list, list) == 0; j++) {
            size_t ml = strlen(r->members[j].mail);
            if (len + ml + 2 > cap) {
                size_t ncap = cap ? cap : 256;
                while (ncap < len + ml + 2)
                    ncap *= 2;
                char *p = realloc(val, ncap);
                if (p == NULL) {
                    free(val);
                    return -1;
                }
                val = p;
                cap = ncap;
            }
            if (len > 0)
                val[len++] = ',';
            memcpy(val + len, r->members[j].mail, ml);
            len += ml;
        }
        if (!put(o, MAP_ALIASES, list, strlen(list), val, len))
            break;
        (*count)++;
        i = j;
    }
    free(val);
    return 0;
}

/* emit_accounts - mailboxes.cdb or users.cdb, in mail order */
static int emit_accounts(const struct mapbuild *mb, const struct resolve *r, struct out *o,
                         enum map_id map, size_t *count, char *err, size_t errsz)
{
    char home[MB_PATH_MAX], mailbox[MB_PATH_MAX];
    char *buf = NULL;
    size_t bufsz = 0;
    struct account a;
    struct view v;
    int rc = 0;

    for (uint32_t u = 0; u < r->nu && o->rc == 0; u++) {
        if (r->owner[u] == MB_NONE || !is_mail_claim(r, r->owner[u]))
            continue;
        unpack(mb->rec[r->order[r->claims[r->owner[u]].rank]], &v);
        if (account_of(mb, &v, map == MAP_USERS, &a, home, mailbox, sizeof(home)) < 0) {
            snprintf(err, errsz, "%s: default path too long", v.mail);
            rc = -1;
            break;
        }
        if (map == MAP_MAILBOXES) {
            put(o, map, a.mail, strlen(a.mail), a.mailbox, strlen(a.mailbox));
        } else {
            long n = account_userrec_fast(&mb->uc, &a, &buf, &bufsz, err, errsz);
            if (n < 0) {
                rc = -1;
                break;
            }
            put(o, map, a.mail, strlen(a.mail), buf, (size_t)n);
        }
        if (o->rc == 0)
            (*count)++;
    }
    free(buf);
    return rc;
}

/* mapbuild_resolve - decide who owns what, once per set of accounts */
int mapbuild_resolve(struct mapbuild *mb, struct mapbuild_counts *counts_r,
                     char *err, size_t errsz)
{
    struct mapbuild_counts c = { .accounts = mb->count - mb->removed };
    int x;

    resolve_free(&mb->res);
    mb->resolved = false;
    if ((x = resolve(mb, &mb->res, &c)) < 0) {
        snprintf(err, errsz, x == -2 ? "too many addresses" : "out of memory");
        resolve_free(&mb->res);
        return -1;
    }
    mb->resolved = true;
    if (counts_r != NULL)
        *counts_r = c;
    return 0;
}

/* mapbuild_emit - one map's records; reads the build only */
int mapbuild_emit(const struct mapbuild *mb, enum map_id map, mapbuild_emit_fn *emit,
                  void *ctx, size_t *count_r, char *err, size_t errsz)
{
    struct out o = { .emit = emit, .ctx = ctx };
    size_t count = 0;
    int rc = 0;

    if (count_r != NULL)
        *count_r = 0;
    if (!mb->resolved) {
        snprintf(err, errsz, "the build is not resolved");
        return -1;
    }
    switch (map) {
    case MAP_DOMAINS:
        rc = emit_domains(&mb->res, &o, &count);
        break;
    case MAP_MAILBOXES:
    case MAP_USERS:
        rc = emit_accounts(mb, &mb->res, &o, map, &count, err, errsz);
        break;
    case MAP_ALIASES:
        rc = emit_aliases(mb, &mb->res, &o, &count);
        break;
    default:
        snprintf(err, errsz, "no such map");
        return -1;
    }
    if (rc < 0 && map != MAP_MAILBOXES && map != MAP_USERS)
        snprintf(err, errsz, "out of memory");
    if (rc == 0 && o.rc < 0) {
        snprintf(err, errsz, "emit failed");
        rc = -1;
    }
    if (rc == 0 && o.rc > 0)
        rc = 1;
    if (count_r != NULL)
        *count_r = count;
    return rc;
}

/* mapbuild_finish - resolve, then every map in enum order */
int mapbuild_finish(struct mapbuild *mb, mapbuild_emit_fn *emit, void *ctx,
                    struct mapbuild_counts *counts_r, char *err, size_t errsz)
{
    struct mapbuild_counts c = { .accounts = mb->count - mb->removed };
    size_t n[MAP_COUNT] = { 0 };
    int rc = -1;

    if (mapbuild_resolve(mb, &c, err, errsz) < 0)
        goto out;
    for (int m = 0; m < MAP_COUNT; m++) {
        int r = mapbuild_emit(mb, (enum map_id)m, emit, ctx, &n[m], err, errsz);
        if (r < 0)
            goto out;
        if (r > 0)
            break;      /* the caller has what it wanted */
    }
    rc = 0;
out:
    c.domains = n[MAP_DOMAINS];
    c.users = n[MAP_USERS];
    c.aliases = n[MAP_ALIASES];
    if (counts_r != NULL)
        *counts_r = c;
    return rc;
}

/* The one key a lookup wants. */
struct lookup {
    enum map_id map;
    const char *key;
    size_t keylen;
    char *val;
    size_t vallen;
    int found;
};

/* lookup_emit - keep the value for the wanted key, then stop */
static int lookup_emit(void *ctx, enum map_id map, const char *key, size_t keylen,
                       const char *val, size_t vallen)
{
    struct lookup *l = ctx;

    if (map != l->map || keylen != l->keylen || memcmp(key, l->key, keylen) != 0)
        return 0;
    if ((l->val = malloc(vallen + 1)) == NULL)
        return -1;
    memcpy(l->val, val, vallen);
    l->val[vallen] = '\0';
    l->vallen = vallen;
    l->found = 1;
    return 1;
}

/* mapbuild_lookup - one key of one map, as a sync of these accounts
 * would store it */
int mapbuild_lookup(struct mapbuild *mb, enum map_id map, const char *key,
                    size_t keylen, char **val_r, size_t *vallen_r,
                    char *err, size_t errsz)
{
    struct lookup l = { .map = map, .keylen = keylen };
    char *k;

    *val_r = NULL;
    *vallen_r = 0;
    if ((k = malloc(keylen + 1)) == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < keylen; i++)
        k[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] + 32) : key[i];
    k[keylen] = '\0';
    l.key = k;
    int rc = mapbuild_finish(mb, lookup_emit, &l, NULL, err, errsz);
    free(k);
    if (rc < 0) {
        free(l.val);
        return -1;
    }
    if (!l.found)
        return 0;
    *val_r = l.val;
    *vallen_r = l.vallen;
    return 1;
}
