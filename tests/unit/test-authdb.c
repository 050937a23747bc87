/* test-authdb - users.cdb records for Dovecot: userdb fields, password and
 * scheme, bad records, and the maps-only answer that decides whether the
 * driver needs an auth worker (LDAP) at all */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maps/authdb.h"
#include "maps/mapwriter.h"
#include "maps/status.h"
#include "tests/unit/tap.h"
#include "tests/unit/alicemaps.h"
#include "tests/unit/offline.h"
#include "tests/unit/scratch.h"


struct pw_case {
    const char *record;      /* users.cdb value (wire form) */
    const char *dflt;        /* default_password_scheme */
    int result;
    const char *scheme;
    const char *hash;
};

static const struct pw_case pw_cases[] = {
    { "home=/h\tpassword={SSHA}abc", "CRYPT", 1, "SSHA", "abc" },
    { "password={SHA512-CRYPT}$6$salt$x", "CRYPT", 1, "SHA512-CRYPT", "$6$salt$x" },
    { "password={CRYPT}$6$s$h", "PLAIN", 1, "CRYPT", "$6$s$h" },
    { "password=$6$s$h", "CRYPT", 1, "CRYPT", "$6$s$h" },
    { "password=$1$s$h", "MD5-CRYPT", 1, "MD5-CRYPT", "$1$s$h" },
    { "password=plain", "PLAIN", 1, "PLAIN", "plain" },
    { "password={PLAIN}a{b}c", "CRYPT", 1, "PLAIN", "a{b}c" },
    { "password={PLAIN}", "CRYPT", 0, "", NULL },              /* empty hash */
    { "password=", "CRYPT", 0, "", NULL },
    { "home=/h\tuid=1", "CRYPT", 0, "", NULL },
    { "password={}abc", "CRYPT", 1, "CRYPT", "{}abc" },          /* no scheme: all hash */
    { "password={bad scheme}x", "CRYPT", 1, "CRYPT", "{bad scheme}x" },
    { "password={NOEND", "CRYPT", 1, "CRYPT", "{NOEND" },
    { "password={A23456789012345678901234567890123}x", "CRYPT", 1, "CRYPT",
      "{A23456789012345678901234567890123}x" },                  /* 33: too long */
    { "password={A2345678901234567890123456789012}x", "CRYPT", 1,
      "A2345678901234567890123456789012", "x" },                 /* 32: fits */
    { "password=hash", "", -1, "", NULL },
    { "password=hash", NULL, -1, "", NULL },
    { "password=hash", "BAD SCHEME", -1, "", NULL },
    { "password=hash", "A23456789012345678901234567890123", -1, "", NULL },
    { "password=a\\tb", "PLAIN", 1, "PLAIN", "a\tb" },            /* escapes decoded */
    { "password=x\tpassword={PLAIN}y", "CRYPT", 1, "CRYPT", "x" }, /* first wins */
};

/* test_password - scheme and hash for every case */
static void test_password(void)
{
    for (size_t i = 0; i < sizeof(pw_cases) / sizeof(pw_cases[0]); i++) {
        const struct pw_case *c = &pw_cases[i];
        struct userrec rec;
        char err[256] = "", scheme[AUTHDB_SCHEME_MAX + 1];
        const char *hash;

        userrec_init(&rec);
        if (userrec_decode(&rec, c->record, strlen(c->record), err, sizeof(err)) < 0) {
            ok(0, "case %zu decodes: %s", i, err);
            continue;
        }
        int r = authdb_password(&rec, c->dflt, scheme, sizeof(scheme), &hash, err, sizeof(err));
        is_int(r, c->result, "password %zu: result", i);
        is_str(scheme, c->scheme, "password %zu: scheme", i);
        if (c->hash == NULL)
            ok(hash == NULL, "password %zu: no hash", i);
        else
            is_str(hash ? hash : "(null)", c->hash, "password %zu: hash", i);
        if (r < 0)
            ok(err[0] != '\0', "password %zu: says why (%s)", i, err);
        userrec_free(&rec);
    }

    /* A scheme that does not fit the caller's buffer. */
    struct userrec rec;
    char err[256], small[4];
    const char *hash;
    userrec_init(&rec);
    userrec_add(&rec, "password", "{SSHA}x");
    is_int(authdb_password(&rec, "CRYPT", small, sizeof(small), &hash, err, sizeof(err)), -1,
           "scheme longer than the buffer");
    ok(hash == NULL, "no hash when the scheme does not fit");
    is_int(authdb_password(&rec, "CRYPT", small, 0, &hash, err, sizeof(err)), -1,
           "zero-sized scheme buffer");
    userrec_free(&rec);
}

/* test_fields - which fields go to the userdb */
static void test_fields(void)
{
    static const struct {
        const char *name;
        bool userdb;
    } cases[] = {
        { "home", true }, { "uid", true }, { "gid", true }, { "mail", true },
        { "quota_rule", true }, { "quota_rule2", true }, { "password", false },
        { "passwordx", true }, { "", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_int(authdb_userdb_field(cases[i].name), cases[i].userdb, "userdb field '%s'",
               cases[i].name);
}

/* test_record - good and malformed users.cdb values */
static void test_record(void)
{
    static const struct {
        const char *val;
        size_t len;          /* 0 = strlen */
        int result;
        size_t fields;
    } cases[] = {
        { "home=/h\tuid=5000\tgid=5000\tmail=maildir:/h/Maildir\tquota_rule=*:storage=1B", 0, 0, 5 },
        { "home=/h", 0, 0, 1 },
        { "home=/h\t", 0, -1, 0 },            /* empty trailing field */
        { "home", 0, -1, 0 },                 /* no '=' */
        { "=x", 0, -1, 0 },                   /* empty name */
        { "Home=/h", 0, -1, 0 },              /* bad name */
        { "home=/h\\", 0, -1, 0 },            /* trailing escape */
        { "home=/h\\x", 0, -1, 0 },           /* unknown escape */
        { "home=/h\nuid=1", 0, -1, 0 },       /* raw newline */
        { "home=/h\ruid=1", 0, -1, 0 },       /* raw CR */
        { "home=/a\0b", 8, -1, 0 },           /* NUL inside */
        { "home=/h\xff\xfe", 0, 0, 1 },       /* bytes pass through as the sync wrote them */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct userrec rec;
        char err[512] = "";
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].val);
        userrec_init(&rec);
        int r = authdb_record(&rec, "alice@example.com", cases[i].val, len, err, sizeof(err));
        is_int(r, cases[i].result, "record %zu", i);
        if (r == 0)
            is_int((long)rec.count, (long)cases[i].fields, "record %zu: fields", i);
        else
            ok(strstr(err, "alice@example.com") != NULL, "record %zu: error names the user (%s)",
               i, err);
        userrec_free(&rec);
    }

    /* An overlong user name is cut in the message, not overflowing it. */
    char user[2048], err[128];
    struct userrec rec;
    memset(user, 'a', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    userrec_init(&rec);
    is_int(authdb_record(&rec, user, "x", 1, err, sizeof(err)), -1, "overlong user: fails");
    ok(strlen(err) < sizeof(err), "overlong user: message bounded");
    userrec_free(&rec);
}

/* write_maps - alice in every map, status synced at synced_at */
static void write_maps(time_t synced_at)
{
    alice_maps_write(dir, "home=/var/vmail/example.com/alice\tuid=5000", synced_at);
}

struct local_case {
    const char *user;
    int result;
};

/* run_local - authdb_local for each case */
static void run_local(struct lookup *lk, const char *what, const struct local_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char key[64];
        const char *val;
        size_t len;
        int r = authdb_local(lk, c[i].user, key, sizeof(key), &val, &len);
        is_int(r, c[i].result, "%s: local '%.40s'", what, c[i].user);
        if (r == 1)
            ok(len > 5 && memcmp(val, "home=", 5) == 0, "%s: value", what);
        else
            ok(val == NULL && len == 0, "%s: no value", what);
    }
}

/* test_local - fresh maps answer alone; anything else needs LDAP */
static void test_local(void)
{
    struct conf cfg;
    char err[512], text[512], path[256];
    char longuser[100];

    memset(longuser, 'a', sizeof(longuser) - 1);
    longuser[sizeof(longuser) - 1] = '\0';
    if (!scratch_make("test-authdb"))
        return;
    offline_conf(&cfg, dir, "60");
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    ok(lk != NULL, "lookup handle");
    if (lk == NULL) {
        conf_free(&cfg);
        return;
    }

    static const struct local_case missing[] = {
        { "alice@example.com", 0 },
        { "bob@example.com", 0 },
    };
    run_local(lk, "no maps", missing, 2);

    write_maps(time(NULL));
    const struct local_case fresh[] = {
        { "alice@example.com", 1 },
        { "Alice@Example.COM", 1 },          /* lower-cased like the map keys */
        { "bob@example.com", 0 },            /* absent: LDAP decides, never "unknown" here */
        { "", 0 },
        { longuser, 0 },                     /* does not fit the key buffer */
        { "alice@example.com ", 0 },
    };
    run_local(lk, "fresh", fresh, sizeof(fresh) / sizeof(fresh[0]));

    write_maps(time(NULL) - 3600);
    static const struct local_case stale[] = {
        { "alice@example.com", 0 },          /* stale maps: LDAP first */
    };
    run_local(lk, "stale", stale, 1);

    write_maps(time(NULL));
    mapset_path(dir, MAP_USERS, path, sizeof(path));
    unlink(path);
    static const struct local_case gone[] = {
        { "alice@example.com", 0 },
    };
    run_local(lk, "users.cdb deleted", gone, 1);

    lookup_free(lk);
    conf_free(&cfg);
    snprintf(text, sizeof(text), "rm -rf %s", dir);
    if (system(text) != 0)
        diag("could not remove %s", dir);
}

int main(void)
{
    test_password();
    test_fields();
    test_record();
    test_local();
    scratch_remove();
    return tap_done();
}
