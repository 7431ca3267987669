/* etcd_stream: the one v3 watch stream (or v2 recursive wait) over the
 * prefix every watched key shares: resumed from the last revision it
 * vouched for, its events applied to the watches they concern, a
 * compaction or cancel sending them back to a full read, a member that
 * fails or stops serving current reads left for the next. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "watcher/data.h"
#include "watcher/etcd_int.h"

/* Does the event on key[0..n) concern the watch?  v2 also reports a
 * directory that holds the watched key (its deletion or expiry). */
static int concerns(const struct ew *ew, const char *key, size_t n, int v2)
{
	if (n >= ew->klen && memcmp(key, ew->key, ew->klen) == 0)
		return ew->w->n.kind == WK_TREE || n == ew->klen;
	return v2 && n < ew->klen && memcmp(key, ew->key, n) == 0 &&
	       (ew->key[n] == '/' || (n > 0 && key[n - 1] == '/'));
}

/* Sends every subscriber back to a full read (compaction, a cancelled
 * watch, a revision that went backwards). */
static void reread_all(struct etcd_hub *hub)
{
	struct ew *ew;

	while ((ew = hub->subs.head)) {
		etcd_ewl_del(&hub->subs, ew);
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
			watch_set_error(w, error);
			w->errors++;
			w->retries++;
		} else if (w->retries || watch_error(w)[0]) {
			watch_set_error(w, NULL);
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
	uint64_t mod = etcd_num(json_object_get(kv, "mod_revision"));
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
	rev = etcd_num(json_object_get(json_object_get(res, "header"), "revision"));
	compact = etcd_num(json_object_get(res, "compact_revision"));
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
		hub->retries = hub->fast = 0;
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

void etcd_on_backoff(struct loop *l, void *arg)
{
	struct etcd_hub *hub = arg;

	(void)l;
	hub->waiting = 0;
	etcd_kick(hub);
}

/* The stream failed: the member is left when it is the cause, the
 * subscribers show the error, and the stream starts again after a
 * backoff (at once, on the next member, the first time), or, past the
 * retry limit, the subscribers give up. */
void etcd_stream_failed(struct etcd_hub *hub, int member_fault, const char *why)
{
	struct watcher_opts *o = &hub->wr->o;
	double delay = 0;

	if (member_fault)
		etcd_conn_failed(hub->conn, hub->stream_member, member_fault == 2, why);
	hub->retries++;
	if (watch_retries_spent(hub->wr, hub->retries)) {
		/* The retry limit holds for the stream as for a read: every
		 * subscriber gives up. */
		struct ew *ew;

		log_error("%s; giving up after %u failed call(s)", why, hub->retries);
		subs_status(hub, why);
		while ((ew = hub->subs.head)) {
			etcd_ewl_del(&hub->subs, ew);
			ew->where = EW_NONE;
			watch_give_up(ew->w);
		}
		hub->no_leader = 0;
		return;
	}
	if (hub->no_leader && hub->fast < 10 && etcd_conn_members(hub->conn) > 1) {
		/* The members are electing a leader: that takes about a
		 * second, and the next one may be the winner already.  These
		 * quick tries do not grow the backoff of the ones after. */
		delay = fmin(o->backoff_min, 0.5) * (0.5 + 0.5 * drand48());
		hub->fast++;
	} else if (!(member_fault && hub->retries == 1 && etcd_conn_members(hub->conn) > 1)) {
		delay = o->backoff_min * pow(2, fmin(hub->retries - hub->fast - 1, 30));
		delay = fmin(delay, o->backoff_max) * (0.5 + 0.5 * drand48());
	}
	hub->no_leader = 0;
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
		etcd_kick(hub);
		return;
	case SE_NOAUTH:
		log_info("etcd: %s; signing in again", hub->stream_why);
		etcd_conn_unauthorized(hub->conn);
		etcd_stream_failed(hub, 0, hub->stream_why);
		return;
	case SE_FAIL:
		etcd_stream_failed(hub, 1, hub->stream_why);
		return;
	case SE_NONE:
		break;
	}
	if (res->ok && res->status == 401) {
		etcd_conn_unauthorized(hub->conn);
		etcd_stream_failed(hub, 0, "etcd refused the token");
	} else if (res->ok && res->status != 200) {
		snprintf(why, sizeof why, "etcd: watch: HTTP %ld", res->status);
		hub->no_leader = res->status == 503;
		etcd_stream_failed(hub, res->status >= 500, why);
	} else {
		snprintf(why, sizeof why, "etcd: watch stream ended: %s",
			 res->ok ? "closed by the server" : res->error);
		etcd_stream_failed(hub, res->ok ? 1 : 2, why);
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
		etcd_kick(hub);      /* nothing happened within the wait */
		return;
	}
	if (!res->ok) {
		snprintf(why, sizeof why, "etcd: wait /v2/keys: %s", res->error);
		etcd_stream_failed(hub, 2, why);
		return;
	}
	in = etcd_parse_body(res, &jerr);
	if (!in) {
		snprintf(why, sizeof why, "etcd: wait /v2/keys: malformed JSON: %s", jerr.text);
		etcd_stream_failed(hub, 0, why);
		return;
	}
	if (res->status == 200) {
		const json_t *node = json_object_get(in, "node");
		const char *key = data_str(node, "key");
		uint64_t idx = etcd_num(json_object_get(node, "modifiedIndex"));
		struct ew *ew, *next;

		for (ew = hub->subs.head; ew; ew = next) {
			next = ew->next;
			if (idx > ew->w->index && concerns(ew, key, strlen(key), 1)) {
				etcd_ewl_del(&hub->subs, ew);
				ew->where = EW_NONE;
				ew->w->need_read = 1;
				watch_call_ok(ew->w);
			}
		}
		if (idx > hub->rev)
			hub->rev = idx;
		if (hub->retries) {
			hub->retries = hub->fast = 0;
			subs_status(hub, NULL);
		}
	} else if (etcd_num(json_object_get(in, "errorCode")) == 401) {
		log_info("etcd index %llu outdated; reading again", (unsigned long long)hub->rev + 1);
		reread_all(hub);
	} else {
		json_decref(in);
		snprintf(why, sizeof why, "etcd: wait /v2/keys: HTTP %ld", res->status);
		etcd_stream_failed(hub, res->status >= 500, why);
		return;
	}
	json_decref(in);
	etcd_kick(hub);
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

void etcd_stream_start(struct etcd_hub *hub)
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
		etcd_stream_failed(hub, 0, err.text);
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
	hub->no_leader = res->ok && res->status == 503;
	if (res->ok && res->status == 401) {
		etcd_conn_unauthorized(hub->conn);
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
		return;
	}
	http_cancel(etcd_conn_http(hub->conn), hub->stream);
	stream_gone(hub);
	etcd_stream_failed(hub, res->ok ? 1 : 2, why);
}

void etcd_on_probe(struct loop *l, void *arg)
{
	struct etcd_hub *hub = arg;
	struct buf url = BUF_INIT, body = BUF_INIT;
	struct lg_error err = { .text = "" };
	struct http_call c;
	const char *hdrs[4];

	(void)l;
	if (!hub->stream || hub->probe)
		return;
	if (!etcd_conn_ready(hub->conn)) {
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
		return;
	}
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
	if (hub->probe_member >= 0 && hub->probe_member != hub->stream_member) {
		/* A failed read moved the other calls on: the stream follows. */
		log_info("etcd: moving the stream to %s", etcd_conn_member(hub->conn, hub->probe_member));
		etcd_stream_stop(hub);
		etcd_kick(hub);
	} else if (!hub->probe)
		loop_add_timer(hub->wr->loop, &hub->probe_timer, PROBE_EVERY);
}

void etcd_stream_stop(struct etcd_hub *hub)
{
	if (!hub->stream)
		return;
	http_cancel(etcd_conn_http(hub->conn), hub->stream);
	stream_gone(hub);
}
