# init/: legate-init, the PID-1 supervisor (libc only).
INIT_SRCS += init/main.c init/sigs.c init/single.c
