# dovecot-plugin/plugin.mk - the Dovecot auth module libauthdb_mailmaps.so,
# included by the top Makefile.
#
#   make plugin            build $(B)/libauthdb_mailmaps.so
#   make plugin-install    install it into $(DESTDIR)$dovecot_moduledir/auth
#
# Dovecot's own flags from dovecot-config (its headers are written for
# them), plus -Werror; libmailmaps (built with -fPIC) is linked in
# statically; the auth functions come from the auth binary at load time, so
# nothing of Dovecot is linked. A version script keeps every symbol but the
# three module symbols local.

DOVECOT_CONFIG ?= /usr/lib/dovecot/dovecot-config
dovecot_var     = $(shell . $(DOVECOT_CONFIG) 2>/dev/null && printf '%s' "$$$(1)")
DOVECOT_CFLAGS     := $(call dovecot_var,DOVECOT_CFLAGS)
LIBDOVECOT_INCLUDE := $(call dovecot_var,LIBDOVECOT_INCLUDE)
DOVECOT_MODULEDIR  := $(call dovecot_var,dovecot_moduledir)

PLUGIN     = $(B)/libauthdb_mailmaps.so
PLUGIN_OBJ = $(B)/dovecot-plugin/authdb-mailmaps.o
PLUGIN_MAP = dovecot-plugin/authdb-mailmaps.map

.PHONY: plugin plugin-install

plugin: $(PLUGIN)

$(PLUGIN_OBJ): dovecot-plugin/authdb-mailmaps.c $(wildcard maps/*.h) $(DOVECOT_CONFIG)
	@mkdir -p $(@D)
	$(CC) $(DOVECOT_CFLAGS) -Werror -DHAVE_CONFIG_H $(LIBDOVECOT_INCLUDE) -I. \
	    -fPIC -c -o $@ $<

$(PLUGIN): $(PLUGIN_OBJ) $(LIB) $(PLUGIN_MAP)
	$(CC) $(DOVECOT_CFLAGS) -fPIC -shared -Wl,--version-script=$(PLUGIN_MAP) \
	    -Wl,-z,relro -Wl,-z,now -Wl,--no-undefined-version \
	    -o $@ $(PLUGIN_OBJ) $(LIB) $(LDLIBS_LIB)

plugin-install: $(PLUGIN)
	@test -n "$(DOVECOT_MODULEDIR)" || { echo "dovecot_moduledir unknown: is dovecot-dev installed?" >&2; exit 1; }
	install -d $(DESTDIR)$(DOVECOT_MODULEDIR)/auth
	install -m 0644 $(PLUGIN) $(DESTDIR)$(DOVECOT_MODULEDIR)/auth/libauthdb_mailmaps.so
