/* command: parses command lines and runs them with a timeout, in their own
 * process group, collecting their output; when a command ends, whatever
 * it left running in its group ends with it. */
#include "renderer/command.h"
#include "common/clock.h"
#include "common/loop.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_KEEP (64 * 1024)
#define KILL_GRACE_MS 2000
#define SRC_MARK "{{.src}}"

void command_free(struct command *c)
{
	if (c->argv && !c->shell)
		for (char **a = c->argv; *a; a++)
			free(*a);
	free(c->argv);
	free(c->text);
	memset(c, 0, sizeof *c);
}

int command_parse(const char *text, struct command *out)
{
	size_t n = 0, cap = 8;
	const char *p = text;

	memset(out, 0, sizeof *out);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return -1;
	if (!(out->text = strdup(text)))
		return -1;
	/* Anything a shell would interpret goes to the shell. */
	if (strpbrk(text, "|&;<>()$`\\\"'*?[]#~=%{}\n")) {
		out->shell = true;
		out->argv = calloc(4, sizeof *out->argv);
		if (!out->argv)
			goto err;
		out->argv[0] = (char *)"/bin/sh";
		out->argv[1] = (char *)"-c";
		out->argv[2] = out->text;
		return 0;
	}
	out->argv = calloc(cap, sizeof *out->argv);
	if (!out->argv)
		goto err;
	while (*p) {
		const char *w = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (n + 2 > cap) {
			char **a = realloc(out->argv, cap * 2 * sizeof *a);
			if (!a)
				goto err;
			out->argv = a;
			cap *= 2;
		}
		if (!(out->argv[n++] = strndup(w, (size_t)(p - w))))
			goto err;
		out->argv[n] = NULL;
		while (isspace((unsigned char)*p))
			p++;
	}
	return 0;
err:
	command_free(out);
	return -1;
}

/* Returns a copy of s with every SRC_MARK replaced by src. */
static char *substitute(const char *s, const char *src)
{
	struct buf b = BUF_INIT;
	const char *m;

	if (!src)
		return strdup(s);
	while ((m = strstr(s, SRC_MARK))) {
		if (buf_append(&b, s, (size_t)(m - s)) < 0 || buf_puts(&b, src) < 0)
			goto err;
		s = m + strlen(SRC_MARK);
	}
	if (buf_puts(&b, s) < 0)
		goto err;
	return buf_steal(&b, NULL);
err:
	buf_free(&b);
	return NULL;
}

static void child(char **argv, int out)
{
	sigset_t none;
	int devnull = open("/dev/null", O_RDONLY);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	setpgid(0, 0);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out, 1);
	dup2(out, 2);
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* argv with {{.src}} replaced: a new NULL-terminated array, or NULL. */
static char **build_argv(const struct command *c, const char *src)
{
	size_t n = 0;
	char **argv;

	if (!c->argv)
		return NULL;
	while (c->argv[n])
		n++;
	argv = calloc(n + 1, sizeof *argv);
	if (!argv)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(argv[i] = substitute(c->argv[i], src))) {
			for (size_t k = 0; k < i; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
	}
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Forks argv with its output on a pipe; returns the pid with *out the
 * read end (O_CLOEXEC | O_NONBLOCK), or -1. */
static pid_t spawn(char **argv, int *out)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child(argv, fds[1]);
	close(fds[1]);
	setpgid(pid, pid);  /* also here, so a kill never races the child's own call */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	*out = fds[0];
	return pid;
}

static void keep_output(struct command_result *res, const char *p, size_t n)
{
	size_t room = OUTPUT_KEEP - res->output.len;
	buf_append(&res->output, p, n < room ? n : room);
}

static void set_status(struct command_result *res, int wstatus)
{
	if (WIFEXITED(wstatus))
		res->status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		res->status = 128 + WTERMSIG(wstatus);
}

/* ---- jobs on the event loop ------------------------------------------------ */

enum job_phase { JOB_RUNNING, JOB_TERM_SENT, JOB_KILL_SENT };

struct command_job {
	struct loop *loop;
	pid_t pid;
	int out;                  /* output pipe; -1 once closed */
	int pidfd;                /* readable when the process exits; -1: polled */
	long start;
	enum job_phase phase;
	struct loop_timer timer;  /* the timeout, then the kill grace */
	struct loop_timer poll;   /* without a pidfd: looks for the exit */
	struct command_result res;
	command_done_fn done;
	void *arg;
};

static void job_free(struct command_job *j)
{
	loop_del_timer(j->loop, &j->timer);
	loop_del_timer(j->loop, &j->poll);
	if (j->out >= 0) {
		loop_del_fd(j->loop, j->out);
		close(j->out);
	}
	if (j->pidfd >= 0) {
		loop_del_fd(j->loop, j->pidfd);
		close(j->pidfd);
	}
	command_result_free(&j->res);
	free(j);
}

static void job_read(struct command_job *j)
{
	char chunk[4096];
	ssize_t r;

	while (j->out >= 0) {
		r = read(j->out, chunk, sizeof chunk);
		if (r > 0) {
			keep_output(&j->res, chunk, (size_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		loop_del_fd(j->loop, j->out);
		close(j->out);
		j->out = -1;
	}
}

/* When the job's process has exited: kills what it left in its process
 * group, reaps it, reports and frees.  The group is killed before the
 * reap, while the zombie leader still holds the group's id, so the signal
 * cannot reach a new group that reused it. */
static void job_check_exit(struct command_job *j)
{
	siginfo_t si;
	int wstatus;
	pid_t w;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno == EINTR)
			return;
	} else if (si.si_pid == 0) {
		return;  /* still running */
	}
	kill(-j->pid, SIGKILL);  /* background children, or stragglers after a timeout */
	while ((w = waitpid(j->pid, &wstatus, 0)) < 0 && errno == EINTR)
		;
	job_read(j);  /* what it wrote just before it exited */
	if (w == j->pid)
		set_status(&j->res, wstatus);
	j->res.elapsed_ms = (long)(clock_mono() * 1000) - j->start;
	j->done(&j->res, j->arg);
	job_free(j);
}

static void job_on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct command_job *j = arg;
	(void)l;
	(void)events;
	if (fd == j->out)
		job_read(j);
	else
		job_check_exit(j);
}

/* The timeout: SIGTERM to the group; KILL_GRACE_MS later, SIGKILL. */
static void job_on_timer(struct loop *l, void *arg)
{
	struct command_job *j = arg;

	if (j->phase == JOB_RUNNING) {
		j->phase = JOB_TERM_SENT;
		j->res.timed_out = true;
		kill(-j->pid, SIGTERM);
		loop_add_timer(l, &j->timer, KILL_GRACE_MS / 1000.0);
	} else if (j->phase == JOB_TERM_SENT) {
		j->phase = JOB_KILL_SENT;
		kill(-j->pid, SIGKILL);
	}
}

static void job_on_poll(struct loop *l, void *arg)
{
	struct command_job *j = arg;

	loop_add_timer(l, &j->poll, 0.02);  /* re-armed first: the check may free j */
	job_check_exit(j);
}

struct command_job *command_start(struct loop *l, const struct command *c, const char *src,
				  long timeout_ms, command_done_fn done, void *arg,
				  struct lg_error *err)
{
	struct command_job *j = calloc(1, sizeof *j);
	char **argv;

	if (!j || !(argv = build_argv(c, src))) {
		free(j);
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	j->loop = l;
	j->out = -1;
	j->pidfd = -1;
	j->done = done;
	j->arg = arg;
	j->start = (long)(clock_mono() * 1000);
	j->res.status = -1;
	j->res.output.limit = OUTPUT_KEEP;
	loop_timer_init(&j->timer, job_on_timer, j);
	loop_timer_init(&j->poll, job_on_poll, j);
	j->pid = spawn(argv, &j->out);
	free_argv(argv);
	if (j->pid < 0) {
		lg_error_set(err, NULL, 0, 0, "cannot start \"%s\": %s", c->text, strerror(errno));
		j->out = -1;
		job_free(j);
		return NULL;
	}
	j->pidfd = pidfd_open(j->pid, 0);
	if (loop_add_fd(l, j->out, EPOLLIN, job_on_fd, j) < 0 ||
	    (j->pidfd >= 0 && loop_add_fd(l, j->pidfd, EPOLLIN, job_on_fd, j) < 0)) {
		lg_error_set(err, NULL, 0, 0, "cannot watch \"%s\": %s", c->text, strerror(errno));
		command_cancel(j);
		return NULL;
	}
	loop_add_timer(l, &j->timer, timeout_ms / 1000.0);
	if (j->pidfd < 0)
		loop_add_timer(l, &j->poll, 0.02);
	return j;
}

void command_cancel(struct command_job *j)
{
	if (!j)
		return;
	kill(-j->pid, SIGKILL);
	/* Reaped here, so no zombie is left: after SIGKILL the wait is short. */
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
	job_free(j);
}

/* ---- the blocking form: one job on a loop of its own ----------------------- */

struct run_state {
	struct loop *loop;
	struct command_result *res;
};

static void run_done(const struct command_result *res, void *arg)
{
	struct run_state *rs = arg;

	rs->res->status = res->status;
	rs->res->timed_out = res->timed_out;
	rs->res->elapsed_ms = res->elapsed_ms;
	buf_append(&rs->res->output, res->output.data, res->output.len);
	loop_stop(rs->loop);
}

int command_run(const struct command *c, const char *src, long timeout_ms,
		struct command_result *res)
{
	struct run_state rs = { loop_new(0), res };
	struct lg_error err;

	memset(res, 0, sizeof *res);
	res->status = -1;
	res->output.limit = OUTPUT_KEEP;
	if (!rs.loop)
		return -1;
	if (command_start(rs.loop, c, src, timeout_ms, run_done, &rs, &err))
		loop_run(rs.loop);
	loop_free(rs.loop);
	return res->status == 0 && !res->timed_out ? 0 : -1;
}

void command_result_free(struct command_result *res)
{
	buf_free(&res->output);
}
