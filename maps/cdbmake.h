#ifndef MAILMAPS_CDBMAKE_H
#define MAILMAPS_CDBMAKE_H

/* Writing a CDB file (D. J. Bernstein's constant database format, as
 * tinycdb and Postfix's cdb: tables read it): records one after the other
 * through a large buffer, then the 256 hash tables, then the table of
 * contents at the start. The same records in the same order give the
 * same bytes as tinycdb's cdb_make. Our own writer because tinycdb's
 * writes 4 KiB at a time: a million-user map costs a hundred thousand
 * write() calls that way.
 *
 * The caller keeps the file under the format's 4 GiB (mapwriter checks
 * before adding). */

#include <stddef.h>
#include <stdint.h>

struct cdbmake_rec {
    uint32_t hash;
    uint32_t pos;
};

struct cdbmake {
    int fd;
    unsigned char *buf;          /* output not written yet */
    size_t used;
    uint32_t pos;                /* file offset the next record starts at */
    struct cdbmake_rec *rec;     /* every record so far, in order */
    size_t count, cap;
};

/* cdbmake_hash - the format's hash of a key */
uint32_t cdbmake_hash(const void *key, size_t len);

/* cdbmake_start - begin a CDB in the empty file fd (written from offset
 * 0). 0, or -1 with errno (no memory). */
int cdbmake_start(struct cdbmake *m, int fd);

/* cdbmake_add - append one record. 0, or -1 with errno. */
int cdbmake_add(struct cdbmake *m, const void *key, uint32_t klen, const void *val,
                uint32_t vlen);

/* cdbmake_finish - hash tables and table of contents written; the
 * memory is released either way. 0, or -1 with errno. */
int cdbmake_finish(struct cdbmake *m);

/* cdbmake_free - release without finishing (the file is left as is) */
void cdbmake_free(struct cdbmake *m);

#endif
