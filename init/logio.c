/* logio: per-stream buffers allocated when a program is set up; the steady
 * state only reads, writes and renames.  One writev per prefixed line keeps
 * lines whole when several writers share the container's stdout. */
#include "init/logio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"

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

int relay_init(struct relay *r, const char *name, enum init_tag tag, void *owner)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->file_fd = -1;
	r->dest = 1;
	r->name = name;
	r->w = (struct init_watch){ tag, owner };
	r->buf = malloc(RELAY_BUF);
	return r->buf ? 0 : -1;
}

static int open_log(struct relay *r)
{
	struct stat st;
	r->file_fd = open(r->log->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (r->file_fd < 0)
		return -1;
	r->size = fstat(r->file_fd, &st) == 0 ? (long long)st.st_size : 0;
	return 0;
}

int relay_start(struct relay *r, const struct conf_log *log, int dest, struct init_loop *l)
{
	int fds[2], e;

	relay_stop(r, l);
	r->log = log;
	r->dest = dest;
	if (log && open_log(r) < 0)
		return -1;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		goto err;
	fcntl(fds[1], F_SETFL, 0);    /* the child's end blocks, as a pipe normally does */
	if (init_loop_add(l, fds[0], &r->w, false) < 0) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		goto err;
	}
	r->fd = fds[0];
	return fds[1];
err:
	e = errno;
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
	errno = e;
	return -1;
}

/* FILE -> FILE.1 -> ... -> FILE.N, as supervisord rotates, then a new FILE;
 * with no backups the file is only emptied. */
static void rotate(struct relay *r)
{
	const struct conf_log *log = r->log;
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	close(r->file_fd);
	r->file_fd = -1;
	for (int i = log->backups - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", log->file, i);
		snprintf(to, sizeof to, "%s.%d", log->file, i + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("%s: cannot rotate %s: %s", r->name, from, strerror(errno));
	}
	if (log->backups > 0) {
		snprintf(to, sizeof to, "%s.1", log->file);
		if (rename(log->file, to) < 0)
			log_warn("%s: cannot rotate %s: %s", r->name, log->file, strerror(errno));
	} else if (truncate(log->file, 0) < 0) {
		log_warn("%s: cannot empty %s: %s", r->name, log->file, strerror(errno));
	}
	if (open_log(r) < 0)
		log_error("%s: cannot reopen %s: %s; output is lost until the next start", r->name,
			  log->file, strerror(errno));
}

static void write_file(struct relay *r, const char *p, size_t n)
{
	while (n > 0 && r->file_fd >= 0) {
		ssize_t w = write(r->file_fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			dropped++;
			return;
		}
		p += w;
		n -= (size_t)w;
		r->size += w;
	}
	if (r->log->maxbytes > 0 && r->size >= r->log->maxbytes && r->file_fd >= 0)
		rotate(r);
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
	if (r->fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, RELAY_BUF - r->len);
		if (n > 0) {
			if (r->log) {
				write_file(r, r->buf, (size_t)n);
			} else {
				r->len += (size_t)n;
				flush_lines(r, false);
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;
	}
}

void relay_stop(struct relay *r, struct init_loop *l)
{
	if (r->fd >= 0) {
		if (!r->log)
			flush_lines(r, true);
		init_loop_del(l, r->fd);
		close(r->fd);
		r->fd = -1;
	}
	r->len = 0;
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
}

int relay_clear(struct relay *r, const struct conf_log *log)
{
	char name[PATH_MAX + 16];

	for (int i = 1; i <= log->backups; i++) {
		snprintf(name, sizeof name, "%s.%d", log->file, i);
		if (unlink(name) < 0 && errno != ENOENT)
			return -1;
	}
	if (r->file_fd >= 0 && r->log == log) {
		if (ftruncate(r->file_fd, 0) < 0)
			return -1;
		r->size = 0;
		return 0;
	}
	if (truncate(log->file, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

void relay_free(struct relay *r)
{
	free(r->buf);
	r->buf = NULL;
}
