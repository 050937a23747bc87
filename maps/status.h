#ifndef MAILMAPS_STATUS_H
#define MAILMAPS_STATUS_H

/* The maps directory's "status" file: "name=value" lines.
 *   generation=42  synced_at=1700000000  duration_ms=1234
 *   users=150000  aliases=20000  domains=12  passwords=149000
 *   source=ldap://ldap1.example.com/  checksum=<sha256 hex>
 *   last_failure=…  last_failure_at=…   (only after a failure)
 * Unknown names are ignored on reading (newer writers may add some). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "maps/sha256.h"

struct status {
    uint64_t generation;
    time_t synced_at;          /* 0 = never */
    uint64_t duration_ms;
    uint64_t users, aliases, domains;
    uint64_t passwords;        /* users with a password; 0 = not recorded */
    char source[512];
    char checksum[SHA256_HEX_SIZE];
    char last_failure[512];    /* "" = none since the last success */
    time_t last_failure_at;
};

/* The file's name in the maps directory. */
#define STATUS_NAME "status"

/* status_path - "MAPS_DIR/status" into buf: 0, or -1 (buf "") when it
 * does not fit */
int status_path(const char *maps_dir, char *buf, size_t bufsz);

/* status_read - 1 read, 0 file missing, -1 unreadable or malformed (reason
 * in err). */
int status_read(const char *path, struct status *st_r, char *err, size_t errsz);

/* status_parse - parse the text form (len bytes) */
int status_parse(const char *data, size_t len, struct status *st_r,
                 char *err, size_t errsz);

/* status_write - write atomically (temp file, fsync, rename), mode 0644.
 * 0 or -1 with a reason. */
int status_write(const char *path, const struct status *st, char *err, size_t errsz);

/* status_format - the text form into buf; returns length or -1 if too small */
int status_format(const struct status *st, char *buf, size_t bufsz);

/* status_is_stale - synced longer than stale_after seconds before now (or never) */
bool status_is_stale(const struct status *st, time_t now, unsigned stale_after);

#endif
