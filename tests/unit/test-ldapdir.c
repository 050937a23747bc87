/* test-ldapdir - the parts of the directory access that need no server:
 * filter escaping, the key filter, the attribute list, handle checks */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/ldapdir.h"
#include "tests/unit/tap.h"

/* test_conf - a configuration with the schema's defaults, built by hand so
 * the test depends on nothing but ldapdir */
static void test_conf(struct conf *cfg)
{
    static char *uris[] = { "ldap://127.0.0.1:1/" };
    memset(cfg, 0, sizeof(*cfg));
    cfg->ldap_uri[0] = uris[0];
    cfg->ldap_uri_count = 1;
    cfg->ldap_bind_dn = "";
    cfg->ldap_bind_pw_file = "";
    cfg->ldap_tls_ca_file = "";
    cfg->ldap_timeout = 1;
    cfg->ldap_base = "dc=example,dc=com";
    cfg->ldap_filter = "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))";
    cfg->ldap_page_size = 1000;
    cfg->attr.mail = "mail";
    cfg->attr.alias = "mailAlias";
    cfg->attr.group = "mailGroupMember";
    cfg->attr.home = "mailHomeDirectory";
    cfg->attr.storage = "mailStorageDirectory";
    cfg->attr.uid = "mailUidNumber";
    cfg->attr.gid = "mailGidNumber";
    cfg->attr.quota = "mailQuota";
    cfg->attr.password = "userPassword";
}

static const struct {
    const char *in;
    size_t len;
    const char *want;
} escapes[] = {
    { "", 0, "" },
    { "alice@example.com", 17, "alice@example.com" },
    { "*", 1, "\\2a" },
    { "(", 1, "\\28" },
    { ")", 1, "\\29" },
    { "\\", 1, "\\5c" },
    { "\0", 1, "\\00" },
    { "a\0b", 3, "a\\00b" },
    { "*)(mail=*", 9, "\\2a\\29\\28mail=\\2a" },
    { "\\2a", 3, "\\5c2a" },
    { "j\xc3\xb6rg@example.com", 17, "j\xc3\xb6rg@example.com" },   /* UTF-8 kept */
    { "\xff\xfe", 2, "\xff\xfe" },                                 /* invalid UTF-8 kept */
    { "a=b&|!~<>", 9, "a=b&|!~<>" },
    { "\x01\x1f\x7f", 3, "\x01\x1f\x7f" },
};

/* test_escape - the table, and buffers that are exactly big enough or not */
static void test_escape(void)
{
    char out[128];
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        int n = ldapdir_filter_escape(escapes[i].in, escapes[i].len, out, sizeof(out));
        is_int(n, (long long)strlen(escapes[i].want), "escape #%zu: length", i);
        ok(n >= 0 && memcmp(out, escapes[i].want, strlen(escapes[i].want) + 1) == 0,
           "escape #%zu: value", i);
    }
    is_int(ldapdir_filter_escape("abc", 3, out, 4), 3, "exact fit");
    is_str(out, "abc", "exact fit: value");
    is_int(ldapdir_filter_escape("abc", 3, out, 3), -1, "one byte short");
    is_str(out, "", "one byte short: empty result");
    is_int(ldapdir_filter_escape("*", 1, out, 4), 3, "escape exactly fits");
    is_int(ldapdir_filter_escape("*", 1, out, 3), -1, "escape does not fit");
    is_int(ldapdir_filter_escape("a*", 2, out, 4), -1, "escape after a byte does not fit");
    is_int(ldapdir_filter_escape("", 0, out, 1), 0, "empty into one byte");
    is_int(ldapdir_filter_escape("a", 1, out, 0), -1, "no room at all");
    is_int(ldapdir_filter_escape("a", 1, NULL, 10), -1, "no buffer");
    is_int(ldapdir_filter_escape(NULL, 3, out, sizeof(out)), -1, "NULL input with a length");
    is_int(ldapdir_filter_escape(NULL, 0, out, sizeof(out)), 0, "NULL input, length 0");

    /* Every byte value: only the five special ones grow. */
    {
        char in[256], big[1024];
        int n;
        for (int c = 0; c < 256; c++)
            in[c] = (char)c;
        n = ldapdir_filter_escape(in, 256, big, sizeof(big));
        is_int(n, 256 + 5 * 2, "all 256 bytes: five escapes");
    }
}

static const struct {
    const char *name;
    int valid;
} attrnames[] = {
    { "mail", 1 },
    { "mailAlias", 1 },
    { "x-custom-Attr2", 1 },
    { "mail;lang-de", 1 },
    { "mail;lang-de;x", 1 },
    { "2.5.4.3", 1 },
    { "1.3.6.1.4.1.29426.1.10.1;binary", 1 },
    { "", 0 },
    { "1", 0 },
    { "1.", 0 },
    { ".1", 0 },
    { "1..2", 0 },
    { "1.2a", 0 },
    { "-mail", 0 },
    { "ma il", 0 },
    { "mail)", 0 },
    { "mail=", 0 },
    { "mail*", 0 },
    { "(mail", 0 },
    { "mail;", 0 },
    { "mail;;x", 0 },
    { ";x", 0 },
    { "m\xc3\xa4il", 0 },
    { "mail\n", 0 },
    { "mail_x", 0 },
};

/* test_attr_valid - attribute descriptions */
static void test_attr_valid(void)
{
    char longname[300];
    for (size_t i = 0; i < sizeof(attrnames) / sizeof(attrnames[0]); i++)
        is_int(ldapdir_attr_valid(attrnames[i].name), attrnames[i].valid, "attribute name #%zu '%s'",
               i, strchr(attrnames[i].name, '\n') != NULL ? "mail\\n" : attrnames[i].name);
    ok(!ldapdir_attr_valid(NULL), "NULL is no attribute name");
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ok(!ldapdir_attr_valid(longname), "an overlong name is refused");
    longname[256] = '\0';
    ok(ldapdir_attr_valid(longname), "256 characters are fine");
}

/* join - the attribute list as one space separated string */
static const char *join(const char *const *list, size_t n)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(buf, " ");
        strcat(buf, list[i]);
    }
    return buf;
}

/* test_attr_list - the attributes a search requests */
static void test_attr_list(void)
{
    struct conf cfg;
    const char *list[LDAPDIR_ATTR_MAX + 1];
    size_t n;

    test_conf(&cfg);
    n = ldapdir_attr_list(&cfg, list);
    is_int(n, 10, "defaults: ten attributes");
    is_str(join(list, n), "mail mailAlias mailGroupMember mailHomeDirectory mailStorageDirectory"
           " mailUidNumber mailGidNumber mailQuota userPassword entryUUID", "defaults: the list");
    ok(list[n] == NULL, "defaults: NULL terminated");

    cfg.attr.alias = "";
    cfg.attr.password = NULL;
    cfg.attr.gid = "MAILUIDNUMBER";     /* same as uid, other case */
    cfg.attr.home = "entryuuid";
    n = ldapdir_attr_list(&cfg, list);
    is_str(join(list, n), "mail mailGroupMember entryuuid mailStorageDirectory mailUidNumber"
           " mailQuota", "empty, missing and duplicate names are left out");
    ok(list[n] == NULL, "still NULL terminated");
}

static const struct {
    const char *filter;
    const char *addr;
    size_t len;
    const char *want;   /* NULL = error */
} keyfilters[] = {
    { "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))", "alice@example.com", 17,
      "(&(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))"
      "(|(mail=alice@example.com)(mailAlias=alice@example.com)(mailGroupMember=alice@example.com)))" },
    { "objectClass=PostfixBookMailAccount", "a@b", 3,
      "(&(objectClass=PostfixBookMailAccount)(|(mail=a@b)(mailAlias=a@b)(mailGroupMember=a@b)))" },
    { "", "a@b", 3,
      "(&(objectClass=*)(|(mail=a@b)(mailAlias=a@b)(mailGroupMember=a@b)))" },
    { NULL, "a@b", 3,
      "(&(objectClass=*)(|(mail=a@b)(mailAlias=a@b)(mailGroupMember=a@b)))" },
    { "(objectClass=*)", "*)(mail=*", 9,
      "(&(objectClass=*)(|(mail=\\2a\\29\\28mail=\\2a)(mailAlias=\\2a\\29\\28mail=\\2a)"
      "(mailGroupMember=\\2a\\29\\28mail=\\2a)))" },
    { "(objectClass=*)", "a\0b", 3,
      "(&(objectClass=*)(|(mail=a\\00b)(mailAlias=a\\00b)(mailGroupMember=a\\00b)))" },
    { "(objectClass=*)", "", 0,
      "(&(objectClass=*)(|(mail=)(mailAlias=)(mailGroupMember=)))" },
    { "(cn=a\\29b)", "x", 1,
      "(&(cn=a\\29b)(|(mail=x)(mailAlias=x)(mailGroupMember=x)))" },
    { "(cn=a\\(b)", "x", 1,
      "(&(cn=a\\(b)(|(mail=x)(mailAlias=x)(mailGroupMember=x)))" },
    { "(cn=a\\)", "x", 1, NULL },    /* the escaped ')' leaves it open */
    { "&(a=b)(c=d)", "x", 1,
      "(&(&(a=b)(c=d))(|(mail=x)(mailAlias=x)(mailGroupMember=x)))" },
    { "(a=b)(c=d)", "x", 1, NULL },     /* two expressions */
    { "a=b)(c=d", "x", 1, NULL },       /* would become two expressions */
    { "(a=b", "x", 1, NULL },
    { "(a=b))", "x", 1, NULL },
    { ")(", "x", 1, NULL },
    { "()", "x", 1, NULL },
    { "(|(a=b)(c=d)))(|(x=y)", "x", 1, NULL },
};

/* test_key_filter - the key search filter */
static void test_key_filter(void)
{
    struct conf cfg;
    char err[256], *f, longaddr[LDAPDIR_KEY_LEN_MAX + 2];

    test_conf(&cfg);
    for (size_t i = 0; i < sizeof(keyfilters) / sizeof(keyfilters[0]); i++) {
        cfg.ldap_filter = (char *)keyfilters[i].filter;
        err[0] = '\0';
        f = ldapdir_key_filter(&cfg, keyfilters[i].addr, keyfilters[i].len, err, sizeof(err));
        if (keyfilters[i].want != NULL) {
            is_str(f, keyfilters[i].want, "key filter #%zu", i);
        } else {
            ok(f == NULL, "key filter #%zu: refused", i);
            ok(strstr(err, "not one filter expression") != NULL, "key filter #%zu: says why (%s)",
               i, err);
        }
        free(f);
    }

    test_conf(&cfg);
    cfg.attr.alias = "";
    cfg.attr.group = NULL;
    f = ldapdir_key_filter(&cfg, "a@b", 3, err, sizeof(err));
    is_str(f, "(&(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))(|(mail=a@b)))",
           "no alias and group attributes: mail only");
    free(f);

    test_conf(&cfg);
    cfg.attr.mail = "";
    f = ldapdir_key_filter(&cfg, "a@b", 3, err, sizeof(err));
    ok(f == NULL && strstr(err, "ldap_attr_mail") != NULL, "empty mail attribute is refused");
    free(f);

    test_conf(&cfg);
    cfg.attr.alias = "mailAlias)(objectClass=*";
    f = ldapdir_key_filter(&cfg, "a@b", 3, err, sizeof(err));
    ok(f == NULL && strstr(err, "not an attribute name") != NULL,
       "an attribute name that is a filter is refused");
    free(f);

    test_conf(&cfg);
    memset(longaddr, 'a', sizeof(longaddr));
    f = ldapdir_key_filter(&cfg, longaddr, LDAPDIR_KEY_LEN_MAX, err, sizeof(err));
    ok(f != NULL && strlen(f) > 3 * LDAPDIR_KEY_LEN_MAX, "longest address is accepted");
    free(f);
    f = ldapdir_key_filter(&cfg, longaddr, LDAPDIR_KEY_LEN_MAX + 1, err, sizeof(err));
    ok(f == NULL, "overlong address is refused");
    free(f);
    f = ldapdir_key_filter(&cfg, NULL, 1, err, sizeof(err));
    ok(f == NULL, "NULL address is refused");
    free(f);

    /* An address of only special characters triples. */
    {
        char stars[LDAPDIR_KEY_LEN_MAX];
        memset(stars, '*', sizeof(stars));
        f = ldapdir_key_filter(&cfg, stars, sizeof(stars), err, sizeof(err));
        ok(f != NULL && strchr(f, '*') == NULL, "1024 stars: all escaped");
        free(f);
    }
}

/* count_cb - count entries (none arrive in these tests) */
static int count_cb(void *ctx, const struct entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

/* test_open - settings checks and searches that fail without a server */
static void test_open(void)
{
    struct conf cfg;
    struct ldapdir *dir;
    char err[512];
    int n = 0;

    test_conf(&cfg);
    cfg.ldap_uri_count = 0;
    ok(ldapdir_open(&cfg, err, sizeof(err)) == NULL && strstr(err, "ldap_uri") != NULL,
       "no URI: refused (%s)", err);
    test_conf(&cfg);
    cfg.ldap_base = "";
    ok(ldapdir_open(&cfg, err, sizeof(err)) == NULL && strstr(err, "ldap_base") != NULL,
       "no base: refused (%s)", err);
    test_conf(&cfg);
    cfg.ldap_bind_dn = "cn=x";
    ok(ldapdir_open(&cfg, err, sizeof(err)) == NULL && strstr(err, "ldap_bind_pw_file") != NULL,
       "bind DN without password file: refused (%s)", err);
    test_conf(&cfg);
    cfg.attr.quota = "mail Quota";
    ok(ldapdir_open(&cfg, err, sizeof(err)) == NULL && strstr(err, "mail Quota") != NULL,
       "bad attribute name: refused (%s)", err);
    test_conf(&cfg);
    cfg.ldap_filter = "(a=b)(c=d)";
    ok(ldapdir_open(&cfg, err, sizeof(err)) == NULL && strstr(err, "ldap_filter") != NULL,
       "bad filter: refused (%s)", err);
    ok(ldapdir_open(NULL, err, sizeof(err)) == NULL, "no configuration: refused");
    ldapdir_close(NULL);
    ok(1, "ldapdir_close(NULL) is fine");

    test_conf(&cfg);
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir != NULL, "good settings: a handle (%s)", dir ? "" : err);
    if (dir == NULL)
        return;
    is_str(ldapdir_uri(dir), "", "not connected yet: no URI");
    is_int(ldapdir_search_key(dir, "", count_cb, &n, err, sizeof(err)), 0,
           "empty key: no entries, no server asked");
    {
        char longaddr[LDAPDIR_KEY_LEN_MAX + 2];
        memset(longaddr, 'a', sizeof(longaddr) - 1);
        longaddr[sizeof(longaddr) - 1] = '\0';
        is_int(ldapdir_search_key(dir, longaddr, count_cb, &n, err, sizeof(err)), 0,
               "overlong key: no entries, no server asked");
    }
    is_str(ldapdir_uri(dir), "", "still not connected");
    /* Port 1 on loopback refuses at once. */
    is_int(ldapdir_search_all(dir, count_cb, &n, err, sizeof(err)), -1,
           "unreachable server: search fails");
    ok(strstr(err, "ldap://127.0.0.1:1/") != NULL && strstr(err, "contact") != NULL,
       "the error names the URI and the reason (%s)", err);
    is_int(ldapdir_search_key(dir, "a@b", count_cb, &n, err, sizeof(err)), -1,
           "unreachable server: key search fails");
    is_int(ldapdir_connect(dir, err, sizeof(err)), -1, "unreachable server: connect fails");
    is_int(n, 0, "no entries were delivered");
    is_int(ldapdir_entry_count(dir), 0, "entry count 0");
    ldapdir_close(dir);

    {
        static char *uris[] = { "http://example.com/", "ldap://127.0.0.1:1/" };
        test_conf(&cfg);
        cfg.ldap_uri[0] = uris[0];
        cfg.ldap_uri[1] = uris[1];
        cfg.ldap_uri_count = 2;
        dir = ldapdir_open(&cfg, err, sizeof(err));
        ok(dir != NULL, "two URIs: a handle");
        if (dir == NULL)
            return;
        is_int(ldapdir_connect(dir, err, sizeof(err)), -1, "two bad URIs: connect fails");
        ok(strstr(err, "http://example.com/: not a usable LDAP URI") != NULL
           && strstr(err, "; ldap://127.0.0.1:1/: ") != NULL,
           "the error names both URIs in order (%s)", err);
        ldapdir_close(dir);
    }

    test_conf(&cfg);
    cfg.ldap_bind_dn = "cn=x";
    cfg.ldap_bind_pw_file = "/nonexistent/mailmaps-test.pw";
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir != NULL, "bind DN and password file: a handle");
    if (dir != NULL) {
        is_int(ldapdir_connect(dir, err, sizeof(err)), -1, "missing password file: connect fails");
        ok(strstr(err, "bind password") != NULL, "and says so (%s)", err);
        ldapdir_close(dir);
    }

    /* An empty password would make the bind an unauthenticated one. */
    {
        char path[] = "/tmp/test-ldapdir.XXXXXX";
        int fd = mkstemp(path);
        ok(fd >= 0, "temporary password file");
        if (fd >= 0) {
            close(fd);
            test_conf(&cfg);
            cfg.ldap_bind_dn = "cn=x";
            cfg.ldap_bind_pw_file = path;
            dir = ldapdir_open(&cfg, err, sizeof(err));
            ok(dir != NULL, "empty password file: a handle");
            if (dir != NULL) {
                is_int(ldapdir_connect(dir, err, sizeof(err)), -1,
                       "empty password file: connect fails");
                ok(strstr(err, "is empty") != NULL, "and says so (%s)", err);
                ldapdir_close(dir);
            }
            unlink(path);
        }
    }
}

int main(void)
{
    test_escape();
    test_attr_valid();
    test_attr_list();
    test_key_filter();
    test_open();
    return tap_done();
}
