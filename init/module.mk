# init/: legate-init, the PID-1 supervisor (libc only).
INIT_SRCS += init/main.c init/sigs.c init/single.c init/conf.c init/user.c init/program.c \
	init/ready.c init/logio.c init/sup.c init/ctl.c
TEST_TOOLS += tests/tools/sigrec.c
