/* mailmaps-sync - every mail account from LDAP into the CDB maps.
 *
 *   mailmaps-sync [-c FILE] [--once] [--force] [-f] [-v] [-n]
 *
 * --once syncs and exits: 0 done, 1 failed, 3 refused by max_shrink.
 * Without it: a daemon that syncs every sync_interval (poll) or follows the
 * directory with RFC 4533 refreshAndPersist (persist), syncs now on SIGHUP
 * and stops cleanly on SIGTERM. -f stays in the foreground with logs on
 * stderr (as systemd wants it too); -n only checks the configuration. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/startup.h"
#include "ldap-sync/daemon.h"
#include "ldap-sync/fullsync.h"
#include "ldap-sync/persist.h"
#include "maps/conf.h"
#include "maps/version.h"

static volatile sig_atomic_t stop_requested, sync_requested;

/* on_signal - remember what was asked; the loops act on it */
static void on_signal(int sig)
{
    if (sig == SIGHUP)
        sync_requested = 1;
    else
        stop_requested = 1;
}

/* signals_setup - handlers without SA_RESTART so waits wake up */
static void signals_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* report_outcome - one log line per sync, at the level it deserves */
static void report_outcome(enum sync_result r, const struct sync_report *rep, bool quiet_failure)
{
    switch (r) {
    case SYNC_DONE:
        log_info("sync done: %sgeneration %llu, %llu users, %llu aliases, %llu domains, "
                 "%llu entries (%llu skipped) from %s in %llu ms "
                 "(search %llu, build %llu, write %llu)",
                 rep->unchanged ? "maps unchanged, nothing installed, " : "",
                 (unsigned long long)rep->generation, (unsigned long long)rep->users,
                 (unsigned long long)rep->aliases, (unsigned long long)rep->domains,
                 (unsigned long long)rep->entries, (unsigned long long)rep->skipped,
                 rep->source, (unsigned long long)rep->duration_ms,
                 (unsigned long long)rep->search_ms, (unsigned long long)rep->build_ms,
                 (unsigned long long)rep->write_ms);
        break;
    case SYNC_REFUSED:
        if (!quiet_failure)
            log_err("sync refused, old maps kept: %s", rep->error);
        break;
    case SYNC_FAILED:
        if (!quiet_failure)
            log_err("sync failed, old maps kept: %s", rep->error);
        else
            log_debug("sync failed again: %s", rep->error);
        break;
    }
}

/* run_poll_daemon - full syncs every interval; failures back off */
static int run_poll_daemon(const struct conf *cfg, bool force)
{
    struct failure_log fl = { 0 };
    unsigned backoff = DAEMON_BACKOFF_FIRST;

    while (!stop_requested) {
        struct sync_report rep;
        sync_requested = 0;
        enum sync_result r = fullsync_run(cfg, force, &stop_requested, &rep);
        if (stop_requested)
            break;
        unsigned delay = cfg->sync_interval;
        if (r == SYNC_DONE) {
            if (failure_log_ok(&fl))
                log_notice("sync recovered");
            backoff = DAEMON_BACKOFF_FIRST;
            report_outcome(r, &rep, false);
        } else {
            report_outcome(r, &rep, !failure_log_failed(&fl, rep.error));
            delay = daemon_backoff(&backoff, cfg->sync_interval);
        }
        daemon_wait(delay, &stop_requested, &sync_requested);
    }
    log_info("stopping");
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: mailmaps-sync [-c FILE] [--once] [--force] [-f] [-v] [-n] [--dry-run]\n"
                 "  -c FILE   configuration (default %s)\n"
                 "  --once    sync once and exit: 0 done, 1 failed, 3 refused (max_shrink)\n"
                 "  --force   install even when max_shrink would refuse\n"
                 "  -f        foreground, log to stderr\n"
                 "  -v        verbose (debug) logging\n"
                 "  -n        check the configuration and exit\n"
                 "  --dry-run search the directory, list every entry and claim the rules\n"
                 "            drop (\"DN: reason\"), what an install would add and remove,\n"
                 "            whether max_shrink would refuse; install nothing; 0 done, 1 failed\n"

                 "  -V, --version  print the version and exit\n",
            CONF_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "once", no_argument, NULL, 'o' },   { "force", no_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },   { "version", no_argument, NULL, 'V' },
        { "foreground", no_argument, NULL, 'f' }, { "verbose", no_argument, NULL, 'v' },
        { "dry-run", no_argument, NULL, 'D' },    { NULL, 0, NULL, 0 },
    };
    const char *conf_path = CONF_DEFAULT_PATH;
    bool once = false, force = false, foreground = false, verbose = false, check_only = false,
         dry_run = false;
    int c;

    while ((c = getopt_long(argc, argv, "c:fhnvV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': conf_path = optarg; break;
        case 'o': once = true; break;
        case 'F': force = true; break;
        case 'f': foreground = true; break;
        case 'v': verbose = true; break;
        case 'n': check_only = true; break;
        case 'D': dry_run = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("mailmaps-sync %s\n", MAILMAPS_VERSION); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    /* --once is for cron and timers: its outcome belongs on stderr. */
    log_init("mailmaps-sync", foreground || once || check_only || dry_run, verbose);
    startup_no_core();

    struct conf cfg;
    char err[CONF_ERRSZ];
    if (conf_load(&cfg, conf_path, err, sizeof(err)) < 0) {
        log_err("%s", err);
        conf_free(&cfg);
        return 1;
    }
    if (startup_check_bind(&cfg, check_only) < 0) {
        conf_free(&cfg);
        return 1;
    }
    if (check_only) {
        printf("%s: configuration ok\n", conf_path);
        conf_free(&cfg);
        return 0;
    }
    if (dry_run) {
        struct sync_report rep;
        enum sync_result r = fullsync_dry_run(&cfg, stdout, &rep);
        if (r != SYNC_DONE)
            log_err("dry run: %s", rep.error);
        conf_free(&cfg);
        return r == SYNC_DONE ? 0 : 1;
    }
    signals_setup();
    umask(022);

    int rc;
    if (once) {
        struct sync_report rep;
        enum sync_result r = fullsync_run(&cfg, force, &stop_requested, &rep);
        report_outcome(r, &rep, false);
        rc = (int)r;
    } else if (cfg.sync_mode == SYNC_MODE_PERSIST) {
        log_info("starting: persist mode, full resync every %us", cfg.sync_interval);
        rc = persist_run(&cfg, force, &stop_requested, &sync_requested);
    } else {
        log_info("starting: poll mode, every %us", cfg.sync_interval);
        rc = run_poll_daemon(&cfg, force);
    }
    conf_free(&cfg);
    return rc;
}
