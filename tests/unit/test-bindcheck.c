/* test-bindcheck - which URIs a bind sends its password over in clear,
 * the warning's words, and the password file checks -n relies on. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/bindcheck.h"
#include "tests/unit/tap.h"

static const struct {
    const char *uri;
    bool in_clear;
} uris[] = {
    { "ldap://127.0.0.1", false },
    { "ldap://127.0.0.1:389/", false },
    { "ldap://127.1.2.3:10389", false },
    { "ldap://[::1]", false },
    { "ldap://[::1]:389/", false },
    { "ldap://[0:0:0:0:0:0:0:1]", false },
    { "ldap://[::ffff:127.0.0.1]:389", false },
    { "ldap://localhost", false },
    { "ldap://LOCALHOST:389", false },
    { "ldap://localhost./", false },
    { "ldap:///", false },
    { "ldapi:///", false },
    { "ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi", false },
    { "ldaps://ldap1.example.com", false },
    { "ldaps://ldap1.example.com:636/", false },
    { "ldap://ldap1.example.com", true },
    { "LDAP://ldap1.example.com", true },      /* schemes compare without case */
    { "LDAPS://ldap1.example.com", false },
    { "LDAPI:///", false },
    { "LDAP://ldap1.example.com", true },
    { "ldap://ldap1.example.com:389/", true },
    { "ldap://192.0.2.10", true },
    { "ldap://128.0.0.1", true },
    { "ldap://[2001:db8::1]:389", true },
    { "ldap://[::2]", true },
    { "ldap://localhost.example.com", true },
    { "ldap://127.0.0.1.example.com", true },
    { "ldap://[::1", true },
};

/* test_uris - one URI at a time */
static void test_uris(void)
{
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
        is_int(bindcheck_uri_in_clear(uris[i].uri), uris[i].in_clear, "%s %s", uris[i].uri,
               uris[i].in_clear ? "is in clear" : "is fine");
}

/* parse - a configuration from text (ldap_base added) */
static int parse(struct conf *cfg, const char *text)
{
    char buf[1024], err[CONF_ERRSZ];
    snprintf(buf, sizeof(buf), "ldap_base = dc=example,dc=com\n%s", text);
    if (conf_parse_buffer(cfg, "test.conf", buf, strlen(buf), err, sizeof(err)) < 0) {
        diag("%s", err);
        return -1;
    }
    return 0;
}

static const struct {
    const char *label, *text;
    size_t want;
    const char *named;      /* in the warning */
} confs[] = {
    { "the default (ldapi, anonymous)", "", 0, NULL },
    { "anonymous over ldap:// to a remote host", "ldap_uri = ldap://ldap1.example.com\n", 0, NULL },
    { "password over ldap:// to a remote host",
      "ldap_uri = ldap://ldap1.example.com\nldap_bind_dn = cn=sync\nldap_bind_pw_file = /x\n", 1,
      "ldap://ldap1.example.com" },
    { "the same with StartTLS",
      "ldap_uri = ldap://ldap1.example.com\nldap_bind_dn = cn=sync\nldap_bind_pw_file = /x\n"
      "ldap_starttls = yes\n", 0, NULL },
    { "password over loopback and ldaps",
      "ldap_uri = ldap://127.0.0.1 ldap://[::1] ldap://localhost ldaps://ldap1.example.com "
      "ldapi:///\nldap_bind_dn = cn=sync\nldap_bind_pw_file = /x\n", 0, NULL },
    { "two of three at risk",
      "ldap_uri = ldap://ldap1.example.com ldap://127.0.0.1 ldap://ldap2.example.com\n"
      "ldap_bind_dn = cn=sync\nldap_bind_pw_file = /x\n", 2,
      "ldap://ldap1.example.com, ldap://ldap2.example.com (" },
};

/* test_cleartext - whole configurations and the warning */
static void test_cleartext(void)
{
    for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
        struct conf cfg;
        char warn[1024] = "";
        if (!ok(parse(&cfg, confs[i].text) == 0, "parse: %s", confs[i].label))
            continue;
        is_int(bindcheck_cleartext(&cfg, warn, sizeof(warn)), confs[i].want, "%s: %zu at risk",
               confs[i].label, confs[i].want);
        if (confs[i].named != NULL) {
            ok(strstr(warn, confs[i].named) != NULL, "  names them: %s", warn);
            ok(strstr(warn, "in clear") != NULL && strstr(warn, "ldap_starttls = yes") != NULL,
               "  says why and the fix");
        } else {
            is_str(warn, "", "  no warning");
        }
        conf_free(&cfg);
    }

    /* a buffer too small still ends in a NUL and the count is right */
    struct conf cfg;
    char tiny[16];
    if (parse(&cfg, confs[5].text) == 0) {
        is_int(bindcheck_cleartext(&cfg, tiny, sizeof(tiny)), 2, "a short buffer: still 2");
        is_int(strlen(tiny), sizeof(tiny) - 1, "  cut, NUL-terminated");
        conf_free(&cfg);
    }
}

/* test_secret - the file behind ldap_bind_dn */
static void test_secret(void)
{
    char text[512], path[64], err[CONF_ERRSZ];
    struct conf cfg;

    snprintf(path, sizeof(path), "/tmp/test-bindcheck.XXXXXX");
    int fd = mkstemp(path);
    if (!ok(fd >= 0 && write(fd, "pw\n", 3) == 3, "password file"))
        return;
    close(fd);

    if (parse(&cfg, "") == 0) {
        is_int(bindcheck_secret(&cfg, err, sizeof(err)), 0, "anonymous: nothing to read");
        conf_free(&cfg);
    }
    snprintf(text, sizeof(text), "ldap_bind_dn = cn=sync\nldap_bind_pw_file = %s\n", path);
    if (parse(&cfg, text) == 0) {
        is_int(bindcheck_secret(&cfg, err, sizeof(err)), 0, "mode 0600: fine");
        chmod(path, 0644);
        is_int(bindcheck_secret(&cfg, err, sizeof(err)), -1, "mode 0644: refused");
        ok(strstr(err, path) != NULL && strstr(err, "chmod 0600") != NULL, "  %s", err);
        unlink(path);
        is_int(bindcheck_secret(&cfg, err, sizeof(err)), -1, "missing: refused");
        ok(strstr(err, path) != NULL && strstr(err, "No such file") != NULL, "  %s", err);
        conf_free(&cfg);
    }
    if (parse(&cfg, "ldap_bind_dn = cn=sync\n") == 0) {
        is_int(bindcheck_secret(&cfg, err, sizeof(err)), -1, "a bind DN without a file");
        is_str(err, "ldap_bind_dn is set but ldap_bind_pw_file is not", "  says so");
        conf_free(&cfg);
    }
    unlink(path);
}

int main(void)
{
    test_uris();
    test_cleartext();
    test_secret();
    return tap_done();
}
