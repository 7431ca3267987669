/* apply: the pipeline from a rendering to a file in place and a program
 * that runs it.  The stages, in order, each optional:
 *
 *   plain file:  same? -> stage -> check -> install -> command
 *   HAProxy:     plan  -> same:    install if the bytes differ
 *                      -> runtime: runtime API -> install (no check)
 *                      -> reload:  stage -> check -> install -> reload, confirmed
 *
 * A runtime change HAProxy refuses falls back to the reload path.  Nothing
 * is installed that its check refused, and the destination is never left
 * half written (stage beside it, rename over it). */
#include "renderer/apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "haproxy/driver.h"

struct apply_job {
	struct loop *loop;
	struct apply_opts o;
	char *text;
	size_t len;
	bool allow_reload;
	apply_done_fn done;
	void *arg;

	struct install_staged st;
	struct command_job *cmd;
	struct hap_cfg *next;          /* the parsed rendering, for the driver */
	struct hap_plan plan;
	struct loop_timer later;       /* ends a job that finished inside apply_start */
	struct apply_outcome out;
};

static void job_free(struct apply_job *j)
{
	loop_del_timer(j->loop, &j->later);
	command_cancel(j->cmd);
	install_abort(&j->st);
	hap_plan_free(&j->plan);
	hap_cfg_free(j->next);
	free(j->text);
	free(j);
}

static void on_later(struct loop *l, void *arg)
{
	struct apply_job *j = arg;
	apply_done_fn done = j->done;
	void *darg = j->arg;
	struct apply_outcome out = j->out;

	(void)l;
	/* freed first: the callback may start the next job */
	job_free(j);
	done(&out, darg);
}

/* Ends the job from the loop. */
static void finish(struct apply_job *j)
{
	loop_add_timer(j->loop, &j->later, 0);
}

static void fail(struct apply_job *j, enum apply_stage at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct apply_job *j, enum apply_stage at, const char *fmt, ...)
{
	va_list ap;
	j->out.ok = false;
	j->out.failed = at;
	va_start(ap, fmt);
	vsnprintf(j->out.error, sizeof j->out.error, fmt, ap);
	va_end(ap);
	finish(j);
}

/* The line of a check's output that says most: the first that reads as
 * an error (haproxy prints [NOTICE] lines before its [ALERT]s, nginx says
 * [emerg]), else the last non-empty one. */
static const char *summary_line(const struct buf *out, char *dst, size_t n)
{
	const char *p = out->data, *end = p ? p + out->len : NULL, *pick = NULL;
	size_t pick_len = 0;

	dst[0] = '\0';
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)len, p);
		if (strstr(line, "ALERT") || strstr(line, "rror") || strstr(line, "emerg") ||
		    strstr(line, "invalid")) {
			pick = p;
			pick_len = len;
			break;
		}
		if (len > 0) {
			pick = p;
			pick_len = len;
		}
		p += len + 1;
	}
	if (pick)
		snprintf(dst, n, "%.*s", (int)pick_len, pick);
	return dst;
}

static void log_output(const struct apply_job *j, const char *what, const struct buf *out)
{
	const char *p = out->data, *end = p ? p + out->len : NULL;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		log_info("%s %s: %.*s", j->o.label, what, (int)len, p);
		p += len + 1;
	}
}

/* ---- the steps -------------------------------------------------------------- */

static void on_reloaded(int ok, const char *why, void *arg)
{
	struct apply_job *j = arg;

	if (!ok) {
		fail(j, AS_RELOAD, "%s: %s", j->o.label, why);
		return;
	}
	j->out.reloaded = true;
	j->out.ok = true;
	finish(j);
}

static void on_command_done(const struct command_result *res, void *arg)
{
	struct apply_job *j = arg;
	const struct command *c = j->o.command;

	j->cmd = NULL;
	log_output(j, "command", &res->output);
	if (res->timed_out)
		fail(j, AS_COMMAND, "%s: command \"%s\" timed out after %ld ms", j->o.label, c->text,
		     j->o.command_timeout_ms);
	else if (res->status != 0)
		fail(j, AS_COMMAND, "%s: command \"%s\" failed (exit %d)", j->o.label, c->text, res->status);
	else {
		j->out.ok = true;
		finish(j);
	}
}

/* Renames the staged file over the destination, then what follows an
 * install: the driver told, the reload or the command. */
static void commit(struct apply_job *j, bool hap_running)
{
	struct lg_error ie;
	struct lg_error err;

	if (install_commit(&j->o.install, &j->st, &ie) < 0) {
		fail(j, AS_INSTALL, "%s", ie.text);
		return;
	}
	j->out.changed = true;
	log_info_at("template", j->o.label, "installed (%zu bytes)", j->len);
	if (j->o.installed)
		j->o.installed(j->arg);
	if (j->o.hap) {
		hap_driver_installed(j->o.hap, j->next, hap_running);
		j->next = NULL;
		if (hap_running) {
			j->out.ok = true;
			finish(j);
			return;
		}
		if (hap_driver_reload(j->o.hap, on_reloaded, j) < 0) {
			fail(j, AS_RELOAD, "%s: the HAProxy driver is busy", j->o.label);
		}
		return;
	}
	if (!j->o.command || !j->o.command->argv) {
		j->out.ok = true;
		finish(j);
		return;
	}
	j->out.command_ran = true;
	j->cmd = command_start(j->loop, j->o.command, NULL, j->o.command_timeout_ms, on_command_done, j,
			       &err);
	if (!j->cmd)
		fail(j, AS_COMMAND, "%s: %s", j->o.label, err.text);
}

static void on_check_done(const struct command_result *res, void *arg)
{
	struct apply_job *j = arg;
	const struct command *c = j->o.check;
	char line[600];

	j->cmd = NULL;
	if (res->status == 0 && !res->timed_out) {
		commit(j, false);
		return;
	}
	log_output(j, "check", &res->output);
	install_abort(&j->st);
	if (res->timed_out)
		fail(j, AS_CHECK, "%s: check \"%s\" timed out after %ld ms; %s left unchanged", j->o.label,
		     c->text, j->o.check_timeout_ms, j->o.install.dest);
	else
		fail(j, AS_CHECK, "%s: check \"%s\" failed (exit %d); %s left unchanged: %s", j->o.label,
		     c->text, res->status, j->o.install.dest, summary_line(&res->output, line, sizeof line));
}

/* Writes the staged file; then the check (if asked) and the install. */
static void stage(struct apply_job *j, bool with_check, bool hap_running)
{
	struct lg_error ie;
	struct lg_error err;

	if (install_stage(&j->o.install, j->text, j->len, &j->st, &ie) < 0) {
		fail(j, AS_INSTALL, "%s", ie.text);
		return;
	}
	if (!with_check || !j->o.check || !j->o.check->argv) {
		commit(j, hap_running);
		return;
	}
	j->cmd = command_start(j->loop, j->o.check, j->st.path, j->o.check_timeout_ms, on_check_done, j,
			       &err);
	if (!j->cmd) {
		install_abort(&j->st);
		fail(j, AS_CHECK, "%s: %s; %s left unchanged", j->o.label, err.text, j->o.install.dest);
	}
}

static void reload_path(struct apply_job *j)
{
	stage(j, true, false);
}

static void on_applied(int ok, const char *why, void *arg)
{
	struct apply_job *j = arg;

	if (ok) {
		j->out.runtime = true;
		stage(j, false, true);
		return;
	}
	(void)why;   /* the driver has logged it */
	j->out.fallback = true;
	reload_path(j);
}

static void start_hap(struct apply_job *j, int same)
{
	if (hap_driver_plan(j->o.hap, j->text, j->len, &j->next, &j->plan) < 0) {
		fail(j, AS_INSTALL, "%s: out of memory", j->o.label);
		return;
	}
	switch (j->plan.kind) {
	case HAP_SAME:
		if (same) {
			j->out.ok = true;
			finish(j);
		} else {
			stage(j, false, true);    /* comments or spacing: HAProxy has it all */
		}
		return;
	case HAP_RUNTIME:
		if (hap_driver_apply(j->o.hap, &j->plan, on_applied, j) < 0)
			reload_path(j);
		return;
	case HAP_RELOAD:
		if (!j->allow_reload) {
			j->out.deferred = true;
			finish(j);
			return;
		}
		log_info_at("template", j->o.label, "reload needed: %s", j->plan.why);
		reload_path(j);
		return;
	}
}

struct apply_job *apply_start(struct loop *l, const struct apply_opts *o, const char *text, size_t len,
			      bool allow_reload, apply_done_fn done, void *arg)
{
	struct apply_job *j = calloc(1, sizeof *j);
	struct lg_error ie;
	int same;

	if (!j || !(j->text = malloc(len + 1))) {
		free(j);
		return NULL;
	}
	memcpy(j->text, text, len);
	j->text[len] = '\0';
	j->len = len;
	j->loop = l;
	j->o = *o;
	j->allow_reload = allow_reload;
	j->done = done;
	j->arg = arg;
	j->out.bytes = len;
	loop_timer_init(&j->later, on_later, j);

	same = install_same(o->install.dest, text, len, &ie);
	if (same < 0) {
		fail(j, AS_INSTALL, "%s", ie.text);
		return j;
	}
	if (o->hap) {
		start_hap(j, same);
		return j;
	}
	if (same == 1) {
		log_debug_at("template", o->label, "unchanged");
		j->out.ok = true;
		finish(j);
		return j;
	}
	stage(j, true, false);
	return j;
}

void apply_cancel(struct apply_job *j)
{
	if (!j)
		return;
	if (j->o.hap)
		hap_driver_cancel(j->o.hap, j);
	job_free(j);
}
