/* confkeys: the keys of [program:NAME] and [eventlistener:NAME] as one
 * table: each key names the parser for its value and, for the plain kinds
 * (integers, booleans, signals, sizes, paths), the field it fills.  A key
 * supervisord knows but legate-init does not act on has a row too, so that
 * it is warned about by name rather than called unknown. */
#include "init/conf_int.h"

#include "common/log.h"
#include "init/confval.h"
#include "init/sigs.h"
#include "init/user.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct key_def;
typedef int key_fn(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		   const struct key_def *k);

struct key_def {
	const char *name;
	key_fn *parse;
	size_t off;               /* the field in struct prog_conf */
	long long min, max;
	unsigned flags;
};

#define K_LISTENER 1u         /* [eventlistener:] only */
#define K_PROGRAM 2u          /* [program:] only */

#define FIELD(p, k, type) ((type *)((char *)(p) + (k)->off))
#define OFF(f) offsetof(struct prog_conf, f)

/* ---- plain kinds ------------------------------------------------------------------ */

static int key_int(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		   const struct key_def *k)
{
	if (cv_int(e->val, (long)k->min, (long)k->max, FIELD(pl->p, k, int)) < 0)
		return conf_fail(ps, e->line, "%s: \"%s\" is not an integer from %lld to %lld",
				 e->key, e->val, k->min, k->max);
	return 0;
}

static int key_bool(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		    const struct key_def *k)
{
	if (cv_bool(e->val, FIELD(pl->p, k, bool)) < 0)
		return conf_fail(ps, e->line, "%s: \"%s\" is not a boolean (true or false)", e->key, e->val);
	return 0;
}

static int key_signal(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		      const struct key_def *k)
{
	int s = sig_parse(e->val);
	if (s < 0)
		return conf_fail(ps, e->line, "%s: \"%s\" is not a signal name", e->key, e->val);
	*FIELD(pl->p, k, int) = s;
	return 0;
}

static int key_size(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		    const struct key_def *k)
{
	if (cv_size(e->val, FIELD(pl->p, k, long long)) < 0)
		return conf_fail(ps, e->line, "%s: \"%s\" is not a size (bytes, or a number with KB, MB "
				 "or GB)", e->key, e->val);
	return 0;
}

static int key_abspath(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		       const struct key_def *k)
{
	if (e->val[0] != '/')
		return conf_fail(ps, e->line, "%s: \"%s\" is not an absolute path", e->key, e->val);
	*FIELD(pl->p, k, char *) = e->val;
	return 0;
}

/* Known to supervisord, not acted on: a warning names it. */
static int key_ignored(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		       const struct key_def *k)
{
	(void)k;
	log_warn("%s:%d: %s in [%s:%s] is not supported, ignored", ps->path, e->line, e->key,
		 pl->p->listener ? "eventlistener" : "program", pl->p->name);
	return 0;
}

/* Accepted silently at the value that means "off" (what legate-init does
 * anyway); any other value is warned about. */
static int key_off_only(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			const struct key_def *k)
{
	long long n;
	bool b;
	if ((cv_size(e->val, &n) == 0 && n == 0) || (cv_bool(e->val, &b) == 0 && !b))
		return 0;
	return key_ignored(ps, pl, e, k);
}

/* ---- keys with their own syntax ---------------------------------------------------- */

static int key_command(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		       const struct key_def *k)
{
	size_t len = strlen(e->val);
	char *buf = conf_alloc(ps, len + 1), err[CV_ERR];
	char **argv = conf_alloc(ps, sizeof *argv * (len / 2 + 2));
	(void)k;
	if (!buf || !argv)
		return conf_fail(ps, e->line, "out of memory");
	if (cv_command(e->val, buf, argv, err) < 0)
		return conf_fail(ps, e->line, "%s", err);
	pl->p->argv = argv;
	pl->p->line_command = e->line;
	pl->has_command = true;
	return 0;
}

static int key_autorestart(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			   const struct key_def *k)
{
	bool b;
	(void)k;
	if (strcasecmp(e->val, "unexpected") == 0) {
		pl->p->autorestart = CONF_AR_UNEXPECTED;
		return 0;
	}
	if (cv_bool(e->val, &b) < 0)
		return conf_fail(ps, e->line, "autorestart: \"%s\" is not true, false or unexpected", e->val);
	pl->p->autorestart = b ? CONF_AR_TRUE : CONF_AR_FALSE;
	return 0;
}

static int key_exitcodes(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			 const struct key_def *k)
{
	char err[CV_ERR];
	(void)k;
	if (cv_exitcodes(e->val, pl->p->exitcodes, err) < 0)
		return conf_fail(ps, e->line, "%s", err);
	return 0;
}

static int key_environment(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			   const struct key_def *k)
{
	size_t len = strlen(e->val);
	char **list = conf_alloc(ps, sizeof *list * (len / 2 + 2));
	char *buf = conf_alloc(ps, len * 2 + 2), err[CV_ERR];
	(void)k;
	if (!list || !buf)
		return conf_fail(ps, e->line, "out of memory");
	if (cv_environment(e->val, buf, list, err) < 0)
		return conf_fail(ps, e->line, "%s", err);
	pl->env_add = list;
	return 0;
}

static int key_directory(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			 const struct key_def *k)
{
	(void)ps;
	(void)k;
	pl->p->directory = e->val;
	pl->p->line_directory = e->line;
	return 0;
}

static int key_umask(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		     const struct key_def *k)
{
	(void)k;
	if (cv_octal(e->val, &pl->p->umask) < 0)
		return conf_fail(ps, e->line, "umask: \"%s\" is not an octal mask such as 022", e->val);
	return 0;
}

static int key_user(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		    const struct key_def *k)
{
	struct prog_conf *p = pl->p;
	(void)k;
	if (user_lookup(e->val, &p->uid, &p->gid, &p->groups, &p->ngroups) < 0)
		return conf_fail(ps, e->line, "user: no user \"%s\" in /etc/passwd", e->val);
	if (p->ngroups) {
		/* Into the program's arena, where conf_prog_free finds it. */
		gid_t *g = conf_alloc(ps, sizeof *g * (size_t)p->ngroups);
		if (!g) {
			free(p->groups);
			return conf_fail(ps, e->line, "out of memory");
		}
		memcpy(g, p->groups, sizeof *g * (size_t)p->ngroups);
		free(p->groups);
		p->groups = g;
	}
	p->has_user = true;
	return 0;
}

/* stdout_logfile and stderr_logfile: off points at the struct conf_log. */
static int key_logfile(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		       const struct key_def *k)
{
	struct conf_log *log = FIELD(pl->p, k, struct conf_log);
	enum conf_out dflt = k->off == OFF(out) ? CONF_OUT_STDOUT : CONF_OUT_STDERR;
	const char *v = e->val;

	log->file = NULL;
	log->line = e->line;
	if (strcmp(v, "/dev/stdout") == 0 || strcmp(v, "/dev/fd/1") == 0)
		log->kind = CONF_OUT_STDOUT;
	else if (strcmp(v, "/dev/stderr") == 0 || strcmp(v, "/dev/fd/2") == 0)
		log->kind = CONF_OUT_STDERR;
	else if (strcasecmp(v, "NONE") == 0 || strcmp(v, "/dev/null") == 0)
		log->kind = CONF_OUT_NULL;
	else if (strcasecmp(v, "AUTO") == 0)
		log->kind = dflt;   /* no log directory in a container: the container's stream */
	else if (v[0] != '/')
		return conf_fail(ps, e->line, "%s: \"%s\" is not an absolute path", e->key, v);
	else {
		log->kind = CONF_OUT_FILE;
		log->file = e->val;
	}
	return 0;
}

static int key_numprocs(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			const struct key_def *k)
{
	int v;
	(void)pl;
	(void)k;
	if (cv_int(e->val, 1, 1, &v) < 0)
		return conf_fail(ps, e->line, "numprocs: only 1 is supported");
	return 0;
}

static int key_process_name(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			    const struct key_def *k)
{
	if (strcmp(e->val, pl->p->name) == 0)
		return 0;
	return key_ignored(ps, pl, e, k);
}

static int key_depends_on(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			  const struct key_def *k)
{
	(void)k;
	pl->p->dep_names = conf_split_list(ps, e->val, &pl->p->ndeps);
	pl->p->dep_line = e->line;
	if (!pl->p->dep_names)
		return conf_fail(ps, e->line, "out of memory");
	return 0;
}

static int key_ready_tcp(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			 const struct key_def *k)
{
	char err[CV_ERR];
	(void)k;
	if (cv_address(e->val, &pl->p->ready_addr, &pl->p->ready_addrlen, err) < 0)
		return conf_fail(ps, e->line, "ready_tcp: %s", err);
	pl->p->has_ready_tcp = true;
	return 0;
}

static int key_type(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		    const struct key_def *k)
{
	(void)k;
	if (strcmp(e->val, "oneshot") == 0)
		pl->p->oneshot = true;
	else if (strcmp(e->val, "longrun") == 0)
		pl->p->oneshot = false;
	else
		return conf_fail(ps, e->line, "type: \"%s\" is not oneshot or longrun", e->val);
	return 0;
}

static int key_on_fatal(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			const struct key_def *k)
{
	(void)k;
	if (strcmp(e->val, "exit") == 0)
		pl->p->on_fatal = CONF_FATAL_EXIT;
	else if (strcmp(e->val, "keep") == 0)
		pl->p->on_fatal = CONF_FATAL_KEEP;
	else
		return conf_fail(ps, e->line, "on_fatal: \"%s\" is not exit or keep", e->val);
	return 0;
}

/* supervisord's event type names, and what legate-init sends of them. */
static const struct { const char *name; unsigned bits; bool supported; } event_names[] = {
	{ "EVENT", ~0u, true },
	{ "PROCESS_STATE", 0x7fu, true },
	{ "PROCESS_STATE_STOPPED", CONF_EV_STATE_STOPPED, true },
	{ "PROCESS_STATE_STARTING", CONF_EV_STATE_STARTING, true },
	{ "PROCESS_STATE_RUNNING", CONF_EV_STATE_RUNNING, true },
	{ "PROCESS_STATE_BACKOFF", CONF_EV_STATE_BACKOFF, true },
	{ "PROCESS_STATE_STOPPING", CONF_EV_STATE_STOPPING, true },
	{ "PROCESS_STATE_EXITED", CONF_EV_STATE_EXITED, true },
	{ "PROCESS_STATE_FATAL", CONF_EV_STATE_FATAL, true },
	{ "PROCESS_STATE_UNKNOWN", 0, true },     /* never happens here */
	{ "TICK", CONF_EV_TICK_5 | CONF_EV_TICK_60 | CONF_EV_TICK_3600, true },
	{ "TICK_5", CONF_EV_TICK_5, true },
	{ "TICK_60", CONF_EV_TICK_60, true },
	{ "TICK_3600", CONF_EV_TICK_3600, true },
	{ "SUPERVISOR_STATE_CHANGE", CONF_EV_SUP_RUNNING | CONF_EV_SUP_STOPPING, true },
	{ "SUPERVISOR_STATE_CHANGE_RUNNING", CONF_EV_SUP_RUNNING, true },
	{ "SUPERVISOR_STATE_CHANGE_STOPPING", CONF_EV_SUP_STOPPING, true },
	{ "PROCESS_GROUP", CONF_EV_GROUP_ADDED | CONF_EV_GROUP_REMOVED, true },
	{ "PROCESS_GROUP_ADDED", CONF_EV_GROUP_ADDED, true },
	{ "PROCESS_GROUP_REMOVED", CONF_EV_GROUP_REMOVED, true },
	{ "PROCESS_LOG", 0, false }, { "PROCESS_LOG_STDOUT", 0, false },
	{ "PROCESS_LOG_STDERR", 0, false }, { "PROCESS_COMMUNICATION", 0, false },
	{ "PROCESS_COMMUNICATION_STDOUT", 0, false }, { "PROCESS_COMMUNICATION_STDERR", 0, false },
	{ "REMOTE_COMMUNICATION", 0, false },
};

static int key_events(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
		      const struct key_def *k)
{
	int n;
	char **list = conf_split_list(ps, e->val, &n);
	(void)k;
	if (!list)
		return conf_fail(ps, e->line, "out of memory");
	for (int i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < sizeof event_names / sizeof event_names[0]; j++)
			if (strcasecmp(list[i], event_names[j].name) == 0)
				break;
		if (j == sizeof event_names / sizeof event_names[0])
			return conf_fail(ps, e->line, "events: unknown event type %s", list[i]);
		if (!event_names[j].supported)
			return conf_fail(ps, e->line, "events: %s is not supported; legate-init sends "
					 "PROCESS_STATE, PROCESS_GROUP, SUPERVISOR_STATE_CHANGE and TICK "
					 "events", event_names[j].name);
		pl->p->events |= event_names[j].bits;
	}
	if (n == 0)
		return conf_fail(ps, e->line, "events: no event type");
	pl->has_events = true;
	return 0;
}

static int key_result_handler(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e,
			      const struct key_def *k)
{
	(void)pl;
	(void)k;
	if (strcmp(e->val, "supervisor.dispatchers:default_handler") == 0)
		return 0;
	return conf_fail(ps, e->line, "result_handler: only supervisor.dispatchers:default_handler "
			 "(OK accepts an event, anything else sends it again) is supported");
}

/* ---- the table ------------------------------------------------------------------------ */

static const struct key_def keys[] = {
	{ "command", key_command, 0, 0, 0, 0 },
	{ "priority", key_int, OFF(priority), -1000000000, 1000000000, 0 },
	{ "autostart", key_bool, OFF(autostart), 0, 0, 0 },
	{ "autorestart", key_autorestart, 0, 0, 0, 0 },
	{ "exitcodes", key_exitcodes, 0, 0, 0, 0 },
	{ "startsecs", key_int, OFF(startsecs), 0, 86400, 0 },
	{ "startretries", key_int, OFF(startretries), 0, 1000000, 0 },
	{ "stopsignal", key_signal, OFF(stopsignal), 0, 0, 0 },
	{ "stopwaitsecs", key_int, OFF(stopwaitsecs), 0, 86400, 0 },
	{ "stopasgroup", key_bool, OFF(stopasgroup), 0, 0, 0 },
	{ "killasgroup", key_bool, OFF(killasgroup), 0, 0, 0 },
	{ "environment", key_environment, 0, 0, 0, 0 },
	{ "directory", key_directory, 0, 0, 0, 0 },
	{ "umask", key_umask, 0, 0, 0, 0 },
	{ "user", key_user, 0, 0, 0, 0 },
	{ "redirect_stderr", key_bool, OFF(redirect_stderr), 0, 0, 0 },
	{ "stdout_logfile", key_logfile, OFF(out), 0, 0, 0 },
	{ "stderr_logfile", key_logfile, OFF(err), 0, 0, 0 },
	{ "stdout_logfile_maxbytes", key_size, OFF(out.maxbytes), 0, 0, 0 },
	{ "stderr_logfile_maxbytes", key_size, OFF(err.maxbytes), 0, 0, 0 },
	{ "stdout_logfile_backups", key_int, OFF(out.backups), 0, 1000, 0 },
	{ "stderr_logfile_backups", key_int, OFF(err.backups), 0, 1000, 0 },
	{ "numprocs", key_numprocs, 0, 0, 0, 0 },
	{ "numprocs_start", key_ignored, 0, 0, 0, 0 },
	{ "process_name", key_process_name, 0, 0, 0, 0 },
	{ "stdout_capture_maxbytes", key_off_only, 0, 0, 0, 0 },
	{ "stderr_capture_maxbytes", key_off_only, 0, 0, 0, 0 },
	{ "stdout_events_enabled", key_off_only, 0, 0, 0, 0 },
	{ "stderr_events_enabled", key_off_only, 0, 0, 0, 0 },
	{ "stdout_syslog", key_off_only, 0, 0, 0, 0 },
	{ "stderr_syslog", key_off_only, 0, 0, 0, 0 },
	{ "serverurl", key_ignored, 0, 0, 0, 0 },
	/* [eventlistener:] */
	{ "events", key_events, 0, 0, 0, K_LISTENER },
	{ "buffer_size", key_int, OFF(buffer_size), 1, 10000, K_LISTENER },
	{ "result_handler", key_result_handler, 0, 0, 0, K_LISTENER },
	/* legate-init's own */
	{ "depends_on", key_depends_on, 0, 0, 0, 0 },
	{ "ready_fd", key_int, OFF(ready_fd), 3, 1023, 0 },
	{ "ready_file", key_abspath, OFF(ready_file), 0, 0, 0 },
	{ "ready_tcp", key_ready_tcp, 0, 0, 0, 0 },
	{ "ready_timeout", key_int, OFF(ready_timeout), 0, 86400, 0 },
	{ "type", key_type, 0, 0, 0, K_PROGRAM },
	{ "reload_signal", key_signal, OFF(reload_signal), 0, 0, 0 },
	{ "on_fatal", key_on_fatal, 0, 0, 0, 0 },
	{ "log_prefix", key_bool, OFF(log_prefix), 0, 0, 0 },
};

int conf_program_key(struct conf_parser *ps, struct conf_prog_load *pl, struct conf_entry *e)
{
	const char *section = pl->p->listener ? "eventlistener" : "program";

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key_def *k = &keys[i];
		if (strcmp(k->name, e->key) != 0)
			continue;
		if (((k->flags & K_LISTENER) && !pl->p->listener) ||
		    ((k->flags & K_PROGRAM) && pl->p->listener))
			break;
		return k->parse(ps, pl, e, k);
	}
	log_warn("%s:%d: unknown key %s in [%s:%s], ignored", ps->path, e->line, e->key, section,
		 pl->p->name);
	return 0;
}

void conf_program_defaults(struct prog_conf *p, bool log_prefix)
{
	p->priority = 999;
	p->autostart = true;
	p->autorestart = CONF_AR_UNEXPECTED;
	p->exitcodes[0] = 1;
	p->startsecs = 1;
	p->startretries = 3;
	p->stopsignal = SIGTERM;
	p->stopwaitsecs = 10;
	p->out = (struct conf_log){ CONF_OUT_STDOUT, NULL, 50LL * 1024 * 1024, 10, 0 };
	p->err = (struct conf_log){ CONF_OUT_STDERR, NULL, 50LL * 1024 * 1024, 10, 0 };
	p->log_prefix = log_prefix;
	p->ready_fd = -1;
	p->reload_signal = SIGHUP;
	p->on_fatal = CONF_FATAL_KEEP;
	p->umask = -1;
	p->buffer_size = 10;
}
