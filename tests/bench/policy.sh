#!/usr/bin/env bash
# policy - mailmaps-policyd against Dovecot's own quota-status service: the
# same Postfix-like requests for the same users with the same usage, over
# N = 1, 50, 200 and 1,000 connections, in the same run.
#
# Data set: N accounts (MAILMAPS_BENCH_ACCOUNTS, default 1,000,000),
# user1..userN@example.com, written straight into the maps by the test tool
# mapgen (no LDAP: the maps are what a sync would write, users.cdb records
# home, uid, gid, mail, quota_rule=*:storage=10G, Trash and Junk +500M), and
# a status file with synced_at = now, so the maps are fresh. Usage: every
# SAMPLE-th user (MAILMAPS_BENCH_SAMPLE, default 10: 100,000 Maildirs, ~1.2
# GB of directories, for 1M users) has a Maildir with a maildirsize as
# Dovecot's maildir backend writes it (limits line, one "bytes count"
# line); one in a hundred of those is over quota (1% of the recipients
# are refused), the others hold 0-9.5 GB. The
# requests go to those mailboxes only (the mailboxes that get mail): for a
# user without a maildirsize Dovecot recalculates and writes one (a
# mkdir, a directory scan and a file write per request, a cost a live
# system with existing Maildirs does not have), while policyd's answer is
# one failed open(). The maps still hold all N users.
#
# The servers, both started once and running side by side:
# - mailmaps-policyd, quota_usage = maildir:%h/Maildir/maildirsize, on
#   inet:127.0.0.1; no LDAP server (every recipient is in the fresh maps);
#   policy_workers = MAILMAPS_BENCH_WORKERS (default 2: one per CPU here;
#   1 = the single-process daemon).
# - A private Dovecot 2.3 whose quota-status service is configured as
#   Dovecot's documentation says for Postfix (executable = quota-status -p
#   postfix, client_limit = 1, quota_status_success/nouser = DUNNO,
#   quota_status_overquota = "552 5.2.2 Mailbox is full"), with the quota
#   plugin (quota = maildir:User quota, quota_grace 10% as ours) and as its
#   userdb the mailmaps driver (libauthdb_mailmaps.so) on the same users.cdb:
#   the same users and quota rules, and a userdb lookup as cheap as Dovecot's
#   passwd-file (tests/bench/dovecot.sh). Tuned beyond the documentation only
#   where it would otherwise not serve the load at all: process_limit of the
#   service = the largest N (with client_limit = 1, Dovecot's default of 100
#   processes leaves every connection beyond the 100th unanswered), and
#   process_min_avail = the same, all started and waited for before the
#   first run (else they are forked during the runs); the auth service's
#   client_limit (one auth connection per quota-status process) and
#   vsz_limit (a 1M-user users.cdb is mapped).
#
# Load: build/.../tests/bench/policygen (one request in flight per
# connection, ~30 attributes per request as Postfix 3.7 sends them,
# recipients uniform over the N / SAMPLE mailboxes, sessions of 1-3 RCPTs), the same seed
# for both servers so both get the same request stream. Per connection
# count: WARMUP s (MAILMAPS_BENCH_WARMUP, default 2; quota-status forks its
# processes then) and SECS s measured (MAILMAPS_BENCH_SECS, default 10);
# MAILMAPS_BENCH_ROUNDS rounds (default 1), servers interleaved, best rate
# kept. MAILMAPS_BENCH_CONNS overrides the list "1 50 200 1000";
# MAILMAPS_BENCH_PEER=0 leaves quota-status out. MAILMAPS_BENCH_BASELINE=
# another mailmaps-policyd binary (an older build) runs beside ours on the
# same maps and configuration, measured in the same closed-loop runs.
#
# Closed loop, every connection sends its next request as soon as its
# answer is in: this measures throughput, and its latency is simply
# connections / throughput (Little's law: 200 connections at 100k/s wait
# 2 ms whatever the server). So latency is also measured at a given load:
# paced runs over PACED_CONNS connections (MAILMAPS_BENCH_PACED_CONNS,
# default 200) at each rate of MAILMAPS_BENCH_PACED (requests/s in all,
# default "200 20000 50000"), latency counted from each request's
# scheduled time. quota-status is run only at rates below 80% of its own
# closed-loop throughput at that many connections (beyond, its queue and
# latency just grow for as long as the run lasts).
#
# Goals (issue 5): mailmaps >= 20x quota-status's throughput; p99 < 1 ms at
# 200 connections; >= 100k requests/s. A missed goal is reported, not fatal;
# MAILMAPS_BENCH_STRICT=1 makes it exit 1.
#
# Usage: bash tests/bench/policy.sh   (make bench runs it via tests/bench/run)

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"

N=${MAILMAPS_BENCH_ACCOUNTS:-1000000}
SAMPLE=${MAILMAPS_BENCH_SAMPLE:-10}
SECS=${MAILMAPS_BENCH_SECS:-10}
WARMUP=${MAILMAPS_BENCH_WARMUP:-2}
ROUNDS=${MAILMAPS_BENCH_ROUNDS:-1}
CONNS_LIST=${MAILMAPS_BENCH_CONNS:-1 50 200 1000}
PACED_CONNS=${MAILMAPS_BENCH_PACED_CONNS:-200}
PACED_RATES=${MAILMAPS_BENCH_PACED:-200 20000 50000}
STRICT=${MAILMAPS_BENCH_STRICT:-0}
WORKERS=${MAILMAPS_BENCH_WORKERS:-2}
for v in N SAMPLE SECS WARMUP ROUNDS PACED_CONNS WORKERS; do
    case "${!v}" in ''|*[!0-9]*) fail_fast "$v must be a number: '${!v}'" ;; esac
done
[ "$N" -gt 0 ] && [ "$SAMPLE" -gt 0 ] && [ "$SECS" -gt 0 ] && [ "$ROUNDS" -gt 0 ] ||
    fail_fast "N, SAMPLE, SECS and ROUNDS must be positive"
MAXC=$PACED_CONNS
for r in $PACED_RATES; do
    case "$r" in ''|*[!0-9]*|0) fail_fast "MAILMAPS_BENCH_PACED: bad rate '$r'" ;; esac
done
for c in $CONNS_LIST; do
    case "$c" in ''|*[!0-9]*|0) fail_fast "MAILMAPS_BENCH_CONNS: bad count '$c'" ;; esac
    [ "$c" -gt "$MAXC" ] && MAXC=$c
done

POLICYD=$MAILMAPS_BUILD/mailmaps-policyd
MAPGEN=$MAILMAPS_BUILD/tests/tools/mapgen
GEN=$MAILMAPS_BUILD/tests/bench/policygen
PLUGIN=$MAILMAPS_BUILD/libauthdb_mailmaps.so
[ -x "$POLICYD" ] || skip_all "mailmaps-policyd not built in $MAILMAPS_BUILD"
[ -x "$MAPGEN" ] || skip_all "tests/tools/mapgen not built (make test-tools)"
[ -x "$GEN" ] || skip_all "tests/bench/policygen not built (make bench builds it)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 missing (writes the maildirsize files)"
PEER=1
why_no_peer=""
if [ "${MAILMAPS_BENCH_PEER:-1}" = 0 ]; then
    PEER=0 why_no_peer="MAILMAPS_BENCH_PEER=0"
elif ! need_root; then
    PEER=0 why_no_peer="a private Dovecot needs root"
elif [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/lib/dovecot/quota-status ]; then
    PEER=0 why_no_peer="dovecot-core (quota-status) is not installed"
elif [ ! -f "$PLUGIN" ]; then
    PEER=0 why_no_peer="libauthdb_mailmaps.so not built (make plugin)"
fi
[ "$PEER" -eq 1 ] || echo "# quota-status not measured: $why_no_peer" >&2
BASELINE=${MAILMAPS_BENCH_BASELINE:-}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || fail_fast "MAILMAPS_BENCH_BASELINE: $BASELINE is not executable"
SERVERS="mailmaps${BASELINE:+ baseline} quota-status"

# Descriptors: MAXC connections on each side of loopback, plus Dovecot's.
want_fd=$((2 * MAXC + 4096))
[ "$(ulimit -n)" -ge "$want_fd" ] || ulimit -n "$want_fd" 2>/dev/null ||
    echo "# could not raise ulimit -n to $want_fd (have $(ulimit -n))" >&2

MAPS=$MM_TMP/maps
VMAIL=$MM_TMP/vmail
CONF=$MM_TMP/mailmaps.conf
QUOTA=10737418240
missed=0

# say - a progress line on stderr, with the time of day
say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# kv - the value of NAME in a line of name=value pairs: kv LINE NAME
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# ---------------------------------------------------------------- data set

say "writing maps for $N users"
t0=$SECONDS
mkdir -p "$MAPS" "$VMAIL/example.com"
sum=$(awk -v n="$N" -v vm="$VMAIL" -v q="$QUOTA" 'BEGIN {
    print "domains\texample.com\tOK"
    for (i = 1; i <= n; i++) {
        u = "user" i
        printf "mailboxes\t%s@example.com\texample.com/%s/Maildir/\n", u, u
        printf "users\t%s@example.com\thome=%s/example.com/%s\tuid=5000\tgid=5000\tmail=maildir:%s/example.com/%s/Maildir\tquota_rule=*:storage=%sB\tquota_rule2=Trash:storage=+524288000B\tquota_rule3=Junk:storage=+524288000B\n", u, vm, u, vm, u, q
    }
}' | "$MAPGEN" "$MAPS" 2>"$MM_TMP/mapgen.err") ||
    fail_fast "mapgen failed: $(cat "$MM_TMP/mapgen.err")"
cat >"$MAPS/status" <<EOF
generation=1
synced_at=$(date +%s)
duration_ms=0
users=$N
aliases=0
domains=1
source=tests/bench/policy.sh
checksum=$sum
EOF
say "maps written in $((SECONDS - t0)) s; users.cdb $(( $(stat -c %s "$MAPS/users.cdb") / 1048576 )) MiB"

# maildirsize for every SAMPLE-th user; one in a hundred of them over quota.
python3 - "$VMAIL/example.com" "$N" "$SAMPLE" "$QUOTA" <<'EOF' || fail_fast "writing maildirsize files failed"
import os, random, sys
base, n, step, quota = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(5)
for k, i in enumerate(range(step, n + 1, step)):
    d = "%s/user%d/Maildir" % (base, i)
    os.makedirs(d, exist_ok=True)
    used = quota + rng.randrange(1, 10**8) if k % 100 == 99 else rng.randrange(0, quota * 95 // 100)
    with open(d + "/maildirsize", "w") as f:
        f.write("%dS\n%d %d\n" % (quota, used, used // 50000 + 1))
EOF
# Dovecot's quota-status runs as the mail user (uid 5000) and may write there.
chown -R 5000:5000 "$VMAIL"
chmod 0755 "$VMAIL" "$VMAIL/example.com"
say "$((N / SAMPLE)) maildirsize files written"

# ---------------------------------------------------------------- mailmaps-policyd

free_port PPORT
# no directory behind the maps: every address is in them
write_policyd_conf "$CONF" "ldap_uri = ldap://127.0.0.1:9/" -ldap_bind_dn -ldap_bind_pw_file \
    "ldap_timeout = 1" "stale_after = 86400" "quota_usage = maildir:%h/Maildir/maildirsize" \
    "overquota_reply = 552 5.2.2 Mailbox is full" "policy_listen = inet:127.0.0.1:$PPORT" \
    "policy_workers = $WORKERS"
chmod 0644 "$CONF"
"$POLICYD" -f -c "$CONF" >"$MM_TMP/policyd.log" 2>&1 </dev/null {_mm_out}>&- &
PD_PID=$!
register_pid "$PD_PID"
wait_port "$PPORT" 10 || { _mm_log_tail "$MM_TMP/policyd.log"; fail_fast "mailmaps-policyd does not listen"; }
if [ -n "$BASELINE" ]; then
    free_port BPORT
    sed "s/^policy_listen = .*/policy_listen = inet:127.0.0.1:$BPORT/" "$CONF" >"$MM_TMP/baseline.conf"
    "$BASELINE" -f -c "$MM_TMP/baseline.conf" >"$MM_TMP/baseline.log" 2>&1 </dev/null {_mm_out}>&- &
    BL_PID=$!
    register_pid "$BL_PID"
    wait_port "$BPORT" 10 || { _mm_log_tail "$MM_TMP/baseline.log"; fail_fast "the baseline does not listen"; }
fi

# ---------------------------------------------------------------- quota-status

if [ "$PEER" -eq 1 ]; then
    free_port QPORT
    dovecot_private_auth_modules "$PLUGIN"
    start_dovecot "passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = mailmaps
  args = $CONF
}" "mail_plugins = \$mail_plugins quota
plugin {
  quota = maildir:User quota
  quota_status_success = DUNNO
  quota_status_nouser = DUNNO
  quota_status_overquota = \"552 5.2.2 Mailbox is full\"
}
service quota-status {
  executable = quota-status -p postfix
  inet_listener {
    address = 127.0.0.1
    port = $QPORT
  }
  client_limit = 1
  process_limit = $MAXC
  process_min_avail = $MAXC
}
service auth {
  client_limit = $((MAXC + 100))
  vsz_limit = 4G
}
default_client_limit = $((MAXC + 100))"
    wait_port "$QPORT" 10 || { _mm_log_tail "$DC_LOG"; fail_fast "quota-status does not listen"; }
    master=$(_mm_pidfile_pid "$DC_BASE/master.pid")
    # qs_procs - how many quota-status processes the master has
    qs_procs() { pgrep -c -P "$master" -x quota-status; }
    t0=$SECONDS
    while [ "$(qs_procs)" -lt "$MAXC" ] && [ $((SECONDS - t0)) -lt 300 ]; do sleep 1; done
    say "$(qs_procs) quota-status processes up after $((SECONDS - t0)) s"
fi

# ---------------------------------------------------------------- agreement

# One request for an over-quota and an under-quota user to each server:
# both must say the same, or the comparison is meaningless.
ask() {  # PORT RCPT SIZE -> the action line
    python3 "$MM_TOP/tests/tools/policy_ask.py" "$@"
}
over=$((SAMPLE * 100))
under=$SAMPLE
[ "$over" -le "$N" ] || over=""
for srv in mailmaps quota-status; do
    [ "$srv" = quota-status ] && [ "$PEER" -eq 0 ] && continue
    port=$PPORT; [ "$srv" = quota-status ] && port=$QPORT
    a_under=$(ask "$port" "user$under@example.com" 1000 2>&1)
    a_none=$(ask "$port" "user1@example.com" 1000 2>&1)
    a_over=-; [ -n "$over" ] && a_over=$(ask "$port" "user$over@example.com" 1000 2>&1)
    say "$srv: user$under (under quota): $a_under; user1 (no Maildir): $a_none; user$over (over quota): $a_over"
    [ "$a_under" = "action=DUNNO" ] && [ "$a_none" = "action=DUNNO" ] &&
        { [ -z "$over" ] || [ "$a_over" = "action=552 5.2.2 Mailbox is full" ]; } ||
        { _mm_log_tail "$MM_TMP/policyd.log"; [ "$PEER" -eq 1 ] && _mm_log_tail "$DC_LOG"
          fail_fast "$srv does not answer as expected"; }
done

# ---------------------------------------------------------------- load

# settle - wait until at most one task is runnable (at most 10 s)
settle() {
    local i=0
    sleep 1
    while [ "$(awk '{ split($4, a, "/"); print a[1] }' /proc/loadavg)" -gt 1 ] && [ $i -lt 18 ]; do
        sleep 0.5; i=$((i + 1))
    done
}

# cpu_ticks - user + system CPU time of PID and its children (the workers,
# when there are several), clock ticks; children that have ended count
# through the parent's cutime/cstime
cpu_ticks() {
    local stats=("/proc/$1/stat") c
    for c in $(pgrep -P "$1"); do stats+=("/proc/$c/stat"); done
    awk '{ t += $14 + $15 + $16 + $17 } END { print t }' "${stats[@]}" 2>/dev/null
}
TCK=$(getconf CLK_TCK)

declare -A BEST
for ((round = 1; round <= ROUNDS; round++)); do
    for c in $CONNS_LIST; do
        for srv in $SERVERS; do
            [ "$srv" = quota-status ] && [ "$PEER" -eq 0 ] && continue
            port=$PPORT; [ "$srv" = quota-status ] && port=$QPORT
            [ "$srv" = baseline ] && port=$BPORT
            c0=$(cpu_ticks "$PD_PID")
            line=$("$GEN" -a "inet:127.0.0.1:$port" -n "$N" -k "$SAMPLE" -c "$c" -t "$SECS" -w "$WARMUP" -s 1 \
                   2>"$MM_TMP/gen.err") ||
                fail_fast "policygen against $srv failed: $(cat "$MM_TMP/gen.err")"
            # the daemon's CPU over warm-up and run, per request and as a share of one CPU
            cpu=$(awk -v t=$(( $(cpu_ticks "$PD_PID") - c0 )) -v hz="$TCK" -v s=$((SECS + WARMUP)) \
                  'BEGIN { printf "%.0f", 100 * t / hz / s }')
            [ "$srv" = mailmaps ] && line="$line cpu_pct=$cpu"
            say "round $round, $srv, $c connections: $line (load $(cut -d ' ' -f 1 /proc/loadavg))"
            _mm_alive "$PD_PID" || { _mm_log_tail "$MM_TMP/policyd.log"; fail_fast "mailmaps-policyd died"; }
            # quota-status's processes finish their abandoned requests after
            # the run: let them, so the next run starts on a quiet machine
            [ "$srv" = quota-status ] && settle
            r=$(kv "$line" rate); key="$srv/$c"
            if [ -z "${BEST[$key]:-}" ] || [ "${r%.*}" -gt "$(kv "${BEST[$key]}" rate)" ]; then
                BEST[$key]=$line
            fi
        done
    done
done

# Latency at a given load (see the top): paced runs.
declare -A PACED
for r in $PACED_RATES; do
    for srv in mailmaps quota-status; do
        [ "$srv" = quota-status ] && [ "$PEER" -eq 0 ] && continue
        port=$PPORT
        if [ "$srv" = quota-status ]; then
            port=$QPORT
            peak=$(kv "${BEST[quota-status/$PACED_CONNS]:-}" rate)
            if [ -z "$peak" ] || [ $((r * 10)) -ge $(( ${peak%.*} * 8 )) ]; then
                say "paced $r/s: quota-status not run (its closed-loop rate at $PACED_CONNS connections: ${peak:-not measured})"
                continue
            fi
        fi
        line=$("$GEN" -a "inet:127.0.0.1:$port" -n "$N" -k "$SAMPLE" -c "$PACED_CONNS" -r "$r" -t "$SECS" \
               -w "$WARMUP" -s 2 2>"$MM_TMP/gen.err") ||
            fail_fast "paced policygen against $srv failed: $(cat "$MM_TMP/gen.err")"
        say "paced $r/s, $srv, $PACED_CONNS connections: $line (load $(cut -d ' ' -f 1 /proc/loadavg))"
        [ "$srv" = quota-status ] && settle
        PACED[$srv/$r]=$line
    done
done

# Dovecot writes a maildirsize where it had to recalculate: say how many.
MDS_AFTER=$(find "$VMAIL" -name maildirsize | wc -l)

# ---------------------------------------------------------------- report

echo
echo "Postfix policy requests (RCPT, ~30 attributes), one in flight per connection;"
echo "$N users in the maps; recipients uniform over the $((N / SAMPLE)) of them with a Maildir and a"
echo "maildirsize (1 in 100 over quota; $MDS_AFTER maildirsize files after the runs)."
echo "${SECS} s per run after ${WARMUP} s warm-up, best of $ROUNDS;"
echo "$(nproc) CPUs shared by the load generator and the server ($(
    [ "$WORKERS" -gt 1 ] && echo "$WORKERS workers" || echo "one process")); load average now $(cut -d ' ' -f 1-3 /proc/loadavg)."
[ "$PEER" -eq 1 ] || echo "quota-status not measured: $why_no_peer"
echo
printf '%-6s | %-45s | %-40s | %s\n' "" "mailmaps-policyd" "Dovecot quota-status" ""
printf '%-6s | %9s %8s %8s %8s %4s %4s | %9s %8s %8s %8s %4s | %7s\n' conns \
    req/s p50_us p99_us max_us err cpu% req/s p50_us p99_us max_us err ratio
for c in $CONNS_LIST; do
    m=${BEST[mailmaps/$c]} q=${BEST[quota-status/$c]:-}
    mr=$(kv "$m" rate)
    if [ -n "$q" ]; then
        qr=$(kv "$q" rate)
        ratio=$(awk -v a="$mr" -v b="$qr" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }')
        qcols=$(printf '%9s %8s %8s %8s %4s' "$qr" "$(kv "$q" p50_us)" "$(kv "$q" p99_us)" \
                "$(kv "$q" max_us)" "$(kv "$q" errors)")
    else
        ratio=- qcols=$(printf '%9s %8s %8s %8s %4s' - - - - -)
    fi
    printf '%-6s | %9s %8s %8s %8s %4s %4s | %s | %7s\n' "$c" "$mr" "$(kv "$m" p50_us)" \
        "$(kv "$m" p99_us)" "$(kv "$m" max_us)" "$(kv "$m" errors)" "$(kv "$m" cpu_pct)" "$qcols" "$ratio"
done
if [ "$WORKERS" -gt 1 ]; then
    echo "(cpu%: mailmaps-policyd's CPU time during the run, its $WORKERS workers added up, percent"
    echo " of one CPU; the load generator and the kernel's loopback TCP share the same $(nproc) CPUs)"
else
    echo "(cpu%: mailmaps-policyd's CPU time during the run, percent of one CPU: it is one"
    echo " thread; the load generator and the kernel's loopback TCP share the other CPU)"
fi
echo
echo "latency at a given load: $PACED_CONNS connections, paced (from the scheduled time):"
printf '  %-8s | %-47s | %-47s\n' "" "mailmaps-policyd" "Dovecot quota-status"
printf '  %-8s | %9s %7s %7s %7s %6s %6s | %9s %7s %7s %7s %6s %6s\n' offered req/s p50_us p99_us max_us \
    late99 wire99 req/s p50_us p99_us max_us late99 wire99
for r in $PACED_RATES; do
    cols=()
    for srv in mailmaps quota-status; do
        l=${PACED[$srv/$r]:-}
        if [ -n "$l" ]; then
            cols+=("$(printf '%9s %7s %7s %7s %6s %6s' "$(kv "$l" rate)" "$(kv "$l" p50_us)" \
                      "$(kv "$l" p99_us)" "$(kv "$l" max_us)" "$(kv "$l" late_p99_us)" "$(kv "$l" wire_p99_us)")")
        else
            cols+=("$(printf '%9s %7s %7s %7s %6s %6s' - - - - - -)")
        fi
    done
    printf '  %-8s | %s | %s\n' "$r" "${cols[0]}" "${cols[1]}"
done
echo "  (late99: p99 of how late the load generator itself sent, included in the latencies;"
echo "   wire99: p99 counted from the first byte actually written instead)"
echo
if [ -n "$BASELINE" ]; then
    echo "baseline $BASELINE in the same runs:"
    for c in $CONNS_LIST; do
        m=${BEST[mailmaps/$c]} b=${BEST[baseline/$c]:-}
        [ -n "$b" ] || continue
        printf '  %5s conns: mailmaps %9s req/s, baseline %9s req/s, ratio %s; p99_us %s vs %s\n' "$c" \
            "$(kv "$m" rate)" "$(kv "$b" rate)" \
            "$(awk -v a="$(kv "$m" rate)" -v b="$(kv "$b" rate)" 'BEGIN { if (b > 0) printf "%.2f", a / b }')" \
            "$(kv "$m" p99_us)" "$(kv "$b" p99_us)"
    done
    echo
fi
echo "answers (dunno/reject/defer/other; active connections):"
for c in $CONNS_LIST; do
    for srv in mailmaps quota-status; do
        l=${BEST[$srv/$c]:-}
        [ -n "$l" ] || continue
        printf '  %-13s %5s conns: %s/%s/%s/%s; active %s\n' "$srv" "$c" "$(kv "$l" dunno)" \
            "$(kv "$l" reject)" "$(kv "$l" defer)" "$(kv "$l" other)" "$(kv "$l" active)"
    done
done
echo

# goal - print one goal line and count misses: goal TEXT OK(0/1)
goal() {
    if [ "$2" -eq 1 ]; then printf '  %-66s ok\n' "$1"; else printf '  %-66s MISSED\n' "$1"; missed=1; fi
}
echo "goals (issue 5):"
peak=0 peak_c=-
for c in $CONNS_LIST; do
    r=$(kv "${BEST[mailmaps/$c]}" rate)
    [ "${r%.*}" -gt "$peak" ] && peak=${r%.*} peak_c=$c
done
goal "mailmaps peak $peak requests/s at $peak_c connections (goal >= 100000)" \
    "$([ "$peak" -ge 100000 ] && echo 1 || echo 0)"
if [ -n "${BEST[mailmaps/200]:-}" ]; then
    p99=$(kv "${BEST[mailmaps/200]}" p99_us)
    echo "  (mailmaps p99 at 200 connections flat out: $p99 us = 200 / rate, Little's law)"
fi
if [ "$PACED_CONNS" = 200 ]; then
    for r in $PACED_RATES; do
        l=${PACED[mailmaps/$r]}
        p99=$(kv "$l" p99_us)
        goal "mailmaps p99 at 200 conns, $r/s offered: $p99 us (wire $(kv "$l" wire_p99_us)) (goal < 1000)" \
            "$([ "$p99" -lt 1000 ] && [ "$(kv "$l" errors)" -eq 0 ] && echo 1 || echo 0)"
    done
fi
if [ "$PEER" -eq 1 ]; then
    for c in $CONNS_LIST; do
        mr=$(kv "${BEST[mailmaps/$c]}" rate) qr=$(kv "${BEST[quota-status/$c]}" rate)
        ratio=$(awk -v a="$mr" -v b="$qr" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print 1e9 }')
        goal "throughput ratio at $c connections ${ratio}x (goal >= 20)" \
            "$(awk -v x="$ratio" 'BEGIN { print (x >= 20) }')"
    done
fi

[ "$STRICT" = 1 ] && [ "$missed" -eq 1 ] && exit 1
exit 0
