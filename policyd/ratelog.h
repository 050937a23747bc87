#ifndef MAILMAPS_POLICYD_RATELOG_H
#define MAILMAPS_POLICYD_RATELOG_H

/* At most RATELOG_BURST lines of one kind per RATELOG_WINDOW seconds, so
 * a client that sends junk a thousand times does not flood the log; the
 * lines held back are counted and reported when the window turns. */

#include <stdbool.h>
#include <time.h>

#define RATELOG_BURST 10
#define RATELOG_WINDOW 60

struct ratelog {
    time_t start;
    unsigned count;
    unsigned suppressed;
};

/* ratelog_allow - true when this line may be logged now; *suppressed_r
 * is set to the lines held back in the window that just ended (0 if none) */
bool ratelog_allow(struct ratelog *rl, time_t now, unsigned *suppressed_r);

#endif
