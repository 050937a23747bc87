#!/usr/bin/env bash
# t-dryrun - mailmaps-sync --dry-run against a real slapd, the preflight an
# admin runs before the first install and before a filter change: what an
# install would add and remove, what max_shrink would say, whether the
# password attribute is readable, whether the size limit lets the whole
# directory through; and nothing installed, ever.
. "$(dirname "$0")/lib.sh"

SYNC=$MAILMAPS_BUILD/mailmaps-sync
[ -x "$SYNC" ] || skip_all "mailmaps-sync not built"
MAPS=$MM_TMP/maps
CONF=$MM_TMP/mailmaps.conf
OUT=$MM_TMP/dry.out

gen_users 600 >"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"
write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = /var/vmail" "max_shrink = 10%"
dry() { "$SYNC" -c "$CONF" --dry-run >"$OUT" 2>"$MM_TMP/dry.err"; }
snapshot() { (cd "$MAPS" && sha256sum ./*.cdb status); }

# ---- before the first install: everything is new
dry
is "$?" 0 "first dry run: exit 0"
check "nothing installed" test ! -e "$MAPS/status"
like "$(cat "$OUT")" '# search: complete' "the search is complete (paged past the size limit of 500)"
like "$(grep '^# accounts' "$OUT")" '600 in the new maps, none installed' "600 accounts, none installed"
like "$(grep '^# passwords' "$OUT")" '600 of 600 accounts carry userPassword' "every account carries its hash"
like "$(grep '^# max_shrink' "$OUT")" 'would pass' "max_shrink would pass"

"$SYNC" -c "$CONF" --once 2>"$MM_TMP/sync.err"
is "$?" 0 "sync --once: installed"
BEFORE=$(snapshot)

# ---- the same directory: nothing would change
dry
is "$?" 0 "dry run on the installed maps: exit 0"
like "$(grep '^# accounts' "$OUT")" '0 added, 0 removed \(600 installed, 600 after' "no account added or removed"
like "$(grep '^# aliases' "$OUT")" '0 added, 0 removed' "no alias added or removed"
is "$(grep -c '^[-+] ' "$OUT")" 0 "no address listed"

# ---- a filter change that drops 100 accounts (user000100..user000199)
write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = /var/vmail" "max_shrink = 10%" \
    "ldap_filter = (&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE)(!(uid=user0001*)))"
dry
is "$?" 0 "dry run after a filter change: exit 0"
like "$(grep '^# accounts' "$OUT")" '0 added, 100 removed \(600 installed, 500 after' "100 accounts removed"
is "$(grep -c '^- [a-z-]*user0001[0-9][0-9]@example.com$' "$OUT")" 20 "the first 10 accounts and 10 aliases named"
like "$(grep '^- user' "$OUT" | head -1)" '^- user000100@example.com$' "… in key order"
like "$(cat "$OUT")" '- \.\.\. 90 more' "… and how many more"
like "$(grep '^# aliases' "$OUT")" '0 added, [0-9]+ removed' "aliases removed counted"
like "$(grep '^- alias' "$OUT" | head -1)" '^- alias-user000100@example.com$' "the first alias named"
like "$(grep '^# max_shrink' "$OUT")" 'REFUSED: the new maps have 500 users, the installed ones 600' \
    "max_shrink would refuse"
is "$(snapshot)" "$BEFORE" "the maps and the status are byte-identical"
check "no temp files left" test -z "$(find "$MAPS" -name '*.tmp*' -o -name '.*.cdb*')"
if command -v valgrind >/dev/null; then
    # libldap/GnuTLS keep some memory reachable until exit by design
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$SYNC" -c "$CONF" --dry-run >"$OUT" 2>"$MM_TMP/vg.err"
    is "$?" 0 "the dry run under valgrind: no leak, no memory error"
    like "$(grep '^# accounts' "$OUT")" '100 removed' "… with the same report"
fi

# ---- an anonymous bind: the size limit cuts the search, and no hashes
anon_conf() {
    write_mailmaps_conf "$CONF" "maps_dir = $MAPS" "mail_base = /var/vmail" "max_shrink = 10%" "$@"
    grep -v '^ldap_bind_' "$CONF" >"$CONF.anon" && mv "$CONF.anon" "$CONF"
}
anon_conf
dry
is "$?" 1 "anonymous dry run: the size limit fails it (exit 1)"
like "$(cat "$OUT")" '# search: INCOMPLETE, the server.s size limit stopped it' "reported as the size limit"
like "$(cat "$MM_TMP/dry.err")" 'Size limit exceeded' "… and logged"
anon_conf "ldap_filter = (&(objectClass=PostfixBookMailAccount)(uid=user0000*))"
dry
is "$?" 0 "anonymous dry run of 99 accounts: exit 0"
like "$(grep '^# passwords' "$OUT")" 'WARNING: none of the 99 accounts carries userPassword' \
    "the unreadable password attribute is a warning"
like "$(grep '^# max_shrink' "$OUT")" 'REFUSED' "max_shrink would refuse"
is "$(snapshot)" "$BEFORE" "still byte-identical"
is "$(grep -c '^# domain' "$OUT")" 0 "without domain entries no domain lines (the output as before)"

# ---- an iRedMail directory: the domains come from domain entries, so a
# dry run says which domains an install would add and remove
. "$(dirname "$0")/iredmail-small.sh"
if ! iredmail_available; then
    skip "iRedMail: domain entries in the dry run" "no test schema or slapd_config --schema"
    done_testing
fi
stop_slapd
start_slapd_iredmail
MAPS=$MM_TMP/imaps
iredmail_conf "$CONF" "maps_dir = $MAPS"
dry
is "$?" 0 "iRedMail: first dry run: exit 0" || diag "$(cat "$MM_TMP/dry.err")"
like "$(grep '^# domain entries' "$OUT")" '^# domain entries: 3 ' \
    "iRedMail: the 3 active domain entries were read"
like "$(grep '^# domains' "$OUT")" '4 in the new maps, none installed' \
    "iRedMail: 4 domains (3 primary, 1 alias domain), none installed"
is "$(grep -E '^\+ (example\.com|example\.net|other\.org|empty\.example)$' "$OUT" | sort | tr '\n' ' ')" \
    "+ empty.example + example.com + example.net + other.org " "iRedMail: each named as added"
"$SYNC" -c "$CONF" --once 2>"$MM_TMP/sync.err"
is "$?" 0 "iRedMail: sync --once" || diag "$(cat "$MM_TMP/sync.err")"
cat >"$MM_TMP/dom.ldif" <<EOF
dn: domainName=other.org,$IREDMAIL_BASE
changetype: modify
replace: accountStatus
accountStatus: disabled

dn: domainName=example.com,$IREDMAIL_BASE
changetype: modify
add: domainAliasName
domainAliasName: example.org
EOF
ldap_modify_ldif "$MM_TMP/dom.ldif"
dry
is "$?" 0 "iRedMail: dry run after a domain change: exit 0"
like "$(grep '^# domains' "$OUT")" '1 added, 1 removed \(4 installed, 4 after' \
    "iRedMail: one domain added, one removed"
is "$(grep -E '^[-+] [a-z.]*(org|example)$' "$OUT" | tr '\n' ' ')" "+ example.org - other.org " \
    "iRedMail: the alias domain added, the disabled domain removed"
like "$(grep '^# accounts' "$OUT")" '0 added, 1 removed' "iRedMail: frank@other.org goes with his domain"
# a domain search that fails fails the dry run (and a sync) before the accounts
BEFORE=$(snapshot)
iredmail_conf "$CONF" "maps_dir = $MAPS" "ldap_base = o=nowhere,$LDAP_BASE"
dry
is "$?" 1 "iRedMail: a failed domain search fails the dry run"
like "$(cat "$OUT")" '^# search: FAILED: domain entries \(ldap_domain_filter\): .*No such object' \
    "iRedMail: ... reported as the domain search"
"$SYNC" -c "$CONF" --once 2>"$MM_TMP/sync.err"
is "$?" 1 "iRedMail: ... and a sync fails (exit 1)"
is "$(cd "$MAPS" && sha256sum ./*.cdb)" "$(echo "$BEFORE" | grep -v ' status$')" \
    "iRedMail: ... leaving every map as it was"

done_testing
