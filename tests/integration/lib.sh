# tests/integration/lib.sh - the harness every tests/integration/t-*.sh sources.
#
#   . "$(dirname "$0")/lib.sh"
#
# Gives a private temporary directory ($MM_TMP), free loopback ports, TAP
# output, and private instances of slapd, Postfix, Dovecot and Redis that
# never touch a system port or a system configuration file. Everything
# started here is stopped by an EXIT/INT/TERM trap, also when a test fails
# midway; the directory is removed unless MAILMAPS_KEEP_TMP=1.
#
# TAP:      ok DESC | not_ok DESC | check DESC CMD... | check_fails DESC CMD...
#           is GOT WANT DESC | like GOT ERE DESC | skip DESC [REASON]
#           diag MSG | fail_fast MSG | skip_all REASON | done_testing
# Helpers:  free_port VAR | wait_for SECS CMD... | wait_port PORT [SECS]
#           valgrind_start PORT CMD... / valgrind_stop
#           register_pid PID | register_pidfile FILE | need_root
#           smtp_rcpt PORT FROM RCPT [SIZE] | smtp_greeting PORT
# Servers:  start_slapd / stop_slapd / restart_slapd, slapd_load_ldif,
#           ldap_add_ldif, ldap_modify_ldif, ldapsearch_sync, gen_users
#           start_postfix / stop_postfix / postfix_reload, postmap_q, postmap_conf
#           start_dovecot / stop_dovecot, doveadm_c, dovecot_private_auth_modules,
#           dovecot_24, dovecot_auth_conf, dovecot_quota_conf, imap_login
#           start_redis / stop_redis, start_redis_more, redis_cli
#
# The harness does not set -e or -u for the test; it is written to work
# under both.

MM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MAILMAPS_BUILD=${MAILMAPS_BUILD:-$MM_TOP/build/release}
export MM_TOP MAILMAPS_BUILD

# Short on purpose: unix socket paths are limited to 107 bytes.
MM_TMP=$(mktemp -d /tmp/mm.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
# Postfix and Dovecot daemons run as their own users and must reach into it.
chmod 0755 "$MM_TMP"
export MM_TMP

# Password of every user gen_users writes, and its hash (SHA512-CRYPT,
# understood by slapd's {CRYPT} and by Dovecot). Fixed, so that the same
# directory yields byte-identical maps from run to run.
MM_USER_PW=secret
# shellcheck disable=SC2016 # the $ are part of the hash
MM_USER_PW_HASH='{CRYPT}$6$ggehCzBareJdv.1Z$x3fxJLCREtRhVZEXdHtEFP5CbIaDa82bguIumE9eIToSTByaW17pV8Q/c5sh1JCS88M9tVkwGuIw/d3UMpLQW1'
export MM_USER_PW MM_USER_PW_HASH

# The test's own stdout: the exit trap and fail_fast may run inside a
# function whose output a check redirects, and must still reach TAP.
exec {_mm_out}>&1
_mm_n=0          # TAP test number
_mm_failed=0     # failed checks so far
_mm_ports=" "    # ports handed out by free_port in this test
_mm_pids=()      # extra processes to stop at exit (register_pid)
_mm_pidfiles=()  # pid files whose process is stopped at exit
_mm_done=0       # done_testing was called
_mm_cleaned=0

# ---------------------------------------------------------------- TAP

# diag - a TAP comment line (shown by tests/run when a test fails)
diag() {
    local line
    while IFS= read -r line; do printf '# %s\n' "$line"; done <<<"$*"
}

# ok - record a passing check
ok() {
    _mm_n=$((_mm_n + 1))
    printf 'ok %d - %s\n' "$_mm_n" "$*"
}

# not_ok - record a failing check
not_ok() {
    _mm_n=$((_mm_n + 1))
    _mm_failed=$((_mm_failed + 1))
    printf 'not ok %d - %s\n' "$_mm_n" "$*"
}

# skip - record a skipped check: skip DESC [REASON]
skip() {
    _mm_n=$((_mm_n + 1))
    printf 'ok %d - %s # SKIP %s\n' "$_mm_n" "$1" "${2:-$1}"
}

# is - pass when GOT equals WANT: is GOT WANT DESC
is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        diag "got:  '$1'" "want: '$2'"
        return 1
    fi
}

# like - pass when GOT matches the extended regex ERE: like GOT ERE DESC
like() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        ok "$3"
    else
        not_ok "$3"
        diag "got:  '$1'" "want match: $2"
        return 1
    fi
}

# check - run CMD; pass when it exits 0, else show its output: check DESC CMD...
check() {
    local desc=$1; shift
    if "$@" >"$MM_TMP/check.out" 2>&1; then
        ok "$desc"
    else
        local rc=$?
        not_ok "$desc"
        diag "command: $*" "exit: $rc"
        diag "$(tail -n 20 "$MM_TMP/check.out")"
        return 1
    fi
}

# check_fails - run CMD; pass when it exits non-zero: check_fails DESC CMD...
check_fails() {
    local desc=$1; shift
    if "$@" >"$MM_TMP/check.out" 2>&1; then
        not_ok "$desc"
        diag "command: $*" "exit 0 but a failure was expected"
        diag "$(tail -n 20 "$MM_TMP/check.out")"
        return 1
    fi
    ok "$desc"
}

# fail_fast - abandon the whole test (TAP "Bail out!"); cleanup still runs
fail_fast() {
    _mm_failed=$((_mm_failed + 1))
    printf 'Bail out! %s\n' "$*" >&"$_mm_out"
    exit 1
}

# skip_all - nothing here can run on this machine: a plan of 0 and exit 0
skip_all() {
    printf '1..0 # SKIP %s\n' "$*"
    _mm_done=1
    exit 0
}

# done_testing - print the plan and exit 0 only when every check passed
done_testing() {
    printf '1..%d\n' "$_mm_n"
    _mm_done=1
    [ "$_mm_failed" -eq 0 ] && exit 0
    exit 1
}

# need_root - true when running as root (Postfix and Dovecot need it)
need_root() {
    [ "$(id -u)" -eq 0 ]
}

# ---------------------------------------------------------------- processes

# _mm_alive - true while PID runs (a zombie counts as gone)
_mm_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case "$st" in Z*|"") return 1 ;; esac
    return 0
}

# _mm_stop_pid - TERM, wait up to SECS (default 10), then KILL: _mm_stop_pid PID [SECS]
_mm_stop_pid() {
    local pid=$1 secs=${2:-10} i=0
    [ -n "$pid" ] || return 0
    _mm_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    # A test may have stopped it (kill -STOP) to simulate a hung server.
    kill -CONT "$pid" 2>/dev/null
    while _mm_alive "$pid" && [ $i -lt $((secs * 10)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    if _mm_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        sleep 0.1
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# _mm_wait_gone - wait up to SECS for PID to exit by itself
_mm_wait_gone() {
    local pid=$1 secs=${2:-10} i=0
    while _mm_alive "$pid" && [ $i -lt $((secs * 10)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    ! _mm_alive "$pid"
}

# _mm_pidfile_pid - the pid in FILE, or nothing
_mm_pidfile_pid() {
    [ -r "$1" ] || return 0
    local pid
    read -r pid <"$1" 2>/dev/null || true
    case "$pid" in ''|*[!0-9]*) return 0 ;; esac
    printf '%s\n' "$pid"
}

# register_pid - stop PID (TERM, then KILL) when the test ends
register_pid() {
    _mm_pids+=("$1")
}

# register_pidfile - stop the process named in FILE when the test ends
register_pidfile() {
    _mm_pidfiles+=("$1")
}

# wait_for - poll CMD every 0.1 s until it succeeds or SECS pass: wait_for SECS CMD...
wait_for() {
    local secs=$1 i=0; shift
    while [ $i -lt $((secs * 10)) ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    "$@" >/dev/null 2>&1
}

# _mm_port_open - true when something accepts TCP connections on 127.0.0.1:PORT
_mm_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port - wait until 127.0.0.1:PORT accepts connections: wait_port PORT [SECS]
wait_port() {
    wait_for "${2:-10}" _mm_port_open "$1"
}

# _mm_port_free - true when PORT can be bound on 127.0.0.1 right now
_mm_port_free() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()
EOF
    else
        ! _mm_port_open "$1"
    fi
}

# free_port - set VAR to a free loopback port no other server here was given
free_port() {
    local var=$1 p tries=0
    while [ $tries -lt 200 ]; do
        tries=$((tries + 1))
        # Below the kernel's ephemeral range (32768+), so outgoing
        # connections cannot take the port between the check and the bind.
        p=$((20000 + (RANDOM % 12000)))
        case "$_mm_ports" in *" $p "*) continue ;; esac
        if _mm_port_free "$p"; then
            _mm_ports="$_mm_ports$p "
            printf -v "$var" '%s' "$p"
            return 0
        fi
    done
    fail_fast "no free loopback port found"
}

# _mm_cleanup - the EXIT trap: stop everything, remove the temporary directory
_mm_cleanup() {
    local rc=$? pid f
    [ "$_mm_cleaned" -eq 1 ] && return
    _mm_cleaned=1
    set +e
    trap - INT TERM HUP
    for pid in "${_mm_pids[@]}"; do _mm_stop_pid "$pid" 5; done
    for f in "${_mm_pidfiles[@]}"; do _mm_stop_pid "$(_mm_pidfile_pid "$f")" 5; done
    stop_dovecot >/dev/null 2>&1
    stop_postfix >/dev/null 2>&1
    stop_slapd >/dev/null 2>&1
    stop_redis >/dev/null 2>&1
    if [ "$_mm_done" -eq 0 ] && [ "$_mm_n" -gt 0 ]; then
        # Ended without done_testing (an error, a signal): say so in TAP.
        printf '1..%d\n' "$_mm_n" >&"$_mm_out"
        diag "test ended early (exit $rc)" >&"$_mm_out"
        [ "$rc" -eq 0 ] && rc=1
    fi
    if [ "${MAILMAPS_KEEP_TMP:-0}" = 1 ]; then
        diag "kept $MM_TMP" >&"$_mm_out"
    else
        rm -rf "$MM_TMP"
    fi
    exit "$rc"
}
trap _mm_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# _mm_log_tail - the last lines of a log file as TAP comments
_mm_log_tail() {
    [ -r "$1" ] && diag "--- $1" "$(tail -n "${2:-20}" "$1")"
    return 0
}

# ---------------------------------------------------------------- slapd

LDAP_BASE="dc=example,dc=com"
LDAP_PEOPLE="ou=people,$LDAP_BASE"
LDAP_ROOT_DN="cn=admin,$LDAP_BASE"
LDAP_ROOT_PW="admin-secret"
LDAP_SYNC_DN="cn=mailmaps,$LDAP_BASE"
LDAP_SYNC_PW="mailmaps-sync"
SLAPD_DIR="$MM_TMP/slapd"
LDAP_ROOT_PW_FILE="$SLAPD_DIR/root.pw"
LDAP_SYNC_PW_FILE="$SLAPD_DIR/sync.pw"
LDAP_URI=""
LDAPI_URI=""
SLAPD_PORT=""
SLAPD_PID=""
SLAPD_CONF="$SLAPD_DIR/slapd.conf"
SLAPD_LOG="$SLAPD_DIR/slapd.log"
SLAPD_DEBUG=${SLAPD_DEBUG:-stats}
export LDAP_BASE LDAP_PEOPLE LDAP_ROOT_DN LDAP_ROOT_PW LDAP_SYNC_DN LDAP_SYNC_PW \
       LDAP_ROOT_PW_FILE LDAP_SYNC_PW_FILE LDAP_URI LDAPI_URI SLAPD_PORT

# _mm_urlenc_path - a path with "/" escaped as an ldapi:// URL needs it
_mm_urlenc_path() {
    local p=$1
    p=${p//%/%25}
    p=${p//,/%2C}
    printf '%s' "${p//\//%2F}"
}

# slapd_config - write slapd.conf and the base entries, load them; no start.
# Options: --syncprov (persist-mode support; the sync account then gets
# size=unlimited, as the README asks: the persist search is not paged),
# --sizelimit N (server limit,
# default 500 as slapd's own), --no-sync-limits (no paged-results exemption
# for the sync account: reproduces the 500-entry truncation),
# --no-sync-account (no cn=mailmaps entry at all), --maxsize BYTES (mdb),
# --schema FILE (this schema instead of the Postfix Book one: a slapd.conf
# .schema, or a cn=config .ldif, converted by slapd_schema_conf; the
# mail index stays, the Postfix Book indexes go), --index "ATTRS eq" (one
# more index line, repeatable).
slapd_config() {
    local syncprov=0 sizelimit=500 synclimits=1 syncacct=1 maxsize=2147483648
    local schemafile="$MM_TOP/contrib/ldap/postfix-book.schema" indexes=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --syncprov) syncprov=1 ;;
            --sizelimit) sizelimit=$2; shift ;;
            --no-sync-limits) synclimits=0 ;;
            --no-sync-account) syncacct=0; synclimits=0 ;;
            --maxsize) maxsize=$2; shift ;;
            --schema) schemafile=$2; shift ;;
            --index) indexes+=("$2"); shift ;;
            *) fail_fast "slapd_config: unknown option $1" ;;
        esac
        shift
    done
    local schema=/etc/ldap/schema
    [ -r "$schema/core.schema" ] || fail_fast "no $schema/core.schema: is slapd installed?"
    rm -rf "$SLAPD_DIR"
    mkdir -p "$SLAPD_DIR/db"
    # ldapsearch -y and the daemons take the whole file as the password.
    printf '%s' "$LDAP_ROOT_PW" >"$LDAP_ROOT_PW_FILE"
    printf '%s' "$LDAP_SYNC_PW" >"$LDAP_SYNC_PW_FILE"
    # The owner's alone, as the programs demand of a password file (root
    # reads it: the tests, and Dovecot's auth worker for the fallback).
    chmod 0600 "$LDAP_ROOT_PW_FILE" "$LDAP_SYNC_PW_FILE"
    [ -n "$SLAPD_PORT" ] || free_port SLAPD_PORT
    LDAP_URI="ldap://127.0.0.1:$SLAPD_PORT"
    LDAPI_URI="ldapi://$(_mm_urlenc_path "$SLAPD_DIR/ldapi")"
    export LDAP_URI LDAPI_URI SLAPD_PORT
    case "$schemafile" in
        *.ldif)
            slapd_schema_conf "$schemafile" >"$SLAPD_DIR/test.schema" ||
                fail_fast "cannot convert $schemafile"
            schemafile=$SLAPD_DIR/test.schema ;;
    esac
    {
        echo "# private slapd for a mailmaps integration test"
        local s
        for s in core cosine inetorgperson nis; do
            echo "include $schema/$s.schema"
        done
        echo "include $schemafile"
        echo "pidfile $SLAPD_DIR/slapd.pid"
        echo "argsfile $SLAPD_DIR/slapd.args"
        echo "modulepath /usr/lib/ldap"
        echo "moduleload back_mdb"
        [ $syncprov -eq 1 ] && echo "moduleload syncprov"
        echo "sizelimit $sizelimit"
        echo
        echo "database mdb"
        echo "maxsize $maxsize"
        echo "suffix \"$LDAP_BASE\""
        echo "rootdn \"$LDAP_ROOT_DN\""
        echo "rootpw $LDAP_ROOT_PW"
        echo "directory $SLAPD_DIR/db"
        echo "index objectClass eq"
        case "$schemafile" in
            */postfix-book.schema) echo "index mail,mailAlias,mailGroupMember eq" ;;
            *) echo "index mail eq" ;;
        esac
        echo "index uid eq"
        for s in "${indexes[@]}"; do echo "index $s"; done
        [ $syncprov -eq 1 ] && echo "index entryCSN,entryUUID eq"
        # The rootdn ignores limits; the sync account does not, which is
        # exactly what the tests need to see.
        if [ $synclimits -eq 1 ] && [ $syncprov -eq 1 ]; then
            echo "limits dn.exact=\"$LDAP_SYNC_DN\" size=unlimited"
        elif [ $synclimits -eq 1 ]; then
            echo "limits dn.exact=\"$LDAP_SYNC_DN\" size.prtotal=unlimited"
        fi
        echo "access to attrs=userPassword"
        [ $syncacct -eq 1 ] && echo "    by dn.exact=\"$LDAP_SYNC_DN\" read"
        echo "    by anonymous auth"
        echo "    by * none"
        echo "access to *"
        echo "    by * read"
        if [ $syncprov -eq 1 ]; then
            echo
            echo "overlay syncprov"
            echo "syncprov-checkpoint 100 10"
            echo "syncprov-sessionlog 10000"
        fi
    } >"$SLAPD_CONF"
    {
        echo "dn: $LDAP_BASE"
        echo "objectClass: dcObject"
        echo "objectClass: organization"
        echo "dc: example"
        echo "o: Example"
        echo
        echo "dn: $LDAP_PEOPLE"
        echo "objectClass: organizationalUnit"
        echo "ou: people"
        echo
        if [ $syncacct -eq 1 ]; then
            echo "dn: $LDAP_SYNC_DN"
            echo "objectClass: organizationalRole"
            echo "objectClass: simpleSecurityObject"
            echo "cn: mailmaps"
            echo "userPassword: $(slappasswd -n -h '{SSHA}' -s "$LDAP_SYNC_PW")"
            echo
        fi
    } >"$SLAPD_DIR/base.ldif"
    slapd_load_ldif "$SLAPD_DIR/base.ldif"
}

# slapd_schema_conf FILE - a cn=config schema LDIF (olcAttributeTypes,
# olcObjectClasses, olcObjectIdentifier) as slapd.conf schema text on stdout
slapd_schema_conf() {
    awk '
    function flush() {
        if (cur == "") return
        if (sub(/^olcAttributeTypes: */, "", cur)) kw = "attributetype"
        else if (sub(/^olcObjectClasses: */, "", cur)) kw = "objectclass"
        else if (sub(/^olcObjectIdentifier: */, "", cur)) kw = "objectidentifier"
        else { cur = ""; return }
        sub(/^\{[0-9]+\}/, "", cur)        # the X-ORDERED index, if any
        print kw " " cur
        cur = ""
    }
    /^#/ { next }
    /^ / { cur = cur substr($0, 2); next }  # an LDIF continuation line
    { flush(); cur = $0 }
    END { flush() }' "$1"
}

# slapd_load_ldif - bulk-load FILE with slapadd -q (slapd must be stopped)
slapd_load_ldif() {
    [ -z "$SLAPD_PID" ] || fail_fast "slapd_load_ldif: slapd is running; use ldap_add_ldif"
    slapadd -q -f "$SLAPD_CONF" -b "$LDAP_BASE" -l "$1" >"$SLAPD_DIR/slapadd.log" 2>&1 || {
        _mm_log_tail "$SLAPD_DIR/slapadd.log"
        fail_fast "slapadd -q $1 failed"
    }
}

# slapd_run - start the configured slapd and wait until it answers
slapd_run() {
    [ -z "$SLAPD_PID" ] || return 0
    # -d keeps slapd in the foreground with its log on stderr (there is no
    # syslog here), so the pid is known without racing the pid file.
    slapd -d "$SLAPD_DEBUG" -f "$SLAPD_CONF" \
        -h "ldap://127.0.0.1:$SLAPD_PORT/ $LDAPI_URI/" >>"$SLAPD_LOG" 2>&1 </dev/null {_mm_out}>&- &
    SLAPD_PID=$!
    local i=0
    while [ $i -lt 100 ]; do
        if ! _mm_alive "$SLAPD_PID"; then
            wait "$SLAPD_PID" 2>/dev/null
            SLAPD_PID=""
            _mm_log_tail "$SLAPD_LOG"
            fail_fast "slapd exited at start"
        fi
        ldapsearch -x -H "$LDAP_URI" -b "" -s base -LLL 1.1 >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    _mm_log_tail "$SLAPD_LOG"
    fail_fast "slapd did not answer on $LDAP_URI"
}

# start_slapd - slapd_config OPTIONS, slapadd each --ldif FILE, then run it
start_slapd() {
    local args=() ldifs=() f
    while [ $# -gt 0 ]; do
        case "$1" in
            --ldif) ldifs+=("$2"); shift ;;
            --sizelimit|--maxsize|--schema|--index) args+=("$1" "$2"); shift ;;
            *) args+=("$1") ;;
        esac
        shift
    done
    slapd_config "${args[@]}"
    for f in "${ldifs[@]}"; do slapd_load_ldif "$f"; done
    slapd_run
}

# stop_slapd - stop slapd (the database stays for restart_slapd)
stop_slapd() {
    [ -n "$SLAPD_PID" ] || return 0
    _mm_stop_pid "$SLAPD_PID" 20
    SLAPD_PID=""
}

# restart_slapd - stop and start again on the same port with the same data
restart_slapd() {
    stop_slapd
    slapd_run
}

# ldap_add_ldif - add the entries of FILE to the running slapd as rootdn
ldap_add_ldif() {
    ldapadd -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -f "$1" >/dev/null
}

# ldap_modify_ldif - apply the changes of FILE (changetype records) as rootdn
ldap_modify_ldif() {
    ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -f "$1" >/dev/null
}

# ldapsearch_sync - ldapsearch bound as the sync account: ldapsearch_sync ARGS...
ldapsearch_sync() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_SYNC_DN" \
        -y "$LDAP_SYNC_PW_FILE" -b "$LDAP_BASE" "$@"
}

# write_mailmaps_conf FILE [name = value]... - a mailmaps.conf for the
# private slapd (URI, sync account, base, ldap_timeout = 3), then the given
# settings; a later setting replaces an earlier one of the same name (the
# parser refuses a setting given twice)
# account_ldif UID [LINE...] - an enabled mail account UID@example.com as
# LDIF for ldapadd, with any further attribute lines
account_ldif() {
    local uid=$1 line; shift
    printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n' \
        "$uid" "$LDAP_PEOPLE"
    printf 'uid: %s\ncn: %s\nsn: %s\nmail: %s@example.com\nmailEnabled: TRUE\n' \
        "$uid" "$uid" "$uid" "$uid"
    for line in "$@"; do printf '%s\n' "$line"; done
}

write_mailmaps_conf() {
    local file=$1; shift
    local lines=(
        "ldap_uri = $LDAP_URI"
        "ldap_bind_dn = $LDAP_SYNC_DN"
        "ldap_bind_pw_file = $LDAP_SYNC_PW_FILE"
        "ldap_base = $LDAP_BASE"
        "ldap_timeout = 3"
        "$@"
    )
    local i j
    for ((i = 0; i < ${#lines[@]}; i++)); do
        for ((j = i + 1; j < ${#lines[@]}; j++)); do
            if [ "${lines[i]%% =*}" = "${lines[j]%% =*}" ]; then lines[i]=""; break; fi
        done
    done
    for i in "${lines[@]}"; do [ -n "$i" ] && echo "$i"; done >"$file"
}

# write_policyd_conf FILE [name = value]... - write_mailmaps_conf with the
# test's $MAPS as maps_dir, $VMAIL as mail_base and group root for the
# policy daemon's unix sockets
write_policyd_conf() {
    local file=$1; shift
    write_mailmaps_conf "$file" "maps_dir = $MAPS" "mail_base = $VMAIL" \
        "policy_socket_group = root" "$@"
}

# gen_users - write to stdout an LDIF of N PostfixBookMailAccount entries
# under ou=people: uid=userNNNNNN, mail userNNNNNN@DOMAIN, password
# $MM_USER_PW. Every 10th user has a mailAlias alias-userNNNNNN@DOMAIN,
# every 7th is mailGroupMember of team(N%5)@DOMAIN, every 4th has a
# mailQuota of 5242880 (KB = 5 GiB) and every 12th "20G" instead.
# Options: --domains K (users spread over example.com, example1.com, ...
# example(K-1).com by N%K), --disabled K (the last K users are
# mailEnabled FALSE), --start S (first number, default 1), --prefix P
# (local part prefix instead of "user").
#
# --iredmail: the same users as an iRedMail tree (the schema of
# tests/integration/iredmail-schema.ldif): with --start 1 first
# o=domains,$LDAP_BASE, one mailDomain entry domainName=D,o=domains,...
# per domain with its ou=Users; every even-numbered domain has the alias
# domain exampleJ.net (example.net for example.com). Each user is
# mail=U@D,ou=Users,domainName=D,... (inetOrgPerson, shadowAccount,
# mailUser): accountStatus active (disabled for the last --disabled K),
# the usual enabledService values, storageBaseDirectory --mail-base DIR
# (default /var/vmail), mailMessageStore vmail1/D/u/us/use/U-TIMESTAMP/ and
# homeDirectory DIR/ that (every 3rd without the trailing /), mailQuota in
# bytes: every 12th 20 GiB, every 4th 5 GiB, every 9th 0 (unlimited),
# every 11th none, the rest 1 GiB. Every 10th has the shadowAddress
# shadow-U@D, with enabledService shadowaddress only every 20th; every 7th
# forwards to U@partner.example (every 14th keeps a copy: its own address
# among the forwards) with enabledService forward except every 35th; every
# 13th is memberOfGroup team(N%5)@D. --disabled-domains K: the last K
# domains are accountStatus disabled; every other user there (N / domains,
# rounded down, even) carries domainStatus disabled (as iRedMail's tools
# write), the others do not.
gen_users() {
    local n=$1 domains=1 disabled=0 start=1 prefix=user iredmail=0 disdom=0 mb=/var/vmail
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --domains) domains=$2; shift ;;
            --disabled) disabled=$2; shift ;;
            --start) start=$2; shift ;;
            --prefix) prefix=$2; shift ;;
            --iredmail) iredmail=1 ;;
            --disabled-domains) disdom=$2; shift ;;
            --mail-base) mb=$2; shift ;;
            *) fail_fast "gen_users: unknown option $1" ;;
        esac
        shift
    done
    awk -v n="$n" -v nd="$domains" -v dis="$disabled" -v start="$start" \
        -v pfx="$prefix" -v people="$LDAP_PEOPLE" -v pw="$MM_USER_PW_HASH" \
        -v ired="$iredmail" -v disdom="$disdom" -v mb="$mb" -v base="$LDAP_BASE" '
    function dom(j) { return (j == 0) ? "example" : "example" j }
    function ired_tree(  j, d) {
        printf "dn: o=domains,%s\nobjectClass: organization\no: domains\n\n", base
        for (j = 0; j < nd; j++) {
            d = dom(j) ".com"
            printf "dn: domainName=%s,o=domains,%s\nobjectClass: mailDomain\n", d, base
            printf "domainName: %s\ncn: %s\n", d, d
            printf "accountStatus: %s\nenabledService: mail\n", (j >= nd - disdom) ? "disabled" : "active"
            if (j % 2 == 0) printf "enabledService: domainalias\ndomainAliasName: %s.net\n", dom(j)
            printf "\ndn: ou=Users,domainName=%s,o=domains,%s\n", d, base
            printf "objectClass: organizationalUnit\nou: Users\n\n"
        }
    }
    function ired_user(i, k, u, j, d,  ts, store, s, q) {
        printf "dn: mail=%s@%s,ou=Users,domainName=%s,o=domains,%s\n", u, d, d, base
        printf "objectClass: inetOrgPerson\nobjectClass: shadowAccount\nobjectClass: mailUser\n"
        printf "mail: %s@%s\nuid: %s\ncn: User %d\nsn: %d\n", u, d, u, i, i
        printf "userPassword: %s\n", pw
        printf "accountStatus: %s\n", (k >= n - dis) ? "disabled" : "active"
        if (j >= nd - disdom && int(i / nd) % 2 == 0) printf "domainStatus: disabled\n"
        s = "internal doveadm lib-storage mail deliver smtp smtpsecured imap imapsecured pop3 pop3secured"
        gsub(/ /, "\nenabledService: ", s)
        printf "enabledService: %s\n", s
        ts = sprintf("%04d.%02d.%02d.%02d.%02d.%02d", 2015 + i % 10, 1 + i % 12, 1 + i % 28,
                     i % 24, i % 60, (i * 7) % 60)
        store = sprintf("vmail1/%s/%s/%s/%s/%s-%s", d, substr(u, 1, 1), substr(u, 1, 2),
                        substr(u, 1, 3), u, ts)
        printf "storageBaseDirectory: %s\nmailMessageStore: %s/\n", mb, store
        printf "homeDirectory: %s/%s%s\n", mb, store, (i % 3 == 0) ? "" : "/"
        if (i % 12 == 0) q = "21474836480"
        else if (i % 4 == 0) q = "5368709120"
        else if (i % 9 == 0) q = "0"
        else if (i % 11 == 0) q = ""
        else q = "1073741824"
        if (q != "") printf "mailQuota: %s\n", q
        if (i % 10 == 0) {
            printf "shadowAddress: shadow-%s@%s\n", u, d
            if (i % 20 == 0) printf "enabledService: shadowaddress\n"
        }
        if (i % 7 == 0) {
            printf "mailForwardingAddress: %s@partner.example\n", u
            if (i % 14 == 0) printf "mailForwardingAddress: %s@%s\n", u, d
            if (i % 35 != 0) printf "enabledService: forward\n"
        }
        if (i % 13 == 0) printf "memberOfGroup: team%d@%s\n", i % 5, d
        printf "\n"
    }
    BEGIN {
        if (ired && start == 1) ired_tree()
        for (k = 0; k < n; k++) {
            i = start + k
            u = sprintf("%s%06d", pfx, i)
            j = i % nd
            d = dom(j) ".com"
            if (ired) { ired_user(i, k, u, j, d); continue }
            printf "dn: uid=%s,%s\n", u, people
            printf "objectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n"
            printf "uid: %s\ncn: User %d\nsn: %d\n", u, i, i
            printf "mail: %s@%s\n", u, d
            printf "mailEnabled: %s\n", (k >= n - dis) ? "FALSE" : "TRUE"
            printf "userPassword: %s\n", pw
            if (i % 10 == 0) printf "mailAlias: alias-%s@%s\n", u, d
            if (i % 7 == 0) printf "mailGroupMember: team%d@%s\n", i % 5, d
            if (i % 12 == 0) printf "mailQuota: 20G\n"
            else if (i % 4 == 0) printf "mailQuota: 5242880\n"
            printf "\n"
        }
    }'
}

# ---------------------------------------------------------------- Postfix

PF_DIR="$MM_TMP/postfix"
PF_CONF="$PF_DIR/etc"
PF_SPOOL="$PF_DIR/spool"
PF_LOG="$PF_DIR/maillog"
PF_SMTP_PORT=""
PF_RUNNING=0
export PF_CONF PF_SMTP_PORT

# start_postfix - a private Postfix; each argument is one more main.cf line
# (later lines override earlier ones), e.g.
#   start_postfix "virtual_mailbox_domains = cdb:$MM_TMP/maps/domains"
# Sets PF_CONF (for postfix -c / postmap -c) and PF_SMTP_PORT.
start_postfix() {
    need_root || fail_fast "start_postfix needs root"
    mkdir -p "$PF_CONF" "$PF_SPOOL" "$PF_DIR/data"
    chown postfix "$PF_DIR/data"
    [ -n "$PF_SMTP_PORT" ] || free_port PF_SMTP_PORT
    local line
    {
        echo "# private Postfix for a mailmaps integration test"
        echo "compatibility_level = 3.6"
        echo "queue_directory = $PF_SPOOL"
        echo "data_directory = $PF_DIR/data"
        echo "mail_owner = postfix"
        echo "setgid_group = postdrop"
        echo "myhostname = mx.example.test"
        echo "mydomain = example.test"
        echo "myorigin = \$myhostname"
        echo "mydestination ="
        echo "inet_interfaces = 127.0.0.1"
        echo "inet_protocols = ipv4"
        # The test clients connect from 127.0.0.1 like any Internet client
        # would; nothing is trusted to relay.
        echo "mynetworks = 192.0.2.1/32"
        echo "alias_maps ="
        echo "alias_database ="
        echo "biff = no"
        echo "smtpd_banner = \$myhostname ESMTP mailmaps-test"
        echo "default_transport = error:mailmaps test instance delivers nowhere"
        echo "relay_transport = error:mailmaps test instance delivers nowhere"
        echo "local_transport = error:mailmaps test instance delivers nowhere"
        # No syslog in these sandboxes: postlogd writes this file.
        echo "maillog_file = $PF_LOG"
        echo "maillog_file_prefixes = $MM_TMP"
        for line in "$@"; do echo "$line"; done
    } >"$PF_CONF/main.cf"
    postfix_conf_settled "$PF_CONF/main.cf"
    # chroot n everywhere: a chroot would need copies of system files, and
    # unix:/abs/path lookups would be resolved inside it.
    {
        echo "# service type  private unpriv  chroot  wakeup  maxproc command"
        echo "127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd"
        echo "pickup    unix  n       -       n       60      1       pickup"
        echo "cleanup   unix  n       -       n       -       0       cleanup"
        echo "qmgr      unix  n       -       n       300     1       qmgr"
        echo "tlsmgr    unix  -       -       n       1000?   1       tlsmgr"
        echo "rewrite   unix  -       -       n       -       -       trivial-rewrite"
        echo "bounce    unix  -       -       n       -       0       bounce"
        echo "defer     unix  -       -       n       -       0       bounce"
        echo "trace     unix  -       -       n       -       0       bounce"
        echo "verify    unix  -       -       n       -       1       verify"
        echo "flush     unix  n       -       n       1000?   0       flush"
        echo "proxymap  unix  -       -       n       -       -       proxymap"
        echo "proxywrite unix -       -       n       -       1       proxymap"
        echo "smtp      unix  -       -       n       -       -       smtp"
        echo "relay     unix  -       -       n       -       -       smtp"
        echo "showq     unix  n       -       n       -       -       showq"
        echo "error     unix  -       -       n       -       -       error"
        echo "retry     unix  -       -       n       -       -       error"
        echo "discard   unix  -       -       n       -       -       discard"
        echo "local     unix  -       n       n       -       -       local"
        echo "virtual   unix  -       n       n       -       -       virtual"
        echo "lmtp      unix  -       -       n       -       -       lmtp"
        echo "anvil     unix  -       -       n       -       1       anvil"
        echo "scache    unix  -       -       n       -       1       scache"
        echo "postlog   unix-dgram n  -       n       -       1       postlogd"
    } >"$PF_CONF/master.cf"
    postfix -c "$PF_CONF" start >"$PF_DIR/start.log" 2>&1 </dev/null {_mm_out}>&- || {
        _mm_log_tail "$PF_DIR/start.log"
        _mm_log_tail "$PF_LOG"
        fail_fast "postfix start failed"
    }
    PF_RUNNING=1
    wait_port "$PF_SMTP_PORT" 10 || {
        _mm_log_tail "$PF_LOG"
        fail_fast "postfix smtpd does not listen on $PF_SMTP_PORT"
    }
}

# _mm_smtp_reply - read one (possibly multi-line) SMTP reply from fd $1; print its last line
_mm_smtp_reply() {
    local line
    while IFS= read -r -t 20 line <&"$1"; do
        line=${line%$'\r'}
        case "$line" in [0-9][0-9][0-9]-*) continue ;; esac
        printf '%s\n' "$line"
        return 0
    done
    return 1
}

# smtp_rcpt - one SMTP session to 127.0.0.1:PORT up to RCPT; prints the
# reply to RCPT (or to whatever failed before it): smtp_rcpt PORT FROM RCPT [SIZE]
smtp_rcpt() {
    local port=$1 from=$2 rcpt=$3 size=${4:-} fd r
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    r=$(_mm_smtp_reply "$fd")
    case "$r" in 220*) ;; *) printf '%s\n' "$r"; exec {fd}>&-; return 1 ;; esac
    printf 'EHLO client.example.test\r\n' >&"$fd"
    r=$(_mm_smtp_reply "$fd")
    case "$r" in 250*) ;; *) printf '%s\n' "$r"; exec {fd}>&-; return 1 ;; esac
    printf 'MAIL FROM:<%s>%s\r\n' "$from" "${size:+ SIZE=$size}" >&"$fd"
    r=$(_mm_smtp_reply "$fd")
    case "$r" in 250*) ;; *) printf '%s\n' "$r"; exec {fd}>&-; return 1 ;; esac
    printf 'RCPT TO:<%s>\r\n' "$rcpt" >&"$fd"
    r=$(_mm_smtp_reply "$fd")
    printf '%s\n' "$r"
    printf 'QUIT\r\n' >&"$fd"
    _mm_smtp_reply "$fd" >/dev/null
    exec {fd}>&-
    return 0
}

# smtp_greeting - the first line 127.0.0.1:PORT sends (SMTP banner, IMAP greeting)
smtp_greeting() {
    local fd line
    exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 10 line <&"$fd"
    exec {fd}>&-
    printf '%s\n' "${line%$'\r'}"
}

# _mm_postfix_master_pid - the pid of this instance's master, or nothing
_mm_postfix_master_pid() {
    _mm_pidfile_pid "$PF_SPOOL/pid/master.pid"
}

# stop_postfix - stop the private Postfix and wait for its master to exit
stop_postfix() {
    [ "$PF_RUNNING" -eq 1 ] || return 0
    PF_RUNNING=0
    local pid kids p
    pid=$(_mm_postfix_master_pid)
    kids=$([ -n "$pid" ] && pgrep -P "$pid")
    postfix -c "$PF_CONF" stop >/dev/null 2>&1
    if [ -n "$pid" ] && ! _mm_wait_gone "$pid" 10; then
        postfix -c "$PF_CONF" abort >/dev/null 2>&1
        _mm_wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
    fi
    # Children notice that the master is gone and exit by themselves.
    for p in $kids; do _mm_wait_gone "$p" 5 || kill -KILL "$p" 2>/dev/null; done
    return 0
}

# postfix_reload - make the private Postfix re-read its configuration
postfix_reload() {
    postfix -c "$PF_CONF" reload >/dev/null 2>&1
}

# postmap_q - look KEY up in TABLE with this instance's config: postmap_q KEY TABLE
# Prints the value; exit 0 found, 1 not found, other error. Works without a
# running Postfix (postmap_conf writes the main.cf it needs).
postmap_q() {
    postmap_conf
    postmap -c "$PF_CONF" -q "$1" "$2"
}

# postmap_conf - make sure PF_CONF has a main.cf for postmap -c, so that
# tests that never start Postfix still read no system configuration
postmap_conf() {
    [ -r "$PF_CONF/main.cf" ] && return 0
    mkdir -p "$PF_CONF"
    {
        echo "compatibility_level = 3.6"
        echo "queue_directory = $PF_SPOOL"
        echo "data_directory = $PF_DIR/data"
        echo "myhostname = mx.example.test"
        echo "alias_maps ="
    } >"$PF_CONF/main.cf"
    postfix_conf_settled "$PF_CONF/main.cf"
}

# postfix_conf_settled - date FILE a minute back. Postfix reads a main.cf
# changed within the last second or two as "still being written" and
# retries every 0.3 s until it is older: a freshly written one costs every
# postmap, postconf and postfix command up to two seconds.
postfix_conf_settled() {
    touch -d "@$((EPOCHSECONDS - 60))" "$1"
}

# ---------------------------------------------------------------- Dovecot

DC_DIR="$MM_TMP/dovecot"
DC_CONF="$DC_DIR/dovecot.conf"
DC_BASE="$DC_DIR/run"
DC_LOG="$DC_DIR/dovecot.log"
DC_IMAP_PORT=""
DC_RUNNING=0
# A command prefix for starting the master, e.g. a script that runs
# "unshare -m" and bind-mounts a private auth module directory over
# $dovecot_moduledir/auth before exec'ing its arguments.
DOVECOT_WRAP=${DOVECOT_WRAP:-}
export DC_CONF DC_BASE DC_IMAP_PORT

# dovecot_24 - true when the installed Dovecot is 2.4 or later: its
# configuration syntax and its userdb field names differ from 2.3's
dovecot_24() {
    [ -n "${DC_VERSION:-}" ] || DC_VERSION=$(dovecot --version 2>/dev/null)
    DC_VERSION=${DC_VERSION%% *}
    case "$DC_VERSION" in
    "" | 1.* | 2.[0-3].*) return 1 ;;
    *) return 0 ;;
    esac
}

# dovecot_auth_conf MAILMAPS_CONF - the passdb and userdb blocks of the
# mailmaps driver for the installed Dovecot, reading MAILMAPS_CONF
dovecot_auth_conf() {
    if dovecot_24; then
        printf 'passdb mailmaps {\n  mailmaps_config_file = %s\n}\n' "$1"
        printf 'userdb mailmaps {\n  mailmaps_config_file = %s\n}\n' "$1"
    else
        printf 'passdb {\n  driver = mailmaps\n  args = %s\n}\n' "$1"
        printf 'userdb {\n  driver = mailmaps\n  args = %s\n}\n' "$1"
    fi
}

# dovecot_quota_conf [GRACE] - the quota plugin with a Maildir++ "User quota"
# root, and on 2.4 the mailbox blocks that per-folder userdb fields need
# (2.4 applies mailbox/Trash/... only to a mailbox it has a block for).
# GRACE: 2.4's quota_storage_grace, a size (2.3 keeps its 10% default).
dovecot_quota_conf() {
    if dovecot_24; then
        [ -z "${1:-}" ] || printf 'quota_storage_grace = %s\n' "$1"
        cat <<'EOF'
mail_plugins {
  quota = yes
}
quota "User quota" {
  driver = maildir
}
namespace inbox {
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Junk {
    special_use = \Junk
  }
}
EOF
    else
        printf 'mail_plugins = $mail_plugins quota\nplugin {\n  quota = maildir:User quota\n}\n'
    fi
}

# start_dovecot - a private Dovecot: start_dovecot AUTH_TEXT [EXTRA_TEXT]
# AUTH_TEXT holds the passdb { } and userdb { } blocks (dovecot_auth_conf);
# EXTRA_TEXT is appended at the end (plugins, more services), in the syntax
# of the installed version (dovecot_24). IMAP on 127.0.0.1:$DC_IMAP_PORT,
# the auth-userdb socket is $DC_BASE/auth-userdb. Mail under $DC_DIR/mail.
start_dovecot() {
    need_root || fail_fast "start_dovecot needs root"
    local auth=$1 extra=${2:-} head="" mail
    mkdir -p "$DC_DIR/state" "$DC_DIR/mail"
    chmod 0777 "$DC_DIR/mail"
    [ -n "$DC_IMAP_PORT" ] || free_port DC_IMAP_PORT
    if dovecot_24; then
        # 2.4 wants dovecot_config_version as the very first setting
        head="dovecot_config_version = ${DC_VERSION%%-*}
dovecot_storage_version = ${DC_VERSION%%-*}
"
        mail="auth_allow_cleartext = yes
mail_driver = maildir
mail_path = $DC_DIR/mail/%{user | domain}/%{user | username}/Maildir
namespace inbox {
  inbox = yes
}"
    else
        mail="disable_plaintext_auth = no
mail_location = maildir:$DC_DIR/mail/%d/%n/Maildir"
    fi
    cat >"$DC_CONF" <<EOF
${head}# private Dovecot for a mailmaps integration test
instance_name = $(basename "$MM_TMP")
base_dir = $DC_BASE
state_dir = $DC_DIR/state
log_path = $DC_LOG
info_log_path = $DC_LOG
debug_log_path = $DC_LOG
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
$mail
first_valid_uid = 100
shutdown_clients = yes

service imap-login {
  inet_listener imap {
    port = $DC_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}

$auth

$extra
EOF
    chmod 0644 "$DC_CONF"
    # shellcheck disable=SC2086 # DOVECOT_WRAP is a word list on purpose
    $DOVECOT_WRAP /usr/sbin/dovecot -c "$DC_CONF" >"$DC_DIR/start.log" 2>&1 </dev/null {_mm_out}>&- || {
        _mm_log_tail "$DC_DIR/start.log"
        _mm_log_tail "$DC_LOG"
        fail_fast "dovecot start failed"
    }
    DC_RUNNING=1
    if ! wait_port "$DC_IMAP_PORT" 10 || ! wait_for 10 test -S "$DC_BASE/auth-userdb"; then
        _mm_log_tail "$DC_LOG"
        fail_fast "dovecot does not listen on $DC_IMAP_PORT"
    fi
}

# stop_dovecot - stop the private Dovecot and wait for its master to exit
stop_dovecot() {
    [ "$DC_RUNNING" -eq 1 ] || return 0
    DC_RUNNING=0
    local pid kids p
    pid=$(_mm_pidfile_pid "$DC_BASE/master.pid")
    kids=$([ -n "$pid" ] && pgrep -P "$pid")
    # TERM to the master is what "dovecot stop" sends, without its extra
    # config parsing; the master still lingers 1 s for its log process.
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
    else
        /usr/sbin/dovecot -c "$DC_CONF" stop >/dev/null 2>&1
    fi
    if [ -n "$pid" ] && ! _mm_wait_gone "$pid" 10; then
        kill -KILL "$pid" 2>/dev/null
    fi
    for p in $kids; do _mm_wait_gone "$p" 5 || kill -KILL "$p" 2>/dev/null; done
    return 0
}

# dovecot_private_auth_modules [MODULE] - make start_dovecot run Dovecot in its own
# mount namespace with $DC_AUTH_MODULES bind-mounted over the system's
# $dovecot_moduledir/auth (Dovecot loads auth drivers only from there), and
# on 2.4 $DC_SETTINGS_MODULES over $dovecot_moduledir/settings (where
# doveconf learns a plugin's settings). Each directory starts as a copy of
# the system's modules (a copy, since a symlink would point back into the
# covered directory). With an argument, that file is installed there as
# libauthdb_mailmaps.so (the module under test), and on 2.4 the
# libmailmaps_settings.so beside it into the settings directory. On 2.4
# doveadm_c runs in such a namespace as well (2.4's doveadm parses the
# config itself). Prints nothing; fails the test when unshare is missing.
dovecot_private_auth_modules() {
    need_root || fail_fast "dovecot_private_auth_modules needs root"
    command -v unshare >/dev/null 2>&1 || fail_fast "unshare (util-linux) is missing"
    local moddir binds
    moddir=$(. /usr/lib/dovecot/dovecot-config 2>/dev/null && printf '%s' "${dovecot_moduledir:-}")
    [ -n "$moddir" ] || moddir=/usr/lib/dovecot/modules
    DC_AUTH_MODULES="$DC_DIR/auth-modules"
    mkdir -p "$DC_AUTH_MODULES"
    cp -p "$moddir"/auth/*.so "$DC_AUTH_MODULES"/ 2>/dev/null
    chmod 0755 "$DC_DIR" "$DC_AUTH_MODULES"
    if [ -n "${1:-}" ]; then     # our module, from this build
        cp "$1" "$DC_AUTH_MODULES/libauthdb_mailmaps.so" &&
            chmod 0644 "$DC_AUTH_MODULES/libauthdb_mailmaps.so" ||
            fail_fast "cannot install $1 into $DC_AUTH_MODULES"
    fi
    binds="$DC_AUTH_MODULES $moddir/auth"
    if dovecot_24; then
        DC_SETTINGS_MODULES="$DC_DIR/settings-modules"
        mkdir -p "$DC_SETTINGS_MODULES"
        [ -d "$moddir/settings" ] || fail_fast "$moddir/settings is missing"
        cp -p "$moddir"/settings/*.so "$DC_SETTINGS_MODULES"/ 2>/dev/null
        chmod 0755 "$DC_SETTINGS_MODULES"
        if [ -n "${1:-}" ]; then
            cp "$(dirname "$1")/libmailmaps_settings.so" "$DC_SETTINGS_MODULES/" &&
                chmod 0644 "$DC_SETTINGS_MODULES/libmailmaps_settings.so" ||
                fail_fast "cannot install libmailmaps_settings.so into $DC_SETTINGS_MODULES"
        fi
        binds="$binds $DC_SETTINGS_MODULES $moddir/settings"
        export DC_SETTINGS_MODULES
    fi
    # (the paths hold no blanks: $MM_TMP and dovecot_moduledir)
    cat >"$DC_DIR/wrap" <<EOF
#!/bin/sh
# run "\$@" with private module directories bind-mounted over Dovecot's
# (pairs FROM TO before "--"), in a private mount namespace
exec unshare -m --propagation private sh -c '
while [ "\$1" != -- ]; do mount --bind "\$1" "\$2" || exit 1; shift 2; done
shift; exec "\$@"' sh $binds -- "\$@"
EOF
    chmod 0755 "$DC_DIR/wrap"
    DOVECOT_WRAP="$DC_DIR/wrap"
    export DC_AUTH_MODULES
}

# imap_login - LOGIN USER PASSWORD on the private IMAP port, then each
# further argument as one command (e.g. "SELECT INBOX"); prints the tagged
# reply of the LOGIN, then that of each command, one per line
imap_login() {
    local fd line tag=a user=$1 pw=$2
    shift 2
    exec {fd}<>"/dev/tcp/127.0.0.1/$DC_IMAP_PORT" || return 1
    IFS= read -r -t 10 line <&"$fd"
    printf 'a LOGIN %s %s\r\n' "$user" "$pw" >&"$fd"
    while :; do
        while IFS= read -r -t 10 line <&"$fd"; do
            line=${line%$'\r'}
            case "$line" in "$tag "*) printf '%s\n' "$line"; break ;; esac
        done
        [ $# -gt 0 ] || break
        tag=c$#
        printf '%s %s\r\n' "$tag" "$1" >&"$fd"
        shift
    done
    printf 'z LOGOUT\r\n' >&"$fd"
    exec {fd}>&-
}

# doveadm_c - doveadm against the private instance: doveadm_c user alice@example.com
doveadm_c() {
    if dovecot_24; then
        # shellcheck disable=SC2086 # DOVECOT_WRAP is a word list on purpose
        $DOVECOT_WRAP doveadm -c "$DC_CONF" "$@"
    else
        doveadm -c "$DC_CONF" "$@"
    fi
}

# ---------------------------------------------------------------- valgrind

# valgrind_start PORT CMD... - CMD under valgrind (definite leaks and
# errors make it exit 99), log in $MM_TMP/vg.log; sets VG_PID and waits
# until 127.0.0.1:PORT accepts connections
valgrind_start() {
    local port=$1; shift
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
        --log-file="$MM_TMP/vg.log" "$@" >"$MM_TMP/vg.out" 2>&1 </dev/null &
    VG_PID=$!
    register_pid "$VG_PID"
    wait_port "$port" 60
}

# valgrind_stop - SIGTERM to VG_PID, then one check: exit 0, no errors, no
# definite leaks (the report's worst lines as a diagnostic otherwise)
valgrind_stop() {
    local rc
    kill -TERM "$VG_PID"
    _mm_wait_gone "$VG_PID" 30
    wait "$VG_PID"
    rc=$?
    is "$rc" 0 "valgrind: exit 0, no errors, no definite leaks"
    [ "$rc" -eq 0 ] || diag "$(grep -A5 'definitely\|Invalid' "$MM_TMP/vg.log" | head -40)"
}

# ---------------------------------------------------------------- Redis

REDIS_DIR="$MM_TMP/redis"
REDIS_HOST=127.0.0.1
REDIS_PORT=""
REDIS_SOCKET="$REDIS_DIR/redis.sock"
REDIS_PID=""
export REDIS_HOST REDIS_PORT REDIS_SOCKET

# _mm_redis_run DIR PORT [CONF_LINE...] - a redis-server in DIR on
# 127.0.0.1:PORT, no persistence, the lines added to its redis.conf; its
# pid in _mm_redis_pid once it answers
_mm_redis_run() {
    local dir=$1 port=$2 line
    shift 2
    mkdir -p "$dir"
    {
        cat <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize no
save ""
appendonly no
dir $dir
pidfile $dir/redis.pid
logfile ""
EOF
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$dir/redis.conf"
    redis-server "$dir/redis.conf" >"$dir/redis.log" 2>&1 </dev/null {_mm_out}>&- &
    _mm_redis_pid=$!
    # any answer will do (NOAUTH included): redis-cli exits 0 on it
    wait_for 10 redis-cli -h 127.0.0.1 -p "$port" ping || {
        _mm_log_tail "$dir/redis.log"
        fail_fast "redis-server does not answer on $port"
    }
}

# start_redis [CONF_LINE...] - a private redis-server on 127.0.0.1:$REDIS_PORT
# and $REDIS_SOCKET, no persistence; CONF_LINEs (requirepass, user, ...) are
# added to its redis.conf
start_redis() {
    [ -n "$REDIS_PORT" ] || free_port REDIS_PORT
    export REDIS_PORT
    _mm_redis_run "$REDIS_DIR" "$REDIS_PORT" "unixsocket $REDIS_SOCKET" "unixsocketperm 777" "$@"
    REDIS_PID=$_mm_redis_pid
}

# start_redis_more NAME [CONF_LINE...] - one more private redis-server (a
# replica: "replicaof 127.0.0.1 $REDIS_PORT"), its port in ${NAME}_PORT and
# its pid in ${NAME}_PID, stopped when the test ends
start_redis_more() {
    local name=$1 port
    shift
    free_port port
    _mm_redis_run "$MM_TMP/redis-$name" "$port" "$@"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$_mm_redis_pid"
    register_pid "$_mm_redis_pid"
}

# stop_redis - shut the private Redis down without saving
stop_redis() {
    [ -n "$REDIS_PID" ] || return 0
    redis_cli shutdown nosave >/dev/null 2>&1
    _mm_wait_gone "$REDIS_PID" 5
    _mm_stop_pid "$REDIS_PID" 5
    REDIS_PID=""
}

# redis_cli - redis-cli against the private instance: redis_cli GET key
redis_cli() {
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}
