#ifndef MAILMAPS_TAP_H
#define MAILMAPS_TAP_H

/* A minimal TAP producer for the unit tests: each check prints "ok N - …"
 * or "not ok N - …"; tap_done() prints the plan and returns the exit
 * status. tests/run counts the lines across all test programs. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

/* is_str - compare strings, print both on mismatch */
#define is_str(got, want, ...)                                              \
    do {                                                                    \
        const char *is_got_ = (got), *is_want_ = (want);                    \
        int is_eq_ = (is_got_ && is_want_) ? strcmp(is_got_, is_want_) == 0 \
                                           : is_got_ == is_want_;           \
        if (!tap_ok(is_eq_, __VA_ARGS__))                                   \
            printf("#   got:  '%s'\n#   want: '%s'\n",                      \
                   is_got_ ? is_got_ : "(null)",                            \
                   is_want_ ? is_want_ : "(null)");                         \
    } while (0)

/* is_int - compare integers, print both on mismatch */
#define is_int(got, want, ...)                                              \
    do {                                                                    \
        long long is_got_ = (long long)(got), is_want_ = (long long)(want); \
        if (!tap_ok(is_got_ == is_want_, __VA_ARGS__))                      \
            printf("#   got:  %lld\n#   want: %lld\n", is_got_, is_want_);  \
    } while (0)

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

__attribute__((unused))
static int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
