/* render_cmd: "legate render", which renders one template with data from a
 * JSON file to stdout, for people writing templates. */
#include "common/buf.h"
#include "common/file.h"
#include "common/log.h"
#include "legate/commands.h"
#include "mustache/mustache.h"
#include "renderer/runner.h"
#include "watcher/name.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: legate render [-partials DIR] [-escape html|config|none] [-strict]\n"
		"                     TEMPLATE DATA.json\n"
		"       legate render -names TEMPLATE\n"
		"  Renders TEMPLATE with the JSON object in DATA.json (\"-\": stdin) to stdout.\n"
		"  -names          lists, without rendering, each name TEMPLATE uses, where,\n"
		"                  and the watch it becomes; exits 1 if one would fail the\n"
		"                  render (a bad watch name, no data name outside sections)\n"
		"  -partials DIR   {{>name}} reads DIR/name.mustache (or DIR/name)\n"
		"  -escape MODE    how {{name}} is written: config (default: a value holding a\n"
		"                  control character is an error), html, or none\n"
		"  -strict         a missing partial is an error, not a warning\n");
	return 2;
}

struct names {
	struct buf seen;   /* "\nname\twhat\n" per line listed */
	int bad;
};

/* What name stands for where tag is: written to what; 1 if the runner
 * would refuse it (a bad watch name, or a name that cannot be data outside
 * every section). */
static int name_what(const struct mustache_tag *tag, char *what, size_t wlen)
{
	char watch[1024];
	struct watch_name wn;
	struct lg_error err;
	size_t consumed;

	if (tag->built) {
		snprintf(what, wlen, "built at render from its [parts]; each name it becomes is a watch");
		return 0;
	}
	switch (runner_name_watch(tag->name, watch, sizeof watch, &consumed)) {
	case RN_WATCH:
		if (watch_name_parse(watch, &wn, &err) < 0) {
			snprintf(what, wlen, "error: %s", err.text);
			return 1;
		}
		watch_name_free(&wn);
		snprintf(what, wlen, "watch %s", watch);
		return 0;
	case RN_ENV:
		snprintf(what, wlen, "environment, read at render (not watched)");
		return 0;
	case RN_INSTANCES:
		if (!tag->contexts) {
			snprintf(what, wlen, "error: outside every section, instances is a render error");
			return 1;
		}
		snprintf(what, wlen, "watch service.NAME of the enclosing services item, with its filters");
		return 0;
	case RN_TOO_LONG:
		snprintf(what, wlen, "error: name too long");
		return 1;
	case RN_NONE:
		if (!tag->contexts) {
			snprintf(what, wlen, "error: not a data name, a render error outside every section "
				 "(a typo?)");
			return 1;
		}
		snprintf(what, wlen, "from the data around it");
		return 0;
	}
	return 0;
}

/* One line per name and meaning, the first time it is seen:
 * LINE:COL NAME WHAT. */
static void name_line(void *ud, const struct mustache_tag *tag)
{
	struct names *ns = ud;
	char what[1200], key[2400];
	const char *n = tag->name;
	int bad;

	if (strcmp(n, ".") == 0 || strcmp(n, "*") == 0 || n[0] == '@')
		return;   /* the current item, member name, position */
	bad = name_what(tag, what, sizeof what);
	snprintf(key, sizeof key, "\n%s\t%s\n", n, what);
	if (strstr(ns->seen.data, key))
		return;
	buf_puts(&ns->seen, key + 1);   /* the buffer starts with "\n" */
	printf("%u:%u\t%s\t%s\n", tag->line, tag->col, n, what);
	if (bad)
		ns->bad = 1;
}

static int list_names(const char *tpath)
{
	struct lg_error err;
	struct mustache_tpl *t;
	struct names ns = { BUF_INIT, 0 };
	char *src;
	size_t len;
	char msg[512];

	if (!(src = file_read(tpath, MUSTACHE_MAX_SOURCE, &len, &err))) {
		log_error("%s", lg_error_str(&err, msg, sizeof msg));
		return 1;
	}
	if (!(t = mustache_compile(tpath, src, len, &err))) {
		log_error("%s", lg_error_str(&err, msg, sizeof msg));
		free(src);
		return 1;
	}
	buf_putc(&ns.seen, '\n');
	mustache_foreach_tag(t, name_line, &ns);
	fflush(stdout);
	mustache_free(t);
	free(src);
	buf_free(&ns.seen);
	return ns.bad;
}

int render_cmd_main(int argc, char **argv)
{
	const char *dir = NULL, *tpath, *dpath;
	struct mustache_opts opts;
	struct lg_error err;
	struct mustache_env *env = NULL;
	struct mustache_tpl *t = NULL;
	struct buf out = BUF_INIT;
	char *src = NULL;
	size_t len;
	json_t *data = NULL;
	json_error_t jerr;
	char msg[512];
	int i, rc = 1, names = 0;

	mustache_opts_init(&opts);
	opts.escape = MUSTACHE_ESCAPE_CONFIG;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1);

		if (strcmp(a, "partials") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(a, "escape") == 0 && i + 1 < argc) {
			if (mustache_escape_parse(argv[++i], &opts.escape) < 0) {
				log_error("render: -escape: unknown mode \"%s\" (html, config, none)", argv[i]);
				return 2;
			}
		} else if (strcmp(a, "strict") == 0) {
			opts.strict = 1;
		} else if (strcmp(a, "names") == 0) {
			names = 1;
		} else if (strcmp(a, "h") == 0 || strcmp(a, "help") == 0) {
			usage();
			return 0;
		} else {
			log_error("render: unknown flag %s", argv[i]);
			return usage();
		}
	}
	if (names)
		return argc - i == 1 ? list_names(argv[i]) : usage();
	if (argc - i != 2)
		return usage();
	tpath = argv[i];
	dpath = argv[i + 1];

	if (!(src = file_read(tpath, MUSTACHE_MAX_SOURCE, &len, &err))) {
		log_error("%s", lg_error_str(&err, msg, sizeof msg));
		goto out;
	}
	if (!(t = mustache_compile(tpath, src, len, &err))) {
		log_error("%s", lg_error_str(&err, msg, sizeof msg));
		goto out;
	}
	data = strcmp(dpath, "-") == 0 ? json_loadf(stdin, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr)
				       : json_load_file(dpath, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!data) {
		log_error("%s:%d:%d: %s", dpath, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!(env = mustache_env_new()) || (dir && mustache_env_set_dir(env, dir) < 0)) {
		log_error("out of memory");
		goto out;
	}
	if (mustache_render(env, t, data, &opts, &out, &err) < 0) {
		log_error("%s", lg_error_str(&err, msg, sizeof msg));
		goto out;
	}
	if (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		log_error("writing the result: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	mustache_env_free(env);
	mustache_free(t);
	json_decref(data);
	free(src);
	buf_free(&out);
	return rc;
}
