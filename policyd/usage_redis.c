/* usage_redis - usage from Dovecot's quota_clone counter in Redis */

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policyd/usage_redis.h"

struct usage_redis {
    struct usage_source src;   /* first: the handle is the source */
    char host[256];
    unsigned port, db;
    redisContext *c;
    time_t retry_at;           /* no connect before this (monotonic seconds) */
};

/* now_s - monotonic seconds: the retry pause must not follow clock jumps */
static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* drop - forget a broken connection; the next request reconnects */
static void drop(struct usage_redis *r)
{
    if (r->c != NULL)
        redisFree(r->c);
    r->c = NULL;
}

/* connect_redis - a connection with bounded waits, database selected */
static int connect_redis(struct usage_redis *r, char *err, size_t errsz)
{
    struct timeval tv = { 0, USAGE_REDIS_TIMEOUT_MS * 1000 };

    if (now_s() < r->retry_at) {
        snprintf(err, errsz, "redis %s:%u unavailable (retrying shortly)", r->host, r->port);
        return -1;
    }
    r->c = redisConnectWithTimeout(r->host, (int)r->port, tv);
    if (r->c == NULL || r->c->err) {
        snprintf(err, errsz, "redis %s:%u: %s", r->host, r->port,
                 r->c != NULL ? r->c->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(r->c, tv) != REDIS_OK) {
        snprintf(err, errsz, "redis %s:%u: cannot set timeout", r->host, r->port);
        goto fail;
    }
    if (r->db != 0) {
        redisReply *rep = redisCommand(r->c, "SELECT %u", r->db);
        int bad = rep == NULL || rep->type == REDIS_REPLY_ERROR;
        if (bad)
            snprintf(err, errsz, "redis %s:%u: SELECT %u: %s", r->host, r->port, r->db,
                     rep != NULL ? rep->str : r->c->errstr);
        if (rep != NULL)
            freeReplyObject(rep);
        if (bad)
            goto fail;
    }
    return 0;
fail:
    drop(r);
    r->retry_at = now_s() + USAGE_REDIS_RETRY_S;
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

/* redis_get - GET <user>/quota/storage; a missing key is usage 0 */
static int redis_get(struct usage_source *src, const struct usage_user *user,
                     uint64_t *bytes_r, char *err, size_t errsz)
{
    struct usage_redis *r = (struct usage_redis *)src;
    char key[512];
    int klen = snprintf(key, sizeof(key), "%s/quota/storage", user->user);
    int rc = -1;

    *bytes_r = 0;
    if (klen < 0 || (size_t)klen >= sizeof(key)) {
        snprintf(err, errsz, "redis key too long");
        return -1;
    }
    if (r->c == NULL && connect_redis(r, err, errsz) < 0)
        return -1;
    redisReply *rep = redisCommand(r->c, "GET %b", key, (size_t)klen);
    if (rep == NULL) {
        snprintf(err, errsz, "redis %s:%u: %s", r->host, r->port, r->c->errstr);
        drop(r);
        return -1;
    }
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
    drop(r);
    free(r);
}

static const struct usage_ops redis_ops = {
    .name = "redis",
    .get = redis_get,
    .free = redis_free,
};

/* usage_redis_new - remember where Redis is; connect lazily */
struct usage_source *usage_redis_new(const char *host, unsigned port, unsigned db,
                                     char *err, size_t errsz)
{
    struct usage_redis *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    snprintf(r->host, sizeof(r->host), "%s", host);
    r->port = port;
    r->db = db;
    r->src.ops = &redis_ops;
    return &r->src;
}
