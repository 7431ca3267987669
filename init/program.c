/* program: the per-program state machine.  program_event() dispatches each
 * event to a small transition function for the current state; spawning,
 * stopping and backing off live here, policy across programs (order,
 * shutdown, on_fatal) lives in the supervisor. */
#include "init/program.h"

#include "common/log.h"
#include "init/sigs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const state_names[] = {
	"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL",
};

const char *program_state_name(enum prog_state s) { return state_names[s]; }

int program_init(struct program *p, const struct prog_conf *c, const struct program_hooks *hooks)
{
	memset(p, 0, sizeof *p);
	p->c = c;
	p->hooks = hooks;
	ready_init(&p->ready, p);
	if (relay_init(&p->out, c->name, INIT_TAG_OUT, p) < 0 ||
	    relay_init(&p->err, c->name, INIT_TAG_ERR, p) < 0)
		return -1;
	if (c->listener) {
		p->ev = malloc(sizeof *p->ev);
		if (!p->ev || listener_init(p->ev, c, p) < 0)
			return -1;
	}
	return 0;
}

void program_free(struct program *p)
{
	relay_free(&p->out);
	relay_free(&p->err);
	if (p->ev) {
		listener_free(p->ev);
		free(p->ev);
		p->ev = NULL;
	}
}

void program_rebind(struct program *p, const struct prog_conf *c)
{
	p->c = c;
	p->out.name = p->err.name = c->name;
	if (p->out.log)
		p->out.log = &c->out;
	if (p->err.log)
		p->err.log = &c->err;
	if (p->ev)
		p->ev->pool = c->name;
}

static void set_state(struct program *p, enum prog_state s)
{
	enum prog_state from = p->state;
	if (from != s)
		log_debug_at("program", p->c->name, "%s -> %s", state_names[from], state_names[s]);
	p->state = s;
	p->changed_ms = init_now_ms();
	if (from != s && p->hooks && p->hooks->changed)
		p->hooks->changed(p->hooks->ctx, p, from);
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
	int code = p->has_status ? sig_exit_code(p->last_status) : 1;
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

/* "Nov 27 11:41 AM", as supervisorctl shows when a program stopped, in
 * UTC (a container's usual zone): the calendar is worked out here because
 * localtime and strftime would bring the C library's time zone and locale
 * code, a fifth of the static binary, into PID 1. */
static void format_time(time_t t, char *buf, size_t n)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	long long days = (long long)t / 86400, secs = (long long)t % 86400;
	long long era, doe, yoe, doy, mp, day, month, hour;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* Days since 1970-01-01 to a civil date (the proleptic Gregorian
	 * calendar, counted in 400-year eras from March 1st, year 0). */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = doy - (153 * mp + 2) / 5 + 1;
	month = mp < 10 ? mp + 3 : mp - 9;
	hour = secs / 3600;
	snprintf(buf, n, "%s %02lld %02lld:%02lld %s", months[month - 1], day,
		 hour % 12 ? hour % 12 : 12, secs / 60 % 60, hour < 12 ? "AM" : "PM");
}

void program_describe(const struct program *p, char *buf, size_t n)
{
	switch (p->state) {
	case PROG_RUNNING: {
		long long s = (init_now_ms() - p->spawned_ms) / 1000, days = s / 86400;
		if (days)
			snprintf(buf, n, "pid %d, uptime %lld day%s, %lld:%02lld:%02lld", (int)p->pid, days,
				 days == 1 ? "" : "s", s % 86400 / 3600, s / 60 % 60, s % 60);
		else
			snprintf(buf, n, "pid %d, uptime %lld:%02lld:%02lld", (int)p->pid, s / 3600,
				 s / 60 % 60, s % 60);
		break;
	}
	case PROG_FATAL:
	case PROG_BACKOFF:
		snprintf(buf, n, "%s", p->spawnerr[0] ? p->spawnerr : "unknown error");
		break;
	case PROG_STOPPED:
	case PROG_EXITED:
		if (p->started_once)
			format_time(p->stopped_at, buf, n);
		else
			snprintf(buf, n, "Not started");
		break;
	default:
		buf[0] = 0;
		break;
	}
}

/* ---- spawning --------------------------------------------------------------- */

/* Where one output stream goes: a pipe to PID 1 when it relays (prefixed
 * lines, or a log file it rotates), else nothing (the child opens it).
 * Returns the child's end or -1; *err is set on failure. */
static int stream_start(struct program *p, struct relay *r, const struct conf_log *log,
			struct init_loop *l, bool *err)
{
	int end = -1;

	relay_stop(r, l);
	if (log->kind == CONF_OUT_FILE && log->maxbytes > 0)
		end = relay_start(r, log, 0, l);
	else if (p->c->log_prefix && (log->kind == CONF_OUT_STDOUT || log->kind == CONF_OUT_STDERR))
		end = relay_start(r, NULL, log->kind == CONF_OUT_STDOUT ? 1 : 2, l);
	else
		return -1;
	if (end < 0) {
		snprintf(p->spawnerr, sizeof p->spawnerr, "cannot open %s: %s",
			 log->kind == CONF_OUT_FILE ? log->file : "a pipe", strerror(errno));
		*err = true;
	}
	return end;
}

/* In the child: puts one output stream in place.  orig1/orig2 are copies
 * of legate-init's own stdout and stderr. */
static int child_stream(int target, const struct conf_log *log, int pipe_end, int orig1, int orig2)
{
	int fd;
	if (pipe_end >= 0)
		return dup2(pipe_end, target);
	switch (log->kind) {
	case CONF_OUT_STDOUT: return dup2(orig1, target);
	case CONF_OUT_STDERR: return dup2(orig2, target);
	case CONF_OUT_NULL:
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		break;
	default:
		fd = open(log->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		break;
	}
	if (fd < 0)
		return -1;
	return dup2(fd, target);
}

struct child_fds {
	int ready, out, err, ev_in, ev_out;
};

static void __attribute__((noreturn))
child(const struct prog_conf *c, struct init_loop *l, const struct child_fds *f)
{
	int orig1, orig2, fd;
	const char *what = "setup";

	sig_child_reset(l->child_mask);
	setpgid(0, 0);
	orig1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
	orig2 = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (f->ev_in >= 0)
		fd = f->ev_in;
	else
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	if (f->ev_out >= 0 ? dup2(f->ev_out, 1) < 0 : child_stream(1, &c->out, f->out, orig1, orig2) < 0) {
		what = c->out.file ? c->out.file : "stdout";
		goto fail;
	}
	if (c->redirect_stderr ? dup2(1, 2) < 0 : child_stream(2, &c->err, f->err, orig1, orig2) < 0) {
		what = c->err.file ? c->err.file : "stderr";
		goto fail;
	}
	if (f->ready >= 0) {
		if (f->ready == c->ready_fd ? fcntl(f->ready, F_SETFD, 0) < 0
		    : dup2(f->ready, c->ready_fd) < 0) {
			what = "ready_fd";
			goto fail;
		}
	}
	if (c->umask >= 0)
		umask((mode_t)c->umask);
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
	log_error_at("program", c->name, "cannot run %s: %s", c->argv[0], strerror(errno));
	_exit(127);
fail:
	log_error_at("program", c->name, "cannot set up %s: %s", what, strerror(errno));
	_exit(127);
}

static void failed_start(struct program *p, struct init_loop *l, bool spawn_error);
static void become_ready(struct program *p, struct init_loop *l);

static void close_child_fds(struct child_fds *f)
{
	int *all[] = { &f->ready, &f->out, &f->err, &f->ev_in, &f->ev_out };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (*all[i] >= 0)
			close(*all[i]);
		*all[i] = -1;
	}
}

/* Everything the child needs before fork; false (with spawnerr) when the
 * program cannot be started at all. */
static bool prepare(struct program *p, struct init_loop *l, struct child_fds *f)
{
	const struct prog_conf *c = p->c;
	char path[PATH_MAX];
	const char *why;
	bool err = false;

	p->spawnerr[0] = 0;
	/* A command that is not there fails now, as supervisord's does,
	 * rather than in a child that exits 127. */
	if (conf_find_command(c, path, sizeof path, &why) < 0) {
		if (strcmp(why, "not found in PATH") == 0)
			snprintf(p->spawnerr, sizeof p->spawnerr, "can't find command '%.100s'", c->argv[0]);
		else
			snprintf(p->spawnerr, sizeof p->spawnerr, "command at '%.100s' is %s", path,
				 strcmp(why, "not executable") == 0 ? "not executable" : why);
		log_error_at("program", c->name, "cannot start: %s", p->spawnerr);
		return false;
	}
	ready_close(&p->ready, l);
	if (ready_prepare(&p->ready, c, l, &f->ready) < 0) {
		snprintf(p->spawnerr, sizeof p->spawnerr, "cannot open the ready_fd pipe: %s", strerror(errno));
		err = true;
	}
	if (p->ev && listener_prepare(p->ev, l, &f->ev_in, &f->ev_out) < 0) {
		snprintf(p->spawnerr, sizeof p->spawnerr, "cannot open the event pipes: %s", strerror(errno));
		err = true;
	}
	if (!p->ev)
		f->out = stream_start(p, &p->out, &c->out, l, &err);
	if (!c->redirect_stderr)
		f->err = stream_start(p, &p->err, &c->err, l, &err);
	else
		relay_stop(&p->err, l);
	if (err)
		log_error_at("program", c->name, "cannot start: %s", p->spawnerr);
	return !err;
}

static void spawn(struct program *p, struct init_loop *l)
{
	struct child_fds f = { -1, -1, -1, -1, -1 };
	pid_t pid = -1;

	if (prepare(p, l, &f)) {
		pid = fork();
		if (pid == 0)
			child(p->c, l, &f);
		if (pid < 0) {
			snprintf(p->spawnerr, sizeof p->spawnerr, "fork failed: %s", strerror(errno));
			log_error_at("program", p->c->name, "cannot start: %s", p->spawnerr);
		}
	}
	close_child_fds(&f);
	if (p->started_once)
		p->restarts++;
	p->started_once = true;
	p->done = false;
	p->start_seq = ++l->seq;
	p->spawned_ms = init_now_ms();
	if (pid < 0) {
		ready_close(&p->ready, l);
		relay_stop(&p->out, l);
		relay_stop(&p->err, l);
		if (p->ev)
			listener_stop(p->ev, l);
		p->pid = 0;
		p->stopped_at = time(NULL);
		set_state(p, PROG_STARTING);
		failed_start(p, l, true);
		return;
	}
	setpgid(pid, pid);
	p->pid = p->last_pid = pid;
	log_info_at("program", p->c->name, "started, pid %d", (int)pid);
	set_state(p, PROG_STARTING);
	p->ready_by_ms = 0;
	if (p->c->ready_timeout > 0 && ready_has_probe(p->c) && !p->c->oneshot)
		p->ready_by_ms = p->spawned_ms + (int64_t)p->c->ready_timeout * 1000;
	if (p->c->oneshot)
		p->deadline_ms = 0;
	else if (p->c->ready_file || p->c->has_ready_tcp)
		p->deadline_ms = p->spawned_ms;   /* probe at once, then every PROG_PROBE_MS */
	else if (p->c->ready_fd >= 0)
		p->deadline_ms = p->ready_by_ms;   /* the line arrives as an event */
	else if (p->c->startsecs == 0)
		become_ready(p, l);   /* startsecs=0: running means started */
	else
		p->deadline_ms = p->spawned_ms + (int64_t)p->c->startsecs * 1000;
}

/* ---- transitions -------------------------------------------------------------- */

static void become_ready(struct program *p, struct init_loop *l)
{
	ready_close(&p->ready, l);
	p->deadline_ms = 0;
	p->ready_by_ms = 0;
	set_state(p, PROG_RUNNING);
	log_info_at("program", p->c->name, "ready (RUNNING)");
}

/* An exit before the program was up for startsecs, or a start that could
 * not happen: back off, or give up. */
static void failed_start(struct program *p, struct init_loop *l, bool spawn_error)
{
	char why[160];

	if (p->spawnerr[0])
		snprintf(why, sizeof why, "%s", p->spawnerr);
	else
		program_last_exit(p, why, sizeof why);
	if (l->stopping) {
		set_state(p, PROG_EXITED);
		return;
	}
	if (!p->spawnerr[0])
		snprintf(p->spawnerr, sizeof p->spawnerr, "Exited too quickly (process log may have details)");
	p->retries++;
	if (p->retries > p->c->startretries) {
		/* Through BACKOFF, as supervisord goes, so that listeners see
		 * the same two changes. */
		p->deadline_ms = 0;
		set_state(p, PROG_BACKOFF);
		set_state(p, PROG_FATAL);
		log_error_at("program", p->c->name, "failed %d times in a row within startsecs (last: %s); giving up (FATAL)",
			  p->retries, why);
		return;
	}
	int64_t delay = PROG_BACKOFF_MIN_MS;
	for (int i = 1; i < p->retries && delay < PROG_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > PROG_BACKOFF_MAX_MS)
		delay = PROG_BACKOFF_MAX_MS;
	p->deadline_ms = init_now_ms() + delay;
	set_state(p, PROG_BACKOFF);
	log_warn_at("program", p->c->name, "%s (%s); retry %d of %d in %lld.%llds",
		 spawn_error ? "could not start" : "exited too quickly", why, p->retries,
		 p->c->startretries, (long long)delay / 1000, (long long)delay % 1000 / 100);
}

static void do_stop(struct program *p)
{
	const struct prog_conf *c = p->c;
	if (p->pid <= 0) {
		set_state(p, PROG_STOPPED);
		return;
	}
	log_info_at("program", c->name, "stopping (SIG%s)", sig_name(c->stopsignal));
	if (program_kill(p, c->stopsignal, c->stopasgroup) < 0 && errno != ESRCH)
		log_warn_at("program", c->name, "cannot send SIG%s: %s", sig_name(c->stopsignal), strerror(errno));
	p->deadline_ms = init_now_ms() + (int64_t)c->stopwaitsecs * 1000;
	set_state(p, PROG_STOPPING);
}

static bool wants_restart(const struct program *p, int status)
{
	switch (p->c->autorestart) {
	case CONF_AR_TRUE: return true;
	case CONF_AR_FALSE: return false;
	default:
		return !(WIFEXITED(status) && conf_expected(p->c, WEXITSTATUS(status)));
	}
}

static void on_exit_event(struct program *p, int status, struct init_loop *l)
{
	const struct prog_conf *c = p->c;
	int64_t up = init_now_ms() - p->spawned_ms;
	char why[64];

	p->pid = 0;
	p->has_status = true;
	p->last_status = status;
	p->exit_expected = WIFEXITED(status) && conf_expected(c, WEXITSTATUS(status));
	p->stopped_at = time(NULL);
	ready_close(&p->ready, l);
	if (p->ev)
		listener_stop(p->ev, l);
	program_last_exit(p, why, sizeof why);

	switch (p->state) {
	case PROG_STOPPING:
		p->deadline_ms = 0;
		set_state(p, PROG_STOPPED);
		log_info_at("program", c->name, "stopped (%s)", why);
		if (p->restart_after_stop && !l->stopping && !p->removing) {
			p->restart_after_stop = false;
			p->retries = 0;
			spawn(p, l);
		}
		return;
	case PROG_STARTING:
		if (c->oneshot) {
			p->deadline_ms = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				p->done = true;
				set_state(p, PROG_EXITED);
				log_info_at("program", c->name, "oneshot finished (exit 0)");
			} else {
				snprintf(p->spawnerr, sizeof p->spawnerr, "oneshot failed (%s)", why);
				set_state(p, PROG_FATAL);
				log_error_at("program", c->name, "oneshot failed (%s)", why);
			}
			return;
		}
		failed_start(p, l, false);
		return;
	case PROG_RUNNING:
		/* Up less than startsecs: a failed start.  Less than a second
		 * and about to be restarted: the same, so that startsecs=0
		 * cannot make a tight restart loop. */
		if (up < (int64_t)c->startsecs * 1000 || (up < 1000 && !l->stopping &&
							   wants_restart(p, status))) {
			failed_start(p, l, false);
			return;
		}
		p->retries = 0;
		p->deadline_ms = 0;
		set_state(p, PROG_EXITED);
		if (!l->stopping && !p->removing && wants_restart(p, status)) {
			log_warn_at("program", c->name, "exited (%s); restarting", why);
			spawn(p, l);
		} else {
			log_info_at("program", c->name, "exited (%s)", why);
		}
		return;
	default:
		return;
	}
}

static void on_timer(struct program *p, struct init_loop *l)
{
	int64_t now = init_now_ms();

	if (p->deadline_ms == 0 || p->deadline_ms > now)
		return;
	p->deadline_ms = 0;
	switch (p->state) {
	case PROG_BACKOFF:
		if (!l->stopping)
			spawn(p, l);
		return;
	case PROG_STOPPING:
		log_warn_at("program", p->c->name, "still running %ds after SIG%s; sending KILL to its process group",
			 p->c->stopwaitsecs, sig_name(p->c->stopsignal));
		program_kill(p, SIGKILL, true);
		program_kill(p, SIGKILL, false);
		return;
	case PROG_STARTING:
		if (p->c->oneshot)
			return;
		if (p->ready_by_ms && now >= p->ready_by_ms) {
			/* Not ready in time: a failed start like an early exit; its
			 * exit while STARTING takes it to backoff, retry or FATAL. */
			log_error_at("program", p->c->name, "not ready after %ds (ready_timeout); killing it",
				  p->c->ready_timeout);
			snprintf(p->spawnerr, sizeof p->spawnerr, "not ready after %ds (ready_timeout)",
				 p->c->ready_timeout);
			p->ready_by_ms = 0;
			program_kill(p, SIGKILL, true);
			program_kill(p, SIGKILL, false);
			return;
		}
		if (ready_has_probe(p->c)) {
			if (ready_poll(&p->ready, p->c, l))
				become_ready(p, l);
			else if (p->c->ready_file || p->c->has_ready_tcp)
				p->deadline_ms = p->ready_by_ms && p->ready_by_ms < now + PROG_PROBE_MS ?
					p->ready_by_ms : now + PROG_PROBE_MS;
			return;
		}
		become_ready(p, l);
		return;
	default:
		return;
	}
}

void program_event(struct program *p, enum prog_event ev, int arg, struct init_loop *l)
{
	switch (ev) {
	case PEV_START:
		if (p->state == PROG_STOPPING) {
			p->restart_after_stop = true;
		} else if (p->state != PROG_STARTING && p->state != PROG_RUNNING) {
			p->retries = 0;
			spawn(p, l);
		}
		break;
	case PEV_STOP:
		p->restart_after_stop = false;
		if (p->state == PROG_STARTING || p->state == PROG_RUNNING) {
			do_stop(p);
		} else if (p->state == PROG_BACKOFF) {
			p->deadline_ms = 0;
			set_state(p, PROG_STOPPED);
		}
		break;
	case PEV_READY:
		if (p->state == PROG_STARTING && !p->c->oneshot)
			become_ready(p, l);
		break;
	case PEV_EXIT:
		on_exit_event(p, arg, l);
		break;
	case PEV_TIMER:
		on_timer(p, l);
		break;
	}
}

void program_io(struct program *p, enum init_tag tag, struct init_loop *l)
{
	switch (tag) {
	case INIT_TAG_OUT:
	case INIT_TAG_ERR: {
		struct relay *r = tag == INIT_TAG_OUT ? &p->out : &p->err;
		if (!relay_read(r))
			relay_stop(r, l);
		break;
	}
	case INIT_TAG_READY:
	case INIT_TAG_TCP:
		if (ready_io(&p->ready, tag, l))
			program_event(p, PEV_READY, 0, l);
		break;
	case INIT_TAG_EV_IN:
	case INIT_TAG_EV_OUT:
		if (p->ev)
			listener_io(p->ev, tag, l);
		break;
	default:
		break;
	}
}
