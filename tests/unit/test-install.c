/* test-install - the max_shrink decision: new maps that lost more than
 * max_shrink of the installed users, or of the users with a password, are
 * refused; exactly max_shrink passes; nothing installed never refuses;
 * growth never refuses; the reason names the counts (and the password
 * attribute). */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ldap-sync/install.h"
#include "maps/conf.h"
#include "tests/unit/tap.h"

static const struct {
    const char *name;
    unsigned max_shrink;             /* percent */
    uint64_t old_users, users, old_passwords, passwords;
    bool refused;
    const char *want;                /* in the reason, when refused */
} cases[] = {
    { "nothing installed", 10, 0, 0, 0, 0, false, NULL },
    { "first install of many", 10, 0, 150000, 0, 150000, false, NULL },
    { "no change", 10, 1000, 1000, 900, 900, false, NULL },
    { "growth", 10, 1000, 5000, 900, 4000, false, NULL },
    { "exactly 10% fewer users", 10, 1000, 900, 0, 0, false, NULL },
    { "one more than 10% fewer", 10, 1000, 899, 0, 0, true,
      "the new maps have 899 users, the installed ones 1000: more than max_shrink=10% fewer" },
    { "all users gone", 10, 1000, 0, 0, 0, true, "have 0 users" },
    { "a tiny directory loses one of three", 10, 3, 2, 0, 0, true, "have 2 users" },
    { "max_shrink 0: any loss refused", 0, 1000, 999, 0, 0, true, "max_shrink=0%" },
    { "max_shrink 0: no loss passes", 0, 1000, 1000, 0, 0, false, NULL },
    { "max_shrink 100: all may go", 100, 1000, 0, 1000, 0, false, NULL },
    { "max_shrink 50: half passes", 50, 1000, 500, 0, 0, false, NULL },
    { "max_shrink 50: more than half refused", 50, 1000, 499, 0, 0, true, "max_shrink=50%" },
    { "passwords lost (an ACL), users kept", 10, 1000, 1000, 1000, 0, true,
      "the new maps have 0 users with a password, the installed ones 1000: more than "
      "max_shrink=10% fewer (can the bind still read userPassword?" },
    { "passwords: exactly 10% fewer", 10, 1000, 1000, 1000, 900, false, NULL },
    { "passwords: one more", 10, 1000, 1000, 1000, 899, true, "with a password" },
    { "no passwords known before (an old status)", 10, 1000, 1000, 0, 0, false, NULL },
    { "the users rule speaks first", 10, 1000, 800, 1000, 0, true, "have 800 users" },
    /* no overflow in (old - new) * 100 at sizes far beyond any directory */
    { "huge counts", 10, 40000000000000000ULL, 36000000000000000ULL, 0, 0, false, NULL },
    { "huge counts, refused", 10, 40000000000000000ULL, 35999999999999999ULL, 0, 0, true,
      "max_shrink=10%" },
};

/* conf_with - a configuration with max_shrink and ldap_attr_password */
static int conf_with(struct conf *cfg, unsigned max_shrink, const char *pwattr)
{
    char text[256], err[256];
    int len = snprintf(text, sizeof(text), "ldap_base = dc=example,dc=com\nmax_shrink = %u%%\n",
                       max_shrink);
    if (pwattr != NULL)
        len += snprintf(text + len, sizeof(text) - (size_t)len, "ldap_attr_password = %s\n",
                        pwattr);
    if (conf_parse_buffer(cfg, "test", text, (size_t)len, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return -1;
    }
    return 0;
}

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf cfg;
        struct sync_report rep;
        char err[512] = "";

        if (conf_with(&cfg, cases[i].max_shrink, NULL) < 0)
            return 1;
        memset(&rep, 0, sizeof(rep));
        rep.old_users = cases[i].old_users;
        rep.users = cases[i].users;
        rep.old_passwords = cases[i].old_passwords;
        rep.passwords = cases[i].passwords;
        bool r = install_shrink_refused(&cfg, &rep, err, sizeof(err));
        if (!ok(r == cases[i].refused && (!r || strstr(err, cases[i].want) != NULL), "%s",
                cases[i].name))
            diag("refused %d, reason: %s", r, err);
        conf_free(&cfg);
    }

    /* the reason names the password attribute in use */
    struct conf cfg;
    struct sync_report rep = { .old_users = 10, .users = 10, .old_passwords = 10 };
    char err[512] = "";
    if (conf_with(&cfg, 10, "mailPassword") < 0)
        return 1;
    ok(install_shrink_refused(&cfg, &rep, err, sizeof(err)) &&
       strstr(err, "can the bind still read mailPassword?") != NULL,
       "the reason names ldap_attr_password");
    conf_free(&cfg);
    return tap_done();
}
