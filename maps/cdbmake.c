/* cdbmake - write a CDB file through a large buffer */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/cdbmake.h"

#define CDBMAKE_TOC 2048u            /* 256 tables x (position, slots) */
#define CDBMAKE_BUF (1u << 20)

/* put_le32 - the format's integers are little-endian */
static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

uint32_t cdbmake_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t h = 5381;

    while (len-- > 0)
        h = ((h << 5) + h) ^ *p++;
    return h;
}

/* write_at - all of len bytes at offset off */
static int write_at(int fd, const unsigned char *p, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* flush - the buffer to the file; it ends at offset m->pos */
static int flush(struct cdbmake *m)
{
    if (m->used == 0)
        return 0;
    if (write_at(m->fd, m->buf, m->used, (off_t)m->pos - (off_t)m->used) < 0)
        return -1;
    m->used = 0;
    return 0;
}

/* append - bytes after everything written so far */
static int append(struct cdbmake *m, const void *p, size_t len)
{
    if (m->used + len > CDBMAKE_BUF && flush(m) < 0)
        return -1;
    if (len > CDBMAKE_BUF) {
        /* larger than the buffer: straight to the file */
        if (write_at(m->fd, p, len, (off_t)m->pos) < 0)
            return -1;
    } else {
        memcpy(m->buf + m->used, p, len);
        m->used += len;
    }
    m->pos += (uint32_t)len;
    return 0;
}

int cdbmake_start(struct cdbmake *m, int fd)
{
    memset(m, 0, sizeof(*m));
    m->fd = fd;
    m->pos = CDBMAKE_TOC;        /* the table of contents comes last */
    if ((m->buf = malloc(CDBMAKE_BUF)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int cdbmake_add(struct cdbmake *m, const void *key, uint32_t klen, const void *val,
                uint32_t vlen)
{
    unsigned char head[8];

    if (m->count == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 4096;
        struct cdbmake_rec *r = realloc(m->rec, cap * sizeof(*r));
        if (r == NULL) {
            errno = ENOMEM;
            return -1;
        }
        m->rec = r;
        m->cap = cap;
    }
    m->rec[m->count].hash = cdbmake_hash(key, klen);
    m->rec[m->count].pos = m->pos;
    put_le32(head, klen);
    put_le32(head + 4, vlen);
    if (append(m, head, sizeof(head)) < 0 || append(m, key, klen) < 0 ||
        append(m, val, vlen) < 0)
        return -1;
    m->count++;
    return 0;
}

/* write_tables - each of the 256 tables: twice as many slots as it has
 * records, each record at (hash >> 8) % slots or the next free slot on,
 * in the order the records were added; toc gets (position, slots) */
static int write_tables(struct cdbmake *m, unsigned char *toc)
{
    uint32_t count[256] = { 0 }, start[257];
    uint32_t *byt = NULL, most = 0;
    struct cdbmake_rec *slot = NULL;
    unsigned char out[8];
    int rc = -1;

    for (size_t i = 0; i < m->count; i++)
        count[m->rec[i].hash & 255]++;
    start[0] = 0;
    for (int t = 0; t < 256; t++) {
        start[t + 1] = start[t] + count[t];
        if (count[t] > most)
            most = count[t];
    }
    /* the records of each table together, in their order */
    byt = malloc((m->count ? m->count : 1) * sizeof(*byt));
    slot = malloc(((size_t)most * 2 + 1) * sizeof(*slot));
    if (byt == NULL || slot == NULL) {
        errno = ENOMEM;
        goto out;
    }
    uint32_t fill[256];
    memcpy(fill, start, sizeof(fill));
    for (size_t i = 0; i < m->count; i++)
        byt[fill[m->rec[i].hash & 255]++] = (uint32_t)i;

    for (int t = 0; t < 256; t++) {
        uint32_t len = 2 * count[t];
        put_le32(toc + 8 * t, m->pos);
        put_le32(toc + 8 * t + 4, len);
        if (len == 0)
            continue;
        memset(slot, 0, (size_t)len * sizeof(*slot));
        for (uint32_t k = start[t]; k < start[t + 1]; k++) {
            const struct cdbmake_rec *r = &m->rec[byt[k]];
            uint32_t s = (r->hash >> 8) % len;
            while (slot[s].pos != 0)     /* no record starts at 0 */
                s = s + 1 == len ? 0 : s + 1;
            slot[s] = *r;
        }
        for (uint32_t s = 0; s < len; s++) {
            put_le32(out, slot[s].hash);
            put_le32(out + 4, slot[s].pos);
            if (append(m, out, sizeof(out)) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    free(byt);
    free(slot);
    return rc;
}

int cdbmake_finish(struct cdbmake *m)
{
    unsigned char toc[CDBMAKE_TOC];
    int rc = -1;

    if (write_tables(m, toc) == 0 && flush(m) == 0 &&
        write_at(m->fd, toc, sizeof(toc), 0) == 0)
        rc = 0;
    int saved = errno;
    cdbmake_free(m);
    errno = saved;
    return rc;
}

void cdbmake_free(struct cdbmake *m)
{
    free(m->buf);
    free(m->rec);
    m->buf = NULL;
    m->rec = NULL;
    m->used = m->count = m->cap = 0;
}
