# legate/: the legate program's entry point, configuration, daemon and status.
LEGATE_MAIN := legate/main.c
LIB_SRCS    += legate/hcl.c legate/config.c legate/config_file.c legate/daemon.c legate/status.c legate/render_cmd.c
UNIT_TESTS  += tests/unit/test_config.c
TEST_TOOLS  += tests/tools/connflood.c

# The configuration fuzzer: an HCL file and flags (see make fuzz).
FUZZERS            += config
FUZZ_config_SRCS   := legate/fuzz/config_fuzz.c legate/config.c legate/config_file.c legate/hcl.c renderer/command.c common/error.c common/file.c \
                      common/loop.c common/clock.c common/buf.c common/log.c
FUZZ_config_CORPUS := legate/fuzz/corpus
FUZZ_config_FLAGS  := -max_len=8192 -dict=legate/fuzz/hcl.dict
