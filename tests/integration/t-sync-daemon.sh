#!/usr/bin/env bash
# t-sync-daemon - mailmaps-sync as a poll daemon: syncs every interval and on
# SIGHUP, keeps the maps through an LDAP outage (logging it once, not per
# attempt), recovers, and stops cleanly on SIGTERM. Also: the maps do not
# depend on the order in which the server returns entries.
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup
LOG=$MM_TMP/sync.log

gen_users 500 --domains 4 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"
# write_conf MAPS_DIR [name = value]... - the test's mailmaps.conf
write_conf() {
    local d=$1; shift
    write_mailmaps_conf "$CONF" "ldap_timeout = 2" "maps_dir = $d" "$@"
}
generation() { sed -n 's/^generation=//p' "$MAPS/status" 2>/dev/null; }
# The syncs are counted in the log: an unchanged directory installs nothing
# new, so the generation does not count them.

# ---- the daemon: an hour between syncs, so only SIGHUP makes the next one
write_conf "$MAPS" "sync_interval = 3600"
"$SYNC" -f -c "$CONF" >"$LOG" 2>&1 &
pid=$!
register_pid "$pid"
wait_for 10 test -f "$MAPS/status" && ok "the daemon syncs at start" || fail_fast "no first sync"
is "$(generation)" 1 "generation 1"
kill -HUP "$pid"
wait_for 10 sh -c "[ \$(grep -c 'sync done' '$LOG') = 2 ]" &&
    ok "SIGHUP syncs now" || not_ok "SIGHUP syncs now"
like "$(grep 'sync done' "$LOG" | tail -1)" "maps unchanged, nothing installed" \
    "an unchanged directory installs nothing"
is "$(generation)" 1 "the generation stays"

# ---- LDAP down: maps kept, one error line however many attempts
sha=$(cat "$MAPS"/*.cdb | sha256sum)
stop_slapd
kill -HUP "$pid"
sleep 1
kill -HUP "$pid"
sleep 1
kill -HUP "$pid"
sleep 1
is "$(grep -c 'sync failed' "$LOG")" 1 "three failed attempts, one error line"
is "$(cat "$MAPS"/*.cdb | sha256sum)" "$sha" "the maps are kept through the outage"
like "$(cat "$MAPS/status")" "last_failure=" "status records the failure"
slapd_run
kill -HUP "$pid"
wait_for 10 grep -q "sync recovered" "$LOG" && ok "recovery is logged" || not_ok "recovery is logged"
wait_for 10 sh -c "[ \$(grep -c 'sync done' '$LOG') = 3 ]" &&
    ok "and the maps are synced again" || not_ok "and the maps are synced again"
grep -q "last_failure=" "$MAPS/status" && not_ok "a success clears last_failure" ||
    ok "a success clears last_failure"

# ---- the interval: 2 s
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "SIGTERM: exit 0"
write_conf "$MAPS" "sync_interval = 2"
: >"$LOG"
"$SYNC" -f -c "$CONF" >"$LOG" 2>&1 &
pid=$!
register_pid "$pid"
wait_for 10 sh -c "[ \$(grep -c 'sync done' '$LOG') -ge 3 ]" &&
    ok "a sync every sync_interval" || not_ok "a sync every sync_interval"
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "SIGTERM: exit 0"

# ---- the order the server returns entries in does not matter
sum1=$(sed -n 's/^checksum=//p' "$MAPS/status")
stop_slapd
# the same entries, loaded in reverse order (so returned in reverse order)
awk 'BEGIN { RS = ""; ORS = "\n\n" } { e[NR] = $0 } END { for (i = NR; i >= 1; i--) print e[i] }' \
    "$MM_TMP/users.ldif" >"$MM_TMP/reversed.ldif"
start_slapd --ldif "$MM_TMP/reversed.ldif"
write_conf "$MM_TMP/maps2"
sync_ok "a sync of the reversed directory" "$CONF"
is "$(sed -n 's/^checksum=//p' "$MM_TMP/maps2/status")" "$sum1" \
    "entries in another order: the same checksum"
for f in domains mailboxes aliases users; do
    cmp -s "$MAPS/$f.cdb" "$MM_TMP/maps2/$f.cdb" && ok "$f.cdb byte-identical" ||
        not_ok "$f.cdb byte-identical"
done

done_testing
