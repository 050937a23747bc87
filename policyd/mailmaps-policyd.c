/* mailmaps-policyd - the Postfix quota policy server.
 *
 *   mailmaps-policyd [-c FILE] [-f] [-v] [-n] [--stdio]
 *
 * Answers Postfix's check_policy_service with DUNNO, or overquota_reply for
 * a recipient whose mailbox is over its quota for the target folder
 * (design.md "Quota policy"). -f stays in the foreground with logs on
 * stderr; -n only checks the configuration; --stdio serves one connection
 * on stdin/stdout (Postfix spawn(8)). SIGHUP reloads the configuration,
 * SIGTERM stops after answering what is in flight. With policy_workers > 1
 * a master forks that many copies of the same loop (workers.h). */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/startup.h"
#include "maps/conf.h"
#include "maps/version.h"
#include "policyd/policyd.h"
#include "policyd/server.h"
#include "policyd/stats.h"
#include "policyd/workers.h"

static const char *conf_path = CONF_DEFAULT_PATH;
static bool in_worker;          /* one of several: the master owns the sockets */

/* open_sources - lookup handle and usage source for cfg, both or neither */
static int open_sources(const struct conf *cfg, struct lookup **lk_r, struct usage_source **us_r)
{
    char err[CONF_ERRSZ];
    struct usage_source *us = policyd_usage_new(cfg, err, sizeof(err));
    if (us == NULL) {
        log_err("%s: quota_usage: %s", conf_path, err);
        return -1;
    }
    struct lookup *lk = lookup_new(cfg, err, sizeof(err));
    if (lk == NULL) {
        log_err("%s", err);
        usage_free(us);
        return -1;
    }
    *lk_r = lk;
    *us_r = us;
    return 0;
}

/* load - configuration, lookup handle and usage source, all or nothing */
static int load(struct conf **cfg_r, struct lookup **lk_r, struct usage_source **us_r)
{
    char err[CONF_ERRSZ];
    struct conf *cfg = calloc(1, sizeof(*cfg));
    struct lookup *lk;
    struct usage_source *us;

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
    if (open_sources(cfg, &lk, &us) < 0)
        goto fail;
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

/* warn_restart_only - what a reload cannot change, said once: by the
 * process that owns the sockets, not by every worker */
static void warn_restart_only(const struct conf *old, const struct conf *cfg)
{
    if (in_worker)
        return;
    if (cfg->policy_listen_count != old->policy_listen_count ||
        memcmp(cfg->policy_listen, old->policy_listen, sizeof(cfg->policy_listen)) != 0)
        log_warnx("policy_listen changed: takes effect at the next restart");
    if (cfg->policy_workers != old->policy_workers)
        log_warnx("policy_workers changed: takes effect at the next restart");
}

/* reload_load - SIGHUP: the file loaded again, or -1 (logged: the old
 * configuration stays in force) */
static int reload_load(const struct conf *old, struct conf **cfg, struct lookup **lk,
                       struct usage_source **us)
{
    if (load(cfg, lk, us) < 0) {
        log_err("reload failed: the old configuration stays in force");
        return -1;
    }
    warn_restart_only(old, *cfg);
    return 0;
}

/* reload - SIGHUP: swap in a new configuration only when it loads */
static int reload(struct policyd *pd)
{
    struct conf *cfg;
    struct lookup *lk;
    struct usage_source *us;

    if (reload_load(pd->cfg, &cfg, &lk, &us) < 0)
        return -1;
    unload(pd->cfg, pd->lk, pd->usage);
    pd->cfg = cfg;
    pd->lk = lk;
    pd->usage = us;
    log_info("configuration reloaded from %s", conf_path);
    return 0;
}

/* reload_master - SIGHUP in the master of several workers: load the file
 * as a worker will (so that a bad one reaches none), keep only the
 * configuration, for the workers started from now on */
static int reload_master(struct policyd *pd)
{
    struct conf *cfg;
    struct lookup *lk;
    struct usage_source *us;

    if (reload_load(pd->cfg, &cfg, &lk, &us) < 0)
        return -1;
    lookup_free(lk);
    usage_free(us);
    unload(pd->cfg, NULL, NULL);
    pd->cfg = cfg;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: mailmaps-policyd [-c FILE] [-f] [-v] [-n] [--stdio]\n"
                 "  -c FILE   configuration (default %s)\n"
                 "  -f        foreground, log to stderr\n"
                 "  -v        verbose (debug) logging: one line per request\n"
                 "  -n        check the configuration and exit\n"
                 "  -V, --version  print the version and exit\n"
                 "  --stdio   serve one connection on stdin/stdout (Postfix spawn(8))\n",
            CONF_DEFAULT_PATH);
}

/* The command line. */
struct opts {
    bool foreground, verbose, check_only, stdio;
};

/* parse_args - the options into o: 1 to go on, 0 to exit with *rc */
static int parse_args(int argc, char **argv, struct opts *o, int *rc)
{
    static const struct option longopts[] = {
        { "stdio", no_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },   { "version", no_argument, NULL, 'V' },
        { "foreground", no_argument, NULL, 'f' }, { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *rc = 0;
    while ((c = getopt_long(argc, argv, "c:fhnvV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': conf_path = optarg; break;
        case 'f': o->foreground = true; break;
        case 'v': o->verbose = true; break;
        case 'n': o->check_only = true; break;
        case 's': o->stdio = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("mailmaps-policyd %s\n", MAILMAPS_VERSION); return 0;
        default: usage(stderr); *rc = 1; return 0;
        }
    }
    if (optind != argc) {
        usage(stderr);
        *rc = 1;
        return 0;
    }
    return 1;
}

/* worker_open - in a worker: its own log ident, listeners and sources;
 * -1 (everything released) when one fails */
static int worker_open(struct policyd *pd, struct listeners *ls, const struct opts *o)
{
    /* on stderr, tell the workers apart (syslog adds the pid itself) */
    static char ident[64];

    snprintf(ident, sizeof(ident), "mailmaps-policyd[%d]", (int)getpid());
    if (o->foreground)
        log_init(ident, true, o->verbose);
    if (server_listen_own(pd->cfg, ls) < 0 || open_sources(pd->cfg, &pd->lk, &pd->usage) < 0) {
        server_unlisten(ls, false);
        stats_free(pd);
        unload(pd->cfg, NULL, NULL);
        return -1;
    }
    return 0;
}

/* serve - listen, then serve as one process or as the master of workers
 * (a new worker comes back from workers_run and serves on); the exit code */
static int serve(struct policyd *pd, const struct opts *o)
{
    /* from here on a signal waits for the loop's signalfd or the master */
    sigset_t set;
    server_block_signals(&set);

    struct listeners ls;
    if (server_listen(pd->cfg, &ls, pd->cfg->policy_workers > 1) < 0) {
        unload(pd->cfg, pd->lk, pd->usage);
        return 1;
    }
    /* before the workers: the slots are shared with them */
    if (stats_setup(pd, pd->cfg->policy_workers) < 0) {
        server_unlisten(&ls, true);
        unload(pd->cfg, pd->lk, pd->usage);
        return 1;
    }
    if (pd->cfg->policy_workers > 1) {
        int rc = workers_run(pd, &ls, reload_master, &in_worker);
        if (!in_worker) {
            stats_free(pd);
            unload(pd->cfg, pd->lk, pd->usage);
            return rc;
        }
        if (worker_open(pd, &ls, o) < 0)
            return 1;
    }
    int rc = server_run(pd, &ls, in_worker, reload);
    stats_free(pd);
    unload(pd->cfg, pd->lk, pd->usage);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = { 0 };
    struct policyd pd;
    int rc;

    if (!parse_args(argc, argv, &o, &rc))
        return rc;
    /* --stdio answers on stdout; logs still go to stderr with -f */
    log_init("mailmaps-policyd", o.foreground || o.check_only, o.verbose);
    startup_no_core();

    memset(&pd, 0, sizeof(pd));
    if (load(&pd.cfg, &pd.lk, &pd.usage) < 0)
        return 1;
    if (startup_check_bind(pd.cfg, o.check_only) < 0) {
        unload(pd.cfg, pd.lk, pd.usage);
        return 1;
    }
    if (o.check_only) {
        printf("%s: configuration ok\n", conf_path);
        unload(pd.cfg, pd.lk, pd.usage);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o.stdio) {
        rc = server_run_stdio(&pd);
        unload(pd.cfg, pd.lk, pd.usage);
        return rc;
    }
    return serve(&pd, &o);
}
