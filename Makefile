# mailmaps - plain Makefile.
#
#   make            build libmailmaps, the programs and the Dovecot module
#   make check      install missing packages (as root), then check-host and
#                   the same suite in a chroot of the other Debian release
#                   (tests/check); the last line adds both
#   make check-host build, run unit tests (plain and under ASan+UBSan) and
#                   integration tests on this machine
#   make check-trixie, make check-bookworm   the suite in that chroot only
#                   (tests/chroot/run; the base chroot is cached in
#                   /var/cache/mailmaps-ci)
#   make bench      benchmarks under tests/bench/
#   make demo       guided tour on built-in defaults
#   make fuzz       libFuzzer targets (clang)
#   make settings-doc  rewrite the settings reference (README.md, mailmaps.conf(5),
#                   contrib/mailmaps.conf) from maps/conf.c's table
#   make install    PREFIX=/usr DESTDIR=...
#   make deb        Debian packages into build/deb/ (dpkg-buildpackage -b)
#   make check-packages  build, install, exercise and purge the packages in
#                   clean chroots of each PKG_RELEASES (tests/packages/run)

PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/mailmaps
SYSCONFDIR ?= /etc

CC        ?= gcc
OPTFLAGS  ?= -O2 -g
# Error messages are cut to their buffers on purpose: no truncation warnings.
WARNFLAGS  = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Werror \
             -Wno-format-truncation
HARDEN     = -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CPPFLAGS  += -D_GNU_SOURCE -I.
CFLAGS    += $(OPTFLAGS) $(WARNFLAGS) -fPIC
LDLIBS_LIB = -lcdb -lldap -llber

SANFLAGS   = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

# Build variants live side by side: build/release and build/asan.
VARIANT   ?= release
B          = build/$(VARIANT)
ifeq ($(VARIANT),asan)
VFLAGS     = $(SANFLAGS)
else
VFLAGS     = $(HARDEN)
endif

LIB_SRCS   = $(sort $(wildcard maps/*.c))
LIB_OBJS   = $(LIB_SRCS:%.c=$(B)/%.o)
LIB        = $(B)/libmailmaps.a

# Shared by the programs (logging): not part of the library, which never logs.
COMMON_SRCS = $(sort $(wildcard common/*.c))
COMMON_OBJS = $(COMMON_SRCS:%.c=$(B)/%.o)

UNIT_SRCS  = $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS  = $(UNIT_SRCS:%.c=$(B)/%)

# One folder per program: its main and the modules only it uses.
PROGS      = $(B)/mailmaps $(B)/mailmaps-sync $(B)/mailmaps-policyd
CLI_OBJS   = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard cli/*.c)))
SYNC_OBJS  = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard ldap-sync/*.c)))
POLICYD_OBJS = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard policyd/*.c)))

TOOL_SRCS  = $(sort $(wildcard tests/tools/*.c))
TOOL_BINS  = $(TOOL_SRCS:%.c=$(B)/%)

BENCH_SRCS = $(sort $(wildcard tests/bench/*.c))
BENCH_BINS = $(BENCH_SRCS:%.c=$(B)/%)

.PHONY: all lib programs unit-tests test-tools check check-host check-trixie \
        check-bookworm check-unit check-integration \
        bench demo fuzz install clean deps deps-nochroot plugin deb check-packages \
        settings-doc
.DELETE_ON_ERROR:

# Empty = leave the Dovecot module out (a build without dovecot-dev);
# MAILMAPS_SKIP_PLUGIN=1 empties it too (passed into the chroot of make check).
WITH_PLUGIN ?= $(if $(filter 1,$(MAILMAPS_SKIP_PLUGIN)),,yes)

all: programs $(if $(WITH_PLUGIN),plugin)

lib: $(LIB)
programs: $(PROGS)
unit-tests: $(UNIT_BINS)
test-tools: $(TOOL_BINS)

$(B)/%.o: %.c $(wildcard maps/*.h common/*.h cli/*.h ldap-sync/*.h policyd/*.h tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(VFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(B)/mailmaps: $(CLI_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB)

$(B)/mailmaps-sync: $(SYNC_OBJS) $(COMMON_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB) -pthread

$(B)/mailmaps-policyd: $(POLICYD_OBJS) $(COMMON_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB) -lhiredis -pthread

# A unit test of a program's module links that module's object (and the
# programs' objects it calls) beside the library, which does not hold them.
$(B)/tests/unit/test-daemon: $(B)/ldap-sync/daemon.o $(COMMON_OBJS)
$(B)/tests/unit/test-install: $(B)/ldap-sync/install.o $(COMMON_OBJS)
$(B)/tests/unit/test-persist-state: $(B)/ldap-sync/persist_state.o $(B)/ldap-sync/uuidtab.o \
                                    $(COMMON_OBJS)
$(B)/tests/unit/test-ratelog: $(B)/policyd/ratelog.o
$(B)/tests/unit/test-uuidtab: $(B)/ldap-sync/uuidtab.o

$(B)/tests/unit/test-%: $(B)/tests/unit/test-%.o $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS_LIB) -pthread

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) -o $@ $^ $(LDLIBS_LIB)

$(B)/tests/bench/%: $(B)/tests/bench/%.o $(LIB)
	$(CC) $(CFLAGS) $(VFLAGS) -o $@ $^ $(LDLIBS_LIB) -lhiredis

# The Dovecot module: Dovecot's own flags, no -Werror on its headers' warnings
# we do not control, and the auth functions come from the auth binary.
include dovecot-plugin/plugin.mk

# deps: everything, with mmdebstrap for the chroot of `make check`;
# deps-nochroot: what building and testing on this machine alone needs.
deps:
	@scripts/install-deps

deps-nochroot:
	@scripts/install-deps --no-chroot-tools

check: deps
	MAKE="$(MAKE)" tests/check

# Both variants build in parallel (BUILD_JOBS, default: all CPUs); the
# tests run one at a time.
BUILD_JOBS ?= $(or $(MAILMAPS_BUILD_JOBS),$(shell nproc 2>/dev/null || echo 2))
check-host: deps-nochroot
	$(MAKE) -j$(BUILD_JOBS) all unit-tests test-tools VARIANT=release
	$(MAKE) -j$(BUILD_JOBS) unit-tests VARIANT=asan
	tests/run build/release build/asan

check-trixie check-bookworm:
	tests/chroot/run --suite $(@:check-%=%)

check-unit:
	$(MAKE) unit-tests VARIANT=release
	$(MAKE) unit-tests VARIANT=asan
	tests/run --unit-only build/release build/asan

# The settings reference is generated: t-docs fails until this has run.
settings-doc: $(B)/tests/tools/settingsdoc
	scripts/settings-doc $<

bench: deps-nochroot
	$(MAKE) all VARIANT=release
	$(MAKE) $(BENCH_BINS) VARIANT=release
	tests/bench/run build/release

demo: deps-nochroot
	$(MAKE) all VARIANT=release
	tests/demo/run build/release

FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz-*.c))
fuzz:
	@mkdir -p build/fuzz
	@for f in $(FUZZ_SRCS); do \
	  n=$$(basename $$f .c); \
	  echo "clang $$f -> build/fuzz/$$n"; \
	  clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/$$n $$f $(LIB_SRCS) $(LDLIBS_LIB) || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 build/release/mailmaps $(DESTDIR)$(BINDIR)/mailmaps
	install -m 0755 build/release/mailmaps-sync build/release/mailmaps-policyd $(DESTDIR)$(SBINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 contrib/man/mailmaps.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 contrib/man/mailmaps.8 contrib/man/mailmaps-sync.8 \
	    contrib/man/mailmaps-policyd.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(DOCDIR)/examples
	cp -R contrib/. $(DESTDIR)$(DOCDIR)/examples/
	$(if $(WITH_PLUGIN),$(MAKE) plugin-install)

# The source tree is copied to build/deb/src, so that dpkg-buildpackage
# writes its .debs and its debian/ build state there, not beside the
# checkout. DEB_BUILD_PROFILES=pkg.mailmaps.nodovecot leaves out
# dovecot-mailmaps.
deb:
	rm -rf build/deb
	mkdir -p build/deb/src/mailmaps
	tar -cf - --exclude=./build --exclude=./.git . | tar -xf - -C build/deb/src/mailmaps
	cd build/deb/src/mailmaps && dpkg-buildpackage -us -uc -b -Jauto
	mv build/deb/src/*.deb build/deb/src/*.buildinfo build/deb/src/*.changes build/deb/
	rm -rf build/deb/src
	@ls -1 build/deb/

PKG_RELEASES ?= bookworm trixie
check-packages:
	tests/packages/run $(PKG_RELEASES)

clean:
	rm -rf build
