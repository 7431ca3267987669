/* Unit test for renderer/command: parsing, exit codes, output, timeouts,
 * {{.src}}, jobs on the event loop, and the process group ended with the
 * command. */
#include "renderer/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/loop.h"
#include "tests/unit/check.h"
#include "tests/unit/tmpfiles.h"

static char dir[] = "/tmp/test_command.XXXXXX";

static char *path(const char *name) { return tmp_path(dir, name); }

static void test_command(void)
{
	struct command c;
	struct command_result r;

	check_int(command_parse("true", &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), 0);
	check_int(r.status, 0);
	command_result_free(&r);
	command_free(&c);

	check_int(command_parse("sh -c 'echo out; echo err >&2; exit 3'", &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), -1);
	check_int(r.status, 3);
	check(strstr(buf_cstr(&r.output), "out\n") != NULL);
	check(strstr(buf_cstr(&r.output), "err\n") != NULL);
	command_result_free(&r);
	command_free(&c);

	{
		FILE *f = fopen(path("haproxy.cfg"), "w");
		check(f != NULL);
		if (f) {
			fputs("backend c\n", f);
			fclose(f);
		}
	}
	check_int(command_parse("cat {{.src}}", &c), 0);
	check_int(command_run(&c, path("haproxy.cfg"), 5000, &r), 0);
	check_str(buf_cstr(&r.output), "backend c\n");
	command_result_free(&r);
	command_free(&c);

	check_int(command_parse("/nonexistent/legate-cmd arg", &c), 0);
	check(!c.shell);
	check_int(command_run(&c, NULL, 5000, &r), -1);
	check_int(r.status, 127);
	check(strstr(buf_cstr(&r.output), "cannot run /nonexistent/legate-cmd") != NULL);
	command_result_free(&r);
	command_free(&c);

	/* Timeout: SIGTERM to the group. */
	check_int(command_parse("sleep 10", &c), 0);
	check_int(command_run(&c, NULL, 200, &r), -1);
	check(r.timed_out);
	check_int(r.status, 128 + 15);
	check(r.elapsed_ms < 3000);
	command_result_free(&r);
	command_free(&c);

	/* A command that ignores SIGTERM is killed 2 s later. */
	char *ignoring[] = { "sh", "-c", "trap '' TERM; sleep 10; exit 0", NULL };
	struct command manual = { "ignores TERM", ignoring, false };
	check_int(command_run(&manual, NULL, 200, &r), -1);
	check(r.timed_out);
	check_int(r.status, 128 + 9);
	check(r.elapsed_ms >= 2000 && r.elapsed_ms < 4000);
	command_result_free(&r);

	/* A command whose background child keeps the output pipe open returns
	 * when the command itself exits (test_command_group: the child ends). */
	check_int(command_parse("sh -c 'sleep 5 & echo started'", &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), 0);
	check(r.elapsed_ms < 4000);
	check(strstr(buf_cstr(&r.output), "started") != NULL);
	command_result_free(&r);
	command_free(&c);

	/* Output beyond 64 KiB is dropped, not accumulated. */
	check_int(command_parse("sh -c 'head -c 1000000 /dev/zero'", &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), 0);
	check_int(r.output.len, 64 * 1024);
	command_result_free(&r);
	command_free(&c);
}

struct async_case {
	struct loop *l;
	struct command_result got;
	int calls;
};

static void async_done(const struct command_result *res, void *arg)
{
	struct async_case *a = arg;
	a->calls++;
	a->got.status = res->status;
	a->got.timed_out = res->timed_out;
	a->got.elapsed_ms = res->elapsed_ms;
	buf_puts(&a->got.output, buf_cstr((struct buf *)&res->output));
	loop_stop(a->l);
}

/* command_start: the same results as command_run, on the loop. */
static void test_command_async(void)
{
	struct async_case a = { 0 };
	struct command c;
	struct lg_error err;

	a.l = loop_new(0);
	check(a.l != NULL);
	check_int(command_parse("sh -c 'echo hi; exit 4'", &c), 0);
	check(command_start(a.l, &c, NULL, 5000, async_done, &a, &err) != NULL);
	loop_run(a.l);
	check_int(a.calls, 1);
	check_int(a.got.status, 4);
	check(!a.got.timed_out);
	check_str(buf_cstr(&a.got.output), "hi\n");
	command_free(&c);
	command_result_free(&a.got);

	/* Past the timeout: SIGTERM to the group, reported as timed out. */
	memset(&a.got, 0, sizeof a.got);
	check_int(command_parse("sleep 10", &c), 0);
	check(command_start(a.l, &c, NULL, 200, async_done, &a, &err) != NULL);
	loop_run(a.l);
	check_int(a.calls, 2);
	check(a.got.timed_out);
	check_int(a.got.status, 128 + 15);
	check(a.got.elapsed_ms < 3000);
	command_free(&c);
	command_result_free(&a.got);

	/* Cancelled: killed and reaped at once, no callback. */
	check_int(command_parse("sleep 10", &c), 0);
	struct command_job *j = command_start(a.l, &c, NULL, 5000, async_done, &a, &err);
	check(j != NULL);
	command_cancel(j);
	check_int(a.calls, 2);
	command_free(&c);
	loop_free(a.l);
}

/* Reaps pid (a descendant we are the subreaper of) within 10 s; returns its
 * wait status, or -1 after killing it when it did not end. */
static int reap_within(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int st;

	for (int i = 0; i < 1000; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return st;
		if (w < 0)
			return -1;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static pid_t read_pid(const char *p)
{
	const char *s = tmp_slurp(p);
	return s ? (pid_t)atoi(s) : 0;
}

/* A check or command that puts a child in the background: the child is
 * killed with the call's end, blocking or on the loop; one that left the
 * process group (setsid, as a daemon does) is not. */
static void test_command_group(void)
{
	struct command c;
	struct command_result r;
	struct async_case a = { 0 };
	struct lg_error err;
	char text[1024];
	pid_t bg;
	int st;

	/* Orphans come to us, so we can see how they end. */
	check_int(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);

	unlink(path("bg.pid"));
	snprintf(text, sizeof text, "sh -c 'sleep 30 & echo $! > %s'", path("bg.pid"));
	check_int(command_parse(text, &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), 0);
	command_result_free(&r);
	bg = read_pid(path("bg.pid"));
	check(bg > 0);
	if (bg > 0) {
		st = reap_within(bg);
		check(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	}

	unlink(path("bg.pid"));
	a.l = loop_new(0);
	check(a.l != NULL);
	check(command_start(a.l, &c, NULL, 5000, async_done, &a, &err) != NULL);
	loop_run(a.l);
	check_int(a.calls, 1);
	check_int(a.got.status, 0);
	command_result_free(&a.got);
	loop_free(a.l);
	command_free(&c);
	bg = read_pid(path("bg.pid"));
	check(bg > 0);
	if (bg > 0) {
		st = reap_within(bg);
		check(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	}

	/* A daemon leaves the group first: it outlives the command. */
	unlink(path("bg.pid"));
	snprintf(text, sizeof text,
		 "sh -c 'setsid sh -c \"echo \\$\\$ > %s.tmp; mv %s.tmp %s; exec sleep 30\" & "
		 "while [ ! -e %s ]; do sleep 0.01; done'",
		 path("bg.pid"), path("bg.pid"), path("bg.pid"), path("bg.pid"));
	check_int(command_parse(text, &c), 0);
	check_int(command_run(&c, NULL, 5000, &r), 0);
	command_result_free(&r);
	command_free(&c);
	bg = read_pid(path("bg.pid"));
	check(bg > 0);
	if (bg > 0) {
		check_int(waitpid(bg, &st, WNOHANG), 0);
		kill(bg, SIGKILL);
		st = reap_within(bg);
		check(st != -1 && WIFSIGNALED(st));
	}
	check_int(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_command();
	test_command_async();
	test_command_group();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fail("cannot remove %s", dir);
	return check_done();
}
