/* test-mapcheck - `mailmaps check` on maps the sync writes: the default
 * schema and an iRedMail-shaped directory (forwards, alias domains, alias
 * logins, domains without mailboxes) pass; maps spoiled by hand do not */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/conf.h"
#include "maps/mapbuild.h"
#include "maps/mapcheck.h"
#include "maps/mapset.h"
#include "maps/mapwriter.h"
#include "maps/status.h"
#include "tests/unit/entrylit.h"
#include "tests/unit/tap.h"

struct tentry {
    const char *dn;
    int domain;              /* a domain entry */
    struct entry_attr attrs[6];
};

static const struct tentry ired[] = {
    { "domainName=example.com,o=domains,dc=x", 1,
      { A("domainName", V("example.com")), A("domainAliasName", V("example.net")) } },
    { "domainName=empty.org,o=domains,dc=x", 1, { A("domainName", V("empty.org")) } },
    { "mail=alice@example.com,ou=Users,domainName=example.com,o=domains,dc=x", 0,
      { A("mail", V("alice@example.com")), A("enabledService", V("shadowaddress"), V("forward")),
        A("shadowAddress", V("al@example.com")),
        A("mailForwardingAddress", V("alice@example.com"), V("bob@gmail.com")),
        A("homeDirectory", V("/var/vmail/vmail1/example.com/alice")) } },
    { "mail=bob@example.com,ou=Users,domainName=example.com,o=domains,dc=x", 0,
      { A("mail", V("bob@example.com")), A("mailGroupMember", V("team@example.com")),
        A("homeDirectory", V("/var/vmail/vmail1/example.com/bob")) } },
};

/* The writers of one map directory. */
struct maps {
    struct mapwriter *w[MAP_COUNT];
};

/* to_writer - mapbuild's records into the writer of their map */
static int to_writer(void *ctx, enum map_id map, const char *key, size_t keylen,
                     const char *val, size_t vallen)
{
    struct maps *m = ctx;
    char err[256];

    return mapwriter_add(m->w[map], key, keylen, val, vallen, err, sizeof(err));
}

/* write_maps - the maps of entries t under cfg into cfg's maps_dir, with
 * a status that matches them; 0 or -1 */
static int write_maps(const struct conf *cfg, const struct tentry *t, size_t n)
{
    struct mapbuild *mb = mapbuild_new(cfg, NULL, NULL);
    struct maps m;
    struct mapbuild_counts c;
    struct status st = { .generation = 1, .synced_at = 1 };
    char path[512], err[256];
    int rc = -1;

    for (int i = 0; i < MAP_COUNT; i++) {
        snprintf(path, sizeof(path), "%s/%s.cdb", cfg->maps_dir, map_name((enum map_id)i));
        m.w[i] = mapwriter_new(path, 0640, (gid_t)-1);
    }
    for (size_t i = 0; i < n; i++) {
        size_t na = 0;
        while (na < 6 && t[i].attrs[na].name != NULL)
            na++;
        struct entry e = { .dn = t[i].dn, .attr_count = na, .attrs = t[i].attrs };
        if ((t[i].domain ? mapbuild_add_domain(mb, &e, err, sizeof(err))
                         : mapbuild_add_entry(mb, &e, err, sizeof(err))) < 0)
            goto out;
    }
    if (mapbuild_finish(mb, to_writer, &m, &c, err, sizeof(err)) < 0 ||
        mapwriter_commit(m.w, MAP_COUNT, st.checksum, err, sizeof(err)) < 0)
        goto out;
    st.users = c.users;
    st.aliases = c.aliases;
    st.domains = c.domains;
    snprintf(path, sizeof(path), "%s/status", cfg->maps_dir);
    rc = status_write(path, &st, err, sizeof(err));
out:
    if (rc < 0)
        diag("write_maps: %s", err);
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(m.w[i]);
    mapbuild_free(mb);
    return rc;
}

/* check - mapcheck_run; the problems as lines into buf */
static int check(const struct conf *cfg, char *buf, size_t bufsz)
{
    struct mapcheck_report rep;
    size_t o = 0;

    memset(&rep, 0, sizeof(rep));
    int rc = mapcheck_run(cfg, &rep);
    buf[0] = '\0';
    for (size_t i = 0; i < rep.problem_count; i++)
        o += (size_t)snprintf(buf + o, bufsz - o, "%s\n", rep.problem[i]);
    mapcheck_report_free(&rep);
    return rc;
}

/* test_iredmail - the maps of an iRedMail-shaped directory pass */
static void test_iredmail(const char *dir)
{
    struct conf cfg;
    char text[1024], err[256], problems[8192];

    snprintf(text, sizeof(text),
             "ldap_base = o=domains,dc=x\nmaps_dir = %s\nldap_attr_alias = shadowAddress\n"
             "ldap_attr_home = homeDirectory\nldap_attr_forward = mailForwardingAddress\n"
             "ldap_alias_filter = (enabledService=shadowaddress)\n"
             "ldap_forward_filter = (enabledService=forward)\n"
             "ldap_domain_filter = (objectClass=mailDomain)\n"
             "mail_location = maildir:%%h/Maildir\nalias_login = yes\n", dir);
    if (conf_parse_buffer(&cfg, "t", text, strlen(text), err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        exit(1);
    }
    ok(write_maps(&cfg, ired, sizeof(ired) / sizeof(ired[0])) == 0, "iredmail: maps written");
    int rc = check(&cfg, problems, sizeof(problems));
    is_int(rc, 0, "iredmail: mailmaps check finds nothing");
    if (rc != 0)
        diag("%s", problems);
    conf_free(&cfg);

    /* the same maps read with the default rules: the forward key, the
     * login and the empty domain are what they break */
    snprintf(text, sizeof(text), "ldap_base = o=domains,dc=x\nmaps_dir = %s\n", dir);
    conf_parse_buffer(&cfg, "t", text, strlen(text), err, sizeof(err));
    is_int(check(&cfg, problems, sizeof(problems)), -1, "default rules: problems");
    ok(strstr(problems, "rules: aliases: alice@example.com is a mailbox's own address") != NULL,
       "default rules: a forward key is a mailbox's own address");
    ok(strstr(problems, "rules: domains: empty.org holds no mailbox") != NULL,
       "default rules: a domain without mailboxes");
    conf_free(&cfg);
}

/* test_spoiled_login - an alias login for an address that is no alias of
 * the account is reported */
static void test_spoiled_login(const char *dir)
{
    struct conf cfg;
    char text[512], err[256], problems[8192], path[512];

    snprintf(text, sizeof(text), "ldap_base = dc=x\nmaps_dir = %s\nalias_login = yes\n", dir);
    conf_parse_buffer(&cfg, "t", text, strlen(text), err, sizeof(err));
    const struct tentry plain[] = {
        { "uid=a,dc=x", 0, { A("mail", V("a@example.com")), A("mailAlias", V("x@example.com")) } },
    };
    ok(write_maps(&cfg, plain, 1) == 0, "login: maps written");
    is_int(check(&cfg, problems, sizeof(problems)), 0, "login: the sync's maps pass");
    /* users.cdb by hand: a login for someone else's address */
    struct mapwriter *w[MAP_COUNT];
    for (int i = 0; i < MAP_COUNT; i++) {
        snprintf(path, sizeof(path), "%s/%s.cdb", dir, map_name((enum map_id)i));
        w[i] = mapwriter_new(path, 0640, (gid_t)-1);
    }
    static const char rec[] = "home=/var/vmail/example.com/a\tuid=5000\tgid=5000";
    mapwriter_add(w[MAP_DOMAINS], "example.com", 11, "OK", 2, err, sizeof(err));
    mapwriter_add(w[MAP_MAILBOXES], "a@example.com", 13, "example.com/a/Maildir/", 22, err,
                  sizeof(err));
    mapwriter_add(w[MAP_ALIASES], "x@example.com", 13, "a@example.com", 13, err, sizeof(err));
    mapwriter_add(w[MAP_USERS], "a@example.com", 13, rec, sizeof(rec) - 1, err, sizeof(err));
    static const char login[] = "home=/var/vmail/example.com/a\tuid=5000\tgid=5000"
                                "\tuser=a@example.com";
    mapwriter_add(w[MAP_USERS], "y@example.com", 13, login, sizeof(login) - 1, err, sizeof(err));
    mapwriter_commit(w, MAP_COUNT, NULL, err, sizeof(err));
    for (int i = 0; i < MAP_COUNT; i++)
        mapwriter_free(w[i]);
    is_int(check(&cfg, problems, sizeof(problems)), -1, "login: spoiled");
    ok(strstr(problems, "users: y@example.com: a login for a@example.com, which is no mailbox "
                        "it is an alias of") != NULL, "login: the login without its alias");
    conf_free(&cfg);
}

int main(void)
{
    char dir[] = "/tmp/test-mapcheck.XXXXXX", cmd[64];

    if (mkdtemp(dir) == NULL)
        return 1;
    test_iredmail(dir);
    test_spoiled_login(dir);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return tap_done();
}
