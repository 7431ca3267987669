/* conf_fuzz: libFuzzer target over legate-init's supervisord.conf reader:
 * the input is a file, read as `legate-init -t -c FILE` reads it (conf_load,
 * then the run checks of conf_check) and as the ctl client reads it for
 * its socket (conf_client_socket).  It lives in an empty directory of its
 * own, so %(here)s and relative [include] patterns find nothing else;
 * every error is an ordinary return. */
#include "common/log.h"
#include "init/conf.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/legate-init-fuzz.XXXXXX";
	(void)argc;
	(void)argv;
	/* Warnings and the checks' errors are the reader's output, not news. */
	log_init("fuzz", open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/supervisord.conf", dir);
	setenv("LEGATE_FUZZ", "value", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_opts opts = { 0 };
	struct conf_error err;
	struct conf c;
	char sock[256];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	if (conf_load(path, &opts, &c, &err) == 0) {
		(void)conf_check(&c);
		conf_free(&c);
	} else if (!memchr(err.msg, 0, sizeof err.msg) || !memchr(err.file, 0, sizeof err.file)) {
		abort();   /* an error must be a terminated string */
	}
	(void)conf_client_socket(path, sock, sizeof sock, &err);
	return 0;
}
