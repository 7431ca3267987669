/* haproxy: one supervised HAProxy master-worker process, as a small state
 * machine (down, running, backoff, stopping, stopped), reloaded through
 * its master CLI rather than SIGUSR2: a signal sent while the master is
 * starting or re-executing meets the default action and kills it, and a
 * "reload" written during a re-exec can be lost with the old socket.  So
 * each reload reads the master's reload counter ("show proc"), asks for
 * the reload, and waits until the counter moves; changes that arrive
 * meanwhile are folded into one more reload. */
#include "ambassador/haproxy.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
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
	struct loop_timer timer;   /* backoff, stop escalation */
	/* Reloads: wanted counts configs to apply, done those applied. */
	unsigned long wanted, sent, done;
	enum { R_IDLE, R_ASK, R_WAIT } rstate;
	long base;                 /* the master's reload count before ours */
	double asked_at;           /* loop_now() of the last "reload" */
	struct loop_timer rtimer;
	amb_haproxy_stopped_cb stopped;
	void *stopped_arg;
};

#define RELOAD_POLL 0.02      /* master CLI polling while a reload runs */
#define RELOAD_RESEND 2.0     /* "reload" again when the count did not move */
#define CLI_TIMEOUT_MS 500
#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 10.0
#define STOP_GRACE 10.0

static void spawn(struct amb_haproxy *h);

/* One master CLI command: connects, sends cmd, reads the answer until the
 * master closes (at most CLI_TIMEOUT_MS; the master answers from its own
 * loop within a few milliseconds).  Returns the bytes read, or -1 when the
 * master is not there or not answering (starting, re-executing). */
static int cli(const struct amb_haproxy *h, const char *cmd, char *out, size_t outlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	size_t used = 0;
	double deadline = loop_now() + CLI_TIMEOUT_MS / 1000.0;
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", h->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || shutdown(fd, SHUT_WR) < 0)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		double left = deadline - loop_now();
		ssize_t n;
		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			goto fail;
		n = read(fd, out + used, outlen - 1 - used);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == outlen - 1)
			break;
	}
	close(fd);
	out[used] = '\0';
	return (int)used;
fail:
	close(fd);
	return -1;
}

/* The master's reload count from "show proc", or -1. */
static long reload_count(const struct amb_haproxy *h)
{
	char out[4096], *p;

	if (cli(h, "show proc\n", out, sizeof out) < 0 || !(p = strstr(out, " master ")))
		return -1;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p >= '0' && *p <= '9' ? strtol(p, NULL, 10) : -1;
}

/* One step of the reload machine; runs from its timer. */
static void reload_step(struct amb_haproxy *h)
{
	char out[256];
	long n;

	if (h->state != HP_RUNNING) {
		h->rstate = R_IDLE;
		return;
	}
	n = reload_count(h);
	if (n < 0) {
		/* Starting or re-executing: ask again shortly. */
		loop_add_timer(h->loop, &h->rtimer, RELOAD_POLL);
		return;
	}
	if (h->rstate == R_WAIT) {
		if (n == h->base && loop_now() - h->asked_at < RELOAD_RESEND) {
			loop_add_timer(h->loop, &h->rtimer, RELOAD_POLL);
			return;
		}
		if (n == h->base) {
			log_warn("haproxy: the master did not reload within %.0f s; asking again", RELOAD_RESEND);
		} else {
			h->done = h->sent;
			log_debug("haproxy: reloaded (master reload count %ld)", n);
			if (h->done >= h->wanted) {
				h->rstate = R_IDLE;
				return;
			}
		}
	}
	h->base = n;
	h->sent = h->wanted;
	h->asked_at = loop_now();
	h->rstate = R_WAIT;
	cli(h, "reload\n", out, sizeof out);
	loop_add_timer(h->loop, &h->rtimer, RELOAD_POLL);
}

static void on_rtimer(struct loop *l, void *arg)
{
	(void)l;
	reload_step(arg);
}

static void on_timer(struct loop *l, void *arg)
{
	struct amb_haproxy *h = arg;
	(void)l;
	switch (h->state) {
	case HP_BACKOFF:
		spawn(h);
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
		/* The loop blocks the signals it delivers and SIGPIPE is ignored;
		 * HAProxy gets the defaults, and none of the watcher's sockets. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close_range(3, ~0U, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "legate: error: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	h->pid = pid;
	h->state = HP_RUNNING;
	h->started = loop_now();
	h->done = h->sent = h->wanted;   /* the new master reads the current file */
	h->rstate = R_IDLE;
	loop_del_timer(h->loop, &h->rtimer);
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
	loop_timer_init(&h->rtimer, on_rtimer, h);
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
	loop_del_timer(h->loop, &h->rtimer);
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
		h->wanted++;
		if (h->rstate == R_IDLE) {
			h->rstate = R_ASK;
			reload_step(h);
		}
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
	loop_del_timer(h->loop, &h->rtimer);
	h->rstate = R_IDLE;
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
	loop_del_timer(h->loop, &h->rtimer);
	h->rstate = R_IDLE;
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
