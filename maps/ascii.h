#ifndef MAILMAPS_ASCII_H
#define MAILMAPS_ASCII_H

/* Case in protocol text folds ASCII letters only: addresses (Postfix
 * folds its queries so), map keys, DNs and attribute names, hex digits.
 * UTF-8 case folding is not ours to do, and the locale never applies
 * (tolower would fold Latin-1 bytes under some). */

#include <stddef.h>

/* ascii_lower - c with A-Z folded to a-z, every other byte as it is */
static inline char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ascii_lower_mem - fold len bytes of s in place */
void ascii_lower_mem(char *s, size_t len);

/* ascii_lower_copy - len bytes of in, folded, into out (no NUL added;
 * out may be in) */
void ascii_lower_copy(char *out, const char *in, size_t len);

#endif
