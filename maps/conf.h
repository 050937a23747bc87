#ifndef MAILMAPS_CONF_H
#define MAILMAPS_CONF_H

/* mailmaps.conf: one file, one table-driven parser, every program.
 *
 *   # comment
 *   name = value
 *
 * A line is a comment when its first non-blank character is '#'; values run
 * to the end of the line (trailing blanks dropped), so a filter may hold
 * '#' and '='. Unknown names, bad values, a setting given twice and a
 * missing ldap_base are errors that name the file, the line and the
 * setting: "FILE:LINE: NAME: reason". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps/quota.h"

struct ldapsyntax_filter;

#define CONF_DEFAULT_PATH "/etc/mailmaps/mailmaps.conf"
#define CONF_LIST_MAX 16
#define CONF_ERRSZ 512

enum sync_mode { SYNC_MODE_POLL, SYNC_MODE_PERSIST };
enum policy_on_error { POLICY_ON_ERROR_DUNNO, POLICY_ON_ERROR_DEFER };

/* One policy_listen address. */
struct conf_listen {
    enum { CONF_LISTEN_UNIX, CONF_LISTEN_INET } kind;
    char path[108];        /* unix: socket path */
    char host[256];        /* inet: host or address ("" = any? no: required) */
    unsigned port;         /* inet: 1..65535 */
};

/* quota_usage: where current usage comes from. */
#define CONF_REDIS_MAX 4   /* Redis addresses: a primary and its replicas */
struct conf_usage {
    enum { CONF_USAGE_MAILDIR, CONF_USAGE_REDIS } kind;
    char template[512];    /* maildir: path template with %h %u %d %n */
    struct conf_redis_addr {
        char host[256];
        unsigned port;
    } redis[CONF_REDIS_MAX]; /* redis: tried in order */
    size_t redis_count;
    unsigned db;
};

/* quota_grace: a share of the base limit or an absolute size */
struct conf_grace {
    bool percent;
    uint64_t value;        /* percent or bytes */
};

struct conf_attrs {
    char *mail, *alias, *group, *home, *storage, *uid, *gid, *quota, *password;
};

struct conf {
    char *path;                          /* file read, or NULL (defaults) */

    char *ldap_uri[CONF_LIST_MAX];       /* tried in order */
    size_t ldap_uri_count;
    char *ldap_bind_dn;                  /* "" = anonymous */
    char *ldap_bind_pw_file;             /* "" = none */
    char *redis_password_file;           /* "" = no AUTH */
    bool ldap_starttls;
    char *ldap_tls_ca_file;              /* "" = system CAs */
    unsigned ldap_timeout;               /* seconds */
    char *ldap_base;
    char *ldap_filter;
    unsigned ldap_page_size;
    struct conf_attrs attr;
    uint64_t ldap_quota_unit;            /* bytes per unit of a bare quota number */
    char *ldap_domain_filter;            /* "" = domains come from the addresses */
    char *ldap_attr_domain;              /* a domain entry's primary domain */
    char *ldap_attr_domain_alias;        /* its alias domains; "" = none */
    char *ldap_attr_forward;             /* "" = no forwards */
    char *ldap_alias_filter;             /* "" = every account's aliases count */
    char *ldap_forward_filter;           /* "" = every account's forwards count */
    bool alias_login;                    /* aliases log in to Dovecot too */
    struct ldapsyntax_filter *alias_gate;   /* ldap_alias_filter parsed, NULL = "" */
    struct ldapsyntax_filter *forward_gate; /* ldap_forward_filter parsed, NULL = "" */

    char *maps_dir;
    char *maps_group;                    /* "" = the sync's own group */
    char *mail_base;

    unsigned sync_interval;              /* seconds */
    enum sync_mode sync_mode;
    unsigned max_shrink;                 /* percent */
    unsigned stale_after;                /* seconds */
    unsigned fallback_cache_ttl;         /* seconds, 0 = no cache */

    unsigned default_uid, default_gid;
    unsigned first_valid_uid, last_valid_uid;   /* last 0 = no upper bound */
    unsigned first_valid_gid, last_valid_gid;
    char *home_dirs[CONF_LIST_MAX];      /* homes lie under one of these; */
    size_t home_dirs_count;              /* none given = mail_base */
    char *alias_domains[CONF_LIST_MAX * 4]; /* lower-case, alias-only domains */
    size_t alias_domains_count;
    char *mail_location;                 /* "" = maildir:<storage> */
    uint64_t default_quota;              /* bytes, 0 = unlimited */
    struct quota_rules quota_rules;      /* folder rules (no "*" rule) */
    struct conf_grace quota_grace;
    char *recipient_delimiter;           /* set of characters, "" = none */
    char *default_password_scheme;       /* for hashes without {SCHEME} */

    struct conf_listen policy_listen[CONF_LIST_MAX];
    size_t policy_listen_count;
    mode_t policy_socket_mode;
    char *policy_socket_group;
    unsigned policy_workers;             /* processes answering requests */
    struct conf_usage quota_usage;
    char *overquota_reply;
    enum policy_on_error policy_on_error;
    char *policy_metrics_file;           /* "" = no metrics file */
};

/* conf_defaults - fill cfg with every default (ldap_base stays ""). cfg
 * owns its strings afterwards: release with conf_free. 0 or -1 (memory). */
int conf_defaults(struct conf *cfg);

/* conf_load - defaults, then the file at path. 0 ok; -1 with
 * "FILE:LINE: NAME: reason" (or "FILE: reason") in err. cfg is always
 * safe to conf_free afterwards. */
int conf_load(struct conf *cfg, const char *path, char *err, size_t errsz);

/* conf_parse_buffer - as conf_load on text already in memory; name is used
 * in error messages. */
int conf_parse_buffer(struct conf *cfg, const char *name, const char *buf,
                      size_t len, char *err, size_t errsz);

void conf_free(struct conf *cfg);

/* conf_home_dir_count / conf_home_dir - the directories homes must lie
 * under: home_dirs, or mail_base when home_dirs is empty. */
size_t conf_home_dir_count(const struct conf *cfg);
const char *conf_home_dir(const struct conf *cfg, size_t i);

/* conf_id_valid - uid (is_gid false) or gid within first_valid_* ..
 * last_valid_* (last 0 = no upper bound) */
bool conf_id_valid(const struct conf *cfg, bool is_gid, unsigned long long id);

/* conf_alias_domain - domain (lower-case, len bytes) is in alias_domains */
bool conf_alias_domain(const struct conf *cfg, const char *domain, size_t len);

/* conf_setting_count / conf_setting_name - the settings the parser knows
 * (for the documentation check and `mailmaps config`), in the order of the
 * documentation. conf_setting_default is the default as a file would write
 * it ("" for empty and for the required ldap_base); conf_setting_description
 * a one-line explanation. Static strings; NULL for i out of range. */
size_t conf_setting_count(void);
const char *conf_setting_name(size_t i);
const char *conf_setting_default(size_t i);
const char *conf_setting_description(size_t i);

/* conf_read_secret - read the bind password file: one trailing newline
 * stripped. A file others may read or write (mode & 0007) is refused, the
 * reason naming the file and the chmod that fixes it. 0 ok, -1 with
 * reason. *secret_r is malloc'ed (caller frees, ideally after clearing
 * it). */
int conf_read_secret(const char *path, char **secret_r, char *err, size_t errsz);

#endif
