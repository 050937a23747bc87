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
 *   mailmaps [-c FILE] policy-ask RECIPIENT [ADDRESS]
 *                                       one RCPT request to mailmaps-policyd:
 *                                       0 answered (the action line), 2 none
 *
 * status's first line is a Nagios/Icinga plugin line, so the command is
 * usable as a check as it is. */

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "maps/address.h"
#include "maps/bindcheck.h"
#include "maps/conf.h"
#include "maps/mapset.h"
#include "maps/postfix_config.h"
#include "maps/mapcheck.h"
#include "maps/metrics.h"
#include "maps/usage.h"
#include "maps/userrec.h"
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
            "       mailmaps [-c FILE] policy-ask RECIPIENT [ADDRESS]\n"
            "       mailmaps settings\n"
            "       mailmaps --version\n"
            "MAP is domains, mailboxes, aliases or users; FILE defaults to %s\n",
            CONF_DEFAULT_PATH);
}

/* policy_connect - a connected socket to l, or -1 with err */
static int policy_connect(const struct conf_listen *l, char *err, size_t errsz)
{
    struct timeval tv = { .tv_sec = 10 };
    int fd = -1;

    if (l->kind == CONF_LISTEN_UNIX) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            snprintf(err, errsz, "unix:%s: %s", l->path, strerror(errno));
            close(fd);
            return -1;
        }
    } else {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
        char port[16];
        snprintf(port, sizeof(port), "%u", l->port);
        int rc = getaddrinfo(l->host, port, &hints, &ai);
        if (rc != 0) {
            snprintf(err, errsz, "inet:%s:%u: %s", l->host, l->port, gai_strerror(rc));
            return -1;
        }
        snprintf(err, errsz, "inet:%s:%u: no address", l->host, l->port);
        for (a = ai; a != NULL; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
                break;
            snprintf(err, errsz, "inet:%s:%u: %s", l->host, l->port, strerror(errno));
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        if (fd < 0)
            return -1;
    }
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    /* a hung daemon is what a check must report, not wait for */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* cmd_policy_ask - one RCPT request as smtpd sends it; the answer's
 * action line on stdout */
static int cmd_policy_ask(const struct conf_listen *l, const char *rcpt)
{
    char req[1024], ans[4096], err[512];
    size_t got = 0;

    if (strpbrk(rcpt, "\r\n") != NULL || strlen(rcpt) > 512) {
        fprintf(stderr, "mailmaps: policy-ask: not a recipient address\n");
        return EXIT_ERROR;
    }
    int fd = policy_connect(l, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "mailmaps: policy-ask: %s\n", err);
        return EXIT_ERROR;
    }
    int n = snprintf(req, sizeof(req),
                     "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                     "recipient=%s\nsender=\nsize=0\ninstance=check\n\n", rcpt);
    if (write(fd, req, (size_t)n) != n) {
        fprintf(stderr, "mailmaps: policy-ask: sending: %s\n", strerror(errno));
        close(fd);
        return EXIT_ERROR;
    }
    while (got < sizeof(ans) - 1) {
        ssize_t r = read(fd, ans + got, sizeof(ans) - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        ans[got] = '\0';
        if (strstr(ans, "\n\n") != NULL)
            break;
    }
    int saved = errno;
    close(fd);
    ans[got] = '\0';
    char *eol = strchr(ans, '\n');
    if (strncmp(ans, "action=", 7) != 0 || eol == NULL || strstr(ans, "\n\n") == NULL) {
        fprintf(stderr, "mailmaps: policy-ask: no answer%s%s\n", got == 0 ? ": " : "",
                got == 0 ? strerror(saved) : "");
        return EXIT_ERROR;
    }
    *eol = '\0';
    printf("%s\n", ans);
    return 0;
}

/* listen_arg - ADDRESS in policy_listen's syntax, by conf's own parser */
static int listen_arg(const char *addr, struct conf_listen *l)
{
    struct conf tmp;
    char buf[600], err[CONF_ERRSZ];
    /* ldap_base: the parser requires one; any will do here */
    int n = snprintf(buf, sizeof(buf), "ldap_base = dc=x\npolicy_listen = %s\n", addr);
    if (n < 0 || (size_t)n >= sizeof(buf) || strchr(addr, '\n') != NULL ||
        conf_parse_buffer(&tmp, "ADDRESS", buf, (size_t)n, err, sizeof(err)) < 0 ||
        tmp.policy_listen_count != 1) {
        fprintf(stderr, "mailmaps: policy-ask: %s\n",
                n > 0 && (size_t)n < sizeof(buf) ? err : "address too long");
        conf_free(&tmp);
        return -1;
    }
    *l = tmp.policy_listen[0];
    conf_free(&tmp);
    return 0;
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

    status_path(cfg->maps_dir, path, sizeof(path));
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
/* How many users of users.cdb check_usage_files tries. */
#define USAGE_PROBE_USERS 10

/* check_usage_files - quota_usage's maildirsize for the first users of
 * users.cdb: none found means the policy daemon counts every mailbox as
 * empty (a wrong template, or homes hidden from it). A warning only: new
 * mailboxes have no file yet. */
static void check_usage_files(const struct conf *cfg)
{
    char path[4096], err[512], first[512] = "";
    unsigned tried = 0, found = 0;
    unsigned pos = 0;
    const char *k, *v;
    size_t kl, vl;

    if (cfg->quota_usage.kind != CONF_USAGE_MAILDIR ||
        mapset_path(cfg->maps_dir, MAP_USERS, path, sizeof(path)) < 0)
        return;
    struct usage_source *src = usage_maildir_new(cfg->quota_usage.template, err, sizeof(err));
    struct cdbmap *m = cdbmap_open(path);
    struct userrec rec;
    userrec_init(&rec);
    while (src != NULL && m != NULL && tried < USAGE_PROBE_USERS &&
           cdbmap_iter(m, &pos, &k, &kl, &v, &vl) == 1) {
        struct address a;
        const char *why;
        uint64_t bytes;
        if (address_parse(k, kl, NULL, &a, &why) < 0 ||
            userrec_decode(&rec, v, vl, err, sizeof(err)) < 0)
            continue;
        const char *home = userrec_get(&rec, "home");
        struct usage_user u = { a.full, a.local, a.domain, home != NULL ? home : "" };
        tried++;
        int r = usage_get(src, &u, &bytes, err, sizeof(err));
        if (r == 0)
            found++;
        else if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", err);
    }
    if (tried > 0 && found == 0)
        printf("WARNING: quota_usage maildir:%s: none of the %u users tried has the file "
               "(%s): a wrong template, homes this process cannot see, or no mail yet; the "
               "policy daemon counts a missing file as usage 0\n",
               cfg->quota_usage.template, tried, first);
    userrec_free(&rec);
    cdbmap_close(m);
    usage_free(src);
}

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
    check_usage_files(cfg);
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

    status_path(cfg->maps_dir, path, sizeof(path));
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
    /* with an ADDRESS, no configuration needed (a monitoring host) */
    if (strcmp(cmd, "policy-ask") == 0 && nargs == 3) {
        struct conf_listen l;
        return listen_arg(args[2], &l) < 0 ? EXIT_ERROR : cmd_policy_ask(&l, args[1]);
    }

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
    else if (strcmp(cmd, "policy-ask") == 0 && nargs == 2)
        rc = cmd_policy_ask(&cfg.policy_listen[0], args[1]);
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
