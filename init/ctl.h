/* ctl: the control socket: the server side inside the supervisor and the
 * `legate-init ctl` client.  The protocol is one request line, a few reply
 * lines, and a last line "ok" or "error: MESSAGE". */
#ifndef LEGATE_INIT_CTL_H
#define LEGATE_INIT_CTL_H

#include "init/loop.h"

#include <stddef.h>
#include <stdint.h>

#define CTL_CLIENTS 8
#define CTL_LINE 256

struct sup;

struct ctl_client {
	int fd;                  /* -1: free slot */
	size_t len;
	char buf[CTL_LINE];
	int64_t deadline;        /* to send a complete request */
	int pending;             /* an answer that waits on a program (ctl.c) */
	int prog;
	unsigned seq;            /* the program's start_seq when asked */
};

struct ctl {
	int lfd;
	char path[108];
	struct ctl_client cl[CTL_CLIENTS];
	char *reply;             /* room for a status of every program */
	size_t cap;
};

/* Binds path (replacing a stale socket), mode 0600, and watches it.
 * Allocates the reply buffer for nprogs programs.  Returns 0, or -1 with
 * errno. */
int ctl_listen(struct ctl *c, const char *path, int nprogs, struct loop *l);

/* Accepts a waiting client (TAG_CTL_LISTEN). */
void ctl_accept(struct ctl *c, struct loop *l);

/* Reads from client slot (TAG_CTL_CLIENT) and answers a complete request. */
void ctl_input(struct ctl *c, int slot, struct sup *s);

/* Answers requests that waited for a program and drops idle clients. */
void ctl_step(struct ctl *c, struct sup *s);

/* The earliest idle-client deadline; 0: none. */
int64_t ctl_deadline(const struct ctl *c);

/* Closes every client and the socket, and removes it. */
void ctl_close(struct ctl *c, struct loop *l);

/* `legate-init ctl ...`: argv[0] is "ctl".  Returns the exit code: 0 ok,
 * 1 the command failed, 2 usage, 3 no supervisor at the socket. */
int ctl_client_main(int argc, char **argv, const char *sock);

#endif
