/* test-cdbmake - our CDB writer gives the bytes tinycdb's cdb_make gives
 * for the same records (empty, one, many with shared hash tables, values
 * larger than the write buffer, keys of every byte), and tinycdb finds
 * every record in what it wrote. */

#include <cdb.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/cdbmake.h"
#include "tests/unit/tap.h"

struct rec {
    unsigned char *key, *val;
    uint32_t klen, vlen;
};

static char dir[64];

/* file_bytes - the whole file (malloc'ed), its length in *len */
static unsigned char *file_bytes(const char *path, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    unsigned char *p = NULL;

    *len = 0;
    if (fd < 0 || fstat(fd, &st) < 0)
        goto out;
    p = malloc((size_t)st.st_size + 1);
    if (p != NULL && read(fd, p, (size_t)st.st_size) == st.st_size)
        *len = (size_t)st.st_size;
out:
    if (fd >= 0)
        close(fd);
    return p;
}

/* write_both - recs with tinycdb into a, with cdbmake into b; 0 when both
 * worked */
static int write_both(const struct rec *r, size_t n, const char *a, const char *b)
{
    struct cdb_make cm;
    struct cdbmake m;
    int fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int bad = fa < 0 || fb < 0;

    if (!bad && cdb_make_start(&cm, fa) == 0) {
        for (size_t i = 0; i < n; i++)
            bad |= cdb_make_add(&cm, r[i].key, r[i].klen, r[i].val, r[i].vlen) < 0;
        bad |= cdb_make_finish(&cm) < 0;
    }
    if (!bad && cdbmake_start(&m, fb) == 0) {
        for (size_t i = 0; i < n; i++)
            bad |= cdbmake_add(&m, r[i].key, r[i].klen, r[i].val, r[i].vlen) < 0;
        bad |= cdbmake_finish(&m) < 0;
    }
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return bad ? -1 : 0;
}

/* same_files - byte for byte */
static int same_files(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *pa = file_bytes(a, &la), *pb = file_bytes(b, &lb);
    int same = pa != NULL && pb != NULL && la == lb && memcmp(pa, pb, la) == 0;

    free(pa);
    free(pb);
    return same;
}

/* all_found - tinycdb finds every record of r in path with its value
 * (the first one of a key added twice) */
static int all_found(const struct rec *r, size_t n, const char *path)
{
    struct cdb c;
    int fd = open(path, O_RDONLY), found = 0;

    if (fd < 0 || cdb_init(&c, fd) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && !(r[j].klen == r[i].klen && memcmp(r[j].key, r[i].key, r[i].klen) == 0))
            j++;
        if (cdb_find(&c, r[i].key, r[i].klen) > 0 && cdb_datalen(&c) == r[j].vlen &&
            memcmp(cdb_getdata(&c), r[j].val, r[j].vlen) == 0)
            found++;
    }
    cdb_free(&c);
    close(fd);
    return found == (int)n;
}

/* make_recs - n records from seed: short and long keys, every byte value,
 * a repeated key now and then, values up to maxval bytes */
static struct rec *make_recs(size_t n, unsigned seed, size_t maxval)
{
    struct rec *r = calloc(n ? n : 1, sizeof(*r));

    srand(seed);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && rand() % 50 == 0) {          /* a key twice */
            r[i].klen = r[i - 1].klen;
            r[i].key = malloc(r[i].klen + 1);
            memcpy(r[i].key, r[i - 1].key, r[i].klen);
        } else {
            r[i].klen = (uint32_t)(rand() % 40);
            r[i].key = malloc(r[i].klen + 1);
            for (uint32_t k = 0; k < r[i].klen; k++)
                r[i].key[k] = (unsigned char)rand();
        }
        r[i].vlen = (uint32_t)(maxval ? (size_t)rand() % maxval : 0);
        r[i].val = malloc(r[i].vlen + 1);
        for (uint32_t k = 0; k < r[i].vlen; k++)
            r[i].val[k] = (unsigned char)(rand() >> 3);
    }
    return r;
}

static void free_recs(struct rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].key);
        free(r[i].val);
    }
    free(r);
}

int main(void)
{
    static const struct { size_t n; unsigned seed; size_t maxval; const char *what; } cases[] = {
        { 0, 1, 10, "no records" },
        { 1, 2, 10, "one record" },
        { 300, 3, 100, "300 records, tables shared" },
        { 20000, 4, 300, "20,000 records: the buffer fills many times" },
        { 5, 5, 3u << 20, "values larger than the write buffer" },
    };
    char a[128], b[128];

    snprintf(dir, sizeof(dir), "/tmp/test-cdbmake.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(a, sizeof(a), "%s/tinycdb.cdb", dir);
    snprintf(b, sizeof(b), "%s/ours.cdb", dir);
    is_int((int)cdbmake_hash("", 0), 5381, "hash of nothing is the format's start value");
    is_int((int)cdbmake_hash("a", 1), (int)((5381u * 33u) ^ 'a'), "hash: one step");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rec *r = make_recs(cases[i].n, cases[i].seed, cases[i].maxval);
        is_int(write_both(r, cases[i].n, a, b), 0, "%s: both written", cases[i].what);
        ok(same_files(a, b), "%s: the same bytes as tinycdb", cases[i].what);
        ok(all_found(r, cases[i].n, b), "%s: tinycdb finds every record", cases[i].what);
        free_recs(r, cases[i].n);
    }

    /* a write error reaches the caller */
    struct cdbmake m;
    int fd = open("/dev/full", O_WRONLY);
    if (fd >= 0 && cdbmake_start(&m, fd) == 0) {
        static unsigned char big[1 << 16];
        int rc = 0;
        for (int i = 0; i < 40 && rc == 0; i++)
            rc = cdbmake_add(&m, "k", 1, big, sizeof(big));
        if (rc == 0)
            rc = cdbmake_finish(&m);
        else
            cdbmake_free(&m);
        is_int(rc, -1, "a full disk fails the write");
        close(fd);
    } else {
        ok(1, "# SKIP no /dev/full");
    }
    unlink(a);
    unlink(b);
    rmdir(dir);
    return tap_done();
}
