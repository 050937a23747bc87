/* dovecot_fields - users.cdb userdb fields in Dovecot 2.4's names */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "maps/dovecot_fields.h"
#include "maps/quota.h"

/* Longest mail field we split (a path plus a few options). */
#define MAIL_FIELD_MAX 4096
#define MAIL_OPTS_MAX 32
/* "mailbox/" + folder + "/quota_storage_extra" */
#define SETTING_NAME_MAX (QUOTA_FOLDER_MAX + 64)

/* The keys of Dovecot 2.3's mail location and the 2.4 setting each became.
 * value NULL: the option's own value; otherwise the key takes no value and
 * sets this one. extra/extra_value: a second setting the key implies. */
static const struct mail_key {
    const char *key, *setting, *value, *extra, *extra_value;
} mail_keys[] = {
    { "INBOX", "mail_inbox_path", NULL, NULL, NULL },
    { "INDEX", "mail_index_path", NULL, NULL, NULL },
    { "INDEXPVT", "mail_index_private_path", NULL, NULL, NULL },
    { "INDEXCACHE", "mail_cache_path", NULL, NULL, NULL },
    { "CONTROL", "mail_control_path", NULL, NULL, NULL },
    { "ALT", "mail_alt_path", NULL, NULL, NULL },
    { "ALTNOCHECK", "mail_alt_check", "no", NULL, NULL },
    { "VOLATILEDIR", "mail_volatile_path", NULL, NULL, NULL },
    { "LAYOUT", "mailbox_list_layout", NULL, NULL, NULL },
    { "SUBSCRIPTIONS", "mailbox_subscriptions_filename", NULL, NULL, NULL },
    /* 2.4.1 defaults to the legacy (FULLDIRNAME) meaning: say which */
    { "DIRNAME", "mailbox_directory_name", NULL, "mailbox_directory_name_legacy", "no" },
    { "FULLDIRNAME", "mailbox_directory_name", NULL, "mailbox_directory_name_legacy", "yes" },
    { "MAILBOXDIR", "mailbox_root_directory_name", NULL, NULL, NULL },
    { "LISTINDEX", "mailbox_list_index_prefix", NULL, NULL, NULL },
    { "BROKENCHAR", "mailbox_list_visible_escape_char", NULL, NULL, NULL },
    { "ITERINDEX", "mailbox_list_iter_from_index_dir", "yes", NULL, NULL },
    { "NO-NOSELECT", "mailbox_list_drop_noselect", "yes", NULL, NULL },
    { "NO-FS-VALIDATION", "mailbox_list_validate_fs_names", "no", NULL, NULL },
    { "UTF-8", "mailbox_list_utf8", "yes", NULL, NULL },
};

/* A mail field split at its ':' ("::" stands for ':' itself, as in 2.3). */
struct mail_split {
    char buf[MAIL_FIELD_MAX];
    const char *driver, *path;
    size_t nopts;
    struct {
        const struct mail_key *key;
        const char *value;
    } opt[MAIL_OPTS_MAX];
};

/* mail_key_find - the table row for a 2.3 key, or NULL */
static const struct mail_key *mail_key_find(const char *key)
{
    for (size_t i = 0; i < sizeof(mail_keys) / sizeof(mail_keys[0]); i++) {
        if (strcmp(mail_keys[i].key, key) == 0)
            return &mail_keys[i];
    }
    return NULL;
}

/* mail_split - split DRIVER:PATH[:KEY[=VALUE]]… into m; -1 with a reason */
static int mail_split(const char *v, struct mail_split *m, const char **why)
{
    char *parts[MAIL_OPTS_MAX + 2];
    size_t nparts = 0, o = 0;

    /* (not the whole struct: buf is written before it is read) */
    m->nopts = 0;
    if (strlen(v) >= sizeof(m->buf)) {
        *why = "too long";
        return -1;
    }
    parts[nparts++] = m->buf;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == ':' && p[1] == ':') {
            m->buf[o++] = ':';
            p++;
        } else if (*p == ':') {
            m->buf[o++] = '\0';
            if (nparts == sizeof(parts) / sizeof(parts[0])) {
                *why = "too many options";
                return -1;
            }
            parts[nparts++] = m->buf + o;
        } else {
            m->buf[o++] = *p;
        }
    }
    m->buf[o] = '\0';
    if (nparts < 2) {
        /* Dovecot 2.3 guesses the format of a bare path: 2.4 does not */
        *why = "no mail format (want DRIVER:PATH)";
        return -1;
    }
    m->driver = parts[0];
    m->path = parts[1];
    if (m->driver[0] == '\0') {
        *why = "empty mail format";
        return -1;
    }
    for (size_t i = 2; i < nparts; i++) {
        char *eq = strchr(parts[i], '=');
        if (eq != NULL)
            *eq = '\0';
        const struct mail_key *k = mail_key_find(parts[i]);
        if (k == NULL || (k->value != NULL) != (eq == NULL)) {
            *why = k == NULL ? "unknown mail location option" : k->value != NULL
                                                                     ? "option takes no value"
                                                                     : "option needs a value";
            return -1;
        }
        m->opt[m->nopts].key = k;
        m->opt[m->nopts].value = eq != NULL ? eq + 1 : k->value;
        m->nopts++;
    }
    return 0;
}

/* mail_emit - the 2.4 settings of a split mail field */
static int mail_emit(const struct mail_split *m, dovecot_fields_fn *fn, void *ctx)
{
    int r;

    if ((r = fn(ctx, "mail_driver", m->driver)) != 0)
        return r;
    if (m->path[0] != '\0' && (r = fn(ctx, "mail_path", m->path)) != 0)
        return r;
    for (size_t i = 0; i < m->nopts; i++) {
        const struct mail_key *k = m->opt[i].key;
        if ((r = fn(ctx, k->setting, m->opt[i].value)) != 0)
            return r;
        if (k->extra != NULL && (r = fn(ctx, k->extra, k->extra_value)) != 0)
            return r;
    }
    return 0;
}

/* base_bytes - the "*" rule's byte limit, 0 for none */
static int64_t base_bytes(const struct quota_rule *b)
{
    if (b == NULL || !b->has_storage || b->storage.kind != QUOTA_ABSOLUTE)
        return 0;
    return b->storage.value > 0 ? b->storage.value : 0;
}

/* The next helpers format without snprintf: this runs on every userdb
 * lookup, and snprintf was half the translation's cost. */

/* u64_str - n in decimal followed by suffix, into buf (>= 21 + strlen(suffix)) */
static const char *u64_str(char *buf, uint64_t n, const char *suffix)
{
    char tmp[20];
    size_t len = 0, o = 0;

    do {
        tmp[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    while (len > 0)
        buf[o++] = tmp[--len];
    strcpy(buf + o, suffix);
    return buf;
}

/* folder_setting - "mailbox/FOLDER/SETTING" into buf (SETTING_NAME_MAX) */
static const char *folder_setting(char *buf, const char *folder, const char *setting)
{
    size_t f = strlen(folder), n = strlen(setting);

    /* folder < QUOTA_FOLDER_MAX, setting a constant of ours: it fits */
    memcpy(buf, "mailbox/", 8);
    memcpy(buf + 8, folder, f);
    buf[8 + f] = '/';
    memcpy(buf + 9 + f, setting, n + 1);
    return buf;
}

/* bytes_value - N as 2.4 reads a size ("unlimited" for none) */
static const char *bytes_value(char *buf, bool limited, uint64_t n)
{
    return limited ? u64_str(buf, n, "B") : "unlimited";
}

/* folder_emit - one folder rule as mailbox/F/... settings */
static int folder_emit(const struct quota_rules *rules, int64_t base, const struct quota_rule *r,
                       dovecot_fields_fn *fn, void *ctx, unsigned int *unsupported)
{
    char name[SETTING_NAME_MAX], val[32];
    const struct quota_limit *s = &r->storage;
    uint64_t limit = 0;
    int ret;

    if (r->has_messages)
        *unsupported |= DOVECOT_FIELDS_FOLDER_MESSAGES;
    if (!r->has_storage)
        return 0;
    /* a mailbox filter name cannot hold '/' (2.4's separator) */
    if (strchr(r->folder, '/') != NULL) {
        *unsupported |= DOVECOT_FIELDS_FOLDER_SLASH;
        return 0;
    }
    if (s->kind == QUOTA_IGNORE)
        return fn(ctx, folder_setting(name, r->folder, "quota_ignore"), "yes");
    /* 2.4 adds quota_storage_extra to a base byte limit, as 2.3 adds the
     * folder's value: the same when both are there and the value is not
     * negative. Anything else gets the limit itself, worked out by the
     * policy daemon's own rule so that the two cannot disagree. */
    if ((s->kind == QUOTA_RELATIVE || s->kind == QUOTA_ABSOLUTE) && s->value >= 0 && base > 0)
        return fn(ctx, folder_setting(name, r->folder, "quota_storage_extra"),
                  u64_str(val, (uint64_t)s->value, "B"));
    ret = quota_storage_limit(rules, r->folder, &limit);
    return fn(ctx, folder_setting(name, r->folder, "quota_storage_size"),
              bytes_value(val, ret > 0, limit));
}

/* quota_emit - the rules as 2.4's quota settings */
static int quota_emit(const struct quota_rules *rules, dovecot_fields_fn *fn, void *ctx,
                      unsigned int *unsupported)
{
    const struct quota_rule *b = quota_rules_find(rules, "*");
    int64_t base = base_bytes(b);
    char val[32];
    int r;

    if (b != NULL && b->has_storage &&
        (r = fn(ctx, "quota_storage_size", bytes_value(val, base > 0, (uint64_t)base))) != 0)
        return r;
    /* the "*" rule's messages= is a plain count (quota_rule_parse) */
    if (b != NULL && b->has_messages &&
        (r = fn(ctx, "quota_message_count",
                u64_str(val, b->messages.value > 0 ? (uint64_t)b->messages.value : 0, ""))) != 0)
        return r;
    for (size_t i = 0; i < rules->count; i++) {
        if (&rules->rule[i] != b &&
            (r = folder_emit(rules, base, &rules->rule[i], fn, ctx, unsupported)) != 0)
            return r;
    }
    return 0;
}

/* dovecot_fields_24 - check everything first, then hand out the fields */
int dovecot_fields_24(const struct userrec *rec, dovecot_fields_fn *fn, void *ctx,
                      unsigned int *unsupported_r, char *err, size_t errsz)
{
    struct quota_rules rules;
    struct mail_split mail;
    const char *mail_value = NULL, *why;
    bool have_rules = false, quota_done = false;
    int r;

    *unsupported_r = 0;
    if (quota_rules_of_record(rec, &rules, err, errsz) < 0)
        return -1;
    for (size_t i = 0; i < rec->count; i++) {
        if (quota_field_is_rule(rec->field[i].name))
            have_rules = true;
        else if (strcmp(rec->field[i].name, "mail") == 0)
            mail_value = rec->field[i].value;
    }
    if (mail_value != NULL && mail_split(mail_value, &mail, &why) < 0) {
        snprintf(err, errsz, "mail: %s: %s", why, mail_value);
        return -1;
    }
    for (size_t i = 0; i < rec->count; i++) {
        const char *name = rec->field[i].name;
        if (strcmp(name, "password") == 0)
            continue;
        if (quota_field_is_rule(name)) {
            /* all rules at the place of the first, merged as 2.3 does */
            if (!quota_done && have_rules &&
                (r = quota_emit(&rules, fn, ctx, unsupported_r)) != 0)
                return r;
            quota_done = true;
            continue;
        }
        if (strcmp(name, "mail") == 0) {
            if (rec->field[i].value == mail_value && (r = mail_emit(&mail, fn, ctx)) != 0)
                return r;
            continue;
        }
        if ((r = fn(ctx, name, rec->field[i].value)) != 0)
            return r;
    }
    return 0;
}

/* dovecot_fields_unsupported_str - for the log line and the README */
const char *dovecot_fields_unsupported_str(unsigned int bit)
{
    switch (bit) {
    case DOVECOT_FIELDS_FOLDER_MESSAGES:
        return "a folder rule's messages= limit (2.4 has no per-folder message "
               "allowance; only *:messages= becomes quota_message_count)";
    case DOVECOT_FIELDS_FOLDER_SLASH:
        return "a rule for a folder whose name holds '/' (2.4 cannot name it "
               "in a mailbox/NAME/ setting)";
    default:
        return "unknown";
    }
}
