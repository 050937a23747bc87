#ifndef MAILMAPS_CDBMAP_H
#define MAILMAPS_CDBMAP_H

/* Read one CDB map (tinycdb format, as Postfix's cdb: tables read it).
 *
 * Lookups copy nothing: the value points into the mmap'ed file and stays
 * valid until the next cdbmap_* call on that handle (a refresh may unmap
 * the old file). The handle notices a replaced file (rename() of a new one
 * over the path) through cdbmap_refresh(); mapset.h drives that with
 * inotify so lookups themselves make no system call.
 *
 * A map that does not exist is a state of its own (CDBMAP_MISSING), not an
 * empty map: readers must not answer "unknown" from a cache that is gone. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <cdb.h>

enum cdbmap_state {
    CDBMAP_OPEN,     /* a valid file is mapped */
    CDBMAP_MISSING,  /* the file does not exist */
    CDBMAP_BROKEN,   /* exists but cannot be opened or is not a CDB */
};

struct cdbmap {
    char *path;
    enum cdbmap_state state;
    char error[256];       /* why, when not CDBMAP_OPEN */
    int fd;
    dev_t dev;             /* identity of the mapped file, to notice */
    ino_t ino;             /* a rename() over the path */
    off_t size;            /* size and ctime: a file rewritten in place */
    struct timespec ctime; /* (cp over it) or chmod'ed keeps its inode */
    struct cdb cdb;
};

/* cdbmap_open - a handle for path. Never fails for a missing or broken
 * file (see state); NULL only when out of memory. */
struct cdbmap *cdbmap_open(const char *path);
void cdbmap_close(struct cdbmap *map);

/* cdbmap_lookup - 1 found (*value_r, *len_r point into the map), 0 not
 * found, -1 when the map is not open (missing or broken). Keys are looked
 * up as given: the caller lower-cases (the writer stored them so). */
int cdbmap_lookup(struct cdbmap *map, const char *key, size_t keylen,
                  const char **value_r, size_t *len_r);

/* cdbmap_refresh - reopen if the path now names another file (or none).
 * Returns 1 if the handle changed, 0 if not. */
int cdbmap_refresh(struct cdbmap *map);

/* cdbmap_iter - walk all records in file order. Start with *pos = 0;
 * returns 1 with key and value (pointing into the map), 0 at the end,
 * -1 if the map is not open or corrupt. */
int cdbmap_iter(struct cdbmap *map, unsigned *pos,
                const char **key_r, size_t *keylen_r,
                const char **value_r, size_t *vallen_r);

/* cdbmap_count - number of records, or -1 */
long cdbmap_count(struct cdbmap *map);

#endif
