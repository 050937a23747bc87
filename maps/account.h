#ifndef MAILMAPS_ACCOUNT_H
#define MAILMAPS_ACCOUNT_H

/* One LDAP entry -> one mail account: the mapping that the README's "From
 * entry to records" fixes, shared by the sync and every LDAP fallback.
 *
 * An entry is skipped (with one warning naming its DN) when:
 *   - the mail attribute is missing, has several values, or is not a valid
 *     local@domain address;
 *   - any value of an attribute the mapping reads holds TAB, newline, CR or
 *     NUL (it could not be stored faithfully in the maps);
 *   - home, storage, uid, gid or quota has several values (ambiguous: which
 *     one a server lists first is not something to build mailboxes on);
 *   - home is not absolute, or a path holds a control character, invalid
 *     UTF-8, a "." or ".." component; the storage directory is absolute but
 *     outside mail_base, or holds ':' or '%' (they would change the meaning
 *     of Dovecot's mail field);
 *   - uid/gid is not a number in 1..4294967294 (0 would be root);
 *   - the quota is not a size (a bare number counts in ldap_quota_unit,
 *     or with a K/M/G/T suffix);
 *   - mail_location is maildir:PATH, the entry has no storage directory,
 *     and PATH expanded (the mailbox: mail lives where Dovecot puts it)
 *     does not lie below mail_base;
 *   - it breaks a rule of account_trust_check (below).
 * A single bad mailAlias, mailGroupMember or forward value costs only
 * that value (one warning); the rest of the entry is kept. The alias
 * (forward) attribute counts only when the entry matches
 * ldap_alias_filter (ldap_forward_filter), if set. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps/conf.h"
#include "maps/entry.h"

/* Warnings about one entry; the library never logs, the caller does. dn is
 * the entry's DN as received; msg says what was wrong and what was done. */
typedef void account_warn_fn(void *ctx, const char *dn, const char *msg);

/* account_warnf - a warning about the entry dn to warn (may be NULL),
 * printf-style, at most 511 bytes */
__attribute__((format(printf, 4, 5)))
void account_warnf(account_warn_fn *warn, void *ctx, const char *dn, const char *fmt, ...);

/* account_quote - s[0..len), a value from the directory, made safe and
 * short for a warning: control bytes, '"' and '\' as \xNN, cut after 80
 * bytes with "..."; out of ACCOUNT_QUOTE_SIZE bytes holds any */
#define ACCOUNT_QUOTE_MAX 80
#define ACCOUNT_QUOTE_SIZE (ACCOUNT_QUOTE_MAX * 4 + 8)
void account_quote(const char *s, size_t len, char *out, size_t outsz);

/* The facts the maps are made of. All strings are NUL terminated and free
 * of TAB, CR, LF; the struct owns them (account_free). */
struct account {
    char *dn;             /* normalised DN: lower-case, no blanks around , = + */
    char *mail;           /* lower-cased local@domain: the users/mailboxes key */
    char *home;           /* absolute, no trailing '/' */
    char *mailbox;        /* relative to mail_base, trailing '/' */
    bool storage_set;     /* mailbox came from the storage attribute */
    uint32_t uid, gid;
    uint64_t quota;       /* bytes, 0 = unlimited */
    char *password;       /* NULL = none */
    size_t alias_count;   /* aliases: normalised, sorted, unique, != mail */
    char **aliases;
    size_t group_count;   /* lists this account is a member of: sorted, unique */
    char **groups;
    char *forward;        /* forwarding addresses, normalised, comma separated,
                             in the entry's order, unique; NULL = none */
};

/* account_equal - a and b would give the same records (every field the
 * same; strings compared as bytes) */
bool account_equal(const struct account *a, const struct account *b);

/* account_init / account_free - an empty account; free releases it (and
 * leaves it empty again, so an account may be reused) */
void account_init(struct account *a);
void account_free(struct account *a);

/* account_from_entry - map e to *a (initialised; cleared first) with cfg's
 * attribute names, mail_base and defaults. Returns 1 built (warnings about
 * single alias/group values may have been given), 0 skipped (warn called
 * once with the reason), -1 out of memory (reason in err). warn may be
 * NULL. */
int account_from_entry(const struct conf *cfg, const struct entry *e,
                       struct account *a, account_warn_fn *warn, void *ctx,
                       char *err, size_t errsz);

/* account_trust_check - the rules of "Directory data is untrusted" (the
 * README's "From entry to records") that one account can break alone: its local part is no path
 * component ("." "..", '/'); home has no ':' or '%' and lies strictly
 * below one of home_dirs (conf_home_dir); the mailbox has no ':' or '%';
 * nor has the address when mail_location is expanded with it; uid and
 * gid pass conf_id_valid; the quota is at most 2^63-1 bytes. 0, or -1
 * with the broken rule in why. account_from_entry applies it. */
int account_trust_check(const struct conf *cfg, const struct account *a, char *why,
                        size_t whysz);

/* account_check - a (made anywhere: the persist state) is what
 * account_from_entry could have built for cfg: normalised DN, address,
 * aliases and groups (sorted, unique, valid); home and mailbox in
 * canonical form without "." or ".." (the mailbox relative, ending in '/',
 * the default one unless storage_set); a password without TAB, CR or LF;
 * then account_trust_check. 0, or -1 with a reason in why. */
int account_check(const struct conf *cfg, const struct account *a, char *why, size_t whysz);

/* account_dn_normalize - dn lower-cased (ASCII), blanks around unescaped
 * ',', '=' and '+' and at both ends removed; escaped characters are kept
 * as they are. Malloc'ed (caller frees), NULL when out of memory. */
char *account_dn_normalize(const char *dn);

/* account_default_home - "<mail_base>/<domain>/<local>" for mail into buf.
 * account_default_mailbox - "<domain>/<local>/Maildir/". Both return the
 * length, or -1 when it does not fit. */
int account_default_home(const struct conf *cfg, const char *mail, char *buf,
                         size_t bufsz);
int account_default_mailbox(const char *mail, char *buf, size_t bufsz);

/* account_mailbox_of - the mailbox (relative to mail_base, trailing '/')
 * an entry that gives nothing but its address mail gets: the default one,
 * or where mail_location puts it. Its length, or -1 when such an entry
 * would be skipped or the path does not fit. */
int account_mailbox_of(const struct conf *cfg, const char *mail, char *buf, size_t bufsz);

/* account_mailbox_template - account_mailbox_of for any address, with
 * "%D" and "%U" for the path components that are its domain and local
 * part ("%U@%D" for the whole address), as Postfix's result_format writes
 * them: its length; 0 when the mailbox is not one per address (a
 * component holds none, or only part, of it: two addresses could share a
 * mailbox); -1 when no such account could be (a path that does not fit). */
int account_mailbox_template(const struct conf *cfg, char *buf, size_t bufsz);

/* What the users.cdb value takes from the configuration alone (the
 * cleaned mail_base, the encoded quota_rule2… fields), worked out once per
 * map build instead of once per account. The fields are private. It points
 * to cfg, which must outlive it and stay unchanged while it is used; calls
 * only read it, so threads may share one. */
struct account_userrec_ctx {
    const struct conf *cfg;
    const char *base_why;  /* mail_base unusable: every call reports it */
    char *mem;             /* owns base and rules */
    const char *base;      /* cleaned mail_base, "" standing for "/" */
    size_t base_len;
    size_t bad_rule;       /* number of a rule that cannot be formatted, 0 none */
    const char *rules;     /* "\tquota_rule2=…\tquota_rule3=…", escaped */
    size_t rules_len;
};

/* account_userrec_ctx_init - the constants of cfg. 0, or -1 when out of
 * memory (reason in err). A bad mail_base or quota rule is not an error
 * here: account_userrec_encode reports it for every account.
 * account_userrec_ctx_free releases it (and may be called twice). */
int account_userrec_ctx_init(struct account_userrec_ctx *ctx, const struct conf *cfg,
                             char *err, size_t errsz);
void account_userrec_ctx_free(struct account_userrec_ctx *ctx);

/* account_userrec_home - account_default_home with the mail_base ctx
 * cleaned once: the same bytes, -1 where that returns -1 */
int account_userrec_home(const struct account_userrec_ctx *ctx, const char *mail, char *buf,
                         size_t bufsz);

/* account_userrec_encode - the users.cdb value of a (fields in this order:
 * home, uid, gid, mail, quota_rule, quota_rule2…, password; values escaped
 * by userrec_value_put) into *buf, which is grown with realloc as needed
 * (*buf may be NULL, *bufsz 0; the caller frees it, and may pass it again
 * for the next account: it is sized for the worst case of escaping, so a
 * sync reallocates it a few times, not once per account). Returns the
 * length (no NUL inside; one is appended), or -1 with a reason in err, in
 * this order: a bad mail_base, a->home NULL (reported as out of memory:
 * that is how an account loses it), the mail field too long, a quota rule
 * that cannot be formatted, no memory. */
long account_userrec_encode(const struct account_userrec_ctx *ctx, const struct account *a,
                            char **buf, size_t *bufsz, char *err, size_t errsz);

#endif
