/* test_ambassador: the ambassador's command lines, address syntax and the
 * rules that turn KV trees and crewjam layouts into backend lists. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ambassador/args.h"
#include "ambassador/backend.h"
#include "ambassador/docker.h"
#include "ambassador/sources.h"
#include "common/log.h"
#include "tests/unit/check.h"

static int parse(struct amb_spec *s, struct lg_error *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	const char *a;

	argv[argc++] = "ambassador";
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return amb_args_parse(argc, argv, s, err);
}

static const char *list(const struct amb_list *l)
{
	static char buf[1024];
	return amb_list_str(l, buf, sizeof buf);
}

static void test_addr(void)
{
	char host[AMB_HOST_MAX + 1];
	struct lg_error err;
	int port = 0;

	check(amb_addr_parse(" 10.0.0.1:5432\n", 0, host, &port, &err) == 0);
	check_str(host, "10.0.0.1");
	check_int(port, 5432);
	check(amb_addr_parse("10.0.0.2", 6379, host, &port, &err) == 0);
	check_int(port, 6379);
	check(amb_addr_parse("10.0.0.2", 0, host, &port, &err) < 0);
	check(amb_addr_parse("[::1]:80", 0, host, &port, &err) == 0);
	check_str(host, "::1");
	check(amb_addr_parse("fe80::1", 80, host, &port, &err) == 0);
	check_str(host, "fe80::1");
	check(amb_addr_parse("a b:80", 0, host, &port, &err) < 0);
	check(amb_addr_parse("a\nserver x:80", 0, host, &port, &err) < 0);
	check(amb_addr_parse("host:0", 0, host, &port, &err) < 0);
	check(amb_addr_parse("host:65536", 0, host, &port, &err) < 0);
	check(amb_addr_parse("-x:80", 0, host, &port, &err) < 0);
	check(amb_addr_parse("h#1:80", 0, host, &port, &err) < 0);
}

static void test_args(void)
{
	struct amb_spec s;
	struct lg_error err;

	check(parse(&s, &err, "192.168.1.100:8080", NULL) == 0);
	check_int(s.nfwd, 1);
	check_int(s.fwd[0].kind, AMB_STATIC);
	check_int(s.fwd[0].bind_port, 8080);
	check_str(list(&s.fwd[0].hosts), "192.168.1.100:8080");
	amb_spec_free(&s);

	check(parse(&s, &err, "redis-2.example.com:6379,redis-1.example.com:6379", NULL) == 0);
	check_int(s.fwd[0].bind_port, 6379);
	check_str(list(&s.fwd[0].hosts), "redis-1.example.com:6379, redis-2.example.com:6379");
	amb_spec_free(&s);

	check(parse(&s, &err, "redis.service.consul", "--dns", "127.0.0.1:8600", NULL) == 0);
	check_int(s.fwd[0].kind, AMB_SRV);
	check_int(s.fwd[0].bind_port, 10000);
	check_str(s.fwd[0].srv_name, "redis.service.consul");
	check_str(s.dns_server, "127.0.0.1:8600");
	amb_spec_free(&s);

	check(parse(&s, &err, "etcd://127.0.0.1:4001/path/to/backend/nodes/", NULL) == 0);
	check_int(s.fwd[0].kind, AMB_KV);
	check_int(s.fwd[0].store, AMB_ETCD);
	check_str(s.fwd[0].store_addr, "127.0.0.1:4001");
	check_str(s.fwd[0].path, "path/to/backend/nodes");
	check_int(s.fwd[0].bind_port, 10000);
	amb_spec_free(&s);

	check(parse(&s, &err, "consul://127.0.0.1:8500/path", "-listen=127.0.0.1:7000", NULL) == 0);
	check_int(s.fwd[0].store, AMB_CONSUL);
	check_str(s.fwd[0].bind_addr, "127.0.0.1");
	check_int(s.fwd[0].bind_port, 7000);
	amb_spec_free(&s);

	/* crewjam: every spelling of the flags. */
	check(parse(&s, &err, "--etcd-prefix=/services/postgres", "--master-only", "--port=5432",
		    "--etcd=10.1.2.3", NULL) == 0);
	check_int(s.fwd[0].kind, AMB_CREWJAM);
	check_str(s.fwd[0].path, "services/postgres");
	check_str(s.fwd[0].store_addr, "10.1.2.3:2379");
	check_int(s.fwd[0].port, 5432);
	check_int(s.fwd[0].bind_port, 5432);
	check(s.fwd[0].master_only && !s.fwd[0].public_ip);
	amb_spec_free(&s);
	check(parse(&s, &err, "-etcd-prefix", "/x", "-port", "1", "-public", "-master-only=false",
		    "-etcd", "http://e:4001", NULL) == 0);
	check(!s.fwd[0].master_only && s.fwd[0].public_ip);
	check_str(s.fwd[0].store_addr, "e:4001");
	amb_spec_free(&s);
	/* The original's program name, as a fleet unit passes it. */
	check(parse(&s, &err, "/bin/ambassador", "--etcd-prefix=/p", "--port=5432", NULL) == 0);
	check_int(s.nfwd, 1);
	check_str(s.fwd[0].path, "p");
	amb_spec_free(&s);

	/* Usage errors. */
	check(parse(&s, &err, NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "--etcd-prefix=/x", NULL) < 0);
	check(strstr(err.text, "--port") != NULL);
	amb_spec_free(&s);
	check(parse(&s, &err, "--omnimode", "a:1", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "--nope", "a:1", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "a:1", "b:1", NULL) < 0);
	check(strstr(err.text, "port 1") != NULL);
	amb_spec_free(&s);
	check(parse(&s, &err, "a:1", "b:2", "--listen", "3", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "ftp://x/y", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "etcd://x:1", NULL) < 0);
	amb_spec_free(&s);
}

static void test_links(void)
{
	struct amb_spec s;
	struct lg_error err;

	setenv("DB_PORT_5432_TCP_ADDR", "172.17.0.5", 1);
	setenv("DB_PORT_5432_TCP_PORT", "5432", 1);
	setenv("DB2_PORT_5432_TCP_ADDR", "172.17.0.6", 1);
	setenv("WEB_PORT_80_TCP_ADDR", "172.17.0.7", 1);
	setenv("WEB_PORT_80_TCP_PORT", "8080", 1);
	setenv("WEB_PORT_80_UDP_ADDR", "172.17.0.8", 1);
	check(parse(&s, &err, "--links", NULL) == 0);
	check_int(s.nfwd, 2);
	for (size_t i = 0; i < s.nfwd; i++) {
		if (s.fwd[i].bind_port == 5432)
			check_str(list(&s.fwd[i].hosts), "172.17.0.5:5432, 172.17.0.6:5432");
		else if (s.fwd[i].bind_port == 80)
			check_str(list(&s.fwd[i].hosts), "172.17.0.7:8080");
		else
			fail("unexpected port %d", s.fwd[i].bind_port);
	}
	amb_spec_free(&s);
}

static void test_kv(void)
{
	json_t *tree = json_loads("[{\"key\":\"db\",\"path\":\"/b/db\",\"value\":\"10.0.0.1:1\"},"
				  "{\"key\":\"dbx\",\"path\":\"/b/dbx\",\"value\":\"10.0.0.9:9\"}]", 0, NULL);
	struct amb_list l = { 0 };

	amb_kv_backends("b/db", tree, &l);
	check_str(list(&l), "10.0.0.1:1");
	amb_list_free(&l);
	json_array_append_new(tree, json_pack("{s:s, s:s, s:s}", "key", "db/a", "path", "b/db/a",
					      "value", "10.0.0.2:2,10.0.0.3:3"));
	json_array_append_new(tree, json_pack("{s:s, s:s, s:s}", "key", "db/z", "path", "b/db/z",
					      "value", "not an address"));
	amb_kv_backends("b/db", tree, &l);
	check_str(list(&l), "10.0.0.2:2, 10.0.0.3:3");
	amb_list_free(&l);
	amb_kv_backends("b/none", tree, &l);
	check_int(l.n, 0);
	amb_list_free(&l);
	json_decref(tree);
}

static void test_crewjam(void)
{
	struct amb_forward f = { .kind = AMB_CREWJAM, .path = "services/postgres", .port = 5432 };
	json_t *tree = json_loads("["
		"{\"path\":\"/services/postgres/instances/1/private_ip\",\"value\":\"10.0.19.22\"},"
		"{\"path\":\"/services/postgres/instances/2/private_ip\",\"value\":\"10.0.21.81\"},"
		"{\"path\":\"/services/postgres/instances/2/public_ip\",\"value\":\"54.1.1.1\"},"
		"{\"path\":\"/services/postgres/instances/3/private_ip\",\"value\":\"10.0.76.34:6432\"},"
		"{\"path\":\"/services/postgres/instances/3/other\",\"value\":\"10.9.9.9\"}]", 0, NULL);
	struct amb_list l = { 0 };

	amb_crewjam_backends(&f, tree, NULL, &l);
	check_str(list(&l), "10.0.19.22:5432, 10.0.21.81:5432, 10.0.76.34:6432");
	amb_list_free(&l);
	f.master_only = true;
	amb_crewjam_backends(&f, tree, "2\n", &l);
	check_str(list(&l), "10.0.21.81:5432");
	amb_list_free(&l);
	amb_crewjam_backends(&f, tree, NULL, &l);
	check_int(l.n, 0);
	amb_crewjam_backends(&f, tree, "4", &l);
	check_int(l.n, 0);
	amb_crewjam_backends(&f, tree, "", &l);
	check_int(l.n, 0);
	f.public_ip = true;
	amb_crewjam_backends(&f, tree, "2", &l);
	check_str(list(&l), "54.1.1.1:5432");
	amb_list_free(&l);
	json_decref(tree);
}

/* Credentials options: before a BACKEND for every forward, after one for
 * it; protocols legate cannot add credentials for are refused. */
static void test_creds(void)
{
	struct amb_spec s;
	struct lg_error err;

	check(parse(&s, &err, "--tls-ca", "ca.pem", "a:1", "--tls-server-name", "x.test", "b:2", NULL) == 0);
	check_int(s.fwd[0].creds.tls, 1);
	check_str(s.fwd[0].creds.ca, "ca.pem");
	check_str(s.fwd[0].creds.server_name, "x.test");    /* after a:1: a:1's */
	check_str(s.fwd[1].creds.ca, "ca.pem");
	check(s.fwd[1].creds.server_name == NULL);
	amb_spec_free(&s);
	check(parse(&s, &err, "--auth", "redis", "--password=env:P", "--db", "2", "a:1", NULL) == 0);
	check_str(s.fwd[0].creds.auth, "redis");
	check_int(s.fwd[0].creds.db, 2);
	amb_spec_free(&s);
	check(parse(&s, &err, "--auth", "postgres", "--password=x", "a:1", NULL) < 0);
	check(strstr(err.text, "redis only") != NULL);
	amb_spec_free(&s);
	check(parse(&s, &err, "--password=x", "a:1", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "--auth", "redis", "a:1", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "--tls-server-name", "bad name", "a:1", NULL) < 0);
	amb_spec_free(&s);
	check(parse(&s, &err, "--db", "-1", "--auth", "redis", "--password", "x", "a:1", NULL) < 0);
	amb_spec_free(&s);
}

/* Omni mode's command line, and what is taken from an inspected
 * container. */
static void test_omni(void)
{
	struct amb_spec s;
	struct lg_error err;
	json_t *in, *c;

	check(parse(&s, &err, "--omnimode", "--setup-iptables", "--docker", "unix:///d.sock", NULL) == 0);
	check(s.omni && s.setup_iptables);
	check_int(s.nfwd, 1);
	check_int(s.fwd[0].bind_port, 10000);
	check_str(s.docker, "unix:///d.sock");
	amb_spec_free(&s);
	check(parse(&s, &err, "--setup-iptables", "a:1", NULL) < 0);
	amb_spec_free(&s);

	in = json_loads("{\"State\": {\"Running\": true},"
			" \"Config\": {\"Env\": [\"PATH=/bin\", \"BACKEND_6379=redis.service.consul\","
			" \"BACKEND_80=a:1,b:2\", \"BACKEND_x=no\", \"BACKEND_99999=no\", \"BACKEND_81=\"]},"
			" \"NetworkSettings\": {\"Networks\": {\"bridge\": {\"IPAddress\": \"172.17.0.3\"},"
			" \"n2\": {\"IPAddress\": \"10.0.0.2\"}, \"n3\": {\"IPAddress\": \"x; y\"}}}}", 0, NULL);
	check(in != NULL);
	c = amb_docker_parse(in);
	check(c != NULL);
	check_int(json_array_size(json_object_get(c, "ips")), 2);
	check_int(json_object_size(json_object_get(c, "backends")), 2);
	check_str(json_string_value(json_object_get(json_object_get(c, "backends"), "6379")), "redis.service.consul");
	check_str(json_string_value(json_object_get(json_object_get(c, "backends"), "80")), "a:1,b:2");
	json_decref(c);
	/* Not running: nothing. */
	json_object_set_new(json_object_get(in, "State"), "Running", json_false());
	check(amb_docker_parse(in) == NULL);
	json_decref(in);
}

int main(void)
{
	log_init("test_ambassador", 2);
	log_set_level(LOG_LVL_ERROR);
	test_addr();
	test_args();
	test_links();
	test_kv();
	test_crewjam();
	test_creds();
	test_omni();
	return check_done();
}
