#ifndef MAILMAPS_POLICYD_H
#define MAILMAPS_POLICYD_H

/* What every part of mailmaps-policyd shares: the configuration in force,
 * the lookup handle (maps + LDAP fallback), the usage source, and the
 * rate limits of the log lines that clients or outages can trigger. A
 * SIGHUP replaces cfg, lk and usage together. */

#include <stdbool.h>
#include <stddef.h>

#include "maps/conf.h"
#include "maps/lookup.h"
#include "maps/policy.h"
#include "maps/usage.h"
#include "policyd/ratelog.h"

struct policyd {
    struct conf *cfg;
    struct lookup *lk;
    struct usage_source *usage;
    struct ratelog rl_client;   /* bad input, dropped connections */
    struct ratelog rl_error;    /* data that cannot be had */
};

/* policyd_answer - decide one request, log a rejection (one line) or an
 * error (rate limited), and write "action=...\n\n" into buf (at least
 * POLICY_REPLY_MAX bytes). Returns the length. */
size_t policyd_answer(struct policyd *pd, const struct policy_request *req, char *buf,
                      size_t bufsz);

/* policyd_usage_new - the usage source quota_usage names */
struct usage_source *policyd_usage_new(const struct conf *cfg, char *err, size_t errsz);

#endif
