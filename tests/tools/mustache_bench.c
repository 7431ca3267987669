/* mustache_bench: renders TEMPLATE with DATA.json using legate's engine for
 * at least SECONDS, HTML escaping off, and prints "renders seconds
 * bytes-per-render", like the peers' drivers in bench/mustache/.
 *
 *   mustache_bench TEMPLATE DATA.json [SECONDS] [OUT] */
#include "common/buf.h"
#include "mustache/mustache.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct lg_error err;
	struct mustache_opts o;
	struct mustache_tpl *t;
	struct buf src = BUF_INIT, out = BUF_INIT;
	json_error_t jerr;
	json_t *data;
	char msg[512];
	double secs = argc > 3 ? atof(argv[3]) : 3.0, t0, el = 0;
	long n = 0;
	FILE *f;
	size_t got;
	char chunk[65536];

	if (argc < 3) {
		fprintf(stderr, "usage: mustache_bench TEMPLATE DATA.json [SECONDS] [OUT]\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb"))) {
		perror(argv[1]);
		return 1;
	}
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&src, chunk, got);
	fclose(f);
	if (!(data = json_load_file(argv[2], 0, &jerr))) {
		fprintf(stderr, "%s: %s\n", argv[2], jerr.text);
		return 1;
	}
	if (!(t = mustache_compile(argv[1], buf_cstr(&src), src.len, &err))) {
		fprintf(stderr, "%s\n", lg_error_str(&err, msg, sizeof msg));
		return 1;
	}
	mustache_opts_init(&o);
	o.escape = MUSTACHE_ESCAPE_NONE;
	if (mustache_render(NULL, t, data, &o, &out, &err) < 0) {  /* warm-up */
		fprintf(stderr, "%s\n", lg_error_str(&err, msg, sizeof msg));
		return 1;
	}
	t0 = now();
	while (el < secs || n < 3) {
		buf_reset(&out);
		mustache_render(NULL, t, data, &o, &out, &err);
		n++;
		el = now() - t0;
	}
	if (argc > 4 && (f = fopen(argv[4], "wb"))) {
		fwrite(out.data, 1, out.len, f);
		fclose(f);
	}
	printf("%ld %.6f %zu\n", n, el, out.len);
	mustache_free(t);
	json_decref(data);
	buf_free(&src);
	buf_free(&out);
	return 0;
}
