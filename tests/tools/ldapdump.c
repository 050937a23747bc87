/* ldapdump - print what the directory access (maps/ldapdir) returns, for
 * the integration tests.
 *
 *   ldapdump -c FILE [-u] [-q]              every entry (ldapdir_search_all)
 *   ldapdump -c FILE [-u] [-q] -k ADDRESS   the entries for one key
 *   ldapdump -c FILE [-u] [-q] -i           commands on stdin, one per line:
 *                                           "all", "key ADDRESS", "disconnect",
 *                                           "quit"
 *
 * Entries are printed sorted by DN: "dn: DN", then "name: value" lines
 * sorted (name compared without case, then value), then a blank line.
 * Bytes outside printable ASCII and '\' are written as \xHH. entryUUID is
 * left out unless -u. -q prints no entries. The single-search modes end
 * with "ldapdump: N entries from URI" on stderr and exit 0, or print
 * "ldapdump: REASON" and exit 1. In -i mode each command ends with a line
 * "# ok N URI" or "# error REASON" on stdout, and the exit status is 0. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "maps/conf.h"
#include "maps/ldapdir.h"

struct dump {
    int uuid;              /* print entryUUID */
    int quiet;             /* print no entries */
    char **texts;          /* one rendered entry each */
    size_t count, cap;
    int oom;
};

struct line {
    const char *name;
    const struct entry_value *v;
};

/* buf_add - append n bytes to a growing string */
static int buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        char *p;
        while (c < *len + n + 1)
            c *= 2;
        if ((p = realloc(*buf, c)) == NULL)
            return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* buf_add_escaped - append bytes with the unprintable ones as \xHH */
static int buf_add_escaped(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (buf_add(buf, len, cap, (const char *)&s[i], 1) < 0)
                return -1;
        } else {
            snprintf(tmp, sizeof(tmp), "\\x%02x", c);
            if (buf_add(buf, len, cap, tmp, 4) < 0)
                return -1;
        }
    }
    return 0;
}

/* line_cmp - attribute lines: name without case, then value bytes */
static int line_cmp(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    int c = strcasecmp(x->name, y->name);
    size_t n;
    if (c != 0)
        return c;
    n = x->v->len < y->v->len ? x->v->len : y->v->len;
    c = n > 0 ? memcmp(x->v->data, y->v->data, n) : 0;
    if (c != 0)
        return c;
    return x->v->len < y->v->len ? -1 : x->v->len > y->v->len;
}

/* text_cmp - rendered entries; they start with "dn: ", so by DN */
static int text_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dump_entry - the ldapdir callback: render one entry */
static int dump_entry(void *ctx, const struct entry *e)
{
    struct dump *d = ctx;
    struct line *lines = NULL;
    size_t n = 0, total = 0, len = 0, cap = 0;
    char *buf = NULL;

    if (d->quiet)
        return 0;
    for (size_t i = 0; i < e->attr_count; i++)
        total += e->attrs[i].count;
    lines = calloc(total + 1, sizeof(*lines));
    if (lines == NULL)
        goto oom;
    for (size_t i = 0; i < e->attr_count; i++) {
        if (!d->uuid && strcasecmp(e->attrs[i].name, "entryUUID") == 0)
            continue;
        for (size_t j = 0; j < e->attrs[i].count; j++) {
            lines[n].name = e->attrs[i].name;
            lines[n].v = &e->attrs[i].values[j];
            n++;
        }
    }
    if (n > 1)
        qsort(lines, n, sizeof(*lines), line_cmp);
    if (buf_add(&buf, &len, &cap, "dn: ", 4) < 0
        || buf_add_escaped(&buf, &len, &cap, e->dn, strlen(e->dn)) < 0
        || buf_add(&buf, &len, &cap, "\n", 1) < 0)
        goto oom;
    if (d->uuid && (buf_add(&buf, &len, &cap, "uuid: ", 6) < 0
                    || buf_add(&buf, &len, &cap, e->uuid ? e->uuid : "(none)",
                               strlen(e->uuid ? e->uuid : "(none)")) < 0
                    || buf_add(&buf, &len, &cap, "\n", 1) < 0))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (buf_add(&buf, &len, &cap, lines[i].name, strlen(lines[i].name)) < 0
            || buf_add(&buf, &len, &cap, ": ", 2) < 0
            || buf_add_escaped(&buf, &len, &cap, lines[i].v->data, lines[i].v->len) < 0
            || buf_add(&buf, &len, &cap, "\n", 1) < 0)
            goto oom;
    }
    if (d->count == d->cap) {
        size_t c = d->cap ? d->cap * 2 : 1024;
        char **p = realloc(d->texts, c * sizeof(*p));
        if (p == NULL)
            goto oom;
        d->texts = p;
        d->cap = c;
    }
    d->texts[d->count++] = buf;
    free(lines);
    return 0;

oom:
    free(lines);
    free(buf);
    d->oom = 1;
    return 1;
}

/* dump_flush - print the collected entries sorted, and forget them */
static void dump_flush(struct dump *d)
{
    if (d->count > 1)
        qsort(d->texts, d->count, sizeof(*d->texts), text_cmp);
    for (size_t i = 0; i < d->count; i++) {
        fputs(d->texts[i], stdout);
        fputs("\n", stdout);
        free(d->texts[i]);
    }
    d->count = 0;
    fflush(stdout);
}

/* run_one - one search: 0 or -1 with err */
static int run_one(struct ldapdir *dir, struct dump *d, const char *key, char *err, size_t errsz)
{
    int r = key != NULL ? ldapdir_search_key(dir, key, dump_entry, d, err, errsz)
                        : ldapdir_search_all(dir, dump_entry, d, err, errsz);
    if (d->oom)
        snprintf(err, errsz, "out of memory");
    if (r != 0 || d->oom) {
        for (size_t i = 0; i < d->count; i++)
            free(d->texts[i]);
        d->count = 0;
        d->oom = 0;
        return -1;
    }
    dump_flush(d);
    return 0;
}

/* interactive - the -i command loop */
static void interactive(struct ldapdir *dir, struct dump *d)
{
    char line[4096], err[1024];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "quit") == 0)
            break;
        if (strcmp(line, "disconnect") == 0) {
            ldapdir_disconnect(dir);
            printf("# ok 0 %s\n", ldapdir_uri(dir));
        } else if (strcmp(line, "all") == 0 || strncmp(line, "key ", 4) == 0) {
            const char *key = line[0] == 'k' ? line + 4 : NULL;
            if (run_one(dir, d, key, err, sizeof(err)) == 0)
                printf("# ok %zu %s\n", ldapdir_entry_count(dir), ldapdir_uri(dir));
            else
                printf("# error %s\n", err);
        } else if (line[0] != '\0') {
            printf("# error unknown command\n");
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    struct conf cfg;
    struct dump d = { 0 };
    struct ldapdir *dir;
    const char *path = NULL, *key = NULL;
    char err[1024];
    int c, inter = 0, rc;

    /* As every program using libldap must (see maps/ldapdir.h). */
    signal(SIGPIPE, SIG_IGN);
    while ((c = getopt(argc, argv, "c:k:uqi")) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': key = optarg; break;
        case 'u': d.uuid = 1; break;
        case 'q': d.quiet = 1; break;
        case 'i': inter = 1; break;
        default:
            fprintf(stderr, "usage: ldapdump -c FILE [-u] [-q] [-k ADDRESS | -i]\n");
            return 2;
        }
    }
    if (path == NULL || optind != argc) {
        fprintf(stderr, "usage: ldapdump -c FILE [-u] [-q] [-k ADDRESS | -i]\n");
        return 2;
    }
    if (conf_load(&cfg, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "ldapdump: %s\n", err);
        conf_free(&cfg);
        return 1;
    }
    dir = ldapdir_open(&cfg, err, sizeof(err));
    if (dir == NULL) {
        fprintf(stderr, "ldapdump: %s\n", err);
        conf_free(&cfg);
        return 1;
    }
    rc = 0;
    if (inter) {
        interactive(dir, &d);
    } else if (run_one(dir, &d, key, err, sizeof(err)) == 0) {
        fprintf(stderr, "ldapdump: %zu entries from %s\n", ldapdir_entry_count(dir),
                ldapdir_uri(dir));
    } else {
        fprintf(stderr, "ldapdump: %s\n", err);
        rc = 1;
    }
    ldapdir_close(dir);
    conf_free(&cfg);
    free(d.texts);
    return rc;
}
