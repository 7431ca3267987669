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

/* Blocks every signal except those a fault raises synchronously (SEGV,
 * BUS, FPE, ILL, TRAP, SYS, ABRT) and fills *set with the blocked set, ready
 * for signalfd; *old receives the previous mask, for children.  SIGPIPE is
 * ignored so that a write to a gone peer fails with EPIPE.  Returns 0 or -1. */
int sig_setup(sigset_t *set, sigset_t *old);

/* In a forked child, before exec: default dispositions and the mask legate-init
 * was started with. */
void sig_child_reset(const sigset_t *old);

/* The shell's view of a wait status: the exit code, or 128+signal. */
int status_code(int status);

/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);

#endif
