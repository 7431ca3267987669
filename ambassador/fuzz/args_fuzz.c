/* args_fuzz: libFuzzer target over the ambassador's command line.  An input
 * is a list of NUL-separated tokens: a token that starts with \x01 is an
 * environment entry NAME=VALUE (the --links variables, ETCDCTL_ENDPOINTS),
 * any other is the next argument of `legate ambassador`.  The entries are
 * removed again after each run; every error is an ordinary return. */
#include "ambassador/args.h"
#include "common/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64
#define MAX_ENV  16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 2);
	log_set_level(LOG_LVL_ERROR);
	/* --help prints there. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	unsetenv("ETCDCTL_ENDPOINTS");
	unsetenv("CONSUL_HTTP_ADDR");
	return 0;
}

/* Only names the parser reads may be set: the fuzzer must not change the
 * sanitizers' or the loader's environment. */
static int settable(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, "ETCDCTL_ENDPOINTS") == 0 || strcmp(name, "CONSUL_HTTP_ADDR") == 0)
		return 1;
	return n > 9 && (strcmp(name + n - 9, "_TCP_ADDR") == 0 || strcmp(name + n - 9, "_TCP_PORT") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *env[MAX_ENV], *copy = malloc(size + 1), *p, *end;
	int argc = 0, nenv = 0;
	struct amb_spec spec;
	struct lg_error err;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = (char *)"ambassador";
	for (p = copy, end = copy + size; p <= end; p += strlen(p) + 1) {
		if (p[0] == '\x01') {
			char *eq = strchr(p + 1, '=');

			if (!eq || nenv == MAX_ENV)
				continue;
			*eq = '\0';
			if (settable(p + 1) && setenv(p + 1, eq + 1, 1) == 0)
				env[nenv++] = p + 1;
		} else if (argc < MAX_ARGS + 1) {
			argv[argc++] = p;
		}
	}
	argv[argc] = NULL;
	amb_args_parse(argc, argv, &spec, &err);
	amb_spec_free(&spec);
	while (nenv > 0)
		unsetenv(env[--nenv]);
	free(copy);
	return 0;
}
