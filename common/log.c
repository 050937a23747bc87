/* log - syslog (facility mail) or stderr, one line per message */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "mailmaps";
static bool log_stderr = true;
static bool log_verbose;
/* stderr is systemd's journal: "<N>" before a line gives it its priority
 * (the facility comes from the unit's SyslogFacility=) */
static bool log_journal;

static const int syslog_prio[] = {
    [LOG_LEVEL_ERR] = LOG_ERR,         [LOG_LEVEL_WARNING] = LOG_WARNING,
    [LOG_LEVEL_NOTICE] = LOG_NOTICE,   [LOG_LEVEL_INFO] = LOG_INFO,
    [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};
static const char *const level_name[] = {
    [LOG_LEVEL_ERR] = "error",     [LOG_LEVEL_WARNING] = "warning",
    [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

/* stderr_is_journal - systemd sets JOURNAL_STREAM=DEV:INODE for a service
 * whose stderr is connected to the journal; a shell that inherited it and
 * redirected stderr elsewhere no longer matches */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* log_init - choose the sink */
void log_init(const char *ident, bool to_stderr, bool verbose)
{
    log_ident = ident;
    log_stderr = to_stderr;
    log_verbose = verbose;
    log_journal = to_stderr && stderr_is_journal();
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_vmsg - format once, send to the sink */
static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char buf[2048];

    if (level == LOG_LEVEL_DEBUG && !log_verbose)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* Values from LDAP or the network end up in messages: keep one line. */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (log_stderr) {
        if (log_journal)
            fprintf(stderr, "<%d>%s: %s\n", syslog_prio[level], level_name[level], buf);
        else
            fprintf(stderr, "%s: %s: %s\n", log_ident, level_name[level], buf);
        fflush(stderr);
    } else {
        syslog(syslog_prio[level], "%s: %s", level_name[level], buf);
    }
}

/* log_msg - one message at level */
void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

/* log_warn - warning with the current errno's text */
void log_warn(const char *fmt, ...)
{
    char buf[1536];
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_msg(LOG_LEVEL_WARNING, "%s: %s", buf, strerror(saved));
}
