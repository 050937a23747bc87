/* test-ldapdir - the parts of the directory access that need no server:
 * the key filter, the attribute list, handle checks, the
 * decoding of an entry's attribute list */

#include <stdio.h>
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
            ok(strstr(err, "ldap_filter: not an LDAP filter") != NULL, "key filter #%zu: says why (%s)",
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
    f = ldapdir_domain_filter(&cfg, "ex*(a)", 6, err, sizeof(err));
    is_str(f, "(&(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))"
              "(mail=*@ex\\2a\\28a\\29))", "domain filter: escaped");
    free(f);
    f = ldapdir_domain_filter(&cfg, "", 0, err, sizeof(err));
    ok(f == NULL, "domain filter: an empty domain is refused");
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

/* ---- ldapdir_entry_decode, fed BER written in a small notation:
 * TT{...} a constructed element with tag TT (hex) and its length worked
 * out, TT'...' a primitive one (%HH for any byte), a bare HH one raw byte
 * (to write broken lengths). */

#define ENC_MAX 65536

/* enc_items - encode items up to '}' or the end; returns bytes written */
static size_t enc_items(const char **p, unsigned char *out)
{
    size_t n = 0;
    for (;;) {
        unsigned tag;
        while (**p == ' ')
            (*p)++;
        if (**p == '\0' || **p == '}')
            return n;
        if (sscanf(*p, "%2x", &tag) != 1)
            abort();
        *p += 2;
        if (**p == '{' || **p == '\'') {
            static unsigned char tmp[8][ENC_MAX];
            static int depth;
            unsigned char *c = tmp[depth++];
            size_t len = 0;
            if (**p == '{') {
                (*p)++;
                len = enc_items(p, c);
                if (**p != '}')
                    abort();
                (*p)++;
            } else {
                for ((*p)++; **p != '\''; (*p)++) {
                    unsigned b;
                    if (**p == '%' && sscanf(*p + 1, "%2x", &b) == 1) {
                        c[len++] = (unsigned char)b;
                        *p += 2;
                    } else {
                        c[len++] = (unsigned char)**p;
                    }
                }
                (*p)++;
            }
            depth--;
            out[n++] = (unsigned char)tag;
            if (len < 0x80) {
                out[n++] = (unsigned char)len;
            } else {
                out[n++] = 0x82;
                out[n++] = (unsigned char)(len >> 8);
                out[n++] = (unsigned char)len;
            }
            memcpy(out + n, c, len);
            n += len;
        } else {
            out[n++] = (unsigned char)tag;
        }
    }
}

/* decode_list - wrap list (the attribute list's content, in the notation)
 * into an entry for dn, position a BerElement as ldap_get_dn_ber() does
 * and decode it; the buffer stays valid until the next call */
static int decode_list(struct ldapdir *dir, const char *list, struct entry *e,
                       char *err, size_t errsz)
{
    static unsigned char buf[ENC_MAX + 16];
    static char text[ENC_MAX];
    struct berval bv, dn;
    const char *p = text;
    BerElement *ber;
    ber_len_t len = 0;
    int r;

    snprintf(text, sizeof(text), "30{ 04'uid=a,dc=example,dc=com' 30{ %s } }", list);
    memset(buf, 0, sizeof(buf));
    bv.bv_len = enc_items(&p, buf);
    bv.bv_val = (char *)buf;  /* one spare byte stays: liblber writes a NUL there */
    ber = ber_alloc_t(LBER_USE_DER);
    if (ber == NULL)
        abort();
    ber_init2(ber, &bv, LBER_USE_DER);
    if (ber_scanf(ber, "{ml{", &dn, &len) == LBER_ERROR
        || ber_set_option(ber, LBER_OPT_REMAINING_BYTES, &len) != LBER_OPT_SUCCESS) {
        ber_free(ber, 0);
        return -2;
    }
    r = ldapdir_entry_decode(dir, ber, dn.bv_val, e, err, errsz);
    ber_free(ber, 0);
    return r;
}

/* value_is - one value's bytes, and the NUL liblber puts after it */
static int value_is(const struct entry_value *v, const char *want, size_t len)
{
    return v->len == len && memcmp(v->data, want, len) == 0 && v->data[len] == '\0';
}

static const struct {
    const char *list;
    const char *why;
} bad_lists[] = {
    { "30{ 04'mail' 31 02 04'xyz' }", "a value runs past its set" },
    { "30{ 04'mail' 31{ 04'a' } 04'b' }", "an element after the set" },
    { "30{ 04'mail' }", "no set of values" },
    { "30{ 04'mail' } 30{ 04'uid' 31{ } }", "no set, another attribute after" },
    { "30{ 04'a%00b' 31{ } }", "a NUL inside the name" },
    { "30 7f 04'mail'", "a length past the end of the list" },
    { "30 80 04'mail' 31{ } 00 00", "indefinite length" },
    { "30{ 04'mail' 31{ 04 05 61 62 } }", "a value's length past its set" },
    { "30{ 04'mail' 31{ 04'a' } } 30", "a lone tag at the end" },
};

/* test_decode - attribute lists, good and broken */
static void test_decode(void)
{
    struct conf cfg;
    struct ldapdir *dir;
    struct entry e;
    char err[512], list[ENC_MAX / 2];
    size_t o;

    test_conf(&cfg);
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir != NULL, "a handle for decoding");
    if (dir == NULL)
        return;

    is_int(decode_list(dir, "", &e, err, sizeof(err)), 0, "empty attribute list");
    is_int(e.attr_count, 0, "… no attributes");
    ok(e.uuid == NULL, "… no entryUUID");
    is_str(e.dn, "uid=a,dc=example,dc=com", "… the DN as given");

    is_int(decode_list(dir,
                       "30{ 04'mail' 31{ 04'a@example.com' 04'' } }"
                       "30{ 04'userPassword' 31{ 04'x%00y%ff' } }"
                       "30{ 04'mailAlias' 31{ } }"
                       "30{ 04'entryUUID' 31{ 04'0a1b2c3d-0000-1000-8000-000000000001' } }",
                       &e, err, sizeof(err)), 0, "four attributes (%s)", err);
    is_int(e.attr_count, 4, "… all four");
    if (e.attr_count == 4) {
        is_str(e.attrs[0].name, "mail", "… the first name");
        is_int(e.attrs[0].count, 2, "… two values");
        ok(value_is(&e.attrs[0].values[0], "a@example.com", 13), "… the first value");
        ok(value_is(&e.attrs[0].values[1], "", 0), "… an empty value");
        is_int(e.attrs[1].count, 1, "… userPassword: one value");
        ok(value_is(&e.attrs[1].values[0], "x\0y\xff", 4), "… NUL and 0xff kept with the length");
        is_str(e.attrs[2].name, "mailAlias", "… an attribute without values");
        is_int(e.attrs[2].count, 0, "… count 0");
        is_str(e.uuid, "0a1b2c3d-0000-1000-8000-000000000001", "… entryUUID as text");
    }

    is_int(decode_list(dir, "30{ 04'ENTRYUUID' 31{ 04'u%00v' } } 30{ 04'entryuuid' 31{ 04'u-2' } }",
                       &e, err, sizeof(err)), 0, "two entryUUIDs");
    is_str(e.uuid, "u-2", "… a NUL makes the first no UUID; the second counts");
    snprintf(list, sizeof(list), "30{ 04'entryUUID' 31{ 04'%064d' } }", 0);
    is_int(decode_list(dir, list, &e, err, sizeof(err)), 0, "a 64-byte entryUUID");
    ok(e.uuid == NULL, "… is no UUID");
    is_int(decode_list(dir, "30{ 04'uid%00' 31{ 04'a' } }", &e, err, sizeof(err)), 0,
           "a NUL as the name's last byte (as libldap allows)");
    is_str(e.attrs[0].name, "uid", "… ends the name");
    is_int(decode_list(dir, "30{ 04'' 31{ 04'a' } }", &e, err, sizeof(err)), 0, "an empty name");

    /* Enough attributes and values to make the scratch arrays grow. */
    o = 0;
    for (int i = 0; i < 40; i++) {
        o += (size_t)snprintf(list + o, sizeof(list) - o, "30{ 04'a%d' 31{", i);
        for (int j = 0; j < 10; j++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, " 04'v%d.%d'", i, j);
        o += (size_t)snprintf(list + o, sizeof(list) - o, " } } ");
    }
    is_int(decode_list(dir, list, &e, err, sizeof(err)), 0, "40 attributes, 400 values (%s)", err);
    {
        int good = e.attr_count == 40;
        for (size_t i = 0; good && i < 40; i++) {
            char name[16], v[16];
            snprintf(name, sizeof(name), "a%zu", i);
            good = strcmp(e.attrs[i].name, name) == 0 && e.attrs[i].count == 10;
            for (size_t j = 0; good && j < 10; j++) {
                snprintf(v, sizeof(v), "v%zu.%zu", i, j);
                good = value_is(&e.attrs[i].values[j], v, strlen(v));
            }
        }
        ok(good, "… every name and value in place after the arrays grew");
    }
    is_int(decode_list(dir, "30{ 04'mail' 31{ 04'b@example.com' } }", &e, err, sizeof(err)), 0,
           "the handle decodes again");
    ok(e.attr_count == 1 && value_is(&e.attrs[0].values[0], "b@example.com", 13),
       "… with nothing left over");

    for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
        err[0] = '\0';
        is_int(decode_list(dir, bad_lists[i].list, &e, err, sizeof(err)), -1,
               "undecodable: %s", bad_lists[i].why);
        ok(strstr(err, "cannot decode the entry uid=a,dc=example,dc=com") != NULL,
           "… says so, with the DN (%s)", err);
    }
    ldapdir_close(dir);
}

/* iredmail_conf - test_conf with the settings of an iRedMail directory */
static void iredmail_conf(struct conf *cfg)
{
    test_conf(cfg);
    cfg->ldap_filter = "(&(objectClass=mailUser)(accountStatus=active)(enabledService=mail))";
    cfg->attr.alias = "shadowAddress";
    cfg->attr.group = "";
    cfg->attr.home = "homeDirectory";
    cfg->attr.storage = "";
    cfg->ldap_attr_forward = "mailForwardingAddress";
    cfg->ldap_alias_filter = "(enabledService=shadowaddress)";
    cfg->ldap_forward_filter = "(|(enabledService=forward)(&(objectClass=x)(!(ou=y))))";
    cfg->ldap_domain_filter = "(&(objectClass=mailDomain)(accountStatus=active))";
    cfg->ldap_attr_domain = "domainName";
    cfg->ldap_attr_domain_alias = "domainAliasName";
}

/* test_domains - the domain searches' filters and attributes, and the
 * account attributes the alias and forward filters add */
static void test_domains(void)
{
    struct conf cfg;
    struct ldapdir *dir;
    const char *list[LDAPDIR_ATTR_MAX + 1];
    char err[256], *f;
    size_t n;

    iredmail_conf(&cfg);
    n = ldapdir_attr_list(&cfg, list);
    is_str(join(list, n), "mail shadowAddress homeDirectory mailUidNumber mailGidNumber"
           " mailQuota userPassword mailForwardingAddress entryUUID",
           "iRedMail: the forward attribute is asked for");
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir != NULL, "iRedMail: a handle (%s)", dir == NULL ? err : "");
    if (dir != NULL) {
        char **a = ldapdir_attrs(dir);
        for (n = 0; a[n] != NULL; n++)
            ;
        is_str(join((const char *const *)a, n), "mail shadowAddress homeDirectory mailUidNumber"
               " mailGidNumber mailQuota userPassword mailForwardingAddress entryUUID"
               " enabledService objectClass ou",
               "iRedMail: and the attributes the alias and forward filters test, once each");
        a = ldapdir_domain_attrs(dir);
        for (n = 0; a[n] != NULL; n++)
            ;
        is_str(join((const char *const *)a, n), "domainName domainAliasName entryUUID",
               "iRedMail: a domain search asks for the domain attributes");
        is_str(ldapdir_domains_filter(dir), cfg.ldap_domain_filter,
               "iRedMail: the domain filter as searched");
        int seen = 0;
        ok(ldapdir_search_domains(dir, count_cb, &seen, err, sizeof(err)) < 0 && seen == 0,
           "iRedMail: the domain search fails without a server (%s)", err);
        ok(ldapdir_search_domain_name(dir, "example.com", count_cb, &seen, err, sizeof(err)) < 0,
           "iRedMail: and so does a domain name search");
        ldapdir_close(dir);
    }

    f = ldapdir_key_filter(&cfg, "a@b", 3, err, sizeof(err));
    is_str(f, "(&(&(objectClass=mailUser)(accountStatus=active)(enabledService=mail))"
              "(|(mail=a@b)(&(enabledService=shadowaddress)(shadowAddress=a@b))))",
           "key filter: an alias counts only where the alias filter admits it");
    free(f);
    f = ldapdir_domain_name_filter(&cfg, "ex*.com", 7, err, sizeof(err));
    is_str(f, "(&(&(objectClass=mailDomain)(accountStatus=active))"
              "(|(domainName=ex\\2a.com)(domainAliasName=ex\\2a.com)))",
           "domain name filter: primary or alias, escaped");
    free(f);
    cfg.ldap_attr_domain_alias = "";
    f = ldapdir_domain_name_filter(&cfg, "d", 1, err, sizeof(err));
    is_str(f, "(&(&(objectClass=mailDomain)(accountStatus=active))(domainName=d))",
           "domain name filter: no alias attribute, no alias term");
    free(f);
    cfg.ldap_domain_filter = "";
    f = ldapdir_domain_name_filter(&cfg, "d", 1, err, sizeof(err));
    ok(f == NULL && strstr(err, "ldap_domain_filter") != NULL,
       "domain name filter: none without ldap_domain_filter");
    free(f);
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir != NULL && ldapdir_domains_filter(dir) == NULL, "no domain filter: no domain search");
    if (dir != NULL) {
        int seen = 0;
        ok(ldapdir_search_domains(dir, count_cb, &seen, err, sizeof(err)) < 0 &&
           strstr(err, "ldap_domain_filter is empty") != NULL, "... refused (%s)", err);
    }
    ldapdir_close(dir);

    iredmail_conf(&cfg);
    cfg.ldap_attr_domain = "domain)(x=*";
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir == NULL && strstr(err, "not an attribute name") != NULL,
       "a domain attribute that is a filter is refused (%s)", err);
    ldapdir_close(dir);
    iredmail_conf(&cfg);
    cfg.ldap_domain_filter = "(objectClass=mailDomain))(x=*";
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir == NULL && strncmp(err, "ldap_domain_filter: ", 20) == 0,
       "an unbalanced domain filter is refused (%s)", err);
    ldapdir_close(dir);
    iredmail_conf(&cfg);
    cfg.ldap_alias_filter = "(&(a1=x)(a2=x)(a3=x)(a4=x)(a5=x)(a6=x)(a7=x)(a8=x)(a9=x))";
    cfg.ldap_forward_filter = "(&(b1=x)(b2=x)(b3=x)(b4=x)(b5=x)(b6=x)(b7=x)(b8=x)(b9=x))";
    dir = ldapdir_open(&cfg, err, sizeof(err));
    ok(dir == NULL && strstr(err, "more than 16 attributes") != NULL,
       "filters that test too many attributes are refused (%s)", err);
    ldapdir_close(dir);
}

int main(void)
{
    test_attr_list();
    test_key_filter();
    test_open();
    test_decode();
    test_domains();
    return tap_done();
}
