/* test-daemon - the retry back-off of both daemon loops, the "log a
 * failure once per change" rule, and daemon_wait's early wake-up. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ldap-sync/daemon.h"
#include "maps/monotime.h"
#include "tests/unit/tap.h"

/* test_backoff - 10, 20, 40 ... capped, and the cap itself may move */
static void test_backoff(void)
{
    static const struct {
        unsigned cap;
        unsigned want[8];
    } cases[] = {
        { 3600, { 10, 20, 40, 80, 160, 320, 640, 1280 } },
        { 300, { 10, 20, 40, 80, 160, 300, 300, 300 } },
        { 60, { 10, 20, 40, 60, 60, 60, 60, 60 } },
        { 10, { 10, 10, 10, 10, 10, 10, 10, 10 } },
        { 5, { 5, 5, 5, 5, 5, 5, 5, 5 } },     /* a cap below the first step */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned backoff = DAEMON_BACKOFF_FIRST, got[8];
        for (int i = 0; i < 8; i++)
            got[i] = daemon_backoff(&backoff, cases[c].cap);
        int same = 1;
        for (int i = 0; i < 8; i++)
            if (got[i] != cases[c].want[i])
                same = 0;
        if (!ok(same, "back-off capped at %u", cases[c].cap))
            for (int i = 0; i < 8; i++)
                diag("step %d: got %u, want %u", i, got[i], cases[c].want[i]);
    }
    /* the doubling stops at the cap: no overflow however long it fails */
    unsigned backoff = DAEMON_BACKOFF_FIRST;
    for (int i = 0; i < 100; i++)
        (void)daemon_backoff(&backoff, 300);
    is_int(daemon_backoff(&backoff, 300), 300, "after 100 failures: still the cap");
    ok(backoff < 2 * 300 + 1, "the stored delay stays bounded (%u)", backoff);
    /* a caller that resets (success) starts again at the first step */
    backoff = DAEMON_BACKOFF_FIRST;
    is_int(daemon_backoff(&backoff, 300), DAEMON_BACKOFF_FIRST, "reset: the first step again");
}

/* test_failure_log - news is the first failure or a new reason */
static void test_failure_log(void)
{
    struct failure_log fl = { 0 };

    ok(!failure_log_ok(&fl), "a success while not failing is no news");
    ok(failure_log_failed(&fl, "server down"), "the first failure is news");
    ok(!failure_log_failed(&fl, "server down"), "the same again is not");
    ok(failure_log_failed(&fl, "bind refused"), "another reason is");
    ok(!failure_log_failed(&fl, "bind refused"), "and then not again");
    ok(failure_log_ok(&fl), "a success ends the spell: news");
    ok(!failure_log_ok(&fl), "a second success is not");
    ok(failure_log_failed(&fl, "bind refused"), "the old reason after a success is news");

    char longer[2000];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ok(failure_log_failed(&fl, longer), "a reason longer than the buffer");
    is_int(strlen(fl.reason), sizeof(fl.reason) - 1, "kept cut to the buffer");
}

/* waited_ms - how long daemon_wait(seconds, ...) took */
static long long waited_ms(unsigned seconds, volatile sig_atomic_t *stop,
                           volatile sig_atomic_t *wake)
{
    struct timespec t0;

    monotime_now(&t0);
    daemon_wait(seconds, stop, wake);
    return monotime_ms_since(&t0);
}

/* test_wait - a flag set before the wait ends it at once */
static void test_wait(void)
{
    volatile sig_atomic_t stop = 1, wake = 0;

    ok(waited_ms(30, &stop, &wake) < 1000, "stop already set: no wait");
    stop = 0;
    wake = 1;
    ok(waited_ms(30, &stop, &wake) < 1000, "wake already set: no wait");
    wake = 0;
    long long ms = waited_ms(1, &stop, NULL);
    ok(ms >= 990 && ms < 10000, "no flag: the whole second (%lld ms)", ms);
    ok(waited_ms(0, &stop, &wake) < 500, "zero seconds: back at once");
}

/* test_warn_entry - one line naming the DN, on stderr here */
static void test_warn_entry(void)
{
    char path[] = "/tmp/test-daemon.XXXXXX", buf[256] = "";
    int fd = mkstemp(path), saved = dup(2);

    fflush(stderr);
    dup2(fd, 2);
    daemon_warn_entry(NULL, "uid=bob,dc=example,dc=com", "mail: not an address");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    ok(strstr(buf, "warning: entry uid=bob,dc=example,dc=com: mail: not an address\n") != NULL &&
       strchr(buf, '\n') == buf + strlen(buf) - 1, "one warning line naming the DN: %s", buf);
}

int main(void)
{
    test_backoff();
    test_failure_log();
    test_wait();
    test_warn_entry();
    return tap_done();
}
