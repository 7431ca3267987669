/* single: the one-program form, with tini's and dumb-init's behaviours:
 * runs one command, forwards signals to it, reaps every zombie, exits
 * with the command's code. */
#ifndef LEGATE_INIT_SINGLE_H
#define LEGATE_INIT_SINGLE_H

#include <signal.h>
#include <stdbool.h>

/* How the one command is run; main fills it from the flags and the
 * environment. */
struct single_opts {
	bool group;            /* tini -g: signals go to the command's process group */
	bool setsid;           /* dumb-init's default mode, see single.c */
	bool warn_reap;        /* tini -w: a warning for each reaped zombie */
	int rewrite[32];       /* dumb-init -r: signal N is sent as rewrite[N]
				  (0: not at all; -1: as it is) */
	unsigned char expect[32];  /* tini -e: exit codes reported as 0 (a bit set) */
};

/* Defaults: no rewrites, nothing remapped, tini's mode. */
void single_opts_init(struct single_opts *o);

/* Runs argv (borrowed) and returns its exit code as the container's: the
 * command's code, 128+N when signal N killed it, 126/127 when it cannot
 * be run, remapped to 0 by expect.  *set must already be blocked; *old is
 * the mask the command starts with. */
int single_run(char **argv, const struct single_opts *o, const sigset_t *set, const sigset_t *old);

#endif
