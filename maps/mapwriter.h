#ifndef MAILMAPS_MAPWRITER_H
#define MAILMAPS_MAPWRITER_H

/* Build CDB maps that Postfix's cdb: tables and our readers can trust:
 * keys lower-cased, no NUL in keys or values, no empty keys or values
 * (Postfix 3.7 crashes on an empty value), records sorted by key so the
 * same input gives byte-identical files, each file written beside its
 * final name, fsync'ed and only then renamed into place (atomicfile.h).
 *
 * A mapwriter collects records in memory (one per map) and sorts them, or,
 * after mapwriter_stream(), writes records that arrive in key order
 * straight into its temp file (no copy, no sort: what the sync does with
 * mapbuild's sorted output). mapwriter_commit() on a set of writers
 * completes every temp file first and renames them only when all are
 * complete ("all or none"); on any failure every temp file is removed and
 * every old map is left as it was.
 *
 * Writers are independent: different writers may be filled and finished
 * in different threads; commit takes them all in one thread. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mapwriter;

/* mapwriter_new - collect records for the map at path (e.g.
 * "/var/lib/mailmaps/users.cdb"). mode/gid apply to the new file
 * (gid (gid_t)-1 = leave as created). NULL when out of memory. */
struct mapwriter *mapwriter_new(const char *path, mode_t mode, gid_t gid);
void mapwriter_free(struct mapwriter *w);

/* mapwriter_stream - from now on write records straight to the temp file;
 * they must arrive in strictly increasing key order (bytewise, after
 * lower-casing), anything else is an error. Before the first add. 0, or
 * -1 with a reason (the temp file cannot be created). */
int mapwriter_stream(struct mapwriter *w, char *err, size_t errsz);

/* mapwriter_add - add a record (both copied; key lower-cased). -1 with a
 * reason for an empty key or value, a NUL inside, or no memory. Duplicate
 * keys are detected at commit time (an error: callers resolve conflicts);
 * a streaming writer refuses a duplicate or out-of-order key at once. */
int mapwriter_add(struct mapwriter *w, const char *key, size_t keylen,
                  const char *value, size_t vallen, char *err, size_t errsz);

/* mapwriter_count - records added so far */
size_t mapwriter_count(const struct mapwriter *w);

/* mapwriter_finish - complete the temp file now (sorted, written,
 * permissions set, fsync'ed) instead of in mapwriter_commit, e.g. in a
 * thread of its own. No record may be added afterwards. 0, or -1 with a
 * reason and the temp file removed. */
int mapwriter_finish(struct mapwriter *w, char *err, size_t errsz);

/* mapwriter_unchanged - finish the n writers, then compare each new file
 * with the map in place: 1 when every one holds the same bytes with the
 * same mode, owner and group (committing would change nothing a reader
 * sees), 0 when any differs or is missing, -1 with a reason (the writers
 * are then discarded, as by a failed commit). The writers stay finished:
 * commit them, or free them to leave the maps as they are. */
int mapwriter_unchanged(struct mapwriter *const *writers, size_t n, char *err, size_t errsz);

/* mapwriter_commit - write all n maps to temp files, fsync, rename into
 * place in array order, fsync the directory. 0 on success; -1 with a
 * reason, every temp file removed and no map replaced (a failure of the
 * renames themselves, which needs a broken file system, may leave earlier
 * ones in place, and a failed fsync of the directory or checksum comes
 * after all are in place; the reason says so). Commit finishes the writers not finished
 * yet; a set of collecting writers may be committed again. checksum_hex (may be NULL, else
 * SHA256_HEX_SIZE bytes) receives the SHA-256 over the new files' bytes in
 * array order. */
int mapwriter_commit(struct mapwriter *const *writers, size_t n,
                     char *checksum_hex, char *err, size_t errsz);

#endif
