/* test-status - parse/format round trips, malformed input, atomic write,
 * missing file, staleness. */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/status.h"
#include "tests/unit/tap.h"
#include "tests/unit/scratch.h"

#define SUM "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* sample - a fully populated status */
static void sample(struct status *st)
{
    memset(st, 0, sizeof(*st));
    st->generation = 42;
    st->synced_at = 1700000000;
    st->duration_ms = 1234;
    st->users = 150000;
    st->aliases = 20000;
    st->domains = 12;
    st->passwords = 149000;
    snprintf(st->source, sizeof(st->source), "ldap://ldap1.example.com/ ldap://ldap2/");
    snprintf(st->checksum, sizeof(st->checksum), "%s", SUM);
}

/* same_status - field by field */
static int same_status(const struct status *a, const struct status *b)
{
    return a->generation == b->generation && a->synced_at == b->synced_at &&
           a->duration_ms == b->duration_ms && a->users == b->users &&
           a->aliases == b->aliases && a->domains == b->domains && a->passwords == b->passwords &&
           strcmp(a->source, b->source) == 0 && strcmp(a->checksum, b->checksum) == 0 &&
           strcmp(a->last_failure, b->last_failure) == 0 &&
           a->last_failure_at == b->last_failure_at;
}

/* parse_str - status_parse on a C string */
static int parse_str(const char *text, struct status *st, char *err, size_t errsz)
{
    return status_parse(text, strlen(text), st, err, errsz);
}

/* test_round_trip - format then parse gives the same values */
static void test_round_trip(void)
{
    struct status st, back;
    char buf[4096], err[256];

    sample(&st);
    int len = status_format(&st, buf, sizeof(buf));
    ok(len > 0 && (size_t)len == strlen(buf), "format returns the length (%d)", len);
    is_str(buf,
           "generation=42\nsynced_at=1700000000\nduration_ms=1234\nusers=150000\n"
           "aliases=20000\ndomains=12\npasswords=149000\nsource=ldap://ldap1.example.com/ ldap://ldap2/\n"
           "checksum=" SUM "\n",
           "text form; no failure lines without a failure");
    is_int(status_parse(buf, (size_t)len, &back, err, sizeof(err)), 0, "parse it back");
    ok(same_status(&st, &back), "round trip equal");

    snprintf(st.last_failure, sizeof(st.last_failure), "LDAP: Can't contact LDAP server");
    st.last_failure_at = 1700000600;
    len = status_format(&st, buf, sizeof(buf));
    ok(strstr(buf, "last_failure=LDAP: Can't contact LDAP server\nlast_failure_at=1700000600\n") != NULL,
       "failure lines written");
    is_int(status_parse(buf, (size_t)len, &back, err, sizeof(err)), 0, "parse with failure");
    ok(same_status(&st, &back), "round trip with failure equal");

    /* Extremes */
    st.generation = UINT64_MAX;
    st.users = UINT64_MAX;
    st.synced_at = 253402300799;
    memset(st.source, 'x', sizeof(st.source) - 1);
    st.source[sizeof(st.source) - 1] = '\0';
    memset(st.last_failure, 'y', sizeof(st.last_failure) - 1);
    st.last_failure[sizeof(st.last_failure) - 1] = '\0';
    len = status_format(&st, buf, sizeof(buf));
    is_int(status_parse(buf, (size_t)len, &back, err, sizeof(err)), 0, "parse extremes: %s", err);
    ok(same_status(&st, &back), "round trip of extremes equal");

    /* Every buffer too small is refused and never overrun. */
    sample(&st);
    len = status_format(&st, buf, sizeof(buf));
    int bad = 0;
    for (int sz = 0; sz <= len; sz++) {
        char *small = malloc((size_t)sz + 1);
        small[sz] = '#';
        if (status_format(&st, small, (size_t)sz) != -1 || small[sz] != '#')
            bad++;
        free(small);
    }
    is_int(bad, 0, "buffers of 0..%d bytes refused without overrun", len);
    char *exact = malloc((size_t)len + 1);
    is_int(status_format(&st, exact, (size_t)len + 1), len, "exactly large enough works");
    free(exact);

    /* A failure message with newlines cannot break the file's lines. */
    sample(&st);
    snprintf(st.last_failure, sizeof(st.last_failure), "bad\nsynced_at=1\r\x7f");
    len = status_format(&st, buf, sizeof(buf));
    ok(strstr(buf, "last_failure=bad?synced_at=1??\n") != NULL, "control characters replaced");
    is_int(status_parse(buf, (size_t)len, &back, err, sizeof(err)), 0, "and it parses");
    is_int(back.synced_at, 1700000000, "synced_at not overridden");
}

/* test_lenient - what the parser accepts */
static void test_lenient(void)
{
    struct status st;
    char err[256];

    is_int(parse_str("", &st, err, sizeof(err)), 0, "empty text parses");
    is_int(st.synced_at, 0, "everything zero");
    is_int(parse_str("# comment\n\n  \ngeneration=7\nfuture_thing=whatever=x\nsynced_at=5", &st, err,
                     sizeof(err)), 0, "comments, blank lines, unknown names, no final newline");
    is_int(st.generation, 7, "generation 7");
    is_int(st.synced_at, 5, "synced_at 5 without a final newline");
    is_int(parse_str("users = 3\r\nsource = ldapi:/// \r\n", &st, err, sizeof(err)), 0,
           "blanks around = and CRLF");
    is_int(st.users, 3, "users 3");
    is_str(st.source, "ldapi:///", "value trimmed");
    is_int(parse_str("checksum=" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
                     &st, err, sizeof(err)), 0, "upper-case hex accepted");
    is_str(st.checksum, SUM, "stored lower-case");
    is_int(parse_str("checksum=\nsource=\n", &st, err, sizeof(err)), 0, "empty checksum and source");
    is_int(parse_str("generation=0\nusers=18446744073709551615\n", &st, err, sizeof(err)), 0,
           "largest count");
    ok(st.users == UINT64_MAX, "users = 2^64-1");
}

/* test_malformed - what the parser refuses, and why */
static void test_malformed(void)
{
    static const struct {
        const char *name, *text, *why;
    } cases[] = {
        { "no equals sign", "generation=1\njunk line\n", "line 2: not name=value" },
        { "negative number", "users=-1\n", "users: bad number" },
        { "plus sign", "users=+1\n", "bad number" },
        { "hex number", "users=0x10\n", "bad number" },
        { "trailing junk", "users=12a\n", "bad number" },
        { "inner space", "users=1 2\n", "bad number" },
        { "empty number", "generation=\n", "generation: bad number" },
        { "overflow", "aliases=18446744073709551616\n", "aliases: bad number" },
        { "huge overflow", "domains=99999999999999999999999999999\n", "bad number" },
        { "negative time", "synced_at=-5\n", "synced_at: bad time" },
        { "time past year 9999", "synced_at=253402300800\n", "bad time" },
        { "fractional time", "last_failure_at=1.5\n", "last_failure_at: bad time" },
        { "short checksum", "checksum=abc\n", "checksum: want 64 hex digits" },
        { "long checksum", "checksum=" SUM "0\n", "want 64" },
        { "non-hex checksum", "checksum=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
          "not a hex digit at 64" },
        { "control character", "source=ldap://\x01x/\n", "source: control character" },
        { "DEL character", "last_failure=a\x7f\n", "control character" },
        { "duplicate name", "users=1\nusers=2\n", "line 2: users given twice" },
        { "bad line number", "\n\n\nusers=x\n", "line 4:" },
    };
    struct status st;
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        int r = parse_str(cases[i].text, &st, err, sizeof(err));
        is_int(r, -1, "%s refused", cases[i].name);
        ok(strstr(err, cases[i].why) != NULL, "%s: reason '%s'", cases[i].name, err);
    }

    char longsrc[700];
    int n = snprintf(longsrc, sizeof(longsrc), "source=");
    memset(longsrc + n, 's', 512);
    longsrc[n + 512] = '\0';
    is_int(parse_str(longsrc, &st, err, sizeof(err)), -1, "512-byte source refused");
    ok(strstr(err, "too long (512 bytes, at most 511)") != NULL, "reason: %s", err);
    longsrc[n + 511] = '\0';
    is_int(parse_str(longsrc, &st, err, sizeof(err)), 0, "511-byte source accepted");

    static const char nul[] = "users=1\n\0generation=2\n";
    is_int(status_parse(nul, sizeof(nul) - 1, &st, err, sizeof(err)), -1, "NUL byte refused");
    ok(strstr(err, "NUL") != NULL, "reason: %s", err);
    is_int(status_parse("users=12", 7, &st, err, sizeof(err)), 0, "length bounds the text");
    is_int(st.users, 1, "users=1 from the first 7 bytes");

    size_t biglen = 70000;
    char *big = malloc(biglen);
    memset(big, '\n', biglen);
    is_int(status_parse(big, biglen, &st, err, sizeof(err)), -1, "70000 bytes refused");
    ok(strstr(err, "too large") != NULL, "reason: %s", err);
    free(big);

    /* a failed parse leaves nothing half-filled */
    is_int(parse_str("generation=9\nusers=x\n", &st, err, sizeof(err)), -1, "failure after a good line");
}

/* count_entries - entries in dir other than . and .. */
static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

/* test_files - write, read, missing, unreadable */
static void test_files(void)
{
    char path[256], err[256];
    struct status st, back;
    struct stat sb;

    snprintf(path, sizeof(path), "%s/status", dir);
    memset(&back, 0x55, sizeof(back));
    is_int(status_read(path, &back, err, sizeof(err)), 0, "missing file: 0");
    is_int(back.generation, 0, "missing file: zeroed");
    is_int(back.synced_at, 0, "missing file: synced_at 0");

    sample(&st);
    mode_t old = umask(077);
    is_int(status_write(path, &st, err, sizeof(err)), 0, "write");
    umask(old);
    ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0644, "mode 0644");
    is_int(count_entries(), 1, "only the status file in the directory");
    is_int(status_read(path, &back, err, sizeof(err)), 1, "read back");
    ok(same_status(&st, &back), "read equals written");

    st.generation = 43;
    is_int(status_write(path, &st, err, sizeof(err)), 0, "overwrite");
    is_int(status_read(path, &back, err, sizeof(err)), 1, "read again");
    is_int(back.generation, 43, "new generation");
    is_int(count_entries(), 1, "still no temp file left");

    char bad[256];
    snprintf(bad, sizeof(bad), "%s/nodir/status", dir);
    is_int(status_write(bad, &st, err, sizeof(err)), -1, "write into a missing directory fails");
    ok(strstr(err, "nodir") != NULL && strstr(err, "No such file") != NULL, "reason: %s", err);

    FILE *f = fopen(path, "w");
    fputs("generation=1\nsynced_at=soon\n", f);
    fclose(f);
    is_int(status_read(path, &back, err, sizeof(err)), -1, "malformed file: -1");
    ok(strstr(err, path) != NULL && strstr(err, "line 2") != NULL, "reason names file and line: %s", err);

    f = fopen(path, "w");
    for (int i = 0; i < 7000; i++)
        fputs("# padding\n", f);
    fclose(f);
    is_int(status_read(path, &back, err, sizeof(err)), -1, "oversized file: -1");
    ok(strstr(err, "too large") != NULL, "reason: %s", err);

    is_int(status_read(dir, &back, err, sizeof(err)), -1, "a directory: -1");
    unlink(path);
}

/* test_stale - the freshness rule */
static void test_stale(void)
{
    struct status st;
    memset(&st, 0, sizeof(st));
    ok(status_is_stale(&st, 1000, 1800), "never synced: stale");
    st.synced_at = 10000;
    ok(!status_is_stale(&st, 10000, 1800), "just synced: fresh");
    ok(!status_is_stale(&st, 11800, 1800), "exactly stale_after old: fresh");
    ok(status_is_stale(&st, 11801, 1800), "one second more: stale");
    ok(!status_is_stale(&st, 9000, 1800), "synced a little in the future (clock skew): fresh");
    ok(status_is_stale(&st, 5000, 1800), "synced far in the future: stale");
    ok(status_is_stale(&st, 10001, 0), "stale_after 0: stale a second later");
}

int main(void)
{
    if (!scratch_make("test-status"))
        return tap_done();
    test_round_trip();
    test_lenient();
    test_malformed();
    test_files();
    test_stale();
    scratch_remove();
    return tap_done();
}
