/* maplookup DIR - a long-running reader for shell tests: reads "MAP KEY"
 * lines on stdin and answers "FOUND VALUE", "NOTFOUND" or "ERROR reason"
 * per line, flushing each, with the maps held open across lines (so a test
 * can replace a map under it and see the next lookup pick it up). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/address.h"
#include "maps/mapset.h"

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (argc != 2) {
        fprintf(stderr, "usage: maplookup DIR\n");
        return 2;
    }
    struct mapset *set = mapset_open(argv[1], 3600);
    if (set == NULL) {
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
        if (id < 0) {
            printf("ERROR want MAP KEY\n");
        } else {
            const char *val;
            size_t len;
            address_lower(key, strlen(key));
            int r = mapset_lookup(set, (enum map_id)id, key, strlen(key), &val, &len);
            if (r > 0)
                printf("FOUND %.*s\n", (int)len, val);
            else if (r == 0)
                printf("NOTFOUND\n");
            else
                printf("ERROR %s\n", mapset_map(set, (enum map_id)id)->error);
        }
        fflush(stdout);
    }
    free(line);
    mapset_close(set);
    return 0;
}
