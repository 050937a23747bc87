/* mailmaps - look into the maps: query, dump, status, check; and the
 * settings list and Postfix fallback tables that follow from the config.
 *
 *   mailmaps [-c FILE] query MAP KEY    like postmap -q: 0 found, 1 not found, 2 error
 *   mailmaps [-c FILE] dump MAP         KEY<TAB>VALUE lines
 *   mailmaps [-c FILE] status           0 fresh, 1 stale, 2 missing/unreadable
 *   mailmaps [-c FILE] check            0 maps agree, 2 missing or broken
 *   mailmaps [-c FILE] metrics          status as Prometheus text: 0, 2 no status
 *   mailmaps settings                   every setting name the parser knows
 *   mailmaps [-c FILE] postfix-config [-d DIR]
 *
 * status's first line is a Nagios/Icinga plugin line, so the command is
 * usable as a check as it is. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maps/address.h"
#include "maps/bindcheck.h"
#include "maps/conf.h"
#include "maps/mapset.h"
#include "maps/postfix_config.h"
#include "maps/mapcheck.h"
#include "maps/metrics.h"
#include "maps/version.h"

enum { EXIT_FOUND = 0, EXIT_NOTFOUND = 1, EXIT_ERROR = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mailmaps [-c FILE] query MAP KEY\n"
            "       mailmaps [-c FILE] dump MAP\n"
            "       mailmaps [-c FILE] status\n"
            "       mailmaps [-c FILE] check\n"
            "       mailmaps [-c FILE] metrics\n"
            "       mailmaps [-c FILE] postfix-config [-d DIR]\n"
            "       mailmaps settings\n"
            "       mailmaps --version\n"
            "MAP is domains, mailboxes, aliases or users; FILE defaults to %s\n",
            CONF_DEFAULT_PATH);
}

/* map_arg - parse a MAP argument or complain */
static int map_arg(const char *name)
{
    int id = map_id_parse(name);
    if (id < 0)
        fprintf(stderr, "mailmaps: unknown map '%s' (domains, mailboxes, aliases, users)\n",
                name);
    return id;
}

/* cmd_query - one lookup, printed like postmap -q */
static int cmd_query(const struct conf *cfg, const char *mapname, const char *key)
{
    int id = map_arg(mapname);
    if (id < 0)
        return EXIT_ERROR;
    size_t keylen = strlen(key);
    char *k = strdup(key);
    if (k == NULL)
        return EXIT_ERROR;
    address_lower(k, keylen);

    struct mapset *set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (set == NULL) {
        free(k);
        return EXIT_ERROR;
    }
    const char *val;
    size_t len;
    int r = mapset_lookup(set, (enum map_id)id, k, keylen, &val, &len);
    int rc;
    if (r > 0) {
        fwrite(val, 1, len, stdout);
        putchar('\n');
        rc = EXIT_FOUND;
    } else if (r == 0) {
        rc = EXIT_NOTFOUND;
    } else {
        fprintf(stderr, "mailmaps: %s\n", mapset_map(set, (enum map_id)id)->error);
        rc = EXIT_ERROR;
    }
    mapset_close(set);
    free(k);
    return rc;
}

/* cmd_dump - every record of one map */
static int cmd_dump(const struct conf *cfg, const char *mapname)
{
    int id = map_arg(mapname);
    if (id < 0)
        return EXIT_ERROR;
    char path[4096];
    if (mapset_path(cfg->maps_dir, (enum map_id)id, path, sizeof(path)) < 0)
        return EXIT_ERROR;
    struct cdbmap *map = cdbmap_open(path);
    if (map == NULL)
        return EXIT_ERROR;
    int rc = EXIT_FOUND, r;
    unsigned pos = 0;
    const char *k, *v;
    size_t klen, vlen;
    while ((r = cdbmap_iter(map, &pos, &k, &klen, &v, &vlen)) > 0)
        printf("%.*s\t%.*s\n", (int)klen, k, (int)vlen, v);
    if (r < 0) {
        fprintf(stderr, "mailmaps: %s\n", map->error);
        rc = EXIT_ERROR;
    }
    cdbmap_close(map);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "mailmaps: write error: %s\n", strerror(errno));
        rc = EXIT_ERROR;
    }
    return rc;
}

/* age_format - "3d 2h", "5m 12s": how an operator reads an age */
static void age_format(long secs, char *buf, size_t bufsz)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 86400)
        snprintf(buf, bufsz, "%ldd %ldh", secs / 86400, secs % 86400 / 3600);
    else if (secs >= 3600)
        snprintf(buf, bufsz, "%ldh %ldm", secs / 3600, secs % 3600 / 60);
    else if (secs >= 60)
        snprintf(buf, bufsz, "%ldm %lds", secs / 60, secs % 60);
    else
        snprintf(buf, bufsz, "%lds", secs);
}

/* cmd_status - freshness and counts; exit status as a Nagios check */
static int cmd_status(const struct conf *cfg)
{
    char path[4096], err[512], age[64], when[64];
    struct status st;
    time_t now = time(NULL);

    snprintf(path, sizeof(path), "%s/status", cfg->maps_dir);
    int r = status_read(path, &st, err, sizeof(err));
    if (r <= 0) {
        printf("CRITICAL: mailmaps: no usable status in %s: %s\n", cfg->maps_dir,
               r == 0 ? "missing (never synced?)" : err);
        return EXIT_ERROR;
    }
    /* Every map must open too: a status without its maps is no cache. */
    struct mapset *set = mapset_open(cfg->maps_dir, cfg->stale_after);
    if (set == NULL)
        return EXIT_ERROR;
    for (int i = 0; i < MAP_COUNT; i++) {
        struct cdbmap *m = mapset_map(set, (enum map_id)i);
        if (m->state != CDBMAP_OPEN) {
            printf("CRITICAL: mailmaps: %s\n", m->error);
            mapset_close(set);
            return EXIT_ERROR;
        }
    }
    mapset_close(set);

    long secs = (long)(now - st.synced_at);
    bool stale = status_is_stale(&st, now, cfg->stale_after);
    age_format(secs, age, sizeof(age));
    struct tm tm;
    gmtime_r(&st.synced_at, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

    printf("%s: mailmaps %s, synced %s ago, %llu users | age=%lds;%u users=%llu "
           "aliases=%llu domains=%llu duration=%llums\n",
           stale ? "WARNING" : "OK", stale ? "stale" : "fresh", age,
           (unsigned long long)st.users, secs, cfg->stale_after,
           (unsigned long long)st.users, (unsigned long long)st.aliases,
           (unsigned long long)st.domains, (unsigned long long)st.duration_ms);
    printf("maps:        %s\n", cfg->maps_dir);
    printf("state:       %s (stale after %us)\n", stale ? "STALE" : "fresh", cfg->stale_after);
    printf("synced at:   %s (%s ago)\n", when, age);
    printf("generation:  %llu\n", (unsigned long long)st.generation);
    printf("duration:    %llu ms\n", (unsigned long long)st.duration_ms);
    printf("users:       %llu\n", (unsigned long long)st.users);
    printf("aliases:     %llu\n", (unsigned long long)st.aliases);
    printf("domains:     %llu\n", (unsigned long long)st.domains);
    printf("source:      %s\n", st.source[0] ? st.source : "-");
    printf("checksum:    %s\n", st.checksum[0] ? st.checksum : "-");
    if (st.last_failure[0]) {
        gmtime_r(&st.last_failure_at, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("last failure: %s: %s\n", when, st.last_failure);
    }
    return stale ? 1 : 0;
}

/* cmd_check - every map opens, decodes and agrees with the others */
static int cmd_check(const struct conf *cfg)
{
    struct mapcheck_report rep;
    char warn[2048];
    if (bindcheck_cleartext(cfg, warn, sizeof(warn)) > 0)
        printf("WARNING: %s\n", warn);
    int r = mapcheck_run(cfg, &rep);
    for (size_t i = 0; i < rep.problem_count; i++)
        printf("%s\n", rep.problem[i]);
    if (rep.problems_dropped)
        printf("... and %zu more problems\n", rep.problems_dropped);
    if (r == 0)
        printf("OK: %llu users, %llu aliases, %llu domains; maps agree, checksum %s\n",
               (unsigned long long)rep.users, (unsigned long long)rep.aliases,
               (unsigned long long)rep.domains, rep.checksum);
    mapcheck_report_free(&rep);
    return r == 0 ? 0 : EXIT_ERROR;
}

/* cmd_metrics - the status for Prometheus' textfile collector; with no
 * usable status only mailmaps_stale 1 and exit 2, so the file still says so */
static int cmd_metrics(const struct conf *cfg)
{
    char path[4096], err[512], out[4096];
    struct status st;

    snprintf(path, sizeof(path), "%s/status", cfg->maps_dir);
    int r = status_read(path, &st, err, sizeof(err));
    if (r < 0)
        fprintf(stderr, "mailmaps: %s: %s\n", path, err);
    else if (r == 0)
        fprintf(stderr, "mailmaps: %s: missing (never synced?)\n", path);
    if (metrics_format(r > 0 ? &st : NULL, time(NULL), cfg->stale_after, out, sizeof(out)) < 0)
        return EXIT_ERROR;
    fputs(out, stdout);
    if (fflush(stdout) != 0)
        return EXIT_ERROR;
    return r > 0 ? 0 : EXIT_ERROR;
}

/* cmd_settings - the settings the parser knows, one per line */
static int cmd_settings(void)
{
    for (size_t i = 0; i < conf_setting_count(); i++)
        printf("%s\n", conf_setting_name(i));
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf_path = CONF_DEFAULT_PATH;
    const char *args[8];
    size_t nargs = 0;
    const char *outdir = NULL;

    /* -c FILE may come before or after the command */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-d") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return EXIT_ERROR;
            }
            if (argv[i][1] == 'c')
                conf_path = argv[++i];
            else
                outdir = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            printf("mailmaps %s\n", MAILMAPS_VERSION);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "mailmaps: unknown option %s\n", argv[i]);
            usage(stderr);
            return EXIT_ERROR;
        } else if (nargs < 8) {
            args[nargs++] = argv[i];
        } else {
            usage(stderr);
            return EXIT_ERROR;
        }
    }
    if (nargs == 0) {
        usage(stderr);
        return EXIT_ERROR;
    }
    const char *cmd = args[0];
    if (strcmp(cmd, "settings") == 0 && nargs == 1)
        return cmd_settings();

    struct conf cfg;
    char err[CONF_ERRSZ];
    if (conf_load(&cfg, conf_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "mailmaps: %s\n", err);
        conf_free(&cfg);
        return EXIT_ERROR;
    }
    int rc;
    if (strcmp(cmd, "query") == 0 && nargs == 3)
        rc = cmd_query(&cfg, args[1], args[2]);
    else if (strcmp(cmd, "dump") == 0 && nargs == 2)
        rc = cmd_dump(&cfg, args[1]);
    else if (strcmp(cmd, "status") == 0 && nargs == 1)
        rc = cmd_status(&cfg);
    else if (strcmp(cmd, "check") == 0 && nargs == 1)
        rc = cmd_check(&cfg);
    else if (strcmp(cmd, "metrics") == 0 && nargs == 1)
        rc = cmd_metrics(&cfg);
    else if (strcmp(cmd, "postfix-config") == 0 && nargs == 1)
        rc = postfix_config_write(&cfg, outdir, err, sizeof(err)) < 0
                 ? (fprintf(stderr, "mailmaps: %s\n", err), EXIT_ERROR)
                 : 0;
    else {
        usage(stderr);
        rc = EXIT_ERROR;
    }
    conf_free(&cfg);
    return rc;
}
