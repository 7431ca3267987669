# ambassador/: "legate ambassador", the one-command ambassador (sources,
# SRV resolver, built-in HAProxy config, HAProxy supervision).
LIB_SRCS   += ambassador/main.c ambassador/args.c ambassador/backend.c ambassador/sources.c \
              ambassador/srv.c ambassador/config.c
UNIT_TESTS += tests/unit/test_ambassador.c
