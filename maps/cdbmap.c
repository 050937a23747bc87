/* cdbmap - one read-only CDB map, mmap'ed by tinycdb, that notices when
 * its path is replaced. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/cdbmap.h"

/* The table of contents: 256 (position, slots) pairs of 4 bytes each. */
#define CDBMAP_TOC_SIZE 2048u

/* cdbmap_fail - enter a non-open state with a reason */
__attribute__((format(printf, 3, 4)))
static void cdbmap_fail(struct cdbmap *map, enum cdbmap_state state, const char *fmt, ...)
{
    va_list ap;

    map->state = state;
    va_start(ap, fmt);
    vsnprintf(map->error, sizeof(map->error), fmt, ap);
    va_end(ap);
}

/* cdbmap_remember - note which file the handle now describes */
static void cdbmap_remember(struct cdbmap *map, const struct stat *st)
{
    if (st == NULL) {
        map->dev = 0;
        map->ino = 0;
        map->size = 0;
        map->ctime.tv_sec = 0;
        map->ctime.tv_nsec = 0;
        return;
    }
    map->dev = st->st_dev;
    map->ino = st->st_ino;
    map->size = st->st_size;
    map->ctime = st->st_ctim;
}

/* cdbmap_same - does st describe the file the handle last looked at? */
static bool cdbmap_same(const struct cdbmap *map, const struct stat *st)
{
    return map->dev == st->st_dev && map->ino == st->st_ino &&
           map->size == st->st_size &&
           map->ctime.tv_sec == st->st_ctim.tv_sec &&
           map->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* cdbmap_release - unmap and close whatever the handle holds */
static void cdbmap_release(struct cdbmap *map)
{
    if (map->state == CDBMAP_OPEN)
        cdb_free(&map->cdb);
    memset(&map->cdb, 0, sizeof(map->cdb));
    if (map->fd >= 0)
        close(map->fd);
    map->fd = -1;
}

/* cdbmap_check_toc - every hash table must lie inside the file, after the
 * data. tinycdb checks a table only when a lookup lands on it; checking
 * all 256 here turns a damaged file into BROKEN at open time. */
static const char *cdbmap_check_toc(const struct cdb *cdb, unsigned fsize, int *table_r)
{
    const unsigned char *toc = cdb_get(cdb, CDBMAP_TOC_SIZE, 0);

    *table_r = -1;
    if (toc == NULL)
        return "cannot read the table of contents";
    /* tinycdb takes the first table's position as the end of the data. */
    unsigned dend = cdb_unpack(toc);
    if (dend < CDBMAP_TOC_SIZE || dend > fsize)
        return "data end points outside the file";
    for (int i = 0; i < 256; i++) {
        unsigned pos = cdb_unpack(toc + 8 * i);
        unsigned slots = cdb_unpack(toc + 8 * i + 4);
        *table_r = i;
        if (pos < dend || pos > fsize)
            return "hash table position outside the file";
        if (slots > (fsize - pos) / 8)
            return "hash table runs past the end of the file";
    }
    return NULL;
}

/* cdbmap_load - map the file now at the path, or say why not */
static void cdbmap_load(struct cdbmap *map)
{
    struct stat st;

    map->fd = open(map->path, O_RDONLY | O_CLOEXEC);
    if (map->fd < 0) {
        int saved = errno;
        if (saved == ENOENT || saved == ENOTDIR) {
            cdbmap_remember(map, NULL);
            cdbmap_fail(map, CDBMAP_MISSING, "%s: %s", map->path, strerror(saved));
            return;
        }
        /* Remember the file we could not open, so a refresh does not try
         * it again until it changes. */
        cdbmap_remember(map, stat(map->path, &st) == 0 ? &st : NULL);
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: %s", map->path, strerror(saved));
        return;
    }
    if (fstat(map->fd, &st) < 0) {
        int saved = errno;
        cdbmap_remember(map, NULL);
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: fstat: %s", map->path, strerror(saved));
        goto close;
    }
    cdbmap_remember(map, &st);
    if (!S_ISREG(st.st_mode)) {
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: not a regular file", map->path);
        goto close;
    }
    if (st.st_size < (off_t)CDBMAP_TOC_SIZE) {
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: too short to be a CDB file (%lld bytes)",
                    map->path, (long long)st.st_size);
        goto close;
    }
    /* CDB offsets are 32 bits: a larger file is not one we wrote. */
    if ((uintmax_t)st.st_size > UINT32_MAX) {
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: too large to be a CDB file (%lld bytes)",
                    map->path, (long long)st.st_size);
        goto close;
    }
    if (cdb_init(&map->cdb, map->fd) < 0) {
        int saved = errno;
        memset(&map->cdb, 0, sizeof(map->cdb));
        cdbmap_fail(map, CDBMAP_BROKEN, "%s: %s", map->path, strerror(saved));
        goto close;
    }
    int table;
    const char *why = cdbmap_check_toc(&map->cdb, (unsigned)st.st_size, &table);
    if (why != NULL) {
        cdb_free(&map->cdb);
        memset(&map->cdb, 0, sizeof(map->cdb));
        if (table >= 0)
            cdbmap_fail(map, CDBMAP_BROKEN, "%s: not a valid CDB file: %s (table %d)",
                        map->path, why, table);
        else
            cdbmap_fail(map, CDBMAP_BROKEN, "%s: not a valid CDB file: %s", map->path, why);
        goto close;
    }
    map->state = CDBMAP_OPEN;
    map->error[0] = '\0';
    return;

close:
    close(map->fd);
    map->fd = -1;
}

/* cdbmap_open - a handle for path, whatever state the file is in */
struct cdbmap *cdbmap_open(const char *path)
{
    struct cdbmap *map = calloc(1, sizeof(*map));

    if (map == NULL)
        return NULL;
    map->path = strdup(path);
    if (map->path == NULL) {
        free(map);
        return NULL;
    }
    map->fd = -1;
    map->state = CDBMAP_MISSING;
    cdbmap_load(map);
    return map;
}

/* cdbmap_close - unmap and free */
void cdbmap_close(struct cdbmap *map)
{
    if (map == NULL)
        return;
    cdbmap_release(map);
    free(map->path);
    free(map);
}

/* cdbmap_lookup - find key; the value points into the mapped file */
int cdbmap_lookup(struct cdbmap *map, const char *key, size_t keylen,
                  const char **value_r, size_t *len_r)
{
    if (map->state != CDBMAP_OPEN)
        return -1;
    if (keylen > UINT_MAX)
        return 0;   /* longer than any file we can map */
    int r = cdb_find(&map->cdb, key, (unsigned)keylen);
    if (r <= 0)
        return r;   /* -1: tinycdb found the record damaged */
    const char *value = cdb_getdata(&map->cdb);
    if (value == NULL)
        return -1;
    *value_r = value;
    *len_r = cdb_datalen(&map->cdb);
    return 1;
}

/* cdbmap_refresh - reopen when the path names another file (or none) */
int cdbmap_refresh(struct cdbmap *map)
{
    struct stat st;

    if (stat(map->path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            if (map->state == CDBMAP_MISSING)
                return 0;
        } else if (map->state == CDBMAP_BROKEN && map->dev == 0 && map->ino == 0) {
            return 0;   /* still cannot even stat it: nothing new */
        }
    } else if (map->state != CDBMAP_MISSING && cdbmap_same(map, &st)) {
        return 0;
    }
    cdbmap_release(map);
    cdbmap_load(map);
    return 1;
}

/* cdbmap_iter - next record in file order; *pos = 0 starts */
int cdbmap_iter(struct cdbmap *map, unsigned *pos,
                const char **key_r, size_t *keylen_r,
                const char **value_r, size_t *vallen_r)
{
    if (map->state != CDBMAP_OPEN)
        return -1;
    if (*pos < CDBMAP_TOC_SIZE)
        cdb_seqinit(pos, &map->cdb);
    int r = cdb_seqnext(pos, &map->cdb);
    if (r <= 0)
        return r;
    /* cdb_seqnext's length checks can wrap around on a damaged record;
     * cdb_get's cannot, and both in bounds also means *pos moved forward. */
    const char *key = cdb_getkey(&map->cdb);
    const char *value = cdb_getdata(&map->cdb);
    if (key == NULL || value == NULL)
        return -1;
    *key_r = key;
    *keylen_r = cdb_keylen(&map->cdb);
    *value_r = value;
    *vallen_r = cdb_datalen(&map->cdb);
    return 1;
}

/* cdbmap_count - number of records (a walk over the data section) */
long cdbmap_count(struct cdbmap *map)
{
    unsigned pos = 0;
    const char *k, *v;
    size_t klen, vlen;
    long n = 0;
    int r;

    while ((r = cdbmap_iter(map, &pos, &k, &klen, &v, &vlen)) > 0)
        n++;
    return r < 0 ? -1 : n;
}
