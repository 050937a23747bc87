# tests/lib/slapd.sh - a private slapd and the LDAP client helpers (part of
# tests/lib/harness.sh)

LDAP_BASE="dc=example,dc=com"
LDAP_PEOPLE="ou=people,$LDAP_BASE"
LDAP_ROOT_DN="cn=admin,$LDAP_BASE"
LDAP_ROOT_PW="admin-secret"
LDAP_SYNC_DN="cn=mailmaps,$LDAP_BASE"
LDAP_SYNC_PW="mailmaps-sync"
SLAPD_DIR="$MM_TMP/slapd"
LDAP_ROOT_PW_FILE="$SLAPD_DIR/root.pw"
LDAP_SYNC_PW_FILE="$SLAPD_DIR/sync.pw"
LDAP_URI=""
LDAPI_URI=""
SLAPD_PORT=""
SLAPD_PID=""
SLAPD_CONF="$SLAPD_DIR/slapd.conf"
SLAPD_LOG="$SLAPD_DIR/slapd.log"
SLAPD_DEBUG=${SLAPD_DEBUG:-stats}
export LDAP_BASE LDAP_PEOPLE LDAP_ROOT_DN LDAP_ROOT_PW LDAP_SYNC_DN LDAP_SYNC_PW \
       LDAP_ROOT_PW_FILE LDAP_SYNC_PW_FILE LDAP_URI LDAPI_URI SLAPD_PORT

# _mm_urlenc_path - a path with "/" escaped as an ldapi:// URL needs it
_mm_urlenc_path() {
    local p=$1
    p=${p//%/%25}
    p=${p//,/%2C}
    printf '%s' "${p//\//%2F}"
}

# slapd_config - write slapd.conf and the base entries, load them; no start.
# Options: --syncprov (persist-mode support; the sync account then gets
# size=unlimited, as the README asks: the persist search is not paged),
# --sizelimit N (server limit,
# default 500 as slapd's own), --no-sync-limits (no paged-results exemption
# for the sync account: reproduces the 500-entry truncation),
# --no-sync-account (no cn=mailmaps entry at all), --maxsize BYTES (mdb),
# --schema FILE (this schema instead of the Postfix Book one: a slapd.conf
# .schema, or a cn=config .ldif, converted by slapd_schema_conf; the
# mail index stays, the Postfix Book indexes go), --index "ATTRS eq" (one
# more index line, repeatable).
slapd_config() {
    local syncprov=0 sizelimit=500 synclimits=1 syncacct=1 maxsize=2147483648
    local schemafile="$MM_TOP/contrib/ldap/postfix-book.schema" indexes=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --syncprov) syncprov=1 ;;
            --sizelimit) sizelimit=$2; shift ;;
            --no-sync-limits) synclimits=0 ;;
            --no-sync-account) syncacct=0; synclimits=0 ;;
            --maxsize) maxsize=$2; shift ;;
            --schema) schemafile=$2; shift ;;
            --index) indexes+=("$2"); shift ;;
            *) fail_fast "slapd_config: unknown option $1" ;;
        esac
        shift
    done
    local schema=/etc/ldap/schema
    [ -r "$schema/core.schema" ] || fail_fast "no $schema/core.schema: is slapd installed?"
    rm -rf "$SLAPD_DIR"
    mkdir -p "$SLAPD_DIR/db"
    # ldapsearch -y and the daemons take the whole file as the password.
    printf '%s' "$LDAP_ROOT_PW" >"$LDAP_ROOT_PW_FILE"
    printf '%s' "$LDAP_SYNC_PW" >"$LDAP_SYNC_PW_FILE"
    # The owner's alone, as the programs demand of a password file (root
    # reads it: the tests, and Dovecot's auth worker for the fallback).
    chmod 0600 "$LDAP_ROOT_PW_FILE" "$LDAP_SYNC_PW_FILE"
    [ -n "$SLAPD_PORT" ] || free_port SLAPD_PORT
    LDAP_URI="ldap://127.0.0.1:$SLAPD_PORT"
    LDAPI_URI="ldapi://$(_mm_urlenc_path "$SLAPD_DIR/ldapi")"
    export LDAP_URI LDAPI_URI SLAPD_PORT
    case "$schemafile" in
        *.ldif)
            slapd_schema_conf "$schemafile" >"$SLAPD_DIR/test.schema" ||
                fail_fast "cannot convert $schemafile"
            schemafile=$SLAPD_DIR/test.schema ;;
    esac
    {
        echo "# private slapd for a mailmaps integration test"
        local s
        for s in core cosine inetorgperson nis; do
            echo "include $schema/$s.schema"
        done
        echo "include $schemafile"
        echo "pidfile $SLAPD_DIR/slapd.pid"
        echo "argsfile $SLAPD_DIR/slapd.args"
        echo "modulepath /usr/lib/ldap"
        echo "moduleload back_mdb"
        [ $syncprov -eq 1 ] && echo "moduleload syncprov"
        echo "sizelimit $sizelimit"
        echo
        echo "database mdb"
        echo "maxsize $maxsize"
        echo "suffix \"$LDAP_BASE\""
        echo "rootdn \"$LDAP_ROOT_DN\""
        echo "rootpw $LDAP_ROOT_PW"
        echo "directory $SLAPD_DIR/db"
        echo "index objectClass eq"
        case "$schemafile" in
            */postfix-book.schema) echo "index mail,mailAlias,mailGroupMember eq" ;;
            *) echo "index mail eq" ;;
        esac
        echo "index uid eq"
        for s in "${indexes[@]}"; do echo "index $s"; done
        [ $syncprov -eq 1 ] && echo "index entryCSN,entryUUID eq"
        # The rootdn ignores limits; the sync account does not, which is
        # exactly what the tests need to see.
        if [ $synclimits -eq 1 ] && [ $syncprov -eq 1 ]; then
            echo "limits dn.exact=\"$LDAP_SYNC_DN\" size=unlimited"
        elif [ $synclimits -eq 1 ]; then
            echo "limits dn.exact=\"$LDAP_SYNC_DN\" size.prtotal=unlimited"
        fi
        echo "access to attrs=userPassword"
        [ $syncacct -eq 1 ] && echo "    by dn.exact=\"$LDAP_SYNC_DN\" read"
        echo "    by anonymous auth"
        echo "    by * none"
        echo "access to *"
        echo "    by * read"
        if [ $syncprov -eq 1 ]; then
            echo
            echo "overlay syncprov"
            echo "syncprov-checkpoint 100 10"
            echo "syncprov-sessionlog 10000"
        fi
    } >"$SLAPD_CONF"
    {
        echo "dn: $LDAP_BASE"
        echo "objectClass: dcObject"
        echo "objectClass: organization"
        echo "dc: example"
        echo "o: Example"
        echo
        echo "dn: $LDAP_PEOPLE"
        echo "objectClass: organizationalUnit"
        echo "ou: people"
        echo
        if [ $syncacct -eq 1 ]; then
            echo "dn: $LDAP_SYNC_DN"
            echo "objectClass: organizationalRole"
            echo "objectClass: simpleSecurityObject"
            echo "cn: mailmaps"
            echo "userPassword: $(slappasswd -n -h '{SSHA}' -s "$LDAP_SYNC_PW")"
            echo
        fi
    } >"$SLAPD_DIR/base.ldif"
    slapd_load_ldif "$SLAPD_DIR/base.ldif"
}

# slapd_schema_conf FILE - a cn=config schema LDIF (olcAttributeTypes,
# olcObjectClasses, olcObjectIdentifier) as slapd.conf schema text on stdout
slapd_schema_conf() {
    awk '
    function flush() {
        if (cur == "") return
        if (sub(/^olcAttributeTypes: */, "", cur)) kw = "attributetype"
        else if (sub(/^olcObjectClasses: */, "", cur)) kw = "objectclass"
        else if (sub(/^olcObjectIdentifier: */, "", cur)) kw = "objectidentifier"
        else { cur = ""; return }
        sub(/^\{[0-9]+\}/, "", cur)        # the X-ORDERED index, if any
        print kw " " cur
        cur = ""
    }
    /^#/ { next }
    /^ / { cur = cur substr($0, 2); next }  # an LDIF continuation line
    { flush(); cur = $0 }
    END { flush() }' "$1"
}

# slapd_load_ldif - bulk-load FILE with slapadd -q (slapd must be stopped)
slapd_load_ldif() {
    [ -z "$SLAPD_PID" ] || fail_fast "slapd_load_ldif: slapd is running; use ldap_add_ldif"
    slapadd -q -f "$SLAPD_CONF" -b "$LDAP_BASE" -l "$1" >"$SLAPD_DIR/slapadd.log" 2>&1 || {
        _mm_log_tail "$SLAPD_DIR/slapadd.log"
        fail_fast "slapadd -q $1 failed"
    }
}

# slapd_run - start the configured slapd and wait until it answers
slapd_run() {
    [ -z "$SLAPD_PID" ] || return 0
    # -d keeps slapd in the foreground with its log on stderr (there is no
    # syslog here), so the pid is known without racing the pid file.
    slapd -d "$SLAPD_DEBUG" -f "$SLAPD_CONF" \
        -h "ldap://127.0.0.1:$SLAPD_PORT/ $LDAPI_URI/" >>"$SLAPD_LOG" 2>&1 </dev/null {_mm_out}>&- &
    SLAPD_PID=$!
    local i=0
    while [ $i -lt 100 ]; do
        if ! _mm_alive "$SLAPD_PID"; then
            wait "$SLAPD_PID" 2>/dev/null
            SLAPD_PID=""
            _mm_log_tail "$SLAPD_LOG"
            fail_fast "slapd exited at start"
        fi
        ldapsearch -x -H "$LDAP_URI" -b "" -s base -LLL 1.1 >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    _mm_log_tail "$SLAPD_LOG"
    fail_fast "slapd did not answer on $LDAP_URI"
}

# start_slapd - slapd_config OPTIONS, slapadd each --ldif FILE, then run it
start_slapd() {
    local args=() ldifs=() f
    while [ $# -gt 0 ]; do
        case "$1" in
            --ldif) ldifs+=("$2"); shift ;;
            --sizelimit|--maxsize|--schema|--index) args+=("$1" "$2"); shift ;;
            *) args+=("$1") ;;
        esac
        shift
    done
    slapd_config "${args[@]}"
    for f in "${ldifs[@]}"; do slapd_load_ldif "$f"; done
    slapd_run
}

# stop_slapd - stop slapd (the database stays for restart_slapd)
stop_slapd() {
    [ -n "$SLAPD_PID" ] || return 0
    _mm_stop_pid "$SLAPD_PID" 20
    SLAPD_PID=""
}

# restart_slapd - stop and start again on the same port with the same data
restart_slapd() {
    stop_slapd
    slapd_run
}

# ldap_add_ldif - add the entries of FILE to the running slapd as rootdn
ldap_add_ldif() {
    ldapadd -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -f "$1" >/dev/null
}

# ldap_modify_ldif - apply the changes of FILE (changetype records) as rootdn
ldap_modify_ldif() {
    ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ROOT_DN" -y "$LDAP_ROOT_PW_FILE" -f "$1" >/dev/null
}

# ldapsearch_sync - ldapsearch bound as the sync account: ldapsearch_sync ARGS...
ldapsearch_sync() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_SYNC_DN" \
        -y "$LDAP_SYNC_PW_FILE" -b "$LDAP_BASE" "$@"
}

