/* test-quota - Dovecot 2.3 quota rules: parsing (good and malformed), the
 * userdb form they format to, folder limits as Dovecot's
 * quota_root_get_rule_limits() computes them, and the grace decision. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maps/quota.h"
#include "tests/unit/tap.h"
#include "tests/unit/same_rule.h"

#define K 1024LL
#define M (1024LL * K)
#define G (1024LL * M)

/* Rules that parse, and the userdb value each formats to. */
static const struct {
    const char *in, *want;
} good[] = {
    { "*:storage=10G", "*:storage=10737418240B" },
    { "*:storage=10GB", "*:storage=10737418240B" },
    { "*:storage=10g", "*:storage=10737418240B" },
    { "*:storage=10gb", "*:storage=10737418240B" },
    { "*:storage=10737418240B", "*:storage=10737418240B" },
    { "*:storage=10485760", "*:storage=10737418240B" },    /* storage= is KiB */
    { "*:storage=10485760K", "*:storage=10737418240B" },
    { "*:storage=10240M", "*:storage=10737418240B" },
    { "*:storage=1024k", "*:storage=1048576B" },
    { "*:storage=1T", "*:storage=1099511627776B" },
    { "*:storage=0", "*:storage=0" },
    { "*:storage=0B", "*:storage=0" },
    { "*:storage=0G", "*:storage=0" },
    { "*:bytes=1024", "*:storage=1024B" },                  /* bytes= is bytes */
    { "*:bytes=1K", "*:storage=1024B" },
    { "*:messages=10000", "*:messages=10000" },
    { "*:messages=10k", "*:messages=10240" },
    { "*:storage=1G:messages=100", "*:storage=1073741824B:messages=100" },
    { "*:messages=100:storage=1G", "*:storage=1073741824B:messages=100" },
    { "*:storage=1G:storage=2G", "*:storage=2147483648B" }, /* last one wins */
    { "*:10G", "*:storage=10737418240B" },                  /* short form */
    { "*:storage=9223372036854775807B", "*:storage=9223372036854775807B" },
    { "Trash:storage=+500M", "Trash:storage=+524288000B" },
    { "Trash:storage=+524288000B", "Trash:storage=+524288000B" },
    { "Trash:storage=+512000", "Trash:storage=+524288000B" },
    { "Trash:+500M", "Trash:storage=+524288000B" },
    { "Trash:+500m", "Trash:storage=+524288000B" },
    { "Trash:+500MB", "Trash:storage=+524288000B" },
    { "Trash:+524288000B", "Trash:storage=+524288000B" },
    { "Trash:-100M", "Trash:storage=-104857600B" },
    { "Trash:storage=-100M", "Trash:storage=-104857600B" },
    { "Trash:storage=+0", "Trash:storage=+0B" },
    { "Trash:storage=-0", "Trash:storage=+0B" },
    { "Trash:+0", "Trash:storage=+0B" },
    { "Trash:0", "Trash:storage=0" },
    { "Archive:storage=20G", "Archive:storage=21474836480B" },
    { "Archive:20G", "Archive:storage=21474836480B" },
    { "Spam:storage=+10%", "Spam:storage=+10%" },
    { "Spam:storage=10%", "Spam:storage=10%" },
    { "Spam:storage=-10%", "Spam:storage=-10%" },
    { "Spam:storage=-99%", "Spam:storage=-99%" },
    { "Spam:storage=0%", "Spam:storage=0%" },
    { "Spam:+10%", "Spam:storage=+10%" },
    { "Spam:+4294967294%", "Spam:storage=+4294967294%" },
    { "Spam:messages=+10%", "Spam:messages=+10%" },
    { "Junk:ignore", "Junk:ignore" },
    { "INBOX:storage=+1G", "INBOX:storage=+1073741824B" },
    { "Trash:messages=+100", "Trash:messages=+100" },
    { "Trash:messages=-5", "Trash:messages=-5" },
    { "Trash:storage=+1G:messages=+100", "Trash:storage=+1073741824B:messages=+100" },
    { "Sent.Archive:+1G", "Sent.Archive:storage=+1073741824B" },
    { "Entw\xc3\xbcrfe:+1G", "Entw\xc3\xbcrfe:storage=+1073741824B" },
    { "a/b=c:+1K", "a/b=c:storage=+1024B" },
};

/* Rules that must be refused, with part of the reason. */
static const struct {
    const char *in, *why;
} bad[] = {
    { "", "missing ':'" },
    { "*", "missing ':'" },
    { "Trash", "missing ':'" },
    { "Trash+500M", "missing ':'" },
    { ":storage=1G", "empty folder" },
    { "*:", "no limit" },
    { "Trash:", "no limit" },
    { "*:ignore", "cannot be ignore" },
    { "*:storage=+1G", "cannot be relative" },
    { "*:storage=-1G", "cannot be relative" },
    { "*:+1G", "cannot be relative" },
    { "*:storage=10%", "percentage" },
    { "?:storage=1G", "not supported" },
    { "Tr*sh:+1G", "wildcards" },
    { "Trash*:+1G", "wildcards" },
    { "Tr?sh:+1G", "wildcards" },
    { "**:+1G", "wildcards" },
    { "Tr ash:+1G", "blank" },
    { "Tr\tash:+1G", "blank" },
    { "Tr\x01:+1G", "control" },
    { "Tr\x7f:+1G", "control" },
    { "Tr\xff:+1G", "UTF-8" },
    { "Tr\xc3:+1G", "UTF-8" },
    { "\xed\xa0\x80:+1G", "UTF-8" },
    { "Trash:storage=", "empty" },
    { "Trash:storage=+", "empty" },
    { "Trash:storage=-", "empty" },
    { "Trash:storage=%", "empty" },
    { "Trash:storage=+%", "empty" },
    { "Trash:storage=1X", "unit" },
    { "Trash:storage=1GiB", "unit" },
    { "Trash:storage=1.5G", "unit" },
    { "Trash:storage= 1G", "number" },
    { "Trash:storage=1G ", "unit" },
    { "Trash:storage=+-1G", "number" },
    { "Trash:storage=--1G", "number" },
    { "Trash:storage=10%%", "number" },
    { "Trash:storage=1G%", "number" },
    { "Trash:storage=-100%", "above -100" },
    { "Trash:storage=-1000%", "above -100" },
    { "Trash:storage=+4294967295%", "range" },
    { "Trash:storage=1e3", "unit" },
    { "Trash:storage=0x10", "unit" },
    { "*:storage=9223372036854775808B", "too large" },
    { "*:storage=8388608T", "too large" },
    { "*:storage=18446744073709551616B", "too large" },
    { "*:storage=99999999999999999999G", "too large" },
    { "*:storage=1234567890123456789012345678901234567890123456789012345678901234567890",
      "too long" },
    { "Trash:Storage=1G", "unknown limit name" },
    { "Trash:quota=1G", "unknown limit name" },
    { "Trash:=1G", "unknown limit name" },
    { "Trash:backend=1G", "backend" },
    { "*:backend=foo", "backend" },
    { "Trash:+500", "needs a unit" },                 /* short form: KiB or bytes? */
    { "Trash:500", "needs a unit" },
    { "*:10737418240", "needs a unit" },
    { "Trash:+1G:", "without '='" },
    { "Trash:storage=+1G:", "empty limit" },
    { "Trash::storage=1G", "empty limit" },
    { "Trash:storage=1G::messages=1", "empty limit" },
    { "Trash:+1G:messages=1", "without '='" },
    { "Trash:ignore:storage=1G", "without '='" },
    { "Trash:IGNORE", "number" },
    { "Trash:ignored", "number" },
    { "Trash: ignore", "number" },
};

/* run_parse - the good and bad tables; every good rule round trips */
static void run_parse(void)
{
    char err[256], buf[512];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct quota_rule r, back;
        int rc = quota_rule_parse(good[i].in, &r, err, sizeof(err));
        if (!tap_ok(rc == 0, "parse \"%s\"", good[i].in))
            diag("error: %s", err);
        if (rc < 0)
            continue;
        int n = quota_rule_format(&r, buf, sizeof(buf));
        is_str(n >= 0 ? buf : "(error)", good[i].want, "format \"%s\"", good[i].in);
        is_int(n, strlen(good[i].want), "format \"%s\": length", good[i].in);
        ok(quota_rule_parse(buf, &back, err, sizeof(err)) == 0 && same_rule(&r, &back),
           "\"%s\" parses back to the same rule", buf);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct quota_rule r;
        err[0] = '\0';
        int rc = quota_rule_parse(bad[i].in, &r, err, sizeof(err));
        is_int(rc, -1, "refuse \"%s\"", bad[i].in);
        if (!tap_ok(strstr(err, bad[i].why) != NULL, "refuse \"%s\": reason has \"%s\"",
                    bad[i].in, bad[i].why))
            diag("reason: %s", err);
    }
    {
        struct quota_rule r;
        is_int(quota_rule_parse(NULL, &r, err, sizeof(err)), -1, "NULL refused");
    }
}

/* run_parse_details - the parsed structure itself */
static void run_parse_details(void)
{
    struct quota_rule r;
    char err[256];

    quota_rule_parse("Trash:storage=+500M", &r, err, sizeof(err));
    ok(r.has_storage && !r.has_messages && r.storage.kind == QUOTA_RELATIVE &&
       r.storage.relative && r.storage.value == 500 * M, "Trash:+500M is relative 500M");
    quota_rule_parse("Trash:-1G", &r, err, sizeof(err));
    ok(r.storage.kind == QUOTA_RELATIVE && r.storage.value == -G, "Trash:-1G is relative -1G");
    quota_rule_parse("*:storage=10G", &r, err, sizeof(err));
    ok(strcmp(r.folder, "*") == 0 && r.storage.kind == QUOTA_ABSOLUTE &&
       !r.storage.relative && r.storage.value == 10 * G, "*:storage=10G is absolute 10G");
    quota_rule_parse("Spam:storage=-10%", &r, err, sizeof(err));
    ok(r.storage.kind == QUOTA_PERCENT && r.storage.relative && r.storage.value == -10,
       "-10%% is a relative percentage of -10");
    quota_rule_parse("Spam:storage=10%", &r, err, sizeof(err));
    ok(r.storage.kind == QUOTA_PERCENT && !r.storage.relative && r.storage.value == 10,
       "10%% is a plain percentage");
    quota_rule_parse("Junk:ignore", &r, err, sizeof(err));
    ok(r.has_storage && r.storage.kind == QUOTA_IGNORE && strcmp(r.folder, "Junk") == 0,
       "Junk:ignore");
    quota_rule_parse("*:messages=5:storage=1M", &r, err, sizeof(err));
    ok(r.has_storage && r.has_messages && r.messages.kind == QUOTA_ABSOLUTE &&
       r.messages.value == 5 && r.storage.value == M, "storage and messages");
    is_int(quota_rule_parse("Trash:+5X", &r, err, sizeof(err)), -1, "error clears the rule");
    ok(r.folder[0] == '\0' && !r.has_storage, "error clears the rule: empty");

    /* folder length: QUOTA_FOLDER_MAX - 1 bytes fit */
    char in[QUOTA_FOLDER_MAX + 16];
    memset(in, 'f', QUOTA_FOLDER_MAX - 1);
    strcpy(in + QUOTA_FOLDER_MAX - 1, ":+1G");
    is_int(quota_rule_parse(in, &r, err, sizeof(err)), 0, "folder of QUOTA_FOLDER_MAX - 1 bytes");
    memset(in, 'f', QUOTA_FOLDER_MAX);
    strcpy(in + QUOTA_FOLDER_MAX, ":+1G");
    is_int(quota_rule_parse(in, &r, err, sizeof(err)), -1, "folder of QUOTA_FOLDER_MAX bytes refused");

    /* a small error buffer is fine */
    is_int(quota_rule_parse("x", &r, err, 4), -1, "4-byte error buffer");
    is_int(strlen(err), 3, "4-byte error buffer truncates");
    is_int(quota_rule_parse("x", &r, NULL, 0), -1, "no error buffer");
}

/* run_rules - lists, merging, limits on their number */
static void run_rules(void)
{
    struct quota_rules rules;
    const struct quota_rule *r;
    char err[256], in[64 * 40];

    is_int(quota_rules_parse("Trash:+500M Junk:+500M", &rules, err, sizeof(err)), 0,
           "the quota_rules default parses");
    is_int(rules.count, 2, "two rules");
    is_str(rules.rule[0].folder, "Trash", "in order: Trash");
    is_str(rules.rule[1].folder, "Junk", "in order: Junk");

    is_int(quota_rules_parse("", &rules, err, sizeof(err)), 0, "empty list");
    is_int(rules.count, 0, "empty list: no rules");
    is_int(quota_rules_parse(" \t ", &rules, err, sizeof(err)), 0, "blank list");
    is_int(rules.count, 0, "blank list: no rules");
    is_int(quota_rules_parse(NULL, &rules, err, sizeof(err)), 0, "NULL list");
    is_int(quota_rules_parse("\tTrash:+1G \t Junk:ignore  ", &rules, err, sizeof(err)), 0,
           "blanks and tabs around rules");
    is_int(rules.count, 2, "blanks and tabs: two rules");

    /* folders compare without case; a later rule updates what it names */
    quota_rules_parse("Trash:+1G trash:+2G", &rules, err, sizeof(err));
    is_int(rules.count, 1, "Trash and trash are one folder");
    r = quota_rules_find(&rules, "TRASH");
    ok(r != NULL && r->storage.value == 2 * G, "the later limit wins");
    is_str(r ? r->folder : NULL, "Trash", "the first spelling stays");
    quota_rules_parse("Trash:storage=+1G Trash:messages=+10", &rules, err, sizeof(err));
    r = quota_rules_find(&rules, "Trash");
    ok(r != NULL && r->has_storage && r->has_messages && r->storage.value == G &&
       r->messages.value == 10, "storage and messages merge, as in Dovecot");
    quota_rules_parse("Junk:ignore Junk:+1G", &rules, err, sizeof(err));
    r = quota_rules_find(&rules, "junk");
    ok(r != NULL && r->storage.kind == QUOTA_IGNORE, "ignore stays after a later limit");
    quota_rules_parse("Junk:+1G Junk:messages=+5 Junk:ignore", &rules, err, sizeof(err));
    r = quota_rules_find(&rules, "junk");
    ok(r != NULL && r->storage.kind == QUOTA_IGNORE && !r->has_messages,
       "ignore replaces earlier limits");
    char fbuf[64];
    quota_rule_format(r, fbuf, sizeof(fbuf));
    is_str(fbuf, "Junk:ignore", "merged ignore formats as ignore");
    ok(quota_rules_find(&rules, "Trash") == NULL, "find: a missing folder");
    ok(quota_rules_find(&rules, NULL) == NULL, "find: NULL folder");
    ok(quota_rules_find(NULL, "Junk") == NULL, "find: NULL rules");

    /* errors name the rule and leave nothing behind */
    is_int(quota_rules_parse("Trash:+1G Junk:+5X", &rules, err, sizeof(err)), -1,
           "a bad second rule");
    ok(strncmp(err, "rule 2: ", 8) == 0, "error names rule 2: \"%s\"", err);
    is_int(rules.count, 0, "error leaves no rules");
    is_int(quota_rules_parse("Trash:+1G\nJunk:+1G", &rules, err, sizeof(err)), -1,
           "newline is no separator");

    /* QUOTA_RULES_MAX distinct folders, then one more */
    size_t o = 0;
    for (int i = 0; i < QUOTA_RULES_MAX; i++)
        o += (size_t)sprintf(in + o, "f%d:+1M ", i);
    is_int(quota_rules_parse(in, &rules, err, sizeof(err)), 0, "QUOTA_RULES_MAX rules");
    is_int(rules.count, QUOTA_RULES_MAX, "QUOTA_RULES_MAX rules kept");
    sprintf(in + o, "f0:+2M");
    is_int(quota_rules_parse(in, &rules, err, sizeof(err)), 0, "a repeat needs no slot");
    sprintf(in + o, "extra:+2M");
    is_int(quota_rules_parse(in, &rules, err, sizeof(err)), -1, "one rule too many");
    ok(strstr(err, "rule 33") != NULL && strstr(err, "more than 32") != NULL,
       "too many: \"%s\"", err);

    struct quota_rule one;
    quota_rule_parse("more:+1M", &one, err, sizeof(err));
    quota_rules_parse("", &rules, err, sizeof(err));
    for (int i = 0; i < QUOTA_RULES_MAX; i++) {
        snprintf(one.folder, sizeof(one.folder), "g%d", i);
        quota_rules_add(&rules, &one);
    }
    snprintf(one.folder, sizeof(one.folder), "late");
    is_int(quota_rules_add(&rules, &one), -1, "quota_rules_add: full");
    snprintf(one.folder, sizeof(one.folder), "G7");
    is_int(quota_rules_add(&rules, &one), 0, "quota_rules_add: full, but a known folder");

    /* a token over the limit */
    char big[2100];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[5] = ':';
    is_int(quota_rules_parse(big, &rules, err, sizeof(err)), -1, "an over-long rule");
    ok(strstr(err, "too long") != NULL, "over-long: \"%s\"", err);
}

struct limit_case {
    const char *folder;
    int rc;
    long long want;
};

/* check_limits - quota_storage_limit for each folder under one rule set */
static void check_limits(const char *set, const struct limit_case *c, size_t n)
{
    struct quota_rules rules;
    char err[256];

    if (!tap_ok(quota_rules_parse(set, &rules, err, sizeof(err)) == 0, "rules \"%s\"", set))
        diag("error: %s", err);
    for (size_t i = 0; i < n; i++) {
        uint64_t limit = 777;
        int rc = quota_storage_limit(&rules, c[i].folder, &limit);
        is_int(rc, c[i].rc, "[%s] %s: %s", set, c[i].folder ? c[i].folder : "NULL",
               c[i].rc ? "limited" : "no limit");
        if (rc == 1 && c[i].rc == 1)
            is_int((long long)limit, c[i].want, "[%s] %s: limit", set,
                   c[i].folder ? c[i].folder : "NULL");
    }
}

#define CHECK(set, ...)                                                    \
    do {                                                                   \
        static const struct limit_case c_[] = { __VA_ARGS__ };             \
        check_limits(set, c_, sizeof(c_) / sizeof(c_[0]));                 \
    } while (0)

/* run_limits - Dovecot's arithmetic */
static void run_limits(void)
{
    CHECK("*:storage=10G Trash:+500M Junk:ignore Archive:20G Spam:+10% Ham:10% "
          "Less:-10% Neg:-1G Huge:-20G Zero:-10G Msgs:messages=+10 Zp:+0%",
          { NULL, 1, 10 * G }, { "INBOX", 1, 10 * G }, { "inbox", 1, 10 * G },
          { "Trash", 1, 10 * G + 500 * M }, { "TRASH", 1, 10 * G + 500 * M },
          { "Junk", 0, 0 }, { "junk", 0, 0 },
          { "Archive", 1, 30 * G },        /* Dovecot 2.3 adds it to the base */
          { "Spam", 1, 11 * G }, { "Ham", 1, 11 * G }, { "Less", 1, 9 * G },
          { "Neg", 1, 9 * G },
          { "Huge", 0, 0 },                /* at or below 0 is no limit */
          { "Zero", 0, 0 },
          { "Msgs", 1, 10 * G }, { "Zp", 1, 10 * G }, { "Other", 1, 10 * G },
          { "*", 1, 10 * G }, { "", 1, 10 * G });
    /* an unlimited root ignores every folder rule, absolute ones too */
    CHECK("*:storage=0 Trash:+500M Archive:20G Junk:ignore Spam:+10%",
          { NULL, 0, 0 }, { "Trash", 0, 0 }, { "Archive", 0, 0 }, { "Junk", 0, 0 },
          { "Spam", 0, 0 });
    CHECK("Trash:+500M Archive:20G", { NULL, 0, 0 }, { "Trash", 0, 0 }, { "Archive", 0, 0 });
    CHECK("", { NULL, 0, 0 }, { "INBOX", 0, 0 });
    /* a message limit alone enables the root: folder byte rules then count
     * from a base of 0 (Dovecot's bytes_limit += rule) */
    CHECK("*:messages=1000 Trash:+500M Archive:20G Spam:+10%",
          { NULL, 0, 0 }, { "Trash", 1, 500 * M }, { "Archive", 1, 20 * G },
          { "Spam", 0, 0 });
    /* a rule for INBOX applies to INBOX */
    CHECK("*:storage=10G INBOX:+1G", { NULL, 1, 11 * G }, { "INBOX", 1, 11 * G },
          { "Inbox", 1, 11 * G }, { "Trash", 1, 10 * G });
    /* percentages truncate toward zero like Dovecot's int64 arithmetic */
    CHECK("*:storage=999B Spam:+15% Minus:-15% Tiny:+1%",
          { "Spam", 1, 999 + 149 }, { "Minus", 1, 999 - 149 }, { "Tiny", 1, 999 + 9 });
    /* no overflow at the extremes: saturate */
    CHECK("*:storage=9223372036854775807B Big:+9223372036854775807B Pct:+4294967294% "
          "Low:-9223372036854775807B",
          { NULL, 1, INT64_MAX }, { "Big", 1, INT64_MAX }, { "Pct", 1, INT64_MAX },
          { "Low", 0, 0 });
    CHECK("*:storage=8191T Pct:+4294967294%", { "Pct", 1, INT64_MAX });
    /* the defaults: 10 GB, Trash and Junk +500 MB */
    CHECK("*:storage=10737418240B Trash:storage=+524288000B Junk:storage=+524288000B",
          { NULL, 1, 10737418240LL }, { "Trash", 1, 10737418240LL + 524288000LL },
          { "Junk", 1, 10737418240LL + 524288000LL });

    uint64_t limit = 5;
    is_int(quota_storage_limit(NULL, "Trash", &limit), 0, "NULL rules: no limit");
}

/* run_format - hand-made rules and buffer sizes */
static void run_format(void)
{
    struct quota_rule r;
    char buf[64];

    memset(&r, 0, sizeof(r));
    strcpy(r.folder, "*");
    r.has_storage = true;
    r.storage.kind = QUOTA_ABSOLUTE;
    r.storage.value = 10737418240LL;
    is_int(quota_rule_format(&r, buf, sizeof(buf)), 22, "base rule length");
    is_str(buf, "*:storage=10737418240B", "base rule as design.md");
    is_int(quota_rule_format(&r, buf, 23), 22, "exact buffer");
    is_int(quota_rule_format(&r, buf, 22), -1, "one byte short");
    is_int(quota_rule_format(&r, buf, 0), -1, "no buffer");
    is_int(quota_rule_format(&r, NULL, 10), -1, "NULL buffer");
    r.storage.value = 0;
    quota_rule_format(&r, buf, sizeof(buf));
    is_str(buf, "*:storage=0", "unlimited base as design.md");

    strcpy(r.folder, "Trash");
    r.storage.kind = QUOTA_RELATIVE;
    r.storage.relative = true;
    r.storage.value = 524288000;
    quota_rule_format(&r, buf, sizeof(buf));
    is_str(buf, "Trash:storage=+524288000B", "relative rule as design.md");
    r.storage.value = INT64_MIN;
    quota_rule_format(&r, buf, sizeof(buf));
    is_str(buf, "Trash:storage=-9223372036854775808B", "INT64_MIN does not overflow");

    strcpy(r.folder, "Junk");
    r.storage.kind = QUOTA_IGNORE;
    quota_rule_format(&r, buf, sizeof(buf));
    is_str(buf, "Junk:ignore", "ignore rule as design.md");

    r.has_storage = false;
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "no limits: refused");
    r.has_messages = true;
    r.messages.kind = QUOTA_IGNORE;
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "ignore as a message limit: refused");
    r.messages.kind = QUOTA_ABSOLUTE;
    r.messages.value = 7;
    quota_rule_format(&r, buf, sizeof(buf));
    is_str(buf, "Junk:messages=7", "messages only");
    r.messages.kind = (enum quota_kind)42;
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "unknown kind: refused");
    r.messages.kind = QUOTA_ABSOLUTE;

    strcpy(r.folder, "");
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "empty folder: refused");
    strcpy(r.folder, "a b");
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "folder with a blank: refused");
    strcpy(r.folder, "a:b");
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "folder with ':': refused (would not parse back)");
    memset(r.folder, 'x', sizeof(r.folder));
    is_int(quota_rule_format(&r, buf, sizeof(buf)), -1, "unterminated folder: refused");
}

static const struct {
    uint64_t usage, size, limit, grace;
    bool want;
} accepts[] = {
    { 0, 0, 100, 0, true },
    { 0, 100, 100, 0, true },
    { 0, 101, 100, 0, false },
    { 0, 101, 100, 10, true },
    { 0, 110, 100, 10, true },
    { 0, 111, 100, 10, false },
    { 99, 11, 100, 10, true },
    { 99, 12, 100, 10, false },
    { 100, 0, 100, 10, true },
    { 100, 1, 100, 10, false },     /* at the limit: nothing more */
    { 150, 0, 100, 10, false },
    { 150, 1, 100, 10, false },
    { 5, 5, 0, 0, true },           /* 0 is no limit */
    { UINT64_MAX, UINT64_MAX, 0, 0, true },
    { UINT64_MAX, 1, UINT64_MAX, 0, false },
    { UINT64_MAX - 1, 1, UINT64_MAX, 0, true },
    { UINT64_MAX - 1, 2, UINT64_MAX, UINT64_MAX, true },
    { 0, UINT64_MAX, UINT64_MAX, 0, true },
    { 1, UINT64_MAX, 100, UINT64_MAX, true },
    { 10, UINT64_MAX, 100, 5, false },
    { 10, UINT64_MAX, UINT64_MAX, 5, false },
    /* 10 GB with 10% grace */
    { 10737418239ULL, 50 * 1048576ULL, 10737418240ULL, 1073741824ULL, true },
    { 10737418240ULL, 1, 10737418240ULL, 1073741824ULL, false },
    { 10200547328ULL, 2147483648ULL, 10737418240ULL, 1073741824ULL, false },
    { 10200547328ULL, 1610612736ULL, 10737418240ULL, 1073741824ULL, true },
};

int main(void)
{
    run_parse();
    run_parse_details();
    run_rules();
    run_limits();
    run_format();
    for (size_t i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++)
        is_int(quota_accept(accepts[i].usage, accepts[i].size, accepts[i].limit, accepts[i].grace),
               accepts[i].want, "accept usage %llu size %llu limit %llu grace %llu",
               (unsigned long long)accepts[i].usage, (unsigned long long)accepts[i].size,
               (unsigned long long)accepts[i].limit, (unsigned long long)accepts[i].grace);
    return tap_done();
}
