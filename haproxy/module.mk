# haproxy/: what legate knows about HAProxy: its CLIs, configuration
# comparison, runtime changes, confirmed reloads, the supervised process.
LIB_SRCS   += haproxy/cli.c haproxy/cfg.c haproxy/plan.c haproxy/master.c haproxy/runtime.c haproxy/driver.c \
              haproxy/proc.c
UNIT_TESTS += tests/unit/test_haproxy_cfg.c

# hapctl links the library (the generic tool rule builds single-file programs).
HAPCTL := $(O)/tests/tools/hapctl
$(HAPCTL): tests/tools/hapctl.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)
test-bins: $(HAPCTL)
