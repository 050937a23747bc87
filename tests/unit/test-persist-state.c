/* test-persist-state - the persist daemon's saved state: the on-disk
 * format byte for byte, a save read back whole (binary cookie, accounts
 * with and without password, aliases, lists, storage), the mode, another
 * configuration, every kind of damage (each refused with the line, the
 * table and cookie left empty), the config digest, and the saver child. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldap-sync/persist_state.h"
#include "maps/conf.h"
#include "tests/unit/tap.h"

static char dir[64], path[128];
static struct conf cfg;
static const char digest[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* uuid_of - n in the last byte, a pattern around it */
static void uuid_of(unsigned n, unsigned char u[UUIDTAB_UUID_SIZE])
{
    for (int i = 0; i < UUIDTAB_UUID_SIZE; i++)
        u[i] = (unsigned char)(0x10 * i);
    u[UUIDTAB_UUID_SIZE - 1] = (unsigned char)n;
}

/* strv - a malloc'ed array of copies of the NULL-ended list */
static char **strv(const char *const *list, size_t *n_r)
{
    size_t n = 0;
    while (list[n] != NULL)
        n++;
    char **v = calloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = strdup(list[i]);
    *n_r = n;
    return v;
}

/* account_make - a valid account of local@example.com */
static struct account *account_make(const char *local, const char *password,
                                    const char *const *aliases, const char *const *groups,
                                    bool storage)
{
    static const char *const none[] = { NULL };
    struct account *a = calloc(1, sizeof(*a));
    char buf[256];

    account_init(a);
    snprintf(buf, sizeof(buf), "uid=%s,ou=people,dc=example,dc=com", local);
    a->dn = strdup(buf);
    snprintf(buf, sizeof(buf), "%s@example.com", local);
    a->mail = strdup(buf);
    snprintf(buf, sizeof(buf), "/var/vmail/example.com/%s", local);
    a->home = strdup(buf);
    if (storage) {
        snprintf(buf, sizeof(buf), "store/%s/", local);
        a->storage_set = true;
    } else {
        account_default_mailbox(a->mail, buf, sizeof(buf));
    }
    a->mailbox = strdup(buf);
    a->uid = 5000;
    a->gid = 5001;
    a->quota = storage ? 0 : 1073741824ULL;
    a->password = password ? strdup(password) : NULL;
    a->aliases = strv(aliases ? aliases : none, &a->alias_count);
    a->groups = strv(groups ? groups : none, &a->group_count);
    return a;
}

/* write_file - text as the whole file */
static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* read_file - the file, malloc'ed */
static char *read_file(const char *p)
{
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEAD "mailmaps-persist-state 2\nconfig " DIGEST "\n"
#define UUID1 "00102030405060708090a0b0c0d0e001"
#define A1 "a\t" UUID1 "\tuid=alice,ou=people,dc=example,dc=com\talice@example.com\t" \
           "/var/vmail/example.com/alice\texample.com/alice/Maildir/\t0\t5000\t5001\t" \
           "1073741824\t+{SSHA}abc\tal@example.com ice@example.com\tstaff@example.com\t\n"
#define GOLDEN HEAD "cookie 0041ff0a\n" A1 "end 1\n"

/* test_format - one account and a binary cookie, byte for byte */
static void test_format(void)
{
    static const char *const al[] = { "al@example.com", "ice@example.com", NULL };
    static const char *const gr[] = { "staff@example.com", NULL };
    struct uuidtab t;
    unsigned char u[UUIDTAB_UUID_SIZE];
    char err[512] = "";
    struct berval cookie = { 4, (char *)"\x00\x41\xff\x0a" };

    uuidtab_init(&t);
    uuid_of(1, u);
    struct account *a = account_make("alice", "{SSHA}abc", al, gr, false);
    is_int(account_check(&cfg, a, err, sizeof(err)), 0, "the test account is valid %s", err);
    uuidtab_put(&t, u, a);
    is_int(persist_state_save(path, digest, &cookie, &t, err, sizeof(err)), 0, "save %s", err);
    char *got = read_file(path);
    is_str(got, GOLDEN, "the format");
    free(got);
    struct stat st;
    ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600 (password hashes)");
    uuidtab_free(&t);

    struct berval back;
    uuidtab_init(&t);
    is_int(persist_state_load(path, digest, &cfg, &back, &t, err, sizeof(err)), 1,
           "read back %s", err);
    ok(back.bv_len == 4 && memcmp(back.bv_val, "\x00\x41\xff\x0a", 4) == 0,
       "the binary cookie");
    struct uuidtab_slot *s = uuidtab_get(&t, u);
    a = account_make("alice", "{SSHA}abc", al, gr, false);
    ok(s != NULL && account_equal(s->account, a), "the account");
    ok(s != NULL && s->tag == UUIDTAB_NO_TAG, "loaded accounts have no tag yet");
    account_free(a);
    free(a);
    free(back.bv_val);
    uuidtab_free(&t);
}

/* test_round_trip - several kinds of accounts, no cookie */
static void test_round_trip(void)
{
    static const char *const al[] = { "b1@example.com", "b2@example.com", "b3@example.com",
                                      NULL };
    struct uuidtab t, back;
    unsigned char u[UUIDTAB_UUID_SIZE];
    char err[512] = "";
    struct berval none = { 0, NULL }, cookie = { 1, (char *)"x" };

    uuidtab_init(&t);
    struct account *made[4] = {
        account_make("bob", NULL, al, NULL, false),
        account_make("carol", "$6$salt$hash", NULL, NULL, true),
        account_make("dave", "x", NULL, al, false),
        account_make("eve", NULL, NULL, NULL, true),
    };
    for (unsigned i = 0; i < 4; i++) {
        uuid_of(i + 10, u);
        uuidtab_put(&t, u, made[i]);
    }
    is_int(persist_state_save(path, digest, &none, &t, err, sizeof(err)), 0, "save four");
    char *text = read_file(path);
    ok(text != NULL && strstr(text, "\ncookie -\n") != NULL, "no cookie: '-'");
    free(text);

    uuidtab_init(&back);
    is_int(persist_state_load(path, digest, &cfg, &cookie, &back, err, sizeof(err)), 1,
           "load four %s", err);
    ok(cookie.bv_len == 0 && cookie.bv_val == NULL, "no cookie");
    is_int(back.used, 4, "four accounts");
    int bad = 0;
    for (unsigned i = 0; i < 4; i++) {
        uuid_of(i + 10, u);
        struct uuidtab_slot *s = uuidtab_get(&back, u);
        if (s == NULL || !account_equal(s->account, uuidtab_get(&t, u)->account))
            bad++;
    }
    is_int(bad, 0, "each equal to what was saved");
    uuidtab_free(&back);

    /* an empty table */
    uuidtab_free(&t);
    is_int(persist_state_save(path, digest, &none, &t, err, sizeof(err)), 0, "save none");
    uuidtab_init(&back);
    is_int(persist_state_load(path, digest, &cfg, &cookie, &back, err, sizeof(err)), 1,
           "load none");
    is_int(back.used, 0, "empty");
    uuidtab_free(&back);
}

/* test_not_used - missing, or made with another configuration: 0 */
static void test_not_used(void)
{
    static const char other[] =
        "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct uuidtab t;
    struct berval cookie = { 1, (char *)"x" };
    char err[512], missing[160];

    uuidtab_init(&t);
    snprintf(missing, sizeof(missing), "%s/none", dir);
    is_int(persist_state_load(missing, digest, &cfg, &cookie, &t, err, sizeof(err)), 0,
           "missing: 0");
    write_file(GOLDEN);
    is_int(persist_state_load(path, other, &cfg, &cookie, &t, err, sizeof(err)), 0,
           "another configuration: 0");
    ok(strstr(err, "made with another configuration") != NULL, "  said so: %s", err);
    ok(cookie.bv_val == NULL && t.used == 0, "  no cookie, no accounts");
}

/* Damaged files, and what the refusal must say. */
static const struct {
    const char *name;
    const char *text;
    const char *want;
} damage[] = {
    { "empty file", "", "corrupt at line 0" },
    { "bad magic", "mailmaps-persist-state 9\nconfig " DIGEST "\ncookie -\nend 0\n",
      "corrupt at line 1" },
    { "the format before forwards", "mailmaps-persist-state 1\nconfig " DIGEST
      "\ncookie -\nend 0\n", "corrupt at line 1" },
    { "the magic alone", "mailmaps-persist-state 2\n", "corrupt at line 1" },
    { "truncated mid-line", GOLDEN "a\t00", "corrupt at line 6" },
    { "no end line", HEAD "cookie -\n" A1, "corrupt at line 4" },
    { "end counts wrong", HEAD "cookie -\n" A1 "end 2\n", "corrupt at line 5" },
    { "a line after end", GOLDEN "end 1\n", "corrupt at line 6" },
    { "no config line", "mailmaps-persist-state 2\ncookie -\nend 0\n", "corrupt at line 2" },
    { "odd cookie", HEAD "cookie 0a1\nend 0\n", "corrupt at line 3" },
    { "cookie not lower-case hex", HEAD "cookie 0A\nend 0\n", "corrupt at line 3" },
    { "no cookie line", HEAD "end 0\n", "corrupt at line 3" },
    { "unknown line", HEAD "cookie -\nb\tx\nend 0\n", "corrupt at line 4" },
};

/* One field of A1 replaced, and what the refusal must say. */
static const struct {
    const char *name;
    int field;
    const char *value;
    const char *want;
} account_damage[] = {
    { "short uuid", 1, "0010", "malformed" },
    { "uuid not hex", 1, "00102030405060708090a0b0c0d0e0zz", "malformed" },
    { "uid not a number", 7, "5x", "malformed" },
    { "uid empty", 7, "", "malformed" },
    { "uid signed", 7, "-1", "malformed" },
    { "uid over 32 bits", 7, "4294967296", "malformed" },
    { "gid over 32 bits", 8, "99999999999", "malformed" },
    { "quota not a number", 9, "1G", "malformed" },
    { "storage flag 2", 6, "2", "malformed" },
    { "password flag", 10, "*x", "malformed" },
    { "relative home", 4, "var/vmail/example.com/alice", "bad home" },
    { "home outside home_dirs", 4, "/etc/alice", "home_dirs" },
    { "not the default mailbox", 5, "elsewhere/", "not the default mailbox" },
    { "mail not normal", 3, "Alice@Example.com", "bad mail" },
    { "uid outside the valid range", 7, "0", "outside first_valid_uid" },
};

/* with_field - a state whose one account is A1 with field i replaced */
static void with_field(int i, const char *value, char *out, size_t outsz)
{
    char line[] = A1;
    char *f[14], *p = line;
    for (int n = 0; n < 14; n++) {
        f[n] = p;
        p = strpbrk(p, "\t\n");
        *p++ = '\0';
    }
    f[i] = (char *)value;
    int len = snprintf(out, outsz, HEAD "cookie -\n");
    for (int n = 0; n < 14; n++)
        len += snprintf(out + len, outsz - (size_t)len, "%s%c", f[n], n < 13 ? '\t' : '\n');
    snprintf(out + len, outsz - (size_t)len, "end 1\n");
}

/* refused - the file at path: -1 with want in the reason, nothing kept */
static void refused(const char *name, const char *want)
{
    struct uuidtab t;
    struct berval cookie = { 1, (char *)"x" };
    char err[512] = "";

    uuidtab_init(&t);
    int r = persist_state_load(path, digest, &cfg, &cookie, &t, err, sizeof(err));
    if (!ok(r == -1 && strstr(err, want) != NULL, "%s: refused", name))
        diag("got %d: %s (want '%s')", r, err, want);
    ok(cookie.bv_val == NULL && cookie.bv_len == 0 && t.used == 0 && t.cap == 0,
       "%s: no cookie, no table", name);
}

static void test_damage(void)
{
    char text[2048], err[512];
    struct uuidtab t;
    struct berval cookie;

    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        write_file(damage[i].text);
        refused(damage[i].name, damage[i].want);
    }
    for (size_t i = 0; i < sizeof(account_damage) / sizeof(account_damage[0]); i++) {
        with_field(account_damage[i].field, account_damage[i].value, text, sizeof(text));
        write_file(text);
        refused(account_damage[i].name, account_damage[i].want);
    }
    /* a TAB where none may be: fifteen fields */
    snprintf(text, sizeof(text), HEAD "cookie -\n%.*s\tx\nend 1\n", (int)strlen(A1) - 1, A1);
    write_file(text);
    refused("fifteen fields", "not 14 fields");

    /* the reason names the line and the DN of a refused account */
    with_field(4, "/etc/alice", text, sizeof(text));
    write_file(text);
    uuidtab_init(&t);
    persist_state_load(path, digest, &cfg, &cookie, &t, err, sizeof(err));
    ok(strstr(err, "uid=alice,ou=people,dc=example,dc=com") != NULL &&
       strstr(err, "line 4") != NULL, "the reason names line and DN: %s", err);
}

/* test_digest - SHA-256 of the file, of "" without one */
static void test_digest(void)
{
    char hex[SHA256_HEX_SIZE], conf[160];

    is_int(persist_state_digest(NULL, hex), 0, "no config file");
    is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "the digest of nothing");
    snprintf(conf, sizeof(conf), "%s/mailmaps.conf", dir);
    FILE *f = fopen(conf, "w");
    fputs("abc", f);
    fclose(f);
    is_int(persist_state_digest(conf, hex), 0, "a config file");
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "its digest");
    unlink(conf);
    ok(persist_state_digest(conf, hex) < 0, "a missing one: -1");
}

/* test_saver - a child writes what the table held at the fork */
/* temp_files - entries of d whose name starts with prefix */
static int temp_files(const char *d, const char *prefix)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;

    if (dp == NULL)
        return -1;
    while ((e = readdir(dp)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(dp);
    return n;
}

static void test_saver(void)
{
    struct persist_saver sv = { 0 };
    struct uuidtab t, back;
    unsigned char u[UUIDTAB_UUID_SIZE];
    struct berval none = { 0, NULL }, cookie;
    char err[512], bad[160];

    unlink(path);
    uuidtab_init(&t);
    uuid_of(1, u);
    uuidtab_put(&t, u, account_make("frank", NULL, NULL, NULL, false));
    ok(persist_saver_save(&sv, true, path, digest, &none, &t), "a child started");
    ok(sv.pid > 0, "  its pid kept");
    persist_saver_hold(&sv, true);
    ok(!persist_saver_save(&sv, true, path, digest, &none, &t), "a second waits for it");
    uuid_of(2, u);
    uuidtab_put(&t, u, account_make("grace", NULL, NULL, NULL, false));   /* after the fork */
    persist_saver_hold(&sv, false);
    persist_saver_reap(&sv, true);
    is_int(sv.pid, 0, "reaped");
    uuidtab_init(&back);
    is_int(persist_state_load(path, digest, &cfg, &cookie, &back, err, sizeof(err)), 1,
           "the child's file loads %s", err);
    is_int(back.used, 1, "  with the table as it was at the fork");
    uuidtab_free(&back);

    ok(persist_saver_save(&sv, false, path, digest, &none, &t), "in the foreground");
    is_int(sv.pid, 0, "  no child");
    uuidtab_init(&back);
    is_int(persist_state_load(path, digest, &cfg, &cookie, &back, err, sizeof(err)), 1,
           "loads");
    is_int(back.used, 2, "  with both");
    uuidtab_free(&back);
    persist_saver_reap(&sv, true);
    is_int(sv.pid, 0, "reaping nothing is harmless");

    /* a save that cannot replace its target (a directory there): logged,
     * and its temp file beside the target is gone */
    snprintf(bad, sizeof(bad), "%s/isdir", dir);
    ok(mkdir(bad, 0700) == 0, "a directory where the state would go");
    ok(persist_saver_save(&sv, false, bad, digest, &none, &t), "an unwritable path: done");
    ok(temp_files(dir, ".isdir") == 0, "  no temp file left");
    rmdir(bad);
    uuidtab_free(&t);
}

int main(void)
{
    static const char text[] = "ldap_base = dc=example,dc=com\nmail_base = /var/vmail\n"
                               "first_valid_uid = 1000\n";
    char err[256];

    if (conf_parse_buffer(&cfg, "test", text, sizeof(text) - 1, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    snprintf(dir, sizeof(dir), "/tmp/test-persist-state.XXXXXX");
    if (!ok(mkdtemp(dir) != NULL, "scratch directory"))
        return tap_done();
    snprintf(path, sizeof(path), "%s/.persist-state", dir);
    test_format();
    test_round_trip();
    test_not_used();
    test_damage();
    test_digest();
    test_saver();
    unlink(path);
    rmdir(dir);
    conf_free(&cfg);
    return tap_done();
}
