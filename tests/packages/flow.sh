#!/usr/bin/env bash
# tests/packages/flow.sh - the mail flow against the installed packages
# only, run by tests/packages/run inside a chroot where mailmaps (and
# dovecot-mailmaps unless MAILMAPS_PKG_DOVECOT=0) are installed: a private
# slapd, /etc/mailmaps/mailmaps.conf pointed at it as an administrator
# edits it, a sync as mailmaps-sync-once.service runs it, postmap -q and
# the monitoring plugins on /var/lib/mailmaps, Dovecot with the installed
# driver and conf.d snippet, mailmaps-policyd as its unit runs it, asked
# directly and by Postfix. The programs, module, units and snippets used
# are the installed ones; from this tree only the test harness and the
# LDAP schema for the private slapd. The configuration and the maps stay
# for the upgrade and purge checks that follow.
. "$(dirname "$0")/../lib/harness.sh"

CONF=/etc/mailmaps/mailmaps.conf
MAPS=/var/lib/mailmaps
VMAIL=/var/vmail
DOVECOT=${MAILMAPS_PKG_DOVECOT:-1}

# unit_file NAME - the installed unit file NAME
unit_file() {
    local d
    for d in /usr/lib/systemd/system /lib/systemd/system; do
        [ -f "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
    done
    return 1
}

# unit_key FILE KEY - the last value of KEY= in FILE's [Service] section
unit_key() {
    awk -v k="$2" '/^\[/ { s = ($0 == "[Service]") }
        s && index($0, k "=") == 1 { v = substr($0, length(k) + 2) }
        END { print v }' "$1"
}

# unit_cmd UNIT KEY - set UNIT_CMD to UNIT's command KEY (ExecStart,
# ExecStartPre) run as systemd would set it up, without the sandbox: as
# User= and Group= with the user's groups plus SupplementaryGroups=, and
# UNIT_UMASK to its UMask=; creates its RuntimeDirectory=
unit_cmd() {
    local f user group groups rt cmd
    f=$(unit_file "$1") || { echo "no unit $1" >&2; return 1; }
    user=$(unit_key "$f" User); group=$(unit_key "$f" Group)
    groups=$( { id -Gn "$user" | tr ' ' '\n'; unit_key "$f" SupplementaryGroups | tr ' ' '\n'; } |
              grep . | sort -u | paste -sd,)
    rt=$(unit_key "$f" RuntimeDirectory)
    [ -z "$rt" ] || install -d -o "$user" -g "$group" -m "$(unit_key "$f" RuntimeDirectoryMode)" "/run/$rt"
    read -ra cmd <<<"$(unit_key "$f" "$2")"
    UNIT_CMD=(setpriv --reuid="$user" --regid="$group" --groups="$groups" -- "${cmd[@]}")
    UNIT_UMASK=$(unit_key "$f" UMask)
}

# as_unit UNIT KEY - run that command (see unit_cmd) and wait for it
as_unit() {
    unit_cmd "$1" "$2" || return 1
    (umask "$UNIT_UMASK" && exec "${UNIT_CMD[@]}")
}

# ---------------------------------------------------------------- directory

{
    account_ldif alice "mailAlias: postmaster@example.com" "mailGroupMember: staff@example.com" \
        "userPassword: $MM_USER_PW_HASH"
    echo
    account_ldif bob "mailGroupMember: staff@example.com" "mailQuota: 1M" \
        "userPassword: $MM_USER_PW_HASH"
} >"$MM_TMP/people.ldif"
gen_users 40 --domains 2 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/people.ldif" --ldif "$MM_TMP/users.ldif"

# ---------------------------------------------------------------- configure

# As README.Debian says: the bind password readable by the units' group only.
install -m 0640 -o root -g mailmaps "$LDAP_SYNC_PW_FILE" /etc/mailmaps/bind.pw
{
    echo
    echo "# ---- this machine"
    echo "ldap_uri = $LDAP_URI"
    echo "ldap_bind_dn = $LDAP_SYNC_DN"
    echo "ldap_bind_pw_file = /etc/mailmaps/bind.pw"
    echo "ldap_base = $LDAP_BASE"
    [ "$DOVECOT" -eq 1 ] && echo "maps_group = dovecot"
    echo "mail_base = $VMAIL"
} >>"$CONF"
mkdir -p "$VMAIL"
check "mailmaps-sync -n takes the edited /etc/mailmaps/mailmaps.conf" mailmaps-sync -n

# ---------------------------------------------------------------- sync

check "mailmaps-sync-once.service's command as its user: a sync" \
    as_unit mailmaps-sync-once.service ExecStart
check "mailmaps status: fresh" mailmaps status
check "mailmaps check: the maps agree" mailmaps check
want_group=mailmaps
[ "$DOVECOT" -eq 1 ] && want_group=dovecot
is "$(stat -c '%U:%G %a' "$MAPS/users.cdb")" "mailmaps:$want_group 640" \
    "users.cdb: owner mailmaps, group $want_group (maps_group), 0640"
is "$(stat -c '%U %a' "$MAPS/mailboxes.cdb")" "mailmaps 644" "mailboxes.cdb: owner mailmaps, 0644"
is "$(postmap_q alice@example.com "cdb:$MAPS/mailboxes")" "example.com/alice/Maildir/" \
    "postmap -q alice@example.com cdb:$MAPS/mailboxes"
is "$(postmap_q postmaster@example.com "cdb:$MAPS/aliases")" "alice@example.com" \
    "postmap -q postmaster@example.com cdb:$MAPS/aliases"
is "$(postmap_q example1.com "cdb:$MAPS/domains")" "OK" "postmap -q example1.com cdb:$MAPS/domains"
out=$(/usr/lib/nagios/plugins/check_mailmaps)
like "$? $out" '^0 OK: ' "the Nagios plugin where Nagios looks: OK"
ln -s /usr/share/munin/plugins/mailmaps_ "$MM_TMP/mailmaps_accounts"
like "$("$MM_TMP/mailmaps_accounts")" 'users\.value 42' "the Munin plugin where Munin looks: 42 users"

# ---------------------------------------------------------------- Dovecot

if [ "$DOVECOT" -eq 1 ]; then
    check "the dovecot user reads users.cdb" \
        setpriv --reuid=dovecot --regid=dovecot --init-groups cat "$MAPS/users.cdb"
    start_dovecot "!include /etc/dovecot/conf.d/auth-mailmaps.conf.ext" "auth_verbose = yes"
    # The driver answers in the field names of the Dovecot it was built for.
    quota_field='quota_rule[[:space:]]+\*:storage=10737418240B'
    case "$(dovecot --version)" in
        2.3*) ;;
        *) quota_field='quota_storage_size[[:space:]]+10737418240B' ;;
    esac
    like "$(doveadm_c user alice@example.com 2>&1)" "$quota_field" \
        "doveadm user alice@example.com: the installed driver answers from the maps"
    like "$(doveadm_c auth test alice@example.com "$MM_USER_PW" 2>&1)" 'auth succeeded' \
        "doveadm auth test alice@example.com: the password from the maps"
    is "$(doveadm_c user '*' 2>/dev/null | wc -l)" "$(sed -n 's/^users=//p' "$MAPS/status")" \
        "doveadm user '*' lists every user of the maps"
    stop_dovecot
else
    skip "Dovecot with the installed driver" "no dovecot-mailmaps for this release yet"
fi

# ---------------------------------------------------------------- policy

# bob (mailQuota 1M) has 2 MB in his Maildir++ maildirsize: over quota.
mkdir -p "$VMAIL/example.com/bob/Maildir"
printf '1048576S\n2000000 10\n' >"$VMAIL/example.com/bob/Maildir/maildirsize"
chmod -R a+rX "$VMAIL"
check "mailmaps-policyd.service's ExecStartPre (-n) as its user" \
    as_unit mailmaps-policyd.service ExecStartPre
unit_cmd mailmaps-policyd.service ExecStart
(umask "$UNIT_UMASK" && exec "${UNIT_CMD[@]}") >"$MM_TMP/policyd.log" 2>&1 </dev/null {_mm_out}>&- &
register_pid $!
SOCK=/run/mailmaps/policy.sock
wait_for 10 test -S "$SOCK" || diag "$(tail -n 20 "$MM_TMP/policyd.log")"
is "$(stat -c '%A %G' "$SOCK" 2>&1)" "srw-rw---- postfix" \
    "the policy socket in the unit's RuntimeDirectory: 0660, group postfix"
ASK=$MM_TOP/tests/tools/policy_ask.py
is "$(python3 "$ASK" "unix:$SOCK" bob@example.com 1000 2>&1)" "action=552 5.2.2 Mailbox full" \
    "policy request for bob (over quota): 552"
is "$(python3 "$ASK" "unix:$SOCK" alice@example.com 1000 2>&1)" "action=DUNNO" \
    "policy request for alice: DUNNO"
# Only RCPT TO is asked for: no delivery settings.
start_postfix \
    "virtual_mailbox_domains = cdb:$MAPS/domains" \
    "virtual_mailbox_maps = cdb:$MAPS/mailboxes" \
    "virtual_alias_maps = cdb:$MAPS/aliases" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$SOCK, timeout=10s, default_action=DUNNO }, reject_unauth_destination"
like "$(smtp_rcpt "$PF_SMTP_PORT" carol@example.org bob@example.com)" '^552 5\.2\.2 ' \
    "Postfix asks the installed policy daemon: RCPT TO bob@example.com gets 552"
like "$(smtp_rcpt "$PF_SMTP_PORT" carol@example.org staff@example.com)" '^250 ' \
    "RCPT TO staff@example.com (a list of two) is accepted"
like "$(smtp_rcpt "$PF_SMTP_PORT" carol@example.org nobody@example.com)" '^550 ' \
    "RCPT TO nobody@example.com: unknown to Postfix's cdb: maps"

done_testing
