# iredmail-small.sh - a small iRedMail-shaped directory with one entry for
# each case the readers must get right, for t-fallback, t-postfix-config,
# t-persist and t-dryrun (and any test that wants it). Sourced after
# lib.sh; it needs lib.sh's slapd_config --schema and the test schema
# tests/integration/iredmail-schema.ldif (iredmail_available says whether
# they are there).
#
#   example.com      alias domain example.net
#     alice          shadowAddress al@example.com (enabledService
#                    shadowaddress: counts), quota 1 GiB in bytes, member
#                    of team@other.org
#     bob            shadowAddress bobby@example.com without the flag
#     carol          forwards to carol@gmail.example and to herself (a copy)
#     dave           mailForwardingAddress without enabledService forward
#     erin           shadowAddress alice@example.net: a real claim in the
#                    alias domain beats the derived alice@example.net
#   other.org        frank, member of team@other.org
#   empty.example    a domain entry without accounts
#   disabled.example accountStatus disabled: gina there is skipped
#   (no entry)       henry@nodomain.example: no domain entry, skipped (and
#                    his forward with him)

IREDMAIL_SCHEMA=$MM_TOP/tests/integration/iredmail-schema.ldif
IREDMAIL_BASE="o=domains,$LDAP_BASE"

# iredmail_available - the schema and slapd_config --schema are there
iredmail_available() {
    [ -r "$IREDMAIL_SCHEMA" ] && declare -f slapd_schema_conf >/dev/null
}

# iredmail_domain_ldif NAME STATUS [ALIAS...] - a domain entry and its ou=Users
iredmail_domain_ldif() {
    local d=$1 status=$2 a; shift 2
    printf 'dn: domainName=%s,%s\nobjectClass: mailDomain\ndomainName: %s\n' \
        "$d" "$IREDMAIL_BASE" "$d"
    printf 'accountStatus: %s\nenabledService: mail\n' "$status"
    for a in "$@"; do printf 'domainAliasName: %s\n' "$a"; done
    printf '\ndn: ou=Users,domainName=%s,%s\nobjectClass: organizationalUnit\nou: Users\n\n' \
        "$d" "$IREDMAIL_BASE"
}

# iredmail_user_ldif ADDRESS [LINE...] - an active mail account ADDRESS
# under its domain's ou=Users (or under the base when the domain has no
# entry), with any further attribute lines
iredmail_user_ldif() {
    local mail=$1 line parent; shift
    local u=${mail%@*} d=${mail#*@}
    parent="ou=Users,domainName=$d,$IREDMAIL_BASE"
    [ "$d" = nodomain.example ] && parent=$IREDMAIL_BASE
    printf 'dn: mail=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: mailUser\n' "$mail" "$parent"
    # the values of one attribute on adjacent lines: slapadd -q stores an
    # attribute given twice as two, and the entry then carries it twice
    printf 'cn: %s\nsn: %s\nuid: %s\nmail: %s\nuserPassword: %s\naccountStatus: active\n' \
        "$u" "$u" "$u" "$mail" "$MM_USER_PW_HASH"
    printf 'enabledService: mail\n'
    for line in "$@"; do printf '%s\n' "$line"; done
    echo
}

# iredmail_small_ldif - the whole tree on stdout
iredmail_small_ldif() {
    printf 'dn: %s\nobjectClass: organization\no: domains\n\n' "$IREDMAIL_BASE"
    iredmail_domain_ldif example.com active example.net
    iredmail_domain_ldif other.org active
    iredmail_domain_ldif empty.example active
    iredmail_domain_ldif disabled.example disabled
    iredmail_user_ldif alice@example.com "enabledService: shadowaddress" \
        "shadowAddress: al@example.com" "mailQuota: 1073741824" "memberOfGroup: team@other.org"
    iredmail_user_ldif bob@example.com "shadowAddress: bobby@example.com"
    iredmail_user_ldif carol@example.com "enabledService: forward" \
        "mailForwardingAddress: carol@gmail.example" "mailForwardingAddress: carol@example.com"
    iredmail_user_ldif dave@example.com "mailForwardingAddress: dave@gmail.example"
    iredmail_user_ldif erin@example.com "enabledService: shadowaddress" \
        "shadowAddress: alice@example.net"
    iredmail_user_ldif frank@other.org "memberOfGroup: team@other.org"
    iredmail_user_ldif gina@disabled.example
    iredmail_user_ldif henry@nodomain.example "enabledService: forward" \
        "mailForwardingAddress: henry@gmail.example"
}

# iredmail_conf FILE [SETTING...] - write_mailmaps_conf with the settings of
# contrib/iredmail/mailmaps.conf that this tree needs, then SETTINGs (no
# storage attribute, as there: a name the schema lacks would make every
# filter that tests it undefined)
iredmail_conf() {
    local file=$1; shift
    write_mailmaps_conf "$file" "ldap_base = $IREDMAIL_BASE" \
        "ldap_filter = (&(objectClass=mailUser)(accountStatus=active)(enabledService=mail))" \
        "ldap_domain_filter = (&(objectClass=mailDomain)(accountStatus=active))" \
        "ldap_attr_alias = shadowAddress" "ldap_alias_filter = (enabledService=shadowaddress)" \
        "alias_login = yes" "ldap_attr_forward = mailForwardingAddress" \
        "ldap_forward_filter = (enabledService=forward)" "ldap_attr_group = memberOfGroup" \
        "ldap_attr_home = homeDirectory" "ldap_attr_storage =" \
        "ldap_quota_unit = B" "mail_base = /var/vmail" "$@"
}

# start_slapd_iredmail [OPTION...] - start_slapd with the test schema and
# this tree (OPTIONs as start_slapd's, e.g. --syncprov)
start_slapd_iredmail() {
    iredmail_small_ldif >"$MM_TMP/iredmail-small.ldif"
    start_slapd --schema "$IREDMAIL_SCHEMA" --index "domainName,domainAliasName,shadowAddress eq" \
        "$@" --ldif "$MM_TMP/iredmail-small.ldif"
}
