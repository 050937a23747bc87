/* mailmaps-settings - the Dovecot 2.4 setting mailmaps_config_file */

#include "lib.h"
#include "settings-parser.h"
#include "mailmaps-settings.h"

#include "maps/conf.h"

#define MAILMAPS_DEF(type, name) \
    SETTING_DEFINE_STRUCT_##type(#name, name, struct mailmaps_settings)

static const struct setting_define mailmaps_setting_defines[] = {
    /* "passdb mailmaps { }" names the driver: these filters hold its
       settings, as for Dovecot's own drivers */
    { .type = SET_FILTER_NAME, .key = "passdb_mailmaps" },
    { .type = SET_FILTER_NAME, .key = "userdb_mailmaps" },
    MAILMAPS_DEF(STR_NOVARS, mailmaps_config_file),
    SETTING_DEFINE_LIST_END
};

static const struct mailmaps_settings mailmaps_default_settings = {
    .mailmaps_config_file = CONF_DEFAULT_PATH,
};

const struct setting_parser_info mailmaps_setting_parser_info = {
    .name = "mailmaps",
    .defines = mailmaps_setting_defines,
    .defaults = &mailmaps_default_settings,
    .struct_size = sizeof(struct mailmaps_settings),
    .pool_offset1 = 1 + offsetof(struct mailmaps_settings, pool),
};
