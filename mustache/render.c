/* mustache/render: walks a compiled template against a context stack of
 * jansson values and writes the result: escaping, indentation of partials
 * and blocks, inheritance, and the limits that keep a render bounded. */
#include "mustache/internal.h"
#include "mustache/numfmt.h"
#include "mustache/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK 1024
#define MAX_DEPTH 1000   /* render nesting, whatever the options say */
#define MAX_INDENT ((size_t)1 << 20)  /* indentation of nested partials */
#define MAX_HINTS 4096   /* name segments with a key position hint */
#define HINT_SCAN 16     /* objects up to this size are scanned, not hashed */

/* One {{<parent}} being expanded: its node holds the block arguments. */
struct scope {
	const struct mustache_tpl *t;
	uint32_t node;
	const struct scope *outer;
};

struct rs {
	struct mustache_env *env;
	const struct mustache_opts *o;
	struct buf *out;
	size_t out_limit;
	struct lg_error *err;
	unsigned long steps, max_steps;
	unsigned nest, max_depth;
	size_t depth;
	json_t *stack[MAX_STACK];
	/* Per stack entry: set when it is an item of a list or object being
	 * iterated, for {{@index}} {{@first}} {{@last}} {{*}}. */
	struct pos {
		const char *key;   /* object iteration: the member's name */
		uint32_t idx, n;
		uint8_t kind;      /* 0: not iterated, 1: list item, 2: object member */
	} pos[MAX_STACK];
	struct buf dyn;          /* a name with [ref] parts, expanded */
	/* Indentation: the current frame's prefix is indent.data[0..ind_len);
	 * the first strip spaces of each of its text lines are dropped. */
	struct buf indent;
	size_t ind_len;
	uint32_t strip;
	uint32_t strip_left;
	int at_bol;
	/* Per name segment: 1 + where its key was last found, 0 unknown. */
	uint8_t hint[MAX_HINTS];
	/* The last key found: its object, iterator and position (1-based).
	 * Forgotten whenever a value from the hook is released, as the
	 * object may go with it. */
	json_t *last_obj;
	void *last_it;
	unsigned last_pos;
	char num[40];    /* a number being written */
	/* Where we are, for messages. */
	const struct mustache_tpl *at_t;
	const struct mu_node *at_nd;
};

/* A looked-up value; hold is a reference to drop when done (or NULL). */
struct val {
	json_t *v;
	json_t *hold;
	size_t consumed;
};

static int fail(struct rs *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void release(struct rs *st, struct val *v)
{
	if (v->hold) {
		json_decref(v->hold);
		st->last_obj = NULL;
	}
	v->hold = NULL;
}

static int fail(struct rs *st, const char *fmt, ...)
{
	struct lg_error *e = st->err;
	va_list ap;

	if (!e)
		return -1;
	snprintf(e->source, sizeof e->source, "%s", st->at_t ? st->at_t->name : "template");
	e->line = st->at_nd ? (int)st->at_nd->line : 0;
	e->column = st->at_nd ? (int)st->at_nd->col : 0;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *tag_name(const struct mustache_tpl *t, const struct mu_node *nd)
{
	return t->pool + t->names[nd->a].full;
}

static int app_slow(struct rs *st, const char *s, size_t n)
{
	if (n > st->out_limit - st->out->len || st->out->len > st->out_limit)
		return fail(st, "output passes the limit of %zu bytes", st->o->max_output);
	if (buf_append(st->out, s, n) < 0)
		return fail(st, "output: %s", errno == EFBIG ? "passes the buffer limit" : strerror(errno));
	return 0;
}

/* Appends to the output; the common case (room left, under the limit) is
 * a bare copy. */
static inline int app(struct rs *st, const char *s, size_t n)
{
	struct buf *b = st->out;

	if (n < b->cap - b->len && b->len + n <= st->out_limit) {
		char *d = b->data + b->len;

		/* Most pieces are a few bytes: a call to memcpy costs more. */
		if (n <= 16) {
			for (size_t i = 0; i < n; i++)
				d[i] = s[i];
		} else {
			memcpy(d, s, n);
		}
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return app_slow(st, s, n);
}

static int emit_indent(struct rs *st)
{
	st->at_bol = 0;
	st->strip_left = 0;
	return st->ind_len ? app(st, st->indent.data, st->ind_len) : 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* Template text: indentation goes before each line that has something,
 * blocks' own indentation is dropped first. */
static int out_text(struct rs *st, const char *s, size_t n)
{
	if (!st->ind_len && !st->strip && !st->strip_left) {
		if (app(st, s, n) < 0)
			return -1;
		st->at_bol = s[n - 1] == '\n';
		return 0;
	}
	while (n) {
		const char *nl;
		size_t k;

		while (st->strip_left && n && is_ws(*s)) {
			s++;
			n--;
			st->strip_left--;
		}
		if (!n)
			break;
		if (st->at_bol && emit_indent(st) < 0)
			return -1;
		st->strip_left = 0;
		nl = memchr(s, '\n', n);
		k = nl ? (size_t)(nl - s) + 1 : n;
		if (app(st, s, k) < 0)
			return -1;
		s += k;
		n -= k;
		if (nl) {
			st->at_bol = 1;
			st->strip_left = st->strip;
		}
	}
	return 0;
}

static const char *ctl_name(unsigned char c, char *tmp, size_t n)
{
	switch (c) {
	case '\n': return "a newline";
	case '\r': return "a carriage return";
	case '\0': return "a NUL byte";
	case '\t': return "a tab";
	default:
		snprintf(tmp, n, "control character 0x%02x", c);
		return tmp;
	}
}

static int out_escaped(struct rs *st, const char *s, size_t n, int raw)
{
	enum mustache_escape mode = raw ? MUSTACHE_ESCAPE_NONE : st->o->escape;

	if (mode == MUSTACHE_ESCAPE_NONE)
		return app(st, s, n);
	if (mode == MUSTACHE_ESCAPE_CONFIG) {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c == 0x7f) {
				char tmp[40];

				return fail(st, "{{%s}}: the value has %s (byte %zu); "
					    "a config file gets no control characters from data "
					    "(use {{{%s}}} to write it raw)",
					    tag_name(st->at_t, st->at_nd), ctl_name(c, tmp, sizeof tmp),
					    i + 1, tag_name(st->at_t, st->at_nd));
			}
		}
		return app(st, s, n);
	}
	/* HTML: copy runs of plain bytes, replace the five special ones. */
	{
		size_t run = 0;

		for (size_t i = 0; i < n; i++) {
			const char *rep;
			size_t rl;

			switch (s[i]) {
			case '&': rep = "&amp;"; rl = 5; break;
			case '<': rep = "&lt;"; rl = 4; break;
			case '>': rep = "&gt;"; rl = 4; break;
			case '"': rep = "&quot;"; rl = 6; break;
			case '\'': rep = "&#39;"; rl = 5; break;
			default: continue;
			}
			if (app(st, s + run, i - run) < 0 || app(st, rep, rl) < 0)
				return -1;
			run = i + 1;
		}
		return app(st, s + run, n - run);
	}
}

static inline int key_eq(void *it, const struct mustache_seg *sg)
{
	const char *k;

	if (json_object_iter_key_len(it) != sg->len)
		return 0;
	k = json_object_iter_key(it);
	for (size_t i = 0; i < sg->len; i++)
		if (k[i] != sg->s[i])
			return 0;
	return 1;
}

/* An object member by key.  Objects of one list usually share their key
 * order, so each name remembers where its key was last found and checks
 * there first: a few pointer steps instead of hashing the key. */
static json_t *member(struct rs *st, json_t *obj, const struct mustache_seg *sg, uint32_t site)
{
	uint8_t *hint = site < MAX_HINTS ? &st->hint[site] : NULL;
	void *it;
	unsigned pos;

	if (hint && *hint) {
		/* Templates tend to read keys in order: resume from the last
		 * key found in this same object when it comes before. */
		if (obj == st->last_obj && st->last_pos <= *hint) {
			it = st->last_it;
			pos = st->last_pos;
		} else {
			it = json_object_iter(obj);
			pos = 1;
		}
		for (; it && pos < *hint; pos++)
			it = json_object_iter_next(obj, it);
		if (it && key_eq(it, sg)) {
			st->last_obj = obj;
			st->last_it = it;
			st->last_pos = pos;
			return json_object_iter_value(it);
		}
	}
	if (hint && json_object_size(obj) <= HINT_SCAN) {
		/* Small object: a scan finds the key and its position. */
		it = json_object_iter(obj);
		for (pos = 1; it; pos++, it = json_object_iter_next(obj, it)) {
			if (key_eq(it, sg)) {
				*hint = (uint8_t)pos;
				st->last_obj = obj;
				st->last_it = it;
				st->last_pos = pos;
				return json_object_iter_value(it);
			}
		}
		return NULL;
	}
	return json_object_getn(obj, sg->s, sg->len);
}

/* A segment that is all digits indexes an array. */
static json_t *child(struct rs *st, json_t *v, const struct mustache_seg *sg, uint32_t site)
{
	if (json_is_object(v))
		return member(st, v, sg, site);
	if (json_is_array(v) && sg->len && sg->len <= 9) {
		size_t idx = 0;

		for (size_t i = 0; i < sg->len; i++) {
			if (sg->s[i] < '0' || sg->s[i] > '9')
				return NULL;
			idx = idx * 10 + (size_t)(sg->s[i] - '0');
		}
		return json_array_get(v, idx);
	}
	return NULL;
}

/* Asks the hook for a name no context has (name, its nseg segments);
 * out->v and out->consumed (segments it stands for) are set.  Kept apart
 * from lookup() so that the common path carries no buffers.  interp: the
 * name is interpolated (the hook is told). */
static __attribute__((noinline)) int call_hook(struct rs *st, const struct mustache_tpl *t,
						const char *name, const struct mustache_seg *seg,
						size_t nseg, struct val *out, int interp)
{
	struct mustache_lookup q;
	struct mustache_found f = { NULL, 0, 0 };
	char etext[256];

	q.name = name;
	q.nseg = nseg;
	q.seg = seg;
	q.stack = st->stack;
	q.depth = st->depth;
	q.template = t->name;
	q.line = st->at_nd ? st->at_nd->line : 0;
	q.col = st->at_nd ? st->at_nd->col : 0;
	q.interpolation = interp;
	etext[0] = '\0';
	if (st->o->lookup(st->o->lookup_ud, &q, &f, etext, sizeof etext) < 0)
		return fail(st, "%s: %s", q.name, etext[0] ? etext : "lookup failed");
	out->v = f.value;
	if (f.value && f.owned)
		out->hold = f.value;
	out->consumed = f.consumed == 0 || f.consumed > nseg ? nseg : f.consumed;
	return 0;
}

/* A name left with no value: with missing_error and interp, the render
 * fails, unless the hook answered the name (hook_none: its call). */
static int missing(struct rs *st, const char *name, int interp, int hook_none)
{
	if (interp && st->o->missing_error && !hook_none)
		return fail(st, "%s: no such name", name);
	return 0;
}

/* Resolves a name: its first segment in the innermost context that has it,
 * else through the hook; the other segments inside that value only.
 * interp: the name is interpolated (missing_error applies). */
static inline int lookup_plain(struct rs *st, const struct mustache_tpl *t, const struct mu_name *nm,
			       struct val *out, int interp)
{
	const struct mustache_seg *sg = nm->nseg ? t->segs + nm->seg : NULL;
	json_t *v = NULL;
	size_t k = 1;
	int hook_none = 0;

	out->v = NULL;
	out->hold = NULL;
	if (nm->nseg == 0) {
		out->v = st->depth ? st->stack[st->depth - 1] : NULL;
		return 0;
	}
	for (size_t i = st->depth; i-- > 0;) {
		if (json_is_object(st->stack[i]) && (v = member(st, st->stack[i], &sg[0], nm->seg)))
			break;
	}
	if (!v && st->o->lookup) {
		if (call_hook(st, t, t->pool + nm->full, sg, nm->nseg, out, interp) < 0)
			return -1;
		v = out->v;
		k = out->consumed;
		hook_none = !v;
	}
	for (; v && k < nm->nseg; k++)
		v = child(st, v, &sg[k], nm->seg + (uint32_t)k);
	out->v = v;
	if (!v) {
		release(st, out);
		return missing(st, t->pool + nm->full, interp, hook_none);
	}
	return 0;
}

static int lookup_ext(struct rs *st, const struct mustache_tpl *t, const struct mu_name *nm,
		      struct val *out, int interp);

/* Resolves a name, with its extensions if it has any (see lookup_ext). */
static inline int lookup(struct rs *st, const struct mustache_tpl *t, const struct mu_name *nm,
			 struct val *out, int interp)
{
	if (__builtin_expect(nm->ext, 0))
		return lookup_ext(st, t, nm, out, interp);
	return lookup_plain(st, t, nm, out, interp);
}

static int truthy(json_t *v)
{
	if (!v || json_is_false(v) || json_is_null(v))
		return 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return 1;
}

/* ---- extensions: positions, [ref] parts, .length, filters, tests ---- */

/* {{*}} {{@index}} {{@first}} {{@last}}: from the innermost context that is
 * an item being iterated. */
static json_t *special(struct rs *st, const struct mu_name *nm)
{
	const struct pos *p = NULL;

	for (size_t i = st->depth; i-- > 0;)
		if (st->pos[i].kind) {
			p = &st->pos[i];
			break;
		}
	if (!p)
		return NULL;
	switch (nm->special) {
	case MS_KEY:
		return p->kind == 2 ? json_string(p->key) : NULL;
	case MS_INDEX:
		return json_integer((json_int_t)p->idx);
	case MS_FIRST:
		return json_boolean(p->idx == 0);
	case MS_LAST:
		return json_boolean(p->idx + 1 == p->n);
	}
	return NULL;
}

#define MAX_DYN_SEGS 64

/* A name with [ref] parts: each ref is looked up and written in its place,
 * then the name is resolved as if written so.  A ref that is missing, or
 * not a string, number or boolean, makes the whole name missing.  interp
 * holds for the refs too: a name that cannot be built has no value. */
static int lookup_dyn(struct rs *st, const struct mustache_tpl *t, const struct mu_name *nm,
		      struct val *out, int interp)
{
	const char *p = t->pool + nm->full, *end = p + nm->len;
	const struct mu_name *ref = nm + 1;
	struct mustache_seg seg[MAX_DYN_SEGS];
	size_t nseg = 0, k = 1, len;
	char *segs;
	json_t *v = NULL;
	int hook_none = 0;

	st->dyn.len = 0;
	st->dyn.limit = 4096;
	while (p < end) {
		const char *o = memchr(p, '[', (size_t)(end - p)), *c;
		struct val rv;
		const char *s;
		size_t n;
		char tmp[40];

		if (!o) {
			if (buf_append(&st->dyn, p, (size_t)(end - p)) < 0)
				return fail(st, "name too long");
			break;
		}
		c = memchr(o, ']', (size_t)(end - o));
		if (buf_append(&st->dyn, p, (size_t)(o - p)) < 0)
			return fail(st, "name too long");
		if (lookup(st, t, ref, &rv, interp) < 0)
			return -1;
		ref++;
		if (mu_scalar_text(rv.v, tmp, sizeof tmp, &s, &n) < 0) {
			/* missing; a ref the hook left without a value is its call */
			hook_none = !rv.v;
			release(st, &rv);
			return missing(st, t->pool + nm->full, interp, hook_none);
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				release(st, &rv);
				return fail(st, "%s: the part [%s] has a control character",
					    t->pool + nm->full, t->pool + (ref - 1)->full);
			}
		if (buf_append(&st->dyn, s, n) < 0) {
			release(st, &rv);
			return fail(st, "name too long");
		}
		release(st, &rv);
		p = c + 1;
	}
	if (buf_putc(&st->dyn, '\0') < 0)
		return fail(st, "name too long");
	/* The segments: a copy with '.' as NUL after the name itself. */
	len = st->dyn.len - 1;
	if (len == 0)
		return missing(st, t->pool + nm->full, interp, 0);
	if (buf_reserve(&st->dyn, len + 1) < 0)   /* the copy must not move its source */
		return fail(st, "name too long");
	memcpy(st->dyn.data + len + 1, st->dyn.data, len + 1);
	st->dyn.len += len + 1;
	segs = st->dyn.data + len + 1;
	for (size_t b = 0; b <= len;) {
		char *d = memchr(segs + b, '.', len - b);
		size_t e = d ? (size_t)(d - segs) : len;

		if (nseg == MAX_DYN_SEGS)
			return fail(st, "%s: more than %d segments", st->dyn.data, MAX_DYN_SEGS);
		segs[e] = '\0';
		seg[nseg].s = segs + b;
		seg[nseg].len = e - b;
		nseg++;
		b = e + 1;
	}
	for (size_t i = st->depth; i-- > 0;)
		if (json_is_object(st->stack[i]) && (v = json_object_getn(st->stack[i], seg[0].s, seg[0].len)))
			break;
	if (!v && st->o->lookup) {
		if (call_hook(st, t, st->dyn.data, seg, nseg, out, interp) < 0)
			return -1;
		v = out->v;
		k = out->consumed;
		hook_none = !v;
	}
	for (; v && k < nseg; k++)
		v = child(st, v, &seg[k], MAX_HINTS);
	out->v = v;
	if (!v) {
		release(st, out);
		return missing(st, st->dyn.data, interp, hook_none);
	}
	return 0;
}

/* Replaces out's value by nv, a new reference (NULL: out of memory). */
static int set_owned(struct rs *st, struct val *out, json_t *nv)
{
	release(st, out);
	out->v = nv;
	out->hold = nv;
	return nv ? 0 : fail(st, "out of memory");
}

/* A |default filter gives a missing name its value: interpolating it is
 * no more than testing presence. */
static int has_default(const struct mustache_tpl *t, const struct mu_name *nm)
{
	for (uint32_t i = 0; i < nm->nfilt; i++)
		if (t->filters[nm->filt + i].fn == MF_DEFAULT)
			return 1;
	return 0;
}

static __attribute__((noinline)) int lookup_ext(struct rs *st, const struct mustache_tpl *t,
						 const struct mu_name *nm, struct val *out, int interp)
{
	out->v = NULL;
	out->hold = NULL;
	if (interp && has_default(t, nm))
		interp = 0;
	if (nm->special) {
		json_t *v = special(st, nm);

		out->v = out->hold = v;
	} else if (nm->dyn) {
		if (lookup_dyn(st, t, nm, out, interp) < 0)
			return -1;
	} else if (nm->length) {
		struct mu_name c = *nm;

		c.nseg--;
		if (lookup_plain(st, t, &c, out, interp) < 0)
			return -1;
		if (json_is_array(out->v)) {
			if (set_owned(st, out, json_integer((json_int_t)json_array_size(out->v))) < 0)
				return -1;
		} else if (out->v) {
			json_t *v = child(st, out->v, &t->segs[nm->seg + nm->nseg - 1],
					  nm->seg + nm->nseg - 1);
			if (!v)
				release(st, out);
			out->v = v;
			if (!v && missing(st, t->pool + nm->full, interp, 0) < 0)
				return -1;
		}
	} else if (lookup_plain(st, t, nm, out, interp) < 0) {
		return -1;
	}
	for (uint32_t i = 0; i < nm->nfilt; i++) {
		char etext[200];
		json_t *nv;

		etext[0] = '\0';
		nv = mu_filter_apply(t, &t->filters[nm->filt + i], out->v, etext, sizeof etext);
		if (!nv && etext[0]) {
			release(st, out);
			return fail(st, "%s: %s", t->pool + nm->full, etext);
		}
		if (nv == out->v)
			continue;
		release(st, out);
		out->v = out->hold = nv;
	}
	if (nm->test) {
		int pass = mu_test(t, nm, out->v);

		if (!pass)
			release(st, out), out->v = NULL;
		else if (!truthy(out->v))
			release(st, out), out->v = json_true();
	}
	return 0;
}

static int interpolate(struct rs *st, const struct mustache_tpl *t, const struct mu_node *nd)
{
	struct val val;
	char *num = st->num;
	const char *s = NULL;
	size_t n = 0;
	int rc = 0;

	if (lookup(st, t, &t->names[nd->a], &val, 1) < 0)
		return -1;
	if (st->at_bol && (st->ind_len || st->strip_left) && emit_indent(st) < 0)
		goto out_err;
	st->at_bol = 0;
	st->strip_left = 0;
	switch (val.v ? json_typeof(val.v) : JSON_NULL) {
	case JSON_STRING:
		s = json_string_value(val.v);
		n = json_string_length(val.v);
		break;
	case JSON_INTEGER:
		n = numfmt_int(num, sizeof st->num, (long long)json_integer_value(val.v));
		s = num;
		break;
	case JSON_REAL:
		n = numfmt_double(num, sizeof st->num, json_real_value(val.v));
		s = num;
		break;
	case JSON_TRUE:
		s = "true";
		n = 4;
		break;
	case JSON_FALSE:
		s = "false";
		n = 5;
		break;
	default:  /* null, missing, objects and lists print nothing */
		break;
	}
	if (n)
		rc = out_escaped(st, s, n, nd->op == MU_RAW);
	release(st, &val);
	return rc;
out_err:
	release(st, &val);
	return -1;
}

static int render_range(struct rs *st, const struct mustache_tpl *t, uint32_t i, uint32_t end,
			const struct scope *chain);

static int enter(struct rs *st)
{
	if (++st->nest > st->max_depth)
		return fail(st, "sections and partials nested deeper than %u (a recursive partial?)",
			    st->max_depth);
	return 0;
}

static int push(struct rs *st, json_t *v)
{
	if (st->depth >= MAX_STACK)
		return fail(st, "context stack deeper than %d", MAX_STACK);
	st->pos[st->depth].kind = 0;
	st->stack[st->depth++] = v;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {{#obj.*}}: the body once per member, in the order of their names, with
 * the member's value as context and its name as {{*}}. */
static int iterate_object(struct rs *st, const struct mustache_tpl *t, uint32_t i, json_t *obj,
			  const struct scope *chain)
{
	size_t n = json_object_size(obj), k = 0;
	const char **keys = malloc((n ? n : 1) * sizeof *keys);
	const char *key;
	json_t *v;
	int rc = 0;

	if (!keys)
		return fail(st, "out of memory");
	json_object_foreach(obj, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof *keys, cmp_key);
	for (k = 0; k < n && rc == 0; k++) {
		if (++st->steps > st->max_steps) {
			rc = fail(st, "render stopped after %lu steps", st->o->max_steps);
			break;
		}
		if (push(st, json_object_get(obj, keys[k])) < 0) {
			rc = -1;
			break;
		}
		st->pos[st->depth - 1] = (struct pos){ keys[k], (uint32_t)k, (uint32_t)n, 2 };
		rc = render_range(st, t, i + 1, t->nodes[i].next, chain);
		st->depth--;
	}
	free(keys);
	return rc;
}

static int section(struct rs *st, const struct mustache_tpl *t, uint32_t i,
		   const struct scope *chain)
{
	const struct mu_node *nd = &t->nodes[i];
	struct val val;
	int rc = 0;

	if (lookup(st, t, &t->names[nd->a], &val, 0) < 0)
		return -1;
	if (enter(st) < 0) {
		release(st, &val);
		return -1;
	}
	if (t->names[nd->a].iter && json_is_object(val.v)) {
		if (nd->op == MU_SECTION)
			rc = iterate_object(st, t, i, val.v, chain);
		else if (json_object_size(val.v) == 0)
			rc = render_range(st, t, i + 1, nd->next, chain);
	} else if (nd->op == MU_INVERTED) {
		if (!truthy(val.v))
			rc = render_range(st, t, i + 1, nd->next, chain);
	} else if (truthy(val.v)) {
		if (json_is_array(val.v)) {
			size_t n = json_array_size(val.v);

			for (size_t k = 0; k < n && rc == 0; k++) {
				/* Each pass counts, even over an empty body. */
				if (++st->steps > st->max_steps) {
					rc = fail(st, "render stopped after %lu steps", st->o->max_steps);
					break;
				}
				if (push(st, json_array_get(val.v, k)) < 0) {
					rc = -1;
					break;
				}
				st->pos[st->depth - 1].kind = 1;
				st->pos[st->depth - 1].idx = (uint32_t)k;
				st->pos[st->depth - 1].n = (uint32_t)n;
				rc = render_range(st, t, i + 1, nd->next, chain);
				st->depth--;
			}
		} else if ((rc = push(st, val.v)) == 0) {
			rc = render_range(st, t, i + 1, nd->next, chain);
			st->depth--;
		}
	}
	st->nest--;
	release(st, &val);
	return rc;
}

/* Saves the indentation frame and starts a new one: prefix extended by
 * add (len bytes), strip leading blanks per line. */
struct frame { size_t ind_len; uint32_t strip; };

static int frame_push(struct rs *st, struct frame *f, const char *add, size_t len, uint32_t strip)
{
	f->ind_len = st->ind_len;
	f->strip = st->strip;
	if (len) {
		st->indent.len = st->ind_len;
		st->indent.limit = MAX_INDENT;
		if (buf_append(&st->indent, add, len) < 0)
			return fail(st, "indentation: %s", errno == EFBIG ?
				    "nested partials indent by more than 1 MiB" : strerror(errno));
		st->ind_len += len;
	}
	st->strip = strip;
	st->strip_left = strip;
	return 0;
}

static void frame_pop(struct rs *st, const struct frame *f)
{
	st->ind_len = f->ind_len;
	st->strip = f->strip;
	st->strip_left = st->at_bol ? st->strip : 0;
}

/* The template a partial or parent tag names (looked up when dynamic);
 * *pt NULL when there is none. */
static int resolve_partial(struct rs *st, const struct mustache_tpl *t, const struct mu_node *nd,
			   const struct mustache_tpl **pt)
{
	const char *name = tag_name(t, nd);
	size_t len = t->names[nd->a].len;
	struct val val = { NULL, NULL, 0 };
	int rc;

	*pt = NULL;
	if (nd->dynamic) {
		if (lookup(st, t, &t->names[nd->a], &val, 0) < 0)
			return -1;
		if (!json_is_string(val.v)) {
			release(st, &val);
			return 0;
		}
		name = json_string_value(val.v);
		len = json_string_length(val.v);
	}
	if (!st->env) {
		if (st->o->strict)
			rc = fail(st, "partial \"%s\" not found (no partials configured)", name);
		else
			rc = 0;
	} else {
		rc = mu_env_partial(st->env, name, len, st->o->strict, t->name, nd->line, nd->col,
				    pt, st->err);
	}
	release(st, &val);
	return rc;
}

static int partial(struct rs *st, const struct mustache_tpl *t, uint32_t i,
		   const struct scope *chain)
{
	const struct mu_node *nd = &t->nodes[i];
	const struct mustache_tpl *pt;
	struct scope sc;
	struct frame f;
	int rc;

	if (resolve_partial(st, t, nd, &pt) < 0)
		return -1;
	if (!pt)
		return 0;
	if (enter(st) < 0)
		return -1;
	if (nd->op == MU_PARENT) {
		sc.t = t;
		sc.node = i;
		sc.outer = chain;
		chain = &sc;
	}
	if (frame_push(st, &f, t->pool + nd->ind, nd->ind_len, 0) < 0) {
		st->nest--;
		return -1;
	}
	rc = render_range(st, pt, 0, pt->nnodes, chain);
	frame_pop(st, &f);
	st->nest--;
	return rc;
}

/* A block where it stands: the outermost argument for its name, if any
 * parent tag passed one, else its own content. */
static int block(struct rs *st, const struct mustache_tpl *t, uint32_t i,
		 const struct scope *chain)
{
	const struct mu_node *nd = &t->nodes[i];
	const struct mu_name *nm = &t->names[nd->a];
	const char *name = t->pool + nm->full;
	const struct scope *found = NULL;
	uint32_t arg = 0;
	struct frame f;
	const struct mu_node *an;
	size_t skip;
	int rc;

	for (const struct scope *c = chain; c; c = c->outer) {
		const struct mu_node *p = &c->t->nodes[c->node];

		for (uint32_t k = c->node + 1; k < p->next; k = c->t->nodes[k].next) {
			const struct mu_node *b = &c->t->nodes[k];
			const struct mu_name *bn = &c->t->names[b->a];

			if (b->op == MU_BLOCK && bn->len == nm->len &&
			    memcmp(c->t->pool + bn->full, name, nm->len) == 0) {
				found = c;
				arg = k;
				break;
			}
		}
	}
	if (enter(st) < 0)
		return -1;
	if (!found) {
		rc = render_range(st, t, i + 1, nd->next, chain);
		st->nest--;
		return rc;
	}
	an = &found->t->nodes[arg];
	skip = st->strip < nd->ind_len ? st->strip : nd->ind_len;
	if (frame_push(st, &f, t->pool + nd->ind + skip, nd->ind_len - skip, an->strip) < 0) {
		st->nest--;
		return -1;
	}
	rc = render_range(st, found->t, arg + 1, an->next, found->outer);
	frame_pop(st, &f);
	st->nest--;
	return rc;
}

static int render_range(struct rs *st, const struct mustache_tpl *t, uint32_t i, uint32_t end,
			const struct scope *chain)
{
	while (i < end) {
		const struct mu_node *nd = &t->nodes[i];

		st->at_t = t;
		st->at_nd = nd;
		if (++st->steps > st->max_steps)
			return fail(st, "render stopped after %lu steps", st->o->max_steps);
		if (nd->op == MU_TEXT && !st->ind_len && !st->strip && !st->strip_left) {
			if (app(st, t->pool + nd->a, nd->b) < 0)
				return -1;
			st->at_bol = t->pool[nd->a + nd->b - 1] == '\n';
			i++;
			continue;
		}
		switch (nd->op) {
		case MU_TEXT:
			if (out_text(st, t->pool + nd->a, nd->b) < 0)
				return -1;
			break;
		case MU_VAR:
		case MU_RAW:
			if (interpolate(st, t, nd) < 0)
				return -1;
			break;
		case MU_SECTION:
		case MU_INVERTED:
			if (section(st, t, i, chain) < 0)
				return -1;
			break;
		case MU_PARTIAL:
		case MU_PARENT:
			if (partial(st, t, i, chain) < 0)
				return -1;
			break;
		case MU_BLOCK:
			if (block(st, t, i, chain) < 0)
				return -1;
			break;
		}
		i = nd->next;
	}
	return 0;
}

int mustache_render(struct mustache_env *env, const struct mustache_tpl *t, json_t *data,
		    const struct mustache_opts *opts, struct buf *out,
		    struct lg_error *err)
{
	struct mustache_opts def;
	struct rs *st;
	int rc;

	if (!opts) {
		mustache_opts_init(&def);
		opts = &def;
	}
	/* The state holds the context stack: on the heap, not the C stack. */
	st = calloc(1, sizeof *st);
	if (!st)
		return mu_err(err, t->name, 0, 0, "out of memory");
	st->env = env;
	st->o = opts;
	st->out = out;
	st->out_limit = out->len + opts->max_output < out->len ? (size_t)-1 : out->len + opts->max_output;
	st->err = err;
	st->max_steps = opts->max_steps;
	/* The C stack bounds recursion whatever the caller asks. */
	st->max_depth = opts->max_depth < MAX_DEPTH ? opts->max_depth : MAX_DEPTH;
	st->at_bol = 1;
	st->at_t = t;
	if (data)
		st->stack[st->depth++] = data;
	rc = render_range(st, t, 0, t->nnodes, NULL);
	buf_free(&st->indent);
	buf_free(&st->dyn);
	free(st);
	return rc;
}
