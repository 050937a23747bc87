# t-harness.sh - the integration harness itself: every private server starts,
# answers, and is gone again afterwards, also after a signal or a bail-out.
. "$(dirname "$0")/../lib/harness.sh"

# ---- slapd: 1,200 accounts behind the default size limit of 500
gen_users 1200 --disabled 2 --domains 3 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"
ok "slapd started on $LDAP_URI"

out=$(ldapsearch_sync -b "uid=user000120,$LDAP_PEOPLE" -s base mail mailAlias mailQuota userPassword)
like "$out" '^mail: user000120@example\.com$' "sync account finds a loaded entry"
like "$out" '^mailAlias: alias-user000120@example\.com$' "mailAlias is loaded"
like "$out" '^userPassword:: ' "sync account reads userPassword"
out=$(ldapsearch -x -LLL -H "$LDAP_URI" -b "uid=user000120,$LDAP_PEOPLE" -s base userPassword)
is "$(printf '%s\n' "$out" | grep -c '^userPassword')" 0 "anonymous does not read userPassword"

filter='(objectClass=PostfixBookMailAccount)'
# count_dns - run ldapsearch_sync ARGS; print "EXIT/NUMBER_OF_DNS"
count_dns() {
    local rc
    ldapsearch_sync "$@" >"$MM_TMP/search.out" 2>"$MM_TMP/search.err"
    rc=$?
    printf '%s/%s\n' "$rc" "$(grep -c '^dn:' "$MM_TMP/search.out")"
}
is "$(count_dns -b "$LDAP_PEOPLE" -s one "$filter" 1.1)" "4/500" "unpaged search is cut at the size limit of 500 (exit 4)"
is "$(count_dns -E pr=100/noprompt -b "$LDAP_PEOPLE" -s one "$filter" 1.1)" "0/1200" "paged search (pr=100) returns every entry to the sync account"
n=$(ldapsearch_sync -E pr=100/noprompt -b "$LDAP_PEOPLE" -s one '(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))' 1.1 | grep -c '^dn:')
is "$n" 1198 "mailEnabled=TRUE filter leaves the disabled accounts out"
check "ldapi:// answers SASL EXTERNAL" ldapwhoami -Y EXTERNAL -H "$LDAPI_URI"
check "sync account binds" ldapwhoami -x -H "$LDAP_URI" -D "$LDAP_SYNC_DN" -y "$LDAP_SYNC_PW_FILE"
check "a generated user binds with the known password" \
    ldapwhoami -x -H "$LDAP_URI" -D "uid=user000007,$LDAP_PEOPLE" -w "$MM_USER_PW"

gen_users 1 --start 5000 --prefix new >"$MM_TMP/new.ldif"
check "ldap_add_ldif adds an entry to the running slapd" ldap_add_ldif "$MM_TMP/new.ldif"
restart_slapd
n=$(ldapsearch_sync -b "uid=new005000,$LDAP_PEOPLE" -s base 1.1 | grep -c '^dn:')
is "$n" 1 "the entry survives restart_slapd"
stop_slapd

# Without the sync account's limits line, paging is capped too.
slapd_config --no-sync-limits --syncprov
slapd_load_ldif "$MM_TMP/users.ldif"
slapd_run
is "$(count_dns -E pr=100/noprompt -b "$LDAP_PEOPLE" -s one "$filter" 1.1)" "4/500" "--no-sync-limits: paged search is cut at 500 as well"
n=$(ldapsearch_sync -E sync=ro -b "$LDAP_PEOPLE" -s one "(uid=user00000*)" 1.1 | grep -c '^dn:')
is "$n" 9 "--syncprov: a refreshOnly sync search answers"
stop_slapd
slapd_pid_gone=$(pgrep -f "$SLAPD_CONF" | wc -l)
is "$slapd_pid_gone" 0 "stop_slapd leaves no slapd"

# ---- Postfix
if need_root; then
    mkdir -p "$MM_TMP/maps"
    printf 'example.com OK\nexample.net OK\n' >"$MM_TMP/maps/domains"
    postmap_conf
    check "postmap builds a cdb table" postmap -c "$PF_CONF" "cdb:$MM_TMP/maps/domains"
    start_postfix "virtual_mailbox_domains = cdb:$MM_TMP/maps/domains"
    ok "postfix started, smtpd on 127.0.0.1:$PF_SMTP_PORT"
    is "$(postmap_q example.net "cdb:$MM_TMP/maps/domains")" OK "postmap -q finds a key"
    is "$(postmap_q EXAMPLE.Com "cdb:$MM_TMP/maps/domains")" OK "postmap -q folds the query to lower case"
    postmap_q nowhere.example "cdb:$MM_TMP/maps/domains" >/dev/null
    is "$?" 1 "postmap -q: missing key exits 1"
    like "$(smtp_greeting "$PF_SMTP_PORT")" '^220 mx\.example\.test ESMTP' "smtpd greets with 220"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@client.example.test bob@example.com)" '^250 ' \
        "RCPT to a domain in the cdb table is accepted"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@client.example.test bob@elsewhere.example)" '^454 .*Relay access denied' \
        "RCPT to another domain is refused (nothing relays)"
    if command -v swaks >/dev/null 2>&1; then
        check "swaks talks to the private smtpd" swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" \
            --from a@client.example.test --to bob@example.com --quit-after RCPT
    else
        skip "swaks talks to the private smtpd" "swaks not installed"
    fi
    like "$(cat "$PF_LOG")" 'daemon started -- version 3\.' "postlogd writes the private maillog"
    master=$(_mm_postfix_master_pid)
    stop_postfix
    if _mm_alive "$master"; then not_ok "stop_postfix stops the master"; else ok "stop_postfix stops the master"; fi
else
    skip "postfix" "needs root"
fi

# ---- Dovecot
if need_root; then
    mkdir -p "$MM_TMP/auth"
    printf 'alice@example.com:{PLAIN}%s:5000:5000::%s/home/alice::\n' "$MM_USER_PW" "$MM_TMP" >"$MM_TMP/auth/passwd"
    chmod 0644 "$MM_TMP/auth/passwd"
    if dovecot_24; then
        PF_AUTH="passdb passwd-file {
  passwd_file_path = $MM_TMP/auth/passwd
}
userdb passwd-file {
  passwd_file_path = $MM_TMP/auth/passwd
}"
    else
        PF_AUTH="passdb {
  driver = passwd-file
  args = $MM_TMP/auth/passwd
}
userdb {
  driver = passwd-file
  args = $MM_TMP/auth/passwd
}"
    fi
    start_dovecot "$PF_AUTH"
    ok "dovecot started, imap on 127.0.0.1:$DC_IMAP_PORT"
    out=$(doveadm_c user -f home alice@example.com)
    is "$out" "$MM_TMP/home/alice" "doveadm user finds a passwd-file user"
    doveadm_c user nobody@example.com >/dev/null 2>&1
    is "$?" 67 "doveadm user: unknown user exits 67"
    check "doveadm auth test accepts the password" doveadm_c auth test alice@example.com "$MM_USER_PW"
    check_fails "doveadm auth test refuses a wrong password" doveadm_c auth test alice@example.com wrong
    like "$(smtp_greeting "$DC_IMAP_PORT")" '^\* OK .*ready' "imap greets"
    check "auth-userdb socket is in base_dir" test -S "$DC_BASE/auth-userdb"
    stop_dovecot
    is "$(pgrep -f "$DC_CONF" | wc -l)" 0 "stop_dovecot leaves no dovecot"

    # The hook later tests use to load an auth module under test.
    dovecot_private_auth_modules
    touch "$DC_AUTH_MODULES/mm-marker"
    start_dovecot "$PF_AUTH"
    master=$(_mm_pidfile_pid "$DC_BASE/master.pid")
    check "DOVECOT_WRAP: Dovecot sees the private auth module directory" \
        test -e "/proc/$master/root/usr/lib/dovecot/modules/auth/mm-marker"
    check_fails "... while the system's stays untouched" test -e /usr/lib/dovecot/modules/auth/mm-marker
    check "... and auth still works" doveadm_c user alice@example.com
    stop_dovecot
else
    skip "dovecot" "needs root"
fi

# ---- Redis
start_redis
is "$(redis_cli ping)" PONG "redis answers PING"
redis_cli set alice@example.com/quota/storage 1234 >/dev/null
is "$(redis-cli -s "$REDIS_SOCKET" get alice@example.com/quota/storage)" 1234 "redis unix socket works"
stop_redis
check_fails "stop_redis: nothing answers any more" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping

# ---- cleanup: a test killed midway, and one that bails out, leave nothing
# child_test MODE - run a child test that starts servers, then dies by MODE
child_test() {
    local mode=$1 info="$MM_TMP/child-$1.info"
    MAILMAPS_KEEP_TMP=0 MM_MODE=$mode MM_INFO=$info bash -c '
        . "$MM_TOP/tests/lib/harness.sh"
        start_slapd
        start_redis
        if [ "$MM_MODE" = term ] && need_root; then
            start_postfix
            if dovecot_24; then
                start_dovecot "passdb static {
  password = x
}
userdb static {
  fields {
    uid = 5000
    gid = 5000
    home = /nonexistent
  }
}"
            else
                start_dovecot "passdb {
  driver = static
  args = password=x
}
userdb {
  driver = static
  args = uid=5000 gid=5000 home=/nonexistent
}"
            fi
        fi
        sleep 600 &
        register_pid $!
        # one the test forgets: a new session, not a child of the test
        (setsid sleep 601 </dev/null >/dev/null 2>&1 & echo $! >"$MM_INFO.lost")
        echo "$MM_TMP $!" >"$MM_INFO"
        if [ "$MM_MODE" = bail ]; then fail_fast "bailing out on purpose"; fi
        wait
    ' >"$MM_TMP/child-$mode.log" 2>&1 &
    local child=$!
    wait_for 60 test -s "$info" || { not_ok "$mode: child test started"; return; }
    [ "$mode" = term ] && kill -TERM "$child"
    wait "$child"
    local rc=$? tmp sleeper
    read -r tmp sleeper <"$info"
    case "$mode" in
        term) is "$rc" 143 "SIGTERM: child test exits 143" ;;
        bail) is "$rc" 1 "fail_fast: child test exits 1" ;;
    esac
    local left
    left=$(pgrep -af "$tmp" ; _mm_alive "$sleeper" && echo "sleep $sleeper")
    is "$left" "" "$mode: no process of the child test is left"
    local lost
    read -r lost <"$info.lost"
    check_fails "$mode: one it started without register_pid is ended too" _mm_alive "$lost"
    check_fails "$mode: the child's temporary directory is removed" test -e "$tmp"
    [ "$mode" = bail ] && like "$(cat "$MM_TMP/child-$mode.log")" '^Bail out! bailing out on purpose' \
        "fail_fast prints Bail out!"
}
export MM_TOP
child_test term
child_test bail

done_testing
