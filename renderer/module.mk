# renderer/: the Mustache engine and "legate render"; its tests, spec runner,
# bench driver and fuzzer.
LIB_SRCS   += renderer/mustache.c renderer/mustache_parse.c renderer/mustache_render.c \
              renderer/numfmt.c renderer/render_cmd.c
UNIT_TESTS += tests/unit/test_mustache.c
TEST_TOOLS += tests/tools/mustache_spec.c tests/tools/mustache_bench.c

# The spec runner and the bench driver link the engine.
$(O)/tests/tools/mustache_spec $(O)/tests/tools/mustache_bench: $(O)/tests/tools/%: tests/tools/%.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)

# make fuzz [FUZZ_SECONDS=60]: libFuzzer over template + data, corpus in
# renderer/fuzz/corpus (new finds go to build/fuzz/corpus, not the repo).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SRCS    := renderer/mustache.c renderer/mustache_parse.c renderer/mustache_render.c \
                renderer/numfmt.c common/buf.c common/log.c
build/fuzz/mustache_fuzz: renderer/fuzz/mustache_fuzz.c $(FUZZ_SRCS) renderer/mustache.h renderer/mustache_int.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -I. $(WARN) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(DEP_CFLAGS) -o $@ renderer/fuzz/mustache_fuzz.c $(FUZZ_SRCS) $(DEP_LIBS)

fuzz: build/fuzz/mustache_fuzz
	@mkdir -p build/fuzz/corpus
	build/fuzz/mustache_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 \
		-dict=renderer/fuzz/mustache.dict build/fuzz/corpus renderer/fuzz/corpus

# The render loop is the hot path of every template: calls into jansson
# skip the PLT, and -O3 inlines the small helpers.
ifneq ($(SANITIZE),1)
$(O)/renderer/mustache_render.o: override CFLAGS += -O3 -fno-plt
endif
