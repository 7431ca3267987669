/* Unit test for haproxy/cfg and haproxy/plan: server lines apart from the
 * rest, default-server inheritance, and the plan from one configuration to
 * the next (runtime operations or a reload, with its reason). */
#include "haproxy/cfg.h"

#include <string.h>

#include "tests/unit/check.h"

static const char base[] =
	"global\n"
	"\tstats socket /run/a.sock level admin   # the runtime API\n"
	"defaults\n"
	"\tmode http\n"
	"\tdefault-server inter 2s fall 2 rise 2\n"
	"frontend f\n"
	"\tbind :80\n"
	"\tdefault_backend web\n"
	"backend web\n"
	"\tbalance roundrobin\n"
	"\tserver web-1 10.0.0.1:80 check\n"
	"\tserver web-2 10.0.0.2:80 check weight 5\n"
	"listen db\n"
	"\tbind :5432\n"
	"\tserver db1 [fd00::1]:5432\n";

static struct hap_cfg *parse(const char *s)
{
	struct hap_cfg *c = hap_cfg_parse(s, strlen(s));
	check(c != NULL);
	return c;
}

/* Replaces the first occurrence of a by b in base; returns a static copy. */
static const char *with(const char *a, const char *b)
{
	static char out[4096];
	const char *p = strstr(base, a);
	if (!p) {
		fail("\"%s\" not in the base config", a);
		return base;
	}
	snprintf(out, sizeof out, "%.*s%s%s", (int)(p - base), base, b, p + strlen(a));
	return out;
}

static void plan_of(const char *next, struct hap_plan *p)
{
	struct hap_cfg *a = parse(base), *b = parse(next);
	check(hap_cfg_diff(a, b, p) == 0);
	/* the ops point into a and b: the tests only read counts and reasons */
	for (size_t i = 0; i < p->nops; i++)
		p->ops[i].be = NULL, p->ops[i].srv = NULL;
	hap_cfg_free(a);
	hap_cfg_free(b);
}

static void test_parse(void)
{
	struct hap_cfg *c = parse(base);
	const struct hap_backend *web = hap_cfg_backend(c, "web"), *db = hap_cfg_backend(c, "db");
	const struct hap_server *s;
	struct buf cmd = BUF_INIT;
	char addr[80];

	check_int(c->nbe, 2);
	check(web && db && db->listen && !web->listen);
	check_int(web->nsrv, 2);
	s = hap_backend_server(web, "web-2");
	check(s != NULL);
	if (s) {
		check_str(s->host, "10.0.0.2");
		check_str(s->port, "80");
		check_int(s->weight, 5);
		check_str(s->opts, "check");
		check(s->ip && !s->no_runtime);
	}
	check(hap_backend_server(web, "web-3") == NULL);
	/* comments and blanks do not reach the skeleton; server lines neither */
	check(strstr(c->skeleton.data, "# the runtime") == NULL);
	check(strstr(c->skeleton.data, "server web-1") == NULL);
	check(strstr(c->skeleton.data, "stats socket /run/a.sock level admin\n") != NULL);
	/* default-server options come first in "add server" */
	s = hap_backend_server(web, "web-1");
	check(hap_add_command(web, s, &cmd) == 0);
	check_str(buf_cstr(&cmd), "add server web/web-1 10.0.0.1:80 inter 2s fall 2 rise 2 check");
	check(hap_server_has(web, s, "check"));
	check(!hap_server_has(web, s, "agent-check"));
	s = hap_backend_server(db, "db1");
	check(s && s->ip);
	if (s) {
		check_str(s->host, "fd00::1");
		hap_server_addr(s, addr, sizeof addr);
		check_str(addr, "[fd00::1]:5432");
		buf_reset(&cmd);
		hap_add_command(db, s, &cmd);
		check_str(buf_cstr(&cmd), "add server db/db1 ipv6@fd00::1:5432 inter 2s fall 2 rise 2");
	}
	buf_free(&cmd);
	hap_cfg_free(c);
}

static void test_plans(void)
{
	struct hap_plan p;

	plan_of(base, &p);
	check_int(p.kind, HAP_SAME);

	/* comments and spacing are not changes */
	plan_of(with("\tbalance roundrobin\n", "  balance    roundrobin   # rr\n\n"), &p);
	check_int(p.kind, HAP_SAME);

	plan_of(with("\tserver web-2", "\tserver web-3 10.0.0.3:8080 check\n\tserver web-2"), &p);
	check_int(p.kind, HAP_RUNTIME);
	check_int(p.nops, 1);
	check_int(p.added, 1);
	check_int(p.ops[0].type, HAP_OP_ADD);
	hap_plan_free(&p);

	plan_of(with("\tserver web-1 10.0.0.1:80 check\n", ""), &p);
	check_int(p.kind, HAP_RUNTIME);
	check_int(p.removed, 1);
	check_int(p.ops[0].type, HAP_OP_DEL);
	hap_plan_free(&p);

	plan_of(with("10.0.0.1:80 check", "10.0.0.9:81 check"), &p);
	check_int(p.kind, HAP_RUNTIME);
	check_int(p.ops[0].type, HAP_OP_ADDR);
	hap_plan_free(&p);

	plan_of(with("check weight 5", "check weight 7 disabled"), &p);
	check_int(p.kind, HAP_RUNTIME);
	check_int(p.nops, 2);
	check_int(p.ops[0].type, HAP_OP_WEIGHT);
	check_int(p.ops[1].type, HAP_OP_STATE);
	hap_plan_free(&p);

	/* what the runtime API cannot reproduce is a reload, with its reason */
	plan_of(with("\tbind :80\n", "\tbind :81\n"), &p);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "bind :81") != NULL);

	plan_of(with("\tserver web-2", "\tserver web-3 web3.example:80\n\tserver web-2"), &p);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "not an IP address") != NULL);

	plan_of(with("\tserver web-2", "\tserver web-3 10.0.0.3:80 cookie w3\n\tserver web-2"), &p);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "web/web-3") != NULL);

	plan_of(with("10.0.0.1:80 check", "10.0.0.1:80 check inter 5s"), &p);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "options changed") != NULL);

	plan_of(with("\tserver web-2", "\tserver web-1 10.0.0.7:80\n\tserver web-2"), &p);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "twice") != NULL);

	plan_of(with("\tserver web-2", "\tserver \"web-3\" 10.0.0.3:80\n\tserver web-2"), &p);
	check_int(p.kind, HAP_RELOAD);

	/* a new backend is a new section: a reload */
	plan_of(with("listen db", "backend api\n\tserver a1 10.0.0.5:80\nlisten db"), &p);
	check_int(p.kind, HAP_RELOAD);

	/* nothing known of what runs: a reload */
	{
		struct hap_cfg *c = parse(base);
		check(hap_cfg_diff(NULL, c, &p) == 0);
		check_int(p.kind, HAP_RELOAD);
		check(strstr(p.why, "not known") != NULL);
		hap_cfg_free(c);
	}
}

static void test_default_server(void)
{
	static const char a[] =
		"defaults\n default-server init-addr libc,none\n"
		"backend b\n server s1 10.0.0.1:80\n";
	static const char b[] =
		"defaults\n default-server init-addr libc,none\n"
		"backend b\n server s1 10.0.0.1:80\n server s2 10.0.0.2:80\n";
	static const char c2[] =
		"defaults\n default-server cookie x\n"
		"backend b\n server s1 10.0.0.1:80\n server s2 10.0.0.2:80\n";
	static const char c1[] =
		"defaults\n default-server cookie x\n"
		"backend b\n server s1 10.0.0.1:80\n";
	struct hap_cfg *x = parse(a), *y = parse(b), *z1 = parse(c1), *z2 = parse(c2);
	struct hap_plan p;
	struct buf cmd = BUF_INIT;

	/* resolution options do not matter for an address literal */
	check(hap_cfg_diff(x, y, &p) == 0);
	check_int(p.kind, HAP_RUNTIME);
	if (p.nops == 1) {
		hap_add_command(p.ops[0].be, p.ops[0].srv, &cmd);
		check_str(buf_cstr(&cmd), "add server b/s2 10.0.0.2:80");
	}
	hap_plan_free(&p);
	/* a default-server option "add server" lacks keeps the backend to reloads */
	check(hap_cfg_diff(z1, z2, &p) == 0);
	check_int(p.kind, HAP_RELOAD);
	check(strstr(p.why, "default-server") != NULL);
	buf_free(&cmd);
	hap_cfg_free(x);
	hap_cfg_free(y);
	hap_cfg_free(z1);
	hap_cfg_free(z2);
}

int main(void)
{
	test_parse();
	test_plans();
	test_default_server();
	return check_done();
}
