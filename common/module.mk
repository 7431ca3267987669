# common/: the event loop, logging, buffers, errors, clocks and file reading
# shared by every module (legate-init takes only logging).
LIB_SRCS  += common/log.c common/buf.c common/clock.c common/error.c common/file.c common/loop.c
INIT_SRCS += common/log.c
