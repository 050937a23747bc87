/* usage_redis - usage from Dovecot's quota_clone counter in Redis */

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/monotime.h"
#include "policyd/usage_redis.h"

struct usage_redis {
    struct usage_source src;   /* first: the handle is the source */
    const struct conf *cfg;
    const struct conf_usage *u;
    redisContext *c;
    size_t cur;                /* the address c is connected to */
    time_t retry_at[CONF_REDIS_MAX]; /* no connect before this (monotonic s) */
};

/* drop - forget a connection; with rest, its address is not tried again
 * for a pause */
static void drop(struct usage_redis *r, bool rest)
{
    if (r->c != NULL) {
        redisFree(r->c);
        if (rest)
            r->retry_at[r->cur] = monotime_s() + USAGE_REDIS_RETRY_S;
    }
    r->c = NULL;
}

/* command_ok - run a set-up command (AUTH, SELECT): 0, or -1 naming it */
static int command_ok(redisContext *c, int argc, const char **argv, const size_t *lens,
                      const char *what, char *err, size_t errsz)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, lens);
    int bad = rep == NULL || rep->type == REDIS_REPLY_ERROR;
    if (bad)
        snprintf(err, errsz, "%s: %s", what, rep != NULL ? rep->str : c->errstr);
    if (rep != NULL)
        freeReplyObject(rep);
    return bad ? -1 : 0;
}

/* authenticate - AUTH [user] password from redis_password_file: a space
 * separates an ACL user from the password */
static int authenticate(struct usage_redis *r, redisContext *c, char *err, size_t errsz)
{
    const char *path = r->cfg->redis_password_file;
    char *secret, why[512];

    if (path == NULL || path[0] == '\0')
        return 0;
    if (conf_read_secret(path, &secret, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "redis_password_file: %s", why);
        return -1;
    }
    size_t len = strlen(secret);
    char *sp = strchr(secret, ' ');
    const char *argv[3] = { "AUTH", secret, sp != NULL ? sp + 1 : NULL };
    size_t lens[3] = { 4, sp != NULL ? (size_t)(sp - secret) : len,
                       sp != NULL ? len - (size_t)(sp - secret) - 1 : 0 };
    int rc = command_ok(c, sp != NULL ? 3 : 2, argv, lens, "AUTH", err, errsz);
    explicit_bzero(secret, len);
    free(secret);
    return rc;
}

/* connect_one - address i, bounded waits, authenticated, database selected */
static redisContext *connect_one(struct usage_redis *r, size_t i, char *err, size_t errsz)
{
    const struct conf_redis_addr *a = &r->u->redis[i];
    struct timeval tv = { 0, USAGE_REDIS_TIMEOUT_MS * 1000 };
    char why[600], dbtext[16];

    redisContext *c = redisConnectWithTimeout(a->host, (int)a->port, tv);
    if (c == NULL || c->err) {
        snprintf(why, sizeof(why), "%s", c != NULL ? c->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(why, sizeof(why), "cannot set timeout");
        goto fail;
    }
    if (authenticate(r, c, why, sizeof(why)) < 0)
        goto fail;
    if (r->u->db != 0) {
        int n = snprintf(dbtext, sizeof(dbtext), "%u", r->u->db);
        const char *argv[2] = { "SELECT", dbtext };
        size_t lens[2] = { 6, (size_t)n };
        if (command_ok(c, 2, argv, lens, "SELECT", why, sizeof(why)) < 0)
            goto fail;
    }
    return c;
fail:
    snprintf(err, errsz, "redis %s:%u: %s", a->host, a->port, why);
    if (c != NULL)
        redisFree(c);
    r->retry_at[i] = monotime_s() + USAGE_REDIS_RETRY_S;
    return NULL;
}

/* connect_redis - the first address in order that is not resting and answers */
static int connect_redis(struct usage_redis *r, char *err, size_t errsz)
{
    time_t now = monotime_s();
    bool tried = false;

    for (size_t i = 0; i < r->u->redis_count; i++) {
        char why[700];
        if (now < r->retry_at[i])
            continue;
        tried = true;
        r->c = connect_one(r, i, why, sizeof(why));
        if (r->c != NULL) {
            r->cur = i;
            return 0;
        }
        /* the last reason is the one reported: the others are in order */
        snprintf(err, errsz, "%s", why);
    }
    if (!tried)
        snprintf(err, errsz, "redis unavailable (retrying shortly)");
    return -1;
}

/* number_of - a counter's text: decimal, a negative total counts as 0 */
static int number_of(const char *s, size_t len, uint64_t *n_r)
{
    bool neg = false;
    uint64_t n = 0;

    if (len > 0 && s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (uint64_t)(s[i] - '0'), &n))
            return -1;
    }
    *n_r = neg ? 0 : n;
    return 0;
}

/* get_reply - GET key on the current connection: the reply, or NULL with
 * the connection dropped */
static redisReply *get_reply(struct usage_redis *r, const char *key, size_t klen, char *err,
                             size_t errsz)
{
    const char *argv[2] = { "GET", key };
    size_t lens[2] = { 3, klen };
    redisReply *rep = redisCommandArgv(r->c, 2, argv, lens);
    if (rep == NULL) {
        const struct conf_redis_addr *a = &r->u->redis[r->cur];
        snprintf(err, errsz, "redis %s:%u: %s", a->host, a->port, r->c->errstr);
        /* a kept connection the server closed (a restart, its idle
         * timeout) is replaced at once; one that hangs rests */
        drop(r, r->c->err != REDIS_ERR_EOF);
    }
    return rep;
}

/* redis_get - GET <user>/quota/storage; a missing key is usage 0. A
 * connection that fails is dropped and the next address asked at once. */
static int redis_get(struct usage_source *src, const struct usage_user *user,
                     uint64_t *bytes_r, char *err, size_t errsz)
{
    struct usage_redis *r = (struct usage_redis *)src;
    char key[512];
    int klen = snprintf(key, sizeof(key), "%s/quota/storage", user->user);
    int rc = -1;
    redisReply *rep = NULL;

    *bytes_r = 0;
    if (klen < 0 || (size_t)klen >= sizeof(key)) {
        snprintf(err, errsz, "redis key too long");
        return -1;
    }
    /* a closed connection is replaced once; every other address is tried
     * at most once, since one that fails rests */
    for (size_t tries = 0; rep == NULL && tries <= r->u->redis_count + 1; tries++) {
        if (r->c == NULL && connect_redis(r, err, errsz) < 0)
            return -1;
        rep = get_reply(r, key, (size_t)klen, err, errsz);
    }
    if (rep == NULL)
        return -1;
    switch (rep->type) {
    case REDIS_REPLY_NIL:
        rc = 0;
        break;
    case REDIS_REPLY_INTEGER:
        *bytes_r = rep->integer > 0 ? (uint64_t)rep->integer : 0;
        rc = 0;
        break;
    case REDIS_REPLY_STRING:
        rc = number_of(rep->str, rep->len, bytes_r);
        if (rc < 0)
            snprintf(err, errsz, "redis %s: not a number", key);
        break;
    case REDIS_REPLY_ERROR:
        snprintf(err, errsz, "redis GET %s: %s", key, rep->str);
        break;
    default:
        snprintf(err, errsz, "redis GET %s: unexpected reply type %d", key, rep->type);
        break;
    }
    freeReplyObject(rep);
    return rc;
}

/* redis_free - close and release */
static void redis_free(struct usage_source *src)
{
    struct usage_redis *r = (struct usage_redis *)src;
    drop(r, false);
    free(r);
}

static const struct usage_ops redis_ops = {
    .name = "redis",
    .waits = true,
    .get = redis_get,
    .free = redis_free,
};

/* usage_redis_new - remember where Redis is; connect lazily */
struct usage_source *usage_redis_new(const struct conf *cfg, char *err, size_t errsz)
{
    struct usage_redis *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->u = &cfg->quota_usage;
    r->src.ops = &redis_ops;
    return &r->src;
}
