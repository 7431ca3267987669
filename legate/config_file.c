/* config_file: consul-template's HCL configuration files into struct
 * config, each block a table of keys; a key nobody knows is an error
 * naming FILE:LINE and the key.  A consul-template key legate does not
 * implement is refused with the reason, unless its value asks for what
 * legate does anyway (syslog { enabled = false }, kill_signal = "SIGTERM");
 * only keys that change nothing without Vault or Nomad, or only tune Go's
 * HTTP client, are a warning. */
#include "legate/config_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "legate/hcl.h"

/* A template's exec { command timeout }: read here, then made the
 * template's command when its block ends. */
struct texec {
	struct command command;
	long timeout_ms;
	int line;
};

struct hctx {
	const char *file;
	struct lg_error *err;
	struct texec exec;
};

static int herr(struct hctx *h, const struct hcl_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* An error at node n of the file: FILE:LINE, then the key and what. */
static int herr(struct hctx *h, const struct hcl_node *n, const char *fmt, ...)
{
	char text[sizeof h->err->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return lg_error_set(h->err, h->file, n->line, 0, "%s: %s", n->key ? n->key : "value", text);
}

/* consul-template keys legate does not implement: a file that has them is
 * still read (with a warning naming FILE:LINE), so an existing consul-template
 * configuration keeps working; a key nobody knows stays an error. */
static bool ignored_key(struct hctx *h, const struct hcl_node *n, const char *const *keys)
{
	for (; *keys; keys++) {
		if (strcmp(n->key, *keys) == 0) {
			log_warn("%s:%d: %s: not supported by legate; ignored", h->file, n->line, n->key);
			return true;
		}
	}
	return false;
}

static const char *const ignored_top[] = {
	"vault", "nomad", "dump_signal", NULL
};
static const char *const ignored_consul[] = { "transport", NULL };
static const char *const ignored_template[] = {
	"sandbox_path", "function_denylist", "function_blacklist", NULL
};

/* consul-template keys refused, each with its reason, unless the value is
 * one of `unless` ("false" for a bool, or a block with enabled = false;
 * else strings separated by |). */
struct refusal {
	const char *key;
	const char *unless;
	const char *why;
};

static const struct refusal refused_top[] = {
	{ "exec", NULL, "legate does not supervise a program; run it under legate-init next to legate" },
	{ "log_file", NULL, "legate logs to stderr only (legate-init or the container runtime keeps it); "
	  "remove the block" },
	{ "syslog", "false", "legate logs to stderr only; remove the block or set enabled = false" },
	{ "deduplicate", "false", "legate has no de-duplication mode; set enabled = false" },
	{ "default_delimiters", NULL, "Mustache sets its delimiters in the template: {{=[[ ]]=}}" },
	{ "kill_signal", "SIGINT|SIGTERM|SIGQUIT", "legate stops on SIGINT, SIGTERM and SIGQUIT only" },
	{ "reload_signal", "SIGHUP", "legate reloads on SIGHUP only" },
	{ "template_error_fatal", "false", "legate keeps running on a render error (the installed file "
	  "stays, /health tells); set it to false or remove it" },
	{ "err_on_failed_lookup", "false", "legate waits for data it cannot read yet and keeps the last "
	  "good data; set it to false or remove it" },
	{ NULL, NULL, NULL },
};
static const struct refusal refused_consul[] = {
	{ "namespace", "", "Consul Enterprise namespaces are not supported" },
	{ "partition", "", "Consul Enterprise admin partitions are not supported" },
	{ NULL, NULL, NULL },
};
static const struct refusal refused_template[] = {
	{ "left_delimiter", NULL, "Mustache sets its delimiters in the template: {{=[[ ]]=}}" },
	{ "right_delimiter", NULL, "Mustache sets its delimiters in the template: {{=[[ ]]=}}" },
	{ "error_fatal", "false", "legate keeps running on a render error; set it to false or remove it" },
	{ NULL, NULL, NULL },
};

/* Does n hold a value that asks for nothing legate does not do? */
static bool harmless(const struct hcl_node *n, const char *unless)
{
	const char *v = NULL;
	size_t l;

	if (!unless)
		return false;
	if (n->type == HCL_BOOL)
		return strcmp(unless, "false") == 0 && !n->b;
	if (n->type == HCL_BLOCK) {
		bool off = false;
		for (const struct hcl_node *c = n->child; c; c = c->next)
			if (strcmp(c->key, "enabled") == 0)
				off = c->type == HCL_BOOL && !c->b;
		return strcmp(unless, "false") == 0 && off;
	}
	if (n->type != HCL_STRING)
		return false;
	v = n->str;
	l = strlen(v);
	if (!*unless)
		return l == 0;
	for (const char *u = unless; *u; u += strcspn(u, "|"), u += *u == '|')
		if (l && strncmp(u, v, l) == 0 && (u[l] == '|' || u[l] == '\0'))
			return true;
	return false;
}

/* A refused key: -1 with the error; 0 when the value is harmless; 1 when
 * the key is not in the list. */
static int refuse(struct hctx *h, const struct hcl_node *n, const struct refusal *r)
{
	for (; r && r->key; r++) {
		if (strcmp(n->key, r->key) != 0)
			continue;
		if (harmless(n, r->unless))
			return 0;
		return herr(h, n, "not supported by legate: %s", r->why);
	}
	return 1;
}

static int want(struct hctx *h, const struct hcl_node *n, enum hcl_type t)
{
	if (n->type != t)
		return herr(h, n, "expected %s, found %s", hcl_type_name(t), hcl_type_name(n->type));
	return 0;
}

static int h_str(struct hctx *h, const struct hcl_node *n, char **slot)
{
	if (want(h, n, HCL_STRING) < 0)
		return -1;
	if (config_set_str(slot, n->str) < 0)
		return herr(h, n, "out of memory");
	return 0;
}

static int h_bool(struct hctx *h, const struct hcl_node *n, bool *slot)
{
	if (want(h, n, HCL_BOOL) < 0)
		return -1;
	*slot = n->b;
	return 0;
}

static int h_duration(struct hctx *h, const struct hcl_node *n, long *ms)
{
	if (n->type == HCL_NUMBER && n->num >= 0 && n->num < 1e9) {
		*ms = (long)(n->num * 1000);
		return 0;
	}
	if (n->type != HCL_STRING || config_parse_duration(n->str, ms) < 0)
		return herr(h, n, "expected a duration such as \"5s\" or \"500ms\"");
	return 0;
}

/* wait = "min:max" or wait { min = "2s" max = "10s" } */
static int h_wait(struct hctx *h, const struct hcl_node *n, long *min_ms, long *max_ms)
{
	bool have_max = false;

	if (n->type == HCL_STRING) {
		if (config_parse_wait(n->str, min_ms, max_ms) < 0)
			return herr(h, n, "expected \"min[:max]\" durations with max >= min");
		return 0;
	}
	if (want(h, n, HCL_BLOCK) < 0)
		return -1;
	for (const struct hcl_node *c = n->child; c; c = c->next) {
		if (strcmp(c->key, "min") == 0) {
			if (h_duration(h, c, min_ms) < 0)
				return -1;
		} else if (strcmp(c->key, "max") == 0) {
			if (h_duration(h, c, max_ms) < 0)
				return -1;
			have_max = true;
		} else if (strcmp(c->key, "enabled") == 0) {
			bool on;
			if (h_bool(h, c, &on) < 0)
				return -1;
			if (!on)
				*min_ms = *max_ms = 0;
		} else {
			return herr(h, c, "unknown key in wait block (known: min, max, enabled)");
		}
	}
	if (!have_max)
		*max_ms = *min_ms * 4;
	if (*max_ms < *min_ms)
		return herr(h, n, "max is shorter than min");
	return 0;
}

static int h_command(struct hctx *h, const struct hcl_node *n, struct command *c)
{
	command_free(c);
	if (n->type == HCL_LIST) {
		/* A list is an exact argv: no shell, no splitting. */
		size_t cnt = 0, i = 0;
		for (const struct hcl_node *a = n->child; a; a = a->next) {
			if (want(h, a, HCL_STRING) < 0)
				return -1;
			cnt++;
		}
		if (cnt == 0)
			return herr(h, n, "empty command");
		c->argv = calloc(cnt + 1, sizeof *c->argv);
		if (!c->argv)
			return herr(h, n, "out of memory");
		size_t tl = 1;
		for (const struct hcl_node *a = n->child; a; a = a->next) {
			if (!(c->argv[i++] = strdup(a->str)))
				return herr(h, n, "out of memory");
			tl += strlen(a->str) + 1;
		}
		if (!(c->text = malloc(tl)))
			return herr(h, n, "out of memory");
		c->text[0] = '\0';
		for (i = 0; i < cnt; i++) {
			if (i)
				strcat(c->text, " ");
			strcat(c->text, c->argv[i]);
		}
		return 0;
	}
	if (want(h, n, HCL_STRING) < 0)
		return -1;
	if (command_parse(n->str, c) < 0)
		return herr(h, n, "empty command");
	return 0;
}

/* Expands ${VAR} and ${VAR-default} from the environment, as HAProxy does
 * in its own configuration, so that the socket paths the image and its
 * templates take from the environment are written once.  NULL on an
 * unterminated ${ or out of memory. */
static char *expand_env(const char *s)
{
	struct buf b = BUF_INIT;

	while (*s) {
		const char *end, *dash, *v;
		char name[128];
		size_t nl;
		if (s[0] != '$' || s[1] != '{') {
			if (buf_putc(&b, *s++) < 0)
				goto err;
			continue;
		}
		if (!(end = strchr(s + 2, '}')))
			goto err;
		dash = memchr(s + 2, '-', (size_t)(end - s - 2));
		nl = (size_t)((dash ? dash : end) - (s + 2));
		if (nl == 0 || nl >= sizeof name)
			goto err;
		memcpy(name, s + 2, nl);
		name[nl] = '\0';
		v = getenv(name);
		if (v && *v) {
			if (buf_puts(&b, v) < 0)
				goto err;
		} else if (dash && buf_append(&b, dash + 1, (size_t)(end - dash - 1)) < 0) {
			goto err;
		}
		s = end + 1;
	}
	{
		char *r = buf_steal(&b, NULL);
		return r ? r : strdup("");
	}
err:
	buf_free(&b);
	return NULL;
}

static int h_path_env(struct hctx *h, const struct hcl_node *n, char **slot)
{
	char *v;

	if (want(h, n, HCL_STRING) < 0)
		return -1;
	if (!(v = expand_env(n->str)))
		return herr(h, n, "an unterminated or empty ${...}");
	if (!*v) {
		free(v);
		return herr(h, n, "empty path");
	}
	free(*slot);
	*slot = v;
	return 0;
}

/* ---- the blocks, as tables of keys ------------------------------------------ */

/* How a key's value is read into its field (at base + off). */
enum kind {
	K_STR,        /* a string */
	K_PATH_ENV,   /* a string with ${VAR} and ${VAR-default} expanded */
	K_BOOL,
	K_DURATION,   /* "5s", "500ms", or a number of seconds: into a long of ms */
	K_COMMAND,    /* a string (split, or sh -c) or a list (an exact argv) */
	K_WAIT,       /* the configuration's wait: "min[:max]" or a wait block */
	K_TWAIT,      /* a template's own wait, and its wait_set */
	K_PERMS,      /* an octal mode, number or string */
	K_ESCAPE,     /* "config", "html" or "none" */
	K_CONNS,      /* a number from 1 to 10000, into an int */
	K_BLOCK,      /* a nested block (sub), whose fields live at base + off */
	K_FILE,       /* a readable file's path; `from` notes where it was given */
	K_DIR,        /* a directory's path, the same */
	K_ATTEMPTS,   /* a number, 0 or more, into an int */
	K_ON,         /* a bool into an int (-1: not given) */
	K_ID,         /* a user or group: a number or a name, into a string */
	K_CONSUL,     /* consul = "address", or a consul block (sub) */
};

struct block;

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const struct block *sub;
	size_t from;     /* K_FILE, K_DIR: a char[300] at base + from */
};

/* A block: its keys, the consul-template keys it ignores with a warning,
 * and optional hooks: begin makes the struct the block fills (a new
 * template) and end checks the block as a whole. */
struct block {
	const char *name;
	const struct key *keys;
	const char *const *ignored;
	const struct refusal *refused;
	void *(*begin)(struct hctx *h, void *base, const struct hcl_node *n);
	int (*end)(struct hctx *h, void *base, const struct hcl_node *n);
};

static int read_block(struct hctx *h, const struct block *b, void *base, const struct hcl_node *n);

static int h_perms(struct hctx *h, const struct hcl_node *n, int *slot)
{
	/* 0644 is octal whether written as a number or a string. */
	const char *s = n->type == HCL_NUMBER || n->type == HCL_STRING ? n->str : NULL;
	char *end;
	long v = s ? strtol(s, &end, 8) : -1;

	if (!s || *end || v < 0 || v > 07777)
		return herr(h, n, "expected an octal mode such as 0644");
	*slot = (int)v;
	return 0;
}

static int read_key(struct hctx *h, const struct key *k, void *base, const struct hcl_node *n)
{
	void *field = (char *)base + k->off;
	int rc;

	switch (k->kind) {
	case K_STR:
		return h_str(h, n, field);
	case K_PATH_ENV:
		return h_path_env(h, n, field);
	case K_BOOL:
		return h_bool(h, n, field);
	case K_DURATION:
		return h_duration(h, n, field);
	case K_COMMAND:
		return h_command(h, n, field);
	case K_WAIT: {
		struct config *c = base;
		return h_wait(h, n, &c->wait_min_ms, &c->wait_max_ms);
	}
	case K_TWAIT: {
		struct template_config *t = base;
		rc = h_wait(h, n, &t->wait_min_ms, &t->wait_max_ms);
		t->wait_set = rc == 0;
		return rc;
	}
	case K_PERMS:
		return h_perms(h, n, field);
	case K_ESCAPE:
		if (h_str(h, n, field) < 0)
			return -1;
		if (strcmp(*(char **)field, "config") && strcmp(*(char **)field, "html") &&
		    strcmp(*(char **)field, "none"))
			return herr(h, n, "expected \"config\", \"html\" or \"none\"");
		return 0;
	case K_CONNS:
		if (want(h, n, HCL_NUMBER) < 0)
			return -1;
		if (n->num < 1 || n->num > 10000)
			return herr(h, n, "expected a number from 1 to 10000");
		*(int *)field = (int)n->num;
		return 0;
	case K_BLOCK:
		return read_block(h, k->sub, field, n);
	case K_CONSUL:
		if (n->type == HCL_STRING)
			return h_str(h, n, &((struct config *)base)->consul_addr);
		return read_block(h, k->sub, field, n);
	case K_FILE:
	case K_DIR: {
		char from[300];
		if (want(h, n, HCL_STRING) < 0)
			return -1;
		snprintf(from, sizeof from, "%s:%d: %s", h->file, n->line, n->key);
		if (config_set_path(field, (char *)base + k->from, sizeof from, n->str, from) < 0)
			return herr(h, n, "out of memory");
		return 0;
	}
	case K_ATTEMPTS:
		if (n->type != HCL_NUMBER || n->num < 0 || n->num > 1000000 || n->num != (int)n->num)
			return herr(h, n, "expected a number of attempts, 0 (no limit) or more");
		*(int *)field = (int)n->num;
		return 0;
	case K_ON: {
		bool b;
		if (h_bool(h, n, &b) < 0)
			return -1;
		*(int *)field = b;
		return 0;
	}
	case K_ID:
		if (n->type == HCL_NUMBER && n->num >= 0 && n->num == (long)n->num) {
			char id[32];
			snprintf(id, sizeof id, "%ld", (long)n->num);
			return config_set_str(field, id) < 0 ? herr(h, n, "out of memory") : 0;
		}
		return h_str(h, n, field);
	}
	return -1;
}

static int read_block(struct hctx *h, const struct block *b, void *base, const struct hcl_node *n)
{
	int rc;

	if (want(h, n, HCL_BLOCK) < 0)
		return -1;
	if (b->begin && !(base = b->begin(h, base, n)))
		return -1;
	for (const struct hcl_node *c = n->child; c; c = c->next) {
		const struct key *k;
		for (k = b->keys; k->name && strcmp(k->name, c->key) != 0; k++)
			;
		if (k->name) {
			if (read_key(h, k, base, c) < 0)
				return -1;
		} else if ((rc = refuse(h, c, b->refused)) <= 0) {
			if (rc < 0)
				return -1;
		} else if (!b->ignored || !ignored_key(h, c, b->ignored)) {
			return herr(h, c, "unknown key in %s", b->name);
		}
	}
	return b->end ? b->end(h, base, n) : 0;
}

/* template { haproxy { ... } } */
static void *haproxy_begin(struct hctx *h, void *base, const struct hcl_node *n)
{
	struct template_haproxy *hp = base;
	char origin[300];

	hp->enabled = true;
	snprintf(origin, sizeof origin, "%s:%d", h->file, n->line);
	if (config_set_str(&hp->origin, origin) < 0) {
		herr(h, n, "out of memory");
		return NULL;
	}
	return hp;
}

static int haproxy_end(struct hctx *h, void *base, const struct hcl_node *n)
{
	const struct template_haproxy *hp = base;

	if (!hp->master_socket)
		return herr(h, n, "the haproxy block needs master_socket (HAProxy's -S socket)");
	if (hp->reload_timeout_ms < 100 || hp->audit_interval_ms < 100)
		return herr(h, n, "reload_timeout and audit_interval must be at least 100ms");
	return 0;
}

#define HP(f) offsetof(struct template_haproxy, f)
static const struct key haproxy_keys[] = {
	{ "master_socket", K_PATH_ENV, HP(master_socket), NULL, 0 },
	{ "runtime_socket", K_PATH_ENV, HP(runtime_socket), NULL, 0 },
	{ "drain_timeout", K_DURATION, HP(drain_timeout_ms), NULL, 0 },
	{ "reload_timeout", K_DURATION, HP(reload_timeout_ms), NULL, 0 },
	{ "audit_interval", K_DURATION, HP(audit_interval_ms), NULL, 0 },
	{ "runtime", K_BOOL, HP(runtime), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block haproxy_block = {
	"haproxy block (known: master_socket, runtime_socket, drain_timeout, reload_timeout, "
	"audit_interval, runtime)", haproxy_keys, NULL, NULL, haproxy_begin, haproxy_end,
};

/* template { exec { command timeout } }: consul-template's command after a
 * render, as the template's command. */
static void *exec_begin(struct hctx *h, void *base, const struct hcl_node *n)
{
	(void)base;
	command_free(&h->exec.command);
	h->exec.timeout_ms = 0;
	h->exec.line = n->line;
	return &h->exec;
}

static int exec_end(struct hctx *h, void *base, const struct hcl_node *n)
{
	(void)base;
	if (!h->exec.command.argv)
		return herr(h, n, "an exec block needs a command");
	return 0;
}

#define EX(f) offsetof(struct texec, f)
static const struct key exec_keys[] = {
	{ "command", K_COMMAND, EX(command), NULL, 0 },
	{ "timeout", K_DURATION, EX(timeout_ms), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block exec_block = {
	"template exec block (known: command, timeout; legate runs it as the template's command)",
	exec_keys, NULL, NULL, exec_begin, exec_end,
};

/* template { ... }: each block adds a template. */
static void *template_begin(struct hctx *h, void *base, const struct hcl_node *n)
{
	struct template_config *t = config_template_add(base);
	char origin[300];

	snprintf(origin, sizeof origin, "%s:%d", h->file, n->line);
	if (!t || !(t->origin = strdup(origin))) {
		herr(h, n, "out of memory");
		return NULL;
	}
	command_free(&h->exec.command);
	h->exec.line = 0;
	return t;
}

static int template_end(struct hctx *h, void *base, const struct hcl_node *n)
{
	struct template_config *t = base;

	if (h->exec.line) {
		struct hcl_node at = *n;
		at.line = h->exec.line;
		at.key = (char *)"exec";
		if (t->command.argv)
			return herr(h, &at, "a template takes command or exec { command }, not both");
		t->command = h->exec.command;
		memset(&h->exec.command, 0, sizeof h->exec.command);
		if (h->exec.timeout_ms > 0)
			t->command_timeout_ms = h->exec.timeout_ms;
		h->exec.line = 0;
	}

	if (!t->source == !t->contents)
		return herr(h, n, "a template needs exactly one of source or contents");
	if (t->haproxy.enabled && t->command.argv)
		return herr(h, n, "command and haproxy {} both reload HAProxy: legate's haproxy block reloads "
			    "it (confirmed) or changes servers without a reload; remove the command");
	return 0;
}

#define TP(f) offsetof(struct template_config, f)
static const struct key template_keys[] = {
	{ "source", K_STR, TP(source), NULL, 0 },
	{ "contents", K_STR, TP(contents), NULL, 0 },
	{ "destination", K_STR, TP(destination), NULL, 0 },
	{ "command", K_COMMAND, TP(command), NULL, 0 },
	{ "command_timeout", K_DURATION, TP(command_timeout_ms), NULL, 0 },
	{ "check", K_COMMAND, TP(check), NULL, 0 },
	{ "check_timeout", K_DURATION, TP(check_timeout_ms), NULL, 0 },
	{ "backup", K_BOOL, TP(backup), NULL, 0 },
	{ "create_dest_dirs", K_BOOL, TP(create_dest_dirs), NULL, 0 },
	{ "strict", K_BOOL, TP(strict), NULL, 0 },
	{ "error_on_missing_key", K_BOOL, TP(error_on_missing_key), NULL, 0 },
	{ "user", K_STR, TP(user), NULL, 0 },
	{ "group", K_STR, TP(group), NULL, 0 },
	{ "partials", K_STR, TP(partials_dir), NULL, 0 },
	{ "wait", K_TWAIT, 0, NULL, 0 },
	{ "escape", K_ESCAPE, TP(escape), NULL, 0 },
	{ "perms", K_PERMS, TP(perms), NULL, 0 },
	{ "haproxy", K_BLOCK, TP(haproxy), &haproxy_block, 0 },
	{ "exec", K_BLOCK, 0, &exec_block, 0 },
	{ "uid", K_ID, TP(user), NULL, 0 },
	{ "gid", K_ID, TP(group), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block template_block = {
	"template block", template_keys, ignored_template, refused_template, template_begin, template_end,
};

#define CF(f) offsetof(struct config, f)
static const struct key ssl_keys[] = {
	{ "enabled", K_BOOL, CF(consul_ssl), NULL, 0 },
	{ "verify", K_BOOL, CF(consul_ssl_verify), NULL, 0 },
	{ "ca_cert", K_FILE, CF(consul_ca_cert), NULL, CF(ca_cert_from) },
	{ "ca_path", K_DIR, CF(consul_ca_path), NULL, CF(ca_path_from) },
	{ "cert", K_FILE, CF(consul_cert), NULL, CF(cert_from) },
	{ "key", K_FILE, CF(consul_key), NULL, CF(key_from) },
	{ "server_name", K_STR, CF(consul_server_name), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block ssl_block = { "ssl block", ssl_keys, NULL, NULL, NULL, NULL };

static const struct key retry_keys[] = {
	{ "enabled", K_BOOL, CF(consul_retry), NULL, 0 },
	{ "attempts", K_ATTEMPTS, CF(consul_retry_attempts), NULL, 0 },
	{ "backoff", K_DURATION, CF(consul_retry_backoff_ms), NULL, 0 },
	{ "max_backoff", K_DURATION, CF(consul_retry_max_backoff_ms), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static int retry_end(struct hctx *h, void *base, const struct hcl_node *n)
{
	const struct config *c = base;

	if (c->consul_retry_backoff_ms < 1)
		return herr(h, n, "backoff must be at least 1ms");
	if (c->consul_retry_max_backoff_ms < c->consul_retry_backoff_ms)
		return herr(h, n, "max_backoff (%ldms) is shorter than backoff (%ldms)",
			    c->consul_retry_max_backoff_ms, c->consul_retry_backoff_ms);
	return 0;
}

static const struct block retry_block = {
	"retry block (known: enabled, attempts, backoff, max_backoff)", retry_keys, NULL, NULL, NULL, retry_end,
};

/* auth { enabled username password }: basic auth, as "user:password". */
static int auth_end(struct hctx *h, void *base, const struct hcl_node *n)
{
	struct config *c = base;
	char *a;

	if (c->consul_auth_enabled == 0) {
		free(c->consul_auth);
		c->consul_auth = NULL;
		return 0;
	}
	if (!c->consul_auth_user)
		return c->consul_auth_enabled == 1 ? herr(h, n, "auth is enabled but has no username") : 0;
	if (asprintf(&a, "%s:%s", c->consul_auth_user, c->consul_auth_pass ? c->consul_auth_pass : "") < 0)
		return herr(h, n, "out of memory");
	free(c->consul_auth);
	c->consul_auth = a;
	return 0;
}

static const struct key auth_keys[] = {
	{ "enabled", K_ON, CF(consul_auth_enabled), NULL, 0 },
	{ "username", K_STR, CF(consul_auth_user), NULL, 0 },
	{ "password", K_STR, CF(consul_auth_pass), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block auth_block = {
	"auth block (known: enabled, username, password)", auth_keys, NULL, NULL, NULL, auth_end,
};

static const struct key consul_keys[] = {
	{ "address", K_STR, CF(consul_addr), NULL, 0 },
	{ "token", K_STR, CF(consul_token), NULL, 0 },
	{ "token_file", K_FILE, CF(consul_token_file), NULL, CF(token_file_from) },
	{ "ssl", K_BLOCK, 0, &ssl_block, 0 },
	{ "auth", K_BLOCK, 0, &auth_block, 0 },
	{ "retry", K_BLOCK, 0, &retry_block, 0 },
	{ "max_connections", K_CONNS, CF(max_connections), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block consul_block = {
	"consul block", consul_keys, ignored_consul, refused_consul, NULL, NULL,
};

static const struct key etcd_keys[] = {
	{ "address", K_STR, CF(etcd_addr), NULL, 0 },
	{ "v2", K_BOOL, CF(etcd_v2), NULL, 0 },
	{ "ca_cert", K_STR, CF(etcd_ca_cert), NULL, 0 },
	{ "cert", K_STR, CF(etcd_cert), NULL, 0 },
	{ "key", K_STR, CF(etcd_key), NULL, 0 },
	{ "server_name", K_STR, CF(etcd_server_name), NULL, 0 },
	{ "user", K_STR, CF(etcd_user), NULL, 0 },
	{ "password", K_STR, CF(etcd_password), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};
static const struct block etcd_block = { "etcd block", etcd_keys, NULL, NULL, NULL, NULL };

static const struct key top_keys[] = {
	{ "consul", K_CONSUL, 0, &consul_block, 0 },
	{ "once", K_BOOL, CF(once), NULL, 0 },
	{ "block_query_wait", K_DURATION, CF(block_query_wait_ms), NULL, 0 },
	{ "template", K_BLOCK, 0, &template_block, 0 },
	{ "etcd", K_BLOCK, 0, &etcd_block, 0 },
	{ "wait", K_WAIT, 0, NULL, 0 },
	{ "log_level", K_STR, CF(log_level), NULL, 0 },
	{ "log_format", K_STR, CF(log_format), NULL, 0 },
	{ "pid_file", K_STR, CF(pid_file), NULL, 0 },
	{ "max_stale", K_DURATION, CF(max_stale_ms), NULL, 0 },
	{ "status_addr", K_STR, CF(status_addr), NULL, 0 },
	{ "ready_file", K_STR, CF(ready_file), NULL, 0 },
	{ NULL, K_STR, 0, NULL, 0 },
};

int config_load_file(struct config *cfg, const char *path, struct lg_error *err)
{
	struct hcl_node *root = hcl_parse_file(path, err);
	struct hctx h = { .file = path, .err = err };
	int rc = 0;

	if (!root)
		return -1;
	/* The file itself is a block whose unknown keys get "unknown key". */
	for (const struct hcl_node *c = root->child; c && rc == 0; c = c->next) {
		const struct key *k;
		for (k = top_keys; k->name && strcmp(k->name, c->key) != 0; k++)
			;
		if (k->name)
			rc = read_key(&h, k, cfg, c);
		else if ((rc = refuse(&h, c, refused_top)) > 0)
			rc = ignored_key(&h, c, ignored_top) ? 0 : herr(&h, c, "unknown key");
	}
	command_free(&h.exec.command);
	hcl_free(root);
	return rc;
}

