/* config: turns flags, HCL files and the environment into one struct
 * config, refusing anything it does not understand with the flag, or the
 * file, line and key, at fault. */
#include "legate/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/log.h"
#include "legate/commands.h"
#include "legate/config_int.h"
#include "renderer/command.h"

#define DEFAULT_TIMEOUT_MS 30000L

/* An error about a flag or the whole configuration (no file, no line). */
static int cerr(struct lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cerr(struct lg_error *err, const char *fmt, ...)
{
	char text[sizeof err->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return lg_error_set(err, NULL, 0, 0, "%s", text);
}

/* Replaces *slot with a copy of s; returns 0 or -1. */
int config_set_str(char **slot, const char *s)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		return -1;
	free(*slot);
	*slot = c;
	return 0;
}

/* ---- durations, waits, commands ------------------------------------------ */

int config_parse_duration(const char *s, long *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	double total = 0;
	char *end;

	if (!s || !*s)
		return -1;
	double v = strtod(s, &end);
	if (end != s && *end == '\0') {   /* a bare number: seconds */
		if (v < 0 || v > 1e9)
			return -1;
		*ms = (long)(v * 1000);
		return 0;
	}
	while (*s) {
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s || v < 0)
			return -1;
		s = end;
		size_t i, n = sizeof units / sizeof units[0];
		for (i = 0; i < n; i++) {
			size_t l = strlen(units[i].unit);
			/* "ms" must win over "m" followed by "s" */
			if (strncmp(s, units[i].unit, l) == 0 &&
			    !(units[i].unit[0] == 'm' && l == 1 && s[1] == 's'))
				break;
		}
		if (i == n)
			return -1;
		total += v * units[i].ms;
		s += strlen(units[i].unit);
	}
	if (total > 1e12)
		return -1;
	*ms = (long)total;
	return 0;
}

int config_parse_wait(const char *s, long *min_ms, long *max_ms)
{
	const char *colon = strchr(s, ':');
	char tmp[64];

	if (!colon) {
		if (config_parse_duration(s, min_ms) < 0)
			return -1;
		*max_ms = *min_ms * 4;
		return 0;
	}
	if ((size_t)(colon - s) >= sizeof tmp)
		return -1;
	memcpy(tmp, s, (size_t)(colon - s));
	tmp[colon - s] = '\0';
	if (config_parse_duration(tmp, min_ms) < 0 || config_parse_duration(colon + 1, max_ms) < 0)
		return -1;
	return *max_ms < *min_ms ? -1 : 0;
}

/* ---- templates ------------------------------------------------------------ */

struct template_config *config_template_add(struct config *cfg)
{
	struct template_config *t = realloc(cfg->templates, (cfg->ntemplates + 1) * sizeof *t);
	if (!t)
		return NULL;
	cfg->templates = t;
	t += cfg->ntemplates++;
	memset(t, 0, sizeof *t);
	t->command_timeout_ms = DEFAULT_TIMEOUT_MS;
	t->check_timeout_ms = DEFAULT_TIMEOUT_MS;
	t->perms = -1;
	t->create_dest_dirs = true;
	t->strict = true;
	t->haproxy.drain_timeout_ms = 30000;
	t->haproxy.reload_timeout_ms = 10000;
	t->haproxy.audit_interval_ms = 5000;
	t->haproxy.runtime = true;
	return t;
}

static void template_free(struct template_config *t)
{
	free(t->haproxy.master_socket);
	free(t->haproxy.runtime_socket);
	free(t->haproxy.origin);
	free(t->source);
	free(t->contents);
	free(t->destination);
	command_free(&t->command);
	command_free(&t->check);
	free(t->user);
	free(t->group);
	free(t->escape);
	free(t->partials_dir);
	free(t->origin);
}

/* -template "src:dest[:command]" */
static int template_flag(struct config *cfg, const char *v, struct lg_error *err)
{
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct template_config *t;

	if (!c1 || c1 == v || (c2 ? c2 == c1 + 1 : c1[1] == '\0'))
		return cerr(err, "-template \"%s\": want \"source:destination[:command]\"", v);
	if (!(t = config_template_add(cfg)))
		return cerr(err, "out of memory");
	t->source = strndup(v, (size_t)(c1 - v));
	t->destination = c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : strdup(c1 + 1);
	t->origin = strdup("-template flag");
	if (!t->source || !t->destination || !t->origin)
		return cerr(err, "out of memory");
	if (c2 && command_parse(c2 + 1, &t->command) < 0)
		return cerr(err, "-template \"%s\": empty command", v);
	return 0;
}

/* ---- flags ---------------------------------------------------------------- */

enum ftype { F_STR, F_PATH, F_BOOL, F_INT, F_DURATION, F_WAIT, F_TEMPLATE, F_CONFIG, F_HELP, F_VERSION };

struct flag {
	const char *name;
	enum ftype type;
	size_t off;
	const char *help;
	size_t from;             /* F_PATH: where the path's origin is noted */
};

#define OFF(f) offsetof(struct config, f)
static const struct flag flags[] = {
	{ "consul-addr", F_STR, OFF(consul_addr), "Consul agent address (host:port or URL); env CONSUL_HTTP_ADDR", 0 },
	{ "consul-token", F_STR, OFF(consul_token), "ACL token; env CONSUL_HTTP_TOKEN (CONSUL_HTTP_TOKEN_FILE)", 0 },
	{ "consul-auth", F_STR, OFF(consul_auth), "\"user[:password]\" HTTP basic auth; env CONSUL_HTTP_AUTH", 0 },
	{ "consul-retry", F_BOOL, OFF(consul_retry), "retry failed calls to Consul (default true)", 0 },
	{ "consul-retry-attempts", F_INT, OFF(consul_retry_attempts),
	  "retries before giving up, exit 14 (0: never; default 12 with -once, never otherwise)", 0 },
	{ "consul-retry-backoff", F_DURATION, OFF(consul_retry_backoff_ms), "first retry delay, doubling (default 250ms)", 0 },
	{ "consul-retry-max-backoff", F_DURATION, OFF(consul_retry_max_backoff_ms), "retry delay cap (default 1m)", 0 },
	{ "consul-ssl", F_BOOL, OFF(consul_ssl), "talk HTTPS to Consul; env CONSUL_HTTP_SSL", 0 },
	{ "consul-ssl-verify", F_BOOL, OFF(consul_ssl_verify), "verify Consul's certificate (default true); env CONSUL_HTTP_SSL_VERIFY", 0 },
	{ "consul-ssl-ca-cert", F_PATH, OFF(consul_ca_cert), "CA file for Consul's certificate; env CONSUL_CACERT", OFF(ca_cert_from) },
	{ "consul-ssl-ca-path", F_PATH, OFF(consul_ca_path), "directory of CA files (c_rehash'd); env CONSUL_CAPATH", OFF(ca_path_from) },
	{ "consul-ssl-cert", F_PATH, OFF(consul_cert), "client certificate; env CONSUL_CLIENT_CERT", OFF(cert_from) },
	{ "consul-ssl-key", F_PATH, OFF(consul_key), "client key; env CONSUL_CLIENT_KEY", OFF(key_from) },
	{ "consul-ssl-server-name", F_STR, OFF(consul_server_name),
	  "name Consul's certificate must carry (and SNI); env CONSUL_TLS_SERVER_NAME", 0 },
	{ "max-stale", F_DURATION, OFF(max_stale_ms), "allow stale reads up to this age", 0 },
	{ "max-connections", F_INT, OFF(max_connections), "connections held to the agent at most (default 32)", 0 },
	{ "etcd-addr", F_STR, OFF(etcd_addr), "etcd address (host:port or URL); env ETCDCTL_ENDPOINTS", 0 },
	{ "etcd-v2", F_BOOL, OFF(etcd_v2), "read etcd through its v2 API (default: v3 gateway)", 0 },
	{ "etcd-ca-cert", F_STR, OFF(etcd_ca_cert), "CA file for etcd's certificate; env ETCDCTL_CACERT", 0 },
	{ "etcd-cert", F_STR, OFF(etcd_cert), "client certificate for etcd; env ETCDCTL_CERT", 0 },
	{ "etcd-key", F_STR, OFF(etcd_key), "its key; env ETCDCTL_KEY", 0 },
	{ "etcd-server-name", F_STR, OFF(etcd_server_name), "name etcd's certificate must carry (default: the address)", 0 },
	{ "etcd-user", F_STR, OFF(etcd_user), "etcd user, \"user\" or \"user:password\"; env ETCDCTL_USER", 0 },
	{ "etcd-password", F_STR, OFF(etcd_password), "its password; env ETCDCTL_PASSWORD", 0 },
	{ "client-ca-keys", F_STR, OFF(etcd_ca_cert), "confd's name for -etcd-ca-cert", 0 },
	{ "client-cert", F_STR, OFF(etcd_cert), "confd's name for -etcd-cert", 0 },
	{ "client-key", F_STR, OFF(etcd_key), "confd's name for -etcd-key", 0 },
	{ "username", F_STR, OFF(etcd_user), "confd's name for -etcd-user", 0 },
	{ "password", F_STR, OFF(etcd_password), "confd's name for -etcd-password", 0 },
	{ "template", F_TEMPLATE, 0, "\"source:destination[:command]\", repeatable", 0 },
	{ "wait", F_WAIT, 0, "quiescence \"min[:max]\", e.g. 2s:10s", 0 },
	{ "once", F_BOOL, OFF(once), "render every template once and exit", 0 },
	{ "dry", F_BOOL, OFF(dry), "print rendered templates to stdout, install nothing", 0 },
	{ "config", F_CONFIG, 0, "HCL configuration file, repeatable", 0 },
	{ "log-level", F_STR, OFF(log_level), "error, warn, info, debug or trace", 0 },
	{ "log-format", F_STR, OFF(log_format), "text (default) or json: one object per line", 0 },
	{ "status-addr", F_STR, OFF(status_addr), "serve /health, /status, /metrics on host:port", 0 },
	{ "pid-file", F_STR, OFF(pid_file), "write legate's pid here", 0 },
	{ "ready-file", F_STR, OFF(ready_file), "create this file after the first complete render", 0 },
	{ "ready-fd", F_INT, OFF(ready_fd), "write a line to this fd after the first complete render", 0 },
	{ "h", F_HELP, 0, "this help", 0 },
	{ "help", F_HELP, 0, NULL, 0 },
	{ "version", F_VERSION, 0, "print the version", 0 },
	{ "v", F_VERSION, 0, NULL, 0 },
};

/* consul-template's flags legate does not take: refused with the reason
 * (a prefix ending in '-' covers a family).  NULL reason: Go HTTP client
 * tuning, which libcurl's defaults cover; accepted with a warning. */
static const struct { const char *name; const char *why; } ct_flags[] = {
	{ "consul-transport-", NULL },
	{ "exec", "legate does not supervise a program; run it under legate-init next to legate" },
	{ "exec-", "legate does not supervise a program; run it under legate-init next to legate" },
	{ "syslog", "legate logs to stderr only" },
	{ "syslog-", "legate logs to stderr only" },
	{ "log-file", "legate logs to stderr only" },
	{ "log-rotate-", "legate logs to stderr only" },
	{ "kill-signal", "legate stops on SIGINT, SIGTERM and SIGQUIT" },
	{ "reload-signal", "legate reloads on SIGHUP" },
	{ "default-left-delimiter", "Mustache sets its delimiters in the template: {{=[[ ]]=}}" },
	{ "default-right-delimiter", "Mustache sets its delimiters in the template: {{=[[ ]]=}}" },
	{ "dedup", "legate has no de-duplication mode" },
	{ "parse-only", "use `legate render` to check a template" },
	{ "vault-", "legate does not read Vault" },
	{ "nomad-", "legate does not read Nomad" },
};

/* A consul-template flag legate does not take: -1 with the error, 0 when
 * it is accepted (and skipped: *skip_value says whether it takes a
 * value), 1 when it is not one of them. */
static int ct_flag(const char *name, bool has_value, bool *skip_value, struct lg_error *err)
{
	for (size_t i = 0; i < sizeof ct_flags / sizeof ct_flags[0]; i++) {
		const char *n = ct_flags[i].name;
		size_t l = strlen(n);
		if (n[l - 1] == '-' ? strncmp(name, n, l) != 0 : strcmp(name, n) != 0)
			continue;
		if (ct_flags[i].why)
			return cerr(err, "flag -%s (consul-template's): not supported by legate: %s", name, ct_flags[i].why);
		log_warn("flag -%s: Go HTTP client tuning; legate uses libcurl's defaults; ignored", name);
		/* every -consul-transport-* takes a value, but a boolean may come as -x=true only */
		*skip_value = !has_value && strcmp(name, "consul-transport-disable-keep-alives") != 0;
		return 0;
	}
	return 1;
}

void config_usage(FILE *f)
{
	fprintf(f, "usage: legate [flags]\n");
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (flags[i].help)
			fprintf(f, "  -%-24s %s\n", flags[i].name, flags[i].help);
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* Go's strconv.ParseBool, which Consul's client uses for its variables. */
static int parse_go_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*out = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return -1;
}

/* Sets a path and notes where it came from. */
int config_set_path(char **slot, char *from, size_t fromlen, const char *path, const char *origin)
{
	if (config_set_str(slot, path) < 0)
		return -1;
	snprintf(from, fromlen, "%s", origin);
	return 0;
}

/* The variables Consul's own client (and so consul-template) reads, below
 * the files and the flags. */
static int consul_env(struct config *cfg, struct lg_error *err)
{
	static const struct { const char *var; size_t off, from; } paths[] = {
		{ "CONSUL_CACERT", OFF(consul_ca_cert), OFF(ca_cert_from) },
		{ "CONSUL_CAPATH", OFF(consul_ca_path), OFF(ca_path_from) },
		{ "CONSUL_CLIENT_CERT", OFF(consul_cert), OFF(cert_from) },
		{ "CONSUL_CLIENT_KEY", OFF(consul_key), OFF(key_from) },
		{ "CONSUL_HTTP_TOKEN_FILE", OFF(consul_token_file), OFF(token_file_from) },
	};
	static const struct { const char *var; size_t off; } strs[] = {
		{ "CONSUL_HTTP_ADDR", OFF(consul_addr) },
		{ "CONSUL_TOKEN", OFF(consul_token) },        /* consul-template's older name */
		{ "CONSUL_HTTP_TOKEN", OFF(consul_token) },
		{ "CONSUL_HTTP_AUTH", OFF(consul_auth) },
		{ "CONSUL_TLS_SERVER_NAME", OFF(consul_server_name) },
	};
	static const struct { const char *var; size_t off; } bools[] = {
		{ "CONSUL_HTTP_SSL", OFF(consul_ssl) },
		{ "CONSUL_HTTP_SSL_VERIFY", OFF(consul_ssl_verify) },
	};
	const char *v;
	char *base = (char *)cfg;

	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if ((v = getenv(strs[i].var)) && *v && config_set_str((char **)(void *)(base + strs[i].off), v) < 0)
			return cerr(err, "out of memory");
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if ((v = getenv(paths[i].var)) && *v &&
		    config_set_path((char **)(void *)(base + paths[i].off), base + paths[i].from,
				    sizeof cfg->ca_cert_from, v, paths[i].var) < 0)
			return cerr(err, "out of memory");
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
		if ((v = getenv(bools[i].var)) && *v && parse_go_bool(v, (bool *)(void *)(base + bools[i].off)) < 0)
			return cerr(err, "%s=\"%s\": not a boolean (true, false, 1, 0)", bools[i].var, v);
	if ((v = getenv("CONSUL_HTTP_ADDR")) && strncmp(v, "unix://", 7) == 0)
		return cerr(err, "CONSUL_HTTP_ADDR=%s: a unix socket; legate talks to Consul over TCP", v);
	return 0;
}

/* A TLS file (or directory) that cannot be read is an error at start,
 * naming where it was given. */
static int check_path(const char *path, const char *from, bool dir, struct lg_error *err)
{
	struct stat st;

	if (!path)
		return 0;
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		return cerr(err, "%s: %s: %s", from, path, strerror(errno));
	if (dir && !S_ISDIR(st.st_mode))
		return cerr(err, "%s: %s: not a directory", from, path);
	if (!dir && S_ISDIR(st.st_mode))
		return cerr(err, "%s: %s: a directory, not a file", from, path);
	return 0;
}

/* Reads the token file (its content, trimmed, is the token, as Consul's
 * client does); then the checks no single layer can make. */
static int finish_consul(struct config *cfg, struct lg_error *err)
{
	if (check_path(cfg->consul_ca_cert, cfg->ca_cert_from, false, err) < 0 ||
	    check_path(cfg->consul_ca_path, cfg->ca_path_from, true, err) < 0 ||
	    check_path(cfg->consul_cert, cfg->cert_from, false, err) < 0 ||
	    check_path(cfg->consul_key, cfg->key_from, false, err) < 0)
		return -1;
	if (cfg->consul_token_file) {
		struct lg_error fe;
		size_t len;
		char *t = file_read(cfg->consul_token_file, 64 * 1024, &len, &fe), *s, *e;

		if (!t)
			return cerr(err, "%s: %s: %s", cfg->token_file_from, cfg->consul_token_file, fe.text);
		for (s = t; *s && strchr(" \t\r\n", *s); s++)
			;
		for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = '\0';
		if (!*s) {
			free(t);
			return cerr(err, "%s: %s: the file is empty", cfg->token_file_from, cfg->consul_token_file);
		}
		if (config_set_str(&cfg->consul_token, s) < 0) {
			free(t);
			return cerr(err, "out of memory");
		}
		free(t);
	}
	if (cfg->consul_retry_attempts < -1)
		cfg->consul_retry_attempts = cfg->once ? 12 : 0;
	else if (cfg->consul_retry_attempts < 0)
		return cerr(err, "-consul-retry-attempts must be 0 (no limit) or more");
	if (cfg->consul_retry_backoff_ms < 1)
		return cerr(err, "the retry backoff must be at least 1ms");
	if (cfg->consul_retry_max_backoff_ms < cfg->consul_retry_backoff_ms)
		return cerr(err, "the retry max_backoff (%ldms) is shorter than its backoff (%ldms)",
			    cfg->consul_retry_max_backoff_ms, cfg->consul_retry_backoff_ms);
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, struct lg_error *err)
{
	const char *env;
	int i;

	memset(cfg, 0, sizeof *cfg);
	cfg->consul_ssl_verify = true;
	cfg->consul_retry = true;
	cfg->consul_retry_attempts = -2;
	cfg->consul_retry_backoff_ms = 250;
	cfg->consul_retry_max_backoff_ms = 60000;
	cfg->consul_auth_enabled = -1;
	cfg->max_connections = 32;
	cfg->ready_fd = -1;
	memset(err, 0, sizeof *err);

	/* Pass 1: find -config files (they apply below the other flags). */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			continue;
		a += a[1] == '-' ? 2 : 1;
		if (strcmp(a, "config") == 0 && i + 1 < argc)
			a = argv[++i];
		else if (strncmp(a, "config=", 7) == 0)
			a += 7;
		else
			continue;
		char **cf = realloc(cfg->config_files, (cfg->nconfig_files + 1) * sizeof *cf);
		if (!cf || !(cf[cfg->nconfig_files] = strdup(a)))
			return cerr(err, "out of memory");
		cfg->config_files = cf;
		cfg->nconfig_files++;
	}

	if (consul_env(cfg, err) < 0)
		return -1;
	/* etcdctl's settings, the ones that mean the same here. */
	static const struct { const char *name; size_t off; } etcd_env[] = {
		{ "ETCDCTL_ENDPOINTS", OFF(etcd_addr) }, { "ETCDCTL_CACERT", OFF(etcd_ca_cert) },
		{ "ETCDCTL_CERT", OFF(etcd_cert) }, { "ETCDCTL_KEY", OFF(etcd_key) },
		{ "ETCDCTL_USER", OFF(etcd_user) }, { "ETCDCTL_PASSWORD", OFF(etcd_password) },
	};
	for (size_t k = 0; k < sizeof etcd_env / sizeof etcd_env[0]; k++)
		if ((env = getenv(etcd_env[k].name)) && *env &&
		    config_set_str((char **)((char *)cfg + etcd_env[k].off), env) < 0)
			return cerr(err, "out of memory");
	if ((env = getenv("ETCDCTL_DISCOVERY_SRV")) && *env)
		return cerr(err, "ETCDCTL_DISCOVERY_SRV: DNS discovery of etcd is not supported; "
			    "list the members in ETCDCTL_ENDPOINTS or -etcd-addr");
	if ((env = getenv("ETCDCTL_INSECURE_SKIP_TLS_VERIFY")) && !strcmp(env, "true"))
		return cerr(err, "ETCDCTL_INSECURE_SKIP_TLS_VERIFY: not supported; give etcd's CA "
			    "with ETCDCTL_CACERT or -etcd-ca-cert");

	for (size_t c = 0; c < cfg->nconfig_files; c++)
		if (config_load_file(cfg, cfg->config_files[c], err) < 0)
			return -1;

	/* Pass 2: every other flag, Go style: -name value, -name=value, --name. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		const struct flag *f = NULL;
		char name[64];
		size_t nl;

		if (a[0] != '-' || a[1] == '\0')
			return cerr(err, "unexpected argument \"%s\" (flags start with -)", a);
		a += a[1] == '-' ? 2 : 1;
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a) : strlen(a);
		if (nl >= sizeof name)
			return cerr(err, "unknown flag -%.40s", a);
		memcpy(name, a, nl);
		name[nl] = '\0';
		for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
			if (strcmp(flags[k].name, name) == 0)
				f = &flags[k];
		if (!f) {
			bool skip = false;
			int rc = ct_flag(name, eq != NULL, &skip, err);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				i += skip && i + 1 < argc;
				continue;
			}
			return cerr(err, "unknown flag -%s (legate -h lists them)", name);
		}
		if (eq) {
			val = eq + 1;
		} else if (f->type != F_BOOL && f->type != F_HELP && f->type != F_VERSION) {
			if (i + 1 >= argc)
				return cerr(err, "flag -%s needs a value", name);
			val = argv[++i];
		}
		char *base = (char *)cfg + f->off;
		switch (f->type) {
		case F_HELP:
			config_usage(stdout);
			return 1;
		case F_VERSION:
			printf("legate %s\n", LEGATE_VERSION);
			return 1;
		case F_CONFIG:
			break;  /* done in pass 1 */
		case F_STR:
			if (config_set_str((char **)(void *)base, val) < 0)
				return cerr(err, "out of memory");
			break;
		case F_PATH: {
			char from[80];
			snprintf(from, sizeof from, "-%s", name);
			if (config_set_path((char **)(void *)base, (char *)cfg + f->from, sizeof cfg->ca_cert_from,
					    val, from) < 0)
				return cerr(err, "out of memory");
			break;
		}
		case F_BOOL:
			if (val && parse_bool(val, (bool *)(void *)base) < 0)
				return cerr(err, "flag -%s: \"%s\" is not a boolean", name, val);
			if (!val)
				*(bool *)(void *)base = true;
			break;
		case F_INT: {
			char *end;
			long v = strtol(val, &end, 10);
			if (*val == '\0' || *end || v < -1 || v > 1000000)
				return cerr(err, "flag -%s: \"%s\" is not a number", name, val);
			*(int *)(void *)base = (int)v;
			break;
		}
		case F_DURATION:
			if (config_parse_duration(val, (long *)(void *)base) < 0)
				return cerr(err, "flag -%s: \"%s\" is not a duration (e.g. 5s, 500ms)", name, val);
			break;
		case F_WAIT:
			if (config_parse_wait(val, &cfg->wait_min_ms, &cfg->wait_max_ms) < 0)
				return cerr(err, "flag -wait: \"%s\": want min[:max] durations with max >= min", val);
			break;
		case F_TEMPLATE:
			if (template_flag(cfg, val, err) < 0)
				return -1;
			break;
		}
	}
	if (cfg->max_connections < 1)
		return cerr(err, "-max-connections must be at least 1");
	if (finish_consul(cfg, err) < 0)
		return -1;
	if (!cfg->consul_addr && config_set_str(&cfg->consul_addr, "127.0.0.1:8500") < 0)
		return cerr(err, "out of memory");
	if (strncmp(cfg->consul_addr, "https://", 8) == 0)
		cfg->consul_ssl = true;
	/* -consul-ssl with a bare host:port means HTTPS to it. */
	if (cfg->consul_ssl && !strstr(cfg->consul_addr, "://")) {
		char *url;
		if (asprintf(&url, "https://%s", cfg->consul_addr) < 0)
			return cerr(err, "out of memory");
		free(cfg->consul_addr);
		cfg->consul_addr = url;
	}
	if (!cfg->log_level && config_set_str(&cfg->log_level, "info") < 0)
		return cerr(err, "out of memory");
	for (size_t t = 0; t < cfg->ntemplates; t++) {
		struct template_config *tc = &cfg->templates[t];
		if (!tc->destination && !cfg->dry)
			return cerr(err, "%s: a template needs a destination", tc->origin);
		if (!tc->escape && config_set_str(&tc->escape, "config") < 0)
			return cerr(err, "out of memory");
	}
	cfg->run = (struct runner_settings){ cfg->templates, cfg->ntemplates, cfg->wait_min_ms,
					     cfg->wait_max_ms, cfg->once, cfg->dry };
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->consul_addr);
	free(cfg->consul_token);
	free(cfg->consul_ca_cert);
	free(cfg->consul_ca_path);
	free(cfg->consul_token_file);
	free(cfg->consul_auth);
	free(cfg->consul_auth_user);
	free(cfg->consul_auth_pass);
	free(cfg->consul_cert);
	free(cfg->consul_key);
	free(cfg->consul_server_name);
	free(cfg->etcd_addr);
	free(cfg->etcd_ca_cert);
	free(cfg->etcd_cert);
	free(cfg->etcd_key);
	free(cfg->etcd_server_name);
	free(cfg->etcd_user);
	free(cfg->etcd_password);
	free(cfg->log_level);
	free(cfg->log_format);
	free(cfg->status_addr);
	free(cfg->pid_file);
	free(cfg->ready_file);
	for (size_t i = 0; i < cfg->ntemplates; i++)
		template_free(&cfg->templates[i]);
	free(cfg->templates);
	for (size_t i = 0; i < cfg->nconfig_files; i++)
		free(cfg->config_files[i]);
	free(cfg->config_files);
	memset(cfg, 0, sizeof *cfg);
}
