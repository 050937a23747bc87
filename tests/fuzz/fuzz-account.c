/* fuzz-account - entries made of fuzz bytes through account_from_entry and
 * mapbuild; every emitted record must be one the maps can hold.
 *
 * Input: one byte of configuration flags, then entries separated by 0xFE;
 * in an entry, fields separated by 0xFF: the DN first, then values whose
 * first byte picks the attribute. Flag 8 takes the settings of an
 * iRedMail directory (domain entries, gated aliases and forwards, alias
 * logins, mail under the home); an entry whose DN starts with "d" is then
 * a domain entry. */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/account.h"
#include "maps/conf.h"
#include "maps/mapbuild.h"
#include "maps/userrec.h"

#define MAX_ENTRIES 16
#define MAX_VALUES 64

static const char *const names[] = {
    "mail", "MAIL", "mailAlias", "mailGroupMember", "mailHomeDirectory",
    "mailStorageDirectory", "mailUidNumber", "mailGidNumber", "mailQuota",
    "userPassword", "objectClass", "mailForwardingAddress", "enabledService", "domainName",
    "domainAliasName",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

struct check {
    int last_map;
    char last_key[1024];
    size_t last_len;
    char first_key[4][1024];
    size_t first_len[4];
    char *first_val[4];
    size_t first_vallen[4];
};

/* on_emit - abort on anything a CDB map for Postfix must not hold */
static int on_emit(void *ctx, enum map_id map, const char *key, size_t keylen,
                   const char *val, size_t vallen)
{
    struct check *c = ctx;

    if (keylen == 0 || vallen == 0 || keylen >= sizeof(c->last_key))
        abort();
    if (memchr(key, '\0', keylen) || memchr(val, '\0', vallen) ||
        memchr(key, '\t', keylen) || memchr(key, '\n', keylen))
        abort();
    for (size_t i = 0; i < keylen; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            abort();
    if (map != MAP_USERS && (memchr(val, '\n', vallen) || memchr(val, '\t', vallen)))
        abort();
    if ((int)map < c->last_map)
        abort();
    if ((int)map == c->last_map) {
        size_t n = keylen < c->last_len ? keylen : c->last_len;
        int cmp = memcmp(c->last_key, key, n);
        if (cmp > 0 || (cmp == 0 && c->last_len >= keylen))
            abort();   /* keys must strictly increase */
    } else {
        memcpy(c->first_key[map], key, keylen);
        c->first_len[map] = keylen;
        c->first_val[map] = malloc(vallen);
        if (c->first_val[map] == NULL)
            abort();
        memcpy(c->first_val[map], val, vallen);
        c->first_vallen[map] = vallen;
    }
    if (map == MAP_USERS) {
        struct userrec rec;
        char err[256];
        userrec_init(&rec);
        if (userrec_decode(&rec, val, vallen, err, sizeof(err)) < 0)
            abort();
        if (userrec_get(&rec, "home") == NULL || userrec_get(&rec, "mail") == NULL)
            abort();
        userrec_free(&rec);
    }
    c->last_map = (int)map;
    memcpy(c->last_key, key, keylen);
    c->last_len = keylen;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct conf base, ired;
    static int ready;
    static const char ired_text[] =
        "ldap_base = o=domains\nldap_quota_unit = B\n"
        "ldap_domain_filter = (objectClass=mailDomain)\n"
        "ldap_attr_forward = mailForwardingAddress\n"
        "ldap_alias_filter = (|(enabledService=shadowaddress)(objectClass=*))\n"
        "ldap_forward_filter = (&(enabledService=forward)(!(enabledService=off)))\n"
        "mail_location = maildir:%h/Maildir\nalias_login = yes\nhome_dirs = /var /home\n";
    struct conf cfg;
    struct entry_value values[MAX_ENTRIES][MAX_VALUES];
    struct entry_attr attrs[MAX_ENTRIES][NNAMES];
    struct entry entries[MAX_ENTRIES];
    char *dns[MAX_ENTRIES] = { 0 };
    size_t nent = 0;
    char err[256];

    if (!ready) {
        if (conf_defaults(&base) < 0 ||
            conf_parse_buffer(&ired, "ired", ired_text, sizeof(ired_text) - 1, err,
                              sizeof(err)) < 0)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    bool domains = (data[0] & 8) != 0;
    cfg = domains ? ired : base;   /* shallow: the strings stay theirs */
    if (data[0] & 1)
        cfg.mail_location = (char *)"mdbox:%h/mdbox:INDEX=%d/%n/%u/%%/%x%";
    if (data[0] & 2)
        cfg.mail_base = (char *)"/";
    if (data[0] & 4)
        cfg.quota_rules.count = 0;
    data++;
    size--;

    /* split into entries, then fields */
    size_t pos = 0;
    while (pos <= size && nent < MAX_ENTRIES) {
        size_t end = pos;
        while (end < size && data[end] != 0xfe)
            end++;
        const uint8_t *p = data + pos;
        size_t len = end - pos, f = 0, nval = 0;
        size_t dnlen = 0;
        while (dnlen < len && p[dnlen] != 0xff)
            dnlen++;
        dns[nent] = malloc(dnlen + 1);
        if (dns[nent] == NULL)
            abort();
        memcpy(dns[nent], p, dnlen);
        dns[nent][dnlen] = '\0';   /* a DN is a C string: cut at any NUL */
        f = dnlen + 1;
        /* values in input order, grouped per attribute afterwards */
        size_t which[MAX_VALUES];
        while (f < len && nval < MAX_VALUES) {
            size_t e = f;
            while (e < len && p[e] != 0xff)
                e++;
            if (e > f) {
                which[nval] = p[f] % NNAMES;
                values[nent][nval] = (struct entry_value){ (const char *)p + f + 1, e - f - 1 };
                nval++;
            }
            f = e + 1;
        }
        /* sort the values by attribute (stable) so each attribute's values
         * are contiguous */
        struct entry_value sorted[MAX_VALUES];
        size_t na = 0, k = 0;
        for (size_t n = 0; n < NNAMES; n++) {
            size_t start = k;
            for (size_t i = 0; i < nval; i++)
                if (which[i] == n)
                    sorted[k++] = values[nent][i];
            if (k > start)
                attrs[nent][na++] = (struct entry_attr){ names[n], k - start, NULL };
        }
        memcpy(values[nent], sorted, k * sizeof(sorted[0]));
        for (size_t i = 0, off = 0; i < na; i++) {
            attrs[nent][i].values = &values[nent][off];
            off += attrs[nent][i].count;
        }
        entries[nent] = (struct entry){ .dn = dns[nent], .attr_count = na, .attrs = attrs[nent] };
        nent++;
        pos = end + 1;
    }

    struct mapbuild *mb = mapbuild_new(&cfg, NULL, NULL);
    if (mb == NULL)
        abort();
    for (size_t i = 0; i < nent; i++) {
        struct account a;
        if (domains && dns[i][0] == 'd') {
            if (mapbuild_add_domain(mb, &entries[i], err, sizeof(err)) < 0)
                abort();
            continue;
        }
        account_init(&a);
        int rc = account_from_entry(&cfg, &entries[i], &a, NULL, NULL, err, sizeof(err));
        if (rc < 0)
            abort();   /* only memory can fail with a good configuration */
        if (rc == 1) {
            if (a.mail == NULL || a.home == NULL || a.home[0] != '/' || a.mailbox == NULL ||
                a.mailbox[strlen(a.mailbox) - 1] != '/' || strstr(a.mailbox, "/../") ||
                strncmp(a.mailbox, "../", 3) == 0 || a.mailbox[0] == '/')
                abort();
            /* what the persist state re-checks on load must pass */
            if (account_check(&cfg, &a, err, sizeof(err)) < 0)
                abort();
            if (mapbuild_add(mb, &a, err, sizeof(err)) < 0)
                abort();
        }
        account_free(&a);
    }

    struct check c = { .last_map = -1 };
    struct mapbuild_counts counts;
    if (mapbuild_finish(mb, on_emit, &c, &counts, err, sizeof(err)) < 0)
        abort();
    /* the fallback sees what the sync saw */
    for (int m = 0; m < 4; m++) {
        char *val;
        size_t vallen;
        if (c.first_val[m] == NULL)
            continue;
        if (mapbuild_lookup(mb, (enum map_id)m, c.first_key[m], c.first_len[m], &val, &vallen,
                            err, sizeof(err)) != 1 ||
            vallen != c.first_vallen[m] || memcmp(val, c.first_val[m], vallen) != 0)
            abort();
        free(val);
        free(c.first_val[m]);
    }
    mapbuild_free(mb);
    for (size_t i = 0; i < nent; i++)
        free(dns[i]);
    return 0;
}
