# tests/: helper programs for the scripted tests (unit tests add themselves).
TEST_TOOLS += tests/tools/freeport.c tests/tools/unixsock.c
UNIT_TESTS += tests/unit/test_buf.c tests/unit/test_loop.c
TEST_TOOLS += tests/tools/benchlat.c tests/tools/benchswitch.c tests/tools/connlat.c
