/* test-mapwriter - refusals, lower-cased keys, duplicates, byte-identical
 * output for any input order, all-or-none commits (no temp file left on
 * any failure path), permissions, and the checksum. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/cdbmap.h"
#include "maps/mapwriter.h"
#include "maps/sha256.h"
#include "tests/unit/tap.h"
#include "tests/unit/scratch.h"

/* read_all - whole file into a malloc'ed buffer, NULL if missing */
static unsigned char *read_all(const char *path, size_t *len_r)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (buf != NULL && read(fd, buf, (size_t)st.st_size) != st.st_size) {
        free(buf);
        buf = NULL;
    }
    close(fd);
    *len_r = (size_t)st.st_size;
    return buf;
}

/* same_file - do two files hold the same bytes? */
static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *pa = read_all(a, &la), *pb = read_all(b, &lb);
    int same = pa && pb && la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

/* hidden_files - how many ".something" entries dir holds (temp files) */
static int hidden_files(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;
    if (dp == NULL)
        return -1;
    while ((e = readdir(dp)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

/* add - mapwriter_add with NUL-terminated strings */
static int add(struct mapwriter *w, const char *k, const char *v)
{
    char err[256];
    return mapwriter_add(w, k, strlen(k), v, strlen(v), err, sizeof(err));
}

/* lookup_str - value in the map file at path ("" when absent) */
static const char *lookup_str(const char *path, const char *key)
{
    static char buf[256];
    const char *v;
    size_t len;
    struct cdbmap *m = cdbmap_open(path);
    int r = cdbmap_lookup(m, key, strlen(key), &v, &len);
    if (r < 0)
        snprintf(buf, sizeof(buf), "<err>");
    else if (r == 0)
        buf[0] = '\0';
    else
        snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
    cdbmap_close(m);
    return buf;
}

/* commit1 - commit one writer */
static int commit1(struct mapwriter *w, char *sum, char *err, size_t errsz)
{
    struct mapwriter *ws[1] = { w };
    return mapwriter_commit(ws, 1, sum, err, errsz);
}

/* test_refusals - what mapwriter_add must not accept */
static void test_refusals(void)
{
    static const struct {
        const char *name, *key;
        size_t klen;
        const char *value;
        size_t vlen;
        const char *why;
    } cases[] = {
        { "empty key", "", 0, "v", 1, "empty key" },
        { "empty value", "k@x", 3, "", 0, "empty value" },
        { "NUL in key", "a\0b", 3, "v", 1, "NUL" },
        { "NUL at end of key", "ab\0", 3, "v", 1, "NUL" },
        { "NUL in value", "k@x", 3, "v\0w", 3, "NUL" },
        { "value only NUL", "k@x", 3, "\0", 1, "NUL" },
    };
    struct mapwriter *w = mapwriter_new(path_in("refuse.cdb"), 0644, (gid_t)-1);
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        int r = mapwriter_add(w, cases[i].key, cases[i].klen, cases[i].value, cases[i].vlen,
                              err, sizeof(err));
        is_int(r, -1, "%s refused", cases[i].name);
        ok(strstr(err, cases[i].why) != NULL && strstr(err, "refuse.cdb") != NULL,
           "%s: reason '%s'", cases[i].name, err);
    }
    is_int(mapwriter_count(w), 0, "nothing was added");
    is_int(add(w, "k@x", "v"), 0, "a good record after refusals is accepted");
    is_int(mapwriter_count(w), 1, "count 1");

    /* A tiny error buffer is never overrun. */
    char tiny[8];
    memset(tiny, 'Z', sizeof(tiny));
    is_int(mapwriter_add(w, "", 0, "v", 1, tiny, 4), -1, "refused with a 4-byte error buffer");
    is_int(tiny[3], '\0', "error truncated and terminated");
    is_int(tiny[4], 'Z', "nothing written past the buffer");
    mapwriter_free(w);
    mapwriter_free(NULL);
}

/* test_lowercase - keys are folded (ASCII only), values are not */
static void test_lowercase(void)
{
    const char *p = path_in("lower.cdb");
    struct mapwriter *w = mapwriter_new(p, 0644, (gid_t)-1);
    char err[256];

    add(w, "Alice@Example.COM", "Mixed/Case/Value");
    add(w, "\xc3\x84nne@example.com", "utf8");   /* "Änne": left alone */
    add(w, "ZED@X", "z");
    is_int(commit1(w, NULL, err, sizeof(err)), 0, "commit");
    is_str(lookup_str(p, "alice@example.com"), "Mixed/Case/Value", "key stored lower-case, value untouched");
    is_str(lookup_str(p, "Alice@Example.COM"), "", "mixed-case key not stored");
    is_str(lookup_str(p, "\xc3\x84nne@example.com"), "utf8", "non-ASCII bytes unchanged");
    is_str(lookup_str(p, "zed@x"), "z", "ZED@X stored as zed@x");
    mapwriter_free(w);
}

/* test_sorted_and_deterministic - same records in any order, same bytes */
static void test_sorted_and_deterministic(void)
{
    enum { N = 2000 };
    const char *pa = path_in("order-a.cdb");
    char pb[256];
    snprintf(pb, sizeof(pb), "%s", path_in("order-b.cdb"));
    struct mapwriter *a = mapwriter_new(pa, 0644, (gid_t)-1);
    struct mapwriter *b = mapwriter_new(pb, 0644, (gid_t)-1);
    int order[N];
    char k[64], v[64], err[256], suma[SHA256_HEX_SIZE], sumb[SHA256_HEX_SIZE];

    for (int i = 0; i < N; i++)
        order[i] = i;
    srand(1);
    for (int i = N - 1; i > 0; i--) {
        int j = rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof(k), "user%d@example-%d.com", i, i % 7);
        snprintf(v, sizeof(v), "value %d", i);
        add(a, k, v);
        /* b gets them shuffled and with upper-case keys */
        snprintf(k, sizeof(k), "USER%d@Example-%d.com", order[i], order[i] % 7);
        snprintf(v, sizeof(v), "value %d", order[i]);
        add(b, k, v);
    }
    /* Keys that share a long prefix and keys that are prefixes of others */
    add(a, "abcdefghij", "1");
    add(a, "abcdefgh", "2");
    add(a, "abcdefghi", "3");
    add(a, "abcdefgh\x01", "4");
    add(b, "abcdefgh\x01", "4");
    add(b, "abcdefghi", "3");
    add(b, "abcdefghij", "1");
    add(b, "abcdefgh", "2");

    is_int(commit1(a, suma, err, sizeof(err)), 0, "commit in order");
    is_int(commit1(b, sumb, err, sizeof(err)), 0, "commit shuffled");
    ok(same_file(pa, pb), "byte-identical files");
    is_str(suma, sumb, "equal checksums");

    struct cdbmap *m = cdbmap_open(pa);
    unsigned pos = 0;
    const char *key, *val, *prev = NULL;
    size_t kl, vl, prevlen = 0;
    int n = 0, sorted = 1;
    while (cdbmap_iter(m, &pos, &key, &kl, &val, &vl) > 0) {
        if (prev != NULL) {
            int c = memcmp(prev, key, prevlen < kl ? prevlen : kl);
            if (c > 0 || (c == 0 && prevlen >= kl))
                sorted = 0;
        }
        prev = key;
        prevlen = kl;
        n++;
    }
    is_int(n, N + 4, "every record written");
    ok(sorted, "records in strictly increasing key byte order");
    is_str(lookup_str(pa, "abcdefgh"), "2", "prefix key found");
    is_str(lookup_str(pa, "abcdefghij"), "1", "longer key found");
    cdbmap_close(m);

    /* A second commit of the same writer gives the same file again. */
    char again[SHA256_HEX_SIZE];
    is_int(commit1(a, again, err, sizeof(err)), 0, "commit the same writer again");
    is_str(again, suma, "same checksum the second time");
    mapwriter_free(a);
    mapwriter_free(b);
}

/* test_stream - a streaming writer makes the same file as a collecting
 * one from sorted input, refuses keys out of order or twice, removes its
 * temp file when freed unused, and can finish before the commit */
static void test_stream(void)
{
    enum { N = 500 };
    char pa[256], pb[256], k[64], v[64], err[256];
    char suma[SHA256_HEX_SIZE], sumb[SHA256_HEX_SIZE];
    const char *keys[N];
    static char keybuf[N][64];

    snprintf(pa, sizeof(pa), "%s", path_in("stream-a.cdb"));
    snprintf(pb, sizeof(pb), "%s", path_in("stream-b.cdb"));
    for (int i = 0; i < N; i++) {
        snprintf(keybuf[i], sizeof(keybuf[i]), "u%05d@example.com", i);
        keys[i] = keybuf[i];
    }
    struct mapwriter *a = mapwriter_new(pa, 0644, (gid_t)-1);
    struct mapwriter *b = mapwriter_new(pb, 0644, (gid_t)-1);
    is_int(mapwriter_stream(b, err, sizeof(err)), 0, "stream: started");
    is_int(hidden_files(dir), 1, "stream: the temp file exists from the start");
    int bad = 0;
    for (int i = N - 1; i >= 0; i--) {          /* a: any order */
        snprintf(v, sizeof(v), "value %d", i);
        bad |= add(a, keys[i], v);
    }
    for (int i = 0; i < N; i++) {               /* b: sorted, some upper case */
        snprintf(k, sizeof(k), "%s", keys[i]);
        if (i % 3 == 0)
            k[0] = 'U';
        snprintf(v, sizeof(v), "value %d", i);
        bad |= add(b, k, v);
    }
    is_int(bad, 0, "stream: every record accepted");
    is_int((int)mapwriter_count(b), N, "stream: counted");
    is_int(add(b, "u00003@example.com", "x"), -1, "stream: a key out of order is refused");
    is_int(add(b, keys[N - 1], "x"), -1, "stream: the same key twice is refused");
    is_int(mapwriter_finish(b, err, sizeof(err)), 0, "stream: finished before the commit");
    is_int(add(b, "zzz@example.com", "x"), -1, "stream: no record after finish");
    is_int(commit1(a, suma, err, sizeof(err)), 0, "collect: committed");
    is_int(commit1(b, sumb, err, sizeof(err)), 0, "stream: committed");
    ok(same_file(pa, pb), "stream: byte-identical to the collected map");
    is_str(sumb, suma, "stream: same checksum");
    is_int(commit1(b, sumb, err, sizeof(err)), -1, "stream: a second commit is refused");
    is_int(hidden_files(dir), 0, "stream: no temp file left");
    mapwriter_free(a);
    mapwriter_free(b);

    /* freed without a commit (a refused sync): the temp file goes */
    b = mapwriter_new(pb, 0644, (gid_t)-1);
    mapwriter_stream(b, err, sizeof(err));
    add(b, "a@example.com", "1");
    mapwriter_free(b);
    is_int(hidden_files(dir), 0, "stream: freed unused, temp file removed");
    is_str(lookup_str(pb, keys[0]), "value 0", "stream: the installed map untouched");
}

/* test_duplicates - equal keys (after folding) fail the commit */
static void test_duplicates(void)
{
    const char *p = path_in("dup.cdb");
    struct mapwriter *w = mapwriter_new(p, 0644, (gid_t)-1);
    char err[256], sum[SHA256_HEX_SIZE];

    add(w, "old@x", "old");
    is_int(commit1(w, sum, err, sizeof(err)), 0, "write an old map");
    mapwriter_free(w);

    w = mapwriter_new(p, 0644, (gid_t)-1);
    for (int i = 0; i < 500; i++) {
        char k[32];
        snprintf(k, sizeof(k), "k%d@x", i);
        add(w, k, "v");
    }
    add(w, "Bob@Example.com", "1");
    add(w, "bob@example.COM", "2");
    err[0] = '\0';
    is_int(commit1(w, NULL, err, sizeof(err)), -1, "duplicate after lower-casing: commit fails");
    ok(strstr(err, "duplicate key 'bob@example.com'") != NULL && strstr(err, "dup.cdb") != NULL,
       "reason names the key and the map: %s", err);
    is_str(lookup_str(p, "old@x"), "old", "old map untouched");
    is_int(hidden_files(dir), 0, "no temp file left");
    mapwriter_free(w);

    /* A binary key is quoted, and a long one cut short, in the message. */
    w = mapwriter_new(p, 0644, (gid_t)-1);
    add(w, "a\x01'b", "1");
    add(w, "A\x01'B", "2");
    commit1(w, NULL, err, sizeof(err));
    ok(strstr(err, "'a\\x01\\x27b'") != NULL, "binary key quoted: %s", err);
    mapwriter_free(w);

    char longkey[1000];
    memset(longkey, 'q', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    w = mapwriter_new(p, 0644, (gid_t)-1);
    add(w, longkey, "1");
    add(w, longkey, "2");
    commit1(w, NULL, err, sizeof(err));
    ok(strstr(err, "...") != NULL && strlen(err) < 200, "long duplicate key shortened: %zu bytes", strlen(err));
    mapwriter_free(w);
}

/* make_set - writers m0..m3 in dir; m<i> gets records tagged tag */
static void make_set(struct mapwriter *ws[4], const char *tag, const char *override_path1)
{
    for (int i = 0; i < 4; i++) {
        char name[32], k[32], v[64];
        snprintf(name, sizeof(name), "m%d.cdb", i);
        ws[i] = mapwriter_new(i == 1 && override_path1 ? override_path1 : path_in(name), 0644,
                              (gid_t)-1);
        for (int j = 0; j < 50; j++) {
            snprintf(k, sizeof(k), "key%d", j);
            snprintf(v, sizeof(v), "%s-%d-%d", tag, i, j);
            add(ws[i], k, v);
        }
    }
}

/* free_set - free four writers */
static void free_set(struct mapwriter *ws[4])
{
    for (int i = 0; i < 4; i++)
        mapwriter_free(ws[i]);
}

/* checksum_of - SHA-256 over the files m0..m3 as they are on disk */
static void checksum_of(char *hex)
{
    struct sha256 ctx;
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    for (int i = 0; i < 4; i++) {
        char name[32];
        size_t len;
        snprintf(name, sizeof(name), "m%d.cdb", i);
        unsigned char *data = read_all(path_in(name), &len);
        if (data != NULL)
            sha256_update(&ctx, data, len);
        free(data);
    }
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
}

/* test_set - all or none */
static void test_set(void)
{
    struct mapwriter *ws[4];
    char err[512], sum[SHA256_HEX_SIZE], again[SHA256_HEX_SIZE], old[4][SHA256_HEX_SIZE];

    make_set(ws, "old", NULL);
    is_int(mapwriter_commit(ws, 4, sum, err, sizeof(err)), 0, "commit a set of four");
    checksum_of(again);
    is_str(sum, again, "checksum equals a recomputation over the files in order");
    is_str(lookup_str(path_in("m2.cdb"), "key7"), "old-2-7", "set written");
    free_set(ws);

    /* Keep copies of the old files to compare against. */
    for (int i = 0; i < 4; i++) {
        char name[32], copy[32];
        snprintf(name, sizeof(name), "m%d.cdb", i);
        snprintf(copy, sizeof(copy), "keep%d", i);
        size_t len;
        unsigned char *d = read_all(path_in(name), &len);
        int fd = open(path_in(copy), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ok(d && fd >= 0 && write(fd, d, len) == (ssize_t)len, "keep a copy of %s", name);
        close(fd);
        free(d);
        snprintf(old[i], sizeof(old[i]), "%s", copy);
    }

    /* Writer 1's directory does not exist: writer 0 already has its temp
     * file by then, and it must go away with the failure. */
    make_set(ws, "new", path_in("no-such-dir/m1.cdb"));
    err[0] = '\0';
    is_int(mapwriter_commit(ws, 4, sum, err, sizeof(err)), -1, "set with a missing directory fails");
    ok(strstr(err, "no-such-dir") != NULL && strstr(err, "No such file") != NULL,
       "reason names the path and the error: %s", err);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%d.cdb", i);
        ok(same_file(path_in(name), path_in(old[i])), "%s untouched", name);
    }
    is_int(hidden_files(dir), 0, "no temp file left");
    free_set(ws);

    /* A duplicate in the last writer: nothing is even written. */
    make_set(ws, "new", NULL);
    add(ws[3], "KEY1", "dup");
    is_int(mapwriter_commit(ws, 4, sum, err, sizeof(err)), -1, "set with a duplicate in map 3 fails");
    is_str(lookup_str(path_in("m0.cdb"), "key1"), "old-0-1", "m0 untouched");
    is_int(hidden_files(dir), 0, "no temp file left");
    free_set(ws);

    /* A write error half-way (the file size limit stands in for a full
     * disk): the reason names the temp file and says why. */
    struct rlimit saved, lim;
    getrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, SIG_IGN);
    make_set(ws, "new", NULL);
    for (int j = 0; j < 3000; j++) {
        char k[32];
        snprintf(k, sizeof(k), "big%d", j);
        add(ws[2], k, "a value long enough to make this map larger than the limit below");
    }
    lim = saved;
    lim.rlim_cur = 64 * 1024;
    setrlimit(RLIMIT_FSIZE, &lim);
    err[0] = '\0';
    int r = mapwriter_commit(ws, 4, sum, err, sizeof(err));
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, SIG_DFL);
    is_int(r, -1, "set with a write error fails");
    ok(strstr(err, "/.m2.cdb.") != NULL && strstr(err, "File too large") != NULL,
       "reason names the temp file and strerror: %s", err);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%d.cdb", i);
        ok(same_file(path_in(name), path_in(old[i])), "%s untouched after the write error", name);
    }
    is_int(hidden_files(dir), 0, "no temp file left after the write error");
    free_set(ws);

    /* And a good set replaces all four. */
    make_set(ws, "new", NULL);
    is_int(mapwriter_commit(ws, 4, sum, err, sizeof(err)), 0, "good set commits");
    for (int i = 0; i < 4; i++) {
        char name[32], want[32];
        snprintf(name, sizeof(name), "m%d.cdb", i);
        snprintf(want, sizeof(want), "new-%d-9", i);
        is_str(lookup_str(path_in(name), "key9"), want, "%s replaced", name);
    }
    checksum_of(again);
    is_str(sum, again, "checksum of the new set equals a recomputation");
    is_int(hidden_files(dir), 0, "no temp file left after success");
    free_set(ws);

    is_int(mapwriter_commit(NULL, 0, sum, err, sizeof(err)), 0, "empty set commits");
    is_str(sum, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "empty set: checksum of no bytes");
}

/* test_mode_group - permissions applied to the new file */
static void test_mode_group(void)
{
    const char *p = path_in("perm.cdb");
    /* root may give any group; others only their own */
    gid_t gid = geteuid() == 0 ? (gid_t)4242 : getegid();
    struct mapwriter *w = mapwriter_new(p, 0640, gid);
    struct stat st;
    char err[256];

    add(w, "k", "v");
    mode_t old = umask(077);
    is_int(commit1(w, NULL, err, sizeof(err)), 0, "commit with mode 0640");
    umask(old);
    ok(stat(p, &st) == 0, "stat the map");
    is_int(st.st_mode & 07777, 0640, "mode 0640 despite umask 077");
    is_int(st.st_gid, gid, "group %u", (unsigned)gid);
    mapwriter_free(w);

    w = mapwriter_new(p, 0644, (gid_t)-1);
    add(w, "k", "v");
    is_int(commit1(w, NULL, err, sizeof(err)), 0, "commit with mode 0644, group left");
    stat(p, &st);
    is_int(st.st_mode & 07777, 0644, "mode 0644");
    is_int(st.st_gid, getegid(), "group as created");
    mapwriter_free(w);

    /* an empty map is a valid, empty CDB file */
    w = mapwriter_new(p, 0644, (gid_t)-1);
    is_int(commit1(w, NULL, err, sizeof(err)), 0, "commit an empty map");
    struct cdbmap *m = cdbmap_open(p);
    is_int(m->state, CDBMAP_OPEN, "empty map opens");
    is_int(cdbmap_count(m), 0, "and has no records");
    cdbmap_close(m);
    mapwriter_free(w);
}

/* test_relative - a path without a directory lands in the current one */
static void test_relative(void)
{
    char cwd[4096], err[256];
    if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) < 0) {
        ok(0, "chdir to the scratch directory");
        return;
    }
    struct mapwriter *w = mapwriter_new("rel.cdb", 0644, (gid_t)-1);
    add(w, "k", "rel");
    is_int(commit1(w, NULL, err, sizeof(err)), 0, "commit rel.cdb");
    is_str(lookup_str("rel.cdb", "k"), "rel", "written in the current directory");
    mapwriter_free(w);
    if (chdir(cwd) < 0)
        diag("cannot return to %s", cwd);
}

/* unchanged_after - build path with records (k, v pairs, NULL-ended) and
 * mode, ask mapwriter_unchanged; the writer is freed, never committed */
static int unchanged_after(const char *path, mode_t mode, const char *const *kv)
{
    struct mapwriter *w = mapwriter_new(path, mode, (gid_t)-1);
    struct mapwriter *ws[1] = { w };
    char err[256];
    for (size_t i = 0; kv[i] != NULL; i += 2)
        add(w, kv[i], kv[i + 1]);
    int r = mapwriter_unchanged(ws, 1, err, sizeof(err));
    mapwriter_free(w);
    return r;
}

/* test_unchanged - the same bytes are recognised, any difference is not,
 * and asking replaces nothing */
static void test_unchanged(void)
{
    static const char *const one[] = { "a@x", "1", "b@x", "2", NULL };
    static const char *const other[] = { "a@x", "1", "b@x", "3", NULL };
    static const char *const none[] = { NULL };
    const char *path = path_in("same.cdb");
    char err[256], sum[SHA256_HEX_SIZE];
    struct stat before, after;

    is_int(unchanged_after(path, 0644, one), 0, "no map in place: changed");
    struct mapwriter *w = mapwriter_new(path, 0644, (gid_t)-1);
    add(w, "b@x", "2");
    add(w, "a@x", "1");
    is_int(commit1(w, sum, err, sizeof(err)), 0, "a map in place");
    mapwriter_free(w);
    stat(path, &before);
    is_int(unchanged_after(path, 0644, one), 1, "the same records: unchanged");
    is_int(unchanged_after(path, 0644, other), 0, "one value differs: changed");
    is_int(unchanged_after(path, 0644, none), 0, "no records: changed");
    is_int(unchanged_after(path, 0640, one), 0, "another mode: changed");
    stat(path, &after);
    ok(before.st_ino == after.st_ino && before.st_mtime == after.st_mtime,
       "asking replaced nothing");
    is_int(hidden_files(dir), 0, "and left no temp file behind");
}

int main(void)
{
    if (!scratch_make("test-mapwriter"))
        return tap_done();
    test_refusals();
    test_lowercase();
    test_sorted_and_deterministic();
    test_duplicates();
    test_stream();
    test_set();
    test_mode_group();
    test_relative();
    test_unchanged();
    scratch_remove();
    return tap_done();
}
