/* tmpfiles: what the unit tests that write files share: a name inside the
 * test's temp directory, and a small file read back whole. */
#ifndef LEGATE_TESTS_TMPFILES_H
#define LEGATE_TESTS_TMPFILES_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* dir/name, in one of four rotating static buffers (so that a call may take
 * a few of them at once). */
static inline char *tmp_path(const char *dir, const char *name)
{
	static char p[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* The first 4095 bytes of file p, NUL-terminated (a static buffer), or NULL. */
static inline char *tmp_slurp(const char *p)
{
	static char buf[4096];
	int fd = open(p, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

#endif
