#ifndef MAILMAPS_USAGE_H
#define MAILMAPS_USAGE_H

/* Where a mailbox's current usage comes from (the quota_usage setting).
 *
 * A source is a small interface: the policy decision asks it for one
 * mailbox's total usage in bytes and never knows which backend answers.
 * Two backends exist: maildir (Dovecot's Maildir++ maildirsize file, here
 * in the library) and redis (Dovecot's quota_clone counter, in policyd/
 * since only the daemon links hiredis). Tests plug in their own. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The mailbox whose usage is wanted; every string NUL terminated. */
struct usage_user {
    const char *user;    /* the login, local@domain (%u) */
    const char *local;   /* local part (%n) */
    const char *domain;  /* domain (%d) */
    const char *home;    /* home directory from users.cdb (%h), may be "" */
};

struct usage_source;

struct usage_ops {
    const char *name;
    /* waits - the backend may wait on the network (Redis): an event loop
     * asks it from a thread, never itself (maildirsize reads are local) */
    bool waits;
    /* get - usage in bytes into *bytes_r: 0 ok, 1 no data for the
     * mailbox (counts as 0: no mail yet, or the wrong place looked at; the
     * place in err), -1 with a reason in err */
    int (*get)(struct usage_source *src, const struct usage_user *user,
               uint64_t *bytes_r, char *err, size_t errsz);
    /* free - release the source and its resources */
    void (*free)(struct usage_source *src);
};

/* Every backend's handle starts with this (Postfix's DICT pattern). */
struct usage_source {
    const struct usage_ops *ops;
};

/* usage_get - the mailbox's usage through src's backend: 0, 1 (no data,
 * *bytes_r = 0) or -1 as usage_ops.get */
int usage_get(struct usage_source *src, const struct usage_user *user,
              uint64_t *bytes_r, char *err, size_t errsz);

/* usage_free - release src (NULL is fine) */
void usage_free(struct usage_source *src);

/* usage_name - the backend's name ("maildir", "redis") */
const char *usage_name(const struct usage_source *src);

/* usage_waits - src's backend may wait on the network (see usage_ops) */
bool usage_waits(const struct usage_source *src);

/* Largest maildirsize read; Maildir++ wants it under 5120 bytes, Dovecot
 * lets it grow between recalculations, anything beyond this is broken. */
#define USAGE_MAILDIRSIZE_MAX (1024 * 1024)

/* usage_maildir_new - the maildirsize reader for a path template with %h
 * (home), %u (user), %d (domain), %n (local part) and %% (a '%'). NULL
 * with a reason on a bad template or no memory. */
struct usage_source *usage_maildir_new(const char *template, char *err, size_t errsz);

/* usage_template_expand - template with user's values into buf: 0, or -1
 * with a reason (unknown %-sequence, a trailing '%', an empty value for a
 * sequence used, a result that does not fit) */
int usage_template_expand(const char *template, const struct usage_user *user,
                          char *buf, size_t bufsz, char *err, size_t errsz);

/* usage_maildirsize_parse - the usage total of a maildirsize file's text:
 * first line the limits (not used), then "BYTES COUNT" lines whose BYTES
 * (negative ones included) add up. Every line must end with '\n'. A total
 * below 0 counts as 0. 0, or -1 with "line N: reason". */
int usage_maildirsize_parse(const char *data, size_t len, uint64_t *bytes_r,
                            char *err, size_t errsz);

#endif
