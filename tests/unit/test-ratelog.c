/* test-ratelog - at most RATELOG_BURST lines per RATELOG_WINDOW seconds,
 * the held-back lines counted and reported once when the window turns. */

#include <time.h>

#include "policyd/ratelog.h"
#include "tests/unit/tap.h"

/* allowed - how many of n lines at time now pass */
static unsigned allowed(struct ratelog *rl, time_t now, unsigned n, unsigned *reported_r)
{
    unsigned pass = 0, sup;
    *reported_r = 0;
    for (unsigned i = 0; i < n; i++) {
        if (ratelog_allow(rl, now, &sup))
            pass++;
        *reported_r += sup;
    }
    return pass;
}

int main(void)
{
    struct ratelog rl = { 0 };
    unsigned rep, sup;
    time_t t = 1000000;

    is_int(allowed(&rl, t, RATELOG_BURST, &rep), RATELOG_BURST, "a burst passes");
    is_int(rep, 0, "  nothing held back to report");
    is_int(allowed(&rl, t + 1, 5, &rep), 0, "more in the same window are held back");
    is_int(allowed(&rl, t + RATELOG_WINDOW - 1, 2, &rep), 0, "until the window's last second");
    is_int(rl.suppressed, 7, "  counted");

    ok(ratelog_allow(&rl, t + RATELOG_WINDOW, &sup), "a new window: allowed");
    is_int(sup, 7, "  reports the 7 held back");
    ok(ratelog_allow(&rl, t + RATELOG_WINDOW, &sup), "the next line");
    is_int(sup, 0, "  reports nothing again");

    /* a quiet window reports nothing */
    t += 10 * RATELOG_WINDOW;
    ok(ratelog_allow(&rl, t, &sup), "after a long quiet: allowed");
    is_int(sup, 0, "  nothing was held back");

    /* a clock that goes back (a wall clock step) starts a new window
     * instead of holding lines back for ever */
    struct ratelog back = { 0 };
    (void)allowed(&back, t, RATELOG_BURST + 3, &rep);
    ok(ratelog_allow(&back, t - 5, &sup), "the clock went back: a new window");
    is_int(sup, 3, "  reports what was held back");

    /* the very first call, at time 0 or any time, is allowed */
    struct ratelog fresh = { 0 };
    ok(ratelog_allow(&fresh, 0, &sup) && sup == 0, "time 0: allowed");
    return tap_done();
}
