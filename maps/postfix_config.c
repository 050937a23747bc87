/* postfix_config - Postfix ldap_table(5) files that ask the directory what
 * the sync asked it, for the fallback behind the cdb: maps. */

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/account.h"
#include "maps/atomicfile.h"
#include "maps/ldapdir.h"
#include "maps/ldapsyntax.h"
#include "maps/postfix_config.h"

#define POSTFIX_DEFAULT_DIR "/etc/postfix"

static const char *const table_names[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "mailmaps-domains.cf",
    [POSTFIX_MAILBOXES] = "mailmaps-mailboxes.cf",
    [POSTFIX_DEFER] = "mailmaps-defer.cf",
    [POSTFIX_FORWARD] = "mailmaps-forward.cf",
    [POSTFIX_MAIL] = "mailmaps-mail.cf",
    [POSTFIX_ALIASES] = "mailmaps-aliases.cf",
    [POSTFIX_ALIAS_DOMAINS] = "mailmaps-alias-domains.cf",
};

static const char *const map_names[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "domains",
    [POSTFIX_MAILBOXES] = "mailboxes",
    [POSTFIX_DEFER] = "mailboxes",
    [POSTFIX_FORWARD] = "aliases",
    [POSTFIX_MAIL] = "aliases",
    [POSTFIX_ALIASES] = "aliases",
    [POSTFIX_ALIAS_DOMAINS] = "aliases",
};

static const char *const main_cf_params[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "virtual_mailbox_domains",
    [POSTFIX_MAILBOXES] = "virtual_mailbox_maps",
    [POSTFIX_DEFER] = "virtual_mailbox_maps",
    [POSTFIX_FORWARD] = "virtual_alias_maps",
    [POSTFIX_MAIL] = "virtual_alias_maps",
    [POSTFIX_ALIASES] = "virtual_alias_maps",
    [POSTFIX_ALIAS_DOMAINS] = "virtual_alias_maps",
};

/* postfix_config_name - file name of one table */
const char *postfix_config_name(enum postfix_table t)
{
    return (unsigned)t < POSTFIX_TABLES ? table_names[t] : NULL;
}

/* domain_entries - the local domains come from domain entries */
static bool domain_entries(const struct conf *cfg)
{
    return cfg->ldap_domain_filter != NULL && cfg->ldap_domain_filter[0] != '\0';
}

/* postfix_config_used - the tables cfg needs */
bool postfix_config_used(const struct conf *cfg, enum postfix_table t)
{
    switch (t) {
    case POSTFIX_FORWARD:
        return cfg->ldap_attr_forward != NULL && cfg->ldap_attr_forward[0] != '\0';
    case POSTFIX_ALIAS_DOMAINS:
        return domain_entries(cfg) && cfg->ldap_attr_domain_alias != NULL &&
               cfg->ldap_attr_domain_alias[0] != '\0';
    default:
        return (unsigned)t < POSTFIX_TABLES;
    }
}

/* scheme_is - uri has this scheme (URI schemes compare without case) */
static bool scheme_is(const char *uri, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(uri, scheme, n) == 0 && strncmp(uri + n, "://", 3) == 0;
}

/* uri_count - how many of the configured URIs have this scheme */
static size_t uri_count(const struct conf *cfg, const char *scheme)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->ldap_uri_count; i++)
        n += scheme_is(cfg->ldap_uri[i], scheme);
    return n;
}

/* value_ok - Postfix reads "name = value" lines with no escapes: it strips
 * blanks at both ends of a value and takes a line that starts with a blank
 * as the continuation of the previous one. A value survives that as it is
 * only without control characters and without blanks at its ends. */
static bool value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && (v[0] == ' ' || v[n - 1] == ' '))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

/* list_item_ok - s can be one item of a Postfix list setting */
static bool list_item_ok(const char *s)
{
    return value_ok(s) && s[0] != '\0' && strpbrk(s, " ,") == NULL;
}

/* check_values - every value the files carry can be written as it is */
static int check_values(const struct conf *cfg, const char *secret, char *err, size_t errsz)
{
    const struct { const char *name, *value; } plain[] = {
        { "ldap_bind_dn", cfg->ldap_bind_dn },   { "ldap_base", cfg->ldap_base },
        { "ldap_filter", cfg->ldap_filter },     { "ldap_tls_ca_file", cfg->ldap_tls_ca_file },
        { "ldap_attr_mail", cfg->attr.mail },    { "ldap_attr_alias", cfg->attr.alias },
        { "ldap_attr_group", cfg->attr.group },   { "ldap_attr_home", cfg->attr.home },
        { "ldap_attr_storage", cfg->attr.storage }, { "mail_base", cfg->mail_base },
        { "ldap_attr_forward", cfg->ldap_attr_forward },
        { "ldap_alias_filter", cfg->ldap_alias_filter },
        { "ldap_forward_filter", cfg->ldap_forward_filter },
        { "ldap_domain_filter", cfg->ldap_domain_filter },
        { "ldap_attr_domain", cfg->ldap_attr_domain },
        { "ldap_attr_domain_alias", cfg->ldap_attr_domain_alias },
    };

    if (cfg->ldap_uri_count == 0) {
        snprintf(err, errsz, "ldap_uri: no URI");
        return -1;
    }
    for (size_t i = 0; i < cfg->ldap_uri_count; i++) {
        /* server_host is split at blanks and commas alike */
        if (!value_ok(cfg->ldap_uri[i]) || strchr(cfg->ldap_uri[i], ',') != NULL) {
            snprintf(err, errsz, "ldap_uri: Postfix cannot use '%.200s' in server_host "
                     "(write a comma as %%2C)", cfg->ldap_uri[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (plain[i].value == NULL || !value_ok(plain[i].value)) {
            snprintf(err, errsz, "%s: Postfix's ldap_table cannot carry this value "
                     "(a blank at either end, or a control character)", plain[i].name);
            return -1;
        }
    }
    for (size_t i = 0; i < cfg->alias_domains_count; i++) {
        /* a domain list item ends at a blank or a comma */
        if (!list_item_ok(cfg->alias_domains[i])) {
            snprintf(err, errsz, "alias_domains: Postfix cannot use '%.200s' in a domain list",
                     cfg->alias_domains[i]);
            return -1;
        }
    }
    if (cfg->attr.mail[0] == '\0' || cfg->ldap_base[0] == '\0') {
        snprintf(err, errsz, "%s: empty", cfg->attr.mail[0] ? "ldap_base" : "ldap_attr_mail");
        return -1;
    }
    if (secret != NULL && !value_ok(secret)) {
        /* Never quote the password itself. */
        snprintf(err, errsz, "ldap_bind_pw_file: the password starts or ends with a blank, "
                 "or holds a control character: Postfix's bind_pw cannot carry it");
        return -1;
    }
    return 0;
}

/* put_comment_text - text inside a comment line: a control character (a
 * newline in a path given on the command line) must not end the comment */
static void put_comment_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* put_template - a literal inside a Postfix template (search_base,
 * query_filter), where '%' starts an expansion */
static void put_template(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '%')
            fputc('%', out);
        fputc(*s, out);
    }
}

/* put_header - what the file is, where it goes, and where it differs */
static void put_header(const struct conf *cfg, enum postfix_table t, const char *dir, FILE *out)
{
    const struct conf_attrs *a = &cfg->attr;

    fprintf(out, "# %s - written by \"mailmaps postfix-config\" from ", table_names[t]);
    put_comment_text(out, cfg->path != NULL ? cfg->path : "the built-in defaults");
    fprintf(out, ".\n# The LDAP fallback behind cdb:");
    put_comment_text(out, cfg->maps_dir);
    fprintf(out, "/%s, with the sync's filter and\n# attributes. In main.cf:\n#   %s = cdb:",
            map_names[t], main_cf_params[t]);
    put_comment_text(out, cfg->maps_dir);
    fprintf(out, "/%s,", map_names[t]);
    /* every table of the same parameter, in enum order: for the alias
     * tables that order matters (the first that answers wins) */
    int last = t;
    for (int i = 0; i < POSTFIX_TABLES; i++)
        if (main_cf_params[i] == main_cf_params[t] && postfix_config_used(cfg, i))
            last = i;
    for (int i = 0; i < POSTFIX_TABLES; i++) {
        if (main_cf_params[i] != main_cf_params[t] || !postfix_config_used(cfg, i))
            continue;
        fprintf(out, "\n#       ldap:");
        put_comment_text(out, dir != NULL ? dir : POSTFIX_DEFAULT_DIR);
        fprintf(out, "/%s%s", table_names[i], i < last ? "," : "");
    }
    fprintf(out, "\n"
                 "# Postfix asks it only for keys the map lacks. Entries the sync skips for\n"
                 "# bad data (its warnings name them) may still be found here.\n");

    switch (domain_entries(cfg) && t == POSTFIX_DOMAINS ? POSTFIX_TABLES : t) {
    case POSTFIX_TABLES:
        /* the domains table of domain entries */
        fprintf(out,
                "# The key is a domain, found when a domain entry (ldap_domain_filter)\n"
                "# names it as its %s or as one of its %s: an\n"
                "# account's address never makes a domain local. As the map, except:\n"
                "# - the answer is OK once per matching entry (OK,OK,...); Postfix uses\n"
                "#   only whether a domain is found. For exactly OK, list the table as\n"
                "#   pipemap:{ldap:",
                cfg->ldap_attr_domain, cfg->ldap_attr_domain_alias[0] != '\0'
                                           ? cfg->ldap_attr_domain_alias : "(no alias attribute)");
        put_comment_text(out, dir != NULL ? dir : POSTFIX_DEFAULT_DIR);
        fprintf(out,
                "/%s, static:OK}\n"
                "# - alias_domains are not answered here: every sync writes them into the\n"
                "#   map (list them beside this table where the map may be missing).\n"
                "# - an entry the sync skips (its %s missing, invalid or another\n"
                "#   entry's) still makes its names local here.\n"
                "# Postfix asks virtual_mailbox_domains about every domain it resolves,\n"
                "# also other people's (each sender's): each one the map lacks costs an\n"
                "# equality search here (index %s and %s for \"eq\").\n",
                table_names[t], cfg->ldap_attr_domain, cfg->ldap_attr_domain,
                cfg->ldap_attr_domain_alias[0] != '\0' ? cfg->ldap_attr_domain_alias : "");
        break;
    case POSTFIX_FORWARD:
        fprintf(out,
                "# The key is an address that a matching entry holds as its %s; the\n"
                "# answer is that entry's %s, its forwarding addresses.\n"
                "# Listed before %s: an account that forwards is not delivered\n"
                "# to itself, unless its own address is among the forwards (Postfix does\n"
                "# not expand an address twice: that copy goes to the mailbox). An entry\n"
                "# without forwards is not found here. Only keys in a local domain\n"
                "# (domains.cdb, then %s) or in alias_domains are asked\n"
                "# (\"domain\" below): a forward never takes a foreign address. As the\n"
                "# map, except:\n"
                "# - addresses come back as stored, in the server's order, not lower-cased\n"
                "#   nor deduplicated, and one the sync drops as invalid is passed on.\n"
                "# - an address two matching entries hold as mail gives the forwards of\n"
                "#   both (the sync keeps the smaller DN's).\n",
                cfg->attr.mail, cfg->ldap_attr_forward, table_names[POSTFIX_MAIL],
                table_names[POSTFIX_DOMAINS]);
        if (cfg->ldap_forward_filter[0] != '\0')
            fprintf(out, "# %s counts only on entries matching ldap_forward_filter, as\n"
                         "# in the sync.\n", cfg->ldap_attr_forward);
        break;
    case POSTFIX_ALIAS_DOMAINS:
        fprintf(out,
                "# The key is an address u@D in an alias domain D (a domain entry's\n"
                "# %s, ldap_domain_filter); the answer is u@P, P that entry's\n"
                "# %s (result_format %%U@%%s), as aliases.cdb derives it. Listed\n"
                "# last: an address of D that an entry claims itself keeps that claim.\n"
                "# As the map, except:\n"
                "# - u@P is answered whether P has it or not (the map derives only the\n"
                "#   addresses P has): mail to an unknown u@D bounces as u@P unknown.\n"
                "# - a name that one entry has as its primary domain and another as an\n"
                "#   alias domain, or two entries as alias domains, is answered for each\n"
                "#   alias claim (the sync keeps the primary, else the smaller DN).\n",
                cfg->ldap_attr_domain_alias, cfg->ldap_attr_domain);
        break;
    case POSTFIX_DOMAINS:
        fprintf(out,
                "# The key is a domain, found when a matching account has its %s\n"
                "# there: an alias or list address never makes a domain local. As the map,\n"
                "# except:\n"
                "# - the answer is OK once per matching account (OK,OK,...); Postfix uses\n"
                "#   only whether a domain is found. For exactly OK, list the table as\n"
                "#   pipemap:{ldap:",
                a->mail);
        put_comment_text(out, dir != NULL ? dir : POSTFIX_DEFAULT_DIR);
        fprintf(out,
                "/%s, static:OK}\n"
                "# - every matching entry is sent: a domain with more accounts than the\n"
                "#   server's size limit for this bind is a temporary failure (4xx) until a\n"
                "#   sync puts it into the map.\n"
                "# - alias_domains are not answered here: every sync writes them into the\n"
                "#   map (list them beside this table where the map may be missing).\n"
                "# - an entry the sync skips (bad data, its mail held by another entry, a\n"
                "#   path another account has) still makes its domain local here.\n"
                "# Postfix asks virtual_mailbox_domains about every domain it resolves,\n"
                "# also other people's (each sender's): each one the map lacks costs a\n"
                "# substring search here. Index %s for \"sub\" search, or the server\n"
                "# reads every account on each of them.\n",
                table_names[t], a->mail);
        break;
    case POSTFIX_MAILBOXES:
        fprintf(out,
                "# The key is an address (%s); the answer is <domain>/<local>/Maildir/,\n"
                "# relative to virtual_mailbox_base, made from the lower-cased key, and\n"
                "# only for an entry whose %s and %s are\n"
                "# absent or the defaults (spelled as the filter lists them): a path an\n"
                "# entry sets itself may lie inside another account's, which only the sync\n"
                "# sees, across the whole directory. As the map, except:\n"
                "# - an account with a home or storage directory of its own is not found\n"
                "#   here: %s, listed after this table, makes it a temporary\n"
                "#   failure, so Postfix defers its mail until a sync puts it into the map\n"
                "#   (in persist mode, seconds after the change).\n"
                "# - when another entry names this account's default Maildir (or a path\n"
                "#   inside or above it) as its own, the sync gives it to the smaller DN;\n"
                "#   this table still answers the default path for this account.\n"
                "# - an address that two matching entries hold is a temporary failure\n"
                "#   (expansion_limit = 1) rather than two paths.\n",
                a->mail, a->home, a->storage, table_names[POSTFIX_DEFER]);
        break;
    case POSTFIX_DEFER:
        fprintf(out,
                "# The key is an address that a matching entry holds as its %s; every\n"
                "# answer is a temporary failure (4xx), never a mailbox: it returns the\n"
                "# %s and the objectClass values (at least two) against\n"
                "# expansion_limit = 1. Listed after %s, it is asked\n"
                "# only for the accounts that table leaves to the sync (a home or storage\n"
                "# directory of their own): their mail waits in the queue until a sync\n"
                "# puts them into the map, rather than bouncing as unknown.\n",
                a->mail, a->mail, table_names[POSTFIX_MAILBOXES]);
        break;
    case POSTFIX_MAIL:
        fprintf(out,
                "# The key is an address that a matching entry holds as its %s; the\n"
                "# answer is the key itself, which ends alias expansion there. Listed\n"
                "# before %s: Postfix takes the first table that answers, so\n"
                "# an alias or list claim on some entry's mail address never takes it (a\n"
                "# mail claim wins, as in the maps), and the address goes on to\n"
                "# virtual_mailbox_maps. The map holds no such keys: behind fresh maps\n"
                "# Postfix asks this table about every mailbox address (one search each).\n"
                "# An address two entries hold as mail is a temporary failure\n"
                "# (expansion_limit = 1).\n",
                a->mail, table_names[POSTFIX_ALIASES]);
        break;
    case POSTFIX_ALIASES:
        fprintf(out,
                "# The key is an alias (%s) or a list address (%s); the\n"
                "# answer is the %s of every account that carries it, comma separated.\n"
                "# Only keys in a mailbox domain (domains.cdb, then %s)\n"
                "# or in alias_domains are asked (\"domain\" below): an alias or list\n"
                "# address in any other domain is never answered. (Maps written before\n"
                "# mailmaps kept foreign domains out of domains.cdb may still list them\n"
                "# until the first sync.) As the map, except:\n"
                "# - addresses come back as stored, not lower-cased (Postfix folds the\n"
                "#   case of every later lookup, so delivery is the same).\n"
                "# - list members come in the server's order; the map sorts them.\n"
                "# - an address that several entries claim as alias or list gives every\n"
                "#   one of them (the sync gives it to the smaller DN and warns); a mail\n"
                "#   claim wins through %s, which comes first.\n"
                "# - an alias of an account the sync skips (bad data, its mail held by\n"
                "#   another entry, a path another account has) is still answered.\n"
                "# - a list name matches by %s's own rule: case-exact in the\n"
                "#   Postfix Book schema, so a name stored with capitals is not found by\n"
                "#   the lower-case key Postfix asks with.\n"
                "# - a list with more members than the server's size limit for this bind\n"
                "#   is a temporary failure.\n"
                "# A key whose domain domains.cdb lacks costs a domain search first.\n",
                a->alias, a->group, a->mail, table_names[POSTFIX_DOMAINS],
                table_names[POSTFIX_MAIL], a->group);
        if (cfg->ldap_alias_filter[0] != '\0')
            fprintf(out, "# %s counts only on entries matching ldap_alias_filter, as in the\n"
                         "# sync.\n", a->alias);
        break;
    default:
        break;
    }
}

/* put_connection - the settings every table shares, as the sync connects */
static void put_connection(const struct conf *cfg, const char *secret, FILE *out)
{
    size_t ldapi = uri_count(cfg, "ldapi"), ldaps = uri_count(cfg, "ldaps");
    size_t plain = uri_count(cfg, "ldap");

    fprintf(out, "server_host =");
    for (size_t i = 0; i < cfg->ldap_uri_count; i++)
        fprintf(out, " %s", cfg->ldap_uri[i]);
    fprintf(out, "\nversion = 3\ntimeout = %u\nsearch_base = ", cfg->ldap_timeout);
    put_template(out, cfg->ldap_base);
    fprintf(out, "\nscope = sub\n");
    if (cfg->ldap_bind_dn[0] != '\0') {
        fprintf(out, "bind = yes\nbind_dn = %s\n", cfg->ldap_bind_dn);
        /* Postfix reads no password file: the secret goes into this file,
         * which is therefore written mode 0640, group postfix (proxymap(8)
         * opens it as the postfix user, after it has given up root). */
        if (secret != NULL)
            fprintf(out, "bind_pw = %s\n", secret);
    } else if (ldapi == cfg->ldap_uri_count) {
        fprintf(out, "# As the sync: over the local socket the server knows the client by its\n"
                     "# uid (Postfix's lookups run as the postfix user: grant it read access).\n"
                     "bind = sasl\nsasl_mechs = EXTERNAL\n");
    } else {
        if (ldapi > 0)
            fprintf(out, "# Anonymous on every server: Postfix has one bind for all of them, and\n"
                         "# SASL EXTERNAL (the sync's choice on ldapi://) fails on the others.\n");
        fprintf(out, "bind = no\n");
    }
    if ((cfg->ldap_starttls && plain > 0) || ldaps > 0) {
        if (cfg->ldap_starttls && plain > 0) {
            if (ldapi + ldaps > 0)
                fprintf(out, "# Postfix issues StartTLS on every server_host, not only ldap://.\n");
            fprintf(out, "start_tls = yes\n");
        }
        /* The sync verifies the server's certificate; Postfix's default is not to. */
        fprintf(out, "tls_require_cert = yes\n");
        if (cfg->ldap_tls_ca_file[0] != '\0')
            fprintf(out, "tls_ca_cert_file = %s\n", cfg->ldap_tls_ca_file);
    }
}

/* put_literal - a literal inside an LDAP assertion value inside a Postfix
 * template: filter-escaped, then '%' doubled */
static void put_literal(FILE *out, const char *s)
{
    char esc[3 * 4096 + 1];
    if (ldapsyntax_escape(s, strlen(s), esc, sizeof(esc)) >= 0)
        put_template(out, esc);
}

/* put_default_paths - the filter terms "home and storage absent or the
 * defaults": each spelling account.c cleans to the default path (a
 * trailing '/', the "maildir:" prefix, storage relative or absolute) */
static void put_default_paths(const struct conf *cfg, const char *base, bool spelled,
                              FILE *out)
{
    const struct conf_attrs *a = &cfg->attr;

    if (a->home != NULL && a->home[0] != '\0') {
        fprintf(out, "(|(!(%s=*))", a->home);
        for (int slash = 0; slash < 2; slash++) {
            fprintf(out, "(%s=", a->home);
            put_literal(out, base);
            fprintf(out, "/%%d/%%u%s)", slash ? "/" : "");
        }
        fprintf(out, ")");
    }
    if (a->storage != NULL && a->storage[0] != '\0' && !spelled) {
        fprintf(out, "(!(%s=*))", a->storage);
    } else if (a->storage != NULL && a->storage[0] != '\0') {
        fprintf(out, "(|(!(%s=*))", a->storage);
        for (int v = 0; v < 8; v++) {
            fprintf(out, "(%s=%s", a->storage, v & 4 ? "maildir:" : "");
            if (v & 2) {
                put_literal(out, base);
                fprintf(out, "/");
            }
            fprintf(out, "%%d/%%u/Maildir%s)", v & 1 ? "/" : "");
        }
        fprintf(out, ")");
    }
}

/* put_domain_query - the domains and alias domains tables of domain
 * entries: a domain is local when an entry names it; u@D answers u@P
 * when an entry has D as an alias domain of its primary P */
static void put_domain_query(const struct conf *cfg, enum postfix_table t, FILE *out)
{
    const char *dom = cfg->ldap_attr_domain, *alias = cfg->ldap_attr_domain_alias;

    fprintf(out, "query_filter = (&");
    put_template(out, cfg->ldap_domain_filter);
    if (t == POSTFIX_ALIAS_DOMAINS)
        fprintf(out, "(%s=%%d))\nresult_attribute = %s\nresult_format = %%U@%%s\n", alias, dom);
    else if (alias[0] != '\0')
        fprintf(out, "(|(%s=%%s)(%s=%%s)))\nresult_attribute = %s\nresult_format = OK\n", dom,
                alias, dom);
    else
        fprintf(out, "(%s=%%s))\nresult_attribute = %s\nresult_format = OK\n", dom, dom);
}

/* put_query - filter and result of one table */
static void put_query(const struct conf *cfg, enum postfix_table t, const char *dir,
                      const char *base, FILE *out)
{
    const struct conf_attrs *a = &cfg->attr;
    char tpl[4200] = "";

    /* an alias or a forward key in a domain not ours is never answered:
     * Postfix asks virtual_alias_maps about every recipient, other
     * people's too */
    if (t == POSTFIX_ALIASES || t == POSTFIX_FORWARD) {
        fprintf(out, "domain =");
        for (size_t i = 0; i < cfg->alias_domains_count; i++)
            fprintf(out, " %s,", cfg->alias_domains[i]);
        fprintf(out, " cdb:%s/domains, ldap:%s/%s\n", cfg->maps_dir,
                dir != NULL ? dir : POSTFIX_DEFAULT_DIR, table_names[POSTFIX_DOMAINS]);
    }
    if (domain_entries(cfg) && (t == POSTFIX_DOMAINS || t == POSTFIX_ALIAS_DOMAINS)) {
        put_domain_query(cfg, t, out);
        return;
    }
    fprintf(out, "query_filter = (&");
    put_template(out, cfg->ldap_filter);
    switch (t) {
    case POSTFIX_FORWARD:
        put_template(out, cfg->ldap_forward_filter);
        fprintf(out, "(%s=%%u@%%d))\nresult_attribute = %s\n", a->mail, cfg->ldap_attr_forward);
        break;
    case POSTFIX_DOMAINS:
        fprintf(out, "(%s=*@%%s))\n", a->mail);
        fprintf(out, "result_attribute = %s\nresult_format = OK\n", a->mail);
        break;
    case POSTFIX_MAILBOXES:
        /* %u@%d rather than %s: "@domain" and bare "user" keys, which the
         * map never holds, are not searched at all. %D and %U in the result
         * are the key's parts, already lower-cased by Postfix, as the map's
         * path is made from the lower-cased mail. */
        fprintf(out, "(%s=%%u@%%d)", a->mail);
        /* the mailbox the maps give an account of default paths (where
         * mail_location puts it; a storage directory spelled as the
         * default is the default only without it); none per address:
         * answer nothing, the defer table makes such mail wait for a sync */
        if (account_mailbox_template(cfg, tpl, sizeof(tpl)) <= 0)
            tpl[0] = '\0';
        put_default_paths(cfg, base, strcmp(tpl, "%D/%U/Maildir/") == 0, out);
        if (tpl[0] == '\0')
            fprintf(out, "(|)");
        fprintf(out, ")\nresult_attribute = %s\nresult_format = %s\nexpansion_limit = 1\n",
                a->mail, tpl[0] != '\0' ? tpl : "%D/%U/Maildir/");
        break;
    case POSTFIX_DEFER:
        /* objectClass: every entry has one; with the mail, two elements */
        fprintf(out, "(%s=%%u@%%d))\nresult_attribute = %s, objectClass\n"
                     "expansion_limit = 1\n",
                a->mail, a->mail);
        break;
    case POSTFIX_MAIL:
        fprintf(out, "(%s=%%u@%%d))\nresult_attribute = %s\n"
                     "result_format = %%U@%%D\nexpansion_limit = 1\n",
                a->mail, a->mail);
        break;
    case POSTFIX_ALIASES:
        if (cfg->ldap_alias_filter[0] != '\0') {
            /* an alias counts only where the alias filter admits it */
            fprintf(out, "(|(&");
            put_template(out, cfg->ldap_alias_filter);
            fprintf(out, "(%s=%%u@%%d))(%s=%%u@%%d)))\n", a->alias, a->group);
        } else {
            fprintf(out, "(|(%s=%%u@%%d)(%s=%%u@%%d)))\n", a->alias, a->group);
        }
        fprintf(out, "result_attribute = %s\n", a->mail);
        break;
    default:
        break;
    }
}

/* postfix_config_format - one table file */
int postfix_config_format(const struct conf *cfg, enum postfix_table t, const char *dir,
                          const char *secret, FILE *out, char *err, size_t errsz)
{
    if ((unsigned)t >= POSTFIX_TABLES) {
        snprintf(err, errsz, "no such table");
        return -1;
    }
    if (!postfix_config_used(cfg, t)) {
        snprintf(err, errsz, "%s: not used by this configuration", table_names[t]);
        return -1;
    }
    if (check_values(cfg, secret, err, errsz) < 0)
        return -1;
    /* the default home without "/d/u": mail_base cleaned as account.c
     * cleans it */
    char base[4200];
    int n = account_default_home(cfg, "u@d", base, sizeof(base));
    if (n < 4) {
        snprintf(err, errsz, "mail_base: not a usable path");
        return -1;
    }
    base[n - 4] = '\0';
    if ((t == POSTFIX_ALIASES || t == POSTFIX_FORWARD) && (!list_item_ok(cfg->maps_dir) ||
                                 (dir != NULL && !list_item_ok(dir)))) {
        snprintf(err, errsz, "%.200s: Postfix cannot name a table in a directory whose name"
                 " has a blank, a comma or a control character",
                 list_item_ok(cfg->maps_dir) ? dir : cfg->maps_dir);
        return -1;
    }
    put_header(cfg, t, dir, out);
    put_connection(cfg, secret, out);
    put_query(cfg, t, dir, base, out);
    if (ferror(out)) {
        snprintf(err, errsz, "write error: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* postfix_gid - the group the Postfix daemons run in, or (gid_t)-1 (the
 * writer's own) where there is none */
static gid_t postfix_gid(void)
{
    struct group *gr = getgrnam("postfix");
    return gr != NULL ? gr->gr_gid : (gid_t)-1;
}

/* write_file - text into dir/name, replaced atomically */
static int write_file(const char *dir, const char *name, const char *text, size_t len,
                      mode_t mode, gid_t gid, char *err, size_t errsz)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, errsz, "%.200s: directory name too long", dir);
        return -1;
    }
    return atomicfile_replace(path, text, len, mode, gid, err, errsz);
}

/* postfix_config_write - all the tables, into dir or to stdout */
int postfix_config_write(const struct conf *cfg, const char *dir, char *err, size_t errsz)
{
    char *secret = NULL;
    char *text[POSTFIX_TABLES] = { NULL };
    size_t len[POSTFIX_TABLES] = { 0 };
    char *absdir = NULL;
    int r = 0;

    if (cfg->ldap_bind_dn[0] != '\0' && cfg->ldap_bind_pw_file[0] != '\0' &&
        conf_read_secret(cfg->ldap_bind_pw_file, &secret, err, errsz) < 0)
        return -1;
    /* The comments name the file as main.cf must: by its absolute path. */
    if (dir != NULL)
        absdir = realpath(dir, NULL);
    /* All in memory first: a value Postfix cannot take leaves every
     * file as it was. */
    for (int t = 0; t < POSTFIX_TABLES && r == 0; t++) {
        if (!postfix_config_used(cfg, (enum postfix_table)t))
            continue;
        FILE *mem = open_memstream(&text[t], &len[t]);
        if (mem == NULL) {
            snprintf(err, errsz, "out of memory");
            r = -1;
            break;
        }
        r = postfix_config_format(cfg, (enum postfix_table)t, absdir != NULL ? absdir : dir,
                                  secret, mem, err, errsz);
        if (fclose(mem) != 0 && r == 0) {
            snprintf(err, errsz, "out of memory");
            r = -1;
        }
    }
    for (int t = 0, first = 1; t < POSTFIX_TABLES && r == 0; t++) {
        if (!postfix_config_used(cfg, (enum postfix_table)t))
            continue;
        if (dir != NULL) {
            r = write_file(dir, table_names[t], text[t], len[t], secret != NULL ? 0640 : 0644,
                           secret != NULL ? postfix_gid() : (gid_t)-1, err, errsz);
        } else {
            printf("%s# %s\n", first ? "" : "\n", table_names[t]);
            fwrite(text[t], 1, len[t], stdout);
            first = 0;
        }
    }
    if (r == 0 && dir == NULL && (fflush(stdout) != 0 || ferror(stdout))) {
        snprintf(err, errsz, "write error: %s", strerror(errno));
        r = -1;
    }
    for (int t = 0; t < POSTFIX_TABLES; t++) {
        if (text[t] != NULL) {
            explicit_bzero(text[t], len[t]);
            free(text[t]);
        }
    }
    if (secret != NULL) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    free(absdir);
    return r;
}
