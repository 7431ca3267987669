/* events: supervisord's event listener protocol for one [eventlistener:]
 * program: a bounded queue of events, the listener's state (ACKNOWLEDGED,
 * READY, BUSY, UNKNOWN), the envelope written to its stdin and the READY
 * and RESULT tokens read from its stdout. */
#ifndef LEGATE_INIT_EVENTS_H
#define LEGATE_INIT_EVENTS_H

#include "init/conf.h"
#include "init/loop.h"

#include <stdbool.h>
#include <stddef.h>

#define EV_NAME_LEN 40
#define EV_PAYLOAD_LEN 320

struct ev_item {
	unsigned serial, pool_serial;
	char name[EV_NAME_LEN];
	char payload[EV_PAYLOAD_LEN];
	unsigned short len;
};

enum listener_state { LISTENER_ACKNOWLEDGED, LISTENER_READY, LISTENER_BUSY, LISTENER_UNKNOWN };

struct listener {
	const char *pool;          /* the listener's name (borrowed) */
	enum listener_state state;
	int in_fd, out_fd;         /* our ends of its stdin and stdout; -1 */
	struct init_watch in_w, out_w;
	struct ev_item *q;         /* a ring of cap events, allocated once */
	int cap, head, n;
	struct ev_item inflight;   /* sent, waiting for its RESULT */
	bool has_inflight;
	unsigned pool_serial;
	char wbuf[EV_NAME_LEN + EV_PAYLOAD_LEN + 320];
	size_t wlen, woff;
	bool in_watched;           /* waiting for room in its stdin */
	char rbuf[128];
	size_t rlen;
	long result_len;           /* -1: waiting for "RESULT N\n" */
	long skip;                 /* bytes of an overlong result still to drop */
	unsigned long discarded;
};

/* Prepares a listener for program c (borrowed) with room for its
 * buffer_size events; owner is what the loop reports.  Returns 0 or -1. */
int listener_init(struct listener *ls, const struct prog_conf *c, void *owner);
void listener_free(struct listener *ls);

/* A new global serial number for an event. */
unsigned events_next_serial(void);

/* Queues an event (name and payload copied); the oldest waiting one is
 * dropped, with an error, when the queue is full. */
void listener_accept(struct listener *ls, unsigned serial, const char *name, const char *payload);

/* Before the listener's fork: pipes for its stdin and stdout, our ends
 * watched.  *child_in and *child_out receive the child's ends.  Returns 0,
 * or -1 with errno. */
int listener_prepare(struct listener *ls, struct init_loop *l, int *child_in, int *child_out);

/* The listener's process is gone: closes the pipes; an event it had not
 * answered goes back to the head of the queue. */
void listener_stop(struct listener *ls, struct init_loop *l);

/* Its stdout has data (INIT_TAG_EV_OUT) or its stdin has room again
 * (INIT_TAG_EV_IN). */
void listener_io(struct listener *ls, enum init_tag tag, struct init_loop *l);

/* Sends the oldest queued event when the listener is READY; server is the
 * [supervisord] identifier for the envelope. */
void listener_dispatch(struct listener *ls, struct init_loop *l, const char *server);

#endif
