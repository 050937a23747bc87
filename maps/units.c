/* units - sizes, percentages, durations and bounded numbers from text */

#include <limits.h>
#include <stdio.h>

#include "maps/units.h"

/* digits_parse - the leading decimal digits of s into *v_r; the position
 * after them in *end_r. -1 when there is no digit or the value overflows. */
static int digits_parse(const char *s, uint64_t *v_r, const char **end_r,
                        const char **why)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9') {
        *why = *p == '\0' ? "empty value" : "not a number";
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *why = "number too large";
            return -1;
        }
        v = v * 10 + d;
    }
    *v_r = v;
    *end_r = p;
    return 0;
}

/* unit_shift - the power of 1024 a size suffix letter stands for, or -1 */
static int unit_shift(char c)
{
    switch (c) {
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    default: return -1;
    }
}

/* units_size_parse - a size with an optional K/M/G/T and optional B */
int units_size_parse(const char *s, uint64_t default_unit, uint64_t *bytes_r,
                     const char **why)
{
    uint64_t v, mult = default_unit;
    const char *p;
    int shift;

    if (s == NULL || default_unit == 0) {
        *why = "empty value";
        return -1;
    }
    if (digits_parse(s, &v, &p, why) < 0)
        return -1;
    /* "10G" and "10GB" are the same; a lone "B" means plain bytes, which
     * is how Dovecot writes an exact byte count ("10737418240B") */
    if ((shift = unit_shift(*p)) >= 0) {
        mult = (uint64_t)1 << shift;
        p++;
        if (*p == 'B' || *p == 'b')
            p++;
    } else if (*p == 'B' || *p == 'b') {
        mult = 1;
        p++;
    }
    if (*p != '\0') {
        *why = "unknown size unit (use K, M, G, T or B)";
        return -1;
    }
    if (v != 0 && mult > UINT64_MAX / v) {
        *why = "size too large";
        return -1;
    }
    *bytes_r = v * mult;
    return 0;
}

/* units_percent_parse - an integer percentage, "%" optional */
int units_percent_parse(const char *s, unsigned *percent_r, const char **why)
{
    uint64_t v;
    const char *p;

    if (s == NULL) {
        *why = "empty value";
        return -1;
    }
    if (digits_parse(s, &v, &p, why) < 0)
        return -1;
    if (*p == '%')
        p++;
    if (*p != '\0') {
        *why = "not a percentage";
        return -1;
    }
    if (v > 100) {
        *why = "percentage above 100";
        return -1;
    }
    *percent_r = (unsigned)v;
    return 0;
}

/* units_duration_parse - seconds, or a count of s/m/h/d */
int units_duration_parse(const char *s, unsigned *seconds_r, const char **why)
{
    uint64_t v, mult = 1;
    const char *p;

    if (s == NULL) {
        *why = "empty value";
        return -1;
    }
    if (digits_parse(s, &v, &p, why) < 0)
        return -1;
    /* lower case only: "10M" reads like megabytes, so refuse the doubt */
    switch (*p) {
    case '\0': break;
    case 's': mult = 1; p++; break;
    case 'm': mult = 60; p++; break;
    case 'h': mult = 3600; p++; break;
    case 'd': mult = 86400; p++; break;
    default: break;
    }
    if (*p != '\0') {
        *why = "unknown time unit (use s, m, h or d)";
        return -1;
    }
    if (v > UINT_MAX / mult) {
        *why = "duration too long";
        return -1;
    }
    *seconds_r = (unsigned)(v * mult);
    return 0;
}

/* units_uint_parse - a plain decimal number within [min, max] */
int units_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *v_r,
                     const char **why)
{
    uint64_t v;
    const char *p;

    if (s == NULL) {
        *why = "empty value";
        return -1;
    }
    if (digits_parse(s, &v, &p, why) < 0) {
        if (*s == '-')
            *why = "negative number";
        return -1;
    }
    if (*p != '\0') {
        *why = "not a number";
        return -1;
    }
    if (v < min || v > max) {
        *why = "number out of range";
        return -1;
    }
    *v_r = v;
    return 0;
}

/* units_size_format - the largest unit that divides bytes exactly */
char *units_size_format(uint64_t bytes, char *buf, unsigned bufsize)
{
    static const char letters[] = "KMGT";
    int shift = 0;

    if (buf == NULL || bufsize == 0)
        return buf;
    if (bytes != 0) {
        for (int s = 40; s >= 10; s -= 10) {
            if ((bytes & (((uint64_t)1 << s) - 1)) == 0) {
                shift = s;
                break;
            }
        }
    }
    if (shift == 0)
        snprintf(buf, bufsize, "%llu", (unsigned long long)bytes);
    else
        snprintf(buf, bufsize, "%llu%c", (unsigned long long)(bytes >> shift),
                 letters[shift / 10 - 1]);
    return buf;
}
