/* mapbuild - the build: accounts packed into an arena (the other parts
 * are listed in mapbuild_int.h) */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapbuild_int.h"

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
    mapbuild_resolve_free(&mb->res);
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

/* put_u32, put_u64 - unaligned integers in records */
static void put_u32(char *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put_u64(char *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }

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

/* The layout of one account's record: which optional fields it stores
 * and the lengths, worked out before the bytes are placed. */
struct layout {
    const char *dn;
    const char **al, **gl;   /* aliases and groups: sorted, unique */
    size_t na, ng;
    size_t len, dnlen, maillen, homelen, mboxlen, pwlen, fwdlen;
    uint8_t flags;
};

/* layout_make - lay a out; -1 with a reason in err (l->al and l->gl are
 * the caller's to free either way) */
static int layout_make(const struct mapbuild *mb, const struct account *a, struct layout *l,
                       char *err, size_t errsz)
{
    char def[MB_PATH_MAX];

    if (canon_list(a->aliases, a->alias_count, a->mail, &l->al, &l->na) < 0 ||
        canon_list(a->groups, a->group_count, NULL, &l->gl, &l->ng) < 0) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    l->dnlen = strlen(l->dn);
    l->maillen = strlen(a->mail);
    l->len = REC_HDR + l->dnlen + 1 + l->maillen + 1;
    if (account_userrec_home(&mb->uc, a->mail, def, sizeof(def)) < 0 ||
        strcmp(def, a->home) != 0) {
        l->flags |= F_HOME;
        l->homelen = strlen(a->home);
        l->len += l->homelen + 1;
    }
    if (account_default_mailbox(a->mail, def, sizeof(def)) < 0 ||
        strcmp(def, a->mailbox) != 0) {
        l->flags |= F_MAILBOX;
        l->mboxlen = strlen(a->mailbox);
        l->len += l->mboxlen + 1;
    }
    if (a->storage_set)
        l->flags |= F_STORAGE;
    if (a->password != NULL) {
        l->flags |= F_PASSWORD;
        l->pwlen = strlen(a->password);
        l->len += l->pwlen + 1;
    }
    for (size_t i = 0; i < l->na; i++)
        l->len += strlen(l->al[i]) + 1;
    for (size_t i = 0; i < l->ng; i++)
        l->len += strlen(l->gl[i]) + 1;
    if (a->forward != NULL && a->forward[0] != '\0') {
        l->flags |= F_FORWARD;
        l->fwdlen = strlen(a->forward);
        l->len += l->fwdlen + 1;
    }
    if (l->len > UINT32_MAX) {
        snprintf(err, errsz, "%s: account too large", a->mail);
        return -1;
    }
    return 0;
}

/* record_write - the record of a, laid out as l, at rec (l->len bytes) */
static void record_write(char *rec, const struct account *a, const struct layout *l)
{
    char *p = rec;

    put_u32(p, (uint32_t)l->len);
    p[4] = (char)l->flags;
    put_u32(p + 5, a->uid);
    put_u32(p + 9, a->gid);
    put_u64(p + 13, a->quota);
    put_u32(p + 21, (uint32_t)l->na);
    put_u32(p + 25, (uint32_t)l->ng);
    p += REC_HDR;
    p = put_str(p, l->dn, l->dnlen);
    p = put_str(p, a->mail, l->maillen);
    if (l->flags & F_HOME)
        p = put_str(p, a->home, l->homelen);
    if (l->flags & F_MAILBOX)
        p = put_str(p, a->mailbox, l->mboxlen);
    if (l->flags & F_PASSWORD)
        p = put_str(p, a->password, l->pwlen);
    put_u32(rec + 29, (uint32_t)(p - rec));
    for (size_t i = 0; i < l->na; i++)
        p = put_str(p, l->al[i], strlen(l->al[i]));
    put_u32(rec + 33, (uint32_t)(p - rec));
    for (size_t i = 0; i < l->ng; i++)
        p = put_str(p, l->gl[i], strlen(l->gl[i]));
    if (l->flags & F_FORWARD)
        put_str(p, a->forward, l->fwdlen);
}

/* record_alloc - arena room for a record of len bytes and a slot for it
 * in mb->rec; NULL when out of memory */
static char *record_alloc(struct mapbuild *mb, size_t len)
{
    if (mb->count == mb->cap) {
        size_t cap = mb->cap ? mb->cap * 2 : 1024;
        const char **r = realloc(mb->rec, cap * sizeof(*r));
        if (r == NULL)
            return NULL;
        mb->rec = r;
        mb->cap = cap;
    }
    return arena_alloc(mb, len);
}

/* mapbuild_add_id - mapbuild_add, telling the account's id */
int mapbuild_add_id(struct mapbuild *mb, const struct account *a, uint32_t *id_r,
                    char *err, size_t errsz)
{
    struct layout l = { .dn = a->dn ? a->dn : "" };
    char *rec;
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
    if (layout_make(mb, a, &l, err, errsz) < 0)
        goto out;
    if ((rec = record_alloc(mb, l.len)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    record_write(rec, a, &l);
    if (id_r != NULL)
        *id_r = (uint32_t)mb->count;
    mb->rec[mb->count++] = rec;
    mb->resolved = false;
    rc = 0;
out:
    free(l.al);
    free(l.gl);
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
