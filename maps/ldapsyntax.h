#ifndef MAILMAPS_LDAPSYNTAX_H
#define MAILMAPS_LDAPSYNTAX_H

/* LDAP strings without libldap: attribute descriptions (RFC 4512), search
 * filters (RFC 4515: parsed, checked, escaped) and the evaluation of a
 * filter of the gating subset against an entry. One implementation for the
 * configuration check, the searches, postfix-config and the sync.
 *
 * A filter is parsed once into one allocation; evaluating it allocates
 * nothing. Only the subset the gating settings accept can be evaluated:
 * equality (ASCII case-insensitive: the sync has no schema, and the flags
 * these filters test are case-insensitive strings such as enabledService),
 * presence, '&', '|', '!'. An attribute the entry lacks makes an equality
 * false (LDAP's Undefined would need the schema), so "(!(a=x))" holds for an
 * entry without a. */

#include <stdbool.h>
#include <stddef.h>

#include "maps/entry.h"

#define LDAPSYNTAX_DEPTH_MAX 32   /* nesting of '&', '|', '!' */

/* ldapsyntax_attr_valid - an attribute description that may go into a
 * filter: keystring or numeric OID, then ";option"s; at most 256 bytes */
bool ldapsyntax_attr_valid(const char *name);

/* ldapsyntax_escape - in[0..len) as an RFC 4515 assertion value: '*', '(',
 * ')', '\' and NUL become \2a \28 \29 \5c \00, every other byte (UTF-8
 * included) stays. Writes a NUL-terminated result into out; returns its
 * length, or -1 when it does not fit (out is then ""). */
int ldapsyntax_escape(const char *in, size_t len, char *out, size_t outsz);

struct ldapsyntax_filter;

/* ldapsyntax_filter_parse - text (NUL terminated) as one RFC 4515 filter:
 * "(...)" with nothing after it; escapes are "\" and two hex digits (and,
 * as libldap takes them, "\(", "\)", "\*", "\\"). With gate, only the
 * evaluable subset (above) is accepted. Malloc'ed (ldapsyntax_filter_free),
 * or NULL with a reason in why (also for no memory). */
struct ldapsyntax_filter *ldapsyntax_filter_parse(const char *text, bool gate, char *why,
                                                  size_t whysz);
void ldapsyntax_filter_free(struct ldapsyntax_filter *f);

/* ldapsyntax_filter_check - text parses (with gate: within the subset);
 * 0, or -1 with a reason */
int ldapsyntax_filter_check(const char *text, bool gate, char *why, size_t whysz);

/* ldapsyntax_filter_match - f (parsed with gate) holds for entry e. A
 * filter parsed without gate that uses more than the subset never holds. */
bool ldapsyntax_filter_match(const struct ldapsyntax_filter *f, const struct entry *e);

/* ldapsyntax_filter_attr_count / ldapsyntax_filter_attr - the attribute
 * descriptions f names, each once (compared without case), in the order
 * they first appear; strings belong to f. NULL for i out of range. */
size_t ldapsyntax_filter_attr_count(const struct ldapsyntax_filter *f);
const char *ldapsyntax_filter_attr(const struct ldapsyntax_filter *f, size_t i);

#endif
