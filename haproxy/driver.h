/* driver: legate's HAProxy driver for one configuration file.  It knows
 * what HAProxy runs, turns each new rendering into runtime changes or a
 * confirmed reload, keeps watching that HAProxy runs what the file says
 * (an audit every few seconds, a new master noticed), and says whether it
 * does, for /health, /status and /metrics. */
#ifndef LEGATE_HAP_DRIVER_H
#define LEGATE_HAP_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"
#include "haproxy/cfg.h"

struct loop;
struct hap_driver;

struct hap_driver_opts {
	const char *master_socket;   /* required: haproxy -W -S SOCKET */
	const char *runtime_socket;  /* a stats socket at level admin; NULL: through the master ("@1") */
	double drain_timeout;        /* a removed server's connections finish within this (s) */
	double reload_timeout;       /* a reload not confirmed by then has failed (s) */
	double audit_interval;       /* how often HAProxy is compared with the file (s) */
	bool runtime;                /* false: every change is a reload */
	const char *label;           /* for logs: the destination */
	const char *path;            /* the file HAProxy reads (checked before a repair) */
	/* Called when the file no longer holds what was installed (someone
	 * else wrote it): the owner renders and installs it again, which
	 * reloads HAProxy.  May be NULL. */
	void (*rewrite)(void *arg);
	void *rewrite_arg;
};

/* A driver for the file whose current contents are installed (text may be
 * NULL when there is no file yet).  Strings in o are copied.  Returns NULL
 * on out of memory. */
struct hap_driver *hap_driver_new(struct loop *l, const struct hap_driver_opts *o,
				  const char *installed, size_t len);

void hap_driver_free(struct hap_driver *d);

/* Parses text into *next (owned by the caller until handed back through
 * hap_driver_installed) and plans the step from what HAProxy runs to it.
 * Returns 0, or -1 on out of memory. */
int hap_driver_plan(struct hap_driver *d, const char *text, size_t len,
		    struct hap_cfg **next, struct hap_plan *plan);

/* ok 1, or 0 with why. */
typedef void (*hap_driver_cb)(int ok, const char *why, void *arg);

/* Applies a HAP_RUNTIME plan through the runtime API.  On success HAProxy
 * runs next; the caller installs the file and calls hap_driver_installed.
 * On failure the caller falls back to a reload.  Returns 0, or -1 when
 * another apply or reload is still running. */
int hap_driver_apply(struct hap_driver *d, const struct hap_plan *plan, hap_driver_cb cb, void *arg);

/* The file now holds cfg (ownership passes to the driver).  After a
 * successful apply, HAProxy runs it already; otherwise call
 * hap_driver_reload. */
void hap_driver_installed(struct hap_driver *d, struct hap_cfg *cfg, bool running);

/* Asks the master to reload the installed file and waits for its reload
 * counter to confirm it.  cb: 1 once HAProxy runs the file, 0 with why.
 * Returns 0, or -1 when another apply or reload is still running. */
int hap_driver_reload(struct hap_driver *d, hap_driver_cb cb, void *arg);

/* Forgets the callbacks of requests made with arg: the operation itself
 * goes on (a reload asked for is confirmed all the same). */
void hap_driver_cancel(struct hap_driver *d, void *arg);

/* HAProxy's state in one word ("ok", "waiting", "reloading", ...). */
const char *hap_driver_state(const struct hap_driver *d);

/* True when HAProxy runs the installed file (or is being brought to it
 * within the reload timeout); otherwise appends why to why (may be NULL). */
bool hap_driver_healthy(const struct hap_driver *d, struct buf *why);

/* A new JSON object for /status. */
json_t *hap_driver_status(const struct hap_driver *d);

/* HAProxy was (re)started by the caller after the last install: the next
 * master seen runs the installed file, no reload needed.  (Otherwise a
 * master seen for the first time, or a new master pid, is reloaded once,
 * since nothing says which file it read.) */
void hap_driver_started(struct hap_driver *d);

/* Appends the Prometheus metrics of n drivers (d[i] may be NULL: skipped),
 * each sample labelled template=labels[i], grouped by metric. */
void hap_driver_metrics(const struct hap_driver *const *d, const char *const *labels, size_t n,
			struct buf *out);

#endif
