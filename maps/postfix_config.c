/* postfix_config - Postfix ldap_table(5) files that ask the directory what
 * the sync asked it, for the fallback behind the cdb: maps. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/atomicfile.h"
#include "maps/postfix_config.h"

#define POSTFIX_DEFAULT_DIR "/etc/postfix"

static const char *const table_names[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "mailmaps-domains.cf",
    [POSTFIX_MAILBOXES] = "mailmaps-mailboxes.cf",
    [POSTFIX_ALIASES] = "mailmaps-aliases.cf",
};

static const char *const map_names[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "domains",
    [POSTFIX_MAILBOXES] = "mailboxes",
    [POSTFIX_ALIASES] = "aliases",
};

static const char *const main_cf_params[POSTFIX_TABLES] = {
    [POSTFIX_DOMAINS] = "virtual_mailbox_domains",
    [POSTFIX_MAILBOXES] = "virtual_mailbox_maps",
    [POSTFIX_ALIASES] = "virtual_alias_maps",
};

/* postfix_config_name - file name of one table */
const char *postfix_config_name(enum postfix_table t)
{
    return (unsigned)t < POSTFIX_TABLES ? table_names[t] : NULL;
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

/* check_values - every value the files carry can be written as it is */
static int check_values(const struct conf *cfg, const char *secret, char *err, size_t errsz)
{
    const struct { const char *name, *value; } plain[] = {
        { "ldap_bind_dn", cfg->ldap_bind_dn },   { "ldap_base", cfg->ldap_base },
        { "ldap_filter", cfg->ldap_filter },     { "ldap_tls_ca_file", cfg->ldap_tls_ca_file },
        { "ldap_attr_mail", cfg->attr.mail },    { "ldap_attr_alias", cfg->attr.alias },
        { "ldap_attr_group", cfg->attr.group },
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
    fprintf(out, "/%s,\n#       ldap:", map_names[t]);
    put_comment_text(out, dir != NULL ? dir : POSTFIX_DEFAULT_DIR);
    fprintf(out, "/%s\n"
                 "# Postfix asks it only for keys the map lacks. Entries the sync skips for\n"
                 "# bad data (its warnings name them) may still be found here.\n",
            table_names[t]);

    switch (t) {
    case POSTFIX_DOMAINS:
        fprintf(out,
                "# The key is a domain, found when a matching account has its %s or\n"
                "# %s there, or a %s there. As the map, except:\n"
                "# - the answer is OK once per matching account (OK,OK,...); Postfix uses\n"
                "#   only whether a domain is found. For exactly OK, list the table as\n"
                "#   pipemap:{ldap:",
                a->mail, a->alias, a->group);
        put_comment_text(out, dir != NULL ? dir : POSTFIX_DEFAULT_DIR);
        fprintf(out,
                "/%s, static:OK}\n"
                "# - every matching entry is sent: a domain with more accounts than the\n"
                "#   server's size limit for this bind is a temporary failure (4xx) until a\n"
                "#   sync puts it into the map.\n"
                "# - %s counts only if it has a substring matching rule (the\n"
                "#   Postfix Book schema gives it none).\n"
                "# Postfix asks virtual_mailbox_domains about every domain it resolves,\n"
                "# also other people's (each sender's): each one the map lacks costs a\n"
                "# substring search here. Index %s and %s for \"sub\" search, or\n"
                "# the server reads every account on each of them.\n",
                table_names[t], a->group, a->mail, a->alias);
        break;
    case POSTFIX_MAILBOXES:
        fprintf(out,
                "# The key is an address (%s); the answer is <domain>/<local>/Maildir/,\n"
                "# relative to virtual_mailbox_base, made from the lower-cased key.\n"
                "# As the map, except:\n"
                "# - an account with its own %s gets that default path\n"
                "#   too: ldap_table cannot make the path the map holds. (The value is not\n"
                "#   used when Dovecot delivers over LMTP.)\n"
                "# - an address that two matching entries hold is a temporary failure\n"
                "#   (expansion_limit = 1) rather than two paths.\n",
                a->mail, a->storage);
        break;
    case POSTFIX_ALIASES:
        fprintf(out,
                "# The key is an alias (%s) or a list address (%s); the\n"
                "# answer is the %s of every account that carries it, comma separated.\n"
                "# As the map, except:\n"
                "# - addresses come back as stored, not lower-cased (Postfix folds the\n"
                "#   case of every later lookup, so delivery is the same).\n"
                "# - list members come in the server's order; the map sorts them.\n"
                "# - an address that several entries claim (as mail, alias or list) gives\n"
                "#   every entry that has it as an alias or list; the sync gives it to\n"
                "#   one of them and warns.\n"
                "# - a list name matches by %s's own rule: case-exact in the\n"
                "#   Postfix Book schema, so a name stored with capitals is not found by\n"
                "#   the lower-case key Postfix asks with.\n"
                "# - a list with more members than the server's size limit for this bind\n"
                "#   is a temporary failure.\n"
                "# Postfix asks virtual_alias_maps for every recipient, also for mailbox\n"
                "# addresses, which are not keys of the map: each one costs a search here.\n",
                a->alias, a->group, a->mail, a->group);
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
         * which is therefore written mode 0640. */
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

/* put_query - filter and result of one table */
static void put_query(const struct conf *cfg, enum postfix_table t, FILE *out)
{
    const struct conf_attrs *a = &cfg->attr;

    fprintf(out, "query_filter = (&");
    put_template(out, cfg->ldap_filter);
    switch (t) {
    case POSTFIX_DOMAINS:
        fprintf(out, "(|(%s=*@%%s)(%s=*@%%s)(%s=*@%%s)))\n", a->mail, a->alias, a->group);
        fprintf(out, "result_attribute = %s\nresult_format = OK\n", a->mail);
        break;
    case POSTFIX_MAILBOXES:
        /* %u@%d rather than %s: "@domain" and bare "user" keys, which the
         * map never holds, are not searched at all. %D and %U in the result
         * are the key's parts, already lower-cased by Postfix, as the map's
         * path is made from the lower-cased mail. */
        fprintf(out, "(%s=%%u@%%d))\nresult_attribute = %s\n"
                     "result_format = %%D/%%U/Maildir/\nexpansion_limit = 1\n",
                a->mail, a->mail);
        break;
    case POSTFIX_ALIASES:
        fprintf(out, "(|(%s=%%u@%%d)(%s=%%u@%%d)))\n", a->alias, a->group);
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
    if (check_values(cfg, secret, err, errsz) < 0)
        return -1;
    put_header(cfg, t, dir, out);
    put_connection(cfg, secret, out);
    put_query(cfg, t, out);
    if (ferror(out)) {
        snprintf(err, errsz, "write error: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* write_file - text into dir/name, replaced atomically */
static int write_file(const char *dir, const char *name, const char *text, size_t len,
                      mode_t mode, char *err, size_t errsz)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, errsz, "%.200s: directory name too long", dir);
        return -1;
    }
    return atomicfile_replace(path, text, len, mode, (gid_t)-1, err, errsz);
}

/* postfix_config_write - all three tables, into dir or to stdout */
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
    /* All three in memory first: a value Postfix cannot take leaves every
     * file as it was. */
    for (int t = 0; t < POSTFIX_TABLES && r == 0; t++) {
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
    for (int t = 0; t < POSTFIX_TABLES && r == 0; t++) {
        if (dir != NULL) {
            r = write_file(dir, table_names[t], text[t], len[t], secret != NULL ? 0640 : 0644,
                           err, errsz);
        } else {
            printf("%s# %s\n", t ? "\n" : "", table_names[t]);
            fwrite(text[t], 1, len[t], stdout);
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
