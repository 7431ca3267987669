/* watch: the per-watch state machine (call, spacing, backoff, parking
 * under a trigger), the connection budget, and the canonical data each
 * watch keeps. */
#include "watcher/watch_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "watcher/data.h"

static const char *const state_names[] = {
	"idle", "queued", "in-flight", "spacing", "backoff", "parked"
};

static void step(struct watch *w, enum watch_event ev);

/* A factor in [lo, 1]: jitter that only ever shortens a delay. */
static double jitter(double lo)
{
	return lo + (1.0 - lo) * drand48();
}


/* --- data and status ---------------------------------------------------- */

void watch_deliver(struct watch *w, json_t *data)
{
	char *text;
	size_t len;
	uint64_t h;

	if (!data)
		return;
	/* Only a hash of the canonical text is kept: memory stays that of the
	 * data, at any catalog size. */
	text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text) {
		json_decref(data);
		return;
	}
	len = strlen(text);
	h = data_hash(text, len);
	if (w->data && h == w->text_hash && len == w->text_len) {
		free(text);
		json_decref(data);
		return;
	}
	json_decref(w->data);
	w->data = data;
	w->body_hash = 0;   /* the answer it came from is the caller's to note */
	w->text_hash = h;
	w->text_len = len;
	w->changes++;
	w->fresh = 1;
	w->last_change = clock_wall();
	log_debug_at("watch", w->name, "changed (%zu bytes)", len);
	free(text);
	/* Reported from the loop, outside any curl or backend call, so the
	 * callback may add and remove watches, this one included. */
	if (!w->notify_pending) {
		struct watcher *wr = w->wr;

		w->notify_pending = 1;
		w->nnext = NULL;
		if (wr->ntail)
			wr->ntail->nnext = w;
		else
			wr->nhead = w;
		wr->ntail = w;
		if (!wr->notify_timer.armed)
			loop_add_timer(wr->loop, &wr->notify_timer, 0);
	}
}

static void on_notify(struct loop *l, void *arg)
{
	struct watcher *wr = arg;
	struct watch *w;

	(void)l;
	while ((w = wr->nhead)) {
		wr->nhead = w->nnext;
		if (!wr->nhead)
			wr->ntail = NULL;
		w->notify_pending = 0;
		w->nnext = NULL;
		if (w->cb)
			w->cb(w, w->cb_arg);
	}
}

static void unnotify(struct watch *w)
{
	struct watcher *wr = w->wr;
	struct watch **pp, *prev = NULL;

	if (!w->notify_pending)
		return;
	for (pp = &wr->nhead; *pp; prev = *pp, pp = &(*pp)->nnext) {
		if (*pp == w) {
			*pp = w->nnext;
			if (wr->ntail == w)
				wr->ntail = prev;
			break;
		}
	}
	w->notify_pending = 0;
}

void watch_set_index(struct watch *w, uint64_t index, int present)
{
	if (!present || index == 0) {
		/* No index to block on: the next call must not block on a
		 * stale one, and the spacing keeps it from spinning. */
		log_debug_at("watch", w->name, "no usable index; next call does not block");
		w->index = 0;
		w->still++;     /* spaced further each time, like a stuck index */
		return;
	}
	if (index < w->index) {
		log_info_at("watch", w->name, "index went backwards (%llu -> %llu); reading afresh",
			 (unsigned long long)w->index, (unsigned long long)index);
		w->index = 0;
		w->need_read = 1;
		return;
	}
	if (index != w->index)
		w->still = 0;
	else
		w->still++;
	w->index = index;
}

const json_t *watch_data(const struct watch *w) { return w->data; }
char *watch_text(const struct watch *w)
{
	return w->data ? json_dumps(w->data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}
const char *watch_name(const struct watch *w) { return w->name; }

json_t *watch_status(const struct watch *w)
{
	const char *mode = w->backend != WB_CONSUL ? "stream" :
			   w->triggered ? "triggered" : "long-poll";

	return json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:s?, s:i, s:I, s:I}",
			 "name", w->name, "state", state_names[w->state], "mode", mode,
			 "index", (json_int_t)w->index,
			 "last_success", floor(w->last_success),
			 "last_change", floor(w->last_change),
			 "last_error", watch_error(w)[0] ? watch_error(w) : NULL,
			 "retries", (int)w->retries,
			 "errors", (json_int_t)w->errors,
			 "changes", (json_int_t)w->changes);
}

json_t *watcher_status(const struct watcher *wr)
{
	json_t *a = json_array();
	const struct watch *w;

	for (w = wr->watches; a && w; w = w->next)
		json_array_append_new(a, watch_status(w));
	return a;
}

unsigned long watcher_calls(const struct watcher *wr)
{
	return http_started(wr->consul_http) + http_started(wr->etcd_http);
}

unsigned long watcher_sweeps(const struct watcher *wr)
{
	return sweep_count(wr);
}

int watcher_node_polls(const struct watcher *wr)
{
	return wr->polling;
}

int watcher_requests(const struct watcher *wr)
{
	return (wr->consul_http ? http_active(wr->consul_http) : 0) +
	       (wr->etcd_http ? http_active(wr->etcd_http) : 0);
}

/* --- the state machine -------------------------------------------------- */

static void enqueue(struct watch *w)
{
	struct watcher *wr = w->wr;

	w->state = WS_QUEUED;
	w->qnext = NULL;
	if (wr->qtail)
		wr->qtail->qnext = w;
	else
		wr->qhead = w;
	wr->qtail = w;
}

static void dequeue(struct watch *w)
{
	struct watcher *wr = w->wr;
	struct watch **pp, *prev = NULL;

	for (pp = &wr->qhead; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp == w) {
			*pp = w->qnext;
			if (wr->qtail == w)
				wr->qtail = prev;
			w->qnext = NULL;
			return;
		}
	}
}

/* Starts queued triggered watches while sweep slots are free, then the
 * catalog sweep's node reads: a service known to have changed reads
 * before the sweep looks for more. */
static void pump(struct watcher *wr)
{
	struct watch *w;

	while (wr->sweeping < wr->sweep_cap && (w = wr->qhead)) {
		dequeue(w);
		step(w, EV_SLOT);
	}
	sweep_pump(wr);
}

static void call(struct watch *w)
{
	struct lg_error err = { .text = "" };
	int rc;

	w->last_start = clock_mono();
	w->unavailable = 0;
	w->state = WS_INFLIGHT;
	if (w->triggered)
		w->wr->sweeping++;
	/* A retry after an error does not block: the agent may be a new one
	 * whose indexes are still below ours, and a blocking call on ours would
	 * hide every change until the wait ran out.  The plain read's index
	 * tells (see watch_set_index). */
	w->blocking = !w->triggered && w->index > 0 && w->retries == 0 && !w->plain_next;
	w->plain_next = 0;
	rc = w->ops->start(w, w->blocking, &err);
	if (rc < 0)
		watch_call_failed(w, "%s", err.text);
}

static int triggers_ready(struct watch *w);

/* Wakes the triggered watches of class tc; with `only` (an object keyed by
 * service name), just the service watches it names. */
static void fire(struct watcher *wr, enum trigger_class tc, const json_t *only)
{
	struct watch *w;
	bool sweep = false;

	for (w = wr->watches; w; w = w->next) {
		if (!w->triggered || w->tclass != tc)
			continue;
		/* One sweep reads them all: every watch it serves when the
		 * catalog moved, and those still waiting for their first data
		 * whatever moved; a few named services read for themselves. */
		if (sweep_covers(w) && w->state == WS_PARKED && (!only || !w->data)) {
			/* before every trigger's first answer, it waits */
			sweep = sweep || triggers_ready(w);
			continue;
		}
		if (only && (w->n.kind != WK_SERVICE || !json_object_get(only, w->n.arg)))
			continue;
		step(w, EV_TRIGGER);
	}
	if (sweep)
		sweep_request(wr);
	pump(wr);
}

void watch_wake(struct watch *w)
{
	step(w, EV_TRIGGER);
}

void watcher_pump(struct watcher *wr)
{
	pump(wr);
}

/* May a triggered watch read now, or must it wait for its triggers' first
 * answer (so that no change falls between its read and their index)? */
static int triggers_ready(struct watch *w)
{
	int i;

	for (i = 0; i < 3; i++)
		if (w->wr->triggers[i] && w->wr->triggers[i]->tclass == w->tclass &&
		    !w->wr->triggers[i]->last_success)
			return 0;
	return 1;
}

/* How often the probe retries an agent that is down or without a leader:
 * a connection refused or a "No cluster leader" costs the agent nothing. */
#define PROBE_INTERVAL 0.5

/* Makes w the probe: its retry comes within PROBE_INTERVAL whatever its
 * backoff, so that the agent's return is seen within half a second while
 * every other watch waits out its own backoff (and is woken then). */
static void make_probe(struct watch *w, double *delay)
{
	double cap = PROBE_INTERVAL * jitter(0.5);

	w->wr->probe = w;
	if (*delay > cap)
		*delay = cap;
}

/* A call got through after errors: the agent is back, so every watch of
 * the same backend still backing off retries now (each a plain read, see
 * call()) rather than at the end of its backoff. */
static void wake(struct watch *w)
{
	struct watch *x;

	for (x = w->wr->watches; x; x = x->next)
		if (x != w && x->http == w->http && x->state == WS_BACKOFF)
			loop_add_timer(w->wr->loop, &x->timer, 0.05 * drand48());
}

static void after_ok(struct watch *w)
{
	struct watcher *wr = w->wr;
	double interval, delay;

	if (wr->probe == w)
		wr->probe = NULL;
	if (w->retries > 0)
		wake(w);
	w->retries = 0;
	watch_set_error(w, NULL);
	w->last_success = clock_wall();
	if (w->triggered) {
		wr->sweeping--;
		if (w->retrigger) {
			w->retrigger = 0;
			enqueue(w);
		} else {
			w->state = WS_PARKED;
		}
		pump(wr);
		return;
	}
	/* A call that brought a real change under a new index is followed at
	 * once: the next change may be right behind it.  Otherwise calls of one
	 * watch start at least min_interval apart, and a blocking call that
	 * keeps coming back at once with nothing new is spaced further,
	 * doubling up to the backoff cap: an index that does not move cannot
	 * make a busy loop. */
	interval = wr->o.min_interval;
	if (w->still > 0)
		interval = fmin(wr->o.backoff_max, interval * pow(2, fmin(w->still, 16)));
	else if (w->fresh && w->index > 0)
		interval = 0;
	w->fresh = 0;
	delay = w->last_start + interval * (1.0 + 0.25 * drand48()) - clock_mono();
	w->state = WS_SPACING;
	loop_add_timer(wr->loop, &w->timer, delay > 0 ? delay : 0);
}

int watch_retries_spent(const struct watcher *wr, unsigned retries)
{
	return wr->o.max_retries != 0 &&
	       (wr->o.max_retries < 0 || retries > (unsigned)wr->o.max_retries);
}

void watch_give_up(struct watch *w)
{
	w->given_up = 1;
	w->state = WS_IDLE;
	w->req = NULL;
	/* Told from the loop, outside the call's callback. */
	loop_add_timer(w->wr->loop, &w->timer, 0);
}

static void after_error(struct watch *w)
{
	struct watcher *wr = w->wr;
	double delay, now = clock_mono();
	/* The probe's tries ahead of its backoff are not retries of its own:
	 * the retry limit counts the backoff's calls, as without the probe. */
	int early = wr->probe == w && now < w->backoff_due;

	if (!early)
		w->retries++;
	w->errors++;
	w->err_at = now;
	if (w->triggered) {
		wr->sweeping--;
		w->retrigger = 0;   /* the retry reads everything anyway */
	}
	if (!early && watch_retries_spent(wr, w->retries)) {
		log_error("%s: %s; giving up after %u failed call(s)", w->name, watch_error(w), w->retries);
		watch_give_up(w);
		if (w->triggered)
			pump(wr);
		return;
	}
	if (early) {
		delay = w->backoff_due - now;
	} else {
		delay = wr->o.backoff_min * pow(2, fmin(w->retries - 1, 30));
		delay = fmin(delay, wr->o.backoff_max) * jitter(0.5);
		w->backoff_due = now + delay;
	}
	if (w->unavailable && (!wr->probe || wr->probe == w))
		make_probe(w, &delay);
	else if (wr->probe == w)
		wr->probe = NULL;   /* an error of its own, not the agent's */
	log_warn_at("watch", w->name, "%s; retry %u in %.1fs", watch_error(w), w->retries, delay);
	w->state = WS_BACKOFF;
	loop_add_timer(wr->loop, &w->timer, delay);
	if (w->triggered)
		pump(wr);
}

/* The transition function: every change of state goes through here. */
static void step(struct watch *w, enum watch_event ev)
{
	log_trace_at("watch", w->name, "%s + event %d", state_names[w->state], (int)ev);
	switch (ev) {
	case EV_START:
	case EV_TIMER:
		if (w->triggered) {
			if (ev == EV_START && !triggers_ready(w)) {
				w->state = WS_PARKED;
				return;
			}
			if (ev == EV_START && sweep_covers(w)) {
				/* its first data from a sweep, with every other
				 * watch started now: not a read each */
				w->state = WS_PARKED;
				sweep_request(w->wr);
				return;
			}
			enqueue(w);
			pump(w->wr);
		} else {
			call(w);
		}
		break;
	case EV_SLOT:
		if (w->state == WS_QUEUED)
			call(w);
		break;
	case EV_OK:
		if (w->state != WS_INFLIGHT)
			break;
		w->req = NULL;
		if (w->fires && (w->still == 0 || w->fire_only)) {
			json_t *only = w->fire_only;

			w->fire_only = NULL;
			w->last_success = clock_wall();   /* it counts as ready in fire() */
			fire(w->wr, w->tclass, only);
			json_decref(only);
		}
		after_ok(w);
		break;
	case EV_ERROR:
		if (w->state != WS_INFLIGHT)
			break;
		w->req = NULL;
		after_error(w);
		break;
	case EV_TRIGGER:
		if (w->state == WS_PARKED)
			enqueue(w);
		else if (w->state == WS_INFLIGHT)
			w->retrigger = 1;
		break;
	}
}

void watch_call_ok(struct watch *w)
{
	step(w, EV_OK);
}

void watch_set_error(struct watch *w, const char *text)
{
	if (!text) {
		if (w->last_error)
			w->last_error[0] = '\0';
		return;
	}
	if (!w->last_error && !(w->last_error = malloc(WATCH_ERROR_MAX)))
		return;   /* the failure counts; its text is lost */
	snprintf(w->last_error, WATCH_ERROR_MAX, "%s", text);
}

void watch_call_failed(struct watch *w, const char *fmt, ...)
{
	char text[WATCH_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	watch_set_error(w, text);
	step(w, EV_ERROR);
}

static void on_timer(struct loop *l, void *arg)
{
	struct watch *w = arg;

	(void)l;
	if (w->given_up) {
		if (w->wr->o.gave_up)
			w->wr->o.gave_up(w, w->wr->o.gave_up_arg);
		return;
	}
	if (w->state == WS_INFLIGHT && w->ops->flush)
		w->ops->flush(w);    /* a stream brought changes */
	else if (w->state == WS_IDLE)
		step(w, EV_START);
	else
		step(w, EV_TIMER);
}

/* --- the Consul leader ---------------------------------------------------- */

/* How often the leader is polled (a cheap call any server answers). */
#define LEADER_POLL 1.0

/* A blocking query is held by the server that answers it, for the default
 * consistency the leader.  A leader cut off from the others (a partition)
 * neither answers nor fails it: the call would sit out its whole wait
 * while a new leader takes changes.  So the watcher polls the leader, and
 * replaces by a plain read (then blocking again) every blocking call that
 * may sit on a leader gone:
 *  - after a time without a leader (polls failed or found none since the
 *    last sign of one), each call started before that time began: it has
 *    not failed since, so it may be held by a server cut off;
 *  - on a new leader seen straight after the old one, each call started
 *    before, by a watch with no error since the old leader was last seen
 *    (one that failed since has read through the change already: a leader
 *    killed or stepping down fails its calls).
 * The replaced calls run to their end unowned (see http_disown), inside
 * the budget. */
static void reread(struct watcher *wr, double before, double err_after)
{
	struct watch *w;

	for (w = wr->watches; w; w = w->next) {
		if (w->backend != WB_CONSUL || w->state != WS_INFLIGHT || !w->blocking ||
		    !w->req || w->last_start >= before || (err_after > 0 && w->err_at > err_after))
			continue;
		http_disown(w->http, w->req);
		w->req = NULL;
		w->plain_next = 1;
		call(w);
	}
	/* What the catalog sweep holds of each node may come from the old
	 * leader's view as well: one more sweep sets it right (the services
	 * whose instances moved then read for themselves), and its node
	 * long-polls start again after it. */
	if (wr->sweep) {
		sweep_reread(wr);
		sweep_request(wr);
	}
}

void watch_leader_seen(struct watch *w)
{
	w->wr->gap_at = 0;
}

void watcher_leader(struct watcher *wr, const char *leader)
{
	double asked = wr->leader_asked;

	wr->leader_req = NULL;
	wr->sweeping--;
	log_trace("consul: leader %s", leader ? leader : "(no answer)");
	if (!leader || !leader[0]) {
		if (!wr->gap_at)
			wr->gap_at = asked;
	} else {
		if (wr->gap_at) {
			log_info("consul: leader %.100s after a time without one: blocking calls read afresh",
				 leader);
			reread(wr, wr->gap_at, 0);
		} else if (wr->leader[0] && strcmp(leader, wr->leader) != 0) {
			log_info("consul: new leader %.100s (was %s): blocking calls read afresh", leader,
				 wr->leader);
			reread(wr, asked, wr->leader_confirmed);
		}
		snprintf(wr->leader, sizeof wr->leader, "%s", leader);
		wr->leader_confirmed = asked;
		wr->gap_at = 0;
	}
	pump(wr);
}

static void on_leader_timer(struct loop *l, void *arg)
{
	struct watcher *wr = arg;
	struct watch *w;

	loop_add_timer(l, &wr->leader_timer, LEADER_POLL);
	sweep_tick(wr);
	if (wr->leader_req || wr->sweeping >= wr->sweep_cap)
		return;   /* a short read's slot is taken: the next tick */
	for (w = wr->watches; w && w->backend != WB_CONSUL; w = w->next)
		;
	if (!w)
		return;
	wr->leader_asked = clock_mono();
	if (consul_leader_start(wr) == 0)
		wr->sweeping++;
}

/* --- adding and removing ----------------------------------------------- */

static int bad_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void watch_free(struct watch *w)
{
	free(w->name);
	free(w->last_error);
	watch_name_free(&w->n);
	json_decref(w->kv);
	json_decref(w->fire_only);
	json_decref(w->data);
	free(w);
}

static struct watch *watch_link(struct watcher *wr, const char *name)
{
	struct watch *w = calloc(1, sizeof *w);

	if (!w || !(w->name = strdup(name))) {
		free(w);
		return NULL;
	}
	w->wr = wr;
	loop_timer_init(&w->timer, on_timer, w);
	w->prev = wr->last;
	if (wr->last)
		wr->last->next = w;
	else
		wr->watches = w;
	wr->last = w;
	return w;
}

/* A watch of the template's own that asks what the catalog trigger would
 * (every service of the local datacenter, by a long-poll of its own): its
 * answers serve as the trigger's, and the agent encodes the whole list
 * once a change, not twice. */
static struct watch *catalog_twin(struct watcher *wr)
{
	struct watch *w;

	for (w = wr->watches; w; w = w->next)
		if (w->backend == WB_CONSUL && w->n.kind == WK_SERVICES && !w->n.dc &&
		    !w->triggered && !w->fires)
			return w;
	return NULL;
}

/* The triggers of a class, made when the first watch of it is parked; with
 * `twin`, a `services` watch already there serves as the catalog one. */
static int ensure_triggers(struct watcher *wr, enum trigger_class tc, bool twin)
{
	static const char *const names[3] = { "trigger:catalog", "trigger:health", "trigger:kv" };
	static const char *const args[3] = { "/v1/catalog/services", "/v1/health/state/any",
					     "/v1/kv/?keys=" };
	int i;

	for (i = 0; i < 3; i++) {
		struct watch *t;

		if ((tc == TC_CATALOG) != (i < 2) || wr->triggers[i])
			continue;
		if (i == 0 && twin && (t = catalog_twin(wr))) {
			log_debug_at("watch", t->name, "serves as the catalog trigger");
			t->fires = 1;
			wr->triggers[i] = t;
			continue;
		}
		t = watch_link(wr, names[i]);
		if (!t || !(t->n.arg = strdup(args[i])))
			return -1;
		t->n.kind = WK_TRIGGER;
		t->backend = WB_CONSUL;
		t->ops = &consul_ops;
		t->http = wr->consul_http;
		t->tclass = tc;
		t->fires = 1;
		wr->triggers[i] = t;
		loop_add_timer(wr->loop, &t->timer, 0);
	}
	return 0;
}

struct watch *watcher_add(struct watcher *wr, const char *name,
			  watch_changed_cb cb, void *arg, struct lg_error *err)
{
	struct watch_name n;
	struct watch *w;

	if (watch_name_parse(name, &n, err) < 0)
		return NULL;
	w = watcher_add_name(wr, name, &n, cb, arg, err);
	watch_name_free(&n);
	return w;
}

/* --- the index by name: adding the Nth watch does not walk N-1 others --- */

static size_t name_slot(const struct watcher *wr, const char *name)
{
	return data_hash(name, strlen(name)) & (wr->index_cap - 1);
}

static struct watch *index_find(const struct watcher *wr, const char *name)
{
	struct watch *w;

	if (!wr->index)
		return NULL;
	for (w = wr->index[name_slot(wr, name)]; w; w = w->hnext)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

static int index_add(struct watcher *wr, struct watch *w)
{
	if (wr->indexed + 1 > wr->index_cap / 2) {
		size_t cap = wr->index_cap ? wr->index_cap * 2 : 64;
		struct watch **t = calloc(cap, sizeof *t), *v, *next;

		if (!t)
			return -1;
		for (size_t i = 0; i < wr->index_cap; i++)
			for (v = wr->index[i]; v; v = next) {
				size_t k = data_hash(v->name, strlen(v->name)) & (cap - 1);
				next = v->hnext;
				v->hnext = t[k];
				t[k] = v;
			}
		free(wr->index);
		wr->index = t;
		wr->index_cap = cap;
	}
	size_t k = name_slot(wr, w->name);
	w->hnext = wr->index[k];
	wr->index[k] = w;
	w->indexed = true;
	wr->indexed++;
	return 0;
}

static void index_del(struct watcher *wr, struct watch *w)
{
	struct watch **p;

	if (!w->indexed)
		return;
	for (p = &wr->index[name_slot(wr, w->name)]; *p; p = &(*p)->hnext)
		if (*p == w) {
			*p = w->hnext;
			break;
		}
	w->indexed = false;
	wr->indexed--;
}

struct watch *watcher_add_name(struct watcher *wr, const char *name, const struct watch_name *n,
			       watch_changed_cb cb, void *arg, struct lg_error *err)
{
	struct watch *w;

	if ((w = index_find(wr, name)))
		return w;
	w = watch_link(wr, name);
	if (!w) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	w->cb = cb;
	w->cb_arg = arg;
	w->n.kind = n->kind;
	w->n.any = n->any;
	if ((n->arg && !(w->n.arg = strdup(n->arg))) || (n->tag && !(w->n.tag = strdup(n->tag))) ||
	    (n->dc && !(w->n.dc = strdup(n->dc)))) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	if ((w->n.kind == WK_KEY || w->n.kind == WK_TREE) && wr->etcd) {
		/* etcd watches share a few calls: no connection of their own. */
		w->backend = wr->o.etcd_v2 ? WB_ETCD2 : WB_ETCD3;
		w->ops = &etcd_ops;
		w->http = wr->etcd_http;
		w->need_read = 1;
	} else if (!wr->consul_base) {
		lg_error_set(err, NULL, 0, 0, "%s: no Consul address", name);
		goto err;
	} else {
		w->backend = WB_CONSUL;
		w->ops = &consul_ops;
		w->http = wr->consul_http;
		w->tclass = (w->n.kind == WK_KEY || w->n.kind == WK_TREE) ? TC_KV : TC_CATALOG;
		/* Calls of removed watches still running hold connections of
		 * the budget until they end. */
		if (wr->dedicated + http_disowned(wr->consul_http) + wr->node_reserve < wr->dedicated_cap) {
			wr->dedicated++;
			w->counted = 1;
			/* A template that lists every service reads each of
			 * them: past the slots, the sweep serves them, and
			 * three quarters of the slots long-poll nodes for it
			 * (see sweep.c), each covering every service on its
			 * node, rather than a few services of thousands. */
			if (w->n.kind == WK_SERVICES && !w->n.dc && !wr->node_reserve)
				wr->node_reserve = wr->dedicated_cap * 3 / 4;
		} else {
			w->triggered = 1;
			if (ensure_triggers(wr, w->tclass, true) < 0) {
				lg_error_set(err, NULL, 0, 0, "out of memory");
				goto err;
			}
		}
	}
	if (index_add(wr, w) < 0) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	loop_add_timer(wr->loop, &w->timer, 0);
	return w;
err:
	watcher_remove(wr, w);
	return NULL;
}

/* The last `services` watch goes (w): the slots kept for node polls go
 * back to the watches, and the polls run out unowned, inside the budget. */
static void unreserve(struct watcher *wr, struct watch *w)
{
	struct watch *x;

	for (x = wr->watches; x; x = x->next)
		if (x != w && x->counted && x->n.kind == WK_SERVICES && !x->n.dc)
			return;
	wr->node_reserve = 0;
	sweep_reread(wr);
}

/* A `services` watch that served as the catalog trigger goes: the
 * triggered watches left get a trigger of the watcher's own, whose first
 * answer wakes them all (a change the one going saw may have reached no
 * other watch). */
static void drop_twin(struct watcher *wr, struct watch *w)
{
	struct watch *x;

	for (int i = 0; i < 3; i++)
		if (wr->triggers[i] == w)
			wr->triggers[i] = NULL;
	w->fires = 0;
	for (x = wr->watches; x; x = x->next)
		if (x != w && x->triggered && x->tclass == TC_CATALOG) {
			if (ensure_triggers(wr, TC_CATALOG, false) < 0)
				log_error("out of memory: the catalog trigger could not be made again");
			break;
		}
}

void watcher_remove(struct watcher *wr, struct watch *w)
{
	index_del(wr, w);
	loop_del_timer(wr->loop, &w->timer);
	unnotify(w);
	if (w->state == WS_QUEUED)
		dequeue(w);
	if (w->req) {
		/* A Consul call goes on to its end, its answer dropped: closing
		 * it would leave the agent's end open until its wait ran out,
		 * outside the budget (see http_disown).  Its connection counts
		 * in the budget meanwhile (watcher_add_name).  An etcd stream
		 * never ends by itself: it is closed. */
		if (w->backend == WB_CONSUL)
			http_disown(w->http, w->req);
		else
			http_cancel(w->http, w->req);
		if (w->triggered)
			wr->sweeping--;
	}
	if (wr->probe == w) {
		/* Another watch waiting on the agent takes over the probing. */
		struct watch *x;

		wr->probe = NULL;
		for (x = wr->watches; x; x = x->next) {
			if (x != w && x->unavailable && x->state == WS_BACKOFF) {
				double delay = PROBE_INTERVAL;

				make_probe(x, &delay);
				loop_add_timer(wr->loop, &x->timer, delay);
				break;
			}
		}
	}
	if (w->be)
		w->be->stop(w);
	if (w->counted)
		wr->dedicated--;
	if (w->fires)
		drop_twin(wr, w);
	if (w->counted && w->n.kind == WK_SERVICES && !w->n.dc && wr->node_reserve)
		unreserve(wr, w);
	if (w->prev)
		w->prev->next = w->next;
	else
		wr->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		wr->last = w->prev;
	watch_free(w);
	pump(wr);
}

/* --- the watcher ---------------------------------------------------------- */

static char *base_url(const char *addr)
{
	struct buf b = BUF_INIT;

	if (strncmp(addr, "http://", 7) && strncmp(addr, "https://", 8))
		buf_puts(&b, "http://");
	buf_puts(&b, addr);
	while (b.len && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	return buf_steal(&b, NULL);
}

/* With a TLS server name, the URL names that host (so that curl sends it
 * as SNI and checks the certificate against it) and the connection goes to
 * the address's host and port: *base is rewritten and *connect_to set to
 * the CURLOPT_CONNECT_TO entry.  Returns 0, or -1 on a base URL it cannot
 * split or out of memory. */
static int server_name_route(char **base, const char *name, char **connect_to)
{
	const char *url = *base, *host = strstr(url, "://") + 3, *end, *port;
	struct buf u = BUF_INIT, c = BUF_INIT;
	size_t hl;

	if (host[0] == '[') {
		if (!(end = strchr(host, ']')))
			return -1;
		end++;
	} else {
		end = host + strcspn(host, ":/");
	}
	hl = (size_t)(end - host);
	if (hl == 0 || strchr(name, ':') || strchr(name, '/'))
		return -1;
	port = *end == ':' ? end + 1 : strncmp(url, "https", 5) == 0 ? "443" : "80";
	buf_append(&u, url, (size_t)(host - url));
	buf_puts(&u, name);
	buf_puts(&u, end);
	buf_printf(&c, "%s:%.*s:%.*s:%.*s", name, (int)strcspn(port, "/"), port, (int)hl, host,
		   (int)strcspn(port, "/"), port);
	free(*base);
	*base = buf_steal(&u, NULL);
	*connect_to = buf_steal(&c, NULL);
	return *base && *connect_to ? 0 : -1;
}

struct watcher *watcher_new(struct loop *l, const struct watcher_opts *opts,
			    struct lg_error *err)
{
	char *connect_to = NULL;
	struct watcher *wr = calloc(1, sizeof *wr);
	struct http_opts ho;

	if (!wr) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	wr->loop = l;
	wr->o = *opts;
	loop_timer_init(&wr->notify_timer, on_notify, wr);
	loop_timer_init(&wr->leader_timer, on_leader_timer, wr);
	if (wr->o.max_conns == 0)
		wr->o.max_conns = 32;
	if (wr->o.max_conns < 5) {
		lg_error_set(err, NULL, 0, 0, "max connections %d: at least 5 are needed", wr->o.max_conns);
		free(wr);
		return NULL;
	}
	if (wr->o.wait <= 0)
		wr->o.wait = 60;
	if (wr->o.min_interval <= 0)
		wr->o.min_interval = 0.2;
	if (wr->o.backoff_min <= 0)
		wr->o.backoff_min = 0.5;
	if (wr->o.backoff_max <= 0)
		wr->o.backoff_max = 30;
	if (wr->o.timeout <= 0)
		wr->o.timeout = 10;
	/* Budget: 3 trigger long-polls, a few sweep reads, the rest are
	 * long-polls of their own (watches', or the sweep's of nodes). */
	wr->sweep_cap = wr->o.max_conns / 8 > 1 ? wr->o.max_conns / 8 : 1;
	wr->dedicated_cap = wr->o.max_conns - 3 - wr->sweep_cap;
	wr->o.consul_addr = wr->o.consul_token = wr->o.etcd_addr = NULL;
	wr->o.ca_file = wr->o.cert_file = wr->o.key_file = wr->o.ca_path = NULL;
	wr->o.server_name = wr->o.consul_auth = NULL;
	srand48((long)clock_wall() ^ (long)getpid());
	memset(&ho, 0, sizeof ho);
	ho.ca_file = opts->ca_file;
	ho.cert_file = opts->cert_file;
	ho.key_file = opts->key_file;
	ho.ca_path = opts->ca_path;
	ho.insecure = opts->insecure;
	ho.max_conns = wr->o.max_conns;
	if (opts->consul_addr && opts->consul_addr[0]) {
		struct http_opts cho = ho;

		wr->consul_base = base_url(opts->consul_addr);
		if (!wr->consul_base) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			goto err;
		}
		if (opts->server_name && opts->server_name[0] &&
		    server_name_route(&wr->consul_base, opts->server_name, &connect_to) < 0) {
			lg_error_set(err, NULL, 0, 0, "TLS server name \"%s\" for %s: want a host name",
				     opts->server_name, opts->consul_addr);
			goto err;
		}
		if (opts->consul_auth && bad_text(opts->consul_auth)) {
			lg_error_set(err, NULL, 0, 0, "Consul basic auth with a control character");
			goto err;
		}
		cho.connect_to = connect_to;
		cho.userpwd = opts->consul_auth && opts->consul_auth[0] ? opts->consul_auth : NULL;
		wr->consul_http = http_new(l, &cho, err);
		if (!wr->consul_http)
			goto err;
		loop_add_timer(l, &wr->leader_timer, LEADER_POLL);
		if (opts->consul_token && opts->consul_token[0]) {
			struct buf b = BUF_INIT;

			if (bad_text(opts->consul_token)) {
				lg_error_set(err, NULL, 0, 0, "Consul token with a control character");
				goto err;
			}
			buf_printf(&b, "X-Consul-Token: %s", opts->consul_token);
			wr->token_header = buf_steal(&b, NULL);
		}
	}
	if (opts->etcd_addr && opts->etcd_addr[0] && !(wr->etcd = etcd_hub_new(wr, opts, err)))
		goto err;
	if (!wr->consul_base && !wr->etcd) {
		lg_error_set(err, NULL, 0, 0, "neither a Consul nor an etcd address");
		goto err;
	}
	free(connect_to);
	return wr;
err:
	free(connect_to);
	watcher_free(wr);
	return NULL;
}

void watcher_free(struct watcher *wr)
{
	if (!wr)
		return;
	sweep_free(wr);
	/* Requests first, so no callback reaches a freed watch. */
	http_free(wr->consul_http);
	etcd_hub_free(wr->etcd);
	loop_del_timer(wr->loop, &wr->notify_timer);
	loop_del_timer(wr->loop, &wr->leader_timer);
	while (wr->watches) {
		struct watch *w = wr->watches;

		loop_del_timer(wr->loop, &w->timer);
		wr->watches = w->next;
		watch_free(w);
	}
	json_decref(wr->check_status);
	free(wr->index);
	free(wr->consul_base);
	free(wr->token_header);
	free(wr);
}
