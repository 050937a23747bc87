/* test-atomicfile - replace a file: new bytes and mode on success, the old
 * file byte for byte and no temp file on every failure, symlinks never
 * followed (at the temp name, at the target, at names older versions
 * used), the temp name recognised for clean-up. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "maps/atomicfile.h"
#include "tests/unit/tap.h"
#include "tests/unit/scratch.h"

/* With fake_random set, the module's temp names come from a counter
 * ("AAAAAA", then "BBBBBB", ...): a test can plant something at the very
 * name the next replace will try. The executable's definition wins over
 * libc's for the library linked into it. */
static int fake_random;
static unsigned char fake_byte;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    if (!fake_random)
        return syscall(SYS_getrandom, buf, len, flags);
    memset(buf, fake_byte++, len);
    return (ssize_t)len;
}

/* put - create path with text (plain open: the test's own files) */
static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        diag("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* plant - a symlink at name pointing to target (already there is fine) */
static void plant(const char *target, const char *name)
{
    if (symlink(target, name) < 0 && errno != EEXIST)
        diag("symlink %s: %s", name, strerror(errno));
}

/* holds - path is a regular file holding exactly text */
static int holds(const char *path, const char *text)
{
    char buf[4096];
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    return n >= 0 && (size_t)n == strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

/* temps - entries of dir that are temp files for base */
static int temps(const char *base)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (dp == NULL)
        return -1;
    while ((e = readdir(dp)) != NULL)
        n += atomicfile_is_temp(e->d_name, base);
    closedir(dp);
    return n;
}

/* mode_of - permission bits of path (lstat), -1 if missing */
static int mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* replace - atomicfile_replace of a C string */
static int replace(const char *path, const char *text, mode_t mode, char *err, size_t errsz)
{
    return atomicfile_replace(path, text, strlen(text), mode, (gid_t)-1, err, errsz);
}

/* test_success - new file, replaced file, empty file, bare name */
static void test_success(void)
{
    char err[512] = "";
    char t[512];
    snprintf(t, sizeof(t), "%s", path_in("table"));

    is_int(replace(t, "one\n", 0644, err, sizeof(err)), 0, "a new file");
    ok(holds(t, "one\n"), "it holds the bytes");
    struct stat before, after;
    lstat(t, &before);
    is_int(replace(t, "two, longer\n", 0644, err, sizeof(err)), 0, "replaced");
    ok(holds(t, "two, longer\n"), "it holds the new bytes");
    lstat(t, &after);
    ok(before.st_ino != after.st_ino, "a new inode: readers of the old one keep the old bytes");
    is_int(replace(t, "", 0644, err, sizeof(err)), 0, "an empty file");
    ok(holds(t, ""), "it is empty");
    is_int(temps("table"), 0, "no temp file left");

    char cwd[512];
    if (getcwd(cwd, sizeof(cwd)) != NULL && chdir(dir) == 0) {
        is_int(replace("bare", "x", 0600, err, sizeof(err)), 0, "a name without a directory");
        ok(holds(path_in("bare"), "x"), "written in the current directory");
        if (chdir(cwd) != 0)
            diag("chdir back: %s", strerror(errno));
    }
    is_int(atomicfile_replace(path_in(""), "x", 1, 0600, (gid_t)-1, err, sizeof(err)), -1,
           "a path ending in / is refused");
}

/* test_modes - the mode asked for, whatever the umask */
static void test_modes(void)
{
    static const struct {
        mode_t mode, umask;
    } cases[] = {
        { 0600, 022 }, { 0640, 022 }, { 0644, 022 }, { 0644, 077 }, { 0640, 0 }, { 0660, 0 },
    };
    char err[512];
    char t[512];
    snprintf(t, sizeof(t), "%s", path_in("moded"));

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mode_t old = umask(cases[i].umask);
        is_int(replace(t, "m", cases[i].mode, err, sizeof(err)), 0, "replace %04o under umask %03o",
               (unsigned)cases[i].mode, (unsigned)cases[i].umask);
        umask(old);
        is_int(mode_of(t), cases[i].mode, "mode %04o under umask %03o", (unsigned)cases[i].mode,
               (unsigned)cases[i].umask);
    }
    is_int(atomicfile_replace(t, "g", 1, 0640, getgid(), err, sizeof(err)), 0, "with a group");
    struct stat st;
    ok(lstat(t, &st) == 0 && st.st_gid == getgid(), "the group asked for");
}

/* test_failures - every failure keeps the old file byte for byte */
static void test_failures(void)
{
    char err[512];
    char t[512];
    snprintf(t, sizeof(t), "%s", path_in("keep"));
    const char *old = "the old bytes\n";

    put(t, old);
    chmod(t, 0640);

    /* a write that fails half-way: file size limit */
    struct rlimit saved, small = { 4, 4 };
    getrlimit(RLIMIT_FSIZE, &saved);
    small.rlim_max = saved.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small);
    int rc = replace(t, "far more than four bytes", 0644, err, sizeof(err));
    setrlimit(RLIMIT_FSIZE, &saved);
    is_int(rc, -1, "a failed write fails");
    ok(strstr(err, "keep") != NULL && strstr(err, "write") != NULL, "the reason names file and step: %s", err);
    ok(holds(t, old) && mode_of(t) == 0640, "the old file byte for byte, its mode too");
    is_int(temps("keep"), 0, "no temp file left");

    /* the rename fails: a directory at the target */
    char d[512];
    snprintf(d, sizeof(d), "%s", path_in("adir"));
    mkdir(d, 0755);
    put(path_in("adir/inside"), "x");
    is_int(replace(d, "y", 0644, err, sizeof(err)), -1, "a directory at the target");
    ok(strstr(err, "rename") != NULL, "the reason says rename: %s", err);
    ok(holds(path_in("adir/inside"), "x"), "the directory is untouched");
    is_int(temps("adir"), 0, "no temp file left");

    /* nowhere to create the temp file */
    is_int(replace(path_in("missing/x"), "y", 0644, err, sizeof(err)), -1, "a missing directory");
    ok(strstr(err, "temp file") != NULL, "the reason says temp file: %s", err);

    /* the caller gives up after writing */
    struct atomicfile af;
    is_int(atomicfile_open(&af, t, err, sizeof(err)), 0, "open for a caller who gives up");
    is_int(atomicfile_write(&af, "new", 3, err, sizeof(err)), 0, "written");
    is_int(temps("keep"), 1, "a temp file while writing");
    atomicfile_discard(&af);
    atomicfile_discard(&af);
    ok(holds(t, old), "discarded: the old file byte for byte");
    is_int(temps("keep"), 0, "discarded: no temp file left");

    is_int(atomicfile_sync_dir(path_in("missing"), err, sizeof(err)), -1,
           "fsync of a missing directory fails");
}

/* test_symlinks - nothing is written through a symlink */
static void test_symlinks(void)
{
    char err[512];
    char t[512];
    snprintf(t, sizeof(t), "%s", path_in("target"));
    char victim[512];
    snprintf(victim, sizeof(victim), "%s", path_in("victim"));

    put(victim, "victim\n");
    put(t, "old\n");

    /* at the very name the module picks first */
    fake_random = 1;
    fake_byte = 0;
    plant(victim, path_in(".target.AAAAAA"));
    plant(path_in("created-through-link"), path_in(".target.BBBBBB"));
    is_int(replace(t, "new\n", 0644, err, sizeof(err)), 0, "replace past planted temp names");
    ok(holds(t, "new\n"), "the target holds the new bytes");
    ok(holds(victim, "victim\n"), "the victim behind a link at the temp name is untouched");
    ok(mode_of(path_in("created-through-link")) == -1, "a dangling link at the temp name creates nothing");
    struct stat st;
    ok(lstat(path_in(".target.AAAAAA"), &st) == 0 && S_ISLNK(st.st_mode), "the planted link is left alone");

    /* 26 names planted: the 27th try is free */
    for (char c = 'A'; c <= 'Z'; c++) {
        char name[32];
        snprintf(name, sizeof(name), ".target.%c%c%c%c%c%c", c, c, c, c, c, c);
        plant(victim, path_in(name));
    }
    fake_byte = 0;
    is_int(replace(t, "newer\n", 0644, err, sizeof(err)), 0, "a free name after 26 planted ones");
    ok(holds(victim, "victim\n"), "the victim is still untouched");
    fake_random = 0;

    /* a link at the target is replaced, not followed */
    unlink(t);
    plant(victim, t);
    is_int(replace(t, "mine\n", 0644, err, sizeof(err)), 0, "replace a symlink at the target");
    ok(holds(t, "mine\n"), "the target is now a file of its own");
    ok(holds(victim, "victim\n"), "the file the link pointed to is untouched");

    /* the names earlier writers used for their temp files */
    static const char *const predictable[] = { "target.tmp", ".target.tmp", "target.tmp.1", "target~" };
    char name[64];
    for (size_t i = 0; i < sizeof(predictable) / sizeof(predictable[0]); i++)
        plant(victim, path_in(predictable[i]));
    snprintf(name, sizeof(name), "target.tmp.%ld", (long)getpid());
    plant(victim, path_in(name));
    is_int(replace(t, "last\n", 0644, err, sizeof(err)), 0, "replace with links at predictable names");
    ok(holds(t, "last\n") && holds(victim, "victim\n"), "no predictable name is used");
}

/* test_exhausted - every try collides: an error, the old file kept */
static void test_exhausted(void)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char err[512];
    char t[512];
    snprintf(t, sizeof(t), "%s", path_in("full"));
    struct atomicfile af;

    put(t, "old\n");
    /* bytes 0..99 give the 62 names of six equal characters */
    for (size_t i = 0; i < sizeof(chars) - 1; i++) {
        char name[32], c = chars[i];
        snprintf(name, sizeof(name), ".full.%c%c%c%c%c%c", c, c, c, c, c, c);
        plant(t, path_in(name));
    }
    fake_random = 1;
    fake_byte = 0;
    int rc = atomicfile_open(&af, t, err, sizeof(err));
    fake_random = 0;
    is_int(rc, -1, "no free temp name in 100 tries: an error");
    ok(strstr(err, "File exists") != NULL, "the reason says so: %s", err);
    atomicfile_discard(&af);
    ok(holds(t, "old\n"), "the old file byte for byte");
    is_int(temps("full"), 62, "the planted names are left alone");
}

/* test_steps - several files complete before any rename; the descriptor
 * reads the new bytes after the rename */
static void test_steps(void)
{
    char err[512], buf[16];
    struct atomicfile a, b;

    put(path_in("a"), "old a");
    put(path_in("b"), "old b");
    is_int(atomicfile_open(&a, path_in("a"), err, sizeof(err)), 0, "open a");
    is_int(atomicfile_open(&b, path_in("b"), err, sizeof(err)), 0, "open b");
    ok(strcmp(a.dir, dir) == 0, "the directory of the target");
    is_int(atomicfile_write(&a, "new a", 5, err, sizeof(err)), 0, "write a");
    is_int(atomicfile_write(&b, "new b", 5, err, sizeof(err)), 0, "write b");
    is_int(atomicfile_seal(&a, 0640, (gid_t)-1, err, sizeof(err)), 0, "seal a");
    is_int(atomicfile_seal(&b, 0640, (gid_t)-1, err, sizeof(err)), 0, "seal b");
    ok(holds(path_in("a"), "old a") && holds(path_in("b"), "old b"), "sealed, not yet in place");
    is_int(atomicfile_rename(&a, err, sizeof(err)), 0, "rename a");
    is_int(atomicfile_rename(&b, err, sizeof(err)), 0, "rename b");
    is_int(atomicfile_sync_dir(a.dir, err, sizeof(err)), 0, "fsync the directory once");
    ok(pread(a.fd, buf, 5, 0) == 5 && memcmp(buf, "new a", 5) == 0, "the descriptor reads the new file");
    atomicfile_discard(&a);
    atomicfile_discard(&b);
    ok(holds(path_in("a"), "new a") && holds(path_in("b"), "new b"), "both in place after discard");
    is_int(mode_of(path_in("a")), 0640, "sealed mode");
}

/* test_is_temp - the clean-up's view of a directory entry */
static void test_is_temp(void)
{
    ok(atomicfile_is_temp(".status.x3Ab9Q", "status"), ".status.x3Ab9Q");
    ok(atomicfile_is_temp(".users.cdb.AAAAAA", "users.cdb"), ".users.cdb.AAAAAA");
    ok(atomicfile_is_temp("..persist-state.abcdef", ".persist-state"), "..persist-state.abcdef");
    ok(!atomicfile_is_temp(".status", "status"), "not .status");
    ok(!atomicfile_is_temp("status", "status"), "not status");
    ok(!atomicfile_is_temp(".status.x3Ab9", "status"), "not five characters");
    ok(!atomicfile_is_temp(".status.x3Ab9QQ", "status"), "not seven characters");
    ok(!atomicfile_is_temp(".status.x3A-9Q", "status"), "not a dash");
    ok(!atomicfile_is_temp(".users.cdb.AAAAAA", "users"), "not another base");
    ok(!atomicfile_is_temp(".lock", "status"), "not .lock");
}

/* test_remove_temps - leftovers of one target go, nothing else */
static void test_remove_temps(void)
{
    char err[512];
    struct atomicfile a, b;

    put(path_in("left"), "kept");
    put(path_in(".left.tmp"), "not ours");
    put(path_in(".other.AAAAAA"), "another target's");
    is_int(atomicfile_open(&a, path_in("left"), err, sizeof(err)), 0, "a writer that dies");
    is_int(atomicfile_open(&b, path_in("left"), err, sizeof(err)), 0, "and another");
    close(a.fd);
    close(b.fd);
    is_int(temps("left"), 2, "two leftovers");
    is_int(atomicfile_remove_temps(path_in("left")), 2, "both removed");
    is_int(temps("left"), 0, "none left");
    ok(holds(path_in("left"), "kept") && holds(path_in(".left.tmp"), "not ours") &&
       holds(path_in(".other.AAAAAA"), "another target's"), "everything else kept");
    free(a.tmp);
    free(a.dir);
    free(a.path);
    free(b.tmp);
    free(b.dir);
    free(b.path);
    is_int(atomicfile_remove_temps(path_in("missing/x")), -1, "a missing directory: -1");
}

int main(void)
{
    if (!scratch_make("test-atomicfile"))
        return tap_done();
    test_success();
    test_modes();
    test_failures();
    test_symlinks();
    test_exhausted();
    test_steps();
    test_is_temp();
    test_remove_temps();
    scratch_remove();
    return tap_done();
}
