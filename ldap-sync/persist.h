#ifndef MAILMAPS_PERSIST_H
#define MAILMAPS_PERSIST_H

/* sync_mode = persist: follow the directory with an RFC 4533
 * refreshAndPersist session, apply changes within seconds (bursts batched),
 * resume from the saved cookie after a restart, and start over with a full
 * refresh every sync_interval, on SIGHUP, and whenever the server cannot
 * resume. */

#include <signal.h>
#include <stdbool.h>

#include "maps/conf.h"

/* persist_run - until *stop; returns the exit status (0 on a clean stop) */
int persist_run(const struct conf *cfg, bool force, volatile sig_atomic_t *stop,
                volatile sig_atomic_t *resync);

#endif
