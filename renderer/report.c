/* report: what the runner tells /health, /status and /metrics: each
 * template's state (with its HAProxy driver's), its counters, its last
 * error and what it waits for. */
#include "renderer/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "haproxy/driver.h"

const char *const tstate_names[] = {
	"waiting", "ok", "render_error", "check_failed", "install_failed", "command_failed", "reload_failed",
};

/* Change-to-render latency buckets, seconds (Prometheus histogram). */
const double lat_bounds[NLAT] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

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
