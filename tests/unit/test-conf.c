/* test-conf - mailmaps.conf: every default against the design's table,
 * good and bad values of every type, the error message format
 * "FILE:LINE: NAME: reason", the line format (comments, blanks, indents,
 * CRLF, overlong lines, NUL bytes), conf_load, conf_read_secret and the
 * list of setting names. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/conf.h"
#include "maps/quota.h"
#include "tests/unit/tap.h"

#define NAME "t.conf"
#define BASE "ldap_base = dc=example,dc=com\n"

/* ---- rendering a setting's value as comparable text ---- */

/* render - the parsed value of setting name in cfg, as text */
static const char *render(const struct conf *cfg, const char *name)
{
    static char buf[8192];
    size_t n = 0;
    buf[0] = '\0';

#define STR(field) (cfg->field ? cfg->field : "(null)")
#define OUT(...) snprintf(buf, sizeof(buf), __VA_ARGS__)
#define ADD(...) (n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__))
    if (strcmp(name, "ldap_uri") == 0) {
        for (size_t i = 0; i < cfg->ldap_uri_count; i++)
            ADD("%s%s", i ? " " : "", cfg->ldap_uri[i]);
    } else if (strcmp(name, "ldap_bind_dn") == 0) {
        OUT("%s", STR(ldap_bind_dn));
    } else if (strcmp(name, "ldap_bind_pw_file") == 0) {
        OUT("%s", STR(ldap_bind_pw_file));
    } else if (strcmp(name, "policy_metrics_file") == 0) {
        OUT("%s", STR(policy_metrics_file));
    } else if (strcmp(name, "redis_password_file") == 0) {
        OUT("%s", STR(redis_password_file));
    } else if (strcmp(name, "ldap_starttls") == 0) {
        OUT("%s", cfg->ldap_starttls ? "yes" : "no");
    } else if (strcmp(name, "ldap_tls_ca_file") == 0) {
        OUT("%s", STR(ldap_tls_ca_file));
    } else if (strcmp(name, "ldap_timeout") == 0) {
        OUT("%u", cfg->ldap_timeout);
    } else if (strcmp(name, "ldap_base") == 0) {
        OUT("%s", STR(ldap_base));
    } else if (strcmp(name, "ldap_filter") == 0) {
        OUT("%s", STR(ldap_filter));
    } else if (strcmp(name, "ldap_page_size") == 0) {
        OUT("%u", cfg->ldap_page_size);
    } else if (strcmp(name, "ldap_attr_mail") == 0) {
        OUT("%s", STR(attr.mail));
    } else if (strcmp(name, "ldap_attr_alias") == 0) {
        OUT("%s", STR(attr.alias));
    } else if (strcmp(name, "ldap_attr_group") == 0) {
        OUT("%s", STR(attr.group));
    } else if (strcmp(name, "ldap_attr_home") == 0) {
        OUT("%s", STR(attr.home));
    } else if (strcmp(name, "ldap_attr_storage") == 0) {
        OUT("%s", STR(attr.storage));
    } else if (strcmp(name, "ldap_attr_uid") == 0) {
        OUT("%s", STR(attr.uid));
    } else if (strcmp(name, "ldap_attr_gid") == 0) {
        OUT("%s", STR(attr.gid));
    } else if (strcmp(name, "ldap_attr_quota") == 0) {
        OUT("%s", STR(attr.quota));
    } else if (strcmp(name, "ldap_attr_password") == 0) {
        OUT("%s", STR(attr.password));
    } else if (strcmp(name, "ldap_quota_unit") == 0) {
        OUT("%llu", (unsigned long long)cfg->ldap_quota_unit);
    } else if (strcmp(name, "ldap_attr_forward") == 0) {
        OUT("%s", STR(ldap_attr_forward));
    } else if (strcmp(name, "ldap_alias_filter") == 0) {
        OUT("%s", STR(ldap_alias_filter));
    } else if (strcmp(name, "ldap_forward_filter") == 0) {
        OUT("%s", STR(ldap_forward_filter));
    } else if (strcmp(name, "ldap_domain_filter") == 0) {
        OUT("%s", STR(ldap_domain_filter));
    } else if (strcmp(name, "ldap_attr_domain") == 0) {
        OUT("%s", STR(ldap_attr_domain));
    } else if (strcmp(name, "ldap_attr_domain_alias") == 0) {
        OUT("%s", STR(ldap_attr_domain_alias));
    } else if (strcmp(name, "alias_login") == 0) {
        OUT("%s", cfg->alias_login ? "yes" : "no");
    } else if (strcmp(name, "maps_dir") == 0) {
        OUT("%s", STR(maps_dir));
    } else if (strcmp(name, "maps_group") == 0) {
        OUT("%s", STR(maps_group));
    } else if (strcmp(name, "mail_base") == 0) {
        OUT("%s", STR(mail_base));
    } else if (strcmp(name, "sync_interval") == 0) {
        OUT("%u", cfg->sync_interval);
    } else if (strcmp(name, "sync_mode") == 0) {
        OUT("%s", cfg->sync_mode == SYNC_MODE_POLL      ? "poll"
                  : cfg->sync_mode == SYNC_MODE_PERSIST ? "persist"
                                                        : "?");
    } else if (strcmp(name, "max_shrink") == 0) {
        OUT("%u", cfg->max_shrink);
    } else if (strcmp(name, "stale_after") == 0) {
        OUT("%u", cfg->stale_after);
    } else if (strcmp(name, "fallback_cache_ttl") == 0) {
        OUT("%u", cfg->fallback_cache_ttl);
    } else if (strcmp(name, "default_uid") == 0) {
        OUT("%u", cfg->default_uid);
    } else if (strcmp(name, "default_gid") == 0) {
        OUT("%u", cfg->default_gid);
    } else if (strcmp(name, "first_valid_uid") == 0) {
        OUT("%u", cfg->first_valid_uid);
    } else if (strcmp(name, "last_valid_uid") == 0) {
        OUT("%u", cfg->last_valid_uid);
    } else if (strcmp(name, "first_valid_gid") == 0) {
        OUT("%u", cfg->first_valid_gid);
    } else if (strcmp(name, "last_valid_gid") == 0) {
        OUT("%u", cfg->last_valid_gid);
    } else if (strcmp(name, "home_dirs") == 0) {
        for (size_t i = 0; i < cfg->home_dirs_count; i++)
            ADD("%s%s", i ? " " : "", cfg->home_dirs[i]);
    } else if (strcmp(name, "alias_domains") == 0) {
        for (size_t i = 0; i < cfg->alias_domains_count; i++)
            ADD("%s%s", i ? " " : "", cfg->alias_domains[i]);
    } else if (strcmp(name, "mail_location") == 0) {
        OUT("%s", STR(mail_location));
    } else if (strcmp(name, "default_quota") == 0) {
        OUT("%llu", (unsigned long long)cfg->default_quota);
    } else if (strcmp(name, "quota_rules") == 0) {
        ADD("%zu:", cfg->quota_rules.count);
        for (size_t i = 0; i < cfg->quota_rules.count && i < QUOTA_RULES_MAX; i++) {
            char r[256];
            if (quota_rule_format(&cfg->quota_rules.rule[i], r, sizeof(r)) < 0)
                snprintf(r, sizeof(r), "(unformattable)");
            ADD(" %s", r);
        }
    } else if (strcmp(name, "quota_grace") == 0) {
        OUT("%llu%s", (unsigned long long)cfg->quota_grace.value,
            cfg->quota_grace.percent ? "%" : "");
    } else if (strcmp(name, "recipient_delimiter") == 0) {
        OUT("%s", STR(recipient_delimiter));
    } else if (strcmp(name, "default_password_scheme") == 0) {
        OUT("%s", STR(default_password_scheme));
    } else if (strcmp(name, "policy_listen") == 0) {
        for (size_t i = 0; i < cfg->policy_listen_count; i++) {
            const struct conf_listen *l = &cfg->policy_listen[i];
            if (l->kind == CONF_LISTEN_UNIX)
                ADD("%sunix:%s", i ? " " : "", l->path);
            else
                ADD("%sinet:%s|%u", i ? " " : "", l->host, l->port);
        }
    } else if (strcmp(name, "policy_socket_mode") == 0) {
        OUT("0%o", (unsigned)cfg->policy_socket_mode);
    } else if (strcmp(name, "policy_socket_group") == 0) {
        OUT("%s", STR(policy_socket_group));
    } else if (strcmp(name, "policy_workers") == 0) {
        OUT("%u", cfg->policy_workers);
    } else if (strcmp(name, "quota_usage") == 0) {
        if (cfg->quota_usage.kind == CONF_USAGE_MAILDIR)
            OUT("maildir:%s", cfg->quota_usage.template);
        else
        {
            ADD("redis:");
            for (size_t i = 0; i < cfg->quota_usage.redis_count; i++)
                ADD("%s%s|%u", i > 0 ? "," : "", cfg->quota_usage.redis[i].host,
                    cfg->quota_usage.redis[i].port);
            ADD("|%u", cfg->quota_usage.db);
        }
    } else if (strcmp(name, "overquota_reply") == 0) {
        OUT("%s", STR(overquota_reply));
    } else if (strcmp(name, "policy_on_error") == 0) {
        OUT("%s", cfg->policy_on_error == POLICY_ON_ERROR_DUNNO   ? "dunno"
                  : cfg->policy_on_error == POLICY_ON_ERROR_DEFER ? "defer"
                                                                  : "?");
    } else {
        OUT("(no renderer for %s)", name);
    }
#undef STR
#undef OUT
#undef ADD
    return buf;
}

/* ---- defaults: design.md's settings table ---- */

/* Each setting: its default as written in a file, and the parsed value. */
static const struct {
    const char *name, *def, *want;
} defaults[] = {
    { "ldap_uri", "ldapi:///", "ldapi:///" },
    { "ldap_bind_dn", "", "" },
    { "ldap_bind_pw_file", "", "" },
    { "ldap_starttls", "no", "no" },
    { "ldap_tls_ca_file", "", "" },                 /* not in design.md */
    { "ldap_timeout", "5", "5" },
    { "ldap_base", NULL, "" },                      /* required */
    { "ldap_filter", "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))",
      "(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))" },
    { "ldap_page_size", "1000", "1000" },
    { "ldap_attr_mail", "mail", "mail" },
    { "ldap_attr_alias", "mailAlias", "mailAlias" },
    { "ldap_attr_group", "mailGroupMember", "mailGroupMember" },
    { "ldap_attr_home", "mailHomeDirectory", "mailHomeDirectory" },
    { "ldap_attr_storage", "mailStorageDirectory", "mailStorageDirectory" },
    { "ldap_attr_uid", "mailUidNumber", "mailUidNumber" },
    { "ldap_attr_gid", "mailGidNumber", "mailGidNumber" },
    { "ldap_attr_quota", "mailQuota", "mailQuota" },
    { "ldap_attr_password", "userPassword", "userPassword" },
    { "ldap_quota_unit", "K", "1024" },
    { "ldap_attr_forward", "", "" },
    { "ldap_alias_filter", "", "" },
    { "ldap_forward_filter", "", "" },
    { "ldap_domain_filter", "", "" },
    { "ldap_attr_domain", "domainName", "domainName" },
    { "ldap_attr_domain_alias", "domainAliasName", "domainAliasName" },
    { "alias_login", "no", "no" },
    { "maps_dir", "/var/lib/mailmaps", "/var/lib/mailmaps" },
    { "maps_group", "", "" },
    { "mail_base", "/var/vmail", "/var/vmail" },
    { "sync_interval", "600", "600" },
    { "sync_mode", "poll", "poll" },
    { "max_shrink", "10%", "10" },
    { "stale_after", "1800", "1800" },
    { "fallback_cache_ttl", "30", "30" },
    { "default_uid", "5000", "5000" },
    { "default_gid", "5000", "5000" },
    { "first_valid_uid", "500", "500" },
    { "last_valid_uid", "0", "0" },
    { "first_valid_gid", "500", "500" },
    { "last_valid_gid", "0", "0" },
    { "home_dirs", "", "" },
    { "alias_domains", "", "" },
    { "mail_location", "", "" },
    { "default_quota", "10G", "10737418240" },
    { "quota_rules", "Trash:+500M Junk:+500M",
      "2: Trash:storage=+524288000B Junk:storage=+524288000B" },
    { "quota_grace", "10%", "10%" },
    { "recipient_delimiter", "+", "+" },
    { "default_password_scheme", "CRYPT", "CRYPT" }, /* not in design.md */
    { "policy_listen", "unix:/run/mailmaps/policy.sock", "unix:/run/mailmaps/policy.sock" },
    { "policy_socket_mode", "0660", "0660" },
    { "policy_socket_group", "postfix", "postfix" },
    { "policy_workers", "1", "1" },                  /* not in design.md */
    { "quota_usage", "maildir:%h/Maildir/maildirsize", "maildir:%h/Maildir/maildirsize" },
    { "redis_password_file", "", "" },               /* not in design.md */
    { "overquota_reply", "552 5.2.2 Mailbox full", "552 5.2.2 Mailbox full" },
    { "policy_on_error", "dunno", "dunno" },
    { "policy_metrics_file", "", "" },               /* not in design.md */
};
#define NDEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

/* parse - conf_parse_buffer on a C string */
static int parse(struct conf *cfg, const char *text, char *err, size_t errsz)
{
    err[0] = '\0';
    return conf_parse_buffer(cfg, NAME, text, strlen(text), err, errsz);
}

/* test_defaults - conf_defaults and a file with only ldap_base agree with
 * the table */
static void test_defaults(void)
{
    struct conf cfg, filecfg;
    char err[CONF_ERRSZ];

    ok(conf_defaults(&cfg) == 0, "conf_defaults");
    is_int(parse(&filecfg, BASE, err, sizeof(err)), 0, "only ldap_base set");
    is_str(err, "", "no error text");
    for (size_t i = 0; i < NDEFAULTS; i++) {
        is_str(render(&cfg, defaults[i].name), defaults[i].want, "default %s",
               defaults[i].name);
        if (strcmp(defaults[i].name, "ldap_base") != 0)
            is_str(render(&filecfg, defaults[i].name), defaults[i].want,
                   "default %s after parsing", defaults[i].name);
    }
    is_str(filecfg.ldap_base, "dc=example,dc=com", "ldap_base from the file");
    ok(cfg.path == NULL && filecfg.path == NULL, "no path without conf_load");
    conf_free(&cfg);
    conf_free(&filecfg);
    ok(cfg.ldap_base == NULL && cfg.ldap_uri_count == 0, "conf_free clears the fields");
    conf_free(&cfg); /* twice is harmless */
}

/* test_names - every setting listed once, each known to the default table
 * and each accepted as "name = default" */
static void test_names(void)
{
    size_t count = conf_setting_count();
    is_int(count, NDEFAULTS, "conf_setting_count matches the table");
    ok(conf_setting_name(count) == NULL, "name past the end is NULL");
    ok(conf_setting_name((size_t)-1) == NULL, "name at SIZE_MAX is NULL");
    ok(conf_setting_default(count) == NULL && conf_setting_description(count) == NULL,
       "default and description past the end are NULL");
    for (size_t i = 0; i < count; i++) {
        const char *n = conf_setting_name(i);
        size_t j, dups = 0;
        ok(n != NULL && n[0] != '\0', "name %zu present", i);
        if (n == NULL)
            continue;
        for (j = 0; j < count; j++)
            dups += conf_setting_name(j) && strcmp(conf_setting_name(j), n) == 0;
        is_int(dups, 1, "%s listed once", n);
        for (j = 0; j < NDEFAULTS; j++)
            if (strcmp(defaults[j].name, n) == 0)
                break;
        ok(j < NDEFAULTS, "%s has a row in the test's default table", n);
        if (j == NDEFAULTS)
            continue;
        is_str(conf_setting_default(i), defaults[j].def ? defaults[j].def : "",
               "%s: conf_setting_default", n);
        const char *desc = conf_setting_description(i);
        ok(desc != NULL && desc[0] != '\0' && strlen(desc) < 80 && strchr(desc, '\n') == NULL,
           "%s: a one-line description", n);

        char text[512], err[CONF_ERRSZ];
        struct conf cfg;
        if (defaults[j].def == NULL)
            snprintf(text, sizeof(text), "%s = dc=x\n", n);
        else
            snprintf(text, sizeof(text), BASE "%s = %s\n", n, defaults[j].def);
        int rc = parse(&cfg, text, err, sizeof(err));
        ok(rc == 0, "'%s = %s' parses", n, defaults[j].def ? defaults[j].def : "dc=x");
        if (rc != 0)
            diag("%s", err);
        else if (defaults[j].def != NULL)
            is_str(render(&cfg, n), defaults[j].want, "%s = default gives the default", n);
        conf_free(&cfg);
    }
}

/* ---- values: good ---- */

static const struct {
    const char *name, *value, *want;
} good[] = {
    { "ldap_uri", "ldap://ldap1.example.com", "ldap://ldap1.example.com" },
    { "ldap_uri", "ldap://a:389 ldaps://b:636\tldapi://%2Frun%2Fslapd.sock",
      "ldap://a:389 ldaps://b:636 ldapi://%2Frun%2Fslapd.sock" },
    { "ldap_uri", "ldap://a    ldap://b", "ldap://a ldap://b" },
    { "ldap_uri", "ldap://1 ldap://2 ldap://3 ldap://4 ldap://5 ldap://6 ldap://7 ldap://8 "
                  "ldap://9 ldap://10 ldap://11 ldap://12 ldap://13 ldap://14 ldap://15 ldap://16",
      "ldap://1 ldap://2 ldap://3 ldap://4 ldap://5 ldap://6 ldap://7 ldap://8 "
      "ldap://9 ldap://10 ldap://11 ldap://12 ldap://13 ldap://14 ldap://15 ldap://16" },
    { "ldap_bind_dn", "cn=sync,ou=system,dc=example,dc=com", "cn=sync,ou=system,dc=example,dc=com" },
    { "ldap_bind_dn", "", "" },
    { "ldap_bind_dn", "cn=a b, dc=x", "cn=a b, dc=x" },
    { "ldap_bind_pw_file", "/etc/mailmaps/bind.pw", "/etc/mailmaps/bind.pw" },
    { "ldap_bind_pw_file", "", "" },
    { "ldap_tls_ca_file", "/etc/ssl/certs/ca.pem", "/etc/ssl/certs/ca.pem" },
    { "ldap_starttls", "yes", "yes" },
    { "ldap_starttls", "YES", "yes" },
    { "ldap_starttls", "true", "yes" },
    { "ldap_starttls", "On", "yes" },
    { "ldap_starttls", "1", "yes" },
    { "ldap_starttls", "no", "no" },
    { "ldap_starttls", "False", "no" },
    { "ldap_starttls", "off", "no" },
    { "ldap_starttls", "0", "no" },
    { "ldap_timeout", "1", "1" },
    { "ldap_timeout", "30s", "30" },
    { "ldap_timeout", "2m", "120" },
    { "ldap_timeout", "1h", "3600" },
    { "ldap_timeout", "3600", "3600" },
    { "ldap_timeout", "007", "7" },
    { "ldap_filter", "(uid=*)", "(uid=*)" },
    { "ldap_filter", "(&(objectClass=inetOrgPerson)(|(a=1)(b=2))(!(c=3)))",
      "(&(objectClass=inetOrgPerson)(|(a=1)(b=2))(!(c=3)))" },
    { "ldap_filter", "(mail=a#b=c)", "(mail=a#b=c)" },
    { "ldap_filter", "(cn=a\\28b\\29)", "(cn=a\\28b\\29)" },
    { "ldap_page_size", "1", "1" },
    { "ldap_page_size", "1000000", "1000000" },
    { "ldap_page_size", "5000", "5000" },
    { "ldap_attr_mail", "uid", "uid" },
    { "ldap_attr_alias", "mailAlternateAddress", "mailAlternateAddress" },
    { "ldap_attr_group", "x-group-1", "x-group-1" },
    { "ldap_attr_home", "1.3.6.1.4.1.29426.1.10.5", "1.3.6.1.4.1.29426.1.10.5" },
    { "ldap_attr_quota", "mailQuota;x-opt", "mailQuota;x-opt" },
    { "ldap_attr_password", "userPassword", "userPassword" },
    { "ldap_attr_storage", "homeDirectory", "homeDirectory" },
    { "ldap_attr_storage", "", "" },
    { "ldap_attr_alias", "", "" },
    { "ldap_attr_uid", "uidNumber", "uidNumber" },
    { "ldap_attr_gid", "gidNumber", "gidNumber" },
    { "ldap_quota_unit", "B", "1" },
    { "ldap_quota_unit", "b", "1" },
    { "ldap_quota_unit", "M", "1048576" },
    { "ldap_quota_unit", "G", "1073741824" },
    { "ldap_attr_forward", "mailForwardingAddress", "mailForwardingAddress" },
    { "ldap_alias_filter", "(enabledService=shadowaddress)", "(enabledService=shadowaddress)" },
    { "ldap_forward_filter", "(&(enabledService=forward)(!(x=*)))",
      "(&(enabledService=forward)(!(x=*)))" },
    { "ldap_domain_filter", "(&(objectClass=mailDomain)(accountStatus=active))",
      "(&(objectClass=mailDomain)(accountStatus=active))" },
    { "ldap_attr_domain", "associatedDomain", "associatedDomain" },
    { "ldap_attr_domain_alias", "", "" },
    { "alias_login", "yes", "yes" },
    { "maps_dir", "/srv/mailmaps", "/srv/mailmaps" },
    { "maps_dir", "/", "/" },
    { "maps_group", "dovecot", "dovecot" },
    { "maps_group", "", "" },
    { "maps_group", "mail-users_2.x", "mail-users_2.x" },
    { "mail_base", "/srv/vmail/", "/srv/vmail/" },
    { "sync_interval", "1", "1" },
    { "sync_interval", "10m", "600" },
    { "sync_interval", "7d", "604800" },
    { "sync_interval", "604800", "604800" },
    { "sync_mode", "poll", "poll" },
    { "sync_mode", "persist", "persist" },
    { "max_shrink", "0", "0" },
    { "max_shrink", "25", "25" },
    { "max_shrink", "100%", "100" },
    { "stale_after", "30m", "1800" },
    { "stale_after", "365d", "31536000" },
    { "stale_after", "1", "1" },
    { "fallback_cache_ttl", "0", "0" },
    { "fallback_cache_ttl", "2m", "120" },
    { "default_uid", "500", "500" },
    { "default_uid", "4294967294", "4294967294" },
    { "default_uid", "8000", "8000" },
    { "default_gid", "1200", "1200" },
    { "default_gid", "4294967294", "4294967294" },
    { "first_valid_uid", "1000", "1000" },
    { "last_valid_uid", "60000", "60000" },
    { "first_valid_gid", "0", "0" },
    { "last_valid_gid", "5000", "5000" },
    { "home_dirs", "/var/vmail /home/", "/var/vmail /home" },
    { "home_dirs", "/srv//x", "/srv//x" },
    { "alias_domains", "Lists.Example.COM  b.example", "lists.example.com b.example" },
    { "ldap_attr_password", "", "" },
    { "mail_location", "maildir:~/Maildir:LAYOUT=fs", "maildir:~/Maildir:LAYOUT=fs" },
    { "mail_location", "", "" },
    { "default_quota", "0", "0" },
    { "default_quota", "1024", "1024" },
    { "default_quota", "500M", "524288000" },
    { "default_quota", "10GB", "10737418240" },
    { "default_quota", "10737418240B", "10737418240" },
    { "default_quota", "1T", "1099511627776" },
    { "default_quota", "1k", "1024" },
    { "quota_rules", "", "0:" },
    { "quota_rules", "Trash:+500M", "1: Trash:storage=+524288000B" },
    { "quota_rules", "Trash:ignore Junk:1G", "2: Trash:ignore Junk:storage=1073741824B" },
    { "quota_rules", "Trash:storage=+100M", "1: Trash:storage=+104857600B" },
    { "quota_rules", "INBOX:+0", "1: INBOX:storage=+0B" },
    { "quota_grace", "10%", "10%" },
    { "quota_grace", "0%", "0%" },
    { "quota_grace", "100%", "100%" },
    { "quota_grace", "0", "0" },
    { "quota_grace", "50M", "52428800" },
    { "quota_grace", "1024", "1024" },
    { "quota_grace", "1G", "1073741824" },
    { "recipient_delimiter", "+", "+" },
    { "recipient_delimiter", "-", "-" },
    { "recipient_delimiter", "+-", "+-" },
    { "recipient_delimiter", "", "" },
    { "default_password_scheme", "SSHA512", "SSHA512" },
    { "default_password_scheme", "BLF-CRYPT", "BLF-CRYPT" },
    { "policy_listen", "unix:/run/mailmaps/p.sock", "unix:/run/mailmaps/p.sock" },
    { "policy_listen", "inet:127.0.0.1:10031", "inet:127.0.0.1|10031" },
    { "policy_listen", "inet:[::1]:10031", "inet:::1|10031" },
    { "policy_listen", "inet:localhost:1", "inet:localhost|1" },
    { "policy_listen", "inet:0.0.0.0:65535", "inet:0.0.0.0|65535" },
    { "policy_listen", "unix:/a  inet:127.0.0.1:10031\tinet:[::1]:10031",
      "unix:/a inet:127.0.0.1|10031 inet:::1|10031" },
    { "policy_socket_mode", "0660", "0660" },
    { "policy_socket_mode", "660", "0660" },
    { "policy_socket_mode", "0600", "0600" },
    { "policy_socket_mode", "0", "00" },
    { "policy_socket_mode", "07777", "07777" },
    { "policy_socket_mode", "00666", "0666" },
    { "policy_socket_group", "mail", "mail" },
    { "policy_socket_group", "", "" },
    { "policy_workers", "1", "1" },
    { "policy_workers", "2", "2" },
    { "policy_workers", "64", "64" },
    { "quota_usage", "maildir:%h/Maildir/maildirsize", "maildir:%h/Maildir/maildirsize" },
    { "quota_usage", "maildir:/var/vmail/%d/%n/Maildir/maildirsize",
      "maildir:/var/vmail/%d/%n/Maildir/maildirsize" },
    { "quota_usage", "maildir:%h/%%lit/%u-%d-%n", "maildir:%h/%%lit/%u-%d-%n" },
    { "quota_usage", "maildir:/q/%%", "maildir:/q/%%" },
    { "quota_usage", "redis:127.0.0.1:6379", "redis:127.0.0.1|6379|0" },
    { "quota_usage", "redis:127.0.0.1:6379/3", "redis:127.0.0.1|6379|3" },
    { "quota_usage", "redis:[::1]:6380/15", "redis:::1|6380|15" },
    { "quota_usage", "redis:redis.example.com:6379/0", "redis:redis.example.com|6379|0" },
    { "quota_usage", "redis:r:1/1000000", "redis:r|1|1000000" },
    { "quota_usage", "redis:10.0.0.1:6379,10.0.0.2:6380/2", "redis:10.0.0.1|6379,10.0.0.2|6380|2" },
    { "quota_usage", "redis:a:1,[::1]:2,c:3,d:4", "redis:a|1,::1|2,c|3,d|4|0" },
    { "redis_password_file", "/etc/mailmaps/redis.pw", "/etc/mailmaps/redis.pw" },
    { "overquota_reply", "552 5.2.2 Mailbox full", "552 5.2.2 Mailbox full" },
    { "overquota_reply", "452 4.2.2 Mailbox full, try again later",
      "452 4.2.2 Mailbox full, try again later" },
    { "overquota_reply", "552", "552" },
    { "overquota_reply", "550 Mailbox full", "550 Mailbox full" },
    { "overquota_reply", "552 5.2.2", "552 5.2.2" },
    { "overquota_reply", "452 4.2.2 Over quota (100%)", "452 4.2.2 Over quota (100%)" },
    { "overquota_reply", "552 2 many", "552 2 many" },
    { "overquota_reply", "550 5.2.2 quota = full # really", "550 5.2.2 quota = full # really" },
    { "policy_on_error", "dunno", "dunno" },
    { "policy_on_error", "defer", "defer" },
    { "policy_metrics_file", "/var/lib/prometheus/node-exporter/mailmaps-policyd.prom",
      "/var/lib/prometheus/node-exporter/mailmaps-policyd.prom" },
};

/* test_good - each value parses (on line 2) and lands in its field */
static void test_good(void)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char text[1024], err[CONF_ERRSZ];
        struct conf cfg;
        snprintf(text, sizeof(text), BASE "%s = %s\n", good[i].name, good[i].value);
        int rc = parse(&cfg, text, err, sizeof(err));
        ok(rc == 0, "good %s = '%s'", good[i].name, good[i].value);
        if (rc != 0)
            diag("%s", err);
        else
            is_str(render(&cfg, good[i].name), good[i].want, "  value of %s", good[i].name);
        conf_free(&cfg);
    }
}

/* ---- values: bad ---- */

static const struct {
    const char *name, *value, *why; /* why: substring of the reason */
} bad[] = {
    { "ldap_uri", "", "at least one URI" },
    { "ldap_uri", "http://ldap.example.com", "is not an ldap://" },
    { "ldap_uri", "ldap.example.com", "is not an ldap://" },
    { "ldap_uri", "LDAP://x", "is not an ldap://" },
    { "ldap_uri", "ldap://a \x01", "control characters are not allowed" },
    { "ldap_uri", "ldap://a\x01", "control characters are not allowed" },
    { "ldap_uri", "ldap://1 ldap://2 ldap://3 ldap://4 ldap://5 ldap://6 ldap://7 ldap://8 "
                  "ldap://9 ldap://10 ldap://11 ldap://12 ldap://13 ldap://14 ldap://15 "
                  "ldap://16 ldap://17",
      "more than 16 URIs" },
    { "ldap_bind_dn", "cn=a\x01", "control characters" },
    { "ldap_bind_dn", "cn=a\x7f", "control characters" },
    { "ldap_bind_dn", "cn=a\rb", "control characters" },
    { "ldap_bind_pw_file", "bind.pw", "not an absolute path" },
    { "ldap_bind_pw_file", "/etc/my pw", "not a usable path" },
    { "ldap_tls_ca_file", "~/ca.pem", "not an absolute path" },
    { "ldap_starttls", "", "is not yes or no" },
    { "ldap_starttls", "maybe", "is not yes or no" },
    { "ldap_starttls", "yess", "is not yes or no" },
    { "ldap_starttls", "2", "is not yes or no" },
    { "ldap_starttls", "y", "is not yes or no" },
    { "ldap_timeout", "", "empty value" },
    { "ldap_timeout", "0", "out of range" },
    { "ldap_timeout", "3601", "out of range" },
    { "ldap_timeout", "61m", "out of range" },
    { "ldap_timeout", "5M", "unknown time unit" },
    { "ldap_timeout", "5 s", "unknown time unit" },
    { "ldap_timeout", "1h1", "unknown time unit" },
    { "ldap_timeout", "-1", "not a number" },
    { "ldap_timeout", "99999999999", "duration too long" },
    { "ldap_timeout", "99999999999999999999999", "number too large" },
    { "ldap_filter", "", "not an LDAP filter" },
    { "ldap_filter", "uid=*", "not an LDAP filter" },
    { "ldap_filter", "()", "not an LDAP filter" },
    { "ldap_filter", "(a=b", "not an LDAP filter" },
    { "ldap_filter", "a=b)", "not an LDAP filter" },
    { "ldap_filter", "((a=b)", "not an LDAP filter" },
    { "ldap_filter", "(a=b))", "not an LDAP filter" },
    { "ldap_filter", "(a=b)(c=d)", "not an LDAP filter" },
    { "ldap_filter", "(a=b))(c=d)", "not an LDAP filter" },
    { "ldap_filter", "(&(a=b)))((c=d)", "not an LDAP filter" },
    { "ldap_filter", "(a=\x01)", "control characters are not allowed" },
    { "ldap_page_size", "0", "number out of range (1..1000000)" },
    { "ldap_page_size", "1000001", "number out of range" },
    { "ldap_page_size", "1k", "not a number" },
    { "ldap_page_size", "-5", "negative number" },
    { "ldap_page_size", "", "empty value" },
    { "ldap_attr_mail", "", "not an LDAP attribute name" },
    { "ldap_attr_mail", "ma il", "not an LDAP attribute name" },
    { "ldap_attr_alias", "(mail)", "not an LDAP attribute name" },
    { "ldap_attr_group", "ma*il", "not an LDAP attribute name" },
    { "ldap_attr_home", "-home", "not an LDAP attribute name" },
    { "ldap_attr_storage", "1storage", "not an LDAP attribute name" },
    { "ldap_attr_uid", "1.2.", "not an LDAP attribute name" },
    { "ldap_attr_gid", "gid;", "not an LDAP attribute name" },
    { "ldap_attr_quota", "quota_kb", "not an LDAP attribute name" },
    { "ldap_attr_password", "pass=word", "not an LDAP attribute name" },
    { "ldap_quota_unit", "", "is not B, K, M or G" },
    { "ldap_quota_unit", "KB", "is not B, K, M or G" },
    { "ldap_quota_unit", "T", "is not B, K, M or G" },
    { "ldap_attr_domain", "", "not an LDAP attribute name" },
    { "ldap_attr_forward", "mail forward", "not an LDAP attribute name" },
    { "ldap_domain_filter", "objectClass=mailDomain", "not an LDAP filter: '(' expected at byte 1" },
    { "ldap_domain_filter", "(a=b\\)", "not an LDAP filter: ')' expected at byte 7" },
    { "ldap_alias_filter", "(enabledService=shadow*)", "a substring match is not accepted here" },
    { "ldap_alias_filter", "(a>=1)", "'>=' is not accepted here (only equality, presence, &, | and !)" },
    { "ldap_forward_filter", "(a:caseExactMatch:=x)", "an extensible match is not accepted here" },
    { "ldap_forward_filter", "(a~=x)", "'~=' is not accepted here" },
    { "ldap_forward_filter", "(a=x)(b=y)", "text after the filter" },
    { "alias_login", "maybe", "is not yes or no" },
    { "maps_dir", "", "not an absolute path" },
    { "maps_dir", "var/lib/mailmaps", "not an absolute path" },
    { "maps_dir", "/var/lib/mail maps", "not a usable path" },
    { "maps_dir", "/var/lib/\x01", "control characters are not allowed" },
    { "mail_base", "", "not an absolute path" },
    { "mail_base", "./vmail", "not an absolute path" },
    { "maps_group", "mail users", "not a valid name" },
    { "maps_group", "grp!", "not a valid name" },
    { "maps_group", "gr/p", "not a valid name" },
    { "policy_socket_group", "post fix", "not a valid name" },
    { "policy_workers", "0", "number out of range (1..64)" },
    { "policy_workers", "65", "number out of range (1..64)" },
    { "policy_workers", "two", "not a number" },
    { "policy_workers", "", "empty value" },
    { "default_password_scheme", "", "must not be empty" },
    { "default_password_scheme", "{SSHA}", "not a valid name" },
    { "sync_interval", "0", "out of range" },
    { "sync_interval", "8d", "out of range" },
    { "sync_interval", "604801", "out of range" },
    { "sync_interval", "10x", "unknown time unit" },
    { "sync_interval", "", "empty value" },
    { "sync_mode", "", "is not poll or persist" },
    { "sync_mode", "Poll", "is not poll or persist" },
    { "sync_mode", "refresh", "is not poll or persist" },
    { "sync_mode", "persistent", "is not poll or persist" },
    { "max_shrink", "101", "percentage above 100" },
    { "max_shrink", "101%", "percentage above 100" },
    { "max_shrink", "-1", "not a number" },
    { "max_shrink", "10%%", "not a percentage" },
    { "max_shrink", "10 %", "not a percentage" },
    { "max_shrink", "ten", "not a number" },
    { "max_shrink", "", "empty value" },
    { "max_shrink", "1.5%", "not a percentage" },
    { "stale_after", "0", "out of range" },
    { "stale_after", "366d", "out of range" },
    { "stale_after", "30M", "unknown time unit" },
    { "fallback_cache_ttl", "2d", "out of range" },
    { "first_valid_uid", "5001", "default_uid 5000 is outside first_valid_uid..last_valid_uid (5001..0, 0 = no upper bound)" },
    { "last_valid_uid", "400", "400 is below first_valid_uid (500)" },
    { "last_valid_uid", "4999", "default_uid 5000 is outside first_valid_uid..last_valid_uid (500..4999)" },
    { "last_valid_gid", "1000", "default_gid 5000 is outside first_valid_gid..last_valid_gid (500..1000)" },
    { "first_valid_gid", "-1", "negative number" },
    { "home_dirs", "relative/dir", "is not an absolute directory" },
    { "home_dirs", "/", "is not an absolute directory" },
    { "home_dirs", "/var/../etc", "is not an absolute directory" },
    { "home_dirs", "/var/vmail:INDEX=/x", "is not an absolute directory" },
    { "home_dirs", "/var/%d", "is not an absolute directory" },
    { "alias_domains", "example..com", "is not a domain name" },
    { "alias_domains", "a@b.com", "is not a domain name" },
    { "default_uid", "0", "0 is root: mail must not be owned by root" },
    { "default_uid", "00", "must not be owned by root" },
    { "default_uid", "4294967295", "number out of range" },
    { "default_uid", "4294967296", "number out of range" },
    { "default_uid", "-1", "negative number" },
    { "default_uid", "5000x", "not a number" },
    { "default_uid", "vmail", "not a number" },
    { "default_uid", "", "empty value" },
    { "default_gid", "0", "must not be owned by root" },
    { "default_gid", "99999999999999999999", "number too large" },
    { "mail_location", "maildir:\x01", "control characters" },
    { "default_quota", "", "empty value" },
    { "default_quota", "-1", "not a number" },
    { "default_quota", "10X", "unknown size unit" },
    { "default_quota", "1.5G", "unknown size unit" },
    { "default_quota", "10 G", "unknown size unit" },
    { "default_quota", "10GiB", "unknown size unit" },
    { "default_quota", "20000000T", "size too large" },
    { "default_quota", "unlimited", "not a number" },
    { "quota_rules", "*:storage=10G", "'*' rule" },
    { "quota_rules", "*:10G", "'*' rule" },
    { "quota_rules", "Trash:+500M *:storage=1G", "'*' rule" },
    { "quota_rules", "Trash:+500X", "rule 1" },
    { "quota_rules", "Trash:+500M Junk", "rule 2" },
    { "quota_rules", "Trash", "rule 1" },
    { "quota_rules", ":+1G", "rule 1" },
    { "quota_grace", "", "(a percentage like 10% or a size)" },
    { "quota_grace", "101%", "percentage above 100" },
    { "quota_grace", "10%%", "not a percentage" },
    { "quota_grace", "%", "not a number" },
    { "quota_grace", "%10", "not a number" },
    { "quota_grace", "1.5%", "not a percentage" },
    { "quota_grace", "-1", "a percentage like 10% or a size" },
    { "quota_grace", "10X", "unknown size unit" },
    { "quota_grace", "10M%", "not a percentage" },
    { "recipient_delimiter", "@", "not a set of delimiter characters" },
    { "recipient_delimiter", "+ -", "not a set of delimiter characters" },
    { "recipient_delimiter", "a;b", "not a set of delimiter characters" },
    { "recipient_delimiter", "\"", "not a set of delimiter characters" },
    { "recipient_delimiter", "<", "not a set of delimiter characters" },
    { "recipient_delimiter", "+\\", "not a set of delimiter characters" },
    { "recipient_delimiter", "+\x01", "control characters are not allowed" },
    { "recipient_delimiter", "+-_=.+-_=.+-_=.+-", "not a set of delimiter characters" },
    { "policy_listen", "", "at least one address" },
    { "policy_listen", "/run/policy.sock", "neither unix:PATH nor inet:HOST:PORT" },
    { "policy_listen", "tcp:127.0.0.1:10031", "neither unix:PATH nor inet:HOST:PORT" },
    { "policy_listen", "unix:", "needs an absolute path" },
    { "policy_listen", "unix:run/policy.sock", "needs an absolute path" },
    { "policy_listen", "unix:/run/p\x01", "control characters are not allowed" },
    { "policy_listen", "inet:", "is not HOST:PORT" },
    { "policy_listen", "inet:localhost", "is not HOST:PORT" },
    { "policy_listen", "inet::10031", "is not HOST:PORT" },
    { "policy_listen", "inet:[]:10031", "bad host" },
    { "policy_listen", "inet:[::1:10031", "bad host" },
    { "policy_listen", "inet:::1]:10031", "bad host" },
    { "policy_listen", "inet:a\x01:10031", "control characters are not allowed" },
    { "policy_listen", "inet:127.0.0.1:0", "bad port" },
    { "policy_listen", "inet:127.0.0.1:65536", "bad port" },
    { "policy_listen", "inet:127.0.0.1:", "bad port" },
    { "policy_listen", "inet:127.0.0.1:smtp", "bad port" },
    { "policy_listen", "inet:127.0.0.1:-1", "bad port" },
    { "policy_listen", "unix:/a inet:x", "is not HOST:PORT" },
    { "policy_listen", "unix:/1 unix:/2 unix:/3 unix:/4 unix:/5 unix:/6 unix:/7 unix:/8 unix:/9 "
                       "unix:/10 unix:/11 unix:/12 unix:/13 unix:/14 unix:/15 unix:/16 unix:/17",
      "more than 16 addresses" },
    { "policy_socket_mode", "", "is not an octal mode" },
    { "policy_socket_mode", "0888", "is not an octal mode" },
    { "policy_socket_mode", "8", "is not an octal mode" },
    { "policy_socket_mode", "010000", "is not an octal mode" },
    { "policy_socket_mode", "-0660", "is not an octal mode" },
    { "policy_socket_mode", "+0660", "is not an octal mode" },
    { "policy_socket_mode", "0x1ff", "is not an octal mode" },
    { "policy_socket_mode", "rw-rw----", "is not an octal mode" },
    { "policy_socket_mode", "0660 0600", "is not an octal mode" },
    { "policy_socket_mode", "77777777777777777777777", "is not an octal mode" },
    { "quota_usage", "", "neither maildir:TEMPLATE nor redis:HOST:PORT[,HOST:PORT...][/DB]" },
    { "quota_usage", "redis:a:1,", "is not HOST:PORT" },
    { "quota_usage", "redis:a:1,,b:2", "is not HOST:PORT" },
    { "quota_usage", "redis:a:1,b:2,c:3,d:4,e:5", "more than 4 addresses" },
    { "quota_usage", "redis:a:1,b:0/1", "bad port" },
    { "redis_password_file", "redis.pw", "not an absolute path" },
    { "policy_metrics_file", "metrics.prom", "not an absolute path" },
    { "quota_usage", "dict:proxy::quota", "neither maildir:TEMPLATE nor redis" },
    { "quota_usage", "Maildir:%h", "neither maildir:TEMPLATE nor redis" },
    { "quota_usage", "maildir:", "maildir: needs a path template" },
    { "quota_usage", "maildir:%h/\x01", "control characters are not allowed" },
    { "quota_usage", "redis:", "is not HOST:PORT" },
    { "quota_usage", "redis:localhost", "is not HOST:PORT" },
    { "quota_usage", "redis:localhost:0", "bad port" },
    { "quota_usage", "redis:localhost:6379/", "bad database number: empty value" },
    { "quota_usage", "redis:localhost:6379/x", "bad database number: not a number" },
    { "quota_usage", "redis:localhost:6379/-1", "bad database number: negative number" },
    { "quota_usage", "redis:localhost:6379/1000001", "bad database number: number out of range" },
    { "quota_usage", "redis:localhost:6379/1/2", "bad database number" },
    { "quota_usage", "redis:local host:6379", "bad host" },
    { "quota_usage", "redis:[::1:6379", "bad host" },
    { "quota_usage", "redis:r\x01:6379", "control characters are not allowed" },
    { "overquota_reply", "", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "55", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "252 2.0.0 ok", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "5522 full", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "552-5.2.2 full", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "5a2 full", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "Mailbox full", "4xx or 5xx SMTP reply" },
    { "overquota_reply", "552 5.2.2 full\x01", "control characters are not allowed" },
    { "overquota_reply", "552 4.2.2 Mailbox full",
      "the enhanced status code 4.2.2 does not match the reply code 552" },
    { "overquota_reply", "452 5.2.2 full", "does not match the reply code 452" },
    { "overquota_reply", "552 5.2.2 Postfach \xc3\xbc" "bervoll", "SMTP reply in ASCII" },
    { "overquota_reply", "552\t5.2.2 full", "4xx or 5xx SMTP reply" },
    { "quota_usage", "maildir:Maildir/maildirsize", "absolute path or start with %h" },
    { "quota_usage", "maildir:%u/maildirsize", "absolute path or start with %h" },
    { "quota_usage", "maildir:%h/%x/maildirsize", "unknown sequence '%x'" },
    { "quota_usage", "maildir:%h/Maildir/%", "unknown sequence '%'" },
    { "quota_usage", "maildir:%h/%{home}", "unknown sequence '%{'" },
    { "quota_usage", "maildir:/var/vmail/%D/%n", "unknown sequence '%D'" },
    { "policy_on_error", "", "is not dunno or defer" },
    { "policy_on_error", "DUNNO", "is not dunno or defer" },
    { "policy_on_error", "reject", "is not dunno or defer" },
    { "policy_on_error", "defer_if_permit", "is not dunno or defer" },
    { "ldap_base", "", "must not be empty" },
    { "ldap_base", "dc=x\x01", "control characters" },
};

/* expect_error - text fails with exactly "NAME:LINE: SETTING: " then a
 * reason holding why */
static void expect_error(const char *text, size_t len, unsigned line, const char *setting,
                         const char *why, const char *label)
{
    char err[CONF_ERRSZ], prefix[256];
    struct conf cfg;
    err[0] = '\0';
    int rc = conf_parse_buffer(&cfg, NAME, text, len, err, sizeof(err));
    ok(rc == -1, "bad %s", label);
    snprintf(prefix, sizeof(prefix), NAME ":%u: %s: ", line, setting);
    ok(strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err + strlen(prefix), why) != NULL &&
           strlen(err) > strlen(prefix),
       "  error names file, line, setting: %s", err);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, why) == NULL)
        diag("want '%s…%s'", prefix, why);
    conf_free(&cfg);
}

/* test_bad - each value is refused (on line 2, or line 1 for ldap_base) */
static void test_bad(void)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[1024], label[600];
        unsigned line = 2;
        if (strcmp(bad[i].name, "ldap_base") == 0) {
            snprintf(text, sizeof(text), "%s = %s\n", bad[i].name, bad[i].value);
            line = 1;
        } else {
            snprintf(text, sizeof(text), BASE "%s = %s\n", bad[i].name, bad[i].value);
        }
        snprintf(label, sizeof(label), "%s = '%s'", bad[i].name, bad[i].value);
        expect_error(text, strlen(text), line, bad[i].name, bad[i].why, label);
    }
}

/* test_long_values - length limits of paths, URIs, templates, hosts */
static void test_long_values(void)
{
    static char text[16384], v[4096];
    char err[CONF_ERRSZ];
    struct conf cfg;

    /* unix socket path: 107 bytes fit sun_path with its NUL, 108 do not */
    memset(v, 'p', 107);
    v[0] = '/';
    v[107] = '\0';
    snprintf(text, sizeof(text), BASE "policy_listen = unix:%s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "unix path of 107 bytes");
    is_int(strlen(cfg.policy_listen[0].path), 107, "  kept whole");
    conf_free(&cfg);
    memset(v, 'p', 108);
    v[0] = '/';
    v[108] = '\0';
    snprintf(text, sizeof(text), BASE "policy_listen = unix:%s\n", v);
    expect_error(text, strlen(text), 2, "policy_listen", "needs an absolute path under 108 bytes",
                 "unix path of 108 bytes");

    /* URI of 500 bytes fits, 501 does not */
    memcpy(v, "ldap://", 7);
    memset(v + 7, 'h', 493);
    v[500] = '\0';
    snprintf(text, sizeof(text), BASE "ldap_uri = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "URI of 500 bytes");
    conf_free(&cfg);
    v[500] = 'h';
    v[501] = '\0';
    snprintf(text, sizeof(text), BASE "ldap_uri = %s\n", v);
    expect_error(text, strlen(text), 2, "ldap_uri", "not a usable URI", "URI of 501 bytes");

    /* absolute path of 1024 bytes fits, 1025 does not */
    memset(v, 'd', 1025);
    v[0] = '/';
    v[1024] = '\0';
    snprintf(text, sizeof(text), BASE "maps_dir = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "maps_dir of 1024 bytes");
    conf_free(&cfg);
    v[1024] = 'd';
    v[1025] = '\0';
    snprintf(text, sizeof(text), BASE "maps_dir = %s\n", v);
    expect_error(text, strlen(text), 2, "maps_dir", "not a usable path", "maps_dir of 1025 bytes");

    /* maildir template of 511 bytes fits, 512 does not */
    memset(v, 't', 512);
    v[0] = '/';
    v[511] = '\0';
    snprintf(text, sizeof(text), BASE "quota_usage = maildir:%s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "template of 511 bytes");
    conf_free(&cfg);
    v[511] = 't';
    v[512] = '\0';
    snprintf(text, sizeof(text), BASE "quota_usage = maildir:%s\n", v);
    expect_error(text, strlen(text), 2, "quota_usage", "needs a path template",
                 "template of 512 bytes");

    /* hosts: 255 bytes fit, 256 do not; redis addresses over 299 bytes */
    memset(v, 'h', 256);
    v[255] = '\0';
    snprintf(text, sizeof(text), BASE "policy_listen = inet:%s:1\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "host of 255 bytes");
    conf_free(&cfg);
    v[255] = 'h';
    v[256] = '\0';
    snprintf(text, sizeof(text), BASE "policy_listen = inet:%s:1\n", v);
    expect_error(text, strlen(text), 2, "policy_listen", "bad host", "host of 256 bytes");
    snprintf(text, sizeof(text), BASE "quota_usage = redis:%s:1\n", v);
    expect_error(text, strlen(text), 2, "quota_usage", "bad host", "redis host of 256 bytes");
    memset(v, 'h', 1300);
    v[1300] = '\0';
    snprintf(text, sizeof(text), BASE "quota_usage = redis:%s:1/0\n", v);
    expect_error(text, strlen(text), 2, "quota_usage", "redis: address list too long",
                 "redis address list of 1302 bytes");

    /* names: 64 bytes fit, 65 do not */
    memset(v, 'g', 65);
    v[64] = '\0';
    snprintf(text, sizeof(text), BASE "maps_group = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "group name of 64 bytes");
    conf_free(&cfg);
    v[64] = 'g';
    v[65] = '\0';
    snprintf(text, sizeof(text), BASE "maps_group = %s\n", v);
    expect_error(text, strlen(text), 2, "maps_group", "not a valid name", "group name of 65 bytes");

    /* attribute names: 256 bytes fit, 257 do not */
    memset(v, 'a', 257);
    v[256] = '\0';
    snprintf(text, sizeof(text), BASE "ldap_attr_mail = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "attribute of 256 bytes");
    conf_free(&cfg);
    v[256] = 'a';
    v[257] = '\0';
    snprintf(text, sizeof(text), BASE "ldap_attr_mail = %s\n", v);
    expect_error(text, strlen(text), 2, "ldap_attr_mail", "not an LDAP attribute name",
                 "attribute of 257 bytes");

    /* reply: 500 bytes fit, 501 do not */
    memcpy(v, "552 ", 4);
    memset(v + 4, 'r', 497);
    v[500] = '\0';
    snprintf(text, sizeof(text), BASE "overquota_reply = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "reply of 500 bytes");
    conf_free(&cfg);
    v[500] = 'r';
    v[501] = '\0';
    snprintf(text, sizeof(text), BASE "overquota_reply = %s\n", v);
    expect_error(text, strlen(text), 2, "overquota_reply", "SMTP reply", "reply of 501 bytes");

    /* delimiter set: 16 characters fit, 17 do not (17 is in the bad table) */
    snprintf(text, sizeof(text), BASE "recipient_delimiter = +-_=.+-_=.+-_=.+\n");
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "16 delimiter characters");
    conf_free(&cfg);

    /* a filter as long as a line allows */
    v[0] = '(';
    memset(v + 1, 'f', 4000);
    v[2] = '=';
    v[4001] = ')';
    v[4002] = '\0';
    snprintf(text, sizeof(text), BASE "ldap_filter = %s\n", v);
    is_int(parse(&cfg, text, err, sizeof(err)), 0, "filter of 4002 bytes");
    is_int(strlen(cfg.ldap_filter), 4002, "  kept whole");
    conf_free(&cfg);
}

/* ---- the line format ---- */

/* A whole file and the outcome: ok, or the exact error. */
static const struct {
    const char *label, *text;
    const char *err;        /* NULL: parses */
} files[] = {
    { "empty file", "", NAME ": ldap_base: required setting is missing" },
    { "only comments", "# ldap_base = dc=x\n\n   # x\n",
      NAME ": ldap_base: required setting is missing" },
    { "unknown setting", BASE "ldap_uris = ldap://x\n", NAME ":2: ldap_uris: unknown setting" },
    { "names are case-sensitive", BASE "LDAP_TIMEOUT = 5\n", NAME ":2: LDAP_TIMEOUT: unknown setting" },
    { "unknown after comments and blanks", "# c\n\n  \n\t\n" BASE "bogus=1\n",
      NAME ":6: bogus: unknown setting" },
    { "empty name", BASE " = x\n", NAME ":2: no setting name before '='" },
    { "no '='", BASE "ldap_timeout 5\n", NAME ":2: expected 'name = value'" },
    { "no '=' in a bare word", "ldap_base\n", NAME ":1: expected 'name = value'" },
    { "duplicate", BASE "ldap_timeout = 5\n\n# again\nldap_timeout = 6\n",
      NAME ":5: ldap_timeout: already set on line 2" },
    { "duplicate with the same value", "ldap_timeout = 5\n" BASE "ldap_timeout = 5\n",
      NAME ":3: ldap_timeout: already set on line 1" },
    { "duplicate ldap_base", BASE BASE, NAME ":2: ldap_base: already set on line 1" },
    { "duplicate bad value on the second line", BASE "sync_mode = poll\nsync_mode = nope\n",
      NAME ":3: sync_mode: already set on line 2" },
    { "first error wins", BASE "sync_mode = nope\nbogus = 1\n",
      NAME ":2: sync_mode: 'nope' is not poll or persist" },
    { "missing ldap_base", "ldap_timeout = 5\n", NAME ": ldap_base: required setting is missing" },
    { "empty ldap_base", "ldap_base =\n", NAME ":1: ldap_base: must not be empty" },
    { "blank ldap_base", "ldap_base = \t \n", NAME ":1: ldap_base: must not be empty" },
    { "trailing comment is part of the value", BASE "ldap_timeout = 5 # five\n",
      NAME ":2: ldap_timeout: '5 # five': unknown time unit (use s, m, h or d)" },
    { "error text of a uint", BASE "default_gid = 4294967295\n",
      NAME ":2: default_gid: '4294967295': number out of range (1..4294967294)" },
    { "error text of uid 0", BASE "default_uid = 0\n",
      NAME ":2: default_uid: 0 is root: mail must not be owned by root" },
    { "control character in an unknown name", BASE "ld\x1b[2Jap = 1\n",
      NAME ":2: ld?[2Jap: unknown setting" },
    { "DEL in an unknown name", BASE "a\x7f = 1\n", NAME ":2: a?: unknown setting" },
    { "control character in a value", BASE "ldap_starttls = \x1b[2Jyes\n",
      NAME ":2: ldap_starttls: control characters are not allowed" },
    { "invalid UTF-8 in a value", "ldap_base = dc=\xff\n",
      NAME ":1: ldap_base: not valid UTF-8" },
    { "overlong UTF-8 in a value", "ldap_base = dc=\xc0\xaf\n",
      NAME ":1: ldap_base: not valid UTF-8" },
    { "truncated UTF-8 in a value", "ldap_base = dc=\xc3\n",
      NAME ":1: ldap_base: not valid UTF-8" },
    { "surrogate in a value", "ldap_base = dc=\xed\xa0\x80\n",
      NAME ":1: ldap_base: not valid UTF-8" },
    { "UTF-8 in a value", "ldap_base = ou=M\xc3\xbcller,dc=x\n", NULL },
    { "invalid UTF-8 in a comment is ignored", BASE "# \xff\xfe\n", NULL },
    { "TAB inside a list value", BASE "ldap_uri = ldap://a\tldap://b\n", NULL },
    { "error text of a duration", BASE "sync_interval = 0\n",
      NAME ":2: sync_interval: '0' is out of range (1..604800 seconds)" },
    { "error text of a '*' rule", BASE "quota_rules = Trash:+1G *:10G\n",
      NAME ":2: quota_rules: a '*' rule belongs in default_quota or the entry's quota" },
    { "comments, blanks, indents", "# mailmaps\n\n   # indented comment\n\t#tab comment\n"
                                   "   ldap_base   =   dc=example,dc=com   \n"
                                   "\tldap_timeout\t=\t7\t\n  \t\n", NULL },
    { "no blanks around '='", "ldap_base=dc=x\nldap_timeout=7\n", NULL },
    { "CRLF", "ldap_base = dc=x\r\nldap_timeout = 7\r\n\r\n# c\r\n", NULL },
    { "last line without newline", "ldap_timeout = 7\nldap_base = dc=x", NULL },
    { "only a CR line", "\r\nldap_base = dc=x\n", NULL },
    { "CR inside a value", "ldap_base = dc=x\rdc=y\n", NAME ":1: ldap_base: control characters are not allowed" },
    { "value with '=' and '#'", "ldap_base = ou=a#1,dc=x\nldap_bind_dn = cn=x=y#z\n", NULL },
    { "filter with '#'", BASE "ldap_filter = (&(mail=*)(x=#1))\n", NULL },
    { "'#' after blanks is a comment", BASE "   #ldap_timeout = bad\n", NULL },
    { "UTF-8 BOM is not a blank", "\xef\xbb\xbf" BASE,
      NAME ":1: \xef\xbb\xbfldap_base: unknown setting" },
};

/* test_files - whole files through conf_parse_buffer */
static void test_files(void)
{
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char err[CONF_ERRSZ];
        struct conf cfg;
        int rc = parse(&cfg, files[i].text, err, sizeof(err));
        if (files[i].err == NULL) {
            ok(rc == 0, "file: %s", files[i].label);
            if (rc != 0)
                diag("%s", err);
        } else {
            ok(rc == -1, "file: %s", files[i].label);
            is_str(err, files[i].err, "  error of %s", files[i].label);
        }
        conf_free(&cfg);
    }
}

/* test_file_values - what the line format hands to the parsers */
static void test_file_values(void)
{
    char err[CONF_ERRSZ];
    struct conf cfg;

    is_int(parse(&cfg, "  ldap_base   =   dc=example, dc=com   \n\tldap_timeout\t=\t7\t\n",
                 err, sizeof(err)), 0, "indented");
    is_str(cfg.ldap_base, "dc=example, dc=com", "  blanks trimmed at both ends only");
    is_int(cfg.ldap_timeout, 7, "  tab-indented value");
    conf_free(&cfg);

    is_int(parse(&cfg, "ldap_base = dc=x\r\nldap_bind_dn = cn=y\r\n", err, sizeof(err)), 0, "CRLF");
    is_str(cfg.ldap_base, "dc=x", "  CR stripped");
    is_str(cfg.ldap_bind_dn, "cn=y", "  CR stripped on the last line");
    conf_free(&cfg);

    is_int(parse(&cfg, "ldap_timeout = 7\nldap_base = dc=last", err, sizeof(err)), 0,
           "no final newline");
    is_str(cfg.ldap_base, "dc=last", "  last line read whole");
    conf_free(&cfg);

    is_int(parse(&cfg, "ldap_base = ou=a#1,dc=x\nldap_bind_dn = cn=x=y # z\n", err, sizeof(err)),
           0, "'=' and '#' in values");
    is_str(cfg.ldap_base, "ou=a#1,dc=x", "  '#' kept");
    is_str(cfg.ldap_bind_dn, "cn=x=y # z", "  only the first '=' splits");
    conf_free(&cfg);

    is_int(parse(&cfg, BASE "ldap_bind_dn =\n", err, sizeof(err)), 0, "empty value allowed");
    is_str(cfg.ldap_bind_dn, "", "  empty string");
    conf_free(&cfg);

    is_int(parse(&cfg, "ldap_base = dc=x\nldap_base2 = y\n", err, sizeof(err)), -1,
           "a prefix of a name is no match");
    conf_free(&cfg);

    /* a value replaces the default without leaking it (ASan checks) */
    is_int(parse(&cfg, BASE "ldap_uri = ldap://a ldap://b\nmaps_dir = /m\nquota_rules = X:1G\n",
                 err, sizeof(err)), 0, "defaults replaced");
    is_int(cfg.ldap_uri_count, 2, "  two URIs");
    is_int(cfg.quota_rules.count, 1, "  one rule");
    conf_free(&cfg);

    /* an error leaves cfg safe to free, half-filled */
    is_int(parse(&cfg, BASE "ldap_uri = ldap://a\nmaps_dir = rel\n", err, sizeof(err)), -1,
           "error after some settings");
    conf_free(&cfg);
}

/* test_line_limits - overlong lines and NUL bytes */
static void test_line_limits(void)
{
    static char text[3 * 8192];
    char err[CONF_ERRSZ];
    struct conf cfg;
    size_t n;

    /* a line of exactly 8192 bytes (a comment) is fine */
    n = (size_t)snprintf(text, sizeof(text), BASE);
    text[n] = '#';
    memset(text + n + 1, 'x', 8191);
    n += 8192;
    text[n++] = '\n';
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), 0, "line of 8192 bytes");
    conf_free(&cfg);

    /* 8193 bytes is too long, with or without a newline after it */
    n = (size_t)snprintf(text, sizeof(text), BASE);
    text[n] = '#';
    memset(text + n + 1, 'x', 8192);
    n += 8193;
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), -1, "line of 8193 bytes");
    is_str(err, NAME ":2: line longer than 8192 bytes", "  error names the line");
    conf_free(&cfg);
    text[n++] = '\n';
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), -1,
           "line of 8193 bytes and a newline");
    is_str(err, NAME ":2: line longer than 8192 bytes", "  same error");
    conf_free(&cfg);

    /* 8192 bytes plus CR: the CR counts */
    n = (size_t)snprintf(text, sizeof(text), BASE);
    text[n] = '#';
    memset(text + n + 1, 'x', 8191);
    n += 8192;
    text[n++] = '\r';
    text[n++] = '\n';
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), -1, "8192 bytes plus CR");
    conf_free(&cfg);

    /* an overlong value of a setting */
    n = (size_t)snprintf(text, sizeof(text), BASE "ldap_bind_dn = ");
    memset(text + n, 'c', 9000);
    n += 9000;
    text[n++] = '\n';
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), -1, "overlong value");
    is_str(err, NAME ":2: line longer than 8192 bytes", "  error names the line");
    conf_free(&cfg);

    /* NUL bytes, in a value, a comment, a blank line and the last line */
    static const struct {
        const char *text;
        size_t len;
        const char *err;
    } nul[] = {
        { BASE "ldap_timeout = 5\0\n", sizeof(BASE "ldap_timeout = 5\0\n") - 1,
          NAME ":2: NUL byte in line" },
        { BASE "ldap_bind_dn = cn=a\0b\n", sizeof(BASE "ldap_bind_dn = cn=a\0b\n") - 1,
          NAME ":2: NUL byte in line" },
        { BASE "# c\0mment\n", sizeof(BASE "# c\0mment\n") - 1, NAME ":2: NUL byte in line" },
        { BASE "\n\0\n", sizeof(BASE "\n\0\n") - 1, NAME ":3: NUL byte in line" },
        { BASE "\0", sizeof(BASE "\0") - 1, NAME ":2: NUL byte in line" },
        { "\0" BASE, sizeof("\0" BASE) - 1, NAME ":1: NUL byte in line" },
    };
    for (size_t i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
        int rc = conf_parse_buffer(&cfg, NAME, nul[i].text, nul[i].len, err, sizeof(err));
        ok(rc == -1, "NUL byte %zu refused", i);
        is_str(err, nul[i].err, "  error of NUL byte %zu", i);
        conf_free(&cfg);
    }

    /* only len bytes are read: text after len is not seen */
    const char *t = BASE "bogus = 1\n";
    is_int(conf_parse_buffer(&cfg, NAME, t, strlen(BASE), err, sizeof(err)), 0,
           "length bounds the buffer");
    conf_free(&cfg);
    is_int(conf_parse_buffer(&cfg, NAME, t, strlen(BASE) - 1, err, sizeof(err)), 0,
           "cut before the newline");
    conf_free(&cfg);
    is_int(conf_parse_buffer(&cfg, NAME, "ldap_base = dc=x", 9, err, sizeof(err)), -1,
           "cut inside the line");
    is_str(err, NAME ":1: expected 'name = value'", "  error of the cut line");
    conf_free(&cfg);

    /* many lines: line numbers count them all */
    n = 0;
    for (int i = 0; i < 5000; i++)
        text[n++] = '\n';
    n += (size_t)snprintf(text + n, sizeof(text) - n, BASE "nope = 1\n");
    is_int(conf_parse_buffer(&cfg, NAME, text, n, err, sizeof(err)), -1, "error after 5000 lines");
    is_str(err, NAME ":5002: nope: unknown setting", "  line 5002");
    conf_free(&cfg);
}

/* test_small_err - a tiny error buffer truncates, never overflows */
static void test_small_err(void)
{
    char err[16];
    struct conf cfg;
    memset(err, 'x', sizeof(err));
    int rc = conf_parse_buffer(&cfg, NAME, BASE "bogus = 1\n", strlen(BASE "bogus = 1\n"), err,
                               sizeof(err));
    ok(rc == -1 && memchr(err, '\0', sizeof(err)) != NULL, "error cut to a 16-byte buffer");
    is_str(err, NAME ":2: bogus", "  prefix kept");
    conf_free(&cfg);
}

/* ---- files ---- */

/* temp_file - a mkstemp file holding len bytes of data; path into buf */
static int temp_file(char *buf, size_t bufsz, const void *data, size_t len)
{
    snprintf(buf, bufsz, "/tmp/test-conf.XXXXXX");
    int fd = mkstemp(buf);
    if (fd < 0)
        return -1;
    if (len > 0 && write(fd, data, len) != (ssize_t)len) {
        close(fd);
        unlink(buf);
        return -1;
    }
    close(fd);
    return 0;
}

/* test_load - conf_load on good, bad, missing, huge and unreadable files */
static void test_load(void)
{
    char path[64], err[CONF_ERRSZ], want[256];
    struct conf cfg;
    const char *good_text = "# sample\nldap_base = dc=example,dc=com\nldap_timeout = 9\n";

    if (temp_file(path, sizeof(path), good_text, strlen(good_text)) < 0) {
        ok(0, "mkstemp");
        return;
    }
    is_int(conf_load(&cfg, path, err, sizeof(err)), 0, "conf_load good file");
    is_str(cfg.path, path, "  path kept");
    is_int(cfg.ldap_timeout, 9, "  value read");
    is_str(cfg.ldap_uri_count ? cfg.ldap_uri[0] : NULL, "ldapi:///", "  defaults filled");
    conf_free(&cfg);
    ok(cfg.path == NULL, "  conf_free clears path");
    unlink(path);

    const char *bad_text = "ldap_base = dc=x\n\nsync_mode = fast\n";
    if (temp_file(path, sizeof(path), bad_text, strlen(bad_text)) == 0) {
        is_int(conf_load(&cfg, path, err, sizeof(err)), -1, "conf_load bad file");
        snprintf(want, sizeof(want), "%s:3: sync_mode: 'fast' is not poll or persist", path);
        is_str(err, want, "  error names the file path, line and setting");
        ok(cfg.path == NULL, "  no path on error");
        conf_free(&cfg);
        unlink(path);
    }

    if (temp_file(path, sizeof(path), "", 0) == 0) {
        is_int(conf_load(&cfg, path, err, sizeof(err)), -1, "conf_load empty file");
        snprintf(want, sizeof(want), "%s: ldap_base: required setting is missing", path);
        is_str(err, want, "  missing ldap_base");
        conf_free(&cfg);
        unlink(path);
    }

    /* NUL byte in a file */
    if (temp_file(path, sizeof(path), BASE "\0\n", sizeof(BASE "\0\n") - 1) == 0) {
        is_int(conf_load(&cfg, path, err, sizeof(err)), -1, "conf_load file with a NUL byte");
        snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
        is_str(err, want, "  error names the line");
        conf_free(&cfg);
        unlink(path);
    }

    /* over 1 MiB: refused before parsing */
    size_t big = 1024 * 1024 + 1;
    char *data = malloc(big);
    if (data != NULL) {
        memset(data, '\n', big);
        memcpy(data, BASE, strlen(BASE));
        if (temp_file(path, sizeof(path), data, big) == 0) {
            is_int(conf_load(&cfg, path, err, sizeof(err)), -1, "conf_load file over 1 MiB");
            ok(strstr(err, "larger than 1048576 bytes") != NULL && strncmp(err, path, strlen(path)) == 0,
               "  error: %s", err);
            conf_free(&cfg);
            unlink(path);
        }
        if (temp_file(path, sizeof(path), data, big - 1) == 0) {
            is_int(conf_load(&cfg, path, err, sizeof(err)), 0, "conf_load file of exactly 1 MiB");
            conf_free(&cfg);
            unlink(path);
        }
        free(data);
    }

    /* a FIFO in place of the file: refused at once, not read (no hang) */
    snprintf(path, sizeof(path), "/tmp/test-conf-fifo.%ld", (long)getpid());
    unlink(path);
    if (mkfifo(path, 0600) == 0) {
        is_int(conf_load(&cfg, path, err, sizeof(err)), -1, "conf_load on a FIFO");
        snprintf(want, sizeof(want), "%s: not a regular file", path);
        is_str(err, want, "  error says why");
        conf_free(&cfg);
        char *secret = (char *)"junk";
        is_int(conf_read_secret(path, &secret, err, sizeof(err)), -1, "conf_read_secret on a FIFO");
        ok(secret == NULL, "  no secret returned");
        unlink(path);
    } else {
        ok(0, "mkfifo");
    }

    /* missing file and a directory */
    is_int(conf_load(&cfg, "/nonexistent/mailmaps.conf", err, sizeof(err)), -1,
           "conf_load missing file");
    is_str(err, "/nonexistent/mailmaps.conf: No such file or directory", "  error names the file");
    ok(cfg.path == NULL && cfg.ldap_base == NULL, "  cfg left empty");
    conf_free(&cfg);
    is_int(conf_load(&cfg, "/tmp", err, sizeof(err)), -1, "conf_load on a directory");
    is_str(err, "/tmp: Is a directory", "  error names it");
    conf_free(&cfg);
}

/* Password files and what conf_read_secret makes of them. */
static const struct {
    const char *label, *data;
    size_t len;
    const char *want;       /* NULL: refused */
    const char *why;        /* substring of the error */
} secrets[] = {
#define S(s) (s), sizeof(s) - 1
    { "plain", S("secret"), "secret", NULL },
    { "trailing LF", S("secret\n"), "secret", NULL },
    { "trailing CRLF", S("secret\r\n"), "secret", NULL },
    { "two LFs: one stripped", S("secret\n\n"), "secret\n", NULL },
    { "CRLF twice: one stripped", S("secret\r\n\r\n"), "secret\r\n", NULL },
    { "lone CR kept", S("secret\r"), "secret\r", NULL },
    { "blanks kept", S(" se cret \n"), " se cret ", NULL },
    { "inner LF kept", S("sec\nret\n"), "sec\nret", NULL },
    { "single character", S("x"), "x", NULL },
    { "empty", S(""), NULL, "the password file is empty" },
    { "only LF", S("\n"), NULL, "the password file is empty" },
    { "only CRLF", S("\r\n"), NULL, "the password file is empty" },
    { "NUL byte", S("sec\0ret\n"), NULL, "NUL byte in the password" },
    { "only NUL", S("\0"), NULL, "NUL byte in the password" },
#undef S
};

/* test_secret - conf_read_secret on mkstemp files */
static void test_secret(void)
{
    char path[64], err[CONF_ERRSZ];
    char *secret;

    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (temp_file(path, sizeof(path), secrets[i].data, secrets[i].len) < 0) {
            ok(0, "mkstemp");
            continue;
        }
        secret = (char *)"junk";
        err[0] = '\0';
        int rc = conf_read_secret(path, &secret, err, sizeof(err));
        if (secrets[i].want != NULL) {
            ok(rc == 0, "secret %s", secrets[i].label);
            is_str(secret, secrets[i].want, "  value of %s", secrets[i].label);
        } else {
            ok(rc == -1, "secret %s refused", secrets[i].label);
            ok(secret == NULL, "  no secret returned");
            ok(strncmp(err, path, strlen(path)) == 0 && strstr(err, secrets[i].why) != NULL,
               "  error: %s", err);
        }
        if (rc == 0)
            free(secret);
        unlink(path);
    }

    /* 4096 bytes fit; 4097 do not, even when the last is a newline */
    static char data[4098];
    memset(data, 's', sizeof(data));
    if (temp_file(path, sizeof(path), data, 4096) == 0) {
        is_int(conf_read_secret(path, &secret, err, sizeof(err)), 0, "secret of 4096 bytes");
        is_int(secret ? strlen(secret) : 0, 4096, "  length 4096");
        free(secret);
        unlink(path);
    }
    data[4096] = '\n';
    if (temp_file(path, sizeof(path), data, 4097) == 0) {
        is_int(conf_read_secret(path, &secret, err, sizeof(err)), -1, "secret of 4097 bytes");
        ok(secret == NULL && strstr(err, "larger than 4096 bytes") != NULL, "  error: %s", err);
        unlink(path);
    }
    data[4095] = '\n';
    if (temp_file(path, sizeof(path), data, 4096) == 0) {
        is_int(conf_read_secret(path, &secret, err, sizeof(err)), 0,
               "4095 bytes and a newline");
        is_int(secret ? strlen(secret) : 0, 4095, "  newline stripped");
        free(secret);
        unlink(path);
    }

    is_int(conf_read_secret("/nonexistent/bind.pw", &secret, err, sizeof(err)), -1,
           "missing password file");
    ok(secret == NULL, "  no secret returned");
    is_str(err, "/nonexistent/bind.pw: No such file or directory", "  error names the file");
    is_int(conf_read_secret("/tmp", &secret, err, sizeof(err)), -1, "password file is a directory");
    ok(secret == NULL, "  no secret returned");
    /* modes: the owner's and the group's business, never the others' */
    static const struct {
        mode_t mode;
        int want;
    } modes[] = {
        { 0600, 0 }, { 0400, 0 }, { 0640, 0 }, { 0660, 0 }, { 0440, 0 },
        { 0644, -1 }, { 0604, -1 }, { 0602, -1 }, { 0601, -1 }, { 0666, -1 }, { 0647, -1 },
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (temp_file(path, sizeof(path), "secret\n", 7) < 0 || chmod(path, modes[i].mode) < 0) {
            ok(0, "mkstemp and chmod");
            continue;
        }
        secret = NULL;
        err[0] = '\0';
        int rc = conf_read_secret(path, &secret, err, sizeof(err));
        is_int(rc, modes[i].want, "password file of mode %04o %s", (unsigned)modes[i].mode,
               modes[i].want ? "refused" : "read");
        if (rc < 0) {
            char want[200];
            snprintf(want, sizeof(want), "%s: the password file is open to others (mode %04o): chmod 0600 %s",
                     path, (unsigned)modes[i].mode, path);
            ok(secret == NULL && strncmp(err, want, strlen(want)) == 0, "  error: %s", err);
        }
        if (secret != NULL)
            free(secret);
        unlink(path);
    }
}

int main(void)
{
    test_defaults();
    test_names();
    test_good();
    test_bad();
    test_long_values();
    test_files();
    test_file_values();
    test_line_limits();
    test_small_err();
    test_load();
    test_secret();
    return tap_done();
}
