/* install - a finished build into maps_dir, all four maps or none */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "ldap-sync/install.h"
#include "maps/atomicfile.h"
#include "maps/mapset.h"
#include "maps/monotime.h"
#include "maps/mapwriter.h"
#include "maps/status.h"

/* make_dirs - mkdir -p for maps_dir (0755: the maps are read by others) */
static int make_dirs(const char *dir, char *err, size_t errsz)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path)) {
        snprintf(err, errsz, "maps_dir %s: bad path", dir);
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
                return -1;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

/* lock_maps_dir - one writer at a time: a second sync fails at once
 * instead of racing the first one's renames. Returns the lock fd or -1. */
static int lock_maps_dir(const char *dir, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errsz, "%s: another mailmaps-sync is installing maps here",
                 dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* remove_stale_temps - temp files of a writer killed mid-write (maps and
 * status); safe because we hold the lock. The persist state's are not
 * ours: its saver runs beside installs (persist.c removes them at start). */
static void remove_stale_temps(const char *dir)
{
    char path[4096];

    for (int i = 0; i <= MAP_COUNT; i++) {
        if (i < MAP_COUNT)
            snprintf(path, sizeof(path), "%s/%s.cdb", dir, map_name((enum map_id)i));
        else
            status_path(dir, path, sizeof(path));
        int n = atomicfile_remove_temps(path);
        if (n > 0)
            log_notice("%s: removed %d temp file%s left by an interrupted sync", path, n,
                       n > 1 ? "s" : "");
    }
}

/* emit_to_writers - mapbuild output into the writer of each map */
static int emit_to_writers(void *ctx, enum map_id map, const char *key, size_t keylen,
                           const char *val, size_t vallen)
{
    struct mapwriter **w = ctx;
    char err[256];
    if (mapwriter_add(w[map], key, keylen, val, vallen, err, sizeof(err)) < 0) {
        /* The build never emits what the writer refuses; if it does, the
         * whole install fails rather than losing one record silently. */
        log_err("%s: %s", map_name(map), err);
        return -1;
    }
    return 0;
}

/* One map emitted and its temp file completed, in a thread or not. */
struct map_job {
    const struct mapbuild *mb;
    struct mapwriter **w;
    enum map_id map;
    size_t count;
    int rc;
    unsigned long long ms;   /* how long it took */
    char err[512];
};

/* map_job_run - emit the job's map into its streaming writer, finish it */
static void *map_job_run(void *arg)
{
    struct map_job *j = arg;
    struct timespec t0;

    monotime_now(&t0);
    j->rc = mapbuild_emit(j->mb, j->map, emit_to_writers, j->w, &j->count, j->err,
                          sizeof(j->err));
    if (j->rc == 0)
        j->rc = mapwriter_finish(j->w[j->map], j->err, sizeof(j->err));
    j->ms = (unsigned long long)monotime_ms_since(&t0);
    return NULL;
}

/* build_maps - resolve, then write users.cdb (most of the bytes and the
 * work) in a thread of its own while this one writes the other three */
static int build_maps(struct mapbuild *mb, struct mapwriter **w,
                      struct mapbuild_counts *counts, char *err, size_t errsz)
{
    struct map_job job[MAP_COUNT];
    pthread_t users;
    bool threaded;
    struct timespec t0;

    monotime_now(&t0);
    if (mapbuild_resolve(mb, counts, err, errsz) < 0)
        return -1;
    log_debug("resolved %zu accounts in %llu ms", counts->accounts,
              (unsigned long long)monotime_ms_since(&t0));
    for (int i = 0; i < MAP_COUNT; i++)
        job[i] = (struct map_job){ .mb = mb, .w = w, .map = (enum map_id)i };
    threaded = pthread_create(&users, NULL, map_job_run, &job[MAP_USERS]) == 0;
    for (int i = 0; i < MAP_COUNT; i++)
        if (i != MAP_USERS || !threaded)
            map_job_run(&job[i]);
    if (threaded)
        pthread_join(users, NULL);
    for (int i = 0; i < MAP_COUNT; i++) {
        if (job[i].rc != 0) {
            snprintf(err, errsz, "%s: %s", map_name((enum map_id)i), job[i].err);
            return -1;
        }
    }
    log_debug("written in ms: domains %llu, mailboxes %llu, aliases %llu, users %llu (%s)",
              job[MAP_DOMAINS].ms, job[MAP_MAILBOXES].ms, job[MAP_ALIASES].ms,
              job[MAP_USERS].ms, threaded ? "in parallel" : "one after the other");
    counts->domains = job[MAP_DOMAINS].count;
    counts->users = job[MAP_USERS].count;
    counts->aliases = job[MAP_ALIASES].count;
    return 0;
}

/* installed_users - how many users the installed maps hold (status, else
 * the file itself); 0 when there are none */
static unsigned long long installed_users(const struct conf *cfg, const struct status *old,
                                          bool have_status)
{
    if (have_status)
        return old->users;
    char path[4096];
    if (mapset_path(cfg->maps_dir, MAP_USERS, path, sizeof(path)) < 0)
        return 0;
    struct cdbmap *m = cdbmap_open(path);
    long n = m ? cdbmap_count(m) : -1;
    cdbmap_close(m);
    return n > 0 ? (unsigned long long)n : 0;
}

/* users_gid - the group that may read users.cdb: maps_group, or our own */
static int users_gid(const struct conf *cfg, gid_t *gid_r, char *err, size_t errsz)
{
    *gid_r = (gid_t)-1;
    if (cfg->maps_group[0] == '\0')
        return 0;
    struct group *gr = getgrnam(cfg->maps_group);
    if (gr == NULL) {
        snprintf(err, errsz, "maps_group %s: no such group", cfg->maps_group);
        return -1;
    }
    *gid_r = gr->gr_gid;
    return 0;
}

/* install_shrink_refused - the max_shrink rule on rep's counts */
bool install_shrink_refused(const struct conf *cfg, const struct sync_report *rep, char *err,
                            size_t errsz)
{
    /* A directory that suddenly lost many accounts is more likely a broken
     * filter, base or ACL than a mass deletion. */
    if (rep->old_users > 0 && rep->users < rep->old_users &&
        (rep->old_users - rep->users) * 100 > (unsigned long long)cfg->max_shrink * rep->old_users) {
        snprintf(err, errsz,
                 "the new maps have %llu users, the installed ones %llu: more than "
                 "max_shrink=%u%% fewer (use --force if this is intended)",
                 (unsigned long long)rep->users, (unsigned long long)rep->old_users,
                 cfg->max_shrink);
        return true;
    }
    /* The same for the hashes: a bind that lost read access to the
     * password attribute (an ACL change) still sees every account. */
    if (rep->old_passwords > 0 && rep->passwords < rep->old_passwords &&
        (rep->old_passwords - rep->passwords) * 100 >
            (unsigned long long)cfg->max_shrink * rep->old_passwords) {
        snprintf(err, errsz,
                 "the new maps have %llu users with a password, the installed ones %llu: "
                 "more than max_shrink=%u%% fewer (can the bind still read %s? use --force "
                 "if this is intended)",
                 (unsigned long long)rep->passwords, (unsigned long long)rep->old_passwords,
                 cfg->max_shrink, cfg->attr.password ? cfg->attr.password : "userPassword");
        return true;
    }
    return false;
}

/* install_installed_counts - old_users, old_passwords of the maps in place */
void install_installed_counts(const struct conf *cfg, struct sync_report *rep)
{
    char statpath[4096], err[512];
    struct status old;

    status_path(cfg->maps_dir, statpath, sizeof(statpath));
    int have = status_read(statpath, &old, err, sizeof(err));
    if (have <= 0)
        memset(&old, 0, sizeof(old));
    rep->old_users = installed_users(cfg, &old, have > 0);
    rep->old_passwords = have > 0 ? old.passwords : 0;
}

/* open_writers - a streaming writer per map, users.cdb (password hashes)
 * readable by gid only. 0, or -1 with err. */
static int open_writers(const struct conf *cfg, gid_t gid, struct mapwriter **w, char *err,
                        size_t errsz)
{
    char path[4096];

    for (int i = 0; i < MAP_COUNT; i++) {
        bool secret = i == MAP_USERS;
        if (mapset_path(cfg->maps_dir, (enum map_id)i, path, sizeof(path)) < 0 ||
            (w[i] = mapwriter_new(path, secret ? 0640 : 0644, secret ? gid : (gid_t)-1)) ==
                NULL) {
            snprintf(err, errsz, "%s: out of memory or bad path", path);
            return -1;
        }
        /* mapbuild emits in key order: straight to the files */
        if (mapwriter_stream(w[i], err, errsz) < 0)
            return -1;
    }
    return 0;
}

/* stamp_unchanged - the new maps are the installed ones byte for byte:
 * none is replaced (renaming them anyway would make every Postfix daemon
 * restart, "table has changed", and Dovecot reopen the maps for nothing);
 * only the status says they are current. 0, or -1 with rep->error. */
static int stamp_unchanged(const char *statpath, const struct status *old,
                           const struct timespec *started, const struct timespec *phase,
                           struct sync_report *rep)
{
    struct status st = *old;
    char err[512];

    st.synced_at = time(NULL);
    st.duration_ms = (unsigned long long)monotime_ms_since(started);
    st.last_failure[0] = '\0';
    st.last_failure_at = 0;
    st.passwords = rep->passwords;   /* an older status may lack it */
    snprintf(st.source, sizeof(st.source), "%s", rep->source);
    if (status_write(statpath, &st, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "maps unchanged but %s", err);
        return -1;
    }
    rep->write_ms = (unsigned long long)monotime_ms_since(phase);
    rep->generation = st.generation;
    rep->duration_ms = st.duration_ms;
    rep->unchanged = true;
    return 0;
}

/* commit_new - the four new maps into place (all or none), then the
 * status of the next generation. 0, or -1 with rep->error. */
static int commit_new(const char *statpath, struct mapwriter **w, const struct status *old,
                      const struct timespec *started, const struct timespec *phase,
                      struct sync_report *rep)
{
    struct status st;
    char err[512];

    memset(&st, 0, sizeof(st));
    if (mapwriter_commit(w, MAP_COUNT, st.checksum, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        return -1;
    }
    rep->write_ms = (unsigned long long)monotime_ms_since(phase);
    st.generation = old->generation + 1;
    st.synced_at = time(NULL);
    st.duration_ms = (unsigned long long)monotime_ms_since(started);
    st.users = rep->users;
    st.aliases = rep->aliases;
    st.domains = rep->domains;
    st.passwords = rep->passwords;
    snprintf(st.source, sizeof(st.source), "%s", rep->source);
    if (status_write(statpath, &st, err, sizeof(err)) < 0) {
        /* The maps are in place; readers fall back to LDAP until a status
         * appears, so this is a failure worth a retry. */
        snprintf(rep->error, sizeof(rep->error), "maps installed but %s", err);
        return -1;
    }
    rep->generation = st.generation;
    rep->duration_ms = st.duration_ms;
    return 0;
}

/* read_installed - the status of the maps in place into *old (zeroed
 * when missing or damaged) and rep's old counts; 1 when there is one */
static int read_installed(const struct conf *cfg, const char *statpath, struct status *old,
                          struct sync_report *rep)
{
    char err[512];
    int have = status_read(statpath, old, err, sizeof(err));

    if (have < 0) {
        /* A damaged status must not block the sync that repairs it. */
        log_warnx("%s; writing a new one", err);
        memset(old, 0, sizeof(*old));
    }
    rep->old_users = installed_users(cfg, old, have > 0);
    rep->old_passwords = have > 0 ? old->passwords : 0;
    return have > 0;
}

/* install_maps - emit, check max_shrink, commit, write status */
enum sync_result install_maps(const struct conf *cfg, struct mapbuild *mb, bool force,
                              const struct timespec *started, struct sync_report *rep)
{
    struct mapwriter *w[MAP_COUNT] = { 0 };
    struct mapbuild_counts counts;
    struct status old;
    struct timespec phase;
    char err[512], statpath[4096];
    enum sync_result result = SYNC_FAILED;
    gid_t gid;

    if (make_dirs(cfg->maps_dir, rep->error, sizeof(rep->error)) < 0 ||
        users_gid(cfg, &gid, rep->error, sizeof(rep->error)) < 0)
        return SYNC_FAILED;
    int lock = lock_maps_dir(cfg->maps_dir, rep->error, sizeof(rep->error));
    if (lock < 0)
        return SYNC_FAILED;
    remove_stale_temps(cfg->maps_dir);
    status_path(cfg->maps_dir, statpath, sizeof(statpath));
    bool have = read_installed(cfg, statpath, &old, rep);
    if (open_writers(cfg, gid, w, rep->error, sizeof(rep->error)) < 0)
        goto out;
    monotime_now(&phase);
    if (build_maps(mb, w, &counts, err, sizeof(err)) < 0) {
        snprintf(rep->error, sizeof(rep->error), "building the maps: %s", err);
        goto out;
    }
    rep->build_ms = (unsigned long long)monotime_ms_since(&phase);
    rep->users = counts.users;
    rep->aliases = counts.aliases;
    rep->domains = counts.domains;
    rep->passwords = counts.passwords;
    if (!force && install_shrink_refused(cfg, rep, rep->error, sizeof(rep->error))) {
        result = SYNC_REFUSED;
        goto out;
    }
    monotime_now(&phase);
    int same = 0;
    if (have && old.checksum[0] != '\0' &&
        (same = mapwriter_unchanged(w, MAP_COUNT, err, sizeof(err))) < 0) {
        snprintf(rep->error, sizeof(rep->error), "%s", err);
        goto out;
    }
    if ((same > 0 ? stamp_unchanged(statpath, &old, started, &phase, rep)
                  : commit_new(statpath, w, &old, started, &phase, rep)) == 0)
        result = SYNC_DONE;
out:
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    if (result != SYNC_DONE)
        install_record_failure(cfg, rep->error);
    close(lock);
    return result;
}

/* install_confirm - stamp the status of GENERATION with now */
int install_confirm(const struct conf *cfg, unsigned long long generation, char *err,
                    size_t errsz)
{
    char path[4096];
    struct status st;

    int lock = lock_maps_dir(cfg->maps_dir, err, errsz);
    if (lock < 0)
        return -1;
    status_path(cfg->maps_dir, path, sizeof(path));
    int r = status_read(path, &st, err, errsz);
    if (r == 0) {
        snprintf(err, errsz, "%s: missing", path);
    } else if (r > 0 && st.generation != generation) {
        snprintf(err, errsz, "%s: generation %llu was installed by another process", path,
                 (unsigned long long)st.generation);
        r = -1;
    } else if (r > 0) {
        st.synced_at = time(NULL);
        if (status_write(path, &st, err, errsz) < 0)
            r = -1;
    }
    close(lock);
    return r > 0 ? 0 : -1;
}

/* install_record_failure - last_failure into an existing status */
void install_record_failure(const struct conf *cfg, const char *reason)
{
    char path[4096], err[512];
    struct status st;

    status_path(cfg->maps_dir, path, sizeof(path));
    if (status_read(path, &st, err, sizeof(err)) <= 0)
        return;
    snprintf(st.last_failure, sizeof(st.last_failure), "%s", reason);
    st.last_failure_at = time(NULL);
    if (status_write(path, &st, err, sizeof(err)) < 0)
        log_warnx("recording the failure: %s", err);
}
