/* main: "legate ambassador": one event loop that follows every forward's
 * backends, renders and installs the HAProxy config when they change, and
 * runs HAProxy under supervision, so the whole ambassador is one command
 * and can be a container's entrypoint. */
#include "legate/commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ambassador/args.h"
#include "ambassador/config.h"
#include "ambassador/haproxy.h"
#include "ambassador/sources.h"
#include "common/log.h"
#include "watcher/loop.h"

/* How long the first config waits for slow sources before it is written
 * with what is known (an unknown forward refuses connections meanwhile). */
#define FIRST_RENDER_WAIT 3.0

struct amb {
	struct amb_spec spec;
	struct loop *loop;
	struct amb_source **src;
	struct amb_config *cfg;
	struct amb_haproxy *hp;
	struct loop_timer render_timer;   /* coalesces changes of one turn */
	struct loop_timer first_timer;    /* FIRST_RENDER_WAIT */
	char cfg_path[4096], sock_path[4096];
	bool rendered;                    /* the first render happened */
	bool stopping;
	int exit_code;
};

static bool all_ready(const struct amb *a)
{
	for (size_t i = 0; i < a->spec.nfwd; i++)
		if (!amb_source_ready(a->src[i]))
			return false;
	return true;
}

static void render(struct amb *a)
{
	const struct amb_list **lists = calloc(a->spec.nfwd, sizeof *lists);
	struct buf out = BUF_INIT;
	char err[1024];
	double t0;
	int rc;

	if (!lists) {
		log_error("out of memory");
		return;
	}
	a->rendered = true;
	loop_del_timer(a->loop, &a->first_timer);
	for (size_t i = 0; i < a->spec.nfwd; i++)
		lists[i] = amb_source_list(a->src[i]);
	if (amb_config_render(a->cfg, lists, &out, err, sizeof err) < 0) {
		log_error("cannot render the HAProxy config: %s", err);
		goto out;
	}
	if (a->spec.print_config) {
		fputs(buf_cstr(&out), stdout);
		fflush(stdout);
		loop_stop(a->loop);
		goto out;
	}
	t0 = loop_now();
	/* The configs differ from the one checked at start only in server
	 * addresses, each parsed strictly: no "haproxy -c" on the hot path. */
	rc = amb_config_install(a->cfg, a->cfg_path, &out, false, err, sizeof err);
	if (rc < 0) {
		log_error("%s; the running config stays", err);
		goto out;
	}
	if (rc == 1)
		log_debug("%s: installed in %.0f ms (%zu bytes)", a->cfg_path,
			  (loop_now() - t0) * 1000, out.len);
	if (rc == 1 || amb_haproxy_pid(a->hp) == 0)
		amb_haproxy_apply(a->hp);
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
	char err[1024], path[4200];
	int rc = -1;

	if (!lists || amb_list_add(&one, "127.0.0.1", 1) < 0) {
		log_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->spec.nfwd; i++)
		lists[i] = &one;
	snprintf(path, sizeof path, "%s/haproxy.cfg.check", a->spec.run_dir);
	if (amb_config_render(a->cfg, lists, &out, err, sizeof err) < 0 ||
	    amb_config_check(a->cfg, path, &out, err, sizeof err) < 0) {
		log_error("%s", err);
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

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct amb *a = arg;
	(void)l;
	if (signo == SIGCHLD) {
		amb_haproxy_reap(a->hp);
		return;
	}
	if (a->stopping)
		return;
	log_info("%s: stopping", strsignal(signo));
	a->stopping = true;
	loop_del_timer(a->loop, &a->render_timer);
	loop_del_timer(a->loop, &a->first_timer);
	amb_haproxy_stop(a->hp, on_stopped, a);
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
	char err[1024];
	enum log_level lvl;
	int rc;

	rc = amb_args_parse(argc, argv, &a.spec, err, sizeof err);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		log_error("ambassador: %s", err);
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
	if (!(a.loop = loop_new())) {
		log_error("cannot create the event loop: %s", strerror(errno));
		goto out;
	}
	if (loop_add_signal(a.loop, SIGTERM, on_signal, &a) < 0 ||
	    loop_add_signal(a.loop, SIGINT, on_signal, &a) < 0 ||
	    loop_add_signal(a.loop, SIGCHLD, on_signal, &a) < 0) {
		log_error("cannot set up signals: %s", strerror(errno));
		goto out;
	}
	if (!(a.cfg = amb_config_new(&a.spec, err, sizeof err))) {
		log_error("%s", err);
		goto out;
	}
	if (!a.spec.print_config && check_at_start(&a) < 0) {
		a.exit_code = 2;
		goto out;
	}
	if (!(a.hp = amb_haproxy_new(a.loop, a.spec.haproxy, a.cfg_path, a.sock_path))) {
		log_error("out of memory");
		goto out;
	}
	loop_timer_init(&a.render_timer, on_render_timer, &a);
	loop_timer_init(&a.first_timer, on_first_timer, &a);
	if (!(a.src = calloc(a.spec.nfwd, sizeof *a.src))) {
		log_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < a.spec.nfwd; i++) {
		const struct amb_forward *f = &a.spec.fwd[i];
		if (!(a.src[i] = amb_source_new(a.loop, &a.spec, f, on_source, &a, err, sizeof err))) {
			log_error("%s: %s", f->arg, err);
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
	amb_haproxy_free(a.hp);
	amb_config_free(a.cfg);
	if (a.loop) {
		loop_del_timer(a.loop, &a.render_timer);
		loop_del_timer(a.loop, &a.first_timer);
		loop_free(a.loop);
	}
	amb_spec_free(&a.spec);
	return a.exit_code;
}
