/* ready: the probes are cheap and never block PID 1: the pipe and the TCP
 * connect are non-blocking and watched by the loop, the file is one
 * access() per PROBE_MS. */
#include "init/ready.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool ready_has_probe(const struct prog_conf *c)
{
	return c->ready_fd >= 0 || c->ready_file || c->has_ready_tcp;
}

int ready_prepare(struct program *p, struct loop *l, int *child_end)
{
	int fds[2];

	*child_end = -1;
	if (p->c->ready_file && unlink(p->c->ready_file) < 0 && errno != ENOENT)
		log_warn("%s: cannot remove stale %s: %s", p->c->name, p->c->ready_file, strerror(errno));
	if (p->c->ready_fd < 0)
		return 0;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	/* The child's end blocks as a normal pipe would. */
	fcntl(fds[1], F_SETFL, 0);
	if (loop_add(l, fds[0], LOOP_KEY(TAG_READY, p->idx), false) < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	p->ready_rfd = fds[0];
	*child_end = fds[1];
	return 0;
}

static void close_tcp(struct program *p, struct loop *l)
{
	if (p->tcp_fd >= 0) {
		loop_del(l, p->tcp_fd);
		close(p->tcp_fd);
		p->tcp_fd = -1;
	}
}

bool ready_poll(struct program *p, struct loop *l)
{
	const struct prog_conf *c = p->c;

	if (c->ready_file && access(c->ready_file, F_OK) == 0)
		return true;
	if (c->has_ready_tcp && p->tcp_fd < 0) {
		int fd = socket(c->ready_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		if (connect(fd, (const struct sockaddr *)&c->ready_addr, c->ready_addrlen) == 0) {
			close(fd);
			return true;
		}
		if (errno != EINPROGRESS || loop_add(l, fd, LOOP_KEY(TAG_TCP, p->idx), true) < 0) {
			close(fd);
			return false;
		}
		p->tcp_fd = fd;
	}
	return false;
}

bool ready_io(struct program *p, enum tag tag, struct loop *l)
{
	if (tag == TAG_TCP) {
		int err = 0;
		socklen_t len = sizeof err;
		if (p->tcp_fd < 0)
			return false;
		getsockopt(p->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &len);
		close_tcp(p, l);
		return err == 0;
	}
	if (p->ready_rfd < 0)
		return false;
	for (;;) {
		char buf[256];
		ssize_t n = read(p->ready_rfd, buf, sizeof buf);
		if (n > 0) {
			if (memchr(buf, '\n', (size_t)n)) {
				/* One line is all it takes; the pipe has done its job. */
				loop_del(l, p->ready_rfd);
				close(p->ready_rfd);
				p->ready_rfd = -1;
				return true;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		/* End of file without a newline: the program closed it, not ready. */
		loop_del(l, p->ready_rfd);
		close(p->ready_rfd);
		p->ready_rfd = -1;
		return false;
	}
}

void ready_close(struct program *p, struct loop *l)
{
	if (p->ready_rfd >= 0) {
		loop_del(l, p->ready_rfd);
		close(p->ready_rfd);
		p->ready_rfd = -1;
	}
	close_tcp(p, l);
}
