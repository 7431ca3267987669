/* program: one supervised program's state machine, supervisord's states
 * with RUNNING meaning "ready": it spawns, stops, backs off and gives up. */
#ifndef LEGATE_INIT_PROGRAM_H
#define LEGATE_INIT_PROGRAM_H

#include "init/conf.h"
#include "init/logio.h"
#include "init/loop.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum state { ST_STOPPED, ST_STARTING, ST_RUNNING, ST_BACKOFF, ST_STOPPING, ST_EXITED, ST_FATAL };

enum event {
	EV_START,     /* asked to run (start-up or ctl) */
	EV_STOP,      /* asked to stop */
	EV_READY,     /* a readiness probe fired */
	EV_EXIT,      /* the process was reaped; arg is the wait status */
	EV_TIMER,     /* deadline_ms has passed */
};

/* Delays between failed starts: BACKOFF_MIN_MS, doubling, at most BACKOFF_MAX_MS. */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* How often the ready_file and ready_tcp probes look. */
#define PROBE_MS 100

struct program {
	const struct prog_conf *c;    /* borrowed from the conf */
	int idx;
	enum state state;
	pid_t pid;                    /* 0: no process */
	int64_t spawned_ms;           /* when the current process started */
	int64_t changed_ms;           /* when state last changed */
	int64_t deadline_ms;          /* next EV_TIMER; 0: none */
	int64_t ready_by_ms;          /* ready_timeout's deadline while STARTING; 0: none */
	int retries;                  /* failed starts in a row */
	int restarts;                 /* starts after the first */
	bool started_once;
	bool has_status;
	int last_status;              /* wait status of the last exit */
	bool done;                    /* a oneshot that exited 0 */
	bool restart_after_stop;      /* ctl restart: start again once stopped */
	bool fatal_handled;           /* the supervisor has applied on_fatal */
	unsigned start_seq;           /* loop.seq at the last start */
	int ready_rfd;                /* ready_fd pipe, read end; -1 */
	int tcp_fd;                   /* ready_tcp connect in progress; -1 */
	int64_t next_probe_ms;
	struct relay out, err;
};

/* Prepares p for conf entry c (borrowed); allocates its relay buffers.
 * Returns 0 or -1. */
int program_init(struct program *p, const struct prog_conf *c, int idx);
void program_free(struct program *p);

/* Feeds one event to the state machine. */
void program_event(struct program *p, enum event ev, int arg, struct loop *l);

/* Handles input on one of the program's descriptors (tag TAG_READY,
 * TAG_TCP, TAG_OUT or TAG_ERR). */
void program_io(struct program *p, enum tag tag, struct loop *l);

/* Sends sig to the program's process (its group when group is true);
 * returns 0, or -1 with errno (ESRCH when it does not run). */
int program_kill(const struct program *p, int sig, bool group);

const char *state_name(enum state s);

/* The exit code a wait status stands for in legate-init's own exit code:
 * the code, or 128+signal; 1 when there is none or it was 0. */
int program_fail_code(const struct program *p);

/* Writes "exit 3", "signal KILL" or "-" for the last exit into buf. */
void program_last_exit(const struct program *p, char *buf, size_t n);

#endif
