/* sigs: signal names, the set of signals legate-init takes as events, and
 * the reset a forked child does before exec. */
#ifndef LEGATE_INIT_SIGS_H
#define LEGATE_INIT_SIGS_H

#include <signal.h>
#include <stdint.h>

/* Parses "TERM", "SIGTERM", "term" or "15".  Returns the signal number, or
 * -1 when the text names no signal. */
int sig_parse(const char *s);

/* Returns the short name ("TERM") of a signal, or "?" for one without a
 * name in the table. */
const char *sig_name(int sig);

/* Blocks every signal, fills *set with the blocked set, ready for
 * signalfd, and *old with the previous mask, for children.  Signals a
 * fault raises (SEGV, BUS, ...) are blocked too: sent by another process
 * they are events like any other, while a real fault still ends the
 * process, as the kernel forces those through.  Dispositions are left
 * alone, so a child inherits what legate-init was started with.
 * Returns 0 or -1. */
int sig_setup(sigset_t *set, sigset_t *old);

/* In a forked child, before exec: the mask legate-init was started with. */
void sig_child_reset(const sigset_t *old);

/* The shell's view of a wait status: the exit code, or 128+signal. */
int sig_exit_code(int status);

#endif
