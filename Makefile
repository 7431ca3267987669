# legate: build, test, benchmark and demo.
#
#   make                 bin/legate and bin/legate-init
#   make check           every test (installs missing Debian packages as root)
#   make check SANITIZE=1   the same tests against an ASan+UBSan build
#   make check LEGATE_CONSUL=old|new|PATH   Consul tests against one agent only
#                        (default: Debian's 1.8.7, then the 1.14.11 build)
#   make bench | demo | fuzz | static-init | install | uninstall | deb | deps | clean
#
# Each directory adds its sources through DIR/*.mk fragments:
#   LIB_SRCS    linked into bin/legate and into every unit test
#   LEGATE_MAIN the file holding legate's main()
#   INIT_SRCS   legate-init (libc only)
#   UNIT_TESTS  tests/unit/*.c, one program each, linked with LIB_SRCS
#   TEST_TOOLS  helper programs for the scripted tests
#   FUZZERS     libFuzzer targets: NAME, with FUZZ_NAME_SRCS (the target and
#               what it links), FUZZ_NAME_CORPUS (the committed seeds) and
#               FUZZ_NAME_FLAGS (extra libFuzzer flags: -dict=, -max_len=)

.DEFAULT_GOAL := all

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
SANITIZE ?=

PKGS    := libcurl jansson libcares libmicrohttpd

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -fstack-protector-strong -I.
BASE_LDFLAGS :=

ifeq ($(SANITIZE),1)
FLAVOR  := asan
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
BINDIR  := build/asan/bin
else
FLAVOR  := release
OPT     := -O2 -D_FORTIFY_SOURCE=2
BINDIR  := bin
endif

O := build/$(FLAVOR)

# Quiet build, as kbuild does it: one short line per step; V=1 shows the
# commands.  QUIET=1 (make demo) leaves out the short lines too.
V ?= 0
ifeq ($(V),1)
Q   :=
msg  =
else ifeq ($(QUIET),1)
Q   := @
msg  =
else
Q   := @
msg  = @printf '  %-6s %s\n' '$(1)' '$(2)'
endif
override CFLAGS  := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
override LDFLAGS := $(BASE_LDFLAGS) $(LDFLAGS)
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

LIB_SRCS    :=
LEGATE_MAIN :=
INIT_SRCS   :=
UNIT_TESTS  :=
TEST_TOOLS  :=
BENCHES     :=
FUZZERS     :=

include $(sort $(wildcard */*.mk))

LIB_OBJS   := $(LIB_SRCS:%.c=$(O)/%.o)
INIT_OBJS  := $(INIT_SRCS:%.c=$(O)/init-objs/%.o)
UNIT_BINS  := $(UNIT_TESTS:%.c=$(O)/%)
TOOL_BINS  := $(TEST_TOOLS:%.c=$(O)/%)

.PHONY: all check bench demo fuzz static-init install uninstall deb clean deps test-bins
all: $(BINDIR)/legate $(BINDIR)/legate-init

# The newer Consul is built once into a cache outside the checkout; a failed
# build is reported and the tests that need it are skipped, not failed.
deps:
	@sh scripts/deps.sh
	@sh scripts/consul-new.sh --force || true

# Dependency files written by the compiler keep header changes honest.
-include $(shell find build -name '*.d' 2>/dev/null)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEP_CFLAGS) -MMD -MP -c -o $@ $<

# legate-init is built with no library but libc; its objects stay apart.
$(O)/init-objs/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/liblegate.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BINDIR)/legate: $(O)/$(LEGATE_MAIN:.c=.o) $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BINDIR)/legate-init: $(INIT_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

static-init: $(INIT_OBJS)
	@mkdir -p bin
	$(CC) -static $(LDFLAGS) -o bin/legate-init.static $^

$(O)/tests/unit/%: tests/unit/%.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)

$(O)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $< $(LDFLAGS) $(DEP_LIBS)

test-bins: all $(UNIT_BINS) $(TOOL_BINS)

# The test runner gets every path it needs through the environment.
TEST_ENV = LEGATE_ROOT=$(CURDIR) LEGATE_BIN=$(CURDIR)/$(BINDIR) \
	LEGATE_BUILD=$(CURDIR)/$(O) LEGATE_SHARED=$(abspath $(CURDIR)/../shared) \
	LEGATE_FLAVOR=$(FLAVOR)

check:
	@sh scripts/deps.sh
	@[ "$(LEGATE_CONSUL)" != "" ] && [ "$(LEGATE_CONSUL)" != new ] || sh scripts/consul-new.sh || true
	@$(MAKE) --no-print-directory test-bins
	@$(TEST_ENV) tests/run $(TESTS)

bench:
	@sh scripts/deps.sh
	@[ "$(LEGATE_CONSUL)" != new ] || sh scripts/consul-new.sh || true
	@$(MAKE) --no-print-directory test-bins
	@$(TEST_ENV) bench/run $(BENCH)

demo:
	@sh scripts/deps.sh
	@echo "demo: building bin/legate and bin/legate-init (make demo V=1 shows the commands)"
	@$(MAKE) --no-print-directory all QUIET=$(if $(filter 1,$(V)),0,1)
	@$(TEST_ENV) scripts/demo.sh

# make fuzz [FUZZ_SECONDS=60] [FUZZER=name]: every fuzzer (or one) in turn,
# FUZZ_SECONDS each, from its committed seeds; what it finds goes to
# build/fuzz/corpus/NAME and a crash to build/fuzz/NAME-crash-*, never into
# the repository.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZER       ?=
FUZZ_RUN     := $(or $(FUZZER),$(FUZZERS))
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -I. $(WARN) -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all
.SECONDEXPANSION:
build/fuzz/%: $$(FUZZ_$$*_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEP_CFLAGS) -o $@ $(filter %.c %.o,$^) $(DEP_LIBS)

fuzz_run = mkdir -p build/fuzz/corpus/$(1) && echo "== fuzz $(1): $(FUZZ_SECONDS) s" && \
	build/fuzz/$(1) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix=build/fuzz/$(1)- $(FUZZ_$(1)_FLAGS) \
	build/fuzz/corpus/$(1) $(FUZZ_$(1)_CORPUS)
fuzz: $(addprefix build/fuzz/,$(filter $(FUZZERS),$(FUZZ_RUN)))
	@$(if $(filter-out $(FUZZERS),$(FUZZ_RUN)),echo "no fuzzer $(filter-out $(FUZZERS),$(FUZZ_RUN)); there are: $(FUZZERS)" >&2 && false,true)
	$(foreach f,$(FUZZ_RUN),$(call fuzz_run,$(f)) && ) true

# make install [PREFIX=/usr/local] [DESTDIR=]: the binaries (stripped;
# INSTALL_STRIP= keeps their symbols, as debhelper wants them), the
# templates, the image's configurations as examples, the manual pages, and
# the supervisorctl link to legate-init in SUPERVISORCTL_DIR.
INSTALL_STRIP     ?= -s
SHARE_DIR          = $(PREFIX)/share/legate
MAN_DIR            = $(PREFIX)/share/man
SUPERVISORCTL_DIR ?= $(PREFIX)/bin
MAN_PAGES         := man/legate.1 man/legate.hcl.5 man/legate-init.8
EXAMPLES          := compose/legate.hcl compose/init.conf

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHARE_DIR)/templates $(DESTDIR)$(SHARE_DIR)/examples \
		$(DESTDIR)$(MAN_DIR)/man1 $(DESTDIR)$(MAN_DIR)/man5 $(DESTDIR)$(MAN_DIR)/man8 \
		$(DESTDIR)$(SUPERVISORCTL_DIR)
	install -m 755 $(INSTALL_STRIP) $(BINDIR)/legate $(BINDIR)/legate-init $(DESTDIR)$(PREFIX)/bin/
	install -m 644 templates/*.mustache $(DESTDIR)$(SHARE_DIR)/templates/
	install -m 644 $(EXAMPLES) $(DESTDIR)$(SHARE_DIR)/examples/
	$(foreach m,$(MAN_PAGES),install -m 644 $(m) $(DESTDIR)$(MAN_DIR)/man$(subst .,,$(suffix $(m)))/ && ) true
	ln -sf $(if $(filter $(PREFIX)/bin,$(SUPERVISORCTL_DIR)),legate-init,$(PREFIX)/bin/legate-init) \
		$(DESTDIR)$(SUPERVISORCTL_DIR)/supervisorctl

# Only what install put there; directories are removed when left empty.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/legate $(DESTDIR)$(PREFIX)/bin/legate-init
	[ ! -L $(DESTDIR)$(SUPERVISORCTL_DIR)/supervisorctl ] || rm -f $(DESTDIR)$(SUPERVISORCTL_DIR)/supervisorctl
	rm -f $(addprefix $(DESTDIR)$(SHARE_DIR)/templates/,$(notdir $(wildcard templates/*.mustache)))
	rm -f $(addprefix $(DESTDIR)$(SHARE_DIR)/examples/,$(notdir $(EXAMPLES)))
	$(foreach m,$(MAN_PAGES),rm -f $(DESTDIR)$(MAN_DIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) && ) true
	-rmdir $(DESTDIR)$(SHARE_DIR)/templates $(DESTDIR)$(SHARE_DIR)/examples $(DESTDIR)$(SHARE_DIR) 2>/dev/null

# make deb: the Debian package (debian/), built with dpkg-buildpackage from a
# copy of the tracked files in DEB_DIR (build/deb), then checked by lintian (an error
# fails the target).  The .deb lands in DEB_DIR.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_DIR ?= build/deb
deb:
	@sh scripts/deps.sh
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/legate-$(DEB_VERSION)
	git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - | tar -xf - -C $(DEB_DIR)/legate-$(DEB_VERSION)
	cd $(DEB_DIR)/legate-$(DEB_VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error $(DEB_DIR)/legate_$(DEB_VERSION)_*.changes
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build bin
