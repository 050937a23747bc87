#ifndef MAILMAPS_SCRATCH_H
#define MAILMAPS_SCRATCH_H

/* scratch - a unit test's own temporary directory: scratch_make() at the
 * start (one check, "scratch directory"), path_in() for the names in it,
 * scratch_remove() at the end takes it with everything below it. Include
 * after tap.h. */

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[64];

/* scratch_make - create /tmp/NAME.XXXXXX as dir; false (and a failed check)
 * when that is impossible */
__attribute__((unused))
static int scratch_make(const char *name)
{
    snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
    return ok(mkdtemp(dir) != NULL, "scratch directory");
}

/* path_in - dir/name into one of two static buffers, so that two can be
 * used in one call */
__attribute__((unused))
static const char *path_in(const char *name)
{
    static char buf[2][512];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
    return buf[which];
}

static int scratch_unlink(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st, (void)type, (void)f;
    remove(path);
    return 0;
}

/* scratch_remove - dir and everything below it (symlinks not followed) */
__attribute__((unused))
static void scratch_remove(void)
{
    nftw(dir, scratch_unlink, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
