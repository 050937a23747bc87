#!/usr/bin/env bash
# t-untrusted - "Directory data is untrusted" (README) against the real
# servers: entries that try to make a foreign domain local, take another
# account's address, home or Maildir, run as a system uid/gid, climb out of
# mail_base or carry a quota nobody can read back. A poll sync, then
# Postfix (domains, delivery), Dovecot with our driver (IMAP login and
# SELECT) and the policy daemon; then the same attacks as ldapmodify on a
# running persist daemon, a crafted .persist-state, and a bind that lost
# read access to userPassword (max_shrink).
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup
POLICYD=$MAILMAPS_BUILD/mailmaps-policyd
PLUGIN=$MAILMAPS_BUILD/libauthdb_mailmaps.so
need_root || skip_all "private Postfix and Dovecot need root"
command -v postmap >/dev/null 2>&1 || skip_all "postfix is not installed"
[ -x /usr/lib/dovecot/imap ] || skip_all "dovecot-imapd is not installed"

mkdir -p "$VMAIL"
chmod 0777 "$VMAIL"

# ---- the directory: honest users, the victim, and one attacker per rule
gen_users 5 >"$MM_TMP/users.ldif"
{
    account_ldif victim "userPassword: {PLAIN}victimpw"
    echo
    # "uid=aaa" sorts before "uid=victim": first come would have won
    account_ldif aaa "userPassword: {PLAIN}aaapw" "mailAlias: victim@example.com" \
        "mailAlias: ceo@gmail.com" "mailAlias: aaa-ok@example.com" \
        "mailGroupMember: x@partner.example"
    echo
    account_ldif aab "userPassword: {PLAIN}aabpw" \
        "mailStorageDirectory: example.com/victim/Maildir"
    echo
    account_ldif zzhome "userPassword: {PLAIN}zzpw" \
        "mailHomeDirectory: $VMAIL/example.com/victim"
    echo
    account_ldif zzetc "userPassword: {PLAIN}zzpw" "mailHomeDirectory: /etc:INDEX=/tmp/x"
    echo
    account_ldif uid42 "mailUidNumber: 42"
    echo
    account_ldif gid42 "mailGidNumber: 42"
    echo
    account_ldif huge "mailQuota: 9007199254740992"
    echo
    printf 'dn: uid=climb,%s\nobjectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n' "$LDAP_PEOPLE"
    printf 'uid: climb\ncn: climb\nsn: climb\nmail: ../../../../tmp/x@example.com\nmailEnabled: TRUE\n'
    printf 'mailHomeDirectory: %s/climb\nmailStorageDirectory: climb/Maildir\n' "$VMAIL"
} >"$MM_TMP/attack.ldif"
start_slapd --syncprov --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/attack.ldif"
# A directory this small loses a large share to the attackers: max_shrink
# must let that pass (the users count), not a lost password attribute.
write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = $VMAIL" "maps_group = dovecot" \
    "max_shrink = 40%" \
    "policy_listen = unix:$MM_TMP/policy.sock" \
    "quota_usage = maildir:%h/Maildir/maildirsize"
chmod 0644 "$CONF"
pq() { postmap -q "$1" "cdb:$2/$3"; }
DN() { printf 'uid=%s,%s' "$1" "$LDAP_PEOPLE"; }

# ---- the dry run lists what the rules drop, and installs nothing
"$SYNC" -c "$CONF" --dry-run >"$MM_TMP/dry.out" 2>"$MM_TMP/dry.err"
is "$?" 0 "--dry-run: exit 0"
check "--dry-run: nothing installed" test ! -e "$MAPS/status"
for who in aab zzhome zzetc uid42 gid42 huge climb; do
    like "$(grep -c "^$(DN $who): " "$MM_TMP/dry.out")" '^1$' "--dry-run: one line for $who"
done
like "$(grep "^$(DN aaa): " "$MM_TMP/dry.out" | grep -c 'victim@example.com\|gmail.com\|partner.example')" \
    '^3$' "--dry-run: the three claims aaa loses"

# ---- poll sync
sync_ok "sync --once with the attackers loaded: installed" "$CONF"
W=$MM_TMP/sync.err
# (a) foreign domains
is "$(pq gmail.com "$MAPS" domains)" "" "(a) mailAlias ceo@gmail.com does not make gmail.com local"
is "$(pq partner.example "$MAPS" domains)" "" "(a) mailGroupMember x@partner.example does not make partner.example local"
is "$(pq ceo@gmail.com "$MAPS" aliases)" "" "(a) nor is the alias in aliases.cdb"
like "$(grep -c "$(DN aaa).*ceo@gmail.com.*alias_domains" "$W")" '^1$' "(a) one warning naming the DN"
is "$(pq aaa-ok@example.com "$MAPS" aliases)" "aaa@example.com" "(a) the entry keeps its harmless alias"
# (b) a smaller DN claiming the victim's address as an alias
is "$(pq victim@example.com "$MAPS" mailboxes)" "example.com/victim/Maildir/" "(b) the victim keeps its mailbox"
like "$(pq victim@example.com "$MAPS" users)" "^home=$VMAIL/example.com/victim	" "(b) the victim keeps its login"
is "$(pq victim@example.com "$MAPS" aliases)" "" "(b) the address is no alias of the attacker"
like "$(grep "$(DN aaa)" "$W" | grep -c "victim@example.com.*mail of $(DN victim)")" '^1$' \
    "(b) one warning naming both DNs"
# (c) the victim's Maildir or home, and mail location options
for who in aab zzhome; do
    is "$(pq $who@example.com "$MAPS" users)" "" "(c) $who is skipped"
    like "$(grep "$(DN $who)" "$W" | grep -c "of $(DN victim)")" '^1$' "(c) $who: the warning names both DNs"
done
is "$(pq zzetc@example.com "$MAPS" users)" "" "(c) a home /etc:INDEX=/tmp/x is skipped"
# (d) (e) (f)
is "$(pq uid42@example.com "$MAPS" users)" "" "(d) uid 42 is skipped"
is "$(pq gid42@example.com "$MAPS" users)" "" "(d) gid 42 is skipped"
like "$(grep "$(DN gid42)" "$W")" "gid 42 outside" "(d) the warning says why"
is "$(grep -c '/tmp/x@example.com' <("$CLI" -c "$CONF" dump users))" 0 "(e) the climbing local part is skipped"
is "$(pq huge@example.com "$MAPS" users)" "" "(f) the quota no reader can parse is skipped"
check "mailmaps check: the new maps keep every rule" "$CLI" -c "$CONF" check

r=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=victim@example.com\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=huge@example.com\n\n' |
    "$POLICYD" -c "$CONF" --stdio 2>/dev/null | tr '\n' '|')
is "$r" "action=DUNNO||action=DUNNO||" "(f) the policy daemon answers normally"

# ---- Postfix on the maps: the foreign domain stays foreign, mail reaches the victim
start_postfix "virtual_mailbox_domains = cdb:$MAPS/domains" \
    "virtual_mailbox_maps = cdb:$MAPS/mailboxes" "virtual_alias_maps = cdb:$MAPS/aliases" \
    "virtual_mailbox_base = $VMAIL" "virtual_uid_maps = static:5000" \
    "virtual_gid_maps = static:5000"
r=$(smtp_rcpt "$PF_SMTP_PORT" user000001@example.com someone-else@gmail.com)
case "$r" in
    *"User unknown"*) not_ok "(a) mail to another gmail.com address is not refused as unknown: $r" ;;
    *) ok "(a) mail to another gmail.com address is not refused as unknown (${r:0:40})" ;;
esac
swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --from user000001@example.com \
    --to victim@example.com --header "Subject: for the victim" >"$MM_TMP/swaks.out" 2>&1
is "$?" 0 "(b) mail to victim@example.com accepted"
wait_for 20 sh -c "ls '$VMAIL/example.com/victim/Maildir/new/' 2>/dev/null | grep -q ." &&
    ok "(b) it is delivered into the victim's Maildir" ||
    not_ok "(b) it is delivered into the victim's Maildir: $(tail -3 "$PF_LOG")"

# ---- Dovecot with our driver
if [ -f "$PLUGIN" ]; then
    dovecot_private_auth_modules "$PLUGIN"
    start_dovecot "$(dovecot_auth_conf "$CONF")" "auth_cache_size = 0"
    r=$(imap_login victim@example.com victimpw "SELECT INBOX" | tr '\n' '|')
    like "$r" '^a OK.*\|c1 OK' "(b) the victim logs in over IMAP and selects its INBOX"
    like "$(imap_login aaa@example.com aaapw)" '^a OK' "(b) the attacker keeps its own login"
    like "$(imap_login victim@example.com aaapw)" '^a NO' "(b) not with the attacker's password"
    # A login the maps lack goes to the LDAP fallback (maps/lookup.c), which
    # must not give an entry the sync skipped what the sync refused it.
    for who in aab:aabpw zzhome:zzpw; do
        r=$(imap_login "${who%%:*}@example.com" "${who#*:}" "SELECT INBOX" | tr '\n' '|')
        case "$r" in
            *"a OK"* | *"c1 OK"*) not_ok "(c) ${who%%:*}, skipped by the sync, cannot log in nor SELECT: $r" ;;
            *) ok "(c) ${who%%:*}, skipped by the sync, cannot log in nor SELECT" ;;
        esac
    done
else
    skip "Dovecot checks" "libauthdb_mailmaps.so not built"
fi

# ---- mailmaps check on maps an older version or a hand wrote
BAD=$MM_TMP/badmaps
mkdir -p "$BAD"
U="uid=5000	gid=5000	quota_rule=*:storage=0"
printf '%s\n' "domains	example.com	OK" "domains	gmail.com	OK" \
    "mailboxes	a@example.com	example.com/a/Maildir/" \
    "mailboxes	b@example.com	example.com/a/Maildir/" \
    "mailboxes	c@example.com	example.com/c/Maildir/" \
    "users	a@example.com	home=$VMAIL/example.com/a	$U" \
    "users	b@example.com	home=$VMAIL/example.com/a/b	$U" \
    "users	c@example.com	home=/etc	uid=42	gid=5000	mail=maildir:$VMAIL/../etc" |
    "$MAILMAPS_BUILD/tests/tools/mapgen" "$BAD" >/dev/null
write_mailmaps_conf "$MM_TMP/bad.conf" "maps_dir = $BAD" "mail_base = $VMAIL"
"$CLI" -c "$MM_TMP/bad.conf" check >"$MM_TMP/check.out" 2>&1
is "$?" 2 "mailmaps check: maps that break the rules are broken"
like "$(cat "$MM_TMP/check.out")" "gmail.com holds no mailbox" "check: a foreign domain"
like "$(cat "$MM_TMP/check.out")" "mail=b@example.com.*inside.*mail=a@example.com" "check: a shared home or mailbox"
like "$(cat "$MM_TMP/check.out")" "c@example.com: .*not below any of home_dirs" "check: a home outside home_dirs"
like "$(cat "$MM_TMP/check.out")" "c@example.com: mail field" "check: '..' in the mail field"

# ---- (g) persist mode: the same attacks as changes to honest entries
stop_dovecot
PMAPS=$MM_TMP/pmaps
PCONF=$MM_TMP/persist.conf
PLOG=$MM_TMP/persist.log
write_mailmaps_conf "$PCONF" "maps_dir = $PMAPS" "mail_base = $VMAIL" "sync_mode = persist" \
    "max_shrink = 40%" \
    "sync_interval = 600" "stale_after = 3"
start_persist() {
    "$SYNC" -f -c "$PCONF" >>"$PLOG" 2>&1 &
    PERSIST_PID=$!
    register_pid "$PERSIST_PID"
}
start_persist
wait_for 20 test -f "$PMAPS/status" && ok "(g) persist: the initial refresh is installed" ||
    fail_fast "no persist maps after 20 s: $(tail -5 "$PLOG")"
users0=$(sed -n 's/^users=//p' "$PMAPS/status")
cat >"$MM_TMP/attack.mod" <<EOF
dn: $(DN user000001)
changetype: modify
add: mailAlias
mailAlias: victim@example.com
mailAlias: boss@gmail.com

dn: $(DN user000002)
changetype: modify
add: mailStorageDirectory
mailStorageDirectory: example.com/victim/Maildir

dn: $(DN user000003)
changetype: modify
add: mailGidNumber
mailGidNumber: 42
EOF
ldap_modify_ldif "$MM_TMP/attack.mod"
wait_for 5 sh -c "[ -z \"\$(postmap -q user000003@example.com cdb:$PMAPS/users)\" ]" &&
    ok "(g) persist: gid 42 by ldapmodify: skipped" || not_ok "(g) persist: gid 42 by ldapmodify: skipped"
is "$(pq user000002@example.com "$PMAPS" users)" "" "(g) persist: the victim's Maildir by ldapmodify: skipped"
is "$(pq victim@example.com "$PMAPS" mailboxes)" "example.com/victim/Maildir/" "(g) persist: the victim keeps its mailbox"
is "$(pq victim@example.com "$PMAPS" aliases)" "" "(g) persist: and its address"
is "$(pq gmail.com "$PMAPS" domains)" "" "(g) persist: gmail.com stays foreign"
like "$(grep -c "$(DN user000002).*of $(DN victim)" "$PLOG")" '^[1-9]' "(g) persist: warnings name both DNs"

# ---- (h) a crafted .persist-state is discarded, a full refresh follows
kill -TERM "$PERSIST_PID"
_mm_wait_gone "$PERSIST_PID" 10
STATE=$PMAPS/.persist-state
check "(h) the persist daemon left its state" test -s "$STATE"
awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "a" && $4 == "victim@example.com" { $6 = "../../../etc/"; $8 = "" } { print }' \
    "$STATE" >"$STATE.new" && mv "$STATE.new" "$STATE"
chmod 0600 "$STATE"
like "$(grep -c '	\.\./\.\./\.\./etc/	' "$STATE")" '^1$' "(h) the state is crafted: mailbox ../../../etc/, empty uid"
: >"$PLOG"
start_persist
wait_for 20 grep -q 'saved state discarded' "$PLOG" &&
    ok "(h) the crafted state is discarded with a warning" || not_ok "(h) the crafted state is discarded: $(tail -3 "$PLOG")"
like "$(grep 'saved state discarded' "$PLOG")" "$(DN victim)" "(h) the warning names the entry"
wait_for 20 grep -q 'installed' "$PLOG" && ok "(h) a full refresh is installed" || not_ok "(h) a full refresh is installed"
is "$(pq victim@example.com "$PMAPS" mailboxes)" "example.com/victim/Maildir/" "(h) the victim's mailbox is the directory's"
like "$(pq victim@example.com "$PMAPS" users)" "	uid=5000	" "(h) and its uid"
kill -TERM "$PERSIST_PID"
_mm_wait_gone "$PERSIST_PID" 10

# ---- (i) the sync account loses read access to userPassword
pw0=$(sed -n 's/^passwords=//p' "$MAPS/status")
like "$pw0" '^[1-9]' "(i) status records the users with a password"
sed -i "/^access to attrs=userPassword/,/^access to \*/{/by dn.exact=\"$LDAP_SYNC_DN\" read/d}" "$SLAPD_CONF"
restart_slapd
before=$(sha256sum "$MAPS/users.cdb")
sync_once --err "$MM_TMP/acl.err" "$CONF"
is "$?" 3 "(i) a sync without the passwords is refused by max_shrink (exit 3)"
like "$(cat "$MM_TMP/acl.err")" "with a password.*max_shrink" "(i) the refusal says why"
is "$(sha256sum "$MAPS/users.cdb")" "$before" "(i) users.cdb is untouched"

done_testing
