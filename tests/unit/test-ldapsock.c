/* test-ldapsock - the read-ahead layer under liblber's reader, over a
 * socket pair: several messages come in with one read and count as data
 * ready while buffered; a message larger than the buffer passes through
 * whole; a message cut across reads is put together; bulk mode is only
 * accepted where the layer is; the keepalive options reach the handle. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>

#include "maps/ldapsock.h"
#include "tests/unit/tap.h"

/* element - SEQUENCE { OCTET STRING of n bytes of c }, BER encoded with
 * long-form lengths (as an LDAP message wraps its parts), into out;
 * returns its size */
static size_t element(unsigned char *out, size_t n, unsigned char c)
{
    size_t h = 0, outer = n + 5;
    out[h++] = 0x30;
    out[h++] = 0x83;
    out[h++] = (unsigned char)(outer >> 16);
    out[h++] = (unsigned char)(outer >> 8);
    out[h++] = (unsigned char)outer;
    out[h++] = 0x04;
    out[h++] = 0x83;
    out[h++] = (unsigned char)(n >> 16);
    out[h++] = (unsigned char)(n >> 8);
    out[h++] = (unsigned char)n;
    memset(out + h, c, n);
    return h + n;
}

/* write_all - every byte to fd */
static void write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            abort();
        p += w;
        n -= (size_t)w;
    }
}

/* get - the next element from sb: its length, or -1. liblber returns
 * what it has so far as "would block", as libldap's loop expects. */
static long get(Sockbuf *sb, unsigned char *c_r)
{
    BerElement *ber = ber_alloc_t(0);
    ber_len_t len;
    ber_tag_t tag;
    struct berval bv = { 0, NULL };
    long r = -1;

    errno = 0;
    while ((tag = ber_get_next(sb, &len, ber)) == LBER_DEFAULT &&
           (errno == EWOULDBLOCK || errno == EAGAIN))
        errno = 0;
    if (tag == 0x30 && ber_scanf(ber, "m", &bv) != LBER_ERROR) {
        r = (long)bv.bv_len;
        *c_r = bv.bv_len ? (unsigned char)bv.bv_val[bv.bv_len - 1] : 0;
    }
    ber_free(ber, 1);
    return r;
}

/* pending - bytes the kernel still holds for fd (not yet read) */
static int pending(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0;
}

static void test_readahead(void)
{
    int sv[2];
    unsigned char *buf = malloc(300000), c;
    Sockbuf *sb = ber_sockbuf_alloc();

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || sb == NULL || buf == NULL)
        abort();
    ok(ber_sockbuf_add_io(sb, &ber_sockbuf_io_fd, LBER_SBIOD_LEVEL_PROVIDER, &sv[0]) == 0,
       "a Sockbuf on the socket");
    ok(!ldapsock_sb_bulk(sb, true), "no layer yet: bulk mode is not taken");
    is_int(ldapsock_readahead_push(sb), 0, "the layer pushed");
    ok(ldapsock_sb_bulk(sb, false), "bulk mode off: taken");

    /* three small messages in one write: one read takes them all */
    size_t n = element(buf, 100, 'a');
    n += element(buf + n, 200, 'b');
    n += element(buf + n, 300, 'c');
    write_all(sv[1], buf, n);
    is_int(get(sb, &c), 100, "the first message");
    ok(!pending(sv[0]), "the socket was read to the end at once");
    is_int(ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, NULL), 1, "the rest counts as ready");
    is_int(get(sb, &c), 200, "the second, from the buffer");
    ok(c == 'b', "  its bytes");
    is_int(get(sb, &c), 300, "the third");
    ok(c == 'c', "  its bytes");

    /* larger than the buffer (64 KiB): whole, and its bytes right */
    n = element(buf, 200000, 'x');
    buf[n - 1] = 'y';
    n += element(buf + n, 10, 'z');
    pid_t pid = fork();
    if (pid == 0) {                  /* the writer: the socket holds less */
        write_all(sv[1], buf, n);
        _exit(0);
    }
    is_int(get(sb, &c), 200000, "a message larger than the buffer");
    ok(c == 'y', "  its last byte");
    is_int(get(sb, &c), 10, "and the one after it");
    waitpid(pid, NULL, 0);

    /* a message cut across two writes */
    n = element(buf, 1000, 'k');
    write_all(sv[1], buf, 600);
    pid_t pid2 = fork();
    if (pid2 == 0) {
        usleep(20000);
        write_all(sv[1], buf + 600, n - 600);
        _exit(0);
    }
    is_int(get(sb, &c), 1000, "a message cut across reads");
    ok(c == 'k', "  its bytes");
    waitpid(pid2, NULL, 0);

    ok(ldapsock_sb_bulk(sb, true), "bulk mode on");
    n = element(buf, 10, 'q');
    write_all(sv[1], buf, n);
    is_int(get(sb, &c), 10, "read in bulk mode (a nap at most)");
    close(sv[1]);
    is_int(get(sb, &c), -1, "the peer closed: no message");
    ber_sockbuf_free(sb);            /* closes sv[0], frees the buffer */
    free(buf);
}

static void test_keepalive(void)
{
    LDAP *ld = NULL;
    int idle = 0, probes = 0, interval = 0;

    if (ldap_initialize(&ld, "ldap://127.0.0.1:1/") != LDAP_SUCCESS)
        abort();
    ldapsock_keepalive(ld);
    ldap_get_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    ldap_get_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    ldap_get_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);
    ok(idle == 60 && probes == 3 && interval == 10,
       "keepalive: 60 s idle, 3 probes 10 s apart (%d, %d, %d)", idle, probes, interval);
    ldap_unbind_ext(ld, NULL, NULL);
}

int main(void)
{
    test_readahead();
    test_keepalive();
    return tap_done();
}
