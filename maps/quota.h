#ifndef MAILMAPS_QUOTA_H
#define MAILMAPS_QUOTA_H

/* Quota rules in Dovecot's syntax and the limit they give a folder.
 *
 *   *:storage=10G            the base (root) limit
 *   Trash:storage=+500M      base + 500M when saving into Trash
 *   Archive:storage=20G      base + 20G as well: Dovecot 2.3 adds every
 *                            folder rule to the base (it logs that the form
 *                            without '+' is obsolete); kept as QUOTA_ABSOLUTE
 *                            so that it formats back as written
 *   Spam:storage=+10%        base + 10% of base ("10%" means the same)
 *   Junk:ignore              no limit for saves into Junk
 *   *:messages=10000         message count limits (kept, not used by policy)
 *
 * Values as Dovecot: storage= counts KiB without a unit, bytes= and
 * messages= count units; K/M/G/T (powers of 1024) and B, any case, "10GB"
 * too. The short form used by the quota_rules setting ("Trash:+500M") means
 * storage= and needs a unit (except for 0), because a bare number would be
 * KiB there. The "*" rule takes no sign, no percentage and no "ignore".
 * Not supported (parse error): backend=, the "?" rule, wildcard folder
 * masks. Semantics follow Dovecot 2.3: usage is one total per mailbox; a
 * folder rule only changes the limit that applies when saving into that
 * folder. Folder names compare without case (ASCII). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUOTA_FOLDER_MAX 128
#define QUOTA_RULES_MAX 32

enum quota_kind {
    QUOTA_ABSOLUTE,  /* storage = N bytes (0 = unlimited for "*") */
    QUOTA_RELATIVE,  /* storage = base + N bytes (N may be negative) */
    QUOTA_PERCENT,   /* storage = base * N / 100, or base + that when relative */
    QUOTA_IGNORE,    /* no limit */
};

struct quota_limit {
    enum quota_kind kind;
    bool relative;      /* "+"/"-" given (QUOTA_PERCENT only; RELATIVE implies it) */
    int64_t value;      /* bytes, messages, or percent */
};

struct quota_rule {
    char folder[QUOTA_FOLDER_MAX]; /* "*" for the base rule */
    bool has_storage, has_messages;
    struct quota_limit storage;
    struct quota_limit messages;
};

struct quota_rules {
    size_t count;
    struct quota_rule rule[QUOTA_RULES_MAX];
};

/* quota_rule_parse - one rule, "FOLDER:storage=…[:messages=…]", "FOLDER:ignore"
 * or the short form "FOLDER:[+-]SIZE". 0 ok, -1 with a reason in err. */
int quota_rule_parse(const char *s, struct quota_rule *rule_r,
                     char *err, size_t errsz);

/* quota_rules_parse - blank separated list of rules (the quota_rules
 * setting). A later rule for the same folder updates the limits it names,
 * as in Dovecot; "ignore" stays once given. Errors read "rule N: reason". */
int quota_rules_parse(const char *s, struct quota_rules *rules_r,
                      char *err, size_t errsz);

/* quota_rules_add - add the rule for rule->folder, or merge it into the
 * existing one (as quota_rules_parse). -1 when full. */
int quota_rules_add(struct quota_rules *rules, const struct quota_rule *rule);

/* quota_rules_find - the rule for folder (case-insensitive), or NULL */
const struct quota_rule *quota_rules_find(const struct quota_rules *rules,
                                          const char *folder);

/* quota_storage_limit - the byte limit for saving into folder: 1 and
 * *limit_r set, or 0 when there is no limit. As Dovecot's
 * quota_root_get_rule_limits(): no "*" rule or a "*" rule of 0 bytes and 0
 * messages is unlimited whatever the folder rules say; "ignore" is no
 * limit; otherwise base + the folder rule's value (or percentage of base),
 * and a sum at or below 0 is no limit either. folder NULL means INBOX,
 * which has the base limit unless a rule names INBOX. */
int quota_storage_limit(const struct quota_rules *rules, const char *folder,
                        uint64_t *limit_r);

/* quota_rule_format - a rule as Dovecot's userdb quota_rule value, e.g.
 * "*:storage=10737418240B" or "Trash:storage=+524288000B" or "Junk:ignore";
 * sizes in bytes with "B" (storage=0 stays "0"), percentages as "+10%".
 * quota_rule_parse reads the result back to the same rule. Returns the
 * length written (truncation or a rule that cannot parse back: -1). */
int quota_rule_format(const struct quota_rule *rule, char *buf, size_t bufsz);

/* quota_field_is_rule - true for the users.cdb field names that hold a
 * rule: quota_rule, quota_rule2, quota_rule3, … */
bool quota_field_is_rule(const char *name);

/* quota_rules_of_record - the rules of a users.cdb record's quota_rule*
 * fields, merged in order as quota_rules_add does; -1 with "FIELD: reason"
 * (or "too many quota rules") in err. */
struct userrec;
int quota_rules_of_record(const struct userrec *rec, struct quota_rules *rules,
                          char *err, size_t errsz);

/* quota_accept - Dovecot's decision with quota_grace: accept when
 * usage + size <= limit, or usage < limit and usage + size <= limit + grace.
 * grace is absolute bytes (callers compute percent of the base limit).
 * limit 0 means no limit (accept). No overflow for any input. */
bool quota_accept(uint64_t usage, uint64_t size, uint64_t limit, uint64_t grace);

#endif
