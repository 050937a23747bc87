/* test-units - sizes, percentages, durations, ranges and size formatting,
 * the good and the malformed. */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "maps/units.h"
#include "tests/unit/tap.h"

#define K 1024ULL
#define M (1024ULL * K)
#define G (1024ULL * M)
#define T (1024ULL * G)

static const struct {
    const char *in;
    uint64_t unit;
    int rc;
    uint64_t want;
} sizes[] = {
    { "0", 1, 0, 0 },
    { "1024", 1, 0, 1024 },
    { "1024", 1024, 0, 1024 * K },
    { "10K", 1, 0, 10 * K },
    { "10k", 1, 0, 10 * K },
    { "500M", 1, 0, 500 * M },
    { "500m", 1024, 0, 500 * M },
    { "10G", 1, 0, 10 * G },
    { "10g", 1, 0, 10 * G },
    { "1T", 1, 0, T },
    { "1t", 1, 0, T },
    { "10GB", 1, 0, 10 * G },
    { "10gb", 1, 0, 10 * G },
    { "10Gb", 1, 0, 10 * G },
    { "1024kB", 1, 0, 1024 * K },
    { "10737418240B", 1, 0, 10 * G },
    { "10737418240B", 1024, 0, 10 * G },     /* B wins over the default unit */
    { "10737418240b", 1024, 0, 10 * G },
    { "0B", 1024, 0, 0 },
    { "007", 1, 0, 7 },
    { "18446744073709551615", 1, 0, UINT64_MAX },
    { "16777215T", 1, 0, 16777215ULL * T },
    /* malformed */
    { "", 1, -1, 0 },
    { "B", 1, -1, 0 },
    { "G", 1, -1, 0 },
    { "-1", 1, -1, 0 },
    { "+1", 1, -1, 0 },
    { " 1", 1, -1, 0 },
    { "1 ", 1, -1, 0 },
    { "1 G", 1, -1, 0 },
    { "1.5G", 1, -1, 0 },
    { "10X", 1, -1, 0 },
    { "10GG", 1, -1, 0 },
    { "10BB", 1, -1, 0 },
    { "10GiB", 1, -1, 0 },
    { "10P", 1, -1, 0 },
    { "0x10", 1, -1, 0 },
    { "1e3", 1, -1, 0 },
    { "10%", 1, -1, 0 },
    { "18446744073709551616", 1, -1, 0 },    /* 2^64 */
    { "99999999999999999999999", 1, -1, 0 },
    { "16777216T", 1, -1, 0 },               /* 2^64 */
    { "18014398509481984K", 1, -1, 0 },      /* 2^64 */
    { "18014398509481984", 1024, -1, 0 },    /* 2^64 by the default unit */
    { "10", 0, -1, 0 },                      /* no unit at all */
};

static const struct {
    const char *in;
    int rc;
    unsigned want;
} percents[] = {
    { "0", 0, 0 }, { "10", 0, 10 }, { "10%", 0, 10 }, { "100%", 0, 100 },
    { "0%", 0, 0 }, { "007%", 0, 7 },
    { "", -1, 0 }, { "%", -1, 0 }, { "101", -1, 0 }, { "101%", -1, 0 },
    { "-1%", -1, 0 }, { "10%%", -1, 0 }, { "10 %", -1, 0 }, { "1.5%", -1, 0 },
    { "10x", -1, 0 }, { "99999999999999999999999%", -1, 0 }, { " 10", -1, 0 },
};

static const struct {
    const char *in;
    int rc;
    unsigned want;
} durations[] = {
    { "0", 0, 0 }, { "600", 0, 600 }, { "90s", 0, 90 }, { "10m", 0, 600 },
    { "2h", 0, 7200 }, { "1d", 0, 86400 }, { "0d", 0, 0 },
    { "4294967295", 0, UINT_MAX }, { "4294967295s", 0, UINT_MAX },
    { "49710d", 0, 49710U * 86400U },
    { "", -1, 0 }, { "s", -1, 0 }, { "10M", -1, 0 }, { "10H", -1, 0 },
    { "10w", -1, 0 }, { "10ms", -1, 0 }, { "10 s", -1, 0 }, { "-1", -1, 0 },
    { "+1", -1, 0 }, { "1.5h", -1, 0 }, { "4294967296", -1, 0 },
    { "49711d", -1, 0 }, { "71582789m", -1, 0 }, { "71582788m", 0, 71582788U * 60U }, { "1193047h", -1, 0 },
    { "99999999999999999999999", -1, 0 },
};

static const struct {
    const char *in;
    uint64_t min, max;
    int rc;
    uint64_t want;
} uints[] = {
    { "0", 0, 10, 0, 0 }, { "10", 0, 10, 0, 10 }, { "5000", 1, 4294967294ULL, 0, 5000 },
    { "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
    { "0", 1, 10, -1, 0 }, { "11", 0, 10, -1, 0 }, { "", 0, 10, -1, 0 },
    { "-1", 0, 10, -1, 0 }, { "+1", 0, 10, -1, 0 }, { "1x", 0, 10, -1, 0 },
    { " 1", 0, 10, -1, 0 }, { "1 ", 0, 10, -1, 0 }, { "1K", 0, 100000, -1, 0 },
    { "18446744073709551616", 0, UINT64_MAX, -1, 0 },
    { "4294967295", 1, 4294967294ULL, -1, 0 },
};

static const struct {
    uint64_t in;
    const char *want;
} formats[] = {
    { 0, "0" }, { 1, "1" }, { 1023, "1023" }, { 1024, "1K" }, { 1536, "1536" },
    { 10 * K, "10K" }, { 500 * M, "500M" }, { 524288000, "500M" },
    { 10 * G, "10G" }, { 10737418240ULL, "10G" }, { T, "1T" }, { 1024 * T, "1024T" },
    { G + K, "1048577K" }, { G + 1, "1073741825" },
    { UINT64_MAX, "18446744073709551615" }, { 16777215ULL * T, "16777215T" },
};

int main(void)
{
    char buf[24];

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t v = 12345;
        const char *why = NULL;
        int rc = units_size_parse(sizes[i].in, sizes[i].unit, &v, &why);
        is_int(rc, sizes[i].rc, "size \"%s\" (unit %llu) %s", sizes[i].in,
               (unsigned long long)sizes[i].unit, sizes[i].rc == 0 ? "parses" : "is refused");
        if (rc == 0 && sizes[i].rc == 0)
            is_int(v, sizes[i].want, "size \"%s\" value", sizes[i].in);
        if (rc < 0)
            ok(why != NULL && why[0] != '\0', "size \"%s\": reason \"%s\"", sizes[i].in,
               why ? why : "(null)");
    }

    for (size_t i = 0; i < sizeof(percents) / sizeof(percents[0]); i++) {
        unsigned v = 12345;
        const char *why = NULL;
        int rc = units_percent_parse(percents[i].in, &v, &why);
        is_int(rc, percents[i].rc, "percent \"%s\"", percents[i].in);
        if (rc == 0)
            is_int(v, percents[i].want, "percent \"%s\" value", percents[i].in);
        else
            ok(why != NULL, "percent \"%s\": reason \"%s\"", percents[i].in, why ? why : "");
    }

    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        unsigned v = 12345;
        const char *why = NULL;
        int rc = units_duration_parse(durations[i].in, &v, &why);
        is_int(rc, durations[i].rc, "duration \"%s\"", durations[i].in);
        if (rc == 0)
            is_int(v, durations[i].want, "duration \"%s\" value", durations[i].in);
        else
            ok(why != NULL, "duration \"%s\": reason \"%s\"", durations[i].in, why ? why : "");
    }

    for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
        uint64_t v = 12345;
        const char *why = NULL;
        int rc = units_uint_parse(uints[i].in, uints[i].min, uints[i].max, &v, &why);
        is_int(rc, uints[i].rc, "uint \"%s\" in [%llu, %llu]", uints[i].in,
               (unsigned long long)uints[i].min, (unsigned long long)uints[i].max);
        if (rc == 0)
            is_int(v, uints[i].want, "uint \"%s\" value", uints[i].in);
        else
            ok(why != NULL, "uint \"%s\": reason \"%s\"", uints[i].in, why ? why : "");
    }

    /* NULL is an error, not a crash */
    {
        uint64_t v;
        unsigned u;
        const char *why = NULL;
        is_int(units_size_parse(NULL, 1, &v, &why), -1, "size NULL");
        is_int(units_percent_parse(NULL, &u, &why), -1, "percent NULL");
        is_int(units_duration_parse(NULL, &u, &why), -1, "duration NULL");
        is_int(units_uint_parse(NULL, 0, 1, &v, &why), -1, "uint NULL");
    }

    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        uint64_t back = 0;
        const char *why = NULL;
        is_str(units_size_format(formats[i].in, buf, sizeof(buf)), formats[i].want,
               "format %llu", (unsigned long long)formats[i].in);
        /* what it writes, the parser reads back */
        ok(units_size_parse(buf, 1, &back, &why) == 0 && back == formats[i].in,
           "format %llu parses back", (unsigned long long)formats[i].in);
    }

    /* a short buffer truncates but stays a string */
    {
        char small[4];
        units_size_format(123456789, small, sizeof(small));
        is_str(small, "123", "short buffer truncates safely");
    }

    /* every power-of-two multiple of each unit round trips */
    {
        int bad = 0;
        for (int s = 0; s < 64; s++) {
            uint64_t v = (uint64_t)1 << s, back = 0;
            const char *why;
            units_size_format(v, buf, sizeof(buf));
            if (units_size_parse(buf, 1, &back, &why) < 0 || back != v)
                bad++;
        }
        is_int(bad, 0, "2^0..2^63 format and parse back");
    }

    return tap_done();
}
