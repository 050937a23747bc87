/* answer - one request in, one action out, and the log line it deserves */

#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "maps/monotime.h"
#include "policyd/policyd.h"
#include "policyd/pool.h"
#include "policyd/stats.h"
#include "policyd/usage_redis.h"

/* policyd_usage_new - maildir: from the library, redis: ours */
struct usage_source *policyd_usage_new(const struct conf *cfg, char *err, size_t errsz)
{
    const struct conf_usage *u = &cfg->quota_usage;
    if (u->kind == CONF_USAGE_REDIS)
        return usage_redis_new(cfg, err, errsz);
    return usage_maildir_new(u->template, err, errsz);
}

/* or_dash - "-" for an empty value, as Postfix logs them */
static const char *or_dash(const char *s)
{
    return s[0] != '\0' ? s : "-";
}

/* policyd_reply - log the decision as it deserves, format the answer */
size_t policyd_reply(struct policyd *pd, const struct policy_request *req,
                     const struct policy_decision *d, const struct timespec *t0, char *buf,
                     size_t bufsz)
{
    unsigned suppressed;
    const char *rcpt = policy_request_get(req, POLICY_A_RECIPIENT);

    if (d->verdict == POLICY_REJECT) {
        log_notice("reject: recipient=<%s> mailbox=%s folder=%s usage=%llu limit=%llu "
                   "grace=%llu size=%llu instance=%s queue_id=%s client=%s",
                   rcpt, d->mailbox, d->folder, (unsigned long long)d->usage,
                   (unsigned long long)d->limit, (unsigned long long)d->grace,
                   (unsigned long long)d->size,
                   or_dash(policy_request_get(req, POLICY_A_INSTANCE)),
                   or_dash(policy_request_get(req, POLICY_A_QUEUE_ID)),
                   or_dash(policy_request_get(req, POLICY_A_CLIENT_ADDRESS)));
    } else if (d->error) {
        if (ratelog_allow(&pd->rl_error, time(NULL), &suppressed)) {
            if (suppressed > 0)
                log_warnx("%u similar warnings suppressed", suppressed);
            log_warnx("recipient=<%s>: %s; answered %s", rcpt, d->reason,
                      d->verdict == POLICY_DEFER ? "defer" : "DUNNO");
        }
    } else {
        log_debug("recipient=<%s> state=%s: %s (mailbox=%s folder=%s usage=%llu limit=%llu "
                  "size=%llu)", rcpt, policy_request_get(req, POLICY_A_PROTOCOL_STATE), d->reason,
                  or_dash(d->mailbox), d->folder, (unsigned long long)d->usage,
                  (unsigned long long)d->limit, (unsigned long long)d->size);
    }
    if (d->usage_missing && ratelog_allow(&pd->rl_missing, time(NULL), &suppressed)) {
        /* usage 0 turns the check off for that mailbox: a wrong
         * quota_usage template or homes hidden from the daemon
         * (ProtectHome=) do it for all of them without a word */
        if (suppressed > 0)
            log_warnx("%u similar warnings suppressed", suppressed);
        log_warnx("recipient=<%s>: no usage file, counted as 0 (no mail yet, a wrong "
                  "quota_usage template, or homes the daemon cannot see): %s", rcpt,
                  d->usage_note);
    }
    stats_count(pd, d, t0);
    int n = policy_reply_format(d, buf, bufsz);
    if (n < 0) {
        /* cannot happen with conf's bounds; never send a broken line */
        n = snprintf(buf, bufsz, "action=DUNNO\n\n");
    }
    return (size_t)n;
}

/* policyd_answer - decide without limits (may wait), log, format */
size_t policyd_answer(struct policyd *pd, const struct policy_request *req, char *buf,
                      size_t bufsz)
{
    struct policy_decision d;
    struct timespec t0;
    monotime_now(&t0);
    policy_decide(req, pd->cfg, pd->lk, pd->usage, &d);
    return policyd_reply(pd, req, &d, &t0, buf, bufsz);
}

/* policyd_answer_now - decide what needs no waiting, within the pool's
 * view of the outages */
int policyd_answer_now(struct policyd *pd, const struct policy_request *req, char *buf,
                       size_t bufsz, size_t *len_r, int *lane_r)
{
    struct policy_decision d;
    struct policy_limits lim = { .no_wait = true };
    struct timespec t0;

    monotime_now(&t0);
    pool_limits(pd->pool, &lim);
    policy_decide_within(req, pd->cfg, pd->lk, pd->usage, &lim, &d);
    if (d.pending) {
        *lane_r = d.pending_ldap ? POOL_LANE_LDAP : POOL_LANE_USAGE;
        return 1;
    }
    *len_r = policyd_reply(pd, req, &d, &t0, buf, bufsz);
    return 0;
}
