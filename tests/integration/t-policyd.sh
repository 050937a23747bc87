#!/usr/bin/env bash
# t-policyd - mailmaps-policyd behind a real Postfix: quota refusals at RCPT
# and END-OF-MESSAGE, folder rules, aliases, unknown users; bad clients;
# SIGHUP; policy_workers (a master and two workers); Redis as the usage
# source; valgrind.
. "$(dirname "$0")/../lib/harness.sh"

policyd_test_setup
MIB=1048576


# maildirsize USER BYTES - Dovecot's file for example.com/USER
maildirsize() {
    mkdir -p "$VMAIL/example.com/$1/Maildir"
    printf '0S,0C\n%s 10\n-10 -1\n%s 0\n' "$(($2 - 100))" 110 >"$VMAIL/example.com/$1/Maildir/maildirsize"
}

# ---- directory and maps
{
    account_ldif --name Alice alice "mailQuota: 10240" "mailGroupMember: fan@example.com"
    echo
    account_ldif --name Full full "mailQuota: 10240" "mailAlias: fullalias@example.com" \
        "mailGroupMember: fan@example.com"
    echo
    account_ldif --name Eom eom "mailQuota: 10240"
} >"$MM_TMP/people.ldif"
gen_users 20 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/people.ldif" --ldif "$MM_TMP/users.ldif"
write_policyd_conf "$CONF"
sync_ok "sync --once builds the maps" "$CONF"
maildirsize alice $((5 * MIB))
maildirsize full $((10 * MIB + 1000))
maildirsize eom $((9 * MIB + MIB / 2))

# ---- the daemon
free_port PPORT
write_policyd_conf "$CONF" "policy_listen = inet:127.0.0.1:$PPORT unix:$MM_TMP/policy.sock"
check "configuration check (-n)" "$POLICYD" -n -c "$CONF"
start_policyd --port "$PPORT" "$CONF" "$MM_TMP/policyd.log"
PD_PID=$POLICYD_PID
like "$(stat -c '%a %G' "$MM_TMP/policy.sock")" '^660 root$' "unix socket mode and group"

is "$(policy_ask "$PPORT" alice@example.com)" "action=DUNNO" "policy: under quota"
is "$(policy_ask "$PPORT" full@example.com)" "action=552 5.2.2 Mailbox full" "policy: full"
is "$(policy_ask "$PPORT" Full+Junk@Example.com 1000)" "action=DUNNO" "policy: +Junk within +500M"
is "$(policy_ask "$PPORT" full@example.com 0 MAIL)" "action=DUNNO" "policy: MAIL state is not ours"
is "$(policy_ask "$PPORT" nobody@example.com)" "action=DUNNO" "policy: unknown user is Postfix's business"
is "$(policy_ask "$PPORT" eom@example.com $((2 * MIB)) END-OF-MESSAGE)" "action=552 5.2.2 Mailbox full" \
    "policy: real size at END-OF-MESSAGE"
like "$(cat "$MM_TMP/policyd.log")" "reject: recipient=<full@example.com> mailbox=full@example.com folder=INBOX usage=$((10 * MIB + 1000)) limit=$((10 * MIB)) .*instance=t.1 queue_id=Q1" \
    "one log line per rejection with the details"

# ---- Postfix asks the daemon
if need_root && command -v postfix >/dev/null 2>&1 && postconf -m 2>/dev/null | grep -qx cdb; then
    start_postfix \
        "virtual_mailbox_domains = cdb:$MAPS/domains" \
        "virtual_mailbox_maps = cdb:$MAPS/mailboxes" \
        "virtual_alias_maps = cdb:$MAPS/aliases" \
        "virtual_mailbox_base = $VMAIL" \
        "virtual_transport = discard:" \
        "recipient_delimiter = +" \
        "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$PPORT, reject_unauth_destination" \
        "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$PPORT"
    like "$(smtp_rcpt "$PF_SMTP_PORT" x@example.org alice@example.com)" '^250 ' "SMTP: under quota accepted"
    r=$(smtp_rcpt "$PF_SMTP_PORT" x@example.org full@example.com)
    like "$r" '^552 5\.2\.2 .*full@example\.com.*Mailbox full' "SMTP: full mailbox 552 5.2.2 at RCPT"
    like "$(smtp_rcpt "$PF_SMTP_PORT" x@example.org full+Junk@example.com)" '^250 ' \
        "SMTP: user+Junk accepted within +500M"
    like "$(smtp_rcpt "$PF_SMTP_PORT" x@example.org fullalias@example.com)" '^552 5\.2\.2 ' \
        "SMTP: alias of a full user refused"
    like "$(smtp_rcpt "$PF_SMTP_PORT" x@example.org fan@example.com)" '^250 ' \
        "SMTP: list of a full and a non-full user accepted"
    r=$(smtp_rcpt "$PF_SMTP_PORT" x@example.org nobody@example.com)
    like "$r" '^550 5\.1\.1 .*User unknown' "SMTP: unknown user gets Postfix's own 550"
    head -c $((2 * MIB)) /dev/zero | base64 -w 76 >"$MM_TMP/big.txt"
    swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --from x@example.org --to eom@example.com \
        --body - --suppress-data <"$MM_TMP/big.txt" >"$MM_TMP/swaks.out" 2>&1
    like "$(grep -E '^<.. [0-9]{3}' "$MM_TMP/swaks.out" | tr '\n' '|')" \
        '<.. 250 2\.1\.5 .*<.. 354 .*<.. 552 5\.2\.2 ' "SMTP: RCPT accepted, END-OF-MESSAGE refused (swaks)"
    swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --from x@example.org --to alice@example.com \
        --suppress-data >"$MM_TMP/swaks2.out" 2>&1
    like "$(grep -E '^<.. 250 .*queued' "$MM_TMP/swaks2.out")" 'queued' "SMTP: small message to alice queued (swaks)"
else
    skip "Postfix tests" "needs root and Postfix with cdb"
fi

# ---- bad clients cost only their connection
cat >"$MM_TMP/bad.py" <<'EOF'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)
def closed(s):
    s.settimeout(10)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
if what == "longline":
    s = conn(); s.sendall(b"recipient=" + b"a" * 100000); print("closed" if closed(s) else "open")
elif what == "junk":
    s = conn(); s.sendall(bytes(range(256)) * 4 + b"\n\n"); print("closed" if closed(s) else "open")
elif what == "nul":
    s = conn(); s.sendall(b"recipient=a\0b@example.com\n\n"); print("closed" if closed(s) else "open")
elif what == "manyattrs":
    s = conn(); s.sendall(b"".join(b"a%d=1\n" % i for i in range(1000))); print("closed" if closed(s) else "open")
elif what == "vanish":
    for i in range(50):
        s = conn(); s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecip"); s.close()
    print("done")
elif what == "abandon":
    socks = [conn() for i in range(500)]
    for i, s in enumerate(socks):
        if i % 2: s.sendall(b"request=smtpd_access_policy\n")
    time.sleep(0.5)
    for s in socks: s.close()
    print("done")
elif what == "pipeline":
    s = conn()
    req = b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=full@example.com\n\n"
    s.sendall(req * 100)
    buf = b""
    while buf.count(b"\n\n") < 100:
        d = s.recv(65536)
        if not d: break
        buf += d
    print(buf.count(b"action=552"))
EOF
bad() { python3 "$MM_TMP/bad.py" "$PPORT" "$1" 2>&1; }
is "$(bad longline)" closed "over-long line: connection closed"
is "$(bad junk)" closed "binary junk: connection closed"
is "$(bad nul)" closed "NUL byte: connection closed"
is "$(bad manyattrs)" closed "too many attributes: connection closed"
is "$(bad vanish)" done "clients vanishing mid-request"
is "$(bad abandon)" done "500 connections opened and abandoned"
is "$(bad pipeline)" 100 "100 pipelined requests on one connection, 100 answers"
is "$(policy_ask "$PPORT" full@example.com)" "action=552 5.2.2 Mailbox full" "still answering after the abuse"
check "daemon still running" kill -0 "$PD_PID"
n=$(grep -c 'connection closed' "$MM_TMP/policyd.log")
ok "bad clients logged without flooding ($n lines)"

# ---- SIGHUP keeps connections, picks up a new configuration
cat >"$MM_TMP/hup.py" <<'EOF'
import socket, sys, os, time, signal
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
req = b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=full@example.com\n\n"
def ask():
    s.sendall(req); buf = b""
    while not buf.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d: return "closed"
        buf += d
    return buf.decode().split("\n")[0]
a = ask()
os.kill(pid, signal.SIGHUP); time.sleep(0.5)
print(a + " | " + ask())
EOF
write_policyd_conf "$CONF" "policy_listen = inet:127.0.0.1:$PPORT unix:$MM_TMP/policy.sock" \
    "overquota_reply = 552 5.2.2 Over quota"
is "$(python3 "$MM_TMP/hup.py" "$PPORT" "$PD_PID" 2>&1)" \
    "action=552 5.2.2 Mailbox full | action=552 5.2.2 Over quota" "SIGHUP: same connection, new reply"

# ---- SIGTERM: stops, removes its unix socket
kill -TERM "$PD_PID"
_mm_wait_gone "$PD_PID" 10
wait "$PD_PID" 2>/dev/null
is "$?" 0 "SIGTERM: clean exit"
ok_gone=yes; [ -e "$MM_TMP/policy.sock" ] && ok_gone=no
is "$ok_gone" yes "SIGTERM: unix socket removed"

# ---- --stdio
r=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=full@example.com\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=alice@example.com\n\n' |
    "$POLICYD" -c "$CONF" --stdio 2>/dev/null | tr '\n' '|')
is "$r" "action=552 5.2.2 Over quota||action=DUNNO||" "--stdio answers on stdout"

# ---- policy_workers = 2: a master and two workers on one unix socket
# wc.py ADDRESS GAP REPLY PIDS... - 50 connections held open at once
# (opened GAP seconds apart, as smtpd processes come and go), a request on each (half of
# them for the full mailbox): prints the number of right answers and, per
# worker pid, the client connections it holds (its sockets but the listener)
cat >"$MM_TMP/wc.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.environ["MM_TOP"] + "/tests/tools")
from policy_ask import connect, read_answer, request
address, gap, full_reply, pids = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
socks = []
for i in range(50):
    socks.append(connect(address, timeout=10))
    time.sleep(gap)
for i, s in enumerate(socks):
    s.sendall(request("full@example.com" if i // 2 % 2 else "alice@example.com").encode())
right = 0
for i, s in enumerate(socks):
    right += read_answer(s).split("\n")[0] == ("action=" + full_reply if i // 2 % 2 else "action=DUNNO")
def conns(pid):
    n = 0
    for fd in os.listdir("/proc/%s/fd" % pid):
        try:
            n += os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n - 1
print(right, *[conns(p) for p in pids])
EOF
WCONF=$MM_TMP/workers.conf
WSOCK=$MM_TMP/w.sock
WLOG=$MM_TMP/workers.log
write_policyd_conf "$WCONF" "policy_listen = unix:$WSOCK" "policy_workers = 2"
start_policyd "$WCONF" "$WLOG"
WM_PID=$POLICYD_PID
# workers - the master's children, one pid a line
workers() { pgrep -P "$WM_PID" | sort -n; }
wait_for 10 policyd_workers_started "$WLOG" 2 || { _mm_log_tail "$WLOG"; fail_fast "the workers do not start"; }
mapfile -t W < <(workers)
is "${#W[@]}" 2 "workers: the master has two workers (${W[*]})"
like "$(cat "$WLOG")" "info: started: 2 workers, 1 listener\(s\)" "workers: the master's start line"
read -r right c1 c2 < <(MM_TOP=$MM_TOP python3 "$MM_TMP/wc.py" "unix:$WSOCK" 0.002 "552 5.2.2 Mailbox full" "${W[@]}" 2>&1)
is "$right" 50 "workers: 50 concurrent connections, 50 right answers"
# spread - both workers hold a share of the 50: spread C1 C2
spread() { [ "${1:-0}" -ge 5 ] && [ "${2:-0}" -ge 5 ] && [ $(($1 + $2)) -eq 50 ]; }
check "workers: the connections spread over both workers (${c1:-?} and ${c2:-?})" spread "$c1" "$c2"

write_policyd_conf "$WCONF" "policy_listen = unix:$WSOCK" "policy_workers = 2" \
    "overquota_reply = 552 5.2.2 Workers reloaded"
kill -HUP "$WM_PID"
# reloaded_by - worker PID has logged its reload
reloaded_by() { grep -q "^mailmaps-policyd\[$1\]: info: configuration reloaded" "$WLOG"; }
check "workers: SIGHUP reaches worker ${W[0]}" wait_for 5 reloaded_by "${W[0]}"
check "workers: SIGHUP reaches worker ${W[1]}" wait_for 5 reloaded_by "${W[1]}"

kill -KILL "${W[0]}"
# replaced - two workers again, the killed one not among them
replaced() { [ "$(workers | grep -cvx "${W[0]}")" -eq 2 ]; }
check "workers: a worker killed with SIGKILL is replaced" wait_for 5 replaced
mapfile -t N < <(workers)
like "$(cat "$WLOG")" "warning: worker ${W[0]} killed by signal 9" "workers: the master logs the death"
wait_for 5 policyd_workers_started "$WLOG" 3
read -r right c1 c2 < <(MM_TOP=$MM_TOP python3 "$MM_TMP/wc.py" "unix:$WSOCK" 0.002 "552 5.2.2 Workers reloaded" "${N[@]}" 2>&1)
is "$right" 50 "workers: right answers after the replacement (${c1:-?} and ${c2:-?} connections)"

kill -TERM "$WM_PID"
_mm_wait_gone "$WM_PID" 15
wait "$WM_PID" 2>/dev/null
is "$?" 0 "workers: SIGTERM, the master exits 0"
left=""
for p in "${N[@]}" "${W[1]}"; do _mm_alive "$p" && left="$left $p"; done
is "$left" "" "workers: no worker left behind"
ok_gone=yes; [ -e "$WSOCK" ] && ok_gone=no
is "$ok_gone" yes "workers: unix socket removed"
like "$(cat "$WLOG")" "mailmaps-policyd: info: stopped" "workers: the master's stop line"

# inet: each worker binds its own socket (SO_REUSEPORT), so even 50
# connections opened at once spread over both
free_port WPORT
write_policyd_conf "$WCONF" "policy_listen = inet:127.0.0.1:$WPORT" "policy_workers = 2"
: >"$WLOG"
start_policyd "$WCONF" "$WLOG"
WM_PID=$POLICYD_PID
wait_for 10 policyd_workers_started "$WLOG" 2 || { _mm_log_tail "$WLOG"; fail_fast "the inet workers do not start"; }
mapfile -t W < <(workers)
read -r right c1 c2 < <(MM_TOP=$MM_TOP python3 "$MM_TMP/wc.py" "$WPORT" 0 "552 5.2.2 Mailbox full" "${W[@]}" 2>&1)
is "$right" 50 "workers, inet: 50 connections opened at once, 50 right answers"
check "workers, inet: spread over both workers (${c1:-?} and ${c2:-?})" spread "$c1" "$c2"
kill -TERM "$WM_PID"
_mm_wait_gone "$WM_PID" 15
wait "$WM_PID" 2>/dev/null
is "$?" 0 "workers, inet: SIGTERM, the master exits 0"

# ---- Redis as the usage source
if command -v redis-server >/dev/null 2>&1; then
    start_redis
    free_port RPORT
    write_policyd_conf "$MM_TMP/redis.conf" "policy_listen = inet:127.0.0.1:$RPORT" \
        "quota_usage = redis:127.0.0.1:$REDIS_PORT"
    start_policyd --port "$RPORT" "$MM_TMP/redis.conf" "$MM_TMP/policyd-redis.log"
    RD_PID=$POLICYD_PID
    is "$(policy_ask "$RPORT" alice@example.com)" "action=DUNNO" "redis: missing key is usage 0"
    redis_cli SET "alice@example.com/quota/storage" $((11 * MIB)) >/dev/null
    is "$(policy_ask "$RPORT" alice@example.com)" "action=552 5.2.2 Mailbox full" "redis: counter over quota refused"
    redis_cli SET "alice@example.com/quota/storage" $((9 * MIB)) >/dev/null
    is "$(policy_ask "$RPORT" alice@example.com 1000)" "action=DUNNO" "redis: counter under quota"
    stop_redis
    is "$(policy_ask "$RPORT" alice@example.com)" "action=DUNNO" "redis down: policy_on_error (dunno)"
    start_redis
    redis_cli SET "alice@example.com/quota/storage" $((11 * MIB)) >/dev/null
    sleep 1.2
    is "$(policy_ask "$RPORT" alice@example.com)" "action=552 5.2.2 Mailbox full" "redis back: reconnected"
    _mm_stop_pid "$RD_PID" 5
else
    skip "Redis" "redis-server not installed"
fi

# ---- valgrind: no definite leaks through requests, junk, SIGHUP and SIGTERM
if grep -qa __asan_init "$POLICYD"; then
    skip "valgrind" "an ASan build cannot run under valgrind"
elif command -v valgrind >/dev/null 2>&1; then
    free_port VPORT
    write_policyd_conf "$MM_TMP/vg.conf" "policy_listen = inet:127.0.0.1:$VPORT"
    valgrind_start "$VPORT" "$POLICYD" -f -c "$MM_TMP/vg.conf"
    policy_ask "$VPORT" full@example.com >/dev/null
    policy_ask "$VPORT" fan@example.com >/dev/null
    policy_ask "$VPORT" nobody@example.com >/dev/null
    PPORT=$VPORT bad junk >/dev/null
    python3 "$MM_TMP/bad.py" "$VPORT" vanish >/dev/null 2>&1
    kill -HUP "$VG_PID"; sleep 1
    is "$(policy_ask "$VPORT" full@example.com)" "action=552 5.2.2 Mailbox full" "valgrind: answers"
    valgrind_stop
else
    skip "valgrind" "not installed"
fi

done_testing
