/* lookup: the Mustache lookup hook of the runner.  A name a template uses
 * that no context on the stack has is data: its root says which watch
 * (services, service.NAME, nodes, node.NAME, key.PATH, tree.PATH, env.NAME
 * and instances inside a services item), and the render collects it among
 * the template's deps. */
#include "renderer/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		c->deps[c->ndeps++] = e;
	}
	*out = e;
	return 0;
}

/* For {{#instances}} inside {{#services}} (or services~tag=T, ...): the
 * innermost context that is an item of a services list this render used
 * names the service. */
static const char *enclosing_service(const struct render_ctx *c, const struct mustache_lookup *q)
{
	for (size_t i = q->depth; i-- > 0;) {
		json_t *ctx = q->stack[i];
		if (!json_is_object(ctx))
			continue;
		for (size_t l = 0; l < c->nlists; l++) {
			const json_t *list = c->t->r->deps->src.data(c->lists[l]->watch);
			size_t k;
			json_t *item;
			json_array_foreach(list, k, item)
				if (item == ctx)
					return json_string_value(json_object_get(ctx, "name"));
		}
	}
	return NULL;
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

	if (strcmp(root, "env") == 0) {
		const char *v = q->nseg >= 2 ? getenv(q->seg[1].s) : NULL;
		if (v && (out->value = json_string(v))) {
			out->owned = 1;
			out->consumed = 2;
		}
		return 0;
	}
	if (strcmp(root, "services") == 0 || strncmp(root, "services~", 9) == 0 ||
	    strncmp(root, "services@", 9) == 0 || strcmp(root, "nodes") == 0) {
		snprintf(name, sizeof name, "%.1000s", root);
	} else if (strcmp(root, "service") == 0 || strcmp(root, "node") == 0) {
		if (q->nseg < 2)
			return 0;
		if (snprintf(name, sizeof name, "%s.%s", root, q->seg[1].s) >= (int)sizeof name) {
			snprintf(errtext, errlen, "name too long: %.60s...", q->name);
			return -1;
		}
		out->consumed = 2;
	} else if (strcmp(root, "key") == 0 || strcmp(root, "tree") == 0) {
		/* A key path may hold dots: everything after "key." is the path. */
		if (q->nseg < 2)
			return 0;
		if (snprintf(name, sizeof name, "%s", q->name) >= (int)sizeof name) {
			snprintf(errtext, errlen, "name too long: %.60s...", q->name);
			return -1;
		}
		out->consumed = 0;
	} else if (strcmp(root, "instances") == 0) {
		const char *svc = enclosing_service(c, q);
		if (!svc)
			return 0;
		if (snprintf(name, sizeof name, "service.%s", svc) >= (int)sizeof name) {
			snprintf(errtext, errlen, "service name too long");
			return -1;
		}
	} else {
		return 0;   /* not a data name: missing, renders empty */
	}
	if (ctx_use(c, name, &e, &le) < 0) {
		snprintf(errtext, errlen, "%s", le.text);
		return -1;
	}
	if (strncmp(name, "services", 8) == 0 && c->nlists < sizeof c->lists / sizeof c->lists[0]) {
		size_t l;
		for (l = 0; l < c->nlists && c->lists[l] != e; l++)
			;
		if (l == c->nlists)
			c->lists[c->nlists++] = e;
	}
	out->value = (json_t *)c->t->r->deps->src.data(e->watch);
	if (!out->value) {
		if (c->missing++ == 0)
			snprintf(c->first_missing, sizeof c->first_missing, "%.200s", name);
	}
	return 0;
}
