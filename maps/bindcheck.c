/* bindcheck - the bind password file and cleartext binds (bindcheck.h) */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maps/bindcheck.h"

/* bind_has_password - a simple bind with a password, not an anonymous or
 * SASL EXTERNAL one */
static bool bind_has_password(const struct conf *cfg)
{
    return cfg->ldap_bind_dn != NULL && cfg->ldap_bind_dn[0] != '\0';
}

/* bindcheck_secret - read it as the connect would, then forget it */
int bindcheck_secret(const struct conf *cfg, char *err, size_t errsz)
{
    char *pw;

    if (!bind_has_password(cfg))
        return 0;
    if (cfg->ldap_bind_pw_file == NULL || cfg->ldap_bind_pw_file[0] == '\0') {
        snprintf(err, errsz, "ldap_bind_dn is set but ldap_bind_pw_file is not");
        return -1;
    }
    char why[CONF_ERRSZ];
    if (conf_read_secret(cfg->ldap_bind_pw_file, &pw, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "cannot read the LDAP bind password: %s", why);
        return -1;
    }
    explicit_bzero(pw, strlen(pw));
    free(pw);
    return 0;
}

/* host_is_loopback - name or address of this machine's loopback */
static bool host_is_loopback(const char *host, size_t len)
{
    char buf[64];
    struct in_addr a4;
    struct in6_addr a6;

    if (len == 0)
        return true;                 /* libldap connects to localhost */
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (strcasecmp(buf, "localhost") == 0 || strcasecmp(buf, "localhost.") == 0)
        return true;
    if (inet_pton(AF_INET, buf, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (buf[0] == '[' && buf[len - 1] == ']') {
        buf[len - 1] = '\0';
        if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
            return false;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

/* bindcheck_uri_in_clear - ldap://HOST[:PORT][/...] with HOST not loopback */
bool bindcheck_uri_in_clear(const char *uri)
{
    if (!conf_uri_scheme_is(uri, "ldap"))
        return false;                /* ldaps:// encrypts, ldapi:// is local */
    const char *host = uri + 7, *end;
    if (host[0] == '[') {
        end = strchr(host, ']');
        if (end == NULL)
            return true;             /* unparsable: assume the worst */
        end++;
    } else {
        end = host + strcspn(host, ":/?");
    }
    return !host_is_loopback(host, (size_t)(end - host));
}

/* bindcheck_cleartext - the URIs at risk, in one sentence */
size_t bindcheck_cleartext(const struct conf *cfg, char *warn, size_t warnsz)
{
    size_t n = 0, used = 0;

    if (!bind_has_password(cfg) || cfg->ldap_starttls)
        return 0;
    for (size_t i = 0; i < cfg->ldap_uri_count; i++) {
        const char *uri = cfg->ldap_uri[i];
        if (uri == NULL || !bindcheck_uri_in_clear(uri))
            continue;
        if (used < warnsz) {
            int k = snprintf(warn + used, warnsz - used, "%s%s",
                             n == 0 ? "the LDAP bind password and every password hash travel "
                                      "in clear to "
                                    : ", ",
                             uri);
            used += k > 0 ? (size_t)k : 0;
        }
        n++;
    }
    if (n > 0 && used < warnsz)
        snprintf(warn + used, warnsz - used,
                 " (ldap:// to a host other than loopback without StartTLS): set "
                 "ldap_starttls = yes (and ldap_tls_ca_file), or use ldaps://");
    return n;
}
