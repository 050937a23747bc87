#ifndef MAILMAPS_LOG_H
#define MAILMAPS_LOG_H

/* Logging for the daemons and tools (the library itself never logs):
 * syslog facility mail when running as a daemon, stderr in the foreground.
 * log_warn appends strerror(errno) like OpenSMTPD's; log_warnx does not. */

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* log_init - ident for syslog; to_stderr = foreground; verbose shows debug */
void log_init(const char *ident, bool to_stderr, bool verbose);

__attribute__((format(printf, 2, 3)))
void log_msg(enum log_level level, const char *fmt, ...);

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* log_warn - warning with ": strerror(errno)" appended */
__attribute__((format(printf, 1, 2)))
void log_warn(const char *fmt, ...);

#endif
