#!/usr/bin/env bash
# t-persist - sync_mode = persist against a real slapd with syncprov: adds,
# changes, renames and deletes reach the maps within seconds; a killed
# daemon resumes from its cookie; a slapd restart is survived.
. "$(dirname "$0")/lib.sh"

SYNC=$MAILMAPS_BUILD/mailmaps-sync
[ -x "$SYNC" ] || skip_all "mailmaps-sync not built"
MAPS=$MM_TMP/maps
CONF=$MM_TMP/mailmaps.conf
LOG=$MM_TMP/sync.log

gen_users 200 >"$MM_TMP/users.ldif"
start_slapd --syncprov --ldif "$MM_TMP/users.ldif"
cat >"$CONF" <<EOF
ldap_uri = $LDAP_URI
ldap_bind_dn = $LDAP_SYNC_DN
ldap_bind_pw_file = $LDAP_SYNC_PW_FILE
ldap_base = $LDAP_BASE
ldap_timeout = 3
maps_dir = $MAPS
mail_base = /var/vmail
sync_mode = persist
sync_interval = 600
stale_after = 3
EOF

SYNC_PID=""
start_sync() {
    "$SYNC" -f -c "$CONF" >>"$LOG" 2>&1 &
    SYNC_PID=$!
    register_pid "$SYNC_PID"
}
pq() { postmap -q "$1" "cdb:$MAPS/$2"; }
# within5 - the check must come true within 5 seconds
within5() { local d=$1; shift; wait_for 5 "$@" && ok "$d" || not_ok "$d"; }
has() { [ -n "$(pq "$1" "$2")" ]; }
hasnt() { [ -z "$(pq "$1" "$2")" ]; }
value_like() { pq "$1" "$2" | grep -qE "$3"; }

start_sync
wait_for 20 test -f "$MAPS/status" && ok "the initial refresh is installed" ||
    fail_fast "no maps after 20 s: $(tail -5 "$LOG")"
is "$(sed -n 's/^users=//p' "$MAPS/status")" 200 "every account after the refresh"

# ---- add
account_ldif newbie "mailAlias: nb@example.com" >"$MM_TMP/add.ldif"
ldap_add_ldif "$MM_TMP/add.ldif" >/dev/null
within5 "an added account is in mailboxes.cdb within 5 s" has newbie@example.com mailboxes
within5 "its alias too" has nb@example.com aliases

# ---- modify: a new quota, a new alias
cat >"$MM_TMP/mod.ldif" <<EOF
dn: uid=newbie,$LDAP_PEOPLE
changetype: modify
replace: mailQuota
mailQuota: 2G
-
replace: mailAlias
mailAlias: nb2@example.com
EOF
ldap_modify_ldif "$MM_TMP/mod.ldif" >/dev/null
within5 "a changed quota is in users.cdb within 5 s" value_like newbie@example.com users 'storage=2147483648B'
within5 "the replaced alias is gone" hasnt nb@example.com aliases
check "the new alias is there" has nb2@example.com aliases

# ---- modrdn: same entry (same entryUUID), new DN
ldapmodrdn -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -r \
    "uid=newbie,$LDAP_PEOPLE" "uid=renamed" >/dev/null 2>&1
cat >"$MM_TMP/mod2.ldif" <<EOF
dn: uid=renamed,$LDAP_PEOPLE
changetype: modify
replace: mail
mail: renamed@example.com
EOF
ldap_modify_ldif "$MM_TMP/mod2.ldif" >/dev/null
within5 "renamed: the new address is in the maps" has renamed@example.com mailboxes
within5 "renamed: the old address is gone" hasnt newbie@example.com mailboxes
is "$(sed -n 's/^users=//p' "$MAPS/status")" 201 "a rename neither adds nor loses an account"

# ---- disable and delete
cat >"$MM_TMP/dis.ldif" <<EOF
dn: uid=user000002,$LDAP_PEOPLE
changetype: modify
replace: mailEnabled
mailEnabled: FALSE
EOF
ldap_modify_ldif "$MM_TMP/dis.ldif" >/dev/null
within5 "a disabled account leaves the maps within 5 s" hasnt user000002@example.com mailboxes
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" "uid=user000003,$LDAP_PEOPLE"
within5 "a deleted account leaves the maps within 5 s" hasnt user000003@example.com mailboxes

# ---- a burst is batched: 300 adds, a handful of installs
gen_users 300 --start 1001 >"$MM_TMP/burst.ldif"
gen0=$(sed -n 's/^generation=//p' "$MAPS/status")
ldap_add_ldif "$MM_TMP/burst.ldif" >/dev/null
within5 "a burst of 300 adds arrives" has user001300@example.com mailboxes
sleep 1.5
gens=$(( $(sed -n 's/^generation=//p' "$MAPS/status") - gen0 ))
[ "$gens" -ge 1 ] && [ "$gens" -le 10 ] && ok "300 changes took $gens installs" ||
    not_ok "300 changes took $gens installs"

# ---- a quiet spell longer than stale_after: the daemon, its search alive,
# confirms the maps current, so readers do not go to LDAP first
sleep 4
check "no change for 4 s (stale_after = 3): the maps are not stale" \
    "$MAILMAPS_BUILD/mailmaps" -c "$CONF" status

# ---- a steady stream (an entry every 50 ms, never the 0.1 s pause that
# ends a burst) is installed as it goes, at least every 3 s, not once it ends
stream() {
    local i
    for ((i = 1; i <= 120; i++)); do account_ldif "stream$i"; echo; sleep 0.05; done
}
stream | ldap_add_ldif /dev/stdin &
STREAM_PID=$!
register_pid "$STREAM_PID"
wait_for 10 has stream1@example.com mailboxes
check "a steady stream of adds is in the maps before it ends" kill -0 "$STREAM_PID"
wait "$STREAM_PID"
within5 "and all of it once it ends" has stream120@example.com mailboxes

# ---- killed and restarted: resumes from the cookie
kill -9 "$SYNC_PID"; wait "$SYNC_PID" 2>/dev/null
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" "uid=user000004,$LDAP_PEOPLE"
sed 's/newbie/later/g; s/nb@/lt@/' "$MM_TMP/add.ldif" >"$MM_TMP/add2.ldif"
ldap_add_ldif "$MM_TMP/add2.ldif" >/dev/null
: >"$LOG"
start_sync
within5 "after a restart: added while down" has later@example.com mailboxes
within5 "after a restart: deleted while down" hasnt user000004@example.com mailboxes
like "$(cat "$LOG")" "resuming from saved state" "the restart resumed from the saved state"
like "$(cat "$LOG")" "resuming refresh" "and from the cookie, not a full refresh"

# ---- slapd restarted (its session log lost): the daemon reconnects
restart_slapd
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" "uid=user000005,$LDAP_PEOPLE"
wait_for 30 hasnt user000005@example.com mailboxes &&
    ok "after a slapd restart, changes still arrive" || not_ok "after a slapd restart, changes still arrive"
check "everything else is still there" has user000006@example.com mailboxes

# ---- SIGHUP: a full refresh; SIGTERM: a clean stop
# The reconnect after the slapd restart may still be installing what its
# refresh found: wait until the generation holds still for 2 s.
generation() { sed -n 's/^generation=//p' "$MAPS/status"; }
gen_still() { local g; g=$(generation); sleep 2; [ "$(generation)" = "$g" ]; }
wait_for 20 gen_still || diag "the generation kept moving for 20 s"
gen0=$(generation)
full0=$(grep -c "refresh done (full)" "$LOG")
kill -HUP "$SYNC_PID"
wait_for 10 grep -q "full refresh" "$LOG" && ok "SIGHUP starts a full refresh" || not_ok "SIGHUP starts a full refresh"
wait_for 10 sh -c "[ \$(grep -c 'refresh done (full)' '$LOG') -gt $full0 ]" || fail_fast "no full refresh done"
like "$(grep "refresh done (full)" "$LOG" | tail -1)" ", 0 changes" \
    "a full refresh of an unchanged directory finds no change"
is "$(sed -n 's/^generation=//p' "$MAPS/status")" "$gen0" "and installs nothing"
kill -TERM "$SYNC_PID"
wait_for 10 sh -c "! kill -0 $SYNC_PID 2>/dev/null" && ok "SIGTERM stops the daemon" || not_ok "SIGTERM stops the daemon"
wait "$SYNC_PID"
is "$?" 0 "exit status 0 after SIGTERM"

# ---- a mass deletion is refused by max_shrink (10%): the old maps stay,
# one error line, retried now and then rather than per change; once the
# operator installs the smaller maps with --once --force, the daemon's next
# attempt goes through
: >"$LOG"
start_sync
wait_for 20 grep -q "refresh done" "$LOG" || fail_fast "no refresh after a restart: $(tail -3 "$LOG")"
for ((i = 1001; i <= 1150; i++)); do echo "uid=user00$i,$LDAP_PEOPLE"; done >"$MM_TMP/mass.dns"
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -f "$MM_TMP/mass.dns"
wait_for 10 grep -q "maps not installed, old maps kept" "$LOG" &&
    ok "a mass deletion is refused" || not_ok "a mass deletion is refused: $(tail -3 "$LOG")"
check "the old maps are kept" has user001001@example.com mailboxes
account_ldif afterwards >"$MM_TMP/add3.ldif"
ldap_add_ldif "$MM_TMP/add3.ldif" >/dev/null
sleep 1
is "$(grep -c "maps not installed" "$LOG")" 1 "the refusal is logged once"
"$SYNC" --once --force -c "$CONF" 2>>"$LOG"
is "$?" 0 "the operator forces the smaller maps in"
wait_for 15 grep -q "installing maps works again" "$LOG" &&
    ok "the daemon installs again after that" || not_ok "the daemon installs again after that"
sed 's/afterwards/later2/g' "$MM_TMP/add3.ldif" >"$MM_TMP/add4.ldif"
ldap_add_ldif "$MM_TMP/add4.ldif" >/dev/null
within5 "and follows changes again" has later2@example.com mailboxes

# ---- an iRedMail directory: domain entries come through their own
# refreshAndPersist search, so a domain change reaches the maps within
# seconds too, without waiting for sync_interval
. "$(dirname "$0")/iredmail-small.sh"
if ! iredmail_available; then
    skip "iRedMail: domain entries in persist mode" "no test schema or slapd_config --schema"
    done_testing
fi
kill -TERM "$SYNC_PID"; wait "$SYNC_PID" 2>/dev/null
stop_slapd
start_slapd_iredmail --syncprov
MAPS=$MM_TMP/imaps
# (max_shrink: a disabled domain takes one of the few accounts with it)
iredmail_conf "$CONF" "maps_dir = $MAPS" "sync_mode = persist" "sync_interval = 600" \
    "stale_after = 3" "max_shrink = 50%"
: >"$LOG"
start_sync
wait_for 20 test -f "$MAPS/status" && ok "iRedMail: the initial refresh is installed" ||
    fail_fast "iRedMail: no maps after 20 s: $(tail -5 "$LOG")"
like "$(cat "$LOG")" 'domain refresh done: 3 domain entries' "iRedMail: the 3 active domain entries"
is "$("$MAILMAPS_BUILD/mailmaps" -c "$CONF" dump domains | cut -f1 | tr '\n' ' ')" \
    "empty.example example.com example.net other.org " "iRedMail: their domains, and only theirs"
check "iRedMail: alice's mailbox" has alice@example.com mailboxes
iredmail_domain_ldif new.example active >"$MM_TMP/dadd.ldif"
ldap_add_ldif "$MM_TMP/dadd.ldif"
within5 "iRedMail: an added domain entry is in domains.cdb within 5 s" has new.example domains
cat >"$MM_TMP/dmod.ldif" <<EOF
dn: domainName=example.com,$IREDMAIL_BASE
changetype: modify
add: domainAliasName
domainAliasName: example.org
EOF
ldap_modify_ldif "$MM_TMP/dmod.ldif"
within5 "iRedMail: a new alias domain is in domains.cdb within 5 s" has example.org domains
within5 "iRedMail: ... and its addresses in aliases.cdb" value_like alice@example.org aliases \
    '^alice@example.com$'
cat >"$MM_TMP/ddis.ldif" <<EOF
dn: domainName=other.org,$IREDMAIL_BASE
changetype: modify
replace: accountStatus
accountStatus: disabled
EOF
ldap_modify_ldif "$MM_TMP/ddis.ldif"
within5 "iRedMail: a disabled domain leaves domains.cdb within 5 s" hasnt other.org domains
within5 "iRedMail: ... and its accounts the maps" hasnt frank@other.org mailboxes
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -r \
    "domainName=empty.example,$IREDMAIL_BASE"
within5 "iRedMail: a deleted domain entry leaves domains.cdb within 5 s" hasnt empty.example domains
ldapmodrdn -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" \
    "domainName=new.example,$IREDMAIL_BASE" "cn=new" >/dev/null 2>&1
sleep 1
check "iRedMail: a renamed domain entry keeps its domain" has new.example domains
# an account change still arrives beside the domain search
cat >"$MM_TMP/fmod.ldif" <<EOF
dn: mail=dave@example.com,ou=Users,domainName=example.com,$IREDMAIL_BASE
changetype: modify
add: enabledService
enabledService: forward
EOF
ldap_modify_ldif "$MM_TMP/fmod.ldif"
within5 "iRedMail: an account change arrives too (dave's forward now counts)" \
    value_like dave@example.com aliases '^dave@gmail.example$'
# restarted: the domains come again from their own full refresh
kill -9 "$SYNC_PID"; wait "$SYNC_PID" 2>/dev/null
: >"$LOG"
start_sync
wait_for 20 grep -q "refresh done" "$LOG" || fail_fast "no refresh: $(tail -3 "$LOG")"
like "$(cat "$LOG")" 'domain refresh done: 2 domain entries' \
    "iRedMail: after a restart the domain entries are read again"
is "$("$MAILMAPS_BUILD/mailmaps" -c "$CONF" dump domains | cut -f1 | tr '\n' ' ')" \
    "example.com example.net example.org new.example " "iRedMail: the same domains after the restart"
kill -TERM "$SYNC_PID"; wait "$SYNC_PID"
is "$?" 0 "iRedMail: exit status 0 after SIGTERM"

done_testing
