/* test_init_program: one program's state machine (init/program.c) driven
 * event by event with real child processes: start, ready after startsecs
 * or at once, an early exit into BACKOFF and FATAL (through BACKOFF, as
 * supervisord goes), stop and the KILL after stopwaitsecs, restarts by
 * autorestart, a oneshot, a command that is not there, ready_timeout; the
 * hook sees every change; the description supervisorctl's status shows. */
#include "init/program.h"
#include "common/log.h"
#include "init/conf_int.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct init_loop loop;
static char changes[512];

static void changed(void *ctx, struct program *p, enum prog_state from)
{
	(void)ctx;
	size_t n = strlen(changes);
	snprintf(changes + n, sizeof changes - n, "%s%s>%s", n ? " " : "", program_state_name(from),
		 program_state_name(p->state));
}

static const struct program_hooks hooks = { changed, NULL };

static struct prog_conf *make(const char *name, char **argv)
{
	static struct prog_conf confs[16];
	static int used;
	struct prog_conf *c = &confs[used++];
	memset(c, 0, sizeof *c);
	conf_program_defaults(c, false);
	c->name = (char *)name;
	c->file = "test";
	c->argv = argv;
	c->envp = environ;
	return c;
}

/* Waits for the program's process and feeds its exit. */
static void reap(struct program *p)
{
	int status;
	pid_t pid = waitpid(p->pid, &status, 0);
	check(pid == p->pid);
	if (pid == p->pid)
		program_event(p, PEV_EXIT, status, &loop);
}

/* Makes the pending deadline due and fires it. */
static void fire(struct program *p)
{
	if (p->deadline_ms)
		p->deadline_ms = 1;
	program_event(p, PEV_TIMER, 0, &loop);
}

static void start_ready_stop(void)
{
	char *argv[] = { "sleep", "30", NULL };
	struct prog_conf *c = make("sleeper", argv);
	struct program p;
	char desc[200];

	changes[0] = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_describe(&p, desc, sizeof desc);
	check_str(desc, "Not started");
	program_event(&p, PEV_START, 0, &loop);
	check_int(p.state, PROG_STARTING);
	check(p.pid > 0);
	check(p.deadline_ms > 0);          /* startsecs=1 */
	fire(&p);
	check_int(p.state, PROG_RUNNING);
	program_describe(&p, desc, sizeof desc);
	char want[64];
	snprintf(want, sizeof want, "pid %d, uptime 0:00:00", (int)p.pid);
	check_str(desc, want);
	pid_t pid = p.pid;
	program_event(&p, PEV_STOP, 0, &loop);
	check_int(p.state, PROG_STOPPING);
	reap(&p);
	check_int(p.state, PROG_STOPPED);
	check(p.pid == 0 && p.last_pid == pid);
	char last[32];
	program_last_exit(&p, last, sizeof last);
	check_str(last, "signal TERM");
	program_describe(&p, desc, sizeof desc);
	check(strcmp(desc, "Not started") != 0 && strstr(desc, "M") != NULL);   /* "Nov 27 11:41 AM" */
	check_str(changes, "STOPPED>STARTING STARTING>RUNNING RUNNING>STOPPING STOPPING>STOPPED");
	program_free(&p);
}

static void backoff_then_fatal(void)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct prog_conf *c = make("crash", argv);
	struct program p;
	char desc[200];

	c->startretries = 1;
	changes[0] = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	reap(&p);
	check_int(p.state, PROG_BACKOFF);
	check_int(p.retries, 1);
	check(p.deadline_ms > 0);
	fire(&p);                           /* the backoff delay is over: again */
	check_int(p.state, PROG_STARTING);
	reap(&p);
	check_int(p.state, PROG_FATAL);
	check_int(program_fail_code(&p), 3);
	program_describe(&p, desc, sizeof desc);
	check_str(desc, "Exited too quickly (process log may have details)");
	check_str(changes, "STOPPED>STARTING STARTING>BACKOFF BACKOFF>STARTING STARTING>BACKOFF BACKOFF>FATAL");
	/* A start from FATAL begins again. */
	program_event(&p, PEV_START, 0, &loop);
	check_int(p.state, PROG_STARTING);
	check_int(p.restarts, 2);
	reap(&p);
	program_free(&p);
}

static void kill_after_stopwaitsecs(void)
{
	char *argv[] = { "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL };
	struct prog_conf *c = make("stubborn", argv);
	struct program p;
	int status;

	c->startsecs = 0;
	c->stopwaitsecs = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	check_int(p.state, PROG_RUNNING);   /* startsecs=0: running at once */
	usleep(200000);                     /* the trap is set */
	program_event(&p, PEV_STOP, 0, &loop);
	check_int(p.state, PROG_STOPPING);
	fire(&p);                           /* stopwaitsecs over: KILL to the group */
	pid_t pid = waitpid(p.pid, &status, 0);
	check(pid == p.pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	program_event(&p, PEV_EXIT, status, &loop);
	check_int(p.state, PROG_STOPPED);
	program_free(&p);
}

static void autorestart(void)
{
	char *argv[] = { "sh", "-c", "sleep 1.1; exit 4", NULL };
	struct prog_conf *c = make("again", argv);
	struct program p;

	c->startsecs = 0;
	c->autorestart = CONF_AR_UNEXPECTED;
	changes[0] = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	pid_t first = p.pid;
	reap(&p);                           /* up 1.1 s, exit 4: unexpected */
	check_int(p.state, PROG_RUNNING);   /* started again; startsecs=0 */
	check(p.pid > 0 && p.pid != first);
	check(!p.exit_expected);
	program_event(&p, PEV_STOP, 0, &loop);
	reap(&p);
	check_int(p.state, PROG_STOPPED);
	program_free(&p);
}

static void oneshot(void)
{
	char *ok_argv[] = { "true", NULL }, *bad_argv[] = { "false", NULL };
	struct prog_conf *ok = make("setup", ok_argv), *bad = make("migrate", bad_argv);
	struct program p;

	ok->oneshot = bad->oneshot = true;
	check_int(program_init(&p, ok, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	reap(&p);
	check_int(p.state, PROG_EXITED);
	check(p.done);
	program_free(&p);
	check_int(program_init(&p, bad, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	reap(&p);
	check_int(p.state, PROG_FATAL);
	check(!p.done);
	program_free(&p);
}

static void missing_command(void)
{
	char *argv[] = { "legate-no-such-command", NULL };
	struct prog_conf *c = make("ghost", argv);
	struct program p;
	char desc[200];

	c->startretries = 0;
	changes[0] = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	check(p.pid == 0);                  /* found missing before any fork */
	check_int(p.state, PROG_FATAL);
	program_describe(&p, desc, sizeof desc);
	check_str(desc, "can't find command 'legate-no-such-command'");
	check_str(changes, "STOPPED>STARTING STARTING>BACKOFF BACKOFF>FATAL");
	program_free(&p);
}

static void ready_timeout(void)
{
	char *argv[] = { "sleep", "30", NULL };
	struct prog_conf *c = make("mute", argv);
	struct program p;

	c->ready_fd = 5;
	c->ready_timeout = 1;
	c->startretries = 0;
	check_int(program_init(&p, c, &hooks), 0);
	program_event(&p, PEV_START, 0, &loop);
	check_int(p.state, PROG_STARTING);
	check(p.ready_by_ms > 0);
	p.ready_by_ms = 1;                  /* the second has passed */
	fire(&p);
	reap(&p);                           /* killed: a failed start */
	check_int(p.state, PROG_FATAL);
	char desc[200];
	program_describe(&p, desc, sizeof desc);
	check_str(desc, "not ready after 1s (ready_timeout)");
	program_free(&p);
}

int main(void)
{
	sigset_t none, old;

	/* The errors these cases provoke are not the test's output. */
	log_init("test_init_program", open("/dev/null", O_WRONLY | O_CLOEXEC));
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, &old);
	if (init_loop_open(&loop, &none, &old) < 0) {
		perror("init_loop_open");
		return 1;
	}
	start_ready_stop();
	backoff_then_fatal();
	kill_after_stopwaitsecs();
	autorestart();
	oneshot();
	missing_command();
	ready_timeout();
	init_loop_close(&loop);
	return check_done();
}
