/* config: the built-in HAProxy template for TCP forwards, the data it is
 * rendered with, and "haproxy -c" on a rendering. */
#include "ambassador/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "renderer/command.h"
#include "renderer/install.h"
#include "mustache/mustache.h"

/* One listen section per forward that has backends.  A forward with none
 * has no bind line at all: the kernel refuses connections to its port at
 * once (RST), where an accepted-then-closed connection would look like a
 * broken backend to the client.  Servers are tried in turn; a refused
 * connect is retried once on another server (redispatch). */
static const char template_src[] =
	"# HAProxy configuration written by legate ambassador; rewritten on every change.\n"
	"global\n"
	"    maxconn 4096\n"
	"    # after a reload, old workers finish their connections, for an hour at most\n"
	"    hard-stop-after 1h\n"
	"{{#lua}}\n"
	"    lua-load {{lua}}\n"
	"{{/lua}}\n"
	"\n"
	"defaults\n"
	"    mode tcp\n"
	"    balance roundrobin\n"
	"    timeout connect 3s\n"
	"    timeout client 1h\n"
	"    timeout server 1h\n"
	"    retries 2\n"
	"    option redispatch\n"
	"    default-server init-addr libc,none\n"
	"{{#forwards}}\n"
	"\n"
	"# {{arg}}\n"
	"listen {{name}}\n"
	"    bind {{bind}}\n"
	"{{#lines}}\n"
	"    {{.}}\n"
	"{{/lines}}\n"
	"{{#servers}}\n"
	"    server {{name}} {{address}}{{opts}}\n"
	"{{/servers}}\n"
	"{{/forwards}}\n";

struct amb_config {
	const struct amb_spec *spec;
	struct amb_creds_cfg *creds;      /* one per forward */
	char lua_path[4200];              /* "" when no forward needs Lua */
	bool secret;
	struct mustache_tpl *tpl;
	struct mustache_opts opts;
	struct command check;
};

struct amb_config *amb_config_new(const struct amb_spec *spec, struct lg_error *err)
{
	struct amb_config *c = calloc(1, sizeof *c);
	struct lg_error me;
	char msg[512];
	static const char *const check_args[] = { "-c", "-f", "{{.src}}" };
	size_t nargs = sizeof check_args / sizeof check_args[0];

	if (!c)
		goto oom;
	c->spec = spec;
	c->tpl = mustache_compile("ambassador.cfg", template_src, sizeof template_src - 1, &me);
	if (!c->tpl) {
		lg_error_set(err, NULL, 0, 0, "built-in template: %s", lg_error_str(&me, msg, sizeof msg));
		amb_config_free(c);
		return NULL;
	}
	mustache_opts_init(&c->opts);
	c->opts.escape = MUSTACHE_ESCAPE_CONFIG;
	c->opts.strict = 1;
	c->check.argv = calloc(nargs + 2, sizeof *c->check.argv);
	if (!c->check.argv || !(c->check.argv[0] = strdup(spec->haproxy)))
		goto oom;
	for (size_t i = 0; i < nargs; i++)
		if (!(c->check.argv[i + 1] = strdup(check_args[i])))
			goto oom;
	if (!(c->check.text = malloc(strlen(spec->haproxy) + 24)))
		goto oom;
	sprintf(c->check.text, "%s -c -f {{.src}}", spec->haproxy);
	if (!(c->creds = calloc(spec->nfwd ? spec->nfwd : 1, sizeof *c->creds)))
		goto oom;
	snprintf(c->lua_path, sizeof c->lua_path, "%s/redis-auth.lua", spec->run_dir);
	for (size_t i = 0; i < spec->nfwd; i++) {
		const struct amb_forward *f = &spec->fwd[i];
		char tag[32];
		snprintf(tag, sizeof tag, "port_%d", f->bind_port);
		if (amb_creds_prepare(&f->creds, spec->run_dir, tag, c->lua_path, spec->print_config,
				      &c->creds[i], &me) < 0) {
			lg_error_set(err, NULL, 0, 0, "%s: %s", f->arg, me.text);
			amb_config_free(c);
			return NULL;
		}
		c->secret |= c->creds[i].secret;
	}
	if (!c->secret) {
		c->lua_path[0] = '\0';
	} else if (!spec->print_config) {
		struct install_opts io = { c->lua_path, 0644, (uid_t)-1, (gid_t)-1, false, true };
		struct install_staged st;
		const char *lua = amb_creds_lua_source();
		if (install_stage(&io, lua, strlen(lua), &st, err) < 0 ||
		    install_commit(&io, &st, err) < 0) {
			amb_config_free(c);
			return NULL;
		}
	}
	return c;
oom:
	lg_error_set(err, NULL, 0, 0, "out of memory");
	amb_config_free(c);
	return NULL;
}

void amb_config_free(struct amb_config *c)
{
	if (!c)
		return;
	mustache_free(c->tpl);
	command_free(&c->check);
	for (size_t i = 0; c->creds && i < c->spec->nfwd; i++)
		amb_creds_cfg_free(&c->creds[i]);
	free(c->creds);
	free(c);
}

/* "host:port" as HAProxy reads it: IPv6 literals get the ipv6@ prefix and
 * lose their brackets, since HAProxy splits address and port at the last
 * colon. */
static void haproxy_addr(const char *hostport, char *dst, size_t n)
{
	const char *rb;

	if (hostport[0] == '[' && (rb = strchr(hostport, ']')))
		snprintf(dst, n, "ipv6@%.*s%s", (int)(rb - hostport - 1), hostport + 1, rb + 1);
	else
		snprintf(dst, n, "%s", hostport);
}

int amb_config_render(struct amb_config *c, const struct amb_list *const *lists,
		      struct buf *out, struct lg_error *err)
{
	const struct amb_spec *s = c->spec;
	json_t *data = json_object(), *fwds = json_array();
	struct lg_error me;
	char msg[512];
	int rc = -1;

	if (!data || !fwds || json_object_set(data, "forwards", fwds) < 0)
		goto oom;
	if (c->lua_path[0] && json_object_set_new(data, "lua", json_string(c->lua_path)) < 0)
		goto oom;
	for (size_t i = 0; i < s->nfwd; i++) {
		const struct amb_forward *f = &s->fwd[i];
		const struct amb_list *l = lists[i];
		json_t *servers, *fo, *lines;
		char name[32], bind[AMB_HOST_MAX + 24], addr[AMB_HOST_MAX + 24];

		if (!l || l->n == 0)
			continue;
		if (!(servers = json_array()) || !(lines = json_array())) {
			json_decref(servers);
			goto oom;
		}
		for (char **ln = c->creds[i].lines; ln && *ln; ln++)
			if (json_array_append_new(lines, json_string(*ln)) < 0) {
				json_decref(servers);
				json_decref(lines);
				goto oom;
			}
		snprintf(name, sizeof name, "port_%d", f->bind_port);
		if (!f->bind_addr[0])
			snprintf(bind, sizeof bind, ":%d", f->bind_port);
		else if (amb_host_is_v6(f->bind_addr))
			snprintf(bind, sizeof bind, "ipv6@%s:%d", f->bind_addr, f->bind_port);
		else
			snprintf(bind, sizeof bind, "%s:%d", f->bind_addr, f->bind_port);
		fo = json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", name, "bind", bind, "arg", f->arg,
			       "servers", servers, "lines", lines);
		if (!fo || json_array_append_new(fwds, fo) < 0)
			goto oom;
		for (size_t k = 0; k < l->n; k++) {
			char sname[32];
			snprintf(sname, sizeof sname, "s%zu", k + 1);
			haproxy_addr(l->v[k], addr, sizeof addr);
			if (json_array_append_new(servers, json_pack("{s:s, s:s, s:s}", "name", sname,
								     "address", addr, "opts",
								     c->creds[i].server_opts)) < 0)
				goto oom;
		}
	}
	if (mustache_render(NULL, c->tpl, data, &c->opts, out, &me) < 0) {
		lg_error_set(err, NULL, 0, 0, "%s", lg_error_str(&me, msg, sizeof msg));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	lg_error_set(err, NULL, 0, 0, "out of memory");
out:
	json_decref(fwds);
	json_decref(data);
	return rc;
}

/* Runs "haproxy -c" on a staged file; 0 or -1 with err filled. */
static int check_staged(struct amb_config *c, const char *label, const char *staged,
			struct lg_error *err)
{
	struct command_result cr;
	int rc = 0;

	/* haproxy -c exits 2 for a valid file with no listener: every forward
	 * is empty, which is a config the ambassador means to run. */
	command_run(&c->check, staged, 10000, &cr);
	if (cr.status != 0 && cr.status != 2) {
		/* HAProxy's first [ALERT] line says why. */
		const char *o = buf_cstr(&cr.output), *alert = strstr(o, "[ALERT]");
		const char *line = alert ? alert : o;
		lg_error_set(err, NULL, 0, 0, "%s: haproxy -c refused the config (exit %d)%s%.*s",
			 label, cr.status, *line ? ": " : "", (int)strcspn(line, "\n"), line);
		rc = -1;
	}
	command_result_free(&cr);
	return rc;
}

const struct amb_creds_cfg *amb_config_creds(const struct amb_config *c, size_t i)
{
	return &c->creds[i];
}

bool amb_config_secret(const struct amb_config *c)
{
	return c->secret;
}

int amb_config_check(struct amb_config *c, const char *path, const struct buf *text,
		     struct lg_error *err)
{
	struct install_opts io = { path, c->secret ? 0600 : 0644, (uid_t)-1, (gid_t)-1, false, true };
	struct install_staged st;
	struct lg_error ie;
	int rc;

	if (install_stage(&io, text->data ? text->data : "", text->len, &st, &ie) < 0) {
		lg_error_set(err, NULL, 0, 0, "%s", ie.text);
		return -1;
	}
	rc = check_staged(c, path, st.path, err);
	install_abort(&st);
	return rc;
}
