/* ldapsock - the socket under libldap: TCP keepalive and read-ahead */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/ldapsock.h"

/* ldapsock_keepalive - libldap turns TCP keepalive on; these say when. A
 * persist session sits idle for hours between changes, and a peer that
 * vanished meanwhile (a firewall or NAT dropping the idle connection, a
 * host gone without a FIN) would otherwise show only at the next full
 * resync; a fallback's connection would time out on its next search
 * instead of reconnecting. The first probe after 60 s idle (shorter than
 * common firewall idle timeouts), then 3 probes 10 s apart: a dead peer
 * shows within 90 s, for three small packets per idle minute. ldapi://
 * has no TCP: libldap ignores them there. */
void ldapsock_keepalive(LDAP *ld)
{
    int idle = 60, probes = 3, interval = 10;

    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);
}

/* Read-ahead under libldap's message reader. libldap reads a message with
 * one read() for its tag and length and one for the rest, after a poll()
 * unless bytes are buffered: three system calls per entry. This layer
 * fetches up to LDAPSOCK_READAHEAD bytes per read() and tells libldap that
 * data is ready while some is left. It never reads the socket while it
 * still holds bytes (a short read is fine for libldap, which then polls
 * with the operation's timeout, as it would without this layer).
 *
 * Reading faster than the server writes has its own cost: waiting in
 * poll() for every entry makes each of the server's writes wake us, and
 * the server pays for the wakeups (measured: 1M entries over ldapi next
 * to a busy CPU took 15% longer without the nap below). So in
 * bulk mode, after a read that found only a few entries, the next wait
 * starts with a short nap that lets a batch build up. The nap is bounded
 * (LDAPSOCK_NAP_US, at most once per read) and never follows a request
 * (the server has work to do first); the poll() after it keeps
 * ldap_timeout. Key searches turn bulk mode off: their latency counts,
 * their volume does not. */
#define LDAPSOCK_READAHEAD (64 * 1024)
#define LDAPSOCK_NAP_BELOW 4096
#define LDAPSOCK_NAP_US 100

/* A private Sockbuf control (libldap's own stop at 15; layers pass on
 * what they do not know): int *arg, non-zero for bulk mode. */
#define LDAPSOCK_SB_OPT_BULK 0x4d4d01

struct ldapsock_buf {
    size_t pos, end;
    bool bulk;              /* nap when the socket runs dry */
    bool nap;               /* the last read found little: nap before waiting */
    char data[LDAPSOCK_READAHEAD];
};

/* ldapsock_setup - take the buffer allocated by ldapsock_readahead_push:
 * libldap leaves a layer whose setup fails on the stack, so this must not */
static int ldapsock_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}

/* ldapsock_remove - free the buffer (the connection is going away:
 * unread bytes go with it) */
static int ldapsock_remove(Sockbuf_IO_Desc *sbiod)
{
    free(sbiod->sbiod_pvt);
    sbiod->sbiod_pvt = NULL;
    return 0;
}

/* ldapsock_ctrl - buffered bytes count as data ready; bulk mode */
static int ldapsock_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    struct ldapsock_buf *b = sbiod->sbiod_pvt;
    if (opt == LBER_SB_OPT_DATA_READY) {
        if (b->pos < b->end)
            return 1;
        /* libldap asks this right before it polls */
        if (b->nap) {
            struct timespec ts = { 0, LDAPSOCK_NAP_US * 1000L };
            b->nap = false;
            nanosleep(&ts, NULL);   /* a signal just ends it early */
        }
    } else if (opt == LDAPSOCK_SB_OPT_BULK) {
        b->bulk = *(const int *)arg != 0;
        b->nap = false;
        return 1;
    }
    return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

/* ldapsock_read - from the buffer; refill it only when empty */
static ber_slen_t ldapsock_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    struct ldapsock_buf *b = sbiod->sbiod_pvt;
    size_t n;
    /* the rest of a message larger than the buffer: no need to copy */
    if (b->pos == b->end && len >= sizeof(b->data))
        return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
    if (b->pos == b->end) {
        ber_slen_t r = LBER_SBIOD_READ_NEXT(sbiod, b->data, sizeof(b->data));
        if (r <= 0)
            return r;   /* errno as the layer below set it (EINTR is retried above) */
        b->pos = 0;
        b->end = (size_t)r;
        b->nap = b->bulk && b->end < LDAPSOCK_NAP_BELOW;
    }
    n = b->end - b->pos;
    if (n > len)
        n = len;
    memcpy(buf, b->data + b->pos, n);
    b->pos += n;
    return (ber_slen_t)n;
}

/* ldapsock_write - writes pass through; a request means the next
 * wait is for the server, not for a batch */
static ber_slen_t ldapsock_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    struct ldapsock_buf *b = sbiod->sbiod_pvt;
    b->nap = false;
    return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}

static Sockbuf_IO ldapsock_io = {
    .sbi_setup = ldapsock_setup,
    .sbi_remove = ldapsock_remove,
    .sbi_ctrl = ldapsock_ctrl,
    .sbi_read = ldapsock_read,
    .sbi_write = ldapsock_write,
    .sbi_close = NULL,
};

/* ldapsock_readahead_push - the layer just above the socket (below TLS).
 * Only an optimisation: on failure the Sockbuf works as it is. */
int ldapsock_readahead_push(Sockbuf *sb)
{
    struct ldapsock_buf *b = malloc(sizeof(*b));
    if (b == NULL)
        return -1;
    b->pos = b->end = 0;
    b->bulk = true;
    b->nap = false;
    if (ber_sockbuf_add_io(sb, &ldapsock_io, LBER_SBIOD_LEVEL_PROVIDER, b) < 0) {
        free(b);
        return -1;
    }
    return 0;
}

/* ldapsock_readahead_add - the layer on ld's Sockbuf, in bulk mode (the
 * persist mode's refresh streams the directory too) */
void ldapsock_readahead_add(LDAP *ld)
{
    Sockbuf *sb = NULL;
    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL)
        (void)ldapsock_readahead_push(sb);
}

/* ldapsock_sb_bulk - bulk mode on or off, if the layer is there */
bool ldapsock_sb_bulk(Sockbuf *sb, bool on)
{
    int v = on;
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_HAS_IO, &ldapsock_io) != 1)
        return false;
    ber_sockbuf_ctrl(sb, LDAPSOCK_SB_OPT_BULK, &v);
    return true;
}

/* ldapsock_bulk - bulk mode on ld's connection */
void ldapsock_bulk(LDAP *ld, bool on)
{
    Sockbuf *sb = NULL;
    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL)
        (void)ldapsock_sb_bulk(sb, on);
}
