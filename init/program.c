/* program: the per-program state machine.  program_event() dispatches each
 * event to a small transition function for the current state; spawning,
 * stopping and backing off live here, policy across programs (order,
 * shutdown, on_fatal) lives in the supervisor. */
#include "init/program.h"

#include "common/log.h"
#include "init/ready.h"
#include "init/sigs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const state_names[] = {
	"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL",
};

const char *state_name(enum state s) { return state_names[s]; }

int program_init(struct program *p, const struct prog_conf *c, int idx)
{
	memset(p, 0, sizeof *p);
	p->c = c;
	p->idx = idx;
	p->ready_rfd = -1;
	p->tcp_fd = -1;
	if (relay_init(&p->out, c->name, 1) < 0 || relay_init(&p->err, c->name, 2) < 0)
		return -1;
	return 0;
}

void program_free(struct program *p)
{
	relay_free(&p->out);
	relay_free(&p->err);
}

static void set_state(struct program *p, enum state s)
{
	if (p->state != s)
		log_debug("%s: %s -> %s", p->c->name, state_names[p->state], state_names[s]);
	p->state = s;
	p->changed_ms = now_ms();
}

void program_last_exit(const struct program *p, char *buf, size_t n)
{
	if (!p->has_status)
		snprintf(buf, n, "-");
	else if (WIFSIGNALED(p->last_status))
		snprintf(buf, n, "signal %s", sig_name(WTERMSIG(p->last_status)));
	else
		snprintf(buf, n, "exit %d", WEXITSTATUS(p->last_status));
}

int program_fail_code(const struct program *p)
{
	int code = p->has_status ? status_code(p->last_status) : 1;
	return code ? code : 1;
}

int program_kill(const struct program *p, int sig, bool group)
{
	if (p->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill(group ? -p->pid : p->pid, sig);
}

/* ---- spawning --------------------------------------------------------------- */

static void close_relay(struct relay *r, struct loop *l)
{
	if (r->fd >= 0)
		loop_del(l, r->fd);
	relay_close(r);
}

/* Opens a relay pipe when this stream is prefixed; returns the child's end
 * or -1 when the stream needs none.  *err is set on failure. */
static int open_relay(struct program *p, struct relay *r, enum out_kind kind, enum tag tag,
		      struct loop *l, bool *err)
{
	int fds[2];

	close_relay(r, l);
	if (!p->c->log_prefix || (kind != OUT_STDOUT && kind != OUT_STDERR))
		return -1;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		*err = true;
		return -1;
	}
	fcntl(fds[1], F_SETFL, 0);
	r->dest = kind == OUT_STDOUT ? 1 : 2;
	if (loop_add(l, fds[0], LOOP_KEY(tag, p->idx), false) < 0) {
		close(fds[0]);
		close(fds[1]);
		*err = true;
		return -1;
	}
	r->fd = fds[0];
	return fds[1];
}

/* In the child: puts one output stream in place.  orig1/orig2 are copies
 * of legate-init's own stdout and stderr. */
static int child_stream(int target, enum out_kind kind, const char *file, int pipe_end,
			int orig1, int orig2)
{
	int fd;
	if (pipe_end >= 0)
		return dup2(pipe_end, target);
	switch (kind) {
	case OUT_STDOUT: return dup2(orig1, target);
	case OUT_STDERR: return dup2(orig2, target);
	case OUT_NULL:
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		break;
	default:
		fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		break;
	}
	if (fd < 0)
		return -1;
	return dup2(fd, target);
}

static void __attribute__((noreturn))
child(const struct prog_conf *c, struct loop *l, int ready_end, int out_end, int err_end)
{
	int orig1, orig2, fd;
	const char *what = "setup";

	sig_child_reset(l->child_mask);
	setpgid(0, 0);
	orig1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
	orig2 = fcntl(2, F_DUPFD_CLOEXEC, 3);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	if (child_stream(1, c->out, c->out_file, out_end, orig1, orig2) < 0) {
		what = c->out_file ? c->out_file : "stdout";
		goto fail;
	}
	if (c->redirect_stderr ? dup2(1, 2) < 0
	    : child_stream(2, c->err, c->err_file, err_end, orig1, orig2) < 0) {
		what = c->err_file ? c->err_file : "stderr";
		goto fail;
	}
	if (ready_end >= 0) {
		if (ready_end == c->ready_fd ? fcntl(ready_end, F_SETFD, 0) < 0
		    : dup2(ready_end, c->ready_fd) < 0) {
			what = "ready_fd";
			goto fail;
		}
	}
	if (c->directory && chdir(c->directory) < 0) {
		what = c->directory;
		goto fail;
	}
	if (c->has_user) {
		what = "user";
		if (setgroups((size_t)c->ngroups, c->groups) < 0 || setgid(c->gid) < 0 ||
		    setuid(c->uid) < 0)
			goto fail;
	}
	environ = c->envp;
	execvp(c->argv[0], c->argv);
	log_error("%s: cannot run %s: %s", c->name, c->argv[0], strerror(errno));
	_exit(127);
fail:
	log_error("%s: cannot set up %s: %s", c->name, what, strerror(errno));
	_exit(127);
}

static void failed_start(struct program *p, struct loop *l);
static void become_ready(struct program *p, struct loop *l);

static void spawn(struct program *p, struct loop *l)
{
	int ready_end = -1, out_end, err_end = -1;
	bool err = false;
	pid_t pid;

	ready_close(p, l);
	if (ready_prepare(p, l, &ready_end) < 0)
		err = true;
	out_end = open_relay(p, &p->out, p->c->out, TAG_OUT, l, &err);
	if (!p->c->redirect_stderr)
		err_end = open_relay(p, &p->err, p->c->err, TAG_ERR, l, &err);
	else
		close_relay(&p->err, l);
	pid = err ? -1 : fork();
	if (pid == 0)
		child(p->c, l, ready_end, out_end, err_end);
	if (pid < 0)
		log_error("%s: cannot start: %s", p->c->name, strerror(errno));
	if (ready_end >= 0)
		close(ready_end);
	if (out_end >= 0)
		close(out_end);
	if (err_end >= 0)
		close(err_end);
	if (p->started_once)
		p->restarts++;
	p->started_once = true;
	p->done = false;
	p->start_seq = ++l->seq;
	p->spawned_ms = now_ms();
	if (pid < 0) {
		ready_close(p, l);
		p->pid = 0;
		set_state(p, ST_STARTING);
		failed_start(p, l);
		return;
	}
	setpgid(pid, pid);
	p->pid = pid;
	log_info("%s: started, pid %d", p->c->name, (int)pid);
	set_state(p, ST_STARTING);
	p->ready_by_ms = 0;
	if (p->c->ready_timeout > 0 && ready_has_probe(p->c) && !p->c->oneshot)
		p->ready_by_ms = p->spawned_ms + (int64_t)p->c->ready_timeout * 1000;
	if (p->c->oneshot)
		p->deadline_ms = 0;
	else if (p->c->ready_file || p->c->has_ready_tcp)
		p->deadline_ms = p->spawned_ms;   /* probe at once, then every PROBE_MS */
	else if (p->c->ready_fd >= 0)
		p->deadline_ms = p->ready_by_ms;   /* the line arrives as an event */
	else if (p->c->startsecs == 0)
		become_ready(p, l);   /* startsecs=0: running means started */
	else
		p->deadline_ms = p->spawned_ms + (int64_t)p->c->startsecs * 1000;
}

/* ---- transitions -------------------------------------------------------------- */

static void become_ready(struct program *p, struct loop *l)
{
	ready_close(p, l);
	p->deadline_ms = 0;
	p->ready_by_ms = 0;
	set_state(p, ST_RUNNING);
	log_info("%s: ready (RUNNING)", p->c->name);
}

/* An exit before the program was up for startsecs: back off, or give up. */
static void failed_start(struct program *p, struct loop *l)
{
	char why[64];
	program_last_exit(p, why, sizeof why);
	if (l->stopping) {
		set_state(p, ST_EXITED);
		return;
	}
	p->retries++;
	if (p->retries > p->c->startretries) {
		p->deadline_ms = 0;
		set_state(p, ST_FATAL);
		log_error("%s: failed %d times in a row within startsecs (last: %s); giving up (FATAL)",
			p->c->name, p->retries, why);
		return;
	}
	int64_t delay = BACKOFF_MIN_MS;
	for (int i = 1; i < p->retries && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	p->deadline_ms = now_ms() + delay;
	set_state(p, ST_BACKOFF);
	log_warn("%s: exited too quickly (%s); retry %d of %d in %lld.%llds", p->c->name, why,
		p->retries, p->c->startretries, (long long)delay / 1000, (long long)delay % 1000 / 100);
}

static void do_stop(struct program *p)
{
	const struct prog_conf *c = p->c;
	if (p->pid <= 0) {
		set_state(p, ST_STOPPED);
		return;
	}
	log_info("%s: stopping (SIG%s)", c->name, sig_name(c->stopsignal));
	if (program_kill(p, c->stopsignal, c->stopasgroup) < 0 && errno != ESRCH)
		log_warn("%s: cannot send SIG%s: %s", c->name, sig_name(c->stopsignal), strerror(errno));
	p->deadline_ms = now_ms() + (int64_t)c->stopwaitsecs * 1000;
	set_state(p, ST_STOPPING);
}

static bool wants_restart(const struct program *p, int status)
{
	switch (p->c->autorestart) {
	case AR_TRUE: return true;
	case AR_FALSE: return false;
	default:
		return !(WIFEXITED(status) && conf_expected(p->c, WEXITSTATUS(status)));
	}
}

static void on_exit_event(struct program *p, int status, struct loop *l)
{
	const struct prog_conf *c = p->c;
	int64_t up = now_ms() - p->spawned_ms;
	char why[64];

	p->pid = 0;
	p->has_status = true;
	p->last_status = status;
	ready_close(p, l);
	program_last_exit(p, why, sizeof why);

	switch (p->state) {
	case ST_STOPPING:
		p->deadline_ms = 0;
		set_state(p, ST_STOPPED);
		log_info("%s: stopped (%s)", c->name, why);
		if (p->restart_after_stop && !l->stopping) {
			p->restart_after_stop = false;
			p->retries = 0;
			spawn(p, l);
		}
		return;
	case ST_STARTING:
		if (c->oneshot) {
			p->deadline_ms = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				p->done = true;
				set_state(p, ST_EXITED);
				log_info("%s: oneshot finished (exit 0)", c->name);
			} else {
				set_state(p, ST_FATAL);
				log_error("%s: oneshot failed (%s)", c->name, why);
			}
			return;
		}
		failed_start(p, l);
		return;
	case ST_RUNNING:
		/* Up less than startsecs: a failed start.  Less than a second
		 * and about to be restarted: the same, so that startsecs=0
		 * cannot make a tight restart loop. */
		if (up < (int64_t)c->startsecs * 1000 || (up < 1000 && !l->stopping &&
							   wants_restart(p, status))) {
			failed_start(p, l);
			return;
		}
		p->retries = 0;
		p->deadline_ms = 0;
		set_state(p, ST_EXITED);
		if (!l->stopping && wants_restart(p, status)) {
			log_warn("%s: exited (%s); restarting", c->name, why);
			spawn(p, l);
		} else {
			log_info("%s: exited (%s)", c->name, why);
		}
		return;
	default:
		return;
	}
}

static void on_timer(struct program *p, struct loop *l)
{
	int64_t now = now_ms();

	if (p->deadline_ms == 0 || p->deadline_ms > now)
		return;
	p->deadline_ms = 0;
	switch (p->state) {
	case ST_BACKOFF:
		if (!l->stopping)
			spawn(p, l);
		return;
	case ST_STOPPING:
		log_warn("%s: still running %ds after SIG%s; sending KILL to its process group",
			p->c->name, p->c->stopwaitsecs, sig_name(p->c->stopsignal));
		program_kill(p, SIGKILL, true);
		program_kill(p, SIGKILL, false);
		return;
	case ST_STARTING:
		if (p->c->oneshot)
			return;
		if (p->ready_by_ms && now >= p->ready_by_ms) {
			/* Not ready in time: a failed start like an early exit; its
			 * exit while STARTING takes it to backoff, retry or FATAL. */
			log_error("%s: not ready after %ds (ready_timeout); killing it", p->c->name,
				  p->c->ready_timeout);
			p->ready_by_ms = 0;
			program_kill(p, SIGKILL, true);
			program_kill(p, SIGKILL, false);
			return;
		}
		if (ready_has_probe(p->c)) {
			if (ready_poll(p, l))
				become_ready(p, l);
			else if (p->c->ready_file || p->c->has_ready_tcp)
				p->deadline_ms = p->ready_by_ms && p->ready_by_ms < now + PROBE_MS ?
					p->ready_by_ms : now + PROBE_MS;
			return;
		}
		become_ready(p, l);
		return;
	default:
		return;
	}
}

void program_event(struct program *p, enum event ev, int arg, struct loop *l)
{
	switch (ev) {
	case EV_START:
		if (p->state == ST_STOPPING) {
			p->restart_after_stop = true;
		} else if (p->state != ST_STARTING && p->state != ST_RUNNING) {
			p->retries = 0;
			spawn(p, l);
		}
		break;
	case EV_STOP:
		p->restart_after_stop = false;
		if (p->state == ST_STARTING || p->state == ST_RUNNING) {
			do_stop(p);
		} else if (p->state == ST_BACKOFF) {
			p->deadline_ms = 0;
			set_state(p, ST_STOPPED);
		}
		break;
	case EV_READY:
		if (p->state == ST_STARTING && !p->c->oneshot)
			become_ready(p, l);
		break;
	case EV_EXIT:
		on_exit_event(p, arg, l);
		break;
	case EV_TIMER:
		on_timer(p, l);
		break;
	}
}

void program_io(struct program *p, enum tag tag, struct loop *l)
{
	switch (tag) {
	case TAG_OUT:
	case TAG_ERR: {
		struct relay *r = tag == TAG_OUT ? &p->out : &p->err;
		if (r->fd >= 0 && !relay_read(r))
			close_relay(r, l);
		break;
	}
	case TAG_READY:
	case TAG_TCP:
		if (ready_io(p, tag, l))
			program_event(p, EV_READY, 0, l);
		break;
	default:
		break;
	}
}
