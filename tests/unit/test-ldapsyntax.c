/* test-ldapsyntax - attribute descriptions, assertion value escaping, the
 * RFC 4515 filter parser (full grammar and the gating subset, escapes,
 * errors with their byte), evaluation against entries, the attribute list
 * of a filter */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/ldapsyntax.h"
#include "tests/unit/tap.h"

static const struct {
    const char *in;
    size_t len;
    const char *want;
} escapes[] = {
    { "", 0, "" },
    { "alice@example.com", 17, "alice@example.com" },
    { "*", 1, "\\2a" },
    { "(", 1, "\\28" },
    { ")", 1, "\\29" },
    { "\\", 1, "\\5c" },
    { "\0", 1, "\\00" },
    { "a\0b", 3, "a\\00b" },
    { "*)(mail=*", 9, "\\2a\\29\\28mail=\\2a" },
    { "\\2a", 3, "\\5c2a" },
    { "j\xc3\xb6rg@example.com", 17, "j\xc3\xb6rg@example.com" },   /* UTF-8 kept */
    { "\xff\xfe", 2, "\xff\xfe" },                                 /* invalid UTF-8 kept */
    { "a=b&|!~<>", 9, "a=b&|!~<>" },
    { "\x01\x1f\x7f", 3, "\x01\x1f\x7f" },
};

/* test_escape - the table, and buffers that are exactly big enough or not */
static void test_escape(void)
{
    char out[128];
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        int n = ldapsyntax_escape(escapes[i].in, escapes[i].len, out, sizeof(out));
        is_int(n, (long long)strlen(escapes[i].want), "escape #%zu: length", i);
        ok(n >= 0 && memcmp(out, escapes[i].want, strlen(escapes[i].want) + 1) == 0,
           "escape #%zu: value", i);
    }
    is_int(ldapsyntax_escape("abc", 3, out, 4), 3, "exact fit");
    is_str(out, "abc", "exact fit: value");
    is_int(ldapsyntax_escape("abc", 3, out, 3), -1, "one byte short");
    is_str(out, "", "one byte short: empty result");
    is_int(ldapsyntax_escape("*", 1, out, 4), 3, "escape exactly fits");
    is_int(ldapsyntax_escape("*", 1, out, 3), -1, "escape does not fit");
    is_int(ldapsyntax_escape("a*", 2, out, 4), -1, "escape after a byte does not fit");
    is_int(ldapsyntax_escape("", 0, out, 1), 0, "empty into one byte");
    is_int(ldapsyntax_escape("a", 1, out, 0), -1, "no room at all");
    is_int(ldapsyntax_escape("a", 1, NULL, 10), -1, "no buffer");
    is_int(ldapsyntax_escape(NULL, 3, out, sizeof(out)), -1, "NULL input with a length");
    is_int(ldapsyntax_escape(NULL, 0, out, sizeof(out)), 0, "NULL input, length 0");

    /* Every byte value: only the five special ones grow. */
    {
        char in[256], big[1024];
        int n;
        for (int c = 0; c < 256; c++)
            in[c] = (char)c;
        n = ldapsyntax_escape(in, 256, big, sizeof(big));
        is_int(n, 256 + 5 * 2, "all 256 bytes: five escapes");
    }
}

static const struct {
    const char *name;
    int valid;
} attrnames[] = {
    { "mail", 1 },
    { "mailAlias", 1 },
    { "x-custom-Attr2", 1 },
    { "mail;lang-de", 1 },
    { "mail;lang-de;x", 1 },
    { "2.5.4.3", 1 },
    { "1.3.6.1.4.1.29426.1.10.1;binary", 1 },
    { "", 0 },
    { "1", 0 },
    { "1.", 0 },
    { ".1", 0 },
    { "1..2", 0 },
    { "1.2a", 0 },
    { "-mail", 0 },
    { "ma il", 0 },
    { "mail)", 0 },
    { "mail=", 0 },
    { "mail*", 0 },
    { "(mail", 0 },
    { "mail;", 0 },
    { "mail;;x", 0 },
    { ";x", 0 },
    { "m\xc3\xa4il", 0 },
    { "mail\n", 0 },
    { "mail_x", 0 },
};

/* test_attr_valid - attribute descriptions */
static void test_attr_valid(void)
{
    char longname[300];
    for (size_t i = 0; i < sizeof(attrnames) / sizeof(attrnames[0]); i++)
        is_int(ldapsyntax_attr_valid(attrnames[i].name), attrnames[i].valid, "attribute name #%zu '%s'",
               i, strchr(attrnames[i].name, '\n') != NULL ? "mail\\n" : attrnames[i].name);
    ok(!ldapsyntax_attr_valid(NULL), "NULL is no attribute name");
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ok(!ldapsyntax_attr_valid(longname), "an overlong name is refused");
    longname[256] = '\0';
    ok(ldapsyntax_attr_valid(longname), "256 characters are fine");
}

static const struct {
    const char *text;
    int full;            /* 1 parses with the full grammar */
    int gate;            /* 1 parses in the gating subset */
    const char *why;     /* a part of the reason when the full parse fails,
                            or of the gate's reason */
} filters[] = {
    { "(a=b)", 1, 1, NULL },
    { "(a=)", 1, 1, NULL },
    { "(a=*)", 1, 1, NULL },
    { "(mail=a#b=c)", 1, 1, NULL },
    { "(cn=a b  c)", 1, 1, NULL },
    { "(cn=a\\28b\\29)", 1, 1, NULL },
    { "(cn=a\\2A)", 1, 1, NULL },
    { "(cn=a\\(b\\))", 1, 1, NULL },        /* the RFC 1960 form */
    { "(cn=a\\*\\\\)", 1, 1, NULL },
    { "(cn=j\xc3\xb6rg)", 1, 1, NULL },
    { "(&(a=b)(c=d))", 1, 1, NULL },
    { "(|(a=b)(!(c=*)))", 1, 1, NULL },
    { "(&)", 1, 1, NULL },                  /* RFC 4526 absolute true */
    { "(|)", 1, 1, NULL },
    { "(&(objectClass=mailDomain)(accountStatus=active))", 1, 1, NULL },
    { "(2.5.4.3=x)", 1, 1, NULL },
    { "(cn;lang-de=x)", 1, 1, NULL },
    { "(a=b*)", 1, 0, "a substring match is not accepted here" },
    { "(a=*b*c*)", 1, 0, "a substring match" },
    { "(a>=1)", 1, 0, "'>=' is not accepted here" },
    { "(a<=1)", 1, 0, "'<='" },
    { "(a~=x)", 1, 0, "'~='" },
    { "(a:=x)", 1, 0, "an extensible match" },
    { "(a:dn:2.5.13.5:=x)", 1, 0, "an extensible match" },
    { "(:caseExactMatch:=x)", 1, 0, "an extensible match" },
    { "(a=**)", 0, 0, "empty substring" },
    { "(:=x)", 0, 0, "needs a matching rule" },
    { "(a>=x*)", 0, 0, "unescaped '*'" },
    { "", 0, 0, "'(' expected at byte 1" },
    { "a=b", 0, 0, "'(' expected at byte 1" },
    { "()", 0, 0, "attribute description expected at byte 2" },
    { "(a=b", 0, 0, "')' expected at byte 5" },
    { "(a=b))", 0, 0, "text after the filter at byte 6" },
    { "(a=b)(c=d)", 0, 0, "text after the filter" },
    { "((a=b))", 0, 0, "attribute description expected" },
    { "(a=b(c)", 0, 0, "unescaped '(' in a value" },
    { "(cn=a\\)", 0, 0, "')' expected" },
    { "(cn=a\\zz)", 0, 0, "bad escape" },
    { "(cn=a\\2)", 0, 0, "bad escape" },
    { "(cn=a\\", 0, 0, "bad escape" },
    { "(!(a=b)(c=d))", 0, 0, "'!' takes exactly one filter" },
    { "(!)", 0, 0, "'!' takes exactly one filter" },
    { "(&(a=b)c=d)", 0, 0, "')' expected" },
    { "( a=b)", 0, 0, "attribute description expected" },
    { "(a b=c)", 0, 0, "'=', '~=', '>=', '<=' or ':' expected" },
    { "(-a=b)", 0, 0, "bad attribute description at byte 2" },
    { "(1.=b)", 0, 0, "bad attribute description" },
    { "(a;=b)", 0, 0, "bad attribute description" },
    { "(a_b=c)", 0, 0, "'=', '~=', '>=', '<=' or ':' expected" },
};

/* test_parse - every filter of the table in both modes */
static void test_parse(void)
{
    char why[256];

    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        for (int gate = 0; gate < 2; gate++) {
            int want = gate ? filters[i].gate : filters[i].full;
            why[0] = '\0';
            int rc = ldapsyntax_filter_check(filters[i].text, gate, why, sizeof(why));
            is_int(rc, want ? 0 : -1, "%s '%s'", gate ? "gate" : "full", filters[i].text);
            if (!want && filters[i].why != NULL && gate == filters[i].full)
                ok(strstr(why, filters[i].why) != NULL && strncmp(why, "not an LDAP filter: ",
                   20) == 0, "%s '%s': says '%s' (%s)", gate ? "gate" : "full",
                   filters[i].text, filters[i].why, why);
        }
    }
    /* nesting is bounded (the evaluation recurses) */
    char deep[4 * LDAPSYNTAX_DEPTH_MAX + 16];
    size_t o = 0;
    for (int d = 0; d < LDAPSYNTAX_DEPTH_MAX - 1; d++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "(!");
    o += (size_t)snprintf(deep + o, sizeof(deep) - o, "(a=b)");
    for (int d = 0; d < LDAPSYNTAX_DEPTH_MAX - 1; d++)
        deep[o++] = ')';
    deep[o] = '\0';
    is_int(ldapsyntax_filter_check(deep, true, why, sizeof(why)), 0, "nesting at the limit");
    char deeper[sizeof(deep) + 8];
    snprintf(deeper, sizeof(deeper), "(!%s)", deep);
    is_int(ldapsyntax_filter_check(deeper, true, why, sizeof(why)), -1, "one level deeper");
    ok(strstr(why, "nested too deeply") != NULL, "says why (%s)", why);
}

/* An entry for the evaluation tests. */
static const struct entry_value v_services[] = {
    { "mail", 4 }, { "ShadowAddress", 13 }, { "smtp\0x", 6 },
};
static const struct entry_value v_status[] = { { "active", 6 } };
static const struct entry_value v_name[] = { { "J\xc3\x96rg", 5 } };
static const struct entry_value v_more[] = { { "forward", 7 } };
static const struct entry_attr attrs[] = {
    { "enabledService", 3, v_services },
    { "ACCOUNTSTATUS", 1, v_status },
    { "cn", 1, v_name },
    { "empty", 0, NULL },
    { "enabledservice", 1, v_more },   /* a server may send an attribute in pieces */
};
static const struct entry one = { "mail=a@b,o=x", NULL, 5, attrs };
static const struct entry none = { "mail=b@b,o=x", NULL, 0, NULL };

static const struct {
    const char *text;
    int one, none;
} matches[] = {
    { "(enabledService=shadowaddress)", 1, 0 },
    { "(ENABLEDSERVICE=SHADOWADDRESS)", 1, 0 },
    { "(enabledService=shadow)", 0, 0 },
    { "(enabledService=shadowaddresss)", 0, 0 },
    { "(enabledService=smtp)", 0, 0 },
    { "(enabledService=smtp\\00x)", 1, 0 },
    { "(enabledService=forward)", 1, 0 },
    { "(&(enabledService=forward)(enabledService=mail))", 1, 0 },
    { "(accountStatus=active)", 1, 0 },
    { "(cn=j\xc3\x96rg)", 1, 0 },
    { "(cn=J\xc3\xb6rg)", 0, 0 },          /* ASCII case only */
    { "(cn=*)", 1, 0 },
    { "(empty=*)", 0, 0 },
    { "(missing=*)", 0, 0 },
    { "(!(missing=x))", 1, 1 },
    { "(&(enabledService=mail)(accountStatus=active))", 1, 0 },
    { "(&(enabledService=mail)(accountStatus=disabled))", 0, 0 },
    { "(|(enabledService=forward)(accountStatus=active))", 1, 0 },
    { "(|(enabledService=pop3)(accountStatus=disabled))", 0, 0 },
    { "(!(|(enabledService=pop3)(accountStatus=disabled)))", 1, 1 },
    { "(&)", 1, 1 },
    { "(|)", 0, 0 },
    { "(&(|(a=1)(cn=*))(!(!(accountStatus=active))))", 1, 0 },
};

/* test_match - evaluation, and what a filter beyond the subset does */
static void test_match(void)
{
    char why[256];

    for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
        struct ldapsyntax_filter *f = ldapsyntax_filter_parse(matches[i].text, true, why,
                                                              sizeof(why));
        ok(f != NULL, "parse '%s'", matches[i].text);
        is_int(ldapsyntax_filter_match(f, &one), matches[i].one, "'%s' on the entry",
               matches[i].text);
        is_int(ldapsyntax_filter_match(f, &none), matches[i].none, "'%s' on an empty entry",
               matches[i].text);
        ldapsyntax_filter_free(f);
    }
    struct ldapsyntax_filter *f = ldapsyntax_filter_parse("(cn=J*)", false, why, sizeof(why));
    ok(f != NULL && !ldapsyntax_filter_match(f, &one), "a substring match never holds");
    ldapsyntax_filter_free(f);
    ok(!ldapsyntax_filter_match(NULL, &one), "no filter never holds");
}

/* test_attrs - the names a filter uses, once each */
static void test_attrs(void)
{
    char why[256];
    struct ldapsyntax_filter *f = ldapsyntax_filter_parse(
        "(&(enabledService=mail)(|(ENABLEDSERVICE=x)(cn:=y)(a>=1))(!(b=*))(c=d*))", false, why,
        sizeof(why));
    char got[256] = "";
    ok(f != NULL, "parses");
    for (size_t i = 0; i < ldapsyntax_filter_attr_count(f); i++) {
        strcat(got, i ? " " : "");
        strcat(got, ldapsyntax_filter_attr(f, i));
    }
    is_str(got, "enabledService cn a b c", "attribute names, once each");
    ok(ldapsyntax_filter_attr(f, 99) == NULL, "past the end");
    ldapsyntax_filter_free(f);
    is_int(ldapsyntax_filter_attr_count(NULL), 0, "no filter, no names");
}

int main(void)
{
    test_escape();
    test_attr_valid();
    test_parse();
    test_match();
    test_attrs();
    return tap_done();
}
