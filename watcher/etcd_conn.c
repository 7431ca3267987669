/* etcd_conn: the member list and the one in use, the TLS options of the
 * HTTP client, and the credentials: the v3 token (POST /v3/auth/authenticate,
 * again whenever etcd refuses it) or v2 basic auth. */
#include "watcher/etcd_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"
#include "watcher/data.h"

/* A member that did not answer is passed over this long while others do. */
#define DOWN_FOR 5.0

struct member {
	char *base;           /* "http(s)://host:port", what URLs start with */
	double down_until;    /* monotonic: skipped until then (it did not answer) */
	char *connect_to;     /* "NAME:PORT:HOST:PORT" with a server name, or NULL */
};

struct etcd_conn {
	struct loop *loop;
	struct http *http;
	struct member *m;
	int n, cur;
	int v2;
	char *user, *password;
	char *auth_header;    /* "Authorization: ..." or NULL */
	struct http_req *auth_req;
	int auth_member;
	etcd_ready_cb ready;
	void *arg;
};

static void member_free(struct member *m)
{
	free(m->base);
	free(m->connect_to);
}

/* One member: "host:port" or a URL, the scheme https when TLS options are
 * given and none is written.  With a server name, the URL names the server
 * and curl connects to the address given. */
static int member_parse(struct member *m, const char *s, size_t len, int tls,
			const char *server_name, struct lg_error *err)
{
	struct buf b = BUF_INIT;
	const char *hp = s, *colon;
	size_t hl;
	char port[16] = "";

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '/'))
		len--;
	if (len == 0)
		return lg_error_set(err, NULL, 0, 0, "etcd: an empty member in the address list");
	hp = s;
	hl = len;
	if (len > 7 && strncmp(s, "http://", 7) == 0)
		hp += 7, hl -= 7;
	else if (len > 8 && strncmp(s, "https://", 8) == 0)
		hp += 8, hl -= 8, tls = 1;
	else if (memmem(s, len, "://", 3))
		return lg_error_set(err, NULL, 0, 0, "etcd: %.*s: only http:// and https:// are understood",
				    (int)len, s);
	if (memchr(hp, '/', hl))
		return lg_error_set(err, NULL, 0, 0, "etcd: %.*s: a member is host:port, without a path",
				    (int)len, s);
	colon = hp[0] == '[' ? memchr(hp, ']', hl) : hp;
	colon = colon ? memchr(colon, ':', hl - (size_t)(colon - hp)) : NULL;
	if (colon && (size_t)(hp + hl - colon - 1) < sizeof port) {
		memcpy(port, colon + 1, (size_t)(hp + hl - colon - 1));
		port[hp + hl - colon - 1] = '\0';
	}
	if (!port[0])
		strcpy(port, "2379");
	buf_puts(&b, tls ? "https://" : "http://");
	if (server_name && server_name[0]) {
		buf_printf(&b, "%s:%s", server_name, port);
		m->base = buf_steal(&b, NULL);
		buf_printf(&b, "%s:%s:%.*s:%s", server_name, port,
			   (int)(colon ? (size_t)(colon - hp) : hl), hp, port);
		m->connect_to = buf_steal(&b, NULL);
	} else {
		buf_append(&b, hp, hl);
		if (!colon)
			buf_printf(&b, ":%s", port);
		m->base = buf_steal(&b, NULL);
	}
	if (!m->base || (server_name && server_name[0] && !m->connect_to))
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	return 0;
}

static int bad_text(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

struct etcd_conn *etcd_conn_new(struct loop *l, const struct watcher_opts *o, int v2,
				etcd_ready_cb ready, void *arg, struct lg_error *err)
{
	struct etcd_conn *c = calloc(1, sizeof *c);
	struct http_opts ho;
	const char *s = o->etcd_addr, *e;
	int tls;

	if (!c) {
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	c->loop = l;
	c->v2 = v2;
	c->ready = ready;
	c->arg = arg;
	memset(&ho, 0, sizeof ho);
	ho.ca_file = o->etcd_ca_file ? o->etcd_ca_file : o->ca_file;
	ho.cert_file = o->etcd_cert_file ? o->etcd_cert_file : o->cert_file;
	ho.key_file = o->etcd_key_file ? o->etcd_key_file : o->key_file;
	ho.insecure = o->insecure;
	ho.max_conns = o->max_conns;
	if (!ho.cert_file != !ho.key_file) {
		lg_error_set(err, NULL, 0, 0, "etcd: a client certificate needs its key, and a key its certificate");
		goto err;
	}
	tls = o->etcd_ca_file || o->etcd_cert_file || (o->etcd_server_name && o->etcd_server_name[0]);
	if (bad_text(o->etcd_server_name) || (o->etcd_server_name && strpbrk(o->etcd_server_name, ":/[]"))) {
		lg_error_set(err, NULL, 0, 0, "etcd: bad TLS server name");
		goto err;
	}
	for (;;) {
		struct member *nm;

		e = strchr(s, ',');
		if (!(nm = realloc(c->m, (size_t)(c->n + 1) * sizeof *nm))) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			goto err;
		}
		c->m = nm;
		memset(&c->m[c->n], 0, sizeof c->m[c->n]);
		c->n++;
		if (member_parse(&c->m[c->n - 1], s, e ? (size_t)(e - s) : strlen(s), tls,
				 o->etcd_server_name, err) < 0)
			goto err;
		if (!e)
			break;
		s = e + 1;
	}
	if (o->etcd_user && o->etcd_user[0]) {
		const char *colon = strchr(o->etcd_user, ':');

		c->user = colon ? strndup(o->etcd_user, (size_t)(colon - o->etcd_user)) : strdup(o->etcd_user);
		c->password = strdup(colon ? colon + 1 : o->etcd_password ? o->etcd_password : "");
		if (!c->user || !c->password) {
			lg_error_set(err, NULL, 0, 0, "out of memory");
			goto err;
		}
		if (!colon && !o->etcd_password) {
			lg_error_set(err, NULL, 0, 0, "etcd: user %s without a password (\"user:password\", or the password option)",
				     c->user);
			goto err;
		}
		if (bad_text(c->user) || !c->user[0]) {
			lg_error_set(err, NULL, 0, 0, "etcd: bad user name");
			goto err;
		}
		if (v2) {
			/* v2 authenticates every call on its own. */
			struct buf up = BUF_INIT, h = BUF_INIT;

			buf_printf(&up, "%s:%s", c->user, c->password);
			buf_puts(&h, "Authorization: Basic ");
			b64_encode(&h, up.data, up.len);
			buf_free(&up);
			if (!(c->auth_header = buf_steal(&h, NULL))) {
				lg_error_set(err, NULL, 0, 0, "out of memory");
				goto err;
			}
		}
	}
	c->http = http_new(l, &ho, err);
	if (!c->http)
		goto err;
	return c;
err:
	etcd_conn_free(c);
	return NULL;
}

void etcd_conn_free(struct etcd_conn *c)
{
	int i;

	if (!c)
		return;
	http_free(c->http);
	for (i = 0; i < c->n; i++)
		member_free(&c->m[i]);
	free(c->m);
	free(c->user);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	free(c->auth_header);
	free(c);
}

struct http *etcd_conn_http(const struct etcd_conn *c)
{
	return c->http;
}

const char *etcd_conn_member(const struct etcd_conn *c, int m)
{
	return m >= 0 && m < c->n ? c->m[m].base : "";
}

int etcd_conn_members(const struct etcd_conn *c)
{
	return c->n;
}

int etcd_conn_prepare(struct etcd_conn *c, struct http_call *call, struct buf *url,
		      const char *path, const char *extra, const char *hdrs[4])
{
	int n = 0;

	buf_reset(url);
	if (buf_puts(url, c->m[c->cur].base) < 0 || buf_puts(url, path) < 0)
		return -1;
	if (c->auth_header)
		hdrs[n++] = c->auth_header;
	if (extra)
		hdrs[n++] = extra;
	hdrs[n] = NULL;
	call->url = buf_cstr(url);
	call->headers = hdrs;
	call->connect_to = c->m[c->cur].connect_to;
	return c->cur;
}

void etcd_conn_failed(struct etcd_conn *c, int m, int down, const char *why)
{
	double now = clock_mono();
	int i, next;

	if (m < 0 || m >= c->n)
		return;
	if (down)
		c->m[m].down_until = now + DOWN_FOR;
	if (m != c->cur || c->n < 2)
		return;
	/* The next member that answered lately; the next one at all when
	 * none did. */
	next = (m + 1) % c->n;
	for (i = 1; i < c->n; i++) {
		if (c->m[(m + i) % c->n].down_until <= now) {
			next = (m + i) % c->n;
			break;
		}
	}
	c->cur = next;
	log_warn("etcd: %s: %s; now talking to %s", c->m[m].base, why, c->m[c->cur].base);
}

int etcd_auth_error(const char *text)
{
	return text && (strstr(text, "invalid auth token") || strstr(text, "user name is empty") ||
			strstr(text, "permission denied") || strstr(text, "auth: revision"));
}

void etcd_conn_unauthorized(struct etcd_conn *c)
{
	if (c->v2 || !c->user)
		return;
	free(c->auth_header);
	c->auth_header = NULL;
}

static void auth_done(struct http_req *r, const struct http_result *res, void *arg)
{
	struct etcd_conn *c = arg;
	char msg[256] = "";
	json_t *in = NULL;
	const char *tok;

	(void)r;
	c->auth_req = NULL;
	if (!res->ok) {
		snprintf(msg, sizeof msg, "etcd: authenticate: %s", res->error);
		etcd_conn_failed(c, c->auth_member, 1, res->error);
	} else {
		in = json_loadb(res->body->data ? res->body->data : "", res->body->len, 0, NULL);
		tok = json_string_value(json_object_get(in, "token"));
		if (res->status == 200 && tok && tok[0] && !bad_text(tok)) {
			struct buf h = BUF_INIT;

			buf_printf(&h, "Authorization: %s", tok);
			free(c->auth_header);
			c->auth_header = buf_steal(&h, NULL);
			if (!c->auth_header)
				snprintf(msg, sizeof msg, "out of memory");
		} else {
			const char *e = json_string_value(json_object_get(in, "error"));

			if (!e)
				e = json_string_value(json_object_get(in, "message"));
			snprintf(msg, sizeof msg, "etcd: authenticate as %s: %s%s%ld", c->user,
				 e ? e : "", e ? " (HTTP " : "HTTP ", res->status);
			if (e)
				strncat(msg, ")", sizeof msg - strlen(msg) - 1);
			if (res->status >= 500 || res->status == 0)
				etcd_conn_failed(c, c->auth_member, 0, "authentication failed");
		}
		json_decref(in);
	}
	if (msg[0])
		log_warn("%s", msg);
	else
		log_debug("etcd: authenticated as %s", c->user);
	c->ready(c->arg, msg[0] ? msg : NULL);
}

int etcd_conn_ready(struct etcd_conn *c)
{
	struct http_call call;
	struct buf url = BUF_INIT;
	const char *hdrs[4];
	char *body;
	json_t *j;
	struct lg_error err = { .text = "" };

	if (c->v2 || !c->user || c->auth_header)
		return 1;
	if (c->auth_req)
		return 0;
	memset(&call, 0, sizeof call);
	j = json_pack("{s:s, s:s}", "name", c->user, "password", c->password);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	c->auth_member = etcd_conn_prepare(c, &call, &url, "/v3/auth/authenticate", NULL, hdrs);
	call.body = body;
	call.timeout = 10;
	call.on_done = auth_done;
	call.arg = c;
	if (body && c->auth_member >= 0)
		c->auth_req = http_start(c->http, &call, &err);
	free(body);
	buf_free(&url);
	if (!c->auth_req)
		c->ready(c->arg, err.text[0] ? err.text : "out of memory");
	return 0;
}
