# watcher/: libcurl multi glue, data names, Consul and etcd watches, the catalog sweep.
LIB_SRCS   += watcher/http.c watcher/name.c watcher/data.c watcher/watch.c \
              watcher/consul.c watcher/etcd.c watcher/etcd_stream.c watcher/etcd_conn.c watcher/sweep.c
UNIT_TESTS += tests/unit/test_data.c tests/unit/test_watch.c
TEST_TOOLS += tests/tools/faultproxy.c

# watchctl links the library, so it has its own rule (the generic tool
# rule builds single-file programs).
WATCHCTL := $(O)/tests/tools/watchctl
$(WATCHCTL): tests/tools/watchctl.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)
test-bins: $(WATCHCTL)

# The Consul and etcd answer fuzzer (see make fuzz): the watcher with the
# HTTP layer stubbed; http.c gives it http_header, its other functions
# renamed out of the stub's way.
FUZZERS          += watch
FUZZ_watch_SRCS  := watcher/fuzz/watch_fuzz.c build/fuzz/obj/http.o watcher/watch.c watcher/name.c watcher/consul.c \
                    watcher/etcd.c watcher/etcd_stream.c watcher/etcd_conn.c watcher/sweep.c watcher/data.c common/loop.c common/clock.c common/error.c common/buf.c common/log.c
FUZZ_watch_CORPUS := watcher/fuzz/corpus
FUZZ_watch_FLAGS := -max_len=16384 -dict=watcher/fuzz/watch.dict
build/fuzz/obj/http.o: watcher/http.c watcher/http.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEP_CFLAGS) -Dhttp_new=curl_http_new -Dhttp_free=curl_http_free \
		-Dhttp_start=curl_http_start -Dhttp_cancel=curl_http_cancel -Dhttp_active=curl_http_active \
		-c -o $@ $<
