/* runner: the templates and their phases.  A change to the data a
 * template uses waits out its quiescence (PH_QUIET), then the template is
 * rendered and the result taken to its destination through the pipeline
 * (PH_APPLYING, renderer/apply.c); changes that come meanwhile are
 * rendered once the pass ends.  Readiness (every template in place once)
 * and -once's end are told to the daemon through hooks. */
#include "renderer/internal.h"

#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "haproxy/driver.h"

#define MAX_TEMPLATE_FILE ((size_t)16 << 20)

static void set_error(struct tmpl *t, enum tstate st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct tmpl *t, enum tstate st, const char *fmt, ...)
{
	va_list ap;
	t->state = st;
	va_start(ap, fmt);
	vsnprintf(t->last_error, sizeof t->last_error, fmt, ap);
	va_end(ap);
	/* Most errors open with the template's label: it becomes the field. */
	size_t ll = strlen(t->label);
	if (strncmp(t->last_error, t->label, ll) == 0 && strncmp(t->last_error + ll, ": ", 2) == 0)
		log_error_at("template", t->label, "%s", t->last_error + ll + 2);
	else
		log_error("%s", t->last_error);
}

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
	if (r->set->once && all_handled && !r->done_sent) {
		r->done_sent = true;
		if (r->hooks.done)
			r->hooks.done(r, all_ok, r->hooks.arg);
	}
}

/* ---- quiescence ------------------------------------------------------------ */

static long wait_min(const struct tmpl *t)
{
	return t->cfg->wait_set ? t->cfg->wait_min_ms : t->r->set->wait_min_ms;
}

static long wait_max(const struct tmpl *t)
{
	return t->cfg->wait_set ? t->cfg->wait_max_ms : t->r->set->wait_max_ms;
}

/* A change is put in place min after the last change, but no later than
 * max after the first one. */
static double quiet_at(const struct tmpl *t)
{
	long mn = wait_min(t), mx = wait_max(t);
	double at = t->last_change + mn / 1000.0;

	if (mx > 0 && at > t->first_change + mx / 1000.0)
		at = t->first_change + mx / 1000.0;
	return at;
}

/* Into PH_QUIET with the timer at `at` (clock_mono time; now or earlier:
 * the next loop turn). */
static void to_quiet(struct tmpl *t, double at)
{
	double now = clock_mono();

	t->phase = PH_QUIET;
	loop_add_timer(t->r->loop, &t->timer, at > now ? at - now : 0);
}

/* A change to the data of t: counted, then rendered after its quiescence;
 * with no wait, on the next loop turn (so changes arriving together give
 * one render).  Nothing holds back the first render, and an HAProxy
 * template renders at once whatever its wait: server changes go through
 * the runtime API at once, only a reload waits out the quiescence
 * (put_in_place). */
static void changed(struct tmpl *t)
{
	double now = clock_mono();

	if (t->phase == PH_APPLYING) {
		t->again = true;
		return;
	}
	if (t->phase == PH_IDLE)
		t->first_change = now;
	t->last_change = now;
	to_quiet(t, !t->installed_once || t->hap ? now : quiet_at(t));
}

/* ---- one pass ---------------------------------------------------------------- */

static void record_latency(struct tmpl *t)
{
	double lat = clock_mono() - t->first_change;

	t->lat_count++;
	t->lat_sum += lat;
	for (size_t i = 0; i < NLAT; i++)
		if (lat <= lat_bounds[i])
			t->lat_bucket[i]++;
}

/* The end of one pass, whatever its outcome. */
static void pass_done(struct tmpl *t)
{
	struct runner *r = t->r;

	record_latency(t);
	t->handled = true;
	t->phase = PH_IDLE;
	if (t->again) {
		/* A change came while the pass ran: render again. */
		t->again = false;
		t->first_change = t->last_change = clock_mono();
		to_quiet(t, t->first_change);
	}
	check_ready_and_done(r);
	if (!runner_busy(r) && r->hooks.idle)
		r->hooks.idle(r, r->hooks.arg);
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
		t->again = false;
		to_quiet(t, quiet_at(t));
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
	pass_done(t);
}

/* Takes a complete render to its destination through the pipeline;
 * on_applied() follows. */
static void put_in_place(struct tmpl *t, struct buf *out)
{
	const struct template_config *tc = t->cfg;
	bool allow_reload;

	if (t->r->set->dry) {
		printf("> %s\n%s", tc->destination ? tc->destination : t->label, buf_cstr(out));
		fflush(stdout);
		t->state = T_OK;
		t->installed_once = true;
		pass_done(t);
		return;
	}
	/* A reload waits out the quiescence; runtime changes do not. */
	allow_reload = !t->installed_once || clock_mono() >= quiet_at(t);
	t->phase = PH_APPLYING;
	t->job = apply_start(t->r->loop, &t->ao, out->data ? out->data : "", out->len, allow_reload,
			     on_applied, t);
	if (!t->job) {
		t->install_failures++;
		set_error(t, T_INSTALL_FAILED, "%s: out of memory", t->label);
		pass_done(t);
	}
}

/* Lets go of the watches taken over from the runner before, once every
 * template has rendered and so holds what it needs itself (or at once,
 * with `all`). */
static void release_held(struct runner *r, bool all)
{
	for (size_t i = 0; !all && i < r->n; i++)
		if (!r->t[i].renders)
			return;
	for (size_t i = 0; i < r->nheld; i++)
		dep_release(r->deps, r->held[i]);
	free(r->held);
	r->held = NULL;
	r->nheld = 0;
}

/* Adds a reference to e to r's held watches, each watch once. */
static void hold(struct runner *r, struct dep *e, size_t cap)
{
	if (e->hold_mark == r->deps->hold_gen || r->nheld == cap)
		return;
	e->hold_mark = r->deps->hold_gen;
	e->refs++;
	r->held[r->nheld++] = e;
}

void runner_take_over(struct runner *nr, const struct runner *old)
{
	size_t cap = old->nheld;

	for (size_t i = 0; i < old->n; i++)
		cap += old->t[i].ndeps;
	nr->deps->hold_gen++;
	for (size_t i = 0; i < nr->nheld; i++)
		nr->held[i]->hold_mark = nr->deps->hold_gen;
	if (cap) {
		struct dep **nh = realloc(nr->held, (nr->nheld + cap) * sizeof *nh);
		if (nh) {
			/* Without memory, watches may be dropped and added again:
			 * slower, still correct. */
			nr->held = nh;
			cap += nr->nheld;
			for (size_t i = 0; i < old->nheld; i++)
				hold(nr, old->held[i], cap);
			for (size_t i = 0; i < old->n; i++)
				for (size_t k = 0; k < old->t[i].ndeps; k++)
					hold(nr, old->t[i].deps[k], cap);
		}
	}
	for (size_t i = 0; i < nr->n; i++) {
		struct tmpl *t = &nr->t[i];

		for (size_t k = 0; k < old->n && t->cfg->destination; k++) {
			const struct tmpl *o = &old->t[k];

			if (!o->installed_once || !o->cfg->destination ||
			    strcmp(o->cfg->destination, t->cfg->destination) != 0)
				continue;
			t->installed_once = true;
			t->state = o->state;
			t->last_install = o->last_install;
			memcpy(t->last_error, o->last_error, sizeof t->last_error);
			break;
		}
	}
}

static void render(struct tmpl *t)
{
	struct runner *r = t->r;
	struct render_ctx c = { .t = t };
	struct lg_error me;
	struct buf out = BUF_INIT;
	char msg[1100];
	int rc;

	/* A stamp no earlier render of any runner used: the deps outlive the
	 * runner, and a stamp repeated from the runner before would pass a
	 * dep as collected already. */
	r->mark = ++r->deps->mark;
	/* The render marks what it uses and waits for again: the last
	 * render's marks go. */
	for (size_t i = 0; i < t->ndeps; i++) {
		t->deps[i]->used_by &= ~tmpl_bit(t);
		t->deps[i]->awaited &= ~tmpl_bit(t);
	}
	t->opts.lookup = runner_lookup;
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
	if (r->nheld)
		release_held(r, false);

	if (rc < 0) {
		t->render_errors++;
		set_error(t, T_RENDER_ERROR, "%s; %s left unchanged", lg_error_str(&me, msg, sizeof msg),
			  t->cfg->destination ? t->cfg->destination : "output");
		pass_done(t);
	} else if (c.nmissing) {
		/* Not all data is in: write nothing yet.  The template waits for
		 * every name this render found without data, and is rendered again
		 * once the last of them arrives: a catalog of N services costs a
		 * few renders at start, not one per arriving watch. */
		memcpy(t->waiting_for, c.first_missing, sizeof t->waiting_for);
		log_debug_at("template", t->label, "waiting for %zu name(s), first %s", c.nmissing, c.first_missing);
		t->awaiting = 0;
		for (size_t i = 0; i < c.nmissing && c.missing; i++) {
			if (tmpl_bit(t)) {
				c.missing[i]->awaited |= tmpl_bit(t);
				t->awaiting++;
			}
		}
		if (!t->installed_once)
			t->state = T_WAITING;
		t->phase = PH_IDLE;
		check_ready_and_done(r);
	} else {
		t->waiting_for[0] = '\0';
		t->awaiting = 0;
		put_in_place(t, &out);
	}
	render_ctx_done(&c);
	buf_free(&out);
}

static void on_timer(struct loop *l, void *arg)
{
	struct tmpl *t = arg;

	(void)l;
	if (t->phase == PH_QUIET)
		render(t);
}

uint64_t tmpl_bit(const struct tmpl *t)
{
	size_t i = (size_t)(t - t->r->t);
	return i < 64 ? (uint64_t)1 << i : 0;
}

static bool uses(const struct tmpl *t, const struct dep *e)
{
	uint64_t bit = tmpl_bit(t);

	if (bit)
		return (e->used_by & bit) != 0;
	for (size_t k = 0; k < t->ndeps; k++)   /* past 64 templates */
		if (t->deps[k] == e)
			return true;
	return false;
}

void runner_changed(struct runner_deps *d, struct watch *w)
{
	struct runner *r = d->current;
	struct dep *e;

	if (!r || !(e = dep_find(d, d->src.name(w))))
		return;
	log_debug("%s changed", e->name);
	for (size_t i = 0; i < r->n; i++) {
		struct tmpl *t = &r->t[i];
		uint64_t bit = tmpl_bit(t);

		if (bit && (e->awaited & bit)) {
			/* one of the names the template waits for has arrived */
			e->awaited &= ~bit;
			if (t->awaiting > 0 && --t->awaiting > 0)
				continue;
			changed(t);
		} else if (t->awaiting > 0 && t->phase == PH_IDLE) {
			/* still waiting for others: rendered when the last arrives */
			continue;
		} else if (uses(t, e)) {
			changed(t);
		}
	}
}

void runner_rewrite(struct runner *r, const struct hap_entry *e)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].hap == e)
			changed(&r->t[i]);
}

bool runner_busy(const struct runner *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].phase == PH_APPLYING)
			return true;
	return false;
}

/* ---- set-up --------------------------------------------------------------- */

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
	char dirbuf[4096];
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
		if (!(src = file_read(tc->source, MAX_TEMPLATE_FILE, &len, err)))
			return -1;
	} else {
		len = strlen(tc->contents);
	}
	t->tpl = mustache_compile(name, src ? src : tc->contents, len, err);
	free(src);
	if (!t->tpl)
		return -1;
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
	t->opts.missing_error = tc->error_on_missing_key;
	t->state = T_WAITING;
	if (tc->haproxy.enabled && tc->destination && !r->set->dry &&
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

struct runner *runner_new(struct loop *l, struct runner_deps *d, const struct runner_settings *set,
			  const struct runner_hooks *hooks, struct lg_error *err)
{
	struct runner *r = calloc(1, sizeof *r);

	if (!r) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	r->loop = l;
	r->deps = d;
	r->set = set;
	if (hooks)
		r->hooks = *hooks;
	r->n = set->ntemplates;
	r->t = calloc(r->n ? r->n : 1, sizeof *r->t);
	if (!r->t) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < r->n; i++)
		if (tmpl_init(r, &r->t[i], &set->templates[i], err) < 0)
			goto err;
	d->current = r;
	for (size_t i = 0; i < r->n; i++) {
		r->t[i].first_change = r->t[i].last_change = clock_mono();
		to_quiet(&r->t[i], r->t[i].first_change);
	}
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
		for (size_t k = 0; k < t->ndeps; k++) {
			t->deps[k]->used_by &= ~tmpl_bit(t);
			t->deps[k]->awaited &= ~tmpl_bit(t);
		}
		for (size_t k = 0; k < t->ndeps; k++)
			dep_release(r->deps, t->deps[k]);
		free(t->deps);
		mustache_free(t->tpl);
		mustache_env_free(t->env);
	}
	release_held(r, true);
	free(r->t);
	free(r);
}

