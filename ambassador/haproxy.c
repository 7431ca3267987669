/* haproxy: one supervised HAProxy master-worker process, as a small state
 * machine (down, running, backoff, stopping, stopped), reloaded through
 * the "reload" command of its master CLI rather than SIGUSR2, so a reload
 * asked for while the master is still starting or re-executing waits for
 * it instead of meeting the signal's default action. */
#include "ambassador/haproxy.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

enum hp_state { HP_DOWN, HP_RUNNING, HP_BACKOFF, HP_STOPPING, HP_STOPPED };

struct amb_haproxy {
	struct loop *loop;
	char *prog, *cfg, *sock;
	enum hp_state state;
	pid_t pid;
	double started;            /* loop_now() of the last spawn */
	double backoff;            /* next restart delay */
	bool reload_pending;       /* a reload the master has not taken yet */
	struct loop_timer timer;   /* backoff, reload retry, stop escalation */
	amb_haproxy_stopped_cb stopped;
	void *stopped_arg;
};

#define RELOAD_RETRY 0.05
#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 10.0
#define STOP_GRACE 10.0

static void spawn(struct amb_haproxy *h);

static void send_reload(struct amb_haproxy *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	static const char cmd[] = "reload\n";

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", h->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    write(fd, cmd, sizeof cmd - 1) == (ssize_t)(sizeof cmd - 1)) {
		close(fd);
		h->reload_pending = false;
		log_debug("haproxy: reload asked of master %d", (int)h->pid);
		return;
	}
	/* The master is starting or re-executing: its socket is not there or
	 * not accepting yet.  Try again shortly. */
	log_debug("haproxy: master CLI %s not ready (%s); retrying", h->sock, strerror(errno));
	if (fd >= 0)
		close(fd);
	h->reload_pending = true;
	loop_add_timer(h->loop, &h->timer, RELOAD_RETRY);
}

static void on_timer(struct loop *l, void *arg)
{
	struct amb_haproxy *h = arg;
	(void)l;
	switch (h->state) {
	case HP_BACKOFF:
		spawn(h);
		break;
	case HP_RUNNING:
		if (h->reload_pending)
			send_reload(h);
		break;
	case HP_STOPPING:
		log_warn("haproxy: still running %.0f s after SIGTERM; sending SIGKILL", STOP_GRACE);
		kill(h->pid, SIGKILL);
		break;
	default:
		break;
	}
}

static void spawn(struct amb_haproxy *h)
{
	char *argv[] = { h->prog, "-W", "-db", "-f", h->cfg, "-S", h->sock, NULL };
	sigset_t none;
	pid_t pid;

	unlink(h->sock);   /* a stale socket would accept nothing */
	pid = fork();
	if (pid < 0) {
		log_error("haproxy: cannot fork: %s; retrying in %.1f s", strerror(errno), h->backoff);
		h->state = HP_BACKOFF;
		loop_add_timer(h->loop, &h->timer, h->backoff);
		return;
	}
	if (pid == 0) {
		/* The loop blocks the signals it delivers; HAProxy needs them. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "legate: error: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	h->pid = pid;
	h->state = HP_RUNNING;
	h->started = loop_now();
	h->reload_pending = false;
	log_info("haproxy: started (master %d)", (int)pid);
}

struct amb_haproxy *amb_haproxy_new(struct loop *l, const char *prog, const char *cfg,
				    const char *sock)
{
	struct amb_haproxy *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->loop = l;
	h->prog = strdup(prog);
	h->cfg = strdup(cfg);
	h->sock = strdup(sock);
	h->backoff = BACKOFF_MIN;
	loop_timer_init(&h->timer, on_timer, h);
	if (!h->prog || !h->cfg || !h->sock) {
		amb_haproxy_free(h);
		return NULL;
	}
	return h;
}

void amb_haproxy_free(struct amb_haproxy *h)
{
	if (!h)
		return;
	loop_del_timer(h->loop, &h->timer);
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	free(h->prog);
	free(h->cfg);
	free(h->sock);
	free(h);
}

void amb_haproxy_apply(struct amb_haproxy *h)
{
	switch (h->state) {
	case HP_DOWN:
		spawn(h);
		break;
	case HP_RUNNING:
		if (!h->reload_pending)
			send_reload(h);
		break;
	default:
		/* backoff: the restart reads the new file; stopping: too late. */
		break;
	}
}

static void exited(struct amb_haproxy *h, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	h->pid = 0;
	loop_del_timer(h->loop, &h->timer);
	if (h->state == HP_STOPPING) {
		log_info("haproxy: stopped (exit %d)", code);
		h->state = HP_STOPPED;
		if (h->stopped)
			h->stopped(h->stopped_arg);
		return;
	}
	if (loop_now() - h->started > 30)
		h->backoff = BACKOFF_MIN;
	log_error("haproxy: exited (%d); restarting in %.1f s", code, h->backoff);
	h->state = HP_BACKOFF;
	loop_add_timer(h->loop, &h->timer, h->backoff);
	h->backoff = h->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : h->backoff * 2;
}

void amb_haproxy_reap(struct amb_haproxy *h)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (h && pid == h->pid)
			exited(h, status);
}

void amb_haproxy_stop(struct amb_haproxy *h, amb_haproxy_stopped_cb cb, void *arg)
{
	h->stopped = cb;
	h->stopped_arg = arg;
	loop_del_timer(h->loop, &h->timer);
	if (h->state != HP_RUNNING || h->pid <= 0) {
		h->state = HP_STOPPED;
		if (cb)
			cb(arg);
		return;
	}
	h->state = HP_STOPPING;
	kill(h->pid, SIGTERM);
	loop_add_timer(h->loop, &h->timer, STOP_GRACE);
}

pid_t amb_haproxy_pid(const struct amb_haproxy *h)
{
	return h->pid;
}
