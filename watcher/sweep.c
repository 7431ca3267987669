/* sweep: finds which Consul service watches without a long-poll of their
 * own (the triggered ones) must read again when the catalog moves, in
 * requests that do not grow with the services.  One sweep reads the node
 * list and each node's services (a request per node, not per service),
 * keeps what each node holds, and works out again only the nodes whose
 * answer changed; the services whose instances changed there read for
 * themselves (their own health call, checks included), at once, ahead of
 * the sweep's remaining node reads.  A registration
 * costs 2 + nodes requests and one read of the service it touched, however
 * many are watched.  The watches' first data comes from a sweep too, with
 * the checks the health trigger last listed.  A sweep that fails wakes the
 * watches instead, each to read for itself.
 *
 * Nodes long-polled: a blocking read of one node returns when that node's
 * services change, not another's (Consul watches the node's own entries),
 * so the slots kept for it (node_reserve, once a `services` watch is
 * added) long-poll the nodes holding the most services.  A polled node's
 * change arrives by its poll, and sweeps pass it by: with P of N nodes
 * polled, a sweep reads N - P.  A poll that fails, or answers with no
 * index or an index gone back, is dropped and its node swept again. */
#include "watcher/watch_int.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "watcher/consul.h"
#include "watcher/data.h"

struct poll {
	struct sweep *s;
	char *node;
	struct http_req *r;     /* in flight, or NULL */
	uint64_t index;         /* what it blocks on: its last answer's */
	double started;         /* monotonic */
	int quick;              /* at once with the index unmoved, in a row */
};

struct sweep {
	struct watcher *wr;
	bool running, again;
	json_t *nodes;          /* node names to read in this sweep */
	size_t next, inflight;
	json_t *held;           /* node -> {"hash": body hash, "svc": {service -> [instances]}} */
	json_t *where;          /* service -> [node]: the nodes holding it (the
				 * names shared through the pool) */
	json_t *dirty;          /* service -> true: changed in this sweep */
	json_t *pool;           /* canonical text -> value shared by the instances */
	bool first;             /* no sweep has delivered yet: every watch gets its data */
	bool parsed;            /* this sweep parsed a node's answer */
	int failed;
	struct sweep_req {
		struct http_req *r;
		size_t node;    /* its index in nodes (the node list's read: none) */
	} *reqs;                /* in flight, for cancelling */
	size_t nreqs, capreqs;
	struct poll **polls;    /* the node long-polls */
	size_t npolls, cappolls;
	bool fill;              /* a node may be worth a poll: look (poll_fill) */
	unsigned long sweeps, failures;
};

/* Is w a watch a sweep can serve: a local Consul service watch without a
 * long-poll of its own? */
bool sweep_covers(const struct watch *w)
{
	return w->triggered && w->backend == WB_CONSUL && w->n.kind == WK_SERVICE && !w->n.dc;
}

static int get(struct sweep *s, const char *path, http_done_cb done, size_t node);

/* Request r is done: out of the list; returns the node it read. */
static size_t forget_req(struct sweep *s, struct http_req *r)
{
	for (size_t i = 0; i < s->nreqs; i++)
		if (s->reqs[i].r == r) {
			size_t node = s->reqs[i].node;
			s->reqs[i] = s->reqs[--s->nreqs];
			return node;
		}
	return SIZE_MAX;
}

/* The checks of a node's instance sid (the node's own and its own, by id:
 * a new list) and their worst status, as its own health call would give. */
static json_t *checks_of(const struct watcher *wr, const char *node, const char *sid, const char **status)
{
	const json_t *n = json_object_get(wr->check_status, node);
	json_t *all = json_array(), *c;
	int worst = 0;   /* passing, warning, critical */
	size_t i;

	json_array_extend(all, json_object_get(n, ""));
	if (sid[0])
		json_array_extend(all, json_object_get(n, sid));
	json_array_foreach(all, i, c) {
		const char *st = data_str(c, "status");
		int rank = strcmp(st, "passing") == 0 ? 0 : strcmp(st, "warning") == 0 ? 1 : 2;
		if (rank > worst)
			worst = rank;
	}
	*status = worst == 0 ? "passing" : worst == 1 ? "warning" : "critical";
	return data_sort_by(all, "id", NULL);
}

/* The instances of service svc, from every node holding it (new list of
 * shared instances). */
static json_t *instances_of(const struct sweep *s, const char *svc)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(s->where, svc), i, v) {
		const char *node = json_string_value(v);
		json_t *list = json_object_get(json_object_get(json_object_get(s->held, node), "svc"), svc);
		json_array_extend(out, list);
	}
	return out;
}

/* Wakes the watches with data whose service changed (s->dirty), and
 * empties dirty.  A service that changed reads for itself: its own health
 * call gives its checks as new as its instances, where the health
 * trigger's may be older than this sweep's reads.  Called as each node's
 * answer is worked out, so that a change does not wait for the rest of
 * the sweep. */
static void wake_dirty(struct sweep *s)
{
	if (s->first || json_object_size(s->dirty) == 0)
		return;
	for (struct watch *w = s->wr->watches; w; w = w->next)
		if (sweep_covers(w) && w->data && json_object_get(s->dirty, w->n.arg))
			watch_wake(w);
	json_object_clear(s->dirty);
}

/* Gives the watches the sweep covers their first data (at the first sweep,
 * or when they have none yet), and wakes those whose service changed. */
static void deliver(struct sweep *s)
{
	struct watcher *wr = s->wr;

	wake_dirty(s);
	for (struct watch *w = wr->watches; w; w = w->next) {
		json_t *all, *out, *inst;
		size_t i;

		if (!sweep_covers(w) || (!s->first && w->data))
			continue;
		all = instances_of(s, w->n.arg);
		out = json_array();
		json_array_foreach(all, i, inst) {
			if (!w->n.any && strcmp(data_str(inst, "status"), "passing") != 0)
				continue;
			if (w->n.tag && !data_has_string(json_object_get(inst, "tags"), w->n.tag))
				continue;
			json_array_append(out, inst);
		}
		json_decref(all);
		watch_deliver(w, data_sort_by(out, "node", "id"));
		w->last_success = clock_wall();
	}
	s->first = false;
}

/* Service name is no longer held by node. */
static void where_del(struct sweep *s, const char *name, const char *node)
{
	json_t *set = json_object_get(s->where, name), *v;
	size_t i;

	json_array_foreach(set, i, v)
		if (strcmp(json_string_value(v), node) == 0) {
			json_array_remove(set, i);
			break;
		}
	if (set && json_array_size(set) == 0)
		json_object_del(s->where, name);
}

/* A node that is gone: what it held goes. */
static void drop_node(struct sweep *s, const char *node)
{
	json_t *h = json_object_get(s->held, node);
	const char *name;
	json_t *v;

	if (!h)
		return;
	json_object_foreach(json_object_get(h, "svc"), name, v) {
		where_del(s, name, node);
		json_object_set_new(s->dirty, name, json_true());
	}
	json_object_del(s->held, node);
}

static void prune_pool(struct sweep *s);
static void poll_fill(struct sweep *s);
static bool polled(const struct sweep *s, const char *node);
static struct poll *poll_of(const struct sweep *s, const char *node);
static void poll_end(struct sweep *s, struct poll *p, bool cancel);

static void finish(struct sweep *s)
{
	struct watcher *wr = s->wr;

	s->running = false;
	if (!s->failed) {
		/* the nodes that left the catalog */
		json_t *seen = json_object();
		const char *node;
		json_t *v, *tmp;
		size_t i;
		json_array_foreach(s->nodes, i, v)
			json_object_set(seen, json_string_value(v), json_true());
		json_object_foreach_safe(s->held, tmp, node, v)
			if (!json_object_get(seen, node)) {
				/* Consul does not end a node's blocking read when
				 * the node goes: its poll runs out its wait unowned */
				struct poll *p = poll_of(s, node);

				if (p)
					poll_end(s, p, false);
				drop_node(s, node);
			}
		json_decref(seen);
	}
	json_decref(s->nodes);
	s->nodes = NULL;
	if (s->failed) {
		/* Each watch reads for itself instead. */
		s->failures++;
		for (struct watch *w = wr->watches; w; w = w->next)
			if (sweep_covers(w))
				watch_wake(w);
	} else {
		deliver(s);
	}
	json_object_clear(s->dirty);
	if (!s->failed) {
		s->fill = true;
		poll_fill(s);
	}
	prune_pool(s);
#ifdef __GLIBC__
	/* A node's answer parsed is thousands of short-lived values between
	 * long-lived ones; the holes they leave go back to the system rather
	 * than stay in the private memory (about 10 MB at 10,000 services). */
	if (s->parsed)
		malloc_trim(0);
#endif
	s->parsed = false;
	if (s->again) {
		s->again = false;
		sweep_request(wr);
	}
	watcher_pump(wr);
}

/* Starts node reads while slots are free. */
void sweep_pump(struct watcher *wr)
{
	struct sweep *s = wr->sweep;
	struct buf path = BUF_INIT;

	while (s && s->running && s->nodes && !s->failed && s->next < json_array_size(s->nodes) &&
	       wr->sweeping < wr->sweep_cap) {
		size_t i = s->next++;
		const char *node = json_string_value(json_array_get(s->nodes, i));
		if (polled(s, node))
			continue;   /* its poll brings its changes */
		buf_reset(&path);
		if (buf_puts(&path, "/v1/catalog/node/") < 0 || url_escape(&path, node, 0) < 0 ||
		    get(s, buf_cstr(&path), NULL, i) < 0) {
			s->failed = 1;
			break;
		}
	}
	buf_free(&path);
	if (s && s->running && s->inflight == 0 && s->nodes &&
	    (s->failed || s->next >= json_array_size(s->nodes)))
		finish(s);
}

/* The instances of a catalog repeat most of their values (the node's name,
 * address, ID, meta and datacenter, the status and checks, the service's
 * name, tags, meta and weights):
 * one shared value each, by canonical text, keeps 10,000 services in a few
 * MB less.  Nothing changes data once it is delivered, so sharing is safe;
 * values only the pool holds go at the end of a sweep. */
static const char *const shared_keys[] = {
	"name", "address", "node", "node_address", "datacenter", "status", "tags", "meta",
	"node_id", "node_meta", "node_tagged_addresses", "tagged_addresses", "weights", NULL
};

/* The pool's value with v's text (v taken; a new reference). */
static json_t *pooled(struct sweep *s, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_t *same;

	if (!text)
		return v;
	if ((same = json_object_get(s->pool, text))) {
		json_incref(same);
		json_decref(v);
		v = same;
	} else {
		json_object_set(s->pool, text, v);
	}
	free(text);
	return v;
}

/* The instance's values replaced by the pool's.  Only members it has are
 * replaced: jansson grows an object's table before it looks a key up, so
 * a replacement in a full table (16 members) would double it. */
static void share_values(struct sweep *s, json_t *inst)
{
	for (const char *const *k = shared_keys; *k; k++) {
		json_t *v = json_object_get(inst, *k);

		if (v)
			json_object_set_new(inst, *k, pooled(s, json_incref(v)));
	}
}

static void prune_pool(struct sweep *s)
{
	const char *k;
	json_t *v, *tmp;

	json_object_foreach_safe(s->pool, tmp, k, v)
		if (v->refcount == 1)
			json_object_del(s->pool, k);
}

/* What node holds, by service; NULL when the answer is not a node's. */
static json_t *holding(struct sweep *s, const json_t *in)
{
	json_t *node = json_object_get(in, "Node"), *svcs = json_object_get(in, "Services"), *svc;
	json_t *out = json_object();
	const char *id;

	if (!json_is_object(node) || !out) {
		json_decref(out);
		return NULL;
	}
	json_object_foreach(svcs, id, svc) {
		const char *name = data_str(svc, "Service");
		json_t *list = json_object_get(out, name), *inst;

		if (!list) {
			list = json_array();
			json_object_set_new(out, name, list);
		}
		const char *status;
		json_t *checks = checks_of(s->wr, data_str(node, "Node"), data_str(svc, "ID"), &status);

		/* shared before "checks" makes the 16th member (see share_values) */
		inst = consul_instance(node, svc, status);
		if (inst)
			share_values(s, inst);
		if (inst && (!checks || json_object_set_new(inst, "checks", pooled(s, checks)) < 0)) {
			json_decref(inst);
			inst = NULL;
		} else if (!inst) {
			json_decref(checks);
		}
		if (inst)
			json_array_append_new(list, inst);
	}
	return out;
}

/* Node node now holds now (taken): the services whose lists differ from
 * what it held before, either way, are dirty; `where` follows. */
static void replace_holding(struct sweep *s, const char *node, json_t *now, uint64_t hash)
{
	json_t *old = json_object_get(json_object_get(s->held, node), "svc"), *v, *is, *set;
	const char *name;

	json_object_foreach(old, name, v) {
		if (!(is = json_object_get(now, name)) || !json_equal(is, v))
			json_object_set_new(s->dirty, name, json_true());
		else
			/* the same instances: keep the ones the watches hold,
			 * not a second copy of them */
			json_object_set(now, name, v);
		where_del(s, name, node);
	}
	json_object_foreach(now, name, v) {
		if (!old || !json_object_get(old, name))
			json_object_set_new(s->dirty, name, json_true());
		if (!(set = json_object_get(s->where, name))) {
			set = json_array();
			json_object_set_new(s->where, name, set);
		}
		json_array_append_new(set, pooled(s, json_string(node)));
	}
	json_object_set_new(s->held, node, json_pack("{s:I, s:o}", "hash", (json_int_t)hash, "svc", now));
}

/* Node name's answer (body, len bytes hashing to h, under index): parsed
 * and worked out again only when its bytes differ from the last answer's
 * (or its checks moved since).  -1: not a node's answer. */
static int take_node(struct sweep *s, const char *name, const char *body, size_t len, uint64_t h,
		     uint64_t index)
{
	json_t *old = json_object_get(s->held, name), *in, *now;
	const char *node;

	if (!old || json_integer_value(json_object_get(old, "hash")) != (json_int_t)h) {
		s->parsed = true;
		in = json_loadb(body, len, 0, NULL);
		node = data_str(json_object_get(in, "Node"), "Node");
		if (!in || strcmp(node, name) != 0 || !(now = holding(s, in))) {
			json_decref(in);
			return -1;
		}
		replace_holding(s, name, now, h);
		json_decref(in);
		wake_dirty(s);
	}
	/* where a poll of it would block */
	json_object_set_new(json_object_get(s->held, name), "index", json_integer((json_int_t)index));
	return 0;
}

/* The X-Consul-Index of an answer, or 0. */
static uint64_t answer_index(const struct http_result *res)
{
	char idx[32];

	return http_header(res->headers, "X-Consul-Index", idx, sizeof idx) == 0 ?
		strtoull(idx, NULL, 10) : 0;
}

/* One node's answer, in a sweep. */
static void on_node(struct http_req *r, const struct http_result *res, void *arg)
{
	struct sweep *s = arg;
	const char *body;
	size_t idx = forget_req(s, r);

	s->inflight--;
	s->wr->sweeping--;
	if (!res->ok || res->status != 200) {
		/* 404: the node left between the list and this read (the sweep
		 * drops it at its end); anything else: the sweep fails */
		if (!(res->ok && res->status == 404)) {
			log_warn("catalog sweep: a node read failed (%s); the watches read for themselves",
				 res->ok ? "HTTP error" : res->error);
			s->failed = 1;
		}
		watcher_pump(s->wr);
		return;
	}
	body = res->body->data ? res->body->data : "";
	if (take_node(s, json_string_value(json_array_get(s->nodes, idx)), body, res->body->len,
		      data_hash(body, res->body->len), answer_index(res)) < 0)
		s->failed = 1;
	watcher_pump(s->wr);
}

/* ---- node long-polls ----------------------------------------------------- */

static struct poll *poll_of(const struct sweep *s, const char *node)
{
	for (size_t i = 0; i < s->npolls; i++)
		if (strcmp(s->polls[i]->node, node) == 0)
			return s->polls[i];
	return NULL;
}

/* Is node's data kept by a poll in flight (and not to be worked out
 * again: its checks moved)? */
static bool polled(const struct sweep *s, const char *node)
{
	const struct poll *p = poll_of(s, node);

	return p && p->r && json_integer_value(json_object_get(json_object_get(s->held, node), "hash")) != 0;
}

/* p goes (its call ended, or was let go of); another node may take its
 * slot. */
static void poll_drop(struct sweep *s, struct poll *p)
{
	s->fill = true;
	for (size_t i = 0; i < s->npolls; i++)
		if (s->polls[i] == p) {
			s->polls[i] = s->polls[--s->npolls];
			break;
		}
	free(p->node);
	free(p);
}

/* p's call let run to its end unowned (closed, with cancel), and p
 * dropped. */
static void poll_end(struct sweep *s, struct poll *p, bool cancel)
{
	struct watcher *wr = s->wr;

	if (p->r) {
		if (cancel)
			http_cancel(wr->consul_http, p->r);
		else
			http_disown(wr->consul_http, p->r);
		wr->polling--;
	}
	poll_drop(s, p);
}

static void on_poll(struct http_req *r, const struct http_result *res, void *arg);

static int poll_call(struct sweep *s, struct poll *p)
{
	struct watcher *wr = s->wr;
	const char *hdrs[2] = { wr->token_header, NULL };
	struct buf url = BUF_INIT;
	struct http_call c;
	struct lg_error err;
	int rc;

	rc = buf_printf(&url, "%s/v1/catalog/node/", wr->consul_base);
	rc |= url_escape(&url, p->node, 0);
	rc |= buf_printf(&url, "?index=%llu&wait=%gs%s", (unsigned long long)p->index, wr->o.wait,
			 wr->o.consul_stale ? "&stale=" : "");
	if (rc) {
		buf_free(&url);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.url = buf_cstr(&url);
	c.headers = hdrs;
	c.timeout = wr->o.wait * 17 / 16 + wr->o.timeout;
	c.on_done = on_poll;
	c.arg = p;
	log_debug("node poll: GET %s", c.url);
	p->r = http_start(wr->consul_http, &c, &err);
	buf_free(&url);
	if (!p->r)
		return -1;
	p->started = clock_mono();
	wr->polling++;
	return 0;
}

static void on_poll(struct http_req *r, const struct http_result *res, void *arg)
{
	struct poll *p = arg;
	struct sweep *s = p->s;
	struct watcher *wr = s->wr;
	const char *body = res->body->data ? res->body->data : "", *why = NULL;
	uint64_t index = 0;

	(void)r;
	p->r = NULL;
	wr->polling--;
	if (!res->ok || res->status != 200)
		why = res->ok ? "HTTP error" : res->error;
	else if ((index = answer_index(res)) == 0 || index < p->index)
		why = "no index, or one gone back";
	else if (take_node(s, p->node, body, res->body->len, data_hash(body, res->body->len), index) < 0)
		why = "not the node's answer";   /* it left: the next sweep sees it go */
	else if (index == p->index && clock_mono() - p->started < 1 && ++p->quick >= 3)
		why = "it keeps answering at once";
	if (!why) {
		if (index != p->index)
			p->quick = 0;
		p->index = index;
		if (poll_call(s, p) < 0)
			why = "out of memory";
	}
	if (why) {
		log_debug("node poll %s: %s; the node is swept again", p->node, why);
		poll_drop(s, p);
	}
	watcher_pump(wr);
}

/* Polls started, while slots are kept for them and free, on the nodes
 * holding the most services not polled yet; s->fill stays set while slots
 * are wanting (a poll let go of frees its slot only when its call ends,
 * unseen: sweep_tick looks again). */
static void poll_fill(struct sweep *s)
{
	struct watcher *wr = s->wr;

	while (s->fill && s->npolls < (size_t)wr->node_reserve &&
	       wr->dedicated + http_disowned(wr->consul_http) + wr->polling < wr->dedicated_cap) {
		const char *node, *best = NULL;
		json_int_t index = 0;
		size_t most = 0;
		struct poll *p;
		json_t *h;

		json_object_foreach(s->held, node, h) {
			size_t n = json_object_size(json_object_get(h, "svc"));
			json_int_t i = json_integer_value(json_object_get(h, "index"));

			if (n > most && i > 0 && !poll_of(s, node)) {
				most = n;
				best = node;
				index = i;
			}
		}
		if (!best) {
			s->fill = false;
			return;
		}
		if (s->npolls == s->cappolls) {
			size_t n = s->cappolls ? s->cappolls * 2 : 8;
			struct poll **np = realloc(s->polls, n * sizeof *np);
			if (!np)
				return;
			s->polls = np;
			s->cappolls = n;
		}
		if (!(p = calloc(1, sizeof *p)) || !(p->node = strdup(best))) {
			free(p);
			return;
		}
		p->s = s;
		p->index = (uint64_t)index;
		s->polls[s->npolls++] = p;
		if (poll_call(s, p) < 0) {
			poll_drop(s, p);
			return;
		}
	}
}

void sweep_tick(struct watcher *wr)
{
	struct sweep *s = wr->sweep;

	if (s && s->fill && !s->running && !s->first)
		poll_fill(s);
}

void sweep_reread(struct watcher *wr)
{
	struct sweep *s = wr->sweep;

	while (s && s->npolls)
		poll_end(s, s->polls[0], false);
}

/* The node list: what to read next. */
static void on_nodes(struct http_req *r, const struct http_result *res, void *arg)
{
	struct sweep *s = arg;
	json_t *in, *n;
	size_t i;

	(void)forget_req(s, r);
	s->inflight--;
	s->wr->sweeping--;
	in = res->ok && res->status == 200 ?
		json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, NULL) : NULL;
	s->nodes = json_array();
	if (!in || !json_is_array(in) || !s->nodes) {
		log_warn("catalog sweep: the node list could not be read; the watches read for themselves");
		s->failed = 1;
	} else {
		json_array_foreach(in, i, n)
			json_array_append_new(s->nodes, json_string(data_str(n, "Node")));
	}
	json_decref(in);
	watcher_pump(s->wr);
}

static int get(struct sweep *s, const char *path, http_done_cb done, size_t node)
{
	struct watcher *wr = s->wr;
	const char *hdrs[2] = { wr->token_header, NULL };
	struct buf url = BUF_INIT;
	struct http_call c;
	struct lg_error err;
	struct http_req *r;

	if (buf_printf(&url, "%s%s%s", wr->consul_base, path, wr->o.consul_stale ? "?stale=" : "") < 0)
		return -1;
	if (s->nreqs == s->capreqs) {
		size_t n = s->capreqs ? s->capreqs * 2 : 16;
		struct sweep_req *nr = realloc(s->reqs, n * sizeof *nr);
		if (!nr) {
			buf_free(&url);
			return -1;
		}
		s->reqs = nr;
		s->capreqs = n;
	}
	memset(&c, 0, sizeof c);
	c.url = buf_cstr(&url);
	c.headers = hdrs;
	c.timeout = wr->o.timeout;
	c.on_done = done ? done : on_node;
	c.arg = s;
	log_debug("catalog sweep: GET %s", c.url);
	r = http_start(wr->consul_http, &c, &err);
	buf_free(&url);
	if (!r)
		return -1;
	s->reqs[s->nreqs].r = r;
	s->reqs[s->nreqs++].node = node;
	s->inflight++;
	wr->sweeping++;
	return 0;
}

void sweep_request(struct watcher *wr)
{
	struct sweep *s = wr->sweep;

	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return;
		s->wr = wr;
		wr->sweep = s;
	}
	if (s->running) {
		s->again = true;   /* the catalog moved while it ran: once more after */
		return;
	}
	s->running = true;
	s->failed = 0;
	s->next = 0;
	s->sweeps++;
	if (!s->held) {
		s->held = json_object();
		s->where = json_object();
		s->pool = json_object();
		s->dirty = json_object();
		s->first = true;
	}
	if (!s->dirty || !s->held || !s->where || !s->pool ||
	    get(s, "/v1/catalog/nodes", on_nodes, SIZE_MAX) < 0) {
		s->failed = 1;
		finish(s);
	}
}

void sweep_free(struct watcher *wr)
{
	struct sweep *s = wr->sweep;

	if (!s)
		return;
	for (size_t i = 0; i < s->nreqs; i++)
		http_cancel(wr->consul_http, s->reqs[i].r);
	free(s->reqs);
	while (s->npolls)
		poll_end(s, s->polls[0], true);
	free(s->polls);
	json_decref(s->nodes);
	json_decref(s->held);
	json_decref(s->where);
	json_decref(s->pool);
	json_decref(s->dirty);
	free(s);
	wr->sweep = NULL;
}

void sweep_forget_node(struct watcher *wr, const char *node)
{
	json_t *h = wr->sweep ? json_object_get(wr->sweep->held, node) : NULL;

	/* read and worked out again at the next sweep */
	if (h)
		json_object_set_new(h, "hash", json_integer(0));
}

unsigned long sweep_count(const struct watcher *wr)
{
	return wr->sweep ? wr->sweep->sweeps : 0;
}
