# legate/: the legate program's entry point, configuration, daemon and status.
LEGATE_MAIN := legate/main.c
LIB_SRCS    += legate/hcl.c legate/config.c legate/daemon.c legate/status.c
UNIT_TESTS  += tests/unit/test_config.c
TEST_TOOLS  += tests/tools/connflood.c
