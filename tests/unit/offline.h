#ifndef MAILMAPS_TESTS_OFFLINE_H
#define MAILMAPS_TESTS_OFFLINE_H

/* offline.h - the configuration of the tests that read maps with LDAP as
 * the fallback: LDAP on a port nobody listens on, so that every fallback
 * fails at once. Include after tap.h. */

#include <stdio.h>
#include <string.h>

#include "maps/conf.h"

/* offline_conf - parse that configuration with maps in maps_dir and
 * stale_after as given into cfg (one check, "config") */
__attribute__((unused))
static int offline_conf(struct conf *cfg, const char *maps_dir, const char *stale_after)
{
    char text[512], err[512];
    snprintf(text, sizeof(text),
             "ldap_uri = ldap://127.0.0.1:1/\nldap_base = dc=example,dc=com\n"
             "ldap_timeout = 1\nmaps_dir = %s\nstale_after = %s\n", maps_dir, stale_after);
    return ok(conf_parse_buffer(cfg, "test", text, strlen(text), err, sizeof(err)) == 0, "config");
}

#endif
