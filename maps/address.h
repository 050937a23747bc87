#ifndef MAILMAPS_ADDRESS_H
#define MAILMAPS_ADDRESS_H

/* Mail addresses as the maps key them: lower-cased (ASCII only; UTF-8 bytes
 * are kept), split at the last '@', with an optional extension after the
 * first recipient delimiter of the local part (Postfix semantics: any one of
 * the characters in the delimiter set). */

#include <stdbool.h>
#include <stddef.h>

#define ADDRESS_MAX 320   /* 64 local + '@' + 255 domain */

struct address {
    char full[ADDRESS_MAX + 1];  /* normalised local@domain, extension removed */
    char local[ADDRESS_MAX + 1]; /* local part without extension */
    char domain[ADDRESS_MAX + 1];
    char extension[ADDRESS_MAX + 1]; /* "" when none */
    bool has_extension;
};

/* address_parse - normalise and split s (length len). delimiters may be NULL
 * or "" (no extensions). Rejects: empty local part or domain, no '@',
 * whitespace, control characters (C0, DEL, C1), NUL bytes, invalid UTF-8,
 * the specials , < > ( ) [ ] ; : \ " (valid only quoted; the maps hold the
 * unquoted form and list values are comma separated), input longer than
 * ADDRESS_MAX bytes, and a domain that address_domain_valid refuses. The
 * local part has no limit of its own (RFC 5321 says 64, Postfix delivers
 * longer ones, and an extension makes it longer still).
 * Extensions as Postfix's split_addr(): none when the local part starts with
 * a delimiter, contains '@' (split was at the last '@'), is postmaster,
 * mailer-daemon or double-bounce, or (with '-' in the set) starts with
 * "owner-" or ends with "-request". "alice+@d" has an empty extension.
 * Returns 0 or -1 with a reason in *why (static string). */
int address_parse(const char *s, size_t len, const char *delimiters,
                  struct address *addr_r, const char **why);

/* address_lower - lower-case ASCII letters of s in place */
void address_lower(char *s, size_t len);

/* address_domain_valid - a plausible domain: labels of [a-z0-9-_] (and
 * UTF-8), no empty label, not starting or ending with '.'; labels of at most
 * 63 bytes that neither start nor end with '-', at most 255 bytes in all. */
bool address_domain_valid(const char *domain, size_t len);

/* address_utf8_valid - well-formed UTF-8 (no overlong forms, surrogates,
 * code points above U+10FFFF or NUL bytes) */
bool address_utf8_valid(const char *s, size_t len);

#endif
