/* log - syslog (facility mail) or stderr, one line per message */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "mailmaps";
static bool log_stderr = true;
static bool log_verbose;

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

/* log_init - choose the sink */
void log_init(const char *ident, bool to_stderr, bool verbose)
{
    log_ident = ident;
    log_stderr = to_stderr;
    log_verbose = verbose;
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
