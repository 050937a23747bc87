/* test-cdbmap - open/lookup/iterate tiny maps written with tinycdb's own
 * cdb_make; missing, truncated and corrupt files; replacement by rename()
 * and in place; random damage must never crash a reader. */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/cdbmap.h"
#include "tests/unit/tap.h"
#include "tests/unit/scratch.h"

struct rec {
    const char *key, *value;
};

/* write_cdb - a CDB file at path holding recs (NULL-terminated) */
static int write_cdb(const char *path, const struct rec *recs)
{
    struct cdb_make cm;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (cdb_make_start(&cm, fd) < 0)
        goto fail;
    for (const struct rec *r = recs; r->key != NULL; r++)
        if (cdb_make_add(&cm, r->key, (unsigned)strlen(r->key),
                         r->value, (unsigned)strlen(r->value)) < 0)
            goto fail;
    if (cdb_make_finish(&cm) < 0)
        goto fail;
    return close(fd);
fail:
    close(fd);
    return -1;
}

/* write_bytes - a file holding exactly len bytes */
static int write_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, data, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* read_file - whole file into a malloc'ed buffer */
static unsigned char *read_file(const char *path, size_t *len_r)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        return NULL;
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL || read(fd, buf, (size_t)st.st_size) != st.st_size) {
        free(buf);
        close(fd);
        return NULL;
    }
    close(fd);
    *len_r = (size_t)st.st_size;
    return buf;
}

/* put32 - little-endian, as CDB stores numbers */
static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* lookup_str - value of key as a string ("" on miss, "<err>" on -1) */
static const char *lookup_str(struct cdbmap *map, const char *key)
{
    static char buf[256];
    const char *v;
    size_t len;
    int r = cdbmap_lookup(map, key, strlen(key), &v, &len);
    if (r < 0)
        return "<err>";
    if (r == 0)
        return "";
    snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
    return buf;
}

static const struct rec three[] = {
    { "alice@example.com", "example.com/alice/Maildir/" },
    { "bob@example.com", "example.com/bob/Maildir/" },
    { "carol@example.org", "example.org/carol/Maildir/" },
    { NULL, NULL },
};

static const struct rec other[] = {
    { "alice@example.com", "NEW/alice/" },
    { "dave@example.net", "example.net/dave/Maildir/" },
    { NULL, NULL },
};

/* test_missing - a path with no file is MISSING, not empty */
static void test_missing(void)
{
    struct cdbmap *map = cdbmap_open(path_in("nope.cdb"));
    const char *k, *v;
    size_t kl, vl;
    unsigned pos = 0;

    ok(map != NULL, "open of a missing file gives a handle");
    is_int(map->state, CDBMAP_MISSING, "missing file: state MISSING");
    ok(strstr(map->error, "nope.cdb") != NULL, "reason names the path: %s", map->error);
    is_str(lookup_str(map, "alice@example.com"), "<err>", "lookup in a missing map is -1");
    is_int(cdbmap_count(map), -1, "count of a missing map is -1");
    is_int(cdbmap_iter(map, &pos, &k, &kl, &v, &vl), -1, "iter of a missing map is -1");
    is_int(cdbmap_refresh(map), 0, "refresh: still missing, no change");
    cdbmap_close(map);

    map = cdbmap_open(path_in("nodir/x.cdb"));
    is_int(map->state, CDBMAP_MISSING, "file in a missing directory: MISSING");
    cdbmap_close(map);
    cdbmap_close(NULL);
}

/* test_basic - lookups, iteration, count */
static void test_basic(void)
{
    ok(write_cdb(path_in("m.cdb"), three) == 0, "write a 3-record map");
    struct cdbmap *map = cdbmap_open(path_in("m.cdb"));
    is_int(map->state, CDBMAP_OPEN, "state OPEN");
    is_str(map->error, "", "no error");
    for (const struct rec *r = three; r->key; r++)
        is_str(lookup_str(map, r->key), r->value, "lookup %s", r->key);
    is_str(lookup_str(map, "Alice@example.com"), "", "keys are looked up as given");
    is_str(lookup_str(map, "alice@example.co"), "", "prefix of a key is not found");
    is_str(lookup_str(map, "alice@example.comx"), "", "extension of a key is not found");
    is_str(lookup_str(map, ""), "", "empty key is not found");

    char big[5000];
    memset(big, 'a', sizeof(big));
    const char *v;
    size_t vl;
    is_int(cdbmap_lookup(map, big, sizeof(big), &v, &vl), 0, "key longer than the file: not found");
    is_int(cdbmap_lookup(map, "bob@example.com\0x", 17, &v, &vl), 0, "key with NUL: not found");

    is_int(cdbmap_count(map), 3, "count 3");
    unsigned pos = 0;
    const char *k;
    size_t kl;
    int i = 0, r;
    while ((r = cdbmap_iter(map, &pos, &k, &kl, &v, &vl)) > 0) {
        ok(i < 3 && kl == strlen(three[i].key) && memcmp(k, three[i].key, kl) == 0 &&
           vl == strlen(three[i].value) && memcmp(v, three[i].value, vl) == 0,
           "iter record %d in file order", i);
        i++;
    }
    is_int(r, 0, "iter ends with 0");
    is_int(i, 3, "iter saw 3 records");
    is_int(cdbmap_iter(map, &pos, &k, &kl, &v, &vl), 0, "iter past the end stays 0");
    is_int(cdbmap_refresh(map), 0, "refresh of an unchanged file: no change");
    cdbmap_close(map);

    static const struct rec none[] = { { NULL, NULL } };
    ok(write_cdb(path_in("empty.cdb"), none) == 0, "write an empty map");
    map = cdbmap_open(path_in("empty.cdb"));
    is_int(map->state, CDBMAP_OPEN, "empty map is OPEN (not missing)");
    is_int(cdbmap_count(map), 0, "empty map: count 0");
    is_str(lookup_str(map, "alice@example.com"), "", "empty map: not found");
    cdbmap_close(map);
}

/* expect_broken - path (already written) opens as BROKEN */
static void expect_broken(const char *name, const char *what)
{
    struct cdbmap *map = cdbmap_open(path_in(name));
    is_int(map->state, CDBMAP_BROKEN, "%s: BROKEN", what);
    ok(map->error[0] != '\0' && strstr(map->error, name) != NULL, "%s: reason %s", what, map->error);
    is_str(lookup_str(map, "alice@example.com"), "<err>", "%s: lookup -1", what);
    is_int(cdbmap_count(map), -1, "%s: count -1", what);
    is_int(map->fd, -1, "%s: no descriptor kept", what);
    is_int(cdbmap_refresh(map), 0, "%s: refresh of the same broken file: no change", what);
    cdbmap_close(map);
}

/* test_broken - truncated, short, and tables pointing outside the file */
static void test_broken(void)
{
    size_t len;
    unsigned char *good;

    write_cdb(path_in("good.cdb"), three);
    good = read_file(path_in("good.cdb"), &len);
    ok(good != NULL && len > 2048, "read back the good map (%zu bytes)", len);
    if (good == NULL)
        return;

    write_bytes(path_in("zero.cdb"), "", 0);
    expect_broken("zero.cdb", "empty file");
    write_bytes(path_in("short.cdb"), good, 100);
    expect_broken("short.cdb", "100-byte file");
    write_bytes(path_in("toc.cdb"), good, 2047);
    expect_broken("toc.cdb", "file one byte short of the table of contents");
    write_bytes(path_in("trunc.cdb"), good, len - 1);
    expect_broken("trunc.cdb", "file missing its last byte");
    write_bytes(path_in("trunc2.cdb"), good, 2048 + 10);
    expect_broken("trunc2.cdb", "file cut inside the data");

    unsigned char *bad = malloc(len);
    memcpy(bad, good, len);
    put32(bad, 100);
    write_bytes(path_in("dend.cdb"), bad, len);
    expect_broken("dend.cdb", "data end inside the table of contents");

    memcpy(bad, good, len);
    put32(bad, (uint32_t)len + 1);
    write_bytes(path_in("dend2.cdb"), bad, len);
    expect_broken("dend2.cdb", "data end past the file");

    memcpy(bad, good, len);
    put32(bad + 8 * 77, 0xfffffff0u);
    write_bytes(path_in("pos.cdb"), bad, len);
    expect_broken("pos.cdb", "table 77 position past the end");

    memcpy(bad, good, len);
    put32(bad + 8 * 200 + 4, 0x20000000u);
    write_bytes(path_in("slots.cdb"), bad, len);
    expect_broken("slots.cdb", "table 200 slot count past the end");

    memcpy(bad, good, len);
    put32(bad + 8 * 5, 2048);
    write_bytes(path_in("before.cdb"), bad, len);
    expect_broken("before.cdb", "table 5 inside the data");

    /* Random bytes: the table of contents points anywhere. */
    srand(7);
    for (size_t i = 0; i < len; i++)
        bad[i] = (unsigned char)rand();
    write_bytes(path_in("noise.cdb"), bad, len);
    expect_broken("noise.cdb", "random bytes");

    mkdir(path_in("adir.cdb"), 0755);
    expect_broken("adir.cdb", "a directory");

    free(bad);
    free(good);
}

/* test_damaged_records - a valid table of contents over damaged records:
 * lookups and iteration fail cleanly instead of reading out of bounds */
static void test_damaged_records(void)
{
    size_t len;
    write_cdb(path_in("good.cdb"), three);
    unsigned char *good = read_file(path_in("good.cdb"), &len);
    unsigned char *bad = malloc(len);

    /* The first record's key length becomes huge. */
    memcpy(bad, good, len);
    put32(bad + 2048, 0xfffffff8u);
    write_bytes(path_in("klen.cdb"), bad, len);
    struct cdbmap *map = cdbmap_open(path_in("klen.cdb"));
    is_int(map->state, CDBMAP_OPEN, "damaged record: the header still opens");
    is_int(cdbmap_count(map), -1, "huge key length: iteration reports damage");
    ok(strcmp(lookup_str(map, three[0].key), three[0].value) != 0,
       "huge key length: the record is not returned");
    cdbmap_close(map);

    /* The first record's value length becomes huge. */
    memcpy(bad, good, len);
    put32(bad + 2048 + 4, 0xfffffff0u);
    write_bytes(path_in("vlen.cdb"), bad, len);
    map = cdbmap_open(path_in("vlen.cdb"));
    is_int(cdbmap_count(map), -1, "huge value length: iteration reports damage");
    is_str(lookup_str(map, three[0].key), "<err>", "huge value length: lookup -1");
    cdbmap_close(map);

    /* Random damage after the table of contents (damage inside it is
     * caught at open time, above). Whatever the answers, nothing may read
     * outside the file, crash or loop (ASan/UBSan watch). */
    srand(42);
    int opened = 0, outside = 0;
    long records = 0;
    for (int round = 0; round < 500; round++) {
        memcpy(bad, good, len);
        int flips = 1 + rand() % 4;
        for (int f = 0; f < flips; f++) {
            size_t at = 2048 + (size_t)rand() % (len - 2048);
            bad[at] = (unsigned char)(rand() % 3 == 0 ? 0xff : rand());
        }
        write_bytes(path_in("rand.cdb"), bad, len);
        map = cdbmap_open(path_in("rand.cdb"));
        if (map->state == CDBMAP_OPEN) {
            opened++;
            unsigned pos = 0;
            const char *k, *v;
            size_t kl, vl;
            int n = 0;
            while (n < 1000 && cdbmap_iter(map, &pos, &k, &kl, &v, &vl) > 0) {
                if (k + kl > v || vl > len)
                    outside++;
                n++;
            }
            records += n;
            for (const struct rec *r = three; r->key; r++)
                (void)lookup_str(map, r->key);
        }
        cdbmap_close(map);
    }
    ok(opened > 100, "random damage: %d of 500 files opened, %ld records walked", opened, records);
    is_int(outside, 0, "random damage: no record reaches outside the file");

    free(bad);
    free(good);
}

/* test_replace - rename() over the path, in-place rewrite, delete */
static void test_replace(void)
{
    write_cdb(path_in("r.cdb"), three);
    struct cdbmap *map = cdbmap_open(path_in("r.cdb"));
    is_int(map->state, CDBMAP_OPEN, "replace: first file open");

    const char *old;
    size_t oldlen;
    is_int(cdbmap_lookup(map, "alice@example.com", 17, &old, &oldlen), 1, "old value found");

    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", path_in(".r.cdb.tmp"));
    write_cdb(tmp, other);
    ok(rename(tmp, path_in("r.cdb")) == 0, "rename a new file over the path");

    /* Until the next call the old value stays readable: the old file is
     * still mapped even though its name is gone. */
    ok(oldlen == strlen(three[0].value) && memcmp(old, three[0].value, oldlen) == 0,
       "old value pointer still valid after the rename");
    is_str(lookup_str(map, "dave@example.net"), "", "before refresh: still the old file");
    is_int(cdbmap_refresh(map), 1, "refresh notices the new file");
    is_str(lookup_str(map, "alice@example.com"), "NEW/alice/", "after refresh: new value");
    is_str(lookup_str(map, "dave@example.net"), "example.net/dave/Maildir/", "after refresh: new key");
    is_str(lookup_str(map, "bob@example.com"), "", "after refresh: removed key gone");
    is_int(cdbmap_count(map), 2, "after refresh: count 2");
    is_int(cdbmap_refresh(map), 0, "second refresh: no change");

    /* cp over the file keeps the inode: size and mtime give it away. */
    write_cdb(path_in("r.cdb"), three);
    is_int(cdbmap_refresh(map), 1, "refresh notices a rewrite in place");
    is_str(lookup_str(map, "bob@example.com"), "example.com/bob/Maildir/", "in-place rewrite: new content");

    ok(unlink(path_in("r.cdb")) == 0, "delete the map");
    is_int(cdbmap_refresh(map), 1, "refresh notices the deletion");
    is_int(map->state, CDBMAP_MISSING, "deleted map is MISSING");
    is_int(map->fd, -1, "deleted map: descriptor released");
    is_str(lookup_str(map, "alice@example.com"), "<err>", "deleted map: lookup -1");
    is_int(cdbmap_refresh(map), 0, "refresh while missing: no change");

    write_bytes(path_in("r.cdb"), "junk", 4);
    is_int(cdbmap_refresh(map), 1, "refresh notices a broken file appearing");
    is_int(map->state, CDBMAP_BROKEN, "it is BROKEN");
    is_int(cdbmap_refresh(map), 0, "same broken file: no change");
    ok(chmod(path_in("r.cdb"), 0600) == 0, "chmod the broken file");
    is_int(cdbmap_refresh(map), 1, "refresh tries it again after a chmod (it may be readable now)");
    is_int(map->state, CDBMAP_BROKEN, "still BROKEN");

    write_cdb(tmp, other);
    rename(tmp, path_in("r.cdb"));
    is_int(cdbmap_refresh(map), 1, "refresh notices a good file replacing the broken one");
    is_int(map->state, CDBMAP_OPEN, "open again");
    is_str(map->error, "", "error cleared");
    is_str(lookup_str(map, "alice@example.com"), "NEW/alice/", "and answers");
    cdbmap_close(map);
}

int main(void)
{
    if (!scratch_make("test-cdbmap"))
        return tap_done();
    test_missing();
    test_basic();
    test_broken();
    test_damaged_records();
    test_replace();
    scratch_remove();
    return tap_done();
}
