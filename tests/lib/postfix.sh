# tests/lib/postfix.sh - a private Postfix, SMTP clients, postmap (part of
# tests/lib/harness.sh)

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

# postmap_qm KEY TABLE... - one lookup through the tables in order (postmap,
# as Postfix, takes the first that answers): the value, "<none>" when not
# found, "<error>" on a lookup error (postmap exits 1 both times: stderr,
# kept in $MM_TMP/q.err, tells them apart)
postmap_qm() {
    local key=$1 v rc
    shift
    postmap_conf
    v=$(postmap -c "$PF_CONF" -q "$key" "$@" 2>"$MM_TMP/q.err"); rc=$?
    if [ $rc -eq 0 ]; then printf '%s' "$v"
    elif [ -s "$MM_TMP/q.err" ]; then printf '<error>'
    else printf '<none>'; fi
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
