/* data: base64, safe strings and deterministic order for watch data. */
#include "watcher/data.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int b64_decode(struct buf *out, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0, v;
	size_t i;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_putc(out, (char)((acc >> bits) & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}

int b64_encode(struct buf *out, const void *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t i;
	char q[4];

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if (buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] >= 0x01 && p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

json_t *data_string(const char *p, size_t n)
{
	struct buf b = BUF_INIT;
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, l;
	json_t *j;

	while (i < n) {
		l = utf8_len(u + i, n - i);
		if (l == 0) {
			if (buf_putc(&b, '?') < 0)
				goto nomem;
			i++;
		} else {
			if (buf_append(&b, u + i, l) < 0)
				goto nomem;
			i += l;
		}
	}
	j = json_stringn(b.len ? b.data : "", b.len);
	buf_free(&b);
	return j;
nomem:
	buf_free(&b);
	return NULL;
}

const char *data_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static const char *sort_k1, *sort_k2;

static int cmp_members(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(data_str(x, sort_k1), data_str(y, sort_k1));

	if (c == 0 && sort_k2)
		c = strcmp(data_str(x, sort_k2), data_str(y, sort_k2));
	return c;
}

static int cmp_strings(const void *a, const void *b)
{
	const char *x = json_string_value(*(json_t *const *)a);
	const char *y = json_string_value(*(json_t *const *)b);

	if (!x || !y)
		return (x == NULL) - (y == NULL);
	return strcmp(x, y);
}

static json_t *sort_array(json_t *a, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(a), i;
	json_t **v;

	if (n < 2)
		return a;
	v = malloc(n * sizeof *v);
	if (!v)
		return a;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof *v, cmp);
	for (i = 0; i < n; i++)
		json_array_set_new(a, i, v[i]);
	free(v);
	return a;
}

json_t *data_sort_by(json_t *a, const char *k1, const char *k2)
{
	sort_k1 = k1;
	sort_k2 = k2;
	return sort_array(a, cmp_members);
}

json_t *data_sort_strings(json_t *a)
{
	return sort_array(a, cmp_strings);
}

json_t *data_tags(const json_t *tags)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < json_array_size(tags); i++) {
		json_t *t = json_array_get(tags, i);

		if (json_is_string(t))
			json_array_append(a, t);
	}
	return data_sort_strings(a);
}

json_t *data_meta(const json_t *meta)
{
	json_t *o = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)meta, k, v)
		if (o && json_is_string(v))
			json_object_set(o, k, v);
	return o;
}

const char *data_relative_key(const char *key, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;

	if (!prefix || strncmp(key, prefix, n) != 0)
		return key;
	key += n;
	if (n > 0 && prefix[n - 1] != '/' && *key == '/')
		key++;
	return key;
}

int url_escape(struct buf *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			    *p == '.' || *p == '~' || (keep_slash && *p == '/');
		if (plain ? buf_putc(b, (char)*p) < 0 :
		    buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]) < 0)
			return -1;
	}
	return 0;
}

/* Eight bytes a step (a catalog sweep hashes megabytes of answers), each
 * word multiplied in and the sum rotated, then the bits mixed at the end
 * so that every input bit reaches every output bit. */
static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

uint64_t data_hash(const char *p, size_t n)
{
	const uint64_t k1 = 0x9e3779b185ebca87ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
	uint64_t h = k1 ^ (n * k2), w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = rotl64(h + w * k2, 31) * k1;
	}
	w = 0;
	memcpy(&w, p, n);   /* the last 0-7 bytes; the length went in first */
	h = rotl64(h + w * k2, 31) * k1;
	h ^= h >> 33;
	h *= k2;
	h ^= h >> 29;
	h *= 0x165667b19e3779f9ULL;
	h ^= h >> 32;
	return h;
}

int data_has_string(const json_t *list, const char *s)
{
	size_t i;
	json_t *t;

	json_array_foreach(list, i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), s) == 0)
			return 1;
	return 0;
}
