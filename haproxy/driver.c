/* driver: one HAProxy configuration file and the HAProxy that runs it.
 * The pipeline (renderer/apply.c) asks for runtime changes or a reload;
 * between its requests the driver probes the master and audits the
 * running servers, and reloads on its own when HAProxy was restarted
 * underneath, refused a reload, or differs from the file.  One operation
 * runs at a time; a request that arrives meanwhile waits its turn. */
#include "haproxy/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "common/loop.h"
#include "haproxy/master.h"
#include "haproxy/runtime.h"

#define PROBE_TIMEOUT 1.0
#define DOWN_POLL 0.25        /* probing a master that does not answer */
#define RETRY_MIN 1.0         /* a failed reload is tried again, doubling */
#define RETRY_MAX 30.0

enum hstate { HS_WAITING, HS_OK, HS_DOWN, HS_APPLYING, HS_RELOADING, HS_FAILED, HS_DIVERGED };
static const char *const hstate_names[] = {
	"waiting", "ok", "master_down", "applying", "reloading", "reload_failed", "diverged",
};

enum op { OP_NONE, OP_PROBE, OP_AUDIT, OP_APPLY, OP_RELOAD };

/* What the pipeline asked for, waiting for the operation in progress. */
struct request {
	enum op op;                 /* OP_APPLY, OP_RELOAD, or OP_NONE */
	const struct hap_plan *plan;
	unsigned long gen;          /* running_gen the plan was made against */
	hap_driver_cb cb;
	void *arg;
};

struct hap_driver {
	struct loop *loop;
	char *label;
	struct hap_driver_opts o;
	struct hap_master *master;
	struct hap_runtime *rt;

	struct hap_cfg *installed;  /* what the file holds (NULL: no file yet) */
	struct hap_cfg *running;    /* what HAProxy runs (NULL: not known) */
	unsigned long running_gen;  /* moves whenever running does */

	enum hstate state;
	double state_since;         /* loop time */
	enum op op;                 /* the operation in progress */
	struct request cur, next;   /* the pipeline's request in progress, and the one waiting */
	bool own_reload;            /* op OP_RELOAD is the driver's own */
	bool trust_next_master;     /* hap_driver_started() */
	struct loop_timer timer;    /* the next probe */
	double retry;               /* delay before the next own reload after a failure */

	unsigned diverged_in_a_row;    /* audits that differed since the last one that did not */
	pid_t master_pid;           /* last seen; 0: never */
	long master_reloads, master_failed;
	int old_workers;
	char why[512];              /* what is wrong, when something is */

	unsigned long reloads, confirmed, reload_failures, applies, apply_failures,
		audits, divergences, restarts_seen;
	double last_confirm, last_audit;   /* wall clock, 0: never */
};

static void set_state(struct hap_driver *d, enum hstate s)
{
	if (d->state != s)
		d->state_since = clock_mono();
	d->state = s;
}

/* Frees c unless the driver still holds it as installed or running. */
static void release(struct hap_driver *d, struct hap_cfg *c)
{
	if (c && c != d->installed && c != d->running)
		hap_cfg_free(c);
}

static void set_running(struct hap_driver *d, struct hap_cfg *c)
{
	struct hap_cfg *old = d->running;

	d->running = c;
	d->running_gen++;
	release(d, old);
}

static void arm(struct hap_driver *d, double secs)
{
	loop_add_timer(d->loop, &d->timer, secs);
}

static void start_next(struct hap_driver *d);
static void start_own_reload(struct hap_driver *d, const char *why);

/* ---- the pipeline's requests ---------------------------------------------- */

static void finish_request(struct hap_driver *d, int ok, const char *why)
{
	struct request r = d->cur;

	d->cur.op = OP_NONE;
	d->op = OP_NONE;
	start_next(d);
	if (r.cb)
		r.cb(ok, why, r.arg);
}

static void on_applied(int ok, const char *why, void *arg)
{
	struct hap_driver *d = arg;

	if (ok) {
		d->applies++;
		set_state(d, HS_OK);
		log_debug_at("template", d->label, "servers changed through the runtime API");
	} else {
		d->apply_failures++;
		log_warn_at("template", d->label, "HAProxy refused a runtime change (%s); reloading instead", why);
		/* What HAProxy runs is now partly changed: only a reload says what. */
		set_running(d, NULL);
	}
	finish_request(d, ok, why);
}

static void on_reloaded(int ok, const struct hap_proc *p, const char *why, void *arg)
{
	struct hap_driver *d = arg;

	if (p) {
		d->master_pid = p->master;
		d->master_reloads = p->reloads;
		d->master_failed = p->failed;
		d->old_workers = p->old_workers;
	}
	if (ok) {
		d->confirmed++;
		d->retry = RETRY_MIN;
		d->last_confirm = clock_wall();
		d->why[0] = '\0';
		hap_runtime_forget_drains(d->rt);
		set_running(d, d->installed);
		set_state(d, HS_OK);
		log_info_at("template", d->label, "HAProxy reloaded (master %d, reload %ld)", (int)d->master_pid,
			 d->master_reloads);
		arm(d, 0);   /* audit the new worker */
	} else {
		d->reload_failures++;
		snprintf(d->why, sizeof d->why, "%s", why);
		set_state(d, HS_FAILED);
		log_error_at("template", d->label, "%s", why);
		arm(d, d->retry);
		d->retry = d->retry * 2 > RETRY_MAX ? RETRY_MAX : d->retry * 2;
	}
	if (d->own_reload) {
		d->own_reload = false;
		d->op = OP_NONE;
		start_next(d);
		return;
	}
	finish_request(d, ok, why);
}

static void run_request(struct hap_driver *d)
{
	d->op = d->cur.op;
	if (d->cur.op == OP_APPLY) {
		if (d->cur.gen != d->running_gen) {
			finish_request(d, 0, "HAProxy changed while the change waited");
			return;
		}
		set_state(d, HS_APPLYING);
		if (hap_runtime_apply(d->rt, d->cur.plan, on_applied, d) < 0)
			finish_request(d, 0, "the runtime API is busy");
		return;
	}
	d->reloads++;
	set_state(d, HS_RELOADING);
	if (hap_master_reload(d->master, d->o.reload_timeout, on_reloaded, d) < 0)
		finish_request(d, 0, "the master CLI is busy");
}

/* Starts the waiting request, if any, once nothing else runs. */
static void start_next(struct hap_driver *d)
{
	if (d->op != OP_NONE || d->next.op == OP_NONE)
		return;
	d->cur = d->next;
	d->next.op = OP_NONE;
	run_request(d);
}

static int request(struct hap_driver *d, enum op op, const struct hap_plan *plan, hap_driver_cb cb, void *arg)
{
	if (d->next.op != OP_NONE || d->cur.op != OP_NONE)
		return -1;
	d->next = (struct request){ op, plan, d->running_gen, cb, arg };
	start_next(d);
	return 0;
}

int hap_driver_apply(struct hap_driver *d, const struct hap_plan *plan, hap_driver_cb cb, void *arg)
{
	return request(d, OP_APPLY, plan, cb, arg);
}

int hap_driver_reload(struct hap_driver *d, hap_driver_cb cb, void *arg)
{
	return request(d, OP_RELOAD, NULL, cb, arg);
}

int hap_driver_plan(struct hap_driver *d, const char *text, size_t len,
		    struct hap_cfg **next, struct hap_plan *plan)
{
	if (!(*next = hap_cfg_parse(text, len)))
		return -1;
	if (hap_cfg_diff(d->running, *next, plan) < 0) {
		hap_cfg_free(*next);
		*next = NULL;
		return -1;
	}
	if (plan->kind == HAP_RUNTIME && !d->o.runtime) {
		hap_plan_free(plan);
		plan->kind = HAP_RELOAD;
		snprintf(plan->why, sizeof plan->why, "runtime changes are off for this template");
	}
	return 0;
}

void hap_driver_installed(struct hap_driver *d, struct hap_cfg *cfg, bool running)
{
	struct hap_cfg *old_i = d->installed, *old_r = d->running;

	d->installed = cfg;
	if (running) {
		d->running = cfg;
		d->running_gen++;
		if (d->state == HS_FAILED) {
			/* The file is back to what the old workers run. */
			set_state(d, HS_OK);
			d->why[0] = '\0';
		}
	}
	release(d, old_i);
	if (old_r != old_i)
		release(d, old_r);
}

void hap_driver_cancel(struct hap_driver *d, void *arg)
{
	if (d->cur.op != OP_NONE && d->cur.arg == arg)
		d->cur.cb = NULL;
	if (d->next.op != OP_NONE && d->next.arg == arg)
		d->next.op = OP_NONE;
}

void hap_driver_started(struct hap_driver *d)
{
	d->trust_next_master = true;
}

/* ---- the driver's own work: probe, audit, repair --------------------------- */

/* True when the file still holds what was installed.  A reload reads the
 * file: reloading onto a file someone else wrote would repeat forever. */
static bool file_intact(struct hap_driver *d)
{
	struct hap_cfg *now;
	struct hap_plan p;
	bool same = false;
	size_t len;
	char *text;

	if (!d->o.path || !d->installed)
		return true;
	if (!(text = file_read(d->o.path, HAP_CFG_MAX, &len, NULL)))
		return false;
	if ((now = hap_cfg_parse(text, len)) && hap_cfg_diff(d->installed, now, &p) == 0) {
		same = p.kind == HAP_SAME;
		hap_plan_free(&p);
	}
	hap_cfg_free(now);
	free(text);
	return same;
}

/* HAProxy must be brought back to the installed file: a reload, unless the
 * file itself changed behind legate's back (then the owner rewrites it,
 * and that reloads), or unless a reload for the same reason just failed to
 * help (then a pause, doubling, so nothing reloads in a loop). */
static void repair(struct hap_driver *d, const char *why)
{
	if (!file_intact(d)) {
		log_error_at("template", d->label, "%s, and the file no longer holds what legate installed: writing it again",
			  why);
		set_running(d, NULL);
		if (d->o.rewrite)
			d->o.rewrite(d->o.rewrite_arg);
		arm(d, d->o.audit_interval);
		return;
	}
	if (d->diverged_in_a_row > 1) {
		log_error_at("template", d->label, "%s again after a reload; next try in %.0f s", why, d->retry);
		arm(d, d->retry);
		d->retry = d->retry * 2 > RETRY_MAX ? RETRY_MAX : d->retry * 2;
		return;
	}
	start_own_reload(d, why);
}

static void start_own_reload(struct hap_driver *d, const char *why)
{
	log_warn_at("template", d->label, "%s; reloading HAProxy", why);
	d->own_reload = true;
	d->op = OP_RELOAD;
	d->reloads++;
	set_state(d, d->state == HS_DIVERGED ? HS_DIVERGED : HS_RELOADING);
	if (hap_master_reload(d->master, d->o.reload_timeout, on_reloaded, d) < 0) {
		d->own_reload = false;
		d->op = OP_NONE;
		arm(d, DOWN_POLL);
	}
}

static void on_audited(int ok, const char *why, void *arg)
{
	struct hap_driver *d = arg;
	char msg[600];

	d->op = OP_NONE;
	if (ok < 0) {
		/* Not a difference: the runtime API did not answer; look again soon. */
		snprintf(d->why, sizeof d->why, "%s", why);
		set_state(d, HS_DOWN);
		log_debug_at("template", d->label, "%s", why);
		arm(d, DOWN_POLL);
		start_next(d);
		return;
	}
	d->audits++;
	d->last_audit = clock_wall();
	if (ok) {
		d->diverged_in_a_row = 0;
		if (d->state != HS_APPLYING && d->state != HS_RELOADING)
			set_state(d, HS_OK);
		d->why[0] = '\0';
		arm(d, d->o.audit_interval);
		start_next(d);
		return;
	}
	if (d->next.op != OP_NONE) {
		/* The pipeline is about to change things anyway; look again after. */
		arm(d, d->o.audit_interval);
		start_next(d);
		return;
	}
	d->divergences++;
	d->diverged_in_a_row++;
	snprintf(d->why, sizeof d->why, "HAProxy differs from the file: %s", why);
	set_state(d, HS_DIVERGED);
	snprintf(msg, sizeof msg, "HAProxy differs from the file (%s)", why);
	set_running(d, NULL);
	repair(d, msg);
}

static void on_probed(int ok, const struct hap_proc *p, const char *why, void *arg)
{
	struct hap_driver *d = arg;
	char msg[200];

	d->op = OP_NONE;
	if (!ok) {
		if (d->state != HS_DOWN && d->state != HS_WAITING)
			log_warn_at("template", d->label, "%s", why);
		snprintf(d->why, sizeof d->why, "%s", why);
		set_state(d, d->master_pid ? HS_DOWN : HS_WAITING);
		arm(d, DOWN_POLL);
		start_next(d);
		return;
	}
	d->master_reloads = p->reloads;
	d->master_failed = p->failed;
	d->old_workers = p->old_workers;
	if (p->master != d->master_pid) {
		bool first = d->master_pid == 0;
		if (!first)
			d->restarts_seen++;
		snprintf(msg, sizeof msg, first ? "HAProxy's master (%d) found" :
			 "HAProxy was started again (master %d, was %d)", (int)p->master, (int)d->master_pid);
		d->master_pid = p->master;
		if (d->trust_next_master && d->installed) {
			d->trust_next_master = false;
			set_running(d, d->installed);
		} else if (d->next.op == OP_NONE && d->installed) {
			set_running(d, NULL);
			repair(d, msg);
			return;
		} else {
			set_running(d, NULL);
		}
	}
	if (d->next.op != OP_NONE || !d->installed) {
		if (d->state == HS_WAITING || d->state == HS_DOWN)
			set_state(d, HS_OK);
		arm(d, d->o.audit_interval);
		start_next(d);
		return;
	}
	if (d->running != d->installed) {
		repair(d, d->state == HS_FAILED ? "the last reload failed" :
		       "HAProxy may not run the installed file");
		return;
	}
	d->op = OP_AUDIT;
	if (hap_runtime_audit(d->rt, d->running, on_audited, d) < 0) {
		d->op = OP_NONE;
		arm(d, d->o.audit_interval);
	}
}

static void on_timer(struct loop *l, void *arg)
{
	struct hap_driver *d = arg;

	(void)l;
	if (d->op != OP_NONE || d->next.op != OP_NONE) {
		arm(d, d->o.audit_interval);
		return;
	}
	d->op = OP_PROBE;
	if (hap_master_probe(d->master, PROBE_TIMEOUT, on_probed, d) < 0) {
		d->op = OP_NONE;
		arm(d, DOWN_POLL);
	}
}

/* ---- life and reports ------------------------------------------------------ */

struct hap_driver *hap_driver_new(struct loop *l, const struct hap_driver_opts *o,
				  const char *installed, size_t len)
{
	struct hap_driver *d = calloc(1, sizeof *d);
	const char *rsock = o->runtime_socket ? o->runtime_socket : o->master_socket;

	if (!d)
		return NULL;
	d->loop = l;
	d->o = *o;
	d->o.master_socket = d->o.runtime_socket = NULL;
	d->retry = RETRY_MIN;
	d->label = strdup(o->label ? o->label : o->master_socket);
	d->master = hap_master_new(l, o->master_socket);
	d->rt = hap_runtime_new(l, rsock, o->runtime_socket == NULL, o->drain_timeout);
	loop_timer_init(&d->timer, on_timer, d);
	if (!d->label || !d->master || !d->rt)
		goto err;
	if (installed && !(d->installed = hap_cfg_parse(installed, len)))
		goto err;
	d->state_since = clock_mono();
	arm(d, 0);
	return d;
err:
	hap_driver_free(d);
	return NULL;
}

void hap_driver_free(struct hap_driver *d)
{
	if (!d)
		return;
	loop_del_timer(d->loop, &d->timer);
	hap_master_free(d->master);
	hap_runtime_free(d->rt);
	if (d->running != d->installed)
		hap_cfg_free(d->running);
	hap_cfg_free(d->installed);
	free(d->label);
	free(d);
}

const char *hap_driver_state(const struct hap_driver *d)
{
	return hstate_names[d->state];
}

bool hap_driver_healthy(const struct hap_driver *d, struct buf *why)
{
	double busy = clock_mono() - d->state_since;

	switch (d->state) {
	case HS_OK:
		return true;
	case HS_APPLYING:
	case HS_RELOADING:
		if (busy < d->o.reload_timeout)
			return true;
		if (why)
			buf_printf(why, "HAProxy has not confirmed the change for %.0f s", busy);
		return false;
	default:
		if (why)
			buf_printf(why, "%s", d->why[0] ? d->why : hstate_names[d->state]);
		return false;
	}
}

json_t *hap_driver_status(const struct hap_driver *d)
{
	const struct hap_runtime_stats *rs = hap_runtime_stats(d->rt);
	struct buf why = BUF_INIT;
	bool ok = hap_driver_healthy(d, &why);
	json_t *j = json_pack("{s:s, s:b, s:s?, s:s, s:i, s:I, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			      " s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
		"state", hstate_names[d->state],
		"healthy", ok,
		"error", ok ? NULL : buf_cstr(&why),
		"master_socket", hap_master_socket(d->master),
		"master_pid", (int)d->master_pid,
		"master_reloads", (json_int_t)d->master_reloads,
		"master_failed_reloads", (json_int_t)d->master_failed,
		"old_workers", d->old_workers,
		"reloads", (json_int_t)d->reloads,
		"reloads_confirmed", (json_int_t)d->confirmed,
		"reload_failures", (json_int_t)d->reload_failures,
		"runtime_applies", (json_int_t)d->applies,
		"runtime_fallbacks", (json_int_t)d->apply_failures,
		"servers_added", (json_int_t)rs->added,
		"servers_removed", (json_int_t)rs->removed,
		"servers_changed", (json_int_t)rs->changed,
		"runtime_commands", (json_int_t)rs->commands,
		"draining", (json_int_t)hap_runtime_draining(d->rt),
		"audits", (json_int_t)d->audits,
		"divergences", (json_int_t)d->divergences,
		"last_confirmation", d->last_confirm,
		"last_audit", d->last_audit);
	buf_free(&why);
	return j;
}

void hap_driver_metrics(const struct hap_driver *const *d, const char *const *labels, size_t n,
			struct buf *out)
{
	static const struct { const char *name, *type, *help; } m[] = {
		{ "legate_haproxy_reloads_total", "counter", "Reloads legate asked HAProxy's master for." },
		{ "legate_haproxy_reloads_confirmed_total", "counter", "Reloads the master's reload counter confirmed." },
		{ "legate_haproxy_reload_failures_total", "counter", "Reloads refused by HAProxy or not confirmed in time." },
		{ "legate_haproxy_runtime_applies_total", "counter", "Changes applied through the runtime API, without a reload." },
		{ "legate_haproxy_runtime_fallbacks_total", "counter", "Runtime changes HAProxy refused (a reload followed)." },
		{ "legate_haproxy_servers_changed_total", "counter", "Servers added, removed or changed at run time." },
		{ "legate_haproxy_divergences_total", "counter", "Audits that found HAProxy differing from the file." },
		{ "legate_haproxy_master_reloads", "gauge", "The master's own reload counter." },
		{ "legate_haproxy_draining", "gauge", "Removed servers whose connections are finishing." },
		{ "legate_haproxy_in_sync", "gauge", "1 when HAProxy runs the installed file." },
	};

	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name, m[k].type);
		for (size_t i = 0; i < n; i++) {
			const struct hap_driver *x = d[i];
			const struct hap_runtime_stats *rs;
			double v = 0;
			if (!x)
				continue;
			rs = hap_runtime_stats(x->rt);
			switch (k) {
			case 0: v = (double)x->reloads; break;
			case 1: v = (double)x->confirmed; break;
			case 2: v = (double)x->reload_failures; break;
			case 3: v = (double)x->applies; break;
			case 4: v = (double)x->apply_failures; break;
			case 5: v = (double)(rs->added + rs->removed + rs->changed); break;
			case 6: v = (double)x->divergences; break;
			case 7: v = (double)x->master_reloads; break;
			case 8: v = (double)hap_runtime_draining(x->rt); break;
			case 9: v = hap_driver_healthy(x, NULL); break;
			}
			buf_printf(out, "%s{template=\"", m[k].name);
			for (const char *p = labels[i]; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_putc(out, '\\');
				buf_putc(out, *p == '\n' ? ' ' : *p);
			}
			buf_printf(out, "\"} %.0f\n", v);
		}
	}
}
