/* test-address - normalising and splitting addresses (Postfix's extension
 * rules), domain plausibility, UTF-8 and malformed input. */

#include <string.h>

#include "maps/address.h"
#include "tests/unit/tap.h"

#define S(lit) lit, sizeof(lit) - 1   /* a literal with its length, NULs included */

static const struct {
    const char *in;
    size_t len;
    const char *delims;
    int rc;
    const char *full, *local, *domain, *ext; /* ext NULL: no extension */
} cases[] = {
    { S("alice@example.com"), "+", 0, "alice@example.com", "alice", "example.com", NULL },
    { S("Alice@Example.COM"), "+", 0, "alice@example.com", "alice", "example.com", NULL },
    { S("alice+Junk@example.com"), "+", 0, "alice@example.com", "alice", "example.com", "junk" },
    { S("alice+junk@example.com"), NULL, 0, "alice+junk@example.com", "alice+junk", "example.com", NULL },
    { S("alice+junk@example.com"), "", 0, "alice+junk@example.com", "alice+junk", "example.com", NULL },
    { S("alice+junk@example.com"), "-", 0, "alice+junk@example.com", "alice+junk", "example.com", NULL },
    /* the first delimiter of the set splits; the rest is the extension */
    { S("alice+a+b@example.com"), "+", 0, "alice@example.com", "alice", "example.com", "a+b" },
    { S("alice-a+b@example.com"), "+-", 0, "alice@example.com", "alice", "example.com", "a+b" },
    { S("alice+a-b@example.com"), "-+", 0, "alice@example.com", "alice", "example.com", "a-b" },
    { S("alice+@example.com"), "+", 0, "alice@example.com", "alice", "example.com", "" },
    /* a leading delimiter is part of the name (Postfix's split_addr) */
    { S("+alice@example.com"), "+", 0, "+alice@example.com", "+alice", "example.com", NULL },
    { S("+alice+x@example.com"), "+", 0, "+alice+x@example.com", "+alice+x", "example.com", NULL },
    { S("+@example.com"), "+", 0, "+@example.com", "+", "example.com", NULL },
    /* Postfix never splits these */
    { S("owner-list@example.com"), "-", 0, "owner-list@example.com", "owner-list", "example.com", NULL },
    { S("list-request@example.com"), "-", 0, "list-request@example.com", "list-request", "example.com", NULL },
    { S("MAILER-DAEMON@example.com"), "-", 0, "mailer-daemon@example.com", "mailer-daemon", "example.com", NULL },
    { S("double-bounce@example.com"), "-", 0, "double-bounce@example.com", "double-bounce", "example.com", NULL },
    { S("postmaster@example.com"), "a", 0, "postmaster@example.com", "postmaster", "example.com", NULL },
    { S("owner-list@example.com"), "+", 0, "owner-list@example.com", "owner-list", "example.com", NULL },
    { S("owner+x@example.com"), "+", 0, "owner@example.com", "owner", "example.com", "x" },
    { S("list-x@example.com"), "-", 0, "list@example.com", "list", "example.com", "x" },
    { S("-request@example.com"), "-", 0, "-request@example.com", "-request", "example.com", NULL },
    /* split at the last '@'; such a local part is never split further */
    { S("a@b@example.com"), "+", 0, "a@b@example.com", "a@b", "example.com", NULL },
    { S("a+x@b@example.com"), "+", 0, "a+x@b@example.com", "a+x@b", "example.com", NULL },
    /* UTF-8 is kept as is; only ASCII is lower-cased */
    { S("J\xc3\xb6rg@B\xc3\xbc" "cher.DE"), "+", 0, "j\xc3\xb6rg@b\xc3\xbc" "cher.de",
      "j\xc3\xb6rg", "b\xc3\xbc" "cher.de", NULL },
    { S("\xc3\x96@x.de"), "+", 0, "\xc3\x96@x.de", "\xc3\x96", "x.de", NULL },
    { S("\xf0\x9f\x98\x80+\xe2\x82\xac@x.de"), "+", 0, "\xf0\x9f\x98\x80@x.de",
      "\xf0\x9f\x98\x80", "x.de", "\xe2\x82\xac" },
    /* legal oddities */
    { S("o'brien@example.com"), "+", 0, "o'brien@example.com", "o'brien", "example.com", NULL },
    { S("a.b.c@sub.example.com"), "+", 0, "a.b.c@sub.example.com", "a.b.c", "sub.example.com", NULL },
    { S("x@localhost"), "+", 0, "x@localhost", "x", "localhost", NULL },
    { S("x@1.2.3.4"), "+", 0, "x@1.2.3.4", "x", "1.2.3.4", NULL },
    { S("x@under_score.example"), "+", 0, "x@under_score.example", "x", "under_score.example", NULL },
    { S("x@xn--bcher-kva.de"), "+", 0, "x@xn--bcher-kva.de", "x", "xn--bcher-kva.de", NULL },
    { S("!#$%&*/=?^_`{|}~@x.de"), "+", 0, "!#$%&*/=?^_`{|}~@x.de", "!#$%&*/=?^_`{|}~", "x.de", NULL },

    /* malformed */
    { S(""), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice"), "+", -1, NULL, NULL, NULL, NULL },
    { S("@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@"), "+", -1, NULL, NULL, NULL, NULL },
    { S("@"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@example.com@"), "+", -1, NULL, NULL, NULL, NULL },
    { S("al ice@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S(" alice@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@example.com "), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice\t@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@example.com\n"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@example.com\r"), "+", -1, NULL, NULL, NULL, NULL },
    { S("al\x01ice@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("al\x7fice@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("al\xc2\x85ice@example.com"), "+", -1, NULL, NULL, NULL, NULL }, /* C1 NEL */
    { S("alice\0@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@example.com\0"), "+", -1, NULL, NULL, NULL, NULL },
    { S("alice@exa\0mple.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("a,b@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("<alice@example.com>"), "+", -1, NULL, NULL, NULL, NULL },
    { S("\"a b\"@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("a\\b@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("a;b@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("a:b@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("a(b)@example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@[192.0.2.1]"), "+", -1, NULL, NULL, NULL, NULL },
    /* invalid UTF-8 */
    { S("\xc3@x.de"), "+", -1, NULL, NULL, NULL, NULL },          /* truncated */
    { S("a\xc3"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@x.d\xc3"), "+", -1, NULL, NULL, NULL, NULL },
    { S("\x80@x.de"), "+", -1, NULL, NULL, NULL, NULL },          /* lone continuation */
    { S("\xc0\xaf@x.de"), "+", -1, NULL, NULL, NULL, NULL },      /* overlong '/' */
    { S("\xe0\x80\xaf@x.de"), "+", -1, NULL, NULL, NULL, NULL },  /* overlong */
    { S("\xf0\x80\x80\xaf@x.de"), "+", -1, NULL, NULL, NULL, NULL },
    { S("\xed\xa0\x80@x.de"), "+", -1, NULL, NULL, NULL, NULL },  /* surrogate */
    { S("\xf4\x90\x80\x80@x.de"), "+", -1, NULL, NULL, NULL, NULL }, /* > U+10FFFF */
    { S("\xf8\x88\x80\x80\x80@x.de"), "+", -1, NULL, NULL, NULL, NULL },
    { S("\xff@x.de"), "+", -1, NULL, NULL, NULL, NULL },
    { S("\xe2\x82@x.de"), "+", -1, NULL, NULL, NULL, NULL },
    /* bad domains */
    { S("x@.example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@example.com."), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@example..com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@-example.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@example-.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@exa!mple.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@exa/mple.com"), "+", -1, NULL, NULL, NULL, NULL },
    { S("x@."), "+", -1, NULL, NULL, NULL, NULL },
};

static const struct {
    const char *in;
    size_t len;
    bool want;
} domains[] = {
    { S("example.com"), true }, { S("EXAMPLE.com"), true }, { S("a"), true },
    { S("a-b.c_d.e1"), true }, { S("b\xc3\xbc" "cher.de"), true },
    { S("xn--bcher-kva.de"), true }, { S("123.456"), true },
    { S(""), false }, { S("."), false }, { S(".a"), false }, { S("a."), false },
    { S("a..b"), false }, { S("-a.b"), false }, { S("a-.b"), false },
    { S("a.-b"), false }, { S("a b"), false }, { S("a\0b"), false },
    { S("a\xc2\x85" "b.de"), false },   /* a C1 control (NEL), as address_parse refuses */
    { S("a\tb"), false }, { S("a@b"), false }, { S("a:b"), false },
    { S("[1.2.3.4]"), false }, { S("b\xc3" "cher.de"), false },
    { S("\xed\xbf\xbf.de"), false },
};

/* run_domain_lengths - the 63-byte label and 255-byte domain limits */
static void run_domain_lengths(void)
{
    char d[300];

    memset(d, 'a', 63);
    ok(address_domain_valid(d, 63), "63-byte label");
    memset(d, 'a', 64);
    ok(!address_domain_valid(d, 64), "64-byte label refused");
    /* 4 labels of 63 + 3 dots = 255 */
    memset(d, 'a', 255);
    d[63] = d[127] = d[191] = '.';
    ok(address_domain_valid(d, 255), "255-byte domain");
    d[255] = 'a';
    ok(!address_domain_valid(d, 256), "256-byte domain refused");
    ok(!address_domain_valid(NULL, 3), "NULL domain refused");
}

/* run_lengths - ADDRESS_MAX bytes in all, whatever the local part's length */
static void run_lengths(void)
{
    char in[ADDRESS_MAX + 10];
    struct address a;
    const char *why = NULL;
    size_t dlen = 4 * 63 + 3; /* 255 */

    /* 64 + '@' + 255 = 320: the longest there is */
    memset(in, 'l', 64);
    in[64] = '@';
    memset(in + 65, 'd', dlen);
    in[65 + 63] = in[65 + 127] = in[65 + 191] = '.';
    is_int(address_parse(in, 320, "+", &a, &why), 0, "320 bytes (64 + 255) accepted");
    is_int(strlen(a.full), 320, "320 bytes full");
    is_int(address_parse(in, 321, "+", &a, &why), -1, "321 bytes refused");

    /* a local part over 64 bytes is fine when the total fits */
    memset(in, 'l', 100);
    memcpy(in + 100, "+ext@example.com", 16);
    is_int(address_parse(in, 116, "+", &a, &why), 0, "100-byte local part accepted");
    is_int(strlen(a.local), 100, "100-byte local part kept");
    is_str(a.extension, "ext", "extension after a long local part");
    memset(in, 'l', ADDRESS_MAX);
    memcpy(in + ADDRESS_MAX - 4, "@x.y", 4);
    is_int(address_parse(in, ADDRESS_MAX, "+", &a, &why), 0, "ADDRESS_MAX with a 316-byte local part");
    memset(in, 'l', ADDRESS_MAX + 1);
    memcpy(in + ADDRESS_MAX - 3, "@x.y", 4);
    is_int(address_parse(in, ADDRESS_MAX + 1, "+", &a, &why), -1, "ADDRESS_MAX + 1 refused");
    is_int(address_parse(NULL, 5, "+", &a, &why), -1, "NULL refused");

    /* the length, not a NUL, ends the input */
    is_int(address_parse("a@b.cXXXX", 5, "+", &a, &why), 0, "len bounds the input");
    is_str(a.full, "a@b.c", "len bounds the input: full");
}

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct address a;
        const char *why = NULL;
        int rc;

        memset(&a, 0x55, sizeof(a));
        rc = address_parse(cases[i].in, cases[i].len, cases[i].delims, &a, &why);
        if (!tap_ok(rc == cases[i].rc, "case %zu %s", i,
                    cases[i].rc == 0 ? "parses" : "is refused"))
            diag("rc %d why %s", rc, why ? why : "(null)");
        if (rc != 0 || cases[i].rc != 0) {
            if (rc < 0)
                ok(why != NULL && why[0] != '\0', "case %zu: reason \"%s\"", i, why ? why : "");
            continue;
        }
        is_str(a.full, cases[i].full, "case %zu: full", i);
        is_str(a.local, cases[i].local, "case %zu: local", i);
        is_str(a.domain, cases[i].domain, "case %zu: domain", i);
        is_int(a.has_extension, cases[i].ext != NULL, "case %zu: has_extension", i);
        is_str(a.extension, cases[i].ext ? cases[i].ext : "", "case %zu: extension", i);
    }

    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
        is_int(address_domain_valid(domains[i].in, domains[i].len), domains[i].want,
               "domain %zu %s", i, domains[i].want ? "valid" : "invalid");
    run_domain_lengths();
    run_lengths();

    {
        char s[] = "MiXeD+Ext@\xc3\x84Xample.COM";
        address_lower(s, strlen(s));
        is_str(s, "mixed+ext@\xc3\x84xample.com", "address_lower: ASCII only");
        char t[] = "ABC";
        address_lower(t, 2);
        is_str(t, "abC", "address_lower: len bounds it");
    }

    ok(address_utf8_valid("", 0), "utf8: empty");
    ok(address_utf8_valid("\xef\xbf\xbf", 3), "utf8: U+FFFF");
    ok(address_utf8_valid("\xf4\x8f\xbf\xbf", 4), "utf8: U+10FFFF");
    ok(address_utf8_valid("\xee\x80\x80", 3), "utf8: U+E000");
    ok(!address_utf8_valid("\xed\xbf\xbf", 3), "utf8: U+DFFF refused");
    ok(!address_utf8_valid("\xc1\xbf", 2), "utf8: overlong 2-byte refused");
    ok(!address_utf8_valid("\xe0\x9f\xbf", 3), "utf8: overlong 3-byte refused");
    ok(!address_utf8_valid("\xf0\x8f\xbf\xbf", 4), "utf8: overlong 4-byte refused");
    ok(!address_utf8_valid("\xf0\x9f\x98", 3), "utf8: truncated 4-byte refused");
    ok(!address_utf8_valid("a\0b", 3), "utf8: NUL refused");
    ok(!address_utf8_valid("\xc3\x28", 2), "utf8: bad continuation refused");

    return tap_done();
}
