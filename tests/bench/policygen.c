/* policygen - a Postfix-like load generator for policy servers.
 *
 *   policygen -a ADDR -n USERS [-c CONNS] [-t SECS] [-w WARMUP] [-D DOMAIN]
 *             [-s SEED] [-u PCT] [-r RATE] [-k STRIDE]
 *
 * ADDR is inet:HOST:PORT or unix:PATH. CONNS connections (default 1), each
 * behaving like one Postfix smtpd's policy client: one request in flight,
 * the next sent as soon as the answer is in. A connection replays SMTP
 * sessions: a sender and queue id, then 1 to 3 RCPT requests (weighted to
 * 1), each with the ~30 attributes Postfix 3.7 sends and the MAIL FROM
 * SIZE= (0 for a third of the messages, else 1 KB to 10 MB, log-uniform).
 * Recipients are userK@DOMAIN, K uniform over the multiples of STRIDE
 * (default 1) in 1..USERS (the mailboxes that get mail); PCT percent of them
 * (default 0) are nosuchK@DOMAIN, an unknown user. Connection i draws from
 * its own generator seeded with SEED and i, so two servers measured with
 * the same arguments get the same requests in the same order.
 *
 * Without -r the load is closed: every connection sends its next request
 * as soon as the answer is in, so the server runs flat out and latency is
 * CONNS / rate (Little's law). With -r RATE it is open: the connections
 * together send RATE requests/s, each on its own schedule (period CONNS /
 * RATE, jittered +-50%, random phase), still one in flight per connection;
 * latency then counts from the scheduled time, so a server that falls
 * behind is charged for the wait (no coordinated omission).
 *
 * WARMUP seconds (default 2) are run and not counted, then SECS seconds
 * (default 10) are measured. Latency is from the first byte written (or
 * the scheduled time) to the blank line of the answer, in 1 us buckets. A connection the server
 * closes, or an answer that is not "action=...", counts as an error and the
 * connection is opened again (as Postfix would).
 *
 * Output, one line: conns= secs= offered= requests= rate= p50_us= p99_us= max_us=
 * errors= dunno= reject= defer= other= active= late_p99_us= (active:
 * connections that got at least one answer in the measured window;
 * late_p99_us: paced, how late this program itself sent, p99 - included
 * in the latencies, so a busy client machine shows there; wire_p50_us,
 * wire_p99_us: latency from the first byte actually written instead).
 * Without arguments it prints this usage and exits 0: tests/bench/run
 * runs every program here without arguments. */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "maps/monotime.h"

/* Latency histogram: 1 us buckets below 65.5 ms, 64 us buckets above, up
 * to about a minute; anything longer lands in the last bucket. */
#define HIST_FINE 65536
#define HIST_STEP 64
#define HIST_N (1u << 20)
#define REQ_MAX 4096
#define REPLY_MAX 1024

struct opts {
    const char *addr;
    const char *domain;
    unsigned long users, conns, secs, warmup, seed, unknown_pct, rate, stride;
};

struct conn {
    int fd;
    uint64_t rng;
    /* the session being replayed */
    char sender[64], queue_id[16], client_addr[32], helo[48];
    unsigned rcpts_left, rcpt_no;
    uint64_t size;
    /* the request in flight */
    char req[REQ_MAX];
    size_t req_len, req_off;
    char reply[REPLY_MAX];
    size_t reply_len;
    uint64_t sent_ns;            /* latency counts from here */
    uint64_t wire_ns;            /* when its first byte was written */
    uint64_t due_ns;             /* paced: when the next request is due */
    bool connecting, answered, want_out;
};

struct stats {
    uint64_t requests, errors, dunno, reject, defer, other, max_us;
    uint32_t *hist;
    uint64_t late_n;             /* paced: requests sent, and how late */
    uint32_t *late;
    uint32_t *wire;              /* latency from the first byte written */
};

static struct sockaddr_storage peer;
static socklen_t peer_len;
static int peer_family;

/* usage - the arguments */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: policygen -a inet:HOST:PORT|unix:PATH -n USERS [-c CONNS] [-t SECS]\n"
            "                 [-w WARMUP] [-D DOMAIN] [-s SEED] [-u UNKNOWN_PCT] [-r RATE]\n"
            "                 [-k STRIDE]\n"
            "Postfix-like policy requests, one in flight per connection (-r: RATE\n"
            "requests/s in all, paced; else as fast as answered); prints\n"
            "rate, p50/p99/max latency, errors and the answers' classes.\n");
}

/* rnd - splitmix64: fast, and the same sequence on every run */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* rnd_below - uniform in [0, n) (the modulo bias is irrelevant here) */
static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
    return n == 0 ? 0 : rnd(s) % n;
}

/* number - a positive decimal option value */
static int number(const char *s, unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *v = n;
    return 0;
}

/* peer_parse - inet:HOST:PORT or unix:PATH into the peer address */
static int peer_parse(const char *addr)
{
    memset(&peer, 0, sizeof(peer));
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&peer;
        if (strlen(addr + 5) >= sizeof(un->sun_path))
            return -1;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, addr + 5);
        peer_len = sizeof(*un);
        peer_family = AF_UNIX;
        return 0;
    }
    if (strncmp(addr, "inet:", 5) != 0)
        return -1;
    char host[256];
    const char *colon = strrchr(addr + 5, ':');
    if (colon == NULL || (size_t)(colon - (addr + 5)) >= sizeof(host))
        return -1;
    memcpy(host, addr + 5, (size_t)(colon - (addr + 5)));
    host[colon - (addr + 5)] = '\0';
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    memcpy(&peer, ai->ai_addr, ai->ai_addrlen);
    peer_len = ai->ai_addrlen;
    peer_family = ai->ai_family;
    freeaddrinfo(ai);
    return 0;
}

/* session_new - the next SMTP session of a connection: sender, queue id,
 * client, size and how many RCPTs */
static void session_new(struct conn *c)
{
    static const char *const senders[] = {
        "newsletter@shop.example.net", "noreply@bank.example.org", "alice@example.org",
        "bounce-%llu@lists.example.net", "bob%llu@mail.example.de", "",
    };
    uint64_t r = rnd(&c->rng);
    unsigned si = (unsigned)(r % (sizeof(senders) / sizeof(senders[0])));
    const char *pct = strchr(senders[si], '%');
    if (pct == NULL)
        snprintf(c->sender, sizeof(c->sender), "%s", senders[si]);
    else /* the sender with a number in place of its %llu */
        snprintf(c->sender, sizeof(c->sender), "%.*s%llu%s", (int)(pct - senders[si]),
                 senders[si], (unsigned long long)(r >> 20) % 100000, pct + 4);
    snprintf(c->queue_id, sizeof(c->queue_id), "%010llX",
             (unsigned long long)(rnd(&c->rng) & 0xffffffffffULL));
    r = rnd(&c->rng);
    snprintf(c->client_addr, sizeof(c->client_addr), "198.51.%u.%u",
             (unsigned)(r & 0xff), (unsigned)((r >> 8) & 0xff));
    snprintf(c->helo, sizeof(c->helo), "mx%u.example.net", (unsigned)((r >> 16) % 1000));
    /* a third without SIZE=, the rest 1 KB .. 10 MB, each decade alike */
    if (rnd_below(&c->rng, 3) == 0) {
        c->size = 0;
    } else {
        uint64_t decade = 1000;
        for (uint64_t d = rnd_below(&c->rng, 4); d > 0; d--)
            decade *= 10;
        c->size = decade + rnd_below(&c->rng, 9 * decade);
    }
    r = rnd_below(&c->rng, 10);
    c->rcpts_left = r < 7 ? 1 : r < 9 ? 2 : 3;
    c->rcpt_no = 0;
}

/* request_make - the next RCPT request of the connection's session */
static void request_make(struct conn *c, const struct opts *o)
{
    if (c->rcpts_left == 0)
        session_new(c);
    c->rcpts_left--;
    c->rcpt_no++;
    uint64_t k = o->stride * (1 + rnd_below(&c->rng, o->users / o->stride));
    bool unknown = o->unknown_pct > 0 && rnd_below(&c->rng, 100) < o->unknown_pct;
    int n = snprintf(c->req, sizeof(c->req),
        "request=smtpd_access_policy\n"
        "protocol_state=RCPT\n"
        "protocol_name=ESMTP\n"
        "helo_name=%s\n"
        "queue_id=%s\n"
        "sender=%s\n"
        "recipient=%s%llu@%s\n"
        "recipient_count=%u\n"
        "client_address=%s\n"
        "client_name=%s\n"
        "reverse_client_name=%s\n"
        "instance=%llx.%x\n"
        "sasl_method=\n"
        "sasl_username=\n"
        "sasl_sender=\n"
        "size=%llu\n"
        "ccert_subject=\n"
        "ccert_issuer=\n"
        "ccert_fingerprint=\n"
        "ccert_pubkey_fingerprint=\n"
        "encryption_protocol=TLSv1.3\n"
        "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
        "encryption_keysize=256\n"
        "etrn_domain=\n"
        "stress=\n"
        "client_port=%u\n"
        "policy_context=\n"
        "server_address=192.0.2.25\n"
        "server_port=25\n"
        "compatibility_level=3.6\n"
        "mail_version=3.7.11\n"
        "\n",
        c->helo, c->queue_id, c->sender, unknown ? "nosuch" : "user", (unsigned long long)k,
        o->domain, c->rcpt_no, c->client_addr, c->helo, c->helo,
        (unsigned long long)(c->rng & 0xfffff), c->rcpt_no, (unsigned long long)c->size,
        (unsigned)(1024 + rnd_below(&c->rng, 60000)));
    c->req_len = n > 0 && (size_t)n < sizeof(c->req) ? (size_t)n : 0;
    c->req_off = 0;
    c->reply_len = 0;
}

/* conn_open - a non-blocking connect, registered for writing */
static int conn_open(int ep, struct conn *c)
{
    c->fd = socket(peer_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&peer, peer_len) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->connecting = true;
    c->want_out = true;
    c->req_off = 0;
    c->reply_len = 0;
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

/* conn_reset - close after an error and connect again; the request in
 * flight is sent again on the new connection */
static void conn_reset(int ep, struct conn *c, struct stats *st, bool counting)
{
    if (counting)
        st->errors++;
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (conn_open(ep, c) < 0)
        c->fd = -1;
}

/* conn_send - write what is left of the request; 1 done, 0 blocked, -1
 * error. EPOLLOUT is asked for only while a request is stuck, so a request
 * costs no epoll_ctl in the usual case. */
static int conn_send(int ep, struct conn *c)
{
    if (c->req_off == 0)
        c->wire_ns = (uint64_t)monotime_ns();
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (c->want_out)
                return 0;
            struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
            c->want_out = true;
            return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -1 : 0;
        }
        if (n <= 0)
            return -1;
        c->req_off += (size_t)n;
    }
    if (!c->want_out)
        return 1;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    c->want_out = false;
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -1 : 1;
}

/* classify - count an answer by its action */
static void classify(struct stats *st, const char *reply, size_t len)
{
    const char *a = reply + 7; /* after "action=" */
    size_t alen = len - 7;
    if (alen >= 5 && strncasecmp(a, "DUNNO", 5) == 0)
        st->dunno++;
    else if (alen >= 1 && (a[0] == '5' || (alen >= 6 && strncasecmp(a, "REJECT", 6) == 0)))
        st->reject++;
    else if (alen >= 1 && (a[0] == '4' || (alen >= 5 && strncasecmp(a, "DEFER", 5) == 0)))
        st->defer++;
    else
        st->other++;
}

/* conn_recv - read the answer; 1 complete, 0 more to come, -1 error */
static int conn_recv(struct conn *c)
{
    for (;;) {
        if (c->reply_len >= sizeof(c->reply) - 1)
            return -1;
        ssize_t n = recv(c->fd, c->reply + c->reply_len, sizeof(c->reply) - 1 - c->reply_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return -1;
        c->reply_len += (size_t)n;
        c->reply[c->reply_len] = '\0';
        if (c->reply_len >= 2 && memcmp(c->reply + c->reply_len - 2, "\n\n", 2) == 0)
            return 1;
    }
}

/* Paced mode: connections waiting for their next request's time, a
 * binary min-heap on due_ns. */
struct heap {
    struct conn **v;
    size_t n;
};

/* heap_push - add c (due_ns set) */
static void heap_push(struct heap *h, struct conn *c)
{
    size_t i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2]->due_ns > c->due_ns) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = c;
}

/* heap_pop - remove and return the earliest */
static struct conn *heap_pop(struct heap *h)
{
    struct conn *top = h->v[0], *last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= h->n)
            break;
        if (k + 1 < h->n && h->v[k + 1]->due_ns < h->v[k]->due_ns)
            k++;
        if (h->v[k]->due_ns >= last->due_ns)
            break;
        h->v[i] = h->v[k];
        i = k;
    }
    if (h->n > 0)
        h->v[i] = last;
    return top;
}

/* hist_bucket - the bucket of a latency in us */
static size_t hist_bucket(uint64_t us)
{
    if (us < HIST_FINE)
        return (size_t)us;
    uint64_t b = HIST_FINE + (us - HIST_FINE) / HIST_STEP;
    return b < HIST_N ? (size_t)b : HIST_N - 1;
}

/* percentile - the latency (us, the bucket's lower end) at or below which
 * p of the n samples in hist lie */
static uint64_t percentile(const uint32_t *hist, uint64_t n, double p)
{
    uint64_t want = (uint64_t)((double)n * p), seen = 0;
    size_t i;
    if (want == 0)
        want = 1;
    for (i = 0; i < HIST_N - 1; i++) {
        seen += hist[i];
        if (seen >= want)
            break;
    }
    return i < HIST_FINE ? i : HIST_FINE + (uint64_t)(i - HIST_FINE) * HIST_STEP;
}

/* run - the event loop: warm-up, then the measured window */
static int run(const struct opts *o)
{
    struct conn *conns = calloc(o->conns, sizeof(*conns));
    struct stats st = { .hist = calloc(HIST_N, sizeof(uint32_t)),
                        .late = calloc(HIST_N, sizeof(uint32_t)),
                        .wire = calloc(HIST_N, sizeof(uint32_t)) };
    struct epoll_event *evs = calloc(o->conns, sizeof(*evs));
    struct heap due = { .v = calloc(o->conns, sizeof(struct conn *)) };
    /* paced: one connection's mean period */
    uint64_t period = o->rate ? (uint64_t)o->conns * 1000000000ULL / o->rate : 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || st.hist == NULL || st.late == NULL || st.wire == NULL || evs == NULL ||
        due.v == NULL ||
        ep < 0) {
        fprintf(stderr, "policygen: out of memory\n");
        return 1;
    }
    uint64_t start = (uint64_t)monotime_ns();
    for (unsigned long i = 0; i < o->conns; i++) {
        struct conn *c = &conns[i];
        c->rng = o->seed * 0x100000001b3ULL + i;
        request_make(c, o);
        c->sent_ns = start;
        if (period) { /* the first request when its phase comes, not at once */
            c->req_len = 0;
            c->due_ns = start + rnd_below(&c->rng, period);
            heap_push(&due, c);
        }
        if (conn_open(ep, c) < 0) {
            fprintf(stderr, "policygen: connect %s: %s\n", o->addr, strerror(errno));
            return 1;
        }
    }
    uint64_t t_measure = start + o->warmup * 1000000000ULL;
    uint64_t t_end = t_measure + o->secs * 1000000000ULL;
    bool counting = o->warmup == 0;
    uint64_t now = start;
    while (now < t_end) {
        uint64_t wait_ns = 50000000;
        if (due.n > 0)
            wait_ns = due.v[0]->due_ns > now ? due.v[0]->due_ns - now : 0;
        if (wait_ns > 50000000)
            wait_ns = 50000000;
        struct timespec to = { .tv_sec = 0, .tv_nsec = (long)wait_ns };
        int n = epoll_pwait2(ep, evs, (int)o->conns, &to, NULL);
        if (n < 0 && errno != EINTR) {
            perror("policygen: epoll_pwait2");
            return 1;
        }
        if (n < 0)
            n = 0;
        now = (uint64_t)monotime_ns();
        /* paced requests whose time has come */
        while (due.n > 0 && due.v[0]->due_ns <= now) {
            struct conn *c = heap_pop(&due);
            request_make(c, o);
            c->sent_ns = c->due_ns;
            if (counting) { /* our own lateness, charged to the server */
                st.late_n++;
                st.late[hist_bucket((now - c->due_ns) / 1000)]++;
            }
            if (c->fd >= 0 && !c->connecting && conn_send(ep, c) < 0)
                conn_reset(ep, c, &st, counting);
        }
        if (!counting && now >= t_measure) {
            counting = true;
            for (unsigned long i = 0; i < o->conns; i++)
                conns[i].answered = false;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->connecting) {
                int err = 0;
                socklen_t el = sizeof(err);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
                    conn_reset(ep, c, &st, counting);
                    continue;
                }
                c->connecting = false;
                if (c->req_off >= c->req_len && c->want_out) {
                    /* paced and not due yet: nothing to write */
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    c->want_out = false;
                    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                        conn_reset(ep, c, &st, counting);
                    continue;
                }
            }
            if ((evs[i].events & EPOLLOUT) && c->req_off < c->req_len) {
                if (conn_send(ep, c) < 0)
                    conn_reset(ep, c, &st, counting);
                continue;
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            int r = conn_recv(c);
            if (r == 0)
                continue;
            if (r < 0 || c->reply_len < 7 || strncmp(c->reply, "action=", 7) != 0) {
                conn_reset(ep, c, &st, counting);
                continue;
            }
            uint64_t done = (uint64_t)monotime_ns();
            if (counting && c->sent_ns >= t_measure) {
                uint64_t us = (done - c->sent_ns) / 1000;
                st.requests++;
                st.hist[hist_bucket(us)]++;
                st.wire[hist_bucket((done - c->wire_ns) / 1000)]++;
                if (us > st.max_us)
                    st.max_us = us;
                classify(&st, c->reply, c->reply_len);
                c->answered = true;
            }
            if (period) {
                /* next one due a jittered period after this one was */
                c->req_len = 0;
                c->due_ns = c->sent_ns + period / 2 + rnd_below(&c->rng, period);
                if (c->due_ns > done) {
                    heap_push(&due, c);
                    continue;
                }
                request_make(c, o);
                c->sent_ns = c->due_ns;
            } else {
                request_make(c, o);
                c->sent_ns = done;
            }
            if (conn_send(ep, c) < 0)
                conn_reset(ep, c, &st, counting);
        }
        /* connections that could not even be opened again: retry */
        for (unsigned long i = 0; n == 0 && i < o->conns; i++) {
            if (conns[i].fd < 0)
                conn_reset(ep, &conns[i], &st, false);
        }
    }
    unsigned long active = 0;
    for (unsigned long i = 0; i < o->conns; i++) {
        active += conns[i].answered;
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    }
    printf("conns=%lu secs=%lu offered=%lu requests=%llu rate=%.0f p50_us=%llu p99_us=%llu max_us=%llu "
           "errors=%llu dunno=%llu reject=%llu defer=%llu other=%llu active=%lu late_p99_us=%llu "
           "wire_p50_us=%llu wire_p99_us=%llu\n",
           o->conns, o->secs, o->rate, (unsigned long long)st.requests,
           (double)st.requests / (double)o->secs,
           (unsigned long long)(st.requests ? percentile(st.hist, st.requests, 0.50) : 0),
           (unsigned long long)(st.requests ? percentile(st.hist, st.requests, 0.99) : 0),
           (unsigned long long)st.max_us, (unsigned long long)st.errors,
           (unsigned long long)st.dunno, (unsigned long long)st.reject,
           (unsigned long long)st.defer, (unsigned long long)st.other, active,
           (unsigned long long)(st.late_n ? percentile(st.late, st.late_n, 0.99) : 0),
           (unsigned long long)(st.requests ? percentile(st.wire, st.requests, 0.50) : 0),
           (unsigned long long)(st.requests ? percentile(st.wire, st.requests, 0.99) : 0));
    close(ep);
    free(conns);
    free(evs);
    free(st.hist);
    free(st.late);
    free(st.wire);
    free(due.v);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .domain = "example.com", .conns = 1, .secs = 10, .warmup = 2, .seed = 1,
                     .stride = 1 };
    int ch;

    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    while ((ch = getopt(argc, argv, "a:n:c:t:w:D:s:u:r:k:h")) != -1) {
        unsigned long *v = NULL;
        switch (ch) {
        case 'a': o.addr = optarg; continue;
        case 'D': o.domain = optarg; continue;
        case 'n': v = &o.users; break;
        case 'c': v = &o.conns; break;
        case 't': v = &o.secs; break;
        case 'w': v = &o.warmup; break;
        case 's': v = &o.seed; break;
        case 'u': v = &o.unknown_pct; break;
        case 'r': v = &o.rate; break;
        case 'k': v = &o.stride; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (number(optarg, v) < 0) {
            fprintf(stderr, "policygen: -%c wants a number: '%s'\n", ch, optarg);
            return 2;
        }
    }
    if (optind != argc || o.addr == NULL || o.users == 0 || o.conns == 0 || o.secs == 0 ||
        o.stride == 0 || o.stride > o.users ||
        o.unknown_pct > 100 || o.conns > 100000) {
        usage(stderr);
        return 2;
    }
    if (peer_parse(o.addr) < 0) {
        fprintf(stderr, "policygen: bad address '%s'\n", o.addr);
        return 2;
    }
    /* one descriptor per connection, plus a few */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o.conns + 16) {
        rl.rlim_cur = rl.rlim_max < o.conns + 16 ? rl.rlim_max : o.conns + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* paced sends wake on a timer: no 50 us of default slack on it */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    return run(&o);
}
