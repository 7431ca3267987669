/* command: parses command lines and runs them with a timeout, in their own
 * process group, collecting their output. */
#include "renderer/command.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
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

int command_run(const struct command *c, const char *src, long timeout_ms,
		struct command_result *res)
{
	char **argv = NULL;
	size_t n = 0;
	int fds[2] = { -1, -1 }, wstatus = 0;
	pid_t pid;
	long start = now_ms(), deadline, killed_at = -1;
	bool eof = false, reaped = false;

	memset(res, 0, sizeof *res);
	res->status = -1;
	res->output.limit = OUTPUT_KEEP;
	if (!c->argv)
		return -1;
	while (c->argv[n])
		n++;
	argv = calloc(n + 1, sizeof *argv);
	if (!argv)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(argv[i] = substitute(c->argv[i], src)))
			goto out;
	if (pipe2(fds, O_CLOEXEC) < 0)
		goto out;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		child(argv, fds[1]);
	close(fds[1]);
	fds[1] = -1;
	setpgid(pid, pid);  /* also here, so a kill never races the child's own call */

	deadline = start + timeout_ms;
	while (!reaped) {
		long now = now_ms(), wait_ms;
		if (killed_at < 0 && now >= deadline) {
			res->timed_out = true;
			kill(-pid, SIGTERM);
			killed_at = now;
		} else if (killed_at >= 0 && now >= killed_at + KILL_GRACE_MS) {
			kill(-pid, SIGKILL);
			killed_at = now + 3600 * 1000L;  /* once */
		}
		if (eof) {
			/* Output closed: the command (or whatever held the pipe) is done
			 * writing; now only its exit is awaited. */
			pid_t w = waitpid(pid, &wstatus, WNOHANG);
			if (w == pid) {
				reaped = true;
				break;
			}
			if (w < 0 && errno != EINTR)
				break;
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			continue;
		}
		wait_ms = (killed_at < 0 ? deadline : killed_at + KILL_GRACE_MS) - now;
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		int pr = poll(&pfd, 1, wait_ms < 0 ? 0 : (int)(wait_ms > 100 ? 100 : wait_ms));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0) {
			char chunk[4096];
			ssize_t r = read(fds[0], chunk, sizeof chunk);
			if (r > 0) {
				size_t room = OUTPUT_KEEP - res->output.len;
				buf_append(&res->output, chunk, (size_t)r < room ? (size_t)r : room);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				eof = true;
			}
		}
		/* A command may exit while a daemon it forked keeps the pipe open. */
		if (!eof && waitpid(pid, &wstatus, WNOHANG) == pid)
			reaped = true;
	}
	if (reaped && !eof) {
		/* Keep what the command wrote just before it exited. */
		char chunk[4096];
		ssize_t r;
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		while ((r = read(fds[0], chunk, sizeof chunk)) > 0) {
			size_t room = OUTPUT_KEEP - res->output.len;
			buf_append(&res->output, chunk, (size_t)r < room ? (size_t)r : room);
		}
	}
	if (res->timed_out)
		kill(-pid, SIGKILL);  /* whatever the command left in its group */
	res->elapsed_ms = now_ms() - start;
	if (reaped) {
		if (WIFEXITED(wstatus))
			res->status = WEXITSTATUS(wstatus);
		else if (WIFSIGNALED(wstatus))
			res->status = 128 + WTERMSIG(wstatus);
	}
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	for (size_t i = 0; argv && i < n; i++)
		free(argv[i]);
	free(argv);
	return res->status == 0 && !res->timed_out ? 0 : -1;
}

void command_result_free(struct command_result *res)
{
	buf_free(&res->output);
}
