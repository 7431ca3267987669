/* ctl: the control socket: the server inside the supervisor (ctl.c) and the
 * client, `legate-init ctl` or a link named supervisorctl (ctlclient.c).
 * A request is one line of words; the answer is the lines supervisorctl
 * would print, then a last line "exit N" with its exit code. */
#ifndef LEGATE_INIT_CTL_H
#define LEGATE_INIT_CTL_H

#include "init/loop.h"
#include "init/sup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LEGATE_INIT_VERSION "0.2.0"

/* Connections served at once, and at most per client process (see
 * ctl_accept). */
#define CTL_CLIENTS 16
#define CTL_PER_PEER 4
#define CTL_LINE 512
#define CTL_WORDS 64

/* Exit codes, as supervisorctl gives them. */
enum { CTL_OK = 0, CTL_GENERIC = 1, CTL_INVALID_ARGS = 2, CTL_STATUS_NOT_RUNNING = 3,
       CTL_STATUS_UNKNOWN = 4, CTL_REFUSED = 4, CTL_NOT_RUNNING = 7 };

struct ctl_client {
	int fd;                  /* -1: free slot */
	struct init_watch w;
	size_t len;
	char buf[CTL_LINE];      /* the request; its words stay here while it runs */
	int64_t since;           /* accepted at */
	pid_t peer;              /* the client's pid */
	bool busy;               /* a complete request is being answered */
	int job;                 /* a command that waits on programs (ctl.c) */
	char *words[CTL_WORDS];
	int nwords, first, cursor;
	bool all, waiting;
	unsigned seq;            /* the target's start_seq when it was started */
	int exit;
};

struct ctl {
	int lfd;
	struct init_watch lw;
	char path[108];
	struct ctl_client cl[CTL_CLIENTS];
	struct conf *reread;     /* the configuration the last reread saw */
};

/* Binds path (replacing a stale socket) with the mode and owner conf
 * gives, and watches it.  Returns 0, or -1 with errno. */
int ctl_listen(struct ctl *c, const struct conf *conf, struct init_loop *l);

/* Accepts waiting clients (INIT_TAG_CTL_LISTEN). */
void ctl_accept(struct ctl *c, struct init_loop *l);

/* Reads from a client (INIT_TAG_CTL_CLIENT; owner is the client) and
 * answers a complete request. */
void ctl_input(struct ctl *c, struct ctl_client *cl, struct sup *s);

/* Moves on requests that wait for programs and drops clients that send
 * nothing; called after each sup_step. */
void ctl_step(struct ctl *c, struct sup *s);

/* The earliest idle-client deadline; 0: none. */
int64_t ctl_deadline(const struct ctl *c);

/* Closes every client and the socket, and removes it. */
void ctl_close(struct ctl *c, struct init_loop *l);

/* `legate-init ctl ...` (argv[0] is "ctl") or supervisorctl (as_supervisorctl):
 * supervisorctl's options and commands; with no command, an interactive
 * prompt.  sock is -S given before "ctl", or NULL.  Returns the exit code. */
int ctl_client_main(int argc, char **argv, const char *sock, bool as_supervisorctl);

#endif
