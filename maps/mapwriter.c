/* mapwriter - build CDB maps in memory, write them beside their final
 * names and rename them into place all together. */

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/ascii.h"
#include "maps/atomicfile.h"
#include "maps/cdbmake.h"
#include "maps/mapwriter.h"
#include "maps/sha256.h"

/* A CDB file: 2048 bytes of table of contents, then per record 8 bytes of
 * lengths plus key and value, then hash tables of 2 slots of 8 bytes per
 * record (as tinycdb lays them out). All offsets are 32 bits. */
#define CDB_TOC_SIZE 2048u
#define CDB_REC_HEAD 8u
#define CDB_SLOTS_PER_REC 16u
#define CDB_MAX_SIZE 0xffffffffu
#define STREAM_FLUSH_BYTES (8u << 20)

/* Where a writer is: collecting records in memory (then sorted and
 * written by mapwriter_finish), or streaming them into the temp file as
 * they come; then done (temp file complete, kept open to be hashed);
 * a streaming writer is spent after its commit or a failure. */
enum wstate { W_COLLECT, W_STREAM, W_DONE, W_SPENT };

/* Records live back to back in one arena as (klen, vlen, key, value);
 * offs[] holds where each starts. Two allocations for any number of
 * records: a million users cost their bytes plus 12 bytes each. */
struct mapwriter {
    char *path;          /* final name */
    mode_t mode;
    gid_t gid;

    unsigned char *arena;
    size_t used, cap;
    uint32_t *offs;
    size_t count, offcap;

    enum wstate state;
    bool streamed;       /* a streaming writer (spent after commit) */
    uint64_t size;       /* streaming: bytes the file will have */
    struct cdbmake cm;   /* the file being written */
    unsigned char *last; /* streaming: the previous key, lower-cased */
    size_t lastlen, lastcap;
    size_t flushed;      /* streaming: bytes handed to writeback so far */

    struct atomicfile af; /* the temp file; af.tmp NULL when there is none */
};

/* rec_klen - key length of the record at off */
static uint32_t rec_klen(const struct mapwriter *w, uint32_t off)
{
    uint32_t v;
    memcpy(&v, w->arena + off, sizeof(v));
    return v;
}

/* rec_vlen - value length of the record at off */
static uint32_t rec_vlen(const struct mapwriter *w, uint32_t off)
{
    uint32_t v;
    memcpy(&v, w->arena + off + 4, sizeof(v));
    return v;
}

/* rec_key - key bytes of the record at off */
static const unsigned char *rec_key(const struct mapwriter *w, uint32_t off)
{
    return w->arena + off + CDB_REC_HEAD;
}

/* rec_value - value bytes of the record at off */
static const unsigned char *rec_value(const struct mapwriter *w, uint32_t off)
{
    return w->arena + off + CDB_REC_HEAD + rec_klen(w, off);
}

/* mapwriter_new - an empty writer for the map at path */
struct mapwriter *mapwriter_new(const char *path, mode_t mode, gid_t gid)
{
    struct mapwriter *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->path = strdup(path);
    if (w->path == NULL) {
        free(w);
        return NULL;
    }
    w->mode = mode;
    w->gid = gid;
    w->af.fd = -1;
    return w;
}

/* mapwriter_free - release a writer; a temp file not renamed goes too */
void mapwriter_free(struct mapwriter *w)
{
    if (w == NULL)
        return;
    if (w->state == W_STREAM)
        cdbmake_free(&w->cm);
    atomicfile_discard(&w->af);
    free(w->arena);
    free(w->offs);
    free(w->last);
    free(w->path);
    free(w);
}

/* mapwriter_count - records added so far */
size_t mapwriter_count(const struct mapwriter *w)
{
    return w->count;
}

/* grow - make room for need more elements of size sz in *buf */
static int grow(void *bufp, size_t *cap, size_t used, size_t need, size_t sz, size_t first)
{
    void **buf = bufp;
    if (*cap - used >= need)
        return 0;
    size_t ncap = *cap ? *cap : first;
    while (ncap - used < need) {
        if (ncap > SIZE_MAX / 2 / sz)
            return -1;
        ncap *= 2;
    }
    void *p = realloc(*buf, ncap * sz);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}

/* key_quote - a key printable in an error message, bounded (outsz >= 8) */
static void key_quote(const unsigned char *key, size_t len, char *out, size_t outsz)
{
    size_t o = 0, i;

    /* Stop while an escape, "..." and the NUL still fit. */
    for (i = 0; i < len && o + 8 < outsz; i++) {
        if (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '\\' && key[i] != '\'')
            out[o++] = (char)key[i];
        else
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", key[i]);
    }
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* record_check - what no map may hold, and what CDB cannot hold */
static int record_check(struct mapwriter *w, const char *key, size_t keylen,
                        const char *value, size_t vallen, char *err, size_t errsz)
{
    char q[128];

    if (keylen == 0) {
        snprintf(err, errsz, "%s: empty key", w->path);
        return -1;
    }
    if (memchr(key, '\0', keylen) != NULL) {
        key_quote((const unsigned char *)key, keylen, q, sizeof(q));
        snprintf(err, errsz, "%s: NUL byte in key '%s'", w->path, q);
        return -1;
    }
    if (vallen == 0) {
        /* Postfix 3.7 crashes on an empty cdb value. */
        key_quote((const unsigned char *)key, keylen, q, sizeof(q));
        snprintf(err, errsz, "%s: empty value for key '%s'", w->path, q);
        return -1;
    }
    if (memchr(value, '\0', vallen) != NULL) {
        key_quote((const unsigned char *)key, keylen, q, sizeof(q));
        snprintf(err, errsz, "%s: NUL byte in the value of key '%s'", w->path, q);
        return -1;
    }
    /* Refuse here what the finished file could not hold, so offsets and
     * lengths below all fit in 32 bits. */
    uint64_t total = (uint64_t)CDB_TOC_SIZE + w->used + CDB_REC_HEAD + keylen + vallen +
                     (uint64_t)CDB_SLOTS_PER_REC * (w->count + 1);
    if (keylen > CDB_MAX_SIZE || vallen > CDB_MAX_SIZE || total > CDB_MAX_SIZE) {
        snprintf(err, errsz, "%s: map would exceed the 4 GiB limit of CDB", w->path);
        return -1;
    }
    return 0;
}

/* stream_add - one record straight into the file, after the previous key */
static int stream_add(struct mapwriter *w, const char *key, size_t keylen,
                      const char *value, size_t vallen, char *err, size_t errsz)
{
    char q[128];

    /* the new key goes after the previous one in the same buffer */
    if (grow(&w->last, &w->lastcap, w->lastlen, keylen, 1, 256) < 0) {
        snprintf(err, errsz, "%s: out of memory", w->path);
        return -1;
    }
    unsigned char *prev = w->last, *cur = w->last + w->lastlen;
    /* Postfix folds the query, not the stored key: maps store lower case */
    ascii_lower_copy((char *)cur, key, keylen);
    if (w->count > 0) {
        int c = memcmp(prev, cur, w->lastlen < keylen ? w->lastlen : keylen);
        if (c > 0 || (c == 0 && w->lastlen >= keylen)) {
            key_quote(cur, keylen, q, sizeof(q));
            snprintf(err, errsz, "%s: key '%s' %s", w->path, q,
                     c == 0 && w->lastlen == keylen ? "twice (duplicate key)"
                                                    : "out of order in a sorted stream");
            return -1;
        }
    }
    if (cdbmake_add(&w->cm, cur, (uint32_t)keylen, value, (uint32_t)vallen) < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: write %s: %s", w->path, w->af.tmp, strerror(saved));
        return -1;
    }
    memmove(w->last, cur, keylen);
    w->lastlen = keylen;
    w->used += CDB_REC_HEAD + keylen + vallen;
    w->count++;
    /* start writing back what is there, so the fsync at the end finds
     * little left to do (a hint: errors show at that fsync) */
    if (w->used - w->flushed >= STREAM_FLUSH_BYTES) {
        (void)sync_file_range(w->af.fd, (off_t)w->flushed, 0, SYNC_FILE_RANGE_WRITE);
        w->flushed = w->used;
    }
    return 0;
}

/* mapwriter_add - copy one record in, key lower-cased */
int mapwriter_add(struct mapwriter *w, const char *key, size_t keylen,
                  const char *value, size_t vallen, char *err, size_t errsz)
{
    if (w->state != W_COLLECT && w->state != W_STREAM) {
        snprintf(err, errsz, "%s: the map is already written", w->path);
        return -1;
    }
    if (record_check(w, key, keylen, value, vallen, err, errsz) < 0)
        return -1;
    if (w->state == W_STREAM)
        return stream_add(w, key, keylen, value, vallen, err, errsz);
    size_t reclen = CDB_REC_HEAD + keylen + vallen;
    if (grow(&w->arena, &w->cap, w->used, reclen, 1, 1 << 16) < 0 ||
        grow(&w->offs, &w->offcap, w->count, 1, sizeof(uint32_t), 1024) < 0) {
        snprintf(err, errsz, "%s: out of memory", w->path);
        return -1;
    }
    unsigned char *p = w->arena + w->used;
    uint32_t k32 = (uint32_t)keylen, v32 = (uint32_t)vallen;
    memcpy(p, &k32, 4);
    memcpy(p + 4, &v32, 4);
    ascii_lower_copy((char *)p + CDB_REC_HEAD, key, keylen);
    memcpy(p + CDB_REC_HEAD + keylen, value, vallen);
    w->offs[w->count++] = (uint32_t)w->used;
    w->used += reclen;
    return 0;
}

/* The sort looks at an 8-byte big-endian key prefix first, so most
 * comparisons stay inside this array instead of chasing into the arena. */
struct sortent {
    uint64_t prefix;
    uint32_t off;
};

/* key_compare - byte order, a shorter key first when one is a prefix */
static int key_compare(const struct mapwriter *w, uint32_t a, uint32_t b)
{
    uint32_t la = rec_klen(w, a), lb = rec_klen(w, b);
    int c = memcmp(rec_key(w, a), rec_key(w, b), la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* sortent_compare - qsort_r callback */
static int sortent_compare(const void *pa, const void *pb, void *arg)
{
    const struct sortent *a = pa, *b = pb;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    return key_compare(arg, a->off, b->off);
}

/* mapwriter_sort - order the records by key; two equal keys are an error.
 * Sorting makes the file a function of the set of records, not of the
 * order the directory returned them in. */
static int mapwriter_sort(struct mapwriter *w, char *err, size_t errsz)
{
    if (w->count < 2)
        return 0;
    struct sortent *ents = malloc(w->count * sizeof(*ents));
    if (ents == NULL) {
        snprintf(err, errsz, "%s: out of memory sorting %zu records", w->path, w->count);
        return -1;
    }
    for (size_t i = 0; i < w->count; i++) {
        uint32_t off = w->offs[i], klen = rec_klen(w, off);
        const unsigned char *k = rec_key(w, off);
        uint64_t prefix = 0;
        for (uint32_t j = 0; j < 8; j++)
            prefix = (prefix << 8) | (j < klen ? k[j] : 0);
        ents[i].prefix = prefix;
        ents[i].off = off;
    }
    qsort_r(ents, w->count, sizeof(*ents), sortent_compare, w);
    for (size_t i = 0; i < w->count; i++) {
        w->offs[i] = ents[i].off;
        if (i > 0 && ents[i].prefix == ents[i - 1].prefix &&
            key_compare(w, ents[i - 1].off, ents[i].off) == 0) {
            char q[128];
            key_quote(rec_key(w, ents[i].off), rec_klen(w, ents[i].off), q, sizeof(q));
            snprintf(err, errsz, "%s: duplicate key '%s'", w->path, q);
            free(ents);
            return -1;
        }
    }
    free(ents);
    return 0;
}

/* mapwriter_discard - close and remove the temp file, if any; a
 * collecting writer keeps its records, a streaming one is spent */
static void mapwriter_discard(struct mapwriter *w)
{
    if (w->state == W_STREAM)
        cdbmake_free(&w->cm);
    atomicfile_discard(&w->af);
    w->state = w->streamed ? W_SPENT : W_COLLECT;
}

/* tmp_create - the temp file (atomicfile.h), with a CDB being made in it */
static int tmp_create(struct mapwriter *w, char *err, size_t errsz)
{
    if (atomicfile_open(&w->af, w->path, err, errsz) < 0)
        return -1;
    if (cdbmake_start(&w->cm, w->af.fd) < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: write %s: %s", w->path, w->af.tmp, strerror(saved));
        atomicfile_discard(&w->af);
        return -1;
    }
    w->state = W_STREAM;
    return 0;
}

/* mapwriter_stream - records go to the temp file as they come */
int mapwriter_stream(struct mapwriter *w, char *err, size_t errsz)
{
    if (w->state != W_COLLECT || w->count > 0) {
        snprintf(err, errsz, "%s: streaming must start before the first record", w->path);
        return -1;
    }
    if (tmp_create(w, err, errsz) < 0)
        return -1;
    w->streamed = true;
    return 0;
}

/* tmp_complete - end the CDB, set permissions, fsync */
static int tmp_complete(struct mapwriter *w, char *err, size_t errsz)
{
    int rc = cdbmake_finish(&w->cm);

    w->state = W_DONE;                   /* cm is freed either way */
    if (rc < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: write %s: %s", w->path, w->af.tmp, strerror(saved));
    } else {
        rc = atomicfile_seal(&w->af, w->mode, w->gid, err, errsz);
    }
    if (rc < 0)
        mapwriter_discard(w);
    return rc;
}

/* mapwriter_finish - the temp file complete and on disk */
int mapwriter_finish(struct mapwriter *w, char *err, size_t errsz)
{
    switch (w->state) {
    case W_DONE:
        return 0;
    case W_SPENT:
        snprintf(err, errsz, "%s: the map was already committed or failed", w->path);
        return -1;
    case W_STREAM:
        return tmp_complete(w, err, errsz);
    case W_COLLECT:
        break;
    }
    if (mapwriter_sort(w, err, errsz) < 0 || tmp_create(w, err, errsz) < 0)
        return -1;
    for (size_t i = 0; i < w->count; i++) {
        uint32_t off = w->offs[i];
        if (cdbmake_add(&w->cm, rec_key(w, off), rec_klen(w, off),
                         rec_value(w, off), rec_vlen(w, off)) < 0) {
            int saved = errno;
            snprintf(err, errsz, "%s: write %s: %s", w->path, w->af.tmp, strerror(saved));
            mapwriter_discard(w);
            return -1;
        }
    }
    return tmp_complete(w, err, errsz);
}

/* mapwriter_hash_tmp - feed the finished temp file's bytes to ctx */
static int mapwriter_hash_tmp(struct mapwriter *w, struct sha256 *ctx,
                              unsigned char *buf, size_t bufsz, char *err, size_t errsz)
{
    off_t pos = 0;
    ssize_t n;

    while ((n = pread(w->af.fd, buf, bufsz, pos)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            snprintf(err, errsz, "%s: read back the new file: %s", w->path, strerror(saved));
            return -1;
        }
        sha256_update(ctx, buf, (size_t)n);
        pos += n;
    }
    return 0;
}

/* The checksum of a set of maps, computed while they are renamed into
 * place (reading the temp files' descriptors, which stay valid): for a
 * million users half a second that the renames need not wait for. */
struct hash_job {
    struct mapwriter *const *writers;
    size_t n;
    unsigned char digest[SHA256_DIGEST_SIZE];
    int rc;
    char err[512];
};

/* hash_run - the SHA-256 over every file in array order (a thread's body,
 * or called inline) */
static void *hash_run(void *arg)
{
    enum { HASHBUF = 1 << 20 };
    struct hash_job *j = arg;
    struct sha256 ctx;
    unsigned char *buf = malloc(HASHBUF);

    j->rc = -1;
    if (buf == NULL) {
        snprintf(j->err, sizeof(j->err), "out of memory");
        return NULL;
    }
    sha256_init(&ctx);
    for (size_t i = 0; i < j->n; i++) {
        if (mapwriter_hash_tmp(j->writers[i], &ctx, buf, HASHBUF, j->err, sizeof(j->err)) < 0) {
            free(buf);
            return NULL;
        }
    }
    sha256_final(&ctx, j->digest);
    free(buf);
    j->rc = 0;
    return NULL;
}

/* same_bytes - the first len bytes of fds a and b are equal: 1 yes, 0 no,
 * -1 read error. Read through a buffer rather than mapped: both files are
 * in the page cache (the new one was just written, the old one is what
 * readers map), and a mapping would add both to this process's resident
 * size, twice the maps at the sync's peak. */
static int same_bytes(int a, int b, size_t len, const char *path, char *err, size_t errsz)
{
    enum { CHUNK = 1 << 20 };
    char *x = malloc(2 * (size_t)CHUNK), *y = x + CHUNK;
    int rc = 1;

    if (x == NULL) {
        snprintf(err, errsz, "%s: out of memory", path);
        return -1;
    }
    for (off_t off = 0; rc == 1 && (size_t)off < len;) {
        size_t want = len - (size_t)off < CHUNK ? len - (size_t)off : CHUNK;
        ssize_t n = pread(a, x, want, off), m = n > 0 ? pread(b, y, (size_t)n, off) : n;
        if (n < 0 || m < 0) {
            snprintf(err, errsz, "%s: read: %s", path, strerror(errno));
            rc = -1;
        } else if (n == 0 || m != n) {
            rc = 0;   /* one of them changed size under us */
        } else {
            rc = memcmp(x, y, (size_t)n) == 0;
            off += n;
        }
    }
    free(x);
    return rc;
}

/* same_file - the finished temp file of w and the map in place hold the
 * same bytes, mode, owner and group: 1 yes, 0 no, -1 read error */
static int same_file(struct mapwriter *w, char *err, size_t errsz)
{
    struct stat a, b;
    int fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;   /* missing (or a symlink): installing changes something */
    int rc = 0;
    if (fstat(w->af.fd, &a) < 0 || fstat(fd, &b) < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: %s", w->path, strerror(saved));
        rc = -1;
    } else if (S_ISREG(b.st_mode) && a.st_size == b.st_size &&
               (a.st_mode & 07777) == (b.st_mode & 07777) && a.st_uid == b.st_uid &&
               a.st_gid == b.st_gid) {
        rc = same_bytes(w->af.fd, fd, (size_t)a.st_size, w->path, err, errsz);
    }
    close(fd);
    return rc;
}

/* mapwriter_unchanged - finish every writer, compare with what is in place */
int mapwriter_unchanged(struct mapwriter *const *writers, size_t n, char *err, size_t errsz)
{
    int same = 1;
    for (size_t i = 0; i < n; i++)
        if (mapwriter_finish(writers[i], err, errsz) < 0)
            goto fail;
    for (size_t i = 0; i < n && same == 1; i++)
        if ((same = same_file(writers[i], err, errsz)) < 0)
            goto fail;
    return same;
fail:
    for (size_t i = 0; i < n; i++)
        mapwriter_discard(writers[i]);
    return -1;
}

/* mapwriter_commit - all temp files first, then all renames */
int mapwriter_commit(struct mapwriter *const *writers, size_t n,
                     char *checksum_hex, char *err, size_t errsz)
{
    struct hash_job job = { .writers = writers, .n = n };
    pthread_t hasher;
    bool threaded = false;
    size_t i;

    for (i = 0; i < n; i++)
        if (mapwriter_finish(writers[i], err, errsz) < 0)
            goto fail;
    if (checksum_hex != NULL) {
        threaded = pthread_create(&hasher, NULL, hash_run, &job) == 0;
        if (!threaded) {
            hash_run(&job);
            if (job.rc < 0) {
                snprintf(err, errsz, "%s", job.err);
                goto fail;
            }
        }
    }

    /* Every file is complete and on disk: only now touch the real names. */
    for (i = 0; i < n; i++) {
        struct mapwriter *w = writers[i];
        if (atomicfile_rename(&w->af, err, errsz) < 0) {
            size_t used = strlen(err);
            snprintf(err + used, errsz - used, " (%zu of %zu maps were already replaced)", i, n);
            goto fail;
        }
        w->state = w->streamed ? W_SPENT : W_COLLECT;
    }
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        /* One fsync per directory; writers of one set share it. */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(writers[j]->af.dir, writers[i]->af.dir) == 0;
        if (!seen && atomicfile_sync_dir(writers[i]->af.dir, err, errsz) < 0)
            rc = -1;
    }
    if (threaded)
        pthread_join(hasher, NULL);
    for (i = 0; i < n; i++)
        atomicfile_discard(&writers[i]->af);
    if (rc == 0 && checksum_hex != NULL && job.rc < 0) {
        snprintf(err, errsz, "maps renamed into place, but their checksum failed: %s", job.err);
        rc = -1;
    }
    if (rc == 0 && checksum_hex != NULL)
        sha256_hex(job.digest, checksum_hex);
    return rc;

fail:
    if (threaded)
        pthread_join(hasher, NULL);
    for (i = 0; i < n; i++)
        mapwriter_discard(writers[i]);
    return -1;
}
