/* test_init_confval: the supervisord.conf value syntaxes of legate-init
 * (init/confval.c): expansion, command lines, environment lists, exit codes,
 * booleans, integers and probe addresses. */
#include "init/confval.h"
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

static void check_command(const char *cmd, int want_n, const char *const *want)
{
	char buf[256], err[CV_ERR];
	char *argv[130];
	int n = 0;
	if (cv_command(cmd, buf, argv, err) < 0) {
		fail("cv_command(%s): %s", cmd, err);
		return;
	}
	while (argv[n])
		n++;
	check_int(n, want_n);
	for (int i = 0; i < n && i < want_n; i++)
		check_str(argv[i], want[i]);
}

int main(void)
{
	char out[256], err[CV_ERR], buf[512], *list[64];
	unsigned char bits[32];
	bool b;
	int v;

	/* %(...)s expansion as supervisord does it. */
	setenv("LG_X", "ex", 1);
	check_int(cv_expand("a %(ENV_LG_X)s %(program_name)s %(here)s %% 100%", "web", "/etc",
			    out, sizeof out, err), 0);
	check_str(out, "a ex web /etc % 100%");
	check_int(cv_expand("%(process_num)02d", "web", "/", out, sizeof out, err), 0);
	check_str(out, "0");
	check(cv_expand("%(ENV_LG_UNSET_VAR)s", "w", "/", out, sizeof out, err) < 0);
	check_str(err, "%(ENV_LG_UNSET_VAR)s: environment variable LG_UNSET_VAR is not set");
	check(cv_expand("%(nope)s", "w", "/", out, sizeof out, err) < 0);
	check_str(err, "unknown expansion %(nope)");
	check(cv_expand("%(program_name)s", NULL, "/", out, sizeof out, err) < 0);
	check(cv_expand("%(ENV_LG_X", "w", "/", out, sizeof out, err) < 0);
	check(cv_expand("abcdef", "w", "/", out, 4, err) < 0);

	/* Command lines. */
	check_command("haproxy -W -db -f /etc/haproxy.cfg", 5,
		      (const char *const[]){ "haproxy", "-W", "-db", "-f", "/etc/haproxy.cfg" });
	check_command("  sh -c 'echo \"hi there\"; exit 3'  ", 3,
		      (const char *const[]){ "sh", "-c", "echo \"hi there\"; exit 3" });
	check_command("a\"b c\"d e\\ f \"x\\\"y\\\\z\\n\"", 3,
		      (const char *const[]){ "ab cd", "e f", "x\"y\\z\\n" });
	check_command("one\ntwo", 2, (const char *const[]){ "one", "two" });
	check(cv_command("sh -c 'oops", buf, list, err) < 0);
	check_str(err, "command: unterminated quote in \"sh -c 'oops\"");
	check(cv_command("   ", buf, list, err) < 0);
	check_str(err, "command is empty");

	/* environment= lists. */
	check_int(cv_environment("A=\"x,y\",B=two, C='it''s' ,D=,E=a b ", buf, list, err), 0);
	check_str(list[0], "A=x,y");
	check_str(list[1], "B=two");
	check_str(list[2], "C=its");
	check_str(list[3], "D=");
	check_str(list[4], "E=a b");
	check(list[5] == NULL);
	check(cv_environment("A=\"x", buf, list, err) < 0);
	check_str(err, "environment: unterminated quote");
	check(cv_environment("NOVALUE", buf, list, err) < 0);
	check(cv_environment("=x", buf, list, err) < 0);

	/* Sizes and octal modes, as supervisord writes them. */
	long long size;
	check_int(cv_size("50MB", &size), 0);
	check(size == 50LL * 1024 * 1024);
	check_int(cv_size("1kb", &size), 0);
	check(size == 1024);
	check_int(cv_size("0", &size), 0);
	check(size == 0);
	check_int(cv_size("2GB", &size), 0);
	check(size == 2LL << 30);
	check(cv_size("50XB", &size) < 0);
	check(cv_size("-1", &size) < 0);
	check(cv_size("MB", &size) < 0);
	check_int(cv_octal("022", &v), 0);
	check_int(v, 022);
	check_int(cv_octal("0700", &v), 0);
	check_int(v, 0700);
	check(cv_octal("0789", &v) < 0);
	check(cv_octal("01777", &v) < 0);

	/* Exit codes. */
	check_int(cv_exitcodes("0, 2,255", bits, err), 0);
	check(bits[0] == 0x05 && bits[31] == 0x80 && bits[1] == 0);
	check(cv_exitcodes("0,256", bits, err) < 0);
	check(cv_exitcodes("0,", bits, err) < 0);
	check(cv_exitcodes("x", bits, err) < 0);
	check_str(err, "exitcodes: \"x\" is not a list of codes 0-255");

	/* Booleans and integers. */
	check(cv_bool("TRUE", &b) == 0 && b);
	check(cv_bool("off", &b) == 0 && !b);
	check(cv_bool("maybe", &b) < 0);
	check(cv_int("42", 0, 100, &v) == 0 && v == 42);
	check(cv_int("-1", 0, 100, &v) < 0);
	check(cv_int("4x", 0, 100, &v) < 0);
	check(cv_int("", 0, 100, &v) < 0);

	/* Probe addresses: literals only. */
	struct sockaddr_storage ss;
	socklen_t len;
	check_int(cv_address("127.0.0.1:8080", &ss, &len, err), 0);
	check(ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) == 8080);
	check_int(cv_address("[::1]:53", &ss, &len, err), 0);
	check(ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6));
	check_int(cv_address("localhost:1", &ss, &len, err), 0);
	check_int(cv_address(":1", &ss, &len, err), 0);
	check(cv_address("db.example:5432", &ss, &len, err) < 0);
	check_str(err, "\"db.example\" is not an IP address or localhost");
	check(cv_address("127.0.0.1:0", &ss, &len, err) < 0);
	check(cv_address("127.0.0.1", &ss, &len, err) < 0);
	return check_done();
}
