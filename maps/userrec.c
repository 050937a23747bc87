/* userrec - the users.cdb value: TAB separated name=value fields */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/userrec.h"

/* userrec_init - an empty record that owns nothing yet */
void userrec_init(struct userrec *rec)
{
    memset(rec, 0, sizeof(*rec));
}

/* userrec_free - release storage; rec is empty and reusable afterwards */
void userrec_free(struct userrec *rec)
{
    free(rec->buf);
    userrec_init(rec);
}

/* name_valid - [a-z0-9_]{1,USERREC_NAME_MAX} of len bytes */
static bool name_valid(const char *name, size_t len)
{
    if (len == 0 || len > USERREC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* buf_used - bytes of rec->buf taken by the fields: the last value ends
 * the storage, since fields are appended in order */
static size_t buf_used(const struct userrec *rec)
{
    const char *v;

    if (rec->count == 0)
        return 0;
    v = rec->field[rec->count - 1].value;
    return (size_t)(v - rec->buf) + strlen(v) + 1;
}

/* buf_reserve - room for more bytes; field pointers follow the storage */
static int buf_reserve(struct userrec *rec, size_t used, size_t more)
{
    size_t name_off[USERREC_FIELDS_MAX], value_off[USERREC_FIELDS_MAX];
    size_t want, size;
    char *p;

    if (more > SIZE_MAX - used)
        return -1;
    want = used + more;
    if (want <= rec->buf_size)
        return 0;
    /* offsets first: the old pointers are unusable once realloc moved them */
    for (size_t i = 0; i < rec->count; i++) {
        name_off[i] = (size_t)(rec->field[i].name - rec->buf);
        value_off[i] = (size_t)(rec->field[i].value - rec->buf);
    }
    size = rec->buf_size < 256 ? 256 : rec->buf_size;
    while (size < want)
        size = size > SIZE_MAX / 2 ? want : size * 2;
    if ((p = realloc(rec->buf, size)) == NULL)
        return -1;
    rec->buf = p;
    rec->buf_size = size;
    for (size_t i = 0; i < rec->count; i++) {
        rec->field[i].name = p + name_off[i];
        rec->field[i].value = p + value_off[i];
    }
    return 0;
}

/* userrec_add - append a copy of name=value */
int userrec_add(struct userrec *rec, const char *name, const char *value)
{
    size_t nlen, vlen, used;
    char *p;

    if (name == NULL || value == NULL || rec->count >= USERREC_FIELDS_MAX)
        return -1;
    nlen = strlen(name);
    vlen = strlen(value);
    if (!name_valid(name, nlen))
        return -1;
    used = buf_used(rec);
    if (vlen > SIZE_MAX - nlen - 2 || buf_reserve(rec, used, nlen + vlen + 2) < 0)
        return -1;
    p = rec->buf + used;
    memcpy(p, name, nlen + 1);
    memcpy(p + nlen + 1, value, vlen + 1);
    rec->field[rec->count].name = p;
    rec->field[rec->count].value = p + nlen + 1;
    rec->count++;
    return 0;
}

/* userrec_get - the first field called name */
const char *userrec_get(const struct userrec *rec, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < rec->count; i++) {
        if (strcmp(rec->field[i].name, name) == 0)
            return rec->field[i].value;
    }
    return NULL;
}

/* escape_of - the letter after '\\' that stands for c, or 0 */
static char escape_of(char c)
{
    switch (c) {
    case '\\': return '\\';
    case '\t': return 't';
    case '\n': return 'n';
    case '\r': return 'r';
    default: return 0;
    }
}

/* userrec_encoded_size - the exact length userrec_encode writes */
size_t userrec_encoded_size(const struct userrec *rec)
{
    size_t n = 0;

    for (size_t i = 0; i < rec->count; i++) {
        if (i > 0)
            n++;
        n += strlen(rec->field[i].name) + 1;
        for (const char *v = rec->field[i].value; *v != '\0'; v++)
            n += escape_of(*v) ? 2 : 1;
    }
    return n;
}

/* userrec_value_put - escape the runs between the rare escaped bytes */
char *userrec_value_put(char *o, const char *s)
{
    for (;;) {
        size_t k = strcspn(s, "\\\t\n\r");
        memcpy(o, s, k);
        o += k;
        s += k;
        if (*s == '\0')
            return o;
        *o++ = '\\';
        *o++ = escape_of(*s++);
    }
}

/* userrec_encode - the wire form; NUL terminated too when there is room */
long userrec_encode(const struct userrec *rec, char *buf, size_t bufsz)
{
    size_t need = userrec_encoded_size(rec);
    char *o = buf;

    if (need > bufsz || need > (size_t)LONG_MAX)
        return -1;
    for (size_t i = 0; i < rec->count; i++) {
        size_t nlen = strlen(rec->field[i].name);
        if (i > 0)
            *o++ = '\t';
        memcpy(o, rec->field[i].name, nlen);
        o += nlen;
        *o++ = '=';
        o = userrec_value_put(o, rec->field[i].value);
    }
    if (need < bufsz)
        *o = '\0';
    return (long)need;
}

/* field_decode - one name=value of len bytes into out (room for len + 1);
 * returns the bytes written, or -1 with a reason in *why */
static long field_decode(const char *f, size_t len, char *out, size_t *value_at,
                         const char **why)
{
    const char *eq = memchr(f, '=', len);
    size_t nlen, o;

    if (len == 0) {
        *why = "empty field";
        return -1;
    }
    if (eq == NULL) {
        *why = "field without '='";
        return -1;
    }
    nlen = (size_t)(eq - f);
    if (!name_valid(f, nlen)) {
        *why = nlen == 0 ? "empty field name" : "bad field name";
        return -1;
    }
    memcpy(out, f, nlen);
    out[nlen] = '\0';
    o = nlen + 1;
    *value_at = o;
    for (size_t i = nlen + 1; i < len; i++) {
        char c = f[i];
        /* the encoder never writes these raw; seeing one means corruption */
        if (c == '\0' || c == '\n' || c == '\r') {
            *why = c == '\0' ? "NUL byte in value" : "raw line break in value";
            return -1;
        }
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (++i == len) {
            *why = "backslash at end of value";
            return -1;
        }
        switch (f[i]) {
        case '\\': out[o++] = '\\'; break;
        case 't': out[o++] = '\t'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        default:
            *why = "unknown escape in value";
            return -1;
        }
    }
    out[o++] = '\0';
    return (long)o;
}

/* userrec_decode - strict inverse of userrec_encode */
int userrec_decode(struct userrec *rec, const char *data, size_t len,
                   char *err, size_t errsz)
{
    size_t start = 0, o = 0;

    rec->count = 0;
    if (len > 0 && data == NULL) {
        snprintf(err, errsz, "no data");
        return -1;
    }
    /* every field of n bytes decodes to at most n + 1 (two NULs for '=' and
     * the end), and fields are TAB separated: len + 1 in all */
    if (len == SIZE_MAX || buf_reserve(rec, 0, len + 1) < 0) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        size_t value_at;
        const char *why;
        long n;

        if (i < len && data[i] != '\t')
            continue;
        if (rec->count >= USERREC_FIELDS_MAX) {
            snprintf(err, errsz, "more than %d fields", USERREC_FIELDS_MAX);
            rec->count = 0;
            return -1;
        }
        n = field_decode(data + start, i - start, rec->buf + o, &value_at, &why);
        if (n < 0) {
            snprintf(err, errsz, "field %zu: %s", rec->count + 1, why);
            rec->count = 0;
            return -1;
        }
        rec->field[rec->count].name = rec->buf + o;
        rec->field[rec->count].value = rec->buf + o + value_at;
        rec->count++;
        o += (size_t)n;
        start = i + 1;
    }
    return 0;
}
