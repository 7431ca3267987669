/* ready: the probes are cheap and never block PID 1: the pipe and the TCP
 * connect are non-blocking and watched by the loop, the file is one
 * access() per probe round. */
#include "init/ready.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

void ready_init(struct ready_probe *r, void *owner)
{
	r->rfd = -1;
	r->tcp_fd = -1;
	r->rw = (struct init_watch){ INIT_TAG_READY, owner };
	r->tw = (struct init_watch){ INIT_TAG_TCP, owner };
}

bool ready_has_probe(const struct prog_conf *c)
{
	return c->ready_fd >= 0 || c->ready_file || c->has_ready_tcp;
}

int ready_prepare(struct ready_probe *r, const struct prog_conf *c, struct init_loop *l,
		  int *child_end)
{
	int fds[2];

	*child_end = -1;
	if (c->ready_file && unlink(c->ready_file) < 0 && errno != ENOENT)
		log_warn_at("program", c->name, "cannot remove stale %s: %s", c->ready_file, strerror(errno));
	if (c->ready_fd < 0)
		return 0;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	/* The child's end blocks as a normal pipe would. */
	fcntl(fds[1], F_SETFL, 0);
	if (init_loop_add(l, fds[0], &r->rw, false) < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	r->rfd = fds[0];
	*child_end = fds[1];
	return 0;
}

static void close_fd(int *fd, struct init_loop *l)
{
	if (*fd >= 0) {
		init_loop_del(l, *fd);
		close(*fd);
		*fd = -1;
	}
}

bool ready_poll(struct ready_probe *r, const struct prog_conf *c, struct init_loop *l)
{
	if (c->ready_file && access(c->ready_file, F_OK) == 0)
		return true;
	if (c->has_ready_tcp && r->tcp_fd < 0) {
		int fd = socket(c->ready_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		if (connect(fd, (const struct sockaddr *)&c->ready_addr, c->ready_addrlen) == 0) {
			close(fd);
			return true;
		}
		if (errno != EINPROGRESS || init_loop_add(l, fd, &r->tw, true) < 0) {
			close(fd);
			return false;
		}
		r->tcp_fd = fd;
	}
	return false;
}

bool ready_io(struct ready_probe *r, enum init_tag tag, struct init_loop *l)
{
	if (tag == INIT_TAG_TCP) {
		int err = 0;
		socklen_t len = sizeof err;
		if (r->tcp_fd < 0)
			return false;
		getsockopt(r->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &len);
		close_fd(&r->tcp_fd, l);
		return err == 0;
	}
	if (r->rfd < 0)
		return false;
	for (;;) {
		char buf[256];
		ssize_t n = read(r->rfd, buf, sizeof buf);
		if (n > 0) {
			if (memchr(buf, '\n', (size_t)n)) {
				/* One line is all it takes; the pipe has done its job. */
				close_fd(&r->rfd, l);
				return true;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		/* End of file without a newline: the program closed it, not ready. */
		close_fd(&r->rfd, l);
		return false;
	}
}

void ready_close(struct ready_probe *r, struct init_loop *l)
{
	close_fd(&r->rfd, l);
	close_fd(&r->tcp_fd, l);
}
