#!/usr/bin/env bash
# t-contrib - what an administrator installs, tested as shipped: the man
# pages render without warnings, "make install" puts everything in place,
# the systemd units verify, slapd runs with the slapd.conf snippet (and the
# cn=config LDIF applies), the sync works against it, the monitoring
# plugins read its maps, postconf takes the Postfix snippets without a
# warning and their tables answer, and Dovecot runs with the Dovecot
# snippets: the mailmaps userdb's quota, Maildir++ and quota_clone usage
# that mailmaps-policyd then reads. Only paths are rewritten (to this
# build and this test's directory), nothing else.
. "$(dirname "$0")/../lib/harness.sh"

B=$MAILMAPS_BUILD
C=$MM_TOP/contrib
if [ ! -x "$B/mailmaps" ] || [ ! -x "$B/mailmaps-sync" ] || [ ! -x "$B/mailmaps-policyd" ]; then
    skip_all "mailmaps, mailmaps-sync or mailmaps-policyd not built"
fi

MAPS=$MM_TMP/maps
VMAIL=$MM_TMP/vmail
CONF=$MM_TMP/mailmaps.conf
INST=$MM_TMP/inst

# ---------------------------------------------------------------- man pages

for f in "$C"/man/*.5 "$C"/man/*.8; do
    n=$(basename "$f")
    if command -v groff >/dev/null 2>&1; then
        out=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
        is "$out" "" "groff -man -ww renders $n without a warning"
    else
        skip "groff renders $n" "groff is not installed"
    fi
done
# Every option and command the programs name in --help is in their page.
for p in mailmaps mailmaps-sync mailmaps-policyd; do
    missing=""
    for o in $("$B/$p" --help 2>&1 | grep -oE '(^|[[ ])--?[a-z]+|\] [a-z][a-z-]+|mailmaps settings' |
               sed -E 's/^[] []*//; s/^mailmaps //' | sort -u); do
        grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$C/man/$p.8" || missing="$missing $o"
    done
    is "$missing" "" "$p.8 names every option and command of $p --help"
done
grep -q 'metrics' <("$B/mailmaps" --help 2>&1)
is "$?" 0 "mailmaps --help lists metrics"

# ---------------------------------------------------------------- make install

if make -s --no-print-directory -C "$MM_TOP" install DESTDIR="$INST" >"$MM_TMP/install.log" 2>&1; then
    ok "make install DESTDIR=..."
else
    not_ok "make install DESTDIR=..."
    diag "$(tail -n 20 "$MM_TMP/install.log")"
fi
EX=$INST/usr/share/doc/mailmaps/examples
missing=""
for f in usr/bin/mailmaps usr/sbin/mailmaps-sync usr/sbin/mailmaps-policyd \
         usr/share/man/man5/mailmaps.conf.5 usr/share/man/man8/mailmaps.8 \
         usr/share/man/man8/mailmaps-sync.8 usr/share/man/man8/mailmaps-policyd.8; do
    [ -f "$INST/$f" ] || missing="$missing $f"
done
for f in $(cd "$C" && find . -type f | sed 's|^\./||'); do
    cmp -s "$C/$f" "$EX/$f" || missing="$missing examples/$f"
done
is "$missing" "" "make install: programs, man pages, every contrib file in the examples"
# the Dovecot driver, and with Dovecot 2.4 its settings module, where the
# installed Dovecot looks for them
DMOD=$(. /usr/lib/dovecot/dovecot-config 2>/dev/null && printf '%s' "${dovecot_moduledir:-}")
if [ -n "$DMOD" ] && [ -f "$MAILMAPS_BUILD/libauthdb_mailmaps.so" ]; then
    got=$(cd "$INST$DMOD" 2>/dev/null && find . -name '*mailmaps*' | sort | tr '\n' ' ')
    if dovecot_24; then
        want="./auth/libauthdb_mailmaps.so ./settings/libmailmaps_settings.so "
    else
        want="./auth/libauthdb_mailmaps.so "
    fi
    is "$got" "$want" "make install: the Dovecot module(s) for Dovecot $(dovecot --version | cut -d' ' -f1)"
else
    skip "make install: the Dovecot modules" "dovecot-dev is not installed or the plugin not built"
fi
[ -x "$EX/monitoring/check_mailmaps" ] && [ -x "$EX/monitoring/munin/mailmaps_" ]
is "$?" 0 "the monitoring plugins stay executable"
if command -v man >/dev/null 2>&1; then
    is "$(MANPATH=$INST/usr/share/man man -w mailmaps.conf 2>/dev/null)" \
        "$INST/usr/share/man/man5/mailmaps.conf.5" "man finds mailmaps.conf(5) where it was installed"
fi

# ---------------------------------------------------------------- systemd

# ExecStart= programs must exist: point the units at the installed copies.
UNITS=$MM_TMP/units
mkdir -p "$UNITS"
for f in "$C"/systemd/*.service "$C"/systemd/*.timer "$C"/monitoring/*.service "$C"/monitoring/*.timer; do
    sed -e "s|/usr/sbin/mailmaps|$INST/usr/sbin/mailmaps|g" \
        -e "s|/usr/bin/mailmaps|$INST/usr/bin/mailmaps|g" "$f" >"$UNITS/$(basename "$f")"
done
if command -v systemd-analyze >/dev/null 2>&1; then
    for f in "$UNITS"/*; do
        # Documentation=man:... is checked too, against the installed pages.
        out=$(cd "$UNITS" && MANPATH=$INST/usr/share/man systemd-analyze verify "./$(basename "$f")" 2>&1)
        rc=$?
        is "$rc:$out" "0:" "systemd-analyze verify $(basename "$f")"
    done
    for f in mailmaps-sync.service mailmaps-sync-once.service mailmaps-policyd.service; do
        n=$(grep -cE '^(User=mailmaps|Group=mailmaps|NoNewPrivileges=yes|ProtectSystem=strict|ProtectHome=yes|PrivateTmp=yes|CapabilityBoundingSet=|SystemCallFilter=@system-service|RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6)$' "$C/systemd/$f")
        is "$n" 9 "$f: unprivileged user mailmaps and the hardening settings"
    done
    if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
        exp=$(cd "$UNITS" && systemd-analyze security --offline=yes ./mailmaps-sync.service 2>/dev/null |
              sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
        like "$exp" '^[0-2]\.' "mailmaps-sync.service exposure level below 3 (got $exp)"
    fi
else
    skip "systemd units verify" "systemd-analyze is not installed"
fi

# ---------------------------------------------------------------- slapd

command -v slapd >/dev/null 2>&1 || { skip "slapd snippets" "slapd is not installed"; done_testing; }
# slapd_config makes the directories, passwords and base entries; the slapd.conf
# is then rebuilt around the shipped snippet, with the site's own access
# rules after it as the snippet asks.
slapd_config
is "$LDAP_BASE:$LDAP_SYNC_DN" "dc=example,dc=com:cn=mailmaps,dc=example,dc=com" \
    "the test directory uses the snippet's names"
rm -rf "$SLAPD_DIR/db"
mkdir -p "$SLAPD_DIR/db"
{
    for s in core cosine inetorgperson nis; do echo "include /etc/ldap/schema/$s.schema"; done
    echo "pidfile $SLAPD_DIR/slapd.pid"
    echo "argsfile $SLAPD_DIR/slapd.args"
    echo "modulepath /usr/lib/ldap"
    echo "moduleload back_mdb"
    echo "sizelimit 500"
    echo "database mdb"
    echo "maxsize 1073741824"
    echo "suffix \"$LDAP_BASE\""
    echo "rootdn \"$LDAP_ROOT_DN\""
    echo "rootpw $LDAP_ROOT_PW"
    echo "directory $SLAPD_DIR/db"
    echo "index objectClass eq"
    sed "s|/etc/ldap/schema/postfix-book.schema|$C/ldap/postfix-book.schema|" \
        "$C/ldap/mailmaps-slapd.conf.snippet"
    echo "access to attrs=userPassword"
    echo "    by anonymous auth"
    echo "    by * none"
    echo "access to *"
    echo "    by * read"
} >"$SLAPD_CONF"
check "slaptest accepts slapd.conf with mailmaps-slapd.conf.snippet" slaptest -u -f "$SLAPD_CONF"
gen_users 600 --disabled 2 >"$MM_TMP/users.ldif"
account_ldif --name Tiny tiny "mailQuota: 1024" "userPassword: {PLAIN}tinypw" "" \
    >>"$MM_TMP/users.ldif"
slapd_load_ldif "$SLAPD_DIR/base.ldif"
slapd_load_ldif "$MM_TMP/users.ldif"
slapd_run

n=$(ldapsearch_sync '(mail=*)' 1.1 2>/dev/null | grep -c '^dn:')
is "$n" 601 "the sync account reads past the size limit of 500 (limits)"
like "$(ldapsearch_sync '(uid=tiny)' userPassword 2>/dev/null)" '^userPassword::? ' \
    "the sync account reads userPassword"
is "$(ldapsearch -x -LLL -H "$LDAP_URI" -b "$LDAP_BASE" '(uid=tiny)' userPassword 2>/dev/null | grep -c userPassword)" \
    0 "anonymous does not (the site's rules still apply)"
is "$(ldapsearch -x -LLL -H "$LDAP_URI" -D "uid=user000001,$LDAP_PEOPLE" -w "$MM_USER_PW" -b "$LDAP_BASE" '(uid=user000001)' 1.1 2>/dev/null | grep -c '^dn:')" \
    1 "users still bind (anonymous auth falls through)"
n=$(ldapsearch_sync -E '!sync=ro' '(mail=*)' 1.1 2>/dev/null | grep -c '^dn:')
is "$n" 601 "syncprov answers the sync account's refreshOnly search"

# The cn=config form: a second slapd whose slapd.d is made from the same
# base, then the schema LDIF and the mailmaps LDIF applied over ldapi as
# root, as their comments say.
CFG=$MM_TMP/slapd-config
mkdir -p "$CFG/slapd.d" "$CFG/db"
{
    for s in core cosine inetorgperson nis; do echo "include /etc/ldap/schema/$s.schema"; done
    echo "pidfile $CFG/slapd.pid"
    echo "modulepath /usr/lib/ldap"
    echo "moduleload back_mdb"
    echo "database config"
    echo "rootdn \"gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\""
    echo "database mdb"
    echo "maxsize 104857600"
    echo "suffix \"$LDAP_BASE\""
    echo "rootdn \"$LDAP_ROOT_DN\""
    echo "directory $CFG/db"
    echo "index objectClass eq"
    echo "access to * by * read"
} >"$CFG/slapd.conf"
# slaptest writes slapd.d, then fails to open the still empty database
# read-only; slapd itself creates it.
slaptest -f "$CFG/slapd.conf" -F "$CFG/slapd.d" >"$CFG/slaptest.log" 2>&1
if [ -f "$CFG/slapd.d/cn=config.ldif" ]; then
    CFG_URI="ldapi://$(_mm_urlenc_path "$CFG/ldapi")"
    slapd -d 0 -F "$CFG/slapd.d" -h "$CFG_URI/" >"$CFG/slapd.log" 2>&1 </dev/null {_mm_out}>&- &
    register_pid $!
    wait_for 10 ldapsearch -Y EXTERNAL -H "$CFG_URI" -b cn=config -s base 1.1
    check "cn=config: ldapadd postfix-book.ldif" \
        ldapadd -Y EXTERNAL -H "$CFG_URI" -f "$C/ldap/postfix-book.ldif"
    check "cn=config: ldapmodify mailmaps-slapd-config.ldif" \
        ldapmodify -Y EXTERNAL -H "$CFG_URI" -f "$C/ldap/mailmaps-slapd-config.ldif"
    out=$(ldapsearch -Y EXTERNAL -H "$CFG_URI" -LLL -o ldif-wrap=no -b 'olcDatabase={1}mdb,cn=config' 2>/dev/null)
    n=$(grep -cE '^(olcLimits: .*cn=mailmaps,dc=example,dc=com.* size=unlimited|olcDbIndex: entryCSN,entryUUID eq|olcOverlay: \{0\}syncprov|olcAccess: \{0\}to attrs=userPassword by dn.exact="cn=mailmaps)' <<<"$out")
    is "$n" 4 "cn=config: the limits, the syncprov index and overlay, the userPassword rule first"
    check "cn=config: slaptest -F on the result" slaptest -u -F "$CFG/slapd.d"
else
    not_ok "slaptest converts the cn=config base"
    diag "$(cat "$CFG/slaptest.log")"
fi

# ---------------------------------------------------------------- sync

write_shared_conf "$CONF"
sync_ok "mailmaps-sync --once against the snippet's slapd" "$CONF"
users=$(sed -n 's/^users=//p' "$MAPS/status")
aliases=$(sed -n 's/^aliases=//p' "$MAPS/status")
is "$users" 599 "599 users in the maps"

# ---------------------------------------------------------------- monitoring

CHECK=$EX/monitoring/check_mailmaps
out=$(MAILMAPS=$B/mailmaps "$CHECK" -c "$CONF"); rc=$?
is "$rc" 0 "check_mailmaps: OK on fresh maps"
like "$out" '^OK: mailmaps fresh, .*599 users \|' "check_mailmaps: one plugin line with perfdata"
is "$(printf '%s\n' "$out" | wc -l)" 1 "check_mailmaps prints exactly one line"
{ cat "$CONF"; echo "stale_after = 1"; } >"$MM_TMP/stale.conf"
sleep 2
out=$(MAILMAPS=$B/mailmaps "$CHECK" -c "$MM_TMP/stale.conf"); rc=$?
is "$rc:${out%%:*}" "1:WARNING" "check_mailmaps: WARNING (1) on stale maps"
sed "s|^maps_dir = .*|maps_dir = $MM_TMP/nomaps|" "$CONF" >"$MM_TMP/nomaps.conf"
out=$(MAILMAPS=$B/mailmaps "$CHECK" -c "$MM_TMP/nomaps.conf"); rc=$?
is "$rc:${out%%:*}" "2:CRITICAL" "check_mailmaps: CRITICAL (2) without maps"
{ cat "$CONF"; echo "no_such_setting = 1"; } >"$MM_TMP/bad.conf"
out=$(MAILMAPS=$B/mailmaps "$CHECK" -c "$MM_TMP/bad.conf"); rc=$?
is "$rc:${out%%:*}" "3:UNKNOWN" "check_mailmaps: UNKNOWN (3) on a bad configuration"
out=$(MAILMAPS=$MM_TMP/nothere "$CHECK" -c "$CONF"); rc=$?
is "$rc:${out%%:*}" "3:UNKNOWN" "check_mailmaps: UNKNOWN (3) without the mailmaps program"

MUNIN=$MM_TMP/munin
mkdir -p "$MUNIN"
for g in accounts age duration; do ln -s "$EX/monitoring/munin/mailmaps_" "$MUNIN/mailmaps_$g"; done
is "$(maps_dir=$MAPS "$MUNIN/mailmaps_accounts" autoconf)" "yes" "munin: autoconf yes"
is "$(maps_dir=$MAPS "$MUNIN/mailmaps_accounts" suggest | tr '\n' ' ')" "accounts age duration " \
    "munin: suggest names the three graphs"
for g in accounts age duration; do
    out=$(maps_dir=$MAPS "$MUNIN/mailmaps_$g" config)
    like "$out" '^graph_title mailmaps ' "munin mailmaps_$g config"
done
is "$(maps_dir=$MAPS "$MUNIN/mailmaps_accounts" | tr '\n' ' ')" \
    "users.value 599 aliases.value $aliases domains.value 1 " "munin: accounts from the status"
like "$(maps_dir=$MAPS "$MUNIN/mailmaps_age")" '^age\.value [0-9]+$' "munin: age in seconds"
like "$(maps_dir=$MAPS "$MUNIN/mailmaps_duration")" '^duration\.value [0-9]+\.[0-9]{3}$' \
    "munin: duration in seconds"
like "$(maps_dir=$MAPS stale_after=600 "$MUNIN/mailmaps_age" config)" 'age\.warning 600' \
    "munin: the age warning follows env.stale_after"
is "$(maps_dir=$MM_TMP/nomaps "$MUNIN/mailmaps_accounts" | tr '\n' ' ')" \
    "users.value U aliases.value U domains.value U " "munin: unknown values without maps"

out=$("$B/mailmaps" -c "$CONF" metrics); rc=$?
is "$rc" 0 "mailmaps metrics exits 0"
grep -qx 'mailmaps_users 599' <<<"$out"
is "$?" 0 "mailmaps_users 599"
missing=""
for m in users aliases domains generation synced_timestamp_seconds sync_duration_seconds \
         age_seconds stale last_failure_timestamp_seconds; do
    grep -qx "# TYPE mailmaps_$m gauge" <<<"$out" && grep -qE "^mailmaps_$m [0-9.]+$" <<<"$out" ||
        missing="$missing $m"
done
is "$missing" "" "every mailmaps_* metric with its TYPE and a value"
is "$(grep -vcE '^(# (HELP|TYPE) mailmaps_[a-z_]+ .+|mailmaps_[a-z_]+ [0-9]+(\.[0-9]+)?)$' <<<"$out")" 0 \
    "nothing but exposition-format lines"
out=$("$B/mailmaps" -c "$MM_TMP/nomaps.conf" metrics 2>/dev/null); rc=$?
is "$rc:$(grep -v '^#' <<<"$out")" "2:mailmaps_stale 1" "without maps: mailmaps_stale 1 and exit 2"
# The timer's command as shipped, with the paths of this test.
TEXTFILE=$MM_TMP/textfile
mkdir -p "$TEXTFILE"
cmd=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$EX/monitoring/mailmaps-metrics.service" |
      sed -e "s|/usr/bin/mailmaps|$B/mailmaps|" -e "s|/etc/mailmaps/mailmaps.conf|$CONF|" \
          -e "s|/var/lib/prometheus/node-exporter|$TEXTFILE|g" -e 's/\$\$/$/g')
sh -c "$cmd"
is "$?:$(ls "$TEXTFILE" | tr '\n' ' ')" "0:mailmaps.prom " "mailmaps-metrics.service writes mailmaps.prom, no temp file left"
grep -qx 'mailmaps_users 599' "$TEXTFILE/mailmaps.prom"
is "$?" 0 "mailmaps.prom holds the metrics"

# ---------------------------------------------------------------- Postfix

if command -v postconf >/dev/null 2>&1; then
    mkdir -p "$PF_CONF" "$PF_SPOOL" "$PF_DIR/data"
    {
        echo "compatibility_level = 3.6"
        echo "queue_directory = $PF_SPOOL"
        echo "data_directory = $PF_DIR/data"
        echo "myhostname = mx.example.test"
        echo "alias_maps ="
        echo "alias_database ="
        sed -e "s|/var/lib/mailmaps/|$MAPS/|g" -e "s|/etc/postfix/|$PF_CONF/|g" \
            -e "s|/var/vmail|$VMAIL|g" "$C/postfix/main.cf.snippet"
    } >"$PF_CONF/main.cf"
    postfix_conf_settled "$PF_CONF/main.cf"
    printf '%s\n' "smtp inet n - y - - smtpd" "pickup unix n - y 60 1 pickup" \
        "cleanup unix n - y - 0 cleanup" "qmgr unix n - n 300 1 qmgr" >"$PF_CONF/master.cf"
    cp "$PF_CONF/master.cf" "$PF_CONF/master.cf.plain"
    sed -e "s|/usr/sbin/mailmaps-policyd|$B/mailmaps-policyd|" -e "s|/etc/mailmaps/mailmaps.conf|$CONF|" \
        "$C/postfix/master.cf.snippet" >>"$PF_CONF/master.cf"
    "$B/mailmaps" -c "$CONF" postfix-config -d "$PF_CONF"
    is "$?" 0 "mailmaps postfix-config writes the ldap: tables the snippet names"

    out=$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null); rc=$?
    is "$rc:$out" "0:" "postconf -n: the main.cf and master.cf snippets, no warning"
    like "$(postconf -c "$PF_CONF" -M mailmaps-policy/unix 2>&1)" \
        "^mailmaps-policy +unix .* spawn user=mailmaps argv=$B/mailmaps-policyd --stdio" \
        "postconf -M: the spawn(8) service"
    is "$(postconf -c "$PF_CONF" -h smtpd_policy_service_default_action smtpd_policy_service_timeout smtpd_policy_service_try_limit | tr '\n' ' ')" \
        "DUNNO 10s 2 " "the policy client's default action, timeout and tries"
    like "$(postconf -c "$PF_CONF" -h smtpd_end_of_data_restrictions)" \
        'check_policy_service unix:private/mailmaps-policy' "the end-of-data check"
    # The check is real: without the spawn service the time limit is unknown.
    cp "$PF_CONF/master.cf" "$PF_CONF/master.cf.full"
    cp "$PF_CONF/master.cf.plain" "$PF_CONF/master.cf"
    like "$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null)" 'unused parameter: mailmaps-policy_time_limit' \
        "postconf does warn about an unknown parameter (the check works)"
    cp "$PF_CONF/master.cf.full" "$PF_CONF/master.cf"

    # The cdb: maps; LDAP behind mailboxes only (cheap there; the defer
    # table after it), and the generated aliases/domains tables still
    # agree when asked directly.
    want_domains=OK
    want_mailboxes="example.com/user000001/Maildir/"
    for p in virtual_mailbox_domains:domains:example.com:1 virtual_mailbox_maps:mailboxes:user000001@example.com:3 \
             virtual_alias_maps:aliases:alias-user000010@example.com:1; do
        param=${p%%:*}; rest=${p#*:}; map=${rest%%:*}; rest=${rest#*:}; key=${rest%%:*}
        ntables=${rest##*:}
        tables=$(postconf -c "$PF_CONF" -h "$param" | tr ',' ' ')
        # shellcheck disable=SC2086 # one word per table
        set -- $tables
        is "$#" "$ntables" "$param: $ntables table(s)"
        a=$(postmap -c "$PF_CONF" -q "$key" "$1"); ra=$?
        b=$(postmap -c "$PF_CONF" -q "$key" "ldap:$PF_CONF/mailmaps-$map.cf"); rb=$?
        # The ldap: domains table answers OK once per account of the domain.
        [ "$map" = domains ] && b=${b%%,*}
        is "$ra:$rb:$a" "0:0:$b" "$param: $key answers the same from ${1%%:*}: and the ldap: table"
        case $map in
            domains) is "$a" "$want_domains" "$param: $key is $want_domains" ;;
            mailboxes) is "$a" "$want_mailboxes" "$param: $key is $want_mailboxes" ;;
            aliases) is "$a" "user000010@example.com" "$param: $key is user000010@example.com" ;;
        esac
    done

    # The snippet's proxy:ldap: tables through a running proxymap, which
    # opens a table at its first request as the postfix user: the file as
    # postfix-config writes it (0640, root's group) is refused, the same
    # file with group postfix answers (README and mailmaps(8) say so).
    vmm=$(postconf -c "$PF_CONF" -h virtual_mailbox_maps)
    like "$vmm" "proxy:ldap:$PF_CONF/mailmaps-mailboxes.cf" "the snippet lists the ldap: fallback behind proxy:"
    if need_root; then
        cp -p "$PF_CONF/mailmaps-mailboxes.cf" "$PF_CONF/rootonly.cf"
        chown root:root "$PF_CONF/rootonly.cf"
        chgrp postfix "$PF_CONF"/mailmaps-*.cf
        is "$(stat -c %a "$PF_CONF/rootonly.cf")" 640 "postfix-config writes the table with the password 0640"
        start_postfix "virtual_mailbox_maps = $vmm" \
            "proxy_read_maps = \$virtual_mailbox_maps proxy:ldap:$PF_CONF/rootonly.cf"
        a=$(postmap -c "$PF_CONF" -q user000001@example.com "proxy:ldap:$PF_CONF/mailmaps-mailboxes.cf" 2>&1)
        is "$?:$a" "0:example.com/user000001/Maildir/" \
            "proxy:ldap: with group postfix answers through proxymap"
        a=$(postmap -c "$PF_CONF" -q user000001@example.com "proxy:ldap:$PF_CONF/rootonly.cf" 2>&1)
        rc=$?
        is "$((rc != 0))" 1 "proxy:ldap: with a root:root 0640 file fails (proxymap runs as postfix)"
        diag "proxymap: $(grep "proxymap.*rootonly" "$PF_LOG" | head -n 1 | sed "s/.*proxymap\[[0-9]*\]: //")"
        stop_postfix
    else
        skip "the proxy:ldap: tables through proxymap" "needs root"
    fi
else
    skip "Postfix snippets" "postfix is not installed"
fi

# ---------------------------------------------------------------- Dovecot

PLUGIN=$B/libauthdb_mailmaps.so
if ! command -v doveconf >/dev/null 2>&1; then
    skip "Dovecot snippets" "dovecot-core is not installed"
    done_testing
fi
# The snippets of the installed Dovecot's version, as shipped.
if dovecot_24; then DV=2.4; else DV=2.3; fi
SNIP=$MM_TMP/dovecot-snippets
mkdir -p "$SNIP"
start_redis
sed "s|/etc/mailmaps/mailmaps.conf|$CONF|" "$C/dovecot/$DV/auth-mailmaps.conf.ext" >"$SNIP/auth-mailmaps.conf.ext"
sed -e "s|redis:host=127.0.0.1:port=6379|redis:host=127.0.0.1:port=$REDIS_PORT|" \
    -e "s|redis_port = 6379|redis_port = $REDIS_PORT|" \
    "$C/dovecot/$DV/90-mailmaps-quota.conf" >"$SNIP/90-mailmaps-quota.conf"
chmod -R a+rX "$SNIP"
mkdir -p "$DC_DIR"
if [ "$DV" = 2.4 ]; then
    # doveconf knows mailmaps_config_file only from the settings module
    if ! need_root || [ ! -f "$PLUGIN" ]; then
        skip "Dovecot 2.4 snippets" "needs root and the built plugin (settings module)"
        done_testing
    fi
    dovecot_private_auth_modules "$PLUGIN"
    head="dovecot_config_version = ${DC_VERSION%%-*}
dovecot_storage_version = ${DC_VERSION%%-*}"
    mail="mail_driver = maildir
mail_path = ~/Maildir"
else
    head="" mail="mail_location = maildir:~/Maildir"
fi
cat >"$MM_TMP/doveconf.conf" <<EOF
$head
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
log_path = $DC_DIR/doveconf.log
protocols = imap
ssl = no
$mail
!include $SNIP/auth-mailmaps.conf.ext
!include $SNIP/90-mailmaps-quota.conf
EOF
sed -i '1{/^$/d}' "$MM_TMP/doveconf.conf"
# shellcheck disable=SC2086 # DOVECOT_WRAP is a word list on purpose
out=$(${DOVECOT_WRAP:-} doveconf -c "$MM_TMP/doveconf.conf" -n 2>"$MM_TMP/doveconf.err"); rc=$?
is "$rc:$(cat "$MM_TMP/doveconf.err")" "0:" "doveconf parses the Dovecot $DV snippets without a warning"
# shellcheck disable=SC2086
plugins=$(${DOVECOT_WRAP:-} doveconf -c "$MM_TMP/doveconf.conf" -h mail_plugins 2>/dev/null)
if [ "$DV" = 2.4 ]; then
    # (2.4 prints blocks over several lines: compare them as one)
    flat=$(printf '%s' "$out" | tr '\n' ' ')
    like "$flat" "passdb mailmaps \{ +mailmaps_config_file = $CONF +\}" \
        "doveconf: the mailmaps passdb with its mailmaps_config_file"
    like "$flat" "userdb mailmaps \{ +mailmaps_config_file = $CONF +\}" \
        "doveconf: the mailmaps userdb with its mailmaps_config_file"
    like "$(printf '%s' "$plugins" | tr '\n' ' ')" '^quota = yes quota_clone = yes$' \
        "doveconf: the quota and quota_clone plugins"
else
    like "$out" 'driver = mailmaps' "doveconf: the mailmaps passdb and userdb"
    like "$plugins" 'quota quota_clone' "doveconf: the quota and quota_clone plugins"
fi

if ! need_root || [ ! -f "$PLUGIN" ] || [ ! -x /usr/lib/dovecot/imap ]; then
    skip "a private Dovecot with the snippets" "needs root, the built plugin and dovecot-imapd"
    done_testing
fi
dovecot_private_auth_modules "$PLUGIN"
start_dovecot "!include $SNIP/auth-mailmaps.conf.ext" "!include $SNIP/90-mailmaps-quota.conf"
U=user000004@example.com     # mailQuota 5242880 KB: 5 GiB
if [ "$DV" = 2.4 ]; then
    like "$(doveadm_c user "$U" 2>&1)" 'quota_storage_size[[:space:]]+5368709120B' \
        "doveadm user: the quota limit from the mailmaps userdb (2.4's name)"
    like "$(doveadm_c user "$U" 2>&1)" 'mailbox/Trash/quota_storage_extra[[:space:]]+524288000B' \
        "doveadm user: Trash's extra room (2.4's name)"
else
    like "$(doveadm_c user "$U" 2>&1)" 'quota_rule[[:space:]]+\*:storage=5368709120B' \
        "doveadm user: the quota rule from the mailmaps userdb"
fi
like "$(doveadm_c quota get -u "$U" 2>&1)" 'User quota +STORAGE +0 +5242880 ' \
    "doveadm quota get: Dovecot enforces the same limit"
printf 'From: a@example.org\r\nTo: %s\r\nSubject: quota\r\n\r\n%s\r\n' "$U" "$(head -c 3000 /dev/zero | tr '\0' x)" \
    >"$MM_TMP/msg.eml"
doveadm_c save -u "$U" <"$MM_TMP/msg.eml"
is "$?" 0 "doveadm save: a message into $U's INBOX"
used=$(redis_cli GET "$U/quota/storage")
like "$used" '^[1-9][0-9]*$' "quota_clone wrote $U/quota/storage to Redis ($used bytes)"
MDS=$VMAIL/example.com/user000004/Maildir/maildirsize
[ -f "$MDS" ]
is "$?" 0 "the maildir quota keeps %h/Maildir/maildirsize (quota_usage's default)"
chmod -R a+rX "$VMAIL"

# mailmaps-policyd reads that usage from either source: a message that fits
# only without the usage is refused, one that fits with it is not. Its
# grace is Dovecot's: 10% on 2.3; on 2.4 the snippet's quota_storage_grace
# (10M), which mailmaps.conf then names as quota_grace = 10M.
limit=5368709120
PCONF=$MM_TMP/policy.conf
if [ "$DV" = 2.4 ]; then
    grace=10485760
    { cat "$CONF"; echo "quota_grace = 10M"; } >"$PCONF"
else
    grace=536870912
    cp "$CONF" "$PCONF"
fi
fits=$((limit - used)) over=$((limit + grace - used + 1))
policy() {  # policy CONF SIZE - the action for a RCPT of SIZE bytes to $U
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nsender=a@example.org\nrecipient=%s\nsize=%s\n\n' \
        "$U" "$2" | timeout 10 "$B/mailmaps-policyd" --stdio -c "$1" 2>>"$MM_TMP/policyd.err" |
        sed -n 's/^action=//p'
}
{ cat "$PCONF"; echo "quota_usage = redis:127.0.0.1:$REDIS_PORT"; } >"$MM_TMP/redis.conf"
for c in "$PCONF:maildir" "$MM_TMP/redis.conf:redis"; do
    f=${c%:*} src=${c##*:}
    is "$(policy "$f" "$fits")" "DUNNO" "policyd ($src usage): a message that fits passes"
    like "$(policy "$f" "$over")" '^552 5\.2\.2 ' "policyd ($src usage): one beyond the quota and grace is refused"
done

done_testing
