#!/usr/bin/env bash
# t-hardening - what the programs say about the bind before they touch
# LDAP: -n of mailmaps-sync and mailmaps-policyd fails on a bind password
# file that is missing, unreadable or open to others (naming the file and
# the fix); a password bind over ldap:// to a host other than loopback
# without StartTLS draws one warning (from -n, from each daemon at start,
# from mailmaps check), and none over loopback, ldaps://, ldapi://, with
# StartTLS or anonymously; the daemons run with core dumps off. Then, with
# a real slapd, the files a sync writes: a symlink at the lock is not
# followed, temp files a killed writer left are removed (and nothing
# else), the modes are the ones asked for.
. "$(dirname "$0")/../lib/harness.sh"

B=$MAILMAPS_BUILD
[ -x "$B/mailmaps-sync" ] && [ -x "$B/mailmaps-policyd" ] || skip_all "programs not built"
PW=$MM_TMP/bind.pw
CONF=$MM_TMP/mailmaps.conf

# conf URI [name = value]... - a configuration binding with $PW
conf() {
    local uri=$1; shift
    write_mailmaps_conf "$CONF" "ldap_uri = $uri" "ldap_base = dc=example,dc=com" \
        "ldap_bind_dn = cn=sync,dc=example,dc=com" "ldap_bind_pw_file = $PW" \
        "ldap_timeout = 1" "maps_dir = $MM_TMP/maps" "sync_interval = 3600" "$@"
}

# run PROG ARGS... - output in $OUT, exit status in $RC
run() { OUT=$("$@" 2>&1); RC=$?; }

printf 'secret\n' >"$PW"
chmod 0600 "$PW"
conf "ldap://127.0.0.1:1"

# ---- the password file
for prog in mailmaps-sync mailmaps-policyd; do
    chmod 0600 "$PW"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 0 "$prog -n: a 0600 password file is fine"
    chmod 0640 "$PW"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 0 "$prog -n: 0640 (group readers) is fine"
    chmod 0644 "$PW"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 1 "$prog -n: a 0644 password file fails"
    like "$OUT" "$PW: the password file is open to others \(mode 0644\): chmod 0600 $PW" \
        "... naming the file and the fix"
    chmod 0606 "$PW"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 1 "$prog -n: one writable by others fails too"
    chmod 0600 "$PW"
    mv "$PW" "$PW.away"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 1 "$prog -n: a missing password file fails"
    like "$OUT" "cannot read the LDAP bind password: $PW: No such file or directory" "... and says so"
    mv "$PW.away" "$PW"
    mkdir "$MM_TMP/pwdir"
    conf "ldap://127.0.0.1:1" "ldap_bind_pw_file = $MM_TMP/pwdir"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 1 "$prog -n: a directory as the password file fails"
    rmdir "$MM_TMP/pwdir"
    conf "ldap://127.0.0.1:1"
done

# ---- the cleartext warning
warnings() { grep -c "travel in clear" <<<"$OUT"; }
for prog in mailmaps-sync mailmaps-policyd; do
    conf "ldap://ldap1.example.com ldap://127.0.0.1:1"
    run "$B/$prog" -n -c "$CONF"
    is "$RC" 0 "$prog -n: a cleartext bind is a warning, not an error"
    is "$(warnings)" 1 "... one warning"
    like "$OUT" "in clear to ldap://ldap1.example.com \(ldap:// .*ldap_starttls = yes" \
        "... naming the URI and the fix"
    if [[ "$OUT" == *"to ldap://ldap1.example.com, ldap://127"* ]]; then
        not_ok "... and not the loopback one"
    else
        ok "... and not the loopback one"
    fi
    for uri in "ldap://127.0.0.1:389" "ldap://[::1]" "ldap://localhost" "ldapi:///" \
        "ldaps://ldap1.example.com"; do
        conf "$uri"
        run "$B/$prog" -n -c "$CONF"
        is "$(warnings)" 0 "$prog -n: no warning for $uri"
    done
    conf "ldap://ldap1.example.com" "ldap_starttls = yes"
    run "$B/$prog" -n -c "$CONF"
    is "$(warnings)" 0 "$prog -n: no warning with StartTLS"
    conf "ldap://ldap1.example.com" "ldap_bind_dn ="
    run "$B/$prog" -n -c "$CONF"
    is "$(warnings)" 0 "$prog -n: no warning for an anonymous bind"
done

conf "ldap://ldap1.example.com"
run "$B/mailmaps" -c "$CONF" check
is "$(warnings)" 1 "mailmaps check warns once"
run "$B/mailmaps-sync" --once -c "$CONF"
is "$(warnings)" 1 "mailmaps-sync --once warns once at start"
run "$B/mailmaps-policyd" -f --stdio -c "$CONF" </dev/null
is "$(warnings)" 1 "mailmaps-policyd warns once at start"

# ---- a daemon that retries: one warning, no core dumps
"$B/mailmaps-sync" -f -c "$CONF" >"$MM_TMP/sync.log" 2>&1 &
SYNC_PID=$!
register_pid "$SYNC_PID"
wait_for 5 grep -q "sync failed" "$MM_TMP/sync.log"
sleep 2                      # a retry or two (back-off from 1 s)
like "$(grep "Max core file size" "/proc/$SYNC_PID/limits")" "Max core file size +0 +0 " \
    "the sync daemon runs with core dumps off"
_mm_stop_pid "$SYNC_PID"
is "$(grep -c "travel in clear" "$MM_TMP/sync.log")" 1 "the sync daemon warned once, not per retry"

# ---- the files of a real sync
start_slapd --ldif <(gen_users 20)
MAPS=$MM_TMP/maps
rm -rf "$MAPS"
write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = /var/vmail"
check "a sync with the test's own password file" "$B/mailmaps-sync" --once -c "$CONF"
is "$(stat -c %a "$MAPS/users.cdb") $(stat -c %a "$MAPS/mailboxes.cdb") $(stat -c %a "$MAPS/status")" \
    "640 644 644" "users.cdb 0640, the other maps and status 0644"

: >"$MAPS/.users.cdb.AbC123"
: >"$MAPS/.status.XyZ789"
: >"$MAPS/.users.cdb.tmp"
check "a sync after a killed one" "$B/mailmaps-sync" --once -c "$CONF"
if [ -e "$MAPS/.users.cdb.AbC123" ] || [ -e "$MAPS/.status.XyZ789" ]; then
    not_ok "the temp files a killed sync left are removed"
else
    ok "the temp files a killed sync left are removed"
fi
[ -e "$MAPS/.users.cdb.tmp" ] && ok "a file of another name is left alone" ||
    not_ok "a file of another name is left alone"
rm -f "$MAPS/.users.cdb.tmp"
like "$(ls -A "$MAPS" | tr '\n' ' ')" "^\.lock aliases\.cdb domains\.cdb mailboxes\.cdb status users\.cdb $" \
    "no temp file after a sync"

rm -f "$MAPS/.lock"
ln -s "$MM_TMP/planted" "$MAPS/.lock"
run "$B/mailmaps-sync" --once -c "$CONF"
is "$RC" 1 "a symlink at the lock: the sync fails"
like "$OUT" "\.lock: Too many levels of symbolic links" "... and says why"
[ -e "$MM_TMP/planted" ] && not_ok "... and creates nothing through it" ||
    ok "... and creates nothing through it"
rm -f "$MAPS/.lock"

chmod 0644 "$LDAP_SYNC_PW_FILE"
run "$B/mailmaps-sync" --once -c "$CONF"
is "$RC" 1 "a sync with a 0644 password file fails"
like "$OUT" "cannot read the LDAP bind password: $LDAP_SYNC_PW_FILE: the password file is open to others" \
    "... and says why"
chmod 0600 "$LDAP_SYNC_PW_FILE"

done_testing
