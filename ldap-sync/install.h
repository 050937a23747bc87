#ifndef MAILMAPS_INSTALL_H
#define MAILMAPS_INSTALL_H

/* Installing a build: the one way maps get into maps_dir, for the full
 * sync and for persist mode alike. Emits the build into four map writers,
 * applies max_shrink against the installed maps, commits all four files
 * (all or none) and then writes the status file. */

#include <stdbool.h>

#include "ldap-sync/fullsync.h"
#include "maps/conf.h"
#include "maps/mapbuild.h"

/* install_maps - 0 installed (rep's counts, generation filled), or a
 * sync_result with rep->error set; the old maps are untouched then.
 * started is monotime_now at the start of the sync (for duration_ms). */
enum sync_result install_maps(const struct conf *cfg, struct mapbuild *mb, bool force,
                              const struct timespec *started, struct sync_report *rep);

/* install_shrink_refused - true (the reason in err) when max_shrink
 * refuses rep->users against rep->old_users, or rep->passwords against
 * rep->old_passwords; force is the caller's to apply. */
bool install_shrink_refused(const struct conf *cfg, const struct sync_report *rep, char *err,
                            size_t errsz);

/* install_installed_counts - rep->old_users and rep->old_passwords from
 * the maps in maps_dir (status, else users.cdb; 0 when none), read
 * without the install lock: for reports, not for decisions. */
void install_installed_counts(const struct conf *cfg, struct sync_report *rep);

/* install_confirm - the installed maps of GENERATION are still current
 * (persist mode, its search alive and nothing pending): stamp synced_at in
 * the status with now, so that they do not turn stale in a quiet hour.
 * 0 done; -1 with err set (another process installed since, or the status
 * cannot be read or written). */
int install_confirm(const struct conf *cfg, unsigned long long generation, char *err,
                    size_t errsz);
/* install_record_failure - note a failed sync in the status file
 * (last_failure, last_failure_at), keeping everything else; only when a
 * status file exists. */
void install_record_failure(const struct conf *cfg, const char *reason);

#endif
