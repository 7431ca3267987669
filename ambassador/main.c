/* main: "legate ambassador": one event loop that follows every forward's
 * backends, renders the HAProxy config when they change and takes it to
 * HAProxy through the pipeline every template uses (renderer/apply.h):
 * backend changes through HAProxy's runtime API, a port that opens or
 * closes as a confirmed reload.  HAProxy runs as its supervised child
 * (haproxy/proc.h), so the whole ambassador is one command and can be a
 * container's entrypoint. */
#include "legate/commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ambassador/args.h"
#include "ambassador/config.h"
#include "ambassador/iptables.h"
#include "ambassador/omni.h"
#include "ambassador/sources.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "haproxy/driver.h"
#include "haproxy/proc.h"
#include "renderer/apply.h"

/* How long the first config waits for slow sources before it is written
 * with what is known (an unknown forward refuses connections meanwhile). */
#define FIRST_RENDER_WAIT 3.0
/* A config that could not be written is rendered and tried again. */
#define RETRY_AFTER 1.0
/* Connections to a backend removed at run time finish, for an hour at
 * most: what old workers get after a reload (hard-stop-after 1h). */
#define DRAIN_TIMEOUT 3600.0
#define RELOAD_TIMEOUT 10.0
#define AUDIT_INTERVAL 5.0

struct amb {
	struct amb_spec spec;
	struct loop *loop;
	struct amb_source **src;
	struct amb_omni *omni;            /* --omnimode: instead of src */
	bool iptables;                    /* the REDIRECT rule is ours to remove */
	struct amb_config *cfg;
	struct hap_child *hp;
	struct hap_driver *drv;           /* from HAProxy's first start on */
	struct apply_opts ao;             /* how a rendering reaches HAProxy */
	struct apply_job *job;            /* the change in progress, one at a time */
	bool dirty;                       /* backends changed while it ran */
	double job_started;
	struct buf first;                 /* the first config, until HAProxy starts on it */
	struct loop_timer render_timer;   /* coalesces changes of one turn */
	struct loop_timer first_timer;    /* FIRST_RENDER_WAIT */
	char cfg_path[4096], sock_path[4096];
	bool rendered;                    /* the first render happened */
	bool stopping;
	int exit_code;
};

static bool all_ready(const struct amb *a)
{
	if (a->spec.omni)
		return a->omni && amb_omni_ready(a->omni);
	for (size_t i = 0; i < a->spec.nfwd; i++)
		if (!amb_source_ready(a->src[i]))
			return false;
	return true;
}

static void on_started(pid_t master, void *arg)
{
	struct amb *a = arg;

	(void)master;
	/* A new master reads the installed file: nothing to reload. */
	if (a->drv)
		hap_driver_started(a->drv);
}

/* The first config is in place: HAProxy starts on it, and from now on
 * the driver takes every change to it. */
static void start_haproxy(struct amb *a)
{
	struct hap_driver_opts o = {
		.master_socket = a->sock_path,
		.runtime_socket = NULL,          /* runtime commands through the master ("@1") */
		.drain_timeout = DRAIN_TIMEOUT,
		.reload_timeout = RELOAD_TIMEOUT,
		.audit_interval = AUDIT_INTERVAL,
		.runtime = true,
		.label = a->cfg_path,
	};
	struct hap_cfg *cfg = hap_cfg_parse(a->first.data ? a->first.data : "", a->first.len);

	buf_free(&a->first);
	if (!cfg || !(a->drv = hap_driver_new(a->loop, &o, NULL, 0))) {
		hap_cfg_free(cfg);
		log_error("out of memory");
		loop_add_timer(a->loop, &a->render_timer, RETRY_AFTER);
		return;
	}
	/* The master about to start reads this file: the driver takes it as
	 * running now, so a change that follows at once goes through the
	 * runtime API rather than a reload (its first "show proc" may come
	 * a quarter of a second later), and hap_driver_started() keeps that
	 * master from being reloaded when it is first seen. */
	hap_driver_installed(a->drv, cfg, true);
	hap_child_start(a->hp);
}

static void on_applied(const struct apply_outcome *o, void *arg)
{
	struct amb *a = arg;
	double ms = (clock_mono() - a->job_started) * 1000;
	bool first = a->ao.hap == NULL;

	a->job = NULL;
	if (!o->ok) {
		/* A reload HAProxy refused or did not confirm: the driver tries
		 * again on its own; a file that could not be written: we do. */
		log_error("%s", o->error);
		buf_free(&a->first);
		if (o->failed == AS_INSTALL)
			loop_add_timer(a->loop, &a->render_timer, RETRY_AFTER);
	} else if (first) {
		start_haproxy(a);
	} else if (o->runtime) {
		log_info("%s: backends changed through HAProxy's runtime API in %.0f ms (no reload)",
			 a->cfg_path, ms);
	} else if (o->reloaded) {
		log_debug("%s: HAProxy's reload confirmed in %.0f ms", a->cfg_path, ms);
	}
	if (a->dirty && !a->stopping) {
		a->dirty = false;
		loop_add_timer(a->loop, &a->render_timer, 0);
	}
}

static void render(struct amb *a)
{
	const struct amb_list **lists;
	struct buf out = BUF_INIT;
	struct lg_error err;

	a->rendered = true;
	loop_del_timer(a->loop, &a->first_timer);
	if (a->job) {
		/* Rendered again when it ends, with the backends of that moment. */
		a->dirty = true;
		return;
	}
	if (!(lists = calloc(a->spec.nfwd, sizeof *lists))) {
		log_error("out of memory");
		return;
	}
	for (size_t i = 0; !a->spec.omni && i < a->spec.nfwd; i++)
		lists[i] = amb_source_list(a->src[i]);
	if (a->spec.omni ? amb_omni_render(&a->spec, a->omni, a->cfg, &out, &err) < 0
			 : amb_config_render(a->cfg, lists, &out, &err) < 0) {
		log_error("cannot render the HAProxy config: %s", err.text);
		goto out;
	}
	if (a->spec.print_config) {
		fputs(buf_cstr(&out), stdout);
		fflush(stdout);
		loop_stop(a->loop);
		goto out;
	}
	if (a->spec.omni)
		amb_omni_sync(a->omni, a->drv != NULL);
	a->ao.hap = a->drv;
	a->job_started = clock_mono();
	a->job = apply_start(a->loop, &a->ao, out.data ? out.data : "", out.len, true, on_applied, a);
	if (!a->job) {
		log_error("out of memory");
		goto out;
	}
	if (!a->drv) {
		/* HAProxy starts on this one: the driver is told what it reads. */
		buf_free(&a->first);
		a->first = out;
		out = (struct buf)BUF_INIT;
	}
out:
	buf_free(&out);
	free(lists);
}

/* Checks, before anything runs, the config with every forward present
 * (each with a placeholder server): the template, the bind addresses. */
static int check_at_start(struct amb *a)
{
	const struct amb_list **lists = calloc(a->spec.nfwd, sizeof *lists);
	struct amb_list one = { 0 };
	struct buf out = BUF_INIT;
	struct lg_error err;
	char path[4200];
	int rc = -1;

	if (!lists || amb_list_add(&one, "127.0.0.1", 1) < 0) {
		log_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->spec.nfwd; i++)
		lists[i] = &one;
	snprintf(path, sizeof path, "%s/haproxy.cfg.check", a->spec.run_dir);
	if ((a->spec.omni ? amb_omni_render(&a->spec, NULL, a->cfg, &out, &err)
			  : amb_config_render(a->cfg, lists, &out, &err)) < 0 ||
	    amb_config_check(a->cfg, path, &out, &err) < 0) {
		log_error("%s", err.text);
		goto out;
	}
	rc = 0;
out:
	amb_list_free(&one);
	buf_free(&out);
	free(lists);
	return rc;
}

static void on_render_timer(struct loop *l, void *arg)
{
	(void)l;
	render(arg);
}

static void on_source(struct amb_source *s, void *arg)
{
	struct amb *a = arg;
	(void)s;
	if (a->stopping)
		return;
	if (a->rendered || all_ready(a))
		loop_add_timer(a->loop, &a->render_timer, 0);
}

static void on_omni(void *arg)
{
	on_source(NULL, arg);
}

static void on_first_timer(struct loop *l, void *arg)
{
	struct amb *a = arg;
	(void)l;
	if (!a->rendered) {
		log_warn("not every source answered within %.0f s; starting with what is known",
			 FIRST_RENDER_WAIT);
		render(a);
	}
}

static void on_stopped(void *arg)
{
	struct amb *a = arg;
	loop_stop(a->loop);
}

/* The ambassador runs no other child once the loop runs (nothing on the
 * way to HAProxy is a command), so every exited child is reaped here: as
 * PID 1 it also inherits orphans. */
static void reap(struct amb *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0 || (pid < 0 && errno == EINTR))
		if (pid > 0)
			hap_child_exited(a->hp, pid, status);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct amb *a = arg;
	(void)l;
	if (signo == SIGCHLD) {
		reap(a);
		return;
	}
	if (a->stopping)
		return;
	log_info("%s: stopping", strsignal(signo));
	a->stopping = true;
	loop_del_timer(a->loop, &a->render_timer);
	loop_del_timer(a->loop, &a->first_timer);
	/* A reload already asked for is not waited for: HAProxy stops. */
	apply_cancel(a->job);
	a->job = NULL;
	hap_driver_free(a->drv);
	a->drv = NULL;
	hap_child_stop(a->hp, on_stopped, a);
}

static int mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf)
		return errno = ENAMETOOLONG, -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int ambassador_main(int argc, char **argv)
{
	struct amb a = { 0 };
	struct lg_error err;
	enum log_level lvl;
	int rc;

	rc = amb_args_parse(argc, argv, &a.spec, &err);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		log_error("ambassador: %s", err.text);
		fputs("usage: legate ambassador [options] [BACKEND...]  (legate ambassador --help)\n", stderr);
		amb_spec_free(&a.spec);
		return 2;
	}
	if (a.spec.log_level) {
		if (log_level_parse(a.spec.log_level, &lvl) < 0) {
			log_error("ambassador: unknown log level %s", a.spec.log_level);
			amb_spec_free(&a.spec);
			return 2;
		}
		log_set_level(lvl);
	}
	a.exit_code = 1;
	signal(SIGPIPE, SIG_IGN);
	snprintf(a.cfg_path, sizeof a.cfg_path, "%s/haproxy.cfg", a.spec.run_dir);
	snprintf(a.sock_path, sizeof a.sock_path, "%s/master.sock", a.spec.run_dir);
	if (!a.spec.print_config && mkdirs(a.spec.run_dir) < 0) {
		log_error("cannot create %s: %s", a.spec.run_dir, strerror(errno));
		goto out;
	}
	if (!(a.loop = loop_new(0))) {
		log_error("cannot create the event loop: %s", strerror(errno));
		goto out;
	}
	if (loop_add_signal(a.loop, SIGTERM, on_signal, &a) < 0 ||
	    loop_add_signal(a.loop, SIGINT, on_signal, &a) < 0 ||
	    loop_add_signal(a.loop, SIGCHLD, on_signal, &a) < 0) {
		log_error("cannot set up signals: %s", strerror(errno));
		goto out;
	}
	if (!(a.cfg = amb_config_new(&a.spec, &err))) {
		/* A credential that cannot be read is the command line's fault. */
		log_error("%s", err.text);
		a.exit_code = 2;
		goto out;
	}
	if (a.spec.omni && !a.spec.print_config && amb_omni_map_init(&a.spec, &err) < 0) {
		log_error("%s", err.text);
		goto out;
	}
	if (!a.spec.print_config && check_at_start(&a) < 0) {
		a.exit_code = 2;
		goto out;
	}
	if (!(a.hp = hap_child_new(a.loop, a.spec.haproxy, a.cfg_path, a.sock_path, on_started, &a))) {
		log_error("out of memory");
		goto out;
	}
	/* Every config after the first differs from the one checked at start
	 * (check_at_start: every forward present) only in which forwards have
	 * a listen section and in their server lines, whose addresses are
	 * parsed strictly (backend.h).  So nothing on the way to HAProxy runs
	 * "haproxy -c", not even before a reload: the check would find
	 * nothing and would add about 30 ms (measured on 2 shared cores, half
	 * a confirmed reload) to every port that opens or closes.  What it
	 * cannot see either (a port another program holds) makes the reload
	 * fail; the master says so, the old workers go on, the driver tries
	 * again. */
	a.ao = (struct apply_opts){
		.install = { a.cfg_path, amb_config_secret(a.cfg) ? 0600 : 0644, (uid_t)-1, (gid_t)-1, false, true },
		.label = a.cfg_path,
	};
	loop_timer_init(&a.render_timer, on_render_timer, &a);
	loop_timer_init(&a.first_timer, on_first_timer, &a);
	if (!(a.src = calloc(a.spec.nfwd, sizeof *a.src))) {
		log_error("out of memory");
		goto out;
	}
	if (a.spec.omni) {
		if (a.spec.setup_iptables && !a.spec.print_config) {
			if (amb_iptables_setup(a.spec.fwd[0].bind_port, &err) < 0) {
				log_error("%s", err.text);
				goto out;
			}
			a.iptables = true;
		}
		if (!(a.omni = amb_omni_new(a.loop, &a.spec, on_omni, &a, &err))) {
			log_error("--omnimode: %s", err.text);
			goto out;
		}
		log_info("port %d: omni mode, the containers of %s", a.spec.fwd[0].bind_port, a.spec.docker);
	}
	for (size_t i = 0; !a.spec.omni && i < a.spec.nfwd; i++) {
		const struct amb_forward *f = &a.spec.fwd[i];
		if (!(a.src[i] = amb_source_new(a.loop, &a.spec, f, on_source, &a, &err))) {
			log_error("%s: %s", f->arg, err.text);
			goto out;
		}
		log_info("port %d: %s", f->bind_port, f->arg);
	}
	if (all_ready(&a))
		loop_add_timer(a.loop, &a.render_timer, 0);
	loop_add_timer(a.loop, &a.first_timer, FIRST_RENDER_WAIT);
	if (loop_run(a.loop) < 0) {
		log_error("event loop: %s", strerror(errno));
		goto out;
	}
	a.exit_code = 0;
out:
	for (size_t i = 0; a.src && i < a.spec.nfwd; i++)
		amb_source_free(a.src[i]);
	free(a.src);
	amb_omni_free(a.omni);
	if (a.iptables)
		amb_iptables_teardown(a.spec.fwd[0].bind_port);
	apply_cancel(a.job);
	hap_driver_free(a.drv);
	hap_child_free(a.hp);
	buf_free(&a.first);
	amb_config_free(a.cfg);
	if (a.loop) {
		loop_del_timer(a.loop, &a.render_timer);
		loop_del_timer(a.loop, &a.first_timer);
		loop_free(a.loop);
	}
	amb_spec_free(&a.spec);
	return a.exit_code;
}
