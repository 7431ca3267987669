/* etcd: key. and tree. watches on etcd, however many, on a bounded number
 * of calls: first reads (v3: up to 64 ranges in one txn; v2: one GET each)
 * with a few in flight, then one watch stream (v3 gateway) or one
 * recursive wait (v2) over the longest prefix every watched key shares,
 * whose events go to the watches they concern.  Each watch keeps a key ->
 * value map of what it covers, shaped like Consul KV. */
#include "watcher/etcd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "watcher/data.h"
#include "watcher/etcd_conn.h"
#include "watcher/watch_int.h"

#define READ_BATCH 64          /* ranges per v3 txn (etcd allows 128 ops) */
#define PROBE_EVERY 1.0        /* seconds between checks of the member in use */
#define PROBE_TIMEOUT 1.5

enum ew_where { EW_NONE, EW_QUEUED, EW_READING, EW_SUB };

/* What the hub knows of one watch (w->be). */
struct ew {
	struct watch_be base;      /* first: w->be points here */
	struct watch *w;
	char *key;                 /* "/config/x": the key, or the tree's prefix */
	size_t klen;
	enum ew_where where;
	struct ew *prev, *next;    /* in the read queue or among the subscribers */
	struct etcd_read *read;    /* while EW_READING */
	size_t slot;
};

struct ewlist {
	struct ew *head, *tail;
	size_t n;
};

/* One read call in flight: a txn of ranges (v3) or one GET (v2). */
struct etcd_read {
	struct etcd_hub *hub;
	struct etcd_read *prev, *next;
	struct http_req *req;
	int member;
	size_t n;
	struct ew *ws[READ_BATCH]; /* NULL once that watch was removed */
};

/* Why the stream ended when legate ended it. */
enum stream_end { SE_NONE, SE_RESTART, SE_REREAD, SE_FAIL, SE_NOAUTH };

struct etcd_hub {
	struct watcher *wr;
	struct etcd_conn *conn;
	int v2;
	struct ewlist queue;       /* watches waiting for a read */
	struct ewlist subs;        /* watches fed by the stream */
	struct etcd_read *reads;
	int nreads, read_cap;
	struct http_req *stream;   /* the v3 watch stream or the v2 wait */
	int stream_member;
	int followed;              /* the member the last stream was created on */
	enum stream_end stream_end;
	char stream_why[200];
	struct buf lo;             /* the prefix the stream covers */
	int restart;               /* start the stream again (range or revision) */
	uint64_t rev;              /* subscribers have every event up to here */
	unsigned retries;          /* stream failures in a row */
	int waiting;               /* backoff timer armed */
	struct loop_timer kick, backoff, probe_timer;
	struct http_req *probe;
	int probe_member;
};

static void kick(struct etcd_hub *hub)
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

static uint64_t num(const json_t *j)
{
	if (json_is_integer(j))
		return (uint64_t)json_integer_value(j);
	if (json_is_string(j))
		return strtoull(json_string_value(j), NULL, 10);
	return 0;
}

static json_t *parse_body(const struct http_result *res, json_error_t *jerr)
{
	return json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, jerr);
}

/* Does the event on key[0..n) concern the watch?  v2 also reports a
 * directory that holds the watched key (its deletion or expiry). */
static int concerns(const struct ew *ew, const char *key, size_t n, int v2)
{
	if (n >= ew->klen && memcmp(key, ew->key, ew->klen) == 0)
		return ew->w->n.kind == WK_TREE || n == ew->klen;
	return v2 && n < ew->klen && memcmp(key, ew->key, n) == 0 &&
	       (ew->key[n] == '/' || (n > 0 && key[n - 1] == '/'));
}

/* --- lists ---------------------------------------------------------------- */

static void ewl_add(struct ewlist *l, struct ew *ew)
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

static void ewl_del(struct ewlist *l, struct ew *ew)
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
		ewl_del(&hub->queue, ew);
	else if (ew->where == EW_SUB)
		ewl_del(&hub->subs, ew);
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
		log_info("%s: %s went backwards (%llu -> %llu)", w->name, what,
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
	kick(hub);
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
		ewl_add(&hub->queue, ews[i]);
	}
	kick(hub);
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
		etcd_conn_failed(hub->conn, rd->member, res->error);
		read_failed(rd, what, res->error);
		return -1;
	}
	*in = parse_body(res, &jerr);
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
		etcd_conn_failed(hub->conn, rd->member, e ? e : "server error");
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
	rev = num(json_object_get(json_object_get(in, "header"), "revision"));
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
	kick(hub);
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
	if (res->status == 404 && num(json_object_get(in, "errorCode")) != 100) {
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
	kick(hub);
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

		ewl_del(&hub->queue, ew);
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

/* --- the stream ----------------------------------------------------------- */

/* Sends every subscriber back to a full read (compaction, a cancelled
 * watch, a revision that went backwards). */
static void reread_all(struct etcd_hub *hub)
{
	struct ew *ew;

	while ((ew = hub->subs.head)) {
		ewl_del(&hub->subs, ew);
		ew->where = EW_NONE;
		ew->w->need_read = 1;
		watch_call_ok(ew->w);
	}
	hub->rev = 0;
}

/* The status every subscriber shows while the stream is down or back. */
static void subs_status(struct etcd_hub *hub, const char *error)
{
	struct ew *ew;

	for (ew = hub->subs.head; ew; ew = ew->next) {
		struct watch *w = ew->w;

		if (error) {
			snprintf(w->last_error, sizeof w->last_error, "%s", error);
			w->errors++;
			w->retries++;
		} else if (w->retries || w->last_error[0]) {
			w->last_error[0] = '\0';
			w->retries = 0;
			w->last_success = clock_wall();
		}
	}
}

/* Applies one event on key[0..kn) (value v, NULL: deleted) at revision mod
 * to every subscriber it concerns that has not seen it. */
static void dispatch_v3(struct etcd_hub *hub, const char *key, size_t kn, json_t *ks,
			json_t *v, uint64_t mod)
{
	struct ew *ew;

	for (ew = hub->subs.head; ew; ew = ew->next) {
		struct watch *w = ew->w;

		if (mod <= w->index || !concerns(ew, key, kn, 0) || !w->kv)
			continue;
		if (v)
			json_object_set(w->kv, json_string_value(ks), v);
		else
			json_object_del(w->kv, json_string_value(ks));
		w->index = mod;
		loop_add_timer(hub->wr->loop, &w->timer, 0);   /* etcd_flush */
	}
}

static int v3_event(struct etcd_hub *hub, const json_t *ev)
{
	const json_t *kv = json_object_get(ev, "kv");
	const char *k = json_string_value(json_object_get(kv, "key"));
	const char *v = json_string_value(json_object_get(kv, "value"));
	int del = strcmp(data_str(ev, "type"), "DELETE") == 0;
	uint64_t mod = num(json_object_get(kv, "mod_revision"));
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	json_t *ks = NULL, *vs = NULL;
	int rc = -1;

	if (!k || b64_decode(&kb, k, strlen(k)) < 0 || (v && b64_decode(&vb, v, strlen(v)) < 0))
		goto out;
	if (!(ks = data_string(kb.data, kb.len)) || (!del && !(vs = data_string(vb.data, vb.len))))
		goto out;
	dispatch_v3(hub, kb.data ? kb.data : "", kb.len, ks, vs, mod);
	if (mod > hub->rev)
		hub->rev = mod;
	rc = 0;
out:
	json_decref(ks);
	json_decref(vs);
	buf_free(&kb);
	buf_free(&vb);
	return rc;
}

/* One message of the watch stream.  Returns 0, or -1 to end the stream
 * (hub->stream_end says why). */
static int v3_message(struct etcd_hub *hub, const json_t *m)
{
	const json_t *res = json_object_get(m, "result"), *ev;
	uint64_t rev, compact;
	size_t i;
	int created, events = 0;

	if (!json_is_object(res)) {
		const json_t *e = json_object_get(m, "error");
		const char *t = json_string_value(json_object_get(e, "message"));

		if (!t)
			t = json_string_value(e);
		snprintf(hub->stream_why, sizeof hub->stream_why, "etcd watch error: %s",
			 t ? t : "unexpected message");
		hub->stream_end = etcd_auth_error(t) ? SE_NOAUTH : SE_FAIL;
		return -1;
	}
	rev = num(json_object_get(json_object_get(res, "header"), "revision"));
	compact = num(json_object_get(res, "compact_revision"));
	created = json_is_true(json_object_get(res, "created"));
	if (compact) {
		log_info("etcd compacted past revision %llu (now %llu); reading again",
			 (unsigned long long)hub->rev + 1, (unsigned long long)compact);
		reread_all(hub);
		hub->stream_end = SE_REREAD;
		return -1;
	}
	if (json_is_true(json_object_get(res, "canceled"))) {
		const char *why = data_str(res, "cancel_reason");

		if (etcd_auth_error(why)) {
			snprintf(hub->stream_why, sizeof hub->stream_why, "etcd canceled the watch: %s", why);
			hub->stream_end = SE_NOAUTH;
		} else {
			log_info("etcd canceled the watch (%s); reading again", why[0] ? why : "no reason given");
			reread_all(hub);
			hub->stream_end = SE_REREAD;
		}
		return -1;
	}
	if (created) {
		if (rev && rev < hub->rev) {
			log_info("etcd revision went backwards (%llu -> %llu); reading again",
				 (unsigned long long)hub->rev, (unsigned long long)rev);
			reread_all(hub);
			hub->stream_end = SE_REREAD;
			return -1;
		}
		if (hub->retries || hub->stream_member != hub->followed) {
			/* Said when it changes, so an operator sees which. */
			log_info("etcd: following %s from revision %llu",
				 etcd_conn_member(hub->conn, hub->stream_member), (unsigned long long)hub->rev + 1);
			hub->followed = hub->stream_member;
		}
		hub->retries = 0;
		subs_status(hub, NULL);
	}
	json_array_foreach(json_object_get(res, "events"), i, ev) {
		if (v3_event(hub, ev) < 0) {
			log_warn("etcd watch: a bad key or value; reading again");
			reread_all(hub);
			hub->stream_end = SE_REREAD;
			return -1;
		}
		events++;
	}
	/* A progress notice (no events, not the creation) vouches that
	 * everything up to its revision was sent: resume from there. */
	if (!events && !created && rev > hub->rev)
		hub->rev = rev;
	return 0;
}

static int v3_data(struct http_req *r, struct buf *body, void *arg)
{
	struct etcd_hub *hub = arg;
	char *nl;
	size_t used = 0;
	json_error_t jerr;
	json_t *m;
	int rc = 0;

	(void)r;
	while (rc == 0 && (nl = memchr(body->data + used, '\n', body->len - used))) {
		size_t n = (size_t)(nl - (body->data + used));

		if (n > 0) {
			m = json_loadb(body->data + used, n, 0, &jerr);
			if (!m) {
				snprintf(hub->stream_why, sizeof hub->stream_why,
					 "etcd watch: malformed JSON: %s", jerr.text);
				hub->stream_end = SE_FAIL;
				rc = -1;
			} else {
				rc = v3_message(hub, m);
				json_decref(m);
			}
		}
		used += n + 1;
	}
	if (used) {
		memmove(body->data, body->data + used, body->len - used);
		body->len -= used;
		if (body->data)
			body->data[body->len] = '\0';
	}
	return rc;
}

static void on_backoff(struct loop *l, void *arg)
{
	struct etcd_hub *hub = arg;

	(void)l;
	hub->waiting = 0;
	kick(hub);
}

/* The stream failed: the member is left when it is the cause, the
 * subscribers show the error, and the stream starts again after a
 * backoff (at once, on the next member, the first time). */
static void stream_failed(struct etcd_hub *hub, int member_fault, const char *why)
{
	struct watcher_opts *o = &hub->wr->o;
	double delay = 0;

	if (member_fault)
		etcd_conn_failed(hub->conn, hub->stream_member, why);
	hub->retries++;
	if (!(member_fault && hub->retries == 1 && etcd_conn_members(hub->conn) > 1)) {
		delay = o->backoff_min * pow(2, fmin(hub->retries - 1, 30));
		delay = fmin(delay, o->backoff_max) * (0.5 + 0.5 * drand48());
	}
	log_warn("etcd: %s: %s; retry %u in %.1fs", hub->v2 ? "wait" : "watch stream", why,
		 hub->retries, delay);
	subs_status(hub, why);
	hub->waiting = 1;
	loop_add_timer(hub->wr->loop, &hub->backoff, delay);
}

static void stream_gone(struct etcd_hub *hub)
{
	hub->stream = NULL;
	loop_del_timer(hub->wr->loop, &hub->probe_timer);
	if (hub->probe) {
		http_cancel(etcd_conn_http(hub->conn), hub->probe);
		hub->probe = NULL;
	}
}

static void v3_stream_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_hub *hub = arg;
	char why[256];

	(void)r;
	stream_gone(hub);
	switch (hub->stream_end) {
	case SE_RESTART:
	case SE_REREAD:
		kick(hub);
		return;
	case SE_NOAUTH:
		log_info("etcd: %s; signing in again", hub->stream_why);
		etcd_conn_unauthorized(hub->conn);
		stream_failed(hub, 0, hub->stream_why);
		return;
	case SE_FAIL:
		stream_failed(hub, 1, hub->stream_why);
		return;
	case SE_NONE:
		break;
	}
	if (res->ok && res->status == 401) {
		etcd_conn_unauthorized(hub->conn);
		stream_failed(hub, 0, "etcd refused the token");
	} else if (res->ok && res->status != 200) {
		snprintf(why, sizeof why, "etcd: watch: HTTP %ld", res->status);
		stream_failed(hub, res->status >= 500, why);
	} else {
		snprintf(why, sizeof why, "etcd: watch stream ended: %s",
			 res->ok ? "closed by the server" : res->error);
		stream_failed(hub, 1, why);
	}
}

/* The v2 wait ended: an event (the watches it concerns read again), a
 * timeout (wait again) or an error. */
static void v2_wait_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_hub *hub = arg;
	json_error_t jerr;
	json_t *in;
	char why[256];

	(void)r;
	stream_gone(hub);
	if (!res->ok && res->timed_out) {
		kick(hub);      /* nothing happened within the wait */
		return;
	}
	if (!res->ok) {
		snprintf(why, sizeof why, "etcd: wait /v2/keys: %s", res->error);
		stream_failed(hub, 1, why);
		return;
	}
	in = parse_body(res, &jerr);
	if (!in) {
		snprintf(why, sizeof why, "etcd: wait /v2/keys: malformed JSON: %s", jerr.text);
		stream_failed(hub, 0, why);
		return;
	}
	if (res->status == 200) {
		const json_t *node = json_object_get(in, "node");
		const char *key = data_str(node, "key");
		uint64_t idx = num(json_object_get(node, "modifiedIndex"));
		struct ew *ew, *next;

		for (ew = hub->subs.head; ew; ew = next) {
			next = ew->next;
			if (idx > ew->w->index && concerns(ew, key, strlen(key), 1)) {
				ewl_del(&hub->subs, ew);
				ew->where = EW_NONE;
				ew->w->need_read = 1;
				watch_call_ok(ew->w);
			}
		}
		if (idx > hub->rev)
			hub->rev = idx;
		if (hub->retries) {
			hub->retries = 0;
			subs_status(hub, NULL);
		}
	} else if (num(json_object_get(in, "errorCode")) == 401) {
		log_info("etcd index %llu outdated; reading again", (unsigned long long)hub->rev + 1);
		reread_all(hub);
	} else {
		json_decref(in);
		snprintf(why, sizeof why, "etcd: wait /v2/keys: HTTP %ld", res->status);
		stream_failed(hub, res->status >= 500, why);
		return;
	}
	json_decref(in);
	kick(hub);
}

/* The longest prefix shared by every watched key. */
static int common_prefix(struct etcd_hub *hub, struct buf *out)
{
	const struct watch *w;
	const struct ew *first = NULL;
	size_t n = 0;

	for (w = hub->wr->watches; w; w = w->next) {
		const struct ew *ew = (const struct ew *)w->be;
		size_t i;

		if (w->ops != &etcd_ops || !ew || ew->where == EW_NONE)
			continue;
		if (!first) {
			first = ew;
			n = ew->klen;
			continue;
		}
		for (i = 0; i < n && i < ew->klen && ew->key[i] == first->key[i]; i++)
			;
		n = i;
	}
	buf_reset(out);
	return first ? buf_append(out, first->key, n) : buf_puts(out, "/");
}

static void on_probe(struct loop *l, void *arg);

static void stream_start(struct etcd_hub *hub)
{
	struct buf url = BUF_INIT, body = BUF_INIT, path = BUF_INIT, e = BUF_INIT;
	struct lg_error err = { .text = "" };
	struct http_call c;
	const char *hdrs[4];
	int rc = common_prefix(hub, &hub->lo);

	memset(&c, 0, sizeof c);
	c.arg = hub;
	if (hub->v2) {
		/* The directory the prefix lies in. */
		char *slash = memrchr(hub->lo.data, '/', hub->lo.len);

		if (slash) {
			hub->lo.len = (size_t)(slash - hub->lo.data) + 1;
			hub->lo.data[hub->lo.len] = '\0';
		}
		rc |= buf_puts(&path, "/v2/keys") | url_escape(&path, buf_cstr(&hub->lo), 1) |
		      buf_printf(&path, "?wait=true&recursive=true&waitIndex=%llu",
				 (unsigned long long)hub->rev + 1);
		c.timeout = hub->wr->o.wait;
		c.on_done = v2_wait_done;
	} else {
		rc |= buf_puts(&path, "/v3/watch");
		rc |= buf_puts(&body, "{\"create_request\":{\"key\":\"");
		if (hub->lo.len) {
			rc |= b64_encode(&body, hub->lo.data, hub->lo.len) |
			      etcd_prefix_end(&e, hub->lo.data, hub->lo.len);
		} else {
			rc |= buf_puts(&body, "AA==") | buf_append(&e, "", 1);
		}
		rc |= buf_puts(&body, "\",\"range_end\":\"") | b64_encode(&body, e.data, e.len) |
		      buf_printf(&body, "\",\"start_revision\":\"%llu\",\"progress_notify\":true}}",
				 (unsigned long long)hub->rev + 1);
		c.body = buf_cstr(&body);
		c.on_data = v3_data;
		c.on_done = v3_stream_done;
	}
	hub->stream_end = SE_NONE;
	hub->stream_why[0] = '\0';
	hub->restart = 0;
	if (!rc)
		/* A member cut off from the others ends the stream rather than
		 * keep it open and silent. */
		hub->stream_member = etcd_conn_prepare(hub->conn, &c, &url, buf_cstr(&path),
						       hub->v2 ? NULL : "Grpc-Metadata-hasleader: true", hdrs);
	if (rc || hub->stream_member < 0) {
		lg_error_set(&err, NULL, 0, 0, "out of memory");
	} else {
		log_debug("etcd: %s from %llu over \"%s\": %s", hub->v2 ? "wait" : "stream",
			  (unsigned long long)hub->rev + 1, buf_cstr(&hub->lo), c.url);
		hub->stream = http_start(etcd_conn_http(hub->conn), &c, &err);
	}
	buf_free(&url);
	buf_free(&body);
	buf_free(&path);
	buf_free(&e);
	if (!hub->stream) {
		stream_failed(hub, 0, err.text);
		return;
	}
	if (etcd_conn_members(hub->conn) > 1 && !hub->v2)
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
}

/* With several members, the one the stream is on is asked for a
 * linearizable read every second: a member that lost the others (or
 * stopped answering) cannot serve one, and the stream moves on. */
static void probe_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_hub *hub = arg;
	char why[256];

	(void)r;
	hub->probe = NULL;
	if (!hub->stream || hub->probe_member != hub->stream_member)
		return;
	if (res->ok && res->status == 200) {
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
		return;
	}
	if (res->ok)
		snprintf(why, sizeof why, "a read check answered HTTP %ld", res->status);
	else
		snprintf(why, sizeof why, "a read check failed: %s", res->error);
	if (res->ok && res->status == 401) {
		etcd_conn_unauthorized(hub->conn);
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
		return;
	}
	http_cancel(etcd_conn_http(hub->conn), hub->stream);
	stream_gone(hub);
	stream_failed(hub, 1, why);
}

static void on_probe(struct loop *l, void *arg)
{
	struct etcd_hub *hub = arg;
	struct buf url = BUF_INIT, body = BUF_INIT;
	struct lg_error err = { .text = "" };
	struct http_call c;
	const char *hdrs[4];

	(void)l;
	if (!hub->stream || hub->probe || !etcd_conn_ready(hub->conn))
		return;
	memset(&c, 0, sizeof c);
	c.arg = hub;
	c.timeout = PROBE_TIMEOUT;
	c.on_done = probe_done;
	buf_puts(&body, "{\"key\":\"");
	if (hub->lo.len)
		b64_encode(&body, hub->lo.data, hub->lo.len);
	else
		buf_puts(&body, "AA==");
	buf_puts(&body, "\",\"limit\":1,\"keys_only\":true}");
	c.body = buf_cstr(&body);
	hub->probe_member = etcd_conn_prepare(hub->conn, &c, &url, "/v3/kv/range", NULL, hdrs);
	if (hub->probe_member == hub->stream_member)
		hub->probe = http_start(etcd_conn_http(hub->conn), &c, &err);
	buf_free(&url);
	buf_free(&body);
	if (!hub->probe)
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
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
		http_cancel(etcd_conn_http(hub->conn), hub->stream);
		stream_gone(hub);
	}
	if (!hub->stream && !hub->waiting && hub->subs.head)
		stream_start(hub);
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
			ewl_del(&hub->queue, ew);
			ew->where = EW_NONE;
			watch_call_failed(ew->w, "%s", error);
		}
		if (hub->subs.head && !hub->stream && !hub->waiting)
			stream_failed(hub, 0, error);
		return;
	}
	kick(hub);
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
		ewl_add(&hub->queue, ew);
	} else {
		ew->where = EW_SUB;
		ewl_add(&hub->subs, ew);
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
	kick(hub);
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
	loop_timer_init(&hub->backoff, on_backoff, hub);
	loop_timer_init(&hub->probe_timer, on_probe, hub);
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
