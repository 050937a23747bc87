#!/usr/bin/env bash
# t-policyd-metrics - the policy daemon's counters through real requests:
# policy_metrics_file in Prometheus text (answers by action, missing
# maildirsize files, the latency histogram), the warning for a missing
# maildirsize, the flush at stop; with policy_workers = 2 the master's sum
# of both workers, kept across a worker that dies; check_mailmaps --policy.
. "$(dirname "$0")/lib.sh"

POLICYD=$MAILMAPS_BUILD/mailmaps-policyd
SYNC=$MAILMAPS_BUILD/mailmaps-sync
CHECK=$MM_TOP/contrib/monitoring/check_mailmaps
[ -x "$POLICYD" ] || skip_all "mailmaps-policyd not built"
command -v python3 >/dev/null 2>&1 || skip_all "python3 missing (test client)"
MAPS=$MM_TMP/maps
VMAIL=$MM_TMP/vmail
CONF=$MM_TMP/mailmaps.conf
PROM=$MM_TMP/textfile/mailmaps-policyd.prom
mkdir -p "$MM_TMP/textfile"
MIB=1048576

maildirsize() {
    mkdir -p "$VMAIL/example.com/$1/Maildir"
    printf '0S,0C\n%s 10\n' "$2" >"$VMAIL/example.com/$1/Maildir/maildirsize"
}
pq() { python3 "$MM_TOP/tests/tools/policy_ask.py" "$@" 2>&1; }
# metric NAME - its value in the file ("" when absent)
metric() { awk -v n="$1" '$1 == n { print $2 }' "$PROM" 2>/dev/null; }
# has_requests N - the file counts N requests
has_requests() { [ "$(metric mailmaps_policy_requests_total)" = "$1" ]; }

gen_users 4 >"$MM_TMP/users.ldif"
account_ldif full "mailQuota: 10240" >"$MM_TMP/full.ldif"
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/full.ldif"
write_policyd_conf "$CONF"
check "sync --once builds the maps" "$SYNC" -c "$CONF" --once
maildirsize full $((11 * MIB))
maildirsize user000001 1000

# ---- mailmaps check tries quota_usage on a few users
CLI=$MAILMAPS_BUILD/mailmaps
out=$("$CLI" -c "$CONF" check 2>&1)
is "$?" 0 "mailmaps check: the maps agree"
is "$(grep -c 'WARNING: quota_usage' <<<"$out")" 0 "check: maildirsize files found, no warning"
write_policyd_conf "$MM_TMP/wrong.conf" "quota_usage = maildir:%h/Mail/maildirsize"
out=$("$CLI" -c "$MM_TMP/wrong.conf" check 2>&1)
is "$?" 0 "check with a wrong quota_usage template: still exit 0"
like "$out" "WARNING: quota_usage maildir:%h/Mail/maildirsize: none of the 5 users tried has the file \\($VMAIL/example.com/[a-z0-9]*/Mail/maildirsize: No such file" \
    "… but a warning naming a file it looked for"

# ---- one process
free_port PPORT
write_policyd_conf "$CONF" "policy_listen = inet:127.0.0.1:$PPORT" "policy_metrics_file = $PROM"
# a summary line every second instead of every 300 (doc/testing.md)
MAILMAPS_TEST_STATS_LOG_EVERY=1 "$POLICYD" -f -c "$CONF" >"$MM_TMP/policyd.log" 2>&1 </dev/null &
PD_PID=$!
register_pid "$PD_PID"
wait_port "$PPORT" 10 || { _mm_log_tail "$MM_TMP/policyd.log"; fail_fast "policyd does not listen"; }
wait_for 5 test -s "$PROM"
is "$(metric mailmaps_policy_requests_total)" 0 "the file is written at start: 0 requests"
is "$(pq "$PPORT" user000001@example.com)" "action=DUNNO" "under quota"
is "$(pq "$PPORT" full@example.com)" "action=552 5.2.2 Mailbox full" "over quota"
is "$(pq "$PPORT" user000002@example.com)" "action=DUNNO" "no maildirsize: usage 0"
is "$(pq "$PPORT" nobody@example.com)" "action=DUNNO" "unknown recipient"
wait_for 15 has_requests 4 || diag "$(cat "$PROM")"
is "$(metric mailmaps_policy_requests_total)" 4 "4 requests counted (rewritten every 10 s)"
is "$(metric 'mailmaps_policy_answers_total{action="reject"}')" 1 "1 reject"
is "$(metric 'mailmaps_policy_answers_total{action="dunno"}')" 3 "3 DUNNO"
is "$(metric 'mailmaps_policy_answers_total{action="defer"}')" 0 "0 defer"
is "$(metric mailmaps_policy_usage_missing_total)" 1 "1 maildirsize missing"
is "$(metric 'mailmaps_policy_latency_seconds_bucket{le="+Inf"}')" 4 "histogram: 4 in +Inf"
is "$(metric mailmaps_policy_latency_seconds_count)" 4 "histogram count 4"
like "$(grep -c '^# TYPE mailmaps_policy_latency_seconds histogram$' "$PROM")" '^1$' "histogram TYPE line"
like "$(cat "$MM_TMP/policyd.log")" \
    "warning: recipient=<user000002@example.com>: no usage file, counted as 0 .*$VMAIL/example.com/user000002/Maildir/maildirsize" \
    "a missing maildirsize is a warning naming the file"
is "$(ls -A "$MM_TMP/textfile" | wc -l)" 1 "no temp file left beside it"
out=$(MAILMAPS=$MAILMAPS_BUILD/mailmaps sh "$CHECK" --policy "inet:127.0.0.1:$PPORT" full@example.com); rc=$?
is "$rc" 0 "check_mailmaps --policy: OK for an answer"
is "$out" "OK: mailmaps-policyd answered action=552 5.2.2 Mailbox full" "… with the answer"
out=$(MAILMAPS=$MAILMAPS_BUILD/mailmaps sh "$CHECK" -c "$CONF" --policy user000001@example.com); rc=$?
is "$rc:$out" "0:OK: mailmaps-policyd answered action=DUNNO" "… at the configuration's policy_listen"
out=$(MAILMAPS=$MAILMAPS_BUILD/mailmaps sh "$CHECK" --policy "inet:127.0.0.1:1" x@example.com); rc=$?
is "$rc" 2 "check_mailmaps --policy: CRITICAL without a daemon"
like "$out" '^CRITICAL: .*Connection refused' "… saying why"
pq "$PPORT" full@example.com >/dev/null
# summary_sums - each count of the summary lines, summed over all of them:
# requests, rejected, deferred, errors, LDAP fallbacks (failed), usage
# errors, maildirsize missing
summary_sums() {
    awk '/info: stats: last 1 s: / {
        sub(/.*stats: last 1 s: /, ""); sub(/, p99 .*/, ""); gsub(/[^0-9]+/, " ")
        for (i = 1; i <= split($0, f, " "); i++) s[i] += f[i] }
        END { for (i = 1; i <= 8; i++) printf "%d%s", s[i], i < 8 ? " " : "\n" }' \
        "$MM_TMP/policyd.log"
}
summed() { [ "$(summary_sums | cut -d' ' -f1)" = "$1" ]; }
wait_for 10 summed 7 || diag "$(grep 'stats:' "$MM_TMP/policyd.log" | tail -3)"
is "$(summary_sums)" "7 3 0 0 1 0 0 1" \
    "summary lines: 7 requests, 3 rejected, 1 LDAP fallback (nobody@), 1 maildirsize missing"
like "$(grep -m1 'info: stats:' "$MM_TMP/policyd.log")" \
    'info: stats: last 1 s: [0-9]+ requests, [0-9]+ rejected, [0-9]+ deferred, [0-9]+ errors, [0-9]+ LDAP fallbacks \([0-9]+ failed\), [0-9]+ usage errors, [0-9]+ maildirsize missing, p99 [<>]=? [0-9]+ ms$' \
    "… in the documented form"
kill -TERM "$PD_PID"
wait "$PD_PID" 2>/dev/null
is "$(metric mailmaps_policy_requests_total)" 7 "the counts at stop are written (with the checks' requests)"

# ---- two workers: the master writes their sum
WSOCK=$MM_TMP/w.sock
write_policyd_conf "$CONF" "policy_listen = unix:$WSOCK" "policy_workers = 2" \
    "policy_metrics_file = $PROM"
"$POLICYD" -f -c "$CONF" >"$MM_TMP/w.log" 2>&1 </dev/null &
WM_PID=$!
register_pid "$WM_PID"
started() { [ "$(grep -c 'info: worker started' "$MM_TMP/w.log")" -ge "$1" ]; }
wait_for 10 started 2 || { _mm_log_tail "$MM_TMP/w.log"; fail_fast "the workers do not start"; }
# 40 connections held open at once, a request on each: both workers answer
printf '%s\n' 'import os, sys' \
    'sys.path.insert(0, os.environ["MM_TOP"] + "/tests/tools")' \
    'from policy_ask import connect, read_answer, request' \
    'socks = [connect(sys.argv[1], timeout=10) for _ in range(40)]' \
    'for i, s in enumerate(socks):' \
    '    s.sendall(request("full@example.com" if i % 4 == 0 else "user000001@example.com").encode())' \
    'print(sum(1 for s in socks if read_answer(s).startswith("action=")))' >"$MM_TMP/many.py"
is "$(MM_TOP=$MM_TOP python3 "$MM_TMP/many.py" "unix:$WSOCK")" 40 "40 answers from two workers"
wait_for 15 has_requests 40 || diag "$(cat "$PROM")"
is "$(metric mailmaps_policy_requests_total)" 40 "the master's file: the sum, 40"
is "$(metric 'mailmaps_policy_answers_total{action="reject"}')" 10 "10 rejects"
W1=$(pgrep -P "$WM_PID" | head -1)
[ -n "$W1" ] && kill -KILL "$W1"
wait_for 10 started 3 || diag "no replacement worker"
is "$(pq "unix:$WSOCK" user000001@example.com)" "action=DUNNO" "answered after a worker died"
wait_for 15 has_requests 41 || diag "$(cat "$PROM")"
is "$(metric mailmaps_policy_requests_total)" 41 "a dead worker's counts stay in the sum"
kill -TERM "$WM_PID"
wait "$WM_PID" 2>/dev/null

# ---- valgrind: counting, writing the file, the flush at stop
if grep -qa __asan_init "$POLICYD"; then
    skip "valgrind" "an ASan build cannot run under valgrind"
elif command -v valgrind >/dev/null 2>&1; then
    rm -f "$PROM"
    free_port VPORT
    write_policyd_conf "$CONF" "policy_listen = inet:127.0.0.1:$VPORT" "policy_metrics_file = $PROM"
    valgrind_start "$VPORT" "$POLICYD" -f -c "$CONF"
    pq "$VPORT" full@example.com >/dev/null
    pq "$VPORT" user000003@example.com >/dev/null
    valgrind_stop
    is "$(metric mailmaps_policy_requests_total)" 2 "valgrind: the file written at stop"
else
    skip "valgrind" "not installed"
fi
done_testing
