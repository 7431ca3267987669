/* Unit test for renderer/ (registry, lookup, runner, report) against a fake
 * data source: a template renders only once all its data is in, the names
 * it uses are exactly its watches (a name no longer used is dropped), a
 * burst of changes within the quiescence makes one render, a change that
 * comes while a pass runs is rendered after it, a bad value keeps the file,
 * -once reports when every template was handled, and a runner taking over
 * from another (a reload) keeps every watch still used, however many
 * take-overs come before it renders. */
#include "renderer/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tests/unit/check.h"

/* ---- the fake source ---------------------------------------------------------- */

struct watch {
	char name[128];
	json_t *data;
	source_changed_fn cb;
	void *arg;
	bool live;
};

static struct watch watches[32];
static int adds, removes;

static struct watch *fake_find(const char *name)
{
	for (int i = 0; i < 32; i++)
		if (watches[i].live && strcmp(watches[i].name, name) == 0)
			return &watches[i];
	return NULL;
}

static struct watch *fake_add(void *ctx, const char *name, const struct watch_name *n,
			      source_changed_fn cb, void *arg, struct lg_error *err)
{
	(void)ctx;
	if (n->kind == WK_KEY && strchr(name, '!')) {
		lg_error_set(err, NULL, 0, 0, "%s: not a name", name);
		return NULL;
	}
	for (int i = 0; i < 32; i++) {
		struct watch *w = &watches[i];
		if (w->live)
			continue;
		memset(w, 0, sizeof *w);
		snprintf(w->name, sizeof w->name, "%s", name);
		w->cb = cb;
		w->arg = arg;
		w->live = true;
		adds++;
		return w;
	}
	lg_error_set(err, NULL, 0, 0, "too many watches");
	return NULL;
}

static void fake_remove(void *ctx, struct watch *w)
{
	(void)ctx;
	json_decref(w->data);
	w->data = NULL;
	w->live = false;
	removes++;
}

static const json_t *fake_data(const struct watch *w)
{
	return w->data;
}

static const char *fake_name(const struct watch *w)
{
	return w->name;
}

/* Sets name's data (a JSON text) and tells the runner, as the watcher would. */
static void publish(const char *name, const char *json)
{
	struct watch *w = fake_find(name);
	if (!w) {
		fail("%s is not watched", name);
		return;
	}
	json_decref(w->data);
	w->data = json_loads(json, JSON_DECODE_ANY, NULL);
	w->cb(w, w->arg);
}

/* ---- running the loop --------------------------------------------------------- */

static struct loop *l;
static char dir[] = "/tmp/test_runner.XXXXXX";
static char dest[256], src[256];

struct runner_ctx { bool ready, done, ok; };

static void on_ready(struct runner *r, void *arg) { (void)r; ((struct runner_ctx *)arg)->ready = true; }
static void on_done(struct runner *r, bool ok, void *arg)
{
	struct runner_ctx *c = arg;
	(void)r;
	c->done = true;
	c->ok = ok;
}

static void on_tick(struct loop *lp, void *arg) { (void)arg; loop_stop(lp); }

/* Runs the loop for about `secs`. */
static void run_for(double secs)
{
	struct loop_timer t;
	loop_timer_init(&t, on_tick, NULL);
	loop_add_timer(l, &t, secs);
	loop_run(l);
	loop_del_timer(l, &t);
}

/* Runs the loop until cond() holds, at most `secs`; returns cond(). */
static bool run_until(bool (*cond)(void), double secs)
{
	double end = clock_mono() + secs;
	while (!cond() && clock_mono() < end)
		run_for(0.01);
	return cond();
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return f ? buf : NULL;
}

static long counter(struct runner *r, const char *key)
{
	json_t *st = runner_status(r);
	long v = (long)json_integer_value(json_object_get(json_array_get(st, 0), key));
	json_decref(st);
	return v;
}

static struct runner *cur;
static bool dest_has_v2(void) { const char *s = slurp(dest); return s && strstr(s, "v2"); }
static bool dest_has_v3(void) { const char *s = slurp(dest); return s && strstr(s, "v3"); }
static bool dest_is_c(void) { const char *s = slurp(dest); return s && strcmp(s, "c=\n") == 0; }
static long renders_before;
static bool one_more_render_done(void) { return counter(cur, "renders") >= renders_before + 1 && !runner_busy(cur); }

/* ---- the tests ----------------------------------------------------------------- */

static struct template_config tc;
static struct runner_settings set;

static struct runner *start(struct runner_deps *d, struct runner_ctx *c, const char *text, long wait_ms,
			    const char *command)
{
	struct runner_hooks hooks = { on_ready, on_done, NULL, c };
	struct lg_error err;
	FILE *f = fopen(src, "w");
	struct runner *r;

	fputs(text, f);
	fclose(f);
	command_free(&tc.command);
	memset(&tc, 0, sizeof tc);
	tc.source = src;
	tc.destination = dest;
	tc.perms = -1;
	tc.create_dest_dirs = true;
	tc.strict = true;
	tc.escape = "config";
	tc.origin = "test";
	tc.command_timeout_ms = 5000;
	tc.check_timeout_ms = 5000;
	if (command)
		command_parse(command, &tc.command);
	set = (struct runner_settings){ &tc, 1, wait_ms, wait_ms * 4, false, false };
	r = runner_new(l, d, &set, &hooks, &err);
	if (!r) {
		char m[1100];
		fail("runner_new: %s", lg_error_str(&err, m, sizeof m));
	}
	return r;
}

static void test_waits_for_all_data(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "k={{key.a}} {{#service.web}}{{id}} {{/service.web}}\n", 0, NULL);

	run_for(0.05);
	check(fake_find("key.a") && fake_find("service.web"));
	check(!slurp(dest));              /* nothing yet: no data */
	check(!c.ready);
	publish("key.a", "\"1\"");
	run_for(0.05);
	check(!slurp(dest));              /* service.web still missing */
	publish("service.web", "[{\"id\":\"w1\"},{\"id\":\"w2\"}]");
	run_for(0.1);
	check_str(slurp(dest), "k=1 w1 w2 \n");
	check(c.ready);
	check(runner_healthy(r));
	runner_free(r);
}

static void test_names_follow_the_template(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{#key.on}}{{key.b}}{{/key.on}}{{^key.on}}{{key.c}}{{/key.on}}=\n", 0, NULL);
	int removes0;

	run_for(0.05);
	/* a render waits for every name it found without data: both arrive */
	publish("key.on", "\"yes\"");
	run_for(0.05);
	check(!fake_find("key.b"));
	publish("key.c", "\"unused\"");
	run_for(0.05);
	check(fake_find("key.b") && !fake_find("key.c"));
	publish("key.b", "\"b\"");
	run_for(0.05);
	check_str(slurp(dest), "b=\n");
	removes0 = removes;
	publish("key.on", "null");         /* the other branch: key.b no longer used */
	run_for(0.05);
	check(fake_find("key.c") != NULL);
	check(!fake_find("key.b"));
	check(removes == removes0 + 1);
	publish("key.c", "\"c\"");
	check(run_until(dest_is_c, 2));
	runner_free(r);
}

static void test_quiescence(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.v}}\n", 300, NULL);
	long renders;

	run_for(0.05);
	publish("key.v", "\"v1\"");
	run_for(0.1);                      /* the first render is not held back */
	check_str(slurp(dest), "v1\n");
	renders = counter(r, "renders");
	/* a burst closer together than the wait: one render, of the last value */
	publish("key.v", "\"x\"");
	publish("key.v", "\"y\"");
	publish("key.v", "\"v2\"");
	check(run_until(dest_has_v2, 5));
	check_int(counter(r, "renders"), renders + 1);
	runner_free(r);
}

static void test_change_during_a_pass(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.w}}\n", 0, "sleep 0.3");

	run_for(0.05);
	publish("key.w", "\"v1\"");
	run_for(0.05);                     /* installed; its command runs */
	check(runner_busy(r));
	renders_before = counter(r, "renders");
	publish("key.w", "\"v3\"");        /* comes while the command runs */
	check_str(slurp(dest), "v1\n");  /* not rendered yet: the pass goes on */
	check(run_until(dest_has_v3, 5));
	check(run_until(one_more_render_done, 5));
	check_int(counter(r, "renders"), renders_before + 1);
	runner_free(r);
}

static void test_bad_value_keeps_the_file(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.x}}\n", 0, NULL);
	json_t *st;

	run_for(0.05);
	publish("key.x", "\"good\"");
	run_for(0.1);
	check_str(slurp(dest), "good\n");
	publish("key.x", "\"evil\\nserver x\"");
	run_for(0.1);
	check_str(slurp(dest), "good\n");
	check(!runner_healthy(r));
	st = runner_status(r);
	check_str(json_string_value(json_object_get(json_array_get(st, 0), "state")), "render_error");
	json_decref(st);
	runner_free(r);
}

static void test_once(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.o}}\n", 0, NULL);

	set.once = true;
	run_for(0.05);
	check(!c.done);
	publish("key.o", "\"o\"");
	run_for(0.1);
	check(c.done && c.ok);
	runner_free(r);
}

static void test_refused_name(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.k}}{{key.x!y}}\n", 0, NULL);
	json_t *st;

	run_for(0.05);
	st = runner_status(r);
	check_str(json_string_value(json_object_get(json_array_get(st, 0), "state")), "render_error");
	check(strstr(json_string_value(json_object_get(json_array_get(st, 0), "last_error")), "key.x!y: not a name") != NULL);
	json_decref(st);
	check(!slurp(dest));
	runner_free(r);
}

static void test_take_over(struct runner_deps *d)
{
	struct runner_ctx c = { 0 };
	struct runner *r = cur = start(d, &c, "{{key.t1}} {{key.t2}}\n", 0, NULL), *nr;
	int adds0, removes0;

	run_for(0.05);
	publish("key.t1", "\"a\"");
	publish("key.t2", "\"b\"");
	run_for(0.1);
	check_str(slurp(dest), "a b\n");
	adds0 = adds;
	removes0 = removes;
	/* a burst of reloads, none rendered before the next one comes */
	for (int i = 0; i < 50; i++) {
		nr = start(d, &c, "{{key.t1}} {{key.t2}}\n", 0, NULL);
		runner_take_over(nr, r);
		runner_free(r);
		r = cur = nr;
		check(runner_healthy(r));   /* the file is in place all along */
	}
	check_int(adds, adds0);
	check_int(removes, removes0);
	run_for(0.1);
	check_int(adds, adds0);
	check_int(removes, removes0);
	check_int((long)runner_deps_count(d), 2);
	/* a reload that no longer uses key.t2: it goes once rendered */
	nr = start(d, &c, "{{key.t1}}\n", 0, NULL);
	runner_take_over(nr, r);
	runner_free(r);
	r = cur = nr;
	check(fake_find("key.t2") != NULL);
	run_for(0.1);
	check_str(slurp(dest), "a\n");
	check(!fake_find("key.t2") && fake_find("key.t1"));
	check_int(adds, adds0);
	check_int(removes, removes0 + 1);
	publish("key.t1", "\"z\"");
	run_for(0.1);
	check_str(slurp(dest), "z\n");
	runner_free(r);
}

int main(void)
{
	struct runner_source s = { NULL, fake_add, fake_remove, fake_data, fake_name };
	struct runner_deps *d;

	log_init("test_runner", 2);
	log_set_level(LOG_LVL_ERROR);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dest, sizeof dest, "%s/out", dir);
	snprintf(src, sizeof src, "%s/t.mustache", dir);
	l = loop_new(0);
	d = runner_deps_new(&s);

	test_waits_for_all_data(d);
	unlink(dest);
	test_names_follow_the_template(d);
	unlink(dest);
	test_quiescence(d);
	unlink(dest);
	test_change_during_a_pass(d);
	unlink(dest);
	test_bad_value_keeps_the_file(d);
	unlink(dest);
	test_once(d);
	unlink(dest);
	test_refused_name(d);
	unlink(dest);
	test_take_over(d);
	check_int(runner_deps_count(d), 0);   /* every runner freed: every watch gone */
	check_int(adds, removes);

	runner_deps_free(d);
	command_free(&tc.command);
	loop_free(l);
	unlink(dest);
	unlink(src);
	rmdir(dir);
	return check_done();
}
