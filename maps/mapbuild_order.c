/* mapbuild_order - the two orders a resolve works in: records by
 * normalised DN, claims by address. Each resolve sorts only the records
 * added since the last one and merges them into its kept lists. */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild_int.h"

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

/* mapbuild_order_addr - collect, sort and merge (a thread's body, or inline) */
void *mapbuild_order_addr(void *arg)
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

/* mapbuild_order_dn - out[0..n) = the ids of the n live records in the order
 * accounts are resolved in (rec_cmp): the kept order of the last resolve
 * without the removed records, the records added since sorted and merged
 * in. 0, -1 when out of memory. */
int mapbuild_order_dn(const struct mapbuild *mb, uint32_t n, uint32_t *out)
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
