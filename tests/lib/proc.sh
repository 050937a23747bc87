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

# procs_of NAME=VALUE [DIR...] - the pids, one a line, of the processes
# that belong to a test: those whose environment holds NAME=VALUE (what
# every process the test starts inherits), those whose command line names
# a file in one of DIRs or whose working directory is in one of them (what
# Postfix and Dovecot start with a scrubbed environment), and every
# descendant of this shell. This shell and the subshells running this are
# left out. Only builtins, so the scan starts no process of its own.
procs_of() (
    local mark=$1 p pid d a hit line me=$BASHPID
    shift
    local -a dirs=() fields env cmd ours=()
    local -A parent=() self=()
    # Only absolute paths below /: "/" or "" would name every process.
    for d in "$@"; do
        d=${d%/}
        case "$d" in /?*) dirs+=("$d") ;; esac
    done
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        { read -r line <"$p/stat"; } 2>/dev/null || continue
        # after "pid (comm) ": state, ppid, ...
        read -ra fields <<<"${line##*) }"
        parent[$pid]=${fields[1]}
    done
    # this subshell and its parents up to the caller's shell
    pid=$me
    while [ -n "$pid" ] && [ "$pid" != 1 ]; do
        self[$pid]=1
        [ "$pid" = "$$" ] && break
        pid=${parent[$pid]:-}
    done
    for pid in "${!parent[@]}"; do
        [ -n "${self[$pid]:-}" ] && continue
        [ "$pid" = 1 ] && continue
        hit=0
        p=${parent[$pid]}
        while [ -n "$p" ] && [ "$p" != 1 ] && [ "$p" != 0 ]; do
            if [ "$p" = "$$" ]; then hit=1; break; fi
            p=${parent[$p]:-}
        done
        if [ $hit -eq 0 ]; then
            env=()
            { mapfile -d '' env <"/proc/$pid/environ"; } 2>/dev/null
            for a in "${env[@]}"; do [ "$a" = "$mark" ] && { hit=1; break; }; done
        fi
        if [ $hit -eq 0 ] && [ ${#dirs[@]} -gt 0 ]; then
            cmd=()
            { mapfile -d '' cmd <"/proc/$pid/cmdline"; } 2>/dev/null
            cd -P "/proc/$pid/cwd" 2>/dev/null || cd /
            for d in "${dirs[@]}"; do
                case "$PWD/" in "$d"/*) hit=1; break ;; esac
                for a in "${cmd[@]}"; do
                    case "$a" in "$d" | *"$d"/*) hit=1; break 2 ;; esac
                done
            done
        fi
        [ $hit -eq 1 ] && ours+=("$pid")
    done
    [ ${#ours[@]} -eq 0 ] || printf '%s\n' "${ours[@]}"
)

# end_pids PID... - TERM (and CONT) to each, up to 5 s for all of them to
# exit, then KILL what is left; reaps those that are children of this shell
end_pids() {
    local pid i=0 alive
    for pid in "$@"; do
        case "$pid" in
        ''|*[!0-9]*|0|1|"$$") echo "end_pids: refusing pid '$pid'" >&2; return 1 ;;
        esac
    done
    kill -TERM "$@" 2>/dev/null
    kill -CONT "$@" 2>/dev/null
    while [ $i -lt 50 ]; do
        alive=0
        for pid in "$@"; do _mm_alive "$pid" && { alive=1; break; }; done
        [ $alive -eq 0 ] && break
        sleep 0.1; i=$((i + 1))
    done
    for pid in "$@"; do _mm_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
    for pid in "$@"; do wait "$pid" 2>/dev/null; done
    return 0
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
    # Whatever is still running was started by the test without being
    # registered, or by a server as a child of its own (spawn(8)): end it.
    local left
    left=$(procs_of "MM_TMP=$MM_TMP" "$MM_TMP")
    if [ -n "$left" ]; then
        diag "ending what the test left running:" \
            "$(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" 2>/dev/null)" >&"$_mm_out"
        # shellcheck disable=SC2086 # a list of pids
        end_pids $left
    fi
    # Reap every child of this shell, so that none outlives the test.
    for pid in $(jobs -p); do wait "$pid" 2>/dev/null; done
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

