# legate/: the legate program's entry point, configuration and daemon.
LEGATE_MAIN := legate/main.c
LIB_SRCS    += legate/hcl.c legate/config.c
UNIT_TESTS  += tests/unit/test_config.c
