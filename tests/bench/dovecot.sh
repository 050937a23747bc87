#!/usr/bin/env bash
# dovecot - userdb lookups per second through Dovecot's auth-userdb socket
# with the mailmaps driver, against Dovecot's own ldap userdb on the same
# slapd and Dovecot's passwd-file (the in-memory ceiling of the auth
# process), on the same users; the auth process's memory; the driver's own
# lookup cost; how soon a replaced users.cdb is in use.
#
# Set-up (tests/lib/): a private slapd loaded with slapadd -q
# with N accounts (MAILMAPS_BENCH_ACCOUNTS, default 1,000,000; gen_users,
# one domain); mailmaps-sync --once makes the maps; the passwd-file is made
# from `mailmaps dump users`, so it holds the same users with the same
# fields (home, uid, gid, mail, quota_rule, quota_rule2, quota_rule3). The
# ldap userdb returns the same field names (its quota_rule is the raw
# mailQuota: Dovecot's ldap driver cannot convert kilobytes to bytes).
#
# Measurement: a private Dovecot (run with a private copy of the auth module
# directory that holds this build's libauthdb_mailmaps.so), one userdb
# driver at a time, auth_cache_size = 0, passdb static (never asked), the
# auth service's vsz_limit raised to MAILMAPS_BENCH_AUTH_VSZ (default 4G:
# Dovecot's 256M default fits neither a 1M-user passwd-file nor the mapping
# of a 1M-user users.cdb; mailmaps is also run once under the default). For
# each driver: one lookup to load it (passwd-file reads its whole file
# then: that time is reported), then build/.../tests/bench/authmaster:
# CONNS connections (MAILMAPS_BENCH_CONNS, default 8) x DEPTH pipelined
# USER requests (MAILMAPS_BENCH_DEPTH, default 64) for users drawn uniformly
# from all N, SECS seconds (MAILMAPS_BENCH_SECS, default 10) after 2 s of
# warm-up. MAILMAPS_BENCH_ROUNDS rounds (default 2), drivers interleaved,
# the best rate kept. The auth process's VmRSS (and its anonymous and
# file-backed parts: a mapped users.cdb counts as file pages, reclaimable
# page cache shared with every reader) is read right after the run.
#
# Driver's own cost: authmaster local runs the plugin's per-lookup work
# (authdb_local, authdb_record, field filter) on the same maps, without
# Dovecot. Freshness: with the mailmaps Dovecot running, a users.cdb made by
# a second sync (one user's quota changed in LDAP) is renamed over the live
# one, and authmaster swap asks for that user every 100 us until the new
# value comes back (MAILMAPS_BENCH_SWAPS times, alternating old and new
# file through hard links). The same for passwd-file, once, for comparison.
#
# Goals (issue 4): mailmaps >= passwd-file and >= 7x ldap; own lookup
# < 2 us; auth-process anonymous memory not growing with N; a new map in
# use < 1 s after its rename, without a reload. A missed goal is reported,
# not fatal; MAILMAPS_BENCH_STRICT=1 makes it exit 1.
#
# Usage: bash tests/bench/dovecot.sh   (make bench runs it via tests/bench/run)

# slapd's per-operation "stats" log would cost the ldap driver's run.
SLAPD_DEBUG=${SLAPD_DEBUG:-0}
# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"

N=${MAILMAPS_BENCH_ACCOUNTS:-1000000}
CONNS=${MAILMAPS_BENCH_CONNS:-8}
DEPTH=${MAILMAPS_BENCH_DEPTH:-64}
SECS=${MAILMAPS_BENCH_SECS:-10}
ROUNDS=${MAILMAPS_BENCH_ROUNDS:-2}
SWAPS=${MAILMAPS_BENCH_SWAPS:-5}
STRICT=${MAILMAPS_BENCH_STRICT:-0}
# Dovecot's default vsz_limit (256M) is too small for passwd-file with
# 1M users (block_alloc fails) and for mapping a 370 MB users.cdb.
VSZ=${MAILMAPS_BENCH_AUTH_VSZ:-4G}
AUTH_VSZ=$VSZ
for v in N CONNS DEPTH SECS ROUNDS SWAPS; do
    case "${!v}" in ''|*[!0-9]*|0) fail_fast "$v must be a positive number: '${!v}'" ;; esac
done

SYNC=$MAILMAPS_BUILD/mailmaps-sync
CLI=$MAILMAPS_BUILD/mailmaps
PLUGIN=$MAILMAPS_BUILD/libauthdb_mailmaps.so
AM=$MAILMAPS_BUILD/tests/bench/authmaster
{ [ -x "$SYNC" ] && [ -x "$CLI" ]; } || skip_all "mailmaps-sync or mailmaps not built in $MAILMAPS_BUILD"
[ -f "$PLUGIN" ] || skip_all "libauthdb_mailmaps.so not built (make plugin)"
[ -x "$AM" ] || skip_all "tests/bench/authmaster not built (make bench builds it)"
need_root || skip_all "a private Dovecot needs root"
command -v slapd >/dev/null 2>&1 || skip_all "slapd is not installed"
[ -x /usr/sbin/dovecot ] || skip_all "dovecot-core is not installed"
MODDIR=$(. /usr/lib/dovecot/dovecot-config 2>/dev/null && printf '%s' "${dovecot_moduledir:-}")
MODDIR=${MODDIR:-/usr/lib/dovecot/modules}
DRIVERS="mailmaps ldap passwd-file"
if dovecot_24; then
    # 2.4's ldap userdb is configured with typed settings of its own; the
    # comparison with LDAP is made on 2.3
    echo "# Dovecot $DC_VERSION: the ldap userdb is not measured (only on 2.3)" >&2
    DRIVERS="mailmaps passwd-file"
elif [ ! -f "$MODDIR/auth/libauthdb_ldap.so" ]; then
    echo "# Dovecot's ldap driver is missing (package dovecot-ldap): not measured" >&2
    DRIVERS="mailmaps passwd-file"
fi

MAPS=$MM_TMP/maps
CONF=$MM_TMP/mailmaps.conf
PWFILE=$MM_TMP/users.passwd
LDAPCONF=$MM_TMP/dovecot-ldap.conf.ext
VMAIL=/var/vmail
missed=0

# say - a progress line on stderr, with the time of day
say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# fsub - A - B for EPOCHREALTIME values, in seconds with 3 decimals
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# kv - the value of NAME in a line of name=value pairs: kv LINE NAME
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# mib - KiB as MiB with one decimal
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- directory and maps

say "generating $N accounts"
gen_users "$N" >"$MM_TMP/users.ldif"
t0=$EPOCHREALTIME
# mdb's maxsize reserves address space only (1M accounts take about 3 GB).
start_slapd --ldif "$MM_TMP/users.ldif" --maxsize $((2147483648 + N * 16384))
rm -f "$MM_TMP/users.ldif"
say "slapd up with $N accounts after $(fsub "$EPOCHREALTIME" "$t0") s"

# write_conf - a mailmaps.conf for maps in DIR, readable by Dovecot:
# write_conf FILE DIR [name = value]...
write_conf() {
    write_mailmaps_conf "$1" -ldap_timeout "ldap_page_size = 5000" "maps_dir = $2" \
        "maps_group = dovecot" "mail_base = $VMAIL" "sync_interval = 86400" \
        "stale_after = 86400" "${@:3}"
    chmod 0644 "$1"
}
write_conf "$CONF" "$MAPS"
t0=$EPOCHREALTIME
sync_once "$CONF" ||
    fail_fast "mailmaps-sync --once failed: $(tail -3 "$MM_TMP/sync.err")"
users=$(sed -n 's/^users=//p' "$MAPS/status")
[ "$users" = "$N" ] || fail_fast "the maps hold $users users, want $N"
USERS_CDB_KB=$(( $(stat -c %s "$MAPS/users.cdb") / 1024 ))
say "maps made in $(fsub "$EPOCHREALTIME" "$t0") s; users.cdb $(mib "$USERS_CDB_KB") MiB"

# The passwd-file: the same records, user:password:uid:gid::home::extra
"$CLI" -c "$CONF" dump users | awk -F '\t' '
{
    user = $1; pw = ""; uid = ""; gid = ""; home = ""; extra = ""
    for (i = 2; i <= NF; i++) {
        eq = index($i, "="); n = substr($i, 1, eq - 1); v = substr($i, eq + 1)
        if (n == "password") pw = v
        else if (n == "uid") uid = v
        else if (n == "gid") gid = v
        else if (n == "home") home = v
        else extra = extra (extra == "" ? "" : " ") "userdb_" n "=" v
    }
    printf "%s:%s:%s:%s::%s::%s\n", user, pw, uid, gid, home, extra
}' >"$PWFILE" || fail_fast "mailmaps dump users failed"
[ "$(wc -l <"$PWFILE")" -eq "$N" ] || fail_fast "the passwd-file has $(wc -l <"$PWFILE") lines, want $N"
chmod 0644 "$PWFILE"
PWFILE_KB=$(( $(stat -c %s "$PWFILE") / 1024 ))

# Dovecot's ldap userdb: the same filter and field names as the maps.
cat >"$LDAPCONF" <<EOF
uris = $LDAP_URI
dn = $LDAP_SYNC_DN
dnpass = $LDAP_SYNC_PW
ldap_version = 3
base = $LDAP_BASE
scope = subtree
deref = never
user_filter = (&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE)(mail=%u))
user_attrs = =home=%{ldap:mailHomeDirectory:$VMAIL/%d/%n}, \\
  =uid=%{ldap:mailUidNumber:5000}, =gid=%{ldap:mailGidNumber:5000}, \\
  =mail=maildir:$VMAIL/%d/%n/Maildir, \\
  =quota_rule=*:storage=%{ldap:mailQuota:10737418240B}, \\
  =quota_rule2=Trash:storage=+524288000B, =quota_rule3=Junk:storage=+524288000B
EOF
chmod 0600 "$LDAPCONF"

dovecot_private_auth_modules "$PLUGIN"

# userdb_block - the userdb { } for a driver name (the maps of $CUR_CONF,
# the passwd-file $CUR_PWFILE)
userdb_block() {
    if dovecot_24; then
        case "$1" in
            mailmaps) printf 'userdb mailmaps {\n  mailmaps_config_file = %s\n}\n' "$CUR_CONF" ;;
            passwd-file) printf 'userdb passwd-file {\n  passwd_file_path = %s\n}\n' "$CUR_PWFILE" ;;
        esac
        return
    fi
    case "$1" in
        mailmaps) printf 'userdb {\n  driver = mailmaps\n  args = %s\n}\n' "$CUR_CONF" ;;
        ldap) printf 'userdb {\n  driver = ldap\n  args = %s\n}\n' "$LDAPCONF" ;;
        passwd-file) printf 'userdb {\n  driver = passwd-file\n  args = %s\n}\n' "$CUR_PWFILE" ;;
    esac
}
CUR_CONF=$CONF CUR_PWFILE=$PWFILE

# start_driver - a private Dovecot whose userdb is driver $1; the auth
# process's vsz_limit is $AUTH_VSZ ("default": Dovecot's own, 256M)
start_driver() {
    local vsz=""
    [ "$AUTH_VSZ" = default ] || vsz="service auth {
  vsz_limit = $AUTH_VSZ
}"
    local passdb="passdb {
  driver = static
  args = nopassword=y
}"
    dovecot_24 && passdb="passdb static {
  fields {
    nopassword = yes
  }
}"
    start_dovecot "$passdb
$(userdb_block "$1")" "auth_cache_size = 0
auth_verbose = no
$vsz"
}

# auth_pid - the pid of this Dovecot's auth process (not an auth worker)
auth_pid() {
    local master
    master=$(_mm_pidfile_pid "$DC_BASE/master.pid")
    [ -n "$master" ] && pgrep -P "$master" -x auth | head -n 1
}

# rss - "VmRSS RssAnon RssFile" in KiB of PID
rss() {
    awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
         END { print r + 0, a + 0, f + 0 }' "/proc/$1/status"
}

# cpu_ticks - user + system CPU time of PID in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# first_lookup - time one lookup (loads the driver's data); sets FIRST_S
first_lookup() {
    local t0
    t0=$EPOCHREALTIME
    doveadm_c user user000001@example.com >"$MM_TMP/first.out" 2>&1 || {
        _mm_log_tail "$DC_LOG"
        fail_fast "$1: the first lookup failed: $(cat "$MM_TMP/first.out")"
    }
    FIRST_S=$(fsub "$EPOCHREALTIME" "$t0")
}

# run_driver - start Dovecot with DRIVER, load it with users 1..COUNT for
# SECS seconds, stop it. Sets M_LINE (authmaster's line), M_LOADED and
# M_AFTER (rss before and after the run), M_AUTH_US (auth process CPU per
# lookup, us), M_FIRST: run_driver DRIVER COUNT SECS
run_driver() {
    local d=$1 count=$2 secs=$3 pid c0 c1
    start_driver "$d"
    # Dovecot starts its auth process on the first connection.
    first_lookup "$d"
    M_FIRST=$FIRST_S
    pid=$(auth_pid)
    [ -n "$pid" ] || fail_fast "$d: no auth process"
    M_LOADED=$(rss "$pid")
    c0=$(cpu_ticks "$pid")
    M_LINE=$("$AM" load -s "$DC_BASE/auth-userdb" -n "$count" -c "$CONNS" -p "$DEPTH" \
             -w 2 -t "$secs" 2>"$MM_TMP/am.err") ||
        { _mm_log_tail "$DC_LOG"; fail_fast "$d: authmaster failed: $(cat "$MM_TMP/am.err")"; }
    [ "$(auth_pid)" = "$pid" ] || fail_fast "$d: the auth process changed during the run"
    c1=$(cpu_ticks "$pid")
    M_AFTER=$(rss "$pid")
    M_AUTH_US=$(awk -v c=$((c1 - c0)) -v t="$TCK" -v n="$(kv "$M_LINE" all)" \
                'BEGIN { printf "%.1f", c / t * 1e6 / n }')
    if [ "$(kv "$M_LINE" found)" -eq 0 ] || [ "$(kv "$M_LINE" notfound)" -ne 0 ] ||
        [ "$(kv "$M_LINE" fail)" -ne 0 ]; then
        fail_fast "$d: not every lookup found its user: $M_LINE"
    fi
    stop_dovecot
    # the old auth process must be gone before the next one counts
    wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
}

# ---------------------------------------------------------------- throughput

declare -A RATE RES RSS0 FIRST AUTHUS
for ((round = 1; round <= ROUNDS; round++)); do
    for d in $DRIVERS; do
        run_driver "$d" "$N" "$SECS"
        say "round $round $d: $M_LINE; first lookup ${M_FIRST}s; auth CPU ${M_AUTH_US} us/lookup; RSS loaded/after (KiB, total anon file): $M_LOADED / $M_AFTER"
        r=$(kv "$M_LINE" rate)
        if [ -z "${RATE[$d]:-}" ] || [ "$r" -gt "${RATE[$d]}" ]; then
            RATE[$d]=$r RES[$d]="$M_LINE|$M_AFTER" RSS0[$d]=$M_LOADED FIRST[$d]=$M_FIRST
            AUTHUS[$d]=$M_AUTH_US
        fi
    done
done

# mailmaps again under Dovecot's default vsz_limit (what an installation
# gets unless it raises it): a users.cdb that does not fit cannot be mapped.
AUTH_VSZ=default
run_driver mailmaps "$N" 3
AUTH_VSZ=$VSZ
DEF_LINE=$M_LINE DEF_US=$M_AUTH_US
read -r _ _ DEF_FILE <<<"$M_AFTER"
say "mailmaps, default vsz_limit: $M_LINE; auth CPU $M_AUTH_US us/lookup; RSS after: $M_AFTER"
grep -E 'mailmaps|Out of memory|Fatal' "$DC_LOG" | tail -n 5 | sed 's/^/  log: /' >&2

# ---------------------------------------------------------------- memory against N

# The same two in-memory drivers on the first 999 users only: the auth
# process's anonymous memory at 999 users against at N users.
SMALL=999
say "memory with $SMALL users"
SCONF=$MM_TMP/small.conf
write_conf "$SCONF" "$MM_TMP/smallmaps" \
    "ldap_filter = (&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE)(uid=user000*))"
sync_once --err "$MM_TMP/sync-small.err" "$SCONF" ||
    fail_fast "the small sync failed: $(tail -3 "$MM_TMP/sync-small.err")"
[ "$(sed -n 's/^users=//p' "$MM_TMP/smallmaps/status")" = "$SMALL" ] ||
    fail_fast "the small maps do not hold $SMALL users"
grep '^user000[0-9][0-9][0-9]@' "$PWFILE" >"$MM_TMP/small.passwd"
chmod 0644 "$MM_TMP/small.passwd"
CUR_CONF=$SCONF CUR_PWFILE=$MM_TMP/small.passwd
declare -A SMALL_ANON
for d in mailmaps passwd-file; do
    run_driver "$d" "$SMALL" 3
    read -r _ a _ <<<"$M_AFTER"
    SMALL_ANON[$d]=$a
    say "$SMALL users, $d: $M_LINE; RSS after (KiB, total anon file): $M_AFTER"
done
CUR_CONF=$CONF CUR_PWFILE=$PWFILE

# ---------------------------------------------------------------- driver's own cost

say "the driver's own lookup, without Dovecot"
# (on 2.4 with the translation into 2.4's field names, as the plugin does)
LOCAL=$("$AM" local -C "$CONF" -n "$N" -t 3 -V "$(dovecot_24 && echo 24 || echo 23)" \
        2>"$MM_TMP/local.err") ||
    fail_fast "authmaster local failed: $(cat "$MM_TMP/local.err")"
say "$LOCAL"

# ---------------------------------------------------------------- freshness

# A second users.cdb from a second sync, user000001's quota changed.
U=user000001@example.com
cat >"$MM_TMP/mod.ldif" <<EOF
dn: uid=user000001,$LDAP_PEOPLE
changetype: modify
replace: mailQuota
mailQuota: 1024
EOF
ldap_modify_ldif "$MM_TMP/mod.ldif" || fail_fast "ldapmodify of user000001 failed"
write_conf "$MM_TMP/mailmaps2.conf" "$MM_TMP/maps2"
sync_once --err "$MM_TMP/sync2.err" "$MM_TMP/mailmaps2.conf" ||
    fail_fast "the second sync failed: $(tail -3 "$MM_TMP/sync2.err")"
ln "$MAPS/users.cdb" "$MM_TMP/users-old.cdb"
ln "$MM_TMP/maps2/users.cdb" "$MM_TMP/users-new.cdb"
OLDV="*:storage=10737418240B" NEWV="*:storage=1048576B" QFIELD=quota_rule
# 2.4: the driver answers in 2.4's field names
dovecot_24 && OLDV=10737418240B NEWV=1048576B QFIELD=quota_storage_size

start_driver mailmaps
first_lookup mailmaps
pid=$(auth_pid)
: >"$MM_TMP/swaps"
for ((i = 1; i <= SWAPS; i++)); do
    if [ $((i % 2)) -eq 1 ]; then f=$MM_TMP/users-new.cdb v=$NEWV; else f=$MM_TMP/users-old.cdb v=$OLDV; fi
    ln -f "$f" "$MAPS/.users.cdb.swap"
    sleep 0.5
    line=$("$AM" swap -s "$DC_BASE/auth-userdb" -u "$U" -f "$QFIELD" -v "$v" -t 10 \
           "$MAPS/.users.cdb.swap" "$MAPS/users.cdb" 2>"$MM_TMP/am.err")
    say "swap $i: ${line:-$(cat "$MM_TMP/am.err")}"
    ms=$(kv "$line" swap_ms)
    echo "${ms:-never}" >>"$MM_TMP/swaps"
done
[ "$(auth_pid)" = "$pid" ] || fail_fast "the auth process was restarted during the swaps"
read -r SW_MED SW_MAX SW_NEVER < <(awk '
    $1 == "never" { never++; next } { v[++n] = $1 }
    END { if (n == 0) { print "-", "-", never + 0; exit }
          for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
          print v[int((n + 1) / 2)], v[n], never + 0 }' "$MM_TMP/swaps")
stop_dovecot

# passwd-file, once, for comparison: it notices a new file by stat()
# (at most once a second) and then reads all of it.
PW_SWAP=-
if [[ " $DRIVERS " == *" passwd-file "* ]]; then
    start_driver passwd-file
    first_lookup passwd-file
    # (a passwd-file hands its fields out as written, 2.3's names)
    PWNEWV="*:storage=1048576B"
    sed "s|^\($U:.*userdb_quota_rule=\)\*:storage=[0-9]*B|\1$PWNEWV|" "$PWFILE" >"$PWFILE.new"
    line=$("$AM" swap -s "$DC_BASE/auth-userdb" -u "$U" -f quota_rule -v "$PWNEWV" -t 30 \
           "$PWFILE.new" "$PWFILE" 2>"$MM_TMP/am.err")
    say "passwd-file swap: ${line:-$(cat "$MM_TMP/am.err")}"
    PW_SWAP=$(kv "$line" swap_ms)
    stop_dovecot
fi

# ---------------------------------------------------------------- report

echo
echo "userdb lookups through the auth-userdb socket: $N users (one domain), users drawn"
echo "uniformly; $CONNS connections x $DEPTH pipelined, ${SECS} s after 2 s warm-up, best of"
echo "$ROUNDS; auth_cache_size = 0; service auth { vsz_limit = $VSZ }; one Dovecot per driver;"
echo "$(nproc) CPUs shared by client, Dovecot and slapd. users.cdb $(mib "$USERS_CDB_KB") MiB, passwd-file $(mib "$PWFILE_KB") MiB."
echo
printf '%-12s %9s %8s %8s %8s %8s %8s %11s %8s %8s %8s\n' \
    driver lookups/s auth_us p50_us p99_us max_us first_s loaded_anon RSS_MiB anon_MiB file_MiB
for d in $DRIVERS; do
    line=${RES[$d]%|*}
    read -r rt an fl <<<"${RES[$d]#*|}"
    read -r _ ian _ <<<"${RSS0[$d]}"
    printf '%-12s %9s %8s %8s %8s %8s %8s %11s %8s %8s %8s\n' "$d" "${RATE[$d]}" \
        "${AUTHUS[$d]}" "$(kv "$line" p50_us)" "$(kv "$line" p99_us)" "$(kv "$line" max_us)" "${FIRST[$d]}" \
        "$(mib "$ian")" "$(mib "$rt")" "$(mib "$an")" "$(mib "$fl")"
done
echo "(auth_us: CPU time of the auth process per lookup (warm-up included);"
echo " p50/p99/max: latency of one request with $((CONNS * DEPTH)) in flight;"
echo " first_s: doveadm user for one user right after start (the driver loads its"
echo " data); loaded_anon: the auth process's anonymous RSS (MiB) right after that;"
echo " RSS, anon, file: after the run; file = mapped files, page cache shared with"
echo " other readers and reclaimable, not the process's own memory)"
echo
echo "mailmaps under Dovecot's default auth vsz_limit (256M), 3 s: $(kv "$DEF_LINE" rate) lookups/s,"
echo "  auth CPU $DEF_US us/lookup, mapped file pages $(mib "$DEF_FILE") MiB"
echo "  (users.cdb $(mib "$USERS_CDB_KB") MiB must fit in the auth process's address space;"
echo "   if it does not, every lookup goes to an auth worker and LDAP)"
echo

m=${RATE[mailmaps]} p=${RATE[passwd-file]} l=${RATE[ldap]:-}
# goal - print one goal line and count misses: goal TEXT OK(0/1)
goal() {
    if [ "$2" -eq 1 ]; then printf '  %-64s ok\n' "$1"; else printf '  %-64s MISSED\n' "$1"; missed=1; fi
}
r_mp=$(awk -v a="$m" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
echo "ratios and goals (issue 4):"
goal "mailmaps / passwd-file = $r_mp (goal >= 1; auth CPU ${AUTHUS[mailmaps]} vs ${AUTHUS[passwd-file]} us)" \
    "$(awk -v x="$r_mp" 'BEGIN { print (x >= 1) }')"
if [ -n "$l" ]; then
    r_ml=$(awk -v a="$m" -v b="$l" 'BEGIN { printf "%.1f", a / b }')
    r_pl=$(awk -v a="$p" -v b="$l" 'BEGIN { printf "%.1f", a / b }')
    goal "mailmaps / ldap = $r_ml (goal >= 7; passwd-file / ldap = $r_pl)" \
        "$(awk -v x="$r_ml" 'BEGIN { print (x >= 7) }')"
fi
own=$(kv "$LOCAL" mean_ns)
goal "driver's own lookup: mean $own ns, p99 $(kv "$LOCAL" p99_ns) ns (goal < 2000)" \
    "$(awk -v x="$own" 'BEGIN { print (x < 2000) }')"
read -r _ ma _ <<<"${RES[mailmaps]#*|}"
read -r _ pa _ <<<"${RES[passwd-file]#*|}"
sm=${SMALL_ANON[mailmaps]} sp=${SMALL_ANON[passwd-file]}
goal "auth anon memory, $SMALL -> $N users: mailmaps $(mib "$sm") -> $(mib "$ma") MiB" \
    "$(awk -v a="$sm" -v b="$ma" 'BEGIN { print (b - a < 1024) }')"
echo "    (passwd-file $(mib "$sp") -> $(mib "$pa") MiB; goal: mailmaps grows < 1 MiB;"
echo "     users.cdb is mapped: its pages are file-backed page cache, column file_MiB)"
goal "new users.cdb in use after its rename: median $SW_MED ms, max $SW_MAX ms, never $SW_NEVER of $SWAPS" \
    "$(awk -v x="$SW_MAX" -v nv="$SW_NEVER" 'BEGIN { print (nv == 0 && x != "-" && x < 1000) }')"
echo "    (no reload; the same auth process throughout; passwd-file for comparison: ${PW_SWAP:-never} ms)"

[ "$STRICT" = 1 ] && [ "$missed" -eq 1 ] && exit 1
exit 0
