/* registry: the watches the templates use, by name and reference counted,
 * and the HAProxy drivers of their destinations.  It outlives any one
 * runner, so a configuration reload keeps every watch and driver still
 * needed (no new connection, no reload of HAProxy for that). */
#include "renderer/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/log.h"
#include "haproxy/driver.h"

static size_t hash_name(const struct runner_deps *d, const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % d->nbuckets;
}

#define BUCKETS_MIN 256

struct runner_deps *runner_deps_new(const struct runner_source *src)
{
	struct runner_deps *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->src = *src;
	d->nbuckets = BUCKETS_MIN;
	if (!(d->bucket = calloc(d->nbuckets, sizeof *d->bucket))) {
		free(d);
		return NULL;
	}
	return d;
}

/* Doubles the table when it holds twice as many names as chains, so a
 * lookup stays a few comparisons at any catalog size. */
static void grow(struct runner_deps *d)
{
	size_t n = d->nbuckets * 2, old = d->nbuckets;
	struct dep **nb = calloc(n, sizeof *nb), **ob = d->bucket;

	if (!nb)
		return;   /* longer chains, still correct */
	d->bucket = nb;
	d->nbuckets = n;
	for (size_t i = 0; i < old; i++) {
		struct dep *e = ob[i], *next;
		for (; e; e = next) {
			size_t h = hash_name(d, e->name);
			next = e->next;
			e->next = nb[h];
			nb[h] = e;
		}
	}
	free(ob);
}

void runner_deps_free(struct runner_deps *d)
{
	if (!d)
		return;
	while (d->haps) {
		d->haps->refs = 1;
		hap_release(d, d->haps);
	}
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct dep *e = d->bucket[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (e->watch)
				d->src.remove(d->src.ctx, e->watch);
			free(e->name);
			free(e);
		}
	}
	free(d->bucket);
	free(d);
}

size_t runner_deps_count(const struct runner_deps *d)
{
	return d->count;
}

struct dep *dep_find(struct runner_deps *d, const char *name)
{
	for (struct dep *e = d->bucket[hash_name(d, name)]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void on_changed(struct watch *w, void *arg)
{
	runner_changed(arg, w);
}

struct dep *dep_get(struct runner_deps *d, const char *name, struct lg_error *err)
{
	struct dep *e = dep_find(d, name);
	struct watch_name n;
	size_t h;

	if (e)
		return e;
	/* The name is parsed here, once; the source watches the result. */
	if (watch_name_parse(name, &n, err) < 0)
		return NULL;
	e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(name))) {
		free(e);
		watch_name_free(&n);
		lg_error_set(err, NULL, 0, 0, "out of memory");
		return NULL;
	}
	e->watch = d->src.add(d->src.ctx, name, &n, on_changed, d, err);
	watch_name_free(&n);
	if (!e->watch) {
		free(e->name);
		free(e);
		return NULL;
	}
	if (d->count >= 2 * d->nbuckets)
		grow(d);
	h = hash_name(d, name);
	e->next = d->bucket[h];
	d->bucket[h] = e;
	d->count++;
	log_debug("watching %s", name);
	return e;
}

void dep_release(struct runner_deps *d, struct dep *e)
{
	struct dep **pp;

	if (--e->refs > 0)
		return;
	for (pp = &d->bucket[hash_name(d, e->name)]; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	log_debug("no longer watching %s", e->name);
	d->src.remove(d->src.ctx, e->watch);
	free(e->name);
	free(e);
	d->count--;
}

/* ---- HAProxy drivers ------------------------------------------------------- */

/* The driver found its file written by someone else: render it again. */
static void hap_rewrite(void *arg)
{
	struct hap_entry *e = arg;
	if (e->deps->current)
		runner_rewrite(e->deps->current, e);
}

static char *hap_key(const struct template_config *tc)
{
	const struct template_haproxy *h = &tc->haproxy;
	char *k;
	if (asprintf(&k, "%s\n%s\n%s\n%ld\n%ld\n%ld\n%d", tc->destination, h->master_socket,
		     h->runtime_socket ? h->runtime_socket : "", h->drain_timeout_ms, h->reload_timeout_ms,
		     h->audit_interval_ms, h->runtime) < 0)
		return NULL;
	return k;
}

struct hap_entry *hap_get(struct runner_deps *d, struct loop *l, const struct template_config *tc,
			  struct lg_error *err)
{
	const struct template_haproxy *h = &tc->haproxy;
	struct hap_driver_opts o = {
		.master_socket = h->master_socket,
		.runtime_socket = h->runtime_socket,
		.drain_timeout = h->drain_timeout_ms / 1000.0,
		.reload_timeout = h->reload_timeout_ms / 1000.0,
		.audit_interval = h->audit_interval_ms / 1000.0,
		.runtime = h->runtime,
		.label = tc->destination,
		.path = tc->destination,
		.rewrite = hap_rewrite,
	};
	struct hap_entry *e;
	char *key = hap_key(tc), *text;
	size_t len = 0;

	if (!key)
		goto oom;
	for (e = d->haps; e; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			free(key);
			e->refs++;
			return e;
		}
	}
	if (!(e = calloc(1, sizeof *e)))
		goto oom;
	/* What the file holds now is what HAProxy runs, as far as anyone
	 * knows (no file: nothing known). */
	text = file_read(tc->destination, HAP_CFG_MAX, &len, NULL);
	e->deps = d;
	o.rewrite_arg = e;
	e->d = hap_driver_new(l, &o, text, len);
	free(text);
	if (!e->d) {
		free(e);
		goto oom;
	}
	e->key = key;
	e->refs = 1;
	e->next = d->haps;
	d->haps = e;
	return e;
oom:
	free(key);
	lg_error_set(err, NULL, 0, 0, "out of memory");
	return NULL;
}

void hap_release(struct runner_deps *d, struct hap_entry *e)
{
	struct hap_entry **pp;

	if (!e || --e->refs > 0)
		return;
	for (pp = &d->haps; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	hap_driver_free(e->d);
	free(e->key);
	free(e);
}
