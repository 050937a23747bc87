# tests/lib/mailmaps.sh - mailmaps' own test data: mailmaps.conf files and
# account LDIF for the private slapd (part of tests/lib/harness.sh)

# Password of every user gen_users writes, and its hash (SHA512-CRYPT,
# understood by slapd's {CRYPT} and by Dovecot). Fixed, so that the same
# directory yields byte-identical maps from run to run.
MM_USER_PW=secret
# shellcheck disable=SC2016 # the $ are part of the hash
MM_USER_PW_HASH='{CRYPT}$6$ggehCzBareJdv.1Z$x3fxJLCREtRhVZEXdHtEFP5CbIaDa82bguIumE9eIToSTByaW17pV8Q/c5sh1JCS88M9tVkwGuIw/d3UMpLQW1'
export MM_USER_PW MM_USER_PW_HASH

# write_mailmaps_conf FILE [name = value]... - a mailmaps.conf for the
# private slapd (URI, sync account, base, ldap_timeout = 3), then the given
# settings; a later setting replaces an earlier one of the same name (the
# parser refuses a setting given twice)
write_mailmaps_conf() {
    local file=$1; shift
    local lines=(
        "ldap_uri = $LDAP_URI"
        "ldap_bind_dn = $LDAP_SYNC_DN"
        "ldap_bind_pw_file = $LDAP_SYNC_PW_FILE"
        "ldap_base = $LDAP_BASE"
        "ldap_timeout = 3"
        "$@"
    )
    local i j
    for ((i = 0; i < ${#lines[@]}; i++)); do
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

# account_ldif UID [LINE...] - an enabled mail account UID@example.com as
# LDIF for ldapadd, with any further attribute lines
account_ldif() {
    local uid=$1 line; shift
    printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: PostfixBookMailAccount\n' \
        "$uid" "$LDAP_PEOPLE"
    printf 'uid: %s\ncn: %s\nsn: %s\nmail: %s@example.com\nmailEnabled: TRUE\n' \
        "$uid" "$uid" "$uid" "$uid"
    for line in "$@"; do printf '%s\n' "$line"; done
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
gen_users() {
    local n=$1 domains=1 disabled=0 start=1 prefix=user
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --domains) domains=$2; shift ;;
            --disabled) disabled=$2; shift ;;
            --start) start=$2; shift ;;
            --prefix) prefix=$2; shift ;;
            *) fail_fast "gen_users: unknown option $1" ;;
        esac
        shift
    done
    awk -v n="$n" -v nd="$domains" -v dis="$disabled" -v start="$start" \
        -v pfx="$prefix" -v people="$LDAP_PEOPLE" -v pw="$MM_USER_PW_HASH" '
    BEGIN {
        for (k = 0; k < n; k++) {
            i = start + k
            u = sprintf("%s%06d", pfx, i)
            j = i % nd
            d = (j == 0) ? "example.com" : "example" j ".com"
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

