/* program: one supervised program's state machine, supervisord's states
 * with RUNNING meaning "ready": it spawns, stops, backs off and gives up. */
#ifndef LEGATE_INIT_PROGRAM_H
#define LEGATE_INIT_PROGRAM_H

#include "init/conf.h"
#include "init/events.h"
#include "init/logio.h"
#include "init/loop.h"
#include "init/ready.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum prog_state { PROG_STOPPED, PROG_STARTING, PROG_RUNNING, PROG_BACKOFF, PROG_STOPPING,
		  PROG_EXITED, PROG_FATAL };

enum prog_event {
	PEV_START,    /* asked to run (start-up or ctl) */
	PEV_STOP,     /* asked to stop */
	PEV_READY,    /* a readiness probe fired */
	PEV_EXIT,     /* the process was reaped; arg is the wait status */
	PEV_TIMER,    /* deadline_ms has passed */
};

/* Delays between failed starts: PROG_BACKOFF_MIN_MS, doubling, at most
 * PROG_BACKOFF_MAX_MS. */
#define PROG_BACKOFF_MIN_MS 500
#define PROG_BACKOFF_MAX_MS 30000
/* How often the ready_file and ready_tcp probes look. */
#define PROG_PROBE_MS 100

struct program;

/* What the supervisor hears from its programs. */
struct program_hooks {
	/* After every change of state; from is the state left. */
	void (*changed)(void *ctx, struct program *p, enum prog_state from);
	void *ctx;
};

struct program {
	const struct prog_conf *c;    /* borrowed from the supervisor's confs */
	const struct program_hooks *hooks;
	enum prog_state state;
	pid_t pid;                    /* 0: no process */
	pid_t last_pid;               /* of the last process, for events */
	int64_t spawned_ms;           /* when the current process started */
	int64_t changed_ms;           /* when state last changed */
	int64_t deadline_ms;          /* next PEV_TIMER; 0: none */
	int64_t ready_by_ms;          /* ready_timeout's deadline while STARTING; 0: none */
	time_t stopped_at;            /* wall clock of the last exit, for status */
	int retries;                  /* failed starts in a row */
	int restarts;                 /* starts after the first */
	bool started_once;
	bool has_status;
	int last_status;              /* wait status of the last exit */
	bool exit_expected;           /* the last exit was one of exitcodes */
	bool done;                    /* a oneshot that exited 0 */
	bool restart_after_stop;      /* ctl restart: start again once stopped */
	bool fatal_handled;           /* the supervisor has applied on_fatal */
	bool removing;                /* an update takes it away once stopped */
	unsigned char boot;           /* the supervisor's start-up mark */
	unsigned start_seq;           /* loop.seq at the last start */
	char spawnerr[160];           /* why the last start failed, for status */
	struct ready_probe ready;
	struct relay out, err;
	struct listener *ev;          /* an [eventlistener:]'s protocol; NULL otherwise */
};

/* Prepares p for conf entry c (borrowed) and allocates its buffers; hooks
 * is borrowed.  Returns 0 or -1 (free with program_free either way). */
int program_init(struct program *p, const struct prog_conf *c, const struct program_hooks *hooks);
void program_free(struct program *p);

/* Points p at c, a new copy of the same settings (an update that left
 * the program unchanged), wherever p borrows from its conf. */
void program_rebind(struct program *p, const struct prog_conf *c);

/* Feeds one event to the state machine. */
void program_event(struct program *p, enum prog_event ev, int arg, struct init_loop *l);

/* Handles readiness on one of the program's descriptors. */
void program_io(struct program *p, enum init_tag tag, struct init_loop *l);

/* Sends sig to the program's process (its group when group is true);
 * returns 0, or -1 with errno (ESRCH when it does not run). */
int program_kill(const struct program *p, int sig, bool group);

/* "STOPPED", "RUNNING", ... */
const char *program_state_name(enum prog_state s);

/* The exit code a wait status stands for in legate-init's own exit code:
 * the code, or 128+signal; 1 when there is none or it was 0. */
int program_fail_code(const struct program *p);

/* Writes "exit 3", "signal KILL" or "-" for the last exit into buf. */
void program_last_exit(const struct program *p, char *buf, size_t n);

/* Writes supervisorctl's description of the program's state: "pid 12,
 * uptime 0:01:02", the time it stopped, "Not started", or why it failed. */
void program_describe(const struct program *p, char *buf, size_t n);

#endif
