# tests/lib/dovecot.sh - a private Dovecot, its auth and quota blocks, IMAP
# and doveadm clients (part of tests/lib/harness.sh)

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


# dovecot_test_setup - the start of a test of the Dovecot driver: PLUGIN,
# this build's auth module; skip_all unless it is built, the test runs as
# root and Dovecot is installed
dovecot_test_setup() {
    PLUGIN=$MAILMAPS_BUILD/libauthdb_mailmaps.so
    [ -f "$PLUGIN" ] || skip_all "libauthdb_mailmaps.so not built"
    need_root || skip_all "a private Dovecot needs root"
    command -v doveadm >/dev/null 2>&1 || skip_all "dovecot-core is not installed"
}
