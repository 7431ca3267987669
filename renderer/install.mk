# renderer/: the template runner's install path and commands.
LIB_SRCS   += renderer/command.c renderer/install.c
UNIT_TESTS += tests/unit/test_install.c
