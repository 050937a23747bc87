#!/usr/bin/env bash
# t-postfix-config - the ldap: tables of `mailmaps postfix-config` answer
# what the maps answer. Every key of every map is asked through postmap on
# cdb: and on ldap:; keys the maps lack are absent from both; where
# Postfix's ldap_table cannot answer as the map does, the difference is
# pinned down below ("known difference", also written into each generated
# file's comment). Then: file modes, the printed form, bind passwords,
# ldapi:// with SASL EXTERNAL, and a real smtpd on the ldap: tables.
# Entries that attack other accounts (an alias in gmail.com, an alias on
# another's mail, storage or home in another's directory) get nothing
# from the ldap: tables that the rules of the maps would not give them.
. "$(dirname "$0")/../lib/harness.sh"

SYNC=$MAILMAPS_BUILD/mailmaps-sync
CLI=$MAILMAPS_BUILD/mailmaps
if [ ! -x "$SYNC" ] || [ ! -x "$CLI" ]; then skip_all "mailmaps and mailmaps-sync not built"; fi
command -v postmap >/dev/null 2>&1 || skip_all "postmap not installed"
postconf -m 2>/dev/null | grep -qx ldap || skip_all "Postfix has no ldap table type (postfix-ldap)"
postconf -m 2>/dev/null | grep -qx cdb || skip_all "Postfix has no cdb table type (postfix-cdb)"
postmap_conf

MAPS=$MM_TMP/maps
CONF=$MM_TMP/mailmaps.conf
PFT=$MM_TMP/pftables        # where postfix-config writes
TAB=$'\t'

# write_conf FILE [name = value | -name]... - the test's mailmaps.conf
write_conf() {
    local f=$1; shift
    write_mailmaps_conf "$f" "maps_dir = $MAPS" "mail_base = /var/vmail" "$@"
}

# ---- the directory
# 600 accounts over example.com, example1-3.com (user000581-600 disabled),
# 510 more in big.example (more than the server's size limit of 500), and
# hand-written entries for each special case. LDIF order is entry order,
# which is the order slapd returns entries in: zed comes before amy.
gen_users 600 --domains 4 --disabled 20 >"$MM_TMP/users.ldif"
gen_users 510 --prefix big --start 1 | sed -e 's/@example\.com$/@big.example/' \
    -e '/^mailAlias:/d' -e '/^mailGroupMember:/d' >"$MM_TMP/big.ldif"
special_entry() { account_ldif "$@"; echo; }  # account_ldif, then a blank line
{
    special_entry --mail Bob.Smith@Example.COM bob \
        "mailAlias: bobby@example.com" "mailAlias: Robert@Example.COM" \
        "mailGroupMember: staff@example.com"
    special_entry --mail carol@example.com carol \
        "mailStorageDirectory: maildir:/var/vmail/custom/carol/" \
        "mailAlias: postmaster@example.com" "mailGroupMember: staff@example.com"
    special_entry --mail zed@example.com zed "mailGroupMember: staff@example.com"
    special_entry --mail amy@example.com amy "mailGroupMember: staff@example.com" \
        "mailAlias: info@aliasonly.example"
    # a domain that only a list address brings
    special_entry --mail dave@example.com dave "mailGroupMember: all@lists.example"
    # a list name stored with capitals (mailGroupMember is case-exact)
    special_entry --mail erin@example.com erin "mailGroupMember: Sales@example.com"
    special_entry --mail frank@example.com frank "mailGroupMember: sales@example.com"
    # postmaster@ claimed twice: uid=carol < uid=grace keeps it
    special_entry --mail grace@example.com grace "mailAlias: postmaster@example.com"
    # henry@ is henry's mail and ivan's alias: henry (smaller DN) keeps it
    special_entry --mail henry@example.com henry
    special_entry --mail ivan@example.com ivan "mailAlias: henry@example.com"
    # skipped by the sync for bad data
    special_entry --mail judy@example.com judy "mailQuota: lots"
    # the only account of its domain, disabled
    special_entry --mail kate@gone.example --disabled kate "mailAlias: k@gone.example"
    # attacks: a foreign domain, amy's address, amy's Maildir, amy's home
    special_entry --mail mallory@example.com mallory \
        "mailAlias: ceo@gmail.com" "mailAlias: amy@example.com" "mailGroupMember: x@partner.example"
    special_entry --mail eve@example.com zz-eve \
        "mailStorageDirectory: example.com/amy/Maildir"
    special_entry --mail trent@example.com zz-trent \
        "mailHomeDirectory: /var/vmail/example.com/amy"
} >"$MM_TMP/special.ldif"
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/big.ldif" --ldif "$MM_TMP/special.ldif"

write_conf "$CONF" "alias_domains = aliasonly.example lists.example"
sync_ok "the sync fills the maps" "$CONF" || fail_fast "no maps"
like "$(cat "$MM_TMP/sync.err")" "uid=judy" "the sync skips judy (bad quota)"

mkdir -p "$PFT"
"$CLI" -c "$CONF" postfix-config -d "$PFT" 2>"$MM_TMP/pc.err"
is "$?" 0 "postfix-config -d writes the tables" || diag "$(cat "$MM_TMP/pc.err")"
for m in domains mailboxes defer mail aliases; do
    f=$PFT/mailmaps-$m.cf
    is "$(stat -c %a "$f" 2>&1)" 640 "mailmaps-$m.cf holding bind_pw is mode 0640"
    is "$(stat -c %G "$f" 2>&1)" postfix "mailmaps-$m.cf is group postfix (proxymap reads it as postfix)"
done
like "$(cat "$PFT/mailmaps-domains.cf")" "^bind_pw = $LDAP_SYNC_PW$" "bind_pw is the password file's content"
is "$(find "$PFT" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" \
    "mailmaps-aliases.cf mailmaps-defer.cf mailmaps-domains.cf mailmaps-mail.cf mailmaps-mailboxes.cf " \
    "five files, no temp files left"

# ---- lookups
# pm TABLE: postmap -q - (keys on stdin, "key<TAB>value" for those found)
pm() {
    postmap -c "$PF_CONF" -q - "$1"
}
# ldap_table MAP [DIR]: the ldap: table of MAP
ldap_table() {
    printf 'ldap:%s/mailmaps-%s.cf' "${2:-$PFT}" "$1"
}
# qm KEY TABLE...: postmap_qm (tests/lib/postfix.sh)
qm() { postmap_qm "$@"; }
# q TABLE KEY: one table
q() {
    qm "$2" "$1"
}
# qc KEY: virtual_alias_maps' ldap: tables, in main.cf's order
qc() {
    qm "$1" "$(ldap_table mail)" "$(ldap_table aliases)"
}
# qb KEY: virtual_mailbox_maps' ldap: tables, in main.cf's order
qb() {
    qm "$1" "$(ldap_table mailboxes)" "$(ldap_table defer)"
}
# norm VALUE: lower-cased, comma-separated items sorted
norm() {
    tr ',' '\n' <<<"${1,,}" | sort | paste -sd, -
}

# Keys whose difference is pinned down further below, not in the sweep.
# The attacks' keys are asked below against the rules, whatever the maps
# of this version hold for them.
declare -A KNOWN=(
    [domains:big.example]=1 [domains:lists.example]=1 [domains:aliasonly.example]=1
    [mailboxes:carol@example.com]=1
    [aliases:sales@example.com]=1 [aliases:postmaster@example.com]=1
    [domains:gmail.com]=1 [domains:partner.example]=1
    [aliases:ceo@gmail.com]=1 [aliases:x@partner.example]=1
    [mailboxes:eve@example.com]=1 [mailboxes:trent@example.com]=1
)

# ---- every key of every map, on cdb: and on ldap:
for m in domains mailboxes aliases; do
    "$CLI" -c "$CONF" dump "$m" | cut -f1 >"$MM_TMP/$m.keys"
    pm "cdb:$MAPS/$m" <"$MM_TMP/$m.keys" | sort >"$MM_TMP/$m.cdb"
    grep -vxF -f <(for k in "${!KNOWN[@]}"; do [ "${k%%:*}" = "$m" ] && echo "${k#*:}"; done; echo '#') \
        "$MM_TMP/$m.keys" >"$MM_TMP/$m.sweep"
    pm "$(ldap_table "$m")" <"$MM_TMP/$m.sweep" 2>"$MM_TMP/$m.ldap.err" | sort >"$MM_TMP/$m.ldap"
    is "$?:$(cat "$MM_TMP/$m.ldap.err")" "0:" "$m: postmap -q - on the ldap: table runs through every key"
    is "$(wc -l <"$MM_TMP/$m.cdb")" "$(wc -l <"$MM_TMP/$m.keys")" "$m: postmap finds every key of the map in cdb:"
    exact=0 loose=0 bad=""
    while IFS=$TAB read -r key cv lv; do
        [ -n "${KNOWN[$m:$key]:-}" ] && continue
        if [ "$cv" = "$lv" ]; then
            exact=$((exact + 1))
        elif [ "$m" = domains ] && [ "$cv" = OK ] && [[ "$lv" =~ ^OK(,OK)+$ ]]; then
            loose=$((loose + 1))     # known: OK once per matching account
        elif [ "$m" = aliases ] && [ "$(norm "$lv")" = "$cv" ]; then
            loose=$((loose + 1))     # known: as stored, in the server's order
        else
            bad="$bad $key=[$cv|$lv]"
        fi
    done < <(join -t "$TAB" -a 1 -e '<none>' -o 0,1.2,2.2 "$MM_TMP/$m.cdb" "$MM_TMP/$m.ldap")
    is "${bad# }" "" "$m: every key answers the same on ldap: ($exact exactly, $loose up to the known differences)"
done
is "$(grep -c 'example1.com' "$MM_TMP/mailboxes.ldap")" 145 "mailboxes: the sweep covered example1.com's 145 enabled accounts"

# ---- keys the maps lack: absent from the ldap: tables too
cat >"$MM_TMP/absent.keys" <<EOF
nobody@example.com
user000600@example.com
user000599@example3.com
alias-user000600@example.com
alias-user000590@example2.com
kate@gone.example
k@gone.example
judy@nowhere.example
@example.com
user000001
Bob.Smith
EOF
for m in mailboxes aliases; do
    is "$(pm "cdb:$MAPS/$m" <"$MM_TMP/absent.keys")" "" "$m: unknown and disabled keys are absent from cdb:"
    is "$(pm "$(ldap_table "$m")" <"$MM_TMP/absent.keys")" "" "$m: ... and from ldap:"
done
printf '%s\n' nowhere.example gone.example example.org com >"$MM_TMP/absent.domains"
is "$(pm "cdb:$MAPS/domains" <"$MM_TMP/absent.domains")" "" "domains: unknown domains are absent from cdb:"
is "$(pm "$(ldap_table domains)" <"$MM_TMP/absent.domains")" "" "domains: ... and from ldap:"
# Each map's keys in the other tables: mailbox addresses are no aliases and
# aliases no mailboxes, on both sides (henry@ is the exception, below).
grep -vxE 'henry@example.com|amy@example.com' "$MM_TMP/mailboxes.keys" >"$MM_TMP/mb.nohenry"
is "$(pm "cdb:$MAPS/aliases" <"$MM_TMP/mb.nohenry")$(pm "$(ldap_table aliases)" <"$MM_TMP/mb.nohenry")" "" \
    "no mailbox address is found as an alias, on cdb: or ldap: (henry@ and amy@ below)"
is "$(pm "cdb:$MAPS/mailboxes" <"$MM_TMP/aliases.keys")$(pm "$(ldap_table mailboxes)" <"$MM_TMP/aliases.keys")" "" \
    "no alias or list address is found as a mailbox, on cdb: or ldap:"

# ---- Postfix folds the key; the ldap: answers do not depend on its case
is "$(q "$(ldap_table mailboxes)" BOB.SMITH@EXAMPLE.COM)" "example.com/bob.smith/Maildir/" \
    "mailboxes: a mixed-case mail gives the map's lower-case path (result_format %D/%U)"
is "$(q "cdb:$MAPS/mailboxes" BOB.SMITH@EXAMPLE.COM)" "example.com/bob.smith/Maildir/" \
    "mailboxes: ... as cdb: does"
is "$(q "$(ldap_table aliases)" ROBERT@example.COM)" "Bob.Smith@Example.COM" \
    "aliases: a mixed-case alias is found; the address comes back as stored (known difference)"
is "$(q "cdb:$MAPS/aliases" ROBERT@example.COM)" "bob.smith@example.com" "aliases: ... cdb: has it lower-cased"

# ---- the known differences, each pinned down
cv=$(q "cdb:$MAPS/domains" example.com); lv=$(q "$(ldap_table domains)" example.com)
like "$cv:$lv" '^OK:OK(,OK)+$' "domains: known difference: OK once per matching account (OK,OK,...)"
is "$(q "pipemap:{$(ldap_table domains), static:OK}" example.com)" OK \
    "domains: pipemap:{ldap:..., static:OK} answers exactly OK"
is "$(q "pipemap:{$(ldap_table domains), static:OK}" nowhere.example)" "<none>" \
    "domains: ... and nothing for an unknown domain"
is "$(q "cdb:$MAPS/domains" big.example):$(q "$(ldap_table domains)" big.example)" "OK:<error>" \
    "domains: known difference: more accounts than the server's size limit is a lookup error, not 'not found'"
like "$(cat "$MM_TMP/q.err")" "Size limit exceeded" "domains: ... Postfix says why"
for d in aliasonly.example lists.example; do
    is "$(q "cdb:$MAPS/domains" $d):$(q "$(ldap_table domains)" $d)" "OK:<none>" \
        "domains: known difference: alias_domains ($d) are in the map, not in the ldap: table"
done
like "$(cat "$PFT/mailmaps-domains.cf")" "alias_domains are not answered here" "domains: ... the file's comment says so"
is "$(q "$(ldap_table aliases)" info@aliasonly.example):$(q "$(ldap_table aliases)" all@lists.example)" \
    "amy@example.com:dave@example.com" "aliases: aliases and lists in alias_domains are answered"
is "$(q "$(ldap_table mailboxes)" big000007@big.example)" "big.example/big000007/Maildir/" \
    "mailboxes: an account of the big domain is found on ldap:"

is "$(q "cdb:$MAPS/mailboxes" carol@example.com)" "custom/carol/" "mailboxes: carol's own storage directory in cdb:"
is "$(q "$(ldap_table mailboxes)" carol@example.com)" "<none>" \
    "mailboxes: known difference: ldap: does not answer for carol's storage directory of her own"
like "$(cat "$PFT/mailmaps-mailboxes.cf")" "an account with a home or storage directory of its own is not found" \
    "mailboxes: ... and the file's comment says so"
is "$(qb carol@example.com)" "<error>" "mailboxes: ... mailmaps-defer.cf, listed next, makes it a temporary failure"
like "$(cat "$MM_TMP/q.err")" "expansion|limit" "mailboxes: ... by its expansion limit"
is "$(qb user000001@example1.com):$(qb nobody@example.com)" "example1.com/user000001/Maildir/:<none>" \
    "mailboxes: through both tables a default account has its path, an unknown address none"
is "$(q "cdb:$MAPS/mailboxes" judy@example.com):$(q "$(ldap_table mailboxes)" judy@example.com)" \
    "<none>:example.com/judy/Maildir/" "mailboxes: known difference: an entry the sync skips is found on ldap:"

cv=$(q "cdb:$MAPS/aliases" staff@example.com); lv=$(q "$(ldap_table aliases)" staff@example.com)
is "$cv" "amy@example.com,bob.smith@example.com,carol@example.com,zed@example.com" "aliases: cdb: sorts the list"
is "$(norm "$lv")" "$cv" "aliases: ldap: has the same members"
diag "staff@example.com on ldap: $lv (known difference: stored case, server order)"
is "$(q "cdb:$MAPS/aliases" sales@example.com):$(q "$(ldap_table aliases)" sales@example.com)" \
    "erin@example.com,frank@example.com:frank@example.com" \
    "aliases: known difference: a list name stored as Sales@ is not found by the folded key"
is "$(q "cdb:$MAPS/aliases" postmaster@example.com)" "carol@example.com" \
    "aliases: cdb: gives an address claimed twice to the smaller DN"
is "$(norm "$(q "$(ldap_table aliases)" postmaster@example.com)")" "carol@example.com,grace@example.com" \
    "aliases: known difference: ldap: gives it to both"
is "$(q "cdb:$MAPS/aliases" henry@example.com):$(q "$(ldap_table aliases)" henry@example.com)" \
    "<none>:ivan@example.com" "aliases: henry's mail, also ivan's alias, is an alias of ivan in mailmaps-aliases.cf"
is "$(qc henry@example.com)" "henry@example.com" \
    "aliases: ... but mailmaps-mail.cf, listed first, keeps it henry's (the mail claim wins)"
is "$(qc Bob.Smith@EXAMPLE.com):$(qc bobby@example.com)" "bob.smith@example.com:Bob.Smith@Example.COM" \
    "aliases: through both tables a mailbox is itself, an alias its account"
is "$(qc nobody@example.com)" "<none>" "aliases: through both tables an unknown address is not found"

# ---- the attacks: nothing the rules of the maps would not give
is "$(q "$(ldap_table domains)" gmail.com):$(q "$(ldap_table domains)" partner.example)" "<none>:<none>" \
    "attack: an alias or list address never makes its domain local"
if [ "$(q "cdb:$MAPS/domains" gmail.com)" = "<none>" ]; then
    is "$(qc ceo@gmail.com):$(qc x@partner.example)" "<none>:<none>" \
        "attack: an alias or list address in a foreign domain is not answered"
else
    # mailmaps-aliases.cf asks domains.cdb first: such maps do not keep the rule
    skip "attack: an alias in a foreign domain" "these maps list gmail.com in domains.cdb"
fi
sed -e "s#cdb:$MAPS/domains, ##" "$PFT/mailmaps-aliases.cf" >"$MM_TMP/aliases-nocdb.cf"
is "$(q "ldap:$MM_TMP/aliases-nocdb.cf" ceo@gmail.com):$(q "ldap:$MM_TMP/aliases-nocdb.cf" x@partner.example)" \
    "<none>:<none>" "attack: ... the ldap: domains table does not admit gmail.com or partner.example"
is "$(qc amy@example.com)" "amy@example.com" "attack: mallory's alias on amy's mail does not take it"
is "$(q "$(ldap_table mailboxes)" amy@example.com)" "example.com/amy/Maildir/" "attack: amy keeps her Maildir"
is "$(q "$(ldap_table mailboxes)" eve@example.com):$(q "$(ldap_table mailboxes)" trent@example.com)" \
    "<none>:<none>" "attack: a storage or home in amy's directory gets no mailbox from ldap:"
is "$(qb eve@example.com):$(qb trent@example.com)" "<error>:<error>" \
    "attack: ... a temporary failure through both tables, until a sync decides"

# ---- the printed form
"$CLI" -c "$CONF" postfix-config >"$MM_TMP/printed" 2>&1
is "$?" 0 "postfix-config without -d prints"
is "$(grep -x '# mailmaps-[a-z]*\.cf' "$MM_TMP/printed" | tr '\n' ' ')" \
    "# mailmaps-domains.cf # mailmaps-mailboxes.cf # mailmaps-defer.cf # mailmaps-mail.cf # mailmaps-aliases.cf " \
    "each table is preceded by its '# FILE' line, in order"
for m in domains mailboxes defer mail aliases; do
    is "$(awk -v h="# mailmaps-$m.cf" '$0 == h { on = 1; next } /^# mailmaps-[a-z]+\.cf$/ { on = 0 }
            on && !/^#/ && NF' "$MM_TMP/printed")" \
        "$(grep -v '^#' "$PFT/mailmaps-$m.cf" | sed "s#ldap:$PFT/#ldap:/etc/postfix/#")" \
        "printed mailmaps-$m.cf has the settings of the written file"
done
like "$(grep -A4 '^# mailmaps-domains.cf - ' "$MM_TMP/printed")" "ldap:/etc/postfix/mailmaps-domains.cf" \
    "the printed form names /etc/postfix in its comment"

# ---- bind passwords
# Postfix takes bind_pw verbatim except for blanks at the ends.
# shellcheck disable=SC2016 # the $ is part of the password
TRICKY='p$a%s#w d\x'
printf '%s' "$TRICKY" >"$MM_TMP/tricky.pw"
chmod 0600 "$MM_TMP/tricky.pw"
cat >"$MM_TMP/tricky.ldif" <<EOF
dn: cn=tricky,$LDAP_BASE
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tricky
userPassword: $TRICKY
EOF
ldap_add_ldif "$MM_TMP/tricky.ldif"
write_conf "$MM_TMP/tricky.conf" "ldap_bind_dn = cn=tricky,$LDAP_BASE" \
    "ldap_bind_pw_file = $MM_TMP/tricky.pw"
mkdir -p "$MM_TMP/tricky"
check "postfix-config with a password holding \$ % # \\ and a blank" \
    "$CLI" -c "$MM_TMP/tricky.conf" postfix-config -d "$MM_TMP/tricky"
is "$(q "$(ldap_table mailboxes "$MM_TMP/tricky")" user000001@example1.com)" "example1.com/user000001/Maildir/" \
    "... Postfix binds with it"
cp -p "$MM_TMP/tricky"/*.cf "$MM_TMP/"
printf ' padded ' >"$MM_TMP/tricky.pw"
out=$("$CLI" -c "$MM_TMP/tricky.conf" postfix-config -d "$MM_TMP/tricky" 2>&1)
is "$?" 2 "a password with blanks at its ends is refused (Postfix would strip them)"
like "$out" "ldap_bind_pw_file" "... the error names the setting"
if [[ "$out" == *padded* ]]; then not_ok "... and not the password"; else ok "... and not the password"; fi
is "$(cat "$MM_TMP/tricky"/*.cf | sha256sum)" "$(cat "$MM_TMP"/mailmaps-*.cf | sha256sum)" \
    "... and leaves the files as they were"
out=$("$CLI" -c "$MM_TMP/tricky.conf" postfix-config 2>/dev/null)
is "$?:$out" "2:" "... also when printing, and nothing is printed"

# ---- ldapi:// and no bind DN: SASL EXTERNAL, as the sync binds
# A '%' in ldap_filter must reach LDAP as itself, not as a Postfix expansion.
write_conf "$MM_TMP/ldapi.conf" "ldap_uri = $LDAPI_URI" -ldap_bind_dn -ldap_bind_pw_file \
    "ldap_filter = (&(objectClass=PostfixBookMailAccount)(mailEnabled=TRUE)(!(description=100%)))"
mkdir -p "$MM_TMP/ldapi"
check "postfix-config for ldapi:// without a bind DN" "$CLI" -c "$MM_TMP/ldapi.conf" postfix-config -d "$MM_TMP/ldapi"
like "$(cat "$MM_TMP/ldapi/mailmaps-aliases.cf")" "^bind = sasl$" "ldapi://: bind = sasl"
like "$(cat "$MM_TMP/ldapi/mailmaps-aliases.cf")" "^sasl_mechs = EXTERNAL$" "ldapi://: sasl_mechs = EXTERNAL"
like "$(cat "$MM_TMP/ldapi/mailmaps-aliases.cf")" "\(description=100%%\)" "ldapi://: '%' in the filter written as %%"
is "$(stat -c %a "$MM_TMP"/ldapi/*.cf | sort -u)" 644 "without bind_pw the files are mode 0644"
grep -q '^bind_pw' "$MM_TMP"/ldapi/*.cf
is "$?" 1 "... and hold no bind_pw"
for m in mailboxes aliases; do
    pm "$(ldap_table "$m" "$MM_TMP/ldapi")" <"$MM_TMP/$m.sweep" 2>"$MM_TMP/ldapi.err" | sort >"$MM_TMP/$m.ldapi"
    is "$(cat "$MM_TMP/ldapi.err")" "" "ldapi://: $m: every key looked up"
    check "ldapi://: $m: the same answers as over TCP" cmp "$MM_TMP/$m.ldap" "$MM_TMP/$m.ldapi"
done
is "$(pm "$(ldap_table domains "$MM_TMP/ldapi")" <"$MM_TMP/domains.sweep" | cut -f1 | tr '\n' ' ')" \
    "$(cut -f1 "$MM_TMP/domains.ldap" | tr '\n' ' ')" "ldapi://: domains: the same domains"
like "$(grep 'mech=EXTERNAL' "$SLAPD_LOG" | tail -n 1)" "BIND dn=\"gidNumber=0\+uidNumber=0,cn=peercred" \
    "ldapi://: slapd saw Postfix bind with SASL EXTERNAL"

# ---- a real smtpd on the ldap: tables alone
if need_root; then
    start_postfix "virtual_mailbox_domains = $(ldap_table domains), aliasonly.example, lists.example" \
        "virtual_mailbox_maps = $(ldap_table mailboxes), $(ldap_table defer)" \
        "virtual_alias_maps = $(ldap_table mail), $(ldap_table aliases)" \
        "virtual_mailbox_base = $MM_TMP/vmail" "virtual_uid_maps = static:5000" \
        "virtual_gid_maps = static:5000"
    r() { smtp_rcpt "$PF_SMTP_PORT" sender@client.example.test "$1"; }
    like "$(r user000001@example1.com)" '^250 ' "smtpd: a mailbox (the domain's answer OK,OK,... serves)"
    like "$(r Bob.Smith@Example.COM)" '^250 ' "smtpd: a mixed-case mailbox"
    like "$(r bobby@example.com)" '^250 ' "smtpd: an alias"
    like "$(r staff@example.com)" '^250 ' "smtpd: a list"
    like "$(r info@aliasonly.example)" '^250 ' "smtpd: an alias in a domain only aliases bring"
    like "$(r nobody@example.com)" '^550 5\.1\.1 ' "smtpd: an unknown user is rejected"
    like "$(r user000600@example.com)" '^550 5\.1\.1 ' "smtpd: a disabled user is rejected"
    like "$(r kate@gone.example)" '^454 4\.7\.1 ' "smtpd: the domain of a disabled account only is not ours"
    like "$(r someone@nowhere.example)" '^454 4\.7\.1 ' "smtpd: an unknown domain is not ours"
    like "$(r friend@gmail.com)" '^454 4\.7\.1 ' \
        "smtpd: attack: gmail.com stays foreign (relay denied, not 'user unknown')"
    like "$(r amy@example.com)" '^250 ' "smtpd: attack: amy@ is still accepted"
    like "$(r eve@example.com)" '^250 ' \
        "smtpd: an account with its own storage is accepted (its address is itself in mailmaps-mail.cf)"
    like "$(r big000001@big.example)" '^4[0-9][0-9] ' \
        "smtpd: known difference: the big domain is a temporary failure, never a bounce"
    # Over ldapi:// Postfix binds as the postfix user (SASL EXTERNAL).
    stop_postfix
    start_postfix "virtual_mailbox_domains = $(ldap_table domains "$MM_TMP/ldapi")" \
        "virtual_mailbox_maps = $(ldap_table mailboxes "$MM_TMP/ldapi")" \
        "virtual_alias_maps = $(ldap_table mail "$MM_TMP/ldapi"), $(ldap_table aliases "$MM_TMP/ldapi")" \
        "virtual_mailbox_base = $MM_TMP/vmail" "virtual_uid_maps = static:5000" \
        "virtual_gid_maps = static:5000"
    like "$(r user000003@example3.com)" '^250 ' "smtpd on the ldapi:// tables: a mailbox"
    like "$(r staff@example.com)" '^250 ' "smtpd on the ldapi:// tables: a list"
    like "$(r nobody@example.com)" '^550 5\.1\.1 ' "smtpd on the ldapi:// tables: an unknown user"
    like "$(grep 'mech=EXTERNAL' "$SLAPD_LOG" | tail -n 1)" \
        "BIND dn=\"gidNumber=$(id -g postfix)\+uidNumber=$(id -u postfix),cn=peercred" \
        "smtpd binds as the postfix user over ldapi://"
    # What the fallback costs when the maps are fresh: cdb: first, ldap: after.
    stop_postfix
    start_postfix "virtual_mailbox_domains = cdb:$MAPS/domains, $(ldap_table domains)" \
        "virtual_mailbox_maps = cdb:$MAPS/mailboxes, $(ldap_table mailboxes)" \
        "virtual_alias_maps = cdb:$MAPS/aliases, $(ldap_table mail), $(ldap_table aliases)" \
        "virtual_mailbox_base = $MM_TMP/vmail" "virtual_uid_maps = static:5000" \
        "virtual_gid_maps = static:5000"
    seen=$(wc -l <"$SLAPD_LOG")
    like "$(r user000002@example2.com)" '^250 ' "smtpd on cdb: then ldap:: a mailbox"
    like "$(r alias-user000010@example2.com)" '^250 ' "smtpd on cdb: then ldap:: an alias"
    sleep 0.5
    tail -n +"$((seen + 1))" "$SLAPD_LOG" | grep ' SRCH ' >"$MM_TMP/smtpd.srch"
    is "$(grep -c 'mailAlias=alias-user000010@example2.com' "$MM_TMP/smtpd.srch")" 0 \
        "smtpd on cdb: then ldap:: an alias in aliases.cdb costs no search"
    n=$(grep -c '(mail=user000002@example2.com)' "$MM_TMP/smtpd.srch")
    like "$n" '^[1-9]' "known cost: a mailbox address costs $n search(es) in the ldap: mail table (no key of aliases.cdb)"
    is "$(grep -c 'mailAlias=user000002@example2.com' "$MM_TMP/smtpd.srch")" 0 \
        "... and none in the aliases table, which comes after it"
    is "$(grep -c '=@example2.com)' "$MM_TMP/smtpd.srch")" 0 "no search for Postfix's '@domain' lookups (%u@%d)"
    is "$(grep -c 'mail=\*@example2.com' "$MM_TMP/smtpd.srch")" 0 "a domain in domains.cdb costs no search"
    n=$(grep -c 'mail=\*@client.example.test' "$MM_TMP/smtpd.srch")
    like "$n" '^[1-9]' "known cost: the sender's domain (not ours) costs $n search(es) in the ldap: domains table"
else
    skip "smtpd on the ldap: tables" "needs root"
fi

# ---- an iRedMail directory: domain entries, shadow addresses gated by
# their flag, forwards, alias domains (result_format %U@%s): every key of
# every map answers the same through main.cf's chain of ldap: tables
. "$(dirname "$0")/iredmail-small.sh"
if ! iredmail_available; then
    skip "iRedMail: the ldap: tables" "no test schema or slapd_config --schema"
    done_testing
fi
stop_slapd
start_slapd_iredmail
MAPS=$MM_TMP/imaps
PFT=$MM_TMP/ipftables
iredmail_conf "$CONF" "maps_dir = $MAPS"
"$SYNC" -c "$CONF" --once 2>"$MM_TMP/isync.err"
is "$?" 0 "iRedMail: a sync" || diag "$(cat "$MM_TMP/isync.err")"
mkdir -p "$PFT"
"$CLI" -c "$CONF" postfix-config -d "$PFT" 2>"$MM_TMP/pc.err"
is "$?" 0 "iRedMail: postfix-config -d writes the tables" || diag "$(cat "$MM_TMP/pc.err")"
is "$(find "$PFT" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" \
    "mailmaps-alias-domains.cf mailmaps-aliases.cf mailmaps-defer.cf mailmaps-domains.cf mailmaps-forward.cf mailmaps-mail.cf mailmaps-mailboxes.cf " \
    "iRedMail: seven files: the forward and alias domain tables too"
# chain MAP KEY...: main.cf's ldap: tables of MAP, in its order
chain() {
    case $1 in
    domains) ldap_table domains ;;
    mailboxes) printf '%s %s' "$(ldap_table mailboxes)" "$(ldap_table defer)" ;;
    aliases) printf '%s %s %s %s' "$(ldap_table forward)" "$(ldap_table mail)" \
        "$(ldap_table aliases)" "$(ldap_table alias-domains)" ;;
    esac
}
for m in domains mailboxes aliases; do
    bad="" n=0
    while IFS=$TAB read -r key cv; do
        # shellcheck disable=SC2046 # the tables are words
        lv=$(qm "$key" $(chain "$m"))
        n=$((n + 1))
        [ "$(norm "$lv")" = "$(norm "$cv")" ] && continue
        [ "$m" = domains ] && [[ "$lv" =~ ^OK(,OK)*$ ]] && continue
        bad="$bad $key=[$cv|$lv]"
    done < <("$CLI" -c "$CONF" dump "$m")
    like "$n" '^[1-9]' "iRedMail: $m.cdb holds $n keys"
    is "${bad# }" "" "iRedMail: $m: every key answers the same through the ldap: tables"
done
is "$(qm example.net "$(ldap_table domains)")" OK "iRedMail: an alias domain is local"
is "$(qm empty.example "$(ldap_table domains)")" OK "iRedMail: a domain without accounts is local"
is "$(qm disabled.example "$(ldap_table domains)")" "<none>" "iRedMail: a disabled domain is not"
is "$(qm nodomain.example "$(ldap_table domains)")" "<none>" \
    "iRedMail: an account's address makes no domain local"
is "$(norm "$(qm carol@example.com "$(ldap_table forward)")")" \
    "carol@example.com,carol@gmail.example" "iRedMail: carol forwards and keeps a copy"
is "$(qm henry@nodomain.example "$(ldap_table forward)")" "<none>" \
    "iRedMail: no forward key in a domain not ours (henry's)"
is "$(qm dave@example.com "$(ldap_table forward)")" "<none>" \
    "iRedMail: dave's forward without enabledService forward counts for nothing"
is "$(qm bobby@example.com $(chain aliases))" "<none>" \
    "iRedMail: a shadow address without enabledService shadowaddress is nothing"
is "$(qm bob@example.net $(chain aliases))" bob@example.com "iRedMail: u@alias-domain is u@primary"
is "$(qm alice@example.net $(chain aliases))" erin@example.com \
    "iRedMail: a real claim in the alias domain beats the derived one"
is "$(qm nobody@example.net $(chain aliases))" nobody@example.com \
    "iRedMail: known difference: an unknown u@alias-domain is rewritten (u@primary is unknown too)"

done_testing
