/* hcl: a recursive-descent reader for the HCL subset of consul-template
 * configuration files; every error names the file, line and column. */
#include "legate/hcl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/file.h"

#define HCL_MAX_DEPTH 32
#define HCL_MAX_FILE  (1 << 20)

struct parser {
	const char *p;
	const char *line_start;
	int line;
	int depth;
	struct lg_error *err;
	const char *name;
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	snprintf(ps->err->source, sizeof ps->err->source, "%s", ps->name);
	ps->err->line = ps->line;
	ps->err->column = (int)(ps->p - ps->line_start) + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->text, sizeof ps->err->text, fmt, ap);
	va_end(ap);
	return -1;
}

static void newline(struct parser *ps)
{
	ps->line++;
	ps->line_start = ps->p + 1;
}

/* Skips blanks and comments; stops at a newline unless `nl` is set.
 * Returns -1 on an unterminated block comment. */
static int skip(struct parser *ps, int nl)
{
	for (;;) {
		char c = *ps->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
		} else if (c == '\n' && nl) {
			newline(ps);
			ps->p++;
		} else if (c == '#' || (c == '/' && ps->p[1] == '/')) {
			while (*ps->p && *ps->p != '\n')
				ps->p++;
		} else if (c == '/' && ps->p[1] == '*') {
			ps->p += 2;
			while (*ps->p && !(ps->p[0] == '*' && ps->p[1] == '/')) {
				if (*ps->p == '\n')
					newline(ps);
				ps->p++;
			}
			if (!*ps->p)
				return perr(ps, "unterminated /* comment");
			ps->p += 2;
		} else {
			return 0;
		}
	}
}

static int is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static struct hcl_node *node_new(enum hcl_type t, int line)
{
	struct hcl_node *n = calloc(1, sizeof *n);
	if (n) {
		n->type = t;
		n->line = line;
	}
	return n;
}

void hcl_free(struct hcl_node *n)
{
	while (n) {
		struct hcl_node *next = n->next;
		free(n->key);
		free(n->str);
		hcl_free(n->child);
		free(n);
		n = next;
	}
}

const char *hcl_type_name(enum hcl_type t)
{
	switch (t) {
	case HCL_STRING: return "a string";
	case HCL_NUMBER: return "a number";
	case HCL_BOOL:   return "a boolean";
	case HCL_LIST:   return "a list";
	case HCL_BLOCK:  return "a block";
	}
	return "?";
}

static int parse_members(struct parser *ps, struct hcl_node *block, char close);
static struct hcl_node *parse_value(struct parser *ps);

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static struct hcl_node *parse_string(struct parser *ps)
{
	struct buf b = BUF_INIT;
	struct hcl_node *n;
	int line = ps->line;

	ps->p++;  /* opening quote */
	for (;;) {
		char c = *ps->p;
		if (c == '\0' || c == '\n') {
			perr(ps, "unterminated string");
			goto err;
		}
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c == '\\') {
			char e = ps->p[1], out;
			switch (e) {
			case 'n': out = '\n'; break;
			case 't': out = '\t'; break;
			case 'r': out = '\r'; break;
			case '"': out = '"'; break;
			case '\\': out = '\\'; break;
			case 'x': {
				int h = hexval(ps->p[2]), l = h < 0 ? -1 : hexval(ps->p[3]);
				if (h < 0 || l < 0) {
					perr(ps, "bad \\x escape in string");
					goto err;
				}
				out = (char)(h * 16 + l);
				ps->p += 2;
				break;
			}
			default:
				perr(ps, "unknown escape \\%c in string", e ? e : '0');
				goto err;
			}
			if (buf_putc(&b, out) < 0)
				goto oom;
			ps->p += 2;
			continue;
		}
		if (buf_putc(&b, c) < 0)
			goto oom;
		ps->p++;
	}
	n = node_new(HCL_STRING, line);
	if (!n)
		goto oom;
	n->str = buf_steal(&b, NULL);
	return n;
oom:
	perr(ps, "out of memory");
err:
	buf_free(&b);
	return NULL;
}

/* <<EOF ... EOF, or <<-EOF with the closing marker indented. */
static struct hcl_node *parse_heredoc(struct parser *ps)
{
	struct buf b = BUF_INIT;
	struct hcl_node *n;
	const char *m;
	size_t mlen;
	int line = ps->line;

	ps->p += 2;
	if (*ps->p == '-')
		ps->p++;
	m = ps->p;
	while (is_ident(*ps->p))
		ps->p++;
	mlen = (size_t)(ps->p - m);
	if (mlen == 0 || *ps->p != '\n') {
		perr(ps, "a heredoc marker must follow << and end the line");
		return NULL;
	}
	newline(ps);
	ps->p++;
	for (;;) {
		const char *ls = ps->p, *t = ps->p, *eol;
		if (!*ls) {
			perr(ps, "heredoc not closed by %.*s", (int)mlen, m);
			goto err;
		}
		while (*t == ' ' || *t == '\t')
			t++;
		eol = strchr(ls, '\n');
		if (!eol)
			eol = ls + strlen(ls);
		if ((size_t)(eol - t) == mlen && memcmp(t, m, mlen) == 0) {
			ps->p = eol;
			break;
		}
		if (buf_append(&b, ls, (size_t)(eol - ls)) < 0 || (*eol && buf_putc(&b, '\n') < 0)) {
			perr(ps, "out of memory");
			goto err;
		}
		ps->p = eol;
		if (*eol) {
			newline(ps);
			ps->p++;
		}
	}
	n = node_new(HCL_STRING, line);
	if (!n) {
		perr(ps, "out of memory");
		goto err;
	}
	n->str = buf_steal(&b, NULL);
	return n;
err:
	buf_free(&b);
	return NULL;
}

static struct hcl_node *parse_list(struct parser *ps)
{
	struct hcl_node *list = node_new(HCL_LIST, ps->line), **tail;

	if (!list) {
		perr(ps, "out of memory");
		return NULL;
	}
	tail = &list->child;
	ps->p++;
	for (;;) {
		if (skip(ps, 1) < 0)
			goto err;
		if (*ps->p == ']') {
			ps->p++;
			return list;
		}
		struct hcl_node *v = parse_value(ps);
		if (!v)
			goto err;
		*tail = v;
		tail = &v->next;
		if (skip(ps, 1) < 0)
			goto err;
		if (*ps->p == ',') {
			ps->p++;
		} else if (*ps->p != ']') {
			perr(ps, "expected , or ] in list");
			goto err;
		}
	}
err:
	hcl_free(list);
	return NULL;
}

static struct hcl_node *parse_value(struct parser *ps)
{
	const char *s = ps->p;
	struct hcl_node *n;

	if (++ps->depth > HCL_MAX_DEPTH) {
		perr(ps, "nested more than %d deep", HCL_MAX_DEPTH);
		return NULL;
	}
	if (*s == '"') {
		n = parse_string(ps);
	} else if (s[0] == '<' && s[1] == '<') {
		n = parse_heredoc(ps);
	} else if (*s == '[') {
		n = parse_list(ps);
	} else if (*s == '{') {
		n = node_new(HCL_BLOCK, ps->line);
		if (!n) {
			perr(ps, "out of memory");
		} else {
			ps->p++;
			if (parse_members(ps, n, '}') < 0) {
				hcl_free(n);
				n = NULL;
			}
		}
	} else if (isdigit((unsigned char)*s) || *s == '-' || *s == '+') {
		char *end;
		errno = 0;
		double d = strtod(s, &end);
		if (end == s || errno) {
			perr(ps, "bad number");
			return NULL;
		}
		n = node_new(HCL_NUMBER, ps->line);
		if (!n || !(n->str = strndup(s, (size_t)(end - s)))) {
			hcl_free(n);
			perr(ps, "out of memory");
			return NULL;
		}
		n->num = d;
		ps->p = end;
	} else if (strncmp(s, "true", 4) == 0 && !is_ident(s[4])) {
		n = node_new(HCL_BOOL, ps->line);
		if (n)
			n->b = true;
		ps->p += 4;
	} else if (strncmp(s, "false", 5) == 0 && !is_ident(s[5])) {
		n = node_new(HCL_BOOL, ps->line);
		ps->p += 5;
	} else {
		perr(ps, "expected a value (a \"string\", a number, true, false, [ or {)");
		return NULL;
	}
	ps->depth--;
	return n;
}

static int parse_members(struct parser *ps, struct hcl_node *block, char close)
{
	struct hcl_node **tail = &block->child;

	for (;;) {
		const char *k;
		int line;
		struct hcl_node *v;

		if (skip(ps, 1) < 0)
			return -1;
		if (*ps->p == close && close) {
			ps->p++;
			return 0;
		}
		if (!*ps->p) {
			if (close)
				return perr(ps, "block opened on line %d is not closed", block->line);
			return 0;
		}
		k = ps->p;
		line = ps->line;
		if (*k == '"') {
			v = parse_string(ps);
			if (!v)
				return -1;
			char *key = v->str;
			v->str = NULL;
			hcl_free(v);
			v = NULL;
			if (skip(ps, 0) < 0) {
				free(key);
				return -1;
			}
			if (*ps->p != '=' && *ps->p != '{') {
				free(key);
				return perr(ps, "expected = or { after a key");
			}
			if (*ps->p == '=')
				ps->p++;
			if (skip(ps, 0) < 0 || !(v = parse_value(ps))) {
				free(key);
				return -1;
			}
			v->key = key;
		} else {
			while (is_ident(*ps->p))
				ps->p++;
			if (ps->p == k)
				return perr(ps, "expected a key");
			size_t klen = (size_t)(ps->p - k);
			if (skip(ps, 0) < 0)
				return -1;
			if (*ps->p == '=' || *ps->p == ':')
				ps->p++;
			else if (*ps->p != '{')
				return perr(ps, "expected = or { after \"%.*s\"", (int)klen, k);
			if (skip(ps, 0) < 0)
				return -1;
			if (*ps->p == '\n' || !*ps->p)
				return perr(ps, "\"%.*s\" has no value", (int)klen, k);
			v = parse_value(ps);
			if (!v)
				return -1;
			v->key = strndup(k, klen);
			if (!v->key) {
				hcl_free(v);
				return perr(ps, "out of memory");
			}
		}
		v->line = line;
		*tail = v;
		tail = &v->next;
		if (skip(ps, 0) < 0)
			return -1;
		if (*ps->p == ',') {
			ps->p++;
		} else if (*ps->p && *ps->p != '\n' && *ps->p != close &&
			   !is_ident(*ps->p) && *ps->p != '"') {
			return perr(ps, "unexpected '%c' after the value of \"%s\"", *ps->p, v->key);
		}
	}
}

struct hcl_node *hcl_parse(const char *text, const char *name, struct lg_error *err)
{
	struct parser ps = { text, text, 1, 0, err, name };
	struct hcl_node *root = node_new(HCL_BLOCK, 1);

	memset(err, 0, sizeof *err);
	if (!root) {
		perr(&ps, "out of memory");
		return NULL;
	}
	if (parse_members(&ps, root, '\0') < 0) {
		hcl_free(root);
		return NULL;
	}
	return root;
}

struct hcl_node *hcl_parse_file(const char *path, struct lg_error *err)
{
	struct hcl_node *root = NULL;
	size_t len;
	char *text = file_read(path, HCL_MAX_FILE, &len, err);

	if (!text)
		return NULL;
	if (memchr(text, '\0', len))
		lg_error_set(err, path, 0, 0, "contains a NUL byte");
	else
		root = hcl_parse(text, path, err);
	free(text);
	return root;
}
