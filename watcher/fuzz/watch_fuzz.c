/* watch_fuzz: libFuzzer target over the watcher's handling of Consul and
 * etcd answers, fed the way the watcher receives them.  The real watcher
 * (watch.c, consul.c, etcd.c) runs on a real loop; only the HTTP layer is
 * replaced by the stub below, which records the requests the watcher
 * starts and answers them from the input.  (http_header, which reads the
 * index headers, is the real one: http.c is built for this target with its
 * other functions renamed out of the way.)
 *
 * An input is CONFIG WATCHES RECORD... :
 *   CONFIG   bits 0-1: Consul only, etcd v3, etcd v2 for key. and tree.;
 *            bit 2: 5 connections (most watches then follow the triggers)
 *   WATCHES  one bit per name in `names` below
 *   RECORD   CTL PAYLOAD \0, one answer to a pending request:
 *            CTL bits 0-1: status 200, 404, 500, or no answer (a transport
 *            error; bit 3: a timeout); bit 2: PAYLOAD starts with an index
 *            line (X-Consul-Index and X-Etcd-Index); bits 4-7 pick the
 *            pending request.  \x01 in the body splits it into the chunks
 *            a stream (the etcd v3 watch) receives one by one. */
#include "common/buf.h"
#include "common/log.h"
#include "common/loop.h"
#include "watcher/http.h"
#include "watcher/watch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define MAX_RECORDS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the HTTP stub ---------------------------------------------------------- */

struct http {
	struct http_req *head, *tail;
	int n;
};

struct http_req {
	struct http *h;
	struct http_req *prev, *next;
	http_data_cb on_data;
	http_done_cb on_done;
	void *arg;
};

static struct http *all[2];

struct http *http_new(struct loop *l, const struct http_opts *opts, struct lg_error *err)
{
	struct http *h = calloc(1, sizeof *h);

	(void)l;
	(void)opts;
	if (!h)
		lg_error_set(err, NULL, 0, 0, "out of memory");
	else
		all[all[0] ? 1 : 0] = h;
	return h;
}

static void unlink_req(struct http_req *r)
{
	struct http *h = r->h;

	*(r->prev ? &r->prev->next : &h->head) = r->next;
	*(r->next ? &r->next->prev : &h->tail) = r->prev;
	h->n--;
	free(r);
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->head)
		unlink_req(h->head);
	if (all[0] == h)
		all[0] = NULL;
	if (all[1] == h)
		all[1] = NULL;
	free(h);
}

struct http_req *http_start(struct http *h, const struct http_call *c, struct lg_error *err)
{
	struct http_req *r = calloc(1, sizeof *r);

	if (!r) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	r->h = h;
	r->on_data = c->on_data;
	r->on_done = c->on_done;
	r->arg = c->arg;
	r->prev = h->tail;
	*(h->tail ? &h->tail->next : &h->head) = r;
	h->tail = r;
	h->n++;
	return r;
}

void http_cancel(struct http *h, struct http_req *r)
{
	(void)h;
	unlink_req(r);
}

int http_active(const struct http *h)
{
	return h->n;
}

/* Answers r from one record, as the real layer would: headers, then the
 * body (chunk by chunk to a stream), then done; r is freed after done. */
static void answer(struct http_req *r, uint8_t ctl, const char *p, size_t n)
{
	static const long codes[] = { 200, 404, 500, 0 };
	struct buf body = BUF_INIT, headers = BUF_INIT;
	struct http_result res;
	long status = codes[ctl & 3];
	int aborted = 0;

	if (status)
		buf_printf(&headers, "HTTP/1.1 %ld X\r\n", status);
	if (ctl & 4) {
		const char *nl = memchr(p, '\n', n);
		size_t l = nl ? (size_t)(nl - p) : n;

		buf_printf(&headers, "X-Consul-Index: %.*s\r\nX-Etcd-Index: %.*s\r\n", (int)l, p, (int)l, p);
		p += nl ? l + 1 : l;
		n -= nl ? l + 1 : l;
	}
	buf_puts(&headers, "Content-Type: application/json\r\n\r\n");
	while (status && n > 0 && !aborted) {
		const char *cut = memchr(p, '\x01', n);
		size_t l = cut ? (size_t)(cut - p) : n;

		buf_append(&body, p, l);
		p += cut ? l + 1 : l;
		n -= cut ? l + 1 : l;
		if (r->on_data && body.len && r->on_data(r, &body, r->arg) < 0)
			aborted = 1;
	}
	memset(&res, 0, sizeof res);
	res.ok = status && !aborted;
	res.status = status;
	res.timed_out = !status && (ctl & 8);
	res.error = aborted ? "aborted by the reader" : !status ? (res.timed_out ? "Operation timed out" :
				  "Could not connect to server") : "No error";
	res.body = &body;
	res.headers = &headers;
	r->on_done(r, &res, r->arg);
	unlink_req(r);
	buf_free(&body);
	buf_free(&headers);
}

/* ---- the run ---------------------------------------------------------------- */

static const char *const names[8] = {
	"services", "services~tag=haproxy@dc2", "service.web", "service.web~any~tag=primary",
	"nodes", "node.n1", "key.config/maxconn", "tree.config",
};

static struct loop *loop;
static struct loop_timer stop_timer;
static size_t seen;

static void on_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/* One loop turn: every timer due now runs (timers they arm, next turn). */
static void turn(void)
{
	loop_add_timer(loop, &stop_timer, 0);
	loop_run(loop);
}

static void changed(struct watch *w, void *arg)
{
	char *text = watch_text(w);   /* a new string now: freed here */

	(void)arg;
	seen += (text ? strlen(text) : 0) + (watch_data(w) != NULL);
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 2);
	log_set_level(LOG_LVL_ERROR);
	/* Each loop turn waits for a timer due now: no slack to wait out. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	loop = loop_new(0);
	if (!loop)
		abort();
	loop_timer_init(&stop_timer, on_stop, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watcher_opts o;
	struct watcher *wr;
	struct lg_error err;
	size_t off = 2;
	int i, added = 0;
	json_t *st;

	if (size < 2)
		return 0;
	memset(&o, 0, sizeof o);
	o.consul_addr = "127.0.0.1:1";
	if (data[0] & 3) {
		o.etcd_addr = "127.0.0.1:2";
		o.etcd_v2 = (data[0] & 3) == 2;
	}
	o.max_conns = data[0] & 4 ? 5 : 32;
	/* Every spacing and backoff is due on the next turn. */
	o.min_interval = o.backoff_min = o.backoff_max = 1e-6;
	wr = watcher_new(loop, &o, &err);
	if (!wr)
		abort();
	for (i = 0; i < 8; i++)
		if ((data[1] >> i) & 1 && watcher_add(wr, names[i], changed, NULL, &err))
			added++;
	if (!added)
		watcher_add(wr, names[0], changed, NULL, &err);
	for (int rec = 0; rec < MAX_RECORDS && off < size; rec++) {
		const uint8_t *z;
		size_t len;
		uint8_t ctl = data[off++];
		struct http_req *r;
		int pending;

		z = memchr(data + off, 0, size - off);
		len = z ? (size_t)(z - (data + off)) : size - off;
		turn();
		pending = (all[0] ? all[0]->n : 0) + (all[1] ? all[1]->n : 0);
		if (pending == 0)
			break;
		i = (ctl >> 4) % pending;
		if (all[0] && i >= all[0]->n) {
			i -= all[0]->n;
			r = all[1]->head;
		} else {
			r = (all[0] ? all[0] : all[1])->head;
		}
		while (i-- > 0)
			r = r->next;
		answer(r, ctl, (const char *)data + off, len);
		off += len + 1;
	}
	turn();
	turn();
	st = watcher_status(wr);
	json_decref(st);
	watcher_free(wr);
	return 0;
}
