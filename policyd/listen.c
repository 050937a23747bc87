/* listen - the policy_listen sockets */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "policyd/listen.h"

#define LISTEN_BACKLOG 1024

/* listen_name - for log lines */
void listen_name(const struct conf_listen *l, char *buf, size_t bufsz)
{
    if (l->kind == CONF_LISTEN_UNIX)
        snprintf(buf, bufsz, "unix:%s", l->path);
    else
        snprintf(buf, bufsz, "inet:%s:%u", l->host, l->port);
}

/* stale_remove - unlink a socket file nobody answers on any more */
static int stale_remove(const char *path, char *err, size_t errsz)
{
    struct stat st;
    struct sockaddr_un sun;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : (snprintf(err, errsz, "%s: %s", path, strerror(errno)), -1);
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errsz, "%s exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    if (live) {
        snprintf(err, errsz, "%s: another server is listening there", path);
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errsz, "cannot remove stale %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* open_unix - bind with a tight umask, then hand the socket to group */
static int open_unix(const struct conf_listen *l, mode_t mode, const char *group, char *err,
                     size_t errsz)
{
    struct sockaddr_un sun;
    gid_t gid = (gid_t)-1;

    if (group != NULL && group[0] != '\0') {
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            snprintf(err, errsz, "policy_socket_group %s: no such group", group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (stale_remove(l->path, err, errsz) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l->path);
    /* nobody may connect before the mode and group are right */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0) {
        snprintf(err, errsz, "bind %s: %s", l->path, strerror(errno));
        close(fd);
        return -1;
    }
    /* by name, but never through a symlink swapped in after the bind */
    if ((gid != (gid_t)-1 && lchown(l->path, (uid_t)-1, gid) < 0) ||
        fchmodat(AT_FDCWD, l->path, mode, AT_SYMLINK_NOFOLLOW) < 0) {
        snprintf(err, errsz, "%s: cannot set group or mode: %s", l->path, strerror(errno));
        unlink(l->path);
        close(fd);
        return -1;
    }
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errsz, "listen %s: %s", l->path, strerror(errno));
        unlink(l->path);
        close(fd);
        return -1;
    }
    return fd;
}

/* open_inet - the first address HOST:PORT resolves to that binds */
static int open_inet(const struct conf_listen *l, bool reuseport, char *err, size_t errsz)
{
    struct addrinfo hints, *res, *ai;
    char port[16];
    int fd = -1, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", l->port);
    int gai = getaddrinfo(l->host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errsz, "%s: %s", l->host, gai_strerror(gai));
        return -1;
    }
    snprintf(err, errsz, "%s:%u: no usable address", l->host, l->port);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
            break;
        snprintf(err, errsz, "%s:%u: %s", l->host, l->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* listen_open - one policy_listen address */
int listen_open(const struct conf_listen *l, mode_t mode, const char *group, bool reuseport,
                char *err, size_t errsz)
{
    return l->kind == CONF_LISTEN_UNIX ? open_unix(l, mode, group, err, errsz)
                                       : open_inet(l, reuseport, err, errsz);
}
