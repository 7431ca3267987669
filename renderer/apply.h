/* apply: one rendering taken to its destination, the one pipeline every
 * template and the ambassador use: compare, stage, check, atomic install,
 * then the command; or, for an HAProxy configuration, runtime changes or a
 * confirmed reload through the HAProxy driver.  Asynchronous: checks,
 * commands, runtime commands and reloads are events on the loop. */
#ifndef LEGATE_APPLY_H
#define LEGATE_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "renderer/command.h"
#include "renderer/install.h"

struct loop;
struct hap_driver;
struct apply_job;

struct apply_opts {
	struct install_opts install;     /* destination, mode, owner, backup */
	const struct command *check;     /* NULL or no argv: none; {{.src}} is the staged file */
	long check_timeout_ms;
	const struct command *command;   /* after an install; not with hap */
	long command_timeout_ms;
	struct hap_driver *hap;          /* an HAProxy configuration: runtime changes or reloads */
	const char *label;               /* for messages: the destination */
	/* Called (with the job's arg) as soon as the new file is in place,
	 * before its command or reload; may be NULL. */
	void (*installed)(void *arg);
};

enum apply_stage { AS_NONE, AS_INSTALL, AS_CHECK, AS_COMMAND, AS_RELOAD };

struct apply_outcome {
	bool ok;               /* every step asked for succeeded */
	bool deferred;         /* a reload was needed, not allowed yet: nothing was done */
	bool changed;          /* the destination was written */
	bool runtime;          /* HAProxy changed through its runtime API, without a reload */
	bool reloaded;         /* HAProxy's reload was confirmed */
	bool fallback;         /* the runtime API refused; a reload followed */
	bool command_ran;
	enum apply_stage failed;
	char error[1024];
	size_t bytes;
};

/* Called once, from the loop, when the job has ended; o is borrowed for the
 * call and the job is freed right after. */
typedef void (*apply_done_fn)(const struct apply_outcome *o, void *arg);

/* Takes text[0..len) (copied) to o->install.dest.  allow_reload false: an
 * HAProxy configuration that needs a reload is not touched (the outcome is
 * deferred), so changes can wait out their quiescence; runtime changes go
 * ahead at once.  o and what it points to are borrowed until done.
 * Returns the job, or NULL on out of memory. */
struct apply_job *apply_start(struct loop *l, const struct apply_opts *o, const char *text, size_t len,
			      bool allow_reload, apply_done_fn done, void *arg);

/* Stops a job (its check or command killed, its staged file removed)
 * without calling done.  A reload already asked for goes on in HAProxy. */
void apply_cancel(struct apply_job *j);

#endif
