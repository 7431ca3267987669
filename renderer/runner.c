/* runner: renders templates from watched data, waits out quiescence, and
 * puts the result in place through stage, check, atomic install and
 * command; keeps per-template state and the counters /status and /metrics
 * report. */
#include "renderer/runner.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "haproxy/driver.h"
#include "renderer/apply.h"
#include "mustache/mustache.h"

#define MAX_TEMPLATE_FILE ((size_t)16 << 20)

/* ---- the registry of watches ---------------------------------------------- */

struct dep {
	char *name;
	struct watch *watch;
	int refs;
	unsigned mark;      /* generation stamp while one render collects deps */
	struct dep *next;   /* hash chain */
};

#define DEP_BUCKETS 1024

struct hap_entry;

struct runner_deps {
	struct watcher *wr;
	struct dep *bucket[DEP_BUCKETS];
	size_t count;
	struct runner *current;  /* where change notifications go */
	struct hap_entry *haps;  /* HAProxy drivers, by destination and options */
};

static unsigned hash_name(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % DEP_BUCKETS;
}

/* ---- HAProxy drivers ------------------------------------------------------- */

/* The HAProxy driver of each destination, kept in the registry so that a
 * configuration reload with the same haproxy block keeps what it knows of
 * HAProxy (no reload just because legate re-read its configuration). */
struct hap_entry {
	char *key;                  /* destination and every option, one per line */
	struct hap_driver *d;
	struct runner_deps *deps;
	int refs;
	struct hap_entry *next;
};

static void render_now(struct runner *r, const struct hap_entry *e);

/* The driver found its file written by someone else: render it again. */
static void hap_rewrite(void *arg)
{
	struct hap_entry *e = arg;
	if (e->deps->current)
		render_now(e->deps->current, e);
}

static char *hap_key(const struct template_config *tc)
{
	const struct template_haproxy *h = &tc->haproxy;
	char *k;
	if (asprintf(&k, "%s\n%s\n%s\n%ld\n%ld\n%ld\n%d", tc->destination, h->master_socket,
		     h->runtime_socket ? h->runtime_socket : "", h->drain_timeout_ms, h->reload_timeout_ms,
		     h->audit_interval_ms, h->runtime) < 0)
		return NULL;
	return k;
}

/* The driver for tc, shared or new; NULL with err filled. */
static struct hap_entry *hap_get(struct runner_deps *d, struct loop *l, const struct template_config *tc,
				 struct lg_error *err)
{
	const struct template_haproxy *h = &tc->haproxy;
	struct hap_driver_opts o = {
		.master_socket = h->master_socket,
		.runtime_socket = h->runtime_socket,
		.drain_timeout = h->drain_timeout_ms / 1000.0,
		.reload_timeout = h->reload_timeout_ms / 1000.0,
		.audit_interval = h->audit_interval_ms / 1000.0,
		.runtime = h->runtime,
		.label = tc->destination,
		.path = tc->destination,
		.rewrite = hap_rewrite,
	};
	struct hap_entry *e;
	char *key = hap_key(tc), *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!key)
		goto oom;
	for (e = d->haps; e; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			free(key);
			e->refs++;
			return e;
		}
	}
	/* What the file holds now is what HAProxy runs, as far as anyone knows. */
	if ((f = fopen(tc->destination, "r"))) {
		struct buf b = BUF_INIT;
		char chunk[65536];
		size_t n;
		b.limit = HAP_CFG_MAX;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			if (buf_append(&b, chunk, n) < 0)
				break;
		fclose(f);
		text = buf_steal(&b, &len);
	}
	if (!(e = calloc(1, sizeof *e)))
		goto oom;
	e->deps = d;
	o.rewrite_arg = e;
	e->d = hap_driver_new(l, &o, text, len);
	free(text);
	text = NULL;
	if (!e->d) {
		free(e);
		goto oom;
	}
	e->key = key;
	e->refs = 1;
	e->next = d->haps;
	d->haps = e;
	return e;
oom:
	free(key);
	free(text);
	lg_error_set(err, NULL, 0, 0, "out of memory");
	return NULL;
}

static void hap_release(struct runner_deps *d, struct hap_entry *e)
{
	struct hap_entry **pp;

	if (!e || --e->refs > 0)
		return;
	for (pp = &d->haps; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	hap_driver_free(e->d);
	free(e->key);
	free(e);
}

struct runner_deps *runner_deps_new(struct watcher *wr)
{
	struct runner_deps *d = calloc(1, sizeof *d);
	if (d)
		d->wr = wr;
	return d;
}

void runner_deps_free(struct runner_deps *d)
{
	if (!d)
		return;
	while (d->haps) {
		d->haps->refs = 1;
		hap_release(d, d->haps);
	}
	for (size_t i = 0; i < DEP_BUCKETS; i++) {
		struct dep *e = d->bucket[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (e->watch)
				watcher_remove(d->wr, e->watch);
			free(e->name);
			free(e);
		}
	}
	free(d);
}

size_t runner_deps_count(const struct runner_deps *d)
{
	return d->count;
}

static struct dep *dep_find(struct runner_deps *d, const char *name)
{
	for (struct dep *e = d->bucket[hash_name(name)]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void on_watch_changed(struct watch *w, void *arg);

/* Finds or creates the entry for name, adding the watch.  The new entry has
 * refs 0: the caller takes its reference.  NULL with err on failure. */
static struct dep *dep_get(struct runner_deps *d, const char *name, struct lg_error *err)
{
	struct dep *e = dep_find(d, name);
	unsigned h;

	if (e)
		return e;
	e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(name))) {
		free(e);
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	e->watch = watcher_add(d->wr, name, on_watch_changed, d, err);
	if (!e->watch) {
		free(e->name);
		free(e);
		return NULL;
	}
	h = hash_name(name);
	e->next = d->bucket[h];
	d->bucket[h] = e;
	d->count++;
	log_debug("watching %s", name);
	return e;
}

static void dep_release(struct runner_deps *d, struct dep *e)
{
	struct dep **pp;

	if (--e->refs > 0)
		return;
	for (pp = &d->bucket[hash_name(e->name)]; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	log_debug("no longer watching %s", e->name);
	watcher_remove(d->wr, e->watch);
	free(e->name);
	free(e);
	d->count--;
}

/* ---- templates ------------------------------------------------------------ */

enum tstate {
	T_WAITING,        /* some data has not arrived yet */
	T_OK,             /* installed (or identical) and its command or reload succeeded */
	T_RENDER_ERROR,
	T_CHECK_FAILED,
	T_INSTALL_FAILED,
	T_COMMAND_FAILED,
	T_RELOAD_FAILED,  /* HAProxy refused the reload or did not confirm it */
};

static const char *const tstate_names[] = {
	"waiting", "ok", "render_error", "check_failed", "install_failed", "command_failed", "reload_failed",
};

/* Change-to-render latency buckets, seconds (Prometheus histogram). */
static const double lat_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NLAT (sizeof lat_bounds / sizeof lat_bounds[0])

struct tmpl {
	struct runner *r;
	const struct template_config *cfg;
	const char *label;              /* destination, or source for -dry */
	struct mustache_tpl *tpl;
	struct mustache_env *env;
	struct mustache_opts opts;
	uid_t uid;
	gid_t gid;

	struct dep **deps;              /* what the last render used */
	size_t ndeps;

	struct loop_timer timer;
	struct apply_opts ao;           /* how a rendering reaches its destination */
	struct hap_entry *hap;          /* an HAProxy configuration's driver */
	struct apply_job *job;          /* the pass in progress, if any */
	bool rerender;                  /* a change came while the job ran */
	bool pending;
	double first_change, last_change;

	enum tstate state;
	bool installed_once;            /* destination in place at least once */
	bool handled;                   /* -once: finished, one way or the other */
	char last_error[1024];
	char waiting_for[256];
	double last_render;             /* wall clock, 0: never */
	double last_install;

	unsigned long renders, installs, render_errors, check_failures,
		install_failures, command_failures, commands, reload_failures;
	unsigned long lat_count, lat_bucket[NLAT];
	double lat_sum;
};

struct runner {
	struct loop *loop;
	struct runner_deps *deps;
	const struct config *cfg;
	struct runner_hooks hooks;
	struct tmpl *t;
	size_t n;
	unsigned mark;
	bool ready_sent, done_sent;
};

static void set_error(struct tmpl *t, enum tstate st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct tmpl *t, enum tstate st, const char *fmt, ...)
{
	va_list ap;
	t->state = st;
	va_start(ap, fmt);
	vsnprintf(t->last_error, sizeof t->last_error, fmt, ap);
	va_end(ap);
	log_error("%s", t->last_error);
}

/* ---- the lookup hook: names a template uses become watches ---------------- */

struct render_ctx {
	struct tmpl *t;
	struct dep **deps;     /* collected during this render */
	size_t ndeps, cap;
	struct dep *lists[8];  /* services lists used, for {{#instances}} */
	size_t nlists;
	unsigned missing;
	char first_missing[256];
};

static int ctx_use(struct render_ctx *c, const char *name, struct dep **out, struct lg_error *err)
{
	struct runner *r = c->t->r;
	struct dep *e = dep_get(r->deps, name, err);

	if (!e)
		return -1;
	if (e->mark != r->mark) {
		if (c->ndeps == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 16;
			struct dep **nd = realloc(c->deps, ncap * sizeof *nd);
			if (!nd) {
				lg_error_set(err, NULL, 0, 0, "out of memory");
				return -1;
			}
			c->deps = nd;
			c->cap = ncap;
		}
		e->mark = r->mark;
		e->refs++;
		c->deps[c->ndeps++] = e;
	}
	*out = e;
	return 0;
}

/* For {{#instances}} inside {{#services}} (or services~tag=T, ...): the
 * innermost context that is an item of a services list this render used
 * names the service. */
static const char *enclosing_service(const struct render_ctx *c, const struct mustache_lookup *q)
{
	for (size_t i = q->depth; i-- > 0;) {
		json_t *ctx = q->stack[i];
		if (!json_is_object(ctx))
			continue;
		for (size_t l = 0; l < c->nlists; l++) {
			const json_t *list = watch_data(c->lists[l]->watch);
			size_t k;
			json_t *item;
			json_array_foreach(list, k, item)
				if (item == ctx)
					return json_string_value(json_object_get(ctx, "name"));
		}
	}
	return NULL;
}

static int lookup(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		  char *errtext, size_t errlen)
{
	struct render_ctx *c = ud;
	const char *root = q->seg[0].s;
	char name[1024];
	struct lg_error le;
	struct dep *e;

	out->value = NULL;
	out->consumed = 1;
	out->owned = 0;

	if (strcmp(root, "env") == 0) {
		const char *v = q->nseg >= 2 ? getenv(q->seg[1].s) : NULL;
		if (v && (out->value = json_string(v))) {
			out->owned = 1;
			out->consumed = 2;
		}
		return 0;
	}
	if (strcmp(root, "services") == 0 || strncmp(root, "services~", 9) == 0 ||
	    strncmp(root, "services@", 9) == 0 || strcmp(root, "nodes") == 0) {
		snprintf(name, sizeof name, "%.1000s", root);
	} else if (strcmp(root, "service") == 0 || strcmp(root, "node") == 0) {
		if (q->nseg < 2)
			return 0;
		if (snprintf(name, sizeof name, "%s.%s", root, q->seg[1].s) >= (int)sizeof name) {
			snprintf(errtext, errlen, "name too long: %.60s...", q->name);
			return -1;
		}
		out->consumed = 2;
	} else if (strcmp(root, "key") == 0 || strcmp(root, "tree") == 0) {
		/* A key path may hold dots: everything after "key." is the path. */
		if (q->nseg < 2)
			return 0;
		if (snprintf(name, sizeof name, "%s", q->name) >= (int)sizeof name) {
			snprintf(errtext, errlen, "name too long: %.60s...", q->name);
			return -1;
		}
		out->consumed = 0;
	} else if (strcmp(root, "instances") == 0) {
		const char *svc = enclosing_service(c, q);
		if (!svc)
			return 0;
		if (snprintf(name, sizeof name, "service.%s", svc) >= (int)sizeof name) {
			snprintf(errtext, errlen, "service name too long");
			return -1;
		}
	} else {
		return 0;   /* not a data name: missing, renders empty */
	}
	if (ctx_use(c, name, &e, &le) < 0) {
		snprintf(errtext, errlen, "%s", le.text);
		return -1;
	}
	if (strncmp(name, "services", 8) == 0 && c->nlists < sizeof c->lists / sizeof c->lists[0]) {
		size_t l;
		for (l = 0; l < c->nlists && c->lists[l] != e; l++)
			;
		if (l == c->nlists)
			c->lists[c->nlists++] = e;
	}
	out->value = (json_t *)watch_data(e->watch);
	if (!out->value) {
		if (c->missing++ == 0)
			snprintf(c->first_missing, sizeof c->first_missing, "%.200s", name);
	}
	return 0;
}

/* ---- rendering and installing --------------------------------------------- */

static void check_ready_and_done(struct runner *r)
{
	bool all_installed = true, all_handled = true, all_ok = true;

	for (size_t i = 0; i < r->n; i++) {
		all_installed &= r->t[i].installed_once;
		all_handled &= r->t[i].handled;
		all_ok &= r->t[i].state == T_OK;
	}
	if (all_installed && !r->ready_sent) {
		r->ready_sent = true;
		if (r->hooks.ready)
			r->hooks.ready(r, r->hooks.arg);
	}
	if (r->cfg->once && all_handled && !r->done_sent) {
		r->done_sent = true;
		if (r->hooks.done)
			r->hooks.done(r, all_ok, r->hooks.arg);
	}
}

/* Takes the result of a complete render to its destination. */
static void record_latency(struct tmpl *t)
{
	double lat;
	if (!t->pending)
		return;
	lat = clock_mono() - t->first_change;
	t->lat_count++;
	t->lat_sum += lat;
	for (size_t i = 0; i < NLAT; i++)
		if (lat <= lat_bounds[i])
			t->lat_bucket[i]++;
}

/* The end of one pass from render to command, whatever its outcome. */
static void finish(struct tmpl *t)
{
	struct runner *r = t->r;

	record_latency(t);
	t->pending = false;
	t->handled = true;
	if (t->rerender) {
		/* A change came while the pass ran: render again. */
		t->rerender = false;
		loop_add_timer(r->loop, &t->timer, 0);
	}
	check_ready_and_done(r);
	if (!runner_busy(r) && r->hooks.idle)
		r->hooks.idle(r, r->hooks.arg);
}

static long wait_min(const struct tmpl *t)
{
	return t->cfg->wait_set ? t->cfg->wait_min_ms : t->r->cfg->wait_min_ms;
}

static long wait_max(const struct tmpl *t)
{
	return t->cfg->wait_set ? t->cfg->wait_max_ms : t->r->cfg->wait_max_ms;
}

/* Quiescence: a change is put in place min after the last change, but no
 * later than max after the first one. */
static double quiet_at(const struct tmpl *t)
{
	long mn = wait_min(t), mx = wait_max(t);
	double at = t->last_change + mn / 1000.0;

	if (mx > 0 && at > t->first_change + mx / 1000.0)
		at = t->first_change + mx / 1000.0;
	return at;
}

static void on_installed(void *arg)
{
	struct tmpl *t = arg;

	t->installs++;
	t->installed_once = true;
	t->last_install = clock_wall();
	check_ready_and_done(t->r);   /* readiness: HAProxy may start on this file */
}

static void on_applied(const struct apply_outcome *o, void *arg)
{
	struct tmpl *t = arg;

	t->job = NULL;
	if (o->deferred) {
		/* A reload is needed: it waits out the quiescence. */
		double wait = quiet_at(t) - clock_mono();
		loop_add_timer(t->r->loop, &t->timer, wait > 0 ? wait : 0);
		t->rerender = false;
		return;
	}
	if (o->command_ran)
		t->commands++;
	if (o->ok) {
		bool nothing_done = !o->changed && !o->command_ran && !o->runtime && !o->reloaded;
		/* a failed command or reload stays the state until one succeeds */
		if (!nothing_done || (t->state != T_COMMAND_FAILED && t->state != T_RELOAD_FAILED)) {
			t->state = T_OK;
			t->last_error[0] = '\0';
		}
		t->installed_once = true;
	} else {
		switch (o->failed) {
		case AS_INSTALL:
			t->install_failures++;
			set_error(t, T_INSTALL_FAILED, "%s", o->error);
			break;
		case AS_CHECK:
			t->check_failures++;
			set_error(t, T_CHECK_FAILED, "%s", o->error);
			break;
		case AS_COMMAND:
			t->command_failures++;
			set_error(t, T_COMMAND_FAILED, "%s", o->error);
			break;
		case AS_RELOAD:
		case AS_NONE:
			t->reload_failures++;
			set_error(t, T_RELOAD_FAILED, "%s", o->error);
			break;
		}
	}
	finish(t);
}

/* Takes the result of a complete render to its destination through the
 * pipeline (renderer/apply.c); on_applied() follows. */
static void put_in_place(struct tmpl *t, struct buf *out)
{
	const struct template_config *tc = t->cfg;
	double now = clock_mono();
	bool allow_reload;

	if (t->r->cfg->dry) {
		printf("> %s\n%s", tc->destination ? tc->destination : t->label, buf_cstr(out));
		fflush(stdout);
		t->state = T_OK;
		t->installed_once = true;
		finish(t);
		return;
	}
	/* A reload waits out the quiescence; runtime changes do not. */
	allow_reload = !t->pending || !t->installed_once || now >= quiet_at(t);
	t->job = apply_start(t->r->loop, &t->ao, out->data ? out->data : "", out->len, allow_reload,
			     on_applied, t);
	if (!t->job) {
		t->install_failures++;
		set_error(t, T_INSTALL_FAILED, "%s: out of memory", t->label);
		finish(t);
	}
}

static void render(struct tmpl *t)
{
	struct runner *r = t->r;
	struct render_ctx c = { .t = t };
	struct lg_error me;
	struct buf out = BUF_INIT;
	char msg[512];
	int rc;

	if (t->job) {
		/* One pass at a time per template: this change is rendered when
		 * the running pass ends. */
		t->rerender = true;
		return;
	}
	r->mark++;
	t->opts.lookup = lookup;
	t->opts.lookup_ud = &c;
	rc = mustache_render(t->env, t->tpl, NULL, &t->opts, &out, &me);
	t->renders++;
	t->last_render = clock_wall();

	/* The new set of names replaces the old one; taking the new references
	 * before dropping the old keeps every watch still used alive. */
	for (size_t i = 0; i < t->ndeps; i++)
		dep_release(r->deps, t->deps[i]);
	free(t->deps);
	t->deps = c.deps;
	t->ndeps = c.ndeps;

	if (rc < 0) {
		t->render_errors++;
		set_error(t, T_RENDER_ERROR, "%s; %s left unchanged",
			  lg_error_str(&me, msg, sizeof msg),
			  t->cfg->destination ? t->cfg->destination : "output");
		finish(t);
	} else if (c.missing) {
		/* Not all data is in: write nothing yet; the watch that is missing
		 * calls back when it arrives. */
		memcpy(t->waiting_for, c.first_missing, sizeof t->waiting_for);
		log_debug("%s: waiting for %u name(s), first %s", t->label, c.missing, c.first_missing);
		if (!t->installed_once)
			t->state = T_WAITING;
		t->pending = false;
		check_ready_and_done(r);
	} else {
		t->waiting_for[0] = '\0';
		put_in_place(t, &out);
	}
	buf_free(&out);
}

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	render(arg);
}

/* Quiescence: render min after the last change, but no later than max after
 * the first one; with no wait, on the next loop turn (so changes arriving
 * together give one render).  An HAProxy template renders on the next turn
 * whatever its wait: server changes go through the runtime API at once,
 * and only a reload waits out the quiescence (put_in_place). */
static void schedule(struct tmpl *t)
{
	double now = clock_mono(), at;

	if (!t->pending) {
		t->pending = true;
		t->first_change = now;
	}
	t->last_change = now;
	at = quiet_at(t);
	if (!t->installed_once || t->hap)
		at = now;   /* nothing to protect yet: the first render is not held back */
	loop_add_timer(t->r->loop, &t->timer, at > now ? at - now : 0);
}

static void render_now(struct runner *r, const struct hap_entry *e)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].hap == e)
			loop_add_timer(r->loop, &r->t[i].timer, 0);
}

static void on_watch_changed(struct watch *w, void *arg)
{
	struct runner_deps *d = arg;
	struct runner *r = d->current;
	struct dep *e;

	if (!r || !(e = dep_find(d, watch_name(w))))
		return;
	log_debug("%s changed", watch_name(w));
	for (size_t i = 0; i < r->n; i++) {
		struct tmpl *t = &r->t[i];
		for (size_t k = 0; k < t->ndeps; k++) {
			if (t->deps[k] == e) {
				schedule(t);
				break;
			}
		}
	}
}

/* ---- set-up --------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len, struct lg_error *err)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f) {
		lg_error_set(err, NULL, 0, 0, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	b.limit = MAX_TEMPLATE_FILE;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: %s", path, errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
			fclose(f);
			buf_free(&b);
			return NULL;
		}
	}
	if (ferror(f)) {
		lg_error_set(err, NULL, 0, 0, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	return buf_steal(&b, len);
}

/* A user or group given as a number or a name: returns its id, or -1 when
 * no such name exists. */
static long owner_id(const char *name, bool group)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end && v >= 0)
		return v;
	if (group) {
		struct group *gr = getgrnam(name);
		return gr ? (long)gr->gr_gid : -1;
	}
	struct passwd *pw = getpwnam(name);
	return pw ? (long)pw->pw_uid : -1;
}

static int resolve_owner(struct tmpl *t, struct lg_error *err)
{
	const struct template_config *tc = t->cfg;
	long id;

	t->uid = (uid_t)-1;
	t->gid = (gid_t)-1;
	if (tc->user) {
		if ((id = owner_id(tc->user, false)) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: user \"%s\" not found", tc->origin, tc->user);
			return -1;
		}
		t->uid = (uid_t)id;
	}
	if (tc->group) {
		if ((id = owner_id(tc->group, true)) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: group \"%s\" not found", tc->origin, tc->group);
			return -1;
		}
		t->gid = (gid_t)id;
	}
	return 0;
}

static int tmpl_init(struct runner *r, struct tmpl *t, const struct template_config *tc,
		     struct lg_error *err)
{
	struct lg_error me;
	char msg[512], dirbuf[4096];
	const char *name = tc->source ? tc->source : tc->origin;
	char *src = NULL;
	size_t len = 0;

	t->r = r;
	t->cfg = tc;
	t->label = tc->destination ? tc->destination : name;
	loop_timer_init(&t->timer, on_timer, t);
	if (resolve_owner(t, err) < 0)
		return -1;
	if (tc->source) {
		if (!(src = read_file(tc->source, &len, err)))
			return -1;
	} else {
		len = strlen(tc->contents);
	}
	t->tpl = mustache_compile(name, src ? src : tc->contents, len, &me);
	free(src);
	if (!t->tpl) {
		lg_error_set(err, NULL, 0, 0, "%s", lg_error_str(&me, msg, sizeof msg));
		return -1;
	}
	t->env = mustache_env_new();
	if (!t->env) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return -1;
	}
	if (tc->partials_dir) {
		mustache_env_set_dir(t->env, tc->partials_dir);
	} else if (tc->source) {
		snprintf(dirbuf, sizeof dirbuf, "%s", tc->source);
		mustache_env_set_dir(t->env, dirname(dirbuf));
	}
	mustache_opts_init(&t->opts);
	if (mustache_escape_parse(tc->escape ? tc->escape : "config", &t->opts.escape) < 0) {
		lg_error_set(err, NULL, 0, 0, "%s: unknown escape mode \"%s\"", tc->origin, tc->escape);
		return -1;
	}
	t->opts.strict = tc->strict;
	t->state = T_WAITING;
	if (tc->haproxy.enabled && tc->destination && !r->cfg->dry &&
	    !(t->hap = hap_get(r->deps, r->loop, tc, err)))
		return -1;
	t->ao = (struct apply_opts){
		.install = { tc->destination, tc->perms, t->uid, t->gid, tc->backup, tc->create_dest_dirs },
		.check = &tc->check,
		.check_timeout_ms = tc->check_timeout_ms,
		.command = &tc->command,
		.command_timeout_ms = tc->command_timeout_ms,
		.hap = t->hap ? t->hap->d : NULL,
		.label = t->label,
		.installed = on_installed,
	};
	return 0;
}

struct runner *runner_new(struct loop *l, struct runner_deps *d, const struct config *cfg,
			  const struct runner_hooks *hooks, struct lg_error *err)
{
	struct runner *r = calloc(1, sizeof *r);

	if (!r) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	r->loop = l;
	r->deps = d;
	r->cfg = cfg;
	if (hooks)
		r->hooks = *hooks;
	r->n = cfg->ntemplates;
	r->t = calloc(r->n ? r->n : 1, sizeof *r->t);
	if (!r->t) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < r->n; i++)
		if (tmpl_init(r, &r->t[i], &cfg->templates[i], err) < 0)
			goto err;
	d->current = r;
	for (size_t i = 0; i < r->n; i++)
		loop_add_timer(l, &r->t[i].timer, 0);
	return r;
err:
	runner_free(r);
	return NULL;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (r->deps->current == r)
		r->deps->current = NULL;
	for (size_t i = 0; r->t && i < r->n; i++) {
		struct tmpl *t = &r->t[i];
		if (t->r)
			loop_del_timer(r->loop, &t->timer);
		apply_cancel(t->job);
		hap_release(r->deps, t->hap);
		for (size_t k = 0; k < t->ndeps; k++)
			dep_release(r->deps, t->deps[k]);
		free(t->deps);
		mustache_free(t->tpl);
		mustache_env_free(t->env);
	}
	free(r->t);
	free(r);
}

/* ---- status and metrics --------------------------------------------------- */

bool runner_busy(const struct runner *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].job)
			return true;
	return false;
}

/* The state a template reports: a failed reload the driver has since
 * repaired (it retries on its own) no longer counts. */
static enum tstate tmpl_state(const struct tmpl *t)
{
	if (t->state == T_RELOAD_FAILED && t->hap && hap_driver_healthy(t->hap->d, NULL))
		return T_OK;
	return t->state;
}

/* True when t is well; otherwise appends one line saying why to why. */
static bool tmpl_health(const struct tmpl *t, struct buf *why)
{
	enum tstate st = tmpl_state(t);
	const char *dest = t->cfg->destination ? t->cfg->destination : t->label;

	if (st != T_OK || !t->installed_once) {
		if (why)
			buf_printf(why, "%s: %s%s%s%s%s\n", dest, tstate_names[st],
				   t->waiting_for[0] ? " for " : "", t->waiting_for,
				   t->last_error[0] ? ": " : "", t->last_error);
		return false;
	}
	if (t->hap && !hap_driver_healthy(t->hap->d, NULL)) {
		if (why) {
			buf_printf(why, "%s: haproxy %s: ", dest, hap_driver_state(t->hap->d));
			hap_driver_healthy(t->hap->d, why);
			buf_putc(why, '\n');
		}
		return false;
	}
	return true;
}

bool runner_healthy(const struct runner *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!tmpl_health(&r->t[i], NULL))
			return false;
	return true;
}

bool runner_health(const struct runner *r, struct buf *why)
{
	bool ok = true;
	for (size_t i = 0; i < r->n; i++)
		ok &= tmpl_health(&r->t[i], why);
	return ok;
}

json_t *runner_status(const struct runner *r)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < r->n; i++) {
		const struct tmpl *t = &r->t[i];
		json_t *deps = json_array();
		for (size_t k = 0; deps && k < t->ndeps; k++)
			json_array_append_new(deps, json_string(t->deps[k]->name));
		json_array_append_new(list, json_pack("{s:s?, s:s?, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:s?, s:o*, s:o*}",
			"source", t->cfg->source,
			"destination", t->cfg->destination,
			"origin", t->cfg->origin ? t->cfg->origin : "",
			"state", tstate_names[tmpl_state(t)],
			"installed", t->installed_once,
			"renders", (json_int_t)t->renders,
			"installs", (json_int_t)t->installs,
			"render_errors", (json_int_t)t->render_errors,
			"check_failures", (json_int_t)t->check_failures,
			"install_failures", (json_int_t)t->install_failures,
			"command_failures", (json_int_t)t->command_failures,
			"reload_failures", (json_int_t)t->reload_failures,
			"last_render", t->last_render,
			"last_install", t->last_install,
			"last_error", t->last_error[0] ? t->last_error : NULL,
			"depends_on", deps,
			"haproxy", t->hap ? hap_driver_status(t->hap->d) : NULL));
		if (t->waiting_for[0])
			json_object_set_new(json_array_get(list, json_array_size(list) - 1),
					    "waiting_for", json_string(t->waiting_for));
	}
	return list;
}

static void metric_label(struct buf *out, const char *metric, const struct tmpl *t, const char *suffix)
{
	buf_printf(out, "%s{template=\"", metric);
	for (const char *p = t->label; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(out, '\\');
		if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
	buf_printf(out, "\"%s} ", suffix ? suffix : "");
}

void runner_metrics(const struct runner *r, struct buf *out)
{
	static const struct { const char *name, *help; size_t off; } counters[] = {
		{ "legate_renders_total", "Template renders.", offsetof(struct tmpl, renders) },
		{ "legate_installs_total", "Files installed.", offsetof(struct tmpl, installs) },
		{ "legate_commands_total", "Commands (reloads) run after an install.", offsetof(struct tmpl, commands) },
		{ "legate_render_errors_total", "Renders that failed.", offsetof(struct tmpl, render_errors) },
		{ "legate_check_failures_total", "Staged files refused by the check command.", offsetof(struct tmpl, check_failures) },
		{ "legate_install_failures_total", "Installs that failed.", offsetof(struct tmpl, install_failures) },
		{ "legate_command_failures_total", "Commands that failed or timed out.", offsetof(struct tmpl, command_failures) },
		{ "legate_reload_failures_total", "HAProxy reloads refused or not confirmed.", offsetof(struct tmpl, reload_failures) },
	};
	const struct hap_driver *drivers[64];
	const char *labels[64];
	size_t nd = 0;

	for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name, counters[c].help, counters[c].name);
		for (size_t i = 0; i < r->n; i++) {
			metric_label(out, counters[c].name, &r->t[i], NULL);
			buf_printf(out, "%lu\n", *(const unsigned long *)(const void *)((const char *)&r->t[i] + counters[c].off));
		}
	}
	buf_puts(out, "# HELP legate_template_healthy 1 when the last render, check and command succeeded.\n"
		      "# TYPE legate_template_healthy gauge\n");
	for (size_t i = 0; i < r->n; i++) {
		metric_label(out, "legate_template_healthy", &r->t[i], NULL);
		buf_printf(out, "%d\n", tmpl_health(&r->t[i], NULL));
	}
	for (size_t i = 0; i < r->n && nd < sizeof drivers / sizeof drivers[0]; i++) {
		if (r->t[i].hap) {
			drivers[nd] = r->t[i].hap->d;
			labels[nd++] = r->t[i].label;
		}
	}
	if (nd)
		hap_driver_metrics(drivers, labels, nd, out);
	buf_puts(out, "# HELP legate_change_to_render_seconds From a data change to the file in place.\n"
		      "# TYPE legate_change_to_render_seconds histogram\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct tmpl *t = &r->t[i];
		char le[64];
		for (size_t b = 0; b < NLAT; b++) {
			snprintf(le, sizeof le, ",le=\"%g\"", lat_bounds[b]);
			metric_label(out, "legate_change_to_render_seconds_bucket", t, le);
			buf_printf(out, "%lu\n", t->lat_bucket[b]);
		}
		metric_label(out, "legate_change_to_render_seconds_bucket", t, ",le=\"+Inf\"");
		buf_printf(out, "%lu\n", t->lat_count);
		metric_label(out, "legate_change_to_render_seconds_sum", t, NULL);
		buf_printf(out, "%.6f\n", t->lat_sum);
		metric_label(out, "legate_change_to_render_seconds_count", t, NULL);
		buf_printf(out, "%lu\n", t->lat_count);
	}
}
