# dovecot-plugin/plugin.mk - the Dovecot auth module libauthdb_mailmaps.so
# (and, for Dovecot 2.4, its settings module), included by the top Makefile.
#
#   make plugin            build $(B)/libauthdb_mailmaps.so (+ settings module)
#   make plugin-install    install into $(DESTDIR)$dovecot_moduledir/auth
#                          (and .../settings on 2.4)
#
# Built against whichever dovecot-dev is installed: the source says
# DOVECOT_PREREQ(2, 4, 0) where the API differs. Dovecot's own flags from
# dovecot-config (its headers are written for them), plus -Werror;
# libmailmaps (built with -fPIC) is linked in statically; the auth functions
# come from the auth binary at load time, so nothing of Dovecot is linked. A
# version script keeps every symbol but the module symbols local.
#
# Dovecot 2.4 only knows a plugin's settings (mailmaps_config_file) when
# doveconf and the config process load a module from $moduledir/settings
# that exports <name>_set_infos: libmailmaps_settings.so (module name
# "mailmaps_settings"). It holds only the setting definitions, which the
# auth module carries as well (mailmaps-settings.c, built into both).

DOVECOT_CONFIG ?= /usr/lib/dovecot/dovecot-config
dovecot_var     = $(shell . $(DOVECOT_CONFIG) 2>/dev/null && printf '%s' "$$$(1)")
DOVECOT_CFLAGS     := $(call dovecot_var,DOVECOT_CFLAGS)
LIBDOVECOT_INCLUDE := $(call dovecot_var,LIBDOVECOT_INCLUDE)
DOVECOT_MODULEDIR  := $(call dovecot_var,dovecot_moduledir)
DOVECOT_INCDIR     := $(call dovecot_var,dovecot_pkgincludedir)
# "yes" when the installed headers are Dovecot 2.4 or later
DOVECOT_24 := $(shell awk '$$2 == "DOVECOT_VERSION_MAJOR" { maj = $$3 } \
                $$2 == "DOVECOT_VERSION_MINOR" { min = $$3 } \
                END { if (maj > 2 || (maj == 2 && min >= 4)) print "yes" }' \
                $(DOVECOT_INCDIR)/config.h 2>/dev/null)

PLUGIN      = $(B)/libauthdb_mailmaps.so
PLUGIN_OBJS = $(B)/dovecot-plugin/authdb-mailmaps.o \
              $(if $(DOVECOT_24),$(B)/dovecot-plugin/mailmaps-settings.o)
PLUGIN_MAP  = dovecot-plugin/authdb-mailmaps.map
SETTINGS_MODULE = $(if $(DOVECOT_24),$(B)/libmailmaps_settings.so)
SETTINGS_OBJS   = $(B)/dovecot-plugin/settings-mailmaps.o $(B)/dovecot-plugin/mailmaps-settings.o
SETTINGS_MAP    = dovecot-plugin/settings-mailmaps.map

.PHONY: plugin plugin-install

plugin: $(PLUGIN) $(SETTINGS_MODULE)

$(B)/dovecot-plugin/%.o: dovecot-plugin/%.c $(wildcard dovecot-plugin/*.h) $(wildcard maps/*.h) $(DOVECOT_CONFIG)
	@mkdir -p $(@D)
	$(CC) $(DOVECOT_CFLAGS) -Werror -DHAVE_CONFIG_H $(LIBDOVECOT_INCLUDE) -I. -Idovecot-plugin \
	    -fPIC -c -o $@ $<

$(PLUGIN): $(PLUGIN_OBJS) $(LIB) $(PLUGIN_MAP)
	$(CC) $(DOVECOT_CFLAGS) -fPIC -shared -Wl,--version-script=$(PLUGIN_MAP) \
	    -Wl,-z,relro -Wl,-z,now -Wl,--no-undefined-version \
	    -o $@ $(PLUGIN_OBJS) $(LIB) $(LDLIBS_LIB)

$(B)/libmailmaps_settings.so: $(SETTINGS_OBJS) $(SETTINGS_MAP)
	$(CC) $(DOVECOT_CFLAGS) -fPIC -shared -Wl,--version-script=$(SETTINGS_MAP) \
	    -Wl,-z,relro -Wl,-z,now -Wl,--no-undefined-version -Wl,--no-undefined \
	    -o $@ $(SETTINGS_OBJS)

plugin-install: plugin
	@test -n "$(DOVECOT_MODULEDIR)" || { echo "dovecot_moduledir unknown: is dovecot-dev installed?" >&2; exit 1; }
	install -d $(DESTDIR)$(DOVECOT_MODULEDIR)/auth
	install -m 0644 $(PLUGIN) $(DESTDIR)$(DOVECOT_MODULEDIR)/auth/libauthdb_mailmaps.so
	$(if $(DOVECOT_24),install -d $(DESTDIR)$(DOVECOT_MODULEDIR)/settings)
	$(if $(DOVECOT_24),install -m 0644 $(SETTINGS_MODULE) $(DESTDIR)$(DOVECOT_MODULEDIR)/settings/libmailmaps_settings.so)
