#ifndef MAILMAPS_POLICY_H
#define MAILMAPS_POLICY_H

/* The Postfix policy protocol (SMTPD_POLICY_README) and the quota decision.
 *
 * A request is "name=value" lines ended by a blank line; the answer is one
 * "action=..." line and a blank line. The parser is fed whatever arrived
 * on a connection and keeps only the attributes the decision needs, so a
 * connection costs a few kilobytes however much a client sends. Every
 * bound broken (line length, attribute count, a NUL byte, a line without
 * '=') is an error that costs the client its connection. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps/address.h"
#include "maps/conf.h"
#include "maps/lookup.h"
#include "maps/quota.h"
#include "maps/usage.h"

#define POLICY_LINE_MAX 2048     /* one line without its newline (Postfix's own cap) */
#define POLICY_ATTRS_MAX 100     /* attributes in one request (Postfix 3.7 sends ~40) */
#define POLICY_REPLY_MAX 512     /* "action=...\n\n" including both newlines */
#define POLICY_ALIAS_DEPTH 8     /* nested alias levels followed */
#define POLICY_ALIAS_NODES 64    /* addresses visited while resolving one recipient */

enum policy_attr {
    POLICY_A_REQUEST,
    POLICY_A_PROTOCOL_STATE,
    POLICY_A_RECIPIENT,
    POLICY_A_SIZE,
    POLICY_A_INSTANCE,
    POLICY_A_QUEUE_ID,
    POLICY_A_SENDER,
    POLICY_A_CLIENT_ADDRESS,
    POLICY_A_COUNT
};

#define POLICY_VALUE_MAX 512     /* longer values of kept attributes are marked too_long */

struct policy_request {
    char value[POLICY_A_COUNT][POLICY_VALUE_MAX];
    bool seen[POLICY_A_COUNT];
    bool too_long[POLICY_A_COUNT];
    size_t attrs;                /* attribute lines so far */
};

/* policy_request_reset - an empty request, ready for the next one */
void policy_request_reset(struct policy_request *req);

/* policy_request_feed - consume complete lines from data[0..len).
 * Returns 1 when a blank line ended a request (*used_r bytes consumed,
 * including that line); 0 when more input is needed (*used_r bytes of
 * complete lines consumed; the caller keeps the rest, a partial line, and
 * feeds it again with what follows); -1 on bad input with a static reason
 * in *why (line too long, too many attributes, NUL byte, no '=', empty
 * name). A CR before the newline is dropped (telnet). A blank line with no
 * attributes before it is an empty request (the caller answers DUNNO). */
int policy_request_feed(struct policy_request *req, const char *data, size_t len,
                        size_t *used_r, const char **why);

/* policy_request_get - the value of a kept attribute ("" when absent) */
const char *policy_request_get(const struct policy_request *req, enum policy_attr a);

enum policy_verdict {
    POLICY_DUNNO,     /* not ours to refuse */
    POLICY_REJECT,    /* over quota: action is overquota_reply */
    POLICY_DEFER,     /* data unavailable and policy_on_error = defer */
};

struct policy_decision {
    enum policy_verdict verdict;
    bool error;                          /* user data or usage unavailable */
    bool checked;                        /* a single mailbox was checked */
    char action[POLICY_REPLY_MAX];       /* "DUNNO", the reply, or a defer */
    char mailbox[ADDRESS_MAX + 1];       /* the mailbox checked, if any */
    char folder[QUOTA_FOLDER_MAX];       /* "INBOX" or the rule's folder */
    uint64_t usage, limit, grace, size;
    char reason[1024];                   /* why DUNNO/DEFER (debug and error logs) */
    /* with struct policy_limits: */
    bool pending;                        /* no_wait and an answer needs LDAP or a
                                          * usage source that waits: nothing decided */
    bool pending_ldap;                   /* pending for LDAP (else for usage only) */
    bool ldap_asked, ldap_failed;        /* a lookup went past the fresh maps; it
                                          * found LDAP unreachable (or was told so) */
    bool usage_asked, usage_failed;      /* a usage source that waits was asked; it failed */
    bool usage_missing;                  /* the source had no data: usage counted as 0 */
    char usage_note[512];                /* then where it looked, and why nothing */
};

/* How far a decision may go. An event loop decides with no_wait, so that
 * only the maps and a local usage source are read, and hands what is left
 * (pending) to a thread; after an outage it answers with ldap_down or
 * usage_down instead of asking again, for as long as it backs off. */
struct policy_limits {
    bool no_wait;        /* pending instead of an LDAP lookup or a usage source that waits */
    bool ldap_down;      /* no LDAP lookup: answer as lookup_key does when LDAP cannot
                          * be reached (maps that hold the key, stale or not; else an error) */
    bool usage_down;     /* a usage source that waits is not asked: usage unavailable */
};

/* policy_decide - the answer to one request: DUNNO unless the recipient
 * resolves to exactly one mailbox whose usage plus size would break its
 * limit (with quota_grace) for the target folder; then REJECT with
 * cfg->overquota_reply. User data or usage that cannot be had gives DUNNO
 * or DEFER per policy_on_error, with error set. Never fails. */
void policy_decide(const struct policy_request *req, const struct conf *cfg,
                   struct lookup *lk, struct usage_source *usage,
                   struct policy_decision *d);

/* policy_decide_within - policy_decide within lim (NULL: no limits). With
 * lim->no_wait, d->pending and nothing else when an answer would wait. */
void policy_decide_within(const struct policy_request *req, const struct conf *cfg,
                          struct lookup *lk, struct usage_source *usage,
                          const struct policy_limits *lim, struct policy_decision *d);

/* policy_reply_format - "action=...\n\n" for d into buf; the length, or -1
 * when it does not fit (callers size buf POLICY_REPLY_MAX) */
int policy_reply_format(const struct policy_decision *d, char *buf, size_t bufsz);

#endif
