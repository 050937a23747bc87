/* usage_maildir - usage from the Maildir++ maildirsize file that Dovecot's
 * maildir quota backend keeps */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/usage.h"

#define MAILDIR_PATH_MAX 4096

struct usage_maildir {
    struct usage_source src;   /* first: the handle is the source */
    char *template;
    char *buf;                 /* read buffer, USAGE_MAILDIRSIZE_MAX + 1 */
};

/* usage_template_expand - %h %u %d %n %% into buf */
int usage_template_expand(const char *template, const struct usage_user *user,
                          char *buf, size_t bufsz, char *err, size_t errsz)
{
    size_t n = 0;

    if (bufsz == 0) {
        snprintf(err, errsz, "no room");
        return -1;
    }
    for (const char *p = template; *p != '\0'; p++) {
        const char *v;
        char one[2] = { *p, '\0' };

        if (*p != '%') {
            v = one;
        } else {
            p++;
            switch (*p) {
            case 'h': v = user->home; break;
            case 'u': v = user->user; break;
            case 'd': v = user->domain; break;
            case 'n': v = user->local; break;
            case '%': v = "%"; break;
            case '\0':
                snprintf(err, errsz, "template ends in '%%'");
                return -1;
            default:
                snprintf(err, errsz, "unknown %%%c in template", *p);
                return -1;
            }
            /* an empty home would turn "%h/Maildir" into "/Maildir" */
            if (v == NULL || v[0] == '\0') {
                snprintf(err, errsz, "%%%c is empty for this user", *p);
                return -1;
            }
        }
        size_t len = strlen(v);
        if (len >= bufsz - n) {
            snprintf(err, errsz, "expanded path too long");
            return -1;
        }
        memcpy(buf + n, v, len);
        n += len;
    }
    buf[n] = '\0';
    return 0;
}

/* number_parse - an optionally negative decimal of exactly len bytes */
static int number_parse(const char *s, size_t len, bool allow_neg, int64_t *n_r)
{
    bool neg = false;
    int64_t n = 0;

    if (len > 0 && s[0] == '-' && allow_neg) {
        neg = true;
        s++;
        len--;
    }
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s[i] - '0', &n))
            return -1;
    }
    *n_r = neg ? -n : n;
    return 0;
}

/* usage_maildirsize_parse - sum the byte column of every line after the first */
int usage_maildirsize_parse(const char *data, size_t len, uint64_t *bytes_r,
                            char *err, size_t errsz)
{
    int64_t total = 0;
    size_t pos = 0, lineno = 0;

    *bytes_r = 0;
    if (len == 0) {
        snprintf(err, errsz, "empty file");
        return -1;
    }
    /* Dovecot itself treats a file not ending in a newline as broken: a
     * writer may be mid-append */
    if (data[len - 1] != '\n') {
        snprintf(err, errsz, "last line incomplete");
        return -1;
    }
    if (memchr(data, '\0', len) != NULL) {
        snprintf(err, errsz, "NUL byte in file");
        return -1;
    }
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = (size_t)(nl - line);
        int64_t bytes, count;

        pos += llen + 1;
        lineno++;
        if (lineno == 1)
            continue; /* the limits, e.g. "10737418240S,1000C": ours come from users.cdb */
        const char *sp = memchr(line, ' ', llen);
        if (sp == NULL) {
            snprintf(err, errsz, "line %zu: not \"BYTES COUNT\"", lineno);
            return -1;
        }
        size_t blen = (size_t)(sp - line);
        const char *c = sp;
        while (c < line + llen && *c == ' ')
            c++;
        if (number_parse(line, blen, true, &bytes) < 0 ||
            number_parse(c, (size_t)(line + llen - c), true, &count) < 0) {
            snprintf(err, errsz, "line %zu: not \"BYTES COUNT\"", lineno);
            return -1;
        }
        if (__builtin_add_overflow(total, bytes, &total)) {
            snprintf(err, errsz, "line %zu: total out of range", lineno);
            return -1;
        }
    }
    /* a sum below zero means lost updates; Dovecot recalculates, we say 0 */
    *bytes_r = total > 0 ? (uint64_t)total : 0;
    return 0;
}

/* maildir_get - read the user's maildirsize (bounded) and sum it */
static int maildir_get(struct usage_source *src, const struct usage_user *user,
                       uint64_t *bytes_r, char *err, size_t errsz)
{
    struct usage_maildir *m = (struct usage_maildir *)src;
    char path[MAILDIR_PATH_MAX], why[256];
    struct stat st;
    size_t len = 0;

    *bytes_r = 0;
    if (usage_template_expand(m->template, user, path, sizeof(path), why, sizeof(why)) < 0) {
        snprintf(err, errsz, "maildirsize of %s: %s", user->user, why);
        return -1;
    }
    /* O_NONBLOCK: a FIFO planted there must not hang the daemon */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            /* no mail yet (Dovecot creates it on first use), or a wrong
             * template, or a home the daemon cannot see: the caller tells */
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            return 1;
        }
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r = read(fd, m->buf + len, USAGE_MAILDIRSIZE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > USAGE_MAILDIRSIZE_MAX) {
            snprintf(err, errsz, "%s: larger than %d bytes", path, USAGE_MAILDIRSIZE_MAX);
            close(fd);
            return -1;
        }
        /* the size it had at open is all there is to read (Dovecot
         * replaces the file by rename): skip the read that returns 0 */
        if ((off_t)len >= st.st_size)
            break;
    }
    close(fd);
    if (usage_maildirsize_parse(m->buf, len, bytes_r, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

/* maildir_free - release the handle */
static void maildir_free(struct usage_source *src)
{
    struct usage_maildir *m = (struct usage_maildir *)src;
    free(m->template);
    free(m->buf);
    free(m);
}

static const struct usage_ops maildir_ops = {
    .name = "maildir",
    .get = maildir_get,
    .free = maildir_free,
};

/* usage_maildir_new - check the template once, so requests cannot fail on it */
struct usage_source *usage_maildir_new(const char *template, char *err, size_t errsz)
{
    static const struct usage_user probe = { "u@d", "u", "d", "/h" };
    char path[MAILDIR_PATH_MAX];
    struct usage_maildir *m;

    if (template == NULL || template[0] == '\0') {
        snprintf(err, errsz, "empty maildirsize template");
        return NULL;
    }
    if (usage_template_expand(template, &probe, path, sizeof(path), err, errsz) < 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->template = strdup(template)) == NULL ||
        (m->buf = malloc(USAGE_MAILDIRSIZE_MAX + 1)) == NULL) {
        if (m != NULL) {
            free(m->template);
            free(m);
        }
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    m->src.ops = &maildir_ops;
    return &m->src;
}
