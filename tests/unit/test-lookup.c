/* test-lookup - the fallback rules with maps and an unreachable LDAP (the
 * LDAP answers themselves are covered by the integration tests) */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/lookup.h"
#include "maps/mapwriter.h"
#include "maps/status.h"
#include "tests/unit/tap.h"
#include "tests/unit/alicemaps.h"

static char dir[] = "/tmp/test-lookup.XXXXXX";

/* write_maps - alice in every map, status synced at synced_at */
static void write_maps(time_t synced_at)
{
    alice_maps_write(dir, "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000", synced_at);
}

struct want {
    enum map_id map;
    const char *key;
    enum lookup_result result;
    enum lookup_source source;
    const char *value;
};

static void run(struct lookup *lk, const char *what, const struct want *w, size_t n)
{
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const char *val;
        size_t len;
        enum lookup_source src = (enum lookup_source)-1;
        enum lookup_result r = lookup_key(lk, w[i].map, w[i].key, strlen(w[i].key), &val, &len,
                                          &src, err, sizeof(err));
        is_int(r, w[i].result, "%s: %s %s", what, map_name(w[i].map), w[i].key);
        if (r == LOOKUP_FOUND) {
            is_int(src, w[i].source, "%s: %s source", what, w[i].key);
            ok(len == strlen(w[i].value) && memcmp(val, w[i].value, len) == 0, "%s: %s value",
               what, w[i].key);
        } else if (r == LOOKUP_TEMPFAIL) {
            ok(err[0] != '\0', "%s: %s tempfail says why (%s)", what, w[i].key, err);
        }
    }
}

int main(void)
{
    struct conf cfg;
    char err[512];
    char text[512];

    if (mkdtemp(dir) == NULL)
        return 1;
    /* LDAP on a port nobody listens on: every fallback fails at once. */
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "ldap_timeout = 1\nmaps_dir = %s\nstale_after = 60\n", dir);
    ok(conf_parse_buffer(&cfg, "test", text, strlen(text), err, sizeof(err)) == 0, "config");
    struct lookup *lk = lookup_new(&cfg, err, sizeof(err));
    ok(lk != NULL, "lookup handle");
    time_t now = 1700000000;
    lookup_set_clock(lk, now);

    static const struct want missing[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_ALIASES, "al@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_DOMAINS, "example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "no maps, no LDAP", missing, sizeof(missing) / sizeof(missing[0]));

    write_maps(now - 10);
    static const struct want fresh[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_USERS, "ALICE@Example.COM", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_MAILBOXES, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP,
          "example.com/alice/Maildir/" },
        { MAP_ALIASES, "al@example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP, "alice@example.com" },
        { MAP_DOMAINS, "example.com", LOOKUP_FOUND, LOOKUP_FROM_MAP, "OK" },
        { MAP_DOMAINS, "example.org", LOOKUP_NOTFOUND, 0, NULL },
        /* not in fresh maps: LDAP must be asked, and it is down */
        { MAP_USERS, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL },
    };
    run(lk, "fresh maps", fresh, sizeof(fresh) / sizeof(fresh[0]));

    write_maps(now - 3600);
    static const struct want stale[] = {
        { MAP_USERS, "alice@example.com", LOOKUP_FOUND, LOOKUP_FROM_STALE_MAP,
          "home=/var/vmail/example.com/alice\tuid=5000\tgid=5000" },
        { MAP_USERS, "bob@example.com", LOOKUP_TEMPFAIL, 0, NULL },
        { MAP_DOMAINS, "example.com", LOOKUP_FOUND, LOOKUP_FROM_STALE_MAP, "OK" },
    };
    run(lk, "stale maps", stale, sizeof(stale) / sizeof(stale[0]));

    const char *val;
    size_t len;
    is_int(lookup_key(lk, MAP_USERS, "", 0, &val, &len, NULL, err, sizeof(err)), LOOKUP_TEMPFAIL,
           "an empty key is refused");

    lookup_free(lk);
    conf_free(&cfg);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return tap_done();
}
