/* conn - one client: read, parse, answer, write */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "maps/monotime.h"
#include "policyd/conn.h"

/* conn_new - buffers included: a connection never allocates again */
struct conn *conn_new(int rfd, int wfd, const char *peer)
{
    struct conn *c = malloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    memset(c, 0, offsetof(struct conn, in));
    c->rfd = rfd;
    c->wfd = wfd;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    policy_request_reset(&c->req);
    return c;
}

/* conn_free - a job still out is dropped when it comes back */
void conn_free(struct conn *c)
{
    if (c->job != NULL)
        c->job->owner = NULL;
    free(c);
}

bool conn_mid_request(const struct conn *c)
{
    return c->in_len > 0 || c->req.attrs > 0 || c->job != NULL;
}

bool conn_has_output(const struct conn *c)
{
    return c->out_len > c->out_off;
}

/* bad_client - one rate-limited line, then the connection goes */
static enum conn_status bad_client(struct conn *c, struct policyd *pd, time_t now, const char *why)
{
    unsigned suppressed;
    if (ratelog_allow(&pd->rl_client, now, &suppressed)) {
        if (suppressed > 0)
            log_warnx("%u similar warnings suppressed", suppressed);
        log_warnx("client %s: %s; connection closed", c->peer, why);
    }
    return CONN_CLOSE;
}

/* flush - write what is pending; EAGAIN leaves the rest for EPOLLOUT */
static enum conn_status flush(struct conn *c, time_t now)
{
    /* a new batch of answers: the client has the request timeout to take it */
    if (c->out_off == 0)
        c->out_since = now;
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->wfd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return CONN_OK;
        if (n <= 0)
            return CONN_CLOSE; /* the client went away: nothing to report */
        c->out_off += (size_t)n;
        c->last = now;
    }
    c->out_off = c->out_len = 0;
    return CONN_OK;
}

/* answer - the request just parsed: into the output now, or to the pool
 * (c->job set); -1 when the pool cannot take it (out of memory) */
static int answer(struct conn *c, struct policyd *pd)
{
    size_t n = 0;
    char *out = c->out + c->out_len;
    size_t room = CONN_OUT_MAX - c->out_len;
    int lane;

    monotime_now(&c->t0);
    if (pd->pool == NULL) {
        n = policyd_answer(pd, &c->req, out, room);
    } else if (policyd_answer_now(pd, &c->req, out, room, &n, &lane) > 0) {
        log_debug("client %s: recipient=<%s> waits for a worker thread (%s)", c->peer,
                  policy_request_get(&c->req, POLICY_A_RECIPIENT),
                  lane == POOL_LANE_LDAP ? "LDAP" : "usage");
        c->job = pool_submit(pd->pool, &c->req, (enum pool_lane)lane, c);
        if (c->job == NULL)
            return -1;
    }
    c->out_len += n;
    return 0;
}

/* process - answer every complete request, flushing whenever the output
 * buffer fills; stops when input runs out, the client stops reading, or
 * an answer must wait for the pool */
static enum conn_status process(struct conn *c, struct policyd *pd, time_t now)
{
    for (;;) {
        bool more = false;
        while (c->job == NULL && c->out_len + POLICY_REPLY_MAX <= CONN_OUT_MAX) {
            size_t used;
            const char *why = NULL;
            int rc = policy_request_feed(&c->req, c->in, c->in_len, &used, &why);
            if (rc < 0)
                return bad_client(c, pd, now, why);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            if (rc == 0)
                break;
            if (answer(c, pd) < 0)
                return bad_client(c, pd, now, "out of memory for a request");
            policy_request_reset(&c->req);
            /* what is left of the input is the next request: its time
             * starts now (it may have come earlier, never later) */
            c->req_start = now;
            more = true;
        }
        if (flush(c, now) == CONN_CLOSE)
            return CONN_CLOSE;
        /* stopped for room and all of it went out: there may be more */
        if (c->job != NULL || !more || conn_has_output(c) || c->in_len == 0)
            break;
    }
    if (c->eof && c->job == NULL && !conn_has_output(c)) {
        if (conn_mid_request(c))
            log_debug("client %s: disconnected in the middle of a request", c->peer);
        return CONN_CLOSE;
    }
    return CONN_OK;
}

/* conn_on_done - the pool's answer in order, then the rest */
enum conn_status conn_on_done(struct conn *c, struct policyd *pd, time_t now)
{
    struct pool_job *j = c->job;
    c->job = NULL;
    c->out_len += policyd_reply(pd, &j->req, &j->d, &c->t0, c->out + c->out_len,
                                CONN_OUT_MAX - c->out_len);
    pool_job_free(j);
    return process(c, pd, now);
}

/* conn_on_read - one read (level-triggered epoll calls again if more) */
enum conn_status conn_on_read(struct conn *c, struct policyd *pd, time_t now)
{
    /* answers not taken yet, or one not ready: do not read more */
    if (conn_has_output(c) || c->job != NULL)
        return CONN_OK;
    if (c->in_len >= CONN_IN_MAX)
        return bad_client(c, pd, now, "input buffer full");
    ssize_t n = read(c->rfd, c->in + c->in_len, CONN_IN_MAX - c->in_len);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return CONN_OK;
        return CONN_CLOSE;
    }
    if (n == 0) {
        c->eof = true;
    } else {
        /* the request timeout counts from a request's first byte */
        if (!conn_mid_request(c))
            c->req_start = now;
        c->last = now;
    }
    c->in_len += (size_t)n;
    return process(c, pd, now);
}

/* conn_on_write - the client reads again */
enum conn_status conn_on_write(struct conn *c, struct policyd *pd, time_t now)
{
    if (flush(c, now) == CONN_CLOSE)
        return CONN_CLOSE;
    if (conn_has_output(c))
        return CONN_OK;
    return process(c, pd, now);
}
