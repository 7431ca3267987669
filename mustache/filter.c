/* filter: the value filters ({{name|lower}}) and value tests
 * ({{#name>=value}}) of legate's Mustache extensions: each turns one
 * jansson value into another, with no access to the render. */
#include "mustache/filter.h"
#include "mustache/numfmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

int mu_scalar_text(json_t *v, char *tmp, size_t tmplen, const char **s, size_t *n)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		*s = json_string_value(v);
		*n = json_string_length(v);
		return 0;
	case JSON_INTEGER:
		*n = numfmt_int(tmp, tmplen, (long long)json_integer_value(v));
		*s = tmp;
		return 0;
	case JSON_REAL:
		*n = numfmt_double(tmp, tmplen, json_real_value(v));
		*s = tmp;
		return 0;
	case JSON_TRUE:
		*s = "true";
		*n = 4;
		return 0;
	case JSON_FALSE:
		*s = "false";
		*n = 5;
		return 0;
	default:
		return -1;
	}
}

/* A whole string read as a number: 0 with *d set, or -1. */
static int as_number(const char *s, size_t n, double *d)
{
	char tmp[64], *end;

	if (n == 0 || n >= sizeof tmp || isspace((unsigned char)s[0]))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*d = strtod(tmp, &end);
	if (*end || errno == ERANGE || *d != *d)
		return -1;
	return 0;
}

static json_t *nomem(char *errtext, size_t errlen)
{
	snprintf(errtext, errlen, "out of memory");
	return NULL;
}

static json_t *take(struct buf *b, char *errtext, size_t errlen)
{
	json_t *r = json_stringn_nocheck(b->data ? b->data : "", b->len);

	buf_free(b);
	return r ? r : nomem(errtext, errlen);
}

/* |format:SPEC with one of d x f s (checked when compiled). */
static json_t *format(const char *spec, size_t slen, json_t *v, const char *s, size_t n,
		      char *errtext, size_t errlen)
{
	char fmt[24], out[1100];
	char conv = spec[slen - 1];
	double d;
	int w;

	if (slen + 3 > sizeof fmt)
		return NULL;
	if (conv == 's') {
		/* Width in characters of the text, which may be long. */
		struct buf b = BUF_INIT;
		const char *p = spec + 1;
		int left = 0, width = 0, prec = -1;

		for (; *p == '-' || *p == '+' || *p == ' ' || *p == '0'; p++)
			left |= *p == '-';
		for (; *p >= '0' && *p <= '9'; p++)
			width = width * 10 + (*p - '0');
		if (*p == '.')
			for (prec = 0, p++; *p >= '0' && *p <= '9'; p++)
				prec = prec * 10 + (*p - '0');
		if (prec >= 0 && (size_t)prec < n)
			n = (size_t)prec;
		for (int k = (int)n; !left && k < width; k++)
			if (buf_putc(&b, ' ') < 0)
				return nomem(errtext, errlen);
		if (buf_append(&b, s, n) < 0)
			return nomem(errtext, errlen);
		for (int k = (int)n; left && k < width; k++)
			if (buf_putc(&b, ' ') < 0)
				return nomem(errtext, errlen);
		return take(&b, errtext, errlen);
	}
	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else if (as_number(s, n, &d) < 0)
		return NULL;   /* not a number: missing */
	memcpy(fmt, spec, slen - 1);
	if (conv == 'f') {
		fmt[slen - 1] = 'f';
		fmt[slen] = '\0';
		w = snprintf(out, sizeof out, fmt, d);
	} else {
		if (d != d || d >= 9.2e18 || d <= -9.2e18)
			return NULL;
		fmt[slen - 1] = 'l';
		fmt[slen] = 'l';
		fmt[slen + 1] = conv;
		fmt[slen + 2] = '\0';
		w = snprintf(out, sizeof out, fmt, (long long)d);
	}
	if (w < 0 || (size_t)w >= sizeof out)
		return NULL;
	return json_stringn_nocheck(out, (size_t)w) ?: nomem(errtext, errlen);
}

json_t *mu_filter_apply(const struct mustache_tpl *t, const struct mu_filter *f, json_t *v,
			char *errtext, size_t errlen)
{
	const char *a = t->pool + f->a, *b = t->pool + f->b;
	struct buf out = BUF_INIT;
	const char *s;
	size_t n;
	char tmp[40];

	if (f->fn == MF_DEFAULT) {
		if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
			return v;
		return json_stringn_nocheck(a, f->alen) ?: nomem(errtext, errlen);
	}
	if (f->fn == MF_JOIN && json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e) {
			if (mu_scalar_text(e, tmp, sizeof tmp, &s, &n) < 0)
				continue;
			if ((out.len && buf_append(&out, a, f->alen) < 0) || buf_append(&out, s, n) < 0) {
				buf_free(&out);
				return nomem(errtext, errlen);
			}
		}
		return take(&out, errtext, errlen);
	}
	if (mu_scalar_text(v, tmp, sizeof tmp, &s, &n) < 0)
		return NULL;
	switch (f->fn) {
	case MF_LOWER:
	case MF_UPPER:
		if (buf_append(&out, s, n) < 0)
			return nomem(errtext, errlen);
		for (size_t i = 0; i < n; i++)
			out.data[i] = (char)(f->fn == MF_LOWER ? tolower((unsigned char)out.data[i])
							       : toupper((unsigned char)out.data[i]));
		return take(&out, errtext, errlen);
	case MF_REPLACE:
		if (f->alen == 0)
			return v;
		for (size_t i = 0; i < n;) {
			if (n - i >= f->alen && memcmp(s + i, a, f->alen) == 0) {
				if (buf_append(&out, b, f->blen) < 0)
					goto oom;
				i += f->alen;
			} else {
				if (buf_putc(&out, s[i]) < 0)
					goto oom;
				i++;
			}
		}
		return take(&out, errtext, errlen);
	case MF_TRIMPREFIX:
		if (n >= f->alen && memcmp(s, a, f->alen) == 0)
			return json_stringn_nocheck(s + f->alen, n - f->alen) ?: nomem(errtext, errlen);
		return json_is_string(v) ? v : json_stringn_nocheck(s, n);
	case MF_TRIMSUFFIX:
		if (n >= f->alen && memcmp(s + n - f->alen, a, f->alen) == 0)
			return json_stringn_nocheck(s, n - f->alen) ?: nomem(errtext, errlen);
		return json_is_string(v) ? v : json_stringn_nocheck(s, n);
	case MF_SPLIT: {
		json_t *arr = json_array();
		size_t i = 0;

		if (!arr)
			return nomem(errtext, errlen);
		while (n && i <= n) {
			const char *e = n - i >= f->alen ? memmem(s + i, n - i, a, f->alen) : NULL;
			size_t end = e ? (size_t)(e - s) : n;

			if (json_array_append_new(arr, json_stringn_nocheck(s + i, end - i)) < 0) {
				json_decref(arr);
				return nomem(errtext, errlen);
			}
			i = end + f->alen;
			if (!e)
				break;
		}
		return arr;
	}
	case MF_JOIN:
		return v;   /* a single value joins to itself */
	case MF_FORMAT:
		return format(a, f->alen, v, s, n, errtext, errlen);
	}
	return v;
oom:
	buf_free(&out);
	return nomem(errtext, errlen);
}

int mu_test(const struct mustache_tpl *t, const struct mu_name *nm, json_t *v)
{
	const char *lit = t->pool + nm->val, *s = "";
	size_t ln = nm->vlen, n = 0;
	char tmp[40];
	double x, y;
	int c, r;

	if (v && !json_is_null(v) && mu_scalar_text(v, tmp, sizeof tmp, &s, &n) < 0)
		return nm->neg;   /* a list or object: the test fails */
	if ((json_is_number(v) || json_is_string(v)) && as_number(s, n, &x) == 0 &&
	    as_number(lit, ln, &y) == 0) {
		c = x < y ? -1 : x > y;
	} else {
		c = memcmp(s, lit, n < ln ? n : ln);
		if (c == 0)
			c = n < ln ? -1 : n > ln;
	}
	switch (nm->test) {
	case MT_EQ: r = c == 0; break;
	case MT_LT: r = c < 0; break;
	case MT_LE: r = c <= 0; break;
	case MT_GT: r = c > 0; break;
	case MT_GE: r = c >= 0; break;
	default: r = 0; break;
	}
	return r ^ nm->neg;
}
