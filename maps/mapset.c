/* mapset - the four maps and the status file of a maps directory, kept
 * current through one inotify watch (or stat() when there is none). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/mapset.h"
#include "maps/monotime.h"

/* Events that can mean "the file at this name is another one now";
 * IN_ATTRIB because a chmod can turn an unreadable map readable. */
#define MAPSET_EVENTS (IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | \
                       IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)

/* Bits of the "needs a look" mask: one per map, then the status file. */
#define DIRTY_STATUS (1u << MAP_COUNT)
#define DIRTY_ALL ((1u << (MAP_COUNT + 1)) - 1)

/* Reads per drain before giving up and re-checking everything. */
#define MAPSET_MAX_READS 16

static const char *const map_names[MAP_COUNT] = {
    [MAP_DOMAINS] = "domains",
    [MAP_MAILBOXES] = "mailboxes",
    [MAP_ALIASES] = "aliases",
    [MAP_USERS] = "users",
};

struct mapset {
    char *dir;
    unsigned stale_after;
    struct cdbmap *maps[MAP_COUNT];

    char *status_path;
    struct status status;
    bool has_status;
    bool status_seen;          /* the identity below is of a file seen */
    dev_t status_dev;
    ino_t status_ino;
    off_t status_size;
    struct timespec status_ctime;

    int ifd;                   /* inotify instance, or -1 */
    int wd;                    /* watch on dir, or -1: stat() per lookup */
    bool caller_polls;         /* mapset_watch_fd() was called */
    time_t next_watch_try;     /* monotonic seconds */
};

/* map_name - "domains", "mailboxes", "aliases", "users" */
const char *map_name(enum map_id id)
{
    if ((unsigned)id >= MAP_COUNT)
        return NULL;
    return map_names[id];
}

/* map_id_parse - the id for a name, or -1 */
int map_id_parse(const char *name)
{
    for (int i = 0; i < MAP_COUNT; i++)
        if (strcmp(name, map_names[i]) == 0)
            return i;
    return -1;
}

/* mapset_path - "DIR/NAME.cdb" into buf; -1 when it does not fit */
int mapset_path(const char *dir, enum map_id id, char *buf, size_t bufsz)
{
    if ((unsigned)id >= MAP_COUNT)
        return -1;
    int n = snprintf(buf, bufsz, "%s/%s.cdb", dir, map_names[id]);
    if (n < 0 || (size_t)n >= bufsz)
        return -1;
    return 0;
}

/* dirty_bit - which file an event's name refers to (0: none of ours) */
static unsigned dirty_bit(const char *name)
{
    if (strcmp(name, STATUS_NAME) == 0)
        return DIRTY_STATUS;
    for (int i = 0; i < MAP_COUNT; i++) {
        size_t n = strlen(map_names[i]);
        if (strncmp(name, map_names[i], n) == 0 && strcmp(name + n, ".cdb") == 0)
            return 1u << i;
    }
    return 0;
}

/* mapset_status_reload - reread status if the file is another one now.
 * Returns 1 if anything changed. */
static int mapset_status_reload(struct mapset *set)
{
    struct stat st;
    char err[256];

    if (stat(set->status_path, &st) < 0) {
        if (!set->status_seen && !set->has_status)
            return 0;
        memset(&set->status, 0, sizeof(set->status));
        set->has_status = false;
        set->status_seen = false;
        return 1;
    }
    if (set->status_seen && set->status_dev == st.st_dev && set->status_ino == st.st_ino &&
        set->status_size == st.st_size && set->status_ctime.tv_sec == st.st_ctim.tv_sec &&
        set->status_ctime.tv_nsec == st.st_ctim.tv_nsec)
        return 0;
    set->status_seen = true;
    set->status_dev = st.st_dev;
    set->status_ino = st.st_ino;
    set->status_size = st.st_size;
    set->status_ctime = st.st_ctim;
    /* status_read zeroes the struct on any failure: a bad file is no file */
    set->has_status = status_read(set->status_path, &set->status, err, sizeof(err)) == 1;
    return 1;
}

/* mapset_apply - look at the files marked dirty; count the changed ones */
static int mapset_apply(struct mapset *set, unsigned dirty)
{
    int changed = 0;

    for (int i = 0; i < MAP_COUNT; i++)
        if (dirty & (1u << i))
            changed += cdbmap_refresh(set->maps[i]);
    if (dirty & DIRTY_STATUS)
        changed += mapset_status_reload(set);
    return changed;
}

/* mapset_watch_try - (re)add the watch on the directory, at most once a
 * second; after a gap without one, every file may have changed */
static int mapset_watch_try(struct mapset *set, bool now)
{
    if (set->ifd < 0 || set->wd >= 0)
        return 0;
    time_t t = monotime_coarse_s();
    if (!now && t < set->next_watch_try)
        return 0;
    set->next_watch_try = t + 1;
    set->wd = inotify_add_watch(set->ifd, set->dir, MAPSET_EVENTS | IN_ONLYDIR);
    if (set->wd < 0)
        return 0;
    return mapset_apply(set, DIRTY_ALL);
}

/* mapset_drain - read pending events (one read when there are none) and
 * apply them; returns the number of files that changed */
static int mapset_drain(struct mapset *set)
{
    union {
        struct inotify_event ev;
        char buf[8192];
    } u;
    unsigned dirty = 0;
    bool lost = false;
    int reads = 0;

    for (;;) {
        ssize_t n = read(set->ifd, u.buf, sizeof(u.buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* EAGAIN: drained */
        for (char *p = u.buf; p < u.buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                dirty = DIRTY_ALL;
            /* Events of an older watch (before a re-add) still name our
             * files, but only the current one can be lost. */
            if (ev->wd == set->wd &&
                (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)))
                lost = true;
            if (ev->len > 0)
                dirty |= dirty_bit(ev->name);
            p += sizeof(struct inotify_event) + ev->len;
        }
        if (++reads >= MAPSET_MAX_READS) {
            dirty = DIRTY_ALL;   /* the rest is read next time */
            break;
        }
    }
    if (lost) {
        /* The directory went away or moved: the watch follows the old
         * inode, so drop it and watch the path again when it is back. */
        inotify_rm_watch(set->ifd, set->wd);
        set->wd = -1;
        dirty = DIRTY_ALL;
    }
    int changed = dirty ? mapset_apply(set, dirty) : 0;
    if (lost)
        changed += mapset_watch_try(set, true);
    return changed;
}

/* mapset_open - open the maps of dir, watching it first so that no
 * replacement between opening and watching goes unnoticed */
struct mapset *mapset_open(const char *dir, unsigned stale_after)
{
    struct mapset *set = calloc(1, sizeof(*set));
    char *path = NULL;

    if (set == NULL)
        return NULL;
    set->ifd = -1;
    set->wd = -1;
    set->stale_after = stale_after;
    set->dir = strdup(dir);
    size_t slen = strlen(dir) + sizeof("/" STATUS_NAME);
    set->status_path = malloc(slen);
    if (set->dir == NULL || set->status_path == NULL)
        goto fail;
    (void)status_path(dir, set->status_path, slen);

    set->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (set->ifd >= 0)
        set->wd = inotify_add_watch(set->ifd, dir, MAPSET_EVENTS | IN_ONLYDIR);
    set->next_watch_try = monotime_coarse_s() + 1;

    size_t plen = strlen(dir) + sizeof("/mailboxes.cdb");
    path = malloc(plen);
    if (path == NULL)
        goto fail;
    for (int i = 0; i < MAP_COUNT; i++) {
        (void)mapset_path(dir, (enum map_id)i, path, plen);
        set->maps[i] = cdbmap_open(path);
        if (set->maps[i] == NULL)
            goto fail;
    }
    free(path);
    (void)mapset_status_reload(set);
    return set;

fail:
    free(path);
    mapset_close(set);
    return NULL;
}

/* mapset_close - release everything */
void mapset_close(struct mapset *set)
{
    if (set == NULL)
        return;
    for (int i = 0; i < MAP_COUNT; i++)
        cdbmap_close(set->maps[i]);
    if (set->ifd >= 0)
        close(set->ifd);
    free(set->status_path);
    free(set->dir);
    free(set);
}

/* mapset_watch_fd - hand the watch to the caller's event loop */
int mapset_watch_fd(struct mapset *set)
{
    set->caller_polls = true;
    return set->ifd;
}

/* mapset_refresh - apply pending changes; without a watch, stat all */
int mapset_refresh(struct mapset *set)
{
    if (set->wd >= 0)
        return mapset_drain(set);
    int changed = mapset_watch_try(set, false);
    if (set->wd < 0)
        changed += mapset_apply(set, DIRTY_ALL);
    return changed;
}

/* mapset_lookup - keep the map current as the mode requires, then look up */
int mapset_lookup(struct mapset *set, enum map_id id, const char *key,
                  size_t keylen, const char **value_r, size_t *len_r)
{
    if ((unsigned)id >= MAP_COUNT)
        return -1;
    if (set->wd < 0) {
        (void)mapset_watch_try(set, false);
        if (set->wd < 0)
            (void)cdbmap_refresh(set->maps[id]);
    } else if (!set->caller_polls) {
        mapset_drain(set);
    }
    return cdbmap_lookup(set->maps[id], key, keylen, value_r, len_r);
}

/* mapset_map - the underlying handle */
struct cdbmap *mapset_map(struct mapset *set, enum map_id id)
{
    if ((unsigned)id >= MAP_COUNT)
        return NULL;
    return set->maps[id];
}

/* mapset_status - the last status read */
const struct status *mapset_status(struct mapset *set, bool *has_status_r)
{
    if (has_status_r != NULL)
        *has_status_r = set->has_status;
    return &set->status;
}

/* mapset_fresh - every map open and the last sync recent enough */
bool mapset_fresh(struct mapset *set, time_t now)
{
    if (set->wd < 0 || !set->caller_polls)
        (void)mapset_refresh(set);
    for (int i = 0; i < MAP_COUNT; i++)
        if (set->maps[i]->state != CDBMAP_OPEN)
            return false;
    return set->has_status && !status_is_stale(&set->status, now, set->stale_after);
}
