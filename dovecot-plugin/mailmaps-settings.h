#ifndef MAILMAPS_SETTINGS_H
#define MAILMAPS_SETTINGS_H

/* The Dovecot 2.4 setting of the mailmaps passdb and userdb:
 *
 *   passdb mailmaps { mailmaps_config_file = /etc/mailmaps/mailmaps.conf }
 *
 * One definition, built into the auth module (which reads it with
 * settings_get() in preinit) and into the settings module that doveconf
 * and the config process load from $moduledir/settings: both must list
 * the same keys in the same order, since Dovecot matches them by name. */

#include "settings-parser.h"

struct mailmaps_settings {
    pool_t pool;
    const char *mailmaps_config_file;
};

extern const struct setting_parser_info mailmaps_setting_parser_info;

#endif
