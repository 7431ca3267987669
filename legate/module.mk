# legate/: the legate program's entry point and daemon.
LEGATE_MAIN := legate/main.c
