# haproxy/: what legate knows about HAProxy: its CLIs, configuration
# comparison, runtime changes, confirmed reloads, the supervised process.
LIB_SRCS   += haproxy/cli.c haproxy/cfg.c haproxy/plan.c haproxy/master.c haproxy/runtime.c haproxy/driver.c \
              haproxy/proc.c
UNIT_TESTS += tests/unit/test_haproxy_cfg.c
