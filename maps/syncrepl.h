#ifndef MAILMAPS_SYNCREPL_H
#define MAILMAPS_SYNCREPL_H

/* The RFC 4533 (LDAP Content Synchronization) controls and messages, encoded
 * and decoded with liblber. Ours rather than libldap's ldap_sync_* so the
 * daemon drives the search itself with ldap_result() timeouts: libldap 2.5's
 * ldap_sync_init() blocks without a timeout until the refresh completes.
 *
 * Decoded cookies and UUIDs point into the message they came from: valid as
 * long as that message (or control array) is. */

#include <stdbool.h>
#include <stddef.h>
#include <ldap.h>

#define SYNCREPL_UUID_SIZE 16
#define SYNCREPL_UUID_TEXT 37    /* 8-4-4-4-12 hex digits + NUL */

enum syncrepl_mode {
    SYNCREPL_REFRESH_ONLY = LDAP_SYNC_REFRESH_ONLY,
    SYNCREPL_REFRESH_AND_PERSIST = LDAP_SYNC_REFRESH_AND_PERSIST,
};

/* Per-entry state (Sync State control) */
enum syncrepl_state {
    SYNCREPL_PRESENT = LDAP_SYNC_PRESENT,
    SYNCREPL_ADD = LDAP_SYNC_ADD,
    SYNCREPL_MODIFY = LDAP_SYNC_MODIFY,
    SYNCREPL_DELETE = LDAP_SYNC_DELETE,
};

struct syncrepl_entry_state {
    enum syncrepl_state state;
    struct berval uuid;          /* 16 bytes */
    struct berval cookie;        /* bv_len 0 when absent */
};

/* Sync Info intermediate message */
enum syncrepl_info_kind {
    SYNCREPL_INFO_NEW_COOKIE,
    SYNCREPL_INFO_REFRESH_DELETE,
    SYNCREPL_INFO_REFRESH_PRESENT,
    SYNCREPL_INFO_ID_SET,
};

/* A present list after a server restart names every entry: allow plenty. */
#define SYNCREPL_ID_SET_MAX 50000000

struct syncrepl_info {
    enum syncrepl_info_kind kind;
    struct berval cookie;        /* bv_len 0 when absent */
    bool refresh_done;           /* REFRESH_DELETE/PRESENT (default true) */
    bool refresh_deletes;        /* ID_SET: the UUIDs are deletes, else presents */
    size_t uuid_count;           /* ID_SET */
    struct berval *uuids;        /* ID_SET: malloc'ed array; syncrepl_info_free */
};

/* syncrepl_request_control - the Sync Request control (critical). cookie
 * may be NULL. The control is the caller's (ldap_control_free). 0 or -1. */
int syncrepl_request_control(enum syncrepl_mode mode, const struct berval *cookie,
                             bool reload_hint, LDAPControl **ctrl_r);

/* syncrepl_entry_state_parse - the Sync State control among ctrls:
 * 1 found and valid, 0 absent, -1 malformed. */
int syncrepl_entry_state_parse(LDAPControl **ctrls, struct syncrepl_entry_state *st_r);

/* syncrepl_done_parse - the Sync Done control of a SearchResultDone:
 * 1 found (cookie and refresh_deletes set), 0 absent, -1 malformed. */
int syncrepl_done_parse(LDAPControl **ctrls, struct berval *cookie_r,
                        bool *refresh_deletes_r);

/* syncrepl_info_parse - the value of a Sync Info intermediate response.
 * 0 or -1 when malformed. Free with syncrepl_info_free. */
int syncrepl_info_parse(const struct berval *value, struct syncrepl_info *info_r);
void syncrepl_info_free(struct syncrepl_info *info);

/* syncrepl_uuid_format - 16 raw bytes as 8-4-4-4-12 lower-case hex; -1 if
 * the value is not 16 bytes. */
int syncrepl_uuid_format(const struct berval *uuid, char out[SYNCREPL_UUID_TEXT]);

#endif
