# mustache/: the Mustache engine; its unit test, spec runner, bench driver
# and fuzzer.
LIB_SRCS   += mustache/mustache.c mustache/parse.c mustache/render.c mustache/numfmt.c \
              mustache/filter.c
UNIT_TESTS += tests/unit/test_mustache.c
TEST_TOOLS += tests/tools/mustache_spec.c tests/tools/mustache_bench.c

# The spec runner and the bench driver link the engine.
$(O)/tests/tools/mustache_spec $(O)/tests/tools/mustache_bench: $(O)/tests/tools/%: tests/tools/%.c $(O)/liblegate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -o $@ $^ $(LDFLAGS) $(DEP_LIBS)

# The Mustache fuzzer: template + data + partials (see make fuzz).
FUZZERS               += mustache
FUZZ_mustache_SRCS    := mustache/fuzz/mustache_fuzz.c mustache/mustache.c mustache/parse.c \
                         mustache/render.c mustache/numfmt.c mustache/filter.c common/buf.c common/error.c common/log.c
FUZZ_mustache_CORPUS  := mustache/fuzz/corpus
FUZZ_mustache_FLAGS   := -max_len=4096 -dict=mustache/fuzz/mustache.dict

# The render loop is the hot path of every template: calls into jansson
# skip the PLT, and -O3 inlines the small helpers.
ifneq ($(SANITIZE),1)
$(O)/mustache/render.o: override CFLAGS += -O3 -fno-plt
endif
