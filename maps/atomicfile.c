/* atomicfile - temp file beside the target, fsync, rename, fsync of the
 * directory (atomicfile.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/atomicfile.h"

/* Six characters of 62 give 5.7e10 names: a collision with a leftover is
 * rare, and one planted on purpose cannot be predicted. A few tries cover
 * the rare collision; many more would only mean someone fills the
 * directory. */
#define TMP_RANDOM 6
#define TMP_TRIES 100

static const char tmp_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* split_dir - the directory of path, malloc'ed ("/" for "/x", "." for "x") */
static char *split_dir(const char *path, const char **base_r)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        *base_r = path;
        return strdup(".");
    }
    *base_r = slash + 1;
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* fill_random - TMP_RANDOM name characters at out */
static int fill_random(char *out)
{
    unsigned char bytes[TMP_RANDOM];
    size_t got = 0;

    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(bytes); i++)
        out[i] = tmp_chars[bytes[i] % (sizeof(tmp_chars) - 1)];
    return 0;
}

/* atomicfile_open - ".BASE.XXXXXX" beside path, exclusively ours */
int atomicfile_open(struct atomicfile *af, const char *path, char *err, size_t errsz)
{
    const char *base;

    memset(af, 0, sizeof(*af));
    af->fd = -1;
    af->path = strdup(path);
    af->dir = split_dir(path, &base);
    size_t tlen = strlen(path) + TMP_RANDOM + 4;
    af->tmp = malloc(tlen);
    if (af->path == NULL || af->dir == NULL || af->tmp == NULL) {
        atomicfile_discard(af);
        snprintf(err, errsz, "%s: out of memory", path);
        return -1;
    }
    if (*base == '\0') {
        atomicfile_discard(af);
        snprintf(err, errsz, "%s: not a file name", path);
        return -1;
    }
    int n = snprintf(af->tmp, tlen, "%.*s.%s.", (int)(base - path), path, base);
    for (int i = 0; i < TMP_TRIES; i++) {
        if (fill_random(af->tmp + n) < 0)
            break;
        af->tmp[n + TMP_RANDOM] = '\0';
        af->fd = open(af->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (af->fd >= 0 || errno != EEXIST)
            break;
    }
    if (af->fd < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: cannot create a temp file in %s: %s", path, af->dir,
                 strerror(saved));
        free(af->tmp);
        af->tmp = NULL;             /* not ours: discard must not unlink it */
        atomicfile_discard(af);
        return -1;
    }
    return 0;
}

/* atomicfile_write - all len bytes or an error */
int atomicfile_write(struct atomicfile *af, const void *buf, size_t len, char *err,
                     size_t errsz)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(af->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            snprintf(err, errsz, "%s: write %s: %s", af->path, af->tmp, strerror(saved));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* atomicfile_seal - mode, group, on disk */
int atomicfile_seal(struct atomicfile *af, mode_t mode, gid_t gid, char *err, size_t errsz)
{
    const char *step = "chmod";
    if (fchmod(af->fd, mode & 07777) == 0) {
        step = "chown";
        if (gid == (gid_t)-1 || fchown(af->fd, (uid_t)-1, gid) == 0) {
            step = "fsync";
            if (fsync(af->fd) == 0)
                return 0;
        }
    }
    int saved = errno;
    snprintf(err, errsz, "%s: %s %s: %s", af->path, step, af->tmp, strerror(saved));
    return -1;
}

/* atomicfile_rename - the one rename of the project */
int atomicfile_rename(struct atomicfile *af, char *err, size_t errsz)
{
    if (rename(af->tmp, af->path) < 0) {
        int saved = errno;
        snprintf(err, errsz, "%s: rename %s: %s", af->path, af->tmp, strerror(saved));
        return -1;
    }
    free(af->tmp);
    af->tmp = NULL;
    return 0;
}

/* atomicfile_sync_dir - the directory entry itself on disk */
int atomicfile_sync_dir(const char *dir, char *err, size_t errsz)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errsz, "renamed into place, but fsync of %s failed: %s", dir,
                 strerror(saved));
        return -1;
    }
    close(fd);
    return 0;
}

/* atomicfile_discard - release; an unrenamed temp file goes */
void atomicfile_discard(struct atomicfile *af)
{
    if (af->fd >= 0)
        close(af->fd);
    af->fd = -1;
    if (af->tmp != NULL)
        unlink(af->tmp);
    free(af->tmp);
    free(af->dir);
    free(af->path);
    af->tmp = af->dir = af->path = NULL;
}

/* atomicfile_commit - seal, close, rename, fsync of the directory */
int atomicfile_commit(struct atomicfile *af, mode_t mode, gid_t gid, char *err, size_t errsz)
{
    int rc = atomicfile_seal(af, mode, gid, err, errsz);
    if (rc == 0) {
        /* close reports what some file systems (NFS) only learn now */
        int fd = af->fd;
        af->fd = -1;
        if (close(fd) < 0) {
            int saved = errno;
            snprintf(err, errsz, "%s: close %s: %s", af->path, af->tmp, strerror(saved));
            rc = -1;
        }
    }
    if (rc == 0)
        rc = atomicfile_rename(af, err, errsz);
    if (rc == 0 && atomicfile_sync_dir(af->dir, err, errsz) < 0) {
        /* prefix the target: the reason names the directory only */
        char why[512];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errsz, "%s: %s", af->path, why);
        rc = -1;
    }
    atomicfile_discard(af);
    return rc;
}

/* atomicfile_replace - bytes in memory to path */
int atomicfile_replace(const char *path, const void *data, size_t len, mode_t mode, gid_t gid,
                       char *err, size_t errsz)
{
    struct atomicfile af;

    if (atomicfile_open(&af, path, err, errsz) < 0)
        return -1;
    if (atomicfile_write(&af, data, len, err, errsz) < 0) {
        atomicfile_discard(&af);
        return -1;
    }
    return atomicfile_commit(&af, mode, gid, err, errsz);
}

/* atomicfile_is_temp - ".BASE." and TMP_RANDOM name characters */
bool atomicfile_is_temp(const char *name, const char *base)
{
    size_t blen = strlen(base);

    if (name[0] != '.' || strncmp(name + 1, base, blen) != 0 || name[1 + blen] != '.')
        return false;
    const char *r = name + blen + 2;
    return strlen(r) == TMP_RANDOM && strspn(r, tmp_chars) == TMP_RANDOM;
}

/* atomicfile_remove_temps - leftovers of a writer killed mid-write */
int atomicfile_remove_temps(const char *path)
{
    const char *base;
    char *dir = split_dir(path, &base);
    DIR *d = dir != NULL ? opendir(dir) : NULL;
    struct dirent *de;
    int n = 0;

    free(dir);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (atomicfile_is_temp(de->d_name, base) && unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    closedir(d);
    return n;
}
