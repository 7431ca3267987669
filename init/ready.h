/* ready: the readiness probes: a line on the notification fd (ready_fd),
 * a file that appears (ready_file), a TCP port that accepts (ready_tcp). */
#ifndef LEGATE_INIT_READY_H
#define LEGATE_INIT_READY_H

#include "init/conf.h"
#include "init/loop.h"

#include <stdbool.h>

/* One program's probe state; owner is what the loop reports it with. */
struct ready_probe {
	int rfd;                  /* ready_fd pipe, read end; -1 */
	int tcp_fd;               /* ready_tcp connect in progress; -1 */
	struct init_watch rw, tw;
};

/* Prepares an idle probe whose events name owner. */
void ready_init(struct ready_probe *r, void *owner);

/* True when the program has a probe; without one, readiness is startsecs. */
bool ready_has_probe(const struct prog_conf *c);

/* Before fork: removes a stale ready_file and opens the ready_fd pipe,
 * watching its read end.  *child_end receives the write end (or -1) for
 * the child to move onto ready_fd.  Returns 0, or -1 with errno. */
int ready_prepare(struct ready_probe *r, const struct prog_conf *c, struct init_loop *l,
		  int *child_end);

/* Polls the file and TCP probes; returns true when the program is ready. */
bool ready_poll(struct ready_probe *r, const struct prog_conf *c, struct init_loop *l);

/* Input on the ready_fd pipe (INIT_TAG_READY) or the TCP probe's socket
 * (INIT_TAG_TCP); returns true when the program is ready. */
bool ready_io(struct ready_probe *r, enum init_tag tag, struct init_loop *l);

/* Closes whatever the probe holds open. */
void ready_close(struct ready_probe *r, struct init_loop *l);

#endif
