#!/usr/bin/env bash
# sync - how close does a full mailmaps-sync come to the physical limit of
# exporting the directory, how much memory does it take, and how fast does
# an added account reach the maps in persist mode?
#
# A private slapd (tests/lib/) is loaded with slapadd -q with
# N accounts (MAILMAPS_BENCH_ACCOUNTS, default 1,000,000; gen_users spread
# over 100 domains). Then, in the same run and interleaved round by round:
#   - the peer: a bare paged ldapsearch of the same base, filter and
#     attributes as the sync (the default ldap_filter, the nine ldap_attr_*
#     names and entryUUID), bound as the sync account, to /dev/null;
#   - mailmaps-sync --once with the same page size over the same transport,
#     into an empty maps directory (a full write and install each time).
# Both over TCP (ldap://127.0.0.1:PORT) and over ldapi, with page sizes
# 1000 (the ldap_page_size default) and 5000. Each measurement runs
# MAILMAPS_BENCH_ROUNDS times (default 2) after one untimed warm-up search;
# the best wall time is kept (the machine is noisy). Peak RSS of the sync
# comes from GNU time (%M), else from VmHWM polled in /proc.
#
# Persist: mailmaps-sync -f with sync_mode = persist against the same slapd
# (syncprov); once its initial refresh is installed, MAILMAPS_BENCH_ADDS
# (default 100) times: ldapadd one new account, then poll postmap -q on
# mailboxes.cdb every 10 ms; the latency runs from just before ldapadd to
# the first successful lookup. Then a bulk import: one ldapadd of
# MAILMAPS_BENCH_BULK (default 10,000) accounts; reported are ldapadd's own
# time, the time until the last of them is visible and how many installs
# the daemon made of it (the goal: a few, not one per entry). Then the
# same against a directory of
# MAILMAPS_BENCH_SMALL (default 10,000) accounts for comparison: every
# change rebuilds the whole maps, so the size of the directory dominates.
#
# The full sync runs on two directory shapes (MAILMAPS_BENCH_SHAPES, default
# "postfixbook iredmail"): the Postfix Book tree above, and an iRedMail
# tree of N accounts (gen_users --iredmail, 100 domains, every other with
# an alias domain; the schema of tests/integration/iredmail-schema.ldif)
# synced with contrib/iredmail/mailmaps.conf as shipped (site names
# replaced). Its peer is the same paged ldapsearch with that sample's
# filter and the attributes the sync asks for (enabledService included,
# which the sample's alias and forward filters read); the sync's own extra
# search of the domain entries is not in the peer, so the ratio is a worst
# case. The persist measurements run on the Postfix Book shape only.
#
# Goals (from the issue): sync / ldapsearch <= 1.3; sync peak RSS <= 2x the
# total size of the four .cdb maps; persist p99 < 2 s. A missed goal is
# reported, not fatal; MAILMAPS_BENCH_STRICT=1 makes it exit 1.
#
# Usage: bash tests/bench/sync.sh   (make bench runs it via tests/bench/run)

# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"

N=${MAILMAPS_BENCH_ACCOUNTS:-1000000}
SMALL=${MAILMAPS_BENCH_SMALL:-10000}
ROUNDS=${MAILMAPS_BENCH_ROUNDS:-2}
ADDS=${MAILMAPS_BENCH_ADDS:-100}
BULK=${MAILMAPS_BENCH_BULK:-10000}
PAGES=${MAILMAPS_BENCH_PAGES:-1000 5000}
STRICT=${MAILMAPS_BENCH_STRICT:-0}
SHAPES=${MAILMAPS_BENCH_SHAPES:-postfixbook iredmail}
for v in $SHAPES; do
    case "$v" in postfixbook|iredmail) ;; *) fail_fast "MAILMAPS_BENCH_SHAPES: unknown shape '$v'" ;; esac
done
for v in N SMALL ROUNDS ADDS BULK; do
    case "${!v}" in ''|*[!0-9]*|0) fail_fast "$v must be a positive number: '${!v}'" ;; esac
done

SYNC=$MAILMAPS_BUILD/mailmaps-sync
[ -x "$SYNC" ] || skip_all "mailmaps-sync not built in $MAILMAPS_BUILD"
command -v slapd >/dev/null 2>&1 || skip_all "slapd is not installed"
command -v ldapsearch >/dev/null 2>&1 || skip_all "ldap-utils is not installed"
command -v postmap >/dev/null 2>&1 || skip_all "postfix is not installed"

# set_shape - FILTER, ATTRS and SEARCH_BASE of the peer for SHAPE
set_shape() {
    if [ "$1" = iredmail ]; then
        FILTER=$(sed -n 's/^ldap_filter = //p' "$MM_TOP/contrib/iredmail/mailmaps.conf")
        SEARCH_BASE=$(sed -n 's/^ldap_base = //p' "$MM_TOP/contrib/iredmail/mailmaps.conf")
        ATTRS=(mail shadowAddress memberOfGroup homeDirectory mailUID mailGID mailQuota
               userPassword mailForwardingAddress enabledService entryUUID)
    else
        FILTER='(&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE))'
        SEARCH_BASE=$LDAP_BASE
        ATTRS=(mail mailAlias mailGroupMember mailHomeDirectory mailStorageDirectory
               mailUidNumber mailGidNumber mailQuota userPassword entryUUID)
    fi
}
set_shape postfixbook
MAPS=$MM_TMP/maps
missed=0

# say - a progress line on stderr, with the time of day
say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# fsub - A - B for EPOCHREALTIME values, in seconds with 3 decimals
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# mib - KiB as MiB with one decimal
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    RSS_METHOD="GNU time %M"
else
    RSS_METHOD="VmHWM polled every 50 ms"
fi

# measure - run CMD with stdout to OUT and stderr to ERR; sets M_SECS (wall
# seconds), M_KB (peak RSS in KiB) and M_RC: measure OUT ERR CMD...
measure() {
    local out=$1 err=$2 t0 t1; shift 2
    if [ "$RSS_METHOD" = "GNU time %M" ]; then
        t0=$EPOCHREALTIME
        /usr/bin/time -f %M -o "$MM_TMP/time.out" "$@" >"$out" 2>"$err"
        M_RC=$?
        t1=$EPOCHREALTIME
        M_KB=$(tail -n 1 "$MM_TMP/time.out")
    else
        local pid v
        t0=$EPOCHREALTIME
        "$@" >"$out" 2>"$err" &
        pid=$!
        M_KB=0
        # VmHWM only grows and a zombie has none: the last value read is
        # the peak up to the last 50 ms.
        while v=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null) &&
              [ -n "$v" ]; do
            M_KB=$v
            sleep 0.05
        done
        wait "$pid"
        M_RC=$?
        t1=$EPOCHREALTIME
    fi
    M_SECS=$(fsub "$t1" "$t0")
}

# write_conf - FILE URI PAGE MAPS_DIR MODE [SHAPE]: the iredmail shape
# starts from contrib/iredmail/mailmaps.conf with the site names replaced
write_conf() {
    local shape=()
    [ "${6:-}" = iredmail ] &&
        mapfile -t shape < <(grep -Ev '^[[:space:]]*(#|$)' "$MM_TOP/contrib/iredmail/mailmaps.conf")
    # later lines win: the test directory's URI and bind over the sample's
    write_mailmaps_conf "$1" "${shape[@]}" "ldap_uri = $2" "ldap_bind_dn = $LDAP_SYNC_DN" \
        "ldap_bind_pw_file = $LDAP_SYNC_PW_FILE" -ldap_timeout -maps_group "ldap_page_size = $3" \
        "maps_dir = $4" "mail_base = /var/vmail" "sync_mode = $5" "sync_interval = 86400"
}

# bare_search - set SEARCH to the peer's command line: URI PAGE
# (an array, not a function: /usr/bin/time runs programs only)
bare_search() {
    SEARCH=(ldapsearch -x -LLL -H "$1" -D "$LDAP_SYNC_DN" -y "$LDAP_SYNC_PW_FILE"
            -b "$SEARCH_BASE" -E "pr=$2/noprompt" "$FILTER" "${ATTRS[@]}")
}

# maps_kb - total size of the four maps in KiB: DIR
maps_kb() {
    local f total=0 s
    for f in domains mailboxes aliases users; do
        s=$(stat -c %s "$1/$f.cdb" 2>/dev/null) || { echo 0; return; }
        total=$((total + s))
    done
    echo $((total / 1024))
}

# best - the smaller of two decimals (an empty A loses)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

# load_directory - a fresh slapd with syncprov holding COUNT accounts of
# SHAPE (default postfixbook): load_directory COUNT [SHAPE]
load_directory() {
    local count=$1 shape=${2:-postfixbook} t0 opts=()
    stop_slapd
    say "generating $count accounts ($shape)"
    if [ "$shape" = iredmail ]; then
        gen_users "$count" --domains 100 --iredmail >"$MM_TMP/users.ldif"
        opts=(--schema "$MM_TOP/tests/integration/iredmail-schema.ldif"
              --index "domainName,domainAliasName,shadowAddress,accountStatus,enabledService eq")
    else
        gen_users "$count" --domains 100 >"$MM_TMP/users.ldif"
    fi
    # mdb's maxsize is an address-space reservation, not disk: be generous
    # (1M accounts with their indexes take about 3 GB).
    local maxsize=$((2147483648 + count * 16384))
    say "slapadd -q of $count accounts"
    t0=$EPOCHREALTIME
    # --syncprov: the sync account gets size=unlimited (the persist search
    # is not paged)
    slapd_config --syncprov --maxsize "$maxsize" "${opts[@]}"
    grep -q '^limits .* size=unlimited' "$SLAPD_CONF" || fail_fast "no size limit exemption in slapd.conf"
    slapd_load_ldif "$MM_TMP/users.ldif"
    slapd_run
    LOAD_SECS=$(fsub "$EPOCHREALTIME" "$t0")
    rm -f "$MM_TMP/users.ldif"
    say "slapd up with $count accounts after ${LOAD_SECS}s (slapadd + start)"
}

# ---------------------------------------------------------------- full sync

declare -A S_SECS Y_SECS Y_KB Y_LOG DB_KB MAPS_KB MAP_SIZES USERS

# full_sync SHAPE - load N accounts of SHAPE; ROUNDS rounds of the peer and
# the sync over both transports and page sizes; results keyed SHAPE/T/PAGE
full_sync() {
    local shape=$1 round tu t uri page k users
    set_shape "$shape"
    load_directory "$N" "$shape"
    DB_KB[$shape]=$(du -sk "$SLAPD_DIR/db" | cut -f1)
    URIS=("tcp $LDAP_URI" "ldapi $LDAPI_URI")

    say "warm-up ($shape): one untimed ldapsearch"
    bare_search "$LDAP_URI" 1000
    "${SEARCH[@]}" >/dev/null 2>"$MM_TMP/warm.err" ||
        fail_fast "ldapsearch failed: $(tail -3 "$MM_TMP/warm.err")"

    for ((round = 1; round <= ROUNDS; round++)); do
        for tu in "${URIS[@]}"; do
            t=${tu%% *} uri=${tu#* }
            for page in $PAGES; do
                k="$shape/$t/$page"
                bare_search "$uri" "$page"
                measure /dev/null "$MM_TMP/search.err" "${SEARCH[@]}"
                [ "$M_RC" -eq 0 ] ||
                    fail_fast "ldapsearch $k exit $M_RC: $(tail -3 "$MM_TMP/search.err")"
                S_SECS[$k]=$(best "${S_SECS[$k]:-}" "$M_SECS")
                say "round $round $k: ldapsearch ${M_SECS}s"

                write_conf "$MM_TMP/once.conf" "$uri" "$page" "$MAPS" poll "$shape"
                # no maps in place: every timed sync writes and installs them
                # (over maps it would write alike it only compares them)
                rm -rf "$MAPS"
                measure "$MM_TMP/sync.out" "$MM_TMP/sync.err" "$SYNC" -c "$MM_TMP/once.conf" --once
                [ "$M_RC" -eq 0 ] ||
                    fail_fast "mailmaps-sync --once $k exit $M_RC: $(tail -3 "$MM_TMP/sync.err")"
                users=$(sed -n 's/^users=//p' "$MAPS/status")
                # (iredmail: alias_login adds the enabled shadow addresses)
                [ "$users" = "$N" ] || { [ "$shape" = iredmail ] && [ "$users" -gt "$N" ]; } ||
                    fail_fast "the sync has $users users, want $N"
                USERS[$shape]=$users
                if [ "$(best "${Y_SECS[$k]:-}" "$M_SECS")" = "$M_SECS" ]; then
                    Y_SECS[$k]=$M_SECS
                    Y_LOG[$k]=$(grep -m1 'sync done' "$MM_TMP/sync.err")
                fi
                [ "${Y_KB[$k]:-0}" -ge "$M_KB" ] || Y_KB[$k]=$M_KB
                say "round $round $k: mailmaps-sync --once ${M_SECS}s, peak RSS $(mib "$M_KB") MiB"
            done
        done
    done
    MAPS_KB[$shape]=$(maps_kb "$MAPS")
    MAP_SIZES[$shape]=$(cd "$MAPS" && stat -c '%n %s' domains.cdb mailboxes.cdb aliases.cdb users.cdb |
                        awk '{ printf "%s%s %.1f MiB", (NR > 1 ? ", " : ""), $1, $2 / 1048576 }')
}

case " $SHAPES " in *" postfixbook "*) full_sync postfixbook ;; esac

# ---------------------------------------------------------------- persist

# installs - how many installs the persist daemon has logged: LOG
installs() { grep -c 'persist: installed generation' "$1"; }

# installed_since - true once LOG shows more than COUNT installs
# shellcheck disable=SC2317 # called through wait_for
installed_since() { [ "$(installs "$1")" -gt "$2" ]; }

# cpu_ticks - user + system clock ticks PID has used so far
cpu_ticks() {
    local st f
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -ra f <<<"${st##*) }"
    echo $((f[11] + f[12]))
}

# wait_idle - wait until PID has used (almost) no CPU for 0.4 s, at most
# SECS; sets IDLE_AT to when it was last seen busy: wait_idle PID SECS
wait_idle() {
    local pid=$1 secs=$2 prev cur quiet=0 t0=$EPOCHREALTIME
    prev=$(cpu_ticks "$pid") || return 1
    IDLE_AT=$EPOCHREALTIME
    while [ "$quiet" -lt 2 ]; do
        sleep 0.2
        cur=$(cpu_ticks "$pid") || return 1
        # Its 200 ms tick costs far less than the 10 ms a clock tick is.
        if [ $((cur - prev)) -le 1 ]; then
            quiet=$((quiet + 1))
        else
            quiet=0
            IDLE_AT=$EPOCHREALTIME
        fi
        prev=$cur
        [ "$(fsub "$EPOCHREALTIME" "$t0" | cut -d. -f1)" -lt "$secs" ] || return 1
    done
}

# bulk_import - one ldapadd of BULK new accounts into a directory of COUNT
# (plus the ADDS before) that the persist daemon PID (logging to LOG,
# writing DIR) follows; waits for the last one to be visible and the daemon
# to settle; sets BULK_LINE[LABEL]: bulk_import LABEL COUNT PID LOG DIR LIMIT
declare -A BULK_LINE
bulk_import() {
    local label=$1 count=$2 pid=$3 log=$4 dir=$5 limit=$6 i before t0 added seen users
    for ((i = 1; i <= BULK; i++)); do account_ldif "bulk-$label-$i"; echo; done >"$MM_TMP/bulk.ldif"
    before=$(installs "$log")
    say "persist ($label): one ldapadd of $BULK accounts"
    t0=$EPOCHREALTIME
    ldap_add_ldif "$MM_TMP/bulk.ldif" || fail_fast "ldapadd of the bulk import failed"
    added=$(fsub "$EPOCHREALTIME" "$t0")
    # Changes are installed in the order they came: the last one seen means
    # all are.
    until postmap_q "bulk-$label-$BULK@example.com" "cdb:$dir/mailboxes" >/dev/null 2>&1; do
        sleep 0.05
        [ "$(fsub "$EPOCHREALTIME" "$t0" | cut -d. -f1)" -lt "$limit" ] ||
            fail_fast "persist ($label): the bulk import is not visible after ${limit}s: $(tail -3 "$log")"
    done
    seen=$(fsub "$EPOCHREALTIME" "$t0")
    wait_idle "$pid" "$limit" || fail_fast "persist ($label): the daemon never settles"
    users=$(sed -n 's/^users=//p' "$dir/status")
    [ "$users" = $((count + ADDS + BULK)) ] ||
        fail_fast "persist ($label): $users users after the bulk import, want $((count + ADDS + BULK))"
    BULK_LINE[$label]="ldapadd ${added}s, last visible after ${seen}s, $(($(installs "$log") - before)) installs"
    say "persist ($label): bulk import: ${BULK_LINE[$label]}"
}

# persist_latency - LABEL COUNT: start a persist daemon on the current slapd, add
# ADDS accounts one at a time; sets P_REFRESH, P_P50, P_P99, P_MAX,
# P_INSTALL_MS (median install time from the daemon's log), P_KB (its VmHWM)
persist_latency() {
    local label=$1 count=$2 dir=$MM_TMP/pmaps-$1 log=$MM_TMP/persist-$1.log
    local conf=$MM_TMP/persist-$1.conf pid t0 t1 i lat busy before limit
    write_conf "$conf" "$LDAP_URI" 1000 "$dir" persist
    say "persist ($label): starting the daemon on $count accounts"
    t0=$EPOCHREALTIME
    "$SYNC" -f -c "$conf" >"$log" 2>&1 &
    pid=$!
    register_pid "$pid"
    limit=$((60 + count / 2000))
    wait_for "$limit" test -f "$dir/status" ||
        fail_fast "persist ($label): no maps after ${limit}s: $(tail -3 "$log")"
    P_REFRESH=$(fsub "$EPOCHREALTIME" "$t0")
    [ "$(sed -n 's/^users=//p' "$dir/status")" = "$count" ] ||
        fail_fast "persist ($label): the refresh has $(sed -n 's/^users=//p' "$dir/status") users, want $count"
    # Let the refresh's install settle.
    wait_idle "$pid" "$limit" || fail_fast "persist ($label): the daemon never settles"
    : >"$MM_TMP/lat-$label"
    : >"$MM_TMP/add-$label"
    : >"$MM_TMP/busy-$label"
    for ((i = 1; i <= ADDS; i++)); do
        account_ldif "bench-$label-$i" >"$MM_TMP/add.ldif"
        before=$(installs "$log")
        t0=$EPOCHREALTIME
        ldap_add_ldif "$MM_TMP/add.ldif" || fail_fast "ldapadd failed"
        added=$(fsub "$EPOCHREALTIME" "$t0")     # slapd's own part
        until postmap_q "bench-$label-$i@example.com" "cdb:$dir/mailboxes" >/dev/null 2>&1; do
            sleep 0.01
            t1=$EPOCHREALTIME
            [ "$(fsub "$t1" "$t0" | cut -d. -f1)" -lt "$limit" ] ||
                fail_fast "persist ($label): add $i not visible after ${limit}s: $(tail -3 "$log")"
        done
        t1=$EPOCHREALTIME
        lat=$(fsub "$t1" "$t0")
        echo "$lat" >>"$MM_TMP/lat-$label"
        echo "$added" >>"$MM_TMP/add-$label"
        # One change at a time: wait for its install (the log line) and
        # whatever follows it (the state save) before the next add. The
        # daemon is busy that long per change however many arrive.
        wait_for "$limit" installed_since "$log" "$before" ||
            fail_fast "persist ($label): no install logged for add $i"
        wait_idle "$pid" "$limit" || fail_fast "persist ($label): the daemon never settles"
        busy=$(fsub "$IDLE_AT" "$t0")
        echo "$busy" >>"$MM_TMP/busy-$label"
        say "persist ($label): add $i visible after ${lat}s (ldapadd itself ${added}s), daemon busy ${busy}s"
    done
    bulk_import "$label" "$count" "$pid" "$log" "$dir" "$limit"
    P_KB=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
    _mm_stop_pid "$pid" 30
    # Nearest rank: with 100 samples p99 is the second largest.
    read -r P_P50 P_P99 P_MAX < <(sort -n "$MM_TMP/lat-$label" | awk '
        { v[NR] = $1 }
        END { r50 = int(NR * 0.50); if (r50 < NR * 0.50) r50++
              r99 = int(NR * 0.99); if (r99 < NR * 0.99) r99++
              print v[r50], v[r99], v[NR] }')
    P_ADD=$(sort -n "$MM_TMP/add-$label" | awk '{ v[NR] = $1 } END { printf "%s %s", v[int((NR + 1) / 2)], v[NR] }')
    P_BUSY=$(sort -n "$MM_TMP/busy-$label" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    P_MAPS_KB=$(maps_kb "$dir")
    P_INSTALL_MS=$(sed -n 's/.*persist: installed generation.* in \([0-9]*\) ms.*/\1/p' "$log" |
                   tail -n "$ADDS" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    P_COUNT=$count
}

declare -A PR
if [ -n "${DB_KB[postfixbook]:-}" ]; then
    set_shape postfixbook
    persist_latency big "$N"
    PR[big]="$P_COUNT $P_REFRESH $P_P50 $P_P99 $P_MAX $P_INSTALL_MS $P_KB $P_BUSY $P_MAPS_KB"
    ADD_BIG=$P_ADD
    if [ "$N" -gt "$SMALL" ]; then
        load_directory "$SMALL"
        persist_latency small "$SMALL"
        PR[small]="$P_COUNT $P_REFRESH $P_P50 $P_P99 $P_MAX $P_INSTALL_MS $P_KB $P_BUSY $P_MAPS_KB"
    fi
fi

case " $SHAPES " in *" iredmail "*) full_sync iredmail ;; esac

# ---------------------------------------------------------------- report

echo
echo "mailmaps-sync --once vs. a bare paged ldapsearch of the same filter and"
echo "attributes as the sync account to /dev/null (best of $ROUNDS, same run);"
echo "$N accounts in 100 domains; peak RSS: $RSS_METHOD"
for shape in $SHAPES; do
    [ -n "${DB_KB[$shape]:-}" ] || continue
    echo
    echo "$shape: slapd database $(mib "${DB_KB[$shape]}") MiB; ${USERS[$shape]} users.cdb keys"
    echo "maps: ${MAP_SIZES[$shape]}; total $(mib "${MAPS_KB[$shape]}") MiB"
    echo
    printf '%-9s %5s %12s %9s %6s %-9s %13s %10s %9s %-8s\n' \
        transport page ldapsearch_s sync_s ratio "goal<=1.3" sync_peak_MiB maps_MiB RSS/maps "goal<=2"
    for t in tcp ldapi; do
        for page in $PAGES; do
            k="$shape/$t/$page"
            read -r ratio rss_ratio < <(awk -v s="${S_SECS[$k]}" -v y="${Y_SECS[$k]}" \
                -v r="${Y_KB[$k]}" -v m="${MAPS_KB[$shape]}" \
                'BEGIN { printf "%.2f %.2f\n", y / s, (m > 0 ? r / m : 0) }')
            g1=ok g2=ok
            awk -v x="$ratio" 'BEGIN { exit !(x > 1.3) }' && { g1=MISSED; missed=1; }
            awk -v x="$rss_ratio" 'BEGIN { exit !(x > 2) }' && { g2=MISSED; missed=1; }
            printf '%-9s %5s %12s %9s %6s %-9s %13s %10s %9s %-8s\n' "$t" "$page" \
                "${S_SECS[$k]}" "${Y_SECS[$k]}" "$ratio" "$g1" "$(mib "${Y_KB[$k]}")" \
                "$(mib "${MAPS_KB[$shape]}")" "$rss_ratio" "$g2"
        done
    done
done
echo
echo "the sync's own log of its best runs:"
for k in "${!Y_LOG[@]}"; do echo "  $k: ${Y_LOG[$k]#*: }"; done | sort
[ -n "${PR[big]:-}" ] || { [ "$STRICT" = 1 ] && [ "$missed" -eq 1 ] && exit 1; exit 0; }
echo
echo "persist: ldapadd of one account -> visible to postmap -q in mailboxes.cdb"
echo "($ADDS adds, one at a time; the daemon installs after 0.1 s of quiet)"
echo
printf '%9s %10s %6s %6s %6s %-8s %11s %7s %11s %9s\n' \
    accounts refresh_s p50_s p99_s max_s "goal<2s" install_ms busy_s daemon_MiB RSS/maps
for l in big small; do
    [ -n "${PR[$l]:-}" ] || continue
    read -r c r p50 p99 mx ims kb busy mkb <<<"${PR[$l]}"
    g=ok
    awk -v x="$p99" 'BEGIN { exit !(x >= 2) }' && { g=MISSED; [ "$l" = big ] && missed=1; }
    printf '%9s %10s %6s %6s %6s %-8s %11s %7s %11s %9s\n' "$c" "$r" "$p50" "$p99" "$mx" "$g" \
        "${ims:-?}" "$busy" "$(mib "${kb:-0}")" \
        "$(awk -v r="${kb:-0}" -v m="$mkb" 'BEGIN { printf "%.2f", (m > 0 ? r / m : 0) }')"
done
echo "(ldapadd's own time at $N accounts, part of the latency: median and max ${ADD_BIG/ / and } s)"
echo "(refresh_s: daemon start to its first installed maps; install_ms: median"
echo " rebuild + install per change, from its log; busy_s: median time from the"
echo " ldapadd until the daemon is idle again (the state is saved only once"
echo " changes pause for a second); daemon_MiB: its peak RSS; p99 by nearest"
echo " rank of $ADDS samples)"
echo
echo "persist: one ldapadd of $BULK new accounts (while changes keep coming the"
echo "daemon installs at least every 3 s; goal: a few installs, not $BULK)"
for l in big small; do
    [ -n "${BULK_LINE[$l]:-}" ] || continue
    printf '%9s accounts: %s\n' "${PR[$l]%% *}" "${BULK_LINE[$l]}"
done

[ "$STRICT" = 1 ] && [ "$missed" -eq 1 ] && exit 1
exit 0
