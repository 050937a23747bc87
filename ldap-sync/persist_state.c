/* persist_state - the persist daemon's cookie and accounts on disk.
 *
 *   mailmaps-persist-state 2
 *   config <sha256 of the config file>
 *   cookie <hex, or ->
 *   a<TAB>uuid<TAB>dn<TAB>mail<TAB>home<TAB>mailbox<TAB>storage_set<TAB>uid<TAB>gid
 *    <TAB>quota<TAB>-|+password<TAB>aliases (space separated)<TAB>groups
 *    <TAB>forwarding addresses (comma separated, as struct account has them)
 *   end <number of accounts>
 *
 * Account strings never hold TAB, CR or LF (account_from_entry refuses
 * them), so the format needs no escaping. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldap-sync/persist_state.h"
#include "maps/atomicfile.h"

#define STATE_MAGIC "mailmaps-persist-state 2"
#define FIELDS 14

/* persist_state_digest - hash of the configuration the accounts were made with */
int persist_state_digest(const char *conf_path, char hex[SHA256_HEX_SIZE])
{
    struct sha256 ctx;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char buf[8192];

    sha256_init(&ctx);
    if (conf_path != NULL) {
        int fd = open(conf_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            sha256_update(&ctx, buf, (size_t)n);
        close(fd);
        if (n < 0)
            return -1;
    }
    sha256_final(&ctx, digest);
    sha256_hex(digest, hex);
    return 0;
}

/* The state of a million accounts is some 300 MB, written by a child
 * while the daemon goes on (see persist.c): formatted by hand into a big
 * buffer, which takes a tenth of the CPU stdio's printf would. */
struct out {
    struct atomicfile af;
    size_t used;
    bool failed;
    char err[512];                   /* why the first failed write failed */
    char buf[1 << 20];
};

/* out_flush - the buffer to the file */
static void out_flush(struct out *o)
{
    if (!o->failed && atomicfile_write(&o->af, o->buf, o->used, o->err, sizeof(o->err)) < 0)
        o->failed = true;
    o->used = 0;
}

/* out_bytes - append len bytes */
static void out_bytes(struct out *o, const void *p, size_t len)
{
    const char *s = p;

    while (len > 0) {
        if (o->used == sizeof(o->buf))
            out_flush(o);
        size_t n = sizeof(o->buf) - o->used;
        n = n < len ? n : len;
        memcpy(o->buf + o->used, s, n);
        o->used += n;
        s += n;
        len -= n;
    }
}

/* out_str - a C string, then the separator sep unless it is NUL */
static void out_str(struct out *o, const char *str, char sep)
{
    out_bytes(o, str, strlen(str));
    if (sep != '\0')
        out_bytes(o, &sep, 1);
}

/* out_u64 - a decimal number, then sep */
static void out_u64(struct out *o, uint64_t v, char sep)
{
    char tmp[24], *p = tmp + sizeof(tmp);

    *--p = sep;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out_bytes(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* out_hex - bytes as lower-case hex */
static void out_hex(struct out *o, const unsigned char *p, size_t len)
{
    static const char digit[] = "0123456789abcdef";
    char pair[2];

    for (size_t i = 0; i < len; i++) {
        pair[0] = digit[p[i] >> 4];
        pair[1] = digit[p[i] & 15];
        out_bytes(o, pair, 2);
    }
}

/* out_list - space separated, then sep */
static void out_list(struct out *o, char **items, size_t n, char sep)
{
    for (size_t i = 0; i < n; i++)
        out_str(o, items[i], i + 1 < n ? ' ' : '\0');
    out_bytes(o, &sep, 1);
}

/* persist_state_save - replaced atomically, mode 0600 (password hashes) */
int persist_state_save(const char *path, const char *conf_digest, const struct berval *cookie,
                       struct uuidtab *table, char *err, size_t errsz)
{
    struct out *o = malloc(sizeof(*o));
    if (o == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    o->used = 0;
    o->failed = false;
    if (atomicfile_open(&o->af, path, err, errsz) < 0) {
        free(o);
        return -1;
    }
    out_str(o, STATE_MAGIC "\nconfig ", '\0');
    out_str(o, conf_digest, '\n');
    out_str(o, "cookie ", '\0');
    if (cookie->bv_len == 0)
        out_str(o, "-", '\0');
    out_hex(o, (const unsigned char *)cookie->bv_val, cookie->bv_len);
    out_str(o, "", '\n');

    size_t pos = 0, n = 0;
    struct uuidtab_slot *s;
    while ((s = uuidtab_next(table, &pos)) != NULL) {
        const struct account *a = s->account;
        out_str(o, "a\t", '\0');
        out_hex(o, s->uuid, UUIDTAB_UUID_SIZE);
        out_str(o, "", '\t');
        out_str(o, a->dn, '\t');
        out_str(o, a->mail, '\t');
        out_str(o, a->home, '\t');
        out_str(o, a->mailbox, '\t');
        out_str(o, a->storage_set ? "1" : "0", '\t');
        out_u64(o, a->uid, '\t');
        out_u64(o, a->gid, '\t');
        out_u64(o, a->quota, '\t');
        out_str(o, a->password ? "+" : "-", '\0');
        out_str(o, a->password ? a->password : "", '\t');
        out_list(o, a->aliases, a->alias_count, '\t');
        out_list(o, a->groups, a->group_count, '\t');
        out_str(o, a->forward ? a->forward : "", '\n');
        n++;
    }
    out_str(o, "end ", '\0');
    out_u64(o, n, '\n');
    out_flush(o);
    int r;
    if (o->failed) {
        snprintf(err, errsz, "%s", o->err);
        atomicfile_discard(&o->af);
        r = -1;
    } else {
        r = atomicfile_commit(&o->af, 0600, (gid_t)-1, err, errsz);
    }
    free(o);
    return r;
}

/* hex_value - a lower-case hex digit's value, -1 for anything else */
static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* hex_decode - even number of hex digits into out; -1 on anything else */
static int hex_decode(const char *s, size_t len, unsigned char *out)
{
    if (len % 2)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* split_list - space separated items into a malloc'ed array */
static int split_list(char *s, char ***items_r, size_t *n_r)
{
    size_t n = 0, cap = 0;
    char **items = NULL, *save = NULL;
    for (char *t = strtok_r(s, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            char **grown = realloc(items, cap * sizeof(*items));
            if (grown == NULL)
                goto fail;
            items = grown;
        }
        if ((items[n] = strdup(t)) == NULL)
            goto fail;
        n++;
    }
    *items_r = items;
    *n_r = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return -1;
}

/* digits - a non-empty run of decimal digits and nothing else (strtoull
 * takes "" as 0, a sign or blanks) */
static bool digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* parse_account - one "a" line (fields split already), checked by the
 * rules an entry from LDAP meets; why gets the reason of a refusal */
static int parse_account(char **f, const struct conf *cfg, struct uuidtab *table, char *why,
                         size_t whysz)
{
    unsigned char uuid[UUIDTAB_UUID_SIZE];
    char *end;

    snprintf(why, whysz, "account %.200s: malformed", f[2]);
    if (strlen(f[1]) != 2 * UUIDTAB_UUID_SIZE || hex_decode(f[1], strlen(f[1]), uuid) < 0)
        return -1;
    if (!digits(f[7]) || !digits(f[8]) || !digits(f[9]) ||
        (strcmp(f[6], "0") != 0 && strcmp(f[6], "1") != 0))
        return -1;
    struct account *a = malloc(sizeof(*a));
    if (a == NULL)
        return -1;
    account_init(a);
    a->storage_set = strcmp(f[6], "1") == 0;
    unsigned long long uid = strtoull(f[7], &end, 10);
    if (*end) goto fail;
    unsigned long long gid = strtoull(f[8], &end, 10);
    if (*end) goto fail;
    a->quota = strtoull(f[9], &end, 10);
    if (*end || uid > UINT32_MAX || gid > UINT32_MAX || (f[10][0] != '+' && f[10][0] != '-'))
        goto fail;
    a->uid = (uint32_t)uid;
    a->gid = (uint32_t)gid;
    if ((a->dn = strdup(f[2])) == NULL || (a->mail = strdup(f[3])) == NULL ||
        (a->home = strdup(f[4])) == NULL || (a->mailbox = strdup(f[5])) == NULL)
        goto fail;
    if (f[10][0] == '+' && (a->password = strdup(f[10] + 1)) == NULL)
        goto fail;
    if (split_list(f[11], &a->aliases, &a->alias_count) < 0 ||
        split_list(f[12], &a->groups, &a->group_count) < 0 ||
        (f[13][0] != '\0' && (a->forward = strdup(f[13])) == NULL))
        goto fail;
    char reason[400];
    if (account_check(cfg, a, reason, sizeof(reason)) < 0) {
        snprintf(why, whysz, "account %.200s: %s", a->dn ? a->dn : "", reason);
        goto fail;
    }
    return uuidtab_put(table, uuid, a);
fail:
    account_free(a);
    free(a);
    return -1;
}

/* persist_state_load - read it back; anything odd means "start over" */
int persist_state_load(const char *path, const char *conf_digest, const struct conf *cfg,
                       struct berval *cookie, struct uuidtab *table, char *err, size_t errsz)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0, count = 0, lineno = 0;
    ssize_t len;
    int rc = -1;
    bool ended = false;
    char why[512] = "";

    cookie->bv_val = NULL;
    cookie->bv_len = 0;
    if (f == NULL) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? 0 : -1;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] != '\n')
            break;                   /* truncated */
        line[--len] = '\0';
        if (ended)
            break;
        if (lineno == 1) {
            if (strcmp(line, STATE_MAGIC) != 0)
                break;
        } else if (lineno == 2) {
            if (strncmp(line, "config ", 7) != 0)
                break;
            if (strcmp(line + 7, conf_digest) != 0) {
                snprintf(err, errsz, "%s: made with another configuration", path);
                rc = 0;
                goto out;
            }
        } else if (lineno == 3) {
            if (strncmp(line, "cookie ", 7) != 0)
                break;
            const char *hex = line + 7;
            if (strcmp(hex, "-") != 0) {
                size_t hl = strlen(hex);
                cookie->bv_val = malloc(hl / 2 + 1);
                if (cookie->bv_val == NULL || hex_decode(hex, hl, (unsigned char *)cookie->bv_val) < 0)
                    break;
                cookie->bv_len = hl / 2;
                cookie->bv_val[cookie->bv_len] = '\0';
            }
        } else if (strncmp(line, "a\t", 2) == 0) {
            char *field[FIELDS], *p = line;
            int n = 0;
            for (; n < FIELDS && p != NULL; n++) {
                field[n] = p;
                p = strchr(p, '\t');
                if (p != NULL)
                    *p++ = '\0';
            }
            if (n != FIELDS || p != NULL) {
                snprintf(why, sizeof(why), "not %d fields", FIELDS);
                break;
            }
            if (parse_account(field, cfg, table, why, sizeof(why)) < 0)
                break;
            count++;
        } else if (strncmp(line, "end ", 4) == 0) {
            char *end;
            unsigned long long want = strtoull(line + 4, &end, 10);
            if (*end || want != count)
                break;
            ended = true;
        } else {
            break;
        }
    }
    if (ended && !ferror(f)) {
        rc = 1;
    } else {
        snprintf(err, errsz, "%s: corrupt at line %zu%s%s", path, lineno, why[0] ? ": " : "",
                 why);
    }
out:
    if (rc != 1) {
        free(cookie->bv_val);
        cookie->bv_val = NULL;
        cookie->bv_len = 0;
        uuidtab_free(table);
    }
    free(line);
    fclose(f);
    return rc;
}
