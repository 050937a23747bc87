# tests/lib/tap.sh - TAP output: the numbered ok/not ok lines, the plan, and
# the checks that print them (part of tests/lib/harness.sh)

# The test's own stdout: the exit trap and fail_fast may run inside a
# function whose output a check redirects, and must still reach TAP.
exec {_mm_out}>&1
_mm_n=0          # TAP test number
_mm_failed=0     # failed checks so far
_mm_done=0       # done_testing was called

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

