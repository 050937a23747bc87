# tests/lib/harness.sh - the harness every integration test, benchmark and
# the demo sources:
#
#   . "$(dirname "$0")/../lib/harness.sh"
#
# Gives a private temporary directory ($MM_TMP), free loopback ports, TAP
# output, and private instances of slapd, Postfix, Dovecot and Redis that
# never touch a system port or a system configuration file. Everything
# started here, and everything those started, is ended and reaped by an
# EXIT/INT/TERM/HUP trap, also when a test fails midway; the directory is
# removed unless MAILMAPS_KEEP_TMP=1.
#
# tap.sh      ok DESC | not_ok DESC | check DESC CMD... | check_fails DESC CMD...
#             is GOT WANT DESC | like GOT ERE DESC | skip DESC [REASON]
#             diag MSG | fail_fast MSG | skip_all REASON | done_testing
# proc.sh     free_port VAR | wait_for SECS CMD... | wait_port PORT [SECS]
#             register_pid PID | register_pidfile FILE | need_root
#             procs_of NAME=VALUE [DIR...] | end_pids PID...
#             valgrind_start PORT CMD... / valgrind_stop
# slapd.sh    start_slapd / stop_slapd / restart_slapd, slapd_config,
#             slapd_load_ldif, ldap_add_ldif, ldap_modify_ldif, ldapsearch_sync
# mailmaps.sh write_mailmaps_conf, write_policyd_conf, write_shared_conf,
#             account_ldif, bob_ldif, gen_users, sync_once, sync_ok,
#             sync_test_setup, policyd_test_setup, policy_ask, start_policyd,
#             policyd_workers_started, write_maildirsize
# postfix.sh  start_postfix / stop_postfix / postfix_reload, postmap_q,
#             postmap_conf, postfix_conf_settled, smtp_rcpt PORT FROM RCPT [SIZE],
#             smtp_greeting PORT
# dovecot.sh  start_dovecot / stop_dovecot, doveadm_c, dovecot_private_auth_modules,
#             dovecot_24, dovecot_auth_conf, dovecot_quota_conf, imap_login,
#             dovecot_test_setup
# redis.sh    start_redis / stop_redis, start_redis_more, redis_cli
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
# tests/run looks for processes a test left running in the directories named here
[ -z "${MAILMAPS_TEST_LEDGER:-}" ] || echo "$MM_TMP" >>"$MAILMAPS_TEST_LEDGER"

for _mm_part in tap proc slapd mailmaps postfix dovecot redis; do
    # shellcheck source=/dev/null
    . "$MM_TOP/tests/lib/$_mm_part.sh"
done
unset _mm_part

trap _mm_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
