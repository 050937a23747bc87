#ifndef MAILMAPS_MONOTIME_H
#define MAILMAPS_MONOTIME_H

/* The one clock for durations, timeouts, pauses and back-offs:
 * CLOCK_MONOTONIC, which never follows the wall clock's steps (an NTP
 * correction must not end a pause early or stretch a timeout). Times are
 * since an arbitrary origin: only differences mean anything. */

#include <time.h>

/* monotime_now - the time now, for a later monotime_ms_since */
void monotime_now(struct timespec *ts);

/* monotime_ns / monotime_ms / monotime_s - the time now in nanoseconds,
 * milliseconds, seconds */
long long monotime_ns(void);
long long monotime_ms(void);
time_t monotime_s(void);

/* monotime_coarse_s - seconds, from CLOCK_MONOTONIC_COARSE: no clock
 * source read, for a check on every lookup that needs whole seconds */
time_t monotime_coarse_s(void);

/* monotime_ms_since / monotime_us_since - from then (monotime_now) to
 * now, truncated; never negative */
long long monotime_ms_since(const struct timespec *then);
long long monotime_us_since(const struct timespec *then);

/* monotime_span - a duration of ms milliseconds (>= 0) as a timespec, for
 * ppoll, sigtimedwait and the like */
struct timespec monotime_span(long long ms);

#endif
