/* mapcheck - do the maps in a directory agree with each other and with
 * their status file? Used by `mailmaps check` and by tests. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/mapcheck.h"
#include "maps/mapset.h"
#include "maps/status.h"
#include "maps/userrec.h"

/* problem - record one finding (bounded: the first ones tell the story) */
__attribute__((format(printf, 2, 3)))
static void problem(struct mapcheck_report *rep, const char *fmt, ...)
{
    if (rep->problem_count >= MAPCHECK_PROBLEMS_MAX) {
        rep->problems_dropped++;
        return;
    }
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *copy = strdup(buf);
    if (copy == NULL) {
        rep->problems_dropped++;
        return;
    }
    rep->problem[rep->problem_count++] = copy;
}

/* mapcheck_checksum - hash the four files' bytes, in map_id order */
int mapcheck_checksum(const char *dir, char *hex, char *err, size_t errsz)
{
    struct sha256 ctx;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char path[4096], buf[65536];

    sha256_init(&ctx);
    for (int i = 0; i < MAP_COUNT; i++) {
        if (mapset_path(dir, (enum map_id)i, path, sizeof(path)) < 0) {
            snprintf(err, errsz, "%s: path too long", dir);
            return -1;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            return -1;
        }
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            sha256_update(&ctx, buf, (size_t)n);
        int saved = errno;
        close(fd);
        if (n < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(saved));
            return -1;
        }
    }
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
    return 0;
}

/* check_users - decode every record; each needs a mailbox */
static void check_users(struct mapset *set, struct mapcheck_report *rep)
{
    struct cdbmap *users = mapset_map(set, MAP_USERS);
    struct userrec rec;
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    char err[256];
    int r;

    userrec_init(&rec);
    while ((r = cdbmap_iter(users, &pos, &k, &klen, &v, &vlen)) > 0) {
        rep->users++;
        if (userrec_decode(&rec, v, vlen, err, sizeof(err)) < 0)
            problem(rep, "users: %.*s: bad record: %s", (int)klen, k, err);
        else if (userrec_get(&rec, "home") == NULL || userrec_get(&rec, "uid") == NULL ||
                 userrec_get(&rec, "gid") == NULL)
            problem(rep, "users: %.*s: record lacks home, uid or gid", (int)klen, k);
        if (mapset_lookup(set, MAP_MAILBOXES, k, klen, &dummy, &dlen) != 1)
            problem(rep, "users: %.*s: not in mailboxes", (int)klen, k);
        const char *at = memrchr(k, '@', klen);
        if (at == NULL ||
            mapset_lookup(set, MAP_DOMAINS, at + 1, klen - (size_t)(at + 1 - k), &dummy,
                          &dlen) != 1)
            problem(rep, "users: %.*s: domain not in domains", (int)klen, k);
    }
    if (r < 0)
        problem(rep, "users: corrupt map");
    userrec_free(&rec);
}

/* check_mailboxes - each mailbox belongs to a user */
static void check_mailboxes(struct mapset *set, struct mapcheck_report *rep)
{
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    int r;

    while ((r = cdbmap_iter(mapset_map(set, MAP_MAILBOXES), &pos, &k, &klen, &v, &vlen)) > 0)
        if (mapset_lookup(set, MAP_USERS, k, klen, &dummy, &dlen) != 1)
            problem(rep, "mailboxes: %.*s: not in users", (int)klen, k);
    if (r < 0)
        problem(rep, "mailboxes: corrupt map");
}

/* check_aliases - every destination is a mailbox; every alias's domain is served */
static void check_aliases(struct mapset *set, struct mapcheck_report *rep)
{
    unsigned pos = 0;
    const char *k, *v, *dummy;
    size_t klen, vlen, dlen;
    int r;

    while ((r = cdbmap_iter(mapset_map(set, MAP_ALIASES), &pos, &k, &klen, &v, &vlen)) > 0) {
        rep->aliases++;
        const char *at = memrchr(k, '@', klen);
        if (at == NULL ||
            mapset_lookup(set, MAP_DOMAINS, at + 1, klen - (size_t)(at + 1 - k), &dummy,
                          &dlen) != 1)
            problem(rep, "aliases: %.*s: domain not in domains", (int)klen, k);
        const char *p = v, *end = v + vlen;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            if (mapset_lookup(set, MAP_USERS, p, (size_t)(stop - p), &dummy, &dlen) != 1)
                problem(rep, "aliases: %.*s: destination %.*s is not a mailbox", (int)klen, k,
                        (int)(stop - p), p);
            p = comma ? comma + 1 : end;
        }
    }
    if (r < 0)
        problem(rep, "aliases: corrupt map");
}

/* check_status - the status file describes these files */
static void check_status(const struct conf *cfg, struct mapcheck_report *rep)
{
    char path[4096], err[512];
    struct status st;

    snprintf(path, sizeof(path), "%s/status", cfg->maps_dir);
    int r = status_read(path, &st, err, sizeof(err));
    if (r <= 0) {
        problem(rep, "status: %s", r == 0 ? "missing" : err);
        return;
    }
    if (st.users != rep->users)
        problem(rep, "status: users=%llu but users.cdb has %llu keys",
                (unsigned long long)st.users, (unsigned long long)rep->users);
    if (st.aliases != rep->aliases)
        problem(rep, "status: aliases=%llu but aliases.cdb has %llu keys",
                (unsigned long long)st.aliases, (unsigned long long)rep->aliases);
    if (st.domains != rep->domains)
        problem(rep, "status: domains=%llu but domains.cdb has %llu keys",
                (unsigned long long)st.domains, (unsigned long long)rep->domains);
    if (rep->checksum[0] && strcmp(st.checksum, rep->checksum) != 0)
        problem(rep, "status: checksum %s does not match the maps (%s)",
                st.checksum[0] ? st.checksum : "(none)", rep->checksum);
}

/* mapcheck_run - all checks; 0 when nothing was found */
int mapcheck_run(const struct conf *cfg, struct mapcheck_report *rep)
{
    char err[512];

    memset(rep, 0, sizeof(*rep));
    struct mapset *set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (set == NULL) {
        problem(rep, "out of memory");
        return -1;
    }
    /* Own the watch so no lookup reopens a map while we iterate over it. */
    (void)mapset_watch_fd(set);
    bool all_open = true;
    for (int i = 0; i < MAP_COUNT; i++) {
        struct cdbmap *m = mapset_map(set, (enum map_id)i);
        if (m->state != CDBMAP_OPEN) {
            problem(rep, "%s: %s", map_name((enum map_id)i), m->error);
            all_open = false;
        }
    }
    if (all_open) {
        long n = cdbmap_count(mapset_map(set, MAP_DOMAINS));
        rep->domains = n > 0 ? (uint64_t)n : 0;
        check_users(set, rep);
        check_mailboxes(set, rep);
        check_aliases(set, rep);
        if (mapcheck_checksum(cfg->maps_dir, rep->checksum, err, sizeof(err)) < 0)
            problem(rep, "checksum: %s", err);
        check_status(cfg, rep);
    }
    mapset_close(set);
    return rep->problem_count || rep->problems_dropped ? -1 : 0;
}

/* mapcheck_report_free - release the findings */
void mapcheck_report_free(struct mapcheck_report *rep)
{
    for (size_t i = 0; i < rep->problem_count; i++)
        free(rep->problem[i]);
    rep->problem_count = 0;
}
