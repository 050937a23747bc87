# t-ldapdir.sh - the directory access (maps/ldapdir) against a real slapd:
# failover, bind errors, paged searches past the server size limit, a
# truncated search that must fail, key searches (mail, alias, list, hostile
# input), SASL EXTERNAL over ldapi, reconnecting, dead servers within the
# timeout, StartTLS.
. "$(dirname "$0")/../lib/harness.sh"

LDAPDUMP=$MAILMAPS_BUILD/tests/tools/ldapdump
[ -x "$LDAPDUMP" ] || fail_fast "$LDAPDUMP is missing: make test-tools"

# ---- data: 1,200 accounts (2 disabled) plus a list of 1,001 members
gen_users 1200 --disabled 2 --domains 3 >"$MM_TMP/users.ldif"
gen_users 1001 --start 5001 --prefix big |
    sed '/^mailEnabled: /a mailGroupMember: biglist@example.com' >"$MM_TMP/big.ldif"
ENABLED=$((1198 + 1001))
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/big.ldif"

free_port DEAD_PORT    # nothing listens there
DEAD_URI="ldap://127.0.0.1:$DEAD_PORT"

# write_conf FILE URIS [name = value | -name]... - a config bound as the sync account
write_conf() {
    local file=$1 uris=$2
    shift 2
    write_mailmaps_conf "$file" "ldap_uri = $uris" "ldap_timeout = 2" "maps_dir = $MM_TMP/maps" "$@"
}

# dump CONF [ARGS...] - run ldapdump; stdout to $MM_TMP/dump.out, stderr to
# $MM_TMP/dump.err; sets RC
dump() {
    local conf=$1
    shift
    "$LDAPDUMP" -c "$conf" "$@" >"$MM_TMP/dump.out" 2>"$MM_TMP/dump.err"
    RC=$?
}

# dns - the DNs ldapdump printed, one per line
dns() {
    sed -n 's/^dn: //p' "$MM_TMP/dump.out"
}

# now_ms - wall clock in milliseconds
now_ms() {
    local t=${EPOCHREALTIME/./}
    printf '%s\n' $((t / 1000))
}

C=$MM_TMP/sync.conf
write_conf "$C" "$LDAP_URI"

# ---- the full search
dump "$C"
is "$RC" 0 "full search as the sync account succeeds"
is "$(dns | wc -l)" "$ENABLED" "every enabled account, past the server size limit of 500 (page size 1000)"
like "$(cat "$MM_TMP/dump.err")" "^ldapdump: $ENABLED entries from $LDAP_URI\$" "entry count and source URI reported"
n=$(ldapsearch_sync -E pr=500/noprompt '(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))' 1.1 | grep -c '^dn:')
is "$n" "$ENABLED" "ldapsearch agrees on the number"
cp "$MM_TMP/dump.out" "$MM_TMP/full-1000.out"
out=$(sed -n '/^dn: uid=user000120,/,/^$/p' "$MM_TMP/dump.out")
like "$out" '^mail: user000120@example\.com$' "an entry carries mail"
like "$out" '^mailAlias: alias-user000120@example\.com$' "… and mailAlias"
like "$out" '^mailQuota: 20G$' "… and mailQuota"
like "$out" '^userPassword: \{CRYPT\}' "… and userPassword (the sync account may read it)"
is "$(printf '%s\n' "$out" | grep -Ec '^(cn|sn|uid|objectClass):')" 0 "only the configured attributes are fetched"
is "$(dns | grep -c 'uid=user00119[9],\|uid=user001200,')" 0 "disabled accounts are not returned"

write_conf "$MM_TMP/p7.conf" "$LDAP_URI" "ldap_page_size = 7"
dump "$MM_TMP/p7.conf"
is "$RC" 0 "page size 7 (hundreds of pages) succeeds"
check "page size 7 returns exactly what page size 1000 does" cmp "$MM_TMP/dump.out" "$MM_TMP/full-1000.out"

dump "$C" -u -k user000120@example.com
like "$(cat "$MM_TMP/dump.out")" '^uuid: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
    "entryUUID arrives as the entry's uuid"

# ---- failover and connection errors
write_conf "$MM_TMP/failover.conf" "$DEAD_URI $LDAP_URI"
dump "$MM_TMP/failover.conf" -q
is "$RC" 0 "failover: first URI dead, second answers"
like "$(cat "$MM_TMP/dump.err")" "entries from $LDAP_URI\$" "failover: the source is the URI actually used"

write_conf "$MM_TMP/dead.conf" "$DEAD_URI ldap://127.0.0.1:1"
dump "$MM_TMP/dead.conf" -q
is "$RC" 1 "no URI answers: exit 1"
like "$(cat "$MM_TMP/dump.err")" "$DEAD_URI: Can't contact LDAP server.*; ldap://127\.0\.0\.1:1: Can't contact" \
    "the error names every URI tried and why"

printf 'wrong-password\n' >"$MM_TMP/wrong.pw"
chmod 0600 "$MM_TMP/wrong.pw"
write_conf "$MM_TMP/wrongpw.conf" "$LDAP_URI" "ldap_bind_pw_file = $MM_TMP/wrong.pw"
dump "$MM_TMP/wrongpw.conf" -q
is "$RC" 1 "wrong password: exit 1"
like "$(cat "$MM_TMP/dump.err")" "bind as $LDAP_SYNC_DN failed: Invalid credentials \(49\)" \
    "wrong password: a clear error"
write_conf "$MM_TMP/wrongpw.conf" "$LDAP_URI" "ldap_bind_pw_file = $MM_TMP/nonexistent.pw"
dump "$MM_TMP/wrongpw.conf" -q
is "$RC" 1 "missing password file: exit 1"
like "$(cat "$MM_TMP/dump.err")" "cannot read the LDAP bind password" "missing password file: says so"

# Anonymous binds get slapd's default limits: the paged search is cut at
# 500 and that must be a failure, not 500 accounts.
write_conf "$MM_TMP/anon.conf" "$LDAP_URI" -ldap_bind_dn -ldap_bind_pw_file
dump "$MM_TMP/anon.conf"
is "$RC" 1 "anonymous full search hits the size limit: exit 1"
like "$(cat "$MM_TMP/dump.err")" 'search failed after 500 entries: Size limit exceeded \(4\)' \
    "… reported as the size limit"
is "$(wc -c <"$MM_TMP/dump.out")" 0 "… and no partial result is printed"

# ---- key searches
dump "$C" -k user000120@example.com
is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "key search by mail"
dump "$C" -k USER000120@Example.COM
is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "key search ignores case (server matching rules)"
dump "$C" -k alias-user000120@example.com
is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "key search by alias"
want=$(ldapsearch_sync '(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE)(mailGroupMember=team3@example.com))' 1.1 |
       sed -n 's/^dn: //p' | sort)
dump "$C" -k team3@example.com
got=$(dns | sort)
is "$RC" 0 "key search for a list succeeds"
is "$got" "$want" "key search for a list returns its members"
[ "$(printf '%s\n' "$got" | wc -l)" -gt 5 ] && ok "… several of them" || not_ok "… several of them"
dump "$C" -k user001200@example.com
is "$RC/$(dns | wc -l)" "0/0" "a disabled account is not found"
dump "$C" -k nobody@example.com
is "$RC/$(dns | wc -l)" "0/0" "an unknown address: no entries, exit 0"
for hostile in '*)(mail=*' '*' 'user00012*' '*@example.com' '(objectClass=*)' \
               'a)(|(mail=*)' 'x\2a' 'user000120@example.com)(mail=*' "$(printf 'caf\xc3\xa9@example.com')"; do
    dump "$C" -k "$hostile"
    is "$RC/$(dns | wc -l)" "0/0" "hostile key '$hostile' matches nothing"
done
dump "$C" -k biglist@example.com
is "$RC" 1 "a list of 1,001 members exceeds the key search bound"
like "$(cat "$MM_TMP/dump.err")" 'more than 1000 entries match' "… and says so"
is "$(wc -c <"$MM_TMP/dump.out")" 0 "… with no partial result"

# ---- SASL EXTERNAL over ldapi when no bind DN is set
write_conf "$MM_TMP/ldapi.conf" "$LDAPI_URI"
sed -i '/^ldap_bind_/d' "$MM_TMP/ldapi.conf"
dump "$MM_TMP/ldapi.conf" -k alias-user000120@example.com
is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "ldapi:// without a bind DN: SASL EXTERNAL, key search works"
like "$(cat "$MM_TMP/dump.err")" "from $LDAPI_URI\$" "… source is the ldapi URI"

# ---- one long-running handle: reconnects after a restart, fails while
# the server is down, recovers afterwards (the Dovecot/policy fallbacks)
mkfifo "$MM_TMP/cmd"
"$LDAPDUMP" -c "$C" -q -i <"$MM_TMP/cmd" >"$MM_TMP/inter.out" 2>&1 &
INTER_PID=$!
register_pid "$INTER_PID"
exec 3>"$MM_TMP/cmd"
_answers=0
# _has_answers FILE N - at least N "# " lines in FILE
_has_answers() {
    [ "$(grep -c '^# ' "$1")" -ge "$2" ]
}
# ask CMD - send one command to the long-running ldapdump; its answer in
# $ANSWER (not a $(…) function: the answer count must survive)
ask() {
    _answers=$((_answers + 1))
    printf '%s\n' "$1" >&3
    ANSWER="(no answer)"
    wait_for 30 _has_answers "$MM_TMP/inter.out" "$_answers" || return 0
    ANSWER=$(grep '^# ' "$MM_TMP/inter.out" | sed -n "${_answers}p")
}
ask all
like "$ANSWER" "^# ok $ENABLED $LDAP_URI\$" "long-running: full search"
# 3>&- : slapd must not inherit the command pipe
restart_slapd 3>&-
ask 'key user000120@example.com'
like "$ANSWER" "^# ok 1 " "long-running: after a slapd restart the next search reconnects transparently"
ask all
like "$ANSWER" "^# ok $ENABLED " "long-running: full search on the new connection"
stop_slapd
ask 'key user000120@example.com'
like "$ANSWER" "^# error .*Can't contact LDAP server" "long-running: slapd down: an error, not an empty answer"
slapd_run 3>&-
ask 'key user000120@example.com'
like "$ANSWER" "^# ok 1 " "long-running: slapd back: answers again"
printf 'quit\n' >&3
exec 3>&-
wait "$INTER_PID"
is "$?" 0 "long-running ldapdump exits 0 on quit"
check_fails "no sanitizer or other complaint from the long-running run" \
    grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' "$MM_TMP/inter.out"

# ---- dead servers cost about ldap_timeout (2 s) per URI
stop_slapd
t0=$(now_ms)
dump "$C" -q
t1=$(now_ms)
is "$RC" 1 "slapd stopped: exit 1"
[ $((t1 - t0)) -lt 2500 ] && ok "slapd stopped: fails fast ($((t1 - t0)) ms)" ||
    not_ok "slapd stopped: fails fast ($((t1 - t0)) ms)"
slapd_run
# A stopped (SIGSTOP) slapd accepts TCP connections but never answers: the
# kernel completes the handshake, so only the operation timeout helps.
kill -STOP "$SLAPD_PID"
write_conf "$MM_TMP/hung.conf" "$LDAP_URI ldap://localhost:$SLAPD_PORT"
t0=$(now_ms)
dump "$MM_TMP/hung.conf" -q
t1=$(now_ms)
kill -CONT "$SLAPD_PID"
is "$RC" 1 "slapd hung: exit 1"
el=$((t1 - t0))
if [ $el -ge 3500 ] && [ $el -lt 7000 ]; then
    ok "slapd hung: about 2 s per URI for two URIs ($el ms)"
else
    not_ok "slapd hung: about 2 s per URI for two URIs ($el ms)"
fi
like "$(cat "$MM_TMP/dump.err")" "$LDAP_URI: .*; ldap://localhost:$SLAPD_PORT: " "slapd hung: both URIs named"
dump "$C" -q
is "$RC" 0 "slapd resumed: searches work again"

# ---- results that would be incomplete or empty for the wrong reason
write_conf "$MM_TMP/nobase.conf" "$LDAP_URI" "ldap_base = ou=nowhere,$LDAP_BASE"
dump "$MM_TMP/nobase.conf" -q
is "$RC" 1 "a base that does not exist: exit 1, not an empty directory"
like "$(cat "$MM_TMP/dump.err")" 'No such object \(32\)' "… reported as such"
cat >"$MM_TMP/referral.ldif" <<EOF
dn: ou=remote,$LDAP_BASE
objectClass: referral
objectClass: extensibleObject
ou: remote
ref: ldap://ldap.elsewhere.example/ou=remote,$LDAP_BASE

EOF
check "a referral object is added" ldap_add_ldif "$MM_TMP/referral.ldif"
dump "$C"
is "$RC" 1 "a subtree holding a referral: full search fails (it would be incomplete)"
like "$(cat "$MM_TMP/dump.err")" 'search reference' "… naming the referral"
is "$(wc -c <"$MM_TMP/dump.out")" 0 "… with no partial result"

# ---- without the sync account's size.prtotal exemption, paging is cut
# at 500 too: a failure, never a short success
stop_slapd
slapd_config --no-sync-limits
slapd_load_ldif "$MM_TMP/users.ldif"
slapd_run
dump "$C"
is "$RC" 1 "no size.prtotal=unlimited: full search fails"
like "$(cat "$MM_TMP/dump.err")" 'search failed after 500 entries: Size limit exceeded \(4\)' \
    "… with the size limit as the reason"
is "$(wc -c <"$MM_TMP/dump.out")" 0 "… and no partial result"
dump "$C" -k alias-user000120@example.com
is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "key searches still work under the limit"

# ---- StartTLS with a private CA
if command -v openssl >/dev/null 2>&1; then
    stop_slapd
    T=$MM_TMP/tls
    mkdir -p "$T"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mailmaps test CA" \
            -keyout "$T/ca.key" -out "$T/ca.pem"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
            -keyout "$T/server.key" -out "$T/server.csr"
        printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
        openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
            -CAcreateserial -days 2 -extfile "$T/ext" -out "$T/server.pem"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
            -keyout "$T/other.key" -out "$T/other.pem"
    } >"$T/openssl.log" 2>&1 || fail_fast "openssl could not make test certificates"
    chmod 0644 "$T"/*.key
    slapd_config
    sed -i "1i TLSCACertificateFile $T/ca.pem\nTLSCertificateFile $T/server.pem\nTLSCertificateKeyFile $T/server.key" "$SLAPD_CONF"
    slapd_load_ldif "$MM_TMP/users.ldif"
    slapd_run
    write_conf "$MM_TMP/tls.conf" "$LDAP_URI" "ldap_starttls = yes" "ldap_tls_ca_file = $T/ca.pem"
    dump "$MM_TMP/tls.conf" -k user000120@example.com
    is "$RC/$(dns)" "0/uid=user000120,$LDAP_PEOPLE" "StartTLS with ldap_tls_ca_file"
    write_conf "$MM_TMP/tls2.conf" "$LDAP_URI" "ldap_starttls = yes" "ldap_tls_ca_file = $T/other.pem"
    dump "$MM_TMP/tls2.conf" -k user000120@example.com
    is "$RC" 1 "StartTLS with the wrong CA: exit 1"
    like "$(cat "$MM_TMP/dump.err")" "$LDAP_URI: StartTLS failed" "… and says StartTLS failed"
    write_conf "$MM_TMP/tls3.conf" "$LDAP_URI" "ldap_starttls = yes" "ldap_tls_ca_file = $T/missing.pem"
    dump "$MM_TMP/tls3.conf" -k user000120@example.com
    is "$RC" 1 "StartTLS with a missing CA file: exit 1"
    like "$(cat "$MM_TMP/dump.err")" "$T/missing\.pem" "… and names the file"
else
    skip "StartTLS" "openssl not installed"
fi

done_testing
