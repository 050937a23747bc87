/* authdb - users.cdb records as Dovecot's passdb and userdb see them */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "maps/address.h"
#include "maps/authdb.h"

/* scheme_char - characters of a password scheme name ("SHA512-CRYPT",
 * "PBKDF2", "BLF-CRYPT.B64"); anything else means "{" starts the hash */
static bool scheme_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

/* scheme_len - length of a valid scheme name at s ending at '}', or 0 */
static size_t scheme_len(const char *s)
{
    size_t n = 0;
    while (n <= AUTHDB_SCHEME_MAX && scheme_char(s[n]))
        n++;
    return n > 0 && n <= AUTHDB_SCHEME_MAX && s[n] == '}' ? n : 0;
}

/* authdb_userdb_field - every field but the password goes to the userdb */
bool authdb_userdb_field(const char *name)
{
    return strcmp(name, "password") != 0;
}

/* authdb_password - split "{SCHEME}hash"; a bare hash takes the default */
int authdb_password(const struct userrec *rec, const char *default_scheme, char *scheme,
                    size_t schemesz, const char **hash_r, char *err, size_t errsz)
{
    const char *pw = userrec_get(rec, "password");
    const char *src = default_scheme;
    size_t n;

    *hash_r = NULL;
    if (schemesz > 0)
        scheme[0] = '\0';
    if (pw == NULL || pw[0] == '\0')
        return 0;
    if (pw[0] == '{' && (n = scheme_len(pw + 1)) > 0) {
        src = pw + 1;
        if (pw[n + 2] == '\0')
            return 0;
        *hash_r = pw + n + 2;
    } else {
        *hash_r = pw;
        n = default_scheme == NULL ? 0 : strlen(default_scheme);
        for (size_t i = 0; i < n; i++) {
            if (!scheme_char(default_scheme[i])) {
                n = 0;
                break;
            }
        }
        if (n == 0 || n > AUTHDB_SCHEME_MAX) {
            *hash_r = NULL;
            snprintf(err, errsz, "password has no {SCHEME} and the default scheme is not usable");
            return -1;
        }
    }
    if (n + 1 > schemesz) {
        *hash_r = NULL;
        snprintf(err, errsz, "password scheme too long");
        return -1;
    }
    memcpy(scheme, src, n);
    scheme[n] = '\0';
    return 1;
}

/* authdb_record - decode a value, naming the user in the error */
int authdb_record(struct userrec *rec, const char *user, const char *val, size_t len,
                  char *err, size_t errsz)
{
    char why[256];
    if (userrec_decode(rec, val, len, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "user %.256s: bad users.cdb record: %s", user, why);
        return -1;
    }
    return 0;
}

/* authdb_local - the fresh maps' answer, or 0: only LDAP may decide */
int authdb_local(struct lookup *lk, const char *user, char *keybuf, size_t keybufsz,
                 const char **val_r, size_t *len_r)
{
    struct mapset *set = lookup_mapset(lk);
    size_t len = strlen(user);

    *val_r = NULL;
    *len_r = 0;
    if (len == 0 || len + 1 > keybufsz)
        return 0;
    memcpy(keybuf, user, len + 1);
    address_lower(keybuf, len);
    /* The lookup first: it drains pending map changes (unless the caller
     * polls the watch fd), so freshness is judged on the current status. */
    int r = mapset_lookup(set, MAP_USERS, keybuf, len, val_r, len_r);
    if (r <= 0 || !mapset_fresh(set, time(NULL))) {
        *val_r = NULL;
        *len_r = 0;
        return 0;
    }
    return 1;
}
