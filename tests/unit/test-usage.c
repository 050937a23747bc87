/* test-usage - maildirsize parsing, path templates, the maildir source */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/usage.h"
#include "tests/unit/tap.h"

struct parse_case {
    const char *text;
    size_t len;          /* 0 = strlen */
    int rc;
    uint64_t bytes;
};

static const struct parse_case parse_cases[] = {
    { "10737418240S,1000C\n", 0, 0, 0 },
    { "10737418240S,1000C\n1000 1\n", 0, 0, 1000 },
    { "10737418240S,1000C\n1000 1\n2000 2\n-500 -1\n", 0, 0, 2500 },
    { "\n5 1\n", 0, 0, 5 },                         /* no limits line content */
    { "0S\n-100 -1\n", 0, 0, 0 },                   /* below zero counts as 0 */
    { "0S\n100  1\n", 0, 0, 100 },                  /* blanks between columns */
    { "0S\n9223372036854775807 1\n", 0, 0, 9223372036854775807ULL },
    { "0S\n9223372036854775807 1\n1 1\n", 0, -1, 0 },   /* sum overflows */
    { "0S\n99999999999999999999 1\n", 0, -1, 0 },       /* number overflows */
    { "", 0, -1, 0 },                               /* empty file */
    { "0S\n100 1", 0, -1, 0 },                      /* last line incomplete */
    { "0S", 0, -1, 0 },
    { "0S\n100\n", 0, -1, 0 },                      /* one column */
    { "0S\n100 x\n", 0, -1, 0 },
    { "0S\nabc 1\n", 0, -1, 0 },
    { "0S\n 100 1\n", 0, -1, 0 },                   /* leading blank */
    { "0S\n100 1 \n", 0, -1, 0 },                   /* trailing blank */
    { "0S\n\n", 0, -1, 0 },                         /* empty usage line */
    { "0S\n- 1\n", 0, -1, 0 },
    { "0S\n--1 1\n", 0, -1, 0 },
    { "0S\n+1 1\n", 0, -1, 0 },
    { "0S\n1\0 1\n", 7, -1, 0 },                    /* NUL byte */
    { "0S\n1 1\r\n", 0, -1, 0 },                    /* CR is not ours */
    { "0S\n\xff\xfe 1\n", 0, -1, 0 },               /* binary junk */
};

struct tmpl_case {
    const char *tmpl;
    const char *want;   /* NULL = error */
};

static const struct tmpl_case tmpl_cases[] = {
    { "%h/Maildir/maildirsize", "/home/a/Maildir/maildirsize" },
    { "/var/vmail/%d/%n/Maildir/maildirsize", "/var/vmail/example.com/alice/Maildir/maildirsize" },
    { "/q/%u", "/q/alice@example.com" },
    { "/q/100%%", "/q/100%" },
    { "plain", "plain" },
    { "/q/%x", NULL },
    { "/q/%", NULL },
    { "%Z", NULL },
};

int main(void)
{
    char err[512], buf[4096];
    uint64_t bytes;

    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        err[0] = '\0';
        int rc = usage_maildirsize_parse(c->text, len, &bytes, err, sizeof(err));
        is_int(rc, c->rc, "parse case %zu rc", i);
        if (c->rc == 0)
            is_int(bytes, c->bytes, "parse case %zu bytes", i);
        else
            ok(err[0] != '\0' && bytes == 0, "parse case %zu says why: %s", i, err);
    }

    struct usage_user u = { "alice@example.com", "alice", "example.com", "/home/a" };
    for (size_t i = 0; i < sizeof(tmpl_cases) / sizeof(tmpl_cases[0]); i++) {
        const struct tmpl_case *c = &tmpl_cases[i];
        int rc = usage_template_expand(c->tmpl, &u, buf, sizeof(buf), err, sizeof(err));
        if (c->want != NULL) {
            is_int(rc, 0, "template %s", c->tmpl);
            is_str(buf, c->want, "template %s expands", c->tmpl);
        } else {
            is_int(rc, -1, "template %s refused (%s)", c->tmpl, err);
        }
    }
    struct usage_user nohome = { "alice@example.com", "alice", "example.com", "" };
    is_int(usage_template_expand("%h/x", &nohome, buf, sizeof(buf), err, sizeof(err)), -1,
           "empty home refused");
    is_int(usage_template_expand("%h/x", &u, buf, 8, err, sizeof(err)), -1,
           "result too long refused");
    is_int(usage_template_expand("%h", &u, buf, 8, err, sizeof(err)), 0, "exact fit");

    ok(usage_maildir_new("%q", err, sizeof(err)) == NULL, "bad template refused at start");
    ok(usage_maildir_new("", err, sizeof(err)) == NULL, "empty template refused");

    /* the source against real files */
    char dir[] = "/tmp/test-usage.XXXXXX", path[512];
    if (mkdtemp(dir) == NULL)
        return 1;
    struct usage_source *src = usage_maildir_new("%h/%n/maildirsize", err, sizeof(err));
    ok(src != NULL, "maildir source");
    is_str(usage_name(src), "maildir", "name");
    struct usage_user fu = { "alice@example.com", "alice", "example.com", dir };

    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), 1, "missing file: no data (%s)", err);
    is_int(bytes, 0, "missing file is usage 0");

    snprintf(path, sizeof(path), "%s/alice", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/alice/maildirsize", dir);
    FILE *f = fopen(path, "w");
    fputs("10737418240S,0C\n4000 2\n-1000 -1\n", f);
    fclose(f);
    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), 0, "file read");
    is_int(bytes, 3000, "file summed");

    f = fopen(path, "w");
    fputs("10737418240S,0C\n4000 2\ngarbage\n", f);
    fclose(f);
    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), -1, "malformed file is an error");
    ok(strstr(err, "line 3") != NULL, "error names the line: %s", err);

    /* too large: one line more than the cap */
    f = fopen(path, "w");
    fputs("0S\n", f);
    for (size_t n = 0; n < USAGE_MAILDIRSIZE_MAX / 4 + 1; n++)
        fputs("1 1\n", f);
    fclose(f);
    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), -1, "oversized file refused (%s)", err);

    unlink(path);
    mkdir(path, 0755);
    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), -1, "a directory is an error");
    rmdir(path);
    mkfifo(path, 0644);
    is_int(usage_get(src, &fu, &bytes, err, sizeof(err)), -1, "a FIFO is an error, no hang");
    unlink(path);

    struct usage_user empty = { "alice@example.com", "alice", "example.com", "" };
    is_int(usage_get(src, &empty, &bytes, err, sizeof(err)), -1, "user without home is an error");
    usage_free(src);
    usage_free(NULL);
    is_int(usage_get(NULL, &fu, &bytes, err, sizeof(err)), -1, "no source is an error");

    snprintf(path, sizeof(path), "%s/alice", dir);
    rmdir(path);
    rmdir(dir);
    return tap_done();
}
