/* test-policy - the policy protocol parser and the quota decision against
 * real maps, a fake usage source and an unreachable LDAP */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maps/mapwriter.h"
#include "maps/policy.h"
#include "maps/status.h"
#include "tests/unit/tap.h"
#include "tests/unit/offline.h"
#include "tests/unit/scratch.h"

#define GIB 1073741824ULL
#define MIB 1048576ULL

/* ---- parser ---- */

struct feed_case {
    const char *what;
    const char *data;
    size_t len;               /* 0 = strlen */
    int rc;
    size_t used;
    const char *recipient;    /* expected when rc == 1 */
};

static const struct feed_case feed_cases[] = {
    { "simple", "request=smtpd_access_policy\nrecipient=a@b.c\n\n", 0, 1, 45, "a@b.c" },
    { "CRLF", "recipient=a@b.c\r\n\r\n", 0, 1, 19, "a@b.c" },
    { "empty request", "\n", 0, 1, 1, "" },
    { "partial line", "recipient=a@b", 0, 0, 0, NULL },
    { "lines, no end", "recipient=a@b.c\nsize=1\n", 0, 0, 23, NULL },
    { "two requests: first only", "recipient=x@y.z\n\nrecipient=q@r.s\n\n", 0, 1, 17, "x@y.z" },
    { "first value wins", "recipient=a@b.c\nrecipient=d@e.f\n\n", 0, 1, 33, "a@b.c" },
    { "empty value", "recipient=\n\n", 0, 1, 12, "" },
    { "value with =", "recipient=a=b@c.d\n\n", 0, 1, 19, "a=b@c.d" },
    { "unknown attrs kept out", "ccert_subject=x\nfoo=bar\n\n", 0, 1, 25, "" },
    { "no =", "recipient\n\n", 0, -1, 0, NULL },
    { "empty name", "=x\n\n", 0, -1, 0, NULL },
    { "NUL byte", "recipient=a\0b\n\n", 15, -1, 0, NULL },
    { "binary junk", "\x01\x02\xff\xfe\n\n", 0, -1, 0, NULL },
};

static void test_feed(void)
{
    struct policy_request req;
    for (size_t i = 0; i < sizeof(feed_cases) / sizeof(feed_cases[0]); i++) {
        const struct feed_case *c = &feed_cases[i];
        size_t used = 99;
        const char *why = NULL;
        policy_request_reset(&req);
        int rc = policy_request_feed(&req, c->data, c->len ? c->len : strlen(c->data), &used, &why);
        is_int(rc, c->rc, "feed %s: rc", c->what);
        if (rc >= 0)
            is_int(used, c->used, "feed %s: used", c->what);
        else
            ok(why != NULL, "feed %s: says why (%s)", c->what, why ? why : "");
        if (rc == 1)
            is_str(policy_request_get(&req, POLICY_A_RECIPIENT), c->recipient, "feed %s: recipient",
                   c->what);
    }

    /* a line at the limit passes, one byte more fails, complete or not */
    size_t big = POLICY_LINE_MAX + 2;
    char *line = malloc(big + 2);
    memcpy(line, "x=", 2);
    memset(line + 2, 'a', big);
    size_t used;
    const char *why;
    line[POLICY_LINE_MAX] = '\n';
    policy_request_reset(&req);
    is_int(policy_request_feed(&req, line, POLICY_LINE_MAX + 1, &used, &why), 0, "line at the limit");
    is_int(used, POLICY_LINE_MAX + 1, "line at the limit consumed");
    memset(line + 2, 'a', big);
    line[POLICY_LINE_MAX + 1] = '\n';
    is_int(policy_request_feed(&req, line, POLICY_LINE_MAX + 2, &used, &why), -1, "line over the limit");
    is_int(policy_request_feed(&req, line, POLICY_LINE_MAX, &used, &why), 0, "partial line at the limit waits");
    is_int(policy_request_feed(&req, line, POLICY_LINE_MAX + 1, &used, &why), -1,
           "partial line over the limit fails");
    /* a kept value too long for its slot reads as absent */
    memcpy(line, "recipient=", 10);
    memset(line + 10, 'b', POLICY_VALUE_MAX);
    line[10 + POLICY_VALUE_MAX] = '\n';
    line[11 + POLICY_VALUE_MAX] = '\n';
    policy_request_reset(&req);
    is_int(policy_request_feed(&req, line, 12 + POLICY_VALUE_MAX, &used, &why), 1, "long value parses");
    is_str(policy_request_get(&req, POLICY_A_RECIPIENT), "", "long value reads as absent");
    ok(req.too_long[POLICY_A_RECIPIENT], "long value marked");
    free(line);

    /* attribute count */
    char many[8192];
    size_t n = 0;
    for (int k = 0; k < POLICY_ATTRS_MAX; k++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "a%d=1\n", k);
    policy_request_reset(&req);
    is_int(policy_request_feed(&req, many, n, &used, &why), 0, "attributes at the limit");
    is_int(policy_request_feed(&req, "b=1\n", 4, &used, &why), -1, "one attribute too many");
    policy_request_reset(&req);
    is_int(policy_request_feed(&req, "recipient=x\n", 12, &used, &why), 0, "reset clears the count");

    /* byte by byte: the same request whatever the split */
    const char *text = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=A@B.C\nsize=12\n\n";
    size_t tl = strlen(text), have = 0, off = 0;
    char acc[256];
    int rc = 0;
    policy_request_reset(&req);
    for (size_t k = 0; k < tl && rc == 0; k++) {
        acc[have++] = text[k];
        rc = policy_request_feed(&req, acc, have, &used, &why);
        memmove(acc, acc + used, have - used);
        have -= used;
        off += used;
    }
    is_int(rc, 1, "byte by byte: complete");
    is_int(off, tl, "byte by byte: all consumed");
    is_str(policy_request_get(&req, POLICY_A_SIZE), "12", "byte by byte: size");
    is_str(policy_request_get(&req, POLICY_A_PROTOCOL_STATE), "RCPT", "byte by byte: state");
}

/* ---- decision ---- */


#define BASE "home=/h/%s\tuid=5000\tgid=5000\tquota_rule=*:storage=%s"
#define FOLDERS "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B"

static const char *const users[][2] = {
    { "alice@example.com", "home=/h/alice\tquota_rule=*:storage=10737418240B" FOLDERS },
    { "full@example.com", "home=/h/full\tquota_rule=*:storage=10737418240B" FOLDERS },
    { "exact@example.com", "home=/h/exact\tquota_rule=*:storage=10737418240B" FOLDERS },
    { "nolimit@example.com", "home=/h/nolimit\tquota_rule=*:storage=0" FOLDERS },
    { "ign@example.com", "home=/h/ign\tquota_rule=*:storage=1G\tquota_rule2=Junk:ignore" },
    { "badrule@example.com", "home=/h/badrule\tquota_rule=nonsense" },
    { "norule@example.com", "home=/h/norule" },
    { "nousage@example.com", "home=/h/nousage\tquota_rule=*:storage=1G" },
    { "nohome@example.com", "uid=5000\tquota_rule=*:storage=1G" },
    { "badrec@example.com", "home=/h\\q" },
};

static const char *const aliases[][2] = {
    { "al@example.com", "alice@example.com" },
    { "alfull@example.com", "full@example.com" },
    { "fan@example.com", "full@example.com, alice@example.com" },
    { "fanext@example.com", "full@example.com,someone@elsewhere.org" },
    { "nest1@example.com", "nest2@example.com" },
    { "nest2@example.com", "nest3@example.com" },
    { "nest3@example.com", "full@example.com" },
    { "loop1@example.com", "loop2@example.com" },
    { "loop2@example.com", "loop1@example.com" },
    { "loopfull@example.com", "loopfull@example.com,full@example.com" },
    { "dup@example.com", "full@example.com,FULL@example.com, full@example.com" },
    { "extalias@example.com", "full+Trash@example.com" },
    { "badmember@example.com", "not an address" },
    { "empty@example.com", " , ," },
    { "lonely@example.com", "ghost@example.com" },
    { "fanunk@example.com", "full@example.com,ghost@example.com" },
    { "extonly@example.com", "someone@elsewhere.org" },
    { "d0@example.com", "d1@example.com" }, { "d1@example.com", "d2@example.com" },
    { "d2@example.com", "d3@example.com" }, { "d3@example.com", "d4@example.com" },
    { "d4@example.com", "d5@example.com" }, { "d5@example.com", "d6@example.com" },
    { "d6@example.com", "d7@example.com" }, { "d7@example.com", "d8@example.com" },
    { "d8@example.com", "d9@example.com" }, { "d9@example.com", "full@example.com" },
};

static void write_maps(time_t synced_at)
{
    struct mapwriter *w[MAP_COUNT];
    char path[256], err[256], sum[SHA256_HEX_SIZE];

    for (int i = 0; i < MAP_COUNT; i++) {
        mapset_path(dir, (enum map_id)i, path, sizeof(path));
        w[i] = mapwriter_new(path, 0644, (gid_t)-1);
    }
    mapwriter_add(w[MAP_DOMAINS], "example.com", 11, "OK", 2, err, sizeof(err));
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        mapwriter_add(w[MAP_USERS], users[i][0], strlen(users[i][0]), users[i][1],
                      strlen(users[i][1]), err, sizeof(err));
        mapwriter_add(w[MAP_MAILBOXES], users[i][0], strlen(users[i][0]), "x/", 2, err,
                      sizeof(err));
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        mapwriter_add(w[MAP_ALIASES], aliases[i][0], strlen(aliases[i][0]), aliases[i][1],
                      strlen(aliases[i][1]), err, sizeof(err));
    ok(mapwriter_commit(w, MAP_COUNT, sum, err, sizeof(err)) == 0, "maps written (%s)", err);
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    struct status st = { .generation = 1, .synced_at = synced_at, .users = 1 };
    snprintf(path, sizeof(path), "%s/status", dir);
    ok(status_write(path, &st, err, sizeof(err)) == 0, "status written");
}

/* a usage source from a table; records which user was asked */
struct fake_usage {
    struct usage_source src;
    char asked[400];
};

static int fake_get(struct usage_source *src, const struct usage_user *u, uint64_t *bytes_r,
                    char *err, size_t errsz)
{
    struct fake_usage *f = (struct fake_usage *)src;
    snprintf(f->asked, sizeof(f->asked), "%s %s %s %s", u->user, u->local, u->domain, u->home);
    if (strcmp(u->user, "full@example.com") == 0)
        *bytes_r = 10 * GIB + 1;
    else if (strcmp(u->user, "exact@example.com") == 0)
        *bytes_r = 10 * GIB;
    else if (strcmp(u->user, "alice@example.com") == 0)
        *bytes_r = 5 * GIB;
    else if (strcmp(u->user, "ign@example.com") == 0)
        *bytes_r = 2 * GIB;
    else if (strcmp(u->user, "nousage@example.com") == 0) {
        snprintf(err, errsz, "backend down");
        return -1;
    } else
        *bytes_r = 0;
    return 0;
}

static void fake_free(struct usage_source *src)
{
    (void)src;
}

static const struct usage_ops fake_ops = { .name = "fake", .get = fake_get, .free = fake_free };
/* the same answers from a source that says it waits (as Redis does) */
static const struct usage_ops fake_wait_ops = {
    .name = "fakewait", .waits = true, .get = fake_get, .free = fake_free,
};

struct decide_case {
    const char *state;
    const char *rcpt;
    const char *size;
    enum policy_verdict verdict;
    bool error;
    const char *folder;
    const char *mailbox;
};

static const struct decide_case decide_cases[] = {
    { "RCPT", "alice@example.com", "0", POLICY_DUNNO, false, "INBOX", "alice@example.com" },
    { "RCPT", "ALICE@Example.COM", "", POLICY_DUNNO, false, "INBOX", "alice@example.com" },
    { "RCPT", "full@example.com", "0", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "RCPT", "Full@EXAMPLE.com", "1000", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "END-OF-MESSAGE", "full@example.com", "1000", POLICY_REJECT, false, "INBOX", NULL },
    /* Junk and Trash have +500M: 10G+1 used, 1000 bytes fit */
    { "RCPT", "full+Junk@example.com", "1000", POLICY_DUNNO, false, "Junk", NULL },
    { "RCPT", "full+junk@example.com", "1000", POLICY_DUNNO, false, "Junk", NULL },
    { "RCPT", "full+trash@example.com", "2000000000", POLICY_REJECT, false, "Trash", NULL },
    /* grace: 10% of the base (1G); only while under the limit */
    { "RCPT", "full+Other@example.com", "1", POLICY_REJECT, false, "INBOX", NULL },
    { "RCPT", "exact@example.com", "0", POLICY_REJECT, false, "INBOX", NULL },
    { "RCPT", "alice@example.com", "5368709120", POLICY_DUNNO, false, "INBOX", NULL },
    { "RCPT", "alice@example.com", "6000000000", POLICY_DUNNO, false, "INBOX", NULL },
    { "RCPT", "alice@example.com", "6500000000", POLICY_REJECT, false, "INBOX", NULL },
    { "RCPT", "alice@example.com", "99999999999999999999999", POLICY_REJECT, false, "INBOX", NULL },
    { "RCPT", "alice@example.com", "12x", POLICY_DUNNO, false, "INBOX", NULL },
    { "RCPT", "nolimit@example.com", "99999999999", POLICY_DUNNO, false, "INBOX", NULL },
    { "RCPT", "ign+junk@example.com", "1", POLICY_DUNNO, false, "Junk", NULL },
    { "RCPT", "ign@example.com", "1", POLICY_REJECT, false, "INBOX", NULL },
    { "RCPT", "norule@example.com", "1", POLICY_DUNNO, false, "INBOX", NULL },
    /* aliases */
    { "RCPT", "al@example.com", "0", POLICY_DUNNO, false, "INBOX", "alice@example.com" },
    { "RCPT", "alfull@example.com", "0", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "RCPT", "alfull+junk@example.com", "10", POLICY_DUNNO, false, "Junk", "full@example.com" },
    { "RCPT", "fan@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "fanext@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "nest1@example.com", "0", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "RCPT", "loopfull@example.com", "0", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "RCPT", "dup@example.com", "0", POLICY_REJECT, false, "INBOX", "full@example.com" },
    { "RCPT", "extalias@example.com", "2000000000", POLICY_REJECT, false, "Trash", NULL },
    { "RCPT", "d0@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },       /* too deep */
    { "RCPT", "d3@example.com", "0", POLICY_REJECT, false, "INBOX", NULL },    /* within depth */
    { "RCPT", "badmember@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    /* loops and empty lists end up at unknown addresses: LDAP is down here */
    { "RCPT", "empty@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    /* data that cannot be had */
    { "RCPT", "nobody@example.com", "0", POLICY_DUNNO, true, "INBOX", "" },
    { "RCPT", "loop1@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "badrule@example.com", "0", POLICY_DUNNO, true, "INBOX", NULL },
    { "RCPT", "nousage@example.com", "0", POLICY_DUNNO, true, "INBOX", NULL },
    { "RCPT", "nohome@example.com", "0", POLICY_DUNNO, false, "INBOX", NULL },
    { "RCPT", "badrec@example.com", "0", POLICY_DUNNO, true, "INBOX", "" },
    { "RCPT", "lonely@example.com", "0", POLICY_DUNNO, true, "INBOX", "" },     /* member unknown, LDAP down */
    { "RCPT", "fanunk@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },    /* full + unknown member */
    { "RCPT", "full@elsewhere.org", "0", POLICY_DUNNO, false, "INBOX", "" },    /* not our domain: no LDAP */
    { "RCPT", "extonly@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },   /* one external member */
    /* not ours */
    { "MAIL", "full@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "DATA", "full@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "", "full@example.com", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "<>", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "full", "0", POLICY_DUNNO, false, "INBOX", "" },
    { "RCPT", "full@example.com\xff", "0", POLICY_DUNNO, false, "INBOX", "" },
};

static void test_decide(const struct conf *cfg, struct lookup *lk, struct fake_usage *fu)
{
    struct policy_request req;
    struct policy_decision d;

    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
        const struct decide_case *c = &decide_cases[i];
        char text[1024];
        size_t used;
        const char *why;
        snprintf(text, sizeof(text),
                 "request=smtpd_access_policy\nprotocol_state=%s\nrecipient=%s\nsize=%s\n"
                 "instance=1.2.3\nqueue_id=ABC\n\n", c->state, c->rcpt, c->size);
        policy_request_reset(&req);
        if (policy_request_feed(&req, text, strlen(text), &used, &why) != 1) {
            ok(0, "decide %zu: request parses", i);
            continue;
        }
        policy_decide(&req, cfg, lk, &fu->src, &d);
        is_int(d.verdict, c->verdict, "decide %s %s size=%s: verdict (%s)", c->state, c->rcpt,
               c->size, d.reason);
        is_int(d.error, c->error, "decide %s %s: error flag", c->state, c->rcpt);
        is_str(d.folder, c->folder, "decide %s %s: folder", c->state, c->rcpt);
        if (c->mailbox != NULL)
            is_str(d.mailbox, c->mailbox, "decide %s %s: mailbox", c->state, c->rcpt);
        if (c->verdict == POLICY_REJECT)
            is_str(d.action, cfg->overquota_reply, "decide %s: action", c->rcpt);
        else if (c->verdict == POLICY_DUNNO)
            is_str(d.action, "DUNNO", "decide %s: action", c->rcpt);
    }

    /* usage asked with the mailbox's own names */
    const char *text = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=al+x@example.com\n\n";
    size_t used;
    const char *why;
    policy_request_reset(&req);
    policy_request_feed(&req, text, strlen(text), &used, &why);
    policy_decide(&req, cfg, lk, &fu->src, &d);
    is_str(fu->asked, "alice@example.com alice example.com /h/alice", "usage asked for the mailbox");
    is_int(d.limit, 10 * GIB, "limit reported");
    is_int(d.usage, 5 * GIB, "usage reported");
    is_int(d.grace, GIB, "grace reported (10%% of 10G)");
    ok(d.checked, "checked");

    /* other requests */
    policy_request_reset(&req);
    text = "request=junk\nprotocol_state=RCPT\nrecipient=full@example.com\n\n";
    policy_request_feed(&req, text, strlen(text), &used, &why);
    policy_decide(&req, cfg, lk, &fu->src, &d);
    is_int(d.verdict, POLICY_DUNNO, "not smtpd_access_policy: DUNNO");
    policy_request_reset(&req);
    policy_request_feed(&req, "\n", 1, &used, &why);
    policy_decide(&req, cfg, lk, &fu->src, &d);
    is_int(d.verdict, POLICY_DUNNO, "empty request: DUNNO");

    char reply[POLICY_REPLY_MAX];
    int n = policy_reply_format(&d, reply, sizeof(reply));
    is_str(reply, "action=DUNNO\n\n", "reply format");
    is_int(n, 14, "reply length");
    ok(policy_reply_format(&d, reply, 5) == -1, "reply too small refused");
}

/* Decisions within policy_limits: what the event loop answers itself,
 * what it leaves pending (and for which lane), and what it answers during
 * an outage without asking. */
enum lim_want { W_DUNNO, W_REJECT, W_ERROR, W_PENDING_LDAP, W_PENDING_USAGE };

struct lim_case {
    bool no_wait, ldap_down, usage_down, waits;
    const char *rcpt;
    enum lim_want want;
    const char *reason;          /* a part of d.reason, or NULL */
};

static const struct lim_case lim_fresh[] = {
    /* no_wait, usage local: the maps answer, LDAP keys wait */
    { true, false, false, false, "alice@example.com", W_DUNNO, NULL },
    { true, false, false, false, "full@example.com", W_REJECT, NULL },
    { true, false, false, false, "alfull@example.com", W_REJECT, NULL },
    { true, false, false, false, "fan@example.com", W_DUNNO, NULL },
    { true, false, false, false, "full@elsewhere.org", W_DUNNO, NULL },
    { true, false, false, false, "nobody@example.com", W_PENDING_LDAP, NULL },
    { true, false, false, false, "lonely@example.com", W_PENDING_LDAP, NULL },
    { true, false, false, false, "fanunk@example.com", W_PENDING_LDAP, NULL },
    /* no_wait, usage that waits: only what needs usage is pending */
    { true, false, false, true, "full@example.com", W_PENDING_USAGE, NULL },
    { true, false, false, true, "nolimit@example.com", W_DUNNO, NULL },
    { true, false, false, true, "fan@example.com", W_DUNNO, NULL },
    { true, false, false, true, "nobody@example.com", W_PENDING_LDAP, NULL },
    /* outages: answered at once, without asking */
    { true, true, false, false, "nobody@example.com", W_ERROR, "LDAP unreachable" },
    { true, true, false, false, "full@example.com", W_REJECT, NULL },
    { true, true, false, false, "lonely@example.com", W_ERROR, "LDAP unreachable" },
    { true, false, true, true, "full@example.com", W_ERROR, "fakewait unreachable" },
    { true, false, true, true, "nobody@example.com", W_PENDING_LDAP, NULL },
    { false, true, true, true, "full@example.com", W_ERROR, "fakewait unreachable" },
    { false, false, true, false, "full@example.com", W_REJECT, NULL }, /* local usage: asked */
    /* no limits: LDAP (down here) is asked */
    { false, false, false, false, "nobody@example.com", W_ERROR, NULL },
    { false, false, false, true, "full@example.com", W_REJECT, NULL },
};

static const struct lim_case lim_stale[] = {
    /* stale maps: every key is for LDAP, unless LDAP is down */
    { true, false, false, false, "alice@example.com", W_PENDING_LDAP, NULL },
    { true, true, false, false, "alice@example.com", W_DUNNO, NULL },
    { true, true, false, false, "full@example.com", W_REJECT, NULL },
    { true, true, false, false, "nobody@example.com", W_ERROR, "LDAP unreachable" },
    { false, false, false, false, "full@example.com", W_REJECT, NULL }, /* stale fallback */
};

static void test_limits(const struct conf *cfg, struct lookup *lk, const struct lim_case *cases,
                        size_t n, const char *label)
{
    static const char *const names[] = { "DUNNO", "REJECT", "error", "pending LDAP",
                                         "pending usage" };
    struct fake_usage local = { .src = { .ops = &fake_ops } };
    struct fake_usage wait = { .src = { .ops = &fake_wait_ops } };

    for (size_t i = 0; i < n; i++) {
        const struct lim_case *c = &cases[i];
        struct policy_limits lim = {
            .no_wait = c->no_wait, .ldap_down = c->ldap_down, .usage_down = c->usage_down,
        };
        struct policy_request req;
        struct policy_decision d;
        char text[512];
        size_t used;
        const char *why;
        snprintf(text, sizeof(text), "request=smtpd_access_policy\nprotocol_state=RCPT\n"
                 "recipient=%s\nsize=1\n\n", c->rcpt);
        policy_request_reset(&req);
        policy_request_feed(&req, text, strlen(text), &used, &why);
        policy_decide_within(&req, cfg, lk, c->waits ? &wait.src : &local.src, &lim, &d);
        enum lim_want got = d.pending ? (d.pending_ldap ? W_PENDING_LDAP : W_PENDING_USAGE)
                            : d.error ? W_ERROR
                            : d.verdict == POLICY_REJECT ? W_REJECT : W_DUNNO;
        is_str(names[got], names[c->want], "%s: %s%s%s%s %s (%s)", label,
               c->no_wait ? "no_wait " : "", c->ldap_down ? "ldap_down " : "",
               c->usage_down ? "usage_down " : "", c->waits ? "waits" : "local", c->rcpt,
               d.reason);
        if (c->reason != NULL)
            ok(strstr(d.reason, c->reason) != NULL, "%s: %s: reason names %s", label, c->rcpt,
               c->reason);
        if (c->want == W_PENDING_LDAP || c->want == W_PENDING_USAGE)
            is_str(d.action, "DUNNO", "%s: %s: nothing decided yet", label, c->rcpt);
    }
}

/* the flags a thread reports to its breakers */
static void test_outage_flags(const struct conf *cfg, struct lookup *lk)
{
    struct fake_usage wait = { .src = { .ops = &fake_wait_ops } };
    struct policy_request req;
    struct policy_decision d;
    size_t used;
    const char *why;
    const char *t1 = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=nobody@example.com\n\n";
    policy_request_reset(&req);
    policy_request_feed(&req, t1, strlen(t1), &used, &why);
    policy_decide(&req, cfg, lk, &wait.src, &d);
    ok(d.ldap_asked && d.ldap_failed, "LDAP down, asked: ldap_asked and ldap_failed");
    ok(!d.usage_asked && !d.usage_failed, "LDAP down: usage not asked");
    const char *t2 = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=nousage@example.com\n\n";
    policy_request_reset(&req);
    policy_request_feed(&req, t2, strlen(t2), &used, &why);
    policy_decide(&req, cfg, lk, &wait.src, &d);
    ok(!d.ldap_asked, "fresh maps: LDAP not asked");
    ok(d.usage_asked && d.usage_failed && d.error, "usage that waits fails: usage_failed");
    const char *t3 = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=full@example.com\n\n";
    policy_request_reset(&req);
    policy_request_feed(&req, t3, strlen(t3), &used, &why);
    policy_decide(&req, cfg, lk, &wait.src, &d);
    ok(d.usage_asked && !d.usage_failed && d.verdict == POLICY_REJECT, "usage that waits answers");
}

int main(void)
{
    struct conf cfg;
    char err[512], text[1024];

    test_feed();

    if (!scratch_make("test-policy"))
        return tap_done();
    offline_conf(&cfg, dir, "600");
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    ok(lk != NULL, "lookup handle");
    write_maps(time(NULL));
    struct fake_usage fu = { .src = { .ops = &fake_ops } };

    test_decide(&cfg, lk, &fu);
    test_limits(&cfg, lk, lim_fresh, sizeof(lim_fresh) / sizeof(lim_fresh[0]), "fresh");
    test_outage_flags(&cfg, lk);
    write_maps(time(NULL) - 3600);
    test_limits(&cfg, lk, lim_stale, sizeof(lim_stale) / sizeof(lim_stale[0]), "stale");
    write_maps(time(NULL));

    /* policy_on_error = defer, and an absolute grace */
    struct conf cfg2;
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "ldap_timeout = 1\nmaps_dir = %s\npolicy_on_error = defer\nquota_grace = 0\n"
             "overquota_reply = 552 5.2.2 Over quota, sorry\n", dir);
    ok(conf_parse_buffer(&cfg2, "test2", text, strlen(text), err, sizeof(err)) == 0, "config 2 (%s)", err);
    struct lookup *lk2 = lookup_new(&cfg2, err, sizeof(err));
    static const struct { const char *rcpt, *size; enum policy_verdict v; } c2[] = {
        { "nobody@example.com", "0", POLICY_DEFER },
        { "nousage@example.com", "0", POLICY_DEFER },
        { "alice@example.com", "5368709120", POLICY_DUNNO },
        { "alice@example.com", "5368709121", POLICY_REJECT },   /* no grace */
        { "full@example.com", "0", POLICY_REJECT },
    };
    for (size_t i = 0; i < sizeof(c2) / sizeof(c2[0]); i++) {
        struct policy_request req;
        struct policy_decision d;
        size_t used;
        const char *why;
        snprintf(text, sizeof(text), "request=smtpd_access_policy\nprotocol_state=RCPT\n"
                 "recipient=%s\nsize=%s\n\n", c2[i].rcpt, c2[i].size);
        policy_request_reset(&req);
        policy_request_feed(&req, text, strlen(text), &used, &why);
        policy_decide(&req, &cfg2, lk2, &fu.src, &d);
        is_int(d.verdict, c2[i].v, "defer config: %s size=%s (%s)", c2[i].rcpt, c2[i].size, d.reason);
        if (d.verdict == POLICY_DEFER)
            ok(strncmp(d.action, "DEFER_IF_PERMIT ", 16) == 0, "defer action: %s", d.action);
        if (d.verdict == POLICY_REJECT)
            is_str(d.action, "552 5.2.2 Over quota, sorry", "configured reply");
    }
    lookup_free(lk2);
    conf_free(&cfg2);

    lookup_free(lk);
    conf_free(&cfg);
    scratch_remove();
    return tap_done();
}
