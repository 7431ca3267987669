/* Unit tests for legate/config and legate/hcl: flags, environment, HCL
 * files, precedence, and errors that name the file, line and key. */
#include "legate/config.h"
#include "legate/hcl.h"
#include "tests/unit/check.h"

/* The error as the daemon prints it. */
static const char *etext(const struct lg_error *e)
{
	static char buf[1100];
	return lg_error_str(e, buf, sizeof buf);
}

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static int load(struct config *cfg, struct lg_error *err, int argc, ...)
{
	char *argv[32] = { (char *)"legate" };
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	return config_load(cfg, argc + 1, argv, err);
}

static void test_durations(void)
{
	long ms, min, max;
	check_int(config_parse_duration("5s", &ms), 0);
	check_int(ms, 5000);
	check_int(config_parse_duration("500ms", &ms), 0);
	check_int(ms, 500);
	check_int(config_parse_duration("1m30s", &ms), 0);
	check_int(ms, 90000);
	check_int(config_parse_duration("2", &ms), 0);
	check_int(ms, 2000);
	check_int(config_parse_duration("1.5s", &ms), 0);
	check_int(ms, 1500);
	check_int(config_parse_duration("5x", &ms), -1);
	check_int(config_parse_duration("", &ms), -1);
	check_int(config_parse_duration("-1s", &ms), -1);
	check_int(config_parse_wait("2s:10s", &min, &max), 0);
	check_int(min, 2000);
	check_int(max, 10000);
	check_int(config_parse_wait("1s", &min, &max), 0);
	check_int(max, 4000);
	check_int(config_parse_wait("10s:2s", &min, &max), -1);
}

static void test_commands(void)
{
	struct command c;
	check_int(command_parse("legate-init ctl reload haproxy", &c), 0);
	check(!c.shell);
	check_str(c.argv[0], "legate-init");
	check_str(c.argv[3], "haproxy");
	check(c.argv[4] == NULL);
	command_free(&c);
	check_int(command_parse("kill -USR2 $(cat /run/haproxy.pid)", &c), 0);
	check(c.shell);
	check_str(c.argv[0], "/bin/sh");
	check_str(c.argv[2], "kill -USR2 $(cat /run/haproxy.pid)");
	command_free(&c);
	check_int(command_parse("   ", &c), -1);
}

static void test_flags_and_env(void)
{
	struct config cfg;
	struct lg_error err;

	setenv("CONSUL_HTTP_ADDR", "10.0.0.1:8500", 1);
	setenv("CONSUL_HTTP_TOKEN", "envtoken", 1);
	setenv("ETCDCTL_ENDPOINTS", "http://127.0.0.1:2379,http://127.0.0.2:2379", 1);
	check_int(load(&cfg, &err, 6, "-template", "in.tmpl:out.cfg:legate-init ctl reload haproxy",
		       "-wait=2s:10s", "-once", "-consul-token", "flagtoken"), 0);
	check_str(cfg.consul_addr, "10.0.0.1:8500");
	check_str(cfg.consul_token, "flagtoken");
	check_str(cfg.etcd_addr, "http://127.0.0.1:2379,http://127.0.0.2:2379");
	check(cfg.once);
	check(!cfg.dry);
	check_int(cfg.wait_min_ms, 2000);
	check_int(cfg.wait_max_ms, 10000);
	check_int(cfg.ntemplates, 1);
	check_str(cfg.templates[0].source, "in.tmpl");
	check_str(cfg.templates[0].destination, "out.cfg");
	check_str(cfg.templates[0].command.argv[2], "reload");
	check_str(cfg.templates[0].escape, "config");
	check_int(cfg.templates[0].perms, -1);
	config_free(&cfg);
	unsetenv("CONSUL_HTTP_ADDR");
	unsetenv("CONSUL_HTTP_TOKEN");
	unsetenv("ETCDCTL_ENDPOINTS");

	check_int(load(&cfg, &err, 3, "-consul-ssl", "-consul-addr", "consul.local:8501"), 0);
	check_str(cfg.consul_addr, "https://consul.local:8501");
	config_free(&cfg);
	check_int(load(&cfg, &err, 3, "-consul-ssl", "-consul-addr", "https://c:1"), 0);
	check_str(cfg.consul_addr, "https://c:1");
	config_free(&cfg);

	check_int(load(&cfg, &err, 1, "-nosuch"), -1);
	check(strstr(etext(&err), "-nosuch") != NULL);
	config_free(&cfg);
	check_int(load(&cfg, &err, 1, "-wait"), -1);
	check(strstr(etext(&err), "needs a value") != NULL);
	config_free(&cfg);
	check_int(load(&cfg, &err, 2, "-template", "nodest"), -1);
	check(strstr(etext(&err), "nodest") != NULL);
	config_free(&cfg);
	check_int(load(&cfg, &err, 1, "--once=maybe"), -1);
	config_free(&cfg);

	/* Consul's client variables. */
	const char *tok = write_file("token", "  filetoken\n");
	setenv("CONSUL_HTTP_TOKEN_FILE", tok, 1);
	setenv("CONSUL_HTTP_AUTH", "user:pw", 1);
	setenv("CONSUL_HTTP_SSL", "true", 1);
	setenv("CONSUL_HTTP_SSL_VERIFY", "0", 1);
	setenv("CONSUL_TLS_SERVER_NAME", "consul.test", 1);
	setenv("CONSUL_CAPATH", tmpdir, 1);
	check_int(load(&cfg, &err, 2, "-consul-addr", "127.0.0.1:8501"), 0);
	if (etext(&err)[0])
		fail("%s", etext(&err));
	check_str(cfg.consul_token, "filetoken");
	check_str(cfg.consul_auth, "user:pw");
	check(cfg.consul_ssl);
	check(!cfg.consul_ssl_verify);
	check_str(cfg.consul_addr, "https://127.0.0.1:8501");
	check_str(cfg.consul_server_name, "consul.test");
	check_str(cfg.consul_ca_path, tmpdir);
	config_free(&cfg);
	setenv("CONSUL_HTTP_SSL", "maybe", 1);
	check_int(load(&cfg, &err, 0), -1);
	check(strstr(etext(&err), "CONSUL_HTTP_SSL=\"maybe\"") != NULL);
	config_free(&cfg);
	unsetenv("CONSUL_HTTP_SSL");
	setenv("CONSUL_CACERT", "/nonexistent/ca.pem", 1);
	check_int(load(&cfg, &err, 0), -1);
	check(strstr(etext(&err), "CONSUL_CACERT: /nonexistent/ca.pem: No such file") != NULL);
	config_free(&cfg);
	unsetenv("CONSUL_CACERT");
	setenv("CONSUL_HTTP_TOKEN_FILE", "/nonexistent/token", 1);
	check_int(load(&cfg, &err, 0), -1);
	check(strstr(etext(&err), "CONSUL_HTTP_TOKEN_FILE: /nonexistent/token") != NULL);
	config_free(&cfg);
	unsetenv("CONSUL_HTTP_TOKEN_FILE");
	unsetenv("CONSUL_HTTP_AUTH");
	unsetenv("CONSUL_HTTP_SSL_VERIFY");
	unsetenv("CONSUL_TLS_SERVER_NAME");
	unsetenv("CONSUL_CAPATH");
	check_int(load(&cfg, &err, 2, "-consul-ssl-cert", "/nonexistent/c.pem"), -1);
	check(strstr(etext(&err), "-consul-ssl-cert: /nonexistent/c.pem") != NULL);
	config_free(&cfg);
	check_int(load(&cfg, &err, 4, "-consul-retry-backoff", "2s", "-consul-retry-max-backoff", "1s"), -1);
	config_free(&cfg);

	/* consul-template's flags legate does not take: a reason, or a warning
	 * for Go's HTTP client tuning (its value skipped). */
	check_int(load(&cfg, &err, 2, "-exec", "app"), -1);
	check(strstr(etext(&err), "-exec (consul-template's): not supported by legate") != NULL);
	config_free(&cfg);
	check_int(load(&cfg, &err, 2, "-vault-addr", "x"), -1);
	config_free(&cfg);
	check_int(load(&cfg, &err, 4, "-consul-transport-dial-timeout", "5s", "-consul-token", "t"), 0);
	check_str(cfg.consul_token, "t");
	config_free(&cfg);
}

static void test_hcl_file(void)
{
	struct config cfg;
	struct lg_error err;
	const char *path = write_file("ok.hcl",
		"# consul-template style\n"
		"consul {\n"
		"  address = \"127.0.0.1:8501\"\n"
		"  token   = \"t0k\"\n"
		"  ssl { enabled = true\n verify = false ca_cert = \"/dev/null\" }\n"
		"}\n"
		"log_level = \"debug\"\n"
		"wait { min = \"1s\" max = \"3s\" }\n"
		"/* two templates */\n"
		"template {\n"
		"  source      = \"/etc/legate/haproxy.cfg.mustache\"\n"
		"  destination = \"/etc/haproxy/haproxy.cfg\"\n"
		"  command     = [\"legate-init\", \"ctl\", \"reload\", \"haproxy\"]\n"
		"  check       = \"haproxy -c -f {{.src}}\"\n"
		"  perms       = 0640\n"
		"  backup      = true\n"
		"  wait        = \"500ms:2s\"\n"
		"}\n"
		"template {\n"
		"  contents    = <<EOF\n"
		"maxconn {{key.config/maxconn}}\n"
		"EOF\n"
		"  destination = \"/tmp/x\"\n"
		"  escape      = \"none\"\n"
		"}\n");
	check_int(load(&cfg, &err, 4, "-config", path, "-log-level", "warn"), 0);
	if (etext(&err)[0])
		fail("%s", etext(&err));
	check_str(cfg.consul_addr, "https://127.0.0.1:8501");  /* ssl enabled */
	check_str(cfg.consul_token, "t0k");
	check(cfg.consul_ssl);
	check(!cfg.consul_ssl_verify);
	check_str(cfg.consul_ca_cert, "/dev/null");
	check_str(cfg.log_level, "warn");   /* the flag wins over the file */
	check_int(cfg.wait_min_ms, 1000);
	check_int(cfg.wait_max_ms, 3000);
	check_int(cfg.ntemplates, 2);
	check_str(cfg.templates[0].command.text, "legate-init ctl reload haproxy");
	check(!cfg.templates[0].command.shell);
	check(cfg.templates[0].check.shell);   /* {{.src}} needs substitution */
	check_int(cfg.templates[0].perms, 0640);
	check(cfg.templates[0].backup);
	check(cfg.templates[0].wait_set);
	check_int(cfg.templates[0].wait_max_ms, 2000);
	check_str(cfg.templates[1].contents, "maxconn {{key.config/maxconn}}\n");
	check_str(cfg.templates[1].escape, "none");
	check(cfg.templates[1].origin && strstr(cfg.templates[1].origin, ":20") != NULL);
	config_free(&cfg);
}

static void test_consul_template_keys(void)
{
	struct config cfg;
	struct lg_error err;
	const char *path = write_file("ct.hcl",
		"vault { address = \"https://vault:8200\" }\n"
		"syslog { enabled = false }\n"
		"kill_signal = \"SIGINT\"\n"
		"consul {\n  address = \"c:8500\"\n"
		"  retry {\n enabled = true\n attempts = 3\n backoff = \"100ms\"\n max_backoff = \"2s\"\n }\n"
		"  auth { username = \"u\"\n password = \"p\" }\n}\n"
		"etcd {\n  address = \"127.0.0.1:2379\"\n  v2 = true\n}\n"
		"once = true\n"
		"template {\n  source = \"a.ctmpl\"\n  destination = \"a\"\n  uid = 0\n"
		"  exec { command = [\"true\"]\n timeout = \"3s\" }\n}\n");
	check_int(load(&cfg, &err, 2, "-config", path), 0);
	if (etext(&err)[0])
		fail("%s", etext(&err));
	check_str(cfg.consul_addr, "c:8500");
	check(cfg.etcd_v2);
	check(cfg.once);
	check_int(cfg.consul_retry_attempts, 3);
	check_int(cfg.consul_retry_backoff_ms, 100);
	check_int(cfg.consul_retry_max_backoff_ms, 2000);
	check_str(cfg.consul_auth, "u:p");
	check_int(cfg.ntemplates, 1);
	check_str(cfg.templates[0].user, "0");
	check_str(cfg.templates[0].command.text, "true");
	check_int(cfg.templates[0].command_timeout_ms, 3000);
	config_free(&cfg);

	/* The string form of consul, and the flags over the file. */
	path = write_file("ct2.hcl", "consul = \"c2:8500\"\n");
	check_int(load(&cfg, &err, 5, "-config", path, "-consul-retry-attempts", "0", "-consul-auth=a:b"), 0);
	check_str(cfg.consul_addr, "c2:8500");
	check_int(cfg.consul_retry_attempts, 0);
	check_str(cfg.consul_auth, "a:b");
	check(cfg.consul_retry);
	check_int(cfg.consul_retry_backoff_ms, 250);
	check_int(cfg.consul_retry_max_backoff_ms, 60000);
	config_free(&cfg);
	/* Unset attempts: 12 with -once, no limit otherwise. */
	check_int(load(&cfg, &err, 1, "-once"), 0);
	check_int(cfg.consul_retry_attempts, 12);
	config_free(&cfg);
	check_int(load(&cfg, &err, 0), 0);
	check_int(cfg.consul_retry_attempts, 0);
	config_free(&cfg);
	check_int(load(&cfg, &err, 1, "-etcd-v2"), 0);
	check(cfg.etcd_v2);
	config_free(&cfg);
}

static void expect_file_error(const char *text, const char *want)
{
	struct config cfg;
	struct lg_error err;
	const char *path = write_file("bad.hcl", text);
	check_int(load(&cfg, &err, 2, "-config", path), -1);
	if (!strstr(etext(&err), want))
		fail("error \"%s\" does not contain \"%s\"", etext(&err), want);
	config_free(&cfg);
}

static void test_hcl_errors(void)
{
	expect_file_error("consul {\n  adress = \"x\"\n}\n", "bad.hcl:2: adress: unknown key in consul block");
	expect_file_error("template {\n  source = \"a\"\n  perms = 999\n}\n", "bad.hcl:3: perms: expected an octal mode");
	expect_file_error("template {\n  destination = \"a\"\n}\n", "bad.hcl:1: template: a template needs exactly one of source or contents");
	expect_file_error("wait = \"10s:1s\"\n", "bad.hcl:1: wait:");
	expect_file_error("consul {\n  address = \"x\n}\n", "bad.hcl:2:");
	expect_file_error("consul {\n  address = \"x\"\n", "is not closed");
	expect_file_error("log_level = [1, 2\n", "bad.hcl:2:");
	expect_file_error("/* open\n", "unterminated");
	expect_file_error("template {\n  source = \"a\"\n  escape = \"xml\"\n}\n", "bad.hcl:3: escape:");
	expect_file_error("consul { address = true }\n", "expected a string, found a boolean");
	expect_file_error("consul {\n  ssl {\n ca_cert = \"/nonexistent/ca\" }\n}\n",
			  "bad.hcl:3: ca_cert: /nonexistent/ca: No such file");
	expect_file_error("consul {\n  retry { attempts = -1 }\n}\n", "bad.hcl:2: attempts:");
	expect_file_error("exec { command = \"app\" }\n", "bad.hcl:1: exec: not supported by legate");
	expect_file_error("template {\n contents = \"x\"\n left_delimiter = \"[[\"\n}\n",
			  "bad.hcl:3: left_delimiter: not supported by legate: Mustache sets");
	expect_file_error("template {\n contents = \"x\"\n command = \"a\"\n exec { command = \"b\" }\n}\n",
			  "bad.hcl:4: exec: a template takes command or exec { command }, not both");
	expect_file_error("kill_signal = \"SIGUSR2\"\n", "bad.hcl:1: kill_signal: not supported");

	struct config cfg;
	struct lg_error err;
	check_int(load(&cfg, &err, 2, "-config", "/nonexistent/legate.hcl"), -1);
	check(strstr(etext(&err), "/nonexistent/legate.hcl: cannot open") != NULL);
	config_free(&cfg);
}

static void test_hcl_depth(void)
{
	char deep[400];
	struct lg_error he;
	size_t n = 0;
	deep[n++] = 'a';
	deep[n++] = '=';
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	check(hcl_parse(deep, "deep", &he) == NULL);
	check(strstr(he.text, "nested") != NULL);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_durations();
	test_commands();
	test_flags_and_env();
	test_hcl_file();
	test_hcl_errors();
	test_consul_template_keys();
	test_hcl_depth();
	unlink(write_file("ok.hcl", ""));
	unlink(write_file("bad.hcl", ""));
	unlink(write_file("ct.hcl", ""));
	rmdir(tmpdir);
	return check_done();
}
