/* fuzz-conf - mailmaps.conf text from fuzz bytes: conf_parse_buffer must
 * either fill every field or fail with "fuzz.conf:…" in err, and conf_free
 * must release whatever was filled (LeakSanitizer checks). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf cfg;
    char err[CONF_ERRSZ];

    /* a copy of exactly size bytes, so reads past the end are caught */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    memset(err, 0, sizeof(err));

    int rc = conf_parse_buffer(&cfg, "fuzz.conf", buf, size, err, sizeof(err));
    if (rc == 0) {
        if (cfg.ldap_base == NULL || cfg.ldap_base[0] == '\0')
            abort();
        if (cfg.ldap_uri_count < 1 || cfg.ldap_uri_count > CONF_LIST_MAX)
            abort();
        if (cfg.policy_listen_count < 1 || cfg.policy_listen_count > CONF_LIST_MAX)
            abort();
        if (cfg.ldap_filter == NULL || cfg.maps_dir == NULL || cfg.mail_base == NULL ||
            cfg.overquota_reply == NULL || cfg.recipient_delimiter == NULL ||
            cfg.attr.mail == NULL || cfg.attr.password == NULL)
            abort();
        if (cfg.ldap_timeout == 0 || cfg.sync_interval == 0 || cfg.stale_after == 0 ||
            cfg.default_uid == 0 || cfg.default_gid == 0 || cfg.max_shrink > 100 ||
            cfg.policy_socket_mode > 07777)
            abort();
        if (cfg.quota_grace.percent && cfg.quota_grace.value > 100)
            abort();
        for (size_t i = 0; i < cfg.policy_listen_count; i++) {
            const struct conf_listen *l = &cfg.policy_listen[i];
            if (l->kind == CONF_LISTEN_UNIX ? l->path[0] != '/'
                                            : (l->host[0] == '\0' || l->port == 0 ||
                                               l->port > 65535))
                abort();
        }
    } else if (rc != -1 || strncmp(err, "fuzz.conf", 9) != 0) {
        abort();
    }
    conf_free(&cfg);
    free(buf);
    return 0;
}
