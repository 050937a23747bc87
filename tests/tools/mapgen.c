/* mapgen DIR - write the four maps of DIR from "MAP<TAB>KEY<TAB>VALUE" lines
 * on stdin with one mapwriter_commit (a test tool: lets shell tests make
 * maps with the library's own writer). Prints the checksum; exit 0, or 1
 * with a message. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/mapset.h"
#include "maps/mapwriter.h"

int main(int argc, char **argv)
{
    struct mapwriter *w[MAP_COUNT] = { 0 };
    char path[4096], err[512], sum[SHA256_HEX_SIZE];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: mapgen DIR < records\n");
        return 2;
    }
    for (int i = 0; i < MAP_COUNT; i++) {
        if (mapset_path(argv[1], (enum map_id)i, path, sizeof(path)) < 0 ||
            (w[i] = mapwriter_new(path, 0644, (gid_t)-1)) == NULL) {
            fprintf(stderr, "mapgen: cannot set up %s\n", map_name((enum map_id)i));
            goto out;
        }
    }
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        char *key = strchr(line, '\t');
        char *val = key ? strchr(key + 1, '\t') : NULL;
        if (val == NULL) {
            fprintf(stderr, "mapgen: line %lu: want MAP<TAB>KEY<TAB>VALUE\n", lineno);
            goto out;
        }
        *key++ = '\0';
        *val++ = '\0';
        int id = map_id_parse(line);
        if (id < 0) {
            fprintf(stderr, "mapgen: line %lu: unknown map '%s'\n", lineno, line);
            goto out;
        }
        if (mapwriter_add(w[id], key, strlen(key), val, strlen(val), err, sizeof(err)) < 0) {
            fprintf(stderr, "mapgen: line %lu: %s\n", lineno, err);
            goto out;
        }
    }
    if (mapwriter_commit(w, MAP_COUNT, sum, err, sizeof(err)) < 0) {
        fprintf(stderr, "mapgen: %s\n", err);
        goto out;
    }
    printf("%s\n", sum);
    rc = 0;
out:
    free(line);
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    return rc;
}
