/* status - read, parse, format and atomically write the maps directory's
 * "status" file. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/ascii.h"
#include "maps/atomicfile.h"
#include "maps/status.h"

/* A status file is a dozen short lines; anything much larger is not one. */
#define STATUS_MAX_SIZE 65536

/* Year 9999: a timestamp beyond it is damage, not a date. */
#define STATUS_MAX_TIME INT64_C(253402300799)

enum status_type { ST_U64, ST_TIME, ST_STR, ST_HEX };

static const struct status_field {
    const char *name;
    enum status_type type;
    size_t offset;
    size_t size;          /* of the char array, for ST_STR and ST_HEX */
} status_fields[] = {
    { "generation", ST_U64, offsetof(struct status, generation), 0 },
    { "synced_at", ST_TIME, offsetof(struct status, synced_at), 0 },
    { "duration_ms", ST_U64, offsetof(struct status, duration_ms), 0 },
    { "users", ST_U64, offsetof(struct status, users), 0 },
    { "aliases", ST_U64, offsetof(struct status, aliases), 0 },
    { "domains", ST_U64, offsetof(struct status, domains), 0 },
    { "passwords", ST_U64, offsetof(struct status, passwords), 0 },
    { "source", ST_STR, offsetof(struct status, source), sizeof(((struct status *)0)->source) },
    { "checksum", ST_HEX, offsetof(struct status, checksum), sizeof(((struct status *)0)->checksum) },
    { "last_failure", ST_STR, offsetof(struct status, last_failure),
      sizeof(((struct status *)0)->last_failure) },
    { "last_failure_at", ST_TIME, offsetof(struct status, last_failure_at), 0 },
};
#define STATUS_NFIELDS (sizeof(status_fields) / sizeof(status_fields[0]))

/* status_errf - format a reason into err */
__attribute__((format(printf, 3, 4)))
static int status_errf(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* parse_u64 - plain decimal digits, no sign, no overflow */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* is_blank - space or tab */
static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* status_set - store one known field from its text value */
static int status_set(struct status *st, const struct status_field *f, const char *v,
                      size_t vlen, unsigned lineno, char *err, size_t errsz)
{
    char *base = (char *)st + f->offset;
    uint64_t n;

    switch (f->type) {
    case ST_U64:
        if (parse_u64(v, vlen, UINT64_MAX, &n) < 0)
            return status_errf(err, errsz, "line %u: %s: bad number '%.*s'", lineno, f->name,
                               (int)(vlen > 40 ? 40 : vlen), v);
        memcpy(base, &n, sizeof(n));
        return 0;
    case ST_TIME:
        if (parse_u64(v, vlen, (uint64_t)STATUS_MAX_TIME, &n) < 0)
            return status_errf(err, errsz, "line %u: %s: bad time '%.*s'", lineno, f->name,
                               (int)(vlen > 40 ? 40 : vlen), v);
        time_t t = (time_t)n;
        memcpy(base, &t, sizeof(t));
        return 0;
    case ST_HEX:
        if (vlen != 0 && vlen != SHA256_HEX_SIZE - 1)
            return status_errf(err, errsz, "line %u: %s: want %d hex digits, not %zu",
                               lineno, f->name, SHA256_HEX_SIZE - 1, vlen);
        for (size_t i = 0; i < vlen; i++) {
            char c = ascii_lower(v[i]);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return status_errf(err, errsz, "line %u: %s: not a hex digit at %zu",
                                   lineno, f->name, i + 1);
            base[i] = c;
        }
        base[vlen] = '\0';
        return 0;
    case ST_STR:
        if (vlen >= f->size)
            return status_errf(err, errsz, "line %u: %s: too long (%zu bytes, at most %zu)",
                               lineno, f->name, vlen, f->size - 1);
        for (size_t i = 0; i < vlen; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return status_errf(err, errsz, "line %u: %s: control character", lineno, f->name);
        memcpy(base, v, vlen);
        base[vlen] = '\0';
        return 0;
    }
    return -1;
}

/* status_parse - the text form into st_r (zeroed first) */
int status_parse(const char *data, size_t len, struct status *st_r, char *err, size_t errsz)
{
    bool seen[STATUS_NFIELDS] = { false };
    unsigned lineno = 0;

    memset(st_r, 0, sizeof(*st_r));
    if (len > STATUS_MAX_SIZE)
        return status_errf(err, errsz, "too large (%zu bytes)", len);
    if (memchr(data, '\0', len) != NULL)
        return status_errf(err, errsz, "NUL byte");

    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        if (eol > p && eol[-1] == '\r')
            eol--;
        while (p < eol && is_blank(*p))
            p++;
        if (p == eol || *p == '#') {
            p = next;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        if (eq == NULL)
            return status_errf(err, errsz, "line %u: not name=value", lineno);
        const char *nend = eq;
        while (nend > p && is_blank(nend[-1]))
            nend--;
        const char *v = eq + 1, *vend = eol;
        while (v < vend && is_blank(*v))
            v++;
        while (vend > v && is_blank(vend[-1]))
            vend--;
        size_t nlen = (size_t)(nend - p);
        for (size_t i = 0; i < STATUS_NFIELDS; i++) {
            const struct status_field *f = &status_fields[i];
            if (strlen(f->name) != nlen || memcmp(f->name, p, nlen) != 0)
                continue;
            if (seen[i])
                return status_errf(err, errsz, "line %u: %s given twice", lineno, f->name);
            seen[i] = true;
            if (status_set(st_r, f, v, (size_t)(vend - v), lineno, err, errsz) < 0)
                return -1;
            break;
        }
        /* Other names are left for newer readers. */
        p = next;
    }
    return 0;
}

/* status_path - the one place the status file's path is made */
int status_path(const char *maps_dir, char *buf, size_t bufsz)
{
    int n = snprintf(buf, bufsz, "%s/" STATUS_NAME, maps_dir);
    if (n < 0 || (size_t)n >= bufsz) {
        if (bufsz > 0)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* status_read - read and parse the file; 0 when it does not exist */
int status_read(const char *path, struct status *st_r, char *err, size_t errsz)
{
    char *buf;
    size_t len = 0;
    char why[256];

    memset(st_r, 0, sizeof(*st_r));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return status_errf(err, errsz, "%s: %s", path, strerror(errno));
    }
    buf = malloc(STATUS_MAX_SIZE + 1);
    if (buf == NULL) {
        close(fd);
        return status_errf(err, errsz, "%s: out of memory", path);
    }
    /* One byte more than allowed tells an oversized file apart. */
    while (len < STATUS_MAX_SIZE + 1) {
        ssize_t n = read(fd, buf + len, STATUS_MAX_SIZE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            return status_errf(err, errsz, "%s: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int r = status_parse(buf, len, st_r, why, sizeof(why));
    free(buf);
    if (r < 0)
        return status_errf(err, errsz, "%s: %s", path, why);
    return 1;
}

/* Appending to a bounded buffer; overflow is remembered, not written. */
struct outbuf {
    char *buf;
    size_t size, len;
    bool overflow;
};

/* out_printf - append formatted text */
__attribute__((format(printf, 2, 3)))
static void out_printf(struct outbuf *o, const char *fmt, ...)
{
    va_list ap;
    if (o->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->size - o->len)
        o->overflow = true;
    else
        o->len += (size_t)n;
}

/* out_text - append name=value, control characters replaced so the
 * value stays one line (failure messages may quote a server) */
static void out_text(struct outbuf *o, const char *name, const char *value, size_t max)
{
    size_t vlen = strnlen(value, max - 1);
    out_printf(o, "%s=", name);
    if (o->overflow || o->size - o->len < vlen + 2) {
        o->overflow = true;
        return;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];
        o->buf[o->len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    o->buf[o->len++] = '\n';
    o->buf[o->len] = '\0';
}

/* time_out - time for the file: never negative */
static long long time_out(time_t t)
{
    return t < 0 ? 0 : (long long)t;
}

/* status_format - the text form into buf; length or -1 if too small */
int status_format(const struct status *st, char *buf, size_t bufsz)
{
    struct outbuf o = { buf, bufsz, 0, bufsz == 0 };

    if (bufsz > 0)
        buf[0] = '\0';
    out_printf(&o, "generation=%" PRIu64 "\n", st->generation);
    out_printf(&o, "synced_at=%lld\n", time_out(st->synced_at));
    out_printf(&o, "duration_ms=%" PRIu64 "\n", st->duration_ms);
    out_printf(&o, "users=%" PRIu64 "\n", st->users);
    out_printf(&o, "aliases=%" PRIu64 "\n", st->aliases);
    out_printf(&o, "domains=%" PRIu64 "\n", st->domains);
    out_printf(&o, "passwords=%" PRIu64 "\n", st->passwords);
    out_text(&o, "source", st->source, sizeof(st->source));
    out_text(&o, "checksum", st->checksum, sizeof(st->checksum));
    if (st->last_failure[0] != '\0' || st->last_failure_at != 0) {
        out_text(&o, "last_failure", st->last_failure, sizeof(st->last_failure));
        out_printf(&o, "last_failure_at=%lld\n", time_out(st->last_failure_at));
    }
    if (o.overflow || o.len > (size_t)INT32_MAX)
        return -1;
    return (int)o.len;
}

/* status_write - replaced atomically, readable by every reader */
int status_write(const char *path, const struct status *st, char *err, size_t errsz)
{
    char text[4096];
    int len = status_format(st, text, sizeof(text));

    if (len < 0)
        return status_errf(err, errsz, "%s: status too large to format", path);
    return atomicfile_replace(path, text, (size_t)len, 0644, (gid_t)-1, err, errsz);
}

/* status_is_stale - no sync, or none within stale_after seconds of now
 * (a sync stamped far in the future means a clock is wrong: stale too) */
bool status_is_stale(const struct status *st, time_t now, unsigned stale_after)
{
    if (st->synced_at <= 0)
        return true;
    if (now >= st->synced_at)
        return (uint64_t)(now - st->synced_at) > stale_after;
    return (uint64_t)(st->synced_at - now) > stale_after;
}
