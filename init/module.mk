# init/: legate-init, the PID-1 supervisor (libc only).
INIT_SRCS += init/main.c init/loop.c init/sigs.c init/single.c init/conf.c init/confkeys.c \
	init/confinc.c init/confglobal.c init/confcheck.c init/confval.c init/user.c init/program.c init/ready.c \
	init/logio.c init/events.c init/sup.c init/ctl.c init/ctlconf.c init/ctlclient.c
TEST_TOOLS += tests/tools/sigrec.c

# The conf value parsers are tested on their own, linked with the init
# objects they need rather than with liblegate.a.
INIT_UNIT := $(O)/tests/unit/test_init_confval
$(INIT_UNIT): tests/unit/test_init_confval.c $(O)/init-objs/init/confval.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS)
test-bins: $(INIT_UNIT)

# An LD_PRELOAD shim that counts process 1's allocations (tests/init/noalloc.sh);
# built without sanitizers, which bring their own allocator.
INIT_SHIM := $(O)/tests/tools/malloc_count.so
$(INIT_SHIM): tests/tools/malloc_count.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O2 -fPIC -shared -o $@ $<
test-bins: $(INIT_SHIM)

# The C unit tests of legate-init's modules link its objects (all but
# main.o), not liblegate.a.
INIT_UNIT_OBJS := $(patsubst %.c,$(O)/init-objs/%.o,$(filter-out init/main.c,$(INIT_SRCS)))
INIT_UNITS := $(O)/tests/unit/test_init_conf $(O)/tests/unit/test_init_program
$(INIT_UNITS): $(O)/tests/unit/%: tests/unit/%.c $(INIT_UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS)
test-bins: $(INIT_UNITS)

# The supervisord.conf reader's libFuzzer target (see make fuzz).  Until the
# Makefile runs every fuzzer listed in FUZZERS, make fuzz runs this one
# through the rule below, in the same way.
ifeq ($(origin FUZZERS),undefined)
INIT_FUZZ_RULE := 1
endif
FUZZERS                += init_conf
FUZZ_init_conf_SRCS    := init/fuzz/conf_fuzz.c init/conf.c init/confkeys.c init/confinc.c init/confglobal.c \
                          init/confcheck.c init/confval.c init/user.c init/sigs.c common/log.c
FUZZ_init_conf_CORPUS  := init/fuzz/corpus
FUZZ_init_conf_FLAGS   := -max_len=4096 -dict=init/fuzz/conf.dict
ifdef INIT_FUZZ_RULE
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
fuzz: fuzz-init_conf
.PHONY: fuzz-init_conf
build/fuzz/init_conf: $(FUZZ_init_conf_SRCS) init/conf.h init/conf_int.h init/confval.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -I. $(WARN) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $(FUZZ_init_conf_SRCS)
fuzz-init_conf: build/fuzz/init_conf
	@mkdir -p build/fuzz/corpus/init_conf
	build/fuzz/init_conf -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/init_conf- $(FUZZ_init_conf_FLAGS) \
		build/fuzz/corpus/init_conf $(FUZZ_init_conf_CORPUS)
endif
