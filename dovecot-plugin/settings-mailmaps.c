/* settings-mailmaps - the Dovecot 2.4 settings module of the mailmaps
 * driver, installed as $moduledir/settings/libmailmaps_settings.so: doveconf
 * and the config process load every module there and take the setting
 * definitions from <module name>_set_infos, so that mailmaps_config_file is
 * a known setting. Only data: nothing here may need a symbol that doveconf
 * lacks (the module is loaded with RTLD_NOW). */

#include "lib.h"
#include "settings-parser.h"
#include "mailmaps-settings.h"

extern const char *mailmaps_settings_version;
extern const struct setting_parser_info *mailmaps_settings_set_infos[];

const char *mailmaps_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *mailmaps_settings_set_infos[] = {
    &mailmaps_setting_parser_info,
    NULL,
};
