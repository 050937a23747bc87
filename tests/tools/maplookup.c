/* maplookup DIR | maplookup -c CONF - a long-running reader for shell
 * tests: reads "MAP KEY" lines on stdin and answers one line each,
 * flushed, with one handle across lines.
 *   DIR: the maps alone (mapset), held open (so a test can replace a map
 *   under it and see the next lookup pick it up): "FOUND VALUE",
 *   "NOTFOUND" or "ERROR reason".
 *   -c CONF: as the daemons ask (lookup_key: maps, then LDAP, with its
 *   answer cache): "FOUND SOURCE VALUE" (SOURCE: map, ldap, stale),
 *   "NOTFOUND" or "TEMPFAIL reason". */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/address.h"
#include "maps/lookup.h"
#include "maps/mapset.h"

/* answer_map - one key from the maps alone */
static void answer_map(struct mapset *set, enum map_id id, char *key)
{
    const char *val;
    size_t len;
    address_lower(key, strlen(key));
    int r = mapset_lookup(set, id, key, strlen(key), &val, &len);
    if (r > 0)
        printf("FOUND %.*s\n", (int)len, val);
    else if (r == 0)
        printf("NOTFOUND\n");
    else
        printf("ERROR %s\n", mapset_map(set, id)->error);
}

/* answer_lookup - one key as the daemons ask */
static void answer_lookup(struct lookup *lk, enum map_id id, const char *key)
{
    static const char *const source[] = {
        [LOOKUP_FROM_MAP] = "map", [LOOKUP_FROM_LDAP] = "ldap",
        [LOOKUP_FROM_STALE_MAP] = "stale",
    };
    const char *val;
    size_t len;
    char err[1024];
    enum lookup_source src = LOOKUP_FROM_MAP;
    enum lookup_result r = lookup_key(lk, id, key, strlen(key), &val, &len, &src, err,
                                      sizeof(err));
    if (r == LOOKUP_FOUND)
        printf("FOUND %s %.*s\n", source[src], (int)len, val);
    else if (r == LOOKUP_NOTFOUND)
        printf("NOTFOUND\n");
    else
        printf("TEMPFAIL %s\n", err);
}

int main(int argc, char **argv)
{
    char *line = NULL, err[1024];
    size_t cap = 0;
    ssize_t n;
    struct conf cfg;
    struct mapset *set = NULL;
    struct lookup *lk = NULL;
    bool fallback = argc == 3 && strcmp(argv[1], "-c") == 0;

    if (argc != 2 && !fallback) {
        fprintf(stderr, "usage: maplookup DIR | maplookup -c CONF\n");
        return 2;
    }
    if (fallback) {
        signal(SIGPIPE, SIG_IGN);   /* libldap writes to sockets */
        if (conf_load(&cfg, argv[2], err, sizeof(err)) < 0 ||
            (lk = lookup_new(&cfg, err, sizeof(err))) == NULL) {
            fprintf(stderr, "maplookup: %s\n", err);
            return 2;
        }
    } else if ((set = mapset_open(argv[1], 3600)) == NULL) {
        fprintf(stderr, "maplookup: out of memory\n");
        return 1;
    }
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        char *key = strchr(line, ' ');
        int id = -1;
        if (key != NULL) {
            *key++ = '\0';
            id = map_id_parse(line);
        }
        if (id < 0)
            printf("%s want MAP KEY\n", fallback ? "TEMPFAIL" : "ERROR");
        else if (fallback)
            answer_lookup(lk, (enum map_id)id, key);
        else
            answer_map(set, (enum map_id)id, key);
        fflush(stdout);
    }
    free(line);
    if (fallback) {
        lookup_free(lk);
        conf_free(&cfg);
    } else {
        mapset_close(set);
    }
    return 0;
}
