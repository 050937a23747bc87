# t-maps-postfix.sh - maps written by the library's map writer are what
# Postfix's own cdb: tables read; a long-running reader picks up a replaced
# map; a writer killed with SIGKILL mid-way leaves the old maps intact.
#
# Drives two test tools: $MAILMAPS_BUILD/tests/tools/mapgen DIR (reads
# "MAP<TAB>KEY<TAB>VALUE" lines, writes DIR/{domains,mailboxes,aliases,users}.cdb
# with one commit) and maplookup DIR (reads "MAP KEY" lines, answers
# "FOUND VALUE" / "NOTFOUND" / "ERROR reason" per line).
. "$(dirname "$0")/../lib/harness.sh"

MAPGEN=$MAILMAPS_BUILD/tests/tools/mapgen
MAPLOOKUP=$MAILMAPS_BUILD/tests/tools/maplookup
MAPS="domains mailboxes aliases users"

if [ ! -x "$MAPGEN" ]; then
    skip "map writer against Postfix" "no $MAPGEN yet"
    done_testing
fi
command -v postmap >/dev/null 2>&1 || skip_all "postmap not installed"
postconf -m 2>/dev/null | grep -qx cdb || skip_all "Postfix has no cdb table type (postfix-cdb)"
postmap_conf

D=$MM_TMP/maps
mkdir -p "$D"
TAB=$'\t'

# mapgen_run - run mapgen on DIR with stdin; output in $MM_TMP/mapgen.out
mapgen_run() {
    "$MAPGEN" "$1" >"$MM_TMP/mapgen.out" 2>&1
}

# maps_sum - sha256 of the four maps of DIR, one line
maps_sum() {
    (cd "$1" && sha256sum domains.cdb mailboxes.cdb aliases.cdb users.cdb 2>&1) | tr '\n' ' '
}

# extra_files - files in DIR other than the four maps, space separated
extra_files() {
    local f out=""
    for f in "$1"/.[!.]* "$1"/*; do
        [ -e "$f" ] || continue
        case "${f##*/}" in domains.cdb|mailboxes.cdb|aliases.cdb|users.cdb) continue ;; esac
        out="$out${f##*/} "
    done
    printf '%s' "$out"
}

# pq - postmap -q KEY cdb:$D/MAP; prints "value" or "<exit N>"
pq() {
    local v rc
    v=$(postmap_q "$2" "cdb:$D/$1" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && printf '%s' "$v" || printf '<exit %d>' "$rc"
}

USERVAL="home=/var/vmail/example.com/alice${TAB}uid=5000${TAB}gid=5000${TAB}mail=maildir:/var/vmail/example.com/alice/Maildir/${TAB}quota_rule=*:storage=10737418240B${TAB}quota_rule2=Trash:storage=+524288000B${TAB}password={CRYPT}\$6\$salt\$hash"

# ---- one commit, read by postmap
cat >"$MM_TMP/v1.in" <<EOF
domains${TAB}Example.COM${TAB}OK
domains${TAB}example.net${TAB}OK
mailboxes${TAB}Alice@Example.COM${TAB}example.com/alice/Maildir/
mailboxes${TAB}bob@example.net${TAB}example.net/bob/Maildir/
aliases${TAB}Postmaster@example.com${TAB}alice@example.com
aliases${TAB}team@example.com${TAB}alice@example.com,bob@example.net
users${TAB}ALICE@example.com${TAB}$USERVAL
users${TAB}bob@example.net${TAB}home=/var/vmail/example.net/bob${TAB}uid=5000${TAB}gid=5000
EOF
check "mapgen writes the four maps" mapgen_run "$D" <"$MM_TMP/v1.in"
like "$(cat "$MM_TMP/mapgen.out")" '^[0-9a-f]{64}$' "mapgen prints a SHA-256 checksum"
for m in $MAPS; do
    check "$m.cdb exists" test -f "$D/$m.cdb"
done

is "$(pq domains example.com)" OK "postmap finds a domain given in upper case"
is "$(pq domains EXAMPLE.com)" OK "postmap folds an upper-case query"
is "$(pq domains example.net)" OK "postmap finds the second domain"
is "$(pq mailboxes alice@example.com)" example.com/alice/Maildir/ "postmap finds a mailbox"
is "$(pq mailboxes ALICE@EXAMPLE.COM)" example.com/alice/Maildir/ "postmap finds a mailbox by an upper-case query"
is "$(pq mailboxes bob@example.net)" example.net/bob/Maildir/ "postmap finds the second mailbox"
is "$(pq aliases postmaster@example.com)" alice@example.com "postmap finds an alias"
is "$(pq aliases team@example.com)" alice@example.com,bob@example.net "postmap finds a list"
is "$(pq users alice@example.com)" "$USERVAL" "postmap finds a users record (TABs kept)"
is "$(pq users Bob@Example.NET)" "home=/var/vmail/example.net/bob${TAB}uid=5000${TAB}gid=5000" \
    "postmap finds the second users record"
is "$(pq domains example.org)" "<exit 1>" "postmap: a missing domain is not found"
is "$(pq mailboxes carol@example.com)" "<exit 1>" "postmap: a missing mailbox is not found"
is "$(pq aliases alice@example.com)" "<exit 1>" "postmap: a mailbox is no alias"

# The stored keys themselves: lower case, no trailing NUL (tinycdb's dump
# shows "+KLEN,VLEN:KEY->VALUE").
if command -v cdb >/dev/null 2>&1; then
    keys=$(for m in $MAPS; do cdb -d "$D/$m.cdb"; done | sed -n 's/^+\([0-9]*\),[0-9]*:\(.*\)->.*/\1 \2/p')
    bad=$(printf '%s\n' "$keys" | awk '{ if ($2 != tolower($2) || length($2) != $1) print }')
    is "$bad" "" "every stored key is lower case without a NUL"
    is "$(printf '%s\n' "$keys" | wc -l)" 8 "eight records stored"
else
    skip "stored keys are lower case" "tinycdb's cdb tool not installed"
    skip "eight records stored" "tinycdb's cdb tool not installed"
fi
is "$(extra_files "$D")" "" "no temp file left after a commit"

# ---- deterministic: same input, same bytes
mkdir -p "$MM_TMP/maps2"
sum1=$(cat "$MM_TMP/mapgen.out")
sort -r "$MM_TMP/v1.in" | mapgen_run "$MM_TMP/maps2"
is "$(cat "$MM_TMP/mapgen.out")" "$sum1" "the same records in another order give the same checksum"
is "$(cd "$MM_TMP/maps2" && maps_sum .)" "$(cd "$D" && maps_sum .)" "... and byte-identical files"

# ---- refused input leaves the old maps alone
before=$(maps_sum "$D")
bad_input() {  # desc, input
    printf '%s\n' "$2" | mapgen_run "$D"
    local rc=$?
    is "$rc" 1 "mapgen refuses $1 (exit 1)"
    like "$(cat "$MM_TMP/mapgen.out")" '.' "... with a message"
    is "$(maps_sum "$D")" "$before" "... and leaves every map as it was"
}
bad_input "an empty value" "domains${TAB}example.org${TAB}"
bad_input "an unknown map" "nosuchmap${TAB}k${TAB}v"
bad_input "a line without a value" "domains${TAB}example.org"
bad_input "a duplicate key (after lower-casing)" "domains${TAB}example.org${TAB}OK
domains${TAB}Example.ORG${TAB}OK"
is "$(extra_files "$D")" "" "no temp file left after refused commits"

# ---- a running reader sees a replaced map on its next lookup
if [ -x "$MAPLOOKUP" ]; then
    coproc ML { exec "$MAPLOOKUP" "$D"; }
    register_pid "$ML_PID"
    ml_in=${ML[1]} ml_out=${ML[0]}
    # ask - one question to maplookup, print its answer
    ask() {
        local a
        printf '%s\n' "$*" >&"$ml_in"
        IFS= read -r -t 10 a <&"$ml_out" || a="<no answer>"
        printf '%s' "$a"
    }
    is "$(ask domains example.com)" "FOUND OK" "maplookup finds a domain"
    is "$(ask mailboxes Alice@Example.com)" "FOUND example.com/alice/Maildir/" "maplookup finds a mailbox (query folded)"
    is "$(ask users alice@example.com)" "FOUND $USERVAL" "maplookup finds a users record"
    is "$(ask domains example.org)" "NOTFOUND" "maplookup: missing key"
    like "$(ask nosuchmap x)" '^ERROR ' "maplookup: bad question gives ERROR"

    cat >"$MM_TMP/v2.in" <<EOF
domains${TAB}example.com${TAB}OK
domains${TAB}example.org${TAB}OK
mailboxes${TAB}alice@example.com${TAB}example.com/alice/Maildir/
mailboxes${TAB}carol@example.org${TAB}example.org/carol/Maildir/
aliases${TAB}postmaster@example.com${TAB}alice@example.com
users${TAB}alice@example.com${TAB}home=/var/vmail/example.com/alice
EOF
    check "mapgen replaces the maps under the running reader" mapgen_run "$D" <"$MM_TMP/v2.in"
    is "$(ask domains example.org)" "FOUND OK" "the reader sees the new domain on its next lookup"
    is "$(ask domains example.net)" "NOTFOUND" "... and no longer the removed one"
    is "$(ask mailboxes carol@example.org)" "FOUND example.org/carol/Maildir/" "... in every map"
    is "$(ask users alice@example.com)" "FOUND home=/var/vmail/example.com/alice" "... with the new values"
    is "$(pq domains example.org)" OK "postmap agrees"
    is "$(pq domains example.net)" "<exit 1>" "postmap agrees about the removed domain"

    # End the first reader (bash keeps one coprocess at a time).
    exec {ml_in}>&-
    _mm_wait_gone "$ML_PID" 5
    wait "$ML_PID" 2>/dev/null

    # A reader started before any map exists picks them up once written.
    mkdir -p "$MM_TMP/late"
    coproc ML2 { exec "$MAPLOOKUP" "$MM_TMP/late"; }
    register_pid "$ML2_PID"
    ml_in=${ML2[1]} ml_out=${ML2[0]}
    like "$(ask domains example.com)" '^ERROR ' "maplookup on a missing map answers ERROR, not NOTFOUND"
    check "mapgen writes the maps later" mapgen_run "$MM_TMP/late" <"$MM_TMP/v2.in"
    is "$(ask domains example.com)" "FOUND OK" "the reader finds the key once the map appears"
    exec {ml_in}>&-
else
    skip "maplookup sees a replaced map" "no $MAPLOOKUP yet"
fi

# ---- SIGKILL mid-way leaves the old maps intact
check "mapgen writes the maps before the kill" mapgen_run "$D" <"$MM_TMP/v1.in"
before=$(maps_sum "$D")

# big_input - 2,000,000 users records plus the v1 maps' small ones
big_input() {
    awk 'BEGIN { for (i = 0; i < 2000000; i++)
                     printf "users\tu%07d@big.example\thome=/var/vmail/big.example/u%07d\n", i, i }'
}

# kill_mapgen - feed the big input, SIGKILL mapgen at a point, check the old
# maps: kill_mapgen WHEN DESC; WHEN = "reading" (after 0.3 s) or "writing"
# (as soon as a temp file appears)
kill_mapgen() {
    local when=$1 i=0 seen="" f
    big_input | "$MAPGEN" "$D" >"$MM_TMP/big.out" 2>&1 &
    local pid=$!
    register_pid "$pid"
    if [ "$when" = reading ]; then
        sleep 0.3
    else
        while [ $i -lt 600 ] && _mm_alive "$pid"; do
            for f in "$D"/.[!.]*; do [ -e "$f" ] && seen=${f##*/}; done
            [ -n "$seen" ] && break
            sleep 0.05; i=$((i + 1))
        done
    fi
    if _mm_alive "$pid"; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        ok "$when: mapgen killed with SIGKILL${seen:+ (temp file $seen was there)}"
    else
        wait "$pid" 2>/dev/null
        not_ok "$when: mapgen was still running when killed"
        diag "it finished first: $(cat "$MM_TMP/big.out")"
    fi
    is "$(maps_sum "$D")" "$before" "$when: every old map is byte-identical"
    is "$(pq domains example.com)" OK "$when: postmap still reads the old domains map"
    is "$(pq users bob@example.net)" "home=/var/vmail/example.net/bob${TAB}uid=5000${TAB}gid=5000" \
        "$when: postmap still reads the old users map"
    is "$(pq users u0000001@big.example)" "<exit 1>" "$when: nothing of the killed run is visible"
    local extra bad=""
    extra=$(extra_files "$D")
    for f in $extra; do
        case "$f" in .domains.cdb.*|.mailboxes.cdb.*|.aliases.cdb.*|.users.cdb.*) ;; *) bad="$bad$f " ;; esac
    done
    is "$bad" "" "$when: nothing left but hidden .MAP.cdb.* temp files"
    diag "$when: left behind by SIGKILL: ${extra:-nothing}"
}
kill_mapgen reading
kill_mapgen writing
leftovers=$(extra_files "$D")

check "a following mapgen run succeeds" mapgen_run "$D" <"$MM_TMP/v2.in"
is "$(pq domains example.org)" OK "... and installs its maps"
is "$(pq domains example.net)" "<exit 1>" "... completely"
is "$(extra_files "$D")" "$leftovers" "... without creating temp files of its own"

done_testing
