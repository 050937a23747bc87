#!/usr/bin/env bash
# t-policyd-slow - mailmaps-policyd with its slow sources hung: a real
# slapd and a real Redis stopped with SIGSTOP (they accept connections and
# never answer). Users in fresh maps are still answered at once while 200
# requests for addresses the maps lack wait on LDAP; those 200 are answered
# too (policy_on_error) once the LDAP breaker opens; a known user whose
# usage comes from a maildirsize never reaches a worker thread. Redis hung:
# its users get policy_on_error at once after the first timeout. A client
# that sends a request one byte at a time is cut off at the request timeout
# counted from its first byte.
. "$(dirname "$0")/../lib/harness.sh"

policyd_test_setup
command -v redis-server >/dev/null 2>&1 || skip_all "redis-server is not installed"
LOAD="$MM_TOP/tests/tools/policy_load.py"
# The goal is p99 < 10 ms (issue 12); the bound asserted leaves room for a
# loaded 2-core machine, and is still far below one LDAP timeout (3 s).
P99_MAX_MS=${MAILMAPS_SLOW_P99_MAX_MS:-50}
REQUEST_TIMEOUT=30 # SERVER_REQUEST_TIMEOUT

# p99_under LABEL OUT - OUT (policy_load latency) has p99_ms below P99_MAX_MS
p99_under() {
    local p99
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$2")
    if [ -n "$p99" ] && awk -v p="$p99" -v m="$P99_MAX_MS" 'BEGIN { exit !(p < m) }'; then
        ok "$1: known users answered with p99 ${p99} ms < ${P99_MAX_MS} ms"
    else
        not_ok "$1: known users answered with p99 < ${P99_MAX_MS} ms ($2)"
    fi
}

gen_users 20 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"
start_redis
write_policyd_conf "$MM_TMP/sync.conf"
sync_ok "sync --once builds the maps" "$MM_TMP/sync.conf"
write_maildirsize user000002 $((11 * 1024 * 1024 * 1024))
redis_cli SET "user000002@example.com/quota/storage" $((11 * 1024 * 1024 * 1024)) >/dev/null

# A: usage from maildirsize files; B: from Redis
free_port APORT
free_port BPORT
write_policyd_conf "$MM_TMP/a.conf" "policy_listen = inet:127.0.0.1:$APORT"
write_policyd_conf "$MM_TMP/b.conf" "policy_listen = inet:127.0.0.1:$BPORT" \
    "quota_usage = redis:127.0.0.1:$REDIS_PORT"
start_policyd --port "$APORT" "$MM_TMP/a.conf" "$MM_TMP/a.log" -v
A_PID=$POLICYD_PID
start_policyd --port "$BPORT" "$MM_TMP/b.conf" "$MM_TMP/b.log"
B_PID=$POLICYD_PID

OVER="action=552 5.2.2 Mailbox full"
is "$(policy_ask "$APORT" user000002@example.com)" "$OVER" "A, everything up: over quota from the maildirsize"
is "$(policy_ask "$BPORT" user000002@example.com)" "$OVER" "B, everything up: over quota from Redis"
is "$(policy_ask "$APORT" nobody@example.com)" "action=DUNNO" "A, everything up: an unknown address asked of LDAP"

# the slow client, from now on in the background
python3 "$LOAD" dribble "$APORT" 5 $((REQUEST_TIMEOUT + 20)) >"$MM_TMP/dribble.out" 2>&1 &
DRIBBLE=$!

kill -STOP "$SLAPD_PID"
KNOWN=user000001@example.com,user000002@example.com,user000003@example.com,user000004@example.com
out=$(python3 "$LOAD" latency "$APORT" 200 "$KNOWN" 1000 30 2>&1)
diag "A (maildirsize), slapd stopped, 200 unknown pending: $out"
p99_under "A, LDAP hung" "$out"
like "$out" "known_ok=1000 " "A: 1000 known users answered"
like "$out" "pending_answered=200 " "A: the 200 unknown addresses are answered (policy_on_error)"
is "$(policy_ask "$APORT" user000002@example.com)" "$OVER" "A: the over-quota user still refused"
n=$(grep -c "waits for a worker thread" "$MM_TMP/a.log")
k=$(grep "waits for a worker thread" "$MM_TMP/a.log" | grep -c "recipient=<user0000")
is "$k" 0 "A: no request for a known user reached a worker thread ($n others did)"
like "$(grep -c "LDAP unreachable (not retried yet)" "$MM_TMP/a.log")" "^[1-9]" \
    "A: unknown addresses answered without asking LDAP while it backs off"

# B: Redis hangs as well
kill -STOP "$REDIS_PID"
t0=$(date +%s%N)
first=$(policy_ask "$BPORT" user000002@example.com)
ms=$((($(date +%s%N) - t0) / 1000000))
is "$first" "action=DUNNO" "B: Redis hung: the first request gets policy_on_error (${ms} ms)"
out=$(python3 "$LOAD" latency "$BPORT" 200 "$KNOWN" 1000 30 2>&1)
diag "B (Redis), slapd and Redis stopped, 200 unknown pending: $out"
p99_under "B, LDAP and Redis hung" "$out"
like "$out" "pending_answered=200 " "B: the 200 unknown addresses are answered"

# SIGHUP while a worker thread waits on LDAP: the reload waits for it, the
# event loop does not
free_port CPORT
write_policyd_conf "$MM_TMP/c.conf" "policy_listen = inet:127.0.0.1:$CPORT"
start_policyd --port "$CPORT" "$MM_TMP/c.conf" "$MM_TMP/c.log"
C_PID=$POLICYD_PID
out=$(python3 "$LOAD" hup "$CPORT" "$C_PID" user000001@example.com 2>&1)
diag "C, SIGHUP while a thread waits on LDAP: $out"
known_ms=$(sed -n 's/.*known_ms=\([0-9.]*\).*/\1/p' <<<"$out")
if [ -n "$known_ms" ] && awk -v p="$known_ms" 'BEGIN { exit !(p < 1000) }'; then
    ok "SIGHUP during an LDAP wait: a known user answered in ${known_ms} ms"
else
    not_ok "SIGHUP during an LDAP wait: a known user answered within 1 s ($out)"
fi
like "$out" "known_ok=1 pending_answered=1" "SIGHUP during an LDAP wait: both requests answered"
wait_for 10 grep -q "configuration reloaded" "$MM_TMP/c.log"
check "SIGHUP during an LDAP wait: the configuration is reloaded after it" \
    grep -q "configuration reloaded" "$MM_TMP/c.log"
kill -TERM "$C_PID"
wait "$C_PID"
is "$?" 0 "C stops cleanly"

# both back: answers from LDAP and Redis again within the longest pause
kill -CONT "$SLAPD_PID" "$REDIS_PID"
wait_for 20 sh -c "[ \"\$(python3 '$MM_TOP/tests/tools/policy_ask.py' $BPORT user000002@example.com)\" = '$OVER' ]"
is "$(policy_ask "$BPORT" user000002@example.com)" "$OVER" "B: Redis back: over quota from Redis again"
# unknown_from_ldap ADDRESS - A's debug line says LDAP found ADDRESS unknown
unknown_from_ldap() {
    policy_ask "$APORT" "$1" >/dev/null
    tail -n 5 "$MM_TMP/a.log" | grep -q "recipient=<$1> state=RCPT: unknown recipient"
}
wait_for 20 unknown_from_ldap nobody2@example.com
check "A: LDAP back: an unknown address is found unknown by LDAP again" \
    unknown_from_ldap nobody3@example.com

# the slow client
wait "$DRIBBLE"
d=$(cat "$MM_TMP/dribble.out")
if awk -v d="$d" -v t="$REQUEST_TIMEOUT" 'BEGIN { exit !(d + 0 >= t - 1 && d + 0 <= t + 3) }'; then
    ok "a request sent a byte every 5 s is cut off ${d} s after its first byte"
else
    not_ok "a request sent a byte every 5 s is cut off ${REQUEST_TIMEOUT} s after its first byte (got: $d)"
fi
like "$(cat "$MM_TMP/a.log")" "request not finished within $REQUEST_TIMEOUT s; connection closed" \
    "the cut is logged"

kill -TERM "$A_PID" "$B_PID"
wait "$A_PID"; rc_a=$?
wait "$B_PID"; rc_b=$?
is "$rc_a/$rc_b" "0/0" "both daemons stop cleanly at SIGTERM (threads joined)"
done_testing
