#ifndef MAILMAPS_TESTS_ALICEMAPS_H
#define MAILMAPS_TESTS_ALICEMAPS_H

/* alicemaps.h - the maps the lookup and authdb tests read: one account,
 * alice@example.com (alias al@example.com), in all four maps of a
 * directory, users.cdb holding the record given, and a status synced at
 * a given time. Include after tap.h. */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "maps/mapset.h"
#include "maps/mapwriter.h"
#include "maps/status.h"

/* alice_maps_write - the four maps and the status into dir */
static void alice_maps_write(const char *dir, const char *users_value, time_t synced_at)
{
    struct mapwriter *w[MAP_COUNT];
    char path[256], err[256];
    const char *const rec[MAP_COUNT][2] = {
        [MAP_DOMAINS] = { "example.com", "OK" },
        [MAP_MAILBOXES] = { "alice@example.com", "example.com/alice/Maildir/" },
        [MAP_ALIASES] = { "al@example.com", "alice@example.com" },
        [MAP_USERS] = { "alice@example.com", users_value },
    };
    for (int i = 0; i < MAP_COUNT; i++) {
        mapset_path(dir, (enum map_id)i, path, sizeof(path));
        w[i] = mapwriter_new(path, 0644, (gid_t)-1);
        mapwriter_add(w[i], rec[i][0], strlen(rec[i][0]), rec[i][1], strlen(rec[i][1]), err,
                      sizeof(err));
    }
    ok(mapwriter_commit(w, MAP_COUNT, NULL, err, sizeof(err)) == 0, "maps written");
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    struct status st = { .generation = 1, .synced_at = synced_at, .users = 1 };
    snprintf(path, sizeof(path), "%s/status", dir);
    ok(status_write(path, &st, err, sizeof(err)) == 0, "status written");
}

#endif
