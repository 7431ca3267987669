/* Unit tests for the Mustache engine beyond the spec: compile errors with
 * their places, escape modes, numbers, the lookup hook, partials from a
 * directory, strictness and the limits. */
#include "common/log.h"
#include "mustache/mustache.h"
#include "mustache/numfmt.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

static char msg[512];

/* Renders src with data (a JSON text) and opts; returns the output (static)
 * or NULL with the error in msg. */
static const char *render_opts(const char *src, const char *json, struct mustache_opts *o,
			       struct mustache_env *env)
{
	static struct buf out = BUF_INIT;
	struct lg_error err;
	struct mustache_tpl *t;
	json_t *data = json ? json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	int rc;

	buf_reset(&out);
	msg[0] = '\0';
	t = mustache_compile("t.mustache", src, strlen(src), &err);
	if (!t) {
		lg_error_str(&err, msg, sizeof msg);
		json_decref(data);
		return NULL;
	}
	rc = mustache_render(env, t, data, o, &out, &err);
	mustache_free(t);
	json_decref(data);
	if (rc < 0) {
		lg_error_str(&err, msg, sizeof msg);
		return NULL;
	}
	return buf_cstr(&out);
}

static const char *render(const char *src, const char *json, enum mustache_escape esc)
{
	struct mustache_opts o;

	mustache_opts_init(&o);
	o.escape = esc;
	return render_opts(src, json, &o, NULL);
}

static void check_compile_error(const char *src, const char *want)
{
	struct lg_error err;
	struct mustache_tpl *t = mustache_compile("t.mustache", src, strlen(src), &err);

	if (t) {
		fail("compiled, want error \"%s\": %s", want, src);
		mustache_free(t);
		return;
	}
	lg_error_str(&err, msg, sizeof msg);
	if (!strstr(msg, want))
		fail("error \"%s\", want it to contain \"%s\"", msg, want);
}

static void test_compile_errors(void)
{
	check_compile_error("a\n  {{#s}}x", "t.mustache:2:3: section \"s\" is never closed");
	check_compile_error("{{#a}}{{#b}}{{/a}}{{/b}}", "t.mustache:1:13: {{/a}} does not match the section \"b\" opened at 1:7");
	check_compile_error("x\n{{/a}}", "t.mustache:2:1: {{/a}} closes nothing");
	check_compile_error("ab {{name", "t.mustache:1:4: unclosed tag");
	check_compile_error("{{{name}}", "t.mustache:1:1: unclosed tag");
	check_compile_error("{{=<% %>}}", "t.mustache:1:1: unclosed tag");
	check_compile_error("{{=<%%>=}}", "t.mustache:1:1: delimiter change needs two delimiters");
	check_compile_error("{{=a b c=}}", "exactly two delimiters");
	check_compile_error("{{=a= b=}}", "may not contain '='");
	check_compile_error("\n\n   {{}}", "t.mustache:3:4: empty tag name");
	check_compile_error("{{a b}}", "contains whitespace");
	check_compile_error("{{a..b}}", "empty segment");

	/* Nesting deeper than the limit is an error, not a stack overflow. */
	{
		struct buf b = BUF_INIT;

		for (int i = 0; i <= MUSTACHE_MAX_NESTING; i++)
			buf_puts(&b, "{{#a}}");
		check_compile_error(buf_cstr(&b), "nested deeper than");
		buf_free(&b);
	}
}

static void test_escaping(void)
{
	const char *data = "{\"v\": \"a&b<c>\\\"d'\", \"nl\": \"web\\nserver x\", \"cr\": \"a\\rb\","
			   " \"nul\": \"a\\u0000b\", \"ok\": \"web-1.example:80\"}";
	const char *got;

	check_str(render("{{v}}", data, MUSTACHE_ESCAPE_HTML), "a&amp;b&lt;c&gt;&quot;d&#39;");
	check_str(render("{{v}}|{{{v}}}|{{&v}}", data, MUSTACHE_ESCAPE_NONE),
		  "a&b<c>\"d'|a&b<c>\"d'|a&b<c>\"d'");
	check_str(render("server {{ok}}\n", data, MUSTACHE_ESCAPE_CONFIG), "server web-1.example:80\n");
	check_str(render("{{v}}", data, MUSTACHE_ESCAPE_CONFIG), "a&b<c>\"d'");

	/* A newline in a value must not add lines to a config file. */
	got = render("backend x\n  server {{nl}} 1.2.3.4\n", data, MUSTACHE_ESCAPE_CONFIG);
	check(got == NULL);
	if (!strstr(msg, "t.mustache:2:10: {{nl}}: the value has a newline (byte 4)"))
		fail("config error: %s", msg);
	check(render("{{cr}}", data, MUSTACHE_ESCAPE_CONFIG) == NULL);
	check(strstr(msg, "a carriage return") != NULL);
	check(render("{{#nul}}{{.}}{{/nul}}", data, MUSTACHE_ESCAPE_CONFIG) == NULL);
	check(strstr(msg, "a NUL byte") != NULL);
	/* The explicit raw forms are the way around it. */
	check_str(render("{{{nl}}}", data, MUSTACHE_ESCAPE_CONFIG), "web\nserver x");
	check_str(render("{{&nul}}|", data, MUSTACHE_ESCAPE_CONFIG), "a");
}

static void test_numbers(void)
{
	char b[40];

	check_str(render("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
			 "{\"a\": 1.1, \"b\": 0.1, \"c\": 1e300, \"d\": -42, \"e\": 3.0,"
			 " \"f\": 9223372036854775807, \"g\": 123456.789}", MUSTACHE_ESCAPE_NONE),
		  "1.1 0.1 1e+300 -42 3 9223372036854775807 123456.789");
	numfmt_double(b, sizeof b, 0.1 + 0.2);
	check_str(b, "0.30000000000000004");
	numfmt_double(b, sizeof b, 5e-324);
	check(strtod(b, NULL) == 5e-324);
	numfmt_int(b, sizeof b, (long long)(-9223372036854775807LL - 1));
	check_str(b, "-9223372036854775808");
	check_str(render("{{t}} {{f}} [{{n}}] [{{o}}] [{{l}}] {{l.1}}",
			 "{\"t\": true, \"f\": false, \"n\": null, \"o\": {}, \"l\": [1, 2]}",
			 MUSTACHE_ESCAPE_HTML), "true false [] [] [] 2");
	check_str(render("{{#s}}yes{{/s}}{{^s}}no{{/s}} {{#z}}zero{{/z}}", "{\"s\": \"\", \"z\": 0}",
			 MUSTACHE_ESCAPE_HTML), "no zero");
}

/* The hook records what it is asked and answers from a small table. */
struct hook_log {
	struct buf asked;
	json_t *owned;
};

static int hook(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		char *errtext, size_t errlen)
{
	struct hook_log *h = ud;

	buf_printf(&h->asked, "%s/%zu/%zu[", q->name, q->nseg, q->depth);
	for (size_t i = 0; i < q->nseg; i++)
		buf_printf(&h->asked, "%s%s", i ? "|" : "", q->seg[i].s);
	buf_puts(&h->asked, "] ");
	if (strcmp(q->seg[0].s, "key") == 0 && q->nseg >= 2) {
		/* A KV key is everything after "key.", dots included. */
		const char *k = q->name + 4;

		out->value = json_string(strcmp(k, "config/maxconn") == 0 ? "2000" : k);
		out->owned = 1;
		out->consumed = q->nseg;
	} else if (strcmp(q->seg[0].s, "service") == 0 && q->nseg >= 2) {
		out->value = json_pack("[{s:s, s:i}, {s:s, s:i}]", "id", q->seg[1].s, "port", 80,
				       "id", "b", "port", 81);
		out->owned = 1;
		out->consumed = 2;
	} else if (strcmp(q->seg[0].s, "shared") == 0) {
		out->value = h->owned;   /* borrowed */
		out->consumed = 1;
	} else if (strcmp(q->seg[0].s, "bad") == 0) {
		snprintf(errtext, errlen, "no such filter");
		return -1;
	}
	return 0;
}

static void test_hook(void)
{
	struct hook_log h = { BUF_INIT, json_pack("{s:s}", "x", "X") };
	struct mustache_opts o;
	const char *got;

	mustache_opts_init(&o);
	o.escape = MUSTACHE_ESCAPE_CONFIG;
	o.lookup = hook;
	o.lookup_ud = &h;
	got = render_opts("maxconn {{key.config/maxconn}} {{key.app.v1/x}}\n"
			  "{{#service.web~tag=primary@dc2}}{{id}}:{{port}} {{local}} {{shared.x}};{{/service.web~tag=primary@dc2}}\n"
			  "{{missing}}{{.}}",
			  "{\"local\": \"L\"}", &o, NULL);
	check_str(got, "maxconn 2000 app.v1/x\nweb~tag=primary@dc2:80 L X;b:81 L X;\n");
	check_str(buf_cstr(&h.asked),
		  "key.config/maxconn/2/1[key|config/maxconn] key.app.v1/x/3/1[key|app|v1/x] "
		  "service.web~tag=primary@dc2/2/1[service|web~tag=primary@dc2] "
		  "shared.x/2/2[shared|x] shared.x/2/2[shared|x] missing/1/1[missing] ");
	/* Borrowed values are not released by the engine. */
	check_int(h.owned->refcount, 1);

	/* With no data at all, everything comes from the hook. */
	buf_reset(&h.asked);
	check_str(render_opts("{{key.a}}", NULL, &o, NULL), "a");
	check_str(buf_cstr(&h.asked), "key.a/2/0[key|a] ");

	check(render_opts("x\n {{bad.name}}", "{}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:2:2: bad.name: no such filter");

	/* Extensions: the hook sees a name built from [ref] parts as it
	 * became, and a name with filters, a test or .length without them. */
	buf_reset(&h.asked);
	check_str(render_opts("{{#items}}{{key.svc/[n|lower]/max}};{{/items}}"
			      "{{#service.[s]}}{{id}}{{/service.[s]}} {{service.x.length}} "
			      "{{#key.k|upper=K}}yes{{/key.k|upper=K}}",
			      "{\"items\": [{\"n\": \"Web\"}, {\"n\": 7}], \"s\": \"api\"}", &o, NULL),
		  "svc/web/max;svc/7/max;apib 2 yes");
	check_str(buf_cstr(&h.asked),
		  "key.svc/web/max/2/2[key|svc/web/max] key.svc/7/max/2/2[key|svc/7/max] "
		  "service.api/2/1[service|api] service.x.length/2/1[service|x] key.k/2/1[key|k] ");
	buf_free(&h.asked);
	json_decref(h.owned);
}

/* missing_error: an interpolated name with no value fails the render;
 * sections and inverted sections still test presence; null is a value. */
static void test_missing_error(void)
{
	struct mustache_opts o;

	mustache_opts_init(&o);
	o.missing_error = 1;
	check(render_opts("a {{#x}}\n {{y}}{{/x}}", "{\"x\":{}}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:2:2: y: no such name");
	check(render_opts("{{x.z}}", "{\"x\":{}}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:1:1: x.z: no such name");
	check_str(render_opts("{{^y}}d{{/y}}{{#y}}e{{/y}}", "{}", &o, NULL), "d");
	check_str(render_opts("[{{x}}]", "{\"x\":null}", &o, NULL), "[]");
	/* |default gives a value; a built name and its [ref] parts, and a
	 * .length, follow the rule too. */
	check_str(render_opts("[{{x|default:d}}]", "{}", &o, NULL), "[d]");
	check(render_opts("{{a.[r]}}", "{\"a\":{}}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:1:1: r: no such name");
	check(render_opts("{{a.[r]}}", "{\"a\":{}, \"r\":\"z\"}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:1:1: a.z: no such name");
	check(render_opts("{{a.[r]}}", "{\"a\":{}, \"r\":[1]}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:1:1: a.[r]: no such name");
	check_str(render_opts("{{#a.[r]}}s{{/a.[r]}}[{{a.[r]|default:d}}]", "{\"a\":{}}", &o, NULL),
		  "[d]");
	check(render_opts("{{l.length}}", "{\"l\":{}}", &o, NULL) == NULL);
	check_str(msg, "t.mustache:1:1: l.length: no such name");
	check_str(render_opts("{{l.length}}", "{\"l\":[1,2]}", &o, NULL), "2");
	o.missing_error = 0;
	check_str(render_opts("[{{y}}]", "{}", &o, NULL), "[]");
	check_str(render_opts("[{{a.[r]}}]", "{\"a\":{}}", &o, NULL), "[]");
}

static int interp_hook(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		       char *errtext, size_t errlen)
{
	(void)errtext;
	(void)errlen;
	buf_printf(ud, "%s:%d ", q->name, q->interpolation);
	if (strcmp(q->name, "k") == 0) {
		out->value = json_string("v");
		out->owned = 1;
	}
	return 0;
}

/* The hook is told which names are interpolated: {{name}} and the [ref]
 * parts of its name, not sections, inverted sections or names with a
 * |default filter. */
static void test_interpolation_flag(void)
{
	struct buf asked = BUF_INIT;
	struct mustache_opts o;

	mustache_opts_init(&o);
	o.lookup = interp_hook;
	o.lookup_ud = &asked;
	check_str(render_opts("{{a}}{{{a2}}}{{#b}}{{/b}}{{^c}}{{/c}}{{d|default:x}}{{e.[k]}}"
			      "{{#f.[g]}}{{/f.[g]}}{{h.[k2]|default:y}}{{n.length}}",
			      NULL, &o, NULL), "xy");
	check_str(buf_cstr(&asked), "a:1 a2:1 b:0 c:0 d:0 k:1 e.v:1 g:0 k2:0 n.length:1 ");
	buf_free(&asked);
}

static void names_cb(void *ud, const char *name, int kind)
{
	buf_printf(ud, "%c%s ", kind ? kind : '=', name);
}

static void test_names(void)
{
	const char *src = "{{#services}}{{name}}{{>p}}{{>*dyn}}{{/services}}{{^key.a/b}}{{{raw}}}{{/key.a/b}}";
	struct mustache_tpl *t = mustache_compile("n", src, strlen(src), NULL);
	struct buf b = BUF_INIT;

	check(t != NULL);
	mustache_foreach_name(t, names_cb, &b);
	check_str(buf_cstr(&b), "#services =name >dyn ^key.a/b &raw ");
	buf_free(&b);
	mustache_free(t);

	/* Names as looked up: no filters, test or ".*"; refs after their name. */
	src = "{{#a.b=1}}{{/a.b=1}}{{c|lower}}{{#m.*}}{{*}}{{/m.*}}{{key.x/[n]/y}}";
	t = mustache_compile("n", src, strlen(src), NULL);
	check(t != NULL);
	mustache_foreach_name(t, names_cb, &b);
	check_str(buf_cstr(&b), "#a.b =c #m =* =key.x/[n]/y =n ");
	buf_free(&b);
	mustache_free(t);
}

static void test_partials(void)
{
	char dir[] = "/tmp/mustache-test.XXXXXX";
	char path[256];
	struct mustache_env *env = mustache_env_new();
	struct mustache_opts o;
	struct lg_error err;
	FILE *f;

	check(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/server.mustache", dir);
	f = fopen(path, "w");
	fputs("server {{id}}\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/broken", dir);
	f = fopen(path, "w");
	fputs("line\n{{#x}}", f);
	fclose(f);
	check_int(mustache_env_set_dir(env, dir), 0);
	check_int(mustache_env_add_partial(env, "mem", "<{{id}}>", 8, &err), 0);
	mustache_opts_init(&o);
	o.escape = MUSTACHE_ESCAPE_CONFIG;

	check_str(render_opts("backend b\n{{#s}}\n  {{>server}}\n{{/s}}{{>mem}}",
			      "{\"s\": [{\"id\": 1}, {\"id\": 2}], \"id\": 0}", &o, env),
		  "backend b\n  server 1\n  server 2\n<0>");
	/* Missing: empty with a warning, or an error when strict. */
	check_str(render_opts("[{{>nope}}][{{>../etc/passwd}}]", "{}", &o, env), "[][]");
	o.strict = 1;
	check(render_opts("a\n{{>nope}}", "{}", &o, env) == NULL);
	check_str(msg, "t.mustache:2:1: partial \"nope\" not found");
	check(render_opts("{{>mem}}{{>../x}}", "{}", &o, env) == NULL);
	/* A partial's own errors name the partial. */
	check(render_opts("{{>broken}}", "{}", &o, env) == NULL);
	check_str(msg, "broken:2:1: section \"x\" is never closed");
	check(render_opts("{{>mem}}", "{}", &o, NULL) == NULL);

	snprintf(path, sizeof path, "%s/server.mustache", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/broken", dir);
	unlink(path);
	rmdir(dir);
	mustache_env_free(env);
}

static void test_limits(void)
{
	struct mustache_env *env = mustache_env_new();
	struct mustache_opts o;
	struct lg_error err;

	mustache_opts_init(&o);
	/* Unbounded recursion stops with a clear error. */
	mustache_env_add_partial(env, "self", "x{{>self}}", 10, &err);
	check(render_opts("{{>self}}", "{}", &o, env) == NULL);
	check(strstr(msg, "nested deeper than 100") != NULL);
	mustache_env_add_partial(env, "loop", "{{<loop}}{{/loop}}", 18, &err);
	check(render_opts("{{<loop}}{{/loop}}", "{}", &o, env) == NULL);
	check(strstr(msg, "nested deeper than") != NULL);

	/* Indentation that grows with recursion is capped too. */
	{
		struct buf src = BUF_INIT;

		for (int i = 0; i < 20000; i++)
			buf_puts(&src, "          ");
		buf_puts(&src, "{{>deep}}\n");
		mustache_env_add_partial(env, "deep", buf_cstr(&src), src.len, &err);
		check(render_opts("{{>deep}}", "{}", &o, env) == NULL);
		check(strstr(msg, "indent by more than 1 MiB") != NULL);
		buf_free(&src);
	}

	/* Output is capped. */
	o.max_output = 1000;
	check(render_opts("{{#l}}{{#l}}{{#l}}0123456789{{/l}}{{/l}}{{/l}}",
			  "{\"l\": [1,2,3,4,5,6,7,8,9,10]}", &o, env) == NULL);
	check(strstr(msg, "output passes the limit of 1000 bytes") != NULL);

	/* Work without output is capped too. */
	o.max_output = (size_t)64 << 20;
	o.max_steps = 100000;
	check(render_opts("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}",
			  "{\"l\": [1,2,3,4,5,6,7,8,9,10]}", &o, env) == NULL);
	check(strstr(msg, "render stopped after 100000 steps") != NULL);
	/* Loops over an empty body count too. */
	check(render_opts("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}",
			  "{\"l\": [1,2,3,4,5,6,7,8,9,10]}", &o, env) == NULL);
	check(strstr(msg, "render stopped after 100000 steps") != NULL);
	/* A huge dynamic partial name is neither kept nor a crash. */
	{
		struct buf big = BUF_INIT;

		buf_puts(&big, "{\"n\": \"");
		for (int i = 0; i < 1000; i++)
			buf_puts(&big, "xxxxxxxxxx");
		buf_puts(&big, "\"}");
		check_str(render_opts("[{{>*n}}]", buf_cstr(&big), &o, env), "[]");
		o.strict = 1;
		check(render_opts("[{{>*n}}]", buf_cstr(&big), &o, env) == NULL);
		check(strstr(msg, "partial name longer than 255 bytes") != NULL);
		buf_free(&big);
	}
	mustache_env_free(env);
}

static void test_inheritance(void)
{
	struct mustache_env *env = mustache_env_new();
	struct mustache_opts o;
	struct lg_error err;
	const char *base = "global\n  maxconn {{$maxconn}}100{{/maxconn}}\n{{$backends}}{{/backends}}";

	mustache_env_add_partial(env, "base", base, strlen(base), &err);
	mustache_opts_init(&o);
	o.escape = MUSTACHE_ESCAPE_CONFIG;
	check_str(render_opts("{{<base}}\n{{$backends}}\nbackend {{n}}\n{{/backends}}\n{{/base}}\n",
			      "{\"n\": \"web\"}", &o, env),
		  "global\n  maxconn 100\nbackend web\n");
	/* A block argument that names its own block does not recurse. */
	check_str(render_opts("{{<base}}{{$maxconn}}[{{$maxconn}}7{{/maxconn}}]{{/maxconn}}{{/base}}",
			      "{}", &o, env), "global\n  maxconn [7]\n");
	mustache_env_free(env);
}

/* write_file DIR/NAME with text. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	check(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void link_to(const char *target, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	check_int(symlink(target, path), 0);
}

/* Partials are read beneath their directory whatever the links: a relative
 * link that stays inside works, one that leads out (or an absolute one, or
 * /etc/shadow) is an error that names the partial; nothing is read. */
static void test_partial_links(void)
{
	char top[] = "/tmp/mustache-links.XXXXXX", tpl[600], cmd[700], abs_link[700];
	struct mustache_env *env = mustache_env_new();
	struct mustache_opts o;

	check(mkdtemp(top) != NULL);
	snprintf(tpl, sizeof tpl, "%s/tpl", top);
	check_int(mkdir(tpl, 0700), 0);
	snprintf(cmd, sizeof cmd, "%s/sub", tpl);
	check_int(mkdir(cmd, 0700), 0);
	put(top, "secret.mustache", "SECRET");
	put(tpl, "ok.mustache", "ok");
	link_to("ok.mustache", tpl, "same.mustache");
	link_to("../ok.mustache", cmd, "up.mustache");
	link_to("sub", tpl, "dirlink");
	link_to("/etc/shadow", tpl, "shadow.mustache");
	link_to("../secret.mustache", tpl, "out.mustache");
	link_to("..", tpl, "parent");
	snprintf(abs_link, sizeof abs_link, "%s/ok.mustache", tpl);
	link_to(abs_link, tpl, "abs.mustache");
	check_int(mustache_env_set_dir(env, tpl), 0);
	mustache_opts_init(&o);
	o.escape = MUSTACHE_ESCAPE_NONE;

	check_str(render_opts("{{>ok}} {{>same}} {{>sub/up}} {{>dirlink/up}}", "{}", &o, env), "ok ok ok ok");
	check(render_opts("{{>shadow}}", "{}", &o, env) == NULL);
	snprintf(cmd, sizeof cmd, "t.mustache:1:1: partial %s/shadow.mustache: a link leads out of the partials directory", tpl);
	check_str(msg, cmd);
	check(render_opts("x{{>out}}", "{}", &o, env) == NULL);
	check(strstr(msg, "out.mustache: a link leads out") != NULL);
	check(render_opts("{{>parent/secret}}", "{}", &o, env) == NULL);
	check(strstr(msg, "parent/secret.mustache: a link leads out") != NULL);
	check(render_opts("{{>abs}}", "{}", &o, env) == NULL);
	/* Not a missing partial: strict or not, it is an error. */
	o.strict = 1;
	check(render_opts("{{>shadow}}", "{}", &o, env) == NULL);
	check(strstr(msg, "SECRET") == NULL);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	check_int(system(cmd), 0);
	mustache_env_free(env);
}

int main(void)
{
	log_init("test_mustache", 2);
	log_set_level(LOG_LVL_ERROR);
	test_compile_errors();
	test_escaping();
	test_numbers();
	test_hook();
	test_missing_error();
	test_interpolation_flag();
	test_names();
	test_partials();
	test_partial_links();
	test_limits();
	test_inheritance();
	return check_done();
}
