/* cli: asynchronous one-shot requests to HAProxy's unix-socket CLIs.  Each
 * request is one connection: the command is written, the write side shut,
 * and HAProxy answers and closes (its non-interactive mode), so the end of
 * the answer is the end of the stream. */
#include "haproxy/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/loop.h"

struct hap_cli {
	struct loop *loop;
	int fd;
	char *cmd;              /* "command\n" */
	size_t cmd_len, sent;
	struct buf answer;
	struct loop_timer deadline;
	struct loop_timer later;   /* delivers an early failure from the loop */
	char why[256];
	hap_cli_cb cb;
	void *arg;
};

static void req_free(struct hap_cli *r)
{
	loop_del_timer(r->loop, &r->deadline);
	loop_del_timer(r->loop, &r->later);
	if (r->fd >= 0) {
		loop_del_fd(r->loop, r->fd);
		close(r->fd);
	}
	buf_free(&r->answer);
	free(r->cmd);
	free(r);
}

/* Calls the callback once and frees the request. */
static void finish(struct hap_cli *r, int ok)
{
	hap_cli_cb cb = r->cb;
	void *arg = r->arg;

	if (ok)
		cb(1, buf_cstr(&r->answer), r->answer.len, arg);
	else
		cb(0, r->why, strlen(r->why), arg);
	req_free(r);
}

static void fail_now(struct hap_cli *r, const char *fmt, const char *detail)
{
	snprintf(r->why, sizeof r->why, fmt, detail);
	finish(r, 0);
}

static void on_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct hap_cli *r = arg;
	char chunk[16384];
	ssize_t n;

	(void)l;
	(void)fd;
	if (r->sent < r->cmd_len && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		n = send(r->fd, r->cmd + r->sent, r->cmd_len - r->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fail_now(r, "cannot send: %s", strerror(errno));
			return;
		}
		if (n > 0)
			r->sent += (size_t)n;
		if (r->sent == r->cmd_len) {
			shutdown(r->fd, SHUT_WR);
			loop_add_fd(r->loop, r->fd, EPOLLIN, on_io, r);
		}
		return;
	}
	for (;;) {
		n = recv(r->fd, chunk, sizeof chunk, 0);
		if (n > 0) {
			r->answer.limit = HAP_CLI_MAX;
			if (buf_append(&r->answer, chunk, (size_t)n) < 0) {
				fail_now(r, "answer too long (%s)", "over 64 MiB");
				return;
			}
			continue;
		}
		if (n == 0) {
			finish(r, 1);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail_now(r, "cannot read the answer: %s", strerror(errno));
		return;
	}
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	fail_now(arg, "no answer in time%s", "");
}

static void on_later(struct loop *l, void *arg)
{
	(void)l;
	finish(arg, 0);
}

struct hap_cli *hap_cli_send(struct loop *l, const char *path, const char *cmd,
			     double timeout, hap_cli_cb cb, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hap_cli *r = calloc(1, sizeof *r);
	size_t len = strlen(cmd);

	if (!r)
		return NULL;
	r->loop = l;
	r->fd = -1;
	r->cb = cb;
	r->arg = arg;
	loop_timer_init(&r->deadline, on_deadline, r);
	loop_timer_init(&r->later, on_later, r);
	if (!(r->cmd = malloc(len + 2))) {
		free(r);
		return NULL;
	}
	memcpy(r->cmd, cmd, len);
	r->cmd[len] = '\n';
	r->cmd_len = len + 1;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(r->why, sizeof r->why, "%s: path too long for a unix socket", path);
		loop_add_timer(l, &r->later, 0);
		return r;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		free(r->cmd);
		free(r);
		return NULL;
	}
	if (connect(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		/* A unix socket connects at once or not at all: refused, absent
		 * or its backlog full (EAGAIN), HAProxy is not there (yet).
		 * Reported from the loop, so callbacks never run early. */
		snprintf(r->why, sizeof r->why, "cannot connect to %s: %s", path, strerror(errno));
		close(r->fd);
		r->fd = -1;
		loop_add_timer(l, &r->later, 0);
		return r;
	}
	if (loop_add_fd(l, r->fd, EPOLLOUT, on_io, r) < 0) {
		int e = errno;
		close(r->fd);
		free(r->cmd);
		free(r);
		errno = e;
		return NULL;
	}
	loop_add_timer(l, &r->deadline, timeout);
	return r;
}

void hap_cli_cancel(struct hap_cli *r)
{
	if (r)
		req_free(r);
}
