#ifndef MAILMAPS_MAPCHECK_H
#define MAILMAPS_MAPCHECK_H

/* The consistency check behind `mailmaps check`: every map opens, every
 * users.cdb record decodes, users and mailboxes hold the same keys (but a
 * login by alias, alias_login: its user= account is a mailbox the key is
 * an alias of), every alias points at existing mailboxes (or, for an
 * alias domain's key, at an alias; a mailbox's own key forwards
 * anywhere), every domain in use is in domains.cdb, the status file's
 * counts and checksum match the files, and the accounts keep the rules of
 * design.md "Directory data is untrusted" (account_check on each; homes
 * and mailboxes unique; every domain a mailbox domain or one of
 * alias_domains, unless domain entries decide; no '..', '%' in a mail
 * field). */

#include <stddef.h>
#include <stdint.h>

#include "maps/conf.h"
#include "maps/sha256.h"

#define MAPCHECK_PROBLEMS_MAX 50

struct mapcheck_report {
    uint64_t users, aliases, domains;      /* keys counted in the files */
    char checksum[SHA256_HEX_SIZE];        /* recomputed over the files */
    char *problem[MAPCHECK_PROBLEMS_MAX];  /* owned; freed by _free */
    size_t problem_count;
    size_t problems_dropped;               /* beyond MAPCHECK_PROBLEMS_MAX */
};

/* mapcheck_run - 0 when everything agrees, -1 when problems were found
 * (listed in rep). rep must be freed with mapcheck_report_free. */
int mapcheck_run(const struct conf *cfg, struct mapcheck_report *rep);
void mapcheck_report_free(struct mapcheck_report *rep);

/* mapcheck_checksum - SHA-256 over the four maps' bytes in map_id order,
 * as the writer computes it. 0 or -1 with a reason. */
int mapcheck_checksum(const char *dir, char *hex, char *err, size_t errsz);

#endif
