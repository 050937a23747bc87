/* fallbackq CONF - lookup_key for shell tests: reads "MAP KEY" lines on
 * stdin and answers "FOUND SOURCE VALUE" (SOURCE: map, ldap, stale),
 * "NOTFOUND" or "TEMPFAIL reason" per line, flushing each, with one lookup
 * handle across lines (so its answer cache is the daemons'). */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/lookup.h"

int main(int argc, char **argv)
{
    static const char *const source[] = {
        [LOOKUP_FROM_MAP] = "map", [LOOKUP_FROM_LDAP] = "ldap",
        [LOOKUP_FROM_STALE_MAP] = "stale",
    };
    struct conf cfg;
    char err[1024], *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (argc != 2) {
        fprintf(stderr, "usage: fallbackq CONF\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (conf_load(&cfg, argv[1], err, sizeof(err)) < 0) {
        fprintf(stderr, "fallbackq: %s\n", err);
        return 2;
    }
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    if (lk == NULL) {
        fprintf(stderr, "fallbackq: %s\n", err);
        conf_free(&cfg);
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
        if (id < 0) {
            printf("TEMPFAIL want MAP KEY\n");
        } else {
            const char *val;
            size_t len;
            enum lookup_source src = LOOKUP_FROM_MAP;
            enum lookup_result r = lookup_key(lk, (enum map_id)id, key, strlen(key), &val, &len,
                                              &src, err, sizeof(err));
            if (r == LOOKUP_FOUND)
                printf("FOUND %s %.*s\n", source[src], (int)len, val);
            else if (r == LOOKUP_NOTFOUND)
                printf("NOTFOUND\n");
            else
                printf("TEMPFAIL %s\n", err);
        }
        fflush(stdout);
    }
    free(line);
    lookup_free(lk);
    conf_free(&cfg);
    return 0;
}
