/* creds: reads a forward's credentials options, loads the secrets they
 * name, and turns them into HAProxy server options (TLS) and listen lines
 * (Redis AUTH and SELECT through two small Lua actions). */
#include "ambassador/creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "renderer/install.h"

void amb_creds_init(struct amb_creds *c)
{
	memset(c, 0, sizeof *c);
	c->tls = -1;
	c->verify = -1;
	c->db = -1;
}

void amb_creds_free(struct amb_creds *c)
{
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->server_name);
	free(c->auth);
	free(c->user);
	free(c->password);
	amb_creds_init(c);
}

/* Options with a value; "tls" alone is the flag. */
static const char *const valued[] = {
	"tls-ca", "tls-cert", "tls-key", "tls-server-name", "tls-verify",
	"auth", "user", "password", "db",
};

bool amb_creds_is_option(const char *name, size_t nlen, bool *takes_value)
{
	if (nlen == 3 && strncmp(name, "tls", 3) == 0) {
		*takes_value = false;
		return true;
	}
	for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
		if (strlen(valued[i]) == nlen && strncmp(valued[i], name, nlen) == 0) {
			*takes_value = true;
			return true;
		}
	return false;
}

static int replace(char **dst, const char *val, struct lg_error *err)
{
	char *d = strdup(val);
	if (!d)
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

/* A server name as HAProxy's sni and verifyhost take it unquoted. */
static bool good_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*") == n;
}

int amb_creds_set(struct amb_creds *c, const char *name, const char *val, struct lg_error *err)
{
	if (strcmp(name, "tls") == 0) {
		if (val && strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
			return lg_error_set(err, NULL, 0, 0, "--tls: expected true or false");
		c->tls = !val || strcmp(val, "true") == 0;
		return 0;
	}
	if (!val || !*val)
		return lg_error_set(err, NULL, 0, 0, "--%s: empty value", name);
	if (strncmp(name, "tls-", 4) == 0 && c->tls < 0)
		c->tls = 1;      /* any TLS option asks for TLS */
	if (strcmp(name, "tls-ca") == 0)
		return replace(&c->ca, val, err);
	if (strcmp(name, "tls-cert") == 0)
		return replace(&c->cert, val, err);
	if (strcmp(name, "tls-key") == 0)
		return replace(&c->key, val, err);
	if (strcmp(name, "tls-server-name") == 0) {
		if (!good_name(val))
			return lg_error_set(err, NULL, 0, 0, "--tls-server-name %s: not a DNS name", val);
		return replace(&c->server_name, val, err);
	}
	if (strcmp(name, "tls-verify") == 0) {
		if (strcmp(val, "required") == 0)
			c->verify = 1;
		else if (strcmp(val, "none") == 0)
			c->verify = 0;
		else
			return lg_error_set(err, NULL, 0, 0, "--tls-verify %s: required or none", val);
		return 0;
	}
	if (strcmp(name, "auth") == 0)
		return replace(&c->auth, val, err);
	if (strcmp(name, "user") == 0)
		return replace(&c->user, val, err);
	if (strcmp(name, "password") == 0)
		return replace(&c->password, val, err);
	if (strcmp(name, "db") == 0) {
		char *end;
		long d = strtol(val, &end, 10);
		if (*end || end == val || d < 0 || d > 1000000)
			return lg_error_set(err, NULL, 0, 0, "--db %s: a database number", val);
		c->db = (int)d;
		return 0;
	}
	return lg_error_set(err, NULL, 0, 0, "--%s: not a credentials option", name);
}

static int take(char **dst, const char *src)
{
	if (*dst || !src)
		return 0;
	return (*dst = strdup(src)) ? 0 : -1;
}

int amb_creds_merge(struct amb_creds *c, const struct amb_creds *d)
{
	if (c->tls < 0)
		c->tls = d->tls;
	if (c->verify < 0)
		c->verify = d->verify;
	if (c->db < 0)
		c->db = d->db;
	return take(&c->ca, d->ca) | take(&c->cert, d->cert) | take(&c->key, d->key) |
	       take(&c->server_name, d->server_name) | take(&c->auth, d->auth) |
	       take(&c->user, d->user) | take(&c->password, d->password);
}

int amb_creds_check(const struct amb_creds *c, const char *what, struct lg_error *err)
{
	if (c->auth && strcmp(c->auth, "redis") != 0)
		return lg_error_set(err, NULL, 0, 0,
				    "%s: --auth %s: legate adds credentials for redis only (AUTH and SELECT); "
				    "other protocols: TLS client certificates (--tls-cert), or the application authenticates",
				    what, c->auth);
	if (!c->auth && (c->password || c->user || c->db >= 0))
		return lg_error_set(err, NULL, 0, 0, "%s: --password, --user and --db need --auth redis", what);
	if (c->auth && !c->password)
		return lg_error_set(err, NULL, 0, 0, "%s: --auth %s needs --password", what, c->auth);
	if (c->key && !c->cert)
		return lg_error_set(err, NULL, 0, 0, "%s: --tls-key needs --tls-cert", what);
	if (c->tls == 0 && (c->ca || c->cert || c->server_name || c->verify >= 0))
		return lg_error_set(err, NULL, 0, 0, "%s: --tls=false with TLS options", what);
	return 0;
}

/* Reads a whole file into b; -1 with errno. */
static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			fclose(f);
			return errno = ENOMEM, -1;
		}
	if (ferror(f)) {
		fclose(f);
		return errno = EIO, -1;
	}
	fclose(f);
	return 0;
}

/* The contents a value names: env:NAME, file:PATH, or (literal) the value
 * itself, else a path.  Appends to b. */
static int load(const char *opt, const char *val, bool literal, struct buf *b, struct lg_error *err)
{
	if (strncmp(val, "env:", 4) == 0) {
		const char *v = getenv(val + 4);
		if (!v || !*v)
			return lg_error_set(err, NULL, 0, 0, "--%s %s: the variable is not set", opt, val);
		return buf_puts(b, v) < 0 ? lg_error_set(err, NULL, 0, 0, "out of memory") : 0;
	}
	if (literal && strncmp(val, "file:", 5) != 0)
		return buf_puts(b, val) < 0 ? lg_error_set(err, NULL, 0, 0, "out of memory") : 0;
	if (strncmp(val, "file:", 5) == 0)
		val += 5;
	if (read_file(val, b) < 0)
		return lg_error_set(err, NULL, 0, 0, "--%s: cannot read %s: %s", opt, val, strerror(errno));
	return 0;
}

/* A PEM value must hold the block named (CERTIFICATE, PRIVATE KEY). */
static int need_pem(const char *opt, const char *val, struct buf *b, const char *block,
		    struct lg_error *err)
{
	const char *s = buf_cstr(b);
	if (!strstr(s, "-----BEGIN ") || !strstr(s, block))
		return lg_error_set(err, NULL, 0, 0, "--%s %s: no PEM %s in it", opt, val, block);
	if (b->len && s[b->len - 1] != '\n' && buf_putc(b, '\n') < 0)
		return lg_error_set(err, NULL, 0, 0, "out of memory");
	return 0;
}

static int write_private(const char *path, const struct buf *b, struct lg_error *err)
{
	struct install_opts io = { path, 0600, (uid_t)-1, (gid_t)-1, false, true };
	struct install_staged st;

	if (install_stage(&io, b->data ? b->data : "", b->len, &st, err) < 0)
		return -1;
	return install_commit(&io, &st, err);
}

/* A RESP command of two or three arguments, hex-encoded onto out. */
static int resp_hex(struct buf *out, const char *a, const char *b, const char *c)
{
	struct buf r = BUF_INIT;
	const char *args[3] = { a, b, c };
	int n = c ? 3 : 2, rc = 0;

	buf_printf(&r, "*%d\r\n", n);
	for (int i = 0; i < n; i++) {
		buf_printf(&r, "$%zu\r\n", strlen(args[i]));
		buf_puts(&r, args[i]);
		buf_puts(&r, "\r\n");
	}
	for (size_t i = 0; i < r.len; i++)
		rc |= buf_printf(out, "%02x", (unsigned char)r.data[i]);
	buf_free(&r);
	return rc < 0 ? -1 : 0;
}

static int add_line(struct amb_creds_cfg *cfg, size_t *n, struct buf *line)
{
	char **nl = realloc(cfg->lines, (*n + 2) * sizeof *nl);
	if (!nl)
		return -1;
	cfg->lines = nl;
	if (!(nl[*n] = buf_steal(line, NULL)) && !(nl[*n] = strdup("")))
		return -1;
	nl[++*n] = NULL;
	return 0;
}

int amb_creds_prepare(const struct amb_creds *c, const char *dir, const char *tag,
		      const char *lua, bool dry, struct amb_creds_cfg *out, struct lg_error *err)
{
	struct buf opts = BUF_INIT, tmp = BUF_INIT, line = BUF_INIT, hex = BUF_INIT;
	char path[4096];
	size_t nlines = 0;
	int rc = -1, replies = 0;

	memset(out, 0, sizeof *out);
	if (!(out->lines = calloc(1, sizeof *out->lines)))
		goto oom;
	if (strpbrk(dir, " \t\r\n#\"'\\")) {
		lg_error_set(err, NULL, 0, 0, "--run-dir %s: HAProxy's config cannot name files there "
			     "(white space, quotes or '#')", dir);
		goto out;
	}
	if (c->tls > 0) {
		buf_printf(&opts, " ssl verify %s", c->verify == 0 ? "none" : "required");
		if (c->verify != 0 && !c->ca)
			buf_puts(&opts, " ca-file @system-ca");
		if (c->ca) {
			if (load("tls-ca", c->ca, false, &tmp, err) < 0 ||
			    need_pem("tls-ca", c->ca, &tmp, "CERTIFICATE", err) < 0)
				goto out;
			snprintf(path, sizeof path, "%s/%s-ca.pem", dir, tag);
			if (!dry && write_private(path, &tmp, err) < 0)
				goto out;
			if (c->verify != 0)
				buf_printf(&opts, " ca-file %s", path);
			buf_reset(&tmp);
		}
		if (c->cert) {
			if (load("tls-cert", c->cert, false, &tmp, err) < 0 ||
			    need_pem("tls-cert", c->cert, &tmp, "CERTIFICATE", err) < 0)
				goto out;
			if (c->key) {
				struct buf k = BUF_INIT;
				if (load("tls-key", c->key, false, &k, err) < 0 ||
				    need_pem("tls-key", c->key, &k, "PRIVATE KEY", err) < 0 ||
				    buf_append(&tmp, k.data, k.len) < 0) {
					buf_free(&k);
					goto out;
				}
				buf_free(&k);
			} else if (!strstr(buf_cstr(&tmp), "PRIVATE KEY")) {
				lg_error_set(err, NULL, 0, 0, "--tls-cert %s: no private key in it; give --tls-key", c->cert);
				goto out;
			}
			snprintf(path, sizeof path, "%s/%s-crt.pem", dir, tag);
			if (!dry && write_private(path, &tmp, err) < 0)
				goto out;
			buf_printf(&opts, " crt %s", path);
			buf_reset(&tmp);
		}
		if (c->server_name)
			buf_printf(&opts, " sni str(%s)%s%s", c->server_name,
				   c->verify != 0 ? " verifyhost " : "", c->verify != 0 ? c->server_name : "");
	}
	if (c->auth) {
		/* The commands go ahead of the client's bytes; their replies are
		 * taken out of the response before the client sees any; and a
		 * health check with the same commands takes a server that
		 * refuses them out of the rotation (new connections are then
		 * closed at once instead of after the client's first command). */
		if (load("password", c->password, true, &tmp, err) < 0)
			goto out;
		if (strncmp(c->password, "file:", 5) == 0)
			while (tmp.len > 0 && (tmp.data[tmp.len - 1] == '\n' || tmp.data[tmp.len - 1] == '\r'))
				tmp.data[--tmp.len] = '\0';
		if (resp_hex(&hex, "AUTH", c->user ? c->user : buf_cstr(&tmp), c->user ? buf_cstr(&tmp) : NULL) < 0)
			goto oom;
		replies = 1;
		if (c->db >= 0) {
			char db[16];
			snprintf(db, sizeof db, "%d", c->db);
			if (resp_hex(&hex, "SELECT", db, NULL) < 0)
				goto oom;
			replies = 2;
		}
		if (buf_printf(&line, "tcp-request content lua.legate_redis_auth %s", buf_cstr(&hex)) < 0 ||
		    add_line(out, &nlines, &line) < 0 ||
		    buf_puts(&line, "tcp-response inspect-delay 10s") < 0 || add_line(out, &nlines, &line) < 0 ||
		    buf_printf(&line, "tcp-response content lua.legate_redis_reply %d if { res.len ge %d }",
			       replies, 5 * replies) < 0 ||
		    add_line(out, &nlines, &line) < 0 ||
		    buf_puts(&line, "option tcp-check") < 0 || add_line(out, &nlines, &line) < 0 ||
		    buf_printf(&line, "tcp-check send-binary %s", buf_cstr(&hex)) < 0 ||
		    add_line(out, &nlines, &line) < 0 ||
		    buf_printf(&line, "tcp-check expect min-recv %d comment \"redis refused the credentials (AUTH or SELECT)\" binary %s", 5 * replies, replies == 2 ? "2b4f4b0d0a2b4f4b0d0a" : "2b4f4b0d0a") < 0 ||
		    add_line(out, &nlines, &line) < 0)
			goto oom;
		buf_puts(&opts, " check inter 2s");
		if (c->tls > 0)
			buf_puts(&opts, " check-ssl");
		if (c->tls > 0 && c->server_name)
			buf_printf(&opts, " check-sni %s", c->server_name);
		out->lua = lua;
		out->secret = true;
	}
	if (!(out->server_opts = buf_steal(&opts, NULL)) && !(out->server_opts = strdup("")))
		goto oom;
	rc = 0;
	goto out;
oom:
	lg_error_set(err, NULL, 0, 0, "out of memory");
out:
	/* Secrets do not outlive their use in freed memory. */
	if (tmp.data)
		memset(tmp.data, 0, tmp.len);
	if (hex.data)
		memset(hex.data, 0, hex.len);
	buf_free(&tmp);
	buf_free(&hex);
	buf_free(&line);
	buf_free(&opts);
	if (rc < 0)
		amb_creds_cfg_free(out);
	return rc;
}

void amb_creds_cfg_free(struct amb_creds_cfg *cfg)
{
	free(cfg->server_opts);
	for (size_t i = 0; cfg->lines && cfg->lines[i]; i++)
		free(cfg->lines[i]);
	free(cfg->lines);
	memset(cfg, 0, sizeof *cfg);
}

/* legate_redis_auth HEX puts the commands (RESP, hex-encoded) ahead of
 * whatever the client sends.  legate_redis_reply N runs once N replies'
 * worth of bytes are in: N "+OK" replies are taken out of the response;
 * anything else is the server refusing the credentials, said on stderr
 * (the ambassador's log) before the connection is closed. */
static const char lua_source[] =
	"-- Written by legate ambassador: Redis AUTH and SELECT on the application's behalf.\n"
	"local decoded = {}\n"
	"local function unhex(h)\n"
	"  local s = decoded[h]\n"
	"  if not s then\n"
	"    s = (h:gsub('%x%x', function(x) return string.char(tonumber(x, 16)) end))\n"
	"    decoded[h] = s\n"
	"  end\n"
	"  return s\n"
	"end\n"
	"core.register_action('legate_redis_auth', { 'tcp-req' }, function(txn, hex)\n"
	"  txn.req:insert(unhex(hex), 0)\n"
	"end, 1)\n"
	"core.register_action('legate_redis_reply', { 'tcp-res' }, function(txn, n)\n"
	"  local want = string.rep('+OK\\r\\n', tonumber(n))\n"
	"  if txn.res:data(0, #want) == want then\n"
	"    txn.res:remove(0, #want)\n"
	"    return\n"
	"  end\n"
	"  local got = txn.res:data(0, 300) or ''\n"
	"  local i = 1\n"
	"  while got:sub(i, i + 4) == '+OK\\r\\n' do i = i + 5 end\n"
	"  local line = got:sub(i):match('^[^\\r\\n]*'):gsub('%c', '?')\n"
	"  local be, srv = txn.f:be_name() or '?', txn.f:srv_name() or '?'\n"
	"  core.Alert(string.format('legate: error: %s/%s: redis refused the credentials: %s', be, srv, line))\n"
	"  txn:done()\n"
	"end, 1)\n";

const char *amb_creds_lua_source(void)
{
	return lua_source;
}
