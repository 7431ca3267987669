# renderer/: the template runner, the pipeline to a destination (install,
# commands, the HAProxy driver's requests).
LIB_SRCS   += renderer/command.c renderer/install.c renderer/apply.c renderer/registry.c \
              renderer/lookup.c renderer/runner.c renderer/report.c
UNIT_TESTS += tests/unit/test_install.c tests/unit/test_command.c tests/unit/test_runner.c
