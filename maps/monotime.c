/* monotime - CLOCK_MONOTONIC and the arithmetic on it */

#include "maps/monotime.h"

/* monotime_now - clock_gettime cannot fail for this clock on Linux */
void monotime_now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

long long monotime_ns(void)
{
    struct timespec ts;
    monotime_now(&ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long monotime_ms(void)
{
    return monotime_ns() / 1000000;
}

time_t monotime_s(void)
{
    struct timespec ts;
    monotime_now(&ts);
    return ts.tv_sec;
}

time_t monotime_coarse_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/* since_ns - nanoseconds from then to now, 0 if then is later */
static long long since_ns(const struct timespec *then)
{
    struct timespec now;
    monotime_now(&now);
    long long ns = (long long)(now.tv_sec - then->tv_sec) * 1000000000LL +
                   (now.tv_nsec - then->tv_nsec);
    return ns > 0 ? ns : 0;
}

long long monotime_ms_since(const struct timespec *then)
{
    return since_ns(then) / 1000000;
}

long long monotime_us_since(const struct timespec *then)
{
    return since_ns(then) / 1000;
}

struct timespec monotime_span(long long ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    return ts;
}
