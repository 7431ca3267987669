/* render_cmd: "legate render", which renders one template with data from a
 * JSON file to stdout, for people writing templates. */
#include "common/buf.h"
#include "common/log.h"
#include "legate/commands.h"
#include "mustache/mustache.h"

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
		"  Renders TEMPLATE with the JSON object in DATA.json (\"-\": stdin) to stdout.\n"
		"  -partials DIR   {{>name}} reads DIR/name.mustache (or DIR/name)\n"
		"  -escape MODE    how {{name}} is written: config (default: a value holding a\n"
		"                  control character is an error), html, or none\n"
		"  -strict         a missing partial is an error, not a warning\n");
	return 2;
}

/* Reads a whole file (path "-": stdin) into b; 0 or -1 with errno. */
static int slurp(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return -1;
	b->limit = MUSTACHE_MAX_SOURCE;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_append(b, chunk, n) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		errno = EIO;
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

int render_cmd_main(int argc, char **argv)
{
	const char *dir = NULL, *tpath, *dpath;
	struct mustache_opts opts;
	struct lg_error err;
	struct mustache_env *env = NULL;
	struct mustache_tpl *t = NULL;
	struct buf src = BUF_INIT, out = BUF_INIT;
	json_t *data = NULL;
	json_error_t jerr;
	char msg[512];
	int i, rc = 1;

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
		} else if (strcmp(a, "h") == 0 || strcmp(a, "help") == 0) {
			usage();
			return 0;
		} else {
			log_error("render: unknown flag %s", argv[i]);
			return usage();
		}
	}
	if (argc - i != 2)
		return usage();
	tpath = argv[i];
	dpath = argv[i + 1];

	if (slurp(tpath, &src) < 0) {
		log_error("cannot read %s: %s", tpath, strerror(errno));
		goto out;
	}
	if (!(t = mustache_compile(tpath, buf_cstr(&src), src.len, &err))) {
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
	buf_free(&src);
	buf_free(&out);
	return rc;
}
