#!/usr/bin/env bash
# t-two-nodes - the recommended two-node layout: a provider slapd and a
# syncrepl consumer, one mailmaps-sync per node, each against its own
# replica. The nodes' maps are byte-identical and their checksums match,
# also after a change; with the provider stopped the consumer's node keeps
# serving and syncing, the provider's node fails and keeps its last maps,
# and a node with both URIs in ldap_uri fails over to the consumer.
# shellcheck source=tests/lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup

# The account the consumer replicates as: reads everything (userPassword
# too, or node B's users.cdb would have no passwords and the sync account
# could not even bind on the replica), without size or time limits.
REPL_DN="cn=replicator,$LDAP_BASE"
REPL_PW="replicator-secret"

# ---------------------------------------------------------------- provider

# More than the servers' size limit of 500: the replicator's and the sync
# account's limits lines are needed on both servers.
gen_users 600 --domains 3 --disabled 5 >"$MM_TMP/users.ldif"
cat >"$MM_TMP/replicator.ldif" <<EOF
dn: $REPL_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: replicator
userPassword: $(slappasswd -n -h '{SSHA}' -s "$REPL_PW")
EOF

slapd_config --syncprov
# The replicator's limits and read access go into the harness's provider config
# before its access rules (the first matching rule wins).
grep -q '^access to attrs=userPassword$' "$SLAPD_CONF" ||
    fail_fast "slapd.conf layout changed: no 'access to attrs=userPassword' line"
sed -i "/^access to attrs=userPassword\$/{
i limits dn.exact=\"$REPL_DN\" size=unlimited time=unlimited
a \    by dn.exact=\"$REPL_DN\" read
}" "$SLAPD_CONF"
slapd_load_ldif "$MM_TMP/replicator.ldif"
slapd_load_ldif "$MM_TMP/users.ldif"
slapd_run
PROVIDER_URI=$LDAP_URI

# ---------------------------------------------------------------- consumer

CONS_DIR=$MM_TMP/consumer
CONS_CONF=$CONS_DIR/slapd.conf
CONS_LOG=$CONS_DIR/slapd.log
free_port CONS_PORT
CONSUMER_URI="ldap://127.0.0.1:$CONS_PORT"
CONS_PID=""
mkdir -p "$CONS_DIR/db"
{
    echo "# syncrepl consumer of $PROVIDER_URI for t-two-nodes"
    for s in core cosine inetorgperson nis; do echo "include /etc/ldap/schema/$s.schema"; done
    echo "include $MM_TOP/contrib/ldap/postfix-book.schema"
    echo "pidfile $CONS_DIR/slapd.pid"
    echo "argsfile $CONS_DIR/slapd.args"
    echo "modulepath /usr/lib/ldap"
    echo "moduleload back_mdb"
    echo "moduleload syncprov"
    echo "sizelimit 500"
    echo
    echo "database mdb"
    echo "maxsize 2147483648"
    echo "suffix \"$LDAP_BASE\""
    # Only for this test's comparisons: a replica needs no rootdn.
    echo "rootdn \"$LDAP_ROOT_DN\""
    echo "rootpw $LDAP_ROOT_PW"
    echo "directory $CONS_DIR/db"
    echo "index objectClass eq"
    echo "index mail,mailAlias,mailGroupMember eq"
    echo "index uid eq"
    echo "index entryCSN,entryUUID eq"
    echo "syncrepl rid=001"
    echo "  provider=$PROVIDER_URI"
    echo "  bindmethod=simple"
    echo "  binddn=\"$REPL_DN\""
    echo "  credentials=$REPL_PW"
    echo "  searchbase=\"$LDAP_BASE\""
    echo "  type=refreshAndPersist"
    echo "  retry=\"1 +\""
    echo "updateref $PROVIDER_URI"
    echo "limits dn.exact=\"$LDAP_SYNC_DN\" size=unlimited time=unlimited"
    echo "access to attrs=userPassword"
    echo "    by dn.exact=\"$LDAP_SYNC_DN\" read"
    echo "    by anonymous auth"
    echo "    by * none"
    echo "access to *"
    echo "    by * read"
    # syncprov on the replica too, so that node B can run sync_mode = persist
    # against it (a cascading replica).
    echo
    echo "overlay syncprov"
    echo "syncprov-checkpoint 100 10"
    echo "syncprov-sessionlog 10000"
} >"$CONS_CONF"
chmod 0600 "$CONS_CONF"  # it holds the replicator's password

# consumer_run - start the consumer slapd and wait until it answers
consumer_run() {
    slapd -d "$SLAPD_DEBUG" -f "$CONS_CONF" -h "$CONSUMER_URI/" \
        >>"$CONS_LOG" 2>&1 </dev/null {_mm_out}>&- &
    CONS_PID=$!
    register_pid "$CONS_PID"
    wait_for 10 ldapsearch -x -H "$CONSUMER_URI" -b "" -s base -LLL 1.1 || {
        _mm_log_tail "$CONS_LOG"
        fail_fast "the consumer slapd did not answer on $CONSUMER_URI"
    }
}
consumer_run

# entries_csn URI - every entry's DN and entryCSN, one sorted line each
entries_csn() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$1" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" \
        -b "$LDAP_BASE" '(objectClass=*)' entryCSN 2>/dev/null |
        awk '/^dn:/ { dn = $0 } /^entryCSN:/ { print dn " " $2 }' | sort
}
# replicated - the consumer holds exactly the provider's entries, at the same CSNs
replicated() {
    local p c
    p=$(entries_csn "$PROVIDER_URI") && c=$(entries_csn "$CONSUMER_URI") &&
        [ -n "$p" ] && [ "$p" = "$c" ]
}
wait_replicated() {
    if wait_for 30 replicated; then
        ok "$1"
    else
        not_ok "$1"
        diag "provider: $(entries_csn "$PROVIDER_URI" | wc -l) entries, consumer: $(entries_csn "$CONSUMER_URI" | wc -l)"
        _mm_log_tail "$CONS_LOG"
    fi
}

wait_replicated "the consumer replicates every entry of the provider"
is "$(entries_csn "$CONSUMER_URI" | grep -c '^dn: uid=user')" 600 "all 600 accounts on the consumer, past the size limit of 500"
check "the sync account can bind on the consumer (its password replicated)" \
    ldapsearch -x -H "$CONSUMER_URI" -D "$LDAP_SYNC_DN" -y "$LDAP_SYNC_PW_FILE" \
        -b "$LDAP_BASE" -s base -LLL 1.1
like "$(ldapadd -x -H "$CONSUMER_URI" -D "$LDAP_SYNC_DN" -y "$LDAP_SYNC_PW_FILE" \
        -f "$MM_TMP/replicator.ldif" 2>&1)" "[Rr]eferral|$PROVIDER_URI" \
    "a write on the consumer is referred to the provider (updateref)"

# ---------------------------------------------------------------- nodes

# node_conf NAME URIS [SETTING...] - mailmaps.conf of node NAME, maps in maps-NAME
node_conf() {
    local name=$1 uris=$2; shift 2
    write_mailmaps_conf "$MM_TMP/$name.conf" "ldap_uri = $uris" \
        "maps_dir = $MM_TMP/maps-$name" "mail_base = /var/vmail" "$@"
}
node_sync() { "$SYNC" -c "$MM_TMP/$1.conf" --once >>"$MM_TMP/$1.log" 2>&1; }
node_status() { "$CLI" -c "$MM_TMP/$1.conf" status; }
node_checksum() { node_status "$1" | sed -n 's/^checksum: *//p'; }
node_source() { node_status "$1" | sed -n 's/^source: *//p'; }
# same_maps A B - every map of node A byte-identical to node B's
same_maps() {
    local f
    for f in domains mailboxes aliases users; do
        cmp -s "$MM_TMP/maps-$1/$f.cdb" "$MM_TMP/maps-$2/$f.cdb" || return 1
    done
}
pq() { postmap -q "$1" "cdb:$MM_TMP/maps-$2/$3"; }

node_conf A "$PROVIDER_URI"
node_conf B "$CONSUMER_URI"

node_sync A; is "$?" 0 "node A syncs from the provider"
node_sync B; is "$?" 0 "node B syncs from the consumer"
is "$(node_status B | sed -n 's/^users: *//p')" 595 "node B has every enabled account"
is "$(node_source A)" "$PROVIDER_URI" "node A's source is the provider"
is "$(node_source B)" "$CONSUMER_URI" "node B's source is the consumer"
for f in domains mailboxes aliases users; do
    check "$f.cdb is byte-identical on both nodes" \
        cmp "$MM_TMP/maps-A/$f.cdb" "$MM_TMP/maps-B/$f.cdb"
done
sum1=$(node_checksum A)
like "$sum1" '^[0-9a-f]{64}$' "mailmaps status shows a SHA-256 checksum"
is "$(node_checksum B)" "$sum1" "the checksums match across nodes"
is "$(pq alias-user000010@example1.com B aliases)" "user000010@example1.com" \
    "node B answers an alias"
like "$(pq team0@example.com B aliases)" "^user[0-9]+@example.com(,user[0-9]+@example.com)+$" \
    "node B answers a list"
like "$(pq user000005@example2.com B users)" "password=\{CRYPT\}" \
    "node B's users.cdb has the passwords"

# ---------------------------------------------------------------- a change

account_ldif newbie "mailAlias: nb@example.com" "mailQuota: 2G" >"$MM_TMP/change.ldif"
cat >"$MM_TMP/change2.ldif" <<EOF
dn: uid=user000020,$LDAP_PEOPLE
changetype: modify
replace: mailQuota
mailQuota: 1G
EOF
ldap_add_ldif "$MM_TMP/change.ldif"
ldap_modify_ldif "$MM_TMP/change2.ldif"
wait_replicated "an add and a modify on the provider reach the consumer"
node_sync A; is "$?" 0 "node A syncs the change"
node_sync B; is "$?" 0 "node B syncs the change"
check "after the change the maps are byte-identical again" same_maps A B
sum2=$(node_checksum A)
is "$(node_checksum B)" "$sum2" "and the checksums match again"
[ "$sum2" != "$sum1" ] && ok "the checksum changed with the directory" ||
    not_ok "the checksum changed with the directory"
is "$(pq nb@example.com B aliases)" "newbie@example.com" "node B has the new account's alias"
like "$(pq user000020@example2.com B users)" "quota_rule=\*:storage=1073741824B" \
    "node B has the changed quota"

# A node that lists both replicas uses the first that answers.
node_conf C "$PROVIDER_URI $CONSUMER_URI"
node_sync C; is "$?" 0 "node C (ldap_uri = provider consumer) syncs"
is "$(node_source C)" "$PROVIDER_URI" "node C uses the provider while it is up"

# ---------------------------------------------------------------- persist

# Node B in persist mode follows the consumer, which follows the provider.
node_conf P "$CONSUMER_URI" "sync_mode = persist" "sync_interval = 600"
"$SYNC" -f -c "$MM_TMP/P.conf" >>"$MM_TMP/P.log" 2>&1 &
P_PID=$!
register_pid "$P_PID"
wait_for 20 test -f "$MM_TMP/maps-P/status" &&
    ok "a persist-mode sync against the consumer installs its refresh" ||
    not_ok "a persist-mode sync against the consumer installs its refresh"
sed 's/newbie/later/g; s/nb@/lt@/; /mailQuota/d' "$MM_TMP/change.ldif" >"$MM_TMP/change3.ldif"
ldap_add_ldif "$MM_TMP/change3.ldif"
wait_for 10 sh -c "postmap -q later@example.com cdb:$MM_TMP/maps-P/mailboxes | grep -q ." &&
    ok "a change on the provider reaches the persist node through the consumer" ||
    not_ok "a change on the provider reaches the persist node through the consumer"
wait_replicated "the consumer has it too"
node_sync A; node_sync B
check "A and B byte-identical before the provider stops" same_maps A B

# ---------------------------------------------------------------- provider down

cp -a "$MM_TMP/maps-A" "$MM_TMP/maps-A.before"
sum3=$(node_checksum A)
stop_slapd
check_fails "the provider is down" ldapsearch -x -H "$PROVIDER_URI" -b "" -s base -LLL 1.1

check "node B: mailmaps status still fresh" node_status B
node_sync B; is "$?" 0 "node B: the sync still succeeds against the consumer"
is "$(node_checksum B)" "$sum3" "node B: same checksum as before"
is "$(pq later@example.com B mailboxes)" "example.com/later/Maildir/" "node B still answers"
kill -0 "$P_PID" 2>/dev/null && ok "the persist node keeps running" ||
    not_ok "the persist node keeps running"

node_sync A; is "$?" 1 "node A: the sync fails (exit 1) with its LDAP server gone"
check "node A: every map kept as it was" same_maps A A.before
is "$(node_checksum A)" "$sum3" "node A: status keeps the last good checksum"
like "$(node_status A)" "last failure: " "node A: status records the failure"
check "node A: still fresh within stale_after" node_status A
node_conf A1 "$PROVIDER_URI" "stale_after = 1"
rm -rf "$MM_TMP/maps-A1"; cp -a "$MM_TMP/maps-A" "$MM_TMP/maps-A1"
sleep 2
node_status A1 >"$MM_TMP/A1.status"
is "$?" 1 "node A: after stale_after, status exits 1"
like "$(head -n 1 "$MM_TMP/A1.status")" "^WARNING: mailmaps stale" "and says the maps are stale"

node_sync C; is "$?" 0 "node C fails over to the consumer"
is "$(node_source C)" "$CONSUMER_URI" "node C's source is now the consumer"
is "$(node_checksum C)" "$sum3" "node C's checksum still matches"

# ---------------------------------------------------------------- provider back

slapd_run
ldapdelete -x -H "$PROVIDER_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" \
    "uid=later,$LDAP_PEOPLE"
wait_replicated "the consumer catches up when the provider is back"
node_sync A; is "$?" 0 "node A syncs again"
node_sync B; is "$?" 0 "node B syncs again"
check "byte-identical once more" same_maps A B
is "$(node_checksum B)" "$(node_checksum A)" "checksums match once more"
check_fails "the deleted account is gone on node B" pq later@example.com B mailboxes
wait_for 10 sh -c "! postmap -q later@example.com cdb:$MM_TMP/maps-P/mailboxes" &&
    ok "and on the persist node, which stayed connected to the consumer" ||
    not_ok "and on the persist node, which stayed connected to the consumer"
kill -TERM "$P_PID"
wait "$P_PID"
is "$?" 0 "the persist node stops cleanly"

done_testing
