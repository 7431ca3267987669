/* events: the listener protocol as supervisord speaks it.  A listener says
 * "READY\n"; it then gets one envelope, a header line
 * "ver:3.0 server:S serial:N pool:P poolserial:N eventname:E len:N" and
 * len bytes of payload; it answers "RESULT N\n" and N bytes, "OK" to take
 * the event (anything else sends it again later), and says READY again.
 * Output that breaks the protocol puts it in the UNKNOWN state, where it
 * gets nothing more until it is restarted.  Every buffer is allocated when
 * the listener is set up; the queue drops its oldest event when full. */
#include "init/events.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned serial_counter;

unsigned events_next_serial(void)
{
	return ++serial_counter;
}

int listener_init(struct listener *ls, const struct prog_conf *c, void *owner)
{
	memset(ls, 0, sizeof *ls);
	ls->pool = c->name;
	ls->in_fd = ls->out_fd = -1;
	ls->in_w = (struct init_watch){ INIT_TAG_EV_IN, owner };
	ls->out_w = (struct init_watch){ INIT_TAG_EV_OUT, owner };
	ls->cap = c->buffer_size > 0 ? c->buffer_size : 10;
	ls->result_len = -1;
	ls->q = calloc((size_t)ls->cap, sizeof *ls->q);
	return ls->q ? 0 : -1;
}

void listener_free(struct listener *ls)
{
	free(ls->q);
	ls->q = NULL;
}

static void push(struct listener *ls, const struct ev_item *it, bool at_head)
{
	if (ls->n == ls->cap) {
		log_error("%s: event buffer overflowed, discarding event %u", ls->pool, ls->q[ls->head].serial);
		ls->discarded++;
		ls->head = (ls->head + 1) % ls->cap;
		ls->n--;
	}
	if (at_head) {
		ls->head = (ls->head + ls->cap - 1) % ls->cap;
		ls->q[ls->head] = *it;
	} else {
		ls->q[(ls->head + ls->n) % ls->cap] = *it;
	}
	ls->n++;
}

void listener_accept(struct listener *ls, unsigned serial, const char *name, const char *payload)
{
	struct ev_item it;

	it.serial = serial;
	it.pool_serial = ++ls->pool_serial;
	snprintf(it.name, sizeof it.name, "%s", name);
	int n = snprintf(it.payload, sizeof it.payload, "%s", payload);
	it.len = (unsigned short)(n < (int)sizeof it.payload ? n : (int)sizeof it.payload - 1);
	push(ls, &it, false);
}

static void close_fd(int *fd, struct init_loop *l)
{
	if (*fd >= 0) {
		init_loop_del(l, *fd);
		close(*fd);
		*fd = -1;
	}
}

int listener_prepare(struct listener *ls, struct init_loop *l, int *child_in, int *child_out)
{
	int in[2], out[2], e;

	listener_stop(ls, l);
	*child_in = *child_out = -1;
	if (pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) {
		e = errno;
		close(in[0]);
		close(in[1]);
		errno = e;
		return -1;
	}
	/* The child's ends block, as its stdin and stdout would. */
	fcntl(in[0], F_SETFL, 0);
	fcntl(out[1], F_SETFL, 0);
	if (init_loop_add(l, out[0], &ls->out_w, false) < 0) {
		e = errno;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		errno = e;
		return -1;
	}
	ls->in_fd = in[1];
	ls->out_fd = out[0];
	ls->state = LISTENER_ACKNOWLEDGED;
	ls->rlen = 0;
	ls->result_len = -1;
	ls->skip = 0;
	ls->wlen = ls->woff = 0;
	*child_in = in[0];
	*child_out = out[1];
	return 0;
}

static void requeue_inflight(struct listener *ls)
{
	if (!ls->has_inflight)
		return;
	log_debug("%s: event %u goes back to the queue", ls->pool, ls->inflight.serial);
	push(ls, &ls->inflight, true);
	ls->has_inflight = false;
}

void listener_stop(struct listener *ls, struct init_loop *l)
{
	/* The in-pipe is watched only while a write is pending. */
	if (ls->in_watched)
		init_loop_del(l, ls->in_fd);
	ls->in_watched = false;
	if (ls->in_fd >= 0)
		close(ls->in_fd);
	ls->in_fd = -1;
	close_fd(&ls->out_fd, l);
	ls->wlen = ls->woff = 0;
	requeue_inflight(ls);
	ls->state = LISTENER_ACKNOWLEDGED;
}

static void unknown(struct listener *ls, const char *why)
{
	log_warn("%s: %s; the listener gets no more events until it restarts (UNKNOWN)", ls->pool, why);
	ls->state = LISTENER_UNKNOWN;
	ls->rlen = 0;
	requeue_inflight(ls);
}

static void consume(struct listener *ls, size_t n)
{
	memmove(ls->rbuf, ls->rbuf + n, ls->rlen - n);
	ls->rlen -= n;
}

/* Reads the protocol tokens out of rbuf, as far as they go. */
static void parse(struct listener *ls)
{
	for (;;) {
		if (ls->skip > 0) {
			size_t k = (size_t)ls->skip < ls->rlen ? (size_t)ls->skip : ls->rlen;
			consume(ls, k);
			ls->skip -= (long)k;
			if (ls->skip > 0)
				return;
		}
		switch (ls->state) {
		case LISTENER_UNKNOWN:
			ls->rlen = 0;
			return;
		case LISTENER_READY:
			if (ls->rlen)
				unknown(ls, "output while waiting for an event");
			return;
		case LISTENER_ACKNOWLEDGED:
			if (ls->rlen < 6)
				return;
			if (memcmp(ls->rbuf, "READY\n", 6) != 0) {
				unknown(ls, "output other than READY");
				return;
			}
			consume(ls, 6);
			ls->state = LISTENER_READY;
			continue;
		case LISTENER_BUSY:
			if (ls->result_len < 0) {
				char *nl = memchr(ls->rbuf, '\n', ls->rlen), *end;
				if (!nl) {
					if (ls->rlen == sizeof ls->rbuf)
						unknown(ls, "a result line too long");
					return;
				}
				*nl = 0;
				long len = strncmp(ls->rbuf, "RESULT ", 7) == 0 ? strtol(ls->rbuf + 7, &end, 10) : -1;
				if (len < 0 || (len >= 0 && *end)) {
					unknown(ls, "a bad result line");
					return;
				}
				ls->result_len = len;
				consume(ls, (size_t)(nl - ls->rbuf) + 1);
			}
			if ((size_t)ls->result_len > ls->rlen && ls->rlen < sizeof ls->rbuf)
				return;
			bool ok = ls->result_len == 2 && memcmp(ls->rbuf, "OK", 2) == 0;
			if ((size_t)ls->result_len > ls->rlen) {
				ls->skip = ls->result_len - (long)ls->rlen;
				ls->rlen = 0;
			} else {
				consume(ls, (size_t)ls->result_len);
			}
			ls->result_len = -1;
			if (ok) {
				ls->has_inflight = false;
			} else {
				log_warn("%s: rejected event %u; it is sent again later", ls->pool,
					 ls->inflight.serial);
				requeue_inflight(ls);
			}
			ls->state = LISTENER_ACKNOWLEDGED;
			continue;
		}
	}
}

static void flush_write(struct listener *ls, struct init_loop *l)
{
	while (ls->woff < ls->wlen) {
		ssize_t n = write(ls->in_fd, ls->wbuf + ls->woff, ls->wlen - ls->woff);
		if (n > 0) {
			ls->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!ls->in_watched && init_loop_add(l, ls->in_fd, &ls->in_w, true) == 0)
				ls->in_watched = true;
			return;
		}
		/* The listener closed its stdin: the event waits for its restart. */
		if (ls->in_watched)
			init_loop_del(l, ls->in_fd);
		ls->in_watched = false;
		ls->wlen = ls->woff = 0;
		unknown(ls, "its stdin is closed");
		return;
	}
	if (ls->in_watched)
		init_loop_del(l, ls->in_fd);
	ls->in_watched = false;
	ls->wlen = ls->woff = 0;
}

void listener_io(struct listener *ls, enum init_tag tag, struct init_loop *l)
{
	if (tag == INIT_TAG_EV_IN) {
		if (ls->in_fd >= 0)
			flush_write(ls, l);
		return;
	}
	while (ls->out_fd >= 0) {
		ssize_t n = read(ls->out_fd, ls->rbuf + ls->rlen, sizeof ls->rbuf - ls->rlen);
		if (n > 0) {
			ls->rlen += (size_t)n;
			parse(ls);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_fd(&ls->out_fd, l);   /* end of file: the exit follows */
		return;
	}
}

void listener_dispatch(struct listener *ls, struct init_loop *l, const char *server)
{
	if (ls->state != LISTENER_READY || ls->n == 0 || ls->in_fd < 0 || ls->wlen)
		return;
	ls->inflight = ls->q[ls->head];
	ls->has_inflight = true;
	ls->head = (ls->head + 1) % ls->cap;
	ls->n--;
	int n = snprintf(ls->wbuf, sizeof ls->wbuf,
			 "ver:3.0 server:%.40s serial:%u pool:%s poolserial:%u eventname:%s len:%u\n",
			 server, ls->inflight.serial, ls->pool, ls->inflight.pool_serial,
			 ls->inflight.name, (unsigned)ls->inflight.len);
	memcpy(ls->wbuf + n, ls->inflight.payload, ls->inflight.len);
	ls->wlen = (size_t)n + ls->inflight.len;
	ls->woff = 0;
	ls->state = LISTENER_BUSY;
	ls->result_len = -1;
	log_debug("%s: event %u (%s) sent", ls->pool, ls->inflight.serial, ls->inflight.name);
	flush_write(ls, l);
}
