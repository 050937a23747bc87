/* syncrepl - RFC 4533 controls and intermediate messages with liblber */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/syncrepl.h"

/* syncrepl_request_control - syncRequestValue ::= SEQUENCE { mode
 * ENUMERATED, cookie syncCookie OPTIONAL, reloadHint BOOLEAN DEFAULT FALSE } */
int syncrepl_request_control(enum syncrepl_mode mode, const struct berval *cookie,
                             bool reload_hint, LDAPControl **ctrl_r)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval value = { 0, NULL };
    int rc = -1;

    *ctrl_r = NULL;
    if (ber == NULL)
        return -1;
    if (ber_printf(ber, "{e", (ber_int_t)mode) < 0)
        goto out;
    if (cookie != NULL && cookie->bv_len > 0 && ber_printf(ber, "O", cookie) < 0)
        goto out;
    if (reload_hint && ber_printf(ber, "b", (ber_int_t)1) < 0)
        goto out;
    if (ber_printf(ber, "N}") < 0 || ber_flatten2(ber, &value, 0) < 0)
        goto out;
    if (ldap_control_create(LDAP_CONTROL_SYNC, 1, &value, 1, ctrl_r) == LDAP_SUCCESS)
        rc = 0;
out:
    ber_free(ber, 1);
    return rc;
}

/* reader_new - a BerElement reading value in place (no copy): the decoded
 * bervals then point into value. Free with ber_free(ber, 0). */
static BerElement *reader_new(const struct berval *value)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    if (ber != NULL)
        ber_init2(ber, (struct berval *)value, LBER_USE_DER);
    return ber;
}

/* find_control - the control with oid among ctrls, or NULL */
static LDAPControl *find_control(LDAPControl **ctrls, const char *oid)
{
    for (size_t i = 0; ctrls != NULL && ctrls[i] != NULL; i++)
        if (ctrls[i]->ldctl_oid != NULL && strcmp(ctrls[i]->ldctl_oid, oid) == 0)
            return ctrls[i];
    return NULL;
}

/* syncrepl_entry_state_parse - syncStateValue ::= SEQUENCE { state
 * ENUMERATED, entryUUID syncUUID, cookie syncCookie OPTIONAL } */
int syncrepl_entry_state_parse(LDAPControl **ctrls, struct syncrepl_entry_state *st_r)
{
    LDAPControl *c = find_control(ctrls, LDAP_CONTROL_SYNC_STATE);
    BerElement *ber;
    ber_int_t state;
    ber_len_t len;

    memset(st_r, 0, sizeof(*st_r));
    if (c == NULL)
        return 0;
    if (c->ldctl_value.bv_val == NULL)
        return -1;
    if ((ber = reader_new(&c->ldctl_value)) == NULL)
        return -1;
    int rc = -1;
    if (ber_scanf(ber, "{em", &state, &st_r->uuid) == LBER_ERROR ||
        st_r->uuid.bv_len != SYNCREPL_UUID_SIZE || state < LDAP_SYNC_PRESENT ||
        state > LDAP_SYNC_DELETE)
        goto out;
    st_r->state = (enum syncrepl_state)state;
    if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING &&
        ber_scanf(ber, "m", &st_r->cookie) == LBER_ERROR)
        goto out;
    rc = 1;
out:
    ber_free(ber, 0);
    return rc;
}

/* syncrepl_done_parse - syncDoneValue ::= SEQUENCE { cookie syncCookie
 * OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE } */
int syncrepl_done_parse(LDAPControl **ctrls, struct berval *cookie_r, bool *refresh_deletes_r)
{
    LDAPControl *c = find_control(ctrls, LDAP_CONTROL_SYNC_DONE);
    BerElement *ber;
    ber_len_t len;
    ber_int_t b;

    memset(cookie_r, 0, sizeof(*cookie_r));
    *refresh_deletes_r = false;
    if (c == NULL)
        return 0;
    if (c->ldctl_value.bv_val == NULL)
        return -1;
    if ((ber = reader_new(&c->ldctl_value)) == NULL)
        return -1;
    int rc = -1;
    if (ber_scanf(ber, "{") == LBER_ERROR)
        goto out;
    if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING && ber_scanf(ber, "m", cookie_r) == LBER_ERROR)
        goto out;
    if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) {
        if (ber_scanf(ber, "b", &b) == LBER_ERROR)
            goto out;
        *refresh_deletes_r = b != 0;
    }
    rc = 1;
out:
    ber_free(ber, 0);
    return rc;
}

/* parse_phase - refreshDelete/refreshPresent [1]/[2] SEQUENCE { cookie
 * OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE } */
static int parse_phase(BerElement *ber, struct syncrepl_info *info)
{
    ber_len_t len;
    ber_int_t b;

    info->refresh_done = true;
    if (ber_scanf(ber, "{") == LBER_ERROR)
        return -1;
    if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING &&
        ber_scanf(ber, "m", &info->cookie) == LBER_ERROR)
        return -1;
    if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) {
        if (ber_scanf(ber, "b", &b) == LBER_ERROR)
            return -1;
        info->refresh_done = b != 0;
    }
    return 0;
}

/* parse_id_set - syncIdSet [3] SEQUENCE { cookie OPTIONAL, refreshDeletes
 * BOOLEAN DEFAULT FALSE, syncUUIDs SET OF syncUUID } */
static int parse_id_set(BerElement *ber, struct syncrepl_info *info)
{
    ber_len_t len;
    ber_int_t b;
    ber_tag_t tag;
    char *last;
    size_t cap = 0;

    if (ber_scanf(ber, "{") == LBER_ERROR)
        return -1;
    if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING &&
        ber_scanf(ber, "m", &info->cookie) == LBER_ERROR)
        return -1;
    if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) {
        if (ber_scanf(ber, "b", &b) == LBER_ERROR)
            return -1;
        info->refresh_deletes = b != 0;
    }
    for (tag = ber_first_element(ber, &len, &last); tag != LBER_DEFAULT;
         tag = ber_next_element(ber, &len, last)) {
        struct berval uuid;
        if (ber_scanf(ber, "m", &uuid) == LBER_ERROR || uuid.bv_len != SYNCREPL_UUID_SIZE)
            return -1;
        if (info->uuid_count == cap) {
            if (cap >= SYNCREPL_ID_SET_MAX)
                return -1;
            cap = cap ? cap * 2 : 64;
            struct berval *n = realloc(info->uuids, cap * sizeof(*n));
            if (n == NULL)
                return -1;
            info->uuids = n;
        }
        info->uuids[info->uuid_count++] = uuid;
    }
    return 0;
}

/* syncrepl_info_parse - syncInfoValue ::= CHOICE { newcookie [0],
 * refreshDelete [1], refreshPresent [2], syncIdSet [3] } */
int syncrepl_info_parse(const struct berval *value, struct syncrepl_info *info_r)
{
    BerElement *ber;
    ber_len_t len;
    int rc = -1;

    memset(info_r, 0, sizeof(*info_r));
    if (value == NULL || value->bv_val == NULL || value->bv_len == 0)
        return -1;
    if ((ber = reader_new(value)) == NULL)
        return -1;
    switch (ber_peek_tag(ber, &len)) {
    case LDAP_TAG_SYNC_NEW_COOKIE:
        info_r->kind = SYNCREPL_INFO_NEW_COOKIE;
        rc = ber_scanf(ber, "m", &info_r->cookie) == LBER_ERROR ? -1 : 0;
        break;
    case LDAP_TAG_SYNC_REFRESH_DELETE:
        info_r->kind = SYNCREPL_INFO_REFRESH_DELETE;
        rc = parse_phase(ber, info_r);
        break;
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
        info_r->kind = SYNCREPL_INFO_REFRESH_PRESENT;
        rc = parse_phase(ber, info_r);
        break;
    case LDAP_TAG_SYNC_ID_SET:
        info_r->kind = SYNCREPL_INFO_ID_SET;
        rc = parse_id_set(ber, info_r);
        break;
    default:
        break;
    }
    ber_free(ber, 0);
    if (rc < 0)
        syncrepl_info_free(info_r);
    return rc;
}

/* syncrepl_info_free - release the UUID array */
void syncrepl_info_free(struct syncrepl_info *info)
{
    free(info->uuids);
    info->uuids = NULL;
    info->uuid_count = 0;
}

/* syncrepl_uuid_format - RFC 4122 text form */
int syncrepl_uuid_format(const struct berval *uuid, char out[SYNCREPL_UUID_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)uuid->bv_val;
    char *p = out;

    if (uuid->bv_len != SYNCREPL_UUID_SIZE || u == NULL)
        return -1;
    for (int i = 0; i < SYNCREPL_UUID_SIZE; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = '\0';
    return 0;
}
