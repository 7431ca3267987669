/* consul: the Consul HTTP API calls behind each watch kind (blocking
 * queries on X-Consul-Index) and the shaping of their answers. */
#include "watcher/consul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "watcher/data.h"
#include "watcher/watch_int.h"

/* The path (no query) a watch reads, appended to b. */
static int consul_path(const struct watch *w, struct buf *b)
{
	switch (w->n.kind) {
	case WK_SERVICES:
		return buf_puts(b, "/v1/catalog/services");
	case WK_SERVICE:
		return buf_puts(b, "/v1/health/service/") | url_escape(b, w->n.arg, 0);
	case WK_NODES:
		return buf_puts(b, "/v1/catalog/nodes");
	case WK_NODE:
		return buf_puts(b, "/v1/catalog/node/") | url_escape(b, w->n.arg, 0);
	case WK_KEY:
	case WK_TREE:
		return buf_puts(b, "/v1/kv/") | url_escape(b, w->n.arg, 1);
	case WK_TRIGGER:
		return buf_puts(b, w->n.arg);
	}
	return -1;
}

static const char *check_status(const json_t *checks)
{
	const char *worst = "passing", *s;
	size_t i;

	for (i = 0; i < json_array_size(checks); i++) {
		s = data_str(json_array_get(checks, i), "Status");
		if (strcmp(s, "critical") == 0)
			return "critical";
		if (strcmp(s, "warning") == 0)
			worst = "warning";
		else if (strcmp(s, "passing") != 0 && strcmp(worst, "passing") == 0)
			worst = "critical";  /* unknown status: not healthy */
	}
	return worst;
}

/* The service's tagged addresses, {"lan_ipv4": {"address", "port"}, ...}. */
static json_t *svc_tagged(const json_t *in)
{
	json_t *o = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)in, k, v) {
		json_t *port = json_object_get(v, "Port");

		if (o && json_is_object(v))
			json_object_set_new(o, k, json_pack("{s:s, s:I}", "address", data_str(v, "Address"),
				"port", (json_int_t)(json_is_integer(port) ? json_integer_value(port) : 0)));
	}
	return o;
}

static json_int_t int_of(const json_t *o, const char *k, json_int_t dflt)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* An instance's checks: [{id, name, status, output}] in Consul's order. */
static json_t *shape_check(const json_t *c)
{
	return json_pack("{s:s, s:s, s:s, s:o*}",
			 "id", data_str(c, "CheckID"), "name", data_str(c, "Name"),
			 "status", data_str(c, "Status"),
			 "output", data_string(data_str(c, "Output"), strlen(data_str(c, "Output"))));
}

/* An instance's checks, by id: the same list whoever read them (its own
 * health call or the catalog sweep). */
static json_t *shape_checks(const json_t *in)
{
	json_t *a = json_array(), *c;
	size_t i;

	json_array_foreach(in, i, c)
		if (a && json_is_object(c))
			json_array_append_new(a, shape_check(c));
	return a ? data_sort_by(a, "id", NULL) : NULL;
}

json_t *consul_instance(const json_t *node, const json_t *svc, const char *status)
{
	const char *addr = data_str(svc, "Address");
	json_t *port = json_object_get(svc, "Port");
	const json_t *w = json_object_get(svc, "Weights");

	if (!addr[0])
		addr = data_str(node, "Address");
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I}}",
			 "id", data_str(svc, "ID"), "name", data_str(svc, "Service"),
			 "address", addr,
			 "port", (json_int_t)(json_is_integer(port) ? json_integer_value(port) : 0),
			 "node", data_str(node, "Node"),
			 "node_address", data_str(node, "Address"),
			 "datacenter", data_str(node, "Datacenter"),
			 "tags", data_tags(json_object_get(svc, "Tags")),
			 "meta", data_meta(json_object_get(svc, "Meta")),
			 "status", status,
			 "node_id", data_str(node, "ID"),
			 "node_meta", data_meta(json_object_get(node, "Meta")),
			 "node_tagged_addresses", data_meta(json_object_get(node, "TaggedAddresses")),
			 "tagged_addresses", svc_tagged(json_object_get(svc, "TaggedAddresses")),
			 "weights", "passing", int_of(w, "Passing", 1), "warning", int_of(w, "Warning", 1));
}

static json_t *shape_service(const json_t *in)
{
	json_t *out = json_array(), *e, *inst;
	size_t i;

	if (!json_is_array(in))
		goto bad;
	json_array_foreach(in, i, e) {
		const json_t *node = json_object_get(e, "Node");
		const json_t *svc = json_object_get(e, "Service");

		if (!json_is_object(node) || !json_is_object(svc))
			goto bad;
		inst = consul_instance(node, svc, check_status(json_object_get(e, "Checks")));
		if (!inst || json_object_set_new(inst, "checks", shape_checks(json_object_get(e, "Checks"))) < 0 ||
		    json_array_append_new(out, inst) < 0)
			goto bad;
	}
	return data_sort_by(out, "node", "id");
bad:
	json_decref(out);
	return NULL;
}

/* {"name": [tags]} into [{name, tags}]; with tag, only the services
 * carrying it (the catalog's services call cannot filter by tag). */
static json_t *shape_services(const json_t *in, const char *tag)
{
	json_t *out = json_array(), *v;
	const char *k;

	if (!json_is_object(in))
		goto bad;
	json_object_foreach((json_t *)in, k, v) {
		if (tag && !data_has_string(v, tag))
			continue;
		if (json_array_append_new(out, json_pack("{s:s, s:o}", "name", k,
							 "tags", data_tags(v))) < 0)
			goto bad;
	}
	return data_sort_by(out, "name", NULL);
bad:
	json_decref(out);
	return NULL;
}

static json_t *shape_node_item(const json_t *n)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "node", data_str(n, "Node"),
			 "address", data_str(n, "Address"),
			 "datacenter", data_str(n, "Datacenter"),
			 "meta", data_meta(json_object_get(n, "Meta")));
}

static json_t *shape_nodes(const json_t *in)
{
	json_t *out = json_array(), *e;
	size_t i;

	if (!json_is_array(in))
		goto bad;
	json_array_foreach(in, i, e)
		if (!json_is_object(e) || json_array_append_new(out, shape_node_item(e)) < 0)
			goto bad;
	return data_sort_by(out, "node", NULL);
bad:
	json_decref(out);
	return NULL;
}

static json_t *shape_node(const json_t *in)
{
	const json_t *node = json_object_get(in, "Node");
	json_t *out, *svcs, *v;
	const char *k;

	if (json_is_null(in) || (json_is_object(in) && json_is_null(node)))
		return json_null();
	if (!json_is_object(node))
		return NULL;
	out = shape_node_item(node);
	svcs = json_array();
	json_object_foreach(json_object_get(in, "Services"), k, v) {
		json_t *inst = consul_instance(node, v, "passing");

		json_object_del(inst, "status");
		json_array_append_new(svcs, inst);
	}
	if (!out || !svcs || json_object_set_new(out, "services", data_sort_by(svcs, "id", NULL)) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* A KV entry's value, decoded from base64 (null stays ""). */
static json_t *kv_value(const json_t *e)
{
	const char *v = json_string_value(json_object_get(e, "Value"));
	struct buf b = BUF_INIT;
	json_t *s;

	if (!v)
		return json_string("");
	if (b64_decode(&b, v, strlen(v)) < 0) {
		buf_free(&b);
		return NULL;
	}
	s = data_string(b.data, b.len);
	buf_free(&b);
	return s;
}

static json_t *shape_kv(const struct watch *w, const json_t *in, long status)
{
	json_t *out, *e;
	size_t i;

	if (w->n.kind == WK_KEY) {
		if (status == 404)
			return json_null();
		if (!json_is_array(in) || json_array_size(in) < 1)
			return NULL;
		return kv_value(json_array_get(in, 0));
	}
	out = json_array();
	if (status == 404)
		return out;
	if (!json_is_array(in))
		goto bad;
	json_array_foreach(in, i, e) {
		const char *k = json_string_value(json_object_get(e, "Key"));
		json_t *v;

		if (!k)
			goto bad;
		if (k[0] && k[strlen(k) - 1] == '/')
			continue;  /* a folder, not a value */
		v = kv_value(e);
		if (!v || json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "key", data_relative_key(k, w->n.arg),
							       "path", k, "value", v)) < 0)
			goto bad;
	}
	return data_sort_by(out, "key", NULL);
bad:
	json_decref(out);
	return NULL;
}

json_t *consul_shape(const struct watch *w, const json_t *in, long status)
{
	switch (w->n.kind) {
	case WK_SERVICES:
		return shape_services(in, w->n.tag);
	case WK_SERVICE:
		return shape_service(in);
	case WK_NODES:
		return shape_nodes(in);
	case WK_NODE:
		return shape_node(in);
	case WK_KEY:
	case WK_TREE:
		return shape_kv(w, in, status);
	case WK_TRIGGER:
		return json_true();
	}
	return NULL;
}

/* Files a check under its node and its service instance (the node's own
 * under ""), shaped as an instance lists it, for the catalog sweep. */
static void note_check(json_t *map, const json_t *check)
{
	const char *node = data_str(check, "Node"), *sid = data_str(check, "ServiceID");
	json_t *n = json_object_get(map, node), *l;

	if (!n) {
		n = json_object();
		json_object_set_new(map, node, n);
	}
	if (!(l = json_object_get(n, sid))) {
		l = json_array();
		json_object_set_new(n, sid, l);
	}
	json_array_append_new(l, shape_check(check));
}

/* The health trigger's answer lists every check.  A service's checks are
 * summed up as "highest ModifyIndex/count"; checks of no service (the
 * node's own, like serfHealth) as one more entry under "".  Only services
 * whose summary moved need a new read; when the node checks moved, or on
 * the first answer, every service does.  Returns 0 and sets w->fire_only
 * (or leaves it NULL: wake all), or -1 on an unexpected shape. */
static int health_narrow(struct watch *w, const json_t *in)
{
	json_t *sig = json_object(), *changed, *c, *v;
	const char *k;
	size_t i;

	if (!json_is_array(in) || !sig) {
		json_decref(sig);
		return -1;
	}
	json_t *old_status = w->wr->check_status;

	w->wr->check_status = json_object();
	json_array_foreach(in, i, c) {
		const char *svc = data_str(c, "ServiceName");
		json_t *mi = json_object_get(c, "ModifyIndex");
		json_int_t m = json_is_integer(mi) ? json_integer_value(mi) : 0;
		json_t *cur = json_object_get(sig, svc);

		note_check(w->wr->check_status, c);

		if (!cur) {
			json_object_set_new(sig, svc, json_pack("[I, I]", m, (json_int_t)1));
		} else {
			json_int_t om = json_integer_value(json_array_get(cur, 0));

			json_array_set_new(cur, 0, json_integer(m > om ? m : om));
			json_array_set_new(cur, 1, json_integer(json_integer_value(json_array_get(cur, 1)) + 1));
		}
	}
	/* nodes whose statuses moved: the sweep works them out again */
	json_object_foreach(w->wr->check_status, k, v)
		if (!json_equal(v, json_object_get(old_status, k)))
			sweep_forget_node(w->wr, k);
	json_object_foreach(old_status, k, v)
		if (!json_object_get(w->wr->check_status, k))
			sweep_forget_node(w->wr, k);
	json_decref(old_status);
	json_decref(w->fire_only);
	w->fire_only = NULL;
	if (w->kv && json_equal(json_object_get(w->kv, ""), json_object_get(sig, ""))) {
		changed = json_object();
		json_object_foreach(sig, k, v)
			if (!json_equal(v, json_object_get(w->kv, k)))
				json_object_set_new(changed, k, json_true());
		json_object_foreach(w->kv, k, v)
			if (!json_object_get(sig, k))
				json_object_set_new(changed, k, json_true());
		w->fire_only = changed;
	}
	json_decref(w->kv);
	w->kv = sig;
	return 0;
}

/* The first line of an error answer's body, cut to fit out and with
 * anything but printable ASCII replaced: it says why (Consul's 429 "Your IP
 * is issuing too many concurrent connections", "ACL not found", "No cluster
 * leader"), and it is untrusted text bound for the log. */
static void error_text(const struct buf *body, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; body->data && i < body->len && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)body->data[i];

		if (c == '\n' || c == '\r') {
			if (n > 0)
				break;
			continue;
		}
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* An answer taken: its index and leader noted, its data (out, or NULL for
 * the data already held) delivered, body_hash kept for the next answer. */
static void taken(struct watch *w, const struct http_result *res, unsigned long long index,
		  int present, json_t *out, uint64_t body_hash)
{
	char idx[32];

	watch_set_index(w, index, present);
	if (http_header(res->headers, "X-Consul-KnownLeader", idx, sizeof idx) == 0 &&
	    strcmp(idx, "true") == 0)
		watch_leader_seen(w);
	if (out && w->n.kind == WK_TRIGGER)
		json_decref(out);
	else if (out)
		watch_deliver(w, out);
	w->body_hash = body_hash;
	watch_call_ok(w);
}

static void on_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watch *w = arg;
	struct buf path = BUF_INIT;
	char idx[32];
	json_t *in = NULL, *out;
	json_error_t jerr;
	int present, absent_ok, parsed;
	unsigned long long index = 0;
	uint64_t body_hash = 0;
	const char *body = res->body->data ? res->body->data : "";

	(void)r;
	consul_path(w, &path);
	absent_ok = w->n.kind == WK_KEY || w->n.kind == WK_TREE;
	if (!res->ok) {
		w->unavailable = 1;
		watch_call_failed(w, "consul: GET %s: %s", buf_cstr(&path), res->error);
		goto out;
	}
	if (res->status != 200 && !(res->status == 404 && absent_ok)) {
		char why[160];

		/* "No cluster leader", "rpc error": the agent or its servers are
		 * down or electing, not the request at fault. */
		w->unavailable = res->status >= 500;
		error_text(res->body, why, sizeof why);
		watch_call_failed(w, "consul: GET %s: HTTP %ld%s%s", buf_cstr(&path), res->status,
				  why[0] ? ": " : "", why);
		goto out;
	}
	if (w->stale_call && w->wr->o.max_stale > 0 &&
	    http_header(res->headers, "X-Consul-LastContact", idx, sizeof idx) == 0 &&
	    strtod(idx, NULL) > w->wr->o.max_stale * 1000) {
		/* A server that has not heard from a leader for that long (one
		 * just restarted answers from an empty store until it has) is
		 * not to be believed: the leader answers next. */
		w->unavailable = 1;
		w->verify_next = 1;
		watch_call_failed(w, "consul: GET %s: the answer is %.12s ms stale, beyond -max-stale",
				  buf_cstr(&path), idx);
		goto out;
	}
	present = http_header(res->headers, "X-Consul-Index", idx, sizeof idx) == 0;
	if (present) {
		char *end;

		index = strtoull(idx, &end, 10);
		present = end != idx && *end == '\0';
	}
	if (present && index < w->index && !w->verify_call) {
		/* Behind what was read before: a server still catching up (a
		 * stale read, or a leader just elected that has not applied its
		 * log yet answers from an old or empty store), or a cluster
		 * that really went back (an agent restarted empty).  A
		 * consistent read, which a leader answers only once it is sure
		 * of its state, tells which. */
		w->unavailable = 1;
		w->verify_next = 1;
		watch_call_failed(w, "consul: GET %s: index went backwards (%llu < %llu); checking with a consistent read",
				  buf_cstr(&path), index, (unsigned long long)w->index);
		goto out;
	}
	/* The catalog and KV triggers need only the index: their answers (every
	 * service, every key) are not parsed. */
	parsed = res->status == 200 &&
		 (w->n.kind != WK_TRIGGER || strcmp(w->n.arg, "/v1/health/state/any") == 0);
	if (parsed) {
		/* The very bytes taken last time (a blocking call whose wait ran
		 * out, a sweep's read that found nothing): the same data, not
		 * parsed again (at 10,000 services the services list is 1 MB
		 * and 60 ms of parse and canonical text). */
		body_hash = data_hash(body, res->body->len);
		if (body_hash != 0 && body_hash == w->body_hash) {
			log_debug_at("watch", w->name, "the same answer (%zu bytes)", res->body->len);
			taken(w, res, index, present, NULL, body_hash);
			goto out;
		}
		w->body_hash = 0;
		in = json_loadb(body, res->body->len, JSON_DECODE_ANY, &jerr);
		if (!in) {
			watch_call_failed(w, "consul: GET %s: malformed JSON: %s", buf_cstr(&path),
					  jerr.text);
			goto out;
		}
	}
	out = consul_shape(w, in, res->status);
	if (!out) {
		watch_call_failed(w, "consul: GET %s: unexpected JSON shape", buf_cstr(&path));
		goto out;
	}
	if (w->n.kind == WK_TRIGGER && strcmp(w->n.arg, "/v1/health/state/any") == 0 &&
	    health_narrow(w, in) < 0) {
		json_decref(out);
		watch_call_failed(w, "consul: GET %s: unexpected JSON shape", buf_cstr(&path));
		goto out;
	}
	taken(w, res, index, present, out, parsed ? body_hash : 0);
out:
	json_decref(in);
	buf_free(&path);
}

static int consul_start(struct watch *w, int blocking, struct lg_error *err)
{
	struct watcher *wr = w->wr;
	struct buf url = BUF_INIT;
	const char *hdrs[2] = { wr->token_header, NULL };
	struct http_call c;
	char sep = '?';
	int rc = 0;

	rc |= buf_puts(&url, wr->consul_base);
	rc |= consul_path(w, &url);
	if (w->n.kind == WK_TRIGGER && strchr(w->n.arg, '?'))
		sep = '&';
#define Q(...) do { rc |= buf_printf(&url, "%c", sep) | buf_printf(&url, __VA_ARGS__); sep = '&'; } while (0)
	if (w->n.kind == WK_TREE)
		Q("recurse=");
	if (w->n.kind == WK_SERVICE && !w->n.any)
		Q("passing=1");
	if (w->n.tag && w->n.kind == WK_SERVICE) {   /* services~tag=T filters here */
		Q("tag=");
		rc |= url_escape(&url, w->n.tag, 0);
	}
	if (w->n.dc) {
		Q("dc=");
		rc |= url_escape(&url, w->n.dc, 0);
	}
	w->verify_call = w->verify_next;
	w->verify_next = 0;
	w->stale_call = wr->o.consul_stale && !w->verify_call;
	if (w->stale_call)
		Q("stale=");
	if (w->verify_call)
		Q("consistent=");
	if (blocking)
		Q("index=%llu&wait=%gs", (unsigned long long)w->index, wr->o.wait);
#undef Q
	if (rc) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		buf_free(&url);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.url = buf_cstr(&url);
	c.headers = hdrs;
	/* Consul adds up to wait/16 of its own jitter to a blocking query. */
	c.timeout = (blocking ? wr->o.wait * 17 / 16 : 0) + wr->o.timeout;
	c.on_done = on_done;
	c.arg = w;
	log_debug_at("watch", w->name, "GET %s", c.url);
	w->req = http_start(wr->consul_http, &c, err);
	buf_free(&url);
	return w->req ? 0 : -1;
}

const struct watch_ops consul_ops = { "consul", consul_start, NULL };

static void on_leader(struct http_req *r, const struct http_result *res, void *arg)
{
	struct watcher *wr = arg;
	json_t *v = NULL;

	(void)r;
	if (res->ok && res->status == 200)
		v = json_loadb(res->body->data ? res->body->data : "", res->body->len, JSON_DECODE_ANY, NULL);
	watcher_leader(wr, json_is_string(v) ? json_string_value(v) : NULL);
	json_decref(v);
}

int consul_leader_start(struct watcher *wr)
{
	const char *hdrs[2] = { wr->token_header, NULL };
	struct lg_error err = { .text = "" };
	struct buf url = BUF_INIT;
	struct http_call c;

	if (buf_puts(&url, wr->consul_base) || buf_puts(&url, "/v1/status/leader")) {
		buf_free(&url);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.url = buf_cstr(&url);
	c.headers = hdrs;
	c.timeout = 2;
	c.on_done = on_leader;
	c.arg = wr;
	wr->leader_req = http_start(wr->consul_http, &c, &err);
	buf_free(&url);
	return wr->leader_req ? 0 : -1;
}
