/* confglobal: the sections of a supervisord.conf that are not programs:
 * [supervisord], [unix_http_server] (the control socket), the client's
 * [supervisorctl] and [rpcinterface:], and the ones warned about or
 * refused; and the client's reading of a file for its socket. */
#include "init/conf_int.h"

#include "common/log.h"
#include "init/confval.h"
#include "init/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int need_abs(struct conf_parser *ps, const struct conf_entry *e)
{
	if (e->val[0] != '/')
		return conf_fail(ps, e->line, "%s: \"%s\" is not an absolute path", e->key, e->val);
	return 0;
}

static int load_supervisord(struct conf_parser *ps, int sec, struct conf *c, struct conf_globals *g)
{
	static const char *const unused[] = {
		"logfile", "logfile_maxbytes", "logfile_backups", "loglevel", "pidfile", "umask",
		"nocleanup", "childlogdir", "minfds", "minprocs", "user", "directory",
		"strip_ansi", "silent",
	};
	struct conf_entry *e;
	bool b;

	CONF_FOREACH_ENTRY(ps, sec, e, NULL, i) {
		if (strcmp(e->key, "nodaemon") == 0) {
			if (cv_bool(e->val, &b) < 0)
				return conf_fail(ps, e->line, "nodaemon: \"%s\" is not a boolean (true or false)", e->val);
			if (!b)
				log_warn("%s:%d: nodaemon=false: legate-init always stays in the foreground",
					 ps->path, e->line);
		} else if (strcmp(e->key, "ctl_socket") == 0) {
			if (need_abs(ps, e) < 0)
				return -1;
			g->ctl_socket = e->val;
		} else if (strcmp(e->key, "identifier") == 0) {
			c->identifier = e->val;
		} else if (strcmp(e->key, "environment") == 0) {
			size_t len = strlen(e->val);
			char **list = conf_alloc(ps, sizeof *list * (len / 2 + 2));
			char *buf = conf_alloc(ps, len * 2 + 2), err[CV_ERR];
			if (!list || !buf)
				return conf_fail(ps, e->line, "out of memory");
			if (cv_environment(e->val, buf, list, err) < 0)
				return conf_fail(ps, e->line, "%s", err);
			ps->global_env = list;
			ps->global_env_text = e->val;
		} else {
			size_t k;
			for (k = 0; k < sizeof unused / sizeof unused[0]; k++)
				if (strcmp(e->key, unused[k]) == 0)
					break;
			if (k < sizeof unused / sizeof unused[0])
				log_warn("%s:%d: %s in [supervisord] is not used by legate-init, ignored",
					 ps->path, e->line, e->key);
			else
				log_warn("%s:%d: unknown key %s in [supervisord], ignored", ps->path, e->line, e->key);
		}
	}
	return ps->err->msg[0] ? -1 : 0;
}

/* [unix_http_server]: the control socket, its mode and owner.  legate-init
 * speaks its own protocol on it, which `legate-init ctl` and a
 * supervisorctl link use. */
static int load_unix_http_server(struct conf_parser *ps, int sec, struct conf *c, struct conf_globals *g)
{
	struct conf_entry *e;

	CONF_FOREACH_ENTRY(ps, sec, e, NULL, i) {
		if (strcmp(e->key, "file") == 0) {
			if (need_abs(ps, e) < 0)
				return -1;
			g->http_file = e->val;
		} else if (strcmp(e->key, "chmod") == 0) {
			if (cv_octal(e->val, &c->ctl_mode) < 0)
				return conf_fail(ps, e->line, "chmod: \"%s\" is not an octal mode such as 0700", e->val);
		} else if (strcmp(e->key, "chown") == 0) {
			char *colon = strchr(e->val, ':');
			gid_t *groups = NULL;
			int ngroups;
			if (colon)
				*colon = 0;
			if (user_lookup(e->val, &c->ctl_uid, &c->ctl_gid, &groups, &ngroups) < 0)
				return conf_fail(ps, e->line, "chown: no user \"%s\" in /etc/passwd", e->val);
			free(groups);
			if (colon && user_group(colon + 1, &c->ctl_gid) < 0)
				return conf_fail(ps, e->line, "chown: no group \"%s\" in /etc/group", colon + 1);
			c->ctl_chown = true;
		} else if (strcmp(e->key, "username") == 0 || strcmp(e->key, "password") == 0) {
			log_warn("%s:%d: %s is not checked: the socket's owner and mode are its only "
				 "access control", ps->path, e->line, e->key);
		} else {
			log_warn("%s:%d: unknown key %s in [unix_http_server], ignored", ps->path, e->line, e->key);
		}
	}
	return ps->err->msg[0] ? -1 : 0;
}

/* Sections that configure the client side or the XML-RPC interface: there
 * is nothing for the supervisor to do with them. */
static void check_client_section(struct conf_parser *ps, int sec)
{
	static const char *const known[] = { "serverurl", "username", "password", "prompt",
					     "history_file" };
	const struct conf_section *s = &ps->secs[sec];

	for (int i = 0; i < ps->nents; i++) {
		const struct conf_entry *e = &ps->ents[i];
		size_t k;
		if (e->sec != sec || e->dead)
			continue;
		if (strcmp(s->name, "supervisorctl") == 0) {
			for (k = 0; k < sizeof known / sizeof known[0]; k++)
				if (strcmp(e->key, known[k]) == 0)
					break;
			if (k == sizeof known / sizeof known[0])
				log_warn("%s:%d: unknown key %s in [supervisorctl], ignored", e->file, e->line, e->key);
		} else if (strcmp(e->key, "supervisor.rpcinterface_factory") != 0 ||
			   strcmp(e->val, "supervisor.rpcinterface:make_main_rpcinterface") != 0) {
			log_warn("%s:%d: %s in [%s] is not used by legate-init, ignored", e->file, e->line,
				 e->key, s->name);
		}
	}
}

bool conf_is_program_section(const char *n)
{
	return strncmp(n, "program:", 8) == 0 || strncmp(n, "eventlistener:", 14) == 0;
}

int conf_load_globals(struct conf_parser *ps, struct conf *c, struct conf_globals *g, int inc, int *np)
{
	*np = 0;
	for (int i = 0; i < ps->nsecs; i++) {
		const struct conf_section *s = &ps->secs[i];
		const char *n = s->name;
		int rc = 0;
		ps->path = s->file;
		if (conf_is_program_section(n))
			(*np)++;
		else if (strcmp(n, "supervisord") == 0)
			rc = load_supervisord(ps, i, c, g);
		else if (strcmp(n, "unix_http_server") == 0)
			rc = load_unix_http_server(ps, i, c, g);
		else if (strcmp(n, "supervisorctl") == 0 || strncmp(n, "rpcinterface:", 13) == 0)
			check_client_section(ps, i);
		else if (strcmp(n, "inet_http_server") == 0)
			log_warn("%s:%d: [inet_http_server] is not served: legate-init answers on its unix "
				 "socket only", s->file, s->line);
		else if (strncmp(n, "fcgi-program:", 13) == 0)
			rc = conf_fail(ps, s->line, "[%s]: FastCGI programs are not supported", n);
		else if (i != inc)
			log_warn("%s:%d: section [%s] is not used by legate-init, ignored", s->file, s->line, n);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static const char *section_value(struct conf_parser *ps, const char *sec, const char *key)
{
	for (int i = 0; i < ps->nents; i++) {
		struct conf_entry *e = &ps->ents[i];
		if (!e->dead && strcmp(ps->secs[e->sec].name, sec) == 0 && strcmp(e->key, key) == 0)
			return conf_expand(ps, e->val, NULL, e->line);
	}
	return NULL;
}

int conf_client_socket(const char *path, char *out, size_t outlen, struct conf_error *err)
{
	struct conf_parser ps = { .path = path, .err = err };
	const char *v;
	char *text;
	int rc = 1;

	memset(err, 0, sizeof *err);
	ps.cur = &ps.arena;
	text = conf_read_main(&ps, path, err);
	if (!text)
		return -1;
	if (conf_lex(&ps, text) < 0) {
		rc = -1;
		goto out;
	}
	if ((v = section_value(&ps, "supervisorctl", "serverurl")) != NULL) {
		if (strncmp(v, "unix://", 7) != 0) {
			rc = conf_fail(&ps, 0, "serverurl %s: legate-init answers only on unix:// sockets", v);
			goto out;
		}
		v += 7;
	} else if (!(v = section_value(&ps, "unix_http_server", "file"))) {
		v = section_value(&ps, "supervisord", "ctl_socket");
	}
	if (err->msg[0]) {
		rc = -1;
	} else if (v) {
		snprintf(out, outlen, "%s", v);
		rc = 0;
	}
out:
	free(ps.secs);
	free(ps.ents);
	free(text);
	conf_arena_free(ps.arena);
	return rc;
}
