# common/: logging and buffers shared by every program.
LIB_SRCS  += common/log.c common/buf.c common/clock.c common/error.c common/file.c common/loop.c
INIT_SRCS += common/log.c
