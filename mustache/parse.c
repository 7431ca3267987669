/* mustache/parse: compiles Mustache source into the flat node array of
 * mustache/internal.h: tags and delimiters, nesting checks, standalone lines. */
#include "mustache/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Token kinds beyond enum mu_op, for tags that make no node. */
enum { TK_COMMENT = 16, TK_DELIM, TK_CLOSE };

struct tok {
	uint8_t kind;          /* enum mu_op or TK_* */
	uint8_t dynamic;
	uint8_t standalone;
	uint8_t removed;       /* TEXT swallowed by a standalone line */
	uint8_t closes_parent; /* TK_CLOSE of a {{<parent}} */
	uint32_t off, len;     /* TEXT: the text; tags: the name as written */
	uint32_t line, col;
	uint32_t linestart;    /* source offset of the tag's line */
	uint32_t ind, ind_len; /* standalone tags: the whitespace before them (source) */
};

struct parser {
	const char *name;
	const char *src;
	size_t len;
	struct lg_error *err;
	struct tok *toks;
	size_t ntoks, captoks;
	struct mustache_tpl *t;
	size_t capnodes, capnames, capsegs, cappool, capfilters;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int nomem(struct parser *ps)
{
	return mu_err(ps->err, ps->name, 0, 0, "out of memory");
}

static struct tok *tok_push(struct parser *ps, int kind, size_t off, size_t len)
{
	struct tok *k;

	if (grow((void **)&ps->toks, &ps->captoks, ps->ntoks + 1, sizeof *ps->toks) < 0)
		return NULL;
	k = &ps->toks[ps->ntoks++];
	memset(k, 0, sizeof *k);
	k->kind = (uint8_t)kind;
	k->off = (uint32_t)off;
	k->len = (uint32_t)len;
	return k;
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Text between tags becomes one token per line so that standalone lines can
 * be found token by token; each token ends with its '\n'. */
static int push_text(struct parser *ps, size_t from, size_t to, unsigned *line, size_t *linestart)
{
	while (from < to) {
		const char *nl = memchr(ps->src + from, '\n', to - from);
		size_t end = nl ? (size_t)(nl - ps->src) + 1 : to;

		if (!tok_push(ps, MU_TEXT, from, end - from))
			return nomem(ps);
		if (nl) {
			(*line)++;
			*linestart = end;
		}
		from = end;
	}
	return 0;
}

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* Where the path of a name ends: at the first '|' (filters) or test
 * operator ('=', '<', '>') outside double quotes.  The '=' of a "~tag="
 * filter in a data name belongs to the path.  *test is where the operator
 * is (n if none), *pipe where the filters begin (*test if none). */
static size_t path_end(const char *s, size_t n, size_t *pipe, size_t *test)
{
	int q = 0, br = 0;

	*pipe = *test = n;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			q = !q;
		} else if (q) {
			continue;
		} else if (s[i] == '[' || s[i] == ']') {
			br = s[i] == '[';
		} else if (br) {
			continue;
		} else if (s[i] == '|' && *pipe == n) {
			*pipe = i;
		} else if (s[i] == '=' || s[i] == '<' || s[i] == '>') {
			if (s[i] == '=' && *pipe == n && i >= 4 && memcmp(s + i - 4, "~tag", 4) == 0)
				continue;
			*test = i;
			break;
		}
	}
	if (*pipe > *test)
		*pipe = *test;
	return *pipe;
}

/* Checks a name: not empty, no whitespace (but in a quoted argument),
 * dotted segments of its path not empty.  "." alone is the implicit
 * iterator. */
static int check_name(struct parser *ps, const char *s, size_t n, unsigned line, unsigned col,
		      int dotted)
{
	size_t pipe, test, p;
	int q = 0;

	if (n == 0)
		return mu_err(ps->err, ps->name, line, col, "empty tag name");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		if ((!q && is_space(s[i])) || s[i] == '\0')
			return mu_err(ps->err, ps->name, line, col,
				      "tag name \"%.*s\" contains whitespace", (int)(n > 64 ? 64 : n), s);
	}
	if (!dotted || (n == 1 && s[0] == '.'))
		return 0;
	p = path_end(s, n, &pipe, &test);
	if (p == 0)
		return mu_err(ps->err, ps->name, line, col, "tag \"%.*s\" names no value",
			      (int)(n > 64 ? 64 : n), s);
	if (p == 1 && s[0] == '.')
		return 0;
	if (memchr(s, '[', p))
		return 0;   /* checked when compiled */
	if (s[0] == '.' || s[p - 1] == '.' || memmem(s, p, "..", 2))
		return mu_err(ps->err, ps->name, line, col,
			      "tag name \"%.*s\" has an empty segment", (int)(n > 64 ? 64 : n), s);
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

struct open { size_t tok; };

/* Splits the source into tokens, applying delimiter changes and checking
 * that sections nest. */
static int tokenize(struct parser *ps)
{
	const char *src = ps->src;
	size_t len = ps->len, pos = 0, linestart = 0;
	unsigned line = 1;
	const char *otag = "{{", *ctag = "}}";
	size_t olen = 2, clen = 2;
	size_t stack[MUSTACHE_MAX_NESTING];
	size_t depth = 0;

	for (;;) {
		const char *o = find(src + pos, len - pos, otag, olen);
		size_t at, p, cstart, after;
		const char *c, *content;
		size_t clen_total, n;
		int sigil = 0, kind;
		unsigned tline, tcol;
		struct tok *k;

		if (!o)
			break;
		at = (size_t)(o - src);
		if (push_text(ps, pos, at, &line, &linestart) < 0)
			return -1;
		tline = line;
		tcol = (unsigned)(at - linestart + 1);
		p = at + olen;
		if (p < len && strchr("#^/>!=&{<$", src[p]) && src[p] != '\0')
			sigil = src[p++];
		/* The closing sequence: "}" + ctag for {{{, "=" + ctag for {{=. */
		if (sigil == '{' || sigil == '=') {
			char want = sigil == '{' ? '}' : '=';
			size_t q = p;

			c = NULL;
			while (q < len) {
				const char *e = find(src + q, len - q, ctag, clen);

				if (!e)
					break;
				if ((size_t)(e - src) > p && e[-1] == want) {
					c = e - 1;
					break;
				}
				q = (size_t)(e - src) + 1;
			}
			clen_total = clen + 1;
		} else {
			c = find(src + p, len - p, ctag, clen);
			clen_total = clen;
		}
		if (!c)
			return mu_err(ps->err, ps->name, tline, tcol, "unclosed tag: no \"%s%.*s\" after \"%.*s\"",
				      sigil == '{' ? "}" : sigil == '=' ? "=" : "", (int)clen, ctag,
				      (int)((len - at) > 20 ? 20 : (len - at)), o);
		cstart = (size_t)(c - src);
		after = cstart + clen_total;
		content = src + p;
		n = cstart - p;
		/* Newlines inside a tag (comments mostly) count for positions. */
		for (size_t i = at; i < after; i++)
			if (src[i] == '\n') {
				line++;
				linestart = i + 1;
			}
		pos = after;
		if (sigil == '!') {
			if (!(k = tok_push(ps, TK_COMMENT, at, 0)))
				return nomem(ps);
			k->line = tline;
			k->col = tcol;
			continue;
		}
		trim(&content, &n);
		if (sigil == '=') {
			const char *a = content, *b;
			size_t al = 0, bl;

			while (al < n && !is_space(a[al]))
				al++;
			b = a + al;
			bl = n - al;
			trim(&b, &bl);
			if (al == 0 || bl == 0)
				return mu_err(ps->err, ps->name, tline, tcol,
					      "delimiter change needs two delimiters, as in {{=<%% %%>=}}");
			for (size_t i = 0; i < bl; i++)
				if (is_space(b[i]))
					return mu_err(ps->err, ps->name, tline, tcol,
						      "delimiter change needs exactly two delimiters");
			if (memchr(a, '=', al) || memchr(b, '=', bl))
				return mu_err(ps->err, ps->name, tline, tcol,
					      "delimiters may not contain '='");
			otag = a;
			olen = al;
			ctag = b;
			clen = bl;
			if (!(k = tok_push(ps, TK_DELIM, at, 0)))
				return nomem(ps);
			k->line = tline;
			k->col = tcol;
			continue;
		}
		switch (sigil) {
		case '#': kind = MU_SECTION; break;
		case '^': kind = MU_INVERTED; break;
		case '/': kind = TK_CLOSE; break;
		case '>': kind = MU_PARTIAL; break;
		case '<': kind = MU_PARENT; break;
		case '$': kind = MU_BLOCK; break;
		case '&': case '{': kind = MU_RAW; break;
		default: kind = MU_VAR; break;
		}
		{
			const char *nm = content;
			size_t nl = n;
			int dyn = 0;

			if ((kind == MU_PARTIAL || kind == MU_PARENT) && nl && nm[0] == '*') {
				dyn = 1;
				nm++;
				nl--;
				trim(&nm, &nl);
			} else if (kind == TK_CLOSE && nl && nm[0] == '*' && depth &&
				   ps->toks[stack[depth - 1]].dynamic) {
				nm++;
				nl--;
				trim(&nm, &nl);
			}
			if (check_name(ps, nm, nl, tline, tcol,
				       dyn || (kind != MU_PARTIAL && kind != MU_PARENT &&
					       kind != MU_BLOCK && kind != TK_CLOSE)) < 0)
				return -1;
			if (!(k = tok_push(ps, kind, (size_t)(nm - src), nl)))
				return nomem(ps);
			k->dynamic = (uint8_t)dyn;
			k->line = tline;
			k->col = tcol;
			k->linestart = (uint32_t)linestart;
			if (tline != line) /* a tag spanning lines: its own line start */
				k->linestart = (uint32_t)(at - (tcol - 1));
		}
		if (kind == MU_SECTION || kind == MU_INVERTED || kind == MU_PARENT || kind == MU_BLOCK) {
			if (depth == MUSTACHE_MAX_NESTING)
				return mu_err(ps->err, ps->name, tline, tcol,
					      "sections nested deeper than %d", MUSTACHE_MAX_NESTING);
			stack[depth++] = ps->ntoks - 1;
		} else if (kind == TK_CLOSE) {
			struct tok *cl = &ps->toks[ps->ntoks - 1], *op;

			if (depth == 0)
				return mu_err(ps->err, ps->name, tline, tcol,
					      "{{/%.*s}} closes nothing", (int)(cl->len > 64 ? 64 : cl->len),
					      src + cl->off);
			op = &ps->toks[stack[depth - 1]];
			if (op->len != cl->len || memcmp(src + op->off, src + cl->off, cl->len) != 0)
				return mu_err(ps->err, ps->name, tline, tcol,
					      "{{/%.*s}} does not match the section \"%.*s\" opened at %u:%u",
					      (int)(cl->len > 64 ? 64 : cl->len), src + cl->off,
					      (int)(op->len > 64 ? 64 : op->len), src + op->off,
					      op->line, op->col);
			cl->closes_parent = op->kind == MU_PARENT;
			depth--;
		}
	}
	if (depth) {
		struct tok *op = &ps->toks[stack[depth - 1]];

		return mu_err(ps->err, ps->name, op->line, op->col, "section \"%.*s\" is never closed",
			      (int)(op->len > 64 ? 64 : op->len), src + op->off);
	}
	return push_text(ps, pos, len, &line, &linestart);
}

/* Whitespace-only text, allowing the line's own "\n" or "\r\n" at its end. */
static int text_blank(const char *s, size_t n)
{
	if (n && s[n - 1] == '\n') {
		n--;
		if (n && s[n - 1] == '\r')
			n--;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_ws(s[i]))
			return 0;
	return 1;
}

/* A line holding only whitespace and one tag that prints nothing (section,
 * inverted, close, comment, delimiter, partial, parent, block) vanishes
 * whole.  Text inside a parent tag outside blocks is ignored, so a line with
 * a parent tag and other such tags (no partial) vanishes too. */
static void mark_standalone(struct parser *ps)
{
	size_t i = 0;

	while (i < ps->ntoks) {
		size_t j = i, ntags = 0, first_tag = (size_t)-1;
		int ok = 1, parent = 0, partial = 0;

		for (; j < ps->ntoks; j++) {
			struct tok *k = &ps->toks[j];

			if (k->kind == MU_TEXT) {
				if (!text_blank(ps->src + k->off, k->len))
					ok = 0;
				if (k->len && ps->src[k->off + k->len - 1] == '\n') {
					j++;
					break;
				}
				continue;
			}
			if (first_tag == (size_t)-1)
				first_tag = j;
			ntags++;
			if (k->kind == MU_VAR || k->kind == MU_RAW)
				ok = 0;
			if (k->kind == MU_PARENT || k->closes_parent)
				parent = 1;
			if (k->kind == MU_PARTIAL)
				partial = 1;
		}
		if (ok && ntags && (ntags == 1 || (parent && !partial))) {
			struct tok *ft = &ps->toks[first_tag];

			for (size_t m = i; m < j; m++) {
				struct tok *k = &ps->toks[m];

				if (k->kind == MU_TEXT)
					k->removed = 1;
				else
					k->standalone = 1;
			}
			if (first_tag > i && ps->toks[first_tag - 1].kind == MU_TEXT) {
				ft->ind = ps->toks[first_tag - 1].off;
				ft->ind_len = ps->toks[first_tag - 1].len;
			}
		}
		i = j;
	}
}

static int pool_add(struct parser *ps, const char *s, size_t n, uint32_t *off)
{
	struct mustache_tpl *t = ps->t;

	if (grow((void **)&t->pool, &ps->cappool, t->pool_len + n + 1, 1) < 0)
		return nomem(ps);
	*off = (uint32_t)t->pool_len;
	if (n)
		memcpy(t->pool + t->pool_len, s, n);
	t->pool_len += n;
	return 0;
}

/* Stores a name and its segments; segment pointers are fixed up at the end
 * because the pool may move. */
static int name_add(struct parser *ps, const char *s, size_t n, uint32_t *idx)
{
	struct mustache_tpl *t = ps->t;
	struct mu_name *nm;
	uint32_t off;

	if (grow((void **)&t->names, &ps->capnames, t->nnames + 1, sizeof *t->names) < 0)
		return nomem(ps);
	if (pool_add(ps, s, n, &off) < 0 || pool_add(ps, "", 1, &(uint32_t){0}) < 0)
		return -1;
	nm = &t->names[t->nnames];
	memset(nm, 0, sizeof *nm);
	nm->full = off;
	nm->len = (uint32_t)n;
	nm->seg = t->nsegs;
	nm->nseg = 0;
	if (!(n == 1 && s[0] == '.')) {
		size_t b = 0;

		while (b <= n) {
			const char *d = memchr(s + b, '.', n - b);
			size_t e = d ? (size_t)(d - s) : n;
			uint32_t so;

			if (grow((void **)&t->segs, &ps->capsegs, t->nsegs + 1, sizeof *t->segs) < 0)
				return nomem(ps);
			if (pool_add(ps, s + b, e - b, &so) < 0 || pool_add(ps, "", 1, &(uint32_t){0}) < 0)
				return -1;
			/* Offset for now; made a pointer once the pool is final. */
			t->segs[t->nsegs].s = (const char *)(uintptr_t)so;
			t->segs[t->nsegs].len = e - b;
			t->nsegs++;
			t->names[t->nnames].nseg++;
			b = e + 1;
		}
	}
	*idx = t->nnames++;
	return 0;
}

/* A filter argument at s[*i..end): "quoted" or bare up to ':' or '|'. */
static int filter_arg(struct parser *ps, const char *s, size_t *i, size_t end,
		      uint32_t *off, uint32_t *len)
{
	size_t b = *i, e;

	if (b < end && s[b] == '"') {
		const char *q = memchr(s + b + 1, '"', end - b - 1);

		if (!q)
			return -1;
		e = (size_t)(q - s);
		*i = e + 1;
		b++;
	} else {
		for (e = b; e < end && s[e] != ':' && s[e] != '|'; e++)
			;
		*i = e;
	}
	for (size_t k = b; k < e; k++)
		if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
			return -1;
	*len = (uint32_t)(e - b);
	if (pool_add(ps, s + b, e - b, off) < 0 || pool_add(ps, "", 1, &(uint32_t){0}) < 0)
		return -2;
	return 0;
}

/* A format for |format: one conversion of %[-+ 0]*W?(.P)?[dxfs]. */
static int format_ok(const char *f, size_t n)
{
	size_t i = 0, d;

	if (n < 2 || f[0] != '%')
		return 0;
	for (i = 1; i < n && strchr("-+ 0", f[i]); i++)
		;
	for (d = 0; i < n && f[i] >= '0' && f[i] <= '9'; i++, d++)
		;
	if (d > 3)
		return 0;
	if (i < n && f[i] == '.') {
		for (i++, d = 0; i < n && f[i] >= '0' && f[i] <= '9'; i++, d++)
			;
		if (d == 0 || d > 2)
			return 0;
	}
	return i + 1 == n && strchr("dxfs", f[i]);
}

static const struct { const char *name; uint8_t fn, nargs; } filter_fns[] = {
	{ "lower", MF_LOWER, 0 }, { "upper", MF_UPPER, 0 }, { "replace", MF_REPLACE, 2 },
	{ "trimprefix", MF_TRIMPREFIX, 1 }, { "trimsuffix", MF_TRIMSUFFIX, 1 },
	{ "split", MF_SPLIT, 1 }, { "join", MF_JOIN, 1 }, { "format", MF_FORMAT, 1 },
	{ "default", MF_DEFAULT, 1 },
};

/* Parses the filters in s[from..to) into t->filters for name idx. */
static int filters_add(struct parser *ps, const char *s, size_t from, size_t to, uint32_t idx,
		       unsigned line, unsigned col)
{
	struct mustache_tpl *t = ps->t;
	size_t i = from;

	t->names[idx].filt = t->nfilters;
	while (i < to) {
		struct mu_filter *f;
		size_t b = ++i, k;
		uint32_t *args[2];
		uint32_t *lens[2];
		unsigned na = 0;

		while (i < to && s[i] >= 'a' && s[i] <= 'z')
			i++;
		for (k = 0; k < sizeof filter_fns / sizeof filter_fns[0]; k++)
			if (strlen(filter_fns[k].name) == i - b &&
			    memcmp(filter_fns[k].name, s + b, i - b) == 0)
				break;
		if (k == sizeof filter_fns / sizeof filter_fns[0])
			return mu_err(ps->err, ps->name, line, col,
				      "unknown filter \"|%.*s\" (lower, upper, replace, trimprefix, "
				      "trimsuffix, split, join, format, default)",
				      (int)(i - b > 32 ? 32 : i - b), s + b);
		if (grow((void **)&t->filters, &ps->capfilters, t->nfilters + 1, sizeof *t->filters) < 0)
			return nomem(ps);
		f = &t->filters[t->nfilters];
		memset(f, 0, sizeof *f);
		f->fn = filter_fns[k].fn;
		args[0] = &f->a;
		lens[0] = &f->alen;
		args[1] = &f->b;
		lens[1] = &f->blen;
		while (i < to && s[i] == ':') {
			int rc;

			i++;
			if (na == 2)
				na = 3;
			else if ((rc = filter_arg(ps, s, &i, to, args[na], lens[na])) == -2)
				return -1;
			else if (rc < 0)
				return mu_err(ps->err, ps->name, line, col,
					      "|%s: bad argument (an unclosed quote or a control character)",
					      filter_fns[k].name);
			else
				na++;
			if (na > 2)
				break;
		}
		if (na != filter_fns[k].nargs)
			return mu_err(ps->err, ps->name, line, col, "|%s takes %u argument%s",
				      filter_fns[k].name, filter_fns[k].nargs,
				      filter_fns[k].nargs == 1 ? "" : "s");
		if (f->fn == MF_FORMAT && !format_ok(t->pool + f->a, f->alen))
			return mu_err(ps->err, ps->name, line, col,
				      "|format:%s: want one of %%d %%x %%f %%s with flags, width "
				      "and precision, as in %%5d or %%-20s or %%.2f", t->pool + f->a);
		if ((f->fn == MF_SPLIT) && f->alen == 0)
			return mu_err(ps->err, ps->name, line, col, "|split needs a separator");
		t->nfilters++;
		t->names[idx].nfilt++;
		if (i < to && s[i] != '|')
			return mu_err(ps->err, ps->name, line, col,
				      "filter \"%.*s\": expected '|' or ':'", (int)(to - from), s + from);
	}
	return 0;
}

static int name_add_expr(struct parser *ps, const char *s, size_t n, unsigned line, unsigned col,
			 uint32_t *idx);

/* Stores the name of a value tag (interpolation or section), with the
 * extensions it may carry: filters, a test, ".*", a position name, or
 * [ref] parts whose names follow it in t->names. */
static int name_add_expr(struct parser *ps, const char *s, size_t n, unsigned line, unsigned col,
			 uint32_t *idx)
{
	struct mustache_tpl *t = ps->t;
	size_t pipe, test, p;
	struct mu_name *nm;
	int iter = 0;

	if (n == 1 && s[0] == '.')
		return name_add(ps, s, n, idx);
	p = path_end(s, n, &pipe, &test);
	if (p == n && !memchr(s, '[', n) && !memchr(s, '*', n) && s[0] != '@' &&
	    !(n >= 7 && memcmp(s + n - 7, ".length", 7) == 0))
		return name_add(ps, s, n, idx);
	if (p >= 2 && s[p - 1] == '*' && s[p - 2] == '.') {
		iter = 1;
		p -= 2;
	}
	if (memchr(s, '[', p)) {
		/* [ref] parts: the path is kept whole; each ref is a name. */
		unsigned nref = 0;
		uint32_t ref;
		size_t i = 0;

		if (name_add(ps, "", 0, idx) < 0)
			return -1;
		t->names[*idx].nseg = 0;
		t->nsegs -= 1;  /* the empty segment name_add made */
		if (pool_add(ps, s, p, &t->names[*idx].full) < 0 ||
		    pool_add(ps, "", 1, &(uint32_t){0}) < 0)
			return -1;
		t->names[*idx].len = (uint32_t)p;
		while (i < p) {
			const char *o = memchr(s + i, '[', p - i), *c;

			if (!o)
				break;
			c = memchr(o, ']', (size_t)(s + p - o));
			if (!c || c == o + 1 || memchr(o + 1, '[', (size_t)(c - o - 1)) || nref == 16)
				return mu_err(ps->err, ps->name, line, col,
					      "name \"%.*s\": a part in [] must be a name, as in "
					      "key.service/[name]/maxconn (at most 16)",
					      (int)(p > 64 ? 64 : p), s);
			if (check_name(ps, o + 1, (size_t)(c - o - 1), line, col, 1) < 0 ||
			    name_add_expr(ps, o + 1, (size_t)(c - o - 1), line, col, &ref) < 0)
				return -1;
			nref++;
			i = (size_t)(c - s) + 1;
		}
		t->names[*idx].dyn = 1;
		t->names[*idx].nref = (uint8_t)nref;
	} else if (p == 1 && s[0] == '.') {
		if (name_add(ps, s, 1, idx) < 0)
			return -1;
	} else {
		if (p == 0 || s[0] == '.' || s[p - 1] == '.' || memmem(s, p, "..", 2))
			return mu_err(ps->err, ps->name, line, col,
				      "tag name \"%.*s\" has an empty segment", (int)(n > 64 ? 64 : n), s);
		if (name_add(ps, s, p, idx) < 0)
			return -1;
	}
	nm = &t->names[*idx];
	nm->ext = 1;
	nm->iter = (uint8_t)iter;
	if (!nm->dyn && nm->nseg >= 2 && p >= 7 && memcmp(s + p - 7, ".length", 7) == 0)
		nm->length = 1;
	if (!nm->dyn && p == 1 && s[0] == '*')
		nm->special = MS_KEY;
	else if (!nm->dyn && p == 6 && memcmp(s, "@index", 6) == 0)
		nm->special = MS_INDEX;
	else if (!nm->dyn && p == 6 && memcmp(s, "@first", 6) == 0)
		nm->special = MS_FIRST;
	else if (!nm->dyn && p == 5 && memcmp(s, "@last", 5) == 0)
		nm->special = MS_LAST;
	if (pipe < test && filters_add(ps, s, pipe, test, *idx, line, col) < 0)
		return -1;
	if (test < n) {
		size_t v = test + 1;
		uint8_t op;

		if (s[test] == '=')
			op = MT_EQ;
		else if (v < n && s[v] == '=')
			op = s[test] == '<' ? MT_LE : MT_GE, v++;
		else
			op = s[test] == '<' ? MT_LT : MT_GT;
		nm = &t->names[*idx];
		nm->test = op;
		if (v < n && s[v] == '!') {
			nm->neg = 1;
			v++;
		}
		if (n - v >= 2 && s[v] == '"' && s[n - 1] == '"') {
			v++;
			n--;
		}
		for (size_t k = v; k < n; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				return mu_err(ps->err, ps->name, line, col, "a control character in a test");
		if (pool_add(ps, s + v, n - v, &nm->val) < 0 || pool_add(ps, "", 1, &(uint32_t){0}) < 0)
			return -1;
		t->names[*idx].vlen = (uint32_t)(n - v);
	}
	return 0;
}

static struct mu_node *node_push(struct parser *ps, int op)
{
	struct mustache_tpl *t = ps->t;
	struct mu_node *nd;

	if (t->nnodes >= UINT32_MAX / 2 ||
	    grow((void **)&t->nodes, &ps->capnodes, t->nnodes + 1, sizeof *t->nodes) < 0)
		return NULL;
	nd = &t->nodes[t->nnodes++];
	memset(nd, 0, sizeof *nd);
	nd->op = (uint8_t)op;
	nd->next = t->nnodes;
	return nd;
}

/* Leading spaces and tabs of the line starting at s. */
static size_t lead_ws(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_ws(s[i]))
		i++;
	return i;
}

/* Turns the token list into nodes: adjacent text merges into one node (its
 * bytes copied to the pool), sections get their end index. */
static int build(struct parser *ps)
{
	struct mustache_tpl *t = ps->t;
	uint32_t open[MUSTACHE_MAX_NESTING];
	size_t depth = 0;
	struct mu_node *text = NULL;

	for (size_t i = 0; i < ps->ntoks; i++) {
		struct tok *k = &ps->toks[i];
		struct mu_node *nd;
		uint32_t off;

		if (k->kind == MU_TEXT) {
			if (k->removed || k->len == 0)
				continue;
			if (pool_add(ps, ps->src + k->off, k->len, &off) < 0)
				return -1;
			if (text && text->a + text->b == off) {
				text->b += k->len;
				continue;
			}
			if (!(nd = node_push(ps, MU_TEXT)))
				return nomem(ps);
			nd->a = off;
			nd->b = k->len;
			nd->line = k->line;
			text = nd;
			continue;
		}
		if (k->kind == TK_COMMENT || k->kind == TK_DELIM)
			continue;
		text = NULL;
		if (k->kind == TK_CLOSE) {
			uint32_t o = open[--depth];

			t->nodes[o].next = t->nnodes;
			if (t->nodes[o].op == MU_BLOCK) {
				/* Where an argument for this block expands: the
				 * indentation of its default content's first line,
				 * else of the tag when it stands alone, else of the
				 * tag's line. */
				struct mu_node *b = &t->nodes[o];

				if (b->standalone && o + 1 < t->nnodes && t->nodes[o + 1].op == MU_TEXT) {
					b->ind = t->nodes[o + 1].a;
					b->ind_len = (uint32_t)lead_ws(t->pool + b->ind, t->nodes[o + 1].b);
				}
				if (b->standalone && o + 1 < t->nnodes && t->nodes[o + 1].op == MU_TEXT)
					b->strip = b->ind_len;
			}
			continue;
		}
		if (!(nd = node_push(ps, k->kind)))
			return nomem(ps);
		nd->dynamic = k->dynamic;
		nd->standalone = k->standalone;
		nd->line = k->line;
		nd->col = k->col;
		if ((k->kind == MU_VAR || k->kind == MU_RAW || k->kind == MU_SECTION ||
		     k->kind == MU_INVERTED) && !k->dynamic) {
			if (name_add_expr(ps, ps->src + k->off, k->len, k->line, k->col, &nd->a) < 0)
				return -1;
		} else if (name_add(ps, ps->src + k->off, k->len, &nd->a) < 0) {
			return -1;
		}
		if (k->standalone && k->ind_len) {
			if (pool_add(ps, ps->src + k->ind, k->ind_len, &nd->ind) < 0)
				return -1;
			nd->ind_len = k->ind_len;
		} else if (k->kind == MU_BLOCK && !k->standalone) {
			size_t ws = lead_ws(ps->src + k->linestart, ps->len - k->linestart);

			if (pool_add(ps, ps->src + k->linestart, ws, &nd->ind) < 0)
				return -1;
			nd->ind_len = (uint32_t)ws;
		}
		if (k->kind == MU_SECTION || k->kind == MU_INVERTED || k->kind == MU_PARENT ||
		    k->kind == MU_BLOCK)
			open[depth++] = t->nnodes - 1;
	}
	/* A block's strip and expansion indentation come from the pool, which
	 * is now final; segment offsets become pointers. */
	for (uint32_t i = 0; i < t->nsegs; i++)
		t->segs[i].s = t->pool + (uintptr_t)t->segs[i].s;
	return 0;
}

struct mustache_tpl *mustache_compile(const char *name, const char *src, size_t len,
				      struct lg_error *err)
{
	struct parser ps;
	struct mustache_tpl *t;

	if (!name)
		name = "template";
	memset(&ps, 0, sizeof ps);
	ps.name = name;
	ps.src = src ? src : "";
	ps.len = src ? len : 0;
	ps.err = err;
	if (ps.len > MUSTACHE_MAX_SOURCE) {
		mu_err(err, name, 0, 0, "template is larger than %zu bytes", MUSTACHE_MAX_SOURCE);
		return NULL;
	}
	t = calloc(1, sizeof *t);
	if (!t || !(t->name = strdup(name))) {
		free(t);
		mu_err(err, name, 0, 0, "out of memory");
		return NULL;
	}
	ps.t = t;
	if (tokenize(&ps) < 0)
		goto err;
	mark_standalone(&ps);
	if (build(&ps) < 0)
		goto err;
	if (!t->pool && pool_add(&ps, "", 0, &(uint32_t){0}) < 0)
		goto err;
	free(ps.toks);
	return t;
err:
	free(ps.toks);
	/* Segment pointers may still be offsets; mustache_free() does not read them. */
	mustache_free(t);
	return NULL;
}

void mustache_free(struct mustache_tpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->nodes);
	free(t->names);
	free(t->segs);
	free(t->filters);
	free(t->pool);
	free(t);
}

const char *mustache_name(const struct mustache_tpl *t)
{
	return t->name;
}

void mustache_foreach_name(const struct mustache_tpl *t,
			   void (*fn)(void *ud, const char *name, int kind), void *ud)
{
	static const int sig[] = { 0, 0, '&', '#', '^', '>', '<', '$' };

	for (uint32_t i = 0; i < t->nnodes; i++) {
		const struct mu_node *nd = &t->nodes[i];

		if (nd->op == MU_TEXT)
			continue;
		if ((nd->op == MU_PARTIAL || nd->op == MU_PARENT || nd->op == MU_BLOCK) &&
		    !nd->dynamic)
			continue;
		fn(ud, t->pool + t->names[nd->a].full, sig[nd->op]);
		for (uint32_t r = 0; r < t->names[nd->a].nref; r++)   /* its [ref] parts */
			fn(ud, t->pool + t->names[nd->a + 1 + r].full, 0);
	}
}

void mustache_foreach_tag(const struct mustache_tpl *t,
			  void (*fn)(void *ud, const struct mustache_tag *tag), void *ud)
{
	static const int sig[] = { 0, 0, '&', '#', '^', '>', '<', '$' };
	uint32_t end[MUSTACHE_MAX_NESTING + 1];
	uint8_t ctx[MUSTACHE_MAX_NESTING + 1];   /* the level may give a context */
	unsigned depth = 0, contexts = 0;

	for (uint32_t i = 0; i < t->nnodes; i++) {
		const struct mu_node *nd = &t->nodes[i];
		struct mustache_tag tag;

		while (depth && i >= end[depth - 1])
			contexts -= ctx[--depth];
		if (nd->op == MU_TEXT)
			continue;
		if (!((nd->op == MU_PARTIAL || nd->op == MU_PARENT || nd->op == MU_BLOCK) &&
		      !nd->dynamic)) {
			tag.name = t->pool + t->names[nd->a].full;
			tag.kind = sig[nd->op];
			tag.line = nd->line;
			tag.col = nd->col;
			tag.depth = depth;
			tag.contexts = contexts;
			tag.ref = 0;
			tag.built = t->names[nd->a].dyn;
			fn(ud, &tag);
			for (uint32_t r = 0; r < t->names[nd->a].nref; r++) {
				tag.name = t->pool + t->names[nd->a + 1 + r].full;
				tag.kind = 0;
				tag.ref = 1;
				tag.built = 0;
				fn(ud, &tag);
			}
		}
		if (nd->next > i + 1 && depth <= MUSTACHE_MAX_NESTING) {
			ctx[depth] = nd->op == MU_SECTION || nd->op == MU_PARENT;
			contexts += ctx[depth];
			end[depth++] = nd->next;
		}
	}
}
