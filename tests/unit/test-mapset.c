/* test-mapset - the reader's view of a maps directory: replaced maps seen
 * by the very next lookup, deleted maps and status, freshness, the
 * caller-driven mode, a lost watch, a queue overflow. No sleeping. */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maps/mapset.h"
#include "maps/mapwriter.h"
#include "maps/status.h"
#include "tests/unit/tap.h"

static char base[64];   /* scratch directory */
static char dir[128];   /* the maps directory inside it */

/* write_set - the four maps of d, every value tagged; 0 or -1 */
static int write_set(const char *d, const char *tag)
{
    struct mapwriter *w[MAP_COUNT];
    char path[256], v[128], err[256];
    int r = -1;

    for (int i = 0; i < MAP_COUNT; i++) {
        mapset_path(d, (enum map_id)i, path, sizeof(path));
        w[i] = mapwriter_new(path, 0644, (gid_t)-1);
    }
    mapwriter_add(w[MAP_DOMAINS], "example.com", 11, "OK", 2, err, sizeof(err));
    snprintf(v, sizeof(v), "example.com/alice/Maildir/%s", tag);
    mapwriter_add(w[MAP_MAILBOXES], "alice@example.com", 17, v, strlen(v), err, sizeof(err));
    mapwriter_add(w[MAP_ALIASES], "postmaster@example.com", 22, "alice@example.com", 17, err,
                  sizeof(err));
    snprintf(v, sizeof(v), "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000\ttag=%s", tag);
    mapwriter_add(w[MAP_USERS], "alice@example.com", 17, v, strlen(v), err, sizeof(err));
    if (mapwriter_commit(w, MAP_COUNT, NULL, err, sizeof(err)) == 0)
        r = 0;
    else
        diag("commit: %s", err);
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    return r;
}

/* write_users - replace only users.cdb, value tagged */
static int write_users(const char *d, const char *tag)
{
    char path[256], v[128], err[256];
    mapset_path(d, MAP_USERS, path, sizeof(path));
    struct mapwriter *w = mapwriter_new(path, 0640, (gid_t)-1);
    snprintf(v, sizeof(v), "home=/x\ttag=%s", tag);
    mapwriter_add(w, "alice@example.com", 17, v, strlen(v), err, sizeof(err));
    mapwriter_add(w, "bob@example.com", 15, "home=/y", 7, err, sizeof(err));
    int r = mapwriter_commit(&w, 1, NULL, err, sizeof(err));
    mapwriter_free(w);
    return r;
}

/* write_status - status of d with the given sync time */
static int write_status(const char *d, time_t synced_at)
{
    struct status st;
    char path[256], err[256];
    memset(&st, 0, sizeof(st));
    st.generation = 1;
    st.synced_at = synced_at;
    st.users = 1;
    snprintf(path, sizeof(path), "%s/status", d);
    return status_write(path, &st, err, sizeof(err));
}

/* user_tag - lookup alice in users; the tag, "" if not found, "<err>" */
static const char *user_tag(struct mapset *set)
{
    static char buf[128];
    const char *v;
    size_t len;
    int r = mapset_lookup(set, MAP_USERS, "alice@example.com", 17, &v, &len);
    if (r < 0)
        return "<err>";
    if (r == 0)
        return "";
    snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
    char *t = strstr(buf, "tag=");
    return t ? t + 4 : "<no tag>";
}

/* readable - is fd readable right now? */
static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* rm_dir - remove a flat directory of maps */
static void rm_dir(const char *d)
{
    char path[256];
    static const char *names[] = { "domains.cdb", "mailboxes.cdb", "aliases.cdb",
                                   "users.cdb", "status", NULL };
    for (int i = 0; names[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", d, names[i]);
        unlink(path);
    }
    rmdir(d);
}

/* test_names - map_name, map_id_parse, mapset_path */
static void test_names(void)
{
    static const char *want[] = { "domains", "mailboxes", "aliases", "users" };
    char buf[64];

    for (int i = 0; i < MAP_COUNT; i++) {
        is_str(map_name((enum map_id)i), want[i], "map_name(%d)", i);
        is_int(map_id_parse(want[i]), i, "map_id_parse(%s)", want[i]);
    }
    ok(map_name(MAP_COUNT) == NULL, "map_name of a bad id is NULL");
    is_int(map_id_parse("Users"), -1, "names are exact");
    is_int(map_id_parse(""), -1, "empty name");
    is_int(map_id_parse("status"), -1, "status is not a map");
    is_int(mapset_path("/var/lib/mailmaps", MAP_USERS, buf, sizeof(buf)), 0, "mapset_path");
    is_str(buf, "/var/lib/mailmaps/users.cdb", "path of users");
    is_int(mapset_path("/var/lib/mailmaps", MAP_MAILBOXES, buf, 20), -1, "too small a buffer");
    is_int(mapset_path("/x", MAP_COUNT, buf, sizeof(buf)), -1, "bad id");
}

/* test_self_draining - lookups notice changes on their own */
static void test_self_draining(void)
{
    time_t now = time(NULL);
    const char *v;
    size_t len;
    bool has;

    ok(write_set(dir, "one") == 0 && write_status(dir, now) == 0, "write maps and status");
    struct mapset *set = mapset_open(dir, 1800);
    ok(set != NULL, "mapset_open");
    for (int i = 0; i < MAP_COUNT; i++)
        is_int(mapset_map(set, (enum map_id)i)->state, CDBMAP_OPEN, "%s open", map_name((enum map_id)i));
    ok(mapset_map(set, MAP_COUNT) == NULL, "mapset_map of a bad id is NULL");
    const struct status *st = mapset_status(set, &has);
    ok(has && st->synced_at == now, "status read");
    ok(mapset_status(set, NULL) == st, "has_status_r may be NULL");
    ok(mapset_fresh(set, now), "fresh now");
    ok(mapset_fresh(set, now + 1800), "fresh at stale_after");
    ok(!mapset_fresh(set, now + 1801), "stale after stale_after");

    is_str(user_tag(set), "one", "lookup");
    is_int(mapset_lookup(set, MAP_USERS, "nobody@example.com", 18, &v, &len), 0, "not found: 0");
    is_int(mapset_lookup(set, MAP_DOMAINS, "example.com", 11, &v, &len), 1, "domain found");
    is_int(mapset_lookup(set, MAP_COUNT, "x", 1, &v, &len), -1, "bad map id: -1");

    /* The very next lookup after the rename sees the new file. */
    ok(write_users(dir, "two") == 0, "replace users.cdb");
    is_str(user_tag(set), "two", "next lookup sees the new value");
    ok(write_set(dir, "three") == 0, "replace all four");
    is_str(user_tag(set), "three", "next lookup sees the new set");
    ok(mapset_lookup(set, MAP_MAILBOXES, "alice@example.com", 17, &v, &len) == 1 &&
       len == strlen("example.com/alice/Maildir/three"), "mailboxes replaced too");

    /* A deleted map is MISSING: -1, not "not found". */
    char path[256];
    mapset_path(dir, MAP_ALIASES, path, sizeof(path));
    ok(unlink(path) == 0, "delete aliases.cdb");
    is_int(mapset_lookup(set, MAP_ALIASES, "postmaster@example.com", 22, &v, &len), -1,
           "lookup in the deleted map: -1");
    is_int(mapset_map(set, MAP_ALIASES)->state, CDBMAP_MISSING, "aliases MISSING");
    is_int(mapset_map(set, MAP_ALIASES)->fd, -1, "old mapping released");
    ok(!mapset_fresh(set, now), "not fresh with a map missing");
    is_str(user_tag(set), "three", "other maps still answer");
    ok(write_set(dir, "four") == 0, "maps back");
    is_int(mapset_lookup(set, MAP_ALIASES, "postmaster@example.com", 22, &v, &len), 1,
           "aliases answers again");
    ok(mapset_fresh(set, now), "fresh again");

    /* status: rewritten, stale, deleted, broken */
    ok(write_status(dir, now - 5000) == 0, "status with an old sync");
    ok(!mapset_fresh(set, now), "stale by synced_at");
    is_int(mapset_status(set, NULL)->synced_at, now - 5000, "new status read");
    write_status(dir, now);
    ok(mapset_fresh(set, now), "fresh by synced_at");
    char spath[256];
    snprintf(spath, sizeof(spath), "%s/status", dir);
    unlink(spath);
    ok(!mapset_fresh(set, now), "not fresh without status");
    mapset_status(set, &has);
    ok(!has, "has_status false when deleted");
    is_int(mapset_status(set, NULL)->synced_at, 0, "status zeroed");
    FILE *f = fopen(spath, "w");
    fputs("synced_at=yesterday\n", f);
    fclose(f);
    ok(!mapset_fresh(set, now), "not fresh with a malformed status");
    mapset_status(set, &has);
    ok(!has, "malformed status: has_status false");
    write_status(dir, now);
    ok(mapset_fresh(set, now), "fresh with a good status again");
    is_int(mapset_refresh(set), 0, "refresh with nothing pending: 0");
    mapset_close(set);
    mapset_close(NULL);
}

/* test_caller_polls - the caller owns the fd and calls mapset_refresh */
static void test_caller_polls(void)
{
    write_set(dir, "one");
    struct mapset *set = mapset_open(dir, 1800);
    int fd = mapset_watch_fd(set);
    ok(fd >= 0, "watch fd");
    ok(!readable(fd), "nothing pending");
    is_str(user_tag(set), "one", "lookup");
    write_users(dir, "two");
    is_str(user_tag(set), "one", "lookups do not drain: still the old file");
    ok(readable(fd), "the fd is readable after the rename");
    ok(mapset_refresh(set) >= 1, "refresh reports a change");
    ok(!readable(fd), "drained");
    is_str(user_tag(set), "two", "new value after refresh");
    is_int(mapset_refresh(set), 0, "nothing more");

    char path[256];
    mapset_path(dir, MAP_USERS, path, sizeof(path));
    unlink(path);
    ok(readable(fd), "readable after a delete");
    mapset_refresh(set);
    is_str(user_tag(set), "<err>", "deleted map: -1");
    write_users(dir, "three");
    mapset_refresh(set);
    is_str(user_tag(set), "three", "back");
    mapset_close(set);
}

/* test_lost_watch - the directory is moved away or removed */
static void test_lost_watch(void)
{
    char old[160];
    write_set(dir, "one");
    write_status(dir, time(NULL));
    struct mapset *set = mapset_open(dir, 1800);
    is_str(user_tag(set), "one", "lookup");

    /* Swap in a new directory: the watch followed the old inode. */
    snprintf(old, sizeof(old), "%s.old", dir);
    ok(rename(dir, old) == 0, "move the directory away");
    ok(mkdir(dir, 0755) == 0 && write_set(dir, "new-dir") == 0, "a new directory at the path");
    is_str(user_tag(set), "new-dir", "next lookup sees the new directory's map");
    write_users(dir, "new-dir-2");
    is_str(user_tag(set), "new-dir-2", "and changes inside it (watch re-added)");
    ok(!mapset_fresh(set, time(NULL)), "no status in the new directory: not fresh");
    write_status(dir, time(NULL));
    ok(mapset_fresh(set, time(NULL)), "status written there: fresh");
    rm_dir(old);

    /* Remove the directory altogether. */
    rm_dir(dir);
    is_str(user_tag(set), "<err>", "directory removed: map missing");
    ok(!mapset_fresh(set, time(NULL)), "not fresh");
    /* No watch now: every lookup stat()s, so the maps show up at once. */
    ok(mkdir(dir, 0755) == 0 && write_set(dir, "reborn") == 0, "directory and maps back");
    is_str(user_tag(set), "reborn", "seen without a watch (stat per lookup)");
    mapset_close(set);

    /* A set opened on a directory that does not exist yet. */
    rm_dir(dir);
    set = mapset_open(dir, 1800);
    ok(set != NULL, "open on a missing directory");
    is_int(mapset_map(set, MAP_USERS)->state, CDBMAP_MISSING, "users MISSING");
    is_str(user_tag(set), "<err>", "lookup: -1");
    ok(!mapset_fresh(set, time(NULL)), "not fresh");
    mkdir(dir, 0755);
    write_set(dir, "late");
    write_status(dir, time(NULL));
    is_str(user_tag(set), "late", "maps appear");
    ok(mapset_fresh(set, time(NULL)), "fresh once the sync wrote everything");
    mapset_close(set);
}

/* test_overflow - more events than the kernel queues: everything is
 * looked at again, and a change whose event was dropped is still seen */
static void test_overflow(void)
{
    long max = 16384;
    FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 16384;
        fclose(f);
    }
    if (max > 100000) {
        ok(1, "# SKIP max_queued_events %ld too large to overflow quickly", max);
        return;
    }
    write_set(dir, "one");
    struct mapset *set = mapset_open(dir, 1800);
    is_str(user_tag(set), "one", "lookup");
    char path[256];
    snprintf(path, sizeof(path), "%s/junk", dir);
    /* create + close + delete: three events each */
    for (long i = 0; i < max / 3 + 100; i++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        close(fd);
        unlink(path);
    }
    write_users(dir, "after-overflow");
    is_str(user_tag(set), "after-overflow", "change seen despite the overflow");
    is_str(user_tag(set), "after-overflow", "and still");
    mapset_close(set);
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/test-mapset.XXXXXX");
    if (!ok(mkdtemp(base) != NULL, "scratch directory"))
        return tap_done();
    snprintf(dir, sizeof(dir), "%s/maps", base);
    mkdir(dir, 0755);

    test_names();
    test_self_draining();
    test_caller_polls();
    test_lost_watch();
    test_overflow();

    rm_dir(dir);
    rmdir(base);
    return tap_done();
}
