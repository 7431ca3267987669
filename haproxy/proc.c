/* proc: one supervised HAProxy master-worker process, as a small state
 * machine (down, running, backoff, stopping, stopped).  A master that
 * dies is started again after a delay that doubles from 0.5 s to 10 s
 * and falls back to 0.5 s once a master has run for 30 s. */
#include "haproxy/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"

#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 10.0
#define BACKOFF_RESET 30.0    /* a master that ran this long starts the backoff afresh */
#define STOP_GRACE 10.0

enum cstate { C_DOWN, C_RUNNING, C_BACKOFF, C_STOPPING, C_STOPPED };

struct hap_child {
	struct loop *loop;
	char *prog, *cfg, *sock;
	enum cstate state;
	pid_t pid;
	double started_at;         /* clock_mono() of the last spawn */
	double backoff;            /* the next restart's delay */
	struct loop_timer timer;   /* backoff, stop escalation */
	hap_child_started_cb started;
	void *started_arg;
	hap_child_stopped_cb stopped;
	void *stopped_arg;
};

static void spawn(struct hap_child *c)
{
	char *argv[] = { c->prog, "-W", "-db", "-f", c->cfg, "-S", c->sock, NULL };
	sigset_t none;
	pid_t pid;

	unlink(c->sock);   /* a stale socket would accept nothing */
	pid = fork();
	if (pid < 0) {
		log_error("haproxy: cannot fork: %s; retrying in %.1f s", strerror(errno), c->backoff);
		c->state = C_BACKOFF;
		loop_add_timer(c->loop, &c->timer, c->backoff);
		return;
	}
	if (pid == 0) {
		/* The loop blocks the signals it delivers and SIGPIPE may be
		 * ignored; HAProxy gets the defaults, and none of our sockets. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close_range(3, ~0U, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "legate: error: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->state = C_RUNNING;
	c->started_at = clock_mono();
	log_info("haproxy: started (master %d)", (int)pid);
	if (c->started)
		c->started(pid, c->started_arg);
}

static void on_timer(struct loop *l, void *arg)
{
	struct hap_child *c = arg;

	(void)l;
	switch (c->state) {
	case C_BACKOFF:
		spawn(c);
		break;
	case C_STOPPING:
		log_warn("haproxy: still running %.0f s after SIGTERM; sending SIGKILL", STOP_GRACE);
		kill(c->pid, SIGKILL);
		break;
	default:
		break;
	}
}

struct hap_child *hap_child_new(struct loop *l, const char *prog, const char *cfg, const char *sock,
				hap_child_started_cb started, void *arg)
{
	struct hap_child *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->loop = l;
	c->backoff = BACKOFF_MIN;
	c->started = started;
	c->started_arg = arg;
	loop_timer_init(&c->timer, on_timer, c);
	c->prog = strdup(prog);
	c->cfg = strdup(cfg);
	c->sock = strdup(sock);
	if (!c->prog || !c->cfg || !c->sock) {
		hap_child_free(c);
		return NULL;
	}
	return c;
}

void hap_child_free(struct hap_child *c)
{
	if (!c)
		return;
	loop_del_timer(c->loop, &c->timer);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(c->prog);
	free(c->cfg);
	free(c->sock);
	free(c);
}

void hap_child_start(struct hap_child *c)
{
	if (c->state == C_DOWN)
		spawn(c);
}

bool hap_child_exited(struct hap_child *c, pid_t pid, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (!c || pid <= 0 || pid != c->pid)
		return false;
	c->pid = 0;
	loop_del_timer(c->loop, &c->timer);
	if (c->state == C_STOPPING) {
		log_info("haproxy: stopped (exit %d)", code);
		c->state = C_STOPPED;
		if (c->stopped)
			c->stopped(c->stopped_arg);
		return true;
	}
	if (clock_mono() - c->started_at > BACKOFF_RESET)
		c->backoff = BACKOFF_MIN;
	log_error("haproxy: exited (%d); restarting in %.1f s", code, c->backoff);
	c->state = C_BACKOFF;
	loop_add_timer(c->loop, &c->timer, c->backoff);
	c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2;
	return true;
}

void hap_child_reap(struct hap_child *c)
{
	int status;
	pid_t pid;

	if (c->pid <= 0)
		return;
	while ((pid = waitpid(c->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (pid > 0)
		hap_child_exited(c, pid, status);
}

void hap_child_stop(struct hap_child *c, hap_child_stopped_cb cb, void *arg)
{
	c->stopped = cb;
	c->stopped_arg = arg;
	loop_del_timer(c->loop, &c->timer);
	if (c->state != C_RUNNING || c->pid <= 0) {
		c->state = C_STOPPED;
		if (cb)
			cb(arg);
		return;
	}
	c->state = C_STOPPING;
	kill(c->pid, SIGTERM);
	loop_add_timer(c->loop, &c->timer, STOP_GRACE);
}

pid_t hap_child_pid(const struct hap_child *c)
{
	return c->pid;
}
