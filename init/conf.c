/* conf: the supervisord.conf reader.  The file is cut into sections and
 * KEY=VALUE entries first (comments, continuation lines, repeated sections
 * merged as supervisord's parser merges them), then the global sections are
 * read, then each [program:NAME] and [eventlistener:NAME] goes through the
 * key table (confkeys.c) with supervisord's defaults, and dependencies are
 * resolved.  Each program's memory is an arena of its own, so a program can
 * be taken out of one configuration and kept while the rest is freed. */
#include "init/conf_int.h"

#include "common/log.h"
#include "init/confval.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/legate-init.sock"
/* Program names end up in event headers and status lines. */
#define NAME_MAX_LEN 100

extern char **environ;

/* ---- memory ------------------------------------------------------------------ */

void *conf_alloc(struct conf_parser *ps, size_t n)
{
	struct conf_blk *b = calloc(1, sizeof *b + n + 1);
	if (!b)
		return NULL;
	b->next = *ps->cur;
	*ps->cur = b;
	return b->data;
}

static char *conf_strndup(struct conf_parser *ps, const char *s, size_t n)
{
	char *d = conf_alloc(ps, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

char *conf_strdup(struct conf_parser *ps, const char *s)
{
	return conf_strndup(ps, s, strlen(s));
}

void conf_arena_free(struct conf_blk *b)
{
	while (b) {
		struct conf_blk *next = b->next;
		free(b);
		b = next;
	}
}

int conf_fail(struct conf_parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	snprintf(ps->err->file, sizeof ps->err->file, "%s", ps->path ? ps->path : "");
	ps->err->line = line;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

#define OOM(ps, line) conf_fail(ps, line, "out of memory")

/* ---- lexing: sections and entries --------------------------------------------- */

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

/* Inline comments as supervisord's parser reads them: a ';' or '#' that
 * follows whitespace. */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if ((*p == ';' || *p == '#') && p > s && isspace((unsigned char)p[-1])) {
			*p = 0;
			return;
		}
	}
}

/* A repeated section is merged into the first, as supervisord does; the
 * repeat is worth a warning all the same. */
static int add_section(struct conf_parser *ps, const char *name, int line, int *idx)
{
	for (int i = 0; i < ps->nsecs; i++) {
		if (strcmp(ps->secs[i].name, name) != 0)
			continue;
		log_warn("%s:%d: section [%s] appears again (first at %s:%d); its keys are merged, "
			 "later ones win", ps->path, line, name, ps->secs[i].file, ps->secs[i].line);
		*idx = i;
		return 0;
	}
	if (ps->nsecs == ps->capsecs) {
		int cap = ps->capsecs ? ps->capsecs * 2 : 8;
		struct conf_section *s = realloc(ps->secs, sizeof *s * (size_t)cap);
		if (!s)
			return OOM(ps, line);
		ps->secs = s;
		ps->capsecs = cap;
	}
	ps->secs[ps->nsecs].name = conf_strdup(ps, name);
	ps->secs[ps->nsecs].file = ps->path;
	ps->secs[ps->nsecs].line = line;
	if (!ps->secs[ps->nsecs].name)
		return OOM(ps, line);
	*idx = ps->nsecs++;
	return 0;
}

static int add_entry(struct conf_parser *ps, int sec, char *key, char *val, int line)
{
	for (char *k = key; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	for (int i = 0; i < ps->nents; i++) {
		struct conf_entry *o = &ps->ents[i];
		if (o->sec != sec || o->dead || strcmp(o->key, key) != 0)
			continue;
		log_warn("%s:%d: %s is set again in [%s] (first at %s:%d); the later value wins",
			 ps->path, line, key, ps->secs[sec].name, o->file, o->line);
		o->dead = true;
	}
	if (ps->nents == ps->capents) {
		int cap = ps->capents ? ps->capents * 2 : 32;
		struct conf_entry *e = realloc(ps->ents, sizeof *e * (size_t)cap);
		if (!e)
			return OOM(ps, line);
		ps->ents = e;
		ps->capents = cap;
	}
	ps->ents[ps->nents] = (struct conf_entry){ sec, ps->path, conf_strdup(ps, key),
						   conf_strdup(ps, val), line, false };
	if (!ps->ents[ps->nents].key || !ps->ents[ps->nents].val)
		return OOM(ps, line);
	ps->nents++;
	return 0;
}

/* Appends a continuation line to the last entry, joined by a newline as
 * supervisord's parser does. */
static int continue_entry(struct conf_parser *ps, const char *more, int line)
{
	struct conf_entry *e = &ps->ents[ps->nents - 1];
	size_t a = strlen(e->val), b = strlen(more);
	char *v = conf_alloc(ps, a + b + 2);
	if (!v)
		return OOM(ps, line);
	memcpy(v, e->val, a);
	v[a] = '\n';
	memcpy(v + a + 1, more, b + 1);
	e->val = v;
	return 0;
}

int conf_lex(struct conf_parser *ps, char *text)
{
	int lineno = 0, sec = -1;
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
				return conf_fail(ps, lineno, "section header without ']'");
			*end = 0;
			s = trim(s + 1);
			if (!*s)
				return conf_fail(ps, lineno, "empty section name");
			if (add_section(ps, s, lineno, &sec) < 0)
				return -1;
			continue;
		}
		if (sec < 0)
			return conf_fail(ps, lineno, "key outside any section (a [section] header must come first)");
		size_t k = strcspn(s, "=:");
		if (!s[k])
			return conf_fail(ps, lineno, "expected KEY=VALUE, got \"%.60s\"", s);
		s[k] = 0;
		char *key = trim(s), *val = s + k + 1;
		if (!*key)
			return conf_fail(ps, lineno, "missing key before '='");
		cut_comment(val);
		if (add_entry(ps, sec, key, trim(val), lineno) < 0)
			return -1;
		in_value = true;
	}
	return 0;
}

/* ---- values -------------------------------------------------------------------- */

char *conf_expand(struct conf_parser *ps, const char *in, const char *prog, int line)
{
	char out[8192], err[CV_ERR];
	char *r;
	if (cv_expand(in, prog, ps->here, out, sizeof out, err) < 0) {
		conf_fail(ps, line, "%s", err);
		return NULL;
	}
	r = conf_strdup(ps, out);
	if (!r)
		OOM(ps, line);
	return r;
}

char **conf_split_list(struct conf_parser *ps, const char *v, int *n)
{
	char *copy = conf_strdup(ps, v);
	char **list = conf_alloc(ps, sizeof *list * (strlen(v) / 2 + 2));
	*n = 0;
	if (!copy || !list)
		return NULL;
	for (char *save, *tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save))
		list[(*n)++] = tok;
	list[*n] = NULL;
	return list;
}

struct conf_entry *conf_next_entry(struct conf_parser *ps, int sec, int *i, const char *prog)
{
	while (++*i < ps->nents) {
		struct conf_entry *e = &ps->ents[*i];
		if (e->sec != sec || e->dead)
			continue;
		ps->path = e->file;
		e->val = conf_expand(ps, e->val, prog, e->line);
		return e->val ? e : NULL;
	}
	return NULL;
}

/* ---- programs ------------------------------------------------------------------ */

/* The child's environment: legate-init's own, then the SUPERVISOR_*
 * variables programs written for supervisord look at, then [supervisord]
 * environment=, then the program's environment=, each replacing an earlier
 * one of the same name. */
static int build_env(struct conf_parser *ps, struct prog_conf *p, char **add, int line)
{
	size_t n = 0, nglob = 0, nadd = 0, cap;
	char **env;
	char *own[5];
	const int nown = 5;

	while (environ[n])
		n++;
	while (ps->global_env && ps->global_env[nglob])
		nglob++;
	while (add && add[nadd])
		nadd++;
	cap = n + nown + nglob + nadd + 1;
	env = conf_alloc(ps, sizeof *env * cap);
	own[0] = conf_strdup(ps, "SUPERVISOR_ENABLED=1");
	own[1] = conf_alloc(ps, strlen(p->name) + 32);
	own[2] = conf_alloc(ps, strlen(p->name) + 32);
	own[3] = conf_alloc(ps, strlen(ps->sock) + 32);
	own[4] = conf_alloc(ps, strlen(ps->sock) + 32);
	if (!env || !own[0] || !own[1] || !own[2] || !own[3] || !own[4])
		return OOM(ps, line);
	sprintf(own[1], "SUPERVISOR_PROCESS_NAME=%s", p->name);
	sprintf(own[2], "SUPERVISOR_GROUP_NAME=%s", p->name);
	sprintf(own[3], "LEGATE_INIT_SOCKET=%s", ps->sock);
	sprintf(own[4], "SUPERVISOR_SERVER_URL=unix://%s", ps->sock);
	memcpy(env, environ, sizeof *env * n);
	for (size_t i = 0; i < nown + nglob + nadd; i++) {
		char *kv = i < (size_t)nown ? own[i] : i < nown + nglob ? ps->global_env[i - nown]
				: add[i - nown - nglob];
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
	if (!*s || strlen(s) > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* The program's settings as one string: two loads of the same section give
 * the same text, a changed key a different one (for reread and update). */
static int build_sig(struct conf_parser *ps, struct prog_conf *p, int sec)
{
	size_t len = 2 + (ps->global_env_text ? strlen(ps->global_env_text) : 0);
	char *s, *w;

	for (int i = 0; i < ps->nents; i++)
		if (ps->ents[i].sec == sec && !ps->ents[i].dead)
			len += strlen(ps->ents[i].key) + strlen(ps->ents[i].val) + 2;
	s = w = conf_alloc(ps, len + 1);
	if (!s)
		return OOM(ps, p->line);
	for (int i = 0; i < ps->nents; i++)
		if (ps->ents[i].sec == sec && !ps->ents[i].dead)
			w += sprintf(w, "%s=%s\n", ps->ents[i].key, ps->ents[i].val);
	sprintf(w, "\n%s", ps->global_env_text ? ps->global_env_text : "");
	p->sig = s;
	return 0;
}

static int load_program(struct conf_parser *ps, int sec, bool log_prefix, struct prog_conf **out)
{
	const struct conf_section *s = &ps->secs[sec];
	struct conf_blk *blocks = NULL;
	struct conf_prog_load pl = { 0 };
	struct conf_entry *e;
	struct prog_conf *p;
	const char *name = strchr(s->name, ':') + 1;

	ps->path = s->file;
	if (!valid_name(name))
		return conf_fail(ps, s->line, "program name \"%s\" may hold only letters, digits, '_', '.', '-' "
				 "(at most %d)", name, NAME_MAX_LEN);
	ps->cur = &blocks;
	p = pl.p = conf_alloc(ps, sizeof *p);
	if (!p)
		goto oom;
	conf_program_defaults(p, log_prefix);
	p->name = conf_strdup(ps, name);
	p->file = conf_strdup(ps, s->file);
	p->line = s->line;
	p->listener = strncmp(s->name, "eventlistener:", 14) == 0;
	if (p->listener)
		p->priority = -1;   /* supervisord starts listeners first, stops them last */
	if (!p->name || !p->file)
		goto oom;
	CONF_FOREACH_ENTRY(ps, sec, e, p->name, i)
		if (conf_program_key(ps, &pl, e) < 0)
			goto err;
	if (ps->err->msg[0])
		goto err;
	ps->path = s->file;
	if (!pl.has_command) {
		conf_fail(ps, s->line, "[%s] has no command", s->name);
		goto err;
	}
	if (p->listener && !pl.has_events) {
		conf_fail(ps, s->line, "[%s] has no events= line", s->name);
		goto err;
	}
	if (p->listener && p->redirect_stderr) {
		conf_fail(ps, s->line, "[%s] sets redirect_stderr=true, which would mix stderr into "
			  "the event protocol on stdout", s->name);
		goto err;
	}
	if (p->stopasgroup)
		p->killasgroup = true;
	if (build_env(ps, p, pl.env_add, s->line) < 0 || build_sig(ps, p, sec) < 0)
		goto err;
	p->arena = blocks;
	ps->cur = &ps->arena;
	*out = p;
	return 0;
oom:
	OOM(ps, s->line);
err:
	ps->cur = &ps->arena;
	conf_arena_free(blocks);
	return -1;
}

static int find_program(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nprogs; i++)
		if (strcmp(c->progs[i]->name, name) == 0)
			return i;
	return -1;
}

/* depends_on names into indexes, and no cycles: a depth-first walk,
 * colour 1 on the path, 2 done. */
static int resolve_deps(struct conf_parser *ps, struct conf *c)
{
	char *colour;
	int *stack, *pos, rc = 0;

	for (int i = 0; i < c->nprogs; i++) {
		struct prog_conf *p = c->progs[i];
		struct conf_blk *b = p->arena;
		if (!p->dep_names)
			continue;
		ps->path = p->file;
		ps->cur = &b;
		p->deps = conf_alloc(ps, sizeof *p->deps * (size_t)(p->ndeps + 1));
		p->arena = b;
		ps->cur = &ps->arena;
		if (!p->deps)
			return OOM(ps, p->dep_line);
		for (int k = 0; k < p->ndeps; k++) {
			int d = find_program(c, p->dep_names[k]);
			if (d < 0)
				return conf_fail(ps, p->dep_line, "depends_on: no program named \"%s\"",
						 p->dep_names[k]);
			if (d == i)
				return conf_fail(ps, p->dep_line, "depends_on: %s depends on itself", p->name);
			p->deps[k] = d;
		}
	}
	colour = calloc((size_t)c->nprogs + 1, 1);
	stack = calloc((size_t)c->nprogs + 1, sizeof *stack);
	pos = calloc((size_t)c->nprogs + 1, sizeof *pos);
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
			if (pos[top] == c->progs[u]->ndeps) {
				colour[u] = 2;
				top--;
				continue;
			}
			int v = c->progs[u]->deps[pos[top]++];
			if (colour[v] == 1) {
				ps->path = c->progs[u]->file;
				rc = conf_fail(ps, c->progs[u]->dep_line,
					       "depends_on: %s and %s depend on each other (a cycle)",
					       c->progs[u]->name, c->progs[v]->name);
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

/* ---- the whole file ------------------------------------------------------------ */

int conf_load(const char *path, const struct conf_opts *opts, struct conf *out,
	      struct conf_error *err)
{
	struct conf_parser ps = { .path = path, .err = err };
	struct conf_globals g = { 0 };
	const char *sock = NULL;
	char *text;
	int np = 0, inc = -1;

	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	ps.cur = &ps.arena;
	text = conf_read_main(&ps, path, err);
	if (!text)
		return -1;
	ps.path = conf_strdup(&ps, path);
	if (!ps.path || conf_lex(&ps, text) < 0)
		goto err;
	for (int i = 0; i < ps.nsecs; i++)
		if (strcmp(ps.secs[i].name, "include") == 0)
			inc = i;
	if (inc >= 0 && conf_load_includes(&ps, inc) < 0)
		goto err;
	out->ctl_mode = 0600;
	out->identifier = "supervisor";
	if (conf_load_globals(&ps, out, &g, inc, &np) < 0)
		goto err;
	sock = opts->ctl_socket;
	if (!sock || !*sock)
		sock = g.ctl_socket ? g.ctl_socket : g.http_file;
	if (!sock || !*sock)
		sock = getenv("LEGATE_INIT_SOCKET");
	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	ps.sock = sock;
	out->path = conf_strdup(&ps, path);
	out->ctl_socket = conf_strdup(&ps, sock);
	out->identifier = conf_strdup(&ps, out->identifier);
	out->progs = conf_alloc(&ps, sizeof *out->progs * (size_t)(np + 1));
	if (!out->path || !out->ctl_socket || !out->identifier || !out->progs) {
		ps.path = path;
		OOM(&ps, 0);
		goto err;
	}
	for (int i = 0; i < ps.nsecs; i++) {
		if (!conf_is_program_section(ps.secs[i].name))
			continue;
		const char *name = strchr(ps.secs[i].name, ':') + 1;
		for (int k = 0; k < out->nprogs; k++) {
			if (strcmp(out->progs[k]->name, name) == 0) {
				ps.path = ps.secs[i].file;
				conf_fail(&ps, ps.secs[i].line, "[%s]: the name %s is taken by the section at %s:%d",
					  ps.secs[i].name, name, out->progs[k]->file, out->progs[k]->line);
				goto err;
			}
		}
		if (load_program(&ps, i, opts->log_prefix, &out->progs[out->nprogs]) < 0)
			goto err;
		out->nprogs++;
	}
	if (resolve_deps(&ps, out) < 0)
		goto err;
	out->arena = ps.arena;
	free(ps.secs);
	free(ps.ents);
	free(text);
	return 0;
err:
	for (int i = 0; i < out->nprogs; i++)
		conf_prog_free(out->progs[i]);
	free(ps.secs);
	free(ps.ents);
	free(text);
	conf_arena_free(ps.arena);
	memset(out, 0, sizeof *out);
	return -1;
}

struct prog_conf **conf_progs_reserve(struct conf *c, int n)
{
	struct conf_blk *head = c->arena;
	struct conf_parser ps = { .cur = &head };
	struct prog_conf **t = conf_alloc(&ps, sizeof *t * (size_t)(n + 1));
	c->arena = head;
	return t;
}

void conf_progs_set(struct conf *c, struct prog_conf **progs, int n)
{
	for (int i = 0; i < c->nprogs; i++)
		conf_prog_free(c->progs[i]);
	c->progs = progs;
	c->nprogs = n;
	conf_link_deps(c);
}

void conf_link_deps(struct conf *c)
{
	for (int i = 0; i < c->nprogs; i++) {
		struct prog_conf *p = c->progs[i];
		for (int k = 0; k < p->ndeps; k++)
			p->deps[k] = find_program(c, p->dep_names[k]);
	}
}

void conf_prog_free(struct prog_conf *p)
{
	if (p)
		conf_arena_free(p->arena);
}

void conf_free(struct conf *c)
{
	for (int i = 0; i < c->nprogs; i++)
		conf_prog_free(c->progs[i]);
	conf_arena_free(c->arena);
	memset(c, 0, sizeof *c);
}

bool conf_expected(const struct prog_conf *p, int code)
{
	return code >= 0 && code <= 255 && (p->exitcodes[code / 8] & (1u << (code % 8)));
}
