/* internal: the runner's own structures, shared by its files: the
 * registry of watches and HAProxy drivers (registry.c), the lookup hook
 * that turns the names a template uses into watches (lookup.c), the
 * templates and their phases (runner.c), and the reports (report.c). */
#ifndef LEGATE_RENDERER_INTERNAL_H
#define LEGATE_RENDERER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/loop.h"
#include "mustache/mustache.h"
#include "renderer/apply.h"
#include "renderer/runner.h"
#include "renderer/source.h"

/* ---- registry.c ------------------------------------------------------------ */

/* One watched name, shared by every template (of every runner) using it. */
struct dep {
	char *name;
	struct watch *watch;
	int refs;
	unsigned mark;      /* generation stamp while one render collects deps */
	unsigned missing_mark;  /* likewise, for the deps a render found without data */
	unsigned hold_mark;     /* likewise, while a runner takes over another's */
	uint64_t used_by;   /* templates (by index, the first 64) whose last render used it */
	uint64_t awaited;   /* templates waiting for its first data */
	struct dep *next;   /* hash chain */
};

/* The HAProxy driver of one destination and haproxy block, kept in the
 * registry so that a configuration reload with the same block keeps what
 * it knows of HAProxy (no reload just because legate re-read its files). */
struct hap_entry {
	char *key;                  /* destination and every option, one per line */
	struct hap_driver *d;
	struct runner_deps *deps;
	int refs;
	struct hap_entry *next;
};

struct runner_deps {
	struct runner_source src;
	struct dep **bucket;     /* nbuckets chains, grown with count */
	size_t nbuckets;
	size_t count;
	struct runner *current;  /* where change notifications go */
	struct hap_entry *haps;
	unsigned mark;           /* the last render's stamp (dep.mark), any runner's */
	unsigned hold_gen;       /* stamps hold_mark, one value per take-over */
};

struct dep *dep_find(struct runner_deps *d, const char *name);

/* Finds or creates the entry for name (adding the watch); the caller takes
 * a reference (refs++).  NULL with err on failure. */
struct dep *dep_get(struct runner_deps *d, const char *name, struct lg_error *err);

/* Drops a reference; the watch goes with the last one. */
void dep_release(struct runner_deps *d, struct dep *e);

/* The driver for tc, shared or new (a reference taken); NULL with err. */
struct hap_entry *hap_get(struct runner_deps *d, struct loop *l, const struct template_config *tc,
			  struct lg_error *err);

void hap_release(struct runner_deps *d, struct hap_entry *e);

/* ---- runner.c ----------------------------------------------------------------- */

enum tstate {
	T_WAITING,        /* some data has not arrived yet */
	T_OK,             /* installed (or identical) and its command or reload succeeded */
	T_RENDER_ERROR,
	T_CHECK_FAILED,
	T_INSTALL_FAILED,
	T_COMMAND_FAILED,
	T_RELOAD_FAILED,  /* HAProxy refused the reload or did not confirm it */
};

/* Where a template is between a change and its destination:
 *   IDLE --change--> QUIET --timer--> render --> APPLYING --done--> IDLE
 * A change while APPLYING is noted (again) and rendered once the pass
 * ends; a reload the pass had to put off sends it back to QUIET. */
enum phase {
	PH_IDLE,      /* nothing to put in place */
	PH_QUIET,     /* a change waits out its quiescence; the timer is armed */
	PH_APPLYING,  /* a rendering is on its way (job) */
};

#define NLAT 11   /* change-to-render latency buckets (report.c) */

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

	enum phase phase;
	struct loop_timer timer;
	struct apply_opts ao;           /* how a rendering reaches its destination */
	struct hap_entry *hap;          /* an HAProxy configuration's driver */
	struct apply_job *job;          /* PH_APPLYING: the pass in progress */
	bool again;                     /* PH_APPLYING: a change came meanwhile */
	size_t awaiting;                /* deps the last render found without data */
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
	const struct runner_settings *set;
	struct runner_hooks hooks;
	struct tmpl *t;
	size_t n;
	unsigned mark;                  /* the stamp of the render under way */
	bool ready_sent, done_sent;
	/* The watches of the runner it took over from, held until each of its
	 * own templates has rendered once and taken what it needs. */
	struct dep **held;
	size_t nheld;
};

/* The registry calls this when a watch's data changes. */
void runner_changed(struct runner_deps *d, struct watch *w);

/* The registry calls this when a driver's file must be written again. */
void runner_rewrite(struct runner *r, const struct hap_entry *e);

/* ---- lookup.c ----------------------------------------------------------------- */

/* The items of the services lists a render used, as a set of pointers:
 * the service of an {{#instances}} is found in constant time. */
struct item_set {
	const json_t **slot;   /* open addressing; NULL: empty */
	uint8_t *list;         /* per slot: the index of its list in lists[] */
	size_t cap, n;
};

/* One render's view of the data: the names it used become its deps. */
struct render_ctx {
	struct tmpl *t;
	struct dep **deps;     /* collected during this render */
	size_t ndeps, cap;
	struct dep *lists[8];  /* services lists used, for {{#instances}} */
	size_t nlists;
	struct item_set items; /* their items */
	struct dep **missing;  /* deps without data yet */
	size_t nmissing, missing_cap;
	char first_missing[256];
};

/* Frees what a render context holds besides its deps. */
void render_ctx_done(struct render_ctx *c);

/* The bit of template t in a dep's used_by and awaited (0 past 64). */
uint64_t tmpl_bit(const struct tmpl *t);

/* The Mustache lookup hook (mustache.h); ud is a struct render_ctx. */
int runner_lookup(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		  char *errtext, size_t errlen);

/* ---- report.c ----------------------------------------------------------------- */

extern const char *const tstate_names[];
extern const double lat_bounds[NLAT];

#endif
