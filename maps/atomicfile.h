#ifndef MAILMAPS_ATOMICFILE_H
#define MAILMAPS_ATOMICFILE_H

/* Replace a file so that a reader sees the old bytes or the new ones,
 * never a mix, and a crash at any point leaves one of the two in place.
 * Every file mailmaps writes (maps, status, persist state, Postfix
 * tables) goes through here.
 *
 * The temp file lives beside the target (a rename only stays atomic within
 * one file system) as "DIR/.BASE.XXXXXX": hidden (Postfix never opens a
 * name it was not given, a leftover is easy to spot, atomicfile_is_temp
 * recognises it), with six characters from the kernel's random source, and
 * created with O_CREAT|O_EXCL|O_NOFOLLOW: a name planted in advance, a
 * symlink included, is never opened, so a directory someone else can write
 * to cannot redirect the write. The temp file is mode 0600 while it is
 * written; atomicfile_seal gives it its mode and group (the umask neither
 * loosens nor tightens them) and fsyncs it; atomicfile_rename puts it in
 * place, replacing a symlink at the target rather than following it;
 * atomicfile_sync_dir makes the rename durable.
 *
 * Order of calls: atomicfile_open, writes (atomicfile_write, or the
 * caller's own into af->fd), then either atomicfile_commit (seal, close,
 * rename, fsync of the directory, release) or the steps one by one
 * (atomicfile_seal, atomicfile_rename, atomicfile_sync_dir,
 * atomicfile_discard) when several files must be complete before any is
 * renamed, or the descriptor is still wanted after the rename. A failing
 * step leaves the handle to atomicfile_discard, which removes a temp file
 * not yet renamed; the old file is then untouched. atomicfile_replace does
 * it all for bytes in memory. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A file being replaced. The strings are owned by the handle; fd is the
 * temp file open for reading and writing (-1 once closed); tmp is NULL
 * once the file was renamed into place or discarded. */
struct atomicfile {
    char *path;     /* the target */
    char *dir;      /* its directory ("." for a bare name) */
    char *tmp;      /* the temp file */
    int fd;
};

/* atomicfile_open - create the temp file for path. 0, or -1 with a reason
 * (the handle then holds nothing; atomicfile_discard is harmless). */
int atomicfile_open(struct atomicfile *af, const char *path, char *err, size_t errsz);

/* atomicfile_write - append len bytes to the temp file (short writes and
 * EINTR retried). 0, or -1 with a reason. */
int atomicfile_write(struct atomicfile *af, const void *buf, size_t len, char *err,
                     size_t errsz);

/* atomicfile_seal - the temp file complete: mode (& 07777), group (gid
 * (gid_t)-1 = the creator's), fsync'ed. 0, or -1 with a reason. */
int atomicfile_seal(struct atomicfile *af, mode_t mode, gid_t gid, char *err, size_t errsz);

/* atomicfile_rename - the sealed temp file into place; fd stays open and
 * still reads the new file's bytes. 0, or -1 with a reason (nothing
 * replaced). */
int atomicfile_rename(struct atomicfile *af, char *err, size_t errsz);

/* atomicfile_sync_dir - fsync a directory, making the renames in it
 * durable. 0, or -1 with a reason (the files are in place already). */
int atomicfile_sync_dir(const char *dir, char *err, size_t errsz);

/* atomicfile_discard - close, remove the temp file unless it was renamed,
 * release the handle. Safe on a handle atomicfile_open failed on, and
 * twice. */
void atomicfile_discard(struct atomicfile *af);

/* atomicfile_commit - seal, close, rename, fsync the directory, release:
 * 0, or -1 with a reason. The handle is released either way. A failure
 * before the rename leaves the old file untouched (the temp file is
 * removed); a failure of the directory fsync comes with the new file in
 * place, and the reason says so. */
int atomicfile_commit(struct atomicfile *af, mode_t mode, gid_t gid, char *err, size_t errsz);

/* atomicfile_replace - path gets exactly data[len], with mode and group as
 * in atomicfile_seal. 0, or -1 with a reason (as atomicfile_commit). */
int atomicfile_replace(const char *path, const void *data, size_t len, mode_t mode, gid_t gid,
                       char *err, size_t errsz);

/* atomicfile_is_temp - name (a directory entry) is a temp file this module
 * made for the target named base, e.g. ".status.x3Ab9Q" for "status" */
bool atomicfile_is_temp(const char *name, const char *base);

/* atomicfile_remove_temps - remove the temp files left beside path by a
 * writer that died before its commit. Only when no writer of path can be
 * at work (the caller holds the lock that serialises them). The number
 * removed, or -1 when the directory cannot be read. */
int atomicfile_remove_temps(const char *path);

#endif
