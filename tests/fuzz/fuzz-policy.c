/* fuzz-policy - the Postfix policy request parser on fuzz bytes, fed the
 * way the daemon feeds it: whole, and again in chunks cut at points the
 * input's first bytes choose (down to one byte at a time). Checked:
 * - the parser never reads past what it is given (each window is an exact
 *   copy, so ASan sees an over-read) and never consumes more than that;
 * - a completed request ends just after a newline; an answer of "more
 *   input" leaves at most one partial line, without a newline, within
 *   POLICY_LINE_MAX; an error has a reason;
 * - kept values hold no newline or NUL, fit their buffers, and
 *   policy_request_get gives "" for absent and too long ones;
 * - whole and chunked feeding yield the same requests, and both end in
 *   an error or neither does. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/policy.h"

#define REQS_MAX 64   /* requests compared per input */

struct outcome {
    struct policy_request req[REQS_MAX];
    size_t nreq;
    int error;
};

/* check_request - the invariants of one completed request */
static void check_request(const struct policy_request *r)
{
    if (r->attrs > POLICY_ATTRS_MAX)
        abort();
    for (int a = 0; a < POLICY_A_COUNT; a++) {
        const char *v = policy_request_get(r, (enum policy_attr)a);
        size_t n = strnlen(r->value[a], POLICY_VALUE_MAX);
        if (n >= POLICY_VALUE_MAX || strchr(v, '\n') != NULL)
            abort();
        if ((!r->seen[a] || r->too_long[a]) && v[0] != '\0')
            abort();
        if (r->too_long[a] && !r->seen[a])
            abort();
    }
    if (policy_request_get(r, POLICY_A_COUNT)[0] != '\0')
        abort();
}

/* run - feed data[0..size) in chunks; chunk sizes from seed (0: whole) */
static void run(const uint8_t *data, size_t size, uint64_t seed, struct outcome *out)
{
    struct policy_request *req = malloc(sizeof(*req));
    size_t done = 0, avail = 0;

    if (req == NULL)
        abort();
    policy_request_reset(req);
    memset(out, 0, sizeof(*out));
    while (done < size || avail < size) {
        /* more bytes arrive */
        if (seed == 0) {
            avail = size;
        } else {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            size_t chunk = 1 + (size_t)(seed % ((seed >> 60) < 4 ? 4 : 3000));
            avail = size - avail < chunk ? size : avail + chunk;
        }
        for (;;) {
            size_t len = avail - done, used = 12345;
            const char *why = NULL;
            char *win = malloc(len ? len : 1);
            if (win == NULL)
                abort();
            memcpy(win, data + done, len);
            int rc = policy_request_feed(req, win, len, &used, &why);
            if (rc < 0) {
                if (why == NULL || why[0] == '\0')
                    abort();
                free(win);
                out->error = 1;
                free(req);
                return;
            }
            if (used > len)
                abort();
            if (rc == 1) {
                if (used == 0 || win[used - 1] != '\n')
                    abort();
                check_request(req);
                if (out->nreq < REQS_MAX)
                    out->req[out->nreq++] = *req;
                policy_request_reset(req);
            } else if (rc == 0) {
                if (memchr(win + used, '\n', len - used) != NULL || len - used > POLICY_LINE_MAX)
                    abort();
            } else {
                abort();
            }
            free(win);
            done += used;
            if (rc == 0)
                break;
        }
        if (avail == size)
            break;
    }
    free(req);
}

/* same_request - equal kept attributes */
static int same_request(const struct policy_request *a, const struct policy_request *b)
{
    if (a->attrs != b->attrs)
        return 0;
    for (int i = 0; i < POLICY_A_COUNT; i++) {
        if (a->seen[i] != b->seen[i] || a->too_long[i] != b->too_long[i])
            return 0;
        if (strcmp(policy_request_get(a, (enum policy_attr)i),
                   policy_request_get(b, (enum policy_attr)i)) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct outcome whole, chunked;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;

    if (size > 65536)
        return 0;
    for (size_t i = 0; i < 8 && i < size; i++)
        seed = seed * 131 + data[i];
    run(data, size, 0, &whole);
    run(data, size, seed | 1, &chunked);
    if (whole.error != chunked.error || whole.nreq != chunked.nreq)
        abort();
    for (size_t i = 0; i < whole.nreq; i++) {
        if (!same_request(&whole.req[i], &chunked.req[i]))
            abort();
    }
    return 0;
}
