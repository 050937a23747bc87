/* authmaster - load generator for Dovecot's auth-userdb (auth-master)
 * socket, used by tests/bench/dovecot.sh.
 *
 *   authmaster load -s SOCKET -n USERS [-D DOMAIN] [-c CONNS] [-p DEPTH]
 *                   [-w WARMUP_S] [-t SECS]
 *       CONNS connections (default 8), each sending "VERSION\t1\t0" and then
 *       keeping DEPTH (default 64) "USER\t<id>\t<user>\tservice=imap"
 *       requests in flight; users are userNNNNNN@DOMAIN with NNNNNN drawn
 *       uniformly from 1..USERS (fixed seed). Replies (USER / NOTFOUND /
 *       FAIL) that arrive during the SECS (default 10) after WARMUP_S
 *       (default 2) are counted; latency runs from the request's write to
 *       its reply. Prints one line of name=value pairs.
 *   authmaster swap -s SOCKET -u USER -f FIELD -v VALUE FROM TO [-t SECS]
 *       rename(FROM, TO), then ask for USER every 100 us until its reply
 *       holds FIELD=VALUE; prints the time from the rename to that reply.
 *       Exit 1 when it does not show within SECS (default 10).
 *   authmaster local -C MAILMAPS_CONF -n USERS [-D DOMAIN] [-t SECS] [-V 23|24]
 *       the mailmaps driver's own work per userdb lookup in the auth
 *       process, without Dovecot: authdb_local (key folding, CDB lookup,
 *       freshness), authdb_record (decoding) and the userdb field filter
 *       (-V 24: the translation into Dovecot 2.4's fields instead), on the
 *       maps of MAILMAPS_CONF, with the watch fd owned by the caller as in
 *       the plugin. Timed in batches of 64 lookups.
 *
 * Without arguments it prints this usage and exits 0: tests/bench/run
 * runs every bench binary bare, and this one only serves dovecot.sh. */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "maps/authdb.h"
#include "maps/conf.h"
#include "maps/dovecot_fields.h"
#include "maps/ldapdir.h"
#include "maps/lookup.h"
#include "maps/mapset.h"
#include "maps/monotime.h"
#include "maps/userrec.h"

#define CONN_MAX 256
#define DEPTH_MAX 1024
#define SLOTS 4096       /* per-connection send times, indexed by id % SLOTS */
#define INBUF 65536
#define OUTBUF 65536
#define STALL_SECS 10    /* no reply for this long: give up */
#define BATCH 64

struct conn {
    int fd;
    unsigned next_id;
    unsigned inflight;
    size_t inlen, outlen, outoff;
    char in[INBUF];
    char out[OUTBUF];
    uint64_t sent_at[SLOTS];
};

struct opts {
    const char *socket, *domain, *user, *field, *value, *conf;
    unsigned users, conns, depth;
    double warmup, secs;
};

struct counts {
    uint64_t found, notfound, fail, other;
    uint32_t *lat;       /* ns, clamped to 4.29 s */
    size_t nlat, latcap;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static volatile unsigned long sink;
/* local mode: hand the fields out in Dovecot 2.4's names (-V 24) */
static int local_fields24;

/* xorshift64 - fixed-seed generator: the same users every run */
static uint64_t xorshift64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* usage - what the modes take */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: authmaster load -s SOCKET -n USERS [-D DOMAIN] [-c CONNS] [-p DEPTH]\n"
            "                       [-w WARMUP_S] [-t SECS]\n"
            "       authmaster swap -s SOCKET -u USER -f FIELD -v VALUE FROM TO [-t SECS]\n"
            "       authmaster local -C MAILMAPS_CONF -n USERS [-D DOMAIN] [-t SECS] [-V 23|24]\n"
            "(a helper of tests/bench/dovecot.sh; nothing to do without arguments)\n");
}

/* parse_uint - a decimal in [lo, hi], or exit 2 */
static unsigned parse_uint(const char *s, unsigned lo, unsigned hi, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "authmaster: bad %s: '%s' (%u..%u)\n", what, s, lo, hi);
        exit(2);
    }
    return (unsigned)v;
}

/* parse_secs - a positive decimal number of seconds, or exit 2 */
static double parse_secs(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0 && v <= 3600)) {
        fprintf(stderr, "authmaster: bad %s: '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* parse_opts - the options of every mode; positional arguments into pos */
static int parse_opts(int argc, char **argv, struct opts *o, char **pos, int maxpos)
{
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || a[2] != '\0') {
            if (npos == maxpos) {
                fprintf(stderr, "authmaster: unexpected argument '%s'\n", a);
                exit(2);
            }
            pos[npos++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "authmaster: %s needs a value\n", a);
            exit(2);
        }
        const char *v = argv[++i];
        switch (a[1]) {
        case 's': o->socket = v; break;
        case 'D': o->domain = v; break;
        case 'u': o->user = v; break;
        case 'f': o->field = v; break;
        case 'v': o->value = v; break;
        case 'C': o->conf = v; break;
        case 'n': o->users = parse_uint(v, 1, 100000000, "user count"); break;
        case 'c': o->conns = parse_uint(v, 1, CONN_MAX, "connections"); break;
        case 'p': o->depth = parse_uint(v, 1, DEPTH_MAX, "pipeline depth"); break;
        case 'w': o->warmup = parse_secs(v, "warm-up"); break;
        case 't': o->secs = parse_secs(v, "seconds"); break;
        case 'V': local_fields24 = parse_uint(v, 23, 24, "Dovecot version") == 24; break;
        default:
            fprintf(stderr, "authmaster: unknown option %s\n", a);
            exit(2);
        }
    }
    return npos;
}

/* random_user - "userNNNNNN@DOMAIN" with NNNNNN uniform in 1..users */
static int random_user(const struct opts *o, char *buf, size_t bufsz)
{
    unsigned i = 1 + (unsigned)(xorshift64() % o->users);
    return snprintf(buf, bufsz, "user%06u@%s", i, o->domain);
}

/* unix_connect - a connected stream socket to path, or -1 */
static int unix_connect(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "authmaster: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "authmaster: connect %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* queue_request - append one USER request to c's output */
static int queue_request(struct conn *c, const struct opts *o)
{
    char user[128];
    random_user(o, user, sizeof(user));
    size_t room = OUTBUF - c->outlen;
    int n = snprintf(c->out + c->outlen, room, "USER\t%u\t%s\tservice=imap\n", c->next_id, user);
    if (n < 0 || (size_t)n >= room)
        return -1;
    c->outlen += (size_t)n;
    c->sent_at[c->next_id % SLOTS] = (uint64_t)monotime_ns();
    c->next_id++;
    c->inflight++;
    return 0;
}

/* flush_out - write what the socket takes; -1 on a dead connection */
static int flush_out(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            fprintf(stderr, "authmaster: write: %s\n", strerror(errno));
            return -1;
        }
        c->outoff += (size_t)w;
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    return 0;
}

/* record_latency - keep one latency sample (ns) */
static void record_latency(struct counts *k, uint64_t ns)
{
    if (k->nlat == k->latcap) {
        size_t cap = k->latcap ? k->latcap * 2 : 1u << 20;
        uint32_t *p = realloc(k->lat, cap * sizeof(*p));
        if (p == NULL)
            return;
        k->lat = p;
        k->latcap = cap;
    }
    k->lat[k->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* handle_line - one reply line; returns 1 for a reply to a request */
static int handle_line(struct conn *c, char *line, uint64_t now, int counting, struct counts *k)
{
    char *tab = strchr(line, '\t');
    if (tab == NULL)
        return 0;
    *tab = '\0';
    const char *kind = line;
    if (strcmp(kind, "VERSION") == 0 || strcmp(kind, "SPID") == 0)
        return 0;
    unsigned id = (unsigned)strtoul(tab + 1, NULL, 10);
    if (c->inflight > 0)
        c->inflight--;
    if (!counting)
        return 1;
    if (strcmp(kind, "USER") == 0)
        k->found++;
    else if (strcmp(kind, "NOTFOUND") == 0)
        k->notfound++;
    else if (strcmp(kind, "FAIL") == 0)
        k->fail++;
    else
        k->other++;
    record_latency(k, now - c->sent_at[id % SLOTS]);
    return 1;
}

/* read_in - read and handle complete lines; -1 on EOF or error */
static int read_in(struct conn *c, uint64_t now, int counting, struct counts *k, uint64_t *replies)
{
    ssize_t r = recv(c->fd, c->in + c->inlen, INBUF - 1 - c->inlen, MSG_DONTWAIT);
    if (r == 0) {
        fprintf(stderr, "authmaster: the server closed the connection\n");
        return -1;
    }
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    c->inlen += (size_t)r;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(c->in + start, '\n', c->inlen - start);
        if (nl == NULL)
            break;
        *nl = '\0';
        *replies += (uint64_t)handle_line(c, c->in + start, now, counting, k);
        start = (size_t)(nl - c->in) + 1;
    }
    if (start == 0 && c->inlen == INBUF - 1) {
        fprintf(stderr, "authmaster: reply line longer than %d bytes\n", INBUF - 1);
        return -1;
    }
    memmove(c->in, c->in + start, c->inlen - start);
    c->inlen -= start;
    return 0;
}

/* cmp_u32 - qsort callback */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* pct - nearest-rank percentile of sorted v, in microseconds */
static double pct(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t r = (size_t)(p / 100.0 * (double)n);
    if (r >= n)
        r = n - 1;
    return (double)v[r] / 1000.0;
}

/* mode_load - the throughput run */
static int mode_load(const struct opts *o)
{
    static struct conn conns[CONN_MAX];
    struct pollfd pfd[CONN_MAX];
    struct counts k = { 0 };
    uint64_t replies = 0;

    if (o->socket == NULL || o->users == 0) {
        usage(stderr);
        return 2;
    }
    for (unsigned i = 0; i < o->conns; i++) {
        struct conn *c = &conns[i];
        c->fd = unix_connect(o->socket);
        if (c->fd < 0)
            return 1;
        c->next_id = 1;
        memcpy(c->out, "VERSION\t1\t0\n", 12);
        c->outlen = 12;
        for (unsigned d = 0; d < o->depth; d++)
            if (queue_request(c, o) < 0)
                return 1;
    }
    uint64_t t_start = (uint64_t)monotime_ns();
    uint64_t t_count = t_start + (uint64_t)(o->warmup * 1e9);
    uint64_t t_end = t_count + (uint64_t)(o->secs * 1e9);
    uint64_t last_reply = t_start;
    int sending = 1;

    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < o->conns; i++) {
            pfd[i].fd = conns[i].fd;
            pfd[i].events = (short)(POLLIN | (conns[i].outlen > conns[i].outoff ? POLLOUT : 0));
            pfd[i].revents = 0;
            busy += conns[i].inflight;
        }
        if (!sending && busy == 0)
            break;
        if (poll(pfd, o->conns, 100) < 0 && errno != EINTR) {
            perror("authmaster: poll");
            return 1;
        }
        uint64_t now = (uint64_t)monotime_ns();
        if (sending && now >= t_end)
            sending = 0;
        int counting = now >= t_count && now < t_end;
        for (unsigned i = 0; i < o->conns; i++) {
            struct conn *c = &conns[i];
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                uint64_t before = replies;
                if (read_in(c, now, counting, &k, &replies) < 0)
                    return 1;
                if (replies != before)
                    last_reply = now;
            }
            while (sending && c->inflight < o->depth)
                if (queue_request(c, o) < 0)
                    break;
            if (flush_out(c) < 0)
                return 1;
        }
        if (now - last_reply > (uint64_t)STALL_SECS * 1000000000u) {
            fprintf(stderr, "authmaster: no reply for %d s (%u in flight)\n", STALL_SECS, busy);
            return 1;
        }
    }
    for (unsigned i = 0; i < o->conns; i++)
        close(conns[i].fd);

    uint64_t total = k.found + k.notfound + k.fail + k.other;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    qsort(k.lat, k.nlat, sizeof(*k.lat), cmp_u32);
    printf("lookups=%llu secs=%.3f rate=%.0f all=%llu client_cpu_s=%.2f found=%llu notfound=%llu "
           "fail=%llu other=%llu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f conns=%u "
           "depth=%u\n",
           (unsigned long long)total, o->secs, (double)total / o->secs,
           (unsigned long long)replies, cpu,
           (unsigned long long)k.found, (unsigned long long)k.notfound,
           (unsigned long long)k.fail, (unsigned long long)k.other, pct(k.lat, k.nlat, 50),
           pct(k.lat, k.nlat, 90), pct(k.lat, k.nlat, 99), pct(k.lat, k.nlat, 100), o->conns,
           o->depth);
    free(k.lat);
    return total > 0 ? 0 : 1;
}

/* has_field - true when a USER reply line holds exactly FIELD=VALUE */
static int has_field(const char *line, const char *field, const char *value)
{
    size_t fl = strlen(field), vl = strlen(value);
    for (const char *p = strchr(line, '\t'); p != NULL; p = strchr(p + 1, '\t')) {
        const char *f = p + 1;
        if (strncmp(f, field, fl) == 0 && f[fl] == '=' && strncmp(f + fl + 1, value, vl) == 0 &&
            (f[fl + 1 + vl] == '\t' || f[fl + 1 + vl] == '\0'))
            return 1;
    }
    return 0;
}

/* ask_one - one blocking USER request on fd; the reply line into line */
static int ask_one(int fd, const char *user, unsigned id, char *line, size_t linesz)
{
    static char buf[16384];
    static size_t have;
    char req[512];
    int n = snprintf(req, sizeof(req), "USER\t%u\t%s\tservice=imap\n", id, user);
    if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    /* One request at a time: the reply is the next line that is not part
       of the handshake. */
    for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (nl != NULL) {
            size_t l = (size_t)(nl - buf);
            int skip = (l >= 8 && strncmp(buf, "VERSION\t", 8) == 0) ||
                       (l >= 5 && strncmp(buf, "SPID\t", 5) == 0);
            if (!skip) {
                if (l >= linesz)
                    return -1;
                memcpy(line, buf, l);
                line[l] = '\0';
            }
            memmove(buf, nl + 1, have - l - 1);
            have -= l + 1;
            if (!skip)
                return 0;
            continue;
        }
        if (have == sizeof(buf))
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
}

/* mode_swap - rename a new map into place and wait for its answer */
static int mode_swap(const struct opts *o, char **pos, int npos)
{
    char line[16384];
    if (o->socket == NULL || o->user == NULL || o->field == NULL || o->value == NULL ||
        npos != 2) {
        usage(stderr);
        return 2;
    }
    int fd = unix_connect(o->socket);
    if (fd < 0)
        return 1;
    if (send(fd, "VERSION\t1\t0\n", 12, MSG_NOSIGNAL) != 12)
        return 1;
    unsigned id = 1;
    if (ask_one(fd, o->user, id++, line, sizeof(line)) < 0) {
        fprintf(stderr, "authmaster: no answer before the rename\n");
        return 1;
    }
    if (has_field(line, o->field, o->value)) {
        fprintf(stderr, "authmaster: %s already has %s=%s before the rename\n", o->user,
                o->field, o->value);
        return 1;
    }
    uint64_t t0 = (uint64_t)monotime_ns();
    if (rename(pos[0], pos[1]) < 0) {
        fprintf(stderr, "authmaster: rename %s %s: %s\n", pos[0], pos[1], strerror(errno));
        return 1;
    }
    uint64_t limit = t0 + (uint64_t)((o->secs > 0 ? o->secs : 10) * 1e9);
    unsigned asked = 0;
    for (;;) {
        if (ask_one(fd, o->user, id++, line, sizeof(line)) < 0) {
            fprintf(stderr, "authmaster: lookup failed after the rename\n");
            return 1;
        }
        asked++;
        uint64_t t = (uint64_t)monotime_ns();
        if (has_field(line, o->field, o->value)) {
            printf("swap_ms=%.3f lookups=%u\n", (double)(t - t0) / 1e6, asked);
            close(fd);
            return 0;
        }
        if (t > limit) {
            printf("swap_ms=never lookups=%u last=%s\n", asked, line);
            close(fd);
            return 1;
        }
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
}

/* cmp_double - qsort callback */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* local_sink - where the plugin would call auth_request_set_userdb_field */
static int local_sink(void *ctx, const char *name, const char *value)
{
    (void)ctx;
    sink += (unsigned char)name[0] + (unsigned char)value[0];
    return 0;
}

/* local_one - the driver's work for one userdb lookup answered from the
 * maps in the auth process (mailmaps_find + mailmaps_user_lookup minus
 * Dovecot's own calls); 1 found */
static int local_one(struct lookup *lk, const char *user)
{
    char key[LDAPDIR_KEY_LEN_MAX + 1], err[512];
    const char *val;
    size_t len;
    struct userrec rec;
    unsigned int unsupported;
    int found = 0;

    userrec_init(&rec);
    if (authdb_local(lk, user, key, sizeof(key), &val, &len) == 1 &&
        authdb_record(&rec, user, val, len, err, sizeof(err)) == 0) {
        if (local_fields24) {
            found = dovecot_fields_24(&rec, local_sink, NULL, &unsupported, err,
                                      sizeof(err)) == 0;
        } else {
            for (size_t i = 0; i < rec.count; i++)
                if (authdb_userdb_field(rec.field[i].name))
                    sink += (unsigned char)rec.field[i].value[0];
            found = 1;
        }
    }
    userrec_free(&rec);
    return found;
}

/* mode_local - time the driver's own lookup on the real maps */
static int mode_local(const struct opts *o)
{
    struct conf cfg;
    char err[CONF_ERRSZ];
    if (o->conf == NULL || o->users == 0) {
        usage(stderr);
        return 2;
    }
    if (conf_load(&cfg, o->conf, err, sizeof(err)) < 0) {
        fprintf(stderr, "authmaster: %s\n", err);
        return 1;
    }
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    if (lk == NULL) {
        fprintf(stderr, "authmaster: %s\n", err);
        return 1;
    }
    /* As in the plugin: the ioloop owns the watch, lookups make no syscall
       for freshness (time() is vDSO). */
    (void)mapset_watch_fd(lookup_mapset(lk));

    /* Names made up front so that formatting them is not timed; as many
       as there are users (up to 2^20), in random order, so that the whole
       map is touched as by real traffic. */
    size_t nnames = o->users < (1u << 20) ? o->users : (1u << 20);
    char *names = malloc(nnames * 64);
    if (names == NULL)
        return 1;
    for (size_t i = 0; i < nnames; i++)
        random_user(o, names + i * 64, 64);

    /* Warm-up: one pass over every name (page faults of the mapping). */
    size_t found = 0;
    for (size_t i = 0; i < nnames; i++)
        found += (size_t)local_one(lk, names + i * 64);
    if (found == 0) {
        fprintf(stderr, "authmaster: no user found in the maps of %s (stale? missing?)\n",
                o->conf);
        return 1;
    }

    /* Three passes of secs/3 each; the best mean is kept: the machine is
       shared, and a preempted batch says nothing about the driver. */
    size_t cap = 1u << 20;
    double *batch = malloc(cap * sizeof(*batch));
    if (batch == NULL)
        return 1;
    uint64_t clock_cost = (uint64_t)monotime_ns();
    clock_cost = (uint64_t)monotime_ns() - clock_cost;
    double best_mean = 0, best_p50 = 0, best_p99 = 0;
    size_t best_n = 0, best_found = 0, idx = 0;
    for (int pass = 0; pass < 3; pass++) {
        size_t nb = 0, n = 0;
        uint64_t total = 0, t_stop = (uint64_t)monotime_ns() + (uint64_t)(o->secs / 3 * 1e9);
        found = 0;
        while (nb < cap) {
            uint64_t t0 = (uint64_t)monotime_ns();
            for (int j = 0; j < BATCH; j++) {
                found += (size_t)local_one(lk, names + idx * 64);
                if (++idx == nnames)
                    idx = 0;
            }
            uint64_t t1 = (uint64_t)monotime_ns();
            uint64_t d = t1 - t0 > clock_cost ? t1 - t0 - clock_cost : 0;
            total += d;
            batch[nb++] = (double)d / BATCH;
            n += BATCH;
            if (t1 >= t_stop)
                break;
        }
        qsort(batch, nb, sizeof(*batch), cmp_double);
        double mean = (double)total / (double)n;
        if (pass == 0 || mean < best_mean) {
            best_mean = mean;
            best_p50 = batch[nb / 2];
            best_p99 = batch[(size_t)((double)nb * 0.99)];
            best_n = n;
            best_found = found;
        }
    }
    printf("local_lookups=%zu found=%zu mean_ns=%.0f p50_ns=%.0f p99_ns=%.0f "
           "(best of 3 passes; batches of %d, timer cost removed)\n",
           best_n, best_found, best_mean, best_p50, best_p99, BATCH);
    int ok = best_found == best_n;
    free(batch);
    free(names);
    lookup_free(lk);
    conf_free(&cfg);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct opts o = { .domain = "example.com", .conns = 8, .depth = 64, .warmup = 2, .secs = -1 };
    char *pos[2];

    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    int npos = parse_opts(argc - 2, argv + 2, &o, pos, 2);
    if (strcmp(argv[1], "load") == 0 && npos == 0) {
        if (o.secs < 0)
            o.secs = 10;
        return mode_load(&o);
    }
    if (strcmp(argv[1], "swap") == 0)
        return mode_swap(&o, pos, npos);
    if (strcmp(argv[1], "local") == 0 && npos == 0) {
        if (o.secs < 0)
            o.secs = 3;
        return mode_local(&o);
    }
    usage(stderr);
    return 2;
}
