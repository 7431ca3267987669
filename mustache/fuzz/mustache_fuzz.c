/* mustache_fuzz: libFuzzer target over the Mustache engine.  An input is
 * MODE TEMPLATE \0 DATA.json \0 PARTIAL_a \0 PARTIAL_b \0 PARTIAL_c; MODE picks
 * the escape mode and strictness, names starting with "h" come from the
 * lookup hook (as new references), and every error is an ordinary return. */
#include "common/log.h"
#include "mustache/mustache.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hook(void *ud, const struct mustache_lookup *q, struct mustache_found *out,
		char *errtext, size_t errlen)
{
	(void)ud;
	if (q->seg[0].s[0] == 'h') {
		out->value = json_pack("{s:[{s:s},{s:i}], s:s, s:f}", "list", "n", q->name, "n", 7,
				       "s", "a\nb", "r", 1.5);
		out->owned = 1;
		out->consumed = q->nseg > 1 ? 1 : 0;
	} else if (q->seg[0].s[0] == 'E') {
		snprintf(errtext, errlen, "refused");
		return -1;
	}
	return 0;
}

/* Splits the input at NUL bytes; missing parts are empty. */
static const char *part(const uint8_t *d, size_t n, size_t *off, size_t *len)
{
	const uint8_t *z;
	const char *p = (const char *)d + *off;

	if (*off >= n) {
		*len = 0;
		return "";
	}
	z = memchr(d + *off, 0, n - *off);
	*len = z ? (size_t)(z - (d + *off)) : n - *off;
	*off += *len + 1;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const pnames[] = { "a", "b", "c" };
	struct mustache_opts o;
	struct lg_error err;
	struct mustache_env *env;
	struct mustache_tpl *t;
	struct buf out = BUF_INIT;
	const char *tsrc, *dsrc;
	size_t off = 1, tlen, dlen;
	json_t *root;

	if (size < 1)
		return 0;
	log_init("fuzz", 2);
	log_set_level(LOG_LVL_ERROR);
	mustache_opts_init(&o);
	o.escape = (enum mustache_escape)(data[0] % 3);
	o.strict = (data[0] >> 2) & 1;
	o.max_steps = 200000;
	o.max_output = 1 << 20;
	if (data[0] & 8) {
		o.lookup = hook;
		o.lookup_ud = NULL;
	}
	tsrc = part(data, size, &off, &tlen);
	dsrc = part(data, size, &off, &dlen);
	root = json_loadb(dsrc, dlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	env = mustache_env_new();
	for (size_t i = 0; i < 3 && off < size; i++) {
		size_t plen;
		const char *p = part(data, size, &off, &plen);

		mustache_env_add_partial(env, pnames[i], p, plen, &err);
	}
	t = mustache_compile("fuzz", tsrc, tlen, &err);
	if (t) {
		/* Twice: the second render uses the partials compiled by the first. */
		for (int i = 0; i < 2; i++) {
			buf_reset(&out);
			if (mustache_render(env, t, root, &o, &out, &err) < 0) {
				char msg[512];

				lg_error_str(&err, msg, sizeof msg);
			}
		}
		mustache_free(t);
	}
	buf_free(&out);
	mustache_env_free(env);
	json_decref(root);
	return 0;
}
