/* sup: the supervisor: the policy across programs (start-up order and
 * readiness gates, on_fatal, SIGHUP reloads, shutdown in reverse start
 * order, updates to a re-read configuration), the events its listeners
 * get, and legate-init's exit code. */
#ifndef LEGATE_INIT_SUP_H
#define LEGATE_INIT_SUP_H

#include "init/conf.h"
#include "init/loop.h"
#include "init/program.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* How a program in a re-read configuration compares with the running one. */
enum sup_change { SUP_SAME, SUP_ADDED, SUP_CHANGED, SUP_REMOVED };

struct sup {
	struct conf *conf;           /* owned: the running configuration */
	struct program **progs;      /* n of them, each allocated on its own */
	int n;
	int *order;                  /* start order: dependencies, priority, name */
	int *by_name;                /* indexes in name order, for status */
	struct init_loop *loop;      /* borrowed */
	struct program_hooks hooks;
	bool booting;
	bool stopping;
	bool finished;               /* everything stopped: exit with exit_code */
	int64_t stop_started_ms;
	bool announced;              /* SUPERVISOR_STATE_CHANGE_RUNNING sent */
	int exit_code;
	bool wants_ticks;            /* a listener subscribes to TICK events */
	time_t tick_last[3];
	struct conf *next;           /* an update waiting for programs to stop */
	signed char *plan;           /* per program of next: what the update does */
	struct prog_conf **merged;   /* room, in next, for the settings the update keeps */
	struct program **new_progs;  /* the tables after the update, allocated up front */
	int new_cap;
	int *new_order, *new_by_name;
	bool update_done;            /* set when an update has been applied */
};

/* Takes ownership of conf (allocated by the caller, freed by sup_free)
 * and prepares its programs; loop is borrowed.  All allocation of the
 * steady state is here.  Returns 0 or -1. */
int sup_init(struct sup *s, struct conf *conf, struct init_loop *loop);
void sup_free(struct sup *s);

/* Applies policy after a batch of events: fires due timers, starts what
 * start-up order allows, applies on_fatal, drives a shutdown or an update,
 * sends listeners their events. */
void sup_step(struct sup *s);

/* One signal read from the signalfd. */
void sup_signal(struct sup *s, int sig);

/* Begins a shutdown that ends with exit code code (the first one wins). */
void sup_shutdown(struct sup *s, int code, const char *why);

/* The earliest deadline of any program or tick; 0: none. */
int64_t sup_deadline(const struct sup *s);

/* The program called name, or NULL. */
struct program *sup_find(struct sup *s, const char *name);

/* Starts a program that is not running; a program that start-up order
 * holds back is started at once. */
void sup_start(struct sup *s, struct program *p);

/* How program name of the re-read configuration next compares with the
 * running one. */
enum sup_change sup_compare(const struct sup *s, const struct conf *next, const char *name);

/* Begins an update to next (ownership taken): the programs it removes or
 * changes are stopped first; then changed and added ones are set up and
 * started as autostart says, unchanged ones keep running.  With names
 * (count n, borrowed for the call), only those programs are touched.
 * update_done is set once it has been applied.  Returns 0, or -1 when an
 * update is already under way (next is freed). */
int sup_update(struct sup *s, struct conf *next, char *const *names, int n);

/* supervisord's restart: every program is stopped, then next (ownership
 * taken) replaces the configuration and its programs start.  Returns 0,
 * or -1 (next freed) during a shutdown or another update. */
int sup_restart_all(struct sup *s, struct conf *next);

/* Takes a program that does not run out of the supervisor (ctl remove);
 * its settings stay in the configuration, where update finds them again. */
void sup_remove(struct sup *s, struct program *p);

#endif
