#!/usr/bin/env bash
# t-dovecot - a private Dovecot with the "mailmaps" passdb and userdb: user
# fields, iteration, passwords, an IMAP login, the LDAP fallback, unknown
# versus temporary failure, and a sync picked up without a reload.
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup
dovecot_test_setup
[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd is not installed"

# ---- a directory: 20 accounts (the last 2 disabled) plus bob
gen_users 20 --disabled 2 >"$MM_TMP/users.ldif"
{
    account_ldif --name Bob --mail Bob@Example.com bob "mailUidNumber: 6001" \
        "mailGidNumber: 6002" "mailQuota: 1G" "userPassword: {PLAIN}bobpw"
    echo
    account_ldif --name Tiny tiny "mailQuota: 1" "userPassword: {PLAIN}tinypw"
} >"$MM_TMP/bob.ldif"
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/bob.ldif"
write_shared_conf "$CONF" "ldap_timeout = 2"

sync_ok --err "$MM_TMP/sync1.err" "the first sync makes the maps" "$CONF"

# ---- Dovecot with the module from this build
dovecot_private_auth_modules "$PLUGIN"
DC_AUTH_BLOCKS=$(dovecot_auth_conf "$CONF")
start_dovecot "$DC_AUTH_BLOCKS" "auth_verbose = yes
auth_cache_size = 0
$(dovecot_quota_conf 100B)
"

# user_field - one field of doveadm user's answer: user_field USER NAME
user_field() {
    doveadm_c user -f "$2" "$1" 2>/dev/null
}

# user_rc - doveadm user's exit status for USER
user_rc() {
    doveadm_c user "$1" >"$MM_TMP/user.out" 2>&1
    echo $?
}

# ---- userdb fields from the maps
u=user000001@example.com
is "$(user_rc $u)" 0 "doveadm user finds $u" || diag "$(cat "$MM_TMP/user.out")"
is "$(user_field $u home)" "$VMAIL/example.com/user000001" "home"
is "$(user_field $u uid)" 5000 "uid (default_uid)"
is "$(user_field $u gid)" 5000 "gid (default_gid)"
# base_quota USER - the user's base limit as the installed Dovecot reads it
if dovecot_24; then
    base_quota() { user_field "$1" quota_storage_size; }
    is "$(user_field $u mail_driver)" "maildir" "mail_driver (2.4)"
    is "$(user_field $u mail_path)" "$VMAIL/example.com/user000001/Maildir" "mail_path (2.4)"
    is "$(user_field $u quota_storage_size)" "10737418240B" "quota_storage_size (default_quota 10G)"
    is "$(user_field $u mailbox/Trash/quota_storage_extra)" "524288000B" \
        "mailbox/Trash/quota_storage_extra (Trash +500M)"
    is "$(user_field $u mailbox/Junk/quota_storage_extra)" "524288000B" \
        "mailbox/Junk/quota_storage_extra (Junk +500M)"
    out=$(doveadm_c user $u 2>&1)
    if printf '%s\n' "$out" | grep -qE '^(mail|quota_rule[0-9]*)[[:space:]]'; then
        not_ok "no 2.3 field (mail, quota_rule*) that 2.4 would ignore"
        diag "$out"
    else
        ok "no 2.3 field (mail, quota_rule*) that 2.4 would ignore"
    fi
    like "$(doveadm_c quota get -u $u 2>&1)" 'User quota +STORAGE +0 +10485760 ' \
        "doveadm quota get: Dovecot 2.4 applies quota_storage_size"
else
    base_quota() { user_field "$1" quota_rule; }
    is "$(user_field $u mail)" "maildir:$VMAIL/example.com/user000001/Maildir" "mail"
    is "$(user_field $u quota_rule)" "*:storage=10737418240B" "quota_rule (default_quota 10G)"
    is "$(user_field $u quota_rule2)" "Trash:storage=+524288000B" "quota_rule2 (Trash +500M)"
    is "$(user_field $u quota_rule3)" "Junk:storage=+524288000B" "quota_rule3 (Junk +500M)"
fi
# quota_is USER BYTES DESC - the base limit in the installed Dovecot's form
quota_is() {
    if dovecot_24; then
        is "$(base_quota "$1")" "$2B" "$3"
    else
        is "$(base_quota "$1")" "*:storage=$2B" "$3"
    fi
}
out=$(doveadm_c user $u 2>&1)
if printf '%s\n' "$out" | grep -qi 'password'; then
    not_ok "the password is not a userdb field"
    diag "$out"
else
    ok "the password is not a userdb field"
fi
quota_is user000004@example.com 5368709120 "mailQuota in KB becomes bytes"
is "$(user_field Bob@EXAMPLE.com uid)" 6001 "mixed-case login finds bob; mailUidNumber"
is "$(user_field bob@example.com gid)" 6002 "mailGidNumber"
quota_is bob@example.com 1073741824 "mailQuota 1G"

# ---- iteration: exactly the enabled accounts
{
    for i in $(seq 1 18); do printf 'user%06d@example.com\n' "$i"; done
    echo bob@example.com
    echo tiny@example.com
} | sort >"$MM_TMP/want-users"
doveadm_c user '*' 2>"$MM_TMP/iter.err" | sort >"$MM_TMP/got-users"
if cmp -s "$MM_TMP/want-users" "$MM_TMP/got-users"; then
    ok "doveadm user '*' lists exactly the 20 enabled accounts"
else
    not_ok "doveadm user '*' lists exactly the 20 enabled accounts"
    diag "$(diff "$MM_TMP/want-users" "$MM_TMP/got-users" | head -20)" "$(cat "$MM_TMP/iter.err")"
fi
# doveadm -A runs a command for every user the iteration gives (opening
# each mailbox: the domain directory must be usable by every uid here)
mkdir -p "$VMAIL/example.com" && chmod 0777 "$VMAIL/example.com"
doveadm_c -f tab quota get -A 2>"$MM_TMP/iterA.err" | awk -F'\t' 'NR > 1 { print $1 }' |
    sort -u >"$MM_TMP/got-A"
if cmp -s "$MM_TMP/want-users" "$MM_TMP/got-A"; then
    ok "doveadm quota get -A visits exactly the enabled accounts"
else
    not_ok "doveadm quota get -A visits exactly the enabled accounts"
    diag "$(diff "$MM_TMP/want-users" "$MM_TMP/got-A" | head -20)" "$(cat "$MM_TMP/iterA.err")"
fi

# ---- passdb
check "doveadm auth test accepts the right password (SHA512-CRYPT)" \
    doveadm_c auth test $u "$MM_USER_PW"
doveadm_c auth test $u wrong >"$MM_TMP/auth.out" 2>&1
is "$?" 77 "doveadm auth test refuses a wrong password"
check "doveadm auth test: {PLAIN} password, mixed-case login" \
    doveadm_c auth test BOB@example.com bobpw
doveadm_c auth test nobody@example.com x >"$MM_TMP/auth.out" 2>&1
is "$?" 77 "doveadm auth test refuses an unknown user"

like "$(imap_login $u "$MM_USER_PW")" "^a OK" "IMAP LOGIN with the right password"
like "$(imap_login $u wrong)" "^a NO" "IMAP LOGIN with a wrong password is refused"

# ---- Dovecot's quota plugin enforces the rules the driver returns:
# tiny has 1 KB (1024 B, grace 10% on 2.3, 100 B on 2.4), Trash and Junk
# +500M on top.
msg() {
    printf 'From: a@example.com\nTo: tiny@example.com\nSubject: %s\n\n' "$1"
    head -c 4000 /dev/zero | tr '\0' 'x' | fold -w 70
    echo
}
quota_is tiny@example.com 1024 "tiny's limit is 1 KB"
check "Trash created for tiny" doveadm_c mailbox create -u tiny@example.com Trash
msg inbox | doveadm_c save -u tiny@example.com >"$MM_TMP/save.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -qi 'quota' "$MM_TMP/save.out"; then
    ok "a 4 KB save into INBOX over the * limit fails: quota exceeded (exit $rc)"
else
    not_ok "a 4 KB save into INBOX over the * limit fails: quota exceeded"
    diag "exit $rc" "$(cat "$MM_TMP/save.out")"
fi
msg trash | doveadm_c save -u tiny@example.com -m Trash >"$MM_TMP/save.out" 2>&1
is "$?" 0 "the same save into Trash succeeds (+500M)" || diag "$(cat "$MM_TMP/save.out")"

# ---- a user added to LDAP after the sync: found through the fallback
account_ldif newbie "mailQuota: 2048" "userPassword: {PLAIN}newpw" >"$MM_TMP/new.ldif"
ldap_add_ldif "$MM_TMP/new.ldif" || not_ok "newbie added to LDAP"
is "$(user_rc newbie@example.com)" 0 "a user added after the sync is found (LDAP fallback)" ||
    diag "$(cat "$MM_TMP/user.out")"
quota_is newbie@example.com 2097152 "the fallback answers with the sync's mapping"
check "doveadm auth test for the LDAP-only user" doveadm_c auth test newbie@example.com newpw
like "$(imap_login newbie@example.com newpw)" "^a OK" "IMAP LOGIN for the LDAP-only user"

# ---- unknown users: 67
is "$(user_rc nobody@example.com)" 67 "a user in neither maps nor LDAP is unknown (67)"
is "$(user_rc user000019@example.com)" 67 "a disabled account does not exist (67)"
cat >"$MM_TMP/del.ldif" <<EOF
dn: uid=user000003,$LDAP_PEOPLE
changetype: delete
EOF
ldap_modify_ldif "$MM_TMP/del.ldif" || not_ok "user000003 deleted from LDAP"

# ---- a sync replacing the maps is used without a reload
cat >"$MM_TMP/mod.ldif" <<EOF
dn: uid=user000002,$LDAP_PEOPLE
changetype: modify
replace: mailQuota
mailQuota: 1024
EOF
ldap_modify_ldif "$MM_TMP/mod.ldif" || not_ok "user000002's quota changed in LDAP"
sync_ok --err "$MM_TMP/sync2.err" "the second sync succeeds" "$CONF"
quota_is user000002@example.com 1048576 "the new users.cdb is used without a reload"
is "$(user_rc user000003@example.com)" 67 "a user removed from the maps and LDAP is unknown (67)"
doveadm_c user '*' 2>/dev/null | sort >"$MM_TMP/got-users2"
if grep -qx newbie@example.com "$MM_TMP/got-users2" &&
    ! grep -qx user000003@example.com "$MM_TMP/got-users2"; then
    ok "iteration follows the new maps"
else
    not_ok "iteration follows the new maps"
    diag "$(cat "$MM_TMP/got-users2")"
fi

# ---- Dovecot's auth_cache works with the driver (cache key %u)
stop_dovecot
start_dovecot "$DC_AUTH_BLOCKS" "auth_verbose = yes
auth_debug = yes
auth_cache_size = 1M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 0
"
doveadm_c auth test user000006@example.com "$MM_USER_PW" >/dev/null 2>&1
is "$?" 0 "auth_cache: the first login succeeds"
doveadm_c auth test user000006@example.com "$MM_USER_PW" >/dev/null 2>&1
is "$?" 0 "auth_cache: the second login succeeds"
doveadm_c auth test user000006@example.com wrong-password >/dev/null 2>&1
is "$?" 77 "auth_cache: a wrong password still fails"
if wait_for 5 grep -q "user000006@example.com.*cache hit" "$DC_LOG"; then
    ok "auth_cache: the second login is a cache hit"
else
    not_ok "auth_cache: the second login is a cache hit"
    diag "$(grep -i cache "$DC_LOG" | tail -5)"
fi

stop_dovecot
# ---- 2.4: a rule 2.4 cannot express is left out and logged once
if dovecot_24; then
    CONF2=$MM_TMP/mailmaps2.conf
    MAPS=$MM_TMP/maps2 write_shared_conf "$CONF2" "ldap_timeout = 2" \
        "quota_rules = Trash:+500M Junk:ignore Sent:-1M Spam:storage=+1M:messages=+10"
    sync_ok --err "$MM_TMP/sync3.err" "a sync with rules for every folder form" "$CONF2"
    start_dovecot "$(dovecot_auth_conf "$CONF2")" "auth_cache_size = 0"
    out=$(doveadm_c user user000006@example.com 2>&1)
    doveadm_c user user000007@example.com >/dev/null 2>&1
    like "$out" 'mailbox/Trash/quota_storage_extra[[:space:]]+524288000B' "2.4: +N rule as quota_storage_extra"
    like "$out" 'mailbox/Junk/quota_ignore[[:space:]]+yes' "2.4: ignore as quota_ignore"
    like "$out" 'mailbox/Sent/quota_storage_size[[:space:]]+10736369664B' \
        "2.4: a negative rule as the folder's own limit"
    like "$out" 'mailbox/Spam/quota_storage_extra[[:space:]]+1048576B' "2.4: Spam's storage part kept"
    n=$(grep -c "cannot express a folder rule's messages= limit" "$DC_LOG")
    is "$n" 1 "2.4: the left-out messages= limit is logged, once for two users"
    stop_dovecot
fi

start_dovecot "$DC_AUTH_BLOCKS" "auth_verbose = yes
auth_cache_size = 0
$(dovecot_quota_conf 100B)
"

# ---- the LDAP fallback follows the sync's cross-entry rules
# aaa-mallory (its DN sorts first) claims victim's address as an alias;
# zz-eve names victim's Maildir as its storage, zz-trent victim's home as
# its own. Each answer with the maps, then with the maps gone: the same,
# or a temporary failure (75) for an entry with paths of its own, which
# only a sync can check against the whole directory; never another
# entry's home or password.
{
    account_ldif aaa-mallory "mailAlias: victim@example.com" "mailAlias: ceo@gmail.com" \
        "userPassword: {PLAIN}malpw"
    echo
    account_ldif victim "userPassword: {PLAIN}victimpw"
    echo
    account_ldif zz-eve "mailStorageDirectory: example.com/victim/Maildir" "userPassword: {PLAIN}evepw"
    echo
    account_ldif zz-trent "mailHomeDirectory: $VMAIL/example.com/victim" "userPassword: {PLAIN}trentpw"
} >"$MM_TMP/attack.ldif"
ldap_add_ldif "$MM_TMP/attack.ldif" || not_ok "the attacking entries added to LDAP"
sync_ok --err "$MM_TMP/sync3.err" "a sync with the attacking entries" "$CONF"
# answer USER - exit status, home and mail location of doveadm user (the
# field mail on 2.3, mail_path on 2.4)
if dovecot_24; then
    MAIL_FIELD=mail_path VICTIM_MAIL=$VMAIL/example.com/victim/Maildir
else
    MAIL_FIELD=mail VICTIM_MAIL=maildir:$VMAIL/example.com/victim/Maildir
fi
answer() {
    local rc
    doveadm_c user -f home "$1" >"$MM_TMP/answer.out" 2>&1; rc=$?
    [ $rc -eq 0 ] && printf '%s|%s|%s' $rc "$(cat "$MM_TMP/answer.out")" "$(user_field "$1" "$MAIL_FIELD")" ||
        printf '%s' $rc
}
ATTACK_USERS="victim@example.com aaa-mallory@example.com zz-eve@example.com zz-trent@example.com user000007@example.com"
declare -A FROM_MAPS
for u in $ATTACK_USERS; do FROM_MAPS[$u]=$(answer "$u"); done
mv "$MAPS" "$MAPS.away"
# what a fallback answer costs: one search (the claimants), then the cache
seen=$(wc -l <"$SLAPD_LOG")
is "$(answer user000008@example.com | cut -d'|' -f1)" 0 "maps gone: a default account from LDAP"
sleep 0.3
is "$(tail -n +"$((seen + 1))" "$SLAPD_LOG" | grep -c ' SRCH base=')" 1 \
    "maps gone: ... costs one LDAP search (doveadm user twice: the second from the cache)"
for u in $ATTACK_USERS; do
    got=$(answer "$u")
    case $u in
    zz-*) is "$got" 75 "maps gone: $u, with a path of its own, is a temporary failure" ;;
    *) is "$got" "${FROM_MAPS[$u]}" "maps gone: $u answers from LDAP as from the maps" ;;
    esac
    if [ "$u" != victim@example.com ] && [[ "$got" == *"/victim"* ]]; then
        not_ok "maps gone: $u never gets victim's home or Maildir"; diag "$got"
    fi
done
like "$(answer victim@example.com)" "^(0\|$VMAIL/example.com/victim\|$VICTIM_MAIL|67)$" \
    "maps gone: victim@ is victim's record or unknown (as the sync's DN order decides), never mallory's"
is "$(answer zz-eve@example.com)" 75 "maps gone: zz-eve does not get victim's Maildir"
doveadm_c auth test victim@example.com malpw >/dev/null 2>&1
is "$?" 77 "maps gone: mallory's password does not open victim@"
doveadm_c auth test zz-trent@example.com trentpw >"$MM_TMP/auth.out" 2>&1
rc=$?
# a temporary failure: 75 from 2.4's doveadm, 77 from 2.3's
if dovecot_24; then want=75; else want=77; fi
is "$rc" "$want" "maps gone: zz-trent cannot log in with victim's home"
if grep -qi 'unknown' "$MM_TMP/auth.out"; then
    not_ok "... and it is a temporary failure, not 'unknown user'"; diag "$(cat "$MM_TMP/auth.out")"
else
    ok "... and it is a temporary failure, not 'unknown user'"
fi
check "maps gone: an honest account still logs in" \
    doveadm_c auth test user000007@example.com "$MM_USER_PW"
mv "$MAPS.away" "$MAPS"

# ---- maps deleted and LDAP down: temporary failure, never unknown
stop_slapd
rm -f "$MAPS"/*.cdb "$MAPS"/status
is "$(user_rc user000005@example.com)" 75 "maps gone, LDAP down: a mapped user tempfails (75)"
if grep -qi 'unknown' "$MM_TMP/user.out"; then
    not_ok "the tempfail does not say unknown"
    diag "$(cat "$MM_TMP/user.out")"
else
    ok "the tempfail does not say unknown"
fi
# (nobody@ was asked above: the lookup cache may still hold that answer)
is "$(user_rc never-asked@example.com)" 75 "maps gone, LDAP down: a user never seen tempfails (75)"
doveadm_c auth test user000005@example.com "$MM_USER_PW" >"$MM_TMP/auth.out" 2>&1
rc=$?
# 2.4's doveadm tells a temporary failure (75) from a refusal (77)
if dovecot_24; then want=75; else want=77; fi
is "$rc" "$want" "doveadm auth test fails while nothing can answer"
if grep -qi 'unknown' "$MM_TMP/auth.out"; then
    not_ok "the passdb failure is not 'unknown user'"
    diag "$(cat "$MM_TMP/auth.out")"
else
    ok "the passdb failure is not 'unknown user'"
fi
if grep -qE 'mailmaps(\(|: ).*no answer from maps or LDAP' "$DC_LOG"; then
    ok "the log says why"
else
    not_ok "the log says why"
    _mm_log_tail "$DC_LOG"
fi
if grep -qiE 'panic|fatal' "$DC_LOG"; then
    not_ok "no panic or fatal error in Dovecot's log"
    diag "$(grep -iE 'panic|fatal' "$DC_LOG" | head)"
else
    ok "no panic or fatal error in Dovecot's log"
fi

# ---- a mailmaps.conf that cannot be read: the reason in the log, not a crash
stop_dovecot
start_dovecot "$(dovecot_auth_conf "$MM_TMP/no-such.conf")" "auth_cache_size = 0"
doveadm_c user user000001@example.com >"$MM_TMP/user.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 67 ]; then
    ok "a missing mailmaps.conf fails the lookup (exit $rc), never 'unknown'"
else
    not_ok "a missing mailmaps.conf fails the lookup, never 'unknown'"
    diag "exit $rc: $(cat "$MM_TMP/user.out")"
fi
if wait_for 5 grep -q "mailmaps: .*no-such.conf" "$DC_LOG"; then
    ok "the log names the file"
else
    not_ok "the log names the file"
    _mm_log_tail "$DC_LOG"
fi

done_testing
