/* confval: value syntaxes, written against caller buffers so the reader
 * (conf.c) keeps every allocation in its arena. */
#include "init/confval.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int cv_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cv_fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CV_ERR, fmt, ap);
	va_end(ap);
	return -1;
}

int cv_expand(const char *in, const char *prog, const char *here, char *out, size_t outlen,
	      char *err)
{
	size_t o = 0;

	for (const char *p = in; *p;) {
		const char *val = NULL;
		char host[256];
		if (p[0] == '%' && p[1] == '%') {
			val = "%";
			p += 2;
		} else if (p[0] == '%' && p[1] == '(') {
			const char *close = strchr(p + 2, ')');
			char name[256];
			if (!close || (size_t)(close - p - 2) >= sizeof name)
				return cv_fail(err, "unterminated %%( in \"%.60s\"", in);
			memcpy(name, p + 2, (size_t)(close - p - 2));
			name[close - p - 2] = 0;
			p = close + 1;
			while (isdigit((unsigned char)*p) || *p == '-' || *p == '.')
				p++;
			if (*p != 's' && *p != 'd')
				return cv_fail(err, "%%(%s) must be followed by s or d", name);
			p++;
			if (strncmp(name, "ENV_", 4) == 0) {
				val = getenv(name + 4);
				if (!val)
					return cv_fail(err, "%%(%s)s: environment variable %s is not set",
						       name, name + 4);
			} else if (prog && (strcmp(name, "program_name") == 0 ||
					    strcmp(name, "group_name") == 0)) {
				val = prog;
			} else if (strcmp(name, "here") == 0) {
				val = here;
			} else if (strcmp(name, "host_node_name") == 0) {
				if (gethostname(host, sizeof host) < 0)
					host[0] = 0;
				host[sizeof host - 1] = 0;
				val = host;
			} else if (strcmp(name, "process_num") == 0) {
				val = "0";
			} else {
				return cv_fail(err, "unknown expansion %%(%s)", name);
			}
		}
		size_t n = val ? strlen(val) : 1;
		if (o + n >= outlen)
			return cv_fail(err, "value too long after expansion");
		if (val)
			memcpy(out + o, val, n);
		else
			out[o] = *p++;
		o += n;
	}
	out[o] = 0;
	return 0;
}

int cv_bool(const char *v, bool *out)
{
	static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int cv_int(const char *v, long min, long max, int *out)
{
	char *end;
	long n;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

int cv_size(const char *v, long long *out)
{
	static const struct { const char *suffix; long long mult; } units[] = {
		{ "kb", 1024LL }, { "mb", 1024LL * 1024 }, { "gb", 1024LL * 1024 * 1024 },
	};
	char *end;
	long long n, mult = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0 || !isdigit((unsigned char)*v))
		return -1;
	if (*end) {
		size_t i;
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strcasecmp(end, units[i].suffix) == 0)
				break;
		if (i == sizeof units / sizeof units[0])
			return -1;
		mult = units[i].mult;
	}
	if (n > (1LL << 50) / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int cv_octal(const char *v, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 8);
	if (errno || end == v || *end || n < 0 || n > 0777 || !isdigit((unsigned char)*v))
		return -1;
	*out = (int)n;
	return 0;
}

int cv_exitcodes(const char *v, unsigned char bits[32], char *err)
{
	const char *p = v;
	memset(bits, 0, 32);
	for (;;) {
		char *end;
		long n;
		while (isspace((unsigned char)*p))
			p++;
		n = strtol(p, &end, 10);
		if (end == p || n < 0 || n > 255)
			break;
		bits[n / 8] |= (unsigned char)(1u << (n % 8));
		p = end;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		if (*p++ != ',')
			break;
	}
	return cv_fail(err, "exitcodes: \"%s\" is not a list of codes 0-255", v);
}

int cv_command(const char *cmd, char *buf, char **argv, char *err)
{
	const char *p = cmd;
	char *w = buf;
	size_t n = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		argv[n++] = w;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q)
					goto unterminated;
				memcpy(w, p + 1, (size_t)(q - p - 1));
				w += q - p - 1;
				p = q + 1;
			} else if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (!*p)
						goto unterminated;
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					*w++ = *p;
				}
				p++;
			} else if (*p == '\\' && p[1]) {
				*w++ = p[1];
				p += 2;
			} else {
				*w++ = *p++;
			}
		}
		*w++ = 0;
	}
	argv[n] = NULL;
	if (n == 0)
		return cv_fail(err, "command is empty");
	return 0;
unterminated:
	return cv_fail(err, "command: unterminated quote in \"%.60s\"", cmd);
}

int cv_environment(const char *v, char *buf, char **list, char *err)
{
	const char *p = v;
	char *w = buf;
	size_t n = 0;

	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		list[n++] = w;
		const char *key = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p != '=')
			return cv_fail(err, "environment: expected KEY=VALUE at \"%.40s\"", key);
		const char *kend = p;
		while (kend > key && isspace((unsigned char)kend[-1]))
			kend--;
		if (kend == key)
			return cv_fail(err, "environment: empty variable name");
		memcpy(w, key, (size_t)(kend - key));
		w += kend - key;
		*w++ = '=';
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		/* Quoted and bare pieces join, as in a shell: A='it''s' is its. */
		char *keep = w;
		while (*p && *p != ',') {
			if (*p == '"' || *p == '\'') {
				char q = *p++;
				while (*p && *p != q) {
					if (q == '"' && *p == '\\' && p[1])
						p++;
					*w++ = *p++;
				}
				if (*p != q)
					return cv_fail(err, "environment: unterminated quote");
				p++;
				keep = w;
			} else {
				*w++ = *p++;
				if (!isspace((unsigned char)w[-1]))
					keep = w;
			}
		}
		w = keep;    /* drop trailing blanks outside quotes */
		*w++ = 0;
	}
	list[n] = NULL;
	return 0;
}

int cv_address(const char *v, struct sockaddr_storage *ss, socklen_t *len, char *err)
{
	char host[256], *h = host, *end;
	const char *colon = strrchr(v, ':');
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	size_t hl;
	long port;

	if (!colon || (size_t)(colon - v) >= sizeof host)
		return cv_fail(err, "\"%s\" is not HOST:PORT", v);
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		return cv_fail(err, "\"%s\" has no valid port", v);
	memset(ss, 0, sizeof *ss);
	hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = 0;
		h++;
	}
	if (!*h || strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof *in4;
	} else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof *in6;
	} else {
		return cv_fail(err, "\"%s\" is not an IP address or localhost", host);
	}
	return 0;
}
