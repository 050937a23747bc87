/* test-account - the LDAP entry -> account mapping, rule by rule */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/account.h"
#include "maps/conf.h"
#include "maps/userrec.h"
#include "tests/unit/entrylit.h"
#include "tests/unit/tap.h"

#define MAXATTR 10

#define BASE_REC(home, mail)                                                  \
    "home=" home "\tuid=5000\tgid=5000\tmail=" mail                           \
    "\tquota_rule=*:storage=10737418240B"                                     \
    "\tquota_rule2=Trash:storage=+524288000B"                                 \
    "\tquota_rule3=Junk:storage=+524288000B"

struct tcase {
    const char *name;
    struct entry_attr attrs[MAXATTR];
    int rc;                 /* 1 built, 0 skipped */
    const char *mail;       /* want, when built */
    const char *home;
    const char *mailbox;
    const char *userrec;    /* NULL: not checked */
    const char *warn;       /* substring of the (last) warning, NULL = none */
};

static const struct tcase cases[] = {
    { "defaults",
      { A("mail", V("alice@example.com")) },
      1, "alice@example.com", "/var/vmail/example.com/alice", "example.com/alice/Maildir/",
      BASE_REC("/var/vmail/example.com/alice", "maildir:/var/vmail/example.com/alice/Maildir"),
      NULL },
    { "mail lower-cased, attribute name any case",
      { A("MAIL", V("Alice@Example.COM")) },
      1, "alice@example.com", "/var/vmail/example.com/alice", "example.com/alice/Maildir/",
      NULL, NULL },
    { "no mail attribute",
      { A("mailAlias", V("a@example.com")) },
      0, NULL, NULL, NULL, NULL, "no mail" },
    { "mail attribute without values",
      { { .name = "mail", .count = 0, .values = NULL } },
      0, NULL, NULL, NULL, NULL, "no mail" },
    { "two mail values",
      { A("mail", V("a@example.com"), V("b@example.com")) },
      0, NULL, NULL, NULL, NULL, "2 values of mail" },
    { "mail without @",
      { A("mail", V("alice")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with empty local part",
      { A("mail", V("@example.com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with empty domain",
      { A("mail", V("alice@")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with a blank",
      { A("mail", V("al ice@example.com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with invalid UTF-8",
      { A("mail", V("al\xff" "ice@example.com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with an overlong UTF-8 form",
      { A("mail", V("al\xc0\xaf" "ice@example.com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with an empty domain label",
      { A("mail", V("alice@example..com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail with a slash in the domain",
      { A("mail", V("alice@a/../../etc")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail empty",
      { A("mail", V("")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "mail over-long",
      { A("mail", V("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "@example.com")) },
      0, NULL, NULL, NULL, NULL, "bad mail" },
    { "NUL inside mail",
      { A("mail", V("alice\0@example.com")) },
      0, NULL, NULL, NULL, NULL, "TAB, newline, CR or NUL" },
    { "TAB in mail",
      { A("mail", V("alice\t@example.com")) },
      0, NULL, NULL, NULL, NULL, "TAB, newline, CR or NUL" },
    { "newline in home",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/a\nb")) },
      0, NULL, NULL, NULL, NULL, "mailHomeDirectory holds a TAB" },
    { "CR in an alias skips the whole entry",
      { A("mail", V("alice@example.com")), A("mailAlias", V("a@example.com"), V("b\r@example.com")) },
      0, NULL, NULL, NULL, NULL, "mailAlias holds a TAB" },
    { "TAB in a second password value",
      { A("mail", V("alice@example.com")), A("userPassword", V("{SSHA}x"), V("y\tz")) },
      0, NULL, NULL, NULL, NULL, "userPassword holds" },
    { "NUL in the password",
      { A("mail", V("alice@example.com")), A("userPassword", V("{PLAIN}a\0b")) },
      0, NULL, NULL, NULL, NULL, "userPassword holds" },

    /* home */
    { "home given, trailing slash and double slashes dropped",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home//alice/")) },
      1, "alice@example.com", "/home/alice", "example.com/alice/Maildir/",
      BASE_REC("/home/alice", "maildir:/var/vmail/example.com/alice/Maildir"), NULL },
    { "home relative",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("home/alice")) },
      0, NULL, NULL, NULL, NULL, "not an absolute path" },
    { "home with ..",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/../etc")) },
      0, NULL, NULL, NULL, NULL, "\"..\" in path" },
    { "home with a control character",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/a\x01")) },
      0, NULL, NULL, NULL, NULL, "control character" },
    { "home with invalid UTF-8",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/a\xe2\x82")) },
      0, NULL, NULL, NULL, NULL, "invalid UTF-8" },
    { "home with UTF-8",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/j\xc3\xbcrgen")) },
      1, "alice@example.com", "/home/j\xc3\xbcrgen", NULL, NULL, NULL },
    { "home empty",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("")) },
      0, NULL, NULL, NULL, NULL, "empty path" },
    { "two homes",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/a"), V("/b")) },
      0, NULL, NULL, NULL, NULL, "several values of mailHomeDirectory" },

    /* storage */
    { "storage absolute under mail_base, maildir: prefix",
      { A("mail", V("alice@example.com")),
        A("mailStorageDirectory", V("maildir:/var/vmail/other/alice/Maildir/")) },
      1, "alice@example.com", "/var/vmail/example.com/alice", "other/alice/Maildir/",
      BASE_REC("/var/vmail/example.com/alice", "maildir:/var/vmail/other/alice/Maildir"), NULL },
    { "storage relative to mail_base",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("x/alice")) },
      1, "alice@example.com", NULL, "x/alice/", NULL, NULL },
    { "storage relative with maildir: prefix",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("maildir:x/alice/")) },
      1, "alice@example.com", NULL, "x/alice/", NULL, NULL },
    { "storage absolute outside mail_base",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("/srv/mail/alice")) },
      0, NULL, NULL, NULL, NULL, "outside mail_base" },
    { "storage in a sibling that shares the prefix",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("/var/vmailx/alice")) },
      0, NULL, NULL, NULL, NULL, "outside mail_base" },
    { "storage is mail_base itself",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("/var/vmail/")) },
      0, NULL, NULL, NULL, NULL, "mail_base itself" },
    { "storage climbing out",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/../../etc")) },
      0, NULL, NULL, NULL, NULL, "\"..\" in path" },
    { "storage through /var/vmail/..",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("/var/vmail/../etc")) },
      0, NULL, NULL, NULL, NULL, "\"..\" in path" },
    { "storage with .",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/./b")) },
      0, NULL, NULL, NULL, NULL, "\"..\" in path" },
    { "storage only maildir:",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("maildir:")) },
      0, NULL, NULL, NULL, NULL, "empty path" },
    { "storage with a colon",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/b:LAYOUT=fs")) },
      0, NULL, NULL, NULL, NULL, "':' or '%'" },
    { "storage with a percent",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/%u")) },
      0, NULL, NULL, NULL, NULL, "':' or '%'" },
    { "storage with DEL",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/\x7f")) },
      0, NULL, NULL, NULL, NULL, "control character" },
    { "storage with collapsed slashes",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a//b///")) },
      1, "alice@example.com", NULL, "a/b/", NULL, NULL },
    { "local part with a percent cannot make a mail field",
      { A("mail", V("a%b@example.com")) },
      0, NULL, NULL, NULL, NULL, "unusable mailbox path" },

    /* uid, gid */
    { "uid and gid",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("1234")),
        A("mailGidNumber", V("999")) },
      1, "alice@example.com", NULL, NULL,
      "home=/var/vmail/example.com/alice\tuid=1234\tgid=999"
      "\tmail=maildir:/var/vmail/example.com/alice/Maildir"
      "\tquota_rule=*:storage=10737418240B\tquota_rule2=Trash:storage=+524288000B"
      "\tquota_rule3=Junk:storage=+524288000B", NULL },
    { "uid not a number",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("abc")) },
      0, NULL, NULL, NULL, NULL, "bad mailUidNumber" },
    { "uid 0",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("0")) },
      0, NULL, NULL, NULL, NULL, "bad mailUidNumber" },
    { "uid negative",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("-1")) },
      0, NULL, NULL, NULL, NULL, "bad mailUidNumber" },
    { "uid 2^32-1",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("4294967295")) },
      0, NULL, NULL, NULL, NULL, "bad mailUidNumber" },
    { "uid huge",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("123456789012345678901234567890123")) },
      0, NULL, NULL, NULL, NULL, "bad mailUidNumber" },
    { "gid with a blank",
      { A("mail", V("alice@example.com")), A("mailGidNumber", V(" 5")) },
      0, NULL, NULL, NULL, NULL, "bad mailGidNumber" },
    { "two gids",
      { A("mail", V("alice@example.com")), A("mailGidNumber", V("5"), V("6")) },
      0, NULL, NULL, NULL, NULL, "several values of mailGidNumber" },

    /* directory data is untrusted (design.md) */
    { "local part ..",
      { A("mail", V("..@example.com")) },
      0, NULL, NULL, NULL, NULL, "path component" },
    { "local part .",
      { A("mail", V(".@example.com")), A("mailHomeDirectory", V("/home/x")),
        A("mailStorageDirectory", V("x/Maildir")) },
      0, NULL, NULL, NULL, NULL, "path component" },
    { "local part climbing, with home and storage set",
      { A("mail", V("../../../../tmp/x@example.com")), A("mailHomeDirectory", V("/home/x")),
        A("mailStorageDirectory", V("x/Maildir")) },
      0, NULL, NULL, NULL, NULL, "local part with '/'" },
    { "local part with a slash",
      { A("mail", V("a/b@example.com")) },
      0, NULL, NULL, NULL, NULL, "local part with '/'" },
    { "home outside home_dirs",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/etc")) },
      0, NULL, NULL, NULL, NULL, "not below any of home_dirs" },
    { "home only sharing a prefix with a home_dirs entry",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/homework/alice")) },
      0, NULL, NULL, NULL, NULL, "not below any of home_dirs" },
    { "home equal to a home_dirs entry",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/")) },
      0, NULL, NULL, NULL, NULL, "not below any of home_dirs" },
    { "home with mail location options",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/etc:INDEX=/tmp/x")) },
      0, NULL, NULL, NULL, NULL, "':' or '%'" },
    { "home with a percent",
      { A("mail", V("alice@example.com")), A("mailHomeDirectory", V("/home/%u")) },
      0, NULL, NULL, NULL, NULL, "':' or '%'" },
    { "storage with a colon",
      { A("mail", V("alice@example.com")), A("mailStorageDirectory", V("a/Maildir:INDEX=/x")) },
      0, NULL, NULL, NULL, NULL, "':' or '%'" },
    { "uid 42 below first_valid_uid",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("42")) },
      0, NULL, NULL, NULL, NULL, "uid 42 outside" },
    { "gid 42 below first_valid_gid",
      { A("mail", V("alice@example.com")), A("mailGidNumber", V("42")) },
      0, NULL, NULL, NULL, NULL, "gid 42 outside" },
    { "uid 500, the first valid one",
      { A("mail", V("alice@example.com")), A("mailUidNumber", V("500")),
        A("mailGidNumber", V("500")) },
      1, "alice@example.com", NULL, NULL, NULL, NULL },
    { "quota of 2^53 kilobytes: more than 2^63-1 bytes",
      { A("mail", V("alice@example.com")), A("mailQuota", V("9007199254740992")) },
      0, NULL, NULL, NULL, NULL, "more than the readers take" },
    { "quota of 2^53-1 kilobytes still fits",
      { A("mail", V("alice@example.com")), A("mailQuota", V("9007199254740991")) },
      1, "alice@example.com", NULL, NULL, NULL, NULL },

    /* quota */
    { "quota in kilobytes",
      { A("mail", V("alice@example.com")), A("mailQuota", V("1024")) },
      1, "alice@example.com", NULL, NULL,
      "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000"
      "\tmail=maildir:/var/vmail/example.com/alice/Maildir"
      "\tquota_rule=*:storage=1048576B\tquota_rule2=Trash:storage=+524288000B"
      "\tquota_rule3=Junk:storage=+524288000B", NULL },
    { "quota with G suffix",
      { A("mail", V("alice@example.com")), A("mailQuota", V("2G")) },
      1, "alice@example.com", NULL, NULL,
      "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000"
      "\tmail=maildir:/var/vmail/example.com/alice/Maildir"
      "\tquota_rule=*:storage=2147483648B\tquota_rule2=Trash:storage=+524288000B"
      "\tquota_rule3=Junk:storage=+524288000B", NULL },
    { "quota 0 is unlimited",
      { A("mail", V("alice@example.com")), A("mailQuota", V("0")) },
      1, "alice@example.com", NULL, NULL,
      "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000"
      "\tmail=maildir:/var/vmail/example.com/alice/Maildir"
      "\tquota_rule=*:storage=0\tquota_rule2=Trash:storage=+524288000B"
      "\tquota_rule3=Junk:storage=+524288000B", NULL },
    { "quota not a number",
      { A("mail", V("alice@example.com")), A("mailQuota", V("lots")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },
    { "quota negative",
      { A("mail", V("alice@example.com")), A("mailQuota", V("-5")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },
    { "quota overflowing",
      { A("mail", V("alice@example.com")), A("mailQuota", V("99999999999999999999")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },
    { "quota overflowing with the kilobyte unit",
      { A("mail", V("alice@example.com")), A("mailQuota", V("18014398509481984")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },
    { "quota empty",
      { A("mail", V("alice@example.com")), A("mailQuota", V("")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },
    { "quota far too long",
      { A("mail", V("alice@example.com")),
        A("mailQuota", V("1000000000000000000000000000000000000000000000000000000000000000000000")) },
      0, NULL, NULL, NULL, NULL, "bad mailQuota" },

    /* password */
    { "password: first value, backslash escaped",
      { A("mail", V("alice@example.com")), A("userPassword", V("{PLAIN}a\\b"), V("{SSHA}second")) },
      1, "alice@example.com", NULL, NULL,
      BASE_REC("/var/vmail/example.com/alice", "maildir:/var/vmail/example.com/alice/Maildir")
      "\tpassword={PLAIN}a\\\\b", NULL },
    { "empty password is none",
      { A("mail", V("alice@example.com")), A("userPassword", V("")) },
      1, "alice@example.com", NULL, NULL,
      BASE_REC("/var/vmail/example.com/alice", "maildir:/var/vmail/example.com/alice/Maildir"),
      NULL },

    /* aliases and groups */
    { "a bad alias costs that alias only",
      { A("mail", V("alice@example.com")), A("mailAlias", V("not-an-address"), V("b@example.org")) },
      1, "alice@example.com", NULL, NULL, NULL, "mailAlias value \"not-an-address\" ignored" },
    { "alias with invalid UTF-8",
      { A("mail", V("alice@example.com")), A("mailAlias", V("\xed\xa0\x80@example.com")) },
      1, "alice@example.com", NULL, NULL, NULL, "mailAlias value \"\xed\xa0\x80@example.com\" ignored" },
    { "a bad group costs that group only",
      { A("mail", V("alice@example.com")), A("mailGroupMember", V("@x")) },
      1, "alice@example.com", NULL, NULL, NULL, "mailGroupMember value \"@x\" ignored" },
};

/* The last warning and how many there were. */
struct warnings {
    int count;
    char dn[256];
    char msg[512];
};

/* on_warn - remember the warning */
static void on_warn(void *ctx, const char *dn, const char *msg)
{
    struct warnings *w = ctx;

    w->count++;
    snprintf(w->dn, sizeof(w->dn), "%s", dn);
    snprintf(w->msg, sizeof(w->msg), "%s", msg);
}

/* count_attrs - attributes in a case (the table leaves the rest zeroed) */
static size_t count_attrs(const struct entry_attr *attrs)
{
    size_t n = 0;

    while (n < MAXATTR && attrs[n].name != NULL)
        n++;
    return n;
}

/* userrec_of - the users.cdb value of a as a C string (static buffer),
 * with the constants of cfg worked out for this one call */
static const char *userrec_of(const struct conf *cfg, const struct account *a)
{
    static char out[4096];
    struct account_userrec_ctx uc;
    char *buf = NULL, err[256];
    size_t bufsz = 0;
    long n = -1;

    if (account_userrec_ctx_init(&uc, cfg, err, sizeof(err)) == 0)
        n = account_userrec_encode(&uc, a, &buf, &bufsz, err, sizeof(err));
    account_userrec_ctx_free(&uc);
    if (n < 0 || (size_t)n >= sizeof(out)) {
        snprintf(out, sizeof(out), "(error: %s)", n < 0 ? err : "too long");
    } else {
        memcpy(out, buf, (size_t)n);
        out[n] = '\0';
    }
    free(buf);
    return out;
}

/* run - map one entry with cfg; 1/0/-1 as account_from_entry */
static int run(const struct conf *cfg, const char *dn, const struct entry_attr *attrs,
               size_t n, struct account *a, struct warnings *w)
{
    struct entry e = { .dn = dn, .attr_count = n, .attrs = attrs };
    char err[256];

    memset(w, 0, sizeof(*w));
    return account_from_entry(cfg, &e, a, on_warn, w, err, sizeof(err));
}

/* test_table - every case of the table */
static void test_table(const struct conf *cfg)
{
    struct account a;

    account_init(&a);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *t = &cases[i];
        struct warnings w;
        int rc = run(cfg, "uid=alice,dc=example,dc=com", t->attrs, count_attrs(t->attrs), &a, &w);

        is_int(rc, t->rc, "%s: result", t->name);
        if (t->warn != NULL) {
            ok(w.count >= 1 && strstr(w.msg, t->warn) != NULL, "%s: warning", t->name);
            if (w.count < 1 || strstr(w.msg, t->warn) == NULL)
                diag("got %d warnings, last: '%s'", w.count, w.msg);
            is_str(w.dn, "uid=alice,dc=example,dc=com", "%s: warning names the DN", t->name);
        } else {
            is_int(w.count, 0, "%s: no warning", t->name);
            if (w.count)
                diag("warning: %s", w.msg);
        }
        if (t->rc == 0) {
            ok(a.mail == NULL && a.aliases == NULL, "%s: skipped account is empty", t->name);
            continue;
        }
        if (rc != 1)
            continue;
        if (t->mail)
            is_str(a.mail, t->mail, "%s: mail", t->name);
        if (t->home)
            is_str(a.home, t->home, "%s: home", t->name);
        if (t->mailbox)
            is_str(a.mailbox, t->mailbox, "%s: mailbox", t->name);
        if (t->userrec)
            is_str(userrec_of(cfg, &a), t->userrec, "%s: users.cdb value", t->name);
        is_str(a.dn, "uid=alice,dc=example,dc=com", "%s: normalised dn", t->name);
    }
    account_free(&a);
}

/* test_lists - aliases and groups normalised, sorted, unique */
static void test_lists(const struct conf *cfg)
{
    const struct entry_attr attrs[] = {
        A("mail", V("Alice@Example.com")),
        A("mailAlias", V("Zed@example.com"), V("alice@EXAMPLE.com"), V("b@example.org"),
          V("zed@example.com"), V("bad"), V("a@example.net")),
        A("mailGroupMember", V("staff@example.com"), V("STAFF@example.com"),
          V("all@example.com"), V("alice@example.com")),
    };
    struct account a;
    struct warnings w;

    account_init(&a);
    is_int(run(cfg, "cn=x", attrs, 3, &a, &w), 1, "lists: built");
    is_int(w.count, 1, "lists: one warning (the bad alias)");
    is_int(a.alias_count, 3, "lists: own mail and duplicates dropped from aliases");
    if (a.alias_count == 3) {
        is_str(a.aliases[0], "a@example.net", "lists: alias 1");
        is_str(a.aliases[1], "b@example.org", "lists: alias 2");
        is_str(a.aliases[2], "zed@example.com", "lists: alias 3");
    }
    is_int(a.group_count, 3, "lists: groups unique");
    if (a.group_count == 3) {
        is_str(a.groups[0], "alice@example.com", "lists: group 1 (own mail kept: mapbuild decides)");
        is_str(a.groups[1], "all@example.com", "lists: group 2");
        is_str(a.groups[2], "staff@example.com", "lists: group 3");
    }
    account_free(&a);
    ok(a.mail == NULL && a.alias_count == 0, "account_free leaves it empty");
    account_free(&a);
}

/* test_equal - account_equal sees every field: built twice from the same
 * entry they are equal; each variant of the entry differs */
static void test_equal(const struct conf *cfg)
{
    const struct entry_attr base[] = {
        A("mail", V("alice@example.com")),
        A("mailAlias", V("a@example.com"), V("b@example.com")),
        A("mailGroupMember", V("staff@example.com")),
        A("mailQuota", V("1G")),
        A("mailUidNumber", V("2000")),
        A("mailGidNumber", V("2000")),
        A("userPassword", V("{CRYPT}$6$x")),
        A("mailStorageDirectory", V("/var/vmail/a/")),
        A("mailHomeDirectory", V("/home/a")),
    };
    enum { N = sizeof(base) / sizeof(base[0]) };
    /* one changed attribute each: the same name, another value (or none) */
    const struct entry_attr changed[] = {
        A("mail", V("alice2@example.com")),
        A("mailAlias", V("a@example.com")),
        A("mailGroupMember", V("all@example.com")),
        A("mailQuota", V("2G")),
        A("mailUidNumber", V("2001")),
        A("mailGidNumber", V("2001")),
        A("userPassword", V("{CRYPT}$6$y")),
        A("mailStorageDirectory", V("/var/vmail/b/")),
        A("mailHomeDirectory", V("/home/b")),
    };
    struct account a, b;
    struct warnings w;

    account_init(&a);
    account_init(&b);
    is_int(run(cfg, "uid=a,dc=x", base, N, &a, &w), 1, "equal: built");
    is_int(run(cfg, "uid=a,dc=x", base, N, &b, &w), 1, "equal: built again");
    ok(account_equal(&a, &b), "equal: the same entry gives equal accounts");
    account_free(&b);
    is_int(run(cfg, "uid=b,dc=x", base, N, &b, &w), 1, "equal: another DN");
    ok(!account_equal(&a, &b), "equal: another DN differs");
    for (size_t i = 0; i < N; i++) {
        struct entry_attr v[N];
        memcpy(v, base, sizeof(v));
        v[i] = changed[i];
        account_free(&b);
        is_int(run(cfg, "uid=a,dc=x", v, N, &b, &w), 1, "equal: %s changed, built", base[i].name);
        ok(!account_equal(&a, &b) && !account_equal(&b, &a), "equal: %s changed differs",
           base[i].name);
        account_free(&b);
        /* and the attribute absent (but mail, without which there is no
         * account): the last one takes its place */
        if (i == 0)
            continue;
        memcpy(v, base, sizeof(v));
        v[i] = v[N - 1];
        is_int(run(cfg, "uid=a,dc=x", v, N - 1, &b, &w), 1, "equal: %s absent, built",
               base[i].name);
        ok(!account_equal(&a, &b), "equal: %s absent differs", base[i].name);
        account_free(&b);
    }
    account_free(&a);
}

/* test_mail_location - the template with storage absent and present */
static void test_mail_location(struct conf *cfg)
{
    const struct entry_attr plain[] = { A("mail", V("alice@example.com")) };
    const struct entry_attr stored[] = {
        A("mail", V("alice@example.com")), A("mailStorageDirectory", V("s/alice")),
        A("mailHomeDirectory", V("/home/alice")),
    };
    char *saved = cfg->mail_location;
    struct account a;
    struct warnings w;

    account_init(&a);
    cfg->mail_location = "mdbox:%h/mdbox:INDEX=/idx/%d/%n:X=%u:P=100%%:%Lu:%";
    is_int(run(cfg, "cn=x", plain, 1, &a, &w), 1, "mail_location: built");
    is_str(userrec_of(cfg, &a),
           "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000"
           "\tmail=mdbox:/var/vmail/example.com/alice/mdbox:INDEX=/idx/example.com/alice"
           ":X=alice@example.com:P=100%:%Lu:%"
           "\tquota_rule=*:storage=10737418240B\tquota_rule2=Trash:storage=+524288000B"
           "\tquota_rule3=Junk:storage=+524288000B",
           "mail_location: %%h %%d %%n %%u %%%% expanded, others kept");
    is_str(a.mailbox, "example.com/alice/Maildir/", "mail_location: mailboxes.cdb path unchanged");
    is_int(run(cfg, "cn=x", stored, 3, &a, &w), 1, "mail_location with storage: built");
    is_str(userrec_of(cfg, &a),
           "home=/home/alice\tuid=5000\tgid=5000\tmail=maildir:/var/vmail/s/alice"
           "\tquota_rule=*:storage=10737418240B\tquota_rule2=Trash:storage=+524288000B"
           "\tquota_rule3=Junk:storage=+524288000B",
           "mail_location: an entry's storage directory wins");
    cfg->mail_location = saved;
    account_free(&a);
}

/* test_custom_attrs - every attribute name comes from the configuration */
static void test_custom_attrs(struct conf *cfg)
{
    struct conf_attrs saved = cfg->attr;
    const struct entry_attr attrs[] = {
        A("email", V("bob@example.org")),
        A("mail", V("ignored@example.org"), V("twice@example.org")),
        A("proxyAddresses", V("robert@example.org")),
        A("memberOfList", V("team@example.org")),
        A("homeDirectory", V("/home/bob")),
        A("maildir", V("bob/")),
        A("uidNumber", V("4200")),
        A("gidNumber", V("4300")),
        A("quotaBytes", V("1M")),
        A("secret", V("{CRYPT}xx")),
    };
    struct account a;
    struct warnings w;

    cfg->attr = (struct conf_attrs){
        .mail = "email", .alias = "proxyaddresses", .group = "memberOfList",
        .home = "homeDirectory", .storage = "maildir", .uid = "uidNumber",
        .gid = "gidNumber", .quota = "quotaBytes", .password = "secret",
    };
    account_init(&a);
    is_int(run(cfg, "cn=bob", attrs, 10, &a, &w), 1, "custom attrs: built");
    is_int(w.count, 0, "custom attrs: no warning (the other mail attribute is not read)");
    is_str(a.mail, "bob@example.org", "custom attrs: mail");
    ok(a.alias_count == 1 && strcmp(a.aliases[0], "robert@example.org") == 0, "custom attrs: alias");
    ok(a.group_count == 1 && strcmp(a.groups[0], "team@example.org") == 0, "custom attrs: group");
    is_str(userrec_of(cfg, &a),
           "home=/home/bob\tuid=4200\tgid=4300\tmail=maildir:/var/vmail/bob"
           "\tquota_rule=*:storage=1048576B\tquota_rule2=Trash:storage=+524288000B"
           "\tquota_rule3=Junk:storage=+524288000B\tpassword={CRYPT}xx",
           "custom attrs: users.cdb value");
    /* an attribute not configured is not read */
    cfg->attr.password = "";
    is_int(run(cfg, "cn=bob", attrs, 10, &a, &w), 1, "no password attribute: built");
    ok(a.password == NULL, "no password attribute: no password");
    cfg->attr = saved;
    account_free(&a);
}

/* test_conf_variants - mail_base forms, no quota rules, default quota 0 */
static void test_conf_variants(struct conf *cfg)
{
    const struct entry_attr plain[] = { A("mail", V("alice@example.com")) };
    const struct entry_attr abs[] = {
        A("mail", V("alice@example.com")), A("mailStorageDirectory", V("/srv/x/alice")),
    };
    char *saved_base = cfg->mail_base;
    struct quota_rules saved_rules = cfg->quota_rules;
    uint64_t saved_quota = cfg->default_quota;
    struct account a;
    struct warnings w;
    char err[256];

    account_init(&a);
    cfg->mail_base = "/var/vmail/";
    is_int(run(cfg, "cn=x", plain, 1, &a, &w), 1, "mail_base with trailing slash: built");
    is_str(a.home, "/var/vmail/example.com/alice", "mail_base with trailing slash: home");

    cfg->mail_base = "/";
    cfg->quota_rules.count = 0;
    cfg->default_quota = 0;
    size_t dirs = cfg->home_dirs_count;
    cfg->home_dirs_count = 0;       /* homes below mail_base, here "/" */
    is_int(run(cfg, "cn=x", abs, 2, &a, &w), 1, "mail_base /: built");
    cfg->home_dirs_count = dirs;
    is_str(a.mailbox, "srv/x/alice/", "mail_base /: any absolute path is under it");
    is_str(userrec_of(cfg, &a),
           "home=/example.com/alice\tuid=5000\tgid=5000\tmail=maildir:/srv/x/alice"
           "\tquota_rule=*:storage=0",
           "mail_base /, no rules, unlimited default quota");

    cfg->mail_base = "relative";
    struct entry e = { .dn = "cn=x", .attr_count = 1, .attrs = plain };
    err[0] = '\0';
    is_int(account_from_entry(cfg, &e, &a, NULL, NULL, err, sizeof(err)), -1,
           "a relative mail_base is an error, not a skip");
    ok(strstr(err, "mail_base") != NULL, "the error names mail_base");

    cfg->mail_base = saved_base;
    cfg->quota_rules = saved_rules;
    cfg->default_quota = saved_quota;
    /* no warn callback and a NULL DN */
    e.dn = NULL;
    e.attrs = abs;
    e.attr_count = 2;
    is_int(account_from_entry(cfg, &e, &a, NULL, NULL, err, sizeof(err)), 0,
           "skip without a warn callback");
    account_free(&a);
}

/* test_dn - the DN normalisation the conflict rule uses */
static void test_dn(void)
{
    static const struct { const char *in, *want; } t[] = {
        { "uid=alice,dc=example,dc=com", "uid=alice,dc=example,dc=com" },
        { "UID=Alice , OU=People,DC=Example, DC=COM", "uid=alice,ou=people,dc=example,dc=com" },
        { "  cn = a + sn = b , dc=x  ", "cn=a+sn=b,dc=x" },
        { "cn=a\\ ,dc=x", "cn=a\\ ,dc=x" },
        { "cn=a\\, B ,dc=x", "cn=a\\, b,dc=x" },
        { "cn=\\ lead", "cn=\\ lead" },
        { "cn=with inner  blanks,dc=x", "cn=with inner  blanks,dc=x" },
        { "cn=trail\\", "cn=trail\\" },
        { "", "" },
        { "   ", "" },
        { "cn=\xc3\x84rger", "cn=\xc3\x84rger" },
        /* already normal: copied as it is */
        { "uid=a,ou=people,dc=x", "uid=a,ou=people,dc=x" },
        { "cn=a+sn=b,dc=x", "cn=a+sn=b,dc=x" },
        { ",=+", ",=+" },
        /* one blank, escape or capital anywhere takes the long way */
        { "uid=a,ou=people,dc=X", "uid=a,ou=people,dc=x" },
        { "uid=a,ou=people,dc=x ", "uid=a,ou=people,dc=x" },
        { "uid=a\2c,dc=x", "uid=a\2c,dc=x" },
        { "Z", "z" },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *got = account_dn_normalize(t[i].in);
        is_str(got, t[i].want, "dn '%s'", t[i].in);
        free(got);
    }
    char *got = account_dn_normalize(NULL);
    is_str(got, "", "dn NULL");
    free(got);
}

/* dot_component - a "." or ".." component anywhere in path */
static int dot_component(const char *path)
{
    for (const char *p = path; *p != '\0';) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 1;
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

/* test_paths - default paths and odd local parts never escape mail_base */
static void test_paths(const struct conf *cfg)
{
    static const char *const locals[] = {
        "..@example.com", ".@example.com", "a/../b@example.com", "a/b@example.com",
        "a:b@example.com", "-x@example.com", "a..b@example.com",
    };
    char buf[64];
    struct account a;
    struct warnings w;

    is_int(account_default_mailbox("alice@example.com", buf, sizeof(buf)), 26, "default mailbox length");
    is_str(buf, "example.com/alice/Maildir/", "default mailbox");
    is_int(account_default_home(cfg, "alice@example.com", buf, sizeof(buf)), 28, "default home length");
    is_str(buf, "/var/vmail/example.com/alice", "default home");
    is_int(account_default_mailbox("alice@example.com", buf, 10), -1, "default mailbox: too small");
    is_int(account_default_home(cfg, "alice@example.com", buf, 10), -1, "default home: too small");

    account_init(&a);
    for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
        const struct entry_value v = { locals[i], strlen(locals[i]) };
        const struct entry_attr at = { "mail", 1, &v };
        int rc = run(cfg, "cn=x", &at, 1, &a, &w);
        ok(rc == 0 || (rc == 1 && !dot_component(a.mailbox) && !dot_component(a.home) &&
                       strchr(a.mailbox, ':') == NULL),
           "local part '%s': skipped or a safe path (rc %d)", locals[i], rc);
        if (rc == 1)
            diag("  mailbox %s home %s", a.mailbox, a.home);
    }
    account_free(&a);
}

/* Attribute lookup: which attribute each configured name refers to. */
struct ccase {
    const char *name;
    struct entry_attr attrs[MAXATTR];
    int rc;
    const char *mail;       /* want, when built */
    const char *password;   /* want, when built (NULL: none) */
    const char *warn;       /* substring of the warning, NULL = none */
};

static const struct ccase classify_cases[] = {
    { "the first attribute of a name decides, even without values",
      { { .name = "mail", .count = 0, .values = NULL }, A("MAIL", V("b@example.com")) },
      0, NULL, NULL, "no mail" },
    { "the first attribute of a name decides, values NULL",
      { { .name = "mail", .count = 1, .values = NULL }, A("mail", V("b@example.com")) },
      0, NULL, NULL, "no mail" },
    { "a later attribute of the same name is not read",
      { A("mail", V("a@example.com")), A("Mail", V("b@example.com")) },
      1, "a@example.com", NULL, NULL },
    { "nor checked for unsafe bytes",
      { A("mail", V("a@example.com")), A("mail", V("b\t@example.com")) },
      1, "a@example.com", NULL, NULL },
    { "an option makes another attribute",
      { A("mail;binary", V("x@example.com")), A("mail", V("a@example.com")) },
      1, "a@example.com", NULL, NULL },
    { "prefixes and extensions of a name are other attributes",
      { A("mai", V("x@example.com")), A("maill", V("y@example.com")), A("", V("z@example.com")) },
      0, NULL, NULL, "no mail" },
    { "names in any case",
      { A("USERPASSWORD", V("{X}pw")), A("mAiL", V("a@example.com")) },
      1, "a@example.com", "{X}pw", NULL },
    { "the unsafe value check goes in the order of the settings, not the entry",
      { A("userPassword", V("a\tb")), A("mail", V("a\n@example.com")) },
      0, NULL, NULL, "skipped: mail holds a TAB" },
    { "an attribute no setting names is never checked",
      { A("mail", V("a@example.com")), A("description", V("a\tb")) },
      1, "a@example.com", NULL, NULL },
};

/* test_classify - the table, plus names and lists the table cannot hold */
static void test_classify(struct conf *cfg)
{
    struct conf_attrs saved = cfg->attr;
    struct account a;
    struct warnings w;

    account_init(&a);
    for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
        const struct ccase *t = &classify_cases[i];
        size_t n = 0;
        while (n < MAXATTR && (t->attrs[n].name != NULL || t->attrs[n].count != 0))
            n++;
        int rc = run(cfg, "cn=x", t->attrs, n, &a, &w);
        is_int(rc, t->rc, "classify: %s: result", t->name);
        if (t->warn != NULL)
            ok(w.count == 1 && strstr(w.msg, t->warn) != NULL, "classify: %s: warning (%s)",
               t->name, w.msg);
        else
            is_int(w.count, 0, "classify: %s: no warning", t->name);
        if (rc == 1) {
            is_str(a.mail, t->mail, "classify: %s: mail", t->name);
            is_str(a.password, t->password, "classify: %s: password", t->name);
        }
    }

    /* an attribute without a name and an entry without attributes */
    const struct entry_attr unnamed[] = {
        { .name = NULL, .count = 1, .values = &(const struct entry_value)V("x@example.com") },
        A("mail", V("a@example.com")),
    };
    is_int(run(cfg, "cn=x", unnamed, 2, &a, &w), 1, "classify: a NULL name is skipped");
    is_int(run(cfg, "cn=x", NULL, 0, &a, &w), 0, "classify: no attributes at all");
    is_int(run(cfg, "cn=x", unnamed, 0, &a, &w), 0, "classify: attr_count 0");

    /* one attribute named by two settings feeds both */
    const struct entry_attr shared[] = {
        A("mail", V("a@example.com")), A("Dir", V("/var/vmail/x/y")),
    };
    cfg->attr.home = "dir";
    cfg->attr.storage = "DIR";
    is_int(run(cfg, "cn=x", shared, 2, &a, &w), 1, "classify: shared name: built");
    is_str(a.home, "/var/vmail/x/y", "classify: shared name: home");
    is_str(a.mailbox, "x/y/", "classify: shared name: mailbox");
    ok(a.storage_set, "classify: shared name: storage set");

    /* an empty or missing setting reads nothing, even an attribute named "" */
    const struct entry_attr blank[] = {
        A("mail", V("a@example.com")), A("", V("/elsewhere")),
    };
    cfg->attr.home = "";
    cfg->attr.storage = NULL;
    is_int(run(cfg, "cn=x", blank, 2, &a, &w), 1, "classify: empty setting: built");
    is_str(a.home, "/var/vmail/example.com/a", "classify: empty setting: default home");
    ok(!a.storage_set, "classify: empty setting: default mailbox");
    cfg->attr = saved;
    account_free(&a);
}

/* Records written by account_userrec_encode, escapes included. */
struct ucase {
    const char *name;
    struct account a;
    const char *want;
};

static const struct ucase userrec_cases[] = {
    { "plain",
      { .mail = "a@d", .home = "/h", .mailbox = "d/a/Maildir/", .uid = 1, .gid = 2, .quota = 0 },
      "home=/h\tuid=1\tgid=2\tmail=maildir:/var/vmail/d/a/Maildir\tquota_rule=*:storage=0"
      "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B" },
    { "largest numbers",
      { .mail = "a@d", .home = "/h", .mailbox = "m", .uid = 4294967295u, .gid = 4294967295u,
        .quota = UINT64_MAX, .password = "p" },
      "home=/h\tuid=4294967295\tgid=4294967295\tmail=maildir:/var/vmail/m"
      "\tquota_rule=*:storage=18446744073709551615B"
      "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B"
      "\tpassword=p" },
    { "every escape in every value",
      { .mail = "a@d", .home = "/h\\\t\n\r", .mailbox = "x\\y\tz/", .uid = 7, .gid = 8,
        .quota = 1024, .password = "\\\\p\tw\nd\r" },
      "home=/h\\\\\\t\\n\\r\tuid=7\tgid=8\tmail=maildir:/var/vmail/x\\\\y\\tz"
      "\tquota_rule=*:storage=1024B"
      "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B"
      "\tpassword=\\\\\\\\p\\tw\\nd\\r" },
    { "escapes only",
      { .mail = "a@d", .home = "\\", .mailbox = "\t", .password = "\r\r" },
      "home=\\\\\tuid=0\tgid=0\tmail=maildir:/var/vmail/\\t\tquota_rule=*:storage=0"
      "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B"
      "\tpassword=\\r\\r" },
    { "empty values",
      { .mail = "a@d", .home = "", .mailbox = "", .password = "" },
      "home=\tuid=0\tgid=0\tmail=maildir:/var/vmail/\tquota_rule=*:storage=0"
      "\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B"
      "\tpassword=" },
};

/* test_userrec_encode - the one-pass writer: bytes, round trip, buffer */
static void test_userrec_encode(const struct conf *cfg)
{
    struct account_userrec_ctx uc;
    struct userrec rec;
    char *buf = NULL, err[256];
    size_t bufsz = 0;

    userrec_init(&rec);
    is_int(account_userrec_ctx_init(&uc, cfg, err, sizeof(err)), 0, "userrec ctx: init");
    for (size_t i = 0; i < sizeof(userrec_cases) / sizeof(userrec_cases[0]); i++) {
        const struct ucase *t = &userrec_cases[i];
        long n = account_userrec_encode(&uc, &t->a, &buf, &bufsz, err, sizeof(err));

        is_int(n, (long)strlen(t->want), "userrec encode: %s: length", t->name);
        if (n < 0)
            continue;
        ok(bufsz > (size_t)n && buf[n] == '\0', "userrec encode: %s: NUL after it", t->name);
        is_str(buf, t->want, "userrec encode: %s: bytes", t->name);
        /* the codec reads back what was put in, and writes the same bytes */
        is_int(userrec_decode(&rec, buf, (size_t)n, err, sizeof(err)), 0,
               "userrec encode: %s: decodes", t->name);
        is_str(userrec_get(&rec, "home"), t->a.home, "userrec encode: %s: home back", t->name);
        is_str(userrec_get(&rec, "password"), t->a.password, "userrec encode: %s: password back",
               t->name);
        char again[1024];
        long m = userrec_encode(&rec, again, sizeof(again));
        ok(m == n && memcmp(again, buf, (size_t)n) == 0, "userrec encode: %s: re-encodes the same",
           t->name);
    }
    account_userrec_ctx_free(&uc);
    account_userrec_ctx_free(&uc);
    ok(uc.mem == NULL, "userrec ctx: free twice is harmless");
    userrec_free(&rec);
    free(buf);
}

/* test_userrec_errors - the errors account.h promises, in its order */
static void test_userrec_errors(struct conf *cfg)
{
    static char mbox[8300];
    char *saved_base = cfg->mail_base, *saved_loc = cfg->mail_location;
    struct quota_rules saved_rules = cfg->quota_rules;
    struct account a = { .mail = "a@d", .home = "/h", .mailbox = mbox };
    struct account_userrec_ctx uc;
    char *buf = NULL, err[256];
    size_t bufsz = 0;

    /* "maildir:" + "/var/vmail" + "/" + mailbox is at most 8192 bytes */
    memset(mbox, 'm', sizeof(mbox) - 1);
    mbox[8192 - 19] = '\0';
    is_int(account_userrec_ctx_init(&uc, cfg, err, sizeof(err)), 0, "errors: ctx");
    ok(account_userrec_encode(&uc, &a, &buf, &bufsz, err, sizeof(err)) > 8192,
       "errors: a mail field of 8192 bytes is fine");
    mbox[8192 - 19] = 'm';
    mbox[8192 - 18] = '\0';
    is_int(account_userrec_encode(&uc, &a, &buf, &bufsz, err, sizeof(err)), -1,
           "errors: 8193 bytes are too long");
    is_str(err, "a@d: mail field too long or out of memory", "errors: too long: reason");
    account_userrec_ctx_free(&uc);

    /* a template that expands past the limit */
    cfg->mail_location = "%h%h%h%h%h%h%h%h%h%h";
    a.home = mbox;
    mbox[1000] = '\0';
    is_str(userrec_of(cfg, &a), "(error: a@d: mail field too long or out of memory)",
           "errors: expanded mail_location too long");
    cfg->mail_location = saved_loc;
    a.home = "/h";
    a.mailbox = "m/";

    /* a hand-made rule that cannot be formatted: reported after the mail
     * field, numbered from 1 */
    cfg->quota_rules.rule[1].has_storage = false;
    cfg->quota_rules.rule[1].has_messages = false;
    is_int(account_userrec_ctx_init(&uc, cfg, err, sizeof(err)), 0, "errors: bad rule: ctx made");
    is_int(account_userrec_encode(&uc, &a, &buf, &bufsz, err, sizeof(err)), -1,
           "errors: bad rule: refused");
    is_str(err, "quota_rules: rule 2 cannot be formatted", "errors: bad rule: reason");
    account_userrec_ctx_free(&uc);
    cfg->quota_rules = saved_rules;

    /* a bad mail_base: every call says so */
    cfg->mail_base = "vmail";
    is_int(account_userrec_ctx_init(&uc, cfg, err, sizeof(err)), 0, "errors: bad base: ctx made");
    for (int k = 0; k < 2; k++) {
        err[0] = '\0';
        is_int(account_userrec_encode(&uc, &a, &buf, &bufsz, err, sizeof(err)), -1,
               "errors: bad base: call %d refused", k + 1);
        is_str(err, "mail_base: not an absolute path", "errors: bad base: call %d reason", k + 1);
    }
    account_userrec_ctx_free(&uc);
    cfg->mail_base = "/a/../b";
    is_str(userrec_of(cfg, &a), "(error: mail_base: \".\" or \"..\" in path)",
           "errors: mail_base with ..");
    cfg->mail_base = saved_base;
    free(buf);
}

/* test_mail_base_changes - a conf changed in place is followed at once,
 * whatever this thread worked out for the previous value */
static void test_mail_base_changes(struct conf *cfg)
{
    static char longbase[600];
    static const struct { const char *base, *want; } t[] = {
        { "/var/vmail", "/var/vmail/example.com/alice" },
        { "/srv//mail/", "/srv/mail/example.com/alice" },
        { "/", "/example.com/alice" },
        { "/var/vmail", "/var/vmail/example.com/alice" },
        { "relative", NULL },
        { "/var/vmail", "/var/vmail/example.com/alice" },
    };
    char *saved = cfg->mail_base;
    char buf[1024];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        cfg->mail_base = (char *)t[i].base;
        int n = account_default_home(cfg, "alice@example.com", buf, sizeof(buf));
        if (t[i].want == NULL) {
            is_int(n, -1, "mail_base %s: refused", t[i].base);
        } else {
            is_int(n, (long)strlen(t[i].want), "mail_base %s: length", t[i].base);
            is_str(n >= 0 ? buf : NULL, t[i].want, "mail_base %s: home", t[i].base);
        }
    }
    /* longer than anything worth remembering */
    memset(longbase, 'b', sizeof(longbase) - 1);
    longbase[0] = '/';
    longbase[300] = '/';
    cfg->mail_base = longbase;
    for (int k = 0; k < 2; k++) {
        int n = account_default_home(cfg, "a@d", buf, sizeof(buf));
        ok(n == (int)sizeof(longbase) - 1 + 4 && memcmp(buf, longbase, sizeof(longbase) - 1) == 0 &&
           strcmp(buf + sizeof(longbase) - 1, "/d/a") == 0, "long mail_base: call %d", k + 1);
    }
    cfg->mail_base = saved;
}

/* test_check - account_check accepts what account_from_entry builds and
 * refuses every field a crafted state could spoil */
static void test_check(struct conf *cfg)
{
    const struct entry_attr attrs[] = {
        A("mail", V("alice@example.com")),
        A("mailAlias", V("a@example.com"), V("b@example.com")),
        A("mailGroupMember", V("staff@example.com")),
        A("userPassword", V("{CRYPT}x")),
    };
    struct account a;
    struct warnings w;
    char why[256];

    account_init(&a);
    is_int(run(cfg, "uid=alice,dc=example,dc=com", attrs, 4, &a, &w), 1, "check: built");
    is_int(account_check(cfg, &a, why, sizeof(why)), 0, "check: a built account passes");

    /* each spoil on a fresh copy: field, bad value, words of the reason */
    const char *reasons[] = { "uid", "bad mailbox", "bad mailbox", "bad dn", "bad aliases",
                              "bad mail", "home", "bad home", "gid", "quota", "path component",
                              "bad password", "bad groups", "not the default mailbox" };
    for (int k = 0; k < (int)(sizeof(reasons) / sizeof(reasons[0])); k++) {
        struct account b;
        account_init(&b);
        run(cfg, "uid=alice,dc=example,dc=com", attrs, 4, &b, &w);
        char *old = NULL;
        switch (k) {
        case 0: b.uid = 0; break;                             /* an empty uid field */
        case 1: old = b.mailbox; b.mailbox = strdup("../../../etc/"); break;
        case 2: old = b.mailbox; b.mailbox = strdup("/etc/"); b.storage_set = true; break;
        case 3: old = b.dn; b.dn = strdup("UID=Alice, dc=example"); break;
        case 4: old = b.aliases[0]; b.aliases[0] = strdup("z@example.com"); break;
        case 5: old = b.mail; b.mail = strdup("Alice@example.com"); break;
        case 6: old = b.home; b.home = strdup("/etc"); break;
        case 7: old = b.home; b.home = strdup("/var/vmail/../../etc"); break;
        case 8: b.gid = 42; break;
        case 9: b.quota = (uint64_t)INT64_MAX + 1; break;
        case 10: old = b.mail; b.mail = strdup("..@example.com"); b.storage_set = true; break;
        case 11: old = b.password; b.password = strdup(""); break;
        case 12: old = b.groups[0]; b.groups[0] = strdup("not an address"); break;
        case 13: old = b.mailbox; b.mailbox = strdup("example.com/bob/Maildir/"); break;
        }
        free(old);
        why[0] = '\0';
        is_int(account_check(cfg, &b, why, sizeof(why)), -1, "check: spoil %d refused", k);
        ok(strstr(why, reasons[k]) != NULL, "check: spoil %d: reason '%s'", k, why);
        account_free(&b);
    }

    /* '%' in the address only matters where mail_location expands it */
    const struct entry_attr pct[] = { A("mail", V("a%b@example.com")),
                                      A("mailStorageDirectory", V("x/Maildir")),
                                      A("mailHomeDirectory", V("/home/ab")) };
    is_int(run(cfg, "cn=p", pct, 3, &a, &w), 1, "check: '%%' with a storage directory");
    char *saved = cfg->mail_location;
    cfg->mail_location = "maildir:~/Maildir:LAYOUT=fs";
    a.storage_set = false;
    free(a.mailbox);
    a.mailbox = strdup("example.com/a%b/Maildir/");
    is_int(account_trust_check(cfg, &a, why, sizeof(why)), -1,
           "check: '%%' in the address with mail_location");
    cfg->mail_location = saved;
    account_free(&a);
}

/* ---- issue 16: iRedMail-style directories ---- */

/* conf_of - defaults, ldap_base and extra lines; exits the test on error */
static void conf_of(struct conf *cfg, const char *extra)
{
    char text[1024], err[256];

    snprintf(text, sizeof(text), "ldap_base = dc=x\nhome_dirs = /home /var/vmail\n%s", extra);
    if (conf_parse_buffer(cfg, "t", text, strlen(text), err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        exit(1);
    }
}

/* test_quota_unit - a bare number counts in ldap_quota_unit; a suffix
 * keeps its own unit */
static void test_quota_unit(void)
{
    static const struct {
        const char *unit, *value;
        unsigned long long want;
    } q[] = {
        { "K", "1000", 1024000ull },         { "B", "1000", 1000ull },
        { "M", "3", 3145728ull },            { "G", "2", 2147483648ull },
        { "B", "10M", 10485760ull },         { "B", "10G", 10737418240ull },
        { "G", "0", 0 },                     { "B", "1073741824", 1073741824ull },
    };
    struct account a;
    struct warnings w;

    account_init(&a);
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        struct conf cfg;
        char line[64];
        snprintf(line, sizeof(line), "ldap_quota_unit = %s\n", q[i].unit);
        conf_of(&cfg, line);
        const struct entry_attr e[] = { A("mail", V("a@example.com")),
                                        { "mailQuota", 1, (struct entry_value[]){ { q[i].value,
                                          strlen(q[i].value) } } } };
        is_int(run(&cfg, "cn=q", e, 2, &a, &w), 1, "quota unit %s, value %s: built", q[i].unit,
               q[i].value);
        is_int(a.quota, q[i].want, "quota unit %s, value %s: bytes", q[i].unit, q[i].value);
        conf_free(&cfg);
    }
    struct conf cfg;
    conf_of(&cfg, "ldap_quota_unit = B\n");
    const struct entry_attr bad[] = { A("mail", V("a@example.com")), A("mailQuota", V("1.5")) };
    is_int(run(&cfg, "cn=q", bad, 2, &a, &w), 0, "quota unit B: a bad value still skips");
    conf_free(&cfg);
    account_free(&a);
}

/* test_forward - forwarding addresses: the entry's order, normalised,
 * each once, bad ones dropped with a warning, counted only on entries the
 * forward filter admits */
static void test_forward(void)
{
    struct conf cfg;
    struct account a, b;
    struct warnings w;
    char why[256];

    conf_of(&cfg, "ldap_attr_forward = mailForwardingAddress\n"
                  "ldap_forward_filter = (enabledService=forward)\n");
    account_init(&a);
    account_init(&b);
    const struct entry_attr on[] = {
        A("mail", V("alice@example.com")), A("enabledService", V("mail"), V("Forward")),
        A("mailForwardingAddress", V("Alice@Example.com"), V("b@x.org"), V("B@X.ORG"),
          V("not valid"), V("c@y.org")),
    };
    is_int(run(&cfg, "cn=f", on, 3, &a, &w), 1, "forward: built");
    is_str(a.forward, "alice@example.com,b@x.org,c@y.org",
           "forward: in order, lower-cased, once each, the own address kept");
    is_int(w.count, 1, "forward: one warning for the bad value");
    ok(strstr(w.msg, "mailForwardingAddress value \"not valid\" ignored") != NULL,
       "forward: it names the attribute and the value (%s)", w.msg);
    is_int(account_check(&cfg, &a, why, sizeof(why)), 0, "forward: account_check takes it");
    is_int(run(&cfg, "cn=f", on, 3, &b, &w), 1, "forward: built again");
    ok(account_equal(&a, &b), "forward: equal");
    free(b.forward);
    b.forward = strdup("alice@example.com,b@x.org");
    ok(!account_equal(&a, &b), "forward: a different list is a different account");
    static const char *const spoiled[] = { "b@x.org,b@x.org", "B@x.org", "b@x.org,", ",b@x.org",
                                           "b@x.org,,c@y.org", "not valid" };
    for (size_t i = 0; i < sizeof(spoiled) / sizeof(spoiled[0]); i++) {
        free(b.forward);
        b.forward = strdup(spoiled[i]);
        is_int(account_check(&cfg, &b, why, sizeof(why)), -1, "forward: '%s' refused",
               spoiled[i]);
    }
    const struct entry_attr off[] = { A("mail", V("alice@example.com")),
                                      A("enabledService", V("mail")),
                                      A("mailForwardingAddress", V("b@x.org")) };
    is_int(run(&cfg, "cn=f", off, 3, &a, &w), 1, "forward: built without the flag");
    ok(a.forward == NULL && w.count == 0, "forward: without the flag none, and no warning");
    const struct entry_attr bad_only[] = { A("mail", V("alice@example.com")),
                                           A("enabledService", V("forward")),
                                           A("mailForwardingAddress", V("x")) };
    is_int(run(&cfg, "cn=f", bad_only, 3, &a, &w), 1, "forward: only bad values");
    ok(a.forward == NULL, "forward: none left");
    conf_free(&cfg);
    conf_of(&cfg, "");
    is_int(run(&cfg, "cn=f", on, 3, &a, &w), 1, "forward: not configured");
    ok(a.forward == NULL, "forward: not configured: none");
    conf_free(&cfg);
    account_free(&a);
    account_free(&b);
}

/* test_alias_gate - the alias attribute counts only on entries the alias
 * filter admits */
static void test_alias_gate(void)
{
    struct conf cfg;
    struct account a;
    struct warnings w;

    conf_of(&cfg, "ldap_attr_alias = shadowAddress\n"
                  "ldap_alias_filter = (|(enabledService=shadowaddress)(objectClass=aliasAll))\n");
    account_init(&a);
    const struct entry_attr on[] = { A("mail", V("a@example.com")),
                                     A("enabledService", V("SHADOWADDRESS")),
                                     A("shadowAddress", V("b@example.com")) };
    const struct entry_attr off[] = { A("mail", V("a@example.com")),
                                      A("enabledService", V("mail")),
                                      A("shadowAddress", V("b@example.com"), V("bad")) };
    const struct entry_attr other[] = { A("mail", V("a@example.com")),
                                        A("objectClass", V("aliasall")),
                                        A("shadowAddress", V("b@example.com")) };
    is_int(run(&cfg, "cn=g", on, 3, &a, &w), 1, "alias gate: built");
    ok(a.alias_count == 1 && strcmp(a.aliases[0], "b@example.com") == 0, "alias gate: admitted");
    is_int(run(&cfg, "cn=g", off, 3, &a, &w), 1, "alias gate: built without the flag");
    ok(a.alias_count == 0 && w.count == 0, "alias gate: no alias, no warning about the bad one");
    is_int(run(&cfg, "cn=g", other, 3, &a, &w), 1, "alias gate: the other branch");
    is_int(a.alias_count, 1, "alias gate: '|' admits it");
    conf_free(&cfg);
    account_free(&a);
}

/* test_attr_off - an empty ldap_attr_* is not read */
static void test_attr_off(void)
{
    struct conf cfg;
    struct account a;
    struct warnings w;

    conf_of(&cfg, "ldap_attr_storage =\nldap_attr_quota =\nldap_attr_alias =\n");
    account_init(&a);
    const struct entry_attr e[] = { A("mail", V("a@example.com")),
                                    A("mailStorageDirectory", V("elsewhere/a")),
                                    A("mailQuota", V("not a number")),
                                    A("mailAlias", V("b@example.com")) };
    is_int(run(&cfg, "cn=o", e, 4, &a, &w), 1, "attributes off: built");
    ok(!a.storage_set && strcmp(a.mailbox, "example.com/a/Maildir/") == 0 &&
       a.quota == cfg.default_quota && a.alias_count == 0 && w.count == 0,
       "attributes off: storage, quota and alias not read");
    conf_free(&cfg);
    account_free(&a);
}

/* test_mail_under_home - with mail_location = maildir:PATH the mailbox is
 * PATH, relative to mail_base; else the default one */
static void test_mail_under_home(void)
{
    static const struct {
        const char *loc, *home, *storage, *mailbox;   /* mailbox NULL: skipped */
    } m[] = {
        { "maildir:%h/Maildir", NULL, NULL, "example.com/alice/Maildir/" },
        { "maildir:%h/Maildir", "/var/vmail/vmail1/example.com/alice-2024", NULL,
          "vmail1/example.com/alice-2024/Maildir/" },
        { "maildir:~/Maildir:LAYOUT=fs", "/var/vmail/v/alice", NULL, "v/alice/Maildir/" },
        { "maildir:~", "/var/vmail/v/alice", NULL, "v/alice/" },
        { "maildir:/var/vmail/%d/%n/mail", "/home/alice", NULL, "example.com/alice/mail/" },
        { "maildir:%h/Maildir", "/home/alice", NULL, NULL },
        { "maildir:%h/Maildir", "/home/alice", "s/alice", "s/alice/" },
        { "maildir:/var/vmail/%Ld/%Ln", "/home/alice", NULL, "example.com/alice/Maildir/" },
        { "mdbox:%h/mdbox", "/home/alice", NULL, "example.com/alice/Maildir/" },
        { "", "/home/alice", NULL, "example.com/alice/Maildir/" },
    };
    struct account a;
    struct warnings w;
    char why[256];

    account_init(&a);
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        struct conf cfg;
        char line[128];
        struct entry_attr e[3] = { A("mail", V("alice@example.com")) };
        size_t n = 1;
        snprintf(line, sizeof(line), "mail_location = %s\n", m[i].loc);
        conf_of(&cfg, line);
        struct entry_value hv = { m[i].home, m[i].home ? strlen(m[i].home) : 0 };
        struct entry_value sv = { m[i].storage, m[i].storage ? strlen(m[i].storage) : 0 };
        if (m[i].home != NULL)
            e[n++] = (struct entry_attr){ "mailHomeDirectory", 1, &hv };
        if (m[i].storage != NULL)
            e[n++] = (struct entry_attr){ "mailStorageDirectory", 1, &sv };
        int rc = run(&cfg, "cn=h", e, n, &a, &w);
        is_int(rc, m[i].mailbox != NULL, "mail under home #%zu (%s, %s): %s", i, m[i].loc,
               m[i].home ? m[i].home : "default home", m[i].mailbox ? "built" : "skipped");
        if (m[i].mailbox == NULL) {
            ok(strstr(w.msg, "mail_location puts the mail of alice@example.com in an unusable "
                             "place: absolute path outside mail_base") != NULL,
               "mail under home #%zu: says why (%s)", i, w.msg);
        } else if (rc == 1) {
            is_str(a.mailbox, m[i].mailbox, "mail under home #%zu: the mailbox", i);
            is_int(account_check(&cfg, &a, why, sizeof(why)), 0,
                   "mail under home #%zu: account_check takes it", i);
            if (!a.storage_set && strcmp(a.mailbox, "example.com/alice/Maildir/") != 0) {
                free(a.mailbox);
                a.mailbox = strdup("example.com/alice/Maildir/");
                is_int(account_check(&cfg, &a, why, sizeof(why)), -1,
                       "mail under home #%zu: the default one is refused then", i);
            }
        }
        conf_free(&cfg);
    }
    account_free(&a);
}

int main(void)
{
    struct conf cfg;

    /* homes below /home too, as several cases have them */
    static const char text[] = "ldap_base = dc=example,dc=com\nhome_dirs = /home /var/vmail\n";
    char err[256];
    if (conf_parse_buffer(&cfg, "test", text, sizeof(text) - 1, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    test_table(&cfg);
    test_lists(&cfg);
    test_equal(&cfg);
    test_mail_location(&cfg);
    test_custom_attrs(&cfg);
    test_conf_variants(&cfg);
    test_dn();
    test_paths(&cfg);
    test_classify(&cfg);
    test_userrec_encode(&cfg);
    test_userrec_errors(&cfg);
    test_mail_base_changes(&cfg);
    test_check(&cfg);
    test_quota_unit();
    test_forward();
    test_alias_gate();
    test_mail_under_home();
    test_attr_off();
    conf_free(&cfg);
    return tap_done();
}
