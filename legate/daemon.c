/* daemon: legate's main mode.  Loads the configuration, starts the watcher,
 * the template runner and the status server on one event loop, and handles
 * SIGHUP (reload configuration and templates, keeping the watches still
 * needed), SIGTERM and SIGINT (exit at once, cleanly). */
#include "legate/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "legate/config.h"
#include "legate/status.h"
#include "renderer/runner.h"
#include "watcher/watch.h"

struct daemon {
	int argc;
	char **argv;
	struct config *cfg;       /* the runner borrows it: heap, replaced whole */
	struct loop *loop;
	struct watcher *wr;
	struct runner_deps *deps;
	struct runner *runner;
	struct status_server *status;
	double started;
	int exit_code;
	bool ready;
	bool pid_written;
	bool hup_pending;           /* SIGHUP came while a check or command ran */
	struct loop_timer hup_timer;
	unsigned long reloads, reload_errors;
};

/* The watcher as the runner's source of data. */
static struct watch *src_add(void *wr, const char *name, const struct watch_name *n,
			     source_changed_fn cb, void *arg, struct lg_error *err)
{
	return watcher_add_name(wr, name, n, cb, arg, err);
}

static void src_remove(void *wr, struct watch *w)
{
	watcher_remove(wr, w);
}

static void on_ready(struct runner *r, void *arg)
{
	struct daemon *d = arg;
	(void)r;
	if (d->ready)
		return;
	d->ready = true;
	/* -once says how it went at its end, once every check and command ran. */
	if (!d->cfg->once)
		log_info("%s", d->cfg->dry ? "-dry: every template rendered to stdout; nothing installed"
					   : "every template is in place");
	if (d->cfg->ready_file) {
		int fd = open(d->cfg->ready_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			log_error("cannot create ready file %s: %s", d->cfg->ready_file, strerror(errno));
		else
			close(fd);
	}
	if (d->cfg->ready_fd >= 0) {
		/* s6-style notification: one line, then the descriptor is done. */
		if (write(d->cfg->ready_fd, "\n", 1) != 1)
			log_warn("cannot notify readiness on fd %d: %s", d->cfg->ready_fd, strerror(errno));
		close(d->cfg->ready_fd);
		d->cfg->ready_fd = -1;
	}
}

static void on_done(struct runner *r, bool ok, void *arg)
{
	struct daemon *d = arg;
	(void)r;
	d->exit_code = ok ? 0 : 1;
	if (ok && d->cfg->dry)
		log_info("-once -dry: every template rendered to stdout; nothing installed");
	else if (ok)
		log_info("-once: every template is in place");
	else if (d->cfg->dry)
		log_error("-once -dry: not every template could be rendered");
	else
		log_error("-once: not every template could be rendered and installed");
	loop_stop(d->loop);
}

/* A watch past its retries: consul-template's runner error, status 14. */
static void on_gave_up(struct watch *w, void *arg)
{
	struct daemon *d = arg;

	if (d->exit_code == 14)
		return;     /* one line, however many watches gave up together */
	log_error("%s: cannot be read; exiting (status 14)", watch_name(w));
	d->exit_code = 14;
	loop_stop(d->loop);
}

static bool health(void *arg, struct buf *why)
{
	struct daemon *d = arg;

	if (!d->runner) {
		buf_puts(why, "no templates loaded");
		return false;
	}
	return runner_health(d->runner, why);
}

static json_t *status(void *arg)
{
	struct daemon *d = arg;
	return json_pack("{s:s, s:f, s:b, s:b, s:I, s:I, s:I, s:o, s:o}",
			 "version", LEGATE_VERSION,
			 "uptime", clock_mono() - d->started,
			 "ready", d->ready,
			 "healthy", d->runner && runner_healthy(d->runner),
			 "config_reloads", (json_int_t)d->reloads,
			 "config_reload_errors", (json_int_t)d->reload_errors,
			 "connections", (json_int_t)watcher_requests(d->wr),
			 "templates", d->runner ? runner_status(d->runner) : json_array(),
			 "watches", watcher_status(d->wr));
}

static void metrics(void *arg, struct buf *out)
{
	struct daemon *d = arg;
	json_t *ws = watcher_status(d->wr), *w;
	size_t i;
	long errors = 0, changes = 0;

	if (d->runner)
		runner_metrics(d->runner, out);
	json_array_foreach(ws, i, w) {
		errors += (long)json_integer_value(json_object_get(w, "errors"));
		changes += (long)json_integer_value(json_object_get(w, "changes"));
	}
	json_decref(ws);
	buf_printf(out, "# HELP legate_watches Watches held.\n# TYPE legate_watches gauge\nlegate_watches %zu\n",
		   runner_deps_count(d->deps));
	buf_printf(out, "# HELP legate_watch_errors_total Failed calls to Consul or etcd.\n"
		   "# TYPE legate_watch_errors_total counter\nlegate_watch_errors_total %ld\n", errors);
	buf_printf(out, "# HELP legate_watch_changes_total Data changes seen.\n"
		   "# TYPE legate_watch_changes_total counter\nlegate_watch_changes_total %ld\n", changes);
	buf_printf(out, "# HELP legate_requests_total HTTP requests sent to Consul or etcd.\n"
		   "# TYPE legate_requests_total counter\nlegate_requests_total %lu\n", watcher_calls(d->wr));
	buf_printf(out, "# HELP legate_catalog_sweeps_total Catalog sweeps (the node list, then each node) for the service watches without a long-poll.\n"
		   "# TYPE legate_catalog_sweeps_total counter\nlegate_catalog_sweeps_total %lu\n", watcher_sweeps(d->wr));
	buf_printf(out, "# HELP legate_catalog_node_polls Nodes the catalog sweep long-polls (sweeps pass them by).\n"
		   "# TYPE legate_catalog_node_polls gauge\nlegate_catalog_node_polls %d\n", watcher_node_polls(d->wr));
	buf_printf(out, "# HELP legate_connections Connections open to Consul or etcd.\n"
		   "# TYPE legate_connections gauge\nlegate_connections %d\n", watcher_requests(d->wr));
	buf_printf(out, "# HELP legate_config_reloads_total Configuration reloads (SIGHUP).\n"
		   "# TYPE legate_config_reloads_total counter\nlegate_config_reloads_total %lu\n", d->reloads);
	buf_printf(out, "# HELP legate_healthy 1 when every template is healthy.\n"
		   "# TYPE legate_healthy gauge\nlegate_healthy %d\n", d->runner && runner_healthy(d->runner));
}

static void on_idle(struct runner *r, void *arg)
{
	struct daemon *d = arg;
	(void)r;
	/* The reload itself frees the runner: not from inside its callback. */
	if (d->hup_pending)
		loop_add_timer(d->loop, &d->hup_timer, 0);
}

static const struct runner_hooks *hooks_for(struct daemon *d)
{
	static struct runner_hooks h;
	h.ready = on_ready;
	h.done = on_done;
	h.idle = on_idle;
	h.arg = d;
	return &h;
}

/* SIGHUP: a new configuration and new templates, or, on any error, the old
 * ones kept running untouched.  A check or command still running (a reload
 * of HAProxy, say) is let finish first: the reload follows when it ends. */
static void reload_config(struct daemon *d);

static void on_hup(struct loop *l, int signo, void *arg)
{
	struct daemon *d = arg;
	(void)l;
	(void)signo;
	if (d->runner && runner_busy(d->runner)) {
		log_info("SIGHUP: reloading once the running check or command ends");
		d->hup_pending = true;
		return;
	}
	reload_config(d);
}

static void on_hup_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	(void)l;
	if (d->hup_pending && !(d->runner && runner_busy(d->runner)))
		reload_config(d);
}

static void reload_config(struct daemon *d)
{
	struct config *ncfg = calloc(1, sizeof *ncfg);
	struct lg_error cerr;
	char etext[1100];
	struct runner *nr;
	enum log_level lvl;
	enum log_format fmt;
	struct lg_error err;
	int rc;

	d->hup_pending = false;
	log_info("SIGHUP: reloading configuration and templates");
	if (!ncfg) {
		log_error("reload refused: out of memory");
		d->reload_errors++;
		return;
	}
	rc = config_load(ncfg, d->argc, d->argv, &cerr);
	if (rc != 0 || ncfg->ntemplates == 0) {
		log_error("reload refused, keeping the running configuration: %s",
			  rc != 0 ? lg_error_str(&cerr, etext, sizeof etext) : "no templates");
		goto refuse;
	}
	if (strcmp(ncfg->consul_addr, d->cfg->consul_addr) != 0 ||
	    (ncfg->etcd_addr == NULL) != (d->cfg->etcd_addr == NULL) ||
	    (ncfg->etcd_addr && strcmp(ncfg->etcd_addr, d->cfg->etcd_addr) != 0))
		log_warn("a new Consul or etcd address takes effect only after a restart");
	nr = runner_new(d->loop, d->deps, &ncfg->run, hooks_for(d), &err);
	if (!nr) {
		/* runner_new failing leaves the old runner as the current one. */
		log_error("reload refused, keeping the running templates: %s", lg_error_str(&err, etext, sizeof etext));
		goto refuse;
	}
	/* Readiness was announced once already. */
	ncfg->ready_fd = -1;
	/* The new runner holds every watch of the old one until its own first
	 * renders have taken what they need: a watch both use keeps its call
	 * in flight (a burst of SIGHUPs opens no connection), and only the
	 * watches no template needs any more are removed. */
	runner_take_over(nr, d->runner);
	runner_free(d->runner);
	config_free(d->cfg);
	free(d->cfg);
	d->cfg = ncfg;
	d->runner = nr;
	d->reloads++;
	if (log_level_parse(d->cfg->log_level, &lvl) == 0)
		log_set_level(lvl);
	if (d->cfg->log_format && log_format_parse(d->cfg->log_format, &fmt) == 0)
		log_set_format(fmt);
	return;
refuse:
	config_free(ncfg);
	free(ncfg);
	d->reload_errors++;
}

static void on_term(struct loop *l, int signo, void *arg)
{
	struct daemon *d = arg;
	log_info("%s: exiting", strsignal(signo));
	d->exit_code = 0;
	loop_stop(l);
}

int daemon_main(int argc, char **argv)
{
	struct daemon d = { .argc = argc, .argv = argv, .exit_code = 1 };
	struct lg_error cerr;
	char etext[1100];
	struct watcher_opts wo;
	enum log_level lvl;
	struct lg_error err;
	int rc;

	d.cfg = calloc(1, sizeof *d.cfg);
	if (!d.cfg) {
		log_error("out of memory");
		return 1;
	}
	rc = config_load(d.cfg, argc, argv, &cerr);
	if (rc != 0) {
		if (rc < 0)
			log_error("%s", lg_error_str(&cerr, etext, sizeof etext));
		config_free(d.cfg);
		free(d.cfg);
		return rc < 0 ? 2 : 0;
	}
	if (log_level_parse(d.cfg->log_level, &lvl) < 0) {
		log_error("-log-level \"%s\": want error, warn, info, debug or trace", d.cfg->log_level);
		config_free(d.cfg);
		free(d.cfg);
		return 2;
	}
	log_set_level(lvl);
	if (d.cfg->log_format) {
		enum log_format fmt;
		if (log_format_parse(d.cfg->log_format, &fmt) < 0) {
			log_error("-log-format \"%s\": want text or json", d.cfg->log_format);
			config_free(d.cfg);
			free(d.cfg);
			return 2;
		}
		log_set_format(fmt);
	}
	if (d.cfg->ntemplates == 0) {
		log_error("no templates: give -template \"source:destination[:command]\" or a -config file");
		config_free(d.cfg);
		free(d.cfg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	d.loop = loop_new(0);
	if (!d.loop) {
		log_error("cannot create the event loop: %s", strerror(errno));
		config_free(d.cfg);
		free(d.cfg);
		return 1;
	}
	d.started = clock_mono();
	loop_timer_init(&d.hup_timer, on_hup_timer, &d);
	memset(&wo, 0, sizeof wo);
	wo.consul_addr = d.cfg->consul_addr;
	wo.consul_token = d.cfg->consul_token;
	wo.consul_stale = d.cfg->max_stale_ms > 0;
	wo.max_stale = d.cfg->max_stale_ms / 1000.0;
	wo.etcd_addr = d.cfg->etcd_addr;
	wo.etcd_v2 = d.cfg->etcd_v2;
	wo.etcd_ca_file = d.cfg->etcd_ca_cert;
	wo.etcd_cert_file = d.cfg->etcd_cert;
	wo.etcd_key_file = d.cfg->etcd_key;
	wo.etcd_server_name = d.cfg->etcd_server_name;
	wo.etcd_user = d.cfg->etcd_user;
	wo.etcd_password = d.cfg->etcd_password;
	wo.ca_file = d.cfg->consul_ca_cert;
	wo.cert_file = d.cfg->consul_cert;
	wo.key_file = d.cfg->consul_key;
	wo.ca_path = d.cfg->consul_ca_path;
	wo.insecure = d.cfg->consul_ssl && !d.cfg->consul_ssl_verify;
	wo.server_name = d.cfg->consul_ssl ? d.cfg->consul_server_name : NULL;
	wo.consul_auth = d.cfg->consul_auth;
	wo.max_conns = d.cfg->max_connections;
	wo.wait = d.cfg->block_query_wait_ms / 1000.0;
	/* consul-template's retries: backoff * 2^n up to max_backoff; past the
	 * attempts (or at the first failure without retries) legate exits 14. */
	wo.backoff_min = d.cfg->consul_retry_backoff_ms / 1000.0;
	wo.backoff_max = d.cfg->consul_retry_max_backoff_ms / 1000.0;
	wo.max_retries = !d.cfg->consul_retry ? -1 : d.cfg->consul_retry_attempts;
	wo.gave_up = on_gave_up;
	wo.gave_up_arg = &d;
	d.wr = watcher_new(d.loop, &wo, &err);
	if (!d.wr) {
		log_error("%s", lg_error_str(&err, etext, sizeof etext));
		goto out;
	}
	d.deps = runner_deps_new(&(struct runner_source){ d.wr, src_add, src_remove, watch_data, watch_name });
	if (!d.deps) {
		log_error("out of memory");
		goto out;
	}
	d.runner = runner_new(d.loop, d.deps, &d.cfg->run, hooks_for(&d), &err);
	if (!d.runner) {
		log_error("%s", lg_error_str(&err, etext, sizeof etext));
		d.exit_code = 2;
		goto out;
	}
	if (loop_add_signal(d.loop, SIGHUP, on_hup, &d) < 0 ||
	    loop_add_signal(d.loop, SIGTERM, on_term, &d) < 0 ||
	    loop_add_signal(d.loop, SIGINT, on_term, &d) < 0 ||
	    loop_add_signal(d.loop, SIGQUIT, on_term, &d) < 0) {
		log_error("cannot set up signals: %s", strerror(errno));
		goto out;
	}
	if (d.cfg->status_addr) {
		struct status_source src = { health, status, metrics, &d };
		d.status = status_start(d.loop, d.cfg->status_addr, &src, &err);
		if (!d.status) {
			log_error("%s", lg_error_str(&err, etext, sizeof etext));
			goto out;
		}
		log_info("serving /health, /status and /metrics on %s", d.cfg->status_addr);
	}
	if (d.cfg->pid_file) {
		FILE *f = fopen(d.cfg->pid_file, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
			log_error("cannot write pid file %s: %s", d.cfg->pid_file, strerror(errno));
			goto out;
		}
		d.pid_written = true;
	}
	log_info("watching %s for %zu template(s)", d.cfg->etcd_addr ? d.cfg->etcd_addr : d.cfg->consul_addr,
		 d.cfg->ntemplates);
	d.exit_code = 0;
	if (loop_run(d.loop) < 0) {
		log_error("event loop: %s", strerror(errno));
		d.exit_code = 1;
	}
out:
	if (d.pid_written)
		unlink(d.cfg->pid_file);
	status_stop(d.status);
	loop_del_timer(d.loop, &d.hup_timer);
	runner_free(d.runner);
	runner_deps_free(d.deps);
	watcher_free(d.wr);
	loop_free(d.loop);
	config_free(d.cfg);
	free(d.cfg);
	return d.exit_code;
}
