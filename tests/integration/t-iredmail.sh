#!/usr/bin/env bash
# t-iredmail - an iRedMail directory used by configuration alone:
# contrib/iredmail/mailmaps.conf as shipped (only the site's URI, bind
# account and paths rewritten) against a private slapd with a schema of
# iRedMail's names, OIDs and syntaxes (iredmail-schema.ldif) holding a tree
# shaped like theirs (gen_users --iredmail: o=domains, domainName=D,
# ou=Users, mail=U@D; byte quotas, alias domains, shadow addresses with and
# without enabledService: shadowaddress, forwards with and without a copy,
# a disabled domain, disabled accounts), plus hand-made entries: a domain
# without mailboxes, a small quota, and the attacks (an alias domain that
# names another tenant's domain, shadow addresses and a forward key in
# foreign domains or on another account's address).
# Then: the maps, postmap -q on them and on postfix-config's ldap: tables,
# Dovecot with contrib/iredmail/dovecot-2.X.conf (doveadm user: the byte
# quota; IMAP login by a shadow address only where enabled), the policy
# daemon at the byte limit, and Postfix with contrib/iredmail/main.cf.snippet
# accepting mail to u@alias-domain and delivering it to u@primary.
. "$(dirname "$0")/../lib/harness.sh"

SYNC=$MAILMAPS_BUILD/mailmaps-sync
CLI=$MAILMAPS_BUILD/mailmaps
POLICYD=$MAILMAPS_BUILD/mailmaps-policyd
PLUGIN=$MAILMAPS_BUILD/libauthdb_mailmaps.so
C=$MM_TOP/contrib/iredmail
[ -x "$SYNC" ] && [ -x "$CLI" ] && [ -x "$POLICYD" ] || skip_all "mailmaps programs not built"
command -v slapd >/dev/null 2>&1 || skip_all "slapd is not installed"
command -v postmap >/dev/null 2>&1 || skip_all "postfix is not installed"

MAPS=$MM_TMP/maps
CONF=$MM_TMP/mailmaps.conf
VMAIL=$MM_TMP/vmail
N=3000
mkdir -p "$VMAIL"
chmod 0777 "$VMAIL"

# ---- the directory: 3000 accounts over example.com (alias domain
# example.net), example1.com, example2.com (example2.net) and the disabled
# example3.com; the last 30 accounts disabled
gen_users "$N" --iredmail --domains 4 --disabled 30 --disabled-domains 1 \
    --mail-base "$VMAIL" >"$MM_TMP/tree.ldif"
D=o=domains,$LDAP_BASE
# user DN: mail=U@DOM,ou=Users,domainName=DOM,...
udn() { printf 'mail=%s,ou=Users,domainName=%s,%s' "$1" "${1#*@}" "$D"; }
# hand - an active account: hand ADDRESS PASSWORD [LINE...]
hand() {
    local a=$1 pw=$2 l=${1%@*} line
    shift 2
    printf 'dn: %s\nobjectClass: inetOrgPerson\nobjectClass: shadowAccount\nobjectClass: mailUser\n' "$(udn "$a")"
    printf 'mail: %s\nuid: %s\ncn: %s\nsn: %s\nuserPassword: {PLAIN}%s\n' "$a" "$l" "$l" "$l" "$pw"
    printf 'accountStatus: active\nenabledService: mail\nenabledService: deliver\n'
    printf 'enabledService: imap\nenabledService: smtp\n'
    printf 'homeDirectory: %s/vmail1/%s/%s/%s-2024.01.02.03.04.05/\n' "$VMAIL" "${a#*@}" \
        "${l:0:1}/${l:0:2}/${l:0:3}" "$l"
    for line in "$@"; do printf '%s\n' "$line"; done
    echo
}
{
    # a domain without a mailbox yet is local all the same
    printf 'dn: domainName=empty.example,%s\nobjectClass: mailDomain\ndomainName: empty.example\n' "$D"
    printf 'accountStatus: active\nenabledService: mail\n\n'
    # tenant evil.example names example1.com (another tenant's primary
    # domain) as its alias domain
    printf 'dn: domainName=evil.example,%s\nobjectClass: mailDomain\ndomainName: evil.example\n' "$D"
    printf 'accountStatus: active\nenabledService: mail\nenabledService: domainalias\n'
    printf 'domainAliasName: example1.com\n\n'
    printf 'dn: ou=Users,domainName=evil.example,%s\nobjectClass: organizationalUnit\nou: Users\n\n' "$D"
    hand mallory@evil.example mallorypw "mailQuota: 1073741824" \
        "enabledService: shadowaddress" "shadowAddress: boss@gmail.com" \
        "shadowAddress: user000004@example.com" "shadowAddress: mallory2@evil.example" \
        "enabledService: forward" "mailForwardingAddress: mallory@elsewhere.example"
    # an account in a foreign domain, filed under a local one: no forward
    # key (nor anything else) for ceo@gmail.com
    hand ceo@gmail.com ceopw "enabledService: forward" "mailForwardingAddress: mallory@evil.example"
    # 100000 bytes, as iRedMail stores it (in kilobytes it would be ~98 MB)
    hand tiny@example.com tinypw "mailQuota: 100000"
} | sed 's/^dn: mail=ceo@gmail.com,ou=Users,domainName=gmail.com,/dn: mail=ceo@gmail.com,ou=Users,domainName=example.com,/' \
    >"$MM_TMP/hand.ldif"
start_slapd --schema "$MM_TOP/tests/integration/iredmail-schema.ldif" \
    --index "domainName,domainAliasName,shadowAddress,accountStatus,enabledService eq" \
    --ldif "$MM_TMP/tree.ldif" --ldif "$MM_TMP/hand.ldif"

# The shipped sample: the site's names replaced, nothing else.
sed -e "s|^ldap_uri = .*|ldap_uri = $LDAP_URI|" \
    -e "s|^ldap_bind_dn = .*|ldap_bind_dn = $LDAP_SYNC_DN|" \
    -e "s|^ldap_bind_pw_file = .*|ldap_bind_pw_file = $LDAP_SYNC_PW_FILE|" \
    -e "s|^mail_base = /var/vmail$|mail_base = $VMAIL|" "$C/mailmaps.conf" >"$CONF"
is "$(grep -c "^ldap_base = $D$" "$CONF")" 1 "the sample's ldap_base is the test tree's o=domains"
free_port PPORT
{
    echo "maps_dir = $MAPS"
    echo "ldap_timeout = 3"
    echo "policy_listen = inet:127.0.0.1:$PPORT"
    echo "policy_socket_group = root"
} >>"$CONF"
getent group dovecot >/dev/null || sed -i '/^maps_group/d' "$CONF"
chmod 0644 "$CONF"
check "mailmaps-sync -n accepts contrib/iredmail/mailmaps.conf" "$SYNC" -n -c "$CONF"

# the generated entry of account I: its home
home_of() {
    awk -v dn="$(udn "$1")" '$0 == "dn: " dn { f = 1 } f && /^homeDirectory: / { print substr($0, 16); exit }' \
        "$MM_TMP/tree.ldif" "$MM_TMP/hand.ldif"
}
# mailboxes.cdb's value for an account: <home>/Maildir/ below mail_base
mbox_of() {
    local h
    h=$(home_of "$1")
    h=${h%/}
    printf '%s/Maildir/' "${h#"$VMAIL"/}"
}
pq() { postmap -q "$1" "cdb:$MAPS/$2" 2>/dev/null; }

# ---- the sync
"$SYNC" -c "$CONF" --once 2>"$MM_TMP/sync.err"
is "$?" 0 "mailmaps-sync --once with contrib/iredmail/mailmaps.conf" ||
    fail_fast "no maps: $(tail -5 "$MM_TMP/sync.err")"
W=$MM_TMP/sync.err

# domains: the active domain entries and their alias domains
for d in example.com example1.com example2.com example.net example2.net empty.example evil.example; do
    is "$(pq "$d" domains)" OK "domains.cdb: $d"
done
for d in example3.com example1.net gmail.com partner.example elsewhere.example; do
    is "$(pq "$d" domains)" "" "domains.cdb: no $d"
done

# mailboxes and users: byte quotas as given, home and Maildir agree
U1=user000001@example1.com    # 1 GiB
U4=user000004@example.com     # 5 GiB
U12=user000012@example.com    # 20 GiB
U9=user000009@example1.com    # 0 = unlimited
U7=user000007@example3.com    # in the disabled domain, without domainStatus
U33=user000033@example1.com   # no mailQuota: default_quota 0
is "$(pq "$U1" mailboxes)" "$(mbox_of "$U1")" "mailboxes.cdb: <homeDirectory>/Maildir/ below mail_base"
U6=user000006@example2.com    # homeDirectory without the trailing /
is "$(pq "$U6" mailboxes)" "$(mbox_of "$U6")" "mailboxes.cdb: the same for a home without a trailing /"
for q in "$U1:1073741824" "$U4:5368709120" "$U12:21474836480" "$U9:0" "$U33:0" "tiny@example.com:100000"; do
    like "$(pq "${q%%:*}" users)" "(^|	)quota_rule=\*:storage=${q#*:}B?(	|$)" \
        "users.cdb: ${q%%:*} has ${q#*:} bytes"
done
h=$(home_of "$U1")
like "$(pq "$U1" users)" "^home=${h%/}/?	" "users.cdb: home is homeDirectory"
like "$(pq "$U1" users)" "	mail=maildir:${h%/}/+Maildir/?(	|$)" "users.cdb: mail is <home>/Maildir"
is "$(pq "$U7" users)" "" "the disabled domain's account without domainStatus is not a user"
is "$(pq "$U7" mailboxes)$(pq "$U7" aliases)" "" "nor a mailbox, nor its forward an alias"
like "$(grep -ic "$(udn "$U7")" "$W")" '^1$' "one warning names its DN"
is "$(pq user000003@example3.com users)" "" "an account with domainStatus: disabled is not a user"
is "$(pq user002972@example.com users)" "" "a disabled account (accountStatus: disabled) is not a user"
like "$(pq user002970@example2.com users)" "^home=" "the last active generated account is a user"
users=$(sed -n 's/^users=//p' "$MAPS/status")
like "$users" '^[0-9]+$' "status: $users users"

# alias domains: u@alias -> u@primary, for mailboxes and aliases alike
is "$(pq user000004@example.net aliases)" "$U4" "aliases.cdb: user000004@example.net -> $U4"
is "$(pq user000002@example2.net aliases)" "user000002@example2.com" \
    "aliases.cdb: user000002@example2.net -> user000002@example2.com"
is "$(pq tiny@example.net aliases)" "tiny@example.com" "aliases.cdb: a hand-made account too"
is "$(pq user000001@example1.net aliases)" "" "no alias domain, no alias"
is "$(pq user000003@example.net aliases)" "" "an alias domain names only its own domain's accounts"
like "$(pq shadow-user000020@example.net aliases)" "^(shadow-)?user000020@example\.com$" \
    "a shadow address also answers in the alias domain"

# shadow addresses, gated by enabledService: shadowaddress
is "$(pq shadow-user000020@example.com aliases)" "user000020@example.com" \
    "shadowAddress with enabledService: shadowaddress is an alias"
is "$(pq shadow-user000010@example2.com aliases)" "" "shadowAddress without the flag is not"
is "$(pq shadow-user000010@example2.net aliases)" "" "(nor in an alias domain)"

# forwards, gated by enabledService: forward
is "$(pq user000014@example2.com aliases)" "user000014@partner.example,user000014@example2.com" \
    "a forward with a copy: the address maps to the forward and to itself"
is "$(pq user000014@example2.com mailboxes)" "$(mbox_of user000014@example2.com)" \
    "its mailbox stays"
is "$(pq user000021@example1.com aliases)" "user000021@partner.example" "a forward without a copy"
is "$(pq user000070@example2.com aliases)" "" "mailForwardingAddress without enabledService: forward is not"
like "$(pq team3@example1.com aliases)" "(^|,)user000013@example1\.com(,|$)" "memberOfGroup: the list has its member"

# the attacks
is "$(pq user000001@evil.example aliases)" "" "an alias domain naming another tenant's domain takes nothing"
is "$(pq "$U1" aliases)" "" "the tenant's own addresses are not rewritten"
like "$(grep -ic 'domainName=evil.example.*example1.com\|example1.com.*domainName=evil.example' "$W")" '^[1-9]' \
    "a warning names the domain entry"
is "$(pq boss@gmail.com aliases)" "" "a shadow address in a foreign domain is dropped"
is "$(pq user000004@example.com aliases)" "" "a shadow address on another account's address is dropped"
is "$(pq "$U4" mailboxes)" "$(mbox_of "$U4")" "that account keeps its mailbox"
is "$(pq mallory2@evil.example aliases)" "mallory@evil.example" "the attacker keeps its honest shadow address"
is "$(pq mallory@evil.example aliases)" "mallory@elsewhere.example" "and its own forward"
is "$(pq ceo@gmail.com aliases)$(pq ceo@gmail.com users)$(pq ceo@gmail.com mailboxes)" "" \
    "an account in a foreign domain: no forward key, no user, no mailbox"
check "mailmaps check: the maps keep every rule" "$CLI" -c "$CONF" check

# ---- postfix-config's ldap: tables answer as the maps
PFC=$MM_TMP/pfconf
mkdir -p "$PFC"
check "mailmaps postfix-config -d" "$CLI" -c "$CONF" postfix-config -d "$PFC"
diag "postfix-config wrote: $(cd "$PFC" && ls | tr '\n' ' ')"
lq() { postmap_q "$1" "ldap:$PFC/mailmaps-$2.cf" 2>"$MM_TMP/lq.err"; }
# (the domains table answers OK once per entry that makes the domain local)
for d in example.com example.net empty.example; do
    like "$(lq "$d" domains)" '^OK(,OK)*$' "ldap: domains: $d"
done
for d in example3.com gmail.com; do
    is "$(lq "$d" domains)" "" "ldap: domains: no $d"
done
# An account whose home is its own (not <mail_base>/<domain>/<local>, as
# every iRedMail home) is deferred until a sync has checked its paths.
is "$(postmap_qm "$U1" "ldap:$PFC/mailmaps-mailboxes.cf" "ldap:$PFC/mailmaps-defer.cf")" \
    "<error>" "ldap: mailboxes: $U1 deferred (a lookup error in mailmaps-defer.cf) until a sync has it"
like "$(cat "$MM_TMP/q.err")" "expansion|limit" "… by the defer table's expansion limit"
is "$(postmap_qm shadow-user000010@example2.com "ldap:$PFC/mailmaps-mailboxes.cf" \
    "ldap:$PFC/mailmaps-defer.cf")" "<none>" "ldap: mailboxes: an ungated shadow address is no mailbox"
is "$(lq shadow-user000020@example.com aliases)" "user000020@example.com" "ldap: aliases: a gated shadow address"
is "$(lq shadow-user000010@example2.com aliases)" "" "ldap: aliases: no ungated one"
is "$(lq user000004@example.net alias-domains)" "$U4" "ldap: alias-domains: u@alias-domain -> u@primary"
is "$(lq user000001@example1.net alias-domains)$(lq user000001@evil.example alias-domains)" "" \
    "ldap: alias-domains: nothing where there is no alias domain, nor from evil.example's claim"
is "$(lq user000014@example2.com forward | tr ',' '\n' | sort | tr '\n' ' ')" \
    "user000014@example2.com user000014@partner.example " "ldap: forward: the forward with a copy"
is "$(lq user000070@example2.com forward)" "" "ldap: forward: no ungated forward"
is "$(lq user000001@evil.example aliases)" "" "ldap: aliases: nothing from the alias domain that names example1.com"
is "$(lq ceo@gmail.com forward)" "" "ldap: forward: no forward key in a foreign domain"

# ---- Dovecot with contrib/iredmail/dovecot-2.X.conf
if need_root && [ -f "$PLUGIN" ] && [ -x /usr/lib/dovecot/imap ]; then
    if dovecot_24; then DV=2.4; else DV=2.3; fi
    sed "s|/etc/mailmaps/mailmaps.conf|$CONF|" "$C/dovecot-$DV.conf" >"$MM_TMP/dovecot-iredmail.conf"
    chmod 0644 "$MM_TMP/dovecot-iredmail.conf"
    dovecot_private_auth_modules "$PLUGIN"
    start_dovecot "!include $MM_TMP/dovecot-iredmail.conf" "auth_cache_size = 0
$(dovecot_quota_conf)"
    out=$(doveadm_c user "$U4" 2>&1)
    if [ "$DV" = 2.4 ]; then
        like "$out" 'quota_storage_size[[:space:]]+5368709120B' "doveadm user: 5368709120 bytes as given (2.4)"
    else
        like "$out" 'quota_rule[[:space:]]+\*:storage=5368709120B' "doveadm user: 5368709120 bytes as given (2.3)"
    fi
    like "$(doveadm_c quota get -u tiny@example.com 2>&1)" 'User quota +STORAGE +0 +9[78] ' \
        "doveadm quota get: tiny's limit is 100000 bytes (97 KiB)"
    doveadm_c user shadow-user000020@example.com >"$MM_TMP/du.out" 2>&1
    is "$?" 0 "doveadm user: a shadow address with the flag is found (alias_login)"
    like "$(cat "$MM_TMP/du.out")" "home[[:space:]]+${VMAIL}/vmail1/example\.com/u/us/use/user000020-" \
        "… as its account"
    doveadm_c user shadow-user000010@example2.com >/dev/null 2>&1
    is "$?" 67 "doveadm user: a shadow address without the flag is unknown"
    like "$(imap_login shadow-user000020@example.com "$MM_USER_PW" "SELECT INBOX" | tr '\n' '|')" \
        '^a OK.*\|c1 OK' "IMAP: login by the enabled shadow address, SELECT INBOX"
    like "$(imap_login "$U1" "$MM_USER_PW")" '^a OK' "IMAP: login by the address"
    # Refusals through doveadm auth test (77), which has no client address
    # for Dovecot's auth penalty to slow down; one over IMAP, at the end.
    for t in "user000003@example3.com:$MM_USER_PW:the disabled domain's account" \
             "user000004@example.com:mallorypw:the attacker's password on the account it shadows" \
             "boss@gmail.com:mallorypw:the attacker's foreign shadow address" \
             "ceo@gmail.com:ceopw:the account in a foreign domain"; do
        IFS=: read -r u p what <<<"$t"
        doveadm_c auth test "$u" "$p" >/dev/null 2>&1
        is "$?" 77 "doveadm auth test: $what is refused"
    done
    doveadm_c auth test shadow-user000020@example.com "$MM_USER_PW" >/dev/null 2>&1
    is "$?" 0 "doveadm auth test: the enabled shadow address logs in"
    like "$(imap_login shadow-user000010@example2.com "$MM_USER_PW")" '^a NO' \
        "IMAP: login by a shadow address without the flag is refused"
else
    skip "Dovecot with contrib/iredmail" "needs root, the built plugin and dovecot-imapd"
fi

# ---- the policy daemon: bytes, at the limit (usage 99000 of 100000)
TH=$(home_of tiny@example.com)
mkdir -p "${TH%/}/Maildir"
printf '100000S\n99000 10\n' >"${TH%/}/Maildir/maildirsize"
chmod -R a+rwX "$VMAIL"
policy() {  # policy RCPT SIZE - the action for one RCPT
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nsender=a@example.org\nrecipient=%s\nsize=%s\n\n' \
        "$1" "$2" | timeout 10 "$POLICYD" --stdio -c "$CONF" 2>>"$MM_TMP/policyd.err" | sed -n 's/^action=//p'
}
is "$(policy tiny@example.com 1000)" DUNNO "policy: up to the limit in bytes passes"
is "$(policy tiny@example.com 11000)" DUNNO "policy: up to the 10% grace passes"
like "$(policy tiny@example.com 11001)" '^552 5\.2\.2 ' "policy: one byte beyond is refused"
like "$(policy tiny@example.net 11001)" '^552 5\.2\.2 ' "policy: also by its alias-domain address"

# ---- Postfix with contrib/iredmail/main.cf.snippet
if need_root && postconf -m 2>/dev/null | grep -qx cdb; then
    chgrp postfix "$PFC"/mailmaps-*.cf
    snippet=$(sed -e "s|/var/lib/mailmaps/|$MAPS/|g" -e "s|/etc/postfix/|$PFC/|g" \
        -e "s|/var/vmail|$VMAIL|g" "$C/main.cf.snippet")
    "$POLICYD" -f -c "$CONF" >"$MM_TMP/policyd.log" 2>&1 </dev/null &
    register_pid $!
    wait_port "$PPORT" 10 || fail_fast "policyd does not listen: $(tail -3 "$MM_TMP/policyd.log")"
    start_postfix "$snippet" "virtual_uid_maps = static:2000" "virtual_gid_maps = static:2000" \
        "smtpd_recipient_restrictions = reject_unlisted_recipient, check_policy_service inet:127.0.0.1:$PPORT, reject_unauth_destination"
    is "$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null)" "" "postconf: the snippet's lines without a warning"
    for t in domains:example.net:OK "mailboxes:$U1:$(mbox_of "$U1")" "aliases:user000004@example.net:$U4"; do
        p=${t%%:*} r=${t#*:}
        case $p in domains) param=virtual_mailbox_domains ;; mailboxes) param=virtual_mailbox_maps ;;
                   aliases) param=virtual_alias_maps ;; esac
        first=$(postconf -c "$PF_CONF" -h "$param" | cut -d, -f1)
        is "$(postmap -c "$PF_CONF" -q "${r%%:*}" "$first")" "${r#*:}" "postmap -q ${r%%:*} $param's first table"
    done
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@example.org shadow-user000010@example2.com)" '^550 5\.1\.1 ' \
        "SMTP: a shadow address without the flag is an unknown user"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@example.org user000001@example3.com)" '^[45]54 [45]\.7\.1 ' \
        "SMTP: the disabled domain is not ours (relay denied)"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@example.org ceo@gmail.com)" '^[45]54 [45]\.7\.1 ' \
        "SMTP: nor is gmail.com"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@example.org tiny@example.net 11001)" '^552 5\.2\.2 ' \
        "SMTP: SIZE= one byte beyond tiny's byte quota is refused at RCPT"
    like "$(smtp_rcpt "$PF_SMTP_PORT" a@example.org user000001@evil.example)" '^550 5\.1\.1 ' \
        "SMTP: user000001@evil.example is unknown (no alias domain taken from example1.com)"
    # send TO SUBJECT - one message through the private smtpd
    send() {
        swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --from a@example.org --to "$1" \
            --header "Subject: $2" >>"$MM_TMP/swaks.out" 2>&1
    }
    # delivered ACCOUNT SUBJECT WHAT - the message reaches ACCOUNT's
    # <homeDirectory>/Maildir within 20 s
    delivered() {
        local h
        h=$(home_of "$1")
        if wait_for 20 sh -c "grep -rqs '$2' '${h%/}/Maildir/new/'"; then
            ok "$3"
        else
            not_ok "$3: $(tail -3 "$PF_LOG")"
        fi
    }
    send user000004@example.net "via the alias domain"
    is "$?" 0 "swaks: mail to user000004@example.net accepted"
    delivered "$U4" "via the alias domain" "it is delivered into $U4's Maildir (<homeDirectory>/Maildir)"
    send user000014@example2.com "forwarded with a copy"
    is "$?" 0 "swaks: mail to a forwarding account accepted"
    delivered user000014@example2.com "forwarded with a copy" "the forward keeps a copy in the mailbox"
    send "$U1" "for the tenant"
    delivered "$U1" "for the tenant" "mail to $U1 stays with the tenant, whatever evil.example names"
    is "$(grep -rls 'for the tenant' "$VMAIL/vmail1/evil.example" 2>/dev/null)" "" "nothing reached evil.example"
else
    skip "Postfix with contrib/iredmail/main.cf.snippet" "needs root and Postfix with cdb"
fi

done_testing
