/* plan: from the configuration HAProxy runs to the next one.  When only
 * server lines inside existing backends differ, and each difference is one
 * the runtime API reproduces exactly, the plan lists runtime operations;
 * anything else is a reload, with the first reason found. */
#include "haproxy/cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes p a reload for the reason given; returns 1 ("decided"). */
static int reload(struct hap_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reload(struct hap_plan *p, const char *fmt, ...)
{
	va_list ap;

	p->kind = HAP_RELOAD;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
	free(p->ops);
	p->ops = NULL;
	p->nops = 0;
	return 1;
}

static int push(struct hap_plan *p, enum hap_op_type t, const struct hap_backend *b,
		const struct hap_server *s, size_t *cap)
{
	if (p->nops == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		struct hap_op *no = realloc(p->ops, n * sizeof *no);
		if (!no)
			return -1;
		p->ops = no;
		*cap = n;
	}
	p->ops[p->nops++] = (struct hap_op){ t, b, s };
	return 0;
}

/* The first line where two skeletons differ, for the log. */
static void first_difference(const struct buf *a, const struct buf *b, char *dst, size_t n)
{
	const char *x = a->data ? a->data : "", *y = b->data ? b->data : "";
	const char *line = y;

	while (*x && *x == *y) {
		if (*y == '\n')
			line = y + 1;
		x++;
		y++;
	}
	if (!*line) {
		snprintf(dst, n, "lines removed at the end");
		return;
	}
	snprintf(dst, n, "\"%.*s\"", (int)strcspn(line, "\n") > 120 ? 120 : (int)strcspn(line, "\n"), line);
}

static bool has_duplicates(const struct hap_backend *b)
{
	for (size_t i = 1; i < b->nsrv; i++)
		if (strcmp(b->by_name[i - 1]->name, b->by_name[i]->name) == 0)
			return true;
	return false;
}

/* One backend: a merge walk of both sorted server lists.  Returns 0 (ops
 * added), 1 (p is now a reload) or -1 (out of memory). */
static int diff_backend(const struct hap_backend *fb, const struct hap_backend *tb,
			struct hap_plan *p, size_t *cap)
{
	size_t i = 0, k = 0;

	if (has_duplicates(tb))
		return reload(p, "backend %s: a server name appears twice", tb->name);
	while (i < fb->nsrv || k < tb->nsrv) {
		const struct hap_server *f = i < fb->nsrv ? fb->by_name[i] : NULL;
		const struct hap_server *t = k < tb->nsrv ? tb->by_name[k] : NULL;
		int c = !f ? 1 : !t ? -1 : strcmp(f->name, t->name);

		if (c < 0) {            /* gone */
			if (push(p, HAP_OP_DEL, fb, f, cap) < 0)
				return -1;
			p->removed++;
			i++;
			continue;
		}
		if (c > 0) {            /* new */
			if (tb->no_runtime)
				return reload(p, "backend %s: %s", tb->name, tb->no_runtime);
			if (t->no_runtime)
				return reload(p, "server %s/%s (line %d): %s", tb->name, t->name, t->line,
					      t->no_runtime);
			if (push(p, HAP_OP_ADD, tb, t, cap) < 0)
				return -1;
			p->added++;
			k++;
			continue;
		}
		i++;
		k++;
		if (strcmp(f->opts, t->opts) != 0)
			return reload(p, "server %s/%s (line %d): options changed", tb->name, t->name, t->line);
		if (strcmp(f->host, t->host) != 0 || strcmp(f->port, t->port) != 0) {
			if (t->no_runtime || (f->port[0] && !t->port[0]))
				return reload(p, "server %s/%s (line %d): new address %s:%s%s%s", tb->name, t->name,
					      t->line, t->host, t->port, t->no_runtime ? ": " : "",
					      t->no_runtime ? t->no_runtime : "");
			if (push(p, HAP_OP_ADDR, tb, t, cap) < 0)
				return -1;
			p->changed++;
		}
		if (f->weight != t->weight) {
			if (push(p, HAP_OP_WEIGHT, tb, t, cap) < 0)
				return -1;
			p->changed++;
		}
		if (f->disabled != t->disabled) {
			if (push(p, HAP_OP_STATE, tb, t, cap) < 0)
				return -1;
			p->changed++;
		}
	}
	return 0;
}

int hap_cfg_diff(const struct hap_cfg *from, const struct hap_cfg *to, struct hap_plan *p)
{
	size_t cap = 0;
	char line[160];

	memset(p, 0, sizeof *p);
	if (!from) {
		reload(p, "the configuration HAProxy runs is not known");
		return 0;
	}
	if (from->skeleton.len != to->skeleton.len ||
	    memcmp(from->skeleton.data, to->skeleton.data, to->skeleton.len) != 0) {
		first_difference(&from->skeleton, &to->skeleton, line, sizeof line);
		reload(p, "a line outside the servers changed: %s", line);
		return 0;
	}
	/* Equal skeletons: the same backends, in the same order. */
	for (size_t b = 0; b < to->nbe; b++) {
		int rc = diff_backend(&from->be[b], &to->be[b], p, &cap);
		if (rc < 0) {
			hap_plan_free(p);
			return -1;
		}
		if (rc > 0)
			return 0;
	}
	p->kind = p->nops ? HAP_RUNTIME : HAP_SAME;
	return 0;
}

void hap_plan_free(struct hap_plan *p)
{
	free(p->ops);
	p->ops = NULL;
	p->nops = 0;
}

/* Whether tok[i] is a resolution keyword (left out for an address literal). */
static bool resolve_kw(const char *t)
{
	return strcmp(t, "init-addr") == 0 || strcmp(t, "resolvers") == 0 ||
	       strcmp(t, "resolve-prefer") == 0 || strcmp(t, "resolve-opts") == 0 ||
	       strcmp(t, "resolve-net") == 0;
}

static int append_opts(struct buf *out, char *const *tok, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (resolve_kw(tok[i])) {
			i++;
			continue;
		}
		if (buf_printf(out, " %s", tok[i]) < 0)
			return -1;
	}
	return 0;
}

void hap_server_addr(const struct hap_server *s, char *dst, size_t n)
{
	bool v6 = strchr(s->host, ':') != NULL;
	snprintf(dst, n, "%s%s%s%s%s", v6 ? "[" : "", s->host, v6 ? "]" : "", s->port[0] ? ":" : "", s->port);
}

int hap_add_command(const struct hap_backend *b, const struct hap_server *s, struct buf *out)
{
	bool v6 = strchr(s->host, ':') != NULL;

	if (buf_printf(out, "add server %s/%s %s%s%s%s", b->name, s->name, v6 ? "ipv6@" : "", s->host,
		       s->port[0] ? ":" : "", s->port) < 0)
		return -1;
	if (append_opts(out, b->dflt, b->ndflt) < 0 || append_opts(out, s->args, s->nargs) < 0)
		return -1;
	return 0;
}

bool hap_server_has(const struct hap_backend *b, const struct hap_server *s, const char *kw)
{
	/* "no-check" style negations keep a server out of the runtime path,
	 * so the last mention decides. */
	bool on = false;
	for (size_t i = 0; i < b->ndflt; i++)
		on |= strcmp(b->dflt[i], kw) == 0;
	for (size_t i = 0; i < s->nargs; i++)
		on |= strcmp(s->args[i], kw) == 0;
	return on;
}
