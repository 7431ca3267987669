/* etcd: key. and tree. watches on etcd, however many, on a bounded number
 * of calls: the backend's calls, each watch's key -> value map shaped like
 * Consul KV, and the first reads (v3: up to 64 ranges in one txn; v2: one
 * GET each) with a few in flight; etcd_stream.c follows them afterwards. */
#include "watcher/etcd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "watcher/data.h"
#include "watcher/etcd_conn.h"
#include "watcher/etcd_int.h"

void etcd_kick(struct etcd_hub *hub)
{
	if (!hub->kick.armed)
		loop_add_timer(hub->wr->loop, &hub->kick, 0);
}

/* --- keys and data -------------------------------------------------------- */

/* etcd keys are paths: "key.config/x" is "/config/x". */
static int etcd_key(const struct watch *w, struct buf *b)
{
	if (w->n.arg[0] != '/' && buf_putc(b, '/') < 0)
		return -1;
	return buf_puts(b, w->n.arg);
}

int etcd_prefix_end(struct buf *out, const char *prefix, size_t n)
{
	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (n == 0)
		return buf_append(out, "", 1);
	if (buf_append(out, prefix, n - 1) < 0)
		return -1;
	return buf_putc(out, (char)((unsigned char)prefix[n - 1] + 1));
}

/* The watch's data from its key -> value map. */
static json_t *shape(const struct watch *w)
{
	const struct ew *ew = (const struct ew *)w->be;
	json_t *out, *v;
	const char *key;

	if (w->n.kind == WK_KEY) {
		v = json_object_get(w->kv, ew->key);
		return v ? json_incref(v) : json_null();
	}
	out = json_array();
	json_object_foreach(w->kv, key, v)
		json_array_append_new(out, json_pack("{s:s, s:s, s:O}", "key", data_relative_key(key, ew->key),
						     "path", key, "value", v));
	return data_sort_by(out, "key", NULL);
}

uint64_t etcd_num(const json_t *j)
{
	if (json_is_integer(j))
		return (uint64_t)json_integer_value(j);
	if (json_is_string(j))
		return strtoull(json_string_value(j), NULL, 10);
	return 0;
}

json_t *etcd_parse_body(const struct http_result *res, json_error_t *jerr)
{
	return json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, jerr);
}

/* --- lists ---------------------------------------------------------------- */

void etcd_ewl_add(struct ewlist *l, struct ew *ew)
{
	ew->next = NULL;
	ew->prev = l->tail;
	if (l->tail)
		l->tail->next = ew;
	else
		l->head = ew;
	l->tail = ew;
	l->n++;
}

void etcd_ewl_del(struct ewlist *l, struct ew *ew)
{
	if (ew->prev)
		ew->prev->next = ew->next;
	else
		l->head = ew->next;
	if (ew->next)
		ew->next->prev = ew->prev;
	else
		l->tail = ew->prev;
	ew->prev = ew->next = NULL;
	l->n--;
}

/* Takes the watch out of whatever list or read holds it. */
static void ew_detach(struct etcd_hub *hub, struct ew *ew)
{
	if (ew->where == EW_QUEUED)
		etcd_ewl_del(&hub->queue, ew);
	else if (ew->where == EW_SUB)
		etcd_ewl_del(&hub->subs, ew);
	else if (ew->where == EW_READING && ew->read)
		ew->read->ws[ew->slot] = NULL;
	ew->where = EW_NONE;
	ew->read = NULL;
}

/* --- reading ------------------------------------------------------------- */

/* A full read replaces the watch's map: takes map, records the revision
 * or index, reports the data; the watch's next start subscribes it. */
static void full_read_done(struct watch *w, json_t *map, uint64_t rev, const char *what)
{
	if (rev < w->index)
		log_info_at("watch", w->name, "%s went backwards (%llu -> %llu)", what,
			 (unsigned long long)w->index, (unsigned long long)rev);
	w->index = rev;
	w->need_read = 0;
	json_decref(w->kv);
	w->kv = map;
	watch_deliver(w, shape(w));
	watch_call_ok(w);
}

/* Applies one v3 key-value (base64 key and value) to the map. */
static int put_kv(json_t *map, const json_t *kv)
{
	const char *k = json_string_value(json_object_get(kv, "key"));
	const char *v = json_string_value(json_object_get(kv, "value"));
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	json_t *ks = NULL;
	int rc = -1;

	if (!k || b64_decode(&kb, k, strlen(k)) < 0 ||
	    (v && b64_decode(&vb, v, strlen(v)) < 0))
		goto out;
	ks = data_string(kb.data, kb.len);
	if (!ks)
		goto out;
	json_object_set_new(map, json_string_value(ks), data_string(vb.data, vb.len));
	rc = 0;
out:
	json_decref(ks);
	buf_free(&kb);
	buf_free(&vb);
	return rc;
}

static void v2_flatten(json_t *map, const json_t *node)
{
	const json_t *kids = json_object_get(node, "nodes"), *k;
	const char *key = json_string_value(json_object_get(node, "key"));
	const char *v = json_string_value(json_object_get(node, "value"));
	size_t i;

	if (json_is_true(json_object_get(node, "dir"))) {
		json_array_foreach(kids, i, k)
			v2_flatten(map, k);
	} else if (key) {
		json_object_set_new(map, key, data_string(v ? v : "", v ? strlen(v) : 0));
	}
}

static void read_free(struct etcd_hub *hub, struct etcd_read *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++) {
		if (rd->ws[i]) {
			rd->ws[i]->where = EW_NONE;
			rd->ws[i]->read = NULL;
		}
	}
	if (rd->prev)
		rd->prev->next = rd->next;
	else
		hub->reads = rd->next;
	if (rd->next)
		rd->next->prev = rd->prev;
	hub->nreads--;
	free(rd);
}

/* Every watch of a read that failed: each backs off on its own. */
static void read_failed(struct etcd_read *rd, const char *what, const char *why)
{
	struct watch *ws[READ_BATCH];
	size_t i, n = 0;
	struct etcd_hub *hub = rd->hub;

	for (i = 0; i < rd->n; i++)
		if (rd->ws[i])
			ws[n++] = rd->ws[i]->w;
	read_free(hub, rd);
	for (i = 0; i < n; i++)
		watch_call_failed(ws[i], "etcd: %s: %s", what, why);
	etcd_kick(hub);
}

/* A read refused for its token goes back to the queue, to run after a
 * new authentication. */
static void read_requeue(struct etcd_read *rd)
{
	struct etcd_hub *hub = rd->hub;
	struct ew *ews[READ_BATCH];
	size_t i, n = 0;

	for (i = 0; i < rd->n; i++)
		if (rd->ws[i])
			ews[n++] = rd->ws[i];
	read_free(hub, rd);
	for (i = 0; i < n; i++) {
		ews[i]->where = EW_QUEUED;
		etcd_ewl_add(&hub->queue, ews[i]);
	}
	etcd_kick(hub);
}

/* Checks a read's answer for the common failures: 0 when it is a 200
 * with JSON (in set), or -1 after the read was failed or requeued. */
static int read_answer(struct etcd_read *rd, const struct http_result *res, const char *what,
		       int ok404, json_t **in)
{
	struct etcd_hub *hub = rd->hub;
	json_error_t jerr;
	char why[256];
	const char *e;

	*in = NULL;
	if (!res->ok) {
		etcd_conn_failed(hub->conn, rd->member, 1, res->error);
		read_failed(rd, what, res->error);
		return -1;
	}
	*in = etcd_parse_body(res, &jerr);
	if (res->status == 200 || (ok404 && res->status == 404)) {
		if (*in)
			return 0;
		snprintf(why, sizeof why, "malformed JSON: %s", jerr.text);
		read_failed(rd, what, why);
		return -1;
	}
	e = json_string_value(json_object_get(*in, "error"));
	if (!e)
		e = json_string_value(json_object_get(*in, "message"));
	if (res->status == 401 && etcd_auth_error(e)) {
		log_info("etcd: %s: %s; signing in again", what, e);
		json_decref(*in);
		etcd_conn_unauthorized(hub->conn);
		read_requeue(rd);
		return -1;
	}
	if (res->status >= 500)
		etcd_conn_failed(hub->conn, rd->member, 0, e ? e : "server error");
	snprintf(why, sizeof why, "HTTP %ld%s%s", res->status, e ? ": " : "", e ? e : "");
	json_decref(*in);
	read_failed(rd, what, why);
	return -1;
}

static void v3_read_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_read *rd = arg;
	struct etcd_hub *hub = rd->hub;
	json_t *in, *resps, *maps[READ_BATCH], *kv;
	struct watch *ws[READ_BATCH];
	size_t i, j, n;
	uint64_t rev;

	(void)r;
	rd->req = NULL;
	if (read_answer(rd, res, "range", 0, &in) < 0)
		return;
	rev = etcd_num(json_object_get(json_object_get(in, "header"), "revision"));
	resps = json_object_get(in, "responses");
	if (rev == 0 || json_array_size(resps) != rd->n) {
		json_decref(in);
		read_failed(rd, "range", rev ? "answers do not match the ranges" : "no revision in the answer");
		return;
	}
	for (i = n = 0; i < rd->n; i++) {
		const json_t *rr = json_object_get(json_array_get(resps, i), "response_range");

		if (!rd->ws[i])
			continue;
		maps[n] = json_object();
		json_array_foreach(json_object_get(rr, "kvs"), j, kv) {
			if (put_kv(maps[n], kv) < 0) {
				for (j = 0; j <= n; j++)
					json_decref(maps[j]);
				json_decref(in);
				read_failed(rd, "range", "bad key or value");
				return;
			}
		}
		ws[n++] = rd->ws[i]->w;
	}
	json_decref(in);
	read_free(hub, rd);
	for (i = 0; i < n; i++)
		full_read_done(ws[i], maps[i], rev, "revision");
	etcd_kick(hub);
}

static void v2_read_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_read *rd = arg;
	struct etcd_hub *hub = rd->hub;
	json_t *in, *map;
	struct watch *w;
	char idx[32];
	uint64_t index;

	(void)r;
	rd->req = NULL;
	if (read_answer(rd, res, "GET /v2/keys", 1, &in) < 0)
		return;
	if (http_header(res->headers, "X-Etcd-Index", idx, sizeof idx) < 0 ||
	    (index = strtoull(idx, NULL, 10)) == 0) {
		json_decref(in);
		read_failed(rd, "GET /v2/keys", "no X-Etcd-Index");
		return;
	}
	if (res->status == 404 && etcd_num(json_object_get(in, "errorCode")) != 100) {
		json_decref(in);
		read_failed(rd, "GET /v2/keys", "HTTP 404");
		return;
	}
	map = json_object();
	if (res->status == 200)
		v2_flatten(map, json_object_get(in, "node"));
	json_decref(in);
	w = rd->ws[0] ? rd->ws[0]->w : NULL;
	read_free(hub, rd);
	if (w)
		full_read_done(w, map, index, "etcd index");
	else
		json_decref(map);
	etcd_kick(hub);
}

/* {"key": b64, "range_end": b64} for the watch, into b (no braces). */
static int v3_range_fields(const struct ew *ew, struct buf *b)
{
	struct buf e = BUF_INIT;
	int rc = buf_puts(b, "\"key\":\"") | b64_encode(b, ew->key, ew->klen) | buf_putc(b, '"');

	if (ew->w->n.kind == WK_TREE) {
		rc |= etcd_prefix_end(&e, ew->key, ew->klen);
		rc |= buf_puts(b, ",\"range_end\":\"") | b64_encode(b, e.data, e.len) |
		      buf_putc(b, '"');
	}
	buf_free(&e);
	return rc;
}

/* Starts one read for the watches at the head of the queue. */
static int read_start(struct etcd_hub *hub)
{
	struct etcd_read *rd = calloc(1, sizeof *rd);
	struct buf url = BUF_INIT, body = BUF_INIT, path = BUF_INIT;
	struct lg_error err = { .text = "" };
	struct http_call c;
	const char *hdrs[4];
	size_t max = hub->v2 ? 1 : READ_BATCH;
	int rc = 0;

	if (!rd)
		return -1;
	rd->hub = hub;
	rd->next = hub->reads;
	if (hub->reads)
		hub->reads->prev = rd;
	hub->reads = rd;
	hub->nreads++;
	while (rd->n < max && hub->queue.head) {
		struct ew *ew = hub->queue.head;

		etcd_ewl_del(&hub->queue, ew);
		ew->where = EW_READING;
		ew->read = rd;
		ew->slot = rd->n;
		rd->ws[rd->n++] = ew;
	}
	memset(&c, 0, sizeof c);
	c.arg = rd;
	c.timeout = hub->wr->o.timeout;
	if (hub->v2) {
		rc |= buf_puts(&path, "/v2/keys") | url_escape(&path, rd->ws[0]->key, 1) |
		      buf_puts(&path, "?recursive=true&quorum=true");
		c.on_done = v2_read_done;
	} else {
		size_t i;

		rc |= buf_puts(&path, "/v3/kv/txn") | buf_puts(&body, "{\"success\":[");
		for (i = 0; i < rd->n; i++)
			rc |= buf_puts(&body, i ? ",{\"request_range\":{" : "{\"request_range\":{") |
			      v3_range_fields(rd->ws[i], &body) | buf_puts(&body, "}}");
		rc |= buf_puts(&body, "]}");
		c.body = buf_cstr(&body);
		c.on_done = v3_read_done;
	}
	if (!rc)
		rd->member = etcd_conn_prepare(hub->conn, &c, &url, buf_cstr(&path), NULL, hdrs);
	if (rc || rd->member < 0) {
		lg_error_set(&err, NULL, 0, 0, "out of memory");
	} else {
		log_debug("etcd: read %zu watch(es): %s", rd->n, c.url);
		rd->req = http_start(etcd_conn_http(hub->conn), &c, &err);
	}
	buf_free(&url);
	buf_free(&body);
	buf_free(&path);
	if (!rd->req)
		read_failed(rd, "read", err.text);
	return 0;
}

/* Starts what can start: reads while slots are free, and the stream when
 * watches wait for it (again, when its range or revision must change). */
static void on_kick(struct loop *l, void *arg)
{
	struct etcd_hub *hub = arg;

	(void)l;
	if (!etcd_conn_ready(hub->conn))
		return;         /* on_ready kicks again */
	while (hub->nreads < hub->read_cap && hub->queue.head)
		if (read_start(hub) < 0)
			break;
	if (hub->stream && hub->restart) {
		log_debug("etcd: restarting the %s from %llu", hub->v2 ? "wait" : "stream",
			  (unsigned long long)hub->rev + 1);
		etcd_stream_stop(hub);
	}
	if (!hub->stream && !hub->waiting && hub->subs.head)
		etcd_stream_start(hub);
}

static void on_ready(void *arg, const char *error)
{
	struct etcd_hub *hub = arg;

	if (error) {
		/* The waiting reads fail (and retry on their own backoff);
		 * the stream backs off. */
		struct ew *ew;

		while (hub->queue.head) {
			ew = hub->queue.head;
			etcd_ewl_del(&hub->queue, ew);
			ew->where = EW_NONE;
			watch_call_failed(ew->w, "%s", error);
		}
		if (hub->subs.head && !hub->stream && !hub->waiting)
			etcd_stream_failed(hub, 0, error);
		return;
	}
	etcd_kick(hub);
}

/* --- the backend ----------------------------------------------------------- */

static void etcd_stop(struct watch *w);

static struct ew *ew_get(struct watch *w)
{
	struct ew *ew = (struct ew *)w->be;
	struct buf k = BUF_INIT;

	if (ew)
		return ew;
	ew = calloc(1, sizeof *ew);
	if (!ew || etcd_key(w, &k) < 0 || !k.data) {
		free(ew);
		buf_free(&k);
		return NULL;
	}
	ew->base.stop = etcd_stop;
	ew->w = w;
	ew->key = buf_steal(&k, &ew->klen);
	w->be = &ew->base;
	return ew;
}

static int etcd_start(struct watch *w, int blocking, struct lg_error *err)
{
	struct etcd_hub *hub = w->wr->etcd;
	struct ew *ew = ew_get(w);

	(void)blocking;   /* the stream is how etcd blocks */
	if (!ew)
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	ew_detach(hub, ew);
	w->req = NULL;
	if (w->need_read || w->index == 0) {
		ew->where = EW_QUEUED;
		etcd_ewl_add(&hub->queue, ew);
	} else {
		ew->where = EW_SUB;
		etcd_ewl_add(&hub->subs, ew);
		/* The stream must cover the key and hold every event since
		 * the watch's read. */
		if (hub->stream && (ew->klen < hub->lo.len || memcmp(ew->key, hub->lo.data, hub->lo.len)))
			hub->restart = 1;
		if (hub->rev == 0) {
			hub->rev = w->index;
		} else if (w->index < hub->rev) {
			hub->rev = w->index;
			if (hub->stream)
				hub->restart = 1;
		}
	}
	etcd_kick(hub);
	return 0;
}

static void etcd_flush(struct watch *w)
{
	if (w->kv && w->be)
		watch_deliver(w, shape(w));
}

static void etcd_stop(struct watch *w)
{
	struct ew *ew = (struct ew *)w->be;

	if (!ew)
		return;
	ew_detach(w->wr->etcd, ew);
	free(ew->key);
	free(ew);
	w->be = NULL;
}

const struct watch_ops etcd_ops = { "etcd", etcd_start, etcd_flush };

struct etcd_hub *etcd_hub_new(struct watcher *wr, const struct watcher_opts *o, struct lg_error *err)
{
	struct etcd_hub *hub = calloc(1, sizeof *hub);
	int cap = wr->o.max_conns / 8;

	if (!hub) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	hub->wr = wr;
	hub->v2 = o->etcd_v2;
	hub->read_cap = cap < 1 ? 1 : cap > 4 ? 4 : cap;
	hub->followed = -1;
	loop_timer_init(&hub->kick, on_kick, hub);
	loop_timer_init(&hub->backoff, etcd_on_backoff, hub);
	loop_timer_init(&hub->probe_timer, etcd_on_probe, hub);
	hub->conn = etcd_conn_new(wr->loop, o, hub->v2, on_ready, hub, err);
	if (!hub->conn) {
		free(hub);
		return NULL;
	}
	wr->etcd_http = etcd_conn_http(hub->conn);
	return hub;
}

void etcd_hub_free(struct etcd_hub *hub)
{
	struct watch *w;

	if (!hub)
		return;
	for (w = hub->wr->watches; w; w = w->next)
		if (w->ops == &etcd_ops)
			etcd_stop(w);
	while (hub->reads)
		read_free(hub, hub->reads);
	loop_del_timer(hub->wr->loop, &hub->kick);
	loop_del_timer(hub->wr->loop, &hub->backoff);
	loop_del_timer(hub->wr->loop, &hub->probe_timer);
	etcd_conn_free(hub->conn);      /* every call still out */
	hub->wr->etcd_http = NULL;
	buf_free(&hub->lo);
	free(hub);
}
