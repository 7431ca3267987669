/* ready: the readiness probes: a line on the notification fd (ready_fd),
 * a file that appears (ready_file), a TCP port that accepts (ready_tcp). */
#ifndef LEGATE_INIT_READY_H
#define LEGATE_INIT_READY_H

#include "init/loop.h"
#include "init/program.h"

#include <stdbool.h>

/* True when the program has a probe; without one, readiness is startsecs. */
bool ready_has_probe(const struct prog_conf *c);

/* Before fork: removes a stale ready_file and opens the ready_fd pipe,
 * watching its read end.  *child_end receives the write end (or -1) for
 * the child to move onto ready_fd.  Returns 0, or -1 with errno. */
int ready_prepare(struct program *p, struct loop *l, int *child_end);

/* Polls the file and TCP probes; returns true when the program is ready. */
bool ready_poll(struct program *p, struct loop *l);

/* Input on the ready_fd pipe (TAG_READY) or the TCP probe's socket
 * (TAG_TCP); returns true when the program is ready. */
bool ready_io(struct program *p, enum tag tag, struct loop *l);

/* Closes whatever the probes hold open. */
void ready_close(struct program *p, struct loop *l);

#endif
