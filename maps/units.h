#ifndef MAILMAPS_UNITS_H
#define MAILMAPS_UNITS_H

/* Parsers for the small value types that settings, quota rules and LDAP
 * attributes share: sizes, percentages, durations, unsigned numbers.
 * All take the whole string (no trailing junk, no leading blanks) and return
 * 0 on success or -1 with a short reason in *why (a static string). */

#include <stdint.h>

/* units_size_parse - "1024", "10K", "500M", "10G", "1T" (powers of 1024,
 * either case; an optional trailing "B" is accepted: "10GB", "10737418240B",
 * and "B" alone means bytes whatever default_unit says). No sign.
 * default_unit multiplies a number without suffix (1 for bytes, 1024 for
 * LDAP's mailQuota in kilobytes). Overflow is an error. */
int units_size_parse(const char *s, uint64_t default_unit, uint64_t *bytes_r,
                     const char **why);

/* units_percent_parse - "10%" or "10" (0..100, integer) */
int units_percent_parse(const char *s, unsigned *percent_r, const char **why);

/* units_duration_parse - seconds: "600", "90s", "10m", "2h", "1d" (units
 * lower case only: "10M" would read as megabytes); at most UINT_MAX */
int units_duration_parse(const char *s, unsigned *seconds_r, const char **why);

/* units_uint_parse - decimal unsigned number in [min, max] */
int units_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *v_r,
                     const char **why);

/* units_size_format - bytes as the shortest exact "10G"/"500M"/"1234" form;
 * buf of at least 24 bytes. Returns buf. */
char *units_size_format(uint64_t bytes, char *buf, unsigned bufsize);

#endif
