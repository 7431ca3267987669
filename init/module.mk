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

# The supervisord.conf reader's libFuzzer target (see make fuzz).
FUZZERS                += init_conf
FUZZ_init_conf_SRCS    := init/fuzz/conf_fuzz.c init/conf.c init/confkeys.c init/confinc.c init/confglobal.c \
                          init/confcheck.c init/confval.c init/user.c init/sigs.c common/log.c
FUZZ_init_conf_CORPUS  := init/fuzz/corpus
FUZZ_init_conf_FLAGS   := -max_len=4096 -dict=init/fuzz/conf.dict
