/* conf: the supervisord.conf reader.  The file is cut into sections and
 * KEY=VALUE entries first (comments, continuation lines), then each
 * [program:NAME] is checked key by key with supervisord's defaults, values
 * expanded the way supervisord does (%(ENV_X)s, %(program_name)s, %(here)s),
 * and dependencies resolved.  All memory comes from one arena, so a failed
 * load frees everything in one place. */
#include "init/conf.h"

#include "common/log.h"
#include "init/confval.h"
#include "init/sigs.h"
#include "init/user.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/legate-init.sock"

extern char **environ;

/* One allocation of the arena; conf.arena is the newest. */
struct blk {
	struct blk *next;
	max_align_t data[];
};

struct section {
	char *name;
	const char *file;
	int line;
};

struct entry {
	int sec;
	const char *file;
	char *key;
	char *val;
	int line;
};

struct parser {
	const char *path;         /* the file being read or checked now */
	char here[PATH_MAX];
	struct conf_error *err;
	struct blk *arena;
	struct section *secs;
	int nsecs, capsecs;
	struct entry *ents;
	int nents, capents;
	const char *sock;
};

/* ---- memory --------------------------------------------------------------- */

static void *arena_alloc(struct parser *ps, size_t n)
{
	struct blk *b = calloc(1, sizeof *b + n + 1);
	if (!b)
		return NULL;
	b->next = ps->arena;
	ps->arena = b;
	return b->data;
}

static char *arena_strndup(struct parser *ps, const char *s, size_t n)
{
	char *d = arena_alloc(ps, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static char *arena_strdup(struct parser *ps, const char *s)
{
	return arena_strndup(ps, s, strlen(s));
}

static void arena_free(struct blk *b)
{
	while (b) {
		struct blk *next = b->next;
		free(b);
		b = next;
	}
}

static int fail(struct parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	snprintf(ps->err->file, sizeof ps->err->file, "%s", ps->path);
	ps->err->line = line;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

#define OOM(ps, line) fail(ps, line, "out of memory")

/* ---- lexing: sections and entries ----------------------------------------- */

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* supervisord's inline comments: a ';' that follows whitespace. */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == ';' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = 0;
			return;
		}
	}
}

static int add_section(struct parser *ps, const char *name, int line)
{
	for (int i = 0; i < ps->nsecs; i++) {
		if (strcmp(ps->secs[i].name, name) != 0)
			continue;
		if (strcmp(ps->secs[i].file, ps->path) == 0)
			return fail(ps, line, "section [%s] appears twice (first at line %d)",
				name, ps->secs[i].line);
		return fail(ps, line, "section [%s] appears twice (first at %s:%d)",
			name, ps->secs[i].file, ps->secs[i].line);
	}
	if (ps->nsecs == ps->capsecs) {
		int cap = ps->capsecs ? ps->capsecs * 2 : 8;
		struct section *s = realloc(ps->secs, sizeof *s * (size_t)cap);
		if (!s)
			return OOM(ps, line);
		ps->secs = s;
		ps->capsecs = cap;
	}
	ps->secs[ps->nsecs].name = arena_strdup(ps, name);
	ps->secs[ps->nsecs].file = ps->path;
	ps->secs[ps->nsecs].line = line;
	if (!ps->secs[ps->nsecs].name)
		return OOM(ps, line);
	ps->nsecs++;
	return 0;
}

static int add_entry(struct parser *ps, char *key, char *val, int line)
{
	int sec = ps->nsecs - 1;
	for (char *k = key; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	for (int i = ps->nents - 1; i >= 0 && ps->ents[i].sec == sec; i--)
		if (strcmp(ps->ents[i].key, key) == 0)
			return fail(ps, line, "%s is set twice in [%s] (first at line %d)",
				key, ps->secs[sec].name, ps->ents[i].line);
	if (ps->nents == ps->capents) {
		int cap = ps->capents ? ps->capents * 2 : 32;
		struct entry *e = realloc(ps->ents, sizeof *e * (size_t)cap);
		if (!e)
			return OOM(ps, line);
		ps->ents = e;
		ps->capents = cap;
	}
	ps->ents[ps->nents] = (struct entry){ sec, ps->path, arena_strdup(ps, key),
					      arena_strdup(ps, val), line };
	if (!ps->ents[ps->nents].key || !ps->ents[ps->nents].val)
		return OOM(ps, line);
	ps->nents++;
	return 0;
}

/* Appends a continuation line to the last entry, joined by a newline as
 * supervisord's parser does. */
static int continue_entry(struct parser *ps, const char *more, int line)
{
	struct entry *e = &ps->ents[ps->nents - 1];
	size_t a = strlen(e->val), b = strlen(more);
	char *v = arena_alloc(ps, a + b + 2);
	if (!v)
		return OOM(ps, line);
	memcpy(v, e->val, a);
	v[a] = '\n';
	memcpy(v + a + 1, more, b + 1);
	e->val = v;
	return 0;
}

/* Cuts one file's text into sections and entries; ps->path names it. */
static int lex(struct parser *ps, char *text)
{
	int lineno = 0, first_sec = ps->nsecs;
	bool in_value = false;
	char *next;

	for (char *line = text; line; line = next) {
		char *s;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		line[strcspn(line, "\r")] = 0;
		s = trim(line);
		if (!*s) {
			in_value = false;
			continue;
		}
		if (isspace((unsigned char)line[0]) && in_value) {
			if (*s == ';' || *s == '#')
				continue;
			cut_comment(s);
			if (continue_entry(ps, trim(s), lineno) < 0)
				return -1;
			continue;
		}
		in_value = false;
		if (*s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end)
				return fail(ps, lineno, "section header without ']'");
			*end = 0;
			s = trim(s + 1);
			if (!*s)
				return fail(ps, lineno, "empty section name");
			if (add_section(ps, s, lineno) < 0)
				return -1;
			continue;
		}
		if (ps->nsecs == first_sec)
			return fail(ps, lineno, "key outside any section (a [section] header must come first)");
		size_t k = strcspn(s, "=:");
		if (!s[k])
			return fail(ps, lineno, "expected KEY=VALUE, got \"%.60s\"", s);
		s[k] = 0;
		char *key = trim(s), *val = s + k + 1;
		if (!*key)
			return fail(ps, lineno, "missing key before '='");
		cut_comment(val);
		if (add_entry(ps, key, trim(val), lineno) < 0)
			return -1;
		in_value = true;
	}
	return 0;
}

/* ---- values ---------------------------------------------------------------- */

static char *expand(struct parser *ps, const char *in, const char *prog, int line)
{
	char out[8192], err[CV_ERR];
	char *r;
	if (cv_expand(in, prog, ps->here, out, sizeof out, err) < 0) {
		fail(ps, line, "%s", err);
		return NULL;
	}
	r = arena_strdup(ps, out);
	if (!r)
		OOM(ps, line);
	return r;
}

static int parse_bool(struct parser *ps, const struct entry *e, bool *out)
{
	if (cv_bool(e->val, out) < 0)
		return fail(ps, e->line, "%s: \"%s\" is not a boolean (true or false)", e->key, e->val);
	return 0;
}

static int parse_int(struct parser *ps, const struct entry *e, long min, long max, int *out)
{
	if (cv_int(e->val, min, max, out) < 0)
		return fail(ps, e->line, "%s: \"%s\" is not an integer from %ld to %ld",
			e->key, e->val, min, max);
	return 0;
}

static int parse_signal(struct parser *ps, const struct entry *e, int *out)
{
	int s = sig_parse(e->val);
	if (s < 0)
		return fail(ps, e->line, "%s: \"%s\" is not a signal name", e->key, e->val);
	*out = s;
	return 0;
}

static int parse_exitcodes(struct parser *ps, const struct entry *e, unsigned char *bits)
{
	char err[CV_ERR];
	if (cv_exitcodes(e->val, bits, err) < 0)
		return fail(ps, e->line, "%s", err);
	return 0;
}

static char **split_command(struct parser *ps, const char *cmd, int line)
{
	size_t len = strlen(cmd);
	char *buf = arena_alloc(ps, len + 1), err[CV_ERR];
	char **argv = arena_alloc(ps, sizeof *argv * (len / 2 + 2));
	if (!buf || !argv) {
		OOM(ps, line);
		return NULL;
	}
	if (cv_command(cmd, buf, argv, err) < 0) {
		fail(ps, line, "%s", err);
		return NULL;
	}
	return argv;
}

static int parse_environment(struct parser *ps, const struct entry *e, char ***out)
{
	size_t len = strlen(e->val);
	char **list = arena_alloc(ps, sizeof *list * (len / 2 + 2));
	char *buf = arena_alloc(ps, len * 2 + 2), err[CV_ERR];
	if (!list || !buf)
		return OOM(ps, e->line);
	if (cv_environment(e->val, buf, list, err) < 0)
		return fail(ps, e->line, "%s", err);
	*out = list;
	return 0;
}

static int parse_logfile(struct parser *ps, const struct entry *e, enum out_kind dflt,
			 enum out_kind *kind, char **file)
{
	*file = NULL;
	if (strcmp(e->val, "/dev/stdout") == 0 || strcmp(e->val, "/dev/fd/1") == 0)
		*kind = OUT_STDOUT;
	else if (strcmp(e->val, "/dev/stderr") == 0 || strcmp(e->val, "/dev/fd/2") == 0)
		*kind = OUT_STDERR;
	else if (strcasecmp(e->val, "NONE") == 0 || strcmp(e->val, "/dev/null") == 0)
		*kind = OUT_NULL;
	else if (strcasecmp(e->val, "AUTO") == 0)
		*kind = dflt;   /* no log directory in a container: the container's stream */
	else if (e->val[0] != '/')
		return fail(ps, e->line, "%s: \"%s\" is not an absolute path", e->key, e->val);
	else {
		*kind = OUT_FILE;
		*file = e->val;
	}
	return 0;
}

static int parse_ready_tcp(struct parser *ps, const struct entry *e, struct prog_conf *p)
{
	char err[CV_ERR];
	if (cv_address(e->val, &p->ready_addr, &p->ready_addrlen, err) < 0)
		return fail(ps, e->line, "ready_tcp: %s", err);
	p->has_ready_tcp = true;
	return 0;
}

/* ---- sections -------------------------------------------------------------- */

/* supervisord keys legate-init knows but does not act on. */
static const char *const ignored_prog_keys[] = {
	"numprocs_start", "process_name", "stdout_logfile_backups", "stderr_logfile_backups",
	"stdout_capture_maxbytes", "stderr_capture_maxbytes", "stdout_events_enabled",
	"stderr_events_enabled", "stdout_syslog", "stderr_syslog", "serverurl",
	"stdout_logfile_maxbytes", "stderr_logfile_maxbytes",
};

static bool zero_size(const char *v)
{
	return strcmp(v, "0") == 0 || strcasecmp(v, "0MB") == 0 || strcasecmp(v, "0KB") == 0 ||
	       strcasecmp(v, "0GB") == 0;
}

struct dep_names {
	char *list;
	const char *file;
	int line;
};

static int program_key(struct parser *ps, struct prog_conf *p, struct entry *e,
		       char ***env_add, struct dep_names *deps, bool *has_command)
{
	const char *k = e->key;
	int v;

	if (strcmp(k, "command") == 0) {
		p->argv = split_command(ps, e->val, e->line);
		*has_command = true;
		return p->argv ? 0 : -1;
	}
	if (strcmp(k, "priority") == 0)
		return parse_int(ps, e, INT_MIN / 2, INT_MAX / 2, &p->priority);
	if (strcmp(k, "autostart") == 0)
		return parse_bool(ps, e, &p->autostart);
	if (strcmp(k, "autorestart") == 0) {
		if (strcasecmp(e->val, "unexpected") == 0) {
			p->autorestart = AR_UNEXPECTED;
			return 0;
		}
		bool b;
		if (parse_bool(ps, e, &b) < 0)
			return fail(ps, e->line, "autorestart: \"%s\" is not true, false or unexpected", e->val);
		p->autorestart = b ? AR_TRUE : AR_FALSE;
		return 0;
	}
	if (strcmp(k, "exitcodes") == 0)
		return parse_exitcodes(ps, e, p->exitcodes);
	if (strcmp(k, "startsecs") == 0)
		return parse_int(ps, e, 0, 86400, &p->startsecs);
	if (strcmp(k, "ready_timeout") == 0)
		return parse_int(ps, e, 0, 86400, &p->ready_timeout);
	if (strcmp(k, "startretries") == 0)
		return parse_int(ps, e, 0, 1000000, &p->startretries);
	if (strcmp(k, "stopsignal") == 0)
		return parse_signal(ps, e, &p->stopsignal);
	if (strcmp(k, "reload_signal") == 0)
		return parse_signal(ps, e, &p->reload_signal);
	if (strcmp(k, "stopwaitsecs") == 0)
		return parse_int(ps, e, 0, 86400, &p->stopwaitsecs);
	if (strcmp(k, "stopasgroup") == 0)
		return parse_bool(ps, e, &p->stopasgroup);
	if (strcmp(k, "killasgroup") == 0)
		return parse_bool(ps, e, &p->killasgroup);
	if (strcmp(k, "redirect_stderr") == 0)
		return parse_bool(ps, e, &p->redirect_stderr);
	if (strcmp(k, "log_prefix") == 0)
		return parse_bool(ps, e, &p->log_prefix);
	if (strcmp(k, "environment") == 0)
		return parse_environment(ps, e, env_add);
	if (strcmp(k, "directory") == 0) {
		p->directory = e->val;
		return 0;
	}
	if (strcmp(k, "umask") == 0) {
		log_warn("%s:%d: umask is not supported, ignored", ps->path, e->line);
		return 0;
	}
	if (strcmp(k, "user") == 0) {
		if (user_lookup(e->val, &p->uid, &p->gid, &p->groups, &p->ngroups) < 0)
			return fail(ps, e->line, "user: no user \"%s\" in /etc/passwd", e->val);
		if (p->ngroups) {
			/* Move the list into the arena so conf_free finds it. */
			gid_t *g = arena_alloc(ps, sizeof *g * (size_t)p->ngroups);
			if (!g) {
				free(p->groups);
				return OOM(ps, e->line);
			}
			memcpy(g, p->groups, sizeof *g * (size_t)p->ngroups);
			free(p->groups);
			p->groups = g;
		}
		p->has_user = true;
		return 0;
	}
	if (strcmp(k, "stdout_logfile") == 0)
		return parse_logfile(ps, e, OUT_STDOUT, &p->out, &p->out_file);
	if (strcmp(k, "stderr_logfile") == 0)
		return parse_logfile(ps, e, OUT_STDERR, &p->err, &p->err_file);
	if (strcmp(k, "numprocs") == 0) {
		if (parse_int(ps, e, 1, 1, &v) < 0)
			return fail(ps, e->line, "numprocs: only 1 is supported");
		return 0;
	}
	if (strcmp(k, "depends_on") == 0) {
		deps->list = e->val;
		deps->file = e->file;
		deps->line = e->line;
		return 0;
	}
	if (strcmp(k, "ready_fd") == 0)
		return parse_int(ps, e, 3, 1023, &p->ready_fd);
	if (strcmp(k, "ready_file") == 0) {
		if (e->val[0] != '/')
			return fail(ps, e->line, "ready_file: \"%s\" is not an absolute path", e->val);
		p->ready_file = e->val;
		return 0;
	}
	if (strcmp(k, "ready_tcp") == 0)
		return parse_ready_tcp(ps, e, p);
	if (strcmp(k, "type") == 0) {
		if (strcmp(e->val, "oneshot") == 0)
			p->oneshot = true;
		else if (strcmp(e->val, "longrun") == 0)
			p->oneshot = false;
		else
			return fail(ps, e->line, "type: \"%s\" is not oneshot or longrun", e->val);
		return 0;
	}
	if (strcmp(k, "on_fatal") == 0) {
		if (strcmp(e->val, "exit") == 0)
			p->on_fatal = FATAL_EXIT;
		else if (strcmp(e->val, "keep") == 0)
			p->on_fatal = FATAL_KEEP;
		else
			return fail(ps, e->line, "on_fatal: \"%s\" is not exit or keep", e->val);
		return 0;
	}
	for (size_t i = 0; i < sizeof ignored_prog_keys / sizeof ignored_prog_keys[0]; i++) {
		if (strcmp(k, ignored_prog_keys[i]) == 0) {
			/* maxbytes=0 means "no rotation", which is what happens. */
			if (!(strstr(k, "_logfile_maxbytes") && zero_size(e->val)))
				log_warn("%s:%d: %s is not supported, ignored", ps->path, e->line, k);
			return 0;
		}
	}
	log_warn("%s:%d: unknown key %s in [program:%s], ignored", ps->path, e->line, k, p->name);
	return 0;
}

/* The child's environment: legate-init's own, then the SUPERVISOR_*
 * variables programs written for supervisord look at, then the program's
 * environment= pairs, each replacing an earlier one of the same name. */
static int build_env(struct parser *ps, struct prog_conf *p, char **add, int line)
{
	size_t n = 0, nadd = 0, cap;
	char **env;
	char *own[4];

	while (environ[n])
		n++;
	while (add && add[nadd])
		nadd++;
	cap = n + nadd + 5;
	env = arena_alloc(ps, sizeof *env * cap);
	own[0] = arena_strdup(ps, "SUPERVISOR_ENABLED=1");
	own[1] = arena_alloc(ps, strlen(p->name) + 32);
	own[2] = arena_alloc(ps, strlen(p->name) + 32);
	own[3] = arena_alloc(ps, strlen(ps->sock) + 32);
	if (!env || !own[0] || !own[1] || !own[2] || !own[3])
		return OOM(ps, line);
	sprintf(own[1], "SUPERVISOR_PROCESS_NAME=%s", p->name);
	sprintf(own[2], "SUPERVISOR_GROUP_NAME=%s", p->name);
	sprintf(own[3], "LEGATE_INIT_SOCKET=%s", ps->sock);
	memcpy(env, environ, sizeof *env * n);
	for (size_t i = 0; i < 4 + nadd; i++) {
		char *kv = i < 4 ? own[i] : add[i - 4];
		size_t klen = strcspn(kv, "=") + 1, j;
		for (j = 0; j < n; j++)
			if (strncmp(env[j], kv, klen) == 0)
				break;
		env[j] = kv;
		if (j == n)
			n++;
	}
	env[n] = NULL;
	p->envp = env;
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int load_program(struct parser *ps, int sec, struct prog_conf *p, struct dep_names *deps,
			bool log_prefix)
{
	char **env_add = NULL;
	bool has_command = false;
	const struct section *s = &ps->secs[sec];

	ps->path = s->file;
	memset(p, 0, sizeof *p);
	p->name = s->name + strlen("program:");
	p->line = s->line;
	if (!valid_name(p->name))
		return fail(ps, s->line, "program name \"%s\" may hold only letters, digits, '_', '.', '-'",
			p->name);
	p->priority = 999;
	p->autostart = true;
	p->autorestart = AR_UNEXPECTED;
	p->exitcodes[0] = 1;
	p->startsecs = 1;
	p->startretries = 3;
	p->stopsignal = SIGTERM;
	p->stopwaitsecs = 10;
	p->out = OUT_STDOUT;
	p->err = OUT_STDERR;
	p->log_prefix = log_prefix;
	p->ready_fd = -1;
	p->reload_signal = SIGHUP;
	p->on_fatal = FATAL_EXIT;
	for (int i = 0; i < ps->nents; i++) {
		struct entry *e = &ps->ents[i];
		if (e->sec != sec)
			continue;
		e->val = expand(ps, e->val, p->name, e->line);
		if (!e->val || program_key(ps, p, e, &env_add, deps, &has_command) < 0)
			return -1;
	}
	if (!has_command)
		return fail(ps, s->line, "[program:%s] has no command", p->name);
	if (p->stopasgroup)
		p->killasgroup = true;
	return build_env(ps, p, env_add, s->line);
}

static int load_supervisord(struct parser *ps, int sec, const char **sock)
{
	ps->path = ps->secs[sec].file;
	for (int i = 0; i < ps->nents; i++) {
		struct entry *e = &ps->ents[i];
		bool b;
		if (e->sec != sec)
			continue;
		e->val = expand(ps, e->val, NULL, e->line);
		if (!e->val)
			return -1;
		if (strcmp(e->key, "nodaemon") == 0) {
			if (parse_bool(ps, e, &b) < 0)
				return -1;
			if (!b)
				log_warn("%s:%d: nodaemon=false: legate-init always stays in the foreground",
					ps->path, e->line);
		} else if (strcmp(e->key, "ctl_socket") == 0) {
			if (e->val[0] != '/')
				return fail(ps, e->line, "ctl_socket: \"%s\" is not an absolute path", e->val);
			*sock = e->val;
		} else {
			log_warn("%s:%d: %s in [supervisord] is not used by legate-init, ignored",
				ps->path, e->line, e->key);
		}
	}
	return 0;
}

static int find_program(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nprogs; i++)
		if (strcmp(c->progs[i].name, name) == 0)
			return i;
	return -1;
}

static int resolve_deps(struct parser *ps, struct conf *c, struct dep_names *deps)
{
	for (int i = 0; i < c->nprogs; i++) {
		struct prog_conf *p = &c->progs[i];
		char *list = deps[i].list;
		if (!list)
			continue;
		ps->path = deps[i].file;
		p->deps = arena_alloc(ps, sizeof *p->deps * (strlen(list) / 2 + 1));
		if (!p->deps)
			return OOM(ps, deps[i].line);
		for (char *save, *tok = strtok_r(list, ", \t\n", &save); tok;
		     tok = strtok_r(NULL, ", \t\n", &save)) {
			int d = find_program(c, tok);
			if (d < 0)
				return fail(ps, deps[i].line, "depends_on: no program named \"%s\"", tok);
			if (d == i)
				return fail(ps, deps[i].line, "depends_on: %s depends on itself", tok);
			p->deps[p->ndeps++] = d;
		}
	}
	/* Cycles: a depth-first walk, colour 1 on the path, 2 done. */
	char *colour = calloc((size_t)c->nprogs, 1);
	int *stack = calloc((size_t)c->nprogs + 1, sizeof *stack);
	int *pos = calloc((size_t)c->nprogs + 1, sizeof *pos);
	int rc = 0;
	if (!colour || !stack || !pos) {
		rc = OOM(ps, 0);
		goto out;
	}
	for (int root = 0; root < c->nprogs && rc == 0; root++) {
		int top = 0;
		if (colour[root])
			continue;
		stack[0] = root;
		pos[0] = 0;
		colour[root] = 1;
		while (top >= 0) {
			int u = stack[top];
			if (pos[top] == c->progs[u].ndeps) {
				colour[u] = 2;
				top--;
				continue;
			}
			int v = c->progs[u].deps[pos[top]++];
			if (colour[v] == 1) {
				ps->path = deps[u].file;
				rc = fail(ps, deps[u].line, "depends_on: %s and %s depend on each other (a cycle)",
					c->progs[u].name, c->progs[v].name);
				break;
			}
			if (colour[v] == 0) {
				colour[v] = 1;
				stack[++top] = v;
				pos[top] = 0;
			}
		}
	}
out:
	free(colour);
	free(stack);
	free(pos);
	return rc;
}

static char *read_file(const char *path, struct conf_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	ssize_t n;

	snprintf(err->file, sizeof err->file, "%s", path);
	err->line = 0;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (1 << 20)) {
		snprintf(err->msg, sizeof err->msg, "cannot read: %s",
			fd < 0 ? strerror(errno) : "larger than 1 MiB");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text || (n = read(fd, text, (size_t)st.st_size)) < 0) {
		snprintf(err->msg, sizeof err->msg, "cannot read: %s", strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	text[n] = 0;
	close(fd);
	return text;
}

/* Shell wildcards for one file name: *, ?, [abc], [a-z], [!x].  fnmatch(3)
 * would do, but in a static build it brings the locale tables along. */
static bool wildmatch(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			for (; *s; s++)
				if (wildmatch(p, s))
					return true;
			return false;
		}
		if (!*s)
			return false;
		if (*p == '?')
			continue;
		if (*p == '[') {
			const char *q = p + 1;
			bool neg = *q == '!' || *q == '^', hit = false;
			if (neg)
				q++;
			while (*q && *q != ']') {
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hit |= *s >= q[0] && *s <= q[2];
					q += 3;
				} else {
					hit |= *s == *q++;
				}
			}
			if (!*q)      /* no closing ']': a literal '[' */
				goto literal;
			if (hit == neg)
				return false;
			p = q;
			continue;
		}
literal:
		if (*p != *s)
			return false;
	}
	return !*s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists, sorted, the files of a directory whose names match a pattern
 * (only the last path component may hold wildcards: glob(3) would pull
 * the NSS machinery into a static build).  Returns a malloc'd array of
 * malloc'd paths and its length in *n, or NULL with *n = 0. */
static char **match_files(const char *pattern, size_t *n)
{
	char dir[PATH_MAX];
	const char *base = strrchr(pattern, '/');
	char **list = NULL;
	struct dirent *de;
	DIR *d;

	*n = 0;
	snprintf(dir, sizeof dir, "%.*s", base ? (int)(base - pattern) : 1, base ? pattern : ".");
	base = base ? base + 1 : pattern;
	d = opendir(*dir ? dir : "/");
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char path[PATH_MAX * 2], **grown;
		/* As in a shell, a wildcard does not match a leading dot. */
		if ((de->d_name[0] == '.' && base[0] != '.') || !wildmatch(base, de->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		grown = realloc(list, sizeof *list * (*n + 1));
		if (!grown || !(grown[*n] = strdup(path))) {
			list = grown ? grown : list;
			break;
		}
		list = grown;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(list, *n, sizeof *list, cmp_str);
	return list;
}

static void free_files(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* [include] files=PATTERN...: every file a pattern matches (relative to
 * the main file's directory, in sorted order) is read as part of the main
 * file, as supervisord does; includes inside included files are ignored. */
static int load_includes(struct parser *ps, int sec)
{
	const char *main_path = ps->path;

	for (int i = 0; i < ps->nents; i++) {
		char files[4096], *save, *tok;
		int line = ps->ents[i].line;
		if (ps->ents[i].sec != sec)
			continue;
		if (strcmp(ps->ents[i].key, "files") != 0) {
			log_warn("%s:%d: %s in [include] is not used by legate-init, ignored",
				ps->path, line, ps->ents[i].key);
			continue;
		}
		/* Copied: reading the included files grows (moves) ps->ents. */
		char *val = expand(ps, ps->ents[i].val, NULL, line);
		if (!val)
			return -1;
		snprintf(files, sizeof files, "%s", val);
		for (tok = strtok_r(files, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			char pat[PATH_MAX + 256];
			size_t n;
			char **list;
			snprintf(pat, sizeof pat, "%s%s%s", tok[0] == '/' ? "" : ps->here,
				 tok[0] == '/' ? "" : "/", tok);
			if (strpbrk(pat, "*?[") && strpbrk(pat, "*?[") < strrchr(pat, '/'))
				return fail(ps, line, "[include] %s: only the file name may hold wildcards", tok);
			list = match_files(pat, &n);
			if (n == 0) {
				log_warn("%s:%d: [include] no file matches %s", main_path, line, pat);
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				char *text = read_file(list[k], ps->err);
				int r;
				ps->path = text ? arena_strdup(ps, list[k]) : NULL;
				r = text && ps->path ? lex(ps, text) : -1;
				free(text);
				if (r < 0) {
					free_files(list, n);
					return -1;
				}
			}
			free_files(list, n);
			ps->path = main_path;
		}
	}
	ps->path = main_path;
	return 0;
}

int conf_load(const char *path, const struct conf_opts *opts, struct conf *out,
	      struct conf_error *err)
{
	struct parser ps = { .path = path, .err = err };
	struct dep_names *deps = NULL;
	const char *sock = NULL;
	char *text, *slash;
	int np = 0, sup = -1, inc = -1;

	memset(out, 0, sizeof *out);
	text = read_file(path, err);
	if (!text)
		return -1;
	if (!realpath(path, ps.here))
		snprintf(ps.here, sizeof ps.here, "%s", path);
	slash = strrchr(ps.here, '/');
	if (slash)
		*(slash == ps.here ? slash + 1 : slash) = 0;
	if (lex(&ps, text) < 0)
		goto err;
	for (int i = 0; i < ps.nsecs; i++)
		if (strcmp(ps.secs[i].name, "include") == 0)
			inc = i;
	if (inc >= 0 && load_includes(&ps, inc) < 0)
		goto err;
	for (int i = 0; i < ps.nsecs; i++) {
		const char *n = ps.secs[i].name;
		if (strncmp(n, "program:", 8) == 0)
			np++;
		else if (strcmp(n, "supervisord") == 0)
			sup = i;
		else if (i != inc)
			log_warn("%s:%d: section [%s] is not used by legate-init, ignored",
				ps.secs[i].file, ps.secs[i].line, n);
	}
	if (sup >= 0 && load_supervisord(&ps, sup, &sock) < 0)
		goto err;
	if (opts->ctl_socket)
		sock = opts->ctl_socket;
	if (!sock)
		sock = getenv("LEGATE_INIT_SOCKET");
	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	ps.sock = sock;
	ps.path = path;
	if (np == 0) {
		fail(&ps, 0, "no [program:NAME] section");
		goto err;
	}
	out->progs = arena_alloc(&ps, sizeof *out->progs * (size_t)np);
	deps = calloc((size_t)np, sizeof *deps);
	if (!out->progs || !deps) {
		OOM(&ps, 0);
		goto err;
	}
	for (int i = 0; i < ps.nsecs; i++) {
		if (strncmp(ps.secs[i].name, "program:", 8) != 0)
			continue;
		if (load_program(&ps, i, &out->progs[out->nprogs], &deps[out->nprogs], opts->log_prefix) < 0)
			goto err;
		out->nprogs++;
	}
	if (resolve_deps(&ps, out, deps) < 0)
		goto err;
	ps.path = path;
	out->path = arena_strdup(&ps, path);
	out->ctl_socket = arena_strdup(&ps, sock);
	if (!out->path || !out->ctl_socket) {
		OOM(&ps, 0);
		goto err;
	}
	out->arena = ps.arena;
	free(deps);
	free(ps.secs);
	free(ps.ents);
	free(text);
	return 0;
err:
	free(deps);
	free(ps.secs);
	free(ps.ents);
	free(text);
	arena_free(ps.arena);
	memset(out, 0, sizeof *out);
	return -1;
}

void conf_free(struct conf *c)
{
	arena_free(c->arena);
	memset(c, 0, sizeof *c);
}

bool conf_expected(const struct prog_conf *p, int code)
{
	return code >= 0 && code <= 255 && (p->exitcodes[code / 8] & (1u << (code % 8)));
}
