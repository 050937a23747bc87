/* policy - the Postfix policy protocol and the per-recipient quota decision */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "maps/policy.h"
#include "maps/userrec.h"

static const char *const attr_name[POLICY_A_COUNT] = {
    [POLICY_A_REQUEST] = "request",
    [POLICY_A_PROTOCOL_STATE] = "protocol_state",
    [POLICY_A_RECIPIENT] = "recipient",
    [POLICY_A_SIZE] = "size",
    [POLICY_A_INSTANCE] = "instance",
    [POLICY_A_QUEUE_ID] = "queue_id",
    [POLICY_A_SENDER] = "sender",
    [POLICY_A_CLIENT_ADDRESS] = "client_address",
};

/* policy_request_reset - forget the previous request */
void policy_request_reset(struct policy_request *req)
{
    for (size_t i = 0; i < POLICY_A_COUNT; i++) {
        req->value[i][0] = '\0';
        req->seen[i] = false;
        req->too_long[i] = false;
    }
    req->attrs = 0;
}

/* line_add - one "name=value" line; keeps the attributes we know */
static int line_add(struct policy_request *req, const char *line, size_t len, const char **why)
{
    const char *eq = memchr(line, '=', len);

    if (eq == NULL) {
        *why = "line without '='";
        return -1;
    }
    if (eq == line) {
        *why = "attribute without a name";
        return -1;
    }
    if (++req->attrs > POLICY_ATTRS_MAX) {
        *why = "too many attributes";
        return -1;
    }
    size_t nlen = (size_t)(eq - line), vlen = len - nlen - 1;
    for (size_t i = 0; i < POLICY_A_COUNT; i++) {
        if (strlen(attr_name[i]) != nlen || memcmp(attr_name[i], line, nlen) != 0)
            continue;
        /* the first value wins: Postfix never repeats a name */
        if (req->seen[i])
            return 0;
        req->seen[i] = true;
        if (vlen >= POLICY_VALUE_MAX) {
            req->too_long[i] = true;
            return 0;
        }
        memcpy(req->value[i], eq + 1, vlen);
        req->value[i][vlen] = '\0';
        return 0;
    }
    return 0;
}

/* policy_request_feed - split complete lines off data */
int policy_request_feed(struct policy_request *req, const char *data, size_t len,
                        size_t *used_r, const char **why)
{
    size_t pos = 0;

    *used_r = 0;
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (nl == NULL) {
            /* An incomplete line may end in the CR of its CRLF: not content. */
            size_t partial = len - pos;
            if (partial > 0 && line[partial - 1] == '\r')
                partial--;
            if (partial > POLICY_LINE_MAX) {
                *why = "line too long";
                return -1;
            }
            return 0;
        }
        size_t llen = (size_t)(nl - line);
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        if (llen > POLICY_LINE_MAX) {
            *why = "line too long";
            return -1;
        }
        if (memchr(line, '\0', llen) != NULL) {
            *why = "NUL byte in request";
            return -1;
        }
        pos = (size_t)(nl - data) + 1;
        *used_r = pos;
        if (llen == 0)
            return 1;
        if (line_add(req, line, llen, why) < 0)
            return -1;
    }
    return 0;
}

/* policy_request_get - a kept value, "" when absent or too long */
const char *policy_request_get(const struct policy_request *req, enum policy_attr a)
{
    if ((unsigned)a >= POLICY_A_COUNT || !req->seen[a] || req->too_long[a])
        return "";
    return req->value[a];
}

/* Resolution of one recipient to its mailboxes: only "none", "exactly
 * one" and "more than one" matter, so the walk stops at the second. */
struct resolve {
    struct lookup *lk;
    struct policy_limits lim;
    bool pending;                 /* lim.no_wait and a lookup would wait */
    bool ldap_asked, ldap_failed;
    const char *delims;
    char visited[POLICY_ALIAS_NODES][ADDRESS_MAX + 1];
    size_t nvisited;
    size_t dests;                 /* distinct destinations found */
    bool error;
    bool member_error;            /* a member could not be looked up */
    char reason[1024];
    bool have_mailbox;            /* dests == 1 and it is a local mailbox */
    struct address mailbox;
    char ext[ADDRESS_MAX + 1];    /* the extension that reaches it */
    struct userrec *rec;
};

static void visit(struct resolve *rs, const struct address *a, const char *ext, unsigned depth);

/* visited_add - false when addr was seen already (loops, duplicates) */
static bool visited_add(struct resolve *rs, const char *addr)
{
    for (size_t i = 0; i < rs->nvisited; i++) {
        if (strcmp(rs->visited[i], addr) == 0)
            return false;
    }
    if (rs->nvisited == POLICY_ALIAS_NODES) {
        rs->dests = 2; /* a list this large fans out anyway */
        return false;
    }
    snprintf(rs->visited[rs->nvisited++], ADDRESS_MAX + 1, "%s", addr);
    return true;
}

/* expand - every member of an alias value (copied: lookups reuse buffers) */
static void expand(struct resolve *rs, const char *val, size_t len, const char *ext,
                   unsigned depth)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        rs->error = true;
        snprintf(rs->reason, sizeof(rs->reason), "out of memory");
        return;
    }
    memcpy(copy, val, len);
    copy[len] = '\0';
    for (char *p = copy; *p != '\0' && rs->dests < 2 && !rs->error && !rs->pending;) {
        size_t n = strcspn(p, ",");
        char *end = p + n, *s = p, *e = end;
        p = *end != '\0' ? end + 1 : end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e)
            continue;
        struct address m;
        const char *why;
        if (address_parse(s, (size_t)(e - s), rs->delims, &m, &why) < 0) {
            rs->dests++; /* some destination we cannot check */
            continue;
        }
        visit(rs, &m, m.has_extension ? m.extension : ext, depth + 1);
    }
    free(copy);
}

/* ask_maps - the maps alone, within rs->lim: 1, 0 or -1 (error, or
 * pending when a lookup would have to wait for LDAP). Fresh maps that hold
 * the key answer, as in lookup_key; without LDAP any map that holds it. */
static int ask_maps(struct resolve *rs, enum map_id map, const char *key, const char **val,
                    size_t *len)
{
    struct mapset *set = lookup_mapset(rs->lk);
    int in_map = mapset_lookup(set, map, key, strlen(key), val, len);

    if (in_map > 0 && mapset_fresh(set, time(NULL)))
        return 1;
    if (!rs->lim.ldap_down) {
        rs->pending = true;
        return -1;
    }
    if (in_map > 0)
        return 1;
    rs->error = true;
    rs->ldap_failed = true;
    if (in_map < 0)
        snprintf(rs->reason, sizeof(rs->reason), "%s lookup of %s: %s", map_name(map), key,
                 mapset_map(set, map)->error);
    else
        snprintf(rs->reason, sizeof(rs->reason),
                 "%s lookup of %s: not in the maps, LDAP unreachable (not retried yet)",
                 map_name(map), key);
    return -1;
}

/* ask - lookup_key with the error folded into rs: 1, 0 or -1 */
static int ask(struct resolve *rs, enum map_id map, const char *key, const char **val,
               size_t *len)
{
    char err[300];
    enum lookup_source src = LOOKUP_FROM_MAP;

    if (rs->lim.no_wait || rs->lim.ldap_down)
        return ask_maps(rs, map, key, val, len);
    enum lookup_result r = lookup_key(rs->lk, map, key, strlen(key), val, len, &src, err,
                                      sizeof(err));
    /* past the fresh maps means LDAP was asked; a stale answer means it failed */
    rs->ldap_asked |= r == LOOKUP_TEMPFAIL || src != LOOKUP_FROM_MAP;
    rs->ldap_failed |= r == LOOKUP_TEMPFAIL || src == LOOKUP_FROM_STALE_MAP;
    if (r == LOOKUP_TEMPFAIL) {
        rs->error = true;
        snprintf(rs->reason, sizeof(rs->reason), "%s lookup of %s: %s", map_name(map), key, err);
        return -1;
    }
    return r == LOOKUP_FOUND ? 1 : 0;
}

/* visit - one address: a mailbox, an alias to follow, or something else */
static void visit(struct resolve *rs, const struct address *a, const char *ext, unsigned depth)
{
    const char *val, *mv;
    size_t len, ml;

    if (rs->dests >= 2 || rs->error || rs->pending || !visited_add(rs, a->full))
        return;
    /* A domain that is not ours holds no mailbox: no LDAP query for it
     * (relay attempts, external list members). */
    if (lookup_key(rs->lk, MAP_DOMAINS, a->domain, strlen(a->domain), &val, &len, NULL,
                   rs->reason, sizeof(rs->reason)) == LOOKUP_NOTFOUND) {
        if (depth > 0)
            rs->dests++;
        rs->have_mailbox = rs->have_mailbox && rs->dests == 1;
        return;
    }
    rs->reason[0] = '\0';
    /* Aliases and mailboxes never share an address, and a key the fresh
     * maps lack goes to LDAP: ask first the map that holds it, so neither
     * kind of recipient costs an LDAP query. */
    bool alias_first = mapset_lookup(lookup_mapset(rs->lk), MAP_ALIASES, a->full,
                                     strlen(a->full), &mv, &ml) > 0;
    for (int step = 0; step < 2; step++) {
        enum map_id map = (step == 0) == alias_first ? MAP_ALIASES : MAP_USERS;
        int r = ask(rs, map, a->full, &val, &len);
        if (rs->pending)
            return;
        if (r < 0 && depth > 0) {
            /* a member we cannot look up is still one destination: a
             * fan-out stays a fan-out; a single one is an error below */
            rs->error = false;
            rs->member_error = true;
            rs->dests++;
            rs->have_mailbox = false;
            return;
        }
        if (r < 0)
            return;
        if (r == 0)
            continue;
        if (map == MAP_ALIASES) {
            if (depth >= POLICY_ALIAS_DEPTH) {
                rs->dests = 2; /* too deep to tell: treat as a fan-out */
                return;
            }
            expand(rs, val, len, ext, depth);
            return;
        }
        if (++rs->dests == 1) {
            char err[256];
            if (userrec_decode(rs->rec, val, len, err, sizeof(err)) < 0) {
                rs->error = true;
                snprintf(rs->reason, sizeof(rs->reason), "users record of %s: %s", a->full, err);
                return;
            }
            rs->have_mailbox = true;
            rs->mailbox = *a;
            snprintf(rs->ext, sizeof(rs->ext), "%s", ext);
        } else {
            rs->have_mailbox = false;
        }
        return;
    }
    /* neither: the recipient itself is unknown (Postfix rejects it), a
     * member elsewhere is a destination we do not check */
    if (depth > 0)
        rs->dests++;
    if (rs->dests != 1)
        rs->have_mailbox = false;
}

/* size_parse - Postfix's size=; missing or unreadable counts as unknown (0) */
static uint64_t size_parse(const char *s)
{
    uint64_t n = 0;
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
            return UINT64_MAX;
    }
    return n;
}

/* grace_of - quota_grace in bytes: a share of the base ("*") limit, or absolute */
static uint64_t grace_of(const struct conf *cfg, const struct quota_rules *rules)
{
    const struct quota_rule *base = quota_rules_find(rules, "*");
    uint64_t b = 0, g;

    if (!cfg->quota_grace.percent)
        return cfg->quota_grace.value;
    if (base != NULL && base->has_storage && base->storage.kind == QUOTA_ABSOLUTE &&
        base->storage.value > 0)
        b = (uint64_t)base->storage.value;
    if (__builtin_mul_overflow(b / 100, cfg->quota_grace.value, &g))
        return UINT64_MAX;
    return g + (b % 100) * cfg->quota_grace.value / 100;
}

/* on_error - policy_on_error's answer, with the reason kept for the log */
static void on_error(const struct conf *cfg, struct policy_decision *d)
{
    d->error = true;
    if (cfg->policy_on_error == POLICY_ON_ERROR_DEFER) {
        d->verdict = POLICY_DEFER;
        snprintf(d->action, sizeof(d->action),
                 "DEFER_IF_PERMIT Quota information temporarily unavailable");
    }
}

/* dunno - the default answer, with a reason for debug logs */
static void dunno(struct policy_decision *d, const char *reason)
{
    d->verdict = POLICY_DUNNO;
    snprintf(d->action, sizeof(d->action), "DUNNO");
    snprintf(d->reason, sizeof(d->reason), "%s", reason);
}

/* usage_of - the mailbox's usage within lim: 0, -1 with a reason in d
 * (already answered), 1 pending */
static int usage_of(struct usage_source *usage, const struct usage_user *u,
                    const struct policy_limits *lim, struct policy_decision *d)
{
    char err[300];
    bool waits = usage_waits(usage);

    if (waits && lim->no_wait && !lim->usage_down)
        return 1;
    if (waits && lim->usage_down) {
        d->usage_failed = true;
        snprintf(d->reason, sizeof(d->reason), "%s unreachable (not retried yet)",
                 usage_name(usage));
        return -1;
    }
    d->usage_asked = waits;
    int r = usage_get(usage, u, &d->usage, err, sizeof(err));
    if (r < 0) {
        d->usage_failed = waits;
        snprintf(d->reason, sizeof(d->reason), "%s", err);
        return -1;
    }
    if (r > 0) {
        d->usage_missing = true;
        snprintf(d->usage_note, sizeof(d->usage_note), "%s", err);
    }
    return 0;
}

/* policy_decide - no limits */
void policy_decide(const struct policy_request *req, const struct conf *cfg,
                   struct lookup *lk, struct usage_source *usage,
                   struct policy_decision *d)
{
    policy_decide_within(req, cfg, lk, usage, NULL, d);
}

/* request_recipient - the recipient of a request this policy answers,
 * into addr; false (answered DUNNO, with the reason) for any other */
static bool request_recipient(const struct policy_request *req, const struct conf *cfg,
                              struct address *addr, struct policy_decision *d)
{
    const char *state = policy_request_get(req, POLICY_A_PROTOCOL_STATE);
    const char *rcpt = policy_request_get(req, POLICY_A_RECIPIENT);
    const char *why;

    if (strcmp(policy_request_get(req, POLICY_A_REQUEST), "smtpd_access_policy") != 0) {
        dunno(d, "not an smtpd_access_policy request");
        return false;
    }
    if (strcasecmp(state, "RCPT") != 0 && strcasecmp(state, "END-OF-MESSAGE") != 0) {
        dunno(d, "not at RCPT or END-OF-MESSAGE");
        return false;
    }
    if (rcpt[0] == '\0') {
        dunno(d, req->too_long[POLICY_A_RECIPIENT] ? "recipient too long" : "no recipient");
        return false;
    }
    if (address_parse(rcpt, strlen(rcpt), cfg->recipient_delimiter, addr, &why) < 0) {
        dunno(d, why);
        return false;
    }
    return true;
}

/* one_mailbox - what visit found: true when it is one local mailbox (its
 * quota to check), else false with d answered or pending */
static bool one_mailbox(const struct conf *cfg, const struct resolve *rs,
                        struct policy_decision *d)
{
    d->ldap_asked = rs->ldap_asked;
    d->ldap_failed = rs->ldap_failed;
    if (rs->pending) {
        d->pending = d->pending_ldap = true;
        return false;
    }
    if (rs->error || (rs->member_error && rs->dests == 1)) {
        snprintf(d->reason, sizeof(d->reason), "%s", rs->reason);
        on_error(cfg, d);
        return false;
    }
    if (rs->dests == 0) {
        dunno(d, "unknown recipient");
        return false;
    }
    if (!rs->have_mailbox || rs->dests != 1) {
        dunno(d, "recipient fans out to several destinations");
        return false;
    }
    snprintf(d->mailbox, sizeof(d->mailbox), "%s", rs->mailbox.full);
    return true;
}

/* folder_limit - the storage limit and grace of the folder ext names (or
 * of the mailbox) from its users.cdb record: true when there is one to
 * check, else false with d answered */
static bool folder_limit(const struct conf *cfg, const struct userrec *rec, const char *ext,
                         struct policy_decision *d)
{
    const struct quota_rule *fr = NULL;
    struct quota_rules rules;
    char err[300];

    if (quota_rules_of_record(rec, &rules, err, sizeof(err)) < 0) {
        snprintf(d->reason, sizeof(d->reason), "%s: %s", d->mailbox, err);
        on_error(cfg, d);
        return false;
    }
    if (ext[0] != '\0' && strcmp(ext, "*") != 0)
        fr = quota_rules_find(&rules, ext);
    if (fr != NULL)
        snprintf(d->folder, sizeof(d->folder), "%s", fr->folder);
    if (quota_storage_limit(&rules, fr != NULL ? fr->folder : NULL, &d->limit) == 0) {
        d->limit = 0;
        dunno(d, "no limit");
        return false;
    }
    d->grace = grace_of(cfg, &rules);
    return true;
}

/* usage_verdict - the mailbox's usage against its limit: DUNNO within it,
 * the overquota_reply beyond, or pending, or policy_on_error's answer */
static void usage_verdict(const struct conf *cfg, struct usage_source *usage,
                          const struct policy_limits *lim, const struct resolve *rs,
                          const struct userrec *rec, struct policy_decision *d)
{
    const char *home = userrec_get(rec, "home");
    struct usage_user u = {
        .user = rs->mailbox.full,
        .local = rs->mailbox.local,
        .domain = rs->mailbox.domain,
        .home = home != NULL ? home : "",
    };
    int ur = usage_of(usage, &u, lim, d);

    if (ur > 0) {
        d->pending = true;
        return;
    }
    if (ur < 0) {
        on_error(cfg, d);
        return;
    }
    d->checked = true;
    /* size 0 (unknown at RCPT) still needs room for one byte: a mailbox at
     * its limit takes nothing more, as Dovecot's quota-status decides */
    if (quota_accept(d->usage, d->size > 0 ? d->size : 1, d->limit, d->grace)) {
        dunno(d, "within quota");
        return;
    }
    d->verdict = POLICY_REJECT;
    snprintf(d->action, sizeof(d->action), "%s", cfg->overquota_reply);
    snprintf(d->reason, sizeof(d->reason), "over quota");
}

/* policy_decide_within - resolve, find the folder's limit, compare with usage */
void policy_decide_within(const struct policy_request *req, const struct conf *cfg,
                          struct lookup *lk, struct usage_source *usage,
                          const struct policy_limits *lim, struct policy_decision *d)
{
    static const struct policy_limits none;
    struct address addr;
    struct resolve *rs;
    struct userrec rec;

    memset(d, 0, sizeof(*d));
    if (lim == NULL)
        lim = &none;
    dunno(d, "");
    snprintf(d->folder, sizeof(d->folder), "INBOX");
    if (!request_recipient(req, cfg, &addr, d))
        return;
    d->size = size_parse(policy_request_get(req, POLICY_A_SIZE));
    if ((rs = calloc(1, sizeof(*rs))) == NULL) {
        snprintf(d->reason, sizeof(d->reason), "out of memory");
        on_error(cfg, d);
        return;
    }
    userrec_init(&rec);
    rs->lk = lk;
    rs->lim = *lim;
    rs->delims = cfg->recipient_delimiter;
    rs->rec = &rec;
    visit(rs, &addr, addr.extension, 0);
    if (one_mailbox(cfg, rs, d) && folder_limit(cfg, &rec, rs->ext, d))
        usage_verdict(cfg, usage, lim, rs, &rec, d);
    userrec_free(&rec);
    free(rs);
}

/* policy_reply_format - the answer on the wire */
int policy_reply_format(const struct policy_decision *d, char *buf, size_t bufsz)
{
    int n = snprintf(buf, bufsz, "action=%s\n\n", d->action);
    return n < 0 || (size_t)n >= bufsz ? -1 : n;
}
