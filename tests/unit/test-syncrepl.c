/* test-syncrepl - RFC 4533 controls: what we send, what we parse */

#include <stdlib.h>
#include <string.h>

#include "maps/syncrepl.h"
#include "tests/unit/tap.h"

static const char uuid1[16] = "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef";
static const char uuid2[16] = "\xff\xee\xdd\xcc\xbb\xaa\x99\x88\x77\x66\x55\x44\x33\x22\x11\x00";

/* encode - build a BER value with a format and arguments */
#define ENCODE(bv, ...)                                              \
    do {                                                             \
        BerElement *b_ = ber_alloc_t(LBER_USE_DER);                  \
        ok(ber_printf(b_, __VA_ARGS__) >= 0, "encode " #__VA_ARGS__); \
        ber_flatten2(b_, &(bv), 1);                                  \
        ber_free(b_, 1);                                             \
    } while (0)

static void test_request(void)
{
    struct berval cookie = { 5, (char *)"rid=1" };
    LDAPControl *c;
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    ber_int_t mode = 0, hint = 0;
    struct berval got;

    ok(syncrepl_request_control(SYNCREPL_REFRESH_AND_PERSIST, &cookie, false, &c) == 0,
       "request control built");
    is_str(c->ldctl_oid, LDAP_CONTROL_SYNC, "request oid");
    ok(c->ldctl_iscritical, "request is critical");
    ber_init2(ber, &c->ldctl_value, LBER_USE_DER);
    ok(ber_scanf(ber, "{em", &mode, &got) != LBER_ERROR, "request decodes");
    is_int(mode, LDAP_SYNC_REFRESH_AND_PERSIST, "mode");
    ok(got.bv_len == 5 && memcmp(got.bv_val, "rid=1", 5) == 0, "cookie carried");
    ldap_control_free(c);

    ok(syncrepl_request_control(SYNCREPL_REFRESH_ONLY, NULL, true, &c) == 0, "no cookie");
    ber_init2(ber, &c->ldctl_value, LBER_USE_DER);
    ok(ber_scanf(ber, "{eb", &mode, &hint) != LBER_ERROR && mode == 1 && hint != 0,
       "refreshOnly with reloadHint and no cookie");
    ldap_control_free(c);
    ber_free(ber, 0);
}

static void test_state(void)
{
    struct berval v, uuid = { 16, (char *)uuid1 }, cookie = { 3, (char *)"c=1" };
    struct syncrepl_entry_state st;
    char text[SYNCREPL_UUID_TEXT];

    ENCODE(v, "{eOO}", (ber_int_t)LDAP_SYNC_MODIFY, &uuid, &cookie);
    LDAPControl ctl = { (char *)LDAP_CONTROL_SYNC_STATE, v, 0 };
    LDAPControl *ctrls[] = { &ctl, NULL };
    is_int(syncrepl_entry_state_parse(ctrls, &st), 1, "state parsed");
    is_int(st.state, SYNCREPL_MODIFY, "state modify");
    ok(st.cookie.bv_len == 3, "state cookie");
    ok(syncrepl_uuid_format(&st.uuid, text) == 0, "uuid formats");
    is_str(text, "01234567-89ab-cdef-0123-456789abcdef", "uuid text");
    ber_memfree(v.bv_val);

    ENCODE(v, "{eO}", (ber_int_t)LDAP_SYNC_DELETE, &uuid);
    ctl.ldctl_value = v;
    is_int(syncrepl_entry_state_parse(ctrls, &st), 1, "state without cookie");
    ok(st.state == SYNCREPL_DELETE && st.cookie.bv_len == 0, "delete, no cookie");
    ber_memfree(v.bv_val);

    struct berval shortuuid = { 4, (char *)"abcd" };
    ENCODE(v, "{eO}", (ber_int_t)LDAP_SYNC_ADD, &shortuuid);
    ctl.ldctl_value = v;
    is_int(syncrepl_entry_state_parse(ctrls, &st), -1, "short uuid refused");
    ber_memfree(v.bv_val);

    ENCODE(v, "{eO}", (ber_int_t)9, &uuid);
    ctl.ldctl_value = v;
    is_int(syncrepl_entry_state_parse(ctrls, &st), -1, "unknown state refused");
    ber_memfree(v.bv_val);

    struct berval junk = { 3, (char *)"\x30\x80\x01" };
    ctl.ldctl_value = junk;
    is_int(syncrepl_entry_state_parse(ctrls, &st), -1, "junk refused");
    LDAPControl *none[] = { NULL };
    is_int(syncrepl_entry_state_parse(none, &st), 0, "absent control");
}

static void test_done(void)
{
    struct berval v, cookie, c = { 2, (char *)"xy" };
    bool deletes;

    ENCODE(v, "{Ob}", &c, (ber_int_t)1);
    LDAPControl ctl = { (char *)LDAP_CONTROL_SYNC_DONE, v, 0 };
    LDAPControl *ctrls[] = { &ctl, NULL };
    is_int(syncrepl_done_parse(ctrls, &cookie, &deletes), 1, "done parsed");
    ok(cookie.bv_len == 2 && deletes, "done cookie and refreshDeletes");
    ber_memfree(v.bv_val);

    ENCODE(v, "{}");
    ctl.ldctl_value = v;
    is_int(syncrepl_done_parse(ctrls, &cookie, &deletes), 1, "empty done");
    ok(cookie.bv_len == 0 && !deletes, "defaults");
    ber_memfree(v.bv_val);
}

static void test_info(void)
{
    struct berval v, c = { 4, (char *)"ck=9" };
    struct berval u1 = { 16, (char *)uuid1 }, u2 = { 16, (char *)uuid2 };
    struct syncrepl_info info;

    ENCODE(v, "tO", (ber_tag_t)LDAP_TAG_SYNC_NEW_COOKIE, &c);
    ok(syncrepl_info_parse(&v, &info) == 0 && info.kind == SYNCREPL_INFO_NEW_COOKIE &&
           info.cookie.bv_len == 4,
       "newCookie");
    syncrepl_info_free(&info);
    ber_memfree(v.bv_val);

    ENCODE(v, "t{Ob}", (ber_tag_t)LDAP_TAG_SYNC_REFRESH_PRESENT, &c, (ber_int_t)0);
    ok(syncrepl_info_parse(&v, &info) == 0 && info.kind == SYNCREPL_INFO_REFRESH_PRESENT &&
           !info.refresh_done && info.cookie.bv_len == 4,
       "refreshPresent not done");
    syncrepl_info_free(&info);
    ber_memfree(v.bv_val);

    ENCODE(v, "t{}", (ber_tag_t)LDAP_TAG_SYNC_REFRESH_DELETE);
    ok(syncrepl_info_parse(&v, &info) == 0 && info.kind == SYNCREPL_INFO_REFRESH_DELETE &&
           info.refresh_done,
       "refreshDelete defaults to done");
    syncrepl_info_free(&info);
    ber_memfree(v.bv_val);

    ENCODE(v, "t{Ob[OO]}", (ber_tag_t)LDAP_TAG_SYNC_ID_SET, &c, (ber_int_t)1, &u1, &u2);
    ok(syncrepl_info_parse(&v, &info) == 0 && info.kind == SYNCREPL_INFO_ID_SET &&
           info.refresh_deletes && info.uuid_count == 2 &&
           memcmp(info.uuids[1].bv_val, uuid2, 16) == 0,
       "syncIdSet with two deletes");
    syncrepl_info_free(&info);
    ber_memfree(v.bv_val);

    ENCODE(v, "t{[O]}", (ber_tag_t)LDAP_TAG_SYNC_ID_SET, &c);
    ok(syncrepl_info_parse(&v, &info) == -1, "syncIdSet with a short uuid refused");
    ber_memfree(v.bv_val);

    struct berval junk = { 2, (char *)"\x99\x00" };
    ok(syncrepl_info_parse(&junk, &info) == -1, "unknown choice refused");
    struct berval empty = { 0, NULL };
    ok(syncrepl_info_parse(&empty, &info) == -1, "empty refused");
}

int main(void)
{
    test_request();
    test_state();
    test_done();
    test_info();
    return tap_done();
}
