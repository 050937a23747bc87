# t-cli.sh - what every program says about itself: --version, and log lines
# with the priority prefix the journal reads when stderr is the journal.
. "$(dirname "$0")/../lib/harness.sh"

version=$(sed -n 's/^#define MAILMAPS_VERSION "\(.*\)"$/\1/p' "$MM_TOP/maps/version.h")
like "$version" '^[0-9]+\.[0-9]+\.[0-9]+' "maps/version.h names a version"
grep -q "^## mailmaps $version" "$MM_TOP/NEWS" 2>/dev/null
ok_news=$?
is "$ok_news" 0 "NEWS has an entry for $version"
for p in mailmaps mailmaps-sync mailmaps-policyd; do
    is "$("$MAILMAPS_BUILD/$p" --version 2>&1)" "$p $version" "$p --version"
    like "$("$MAILMAPS_BUILD/$p" --help 2>&1)" 'version' "$p --help mentions --version"
done

# stderr connected to the journal: systemd sets JOURNAL_STREAM=DEV:INODE of it
err="$MM_TMP/journal.err"
: >"$err"
stream=$(stat -c '%d:%i' "$err")
JOURNAL_STREAM=$stream "$MAILMAPS_BUILD/mailmaps-sync" -n -c "$MM_TMP/missing.conf" 2>>"$err"
like "$(cat "$err")" '^<3>error: .*missing\.conf' "an error reaches the journal as priority 3 (err)"
: >"$err"
JOURNAL_STREAM=1:1 "$MAILMAPS_BUILD/mailmaps-sync" -n -c "$MM_TMP/missing.conf" 2>>"$err"
like "$(cat "$err")" '^mailmaps-sync: error: ' "stderr that is not the journal keeps the plain prefix"

done_testing
