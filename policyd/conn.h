#ifndef MAILMAPS_POLICYD_CONN_H
#define MAILMAPS_POLICYD_CONN_H

/* One client connection: a bounded input buffer that the policy parser
 * eats line by line, a bounded output buffer, and the times its timeouts
 * count from. Several requests per connection; a client that pipelines
 * without reading its answers is simply not read from until it does. A
 * request whose answer must wait (pool.h) holds the connection: nothing
 * more is read or answered on it until that answer is in, so answers keep
 * their order. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "maps/policy.h"
#include "policyd/policyd.h"
#include "policyd/pool.h"

#define CONN_IN_MAX (POLICY_LINE_MAX + 4096)
#define CONN_OUT_MAX (8 * POLICY_REPLY_MAX)

struct conn {
    int kind;                    /* first: the epoll tag (server.c) */
    int rfd, wfd;                /* the same socket, or stdin/stdout */
    struct conn *prev, *next;
    time_t last;                 /* last byte read or written (monotonic) */
    time_t req_start;            /* first byte of the request in progress */
    time_t out_since;            /* answers waiting for the client since */
    struct timespec t0;          /* the request in the pool complete since (monotonic) */
    char peer[64];
    size_t in_len, out_len, out_off;
    bool eof;
    bool want_write;             /* epoll waits for EPOLLOUT, not EPOLLIN */
    bool parked;                 /* out of the epoll set while job is out */
    struct pool_job *job;        /* the request in the pool, or NULL */
    struct policy_request req;
    char in[CONN_IN_MAX];
    char out[CONN_OUT_MAX];
};

enum conn_status {
    CONN_OK,          /* keep going */
    CONN_CLOSE,       /* client finished or broke the protocol: close it */
};

/* conn_new - a connection on rfd/wfd (NULL when out of memory) */
struct conn *conn_new(int rfd, int wfd, const char *peer);
void conn_free(struct conn *c);

/* conn_on_read - read what is there, answer every complete request */
enum conn_status conn_on_read(struct conn *c, struct policyd *pd, time_t now);

/* conn_on_write - send pending answers, then answer requests that waited */
enum conn_status conn_on_write(struct conn *c, struct policyd *pd, time_t now);

/* conn_on_done - c->job's answer is in: send it, go on with what waits */
enum conn_status conn_on_done(struct conn *c, struct policyd *pd, time_t now);

/* conn_mid_request - part of a request has arrived, or its answer is out */
bool conn_mid_request(const struct conn *c);

/* conn_has_output - answers wait to be sent */
bool conn_has_output(const struct conn *c);

#endif
