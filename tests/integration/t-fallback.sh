#!/usr/bin/env bash
# t-fallback - the LDAP fallback of the readers (maps/lookup.c, through
# tests/tools/maplookup -c) against a real slapd holding entries that attack
# other accounts: with no maps at all, every answer is the one a sync of
# the same directory gives, or a temporary failure where a few entries
# cannot decide; never an address, domain or directory the sync would
# not give. Then what a fallback answer costs (searches, time).
. "$(dirname "$0")/lib.sh"

SYNC=$MAILMAPS_BUILD/mailmaps-sync
CLI=$MAILMAPS_BUILD/mailmaps
MAPLOOKUP="$MAILMAPS_BUILD/tests/tools/maplookup"
for b in "$SYNC" "$CLI" "$MAPLOOKUP"; do [ -x "$b" ] || skip_all "$b not built"; done

# ---- the directory: 200 honest accounts, and
#   aaa-mallory (its DN sorts first): victim's address, an alias in gmail.com,
#     a list in partner.example, an alias in the alias domain lists.example;
#   zz-eve: victim's Maildir as its storage, and an alias of its own;
#   zz-trent: victim's home as its own;
#   bob: an alias in other.example, where carol has her mailbox.
gen_users 200 >"$MM_TMP/users.ldif"
{
    account_ldif aaa-mallory "mailAlias: victim@example.com" "mailAlias: ceo@gmail.com" \
        "mailAlias: sales@lists.example" "mailGroupMember: team@partner.example"
    echo
    account_ldif victim "mailAlias: v@example.com"
    echo
    account_ldif zz-eve "mailStorageDirectory: example.com/victim/Maildir" "mailAlias: help@example.com"
    echo
    account_ldif zz-trent "mailHomeDirectory: /var/vmail/example.com/victim"
    echo
    account_ldif bob "mailAlias: info@other.example" "mailGroupMember: staff@example.com"
    echo
    account_ldif carol "mailGroupMember: staff@example.com" | sed 's/^mail: carol@example.com$/mail: carol@other.example/'
    echo
} >"$MM_TMP/attack.ldif"
start_slapd --ldif "$MM_TMP/users.ldif" --ldif "$MM_TMP/attack.ldif"

# The sync's maps, for comparison; the fallback gets a maps_dir that does
# not exist, so every key goes to LDAP.
write_mailmaps_conf "$MM_TMP/sync.conf" "maps_dir = $MM_TMP/maps" "alias_domains = lists.example"
write_mailmaps_conf "$MM_TMP/fb.conf" "maps_dir = $MM_TMP/none" "alias_domains = lists.example"
"$SYNC" -c "$MM_TMP/sync.conf" --once 2>"$MM_TMP/sync.err"
is "$?" 0 "a sync of the directory" || diag "$(cat "$MM_TMP/sync.err")"

# log_mark: the slapd log's length once it has stopped growing (slapd
# writes its log asynchronously)
log_mark() {
    local a b
    b=$(wc -l <"$SLAPD_LOG")
    while sleep 0.3; a=$b; b=$(wc -l <"$SLAPD_LOG"); [ "$a" != "$b" ]; do :; done
    echo "$b"
}
# searches_since MARK: the searches slapd logged after MARK
searches_since() {
    log_mark >/dev/null
    tail -n +"$(($1 + 1))" "$SLAPD_LOG" | grep ' SRCH base='
}

# sync_answer MAP KEY: the maps' answer, as maplookup -c prints it
sync_answer() {
    local v
    if v=$("$CLI" -c "${SYNC_CONF:-$MM_TMP/sync.conf}" query "$1" "$2" 2>/dev/null); then
        printf 'FOUND %s' "$v"
    else
        printf 'NOTFOUND'
    fi
}

# ---- every key once, in one maplookup -c (one handle, as a daemon)
# KIND: same = as the sync; same|tempfail = as the sync or a temporary
# failure; anything else = that answer exactly.
cases=(
    "users victim@example.com|same"
    "mailboxes victim@example.com|same"
    "users aaa-mallory@example.com|same"
    "users user000001@example.com|same"
    "mailboxes user000002@example.com|same"
    "users zz-eve@example.com|TEMPFAIL"
    "mailboxes zz-eve@example.com|TEMPFAIL"
    "users zz-trent@example.com|TEMPFAIL"
    "aliases help@example.com|TEMPFAIL"
    "aliases v@example.com|same|tempfail"
    "aliases ceo@gmail.com|NOTFOUND"
    "aliases team@partner.example|NOTFOUND"
    "aliases sales@lists.example|FOUND aaa-mallory@example.com"
    "aliases info@other.example|FOUND bob@example.com"
    "aliases staff@example.com|same"
    "aliases alias-user000010@example.com|same"
    "aliases nobody@example.com|NOTFOUND"
    "users nobody@example.com|NOTFOUND"
)
# ask_cases CONF: every key of cases through one maplookup -c CONF, each
# answer checked as its KIND says
ask_cases() {
for c in "${cases[@]}"; do echo "${c%%|*}"; done >"$MM_TMP/keys"
"$MAPLOOKUP" -c "$1" <"$MM_TMP/keys" >"$MM_TMP/answers" 2>"$MM_TMP/fq.err"
is "$?:$(cat "$MM_TMP/fq.err")" "0:" "maplookup -c answers every key"
i=0
while IFS= read -r got; do
    c=${cases[$i]}; i=$((i + 1))
    key=${c%%|*}; want=${c#*|}
    map=${key%% *}; k=${key#* }
    got=${got/FOUND ldap /FOUND }
    case $want in
    same) is "$got" "$(sync_answer "$map" "$k")" "$key: as the sync" ;;
    same\|tempfail)
        if [[ "$got" == TEMPFAIL* ]]; then ok "$key: a temporary failure (${got#TEMPFAIL })"
        else is "$got" "$(sync_answer "$map" "$k")" "$key: as the sync"; fi ;;
    TEMPFAIL) like "$got" "^TEMPFAIL .*(home or mailbox of its own)" "$key: a temporary failure, never an answer" ;;
    *) is "$got" "$want" "$key: $want" ;;
    esac
    # whatever the sync's rules give, never the attackers' paths or mail
    case $key in
    *victim@*) if [[ "$got" == *aaa-mallory* || "$got" == *zz-* ]]; then
            not_ok "$key: never an attacker's record"; diag "$got"; fi ;;
    esac
    if [[ "$key" == *zz-* && "$got" == *victim* ]]; then not_ok "$key: never victim's directory"; fi
done <"$MM_TMP/answers"
is "$i" "${#cases[@]}" "one answer per key"
}
seen=$(log_mark)
ask_cases "$MM_TMP/fb.conf"
searches_since "$seen" >"$MM_TMP/srch"
searches=$(wc -l <"$MM_TMP/srch")
like "$searches" '^[0-9]+$' "those ${#cases[@]} keys cost $searches LDAP searches"
is "$(grep -c 'mail=\*@other.example' "$MM_TMP/srch")" 1 \
    "info@other.example: one domain search finds that other.example has a mailbox"
is "$(grep -c 'mail=\*@lists.example' "$MM_TMP/srch")" 0 "sales@lists.example: alias_domains need no search"

# ---- stale maps: LDAP first; where LDAP refuses, the stale maps answer
# (a sync of the whole directory made them)
write_mailmaps_conf "$MM_TMP/stale.conf" "maps_dir = $MM_TMP/maps" "alias_domains = lists.example" \
    "stale_after = 1"
sleep 2
"$MAPLOOKUP" -c "$MM_TMP/stale.conf" <"$MM_TMP/keys" >"$MM_TMP/stale.answers" 2>&1
bad=""
i=0
while IFS= read -r got; do
    c=${cases[$i]}; i=$((i + 1))
    key=${c%%|*}; want=${c#*|}
    map=${key%% *}; k=${key#* }
    got=${got/FOUND ldap /FOUND }; got=${got/FOUND stale /FOUND }
    [[ "$got" == TEMPFAIL* ]] || [ "$got" = "$(sync_answer "$map" "$k")" ] || [ "$got" = "$want" ] ||
        bad="$bad [$key: $got]"
done <"$MM_TMP/stale.answers"
is "$i:${bad# }" "${#cases[@]}:" \
    "stale maps: every key as the sync (or as the rules above), or a temporary failure"
like "$(sed -n 6p "$MM_TMP/stale.answers")" "^(FOUND stale|TEMPFAIL)" \
    "stale maps: zz-eve, refused by LDAP, from the stale maps (or nowhere)"

# ---- what a fallback answer costs
# 200 distinct mailboxes, one handle, LDAP on loopback: searches and time
for n in $(seq 1 200); do printf 'users user%06d@example.com\n' "$n"; done >"$MM_TMP/many"
seen=$(log_mark)
t0=$(date +%s%N)
"$MAPLOOKUP" -c "$MM_TMP/fb.conf" <"$MM_TMP/many" >"$MM_TMP/many.out"
t1=$(date +%s%N)
is "$(grep -c '^FOUND ldap home=' "$MM_TMP/many.out")" 200 "200 mailboxes from LDAP"
is "$(searches_since "$seen" | wc -l)" 200 "a mailbox with the default paths costs one search"
diag "200 fallback answers in $(((t1 - t0) / 1000000)) ms ($(((t1 - t0) / 200000)) us each, one connection)"
# twice in one handle within fallback_cache_ttl: the second time from the cache
seen=$(log_mark)
{ cat "$MM_TMP/many"; cat "$MM_TMP/many"; } | "$MAPLOOKUP" -c "$MM_TMP/fb.conf" >/dev/null
# (the cache is direct-mapped, LOOKUP_CACHE_SLOTS = 1024: a few keys share
# a slot and push each other out)
n=$(searches_since "$seen" | wc -l)
like "$((n - 200))" '^[0-9]$|^[0-3][0-9]$' \
    "the same 200 keys twice in one handle: the second round from the cache ($((n - 200)) searches, slot collisions)"
# fallback_cache_ttl = 0: no cache, every answer asks LDAP
write_mailmaps_conf "$MM_TMP/nocache.conf" "maps_dir = $MM_TMP/none" "fallback_cache_ttl = 0"
seen=$(log_mark)
{ cat "$MM_TMP/many"; cat "$MM_TMP/many"; } | "$MAPLOOKUP" -c "$MM_TMP/nocache.conf" >/dev/null
is "$(searches_since "$seen" | wc -l)" 400 "fallback_cache_ttl = 0: the second round asks LDAP again"

# ---- an iRedMail directory: domain entries, alias domains, shadow
# addresses gated by their flag, forwards, logins by an alias; with no
# maps every answer is the sync's
. "$(dirname "$0")/iredmail-small.sh"
if ! iredmail_available; then
    skip "iRedMail: the fallback's answers" "no test schema or slapd_config --schema"
    done_testing
fi
stop_slapd
start_slapd_iredmail
SYNC_CONF=$MM_TMP/isync.conf
iredmail_conf "$SYNC_CONF" "maps_dir = $MM_TMP/imaps"
iredmail_conf "$MM_TMP/ifb.conf" "maps_dir = $MM_TMP/inone"
"$SYNC" -c "$SYNC_CONF" --once 2>"$MM_TMP/isync.err"
is "$?" 0 "iRedMail: a sync of the directory" || diag "$(cat "$MM_TMP/isync.err")"
cases=(
    "domains example.com|FOUND OK"
    "domains example.net|FOUND OK"
    "domains empty.example|FOUND OK"
    "domains disabled.example|NOTFOUND"
    "domains nodomain.example|NOTFOUND"
    "domains gmail.example|NOTFOUND"
    "users alice@example.com|same"
    "mailboxes alice@example.com|same"
    "users al@example.com|same"
    "users bobby@example.com|NOTFOUND"
    "users gina@disabled.example|NOTFOUND"
    "users henry@nodomain.example|NOTFOUND"
    "mailboxes henry@nodomain.example|NOTFOUND"
    "aliases henry@nodomain.example|NOTFOUND"
    "aliases al@example.com|FOUND alice@example.com"
    "aliases bobby@example.com|NOTFOUND"
    "aliases carol@example.com|same"
    "aliases dave@example.com|NOTFOUND"
    "aliases alice@example.net|FOUND erin@example.com"
    "aliases bob@example.net|FOUND bob@example.com"
    "aliases al@example.net|same"
    "aliases nobody@example.net|NOTFOUND"
    "aliases team@other.org|same"
    "aliases frank@other.org|NOTFOUND"
)
ask_cases "$MM_TMP/ifb.conf"
like "$(paste "$MM_TMP/keys" "$MM_TMP/answers" | grep '^users al@example.com' | cut -f2-)" \
    '^FOUND ldap home=/var/vmail/example.com/alice.*user=alice@example.com' \
    "iRedMail: a login by alice's shadow address is alice (alias_login)"

done_testing
