/* runner: the template runner.  Each template is rendered with data from
 * a source (legate's watcher); the names it uses while rendering are the
 * watches it needs.
 * A change waits out its quiescence (wait min/max), then the template is
 * rendered, compared with its destination, staged, checked, installed
 * atomically and its command run.  A template is never written before all
 * of its data has arrived, and a failure never touches the installed file. */
#ifndef LEGATE_RUNNER_H
#define LEGATE_RUNNER_H

#include <stdbool.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/loop.h"
#include "renderer/source.h"
#include "renderer/template.h"

/* The watches in use, by name, with reference counts.  It outlives any one
 * runner, so that a configuration reload (a new runner) keeps every watch
 * still needed and opens no new connection for it. */
struct runner_deps;

struct runner;

/* Events the daemon hears about. */
struct runner_hooks {
	/* Every template has been installed (or found identical) once. */
	void (*ready)(struct runner *r, void *arg);
	/* -once: every template has been handled; ok says whether all succeeded. */
	void (*done)(struct runner *r, bool ok, void *arg);
	/* No check or command is running any more (may be NULL). */
	void (*idle)(struct runner *r, void *arg);
	void *arg;
};

/* Returns a new registry over the source src (copied; what it points to is
 * borrowed), or NULL. */
struct runner_deps *runner_deps_new(const struct runner_source *src);

/* Frees the registry; every runner using it must be freed first. */
void runner_deps_free(struct runner_deps *d);

/* Number of watches in the registry. */
size_t runner_deps_count(const struct runner_deps *d);

/* Compiles every template of set (borrowed, with its templates; both must
 * outlive the runner) and schedules a first render of each on the loop.  The runner becomes the one
 * that d's change notifications go to.  Returns NULL with err filled (the
 * template file, line and column at fault) when a template cannot be read
 * or compiled: nothing is started then. */
struct runner *runner_new(struct loop *l, struct runner_deps *d, const struct runner_settings *set,
			  const struct runner_hooks *hooks, struct lg_error *err);

/* A configuration reload: nr (just made by runner_new, not yet rendered)
 * takes over from old, which the caller frees next.  nr holds every watch
 * old holds until each of its own templates has rendered once, so a watch
 * both need is never removed and added again: its call in flight goes on
 * and no connection is opened or dropped for it, however many reloads
 * come.  A template of nr with the destination of one of old's carries
 * over its state (installed, ok or failed), so health does not flap. */
void runner_take_over(struct runner *nr, const struct runner *old);

/* Stops its timers, releases its watches (a watch no runner uses is
 * removed) and frees it. */
void runner_free(struct runner *r);

/* True while a rendering is on its way to its destination (a check, a
 * command, a runtime change or a reload of HAProxy).  runner_free() stops
 * it, so a configuration reload waits for it to end. */
bool runner_busy(const struct runner *r);

/* True when every template has been installed once, its last render,
 * check and command (or HAProxy reload) all succeeded, and the HAProxy it
 * drives, if any, runs the installed file. */
bool runner_healthy(const struct runner *r);

/* runner_healthy(), and one line per template that is not well appended
 * to why ("DEST: check_failed: ..."). */
bool runner_health(const struct runner *r, struct buf *why);

/* A new JSON array describing each template: source, destination, state,
 * counters, last error, times, the names it depends on. */
json_t *runner_status(const struct runner *r);

/* Appends the runner's Prometheus metrics to out. */
void runner_metrics(const struct runner *r, struct buf *out);

/* What a name a template uses at its root stands for, by the rules of the
 * lookup hook: RN_WATCH (watch, wlen bytes, gets the watch's name:
 * "service.web~any" for "service.web~any.0.address"), RN_ENV (env.NAME, read at render, never watched),
 * RN_INSTANCES (the service of the enclosing services item), RN_NONE (not
 * a data name: inside a section it renders from the data around it, or
 * empty; outside every section it is a render error, as is RN_INSTANCES
 * there), or RN_TOO_LONG.  *consumed: the segments the watch's data stands for (0:
 * all). */
enum runner_name { RN_NONE, RN_WATCH, RN_ENV, RN_INSTANCES, RN_TOO_LONG };
enum runner_name runner_name_watch(const char *name, char *watch, size_t wlen, size_t *consumed);

#endif
