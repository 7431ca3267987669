/* sup: the supervisor: the policy across programs (start-up order and
 * readiness gates, on_fatal, SIGHUP reloads, shutdown in reverse start
 * order) and legate-init's exit code. */
#ifndef LEGATE_INIT_SUP_H
#define LEGATE_INIT_SUP_H

#include "init/conf.h"
#include "init/loop.h"
#include "init/program.h"

#include <stdbool.h>
#include <stdint.h>

struct ctl;

struct sup {
	const struct conf *conf;     /* borrowed */
	struct program *progs;       /* conf->nprogs of them */
	int n;
	int *order;                  /* indexes by priority, then file order */
	unsigned char *boot;         /* per program: enum boot (sup.c) */
	struct loop *loop;           /* borrowed */
	struct ctl *ctl;             /* borrowed; NULL without a control socket */
	bool booting;
	bool stopping;
	bool finished;               /* everything stopped: exit with exit_code */
	int exit_code;
};

/* Prepares the programs of conf (borrowed, as is loop); all allocation is
 * here.  Returns 0 or -1. */
int sup_init(struct sup *s, const struct conf *conf, struct loop *loop);
void sup_free(struct sup *s);

/* Applies policy after a batch of events: fires due timers, starts what
 * start-up order allows, applies on_fatal, drives a shutdown. */
void sup_step(struct sup *s);

/* One signal read from the signalfd. */
void sup_signal(struct sup *s, int sig);

/* Begins a shutdown that ends with exit code code (the first one wins). */
void sup_shutdown(struct sup *s, int code, const char *why);

/* The earliest deadline of any program or ctl client; 0: none. */
int64_t sup_deadline(const struct sup *s);

/* The program called name, or NULL. */
struct program *sup_find(struct sup *s, const char *name);

#endif
