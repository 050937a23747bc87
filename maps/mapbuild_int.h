#ifndef MAILMAPS_MAPBUILD_INT_H
#define MAILMAPS_MAPBUILD_INT_H

/* What the parts of mapbuild share, and nothing outside them may use:
 *   mapbuild.c          the build: packing accounts into the arena
 *   mapbuild_order.c    the DN and address orders, sorted incrementally
 *   mapbuild_resolve.c  who owns which address, membership, domain
 *   mapbuild_paths.c    homes and mailboxes each account's own
 *   mapbuild_emit.c     the maps, in key order, and one-key lookups
 * mapbuild.h is the contract for everyone else. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "maps/mapbuild.h"
#include "maps/mapdomains.h"

#define MB_CHUNK (1024 * 1024)
#define MB_NONE UINT32_MAX
#define MB_PATH_MAX 8192

/* Record flags */
#define F_HOME 0x01        /* home differs from the default: stored */
#define F_MAILBOX 0x02     /* mailbox differs from the default: stored */
#define F_STORAGE 0x04     /* account.storage_set */
#define F_PASSWORD 0x08
#define F_FORWARD 0x10     /* forwarding addresses, after the groups */

/* Packed account record in the arena (no alignment: integers are copied
 * out with memcpy):
 *   u32 len, u8 flags, u32 uid, u32 gid, u64 quota, u32 nalias, u32 ngroup,
 *   u32 offset of the aliases, u32 offset of the groups,
 *   then NUL terminated: dn, mail, [home], [mailbox], [password],
 *   aliases..., groups..., [forward: the addresses joined with ',']
 * Storing facts rather than the finished user record keeps a million
 * accounts in well under the size of the maps they make. */
#define REC_HDR 37

struct chunk {
    struct chunk *next;
    size_t used, size;
    char data[];
};

/* An unpacked record: pointers into the arena. */
struct view {
    uint32_t len;
    uint8_t flags;
    uint32_t uid, gid;
    uint64_t quota;
    uint32_t nalias, ngroup;
    const char *dn, *mail, *home, *mailbox, *password, *aliases, *groups;
    const char *forward;     /* NULL = none */
};

/* One address claimed by an account: its mail (the first claim of the
 * account) or an alias. */
struct claim {
    const char *addr;
    uint32_t rank;           /* the account's position in DN order */
    uint32_t u;              /* index of the unique address */
};

/* One key an alias domain adds: u@D -> u@P, for the key u@P of a
 * mailbox, alias or list and D an alias domain of P. */
struct derived {
    const char *key;         /* u@D, in resolve.dtext */
    const char *target;      /* u@P, in the arena */
};

/* One list membership. */
struct member {
    const char *list;
    const char *mail;
    uint32_t rank;
};

/* Who owns which address, as mapbuild_resolve decided. */
struct resolve {
    uint32_t *order;         /* rank -> record index */
    uint32_t *cstart;        /* rank -> first claim; [n] = total */
    struct claim *claims;
    uint32_t nclaims;
    const char **uaddr;      /* unique addresses, sorted */
    uint32_t *owner;         /* unique address -> winning claim, or MB_NONE */
    uint32_t nu;
    struct member *members;  /* kept memberships, sorted by list then mail */
    size_t nmembers;
    size_t nforward;         /* accounts that stay with forwarding addresses */
    struct derived *derived; /* alias-domain keys, sorted by key */
    size_t nderived;
    char *dtext;             /* their keys */
};

/* One claim in address order: the address, the claiming record, and 0
 * for its mail or i + 1 for its alias i. */
struct addr_ref {
    const char *addr;
    uint32_t rid;
    uint32_t pos;
};

/* What the last resolve sorted, kept so that the next one sorts only the
 * records added since and merges them in: persist mode changes a few
 * accounts of a million between two resolves. Records removed since are
 * still listed; they are skipped when the lists are merged. */
struct sorted {
    uint32_t *dn;            /* record ids in DN order */
    size_t ndn;
    struct addr_ref *addr;   /* claims in address order */
    size_t naddr;
    size_t upto;             /* records [0, upto) are in both */
};

struct mapbuild {
    const struct conf *cfg;
    struct account_userrec_ctx uc; /* cfg's constants, cleaned once */
    account_warn_fn *warn;
    void *warn_ctx;
    struct chunk *chunks;
    const char **rec;         /* packed records, in the order added;
                                 NULL where one was removed */
    size_t count, cap;
    size_t removed;           /* NULL slots in rec */
    struct resolve res;       /* the last mapbuild_resolve */
    bool resolved;            /* res is for the accounts there are */
    struct sorted sorted;     /* the last resolve's sort results */
    struct mapdomains *domains; /* domain entries (ldap_domain_filter) */
};

/* A set of domain names: a million addresses share a few hundred
 * domains, so collect them in an open-addressing hash set and sort only
 * the distinct ones. */
struct domset {
    const char **slot;
    size_t cap, n;           /* cap a power of two, at most half full */
};

/* Every address the live accounts claim, in address order: the kept list
 * of the last resolve without the removed records, and the claims of the
 * records added since. Independent of the DN order, so a large build
 * does this and the DN order at once, in two threads. */
struct addr_sort {
    const struct mapbuild *mb;
    struct addr_ref *refs;   /* the result */
    size_t n;
    int rc;                  /* 0, -1 no memory, -2 too many */
};

#define PARALLEL_MIN 50000   /* records to sort before a second thread pays */

/* FNV-1a, for the domain set and the path set */
#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/* Small helpers of every part, inline because the sort and resolve loops
 * call them for each of a million records. */

/* str_cmp - qsort order of C string pointers */
static inline int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* get_u32, get_u64 - unaligned integers in records */
static inline uint32_t get_u32(const char *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint64_t get_u64(const char *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }

/* next_str - the string after s in a record */
static inline const char *next_str(const char *s)
{
    return s + strlen(s) + 1;
}

/* unpack_keys - the fields resolution needs: DN, mail, aliases, groups */
static inline void unpack_keys(const char *rec, struct view *v)
{
    v->len = get_u32(rec);
    v->flags = (uint8_t)rec[4];
    v->nalias = get_u32(rec + 21);
    v->ngroup = get_u32(rec + 25);
    v->dn = rec + REC_HDR;
    v->mail = next_str(v->dn);
    v->aliases = rec + get_u32(rec + 29);
    v->groups = rec + get_u32(rec + 33);
}

/* unpack - every field of a record */
static inline void unpack(const char *rec, struct view *v)
{
    const char *p;

    unpack_keys(rec, v);
    v->uid = get_u32(rec + 5);
    v->gid = get_u32(rec + 9);
    v->quota = get_u64(rec + 13);
    p = next_str(v->mail);
    v->home = v->mailbox = v->password = NULL;
    if (v->flags & F_HOME) {
        v->home = p;
        p = next_str(p);
    }
    if (v->flags & F_MAILBOX) {
        v->mailbox = p;
        p = next_str(p);
    }
    if (v->flags & F_PASSWORD)
        v->password = p;
    v->forward = NULL;
    if (v->flags & F_FORWARD) {
        p = v->groups;
        for (uint32_t i = 0; i < v->ngroup; i++)
            p = next_str(p);
        v->forward = p;
    }
}

/* rec_cmp - the order accounts are resolved in: normalised DN, then the
 * whole record, so that equal DNs still give one answer */
static inline int rec_cmp(const char *a, const char *b)
{
    int c = strcmp(a + REC_HDR, b + REC_HDR);
    uint32_t la, lb;

    if (c != 0)
        return c;
    la = get_u32(a);
    lb = get_u32(b);
    c = memcmp(a, b, la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* domain_of - the part after the last '@' */
static inline const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : addr;
}

/* rank_view - the keys of the account at rank */
static inline void rank_view(const struct mapbuild *mb, const struct resolve *r,
                             uint32_t rank, struct view *v)
{
    unpack_keys(mb->rec[r->order[rank]], v);
}

/* is_mail_claim - the winning claim of address u is an account's mail */
static inline bool is_mail_claim(const struct resolve *r, uint32_t c)
{
    return r->cstart[r->claims[c].rank] == c;
}

/* mapbuild_order.c: mapbuild_order_addr - every claim of the live records
 * in address order into a (a thread's body, or called inline); its
 * result and rc in a. mapbuild_order_dn - out[0..n) = the ids of the n
 * live records in rec_cmp order; 0, -1 when out of memory. Both sort only
 * the records added since the last resolve (mb->sorted) and merge them
 * in. */
void *mapbuild_order_addr(void *arg);
int mapbuild_order_dn(const struct mapbuild *mb, uint32_t n, uint32_t *out);

/* mapbuild_resolve.c: the resolve state's release; a conflict warning
 * about the account with normalised DN dn; the index of addr among the
 * unique addresses (MB_NONE: none); the domain set (add: -1 when out of
 * memory). */
void mapbuild_resolve_free(struct resolve *r);
__attribute__((format(printf, 3, 4)))
void mapbuild_warnf(struct mapbuild *mb, const char *dn, const char *fmt, ...);
uint32_t mapbuild_uaddr_find(const struct resolve *r, const char *addr);
int mapbuild_domset_add(struct domset *s, const char *d);
bool mapbuild_domset_has(const struct domset *s, const char *d);

/* The scratch state of one resolve, shared by its phases. Each phase
 * returns 0, -1 when out of memory or -2 when there are too many
 * addresses. */
struct rstate {
    struct mapbuild *mb;
    struct resolve *r;
    struct mapbuild_counts *c;
    uint32_t n;              /* live records */
    bool *gone;              /* rank -> a duplicate, or lost its mail or path */
    struct addr_sort as;     /* the claims in address order */
    pthread_t sorter;
    bool threaded;           /* as is being made by sorter */
    struct domset local;     /* the domains of the mailboxes that stay */
    struct domset taken;     /* domain mode: alias domains with claims of their own */
    bool taken_lost;         /* taken is incomplete (no memory): search every key */
    size_t nmem;             /* memberships of the accounts that stay */
};

/* domain_mode - the local domains come from domain entries */
static inline bool domain_mode(const struct mapbuild *mb)
{
    return mb->cfg->ldap_domain_filter != NULL && mb->cfg->ldap_domain_filter[0] != '\0';
}

/* mapbuild_domains.c: mapbuild_domains_check - resolve the domain entries
 * and drop the accounts whose mail is in none of their primary domains;
 * mapbuild_domains_derive - the alias-domain keys into r; both 0, -1 when
 * out of memory. mapbuild_domains_emit - domains.cdb in domain mode, as
 * put() emits it; 0, -1 when out of memory. */
int mapbuild_domains_check(struct rstate *s);
int mapbuild_domains_derive(struct rstate *s);

/* mapbuild_paths.c: mapbuild_paths_resolve - homes and mailboxes unique
 * per account (see mapbuild.h): the losers are marked gone with one
 * warning each. 0, -1 when out of memory, -2 too many paths. */
int mapbuild_paths_resolve(struct mapbuild *mb, struct resolve *r, bool *gone,
                           struct mapbuild_counts *c);

#endif
