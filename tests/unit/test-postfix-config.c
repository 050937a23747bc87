/* test-postfix-config - the generated ldap_table(5) text for given
 * settings: connection, bind, TLS, filters, escapes; values Postfix cannot
 * carry refused; files written with their modes, or not at all. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/postfix_config.h"
#include "tests/unit/tap.h"

#define BASE "ldap_base = dc=example,dc=com\n"
#define DEFAULT_FILTER "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))"
/* the tables the defaults use (no forward, no alias domains) */
#define DEFAULT_TABLES (POSTFIX_TABLES - 2)

/* load - a conf from text; aborts the test on a parse error (a bad case) */
static int load(struct conf *cfg, const char *text)
{
    char err[CONF_ERRSZ];
    if (conf_parse_buffer(cfg, "test.conf", text, strlen(text), err, sizeof(err)) < 0) {
        diag("conf: %s", err);
        return -1;
    }
    return 0;
}

/* render - one table as text (malloc'ed), or NULL with err filled */
static char *render(const struct conf *cfg, enum postfix_table t, const char *dir,
                    const char *secret, char *err, size_t errsz)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return NULL;
    int r = postfix_config_format(cfg, t, dir, secret, mem, err, errsz);
    fclose(mem);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* has_line - text holds exactly this line */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* setting_lines_ok - every line is a comment or "name = value" as Postfix
 * reads it: no leading blank (a continuation), no control characters, no
 * blank at the end of a value */
static int setting_lines_ok(const char *text)
{
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            return 0;            /* the last line ends with a newline */
        size_t len = (size_t)(nl - p);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                return 0;
        if (p[0] != '#') {
            const char *eq = memchr(p, '=', len);
            if (len == 0 || p[0] == ' ' || eq == NULL || eq == p || eq[-1] != ' ' ||
                (eq + 1 < nl && eq[1] != ' ') || p[len - 1] == ' ')
                return 0;
        }
        p = nl + 1;
    }
    return 1;
}

/* the mailboxes filter's "home and storage absent or the defaults" */
#define DEFAULT_PATHS \
    "(|(!(mailHomeDirectory=*))(mailHomeDirectory=/var/vmail/%d/%u)(mailHomeDirectory=/var/vmail/%d/%u/))" \
    "(|(!(mailStorageDirectory=*))(mailStorageDirectory=%d/%u/Maildir)(mailStorageDirectory=%d/%u/Maildir/)" \
    "(mailStorageDirectory=/var/vmail/%d/%u/Maildir)(mailStorageDirectory=/var/vmail/%d/%u/Maildir/)" \
    "(mailStorageDirectory=maildir:%d/%u/Maildir)(mailStorageDirectory=maildir:%d/%u/Maildir/)" \
    "(mailStorageDirectory=maildir:/var/vmail/%d/%u/Maildir)" \
    "(mailStorageDirectory=maildir:/var/vmail/%d/%u/Maildir/))"

struct want_case {
    const char *name;
    const char *conf;                 /* BASE is prepended */
    const char *secret;
    enum postfix_table table;
    const char *lines[12];            /* each must be a whole line of the output */
    const char *absent[6];            /* no line may start with these */
};

/* an iRedMail directory (contrib/iredmail/mailmaps.conf, shortened) */
#define IRED_FILTER "(&(objectClass=mailUser)(accountStatus=active)(enabledService=mail))"
#define IRED_DOMAINS "(&(objectClass=mailDomain)(accountStatus=active))"
#define IREDMAIL "ldap_filter = " IRED_FILTER "\nldap_domain_filter = " IRED_DOMAINS "\n" \
    "ldap_attr_alias = shadowAddress\nldap_alias_filter = (enabledService=shadowaddress)\n" \
    "ldap_attr_forward = mailForwardingAddress\nldap_forward_filter = (enabledService=forward)\n" \
    "ldap_attr_group = memberOfGroup\nldap_attr_home = homeDirectory\n"

static const struct want_case cases[] = {
    { "iRedMail domains: a domain entry's primary or alias domain", IREDMAIL, NULL,
      POSTFIX_DOMAINS,
      { "query_filter = (&" IRED_DOMAINS "(|(domainName=%s)(domainAliasName=%s)))",
        "result_attribute = domainName", "result_format = OK",
        "# names it as its domainName or as one of its domainAliasName: an" },
      { "expansion_limit", "domain" } },
    { "iRedMail domains without an alias attribute", IREDMAIL "ldap_attr_domain_alias =\n",
      NULL, POSTFIX_DOMAINS,
      { "query_filter = (&" IRED_DOMAINS "(domainName=%s))", "result_attribute = domainName" },
      { "expansion_limit" } },
    { "iRedMail alias domains: u@D is u@P", IREDMAIL, NULL, POSTFIX_ALIAS_DOMAINS,
      { "query_filter = (&" IRED_DOMAINS "(domainAliasName=%d))",
        "result_attribute = domainName", "result_format = %U@%s",
        "#   virtual_alias_maps = cdb:/var/lib/mailmaps/aliases,",
        "#       ldap:/etc/postfix/mailmaps-forward.cf,",
        "#       ldap:/etc/postfix/mailmaps-alias-domains.cf" },
      { "expansion_limit", "domain" } },
    { "iRedMail forward: the forwarding addresses where the forward filter admits them",
      IREDMAIL, NULL, POSTFIX_FORWARD,
      { "query_filter = (&" IRED_FILTER "(enabledService=forward)(mail=%u@%d))",
        "result_attribute = mailForwardingAddress",
        "domain = cdb:/var/lib/mailmaps/domains, ldap:/etc/postfix/mailmaps-domains.cf",
        "# answer is that entry's mailForwardingAddress, its forwarding addresses.",
        "# mailForwardingAddress counts only on entries matching ldap_forward_filter, as" },
      { "result_format", "expansion_limit" } },
    { "iRedMail aliases: shadow addresses only with the service flag", IREDMAIL, NULL,
      POSTFIX_ALIASES,
      { "query_filter = (&" IRED_FILTER "(|(&(enabledService=shadowaddress)"
        "(shadowAddress=%u@%d))(memberOfGroup=%u@%d)))",
        "result_attribute = mail",
        "# shadowAddress counts only on entries matching ldap_alias_filter, as in the",
        "#       ldap:/etc/postfix/mailmaps-aliases.cf," },
      { "result_format" } },
    { "mailboxes: where mail_location puts the mail", "mail_location = maildir:%h/mail:LAYOUT=fs\n",
      NULL, POSTFIX_MAILBOXES,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d)(|(!(mailHomeDirectory=*))"
        "(mailHomeDirectory=/var/vmail/%d/%u)(mailHomeDirectory=/var/vmail/%d/%u/))"
        "(!(mailStorageDirectory=*)))",
        "result_format = %D/%U/mail/" },
      { "domain" } },
    { "mailboxes: mail_location as the default", "mail_location = maildir:~/Maildir\n", NULL,
      POSTFIX_MAILBOXES,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d)" DEFAULT_PATHS ")",
        "result_format = %D/%U/Maildir/" },
      { "domain" } },
    { "mailboxes: one mailbox for all is none per address: nothing answered",
      "mail_location = maildir:/var/vmail/shared\n", NULL, POSTFIX_MAILBOXES,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d)(|(!(mailHomeDirectory=*))"
        "(mailHomeDirectory=/var/vmail/%d/%u)(mailHomeDirectory=/var/vmail/%d/%u/))"
        "(!(mailStorageDirectory=*))(|))" },
      { "domain" } },
    { "forward without its filter", "ldap_attr_forward = mailForwardingAddress\n", NULL,
      POSTFIX_FORWARD,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d))",
        "result_attribute = mailForwardingAddress",
        "# answer is that entry's mailForwardingAddress, its forwarding addresses.",
        "#       ldap:/etc/postfix/mailmaps-aliases.cf" },
      { "result_format" } },
    { "defaults: ldapi:/// without a bind DN binds with SASL EXTERNAL", "", NULL, POSTFIX_MAILBOXES,
      { "server_host = ldapi:///", "version = 3", "timeout = 5", "search_base = dc=example,dc=com",
        "scope = sub", "bind = sasl", "sasl_mechs = EXTERNAL",
        "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d)" DEFAULT_PATHS ")",
        "result_attribute = mail", "result_format = %D/%U/Maildir/", "expansion_limit = 1" },
      { "bind_dn", "bind_pw", "start_tls", "tls_" } },
    { "domains: only a mail address makes a domain local, OK", "", NULL, POSTFIX_DOMAINS,
      { "query_filter = (&" DEFAULT_FILTER "(mail=*@%s))",
        "result_attribute = mail", "result_format = OK" },
      { "expansion_limit", "size_limit", "domain" } },
    { "mail: a mail address is itself (before the aliases)", "", NULL, POSTFIX_MAIL,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d))", "result_attribute = mail",
        "result_format = %U@%D", "expansion_limit = 1" },
      { "domain" } },
    { "aliases: alias or list, the mail of each, in mailbox domains only", "", NULL,
      POSTFIX_ALIASES,
      { "domain = cdb:/var/lib/mailmaps/domains, ldap:/etc/postfix/mailmaps-domains.cf",
        "query_filter = (&" DEFAULT_FILTER "(|(mailAlias=%u@%d)(mailGroupMember=%u@%d)))",
        "result_attribute = mail" },
      { "result_format", "expansion_limit" } },
    { "aliases: alias_domains are asked too", "alias_domains = lists.example.org l2.example\n",
      NULL, POSTFIX_ALIASES,
      { "domain = lists.example.org, l2.example, cdb:/var/lib/mailmaps/domains,"
        " ldap:/etc/postfix/mailmaps-domains.cf" },
      { "result_format" } },
    { "defer: a mail address is a temporary failure (two elements, limit one)", "", NULL,
      POSTFIX_DEFER,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d))",
        "result_attribute = mail, objectClass", "expansion_limit = 1" },
      { "result_format", "domain" } },
    { "mailboxes: other attribute names and mail_base", "ldap_attr_home = homeDirectory\n"
      "mail_base = /srv/mail(1)/\n", NULL, POSTFIX_MAILBOXES,
      { "query_filter = (&" DEFAULT_FILTER "(mail=%u@%d)(|(!(homeDirectory=*))"
        "(homeDirectory=/srv/mail\\281\\29/%d/%u)(homeDirectory=/srv/mail\\281\\29/%d/%u/))"
        "(|(!(mailStorageDirectory=*))(mailStorageDirectory=%d/%u/Maildir)"
        "(mailStorageDirectory=%d/%u/Maildir/)(mailStorageDirectory=/srv/mail\\281\\29/%d/%u/Maildir)"
        "(mailStorageDirectory=/srv/mail\\281\\29/%d/%u/Maildir/)"
        "(mailStorageDirectory=maildir:%d/%u/Maildir)(mailStorageDirectory=maildir:%d/%u/Maildir/)"
        "(mailStorageDirectory=maildir:/srv/mail\\281\\29/%d/%u/Maildir)"
        "(mailStorageDirectory=maildir:/srv/mail\\281\\29/%d/%u/Maildir/)))" },
      { "domain" } },
    { "bind DN and password", "ldap_uri = ldap://ldap1.example.com ldap://ldap2.example.com:3389\n"
      "ldap_bind_dn = cn=mailmaps,dc=example,dc=com\nldap_timeout = 7\n",
      "s3cret $x %y #z", POSTFIX_ALIASES,
      { "server_host = ldap://ldap1.example.com ldap://ldap2.example.com:3389", "timeout = 7",
        "bind = yes", "bind_dn = cn=mailmaps,dc=example,dc=com", "bind_pw = s3cret $x %y #z" },
      { "sasl_mechs", "start_tls", "tls_" } },
    { "bind DN without a password file", "ldap_uri = ldap://ldap1\nldap_bind_dn = cn=x,dc=y\n",
      NULL, POSTFIX_DOMAINS, { "bind = yes", "bind_dn = cn=x,dc=y" }, { "bind_pw", "sasl" } },
    { "TCP without a bind DN: anonymous", "ldap_uri = ldap://127.0.0.1:3389\n", NULL,
      POSTFIX_MAILBOXES, { "bind = no" }, { "bind_dn", "bind_pw", "sasl" } },
    { "ldapi:// and ldap:// without a bind DN: anonymous on both",
      "ldap_uri = ldapi:/// ldap://backup.example.com\n", NULL, POSTFIX_MAILBOXES,
      { "server_host = ldapi:/// ldap://backup.example.com", "bind = no" }, { "sasl", "bind_dn" } },
    { "several ldapi:// without a bind DN: SASL EXTERNAL",
      "ldap_uri = ldapi://%2Frun%2Fslapd%2Fldapi ldapi:///\n", NULL, POSTFIX_ALIASES,
      { "server_host = ldapi://%2Frun%2Fslapd%2Fldapi ldapi:///", "bind = sasl",
        "sasl_mechs = EXTERNAL" }, { "bind_dn" } },
    { "StartTLS with a CA file", "ldap_uri = ldap://ldap.example.com\nldap_starttls = yes\n"
      "ldap_tls_ca_file = /etc/ssl/ldap-ca.pem\n", NULL, POSTFIX_DOMAINS,
      { "start_tls = yes", "tls_require_cert = yes", "tls_ca_cert_file = /etc/ssl/ldap-ca.pem" },
      { "# Postfix issues StartTLS" } },
    { "ldaps:// verifies the certificate too", "ldap_uri = ldaps://ldap.example.com\n", NULL,
      POSTFIX_MAILBOXES, { "tls_require_cert = yes" }, { "start_tls", "tls_ca_cert_file" } },
    { "StartTLS with ldapi:// only: nothing to protect", "ldap_starttls = yes\n", NULL,
      POSTFIX_MAILBOXES, { "bind = sasl" }, { "start_tls", "tls_" } },
    { "StartTLS with ldap:// and ldaps://: said to apply to all",
      "ldap_uri = ldap://a ldaps://b\nldap_starttls = yes\n", NULL, POSTFIX_ALIASES,
      { "# Postfix issues StartTLS on every server_host, not only ldap://.", "start_tls = yes",
        "tls_require_cert = yes" }, { "tls_ca_cert_file" } },
    { "other attribute names", "ldap_attr_mail = mailRoutingAddress\nldap_attr_alias = mailLocalAddress\n"
      "ldap_attr_group = memberOfList\nldap_filter = (objectClass=inetLocalMailRecipient)\n", NULL,
      POSTFIX_ALIASES,
      { "query_filter = (&(objectClass=inetLocalMailRecipient)"
        "(|(mailLocalAddress=%u@%d)(memberOfList=%u@%d)))",
        "result_attribute = mailRoutingAddress" }, { "result_format" } },
    { "other attribute names: domains", "ldap_attr_mail = mailRoutingAddress\n"
      "ldap_attr_alias = mailLocalAddress\nldap_attr_group = memberOfList\n", NULL, POSTFIX_DOMAINS,
      { "query_filter = (&" DEFAULT_FILTER "(mailRoutingAddress=*@%s))",
        "result_attribute = mailRoutingAddress" }, { "expansion_limit" } },
    { "'%' in the filter and the base is literal (%%)",
      "ldap_filter = (&(objectClass=PostfixBookMailAccount)(description=100%))\n"
      "ldap_base = ou=100%,dc=example,dc=com\n", NULL, POSTFIX_MAILBOXES,
      { "search_base = ou=100%%,dc=example,dc=com",
        "query_filter = (&(&(objectClass=PostfixBookMailAccount)(description=100%%))(mail=%u@%d)"
        DEFAULT_PATHS ")" },
      { "bind_pw" } },
};

/* test_cases - each case's lines are there, its absent prefixes are not */
static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct want_case *c = &cases[i];
        struct conf cfg;
        char text[4096], err[512] = "";
        int ldap_base_given = strstr(c->conf, "ldap_base") != NULL;
        snprintf(text, sizeof(text), "%s%s", ldap_base_given ? "" : BASE, c->conf);
        if (load(&cfg, text) < 0) {
            ok(0, "%s: config parses", c->name);
            conf_free(&cfg);
            continue;
        }
        char *out = render(&cfg, c->table, NULL, c->secret, err, sizeof(err));
        ok(out != NULL, "%s: formatted%s%s", c->name, out ? "" : ": ", out ? "" : err);
        if (out == NULL) {
            conf_free(&cfg);
            continue;
        }
        for (size_t j = 0; j < 12 && c->lines[j] != NULL; j++)
            if (!ok(has_line(out, c->lines[j]), "%s: '%s'", c->name, c->lines[j]))
                diag("%s", out);
        for (size_t j = 0; j < 6 && c->absent[j] != NULL; j++) {
            int found = 0;
            size_t n = strlen(c->absent[j]);
            for (const char *p = out; p != NULL && *p != '\0';) {
                if (strncmp(p, c->absent[j], n) == 0)
                    found = 1;
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
            }
            ok(!found, "%s: no '%s' line", c->name, c->absent[j]);
        }
        ok(setting_lines_ok(out), "%s: every line is a comment or 'name = value'", c->name);
        free(out);
        conf_free(&cfg);
    }
}

/* test_header - names, the map, the main.cf line and the differences */
static void test_header(void)
{
    struct conf cfg;
    char err[512];
    if (load(&cfg, BASE "maps_dir = /srv/maps\n") < 0)
        return;
    const char *want[POSTFIX_TABLES][4] = {
#define UNUSED_HERE { NULL, NULL, NULL, NULL }
        { "# mailmaps-domains.cf - written by \"mailmaps postfix-config\" from the built-in defaults.",
          "#   virtual_mailbox_domains = cdb:/srv/maps/domains,",
          "#       ldap:/etc/postfix/mailmaps-domains.cf",
          "#   pipemap:{ldap:/etc/postfix/mailmaps-domains.cf, static:OK}" },
        { "# mailmaps-mailboxes.cf - written by \"mailmaps postfix-config\" from the built-in defaults.",
          "#   virtual_mailbox_maps = cdb:/srv/maps/mailboxes,",
          "#       ldap:/etc/postfix/mailmaps-mailboxes.cf,",
          "# - an account with a home or storage directory of its own is not found" },
        { "# mailmaps-defer.cf - written by \"mailmaps postfix-config\" from the built-in defaults.",
          "#   virtual_mailbox_maps = cdb:/srv/maps/mailboxes,",
          "#       ldap:/etc/postfix/mailmaps-defer.cf",
          "# expansion_limit = 1. Listed after mailmaps-mailboxes.cf, it is asked" },
        UNUSED_HERE,
        { "# mailmaps-mail.cf - written by \"mailmaps postfix-config\" from the built-in defaults.",
          "#   virtual_alias_maps = cdb:/srv/maps/aliases,",
          "#       ldap:/etc/postfix/mailmaps-mail.cf,",
          "# before mailmaps-aliases.cf: Postfix takes the first table that answers, so" },
        { "# mailmaps-aliases.cf - written by \"mailmaps postfix-config\" from the built-in defaults.",
          "#   virtual_alias_maps = cdb:/srv/maps/aliases,",
          "#       ldap:/etc/postfix/mailmaps-aliases.cf",
          "# address in any other domain is never answered. (Maps written before" },
        UNUSED_HERE,
    };
    for (int t = 0; t < POSTFIX_TABLES; t++) {
        char *out = render(&cfg, (enum postfix_table)t, NULL, NULL, err, sizeof(err));
        if (want[t][0] == NULL) {
            ok(out == NULL && strstr(err, "not used") != NULL && !postfix_config_used(&cfg, t),
               "%s: not written without its settings", postfix_config_name(t));
            free(out);
            continue;
        }
        ok(out != NULL && strncmp(out, want[t][0], strlen(want[t][0])) == 0,
           "%s: the first line says what wrote it", postfix_config_name((enum postfix_table)t));
        for (int j = 1; j < 4; j++)
            ok(out != NULL && has_line(out, want[t][j]), "%s: '%s'",
               postfix_config_name((enum postfix_table)t), want[t][j]);
        free(out);
    }
    /* A directory given is named instead of /etc/postfix. */
    char *out = render(&cfg, POSTFIX_ALIASES, "/opt/pf", NULL, err, sizeof(err));
    ok(out != NULL && has_line(out, "#       ldap:/opt/pf/mailmaps-aliases.cf"), "dir is named in the comment");
    free(out);
    /* The aliases table names the domains table in a list setting. */
    out = render(&cfg, POSTFIX_ALIASES, "/opt/p f", NULL, err, sizeof(err));
    ok(out == NULL && strstr(err, "blank") != NULL, "aliases: a directory with a blank is refused (%s)",
       err);
    free(out);
    out = render(&cfg, POSTFIX_ALIASES, "/opt/pf", NULL, err, sizeof(err));
    ok(out != NULL && has_line(out, "domain = cdb:/srv/maps/domains, ldap:/opt/pf/mailmaps-domains.cf"),
       "aliases: the domains table is named in dir");
    free(out);
    /* A control character in a name must not end the comment line. */
    free(cfg.path);
    cfg.path = strdup("/etc/x\nbind_pw = leaked");
    out = render(&cfg, POSTFIX_DOMAINS, "/a\nb", NULL, err, sizeof(err));
    ok(out != NULL && strstr(out, "\nbind_pw") == NULL && strstr(out, "/etc/x?bind_pw = leaked") != NULL,
       "a newline in the config path stays inside the comment");
    ok(out != NULL && strstr(out, "/a?b/mailmaps-domains.cf") != NULL, "... as in the directory");
    ok(out != NULL && setting_lines_ok(out), "... every line still a comment or a setting");
    free(out);
    conf_free(&cfg);
}

/* test_refused - values Postfix's syntax cannot carry */
static void test_refused(void)
{
    static const struct {
        const char *name, *conf, *secret, *field, *value, *want;
    } bad[] = {
        { "password with a leading blank", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", " hunter2", NULL,
          NULL, "ldap_bind_pw_file" },
        { "password with a trailing blank", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", "hunter2 ", NULL,
          NULL, "ldap_bind_pw_file" },
        { "password with a newline", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", "hunter2\nbind = no",
          NULL, NULL, "ldap_bind_pw_file" },
        { "password with a tab", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", "hun\tter2", NULL, NULL,
          "ldap_bind_pw_file" },
        { "password with DEL", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", "hun\x7fter2", NULL, NULL,
          "ldap_bind_pw_file" },
        { "password with CR", "ldap_uri = ldap://a\nldap_bind_dn = cn=a\n", "hunter2\r", NULL, NULL,
          "ldap_bind_pw_file" },
        { "URI with a comma", "ldap_uri = ldap://a/dc=x,dc=y\n", NULL, NULL, NULL, "ldap_uri" },
        { "bind DN with a newline", "", NULL, "bind_dn", "cn=a\nbind_pw = x", "ldap_bind_dn" },
        { "bind DN with a trailing blank", "", NULL, "bind_dn", "cn=a ", "ldap_bind_dn" },
        { "base with a newline", "", NULL, "base", "dc=a\nscope = one", "ldap_base" },
        { "filter with a control character", "", NULL, "filter", "(a=\x01)", "ldap_filter" },
        { "empty base", "", NULL, "base", "", "ldap_base" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct conf cfg;
        char text[512], err[512] = "";
        snprintf(text, sizeof(text), BASE "%s", bad[i].conf);
        if (load(&cfg, text) < 0) {
            ok(0, "%s: config parses", bad[i].name);
            conf_free(&cfg);
            continue;
        }
        if (bad[i].field != NULL) {
            char **f = strcmp(bad[i].field, "bind_dn") == 0 ? &cfg.ldap_bind_dn
                       : strcmp(bad[i].field, "base") == 0  ? &cfg.ldap_base
                                                             : &cfg.ldap_filter;
            free(*f);
            *f = strdup(bad[i].value);
        }
        for (int t = 0; t < POSTFIX_TABLES; t++) {
            if (!postfix_config_used(&cfg, t))
                continue;
            err[0] = '\0';
            char *out = render(&cfg, (enum postfix_table)t, NULL, bad[i].secret, err, sizeof(err));
            ok(out == NULL && strstr(err, bad[i].want) != NULL, "%s: %s refused (%s)", bad[i].name,
               postfix_config_name((enum postfix_table)t), err);
            if (bad[i].secret != NULL)
                ok(strstr(err, bad[i].secret) == NULL, "%s: the reason does not quote it", bad[i].name);
            free(out);
        }
        conf_free(&cfg);
    }

    struct conf cfg;
    char err[512] = "";
    if (load(&cfg, BASE) == 0) {
        char *out = render(&cfg, POSTFIX_TABLES, NULL, NULL, err, sizeof(err));
        ok(out == NULL && err[0] != '\0', "a table out of range is refused");
        free(out);
        out = render(&cfg, (enum postfix_table)-1, NULL, NULL, err, sizeof(err));
        ok(out == NULL, "a negative table is refused");
        free(out);
    }
    conf_free(&cfg);
}

/* test_names - file names */
static void test_names(void)
{
    is_str(postfix_config_name(POSTFIX_DOMAINS), "mailmaps-domains.cf", "domains file name");
    is_str(postfix_config_name(POSTFIX_MAILBOXES), "mailmaps-mailboxes.cf", "mailboxes file name");
    is_str(postfix_config_name(POSTFIX_DEFER), "mailmaps-defer.cf", "defer file name");
    is_str(postfix_config_name(POSTFIX_MAIL), "mailmaps-mail.cf", "mail file name");
    is_str(postfix_config_name(POSTFIX_ALIASES), "mailmaps-aliases.cf", "aliases file name");
    is_str(postfix_config_name(POSTFIX_FORWARD), "mailmaps-forward.cf", "forward file name");
    is_str(postfix_config_name(POSTFIX_ALIAS_DOMAINS), "mailmaps-alias-domains.cf",
           "alias domains file name");
    ok(postfix_config_name(POSTFIX_TABLES) == NULL, "no name out of range");
    ok(postfix_config_name((enum postfix_table)-1) == NULL, "no name for a negative table");
}

/* file_text - a whole small file, or "" */
static void file_text(const char *path, char *buf, size_t bufsz)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (f != NULL) {
        n = fread(buf, 1, bufsz - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* file_mode - permission bits, or -1 */
static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* entries - names in dir, space separated, sorted by the caller's order */
static int dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* test_write - files, modes, the password, nothing written on refusal */
static void test_write(void)
{
    char dir[] = "/tmp/test-postfix-config.XXXXXX";
    char path[256], pwfile[256], text[8192], before[8192], conftext[1024], err[512] = "";
    struct conf cfg;

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }
    mode_t old = umask(077);   /* the modes must not depend on the umask */

    /* Without a bind password: 0644. */
    if (load(&cfg, BASE) == 0) {
        ok(postfix_config_write(&cfg, dir, err, sizeof(err)) == 0, "write without a password (%s)", err);
        for (int t = 0; t < POSTFIX_TABLES; t++) {
            snprintf(path, sizeof(path), "%s/%s", dir, postfix_config_name((enum postfix_table)t));
            is_int(file_mode(path), postfix_config_used(&cfg, t) ? 0644 : -1,
                   "%s without bind_pw: 0644 (not there when not used)",
                   postfix_config_name((enum postfix_table)t));
        }
        is_int(dir_count(dir), DEFAULT_TABLES, "every file, no temp file");
    }
    conf_free(&cfg);

    /* With one: 0640, bind_pw = the file's first line. */
    snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
    FILE *f = fopen(pwfile, "w");
    if (f != NULL) {
        fputs("top secret\n", f);
        fclose(f);
    }
    snprintf(conftext, sizeof(conftext),
             BASE "ldap_uri = ldap://127.0.0.1\nldap_bind_dn = cn=m,dc=example,dc=com\n"
                  "ldap_bind_pw_file = %s\n", pwfile);
    if (load(&cfg, conftext) == 0) {
        ok(postfix_config_write(&cfg, dir, err, sizeof(err)) == 0, "write with a password (%s)", err);
        for (int t = 0; t < POSTFIX_TABLES; t++) {
            snprintf(path, sizeof(path), "%s/%s", dir, postfix_config_name((enum postfix_table)t));
            is_int(file_mode(path), postfix_config_used(&cfg, t) ? 0640 : -1,
                   "%s with bind_pw: 0640", postfix_config_name((enum postfix_table)t));
        }
        snprintf(path, sizeof(path), "%s/mailmaps-aliases.cf", dir);
        file_text(path, text, sizeof(text));
        ok(has_line(text, "bind_pw = top secret"), "bind_pw is the file's content, newline stripped");
        char want[600];
        snprintf(want, sizeof(want), "#       ldap:%s/mailmaps-aliases.cf", dir);
        ok(has_line(text, want), "the comment names the file written");
        is_int(dir_count(dir), DEFAULT_TABLES + 1, "every file and the password file, no temp file");

        /* A password Postfix cannot carry: nothing is touched. */
        memcpy(before, text, sizeof(before));
        f = fopen(pwfile, "w");
        if (f != NULL) {
            fputs("top secret \n", f);
            fclose(f);
        }
        err[0] = '\0';
        ok(postfix_config_write(&cfg, dir, err, sizeof(err)) < 0, "a trailing blank in the password is refused");
        ok(strstr(err, "ldap_bind_pw_file") != NULL && strstr(err, "top secret") == NULL,
           "the reason names the setting, not the password (%s)", err);
        file_text(path, text, sizeof(text));
        is_str(text, before, "the files are as they were");
        err[0] = '\0';
        ok(postfix_config_write(&cfg, NULL, err, sizeof(err)) < 0, "refused when printing too");

        /* A password file that cannot be read. */
        unlink(pwfile);
        err[0] = '\0';
        ok(postfix_config_write(&cfg, dir, err, sizeof(err)) < 0 && strstr(err, pwfile) != NULL,
           "a missing password file is an error naming it (%s)", err);
    }
    conf_free(&cfg);

    /* An iRedMail directory: the forward and alias domain tables too. */
    if (load(&cfg, BASE IREDMAIL) == 0) {
        char sub[300];
        snprintf(sub, sizeof(sub), "%s/ired", dir);
        mkdir(sub, 0700);
        ok(postfix_config_write(&cfg, sub, err, sizeof(err)) == 0, "iRedMail: written (%s)", err);
        is_int(dir_count(sub), POSTFIX_TABLES, "iRedMail: every table");
        for (int t = 0; t < POSTFIX_TABLES; t++) {
            snprintf(path, sizeof(path), "%s/%s", sub, postfix_config_name((enum postfix_table)t));
            unlink(path);
        }
        rmdir(sub);
    }
    conf_free(&cfg);

    /* A directory that does not exist. */
    if (load(&cfg, BASE) == 0) {
        snprintf(path, sizeof(path), "%s/missing", dir);
        err[0] = '\0';
        ok(postfix_config_write(&cfg, path, err, sizeof(err)) < 0 && strstr(err, "missing") != NULL,
           "a missing directory is an error (%s)", err);
    }
    conf_free(&cfg);

    umask(old);
    for (int t = 0; t < POSTFIX_TABLES; t++) {
        snprintf(path, sizeof(path), "%s/%s", dir, postfix_config_name((enum postfix_table)t));
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    test_names();
    test_cases();
    test_header();
    test_refused();
    test_write();
    return tap_done();
}
