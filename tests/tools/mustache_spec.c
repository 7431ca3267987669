/* mustache_spec: runs the Mustache spec JSON files against the engine and
 * prints one line per case, "PASS file: name" or "FAIL file: name", for
 * tests/spec/spec.sh to compare with the committed baseline.
 *
 *   mustache_spec [-v] SPEC_DIR     -v: show template, expected and got on failures */
#include "common/buf.h"
#include "common/log.h"
#include "mustache/mustache.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>

static int verbose;

static int run_case(const char *file, json_t *tc)
{
	const char *name = json_string_value(json_object_get(tc, "name"));
	const char *tsrc = json_string_value(json_object_get(tc, "template"));
	const char *want = json_string_value(json_object_get(tc, "expected"));
	json_t *data = json_object_get(tc, "data");
	json_t *partials = json_object_get(tc, "partials");
	struct mustache_env *env = mustache_env_new();
	struct lg_error err;
	struct mustache_tpl *t = NULL;
	struct buf out = BUF_INIT;
	char msg[512] = "";
	int ok = 0;

	if (!name || !tsrc || !want || !env) {
		printf("FAIL %s: %s (bad case)\n", file, name ? name : "?");
		mustache_env_free(env);
		return 0;
	}
	if (json_is_object(partials)) {
		const char *k;
		json_t *v;

		json_object_foreach(partials, k, v) {
			if (json_is_string(v))
				mustache_env_add_partial(env, k, json_string_value(v),
							 json_string_length(v), &err);
		}
	}
	t = mustache_compile(name, tsrc, json_string_length(json_object_get(tc, "template")), &err);
	if (!t)
		lg_error_str(&err, msg, sizeof msg);
	else if (mustache_render(env, t, data, NULL, &out, &err) < 0)
		lg_error_str(&err, msg, sizeof msg);
	else
		ok = out.len == strlen(want) && memcmp(buf_cstr(&out), want, out.len) == 0;
	printf("%s %s: %s\n", ok ? "PASS" : "FAIL", file, name);
	if (!ok && verbose) {
		printf("  template: ");
		json_dumpf(json_object_get(tc, "template"), stdout, JSON_ENCODE_ANY);
		printf("\n  data:     ");
		json_dumpf(data, stdout, JSON_ENCODE_ANY | JSON_COMPACT);
		if (partials) {
			printf("\n  partials: ");
			json_dumpf(partials, stdout, JSON_ENCODE_ANY | JSON_COMPACT);
		}
		printf("\n  expected: ");
		json_dumpf(json_object_get(tc, "expected"), stdout, JSON_ENCODE_ANY);
		if (msg[0]) {
			printf("\n  error:    %s\n", msg);
		} else {
			json_t *got = json_stringn(buf_cstr(&out), out.len);

			printf("\n  got:      ");
			json_dumpf(got, stdout, JSON_ENCODE_ANY);
			printf("\n");
			json_decref(got);
		}
	}
	buf_free(&out);
	mustache_free(t);
	mustache_env_free(env);
	return ok;
}

int main(int argc, char **argv)
{
	const char *dir;
	char pat[4096];
	glob_t g;
	int total = 0, passed = 0, a = 1;

	log_init("mustache_spec", 2);
	log_set_level(LOG_LVL_ERROR);  /* missing partials warn; the spec wants them empty */
	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = 1;
		a++;
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: mustache_spec [-v] SPEC_DIR\n");
		return 2;
	}
	dir = argv[a];
	snprintf(pat, sizeof pat, "%s/*.json", dir);
	if (glob(pat, 0, NULL, &g) != 0) {
		fprintf(stderr, "mustache_spec: no spec files in %s\n", dir);
		return 2;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *file = strrchr(g.gl_pathv[i], '/') + 1;
		json_error_t jerr;
		json_t *spec = json_load_file(g.gl_pathv[i], 0, &jerr), *tests, *tc;
		size_t k;

		if (!spec) {
			fprintf(stderr, "mustache_spec: %s:%d: %s\n", g.gl_pathv[i], jerr.line, jerr.text);
			globfree(&g);
			return 2;
		}
		tests = json_object_get(spec, "tests");
		json_array_foreach(tests, k, tc) {
			total++;
			passed += run_case(file, tc);
		}
		json_decref(spec);
	}
	globfree(&g);
	fprintf(stderr, "mustache_spec: %d/%d passed\n", passed, total);
	return 0;
}
