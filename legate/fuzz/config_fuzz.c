/* config_fuzz: libFuzzer target over the HCL reader and legate's
 * configuration loader.  An input is FILE \0 ARG \0 ARG ...: FILE is written
 * to a memory file read as `-config`, the ARGs follow as flags, so the file,
 * the flags and their precedence are read exactly as `legate` reads them
 * (a -config among the ARGs names the same file again, so no input makes
 * the loader read another file); every error is an ordinary return. */
#include "common/log.h"
#include "legate/config.h"
#include "legate/hcl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_ARGS 32

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char config_path[64], config_flag[80];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 2);
	log_set_level(LOG_LVL_ERROR);
	/* -h and -version print there. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	memfd = memfd_create("legate-fuzz.hcl", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(config_path, sizeof config_path, "/proc/self/fd/%d", memfd);
	snprintf(config_flag, sizeof config_flag, "-config=%s", config_path);
	unsetenv("CONSUL_HTTP_ADDR");
	unsetenv("CONSUL_HTTP_TOKEN");
	unsetenv("ETCDCTL_ENDPOINTS");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *z = memchr(data, 0, size);
	size_t flen = z ? (size_t)(z - data) : size, off = flen + 1;
	char *argv[MAX_ARGS + 4], *copy = NULL, *text;
	int argc = 0;
	struct config cfg;
	struct lg_error err;
	struct lg_error herr;
	struct hcl_node *root;

	/* The reader alone, on the file's text. */
	text = strndup((const char *)data, flen);
	if (!text)
		return 0;
	root = hcl_parse(text, "fuzz.hcl", &herr);
	hcl_free(root);
	free(text);

	/* The loader: the file, then the flags. */
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, flen, 0) != (ssize_t)flen)
		abort();
	argv[argc++] = (char *)"legate";
	argv[argc++] = (char *)"-config";
	argv[argc++] = config_path;
	if (off < size && (copy = malloc(size - off + 1))) {
		char *p = copy, *end = copy + (size - off);

		memcpy(copy, data + off, size - off);
		*end = '\0';
		while (p <= end && argc < MAX_ARGS + 3) {
			const char *a = p + (p[0] == '-' && p[1] == '-');

			argv[argc++] = strncmp(a, "-config", 7) == 0 ? config_flag : p;
			p += strlen(p) + 1;
		}
	}
	argv[argc] = NULL;
	config_load(&cfg, argc, argv, &err);
	config_free(&cfg);
	free(copy);
	return 0;
}
