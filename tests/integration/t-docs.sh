#!/usr/bin/env bash
# t-docs - the settings reference in README.md, mailmaps.conf(5) and
# contrib/mailmaps.conf is the one generated from maps/conf.c's table (`make
# settings-doc` writes it), and the sample configuration is accepted as it
# is shipped.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/scripts/settings-doc" --check "${MAILMAPS_BUILD:-$top/build/release}/tests/tools/settingsdoc"
# The sample, with the one required setting filled in, parses.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{ cat "$top/contrib/mailmaps.conf"; echo "ldap_base = dc=example,dc=com"; } >"$tmp"
if "${MAILMAPS_BUILD:-$top/build/release}/mailmaps-sync" -n -c "$tmp" >/dev/null 2>&1; then
    echo "ok - contrib/mailmaps.conf parses"
else
    echo "not ok - contrib/mailmaps.conf parses"
fi
# Uncommenting every default must parse too: the defaults shown are real.
sed 's/^#\([a-z_]* =\)/\1/' "$top/contrib/mailmaps.conf" >"$tmp"
grep -q '^ldap_base = .' "$tmp" || sed -i 's/^ldap_base =.*/ldap_base = dc=example,dc=com/' "$tmp"
if out=$("${MAILMAPS_BUILD:-$top/build/release}/mailmaps-sync" -n -c "$tmp" 2>&1); then
    echo "ok - every default shown in contrib/mailmaps.conf parses"
else
    echo "not ok - every default shown in contrib/mailmaps.conf parses"
    echo "# $out"
fi
