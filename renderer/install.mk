# renderer/: the template runner, its install path and commands.
LIB_SRCS   += renderer/command.c renderer/install.c renderer/apply.c renderer/runner.c
UNIT_TESTS += tests/unit/test_install.c
