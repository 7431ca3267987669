# watcher/: the event loop, libcurl multi glue, Consul and etcd watches.
LIB_SRCS   += watcher/loop.c watcher/http.c watcher/data.c watcher/watch.c \
              watcher/consul.c watcher/etcd.c
UNIT_TESTS += tests/unit/test_watch_data.c tests/unit/test_watch_loop.c tests/unit/test_watch_names.c
TEST_TOOLS += tests/tools/faultproxy.c

# watchctl links the library, so it has its own rule (the generic tool
# rule builds single-file programs).
WATCHCTL := $(O)/tests/tools/watchctl
$(WATCHCTL): tests/tools/watchctl.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)
test-bins: $(WATCHCTL)
