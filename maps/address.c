/* address - mail addresses normalised and split the way the maps key them */

#include <string.h>
#include <strings.h>

#include "maps/address.h"
#include "maps/ascii.h"

#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_LABEL_MAX 63

/* address_utf8_valid - well-formed UTF-8: no overlong forms, surrogates or
 * code points above U+10FFFF, and no NUL byte */
bool address_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        unsigned long cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; /* continuation byte, C0/C1 overlong lead, > F4 */
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n + 1;
    }
    return true;
}

/* address_lower - addresses fold as all protocol text does (ascii.h) */
void address_lower(char *s, size_t len)
{
    ascii_lower_mem(s, len);
}

/* label_char - a byte allowed in a domain label */
static bool label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

/* c1_control - p[i] starts a UTF-8 C1 control (U+0080..U+009F) */
static bool c1_control(const unsigned char *p, size_t i, size_t len)
{
    return p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f;
}

/* address_domain_valid - a domain that DNS and Postfix could plausibly know */
bool address_domain_valid(const char *domain, size_t len)
{
    size_t start = 0;

    if (domain == NULL || len == 0 || len > ADDRESS_DOMAIN_MAX ||
        !address_utf8_valid(domain, len))
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && domain[i] != '.') {
            if (!label_char((unsigned char)domain[i]) ||
                c1_control((const unsigned char *)domain, i, len))
                return false;
            continue;
        }
        /* end of a label: catches "", ".x", "x.", "x..y" and edge hyphens */
        size_t n = i - start;
        if (n == 0 || n > ADDRESS_LABEL_MAX || domain[start] == '-' ||
            domain[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

/* bad_byte - why a byte cannot be part of an address key, or NULL. The
 * specials would break list values (',') or are only valid quoted, and the
 * maps hold the unquoted form. */
static const char *bad_byte(const unsigned char *p, size_t i, size_t len)
{
    unsigned char c = p[i];

    if (c == 0)
        return "NUL byte in address";
    if (c == ' ')
        return "whitespace in address";
    if (c < 0x20 || c == 0x7f)
        return "control character in address";
    if (c1_control(p, i, len))
        return "control character in address";
    if (c < 0x80 && strchr(",<>()[];:\\\"", c) != NULL)
        return "character not allowed in an address";
    return NULL;
}

/* unsplittable - Postfix's split_addr() exceptions: these local parts keep
 * their delimiter */
static bool unsplittable(const char *local, size_t len, const char *delimiters)
{
    static const char *const names[] = { "postmaster", "mailer-daemon", "double-bounce" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == len && strncasecmp(local, names[i], len) == 0)
            return true;
    }
    if (strchr(delimiters, '-') != NULL) {
        if (len >= 6 && strncasecmp(local, "owner-", 6) == 0)
            return true;
        if (len > 8 && strncasecmp(local + len - 8, "-request", 8) == 0)
            return true;
    }
    /* an old-style source route ("a@b"@c) is never split */
    return memchr(local, '@', len) != NULL;
}

/* address_parse - validate, lower-case and split one address */
int address_parse(const char *s, size_t len, const char *delimiters,
                  struct address *addr_r, const char **why)
{
    const unsigned char *p = (const unsigned char *)s;
    const char *at = NULL;
    size_t local_len, domain_len, ext_at;
    char buf[ADDRESS_MAX + 1];

    memset(addr_r, 0, sizeof(*addr_r));
    if (s == NULL || len == 0) {
        *why = "empty address";
        return -1;
    }
    if (len > ADDRESS_MAX) {
        *why = "address too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        const char *bad = bad_byte(p, i, len);
        if (bad != NULL) {
            *why = bad;
            return -1;
        }
        if (s[i] == '@')
            at = s + i;
    }
    if (!address_utf8_valid(s, len)) {
        *why = "invalid UTF-8 in address";
        return -1;
    }
    if (at == NULL) {
        *why = "no @ in address";
        return -1;
    }
    local_len = (size_t)(at - s);
    domain_len = len - local_len - 1;
    if (local_len == 0) {
        *why = "empty local part";
        return -1;
    }
    if (domain_len == 0) {
        *why = "empty domain";
        return -1;
    }
    if (!address_domain_valid(at + 1, domain_len)) {
        *why = "invalid domain";
        return -1;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';
    address_lower(buf, len);

    /* Postfix: the first delimiter splits, unless it starts the local part
     * ("+alice" and "+a+b" are plain local parts there) */
    ext_at = local_len;
    if (delimiters != NULL && delimiters[0] != '\0' &&
        !unsplittable(buf, local_len, delimiters)) {
        for (size_t i = 0; i < local_len; i++) {
            if (strchr(delimiters, buf[i]) != NULL) {
                ext_at = i == 0 ? local_len : i;
                break;
            }
        }
    }
    if (ext_at < local_len) {
        addr_r->has_extension = true;
        memcpy(addr_r->extension, buf + ext_at + 1, local_len - ext_at - 1);
        addr_r->extension[local_len - ext_at - 1] = '\0';
    }
    memcpy(addr_r->local, buf, ext_at);
    addr_r->local[ext_at] = '\0';
    memcpy(addr_r->domain, buf + local_len + 1, domain_len);
    addr_r->domain[domain_len] = '\0';
    memcpy(addr_r->full, buf, ext_at);
    memcpy(addr_r->full + ext_at, buf + local_len, domain_len + 1);
    addr_r->full[ext_at + domain_len + 1] = '\0';
    return 0;
}
