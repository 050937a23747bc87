# tests/lib/proc.sh - processes: free ports, waiting, the registry of what
# the test started, the exit trap that ends and reaps all of it, valgrind
# (part of tests/lib/harness.sh)

_mm_ports=" "    # ports handed out by free_port in this test
_mm_pids=()      # extra processes to stop at exit (register_pid)
_mm_pidfiles=()  # pid files whose process is stopped at exit
_mm_cleaned=0

# need_root - true when running as root (Postfix and Dovecot need it)
need_root() {
    [ "$(id -u)" -eq 0 ]
}

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

# _mm_log_tail - the last lines of a log file as TAP comments
_mm_log_tail() {
    [ -r "$1" ] && diag "--- $1" "$(tail -n "${2:-20}" "$1")"
    return 0
}

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

