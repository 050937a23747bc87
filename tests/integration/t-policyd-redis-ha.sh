#!/usr/bin/env bash
# t-policyd-redis-ha - the Redis usage source against real Redis servers
# that want a password (requirepass, then a Redis 6 ACL user), and a
# primary with a replica: quota_usage lists both, the primary is killed,
# and the answers go on from the replica.
. "$(dirname "$0")/../lib/harness.sh"

policyd_test_setup
command -v redis-server >/dev/null 2>&1 || skip_all "redis-server is not installed"
PWFILE=$MM_TMP/redis.pw
GIB=1073741824
OVER="action=552 5.2.2 Mailbox full"
KEY=user000002@example.com/quota/storage

gen_users 5 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"
write_policyd_conf "$CONF"
sync_ok "sync --once builds the maps" "$CONF"

# answers PORT RCPT WANT - the daemon's action for RCPT is WANT
answers() { [ "$(policy_ask "$1" "$2")" = "$3" ]; }

# The primary and its replica: the same password, and an ACL user that may
# only read (as a policy daemon needs).
AUTH_LINES=("requirepass s3cret" "masterauth s3cret"
    "user mailmaps on >acl-pass ~*/quota/* +get +select +ping")
start_redis "${AUTH_LINES[@]}"
start_redis_more REPLICA "${AUTH_LINES[@]}" "replicaof 127.0.0.1 $REDIS_PORT"
export REDISCLI_AUTH=s3cret
rp() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
rr() { redis-cli -h 127.0.0.1 -p "$REPLICA_PORT" "$@"; }
replica_has() { [ "$(rr GET "$KEY")" = "$1" ]; }
rp SET "$KEY" $((11 * GIB)) >/dev/null
rp SET user000003@example.com/quota/storage $((1 * GIB)) >/dev/null
wait_for 10 replica_has $((11 * GIB))
is "$(rr GET "$KEY")" "$((11 * GIB))" "the replica has the primary's counter"

free_port PPORT
write_policyd_conf "$CONF" "policy_listen = inet:127.0.0.1:$PPORT" \
    "quota_usage = redis:127.0.0.1:$REDIS_PORT,127.0.0.1:$REPLICA_PORT" \
    "redis_password_file = $PWFILE"
printf 'wrong\n' >"$PWFILE"
chmod 0600 "$PWFILE"
check "-n accepts two Redis addresses and a password file" "$POLICYD" -n -c "$CONF"
start_policyd --port "$PPORT" "$CONF" "$MM_TMP/policyd.log"
P_PID=$POLICYD_PID

is "$(policy_ask "$PPORT" user000002@example.com)" "action=DUNNO" "a wrong password: policy_on_error"
like "$(cat "$MM_TMP/policyd.log")" "AUTH: (WRONGPASS|ERR invalid password)" "the AUTH error is logged"
if grep -q wrong "$MM_TMP/policyd.log"; then not_ok "the password is not logged"; else ok "the password is not logged"; fi

# the password file is read at each connect: no reload needed
printf 's3cret\n' >"$PWFILE"
wait_for 20 answers "$PPORT" user000002@example.com "$OVER"
is "$(policy_ask "$PPORT" user000002@example.com)" "$OVER" "requirepass: AUTH password, over quota from Redis"
is "$(policy_ask "$PPORT" user000003@example.com 1000)" "action=DUNNO" "requirepass: under quota"

# Redis 6 ACL: "user password"; SIGHUP makes the daemon connect again
printf 'mailmaps acl-pass\n' >"$PWFILE"
kill -HUP "$P_PID"
sleep 0.5
is "$(policy_ask "$PPORT" user000002@example.com)" "$OVER" "ACL user: AUTH user password, over quota"
like "$(rp CLIENT LIST)" "user=mailmaps" "ACL user: the daemon is connected as mailmaps"
rp ACL SETUSER mailmaps resetpass ">other" >/dev/null
rr ACL SETUSER mailmaps resetpass ">other" >/dev/null
kill -HUP "$P_PID"
sleep 0.5
is "$(policy_ask "$PPORT" user000002@example.com)" "action=DUNNO" "ACL user, wrong password: policy_on_error"
printf 'mailmaps other\n' >"$PWFILE"
wait_for 20 answers "$PPORT" user000002@example.com "$OVER"
is "$(policy_ask "$PPORT" user000002@example.com)" "$OVER" "ACL user, password file fixed: over quota again"

# the primary dies: the replica answers, from the first request on
lines_before_kill=$(wc -l <"$MM_TMP/policyd.log")
{ kill -KILL "$REDIS_PID"; wait "$REDIS_PID"; } 2>/dev/null
REDIS_PID=""
is "$(policy_ask "$PPORT" user000002@example.com)" "$OVER" "primary killed: over quota, from the replica at once"
ok_n=0
for i in $(seq 1 20); do
    [ "$(policy_ask "$PPORT" user000003@example.com 1000)" = "action=DUNNO" ] &&
        [ "$(policy_ask "$PPORT" user000002@example.com)" = "$OVER" ] && ok_n=$((ok_n + 1))
done
is "$ok_n" 20 "primary killed: 40 more answers from the replica, all right"
if sed -n "$((lines_before_kill + 1)),\$p" "$MM_TMP/policyd.log" | grep -q "answered DUNNO"; then
    not_ok "no policy_on_error after the primary died"
else
    ok "no policy_on_error after the primary died"
fi

# the replica dies too: policy_on_error, quickly
{ kill -KILL "$REPLICA_PID"; wait "$REPLICA_PID"; } 2>/dev/null
is "$(policy_ask "$PPORT" user000002@example.com)" "action=DUNNO" "both dead: policy_on_error"

kill -TERM "$P_PID"
wait "$P_PID"
is "$?" 0 "policyd stops cleanly"
done_testing
