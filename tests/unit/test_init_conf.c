/* test_init_conf: legate-init's supervisord.conf reader (init/conf.c and
 * its key table, include and check files): supervisord's defaults, each
 * key into its field, merged sections, environments, dependencies, the
 * event listener keys, the client's socket, the tables an update swaps,
 * and the checks -t makes. */
#include "init/conf.h"
#include "common/log.h"
#include "tests/unit/check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_init_conf.XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail("cannot write %s", path);
	return path;
}

static int load(const char *text, struct conf *c, struct conf_error *err)
{
	struct conf_opts opts = { 0 };
	return conf_load(write_conf("t.conf", text), &opts, c, err);
}

static const char *env_of(const struct prog_conf *p, const char *name)
{
	size_t n = strlen(name);
	for (char **e = p->envp; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void defaults(void)
{
	struct conf c;
	struct conf_error err;
	const struct prog_conf *p;

	if (load("[program:web]\ncommand=sleep 10\n", &c, &err) < 0) {
		fail("load: %s", err.msg);
		return;
	}
	check_int(c.nprogs, 1);
	p = c.progs[0];
	check_str(p->name, "web");
	check_str(p->argv[0], "sleep");
	check_str(p->argv[1], "10");
	check(p->argv[2] == NULL);
	check_int(p->line_command, 2);
	check_int(p->priority, 999);
	check(p->autostart);
	check_int(p->autorestart, CONF_AR_UNEXPECTED);
	check(conf_expected(p, 0) && !conf_expected(p, 1));
	check_int(p->startsecs, 1);
	check_int(p->startretries, 3);
	check_int(p->stopsignal, SIGTERM);
	check_int(p->stopwaitsecs, 10);
	check(!p->stopasgroup && !p->killasgroup);
	check_int(p->out.kind, CONF_OUT_STDOUT);
	check_int(p->err.kind, CONF_OUT_STDERR);
	check(p->out.maxbytes == 50LL * 1024 * 1024);
	check_int(p->out.backups, 10);
	check_int(p->on_fatal, CONF_FATAL_KEEP);
	check_int(p->reload_signal, SIGHUP);
	check_int(p->ready_fd, -1);
	check_int(p->umask, -1);
	check(!p->listener);
	check_str(env_of(p, "SUPERVISOR_ENABLED"), "1");
	check_str(env_of(p, "SUPERVISOR_PROCESS_NAME"), "web");
	check_str(env_of(p, "SUPERVISOR_GROUP_NAME"), "web");
	check_str(c.identifier, "supervisor");
	check_int(c.ctl_mode, 0600);
	conf_free(&c);
}

static void keys(void)
{
	struct conf c;
	struct conf_error err;
	const struct prog_conf *p;

	if (load("[supervisord]\n"
		 "environment=G=global,B=fromglobal\n"
		 "identifier=box\n"
		 "[unix_http_server]\nfile=/tmp/x.sock\nchmod=0770\n"
		 "[program:web]\n"
		 "command=sh -c 'echo hi'\n"
		 "priority=5\n"
		 "autostart=false\n"
		 "autorestart=true\n"
		 "exitcodes=0,3\n"
		 "startsecs=0\n"
		 "startretries=7\n"
		 "stopsignal=QUIT\n"
		 "stopwaitsecs=2\n"
		 "stopasgroup=true\n"
		 "environment=A=1,B=prog\n"
		 "directory=/tmp\n"
		 "umask=022\n"
		 "redirect_stderr=yes\n"
		 "stdout_logfile=/tmp/web.log\n"
		 "stdout_logfile_maxbytes=1KB\n"
		 "stdout_logfile_backups=2\n"
		 "stderr_logfile=NONE\n"
		 "ready_fd=4\n"
		 "ready_timeout=9\n"
		 "reload_signal=USR2\n"
		 "on_fatal=exit\n"
		 "log_prefix=true\n"
		 "[eventlistener:ev]\n"
		 "command=cat\n"
		 "events=PROCESS_STATE_FATAL,TICK_60\n"
		 "buffer_size=3\n", &c, &err) < 0) {
		fail("load: %s:%d: %s", err.file, err.line, err.msg);
		return;
	}
	check_str(c.ctl_socket, "/tmp/x.sock");
	check_int(c.ctl_mode, 0770);
	check_str(c.identifier, "box");
	check_int(c.nprogs, 2);
	p = c.progs[0];
	check_int(p->priority, 5);
	check(!p->autostart);
	check_int(p->autorestart, CONF_AR_TRUE);
	check(conf_expected(p, 3) && !conf_expected(p, 2));
	check_int(p->startsecs, 0);
	check_int(p->startretries, 7);
	check_int(p->stopsignal, SIGQUIT);
	check_int(p->stopwaitsecs, 2);
	check(p->stopasgroup && p->killasgroup);
	check_str(env_of(p, "A"), "1");
	check_str(env_of(p, "B"), "prog");          /* the program's wins */
	check_str(env_of(p, "G"), "global");
	check_str(env_of(p, "SUPERVISOR_SERVER_URL"), "unix:///tmp/x.sock");
	check_str(env_of(p, "LEGATE_INIT_SOCKET"), "/tmp/x.sock");
	check_str(p->directory, "/tmp");
	check_int(p->umask, 022);
	check(p->redirect_stderr);
	check_int(p->out.kind, CONF_OUT_FILE);
	check_str(p->out.file, "/tmp/web.log");
	check(p->out.maxbytes == 1024);
	check_int(p->out.backups, 2);
	check_int(p->out.line, 22);
	check_int(p->err.kind, CONF_OUT_NULL);
	check_int(p->ready_fd, 4);
	check_int(p->ready_timeout, 9);
	check_int(p->reload_signal, SIGUSR2);
	check_int(p->on_fatal, CONF_FATAL_EXIT);
	check(p->log_prefix);
	p = c.progs[1];
	check(p->listener);
	check_str(p->name, "ev");
	check_int(p->priority, -1);                   /* listeners start first */
	check_int(p->events, CONF_EV_STATE_FATAL | CONF_EV_TICK_60);
	check_int(p->buffer_size, 3);
	conf_free(&c);
}

/* Repeated sections merge and a repeated key takes the later value, as
 * supervisord's parser does; comments end values. */
static void merging(void)
{
	struct conf c;
	struct conf_error err;

	if (load("[program:a]\ncommand=false ; not this\npriority=1\n\n"
		 "[program:b]\ncommand=true # nor this\n\n"
		 "[program:a]\ncommand=true\n  --flag\n", &c, &err) < 0) {
		fail("load: %s", err.msg);
		return;
	}
	check_int(c.nprogs, 2);
	check_str(c.progs[0]->argv[0], "true");
	check_str(c.progs[0]->argv[1], "--flag");
	check_int(c.progs[0]->priority, 1);
	check_str(c.progs[1]->argv[0], "true");
	check(c.progs[1]->argv[1] == NULL);
	conf_free(&c);
}

static void errors(void)
{
	static const struct { const char *text; int line; const char *msg; } cases[] = {
		{ "[program:a]\ncommand=true\nstartsecs=-1\n", 3, "startsecs: \"-1\" is not an integer from 0 to 86400" },
		{ "[program:a]\n", 1, "[program:a] has no command" },
		{ "[program:a]\ncommand=x\ndepends_on=a\n", 3, "depends_on: a depends on itself" },
		{ "[eventlistener:a]\ncommand=x\nevents=REMOTE_COMMUNICATION\n", 3,
		  "events: REMOTE_COMMUNICATION is not supported; legate-init sends PROCESS_STATE, "
		  "PROCESS_GROUP, SUPERVISOR_STATE_CHANGE and TICK events" },
		{ "[program:a]\ncommand=x\nevents=TICK_5\n", 0, NULL },   /* a warning, not an error */
		{ "[program:a]\ncommand=x\nbuffer_size=3\n", 0, NULL },
		{ "[program:a]\ncommand=x\nstdout_logfile=relative.log\n", 3,
		  "stdout_logfile: \"relative.log\" is not an absolute path" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conf c;
		struct conf_error err;
		int rc = load(cases[i].text, &c, &err);
		if (!cases[i].msg) {
			check_int(rc, 0);
			if (rc == 0)
				conf_free(&c);
			continue;
		}
		check_int(rc, -1);
		check_int(err.line, cases[i].line);
		check_str(err.msg, cases[i].msg);
		check(c.nprogs == 0 && c.progs == NULL);
	}
}

static void dependencies(void)
{
	struct conf c;
	struct conf_error err;

	if (load("[program:app]\ncommand=x\ndepends_on=db, cache\n"
		 "[program:db]\ncommand=x\n[program:cache]\ncommand=x\n", &c, &err) < 0) {
		fail("load: %s", err.msg);
		return;
	}
	check_int(c.progs[0]->ndeps, 2);
	check_int(c.progs[0]->deps[0], 1);
	check_int(c.progs[0]->deps[1], 2);
	check_str(c.progs[0]->dep_names[1], "cache");
	check_int(c.progs[0]->dep_line, 3);
	/* An update's table: app and cache, db gone. */
	struct prog_conf **t = conf_progs_reserve(&c, 3);
	struct prog_conf *db = c.progs[1];
	check(t != NULL);
	if (t) {
		t[0] = c.progs[0];
		t[1] = c.progs[2];
		c.progs[0] = c.progs[2] = NULL;
		c.progs[1] = NULL;
		conf_progs_set(&c, t, 2);
		check_int(c.nprogs, 2);
		check_int(c.progs[0]->deps[0], -1);    /* db is not there */
		check_int(c.progs[0]->deps[1], 1);
	}
	conf_prog_free(db);
	conf_free(&c);
}

/* Two loads of one section: the same text; a changed key: another. */
static void signatures(void)
{
	struct conf a, b;
	struct conf_error err;

	if (load("[program:x]\ncommand=sleep 1\n[program:y]\ncommand=sleep 2\n", &a, &err) < 0 ||
	    load("[program:x]\ncommand=sleep 1\n[program:y]\ncommand=sleep 3\n", &b, &err) < 0) {
		fail("load: %s", err.msg);
		return;
	}
	check_str(a.progs[0]->sig, b.progs[0]->sig);
	check(strcmp(a.progs[1]->sig, b.progs[1]->sig) != 0);
	conf_free(&a);
	conf_free(&b);
}

static void client_socket(void)
{
	char out[256];
	struct conf_error err;

	check_int(conf_client_socket(write_conf("c1.conf",
		"[supervisorctl]\nserverurl=unix:///run/a.sock\n[unix_http_server]\nfile=/run/b.sock\n"),
		out, sizeof out, &err), 0);
	check_str(out, "/run/a.sock");
	check_int(conf_client_socket(write_conf("c2.conf", "[unix_http_server]\nfile=/run/b.sock\n"),
		out, sizeof out, &err), 0);
	check_str(out, "/run/b.sock");
	check_int(conf_client_socket(write_conf("c3.conf", "[supervisord]\nctl_socket=/run/c.sock\n"),
		out, sizeof out, &err), 0);
	check_str(out, "/run/c.sock");
	check_int(conf_client_socket(write_conf("c4.conf", "[program:x]\ncommand=y\n"), out, sizeof out, &err), 1);
	check_int(conf_client_socket(write_conf("c5.conf", "[supervisorctl]\nserverurl=http://localhost:9001\n"),
		out, sizeof out, &err), -1);
	check_str(err.msg, "serverurl http://localhost:9001: legate-init answers only on unix:// sockets");
}

static void run_checks(void)
{
	struct conf c;
	struct conf_error err;
	char path[512];
	const char *why;

	if (load("[program:ok]\ncommand=sh -c true\n"
		 "[program:missing]\ncommand=legate-no-such-command\n"
		 "[program:logs]\ncommand=true\nstdout_logfile=/legate-nowhere/x.log\n"
		 "[program:dir]\ncommand=true\ndirectory=/legate-nowhere\n", &c, &err) < 0) {
		fail("load: %s", err.msg);
		return;
	}
	check_int(conf_find_command(c.progs[0], path, sizeof path, &why), 0);
	check(strstr(path, "/sh") != NULL);
	check_int(conf_find_command(c.progs[1], path, sizeof path, &why), -1);
	check_str(why, "not found in PATH");
	check_int(conf_check(&c), 3);
	conf_free(&c);
}

int main(void)
{
	/* The warnings and errors are checked by tests/init/conf-cases. */
	log_init("test_init_conf", open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	defaults();
	keys();
	merging();
	errors();
	dependencies();
	signatures();
	client_socket();
	run_checks();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	(void)!system(cmd);
	return check_done();
}
