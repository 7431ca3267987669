/* lookup: the Mustache lookup hook of the runner.  A name a template uses
 * that no context on the stack has is data: its root says which watch
 * (services, service.NAME, nodes, node.NAME, key.PATH, tree.PATH, env.NAME
 * and instances inside a services item), and the render collects it among
 * the template's deps.  Outside every section, any other name is an error
 * (a misspelt root would render empty for ever); inside one it is a
 * missing field, empty unless the template has error_on_missing_key.  A
 * key interpolated while absent holds the template, as consul-template's
 * key does; a section or inverted section on it tests presence. */
#include "renderer/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the items of the services lists, as a set of pointers ----------------- */

static size_t ptr_hash(const void *p, size_t cap)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 17;
	v *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(v >> 7) & (cap - 1);
}

static int items_add(struct item_set *s, const json_t *item, uint8_t list)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		const json_t **ns = calloc(ncap, sizeof *ns), **old = s->slot;
		uint8_t *nl = calloc(ncap, 1), *oldl = s->list;
		if (!ns || !nl) {
			free(ns);
			free(nl);
			return -1;
		}
		for (size_t k = 0; k < s->cap; k++)
			if (old[k]) {
				for (i = ptr_hash(old[k], ncap); ns[i]; i = (i + 1) & (ncap - 1))
					;
				ns[i] = old[k];
				nl[i] = oldl[k];
			}
		free(old);
		free(oldl);
		s->slot = ns;
		s->list = nl;
		s->cap = ncap;
	}
	for (i = ptr_hash(item, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == item)
			return 0;
	s->slot[i] = item;
	s->list[i] = list;
	s->n++;
	return 0;
}

/* The index in lists[] of the list holding item, or -1. */
static int items_find(const struct item_set *s, const json_t *item)
{
	if (!s->cap)
		return -1;
	for (size_t i = ptr_hash(item, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == item)
			return s->list[i];
	return -1;
}

void render_ctx_done(struct render_ctx *c)
{
	free(c->items.slot);
	free(c->items.list);
	free(c->missing);
	c->items.slot = NULL;
	c->items.list = NULL;
	c->missing = NULL;
}

/* ---- names into deps ----------------------------------------------------------- */

static int ctx_use(struct render_ctx *c, const char *name, struct dep **out, struct lg_error *err)
{
	struct runner *r = c->t->r;
	struct dep *e = dep_get(r->deps, name, err);

	if (!e)
		return -1;
	if (e->mark != r->mark) {
		if (c->ndeps == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 16;
			struct dep **nd = realloc(c->deps, ncap * sizeof *nd);
			if (!nd) {
				lg_error_set(err, NULL, 0, 0, "out of memory");
				return -1;
			}
			c->deps = nd;
			c->cap = ncap;
		}
		e->mark = r->mark;
		e->refs++;
		e->used_by |= tmpl_bit(c->t);
		c->deps[c->ndeps++] = e;
	}
	*out = e;
	return 0;
}

/* A dep this render found without data (each one once). */
static void ctx_missing(struct render_ctx *c, struct dep *e, const char *name)
{
	struct runner *r = c->t->r;

	if (c->nmissing == 0)
		snprintf(c->first_missing, sizeof c->first_missing, "%.200s", name);
	if (e->missing_mark == r->mark)
		return;
	e->missing_mark = r->mark;
	if (c->nmissing == c->missing_cap) {
		size_t ncap = c->missing_cap ? c->missing_cap * 2 : 16;
		struct dep **nm = realloc(c->missing, ncap * sizeof *nm);
		if (!nm) {
			c->nmissing++;   /* counted all the same: nothing is written */
			return;
		}
		c->missing = nm;
		c->missing_cap = ncap;
	}
	c->missing[c->nmissing++] = e;
}

/* For {{#instances}} inside {{#services}} (or services~tag=T, ...): the
 * innermost context that is an item of a services list this render used
 * names the service; the list's filters (~tag=T, @DC) apply to its
 * instances too, so services~tag=T lists only the tagged instances.
 * *filters is set to them ("" for none). */
static const char *enclosing_service(const struct render_ctx *c, const struct mustache_lookup *q,
				     const char **filters)
{
	for (size_t i = q->depth; i-- > 0;) {
		json_t *ctx = q->stack[i];
		int l;

		if (json_is_object(ctx) && (l = items_find(&c->items, ctx)) >= 0) {
			*filters = c->lists[l]->name + 8;   /* after "services" */
			return json_string_value(json_object_get(ctx, "name"));
		}
	}
	return NULL;
}

/* A name outside the grammar: an error outside every section (nothing
 * could ever give it a value), else a field an item lacks: missing, or an
 * error when interpolated with error_on_missing_key. */
static int not_data(const struct render_ctx *c, const struct mustache_lookup *q, char *errtext,
		    size_t errlen)
{
	if (q->depth == 0) {
		snprintf(errtext, errlen, "not a data name (services, service.NAME, nodes, node.NAME, "
			 "key.PATH, tree.PATH, env.NAME; instances inside a services item)");
		return -1;
	}
	if (q->interpolation && c->t->cfg->error_on_missing_key) {
		snprintf(errtext, errlen, "no such name (error_on_missing_key)");
		return -1;
	}
	return 0;
}

enum runner_name runner_name_watch(const char *name, char *watch, size_t wlen, size_t *consumed)
{
	const char *dot = strchr(name, '.');
	size_t rl = dot ? (size_t)(dot - name) : strlen(name);
	const char *seg1 = dot ? dot + 1 : NULL;
	int n;

	*consumed = 1;
	if (rl == 3 && memcmp(name, "env", 3) == 0)
		return seg1 ? RN_ENV : RN_NONE;
	if (rl == 9 && memcmp(name, "instances", 9) == 0)
		return RN_INSTANCES;
	if ((rl == 8 && memcmp(name, "services", 8) == 0) || strncmp(name, "services~", 9) == 0 ||
	    strncmp(name, "services@", 9) == 0 || (rl == 5 && memcmp(name, "nodes", 5) == 0)) {
		n = snprintf(watch, wlen, "%.*s", (int)rl, name);
	} else if ((rl == 7 && memcmp(name, "service", 7) == 0) ||
		   (rl == 4 && memcmp(name, "node", 4) == 0)) {
		const char *e = seg1 ? strchr(seg1, '.') : NULL;

		if (!seg1 || !*seg1)
			return RN_NONE;
		n = snprintf(watch, wlen, "%.*s.%.*s", (int)rl, name,
			     (int)(e ? (size_t)(e - seg1) : strlen(seg1)), seg1);
		*consumed = 2;
	} else if ((rl == 3 && memcmp(name, "key", 3) == 0) ||
		   (rl == 4 && memcmp(name, "tree", 4) == 0)) {
		/* A key path may hold dots: everything after "key." is the path. */
		if (!seg1 || !*seg1)
			return RN_NONE;
		n = snprintf(watch, wlen, "%s", name);
		*consumed = 0;
	} else {
		return RN_NONE;
	}
	return n < 0 || (size_t)n >= wlen ? RN_TOO_LONG : RN_WATCH;
}

int runner_lookup(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		  char *errtext, size_t errlen)
{
	struct render_ctx *c = ud;
	const char *root = q->seg[0].s;
	char name[1024];
	struct lg_error le;
	struct dep *e;

	out->value = NULL;
	out->consumed = 1;
	out->owned = 0;

	switch (runner_name_watch(q->name, name, sizeof name, &out->consumed)) {
	case RN_NONE:
		return not_data(c, q, errtext, errlen);
	case RN_ENV: {
		const char *v = q->nseg >= 2 ? getenv(q->seg[1].s) : NULL;

		if (v && (out->value = json_string(v))) {
			out->owned = 1;
			out->consumed = 2;
		}
		return 0;
	}
	case RN_TOO_LONG:
		snprintf(errtext, errlen, "name too long: %.60s...", q->name);
		return -1;
	case RN_INSTANCES: {
		const char *filters = "";
		const char *svc = enclosing_service(c, q, &filters);
		if (!svc)
			return not_data(c, q, errtext, errlen);
		if (snprintf(name, sizeof name, "service.%s%s", svc, filters) >= (int)sizeof name) {
			snprintf(errtext, errlen, "service name too long");
			return -1;
		}
		break;
	}
	case RN_WATCH:
		break;
	}
	if (ctx_use(c, name, &e, &le) < 0) {
		snprintf(errtext, errlen, "%s", le.text);
		return -1;
	}
	out->value = (json_t *)c->t->r->deps->src.data(e->watch);
	if (out->value && strncmp(name, "services", 8) == 0 && c->nlists < sizeof c->lists / sizeof c->lists[0]) {
		size_t l;
		for (l = 0; l < c->nlists && c->lists[l] != e; l++)
			;
		if (l == c->nlists) {
			/* a list seen for the first time in this render: its items */
			size_t k;
			json_t *item;
			c->lists[c->nlists++] = e;
			json_array_foreach(out->value, k, item)
				if (items_add(&c->items, item, (uint8_t)(c->nlists - 1)) < 0) {
					snprintf(errtext, errlen, "out of memory");
					return -1;
				}
		}
	}
	/* {{key.x}} of a key that does not exist: wait for it. */
	if (out->value && json_is_null(out->value) && q->interpolation && strcmp(root, "key") == 0)
		out->value = NULL;
	if (!out->value)
		ctx_missing(c, e, name);
	return 0;
}
