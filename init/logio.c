/* logio: per-stream line buffers allocated at load; the steady state only
 * reads and writes.  One writev per line keeps lines whole when several
 * writers share the container's stdout. */
#include "init/logio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Where relayed lines go, by dest (1 or 2).  See relay_outputs_open(). */
static int out_fd[3] = { -1, 1, 2 };
static unsigned long dropped;

void relay_outputs_open(void)
{
	for (int fd = 1; fd <= 2; fd++) {
		struct stat sb;
		char path[32];
		int nfd;

		if (fstat(fd, &sb) < 0 || !S_ISFIFO(sb.st_mode))
			continue;
		/* Opening a pipe through /proc gives a new open file description:
		 * O_NONBLOCK on it leaves the descriptors the programs inherit
		 * blocking, as they expect. */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (nfd >= 0)
			out_fd[fd] = nfd;
	}
}

int relay_output_fd(int dest)
{
	return dest == 1 || dest == 2 ? out_fd[dest] : dest;
}

unsigned long relay_dropped(void)
{
	return dropped;
}

int relay_init(struct relay *r, const char *name, int dest)
{
	r->fd = -1;
	r->dest = dest;
	r->name = name;
	r->len = 0;
	r->buf = malloc(RELAY_BUF);
	return r->buf ? 0 : -1;
}

static void emit(struct relay *r, const char *line, size_t n, bool add_nl)
{
	struct iovec iov[4] = {
		{ (void *)r->name, strlen(r->name) },
		{ (void *)" | ", 3 },
		{ (void *)line, n },
		{ (void *)"\n", 1 },
	};
	/* A failed write (a full pipe nobody reads) loses the line: PID 1 must
	 * not stall on its output. */
	if (writev(relay_output_fd(r->dest), iov, add_nl ? 4 : 3) < 0)
		dropped++;
}

static void flush_lines(struct relay *r, bool all)
{
	size_t start = 0;
	for (size_t i = 0; i < r->len; i++) {
		if (r->buf[i] == '\n') {
			emit(r, r->buf + start, i + 1 - start, false);
			start = i + 1;
		}
	}
	if (start < r->len && (all || (start == 0 && r->len == RELAY_BUF))) {
		emit(r, r->buf + start, r->len - start, true);
		start = r->len;
	}
	memmove(r->buf, r->buf + start, r->len - start);
	r->len -= start;
}

bool relay_read(struct relay *r)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, RELAY_BUF - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			flush_lines(r, false);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;
	}
}

void relay_close(struct relay *r)
{
	if (r->fd < 0)
		return;
	flush_lines(r, true);
	close(r->fd);
	r->fd = -1;
}

void relay_free(struct relay *r)
{
	free(r->buf);
	r->buf = NULL;
}
