#!/usr/bin/env bash
# t-policyd-redis - the multi-node usage path end to end: a private Dovecot
# (mailmaps userdb, quota "count" backend, quota_clone into a private Redis)
# takes mail for a user until its quota refuses more; mailmaps-policyd with
# quota_usage = redis:... then refuses that user at RCPT, follows expunges,
# and survives Redis going away and coming back.
. "$(dirname "$0")/../lib/harness.sh"

policyd_test_setup
dovecot_test_setup
command -v redis-server >/dev/null 2>&1 || skip_all "redis-server is not installed"
moddir=$(. /usr/lib/dovecot/dovecot-config 2>/dev/null && printf '%s' "${dovecot_moduledir:-}")
[ -f "${moddir:-/usr/lib/dovecot/modules}/lib20_quota_clone_plugin.so" ] ||
    skip_all "Dovecot's quota_clone plugin is not installed"

# A database other than 0, so that the db= of quota_clone_dict and the /DB
# of quota_usage are shown to mean the same thing.
RDB=2
LIMIT=102400 # small's mailQuota: 100 (KB)

# ---- directory and maps: small (100 KB), roomy (10 MB), idle (no mail)
{
    account_ldif --name Small small "mailAlias: tiny@example.com" "mailQuota: 100"
    echo
    account_ldif --name Roomy roomy "mailQuota: 10M"
    echo
    account_ldif --name Idle idle "mailQuota: 100"
} >"$MM_TMP/people.ldif"
gen_users 3 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/people.ldif" --ldif "$MM_TMP/users.ldif"
start_redis
rcli() { redis_cli -n "$RDB" "$@"; }
free_port PPORT
write_shared_conf "$CONF" "ldap_timeout = 2" "policy_listen = inet:127.0.0.1:$PPORT" \
    "quota_usage = redis:127.0.0.1:$REDIS_PORT/$RDB"
sync_ok "sync --once builds the maps" "$CONF"

# ---- Dovecot, cloning its quota into Redis
dovecot_private_auth_modules "$PLUGIN"
free_port LPORT
if dovecot_24; then
    # the count backend always counts virtual sizes in 2.4
    DC_QUOTA='mail_plugins {
  quota = yes
  quota_clone = yes
}
quota "User quota" {
  driver = count
}
quota_clone {
  dict redis {
    redis_host = 127.0.0.1
    redis_port = '"$REDIS_PORT"'
    redis_db_id = '"$RDB"'
  }
}'
else
    DC_QUOTA='mail_plugins = $mail_plugins quota quota_clone
plugin {
  quota = count:User quota
  quota_vsizes = yes
  quota_clone_dict = redis:host=127.0.0.1:port='"$REDIS_PORT"':db='"$RDB"'
}'
fi
start_dovecot "$(dovecot_auth_conf "$CONF")" "auth_cache_size = 0
protocols = imap lmtp
service lmtp {
  inet_listener lmtp {
    port = $LPORT
  }
}
$DC_QUOTA
"
wait_port "$LPORT" 10 || fail_fast "Dovecot's LMTP does not listen on $LPORT"

if dovecot_24; then
    is "$(doveadm_c user -f quota_storage_size small@example.com 2>&1)" "${LIMIT}B" \
        "Dovecot 2.4 gets small's 100 KB limit from the mailmaps userdb"
else
    is "$(doveadm_c user -f quota_rule small@example.com 2>&1)" "*:storage=${LIMIT}B" \
        "Dovecot gets small's 100 KB limit from the mailmaps userdb"
fi

# The LMTP client: lmtp RCPT COUNT delivers up to COUNT messages of a little
# over 10 KB, one session, until one is refused; prints "N delivered" and
# the refusal.
cat >"$MM_TMP/lmtp.py" <<'PY'
import smtplib, sys
port, rcpt, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
body = "\n".join(["x" * 76] * 130)
c = smtplib.LMTP("127.0.0.1", port, timeout=10)
n, why = 0, ""
for i in range(count):
    msg = "From: a@example.org\nTo: %s\nSubject: message %d\n\n%s\n" % (rcpt, i, body)
    try:
        c.sendmail("a@example.org", [rcpt], msg)
    except smtplib.SMTPException as e:
        why = " " + repr(e)
        c.rset()
        break
    n += 1
c.quit()
print("%d delivered%s" % (n, why))
PY
lmtp() { python3 "$MM_TMP/lmtp.py" "$LPORT" "$@" 2>&1; }

# ---- deliver into small over LMTP until Dovecot's quota refuses; LMTP
# (unlike doveadm save) lets the last message use quota_grace, so the
# usage ends over the limit
r=$(lmtp small@example.com 30)
like "$r" "^[0-9]+ delivered .*552.*5\.2\.2.*[Qq]uota" "LMTP delivers into small until Dovecot refuses: $r"
saved=${r%% *}
like "$(lmtp roomy@example.com 1)" "^1 delivered$" "a message delivered to roomy"

# ---- what quota_clone left in Redis
used=$(rcli GET small@example.com/quota/storage)
like "$used" '^[0-9]+$' "quota_clone wrote small@example.com/quota/storage in db $RDB" ||
    diag "keys: $(rcli --scan | tr '\n' ' ')" "$(_mm_log_tail "$DC_LOG")"
if [ "${used:-0}" -ge "$LIMIT" ] 2>/dev/null; then
    ok "the counter is at or over the limit ($used >= $LIMIT bytes)"
else
    not_ok "the counter is at or over the limit"
    diag "got '$used', limit $LIMIT"
fi
is "$(rcli GET small@example.com/quota/messages)" "$saved" "…and the message count beside it"
kb=$(doveadm_c -f flow quota get -u small@example.com 2>/dev/null |
    sed -n 's/.*Type=STORAGE Value=\([0-9]*\) .*/\1/p')
is "$kb" "$(((used + 1023) / 1024))" "the counter is Dovecot's own usage (doveadm quota get: $kb KB)"
like "$(rcli GET roomy@example.com/quota/storage)" '^[1-9][0-9]*$' "roomy has a counter too"
is "$(rcli EXISTS idle@example.com/quota/storage)" 0 "idle, never touched, has no key"

# ---- the policy daemon reads the same counters
# pq RCPT [SIZE] - the daemon's action line for a RCPT request (size 1)
pq() { policy_ask "$PPORT" "$1" "${2:-1}"; }
# pq_is WANT RCPT... - true when pq answers WANT (for wait_for)
pq_is() {
    local want=$1; shift
    [ "$(pq "$@")" = "$want" ]
}

check "configuration check (-n)" "$POLICYD" -n -c "$CONF"
start_policyd --port "$PPORT" "$CONF" "$MM_TMP/policyd.log"
PD_PID=$POLICYD_PID

FULL="action=552 5.2.2 Mailbox full"
is "$(pq small@example.com)" "$FULL" "policy: small, over quota in Redis, is refused at RCPT (size=1)"
is "$(pq Small@Example.COM)" "$FULL" "policy: mixed case finds the same counter"
is "$(pq tiny@example.com)" "$FULL" "policy: an alias of small is refused"
is "$(pq small+Junk@example.com 1000)" "action=DUNNO" "policy: small+Junk within its +500M"
is "$(pq roomy@example.com 1000)" "action=DUNNO" "policy: roomy, under quota, DUNNO"
is "$(pq idle@example.com 1000)" "action=DUNNO" "policy: no key means usage 0, DUNNO"
is "$(pq idle@example.com 200000)" "$FULL" "policy: …but a message bigger than idle's limit is refused"
like "$(cat "$MM_TMP/policyd.log")" \
    "reject: recipient=<small@example.com> mailbox=small@example.com folder=INBOX usage=$used limit=$LIMIT " \
    "the rejection is logged with the usage from Redis"

# ---- expunging through Dovecot lowers the counter; the daemon follows
check "doveadm expunge empties small's INBOX" \
    doveadm_c expunge -u small@example.com mailbox INBOX all
is "$(rcli GET small@example.com/quota/storage)" 0 "quota_clone writes the new usage (0)"
is "$(pq small@example.com 1000)" "action=DUNNO" "policy: small is accepted again"
# fill it again for the outage tests
lmtp small@example.com 30 >/dev/null
used=$(rcli GET small@example.com/quota/storage)
is "$(pq small@example.com)" "$FULL" "policy: refilled ($used bytes), refused again"

# ---- Redis stops: policy_on_error (dunno); the daemon survives
roomy_last=$(rcli GET roomy@example.com/quota/storage)
check "Redis saves its data before the outage" rcli SAVE
stop_redis
is "$(pq small@example.com)" "action=DUNNO" "Redis down: policy_on_error = dunno"
is "$(pq small@example.com)" "action=DUNNO" "Redis down: a second request, same answer"
check "the daemon survives the outage" kill -0 "$PD_PID"
# Dovecot delivers without Redis; quota_clone logs the failed write and
# forgets it when the session ends, so the counter stays stale until the
# mailbox changes again.
like "$(lmtp roomy@example.com 1)" "^1 delivered$" "Redis down: LMTP still delivers to roomy"
if grep -q 'quota_clone_dict: Failed to write value' "$DC_LOG"; then
    ok "Redis down: Dovecot logs the failed quota_clone write"
else
    not_ok "Redis down: Dovecot logs the failed quota_clone write"
    _mm_log_tail "$DC_LOG"
fi
if grep -qi 'redis' "$MM_TMP/policyd.log"; then
    ok "the outage is logged"
else
    not_ok "the outage is logged"
    _mm_log_tail "$MM_TMP/policyd.log"
fi

# ---- Redis back (same port, data from its dump): answers again
start_redis
is "$(rcli GET small@example.com/quota/storage)" "$used" "Redis back with small's counter"
if wait_for 5 pq_is "$FULL" small@example.com; then
    ok "Redis back: the daemon reconnects and refuses small again"
else
    not_ok "Redis back: the daemon reconnects and refuses small again"
    diag "last answer: $(pq small@example.com)"
    _mm_log_tail "$MM_TMP/policyd.log"
fi
is "$(pq roomy@example.com 1000)" "action=DUNNO" "Redis back: roomy still DUNNO"
is "$(rcli GET roomy@example.com/quota/storage)" "$roomy_last" \
    "Redis back: roomy's counter misses the delivery made during the outage"

# ---- a Redis that lost its data: quota_clone writes only when a save, a
# copy or an expunge reaches it. doveadm save checks the quota before that
# and writes nothing; LMTP delivers by copying from its spooled message,
# and quota_clone notes the copy before the quota refuses it, so even a
# refused delivery puts the counter back.
rcli FLUSHDB >/dev/null
is "$(pq small@example.com)" "action=DUNNO" "counters lost: usage counts as 0 until Dovecot writes again"
printf 'Subject: s\n\n%s\n' "$(head -c 20000 /dev/zero | tr '\0' x)" |
    doveadm_c save -u small@example.com >"$MM_TMP/save.out" 2>&1
like "$? $(cat "$MM_TMP/save.out")" "^[1-9][0-9]* .*[Qq]uota" "doveadm save into full small is refused"
is "$(rcli EXISTS small@example.com/quota/storage)" 0 "…and writes no counter"
like "$(lmtp small@example.com 1)" "^0 delivered .*552" "an LMTP delivery to small is refused"
is "$(rcli GET small@example.com/quota/storage)" "$used" "…and writes the counter again"
is "$(pq small@example.com)" "$FULL" "policy: small refused again"

check "the daemon is still running" kill -0 "$PD_PID"
if grep -qiE 'panic|fatal' "$DC_LOG"; then
    not_ok "no panic or fatal error in Dovecot's log"
    diag "$(grep -iE 'panic|fatal' "$DC_LOG" | head)"
else
    ok "no panic or fatal error in Dovecot's log"
fi

done_testing
