# ambassador/: "legate ambassador", the one-command ambassador (sources,
# SRV resolver, built-in HAProxy config, HAProxy supervision).
LIB_SRCS   += ambassador/main.c ambassador/args.c ambassador/backend.c ambassador/sources.c \
              ambassador/srv.c ambassador/config.c ambassador/creds.c \
              ambassador/docker.c ambassador/omni.c ambassador/iptables.c
UNIT_TESTS += tests/unit/test_ambassador.c

# The command-line fuzzer (see make fuzz).
FUZZERS                += ambassador_args
FUZZ_ambassador_args_SRCS   := ambassador/fuzz/args_fuzz.c ambassador/args.c ambassador/backend.c ambassador/creds.c renderer/install.c common/error.c \
                               common/buf.c common/log.c
FUZZ_ambassador_args_CORPUS := ambassador/fuzz/corpus
FUZZ_ambassador_args_FLAGS  := -max_len=2048 -dict=ambassador/fuzz/args.dict
