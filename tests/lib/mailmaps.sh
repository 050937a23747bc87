# tests/lib/mailmaps.sh - mailmaps' own test data: mailmaps.conf files and
# account LDIF for the private slapd (part of tests/lib/harness.sh)

# Password of every user gen_users writes, and its hash (SHA512-CRYPT,
# understood by slapd's {CRYPT} and by Dovecot). Fixed, so that the same
# directory yields byte-identical maps from run to run.
MM_USER_PW=secret
# shellcheck disable=SC2016 # the $ are part of the hash
MM_USER_PW_HASH='{CRYPT}$6$ggehCzBareJdv.1Z$x3fxJLCREtRhVZEXdHtEFP5CbIaDa82bguIumE9eIToSTByaW17pV8Q/c5sh1JCS88M9tVkwGuIw/d3UMpLQW1'
export MM_USER_PW MM_USER_PW_HASH

# write_mailmaps_conf FILE [name = value | -name]... - a mailmaps.conf for
# the private slapd (URI, sync account, base, ldap_timeout = 3), then the
# given settings; a later setting replaces an earlier one of the same name
# (the parser refuses a setting given twice), "-name" leaves that setting
# out, an empty argument is ignored
write_mailmaps_conf() {
    local file=$1; shift
    local lines=(
        "ldap_uri = $LDAP_URI"
        "ldap_bind_dn = $LDAP_SYNC_DN"
        "ldap_bind_pw_file = $LDAP_SYNC_PW_FILE"
        "ldap_base = $LDAP_BASE"
        "ldap_timeout = 3"
    )
    local a drop=" "
    for a in "$@"; do
        case "$a" in
            -*) drop="$drop${a#-} " ;;
            *) lines+=("$a") ;;
        esac
    done
    local i j
    for ((i = 0; i < ${#lines[@]}; i++)); do
        case "$drop" in *" ${lines[i]%% =*} "*) lines[i]=""; continue ;; esac
        for ((j = i + 1; j < ${#lines[@]}; j++)); do
            if [ "${lines[i]%% =*}" = "${lines[j]%% =*}" ]; then lines[i]=""; break; fi
        done
    done
    for i in "${lines[@]}"; do [ -n "$i" ] && echo "$i"; done >"$file"
}

# write_policyd_conf FILE [name = value]... - write_mailmaps_conf with the
# test's $MAPS as maps_dir, $VMAIL as mail_base and group root for the
# policy daemon's unix sockets
write_policyd_conf() {
    local file=$1; shift
    write_mailmaps_conf "$file" "maps_dir = $MAPS" "mail_base = $VMAIL" \
        "policy_socket_group = root" "$@"
}

# write_shared_conf FILE [name = value]... - write_mailmaps_conf for maps
# that Dovecot's processes read too: $MAPS as maps_dir with maps_group
# dovecot (when that group exists), $VMAIL as mail_base (made, open to
# Dovecot's users); the file readable by all, as Dovecot's auth process
# reads it
write_shared_conf() {
    local file=$1 group=""; shift
    getent group dovecot >/dev/null && group="maps_group = dovecot"
    write_mailmaps_conf "$file" "maps_dir = $MAPS" "$group" "mail_base = $VMAIL" "$@"
    chmod 0644 "$file"
    mkdir -p "$VMAIL"
    chmod 0777 "$VMAIL"
}

# account_ldif [--mail ADDRESS] [--name NAME] [--disabled] UID [LINE...] -
# a mail account as LDIF for ldapadd or slapadd: uid=UID under
# ou=people, mail ADDRESS (default UID@example.com), cn and sn NAME
# (default UID), mailEnabled TRUE (FALSE with --disabled), then each LINE
# ("attribute: value") as it is
account_ldif() {
    local mail="" name="" enabled=TRUE uid line
    while [ $# -gt 0 ]; do
        case "$1" in
            --mail) mail=$2; shift ;;
            --name) name=$2; shift ;;
            --disabled) enabled=FALSE ;;
            *) break ;;
        esac
        shift
    done
    uid=$1; shift
    printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n' \
        "$uid" "$LDAP_PEOPLE"
    printf 'uid: %s\ncn: %s\nsn: %s\nmail: %s\nmailEnabled: %s\n' \
        "$uid" "${name:-$uid}" "${name:-$uid}" "${mail:-$uid@example.com}" "$enabled"
    for line in "$@"; do printf '%s\n' "$line"; done
}

# bob_ldif HOME - the account that uses every attribute of a record:
# Bob.Smith@Example.COM (mixed case), two aliases (postmaster too), a
# storage directory, home directory HOME, own uid and gid, quota 1G and a
# password; ends with a blank line
bob_ldif() {
    account_ldif --name Bob --mail Bob.Smith@Example.COM bob \
        "mailAlias: bobby@example.com" "mailAlias: postmaster@example.com" \
        "mailStorageDirectory: maildir:/var/vmail/custom/bob/" \
        "mailHomeDirectory: $1" "mailUidNumber: 6001" "mailGidNumber: 6002" \
        "mailQuota: 1G" "userPassword: {PLAIN}bobpw" ""
}

# sync_once [--err FILE] CONF [ARG...] - mailmaps-sync -c CONF --once ARG...;
# its stderr in FILE (default $MM_TMP/sync.err), its exit status returned
sync_once() {
    local err=$MM_TMP/sync.err
    if [ "$1" = --err ]; then err=$2; shift 2; fi
    local conf=$1; shift
    "$MAILMAPS_BUILD/mailmaps-sync" -c "$conf" --once "$@" 2>"$err"
}

# sync_ok [--err FILE] DESC CONF [ARG...] - sync_once, and one check that
# it exits 0, with its stderr as the diagnostic when not
sync_ok() {
    local err=$MM_TMP/sync.err
    if [ "$1" = --err ]; then err=$2; shift 2; fi
    local desc=$1; shift
    sync_once --err "$err" "$@"
    is "$?" 0 "$desc" || { diag "$(cat "$err")"; return 1; }
}

# gen_users - write to stdout an LDIF of N PostfixBookMailAccount entries
# under ou=people: uid=userNNNNNN, mail userNNNNNN@DOMAIN, password
# $MM_USER_PW. Every 10th user has a mailAlias alias-userNNNNNN@DOMAIN,
# every 7th is mailGroupMember of team(N%5)@DOMAIN, every 4th has a
# mailQuota of 5242880 (KB = 5 GiB) and every 12th "20G" instead.
# Options: --domains K (users spread over example.com, example1.com, ...
# example(K-1).com by N%K), --disabled K (the last K users are
# mailEnabled FALSE), --start S (first number, default 1), --prefix P
# (local part prefix instead of "user").
#
# --iredmail: the same users as an iRedMail tree (the schema of
# tests/integration/iredmail-schema.ldif): with --start 1 first
# o=domains,$LDAP_BASE, one mailDomain entry domainName=D,o=domains,...
# per domain with its ou=Users; every even-numbered domain has the alias
# domain exampleJ.net (example.net for example.com). Each user is
# mail=U@D,ou=Users,domainName=D,... (inetOrgPerson, shadowAccount,
# mailUser): accountStatus active (disabled for the last --disabled K),
# the usual enabledService values, storageBaseDirectory --mail-base DIR
# (default /var/vmail), mailMessageStore vmail1/D/u/us/use/U-TIMESTAMP/ and
# homeDirectory DIR/ that (every 3rd without the trailing /), mailQuota in
# bytes: every 12th 20 GiB, every 4th 5 GiB, every 9th 0 (unlimited),
# every 11th none, the rest 1 GiB. Every 10th has the shadowAddress
# shadow-U@D, with enabledService shadowaddress only every 20th; every 7th
# forwards to U@partner.example (every 14th keeps a copy: its own address
# among the forwards) with enabledService forward except every 35th; every
# 13th is memberOfGroup team(N%5)@D. --disabled-domains K: the last K
# domains are accountStatus disabled; every other user there (N / domains,
# rounded down, even) carries domainStatus disabled (as iRedMail's tools
# write), the others do not.
gen_users() {
    local n=$1 domains=1 disabled=0 start=1 prefix=user iredmail=0 disdom=0 mb=/var/vmail
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --domains) domains=$2; shift ;;
            --disabled) disabled=$2; shift ;;
            --start) start=$2; shift ;;
            --prefix) prefix=$2; shift ;;
            --iredmail) iredmail=1 ;;
            --disabled-domains) disdom=$2; shift ;;
            --mail-base) mb=$2; shift ;;
            *) fail_fast "gen_users: unknown option $1" ;;
        esac
        shift
    done
    awk -v n="$n" -v nd="$domains" -v dis="$disabled" -v start="$start" \
        -v pfx="$prefix" -v people="$LDAP_PEOPLE" -v pw="$MM_USER_PW_HASH" \
        -v ired="$iredmail" -v disdom="$disdom" -v mb="$mb" -v base="$LDAP_BASE" '
    function dom(j) { return (j == 0) ? "example" : "example" j }
    function ired_tree(  j, d) {
        printf "dn: o=domains,%s\nobjectClass: organization\no: domains\n\n", base
        for (j = 0; j < nd; j++) {
            d = dom(j) ".com"
            printf "dn: domainName=%s,o=domains,%s\nobjectClass: mailDomain\n", d, base
            printf "domainName: %s\ncn: %s\n", d, d
            printf "accountStatus: %s\nenabledService: mail\n", (j >= nd - disdom) ? "disabled" : "active"
            if (j % 2 == 0) printf "enabledService: domainalias\ndomainAliasName: %s.net\n", dom(j)
            printf "\ndn: ou=Users,domainName=%s,o=domains,%s\n", d, base
            printf "objectClass: organizationalUnit\nou: Users\n\n"
        }
    }
    function ired_user(i, k, u, j, d,  ts, store, s, q) {
        printf "dn: mail=%s@%s,ou=Users,domainName=%s,o=domains,%s\n", u, d, d, base
        printf "objectClass: inetOrgPerson\nobjectClass: shadowAccount\nobjectClass: mailUser\n"
        printf "mail: %s@%s\nuid: %s\ncn: User %d\nsn: %d\n", u, d, u, i, i
        printf "userPassword: %s\n", pw
        printf "accountStatus: %s\n", (k >= n - dis) ? "disabled" : "active"
        if (j >= nd - disdom && int(i / nd) % 2 == 0) printf "domainStatus: disabled\n"
        s = "internal doveadm lib-storage mail deliver smtp smtpsecured imap imapsecured pop3 pop3secured"
        gsub(/ /, "\nenabledService: ", s)
        printf "enabledService: %s\n", s
        ts = sprintf("%04d.%02d.%02d.%02d.%02d.%02d", 2015 + i % 10, 1 + i % 12, 1 + i % 28,
                     i % 24, i % 60, (i * 7) % 60)
        store = sprintf("vmail1/%s/%s/%s/%s/%s-%s", d, substr(u, 1, 1), substr(u, 1, 2),
                        substr(u, 1, 3), u, ts)
        printf "storageBaseDirectory: %s\nmailMessageStore: %s/\n", mb, store
        printf "homeDirectory: %s/%s%s\n", mb, store, (i % 3 == 0) ? "" : "/"
        if (i % 12 == 0) q = "21474836480"
        else if (i % 4 == 0) q = "5368709120"
        else if (i % 9 == 0) q = "0"
        else if (i % 11 == 0) q = ""
        else q = "1073741824"
        if (q != "") printf "mailQuota: %s\n", q
        if (i % 10 == 0) {
            printf "shadowAddress: shadow-%s@%s\n", u, d
            if (i % 20 == 0) printf "enabledService: shadowaddress\n"
        }
        if (i % 7 == 0) {
            printf "mailForwardingAddress: %s@partner.example\n", u
            if (i % 14 == 0) printf "mailForwardingAddress: %s@%s\n", u, d
            if (i % 35 != 0) printf "enabledService: forward\n"
        }
        if (i % 13 == 0) printf "memberOfGroup: team%d@%s\n", i % 5, d
        printf "\n"
    }
    BEGIN {
        if (ired && start == 1) ired_tree()
        for (k = 0; k < n; k++) {
            i = start + k
            u = sprintf("%s%06d", pfx, i)
            j = i % nd
            d = dom(j) ".com"
            if (ired) { ired_user(i, k, u, j, d); continue }
            printf "dn: uid=%s,%s\n", u, people
            printf "objectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n"
            printf "uid: %s\ncn: User %d\nsn: %d\n", u, i, i
            printf "mail: %s@%s\n", u, d
            printf "mailEnabled: %s\n", (k >= n - dis) ? "FALSE" : "TRUE"
            printf "userPassword: %s\n", pw
            if (i % 10 == 0) printf "mailAlias: alias-%s@%s\n", u, d
            if (i % 7 == 0) printf "mailGroupMember: team%d@%s\n", i % 5, d
            if (i % 12 == 0) printf "mailQuota: 20G\n"
            else if (i % 4 == 0) printf "mailQuota: 5242880\n"
            printf "\n"
        }
    }'
}


# sync_test_setup - the start of a test of the sync: SYNC and CLI, the
# programs (skip_all unless both are built), MAPS, VMAIL and CONF in $MM_TMP
sync_test_setup() {
    SYNC=$MAILMAPS_BUILD/mailmaps-sync
    CLI=$MAILMAPS_BUILD/mailmaps
    [ -x "$SYNC" ] || skip_all "mailmaps-sync not built"
    [ -x "$CLI" ] || skip_all "mailmaps not built"
    MAPS=$MM_TMP/maps
    VMAIL=$MM_TMP/vmail
    CONF=$MM_TMP/mailmaps.conf
}

# policyd_test_setup - sync_test_setup, and POLICYD (skip_all unless it is
# built and python3 runs the test client)
policyd_test_setup() {
    sync_test_setup
    POLICYD=$MAILMAPS_BUILD/mailmaps-policyd
    [ -x "$POLICYD" ] || skip_all "mailmaps-policyd not built"
    command -v python3 >/dev/null 2>&1 || skip_all "python3 missing (test client)"
}

# policy_ask PORT RCPT [SIZE] [STATE] - the action line the policy daemon on
# 127.0.0.1:PORT answers to one request (tests/tools/policy_ask.py)
policy_ask() {
    python3 "$MM_TOP/tests/tools/policy_ask.py" "$@" 2>&1
}

# start_policyd [--port PORT] CONF LOG [ARG...] - mailmaps-policyd -f ARG...
# -c CONF in the background, its output in LOG, its pid in POLICYD_PID,
# stopped when the test ends; with --port, the test bails out unless it
# listens on 127.0.0.1:PORT within 10 s
start_policyd() {
    local port=""
    if [ "$1" = --port ]; then port=$2; shift 2; fi
    local conf=$1 log=$2
    shift 2
    "$MAILMAPS_BUILD/mailmaps-policyd" -f "$@" -c "$conf" >"$log" 2>&1 </dev/null &
    POLICYD_PID=$!
    register_pid "$POLICYD_PID"
    [ -z "$port" ] || wait_port "$port" 10 || {
        _mm_log_tail "$log"
        fail_fast "mailmaps-policyd -c $conf does not listen on $port"
    }
}

# policyd_workers_started LOG N - true once N workers have logged their
# start in LOG (for wait_for)
policyd_workers_started() {
    [ "$(grep -c 'info: worker started' "$1")" -ge "$2" ]
}

# write_maildirsize USER BYTES - Dovecot's Maildir++ usage file of
# USER@example.com under $VMAIL: BYTES in 10 messages
write_maildirsize() {
    mkdir -p "$VMAIL/example.com/$1/Maildir"
    printf '0S,0C\n%s 10\n' "$2" >"$VMAIL/example.com/$1/Maildir/maildirsize"
}
