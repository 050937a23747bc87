#ifndef MAILMAPS_STARTUP_H
#define MAILMAPS_STARTUP_H

/* What mailmaps-sync and mailmaps-policyd both do before they serve: keep
 * the bind password out of core dumps, and say what the bind exposes
 * (maps/bindcheck.h) in the same words. */

#include <stdbool.h>

#include "maps/conf.h"

/* startup_no_core - no core dump and no ptrace by the same user from now
 * on (PR_SET_DUMPABLE 0, RLIMIT_CORE 0): the process holds the bind
 * password and, for the sync, every password hash. Inherited by forks. */
void startup_no_core(void);

/* startup_check_bind - warn (once, at start) about a bind that sends its
 * password in clear; with check_secret (-n) also read the password file:
 * -1 (logged) when it is missing, unreadable or open to others. */
int startup_check_bind(const struct conf *cfg, bool check_secret);

#endif
