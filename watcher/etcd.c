/* etcd: v3 gateway range and watch stream, v2 recursive wait; both keep a
 * key -> value map of what the watch covers and shape it like Consul KV. */
#include "watcher/etcd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "watcher/data.h"
#include "watcher/watch_int.h"

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
	struct buf k = BUF_INIT;
	json_t *out, *v;
	const char *key;

	if (w->n.kind == WK_KEY) {
		etcd_key(w, &k);
		v = json_object_get(w->kv, buf_cstr(&k));
		buf_free(&k);
		return v ? json_incref(v) : json_null();
	}
	if (etcd_key(w, &k) < 0) {
		buf_free(&k);
		return NULL;
	}
	out = json_array();
	json_object_foreach(w->kv, key, v)
		json_array_append_new(out, json_pack("{s:s, s:s, s:O}", "key", data_relative_key(key, buf_cstr(&k)),
						     "path", key, "value", v));
	buf_free(&k);
	return data_sort_by(out, "key", NULL);
}

/* A full read (v3 range or v2 recursive GET) replaces the watch's map:
 * takes map, records the revision or index, reports the data. */
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

static uint64_t num(const json_t *j)
{
	if (json_is_integer(j))
		return (uint64_t)json_integer_value(j);
	if (json_is_string(j))
		return strtoull(json_string_value(j), NULL, 10);
	return 0;
}

/* Applies one v3 key-value (base64 key and value) to the map. */
static int put_kv(json_t *map, const json_t *kv, int del)
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
	if (del)
		json_object_del(map, json_string_value(ks));
	else
		json_object_set_new(map, json_string_value(ks), data_string(vb.data, vb.len));
	rc = 0;
out:
	json_decref(ks);
	buf_free(&kb);
	buf_free(&vb);
	return rc;
}

/* --- v3 ----------------------------------------------------------------- */

/* {"key": b64, "range_end": b64} for the watch, into b (no braces). */
static int v3_range_fields(const struct watch *w, struct buf *b)
{
	struct buf k = BUF_INIT, e = BUF_INIT;
	int rc = etcd_key(w, &k);

	rc |= buf_puts(b, "\"key\":\"") | b64_encode(b, k.data, k.len) | buf_putc(b, '"');
	if (w->n.kind == WK_TREE) {
		rc |= etcd_prefix_end(&e, k.data, k.len);
		rc |= buf_puts(b, ",\"range_end\":\"") | b64_encode(b, e.data, e.len) |
		      buf_putc(b, '"');
	}
	buf_free(&k);
	buf_free(&e);
	return rc;
}

static json_t *parse_body(const struct http_result *res, json_error_t *jerr)
{
	return json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, jerr);
}

static void v3_range_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watch *w = arg;
	json_error_t jerr;
	json_t *in, *kvs, *map, *kv;
	size_t i;
	uint64_t rev;

	(void)r;
	if (!res->ok) {
		watch_call_failed(w, "etcd: range: %s", res->error);
		return;
	}
	if (res->status != 200) {
		watch_call_failed(w, "etcd: range: HTTP %ld", res->status);
		return;
	}
	in = parse_body(res, &jerr);
	if (!in) {
		watch_call_failed(w, "etcd: range: malformed JSON: %s", jerr.text);
		return;
	}
	rev = num(json_object_get(json_object_get(in, "header"), "revision"));
	kvs = json_object_get(in, "kvs");
	map = json_object();
	json_array_foreach(kvs, i, kv) {
		if (put_kv(map, kv, 0) < 0) {
			json_decref(map);
			json_decref(in);
			watch_call_failed(w, "etcd: range: bad key or value");
			return;
		}
	}
	json_decref(in);
	if (rev == 0) {
		json_decref(map);
		watch_call_failed(w, "etcd: range: no revision in the answer");
		return;
	}
	full_read_done(w, map, rev, "revision");
}

/* One message of the watch stream.  Returns 0, or -1 to end the stream
 * (w->restart set when a full read must follow). */
static int v3_message(struct watch *w, const json_t *m)
{
	const json_t *res = json_object_get(m, "result"), *ev;
	uint64_t rev, compact;
	size_t i;
	int dirty = 0;

	if (!json_is_object(res)) {
		const char *e = json_string_value(json_object_get(json_object_get(m, "error"), "message"));

		log_warn_at("watch", w->name, "etcd watch error: %s", e ? e : "unexpected message");
		return -1;
	}
	rev = num(json_object_get(json_object_get(res, "header"), "revision"));
	compact = num(json_object_get(res, "compact_revision"));
	if (compact) {
		log_info_at("watch", w->name, "etcd compacted past revision %llu (now %llu); reading again",
			 (unsigned long long)w->index + 1, (unsigned long long)compact);
		w->need_read = w->restart = 1;
		return -1;
	}
	if (json_is_true(json_object_get(res, "canceled"))) {
		log_info_at("watch", w->name, "etcd canceled the watch; reading again");
		w->need_read = w->restart = 1;
		return -1;
	}
	if (json_is_true(json_object_get(res, "created")) && rev && rev < w->index) {
		log_info_at("watch", w->name, "etcd revision went backwards (%llu -> %llu); reading again",
			 (unsigned long long)w->index, (unsigned long long)rev);
		w->need_read = w->restart = 1;
		return -1;
	}
	json_array_foreach(json_object_get(res, "events"), i, ev) {
		const json_t *kv = json_object_get(ev, "kv");
		uint64_t mod = num(json_object_get(kv, "mod_revision"));

		if (put_kv(w->kv, kv, strcmp(data_str(ev, "type"), "DELETE") == 0) < 0) {
			w->need_read = w->restart = 1;
			return -1;
		}
		if (mod > w->index)
			w->index = mod;
		dirty = 1;
	}
	/* A progress notice (no events, not the creation) vouches that
	 * everything up to its revision was sent: resume from there. */
	if (!dirty && !json_is_true(json_object_get(res, "created")) && rev > w->index)
		w->index = rev;
	if (dirty)
		loop_add_timer(w->wr->loop, &w->timer, 0);   /* etcd_flush */
	return 0;
}

static int v3_data(struct http_req *r, struct buf *body, void *arg)
{
	struct watch *w = arg;
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
				log_warn_at("watch", w->name, "etcd watch: malformed JSON: %s", jerr.text);
				rc = -1;
			} else {
				rc = v3_message(w, m);
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

static void etcd_flush(struct watch *w)
{
	if (w->kv)
		watch_deliver(w, shape(w));
}

static void v3_watch_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watch *w = arg;

	(void)r;
	etcd_flush(w);
	if (w->restart) {
		w->restart = 0;
		watch_call_ok(w);
	} else if (res->ok && res->status != 200) {
		watch_call_failed(w, "etcd: watch: HTTP %ld", res->status);
	} else {
		watch_call_failed(w, "etcd: watch stream ended: %s",
				  res->ok ? "closed by the server" : res->error);
	}
}

static int v3_start(struct watch *w, struct lg_error *err)
{
	struct watcher *wr = w->wr;
	struct buf url = BUF_INIT, body = BUF_INIT;
	struct http_call c;
	int rc = buf_puts(&url, wr->etcd_base);

	memset(&c, 0, sizeof c);
	c.arg = w;
	rc |= buf_putc(&body, '{');
	if (w->need_read || w->index == 0) {
		rc |= buf_puts(&url, "/v3/kv/range") | v3_range_fields(w, &body);
		c.timeout = wr->o.timeout;
		c.on_done = v3_range_done;
	} else {
		rc |= buf_puts(&url, "/v3/watch") | buf_puts(&body, "\"create_request\":{") |
		      v3_range_fields(w, &body) |
		      buf_printf(&body, ",\"start_revision\":\"%llu\",\"progress_notify\":true}",
				 (unsigned long long)w->index + 1);
		c.on_data = v3_data;
		c.on_done = v3_watch_done;
		w->restart = 0;
	}
	rc |= buf_putc(&body, '}');
	if (rc) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		w->req = NULL;
	} else {
		c.url = buf_cstr(&url);
		c.body = buf_cstr(&body);
		log_debug_at("watch", w->name, "POST %s %s", c.url, c.body);
		w->req = http_start(wr->etcd_http, &c, err);
	}
	buf_free(&url);
	buf_free(&body);
	return w->req ? 0 : -1;
}

/* --- v2 ----------------------------------------------------------------- */

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

static void v2_read_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watch *w = arg;
	json_error_t jerr;
	json_t *in = NULL, *map;
	char idx[32];
	uint64_t index;

	(void)r;
	if (!res->ok) {
		watch_call_failed(w, "etcd: GET /v2/keys: %s", res->error);
		return;
	}
	if (res->status != 200 && res->status != 404) {
		watch_call_failed(w, "etcd: GET /v2/keys: HTTP %ld", res->status);
		return;
	}
	if (http_header(res->headers, "X-Etcd-Index", idx, sizeof idx) < 0 ||
	    (index = strtoull(idx, NULL, 10)) == 0) {
		watch_call_failed(w, "etcd: GET /v2/keys: no X-Etcd-Index");
		return;
	}
	in = parse_body(res, &jerr);
	if (!in) {
		watch_call_failed(w, "etcd: GET /v2/keys: malformed JSON: %s", jerr.text);
		return;
	}
	map = json_object();
	if (res->status == 200)
		v2_flatten(map, json_object_get(in, "node"));
	else if (num(json_object_get(in, "errorCode")) != 100) {
		json_decref(in);
		json_decref(map);
		watch_call_failed(w, "etcd: GET /v2/keys: HTTP %ld", res->status);
		return;
	}
	json_decref(in);
	full_read_done(w, map, index, "etcd index");
}

static void v2_wait_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watch *w = arg;
	json_error_t jerr;
	json_t *in;

	(void)r;
	if (!res->ok && res->timed_out) {
		watch_call_ok(w);      /* nothing happened within the wait */
		return;
	}
	if (!res->ok) {
		watch_call_failed(w, "etcd: wait /v2/keys: %s", res->error);
		return;
	}
	in = parse_body(res, &jerr);
	if (!in) {
		watch_call_failed(w, "etcd: wait /v2/keys: malformed JSON: %s", jerr.text);
		return;
	}
	if (res->status == 200) {
		w->need_read = 1;      /* something changed: read the whole tree */
	} else if (num(json_object_get(in, "errorCode")) == 401) {
		log_info_at("watch", w->name, "etcd index %llu outdated; reading again",
			 (unsigned long long)w->index + 1);
		w->need_read = 1;
	} else {
		json_decref(in);
		watch_call_failed(w, "etcd: wait /v2/keys: HTTP %ld", res->status);
		return;
	}
	json_decref(in);
	watch_call_ok(w);
}

static int v2_start(struct watch *w, struct lg_error *err)
{
	struct watcher *wr = w->wr;
	struct buf url = BUF_INIT, key = BUF_INIT;
	struct http_call c;
	int rc;

	memset(&c, 0, sizeof c);
	c.arg = w;
	rc = etcd_key(w, &key) | buf_puts(&url, wr->etcd_base) | buf_puts(&url, "/v2/keys") |
	     url_escape(&url, buf_cstr(&key), 1);
	if (w->need_read || w->index == 0) {
		rc |= buf_puts(&url, "?recursive=true");
		c.timeout = wr->o.timeout;
		c.on_done = v2_read_done;
	} else {
		rc |= buf_printf(&url, "?wait=true&recursive=true&waitIndex=%llu",
				 (unsigned long long)w->index + 1);
		c.timeout = wr->o.wait;
		c.on_done = v2_wait_done;
	}
	if (rc) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		w->req = NULL;
	} else {
		c.url = buf_cstr(&url);
		log_debug_at("watch", w->name, "GET %s", c.url);
		w->req = http_start(wr->etcd_http, &c, err);
	}
	buf_free(&url);
	buf_free(&key);
	return w->req ? 0 : -1;
}

static int etcd_start(struct watch *w, int blocking, struct lg_error *err)
{
	(void)blocking;   /* a v3 stream and a v2 wait are how etcd blocks */
	return w->backend == WB_ETCD2 ? v2_start(w, err) : v3_start(w, err);
}

const struct watch_ops etcd_ops = { "etcd", etcd_start, etcd_flush };
