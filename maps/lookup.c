/* lookup - maps first, LDAP when the maps cannot answer, never a false
 * "unknown" */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/address.h"
#include "maps/ldapdir.h"
#include "maps/lookup.h"
#include "maps/mapbuild.h"

struct cache_slot {
    char *key;                   /* map id byte + key; NULL = empty */
    size_t keylen;
    enum lookup_result result;
    char *val;
    size_t len;
    time_t expires;
};

struct lookup {
    const struct conf *cfg;
    struct mapset *set;
    struct ldapdir *dir;
    char *key;                   /* lower-cased key of the current call */
    size_t keycap;
    struct cache_slot cache[LOOKUP_CACHE_SLOTS];
    time_t fixed_now;
};

struct lookup *lookup_new(const struct conf *cfg, char *err, size_t errsz)
{
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (lk == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    lk->cfg = cfg;
    lk->set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (lk->set == NULL) {
        snprintf(err, errsz, "out of memory");
        free(lk);
        return NULL;
    }
    lk->dir = ldapdir_open(cfg, err, errsz);
    if (lk->dir == NULL) {
        mapset_close(lk->set);
        free(lk);
        return NULL;
    }
    return lk;
}

void lookup_free(struct lookup *lk)
{
    if (lk == NULL)
        return;
    for (size_t i = 0; i < LOOKUP_CACHE_SLOTS; i++) {
        free(lk->cache[i].key);
        free(lk->cache[i].val);
    }
    ldapdir_close(lk->dir);
    mapset_close(lk->set);
    free(lk->key);
    free(lk);
}

struct mapset *lookup_mapset(struct lookup *lk)
{
    return lk->set;
}

void lookup_set_clock(struct lookup *lk, time_t now)
{
    lk->fixed_now = now;
}

/* slot_for - the cache slot of (map, key): FNV-1a, direct mapped */
static struct cache_slot *slot_for(struct lookup *lk, enum map_id map, const char *key,
                                   size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)map;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return &lk->cache[h % LOOKUP_CACHE_SLOTS];
}

/* slot_matches - the slot holds (map, key) */
static bool slot_matches(const struct cache_slot *s, enum map_id map, const char *key, size_t len)
{
    return s->key != NULL && s->keylen == len + 1 && (unsigned char)s->key[0] == map &&
           memcmp(s->key + 1, key, len) == 0;
}

/* slot_store - remember an LDAP answer; on no memory, just do not cache */
static void slot_store(struct cache_slot *s, enum map_id map, const char *key, size_t len,
                       enum lookup_result result, char *val, size_t vallen, time_t expires)
{
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof(*s));
    s->key = malloc(len + 1);
    if (s->key == NULL) {
        free(val);
        return;
    }
    s->key[0] = (char)map;
    memcpy(s->key + 1, key, len);
    s->keylen = len + 1;
    s->result = result;
    s->val = val;
    s->len = vallen;
    s->expires = expires;
}

/* add_entry - one search result into the build (bad data is skipped, as
 * the sync skips it) */
static int add_entry(void *ctx, const struct entry *e)
{
    char err[256];
    return mapbuild_add_entry(ctx, e, err, sizeof(err)) < 0 ? 1 : 0;
}

/* ask_ldap - the answer the maps would give, from LDAP: FOUND/NOTFOUND, or
 * TEMPFAIL with a reason. *val_r is malloc'ed. */
static enum lookup_result ask_ldap(struct lookup *lk, enum map_id map, const char *key,
                                   size_t len, char **val_r, size_t *vallen_r, char *err,
                                   size_t errsz)
{
    struct mapbuild *mb = mapbuild_new(lk->cfg, NULL, NULL);
    enum lookup_result result = LOOKUP_TEMPFAIL;

    *val_r = NULL;
    *vallen_r = 0;
    if (mb == NULL) {
        snprintf(err, errsz, "out of memory");
        return LOOKUP_TEMPFAIL;
    }
    int r = ldapdir_search_key(lk->dir, key, add_entry, mb, err, errsz);
    if (r == 0) {
        r = mapbuild_lookup(mb, map, key, len, val_r, vallen_r, err, errsz);
        result = r > 0 ? LOOKUP_FOUND : r == 0 ? LOOKUP_NOTFOUND : LOOKUP_TEMPFAIL;
    } else if (r > 0) {
        snprintf(err, errsz, "%s: cannot build the answer (out of memory?)", key);
    }
    mapbuild_free(mb);
    return result;
}

enum lookup_result lookup_key(struct lookup *lk, enum map_id map, const char *key,
                              size_t keylen, const char **val_r, size_t *len_r,
                              enum lookup_source *source_r, char *err, size_t errsz)
{
    enum lookup_source dummy;
    const char *mval = NULL;
    size_t mlen = 0;

    if (source_r == NULL)
        source_r = &dummy;
    *val_r = NULL;
    *len_r = 0;
    if ((unsigned)map >= MAP_COUNT || keylen == 0 || memchr(key, '\0', keylen) != NULL) {
        snprintf(err, errsz, "bad lookup");
        return LOOKUP_TEMPFAIL;
    }
    if (keylen + 1 > lk->keycap) {
        char *k = realloc(lk->key, keylen + 1);
        if (k == NULL) {
            snprintf(err, errsz, "out of memory");
            return LOOKUP_TEMPFAIL;
        }
        lk->key = k;
        lk->keycap = keylen + 1;
    }
    memcpy(lk->key, key, keylen);
    lk->key[keylen] = '\0';
    address_lower(lk->key, keylen);
    key = lk->key;

    time_t now = lk->fixed_now ? lk->fixed_now : time(NULL);
    bool fresh = mapset_fresh(lk->set, now);
    int in_map = mapset_lookup(lk->set, map, key, keylen, &mval, &mlen);
    if (in_map > 0 && fresh) {
        *val_r = mval;
        *len_r = mlen;
        *source_r = LOOKUP_FROM_MAP;
        return LOOKUP_FOUND;
    }
    if (map == MAP_DOMAINS) {
        /* Nothing to ask LDAP for one key; any map that exists answers. */
        if (in_map < 0) {
            snprintf(err, errsz, "%s", mapset_map(lk->set, map)->error);
            return LOOKUP_TEMPFAIL;
        }
        *val_r = mval;
        *len_r = mlen;
        *source_r = fresh ? LOOKUP_FROM_MAP : LOOKUP_FROM_STALE_MAP;
        return in_map > 0 ? LOOKUP_FOUND : LOOKUP_NOTFOUND;
    }

    struct cache_slot *slot = slot_for(lk, map, key, keylen);
    if (slot_matches(slot, map, key, keylen) && slot->expires > now) {
        *val_r = slot->val;
        *len_r = slot->len;
        *source_r = LOOKUP_FROM_LDAP;
        return slot->result;
    }
    char *val;
    size_t vallen;
    enum lookup_result r = ask_ldap(lk, map, key, keylen, &val, &vallen, err, errsz);
    if (r != LOOKUP_TEMPFAIL) {
        slot_store(slot, map, key, keylen, r, val, vallen, now + LOOKUP_CACHE_TTL);
        if (slot_matches(slot, map, key, keylen)) {
            *val_r = slot->val;
            *len_r = slot->len;
            *source_r = LOOKUP_FROM_LDAP;
            return r;
        }
        snprintf(err, errsz, "out of memory");
        return LOOKUP_TEMPFAIL;
    }
    /* LDAP cannot answer: a stale map that holds the key still can. */
    if (in_map > 0) {
        *val_r = mval;
        *len_r = mlen;
        *source_r = LOOKUP_FROM_STALE_MAP;
        return LOOKUP_FOUND;
    }
    return LOOKUP_TEMPFAIL;
}
