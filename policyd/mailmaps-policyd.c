/* mailmaps-policyd - the Postfix quota policy server.
 *
 *   mailmaps-policyd [-c FILE] [-f] [-v] [-n] [--stdio]
 *
 * Answers Postfix's check_policy_service with DUNNO, or overquota_reply for
 * a recipient whose mailbox is over its quota for the target folder
 * (design.md "Quota policy"). -f stays in the foreground with logs on
 * stderr; -n only checks the configuration; --stdio serves one connection
 * on stdin/stdout (Postfix spawn(8)). SIGHUP reloads the configuration,
 * SIGTERM stops after answering what is in flight. */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "maps/conf.h"
#include "policyd/policyd.h"
#include "policyd/server.h"

static const char *conf_path = CONF_DEFAULT_PATH;

/* load - configuration, lookup handle and usage source, all or nothing */
static int load(struct conf **cfg_r, struct lookup **lk_r, struct usage_source **us_r)
{
    char err[CONF_ERRSZ];
    struct conf *cfg = calloc(1, sizeof(*cfg));

    *cfg_r = NULL;
    *lk_r = NULL;
    *us_r = NULL;
    if (cfg == NULL) {
        log_err("out of memory");
        return -1;
    }
    if (conf_load(cfg, conf_path, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto fail;
    }
    struct usage_source *us = policyd_usage_new(cfg, err, sizeof(err));
    if (us == NULL) {
        log_err("%s: quota_usage: %s", conf_path, err);
        goto fail;
    }
    struct lookup *lk = lookup_new(cfg, err, sizeof(err));
    if (lk == NULL) {
        log_err("%s", err);
        usage_free(us);
        goto fail;
    }
    *cfg_r = cfg;
    *lk_r = lk;
    *us_r = us;
    return 0;
fail:
    conf_free(cfg);
    free(cfg);
    return -1;
}

/* unload - in reverse: the lookup handle points into cfg */
static void unload(struct conf *cfg, struct lookup *lk, struct usage_source *us)
{
    lookup_free(lk);
    usage_free(us);
    if (cfg != NULL) {
        conf_free(cfg);
        free(cfg);
    }
}

/* reload - SIGHUP: swap in a new configuration only when it loads */
static int reload(struct policyd *pd)
{
    struct conf *cfg;
    struct lookup *lk;
    struct usage_source *us;

    if (load(&cfg, &lk, &us) < 0) {
        log_err("reload failed: the old configuration stays in force");
        return -1;
    }
    if (cfg->policy_listen_count != pd->cfg->policy_listen_count ||
        memcmp(cfg->policy_listen, pd->cfg->policy_listen, sizeof(cfg->policy_listen)) != 0)
        log_warnx("policy_listen changed: takes effect at the next restart");
    unload(pd->cfg, pd->lk, pd->usage);
    pd->cfg = cfg;
    pd->lk = lk;
    pd->usage = us;
    log_info("configuration reloaded from %s", conf_path);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: mailmaps-policyd [-c FILE] [-f] [-v] [-n] [--stdio]\n"
                 "  -c FILE   configuration (default %s)\n"
                 "  -f        foreground, log to stderr\n"
                 "  -v        verbose (debug) logging: one line per request\n"
                 "  -n        check the configuration and exit\n"
                 "  --stdio   serve one connection on stdin/stdout (Postfix spawn(8))\n",
            CONF_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "stdio", no_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },
        { "foreground", no_argument, NULL, 'f' }, { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    bool foreground = false, verbose = false, check_only = false, stdio = false;
    int c;

    while ((c = getopt_long(argc, argv, "c:fhnv", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': conf_path = optarg; break;
        case 'f': foreground = true; break;
        case 'v': verbose = true; break;
        case 'n': check_only = true; break;
        case 's': stdio = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    /* --stdio answers on stdout; logs still go to stderr with -f */
    log_init("mailmaps-policyd", foreground || check_only, verbose);

    struct policyd pd;
    memset(&pd, 0, sizeof(pd));
    if (load(&pd.cfg, &pd.lk, &pd.usage) < 0)
        return 1;
    if (check_only) {
        printf("%s: configuration ok\n", conf_path);
        unload(pd.cfg, pd.lk, pd.usage);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);

    int rc = stdio ? server_run_stdio(&pd) : server_run(&pd, reload);
    unload(pd.cfg, pd.lk, pd.usage);
    return rc;
}
