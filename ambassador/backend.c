/* backend: the address lists forwards carry and the strict parser every
 * address goes through before it can reach the HAProxy config. */
#include "ambassador/backend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int amb_port_parse(const char *s)
{
	long v = 0;

	if (!s || !*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

bool amb_host_is_v6(const char *host)
{
	return strchr(host, ':') != NULL;
}

/* Names and IPv4: letters, digits, '.', '-', '_'; IPv6: hex digits, ':'
 * and '.'.  Anything else (spaces, newlines, '#') is refused. */
static bool host_ok(const char *h, size_t len, bool v6)
{
	if (len == 0 || len > AMB_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (v6 ? !(isxdigit(c) || c == ':' || c == '.')
		       : !(isalnum(c) || c == '.' || c == '-' || c == '_'))
			return false;
	}
	return h[0] != '-';
}

int amb_addr_parse(const char *s, int default_port, char *host, int *port,
		   struct lg_error *err)
{
	const char *b = s, *e, *colon, *hb, *he;
	char portbuf[8];
	bool v6 = false;

	while (*b && isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (b == e) {
		lg_error_set(err, NULL, 0, 0, "empty address");
		return -1;
	}
	if (*b == '[') {
		const char *rb = memchr(b, ']', (size_t)(e - b));
		if (!rb)
			goto bad;
		hb = b + 1;
		he = rb;
		v6 = true;
		colon = rb + 1 < e ? rb + 1 : NULL;
		if (colon && *colon != ':')
			goto bad;
	} else {
		colon = memchr(b, ':', (size_t)(e - b));
		if (colon && memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
			/* Two colons and no brackets: a bare IPv6 address. */
			hb = b;
			he = e;
			colon = NULL;
			v6 = true;
		} else {
			hb = b;
			he = colon ? colon : e;
		}
	}
	if (!host_ok(hb, (size_t)(he - hb), v6))
		goto bad;
	if (colon) {
		size_t plen = (size_t)(e - colon - 1);
		if (plen == 0 || plen >= sizeof portbuf)
			goto bad;
		memcpy(portbuf, colon + 1, plen);
		portbuf[plen] = '\0';
		if ((*port = amb_port_parse(portbuf)) < 0) {
			if (strspn(portbuf, "0123456789") == plen) {
				lg_error_set(err, NULL, 0, 0, "\"%.*s\": port %s is not from 1 to 65535",
					     (int)(e - b > 80 ? 80 : e - b), b, portbuf);
				return -1;
			}
			goto bad;
		}
	} else if (default_port > 0) {
		*port = default_port;
	} else {
		lg_error_set(err, NULL, 0, 0, "\"%.*s\": no port", (int)(e - b > 80 ? 80 : e - b), b);
		return -1;
	}
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	return 0;
bad:
	lg_error_set(err, NULL, 0, 0, "\"%.*s\": not an address (host:port)", (int)(e - b > 80 ? 80 : e - b), b);
	return -1;
}

int amb_list_add(struct amb_list *l, const char *host, int port)
{
	char buf[AMB_HOST_MAX + 16];
	char *s;

	snprintf(buf, sizeof buf, amb_host_is_v6(host) ? "[%s]:%d" : "%s:%d", host, port);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		char **nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	if (!(s = strdup(buf)))
		return -1;
	l->v[l->n++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void amb_list_sort(struct amb_list *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof *l->v, cmp_str);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[k]) == 0)
			free(l->v[i]);
		else
			l->v[++k] = l->v[i];
	}
	l->n = k + 1;
}

bool amb_list_equal(const struct amb_list *a, const struct amb_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

void amb_list_move(struct amb_list *dst, struct amb_list *src)
{
	amb_list_free(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

const char *amb_list_str(const struct amb_list *l, char *dst, size_t n)
{
	size_t used = 0;

	if (n == 0)
		return dst;
	dst[0] = '\0';
	if (l->n == 0) {
		snprintf(dst, n, "none");
		return dst;
	}
	for (size_t i = 0; i < l->n && used < n; i++) {
		int w = snprintf(dst + used, n - used, "%s%s", i ? ", " : "", l->v[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return dst;
}

void amb_list_free(struct amb_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}
