#!/usr/bin/env bash
# t-sync - mailmaps-sync --once against a real slapd: every account into the
# maps, checked with Postfix's own reader; bad data skipped; limits, partial
# results, shrinking and determinism.
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup

# write_conf [name = value]... - the test's mailmaps.conf
write_conf() { write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = /var/vmail" "home_dirs = /var/vmail /home/vmail" "$@"; }

checksum() { sed -n 's/^checksum=//p' "$MAPS/status"; }
users_count() { sed -n 's/^users=//p' "$MAPS/status"; }

# ---- a directory: 3000 accounts (30 disabled) in 3 domains, plus bad data
gen_users 3000 --domains 3 --disabled 30 >"$MM_TMP/users.ldif"
{
    bob_ldif /home/vmail/bob
    account_ldif --name Carol carol "mailAlias: postmaster@example.com"
    echo
    account_ldif --name Bad --mail no-at-sign badaddr
    echo
    account_ldif --name Bad badquota "mailQuota: lots"
    echo
    account_ldif --name Bad outside "mailStorageDirectory: /etc/evil/"
    echo
    account_ldif --name Twin --mail carol@example.com twin
} >"$MM_TMP/special.ldif"
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/special.ldif"
write_conf

# ---- the first sync: 500 is the server's size limit, the sync account is exempt
sync_ok --err "$MM_TMP/sync1.err" "first sync into an empty directory succeeds" "$CONF"
# 2970 enabled generated + bob + carol (twin loses carol's address to the smaller DN)
is "$(users_count)" 2972 "every enabled account, past the server's size limit of 500"
like "$(cat "$MM_TMP/sync1.err")" "uid=badaddr" "a warning names the entry without a valid address"
like "$(cat "$MM_TMP/sync1.err")" "uid=badquota" "a warning names the entry with a bad quota"
like "$(cat "$MM_TMP/sync1.err")" "uid=outside" "a warning names the entry stored outside mail_base"
like "$(cat "$MM_TMP/sync1.err")" "uid=twin" "a warning names the entry that lost its address"
for f in domains mailboxes aliases users; do
    [ -f "$MAPS/$f.cdb" ] && ok "$f.cdb exists" || not_ok "$f.cdb exists"
done
is "$(stat -c %a "$MAPS/users.cdb")" 640 "users.cdb is not world-readable"
check "mailmaps check: the maps agree" "$CLI" -c "$CONF" check
check "mailmaps status: fresh" "$CLI" -c "$CONF" status

# ---- what Postfix itself reads
pq() { postmap -q "$1" "cdb:$MAPS/$2"; }
is "$(pq user000001@example1.com mailboxes)" "example1.com/user000001/Maildir/" "postmap: a mailbox"
is "$(pq USER000003@EXAMPLE.COM mailboxes)" "example.com/user000003/Maildir/" "postmap folds the query; keys are lower-case"
is "$(pq bob.smith@example.com mailboxes)" "custom/bob/" "storage directory relative to mail_base"
is "$(pq example2.com domains)" "OK" "postmap: a domain"
is "$(pq alias-user000010@example1.com aliases)" "user000010@example1.com" "postmap: an alias"
is "$(pq bobby@example.com aliases)" "bob.smith@example.com" "postmap: bob's alias"
is "$(pq postmaster@example.com aliases)" "bob.smith@example.com" "an alias claimed twice goes to the smaller DN"
team=$(pq team0@example.com aliases)
like "$team" "^user000105@example.com(,user[0-9]+@example.com)+$" "a list expands to its members"
is "$(echo "$team" | tr , '\n' | sort -c && echo sorted)" "sorted" "list members are sorted"
check_fails "a disabled account is absent" pq user003000@example.com mailboxes
check_fails "an entry with a bad address is absent" pq no-at-sign mailboxes
check_fails "an entry with a bad quota is absent" pq badquota@example.com users
user=$(pq bob.smith@example.com users)
like "$user" "^home=/home/vmail/bob	uid=6001	gid=6002	mail=maildir:/var/vmail/custom/bob	" "bob's userdb fields"
like "$user" "	quota_rule=\*:storage=1073741824B	quota_rule2=Trash:storage=\+524288000B	quota_rule3=Junk:storage=\+524288000B	" "bob's quota rules"
like "$user" "	password=\{PLAIN\}bobpw$" "bob's password"
like "$(pq user000004@example1.com users)" "quota_rule=\*:storage=5368709120B" "mailQuota in kilobytes"
like "$(pq user000012@example.com users)" "quota_rule=\*:storage=21474836480B" "mailQuota with a suffix"
like "$(pq user000001@example1.com users)" "quota_rule=\*:storage=10737418240B" "default_quota"

# mailmaps query agrees with postmap -q on every key of every map
mismatch=0
for map in domains mailboxes aliases users; do
    while IFS=$'\t' read -r key _; do
        [ "$("$CLI" -c "$CONF" query "$map" "$key")" = "$(pq "$key" "$map")" ] || {
            mismatch=$((mismatch + 1)); diag "mismatch in $map for $key"; }
    done < <("$CLI" -c "$CONF" dump "$map" | awk 'NR % 97 == 1')
done
is "$mismatch" 0 "mailmaps query agrees with postmap -q (a sample of every map)"

# ---- determinism: the same directory, again. The same bytes are not
# installed again: Postfix would restart every daemon for nothing.
generation() { sed -n 's/^generation=//p' "$MAPS/status"; }
inodes() { stat -c %i "$MAPS"/domains.cdb "$MAPS"/mailboxes.cdb "$MAPS"/aliases.cdb "$MAPS"/users.cdb | tr '\n' ' '; }
start_postfix "virtual_mailbox_domains = cdb:$MAPS/domains" \
    "virtual_mailbox_maps = cdb:$MAPS/mailboxes" "virtual_alias_maps = cdb:$MAPS/aliases"
like "$(smtp_rcpt "$PF_SMTP_PORT" a@client.example.test user000001@example1.com)" '^250' \
    "Postfix accepts a mailbox from the maps"
sum1=$(checksum) gen1=$(generation) ino1=$(inodes)
synced1=$(sed -n 's/^synced_at=//p' "$MAPS/status")
sleep 1
sync_ok --err "$MM_TMP/same.err" "a second sync of the same data succeeds" "$CONF"
is "$(checksum)" "$sum1" "a second sync of the same data: identical checksum"
is "$(generation)" "$gen1" "and installs nothing: the generation stays"
is "$(inodes)" "$ino1" "and no map is replaced"
like "$(cat "$MM_TMP/same.err")" "maps unchanged, nothing installed" "the log says so"
[ "$(sed -n 's/^synced_at=//p' "$MAPS/status")" -gt "$synced1" ] &&
    ok "the status says the maps are current (synced_at)" ||
    not_ok "the status says the maps are current (synced_at)"
smtp_rcpt "$PF_SMTP_PORT" a@client.example.test user000001@example1.com >/dev/null
smtp_rcpt "$PF_SMTP_PORT" a@client.example.test user000001@example1.com >/dev/null
is "$(grep -c 'has changed' "$PF_LOG")" 0 "Postfix sees no table change"
# a real change is installed, and Postfix notices (so the check above can fail)
printf 'dn: uid=user000002,%s\nchangetype: modify\nreplace: mailQuota\nmailQuota: 1234\n' \
    "$LDAP_PEOPLE" | ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" >/dev/null
"$SYNC" -c "$CONF" --once 2>/dev/null
is "$(generation)" "$((gen1 + 1))" "a changed directory is installed: the generation counts it"
smtp_rcpt "$PF_SMTP_PORT" a@client.example.test user000001@example1.com >/dev/null
wait_for 5 grep -q 'has changed' "$PF_LOG" && ok "and Postfix notices the new tables" ||
    not_ok "and Postfix notices the new tables"
stop_postfix

# ---- a server that stops answering: exit 1, old maps untouched
sha_before=$(cat "$MAPS"/*.cdb | sha256sum)
kill -STOP "$SLAPD_PID"
sync_once --err "$MM_TMP/stall.err" "$CONF"
is "$?" 1 "slapd frozen before the sync: exit 1 after ldap_timeout"
kill -CONT "$SLAPD_PID"
# and mid-sync: one entry per page makes the search take a while
write_conf "ldap_page_size = 1"
"$SYNC" -c "$CONF" --once 2>"$MM_TMP/stall.err" &
spid=$!
sleep 0.2
kill -STOP "$SLAPD_PID"
wait "$spid"
is "$?" 1 "slapd frozen mid-sync: exit 1"
kill -CONT "$SLAPD_PID"
write_conf
is "$(cat "$MAPS"/*.cdb | sha256sum)" "$sha_before" "the old maps are untouched"
is "$(ls -A "$MAPS" | grep -c '^\.[a-z]*\.cdb\.')" 0 "no temp files left"
like "$(cat "$MAPS/status")" "last_failure=" "the failure is recorded in status"
is "$(users_count)" 2972 "the counts in status are kept"

# ---- slapd gone: exit 1, old maps untouched
stop_slapd
sync_once --err "$MM_TMP/down.err" "$CONF"
is "$?" 1 "slapd down: exit 1"
like "$(cat "$MM_TMP/down.err")" "$LDAP_URI" "the error names the URI"
is "$(cat "$MAPS"/*.cdb | sha256sum)" "$sha_before" "the old maps are untouched"
slapd_run

# ---- failover: a dead URI first
free_port dead
write_conf "ldap_uri = ldap://127.0.0.1:$dead $LDAP_URI"
sync_ok --err "$MM_TMP/failover.err" "the second URI answers when the first is dead" "$CONF"
diag "$(cat "$MM_TMP/failover.err")"
like "$(cat "$MAPS/status")" "source=$LDAP_URI" "status names the URI that answered"
write_conf

# ---- ldap_attr_password empty (passwords checked by an LDAP bind): no
# hashes in users.cdb, and losing them is no max_shrink matter
PWMAPS=$MM_TMP/nopw-maps
write_mailmaps_conf "$MM_TMP/nopw.conf" "maps_dir = $PWMAPS" "mail_base = /var/vmail" \
    "home_dirs = /var/vmail /home/vmail" "ldap_attr_password ="
sync_ok "a sync with ldap_attr_password empty" "$MM_TMP/nopw.conf"
is "$("$CLI" -c "$MM_TMP/nopw.conf" dump users | grep -c 'password=')" 0 "users.cdb holds no password"
[ "$("$CLI" -c "$MM_TMP/nopw.conf" dump users | wc -l)" -gt 100 ] && ok "but every user" ||
    not_ok "but every user"

# ---- half the accounts deleted: refused, then forced
seq 1 1500 | awk -v p="$LDAP_PEOPLE" '{ printf "uid=user%06d,%s\n", $1, p }' >"$MM_TMP/del.txt"
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -c -f "$MM_TMP/del.txt" \
    >/dev/null 2>&1
sha_before=$(cat "$MAPS"/*.cdb | sha256sum)
sync_once --err "$MM_TMP/shrink.err" "$CONF"
is "$?" 3 "half the accounts gone: refused by max_shrink (exit 3)"
like "$(cat "$MM_TMP/shrink.err")" "max_shrink" "the refusal says why"
is "$(cat "$MAPS"/*.cdb | sha256sum)" "$sha_before" "refused: the old maps are untouched"
sync_ok "--force installs them" "$CONF" --force
is "$(users_count)" 1472 "the forced maps hold what is left"
check_fails "a deleted account is gone" pq user000001@example1.com mailboxes

# ---- bad configuration: nothing starts
printf 'ldap_base = dc=x\nbogus = 1\n' >"$MM_TMP/bad.conf"
out=$("$SYNC" -c "$MM_TMP/bad.conf" --once 2>&1)
is "$?" 1 "an unknown setting: exit 1"
like "$out" "bad.conf:2: bogus" "the error names file, line and setting"

done_testing
