/* ratelog - bounded log lines per kind and time window */

#include "policyd/ratelog.h"

/* ratelog_allow - count this line into the current window */
bool ratelog_allow(struct ratelog *rl, time_t now, unsigned *suppressed_r)
{
    *suppressed_r = 0;
    if (now - rl->start >= RATELOG_WINDOW || now < rl->start) {
        *suppressed_r = rl->suppressed;
        rl->start = now;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < RATELOG_BURST) {
        rl->count++;
        return true;
    }
    rl->suppressed++;
    return false;
}
