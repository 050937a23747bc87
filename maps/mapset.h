#ifndef MAILMAPS_MAPSET_H
#define MAILMAPS_MAPSET_H

/* The maps directory as the readers see it: the four maps plus the status
 * file, kept current without restarts.
 *
 * One inotify watch on the directory tells which files were renamed into
 * place or removed. A caller with an event loop takes mapset_watch_fd(),
 * polls it and calls mapset_refresh() when it is readable; lookups are then
 * pure memory reads. A caller without one leaves that to mapset_lookup(),
 * which drains the watch itself (one non-blocking read) before each lookup.
 * Without inotify (or when the watch is lost) every lookup falls back to
 * stat()-ing the files. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "maps/cdbmap.h"
#include "maps/status.h"

enum map_id {
    MAP_DOMAINS,
    MAP_MAILBOXES,
    MAP_ALIASES,
    MAP_USERS,
    MAP_COUNT
};

/* map_name - "domains", "mailboxes", "aliases", "users" */
const char *map_name(enum map_id id);
/* map_id_parse - the id for a name, or -1 */
int map_id_parse(const char *name);

struct mapset;

/* mapset_open - open the maps in dir. Never fails for missing files (they
 * are reported per map); NULL only when out of memory. stale_after is the
 * age in seconds after which mapset_fresh() turns false. */
struct mapset *mapset_open(const char *dir, unsigned stale_after);
void mapset_close(struct mapset *set);

/* mapset_watch_fd - the inotify fd (or -1). Once a caller has asked for
 * it, lookups no longer drain it: the caller calls mapset_refresh() when
 * it is readable. */
int mapset_watch_fd(struct mapset *set);

/* mapset_refresh - apply pending changes (reopen replaced maps, reread
 * status). Returns the number of files that changed. */
int mapset_refresh(struct mapset *set);

/* mapset_lookup - as cdbmap_lookup on one map: 1 found, 0 not found,
 * -1 map missing or broken. The key must already be lower-cased. */
int mapset_lookup(struct mapset *set, enum map_id id, const char *key,
                  size_t keylen, const char **value_r, size_t *len_r);

/* mapset_map - the underlying handle (for iteration, state, errors) */
struct cdbmap *mapset_map(struct mapset *set, enum map_id id);

/* mapset_status - the last status read (zeroed when missing); has_status
 * tells whether the file was there and valid */
const struct status *mapset_status(struct mapset *set, bool *has_status_r);

/* mapset_fresh - every map open and status younger than stale_after.
 * Readers answer "not found" from the maps only when this is true. */
bool mapset_fresh(struct mapset *set, time_t now);

/* mapset_path - the file name of a map in dir into buf ("DIR/users.cdb") */
int mapset_path(const char *dir, enum map_id id, char *buf, size_t bufsz);

#endif
