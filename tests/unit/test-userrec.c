/* test-userrec - the users.cdb value codec: escapes, strict decoding of
 * malformed input, limits, and the round trip both ways. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/userrec.h"
#include "tests/unit/tap.h"

#define S(lit) lit, sizeof(lit) - 1

/* Wire forms that decode, with the fields they hold ("name=value" after
 * unescaping, '|' separated for the table). */
static const struct {
    const char *wire;
    size_t len;
    size_t count;
    const char *names[4];
    const char *values[4];
} good[] = {
    { S(""), 0, { NULL }, { NULL } },
    { S("a=1"), 1, { "a" }, { "1" } },
    { S("a="), 1, { "a" }, { "" } },
    { S("a=\tb="), 2, { "a", "b" }, { "", "" } },
    { S("home=/var/vmail/x\tuid=5000\tgid=5000"), 3, { "home", "uid", "gid" },
      { "/var/vmail/x", "5000", "5000" } },
    { S("a=x\\\\y"), 1, { "a" }, { "x\\y" } },
    { S("a=x\\ty\\nz\\r"), 1, { "a" }, { "x\ty\nz\r" } },
    { S("a=\\\\\\\\"), 1, { "a" }, { "\\\\" } },
    { S("a=\\\\t"), 1, { "a" }, { "\\t" } },
    { S("a=b=c"), 1, { "a" }, { "b=c" } },
    { S("a=="), 1, { "a" }, { "=" } },
    { S("quota_rule=*:storage=10737418240B\tquota_rule2=Trash:storage=+524288000B"), 2,
      { "quota_rule", "quota_rule2" }, { "*:storage=10737418240B", "Trash:storage=+524288000B" } },
    { S("a=\x01\x7f\xff\xc3\xa4"), 1, { "a" }, { "\x01\x7f\xff\xc3\xa4" } },
    { S("a=1\ta=2"), 2, { "a", "a" }, { "1", "2" } },
    { S("password={SSHA}abc+/=="), 1, { "password" }, { "{SSHA}abc+/==" } },
};

/* Wire forms that must be refused. */
static const struct {
    const char *wire;
    size_t len;
    const char *why; /* part of the reason */
} bad[] = {
    { S("a"), "without '='" },
    { S("a=1\tb"), "field 2" },
    { S("=1"), "empty field name" },
    { S("a=1\t=2"), "field 2: empty field name" },
    { S("\t"), "empty field" },
    { S("a=1\t"), "field 2: empty field" },
    { S("\ta=1"), "field 1: empty field" },
    { S("a=1\t\tb=2"), "field 2: empty field" },
    { S("A=1"), "bad field name" },
    { S("a-b=1"), "bad field name" },
    { S("a b=1"), "bad field name" },
    { S("a.b=1"), "bad field name" },
    { S("\xc3\xa4=1"), "bad field name" },
    { S("a\0=1"), "bad field name" },
    { S("a=1\\"), "backslash at end" },
    { S("a=\\"), "backslash at end" },
    { S("a=\\x"), "unknown escape" },
    { S("a=\\0"), "unknown escape" },
    { S("a=\\ "), "unknown escape" },
    { S("a=\\T"), "unknown escape" },
    { S("a=\\\\\\"), "backslash at end" },
    { S("a=1\\\tb=2"), "field 1: backslash at end" }, /* a raw TAB ends the field */
    { S("a=x\ny"), "line break" },
    { S("a=x\ry"), "line break" },
    { S("a=x\0y"), "NUL" },
    { S("a=1\n"), "line break" },
    { S("a==\t=b=="), "field 2: empty field name" },
};

/* same_fields - rec holds exactly these fields */
static int same_fields(const struct userrec *rec, size_t count,
                       const char *const *names, const char *const *values)
{
    if (rec->count != count)
        return 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(rec->field[i].name, names[i]) != 0 ||
            strcmp(rec->field[i].value, values[i]) != 0)
            return 0;
    }
    return 1;
}

/* run_decode - the good and the bad tables, with re-encoding of the good */
static void run_decode(void)
{
    struct userrec rec;
    char err[256], out[512];

    userrec_init(&rec);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int rc = userrec_decode(&rec, good[i].wire, good[i].len, err, sizeof(err));
        if (!tap_ok(rc == 0, "good %zu decodes", i))
            diag("error: %s", err);
        if (rc < 0)
            continue;
        ok(same_fields(&rec, good[i].count, good[i].names, good[i].values),
           "good %zu: fields", i);
        is_int(userrec_encoded_size(&rec), good[i].len, "good %zu: encoded size", i);
        long n = userrec_encode(&rec, out, sizeof(out));
        ok(n == (long)good[i].len && memcmp(out, good[i].wire, good[i].len) == 0,
           "good %zu: re-encodes to the same bytes", i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        /* a decoded record first: an error must leave it empty */
        userrec_decode(&rec, "x=1", 3, err, sizeof(err));
        int rc = userrec_decode(&rec, bad[i].wire, bad[i].len, err, sizeof(err));
        is_int(rc, -1, "bad %zu refused", i);
        if (!tap_ok(strstr(err, bad[i].why) != NULL, "bad %zu: reason has \"%s\"", i, bad[i].why))
            diag("reason: %s", err);
        is_int(rec.count, 0, "bad %zu: record left empty", i);
    }
    /* a tiny error buffer is fine, and so is none */
    is_int(userrec_decode(&rec, "a", 1, err, 1), -1, "1-byte error buffer");
    is_int(err[0], 0, "1-byte error buffer holds an empty string");
    is_int(userrec_decode(&rec, "a", 1, NULL, 0), -1, "no error buffer");
    is_int(userrec_decode(&rec, NULL, 0, err, sizeof(err)), 0, "NULL, 0 decodes to nothing");
    is_int(userrec_decode(&rec, NULL, 3, err, sizeof(err)), -1, "NULL, 3 refused");
    userrec_free(&rec);
}

/* run_limits - field count and name length bounds */
static void run_limits(void)
{
    struct userrec rec;
    char name[USERREC_NAME_MAX + 2], err[256];
    char *wire;
    size_t o = 0;

    userrec_init(&rec);
    memset(name, 'n', sizeof(name));
    name[USERREC_NAME_MAX] = '\0';
    is_int(userrec_add(&rec, name, "v"), 0, "name of USERREC_NAME_MAX bytes");
    name[USERREC_NAME_MAX] = 'n';
    name[USERREC_NAME_MAX + 1] = '\0';
    is_int(userrec_add(&rec, name, "v"), -1, "name of USERREC_NAME_MAX + 1 bytes refused");
    is_int(userrec_add(&rec, "", "v"), -1, "empty name refused");
    is_int(userrec_add(&rec, "Home", "v"), -1, "upper-case name refused");
    is_int(userrec_add(&rec, "a=b", "v"), -1, "'=' in name refused");
    is_int(userrec_add(&rec, "a\tb", "v"), -1, "TAB in name refused");
    is_int(userrec_add(&rec, NULL, "v"), -1, "NULL name refused");
    is_int(userrec_add(&rec, "a", NULL), -1, "NULL value refused");
    is_int(rec.count, 1, "refusals add nothing");
    userrec_free(&rec);

    for (int i = 0; i < USERREC_FIELDS_MAX; i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "f%d", i);
        if (userrec_add(&rec, nm, "value") < 0)
            break;
    }
    is_int(rec.count, USERREC_FIELDS_MAX, "USERREC_FIELDS_MAX fields fit");
    is_int(userrec_add(&rec, "one_more", "x"), -1, "one field more refused");
    is_str(userrec_get(&rec, "f0"), "value", "first field intact after growth");
    is_str(userrec_get(&rec, "f63"), "value", "last field intact after growth");

    /* the same on the wire: 64 decode, 65 do not */
    wire = malloc(16 * (USERREC_FIELDS_MAX + 1));
    for (int i = 0; i < USERREC_FIELDS_MAX + 1; i++)
        o += (size_t)sprintf(wire + o, "%sf%d=1", i ? "\t" : "", i);
    size_t len64 = (size_t)(strstr(wire, "\tf64=") - wire);
    is_int(userrec_decode(&rec, wire, len64, err, sizeof(err)), 0, "64 fields decode");
    is_int(rec.count, 64, "64 fields decoded");
    is_int(userrec_decode(&rec, wire, o, err, sizeof(err)), -1, "65 fields refused");
    ok(strstr(err, "fields") != NULL, "65 fields: reason \"%s\"", err);
    free(wire);
    userrec_free(&rec);
}

/* run_build - add, get, encode with escapes; buffer sizes */
static void run_build(void)
{
    struct userrec rec;
    char buf[256], err[64];
    long n;

    userrec_init(&rec);
    is_int(userrec_encoded_size(&rec), 0, "empty record: size 0");
    is_int(userrec_encode(&rec, buf, 0), 0, "empty record encodes into 0 bytes");
    ok(userrec_get(&rec, "home") == NULL, "get on an empty record");

    userrec_add(&rec, "home", "/var/vmail/example.com/alice");
    userrec_add(&rec, "uid", "5000");
    userrec_add(&rec, "odd", "tab\there\\back\nnl\rcr");
    userrec_add(&rec, "empty", "");
    userrec_add(&rec, "uid", "6000");
    is_str(userrec_get(&rec, "uid"), "5000", "get: the first of two");
    is_str(userrec_get(&rec, "empty"), "", "get: an empty value");
    ok(userrec_get(&rec, "nope") == NULL, "get: a missing name");
    ok(userrec_get(&rec, NULL) == NULL, "get: NULL name");

    static const char want[] = "home=/var/vmail/example.com/alice\tuid=5000"
                               "\todd=tab\\there\\\\back\\nnl\\rcr\tempty=\tuid=6000";
    size_t need = userrec_encoded_size(&rec);
    is_int(need, sizeof(want) - 1, "encoded size");
    is_int(userrec_encode(&rec, buf, need - 1), -1, "one byte short: refused");
    memset(buf, 'X', sizeof(buf));
    n = userrec_encode(&rec, buf, need);
    is_int(n, need, "exact size: fits");
    ok(memcmp(buf, want, need) == 0 && buf[need] == 'X', "exact size: no NUL written past it");
    n = userrec_encode(&rec, buf, sizeof(buf));
    is_str(buf, want, "encoded form (NUL added when there is room)");
    ok(memchr(buf, '\n', (size_t)n) == NULL && memchr(buf, '\r', (size_t)n) == NULL,
       "no raw line breaks on the wire");

    /* decode reuses the record: it is cleared, values are right */
    is_int(userrec_decode(&rec, buf, (size_t)n, err, sizeof(err)), 0, "decode own output");
    is_int(rec.count, 5, "five fields back");
    is_str(userrec_get(&rec, "odd"), "tab\there\\back\nnl\rcr", "escapes undone");
    /* and adding after a decode still works */
    is_int(userrec_add(&rec, "password", "{CRYPT}xx"), 0, "add after decode");
    is_str(userrec_get(&rec, "password"), "{CRYPT}xx", "get after add after decode");
    is_str(userrec_get(&rec, "home"), "/var/vmail/example.com/alice", "old fields intact");
    userrec_free(&rec);
    is_int(rec.count, 0, "free empties");
    ok(rec.buf == NULL, "free releases");
    userrec_free(&rec); /* twice is harmless */
}

/* run_roundtrip - every byte value, long values: encode then decode */
static void run_roundtrip(void)
{
    struct userrec rec, back;
    char value[256 * 3 + 1], err[64];
    size_t o = 0;
    long n;

    for (int c = 1; c < 256; c++) {
        value[o++] = (char)c;
        if (c % 3 == 0)
            value[o++] = '\\';
    }
    value[o] = '\0';
    userrec_init(&rec);
    userrec_init(&back);
    userrec_add(&rec, "all", value);
    char *big = malloc(100001);
    memset(big, '\\', 100000);
    big[100000] = '\0';
    userrec_add(&rec, "big", big);
    size_t need = userrec_encoded_size(&rec);
    char *wire = malloc(need);
    n = userrec_encode(&rec, wire, need);
    is_int(n, need, "round trip: encodes");
    is_int(userrec_decode(&back, wire, (size_t)n, err, sizeof(err)), 0, "round trip: decodes");
    is_str(userrec_get(&back, "all"), value, "round trip: bytes 1..255");
    is_str(userrec_get(&back, "big"), big, "round trip: 100000 backslashes");
    free(wire);
    free(big);
    userrec_free(&rec);
    userrec_free(&back);
}

/* run_value_put - the escaping writers share: runs copied, each of the
 * four bytes as its two-byte escape, nothing else touched */
static void run_value_put(void)
{
    static const struct { const char *in, *want; } t[] = {
        { "", "" },
        { "plain /path", "plain /path" },
        { "\\", "\\\\" },
        { "a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e" },
        { "\t\t", "\\t\\t" },
        { "%:=,", "%:=," },
    };
    char out[64];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(out, 'X', sizeof(out));
        char *end = userrec_value_put(out, t[i].in);
        is_int(end - out, (long)strlen(t[i].want), "value_put %zu: length", i);
        ok(memcmp(out, t[i].want, strlen(t[i].want)) == 0 && *end == 'X',
           "value_put %zu: bytes, no NUL written", i);
    }
}

int main(void)
{
    run_value_put();
    run_decode();
    run_limits();
    run_build();
    run_roundtrip();
    return tap_done();
}
