#!/usr/bin/env bash
# t-platform-maps - the maps of one fixed directory, for the comparison
# across Debian releases: with MAILMAPS_PLATFORM_OUT set (tests/check sets
# it for every part of `make check`), their checksums go to
# $MAILMAPS_PLATFORM_OUT/maps.sum, and tests/check fails unless every
# release wrote the same bytes. Here: one sync, and a second one from the
# same directory gives the same files.
. "$(dirname "$0")/../lib/harness.sh"

sync_test_setup

# Every kind of record: plain, aliases, groups, quotas in both units,
# disabled accounts, several domains, explicit storage and ids.
gen_users 2000 --domains 3 --disabled 25 >"$MM_TMP/users.ldif"
bob_ldif /var/vmail/home/bob >>"$MM_TMP/users.ldif"
start_slapd --ldif "$MM_TMP/users.ldif"

# maps_sum DIR - one "sha256  name" line per map
maps_sum() {
    (cd "$1" && sha256sum domains.cdb mailboxes.cdb aliases.cdb users.cdb)
}

for d in maps maps2; do
    write_mailmaps_conf "$CONF" "maps_dir = $MM_TMP/$d" "mail_base = /var/vmail" \
        "quota_rules = Trash:+500M Junk:+100M"
    sync_ok "mailmaps-sync --once into $d" "$CONF"
done
sums=$(maps_sum "$MM_TMP/maps")
like "$sums" '^[0-9a-f]{64}  domains\.cdb' "the four maps are there"
is "$(maps_sum "$MM_TMP/maps2")" "$sums" "a second sync of the same directory: the same bytes"

if [ -n "${MAILMAPS_PLATFORM_OUT:-}" ]; then
    mkdir -p "$MAILMAPS_PLATFORM_OUT" &&
        printf '%s\n' "$sums" >"$MAILMAPS_PLATFORM_OUT/maps.sum"
    check "checksums written for the comparison across releases" test -s "$MAILMAPS_PLATFORM_OUT/maps.sum"
fi
done_testing
