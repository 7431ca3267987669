/* command: the commands legate runs for a template (the check on a staged
 * file, the reload after an install): parsed once, run with a timeout in a
 * process group of their own, their output captured and logged. */
#ifndef LEGATE_COMMAND_H
#define LEGATE_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* argv for exec, or {"/bin/sh", "-c", text} when the text needs a shell
 * (pipes, redirections, variables, quotes, globs). */
struct command {
	char *text;       /* as written, for logs; NULL: no command */
	char **argv;      /* NULL-terminated */
	bool shell;
};

struct command_result {
	int status;       /* exit code, 128+N when killed by signal N, -1: not started */
	bool timed_out;
	long elapsed_ms;
	struct buf output;   /* stdout and stderr together, at most 64 KiB kept */
};

/* Splits a command line into argv, or hands it to /bin/sh -c when it uses
 * shell syntax.  Returns 0, or -1 for an empty command or out of memory. */
int command_parse(const char *text, struct command *out);

void command_free(struct command *c);

/* Runs c with stdin from /dev/null, replacing every "{{.src}}" in its
 * arguments with `src` (may be NULL).  Waits at most timeout_ms, then sends
 * SIGTERM to the command's process group and, 2 s later, SIGKILL.  When
 * the command exits, what it left in its process group (a child put in the
 * background) gets SIGKILL; only a process that left the group (setsid, as
 * daemons do) outlives the call.  The child starts with no blocked signals.  Returns 0 when the command ran
 * and exited 0, else -1; *res says what happened (free res->output). */
int command_run(const struct command *c, const char *src, long timeout_ms,
		struct command_result *res);

void command_result_free(struct command_result *res);

struct loop;
struct command_job;

/* Called once when a job ends (exit, or killed after its timeout).  res is
 * borrowed for the call; the job is freed right after the callback. */
typedef void (*command_done_fn)(const struct command_result *res, void *arg);

/* Starts c as command_run() does, but returns at once: output, exit and
 * timeout are handled on loop l, and done(res, arg) is called at the end.
 * Returns the job, or NULL (err filled) when it could not be started. */
struct command_job *command_start(struct loop *l, const struct command *c, const char *src,
				  long timeout_ms, command_done_fn done, void *arg,
				  struct lg_error *err);

/* Kills the job's process group and frees it without calling done. */
void command_cancel(struct command_job *j);

#endif
