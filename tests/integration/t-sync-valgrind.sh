#!/usr/bin/env bash
# t-sync-valgrind - mailmaps-sync and the mailmaps tool under valgrind: no
# leaks and no memory errors in a full sync, a persist session with changes,
# a failed sync, and the CLI commands.
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup
command -v valgrind >/dev/null || skip_all "valgrind is not installed"
# libldap/GnuTLS keep some memory reachable until exit by design: only
# definite and indirect leaks count.
VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99)

gen_users 300 --disabled 5 >"$MM_TMP/users.ldif"
start_slapd --syncprov --ldif "$MM_TMP/users.ldif"
# vg_conf [name = value | -name]... - the test's mailmaps.conf
vg_conf() { write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "$@"; }
vg_conf -ldap_timeout

"${VG[@]}" "$SYNC" -c "$CONF" --once 2>"$MM_TMP/once.vg"
rc=$?
is "$rc" 0 "sync --once under valgrind: clean"
[ "$rc" = 0 ] || diag "$(tail -20 "$MM_TMP/once.vg")"

for cmd in "status" "check" "dump users" "query users user000001@example.com" "query users nobody@example.com"; do
    # shellcheck disable=SC2086
    "${VG[@]}" "$CLI" -c "$CONF" $cmd >/dev/null 2>"$MM_TMP/cli.vg"
    rc=$?
    [ "$rc" != 99 ] && ok "mailmaps $cmd under valgrind: clean" ||
        { not_ok "mailmaps $cmd under valgrind: clean"; diag "$(tail -20 "$MM_TMP/cli.vg")"; }
done

# A failed sync (slapd frozen) frees what it had.
kill -STOP "$SLAPD_PID"
vg_conf "ldap_timeout = 1"
"${VG[@]}" "$SYNC" -c "$CONF" --once 2>"$MM_TMP/fail.vg"
rc=$?
kill -CONT "$SLAPD_PID"
is "$rc" 1 "a failed sync under valgrind: exit 1, clean"
[ "$rc" = 1 ] || diag "$(tail -20 "$MM_TMP/fail.vg")"

# A persist session with an add and a delete, stopped by SIGTERM.
vg_conf "ldap_timeout = 1" "sync_mode = persist"
"${VG[@]}" "$SYNC" -f -c "$CONF" >"$MM_TMP/persist.vg" 2>&1 &
pid=$!
register_pid "$pid"
gen0=$(sed -n 's/^generation=//p' "$MAPS/status")
wait_for 60 sh -c "[ \$(sed -n 's/^generation=//p' '$MAPS/status') -gt $gen0 ]" ||
    diag "no refresh installed: $(tail -5 "$MM_TMP/persist.vg")"
gen_users 1 --start 5001 >"$MM_TMP/one.ldif"
ldap_add_ldif "$MM_TMP/one.ldif" >/dev/null
ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" "uid=user000007,$LDAP_PEOPLE"
wait_for 30 sh -c "postmap -q user005001@example.com cdb:$MAPS/mailboxes >/dev/null" &&
    ok "persist under valgrind applies changes" || not_ok "persist under valgrind applies changes"
kill -TERM "$pid"
wait "$pid"
rc=$?
is "$rc" 0 "persist session under valgrind: clean exit"
[ "$rc" = 0 ] || diag "$(tail -30 "$MM_TMP/persist.vg")"

done_testing
