/* single: the one-program form, like tini: runs one command, forwards
 * signals to it, reaps every zombie, exits with the command's code. */
#ifndef LEGATE_INIT_SINGLE_H
#define LEGATE_INIT_SINGLE_H

#include <signal.h>
#include <stdbool.h>

/* Runs argv (borrowed) in a process group of its own and returns its exit
 * code (128+N when signal N killed it; 126/127 when it cannot be run).
 * Every signal in *set but SIGCHLD is forwarded to the command, or to its
 * whole process group when group is true.  *set must already be blocked;
 * *old is the mask the command starts with. */
int single_run(char **argv, const sigset_t *set, const sigset_t *old, bool group);

#endif
