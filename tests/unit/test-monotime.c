/* test-monotime - the clock helpers agree with each other, move forward,
 * and a duration is never negative. */

#include <time.h>
#include <unistd.h>

#include "maps/monotime.h"
#include "tests/unit/tap.h"

int main(void)
{
    struct timespec t0, future;

    monotime_now(&t0);
    long long ns = monotime_ns(), ms = monotime_ms();
    time_t s = monotime_s();
    ok(ms >= ns / 1000000 && ms - ns / 1000000 < 1000, "ms and ns agree");
    ok(s >= ms / 1000 - 1 && s <= ms / 1000 + 1, "s and ms agree");
    time_t coarse = monotime_coarse_s();
    ok(coarse >= s - 1 && coarse <= s + 1, "the coarse clock is the same clock");

    usleep(20000);
    long long since = monotime_ms_since(&t0);
    ok(since >= 20 && since < 5000, "20 ms later: %lld ms since", since);
    long long us = monotime_us_since(&t0);
    ok(us >= 20000 && us / 1000 >= since, "in microseconds: %lld", us);
    ok(monotime_ns() > ns, "the clock moved forward");

    future = t0;
    future.tv_sec += 3600;
    is_int(monotime_ms_since(&future), 0, "a time in the future: 0, not negative");
    is_int(monotime_us_since(&future), 0, "  in microseconds too");

    struct timespec span = monotime_span(2500);
    ok(span.tv_sec == 2 && span.tv_nsec == 500000000L, "2500 ms: 2 s and 500000000 ns");
    span = monotime_span(0);
    ok(span.tv_sec == 0 && span.tv_nsec == 0, "0 ms: zero");
    span = monotime_span(999);
    ok(span.tv_sec == 0 && span.tv_nsec == 999000000L, "999 ms: under a second");

    struct timespec zero = { 0, 0 };
    ok(monotime_ms_since(&zero) >= ms, "since the origin: the whole clock");
    return tap_done();
}
