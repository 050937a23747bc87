/* test-mapdomains - domain entries: reading (one primary domain, alias
 * domains), resolution (primary beats alias, smaller DN wins, no entry
 * takes another's primary), replacement and removal by DN, the queries */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/conf.h"
#include "maps/mapdomains.h"
#include "tests/unit/entrylit.h"
#include "tests/unit/tap.h"

struct tdom {
    const char *dn;
    struct entry_attr attrs[3];
};

static char warnings[8192];

/* on_warn - collect "dn: msg" lines */
static void on_warn(void *ctx, const char *dn, const char *msg)
{
    (void)ctx;
    size_t n = strlen(warnings);
    snprintf(warnings + n, sizeof(warnings) - n, "%s: %s\n", dn, msg);
}

/* add - the entries of t into md; the number added */
static int add(struct mapdomains *md, const struct conf *cfg, const struct tdom *t, size_t n)
{
    char err[256];
    int added = 0;

    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < 3 && t[i].attrs[k].name != NULL)
            k++;
        struct entry e = { t[i].dn, NULL, k, t[i].attrs };
        int rc = mapdomains_add_entry(md, cfg, &e, on_warn, NULL, err, sizeof(err));
        if (rc < 0)
            diag("add: %s", err);
        added += rc == 1;
    }
    return added;
}

/* names - every name that stays, space separated */
static const char *names(const struct mapdomains *md)
{
    static char buf[2048];
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < mapdomains_name_count(md); i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "",
                              mapdomains_name(md, i));
    return buf;
}

/* aliases - the alias domains of primary p, space separated */
static const char *aliases(const struct mapdomains *md, const char *p)
{
    static char buf[1024];
    const char *const *list;
    size_t n = mapdomains_aliases(md, p, strlen(p), &list), o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", list[i]);
    return buf;
}

static const struct tdom doms[] = {
    { "domainName=example.com,o=domains,dc=x",
      { A("domainName", V("Example.COM")),
        A("domainAliasName", V("example.net"), V("EXAMPLE.NET"), V("example.com"),
          V("bad domain"), V("example.org")) } },
    /* bad entries: skipped, one warning each */
    { "domainName=none,o=domains,dc=x", { A("objectClass", V("mailDomain")) } },
    { "domainName=two,o=domains,dc=x", { A("domainName", V("a.test"), V("b.test")) } },
    { "domainName=bad,o=domains,dc=x", { A("domainName", V("-bad.test")) } },
    { "domainName=nul,o=domains,dc=x", { A("domainName", { "a\0b.test", 8 }) } },
    /* a second claim on example.com: smaller DN? "domainname=aaa" < "domainname=example.com" */
    { "domainName=aaa,o=domains,dc=x",
      { A("domainName", V("example.com")), A("domainAliasName", V("stolen.test")) } },
    /* an alias domain that is another entry's primary; and one that another
     * entry (with a larger DN) also claims */
    { "domainName=other.test,o=domains,dc=x",
      { A("domainName", V("other.test")),
        A("domainAliasName", V("third.test"), V("shared.test")) } },
    { "domainName=third.test,o=domains,dc=x",
      { A("domainName", V("third.test")), A("domainAliasName", V("shared.test")) } },
    /* its primary is example.com's alias domain: primary beats alias */
    { "domainName=zzz,o=domains,dc=x", { A("domainName", V("example.org")) } },
};

/* test_resolve - the scenario above */
static void test_resolve(const struct conf *cfg)
{
    struct mapdomains *md = mapdomains_new();
    char err[256];

    warnings[0] = '\0';
    is_int(add(md, cfg, doms, sizeof(doms) / sizeof(doms[0])), 5, "five entries read");
    is_str(warnings,
           "domainName=example.com,o=domains,dc=x: alias domain \"bad domain\" of domainAliasName "
           "ignored: not a domain name\n"
           "domainName=none,o=domains,dc=x: domain entry skipped: no domainName\n"
           "domainName=two,o=domains,dc=x: domain entry skipped: several values of domainName\n"
           "domainName=bad,o=domains,dc=x: domain entry skipped: domainName \"-bad.test\" is not "
           "a domain name\n"
           "domainName=nul,o=domains,dc=x: domain entry skipped: domainName \"a\\x00b.test\" is "
           "not a domain name\n",
           "one warning per bad entry or value");
    is_int(mapdomains_count(md), 5, "count");
    warnings[0] = '\0';
    is_int(mapdomains_resolve(md, on_warn, NULL, err, sizeof(err)), 0, "resolve");
    is_str(warnings,
           "domainname=example.com,o=domains,dc=x: domain entry skipped: its domain example.com "
           "is the domain of domainname=aaa,o=domains,dc=x\n"
           "domainname=third.test,o=domains,dc=x: alias domain shared.test dropped: it is an "
           "alias domain of domainname=other.test,o=domains,dc=x\n"
           "domainname=other.test,o=domains,dc=x: alias domain third.test dropped: it is the "
           "domain of domainname=third.test,o=domains,dc=x\n",
           "conflicts: one warning each, naming both DNs");
    is_str(names(md), "example.com example.org other.test shared.test stolen.test third.test",
           "the names that stay");
    ok(mapdomains_primary(md, "example.com", 11), "example.com is primary (of aaa)");
    ok(mapdomains_primary(md, "example.org", 11), "example.org is primary (zzz)");
    ok(!mapdomains_primary(md, "stolen.test", 11), "an alias domain is not primary");
    is_int(mapdomains_kind(md, "stolen.test", 11), MAPDOMAINS_ALIAS, "but an alias domain");
    is_int(mapdomains_kind(md, "example.com", 11), MAPDOMAINS_PRIMARY, "kind of a primary");
    is_int(mapdomains_kind(md, "example.net", 11), MAPDOMAINS_NONE,
           "the skipped entry's alias is nothing");
    is_int(mapdomains_kind(md, "example.co", 10), MAPDOMAINS_NONE, "a prefix is no match");
    is_int(mapdomains_kind(md, "example.comx", 12), MAPDOMAINS_NONE, "nor a longer name");
    is_int(mapdomains_kind(md, "example.comx", 11), MAPDOMAINS_PRIMARY,
           "length counts, not the NUL");
    is_str(mapdomains_primary_of(md, "stolen.test", 11), "example.com", "alias -> primary");
    ok(mapdomains_primary_of(md, "example.com", 11) == NULL, "a primary has no primary");
    is_str(mapdomains_primary_of(md, "shared.test", 11), "other.test", "smaller DN keeps it");
    is_str(aliases(md, "example.com"), "stolen.test", "aliases of example.com");
    is_str(aliases(md, "other.test"), "shared.test", "aliases of other.test");
    is_str(aliases(md, "third.test"), "", "third.test lost its alias");
    is_str(aliases(md, "stolen.test"), "", "an alias domain has none");

    /* removing aaa gives example.com back to its own entry */
    is_int(mapdomains_remove(md, "domainName=AAA, o=domains, dc=x"), 1, "remove by DN, any form");
    is_int(mapdomains_remove(md, "domainName=AAA,o=domains,dc=x"), 0, "not there any more");
    warnings[0] = '\0';
    is_int(mapdomains_resolve(md, on_warn, NULL, err, sizeof(err)), 0, "resolve again");
    is_str(aliases(md, "example.com"), "example.net", "example.com's own aliases now");
    is_str(names(md), "example.com example.net example.org other.test shared.test third.test",
           "names after the removal");
    ok(strstr(warnings, "example.org dropped: it is the domain of domainname=zzz") != NULL,
       "primary beats alias");

    /* replacing an entry: the last one added under a DN counts */
    const struct tdom again[] = {
        { "domainName=third.test,o=domains,dc=x",
          { A("domainName", V("third.test")), A("domainAliasName", V("new.test")) } },
    };
    is_int(add(md, cfg, again, 1), 1, "added again");
    is_int(mapdomains_resolve(md, NULL, NULL, err, sizeof(err)), 0, "resolve");
    is_str(aliases(md, "third.test"), "new.test", "the new version counts");
    is_int(mapdomains_count(md), 4, "the old version is gone");
    mapdomains_free(md);
}

/* test_alias_setting_off - ldap_attr_domain_alias empty: no alias domains */
static void test_alias_setting_off(struct conf *cfg)
{
    struct mapdomains *md = mapdomains_new();
    char err[256];
    char *saved = cfg->ldap_attr_domain_alias;

    cfg->ldap_attr_domain_alias = "";
    add(md, cfg, doms, 1);
    is_int(mapdomains_resolve(md, NULL, NULL, err, sizeof(err)), 0, "resolve");
    is_str(names(md), "example.com", "no alias domains read");
    cfg->ldap_attr_domain_alias = saved;
    mapdomains_free(md);
    mapdomains_free(NULL);
}

int main(void)
{
    struct conf cfg;
    char err[CONF_ERRSZ];
    const char *text = "ldap_base = dc=x\n";

    if (conf_parse_buffer(&cfg, "t", text, strlen(text), err, sizeof(err)) < 0)
        return diag("%s", err), 1;
    test_resolve(&cfg);
    test_alias_setting_off(&cfg);
    conf_free(&cfg);
    return tap_done();
}
