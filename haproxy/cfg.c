/* cfg: a reader for the parts of an HAProxy configuration that matter to
 * its runtime API (sections, server and default-server lines), and the
 * comparison that turns two configurations into runtime operations or a
 * reason to reload.  The keyword table is HAProxy 2.6's list of what
 * "add server" accepts (management guide, "add server"). */
#include "haproxy/cfg.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A server keyword and how many arguments follow it. */
struct kw {
	const char *name;
	int nargs;
	enum { KW_RUNTIME, KW_RESOLVE } kind;
};

/* KW_RUNTIME: "add server" takes it.  KW_RESOLVE: only about resolving a
 * name, meaningless for an address literal (left out of "add server").
 * Any other keyword keeps a server (or a backend, in default-server) out
 * of the runtime path. */
static const struct kw keywords[] = {
	{ "addr", 1, KW_RUNTIME }, { "agent-addr", 1, KW_RUNTIME }, { "agent-check", 0, KW_RUNTIME },
	{ "agent-inter", 1, KW_RUNTIME }, { "agent-port", 1, KW_RUNTIME }, { "agent-send", 1, KW_RUNTIME },
	{ "allow-0rtt", 0, KW_RUNTIME }, { "alpn", 1, KW_RUNTIME }, { "backup", 0, KW_RUNTIME },
	{ "ca-file", 1, KW_RUNTIME }, { "check", 0, KW_RUNTIME }, { "check-alpn", 1, KW_RUNTIME },
	{ "check-proto", 1, KW_RUNTIME }, { "check-send-proxy", 0, KW_RUNTIME }, { "check-sni", 1, KW_RUNTIME },
	{ "check-ssl", 0, KW_RUNTIME }, { "check-via-socks4", 0, KW_RUNTIME }, { "ciphers", 1, KW_RUNTIME },
	{ "ciphersuites", 1, KW_RUNTIME }, { "crl-file", 1, KW_RUNTIME }, { "crt", 1, KW_RUNTIME },
	{ "disabled", 0, KW_RUNTIME }, { "downinter", 1, KW_RUNTIME }, { "enabled", 0, KW_RUNTIME },
	{ "error-limit", 1, KW_RUNTIME }, { "fall", 1, KW_RUNTIME }, { "fastinter", 1, KW_RUNTIME },
	{ "force-sslv3", 0, KW_RUNTIME }, { "force-tlsv10", 0, KW_RUNTIME }, { "force-tlsv11", 0, KW_RUNTIME },
	{ "force-tlsv12", 0, KW_RUNTIME }, { "force-tlsv13", 0, KW_RUNTIME }, { "id", 1, KW_RUNTIME },
	{ "inter", 1, KW_RUNTIME }, { "maxconn", 1, KW_RUNTIME }, { "maxqueue", 1, KW_RUNTIME },
	{ "minconn", 1, KW_RUNTIME }, { "no-ssl-reuse", 0, KW_RUNTIME }, { "no-sslv3", 0, KW_RUNTIME },
	{ "no-tlsv10", 0, KW_RUNTIME }, { "no-tlsv11", 0, KW_RUNTIME }, { "no-tlsv12", 0, KW_RUNTIME },
	{ "no-tlsv13", 0, KW_RUNTIME }, { "no-tls-tickets", 0, KW_RUNTIME }, { "npn", 1, KW_RUNTIME },
	{ "observe", 1, KW_RUNTIME }, { "on-error", 1, KW_RUNTIME }, { "on-marked-down", 1, KW_RUNTIME },
	{ "on-marked-up", 1, KW_RUNTIME }, { "pool-low-conn", 1, KW_RUNTIME }, { "pool-max-conn", 1, KW_RUNTIME },
	{ "pool-purge-delay", 1, KW_RUNTIME }, { "port", 1, KW_RUNTIME }, { "proto", 1, KW_RUNTIME },
	{ "proxy-v2-options", 1, KW_RUNTIME }, { "rise", 1, KW_RUNTIME }, { "send-proxy", 0, KW_RUNTIME },
	{ "send-proxy-v2", 0, KW_RUNTIME }, { "send-proxy-v2-ssl", 0, KW_RUNTIME },
	{ "send-proxy-v2-ssl-cn", 0, KW_RUNTIME }, { "slowstart", 1, KW_RUNTIME }, { "sni", 1, KW_RUNTIME },
	{ "ssl", 0, KW_RUNTIME }, { "ssl-max-ver", 1, KW_RUNTIME }, { "ssl-min-ver", 1, KW_RUNTIME },
	{ "tfo", 0, KW_RUNTIME }, { "tls-tickets", 0, KW_RUNTIME }, { "verify", 1, KW_RUNTIME },
	{ "verifyhost", 1, KW_RUNTIME }, { "weight", 1, KW_RUNTIME }, { "ws", 1, KW_RUNTIME },
	{ "init-addr", 1, KW_RESOLVE }, { "resolvers", 1, KW_RESOLVE }, { "resolve-prefer", 1, KW_RESOLVE },
	{ "resolve-opts", 1, KW_RESOLVE }, { "resolve-net", 1, KW_RESOLVE },
};

static const struct kw *kw_find(const char *name)
{
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

/* Section keywords: a line starting with one opens a new section. */
static const char *const sections[] = {
	"global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist",
	"mailers", "program", "http-errors", "ring", "cache", "fcgi-app", "log-forward", NULL,
};

/* ---- tokens --------------------------------------------------------------- */

#define MAX_TOKENS 256

struct line {
	char *tok[MAX_TOKENS];
	size_t n;
	bool special;   /* quotes, escapes or variables: kept, never sent to the CLI */
	bool overflow;
};

/* Splits one line (p..end) into tokens, HAProxy's way: blanks separate,
 * quotes and backslashes group, '#' outside quotes starts a comment.
 * Tokens are copies as written.  Returns 0 or -1 (out of memory). */
static int tokenize(const char *p, const char *end, struct line *ln)
{
	ln->n = 0;
	ln->special = ln->overflow = false;
	while (p < end) {
		const char *s;
		char q = 0;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == end || *p == '#')
			break;
		s = p;
		while (p < end && (q || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '#'))) {
			if (*p == '\\' && p + 1 < end) {
				ln->special = true;
				p += 2;
				continue;
			}
			if (*p == '$')
				ln->special = true;
			if (!q && (*p == '"' || *p == '\'')) {
				q = *p;
				ln->special = true;
			} else if (q && *p == q) {
				q = 0;
			}
			p++;
		}
		if (ln->n == MAX_TOKENS) {
			ln->overflow = true;
			break;
		}
		if (!(ln->tok[ln->n] = strndup(s, (size_t)(p - s))))
			return -1;
		ln->n++;
	}
	return 0;
}

static void line_clear(struct line *ln)
{
	for (size_t i = 0; i < ln->n; i++)
		free(ln->tok[i]);
	ln->n = 0;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- addresses ------------------------------------------------------------ */

/* Splits an address token into host and port.  IPv6 literals are written
 * "ipv6@::1:80", "::1:80" (the port after the last colon) or "[::1]:80". */
static int split_addr(const char *a, struct hap_server *s)
{
	const char *colon, *host = a;
	char tmp[256];
	unsigned char bin[16];
	size_t hl;

	if (strncmp(host, "ipv4@", 5) == 0 || strncmp(host, "ipv6@", 5) == 0)
		host += 5;
	if (*host == '[') {
		const char *rb = strchr(host, ']');
		if (!rb)
			return 0;
		hl = (size_t)(rb - host - 1);
		if (hl >= sizeof tmp)
			return 0;
		memcpy(tmp, host + 1, hl);
		tmp[hl] = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(host, ':');
		/* "::1" alone has colons but no port: a v6 literal needs one after the last colon */
		hl = colon ? (size_t)(colon - host) : strlen(host);
		if (hl >= sizeof tmp)
			return 0;
		memcpy(tmp, host, hl);
		tmp[hl] = '\0';
	}
	s->ip = inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1;
	if (!(s->host = strdup(tmp)) || !(s->port = strdup(colon ? colon + 1 : "")))
		return -1;
	for (const char *p = s->port; *p; p++)
		if (*p < '0' || *p > '9')
			s->ip = false;   /* port ranges and offsets: keep to reloads */
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

/* Checks a run of server options (tokens[from..n)): every keyword known,
 * with its arguments.  Returns NULL when "add server" can reproduce them
 * for an address literal, else why not. */
static const char *options_check(char *const *tok, size_t n, size_t from)
{
	for (size_t i = from; i < n; i++) {
		const struct kw *k = kw_find(tok[i]);
		if (!k)
			return "an option \"add server\" does not take in HAProxy 2.6";
		i += (size_t)k->nargs;
		if (i >= n && k->nargs)
			return "an option without its value";
	}
	return NULL;
}

static int server_line(struct hap_backend *b, const struct line *ln, int lineno)
{
	struct hap_server *ns = realloc(b->srv, (b->nsrv + 1) * sizeof *ns), *s;
	struct buf opts = BUF_INIT;

	if (!ns)
		return -1;
	b->srv = ns;
	s = &ns[b->nsrv++];
	memset(s, 0, sizeof *s);
	s->weight = 1;
	s->line = lineno;
	if (!(s->name = strdup(ln->n > 1 ? ln->tok[1] : "")))
		return -1;
	if (split_addr(ln->n > 2 ? ln->tok[2] : "", s) < 0)
		return -1;
	for (size_t i = 3; i < ln->n; i++) {
		if (strv_push(&s->args, &s->nargs, ln->tok[i]) < 0)
			return -1;
		if (strcmp(ln->tok[i], "weight") == 0 && i + 1 < ln->n) {
			s->weight = atoi(ln->tok[i + 1]);
			if (strv_push(&s->args, &s->nargs, ln->tok[++i]) < 0)
				return -1;
			continue;
		}
		if (strcmp(ln->tok[i], "disabled") == 0 || strcmp(ln->tok[i], "enabled") == 0) {
			s->disabled = ln->tok[i][0] == 'd';
			continue;
		}
		if (buf_printf(&opts, "%s%s", opts.len ? " " : "", ln->tok[i]) < 0)
			return -1;
	}
	if (!(s->opts = strdup(buf_cstr(&opts)))) {
		buf_free(&opts);
		return -1;
	}
	buf_free(&opts);
	if (ln->n < 3)
		s->no_runtime = "a server line without an address";
	else if (ln->special || ln->overflow)
		s->no_runtime = "quotes, escapes or variables on its line";
	else if (!s->ip)
		s->no_runtime = "its address is not an IP address with a numeric port (HAProxy 2.6 does not resolve names of servers added at run time)";
	else
		s->no_runtime = options_check(ln->tok, ln->n, 3);
	return 0;
}

struct parser {
	struct hap_cfg *c;
	char **dflt;            /* the current defaults section's default-server tokens */
	size_t ndflt;
	struct hap_backend *be; /* the backend or listen section being read */
	bool in_backend;
};

static int open_section(struct parser *p, const struct line *ln)
{
	const char *kw = ln->tok[0];
	struct hap_backend *nb, *b;

	p->in_backend = false;
	p->be = NULL;
	if (strcmp(kw, "defaults") == 0) {
		/* each defaults section starts afresh */
		strv_free(p->dflt, p->ndflt);
		p->dflt = NULL;
		p->ndflt = 0;
		return 0;
	}
	if (strcmp(kw, "backend") != 0 && strcmp(kw, "listen") != 0)
		return 0;
	if (!(nb = realloc(p->c->be, (p->c->nbe + 1) * sizeof *nb)))
		return -1;
	p->c->be = nb;
	b = &nb[p->c->nbe++];
	memset(b, 0, sizeof *b);
	b->listen = kw[0] == 'l';
	if (!(b->name = strdup(ln->n > 1 ? ln->tok[1] : "")))
		return -1;
	for (size_t i = 0; i < p->ndflt; i++)
		if (strv_push(&b->dflt, &b->ndflt, p->dflt[i]) < 0)
			return -1;
	if (ln->n > 2)
		b->no_runtime = "its section line names a defaults section";
	else if (ln->special)
		b->no_runtime = "quotes, escapes or variables on its section line";
	p->be = b;
	p->in_backend = true;
	return 0;
}

static int default_server(struct parser *p, const struct line *ln)
{
	char ***v = p->in_backend ? &p->be->dflt : &p->dflt;
	size_t *n = p->in_backend ? &p->be->ndflt : &p->ndflt;

	for (size_t i = 1; i < ln->n; i++)
		if (strv_push(v, n, ln->tok[i]) < 0)
			return -1;
	if (p->in_backend && (ln->special || options_check(ln->tok, ln->n, 1)))
		p->be->no_runtime = "its default-server line has options \"add server\" does not take";
	return 0;
}

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp((*(struct hap_server *const *)a)->name, (*(struct hap_server *const *)b)->name);
}

/* Ends a backend section: validates the default-server options it
 * inherited and sorts its servers by name.  Returns 0 or -1. */
static int close_backend(struct hap_backend *b)
{
	if (!b->no_runtime && options_check(b->dflt, b->ndflt, 0))
		b->no_runtime = "its default-server options include one \"add server\" does not take";
	if (!(b->by_name = calloc(b->nsrv ? b->nsrv : 1, sizeof *b->by_name)))
		return -1;
	for (size_t i = 0; i < b->nsrv; i++)
		b->by_name[i] = &b->srv[i];
	qsort(b->by_name, b->nsrv, sizeof *b->by_name, by_name_cmp);
	return 0;
}

static int be_cmp(const void *a, const void *b)
{
	return strcmp((*(struct hap_backend *const *)a)->name, (*(struct hap_backend *const *)b)->name);
}

struct hap_cfg *hap_cfg_parse(const char *text, size_t len)
{
	struct hap_cfg *c = calloc(1, sizeof *c);
	struct parser p = { .c = c };
	const char *pos = text, *end = text + len;
	struct line ln = { .n = 0 };
	int lineno = 0;

	if (!c)
		return NULL;
	c->skeleton.limit = HAP_CFG_MAX;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		const char *le = nl ? nl : end;
		bool section = false;

		lineno++;
		if (tokenize(pos, le, &ln) < 0)
			goto oom;
		pos = nl ? nl + 1 : end;
		if (ln.n == 0)
			continue;
		for (const char *const *s = sections; *s; s++)
			section |= strcmp(ln.tok[0], *s) == 0;
		if (section) {
			if (p.be && close_backend(p.be) < 0)
				goto oom;
			if (open_section(&p, &ln) < 0)
				goto oom;
		} else if (p.in_backend && strcmp(ln.tok[0], "server") == 0) {
			if (server_line(p.be, &ln, lineno) < 0)
				goto oom;
			line_clear(&ln);
			continue;    /* server lines are compared apart */
		} else if (strcmp(ln.tok[0], "default-server") == 0) {
			if (default_server(&p, &ln) < 0)
				goto oom;
		}
		for (size_t i = 0; i < ln.n; i++)
			if (buf_printf(&c->skeleton, "%s%s", i ? " " : "", ln.tok[i]) < 0)
				goto oom;
		if (buf_putc(&c->skeleton, '\n') < 0)
			goto oom;
		line_clear(&ln);
	}
	if (p.be && close_backend(p.be) < 0)
		goto oom;
	strv_free(p.dflt, p.ndflt);
	buf_cstr(&c->skeleton);
	if (!(c->be_by_name = calloc(c->nbe ? c->nbe : 1, sizeof *c->be_by_name)))
		goto oom_done;
	for (size_t i = 0; i < c->nbe; i++)
		c->be_by_name[i] = &c->be[i];
	qsort(c->be_by_name, c->nbe, sizeof *c->be_by_name, be_cmp);
	return c;
oom_done:
	hap_cfg_free(c);
	return NULL;
oom:
	line_clear(&ln);
	strv_free(p.dflt, p.ndflt);
	hap_cfg_free(c);
	return NULL;
}

void hap_cfg_free(struct hap_cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbe; i++) {
		struct hap_backend *b = &c->be[i];
		for (size_t k = 0; k < b->nsrv; k++) {
			struct hap_server *s = &b->srv[k];
			free(s->name);
			free(s->host);
			free(s->port);
			free(s->opts);
			strv_free(s->args, s->nargs);
		}
		free(b->srv);
		free(b->by_name);
		free(b->name);
		strv_free(b->dflt, b->ndflt);
	}
	free(c->be);
	free(c->be_by_name);
	buf_free(&c->skeleton);
	free(c);
}

const struct hap_backend *hap_cfg_backend(const struct hap_cfg *c, const char *name)
{
	struct hap_backend key = { .name = (char *)name }, *kp = &key, **hit;

	if (!c || !c->be_by_name)
		return NULL;
	hit = bsearch(&kp, c->be_by_name, c->nbe, sizeof *c->be_by_name, be_cmp);
	return hit ? *hit : NULL;
}

const struct hap_server *hap_backend_server(const struct hap_backend *b, const char *name)
{
	struct hap_server key = { .name = (char *)name }, *kp = &key, **hit;

	if (!b || !b->by_name)
		return NULL;
	hit = bsearch(&kp, b->by_name, b->nsrv, sizeof *b->by_name, by_name_cmp);
	return hit ? *hit : NULL;
}
